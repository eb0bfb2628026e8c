//! `S3KeyExists`: an S3 key exists (dp-object-S3KeyExists); checked by the service.
//!
//! Checked by the runner that polls the service worker group: the object named by `s3Key`
//! exists (FINISHED) or not (FALSE, checked again after `retryDelay`). A missing bucket, refused
//! credentials or an unreachable endpoint fail the check with the URI in the message. In the
//! embedded store the key is a regular file.

use sluice_model::TaskResult;

use crate::common::{self, required};
use crate::exec::{error_id, storage};
use crate::execute::{AttemptContext, ExecFuture, Execute};
use crate::spec::{Category, FieldSpec, ManagedBy, ObjectKind, ValueType};

/// True when an S3 key exists.
pub struct S3KeyExists;

static FIELDS: &[FieldSpec] = &[
    required(
        "role",
        ValueType::String,
        "IAM role the service uses to perform the check.",
    ),
    required("s3Key", ValueType::String, "S3 key to check."),
];

impl ObjectKind for S3KeyExists {
    fn type_name(&self) -> &'static str {
        "S3KeyExists"
    }

    fn category(&self) -> Category {
        Category::Precondition
    }

    fn doc(&self) -> &'static str {
        "True when an S3 key exists."
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

impl Execute for S3KeyExists {
    fn execute<'a>(&'a self, ctx: &'a AttemptContext) -> ExecFuture<'a> {
        Box::pin(check(ctx))
    }
}

async fn check(ctx: &AttemptContext) -> TaskResult {
    if ctx.cancel.is_cancelled() {
        return crate::exec::shell::canceled();
    }
    let Some(uri) = ctx.field("s3Key") else {
        return TaskResult::failed(error_id::INVALID_TASK, "S3KeyExists needs s3Key");
    };
    let stores = match storage::stores(ctx) {
        Ok(stores) => stores,
        Err(result) => return result,
    };
    storage::condition("s3Key", stores.file_exists(uri).await)
}
