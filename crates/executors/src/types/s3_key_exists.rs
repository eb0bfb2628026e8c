//! `S3KeyExists`: an S3 key exists (dp-object-S3KeyExists); checked by the service.
//!
//! Checked by the runner that polls the service worker group: the object named by `s3Key`
//! exists (FINISHED) or not (FALSE, checked again after `retryDelay`). A missing bucket, refused
//! credentials or an unreachable endpoint fail the check with the URI in the message. In the
//! embedded store the key is a regular file.

use crate::exec::{error_id, storage};
use crate::execute::{AttemptContext, ExecFuture, Execute};
use sluice_model::TaskResult;

/// Executes `S3KeyExists` attempts.
pub struct S3KeyExists;

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
