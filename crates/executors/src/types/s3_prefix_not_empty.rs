//! `S3PrefixNotEmpty`: objects exist under an S3 prefix (dp-object-s3prefixnotempty); checked by the service.
//!
//! Checked by the runner that polls the service worker group: some object's key starts with
//! `s3Prefix`, taken as S3's `ListObjects` prefix (`s3://b/logs/2026-` matches
//! `logs/2026-01.txt`; end it with `/` to mean a directory). FALSE is checked again after
//! `retryDelay`; a missing bucket, refused credentials or an unreachable endpoint fail the
//! check with the URI in the message.

use crate::exec::{error_id, storage};
use crate::execute::{AttemptContext, ExecFuture, Execute};
use sluice_model::TaskResult;

/// Executes `S3PrefixNotEmpty` attempts.
pub struct S3PrefixNotEmpty;

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
