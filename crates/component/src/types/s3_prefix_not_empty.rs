//! `S3PrefixNotEmpty`: objects exist under an S3 prefix (dp-object-s3prefixnotempty); checked by the service.
//!
//! Checked by the runner that polls the service worker group: some object's key starts with
//! `s3Prefix`, taken as S3's `ListObjects` prefix (`s3://b/logs/2026-` matches
//! `logs/2026-01.txt`; end it with `/` to mean a directory). FALSE is checked again after
//! `retryDelay`; a missing bucket, refused credentials or an unreachable endpoint fail the
//! check with the URI in the message.

use sluice_model::TaskResult;

use crate::common::{self, required};
use crate::exec::{error_id, storage};
use crate::execute::{AttemptContext, ExecFuture, Execute};
use crate::spec::{Category, FieldSpec, ManagedBy, ObjectKind, ValueType};

/// True when at least one S3 object exists under a prefix.
pub struct S3PrefixNotEmpty;

static FIELDS: &[FieldSpec] = &[
    required(
        "role",
        ValueType::String,
        "IAM role the service uses to perform the check.",
    ),
    required(
        "s3Prefix",
        ValueType::String,
        "S3 prefix that must hold at least one object.",
    ),
];

impl ObjectKind for S3PrefixNotEmpty {
    fn type_name(&self) -> &'static str {
        "S3PrefixNotEmpty"
    }

    fn category(&self) -> Category {
        Category::Precondition
    }

    fn doc(&self) -> &'static str {
        "True when at least one S3 object exists under a prefix."
    }

    fn fields(&self) -> Vec<&'static FieldSpec> {
        common::with_common(common::PRECONDITION_FIELDS, FIELDS)
    }

    fn managed_by(&self) -> Option<ManagedBy> {
        Some(ManagedBy::Service)
    }

    fn executor(&self) -> Option<&dyn Execute> {
        Some(self)
    }
}

impl Execute for S3PrefixNotEmpty {
    fn execute<'a>(&'a self, ctx: &'a AttemptContext) -> ExecFuture<'a> {
        Box::pin(check(ctx))
    }
}

async fn check(ctx: &AttemptContext) -> TaskResult {
    if ctx.cancel.is_cancelled() {
        return crate::exec::shell::canceled();
    }
    let Some(uri) = ctx.field("s3Prefix") else {
        return TaskResult::failed(error_id::INVALID_TASK, "S3PrefixNotEmpty needs s3Prefix");
    };
    let stores = match storage::stores(ctx) {
        Ok(stores) => stores,
        Err(result) => return result,
    };
    storage::condition("s3Prefix", stores.prefix_not_empty(uri).await)
}
