//! `Exists`: the referencing data node exists (dp-object-exists); checked by a task runner.
//!
//! AWS recommends the system-managed preconditions instead.
//!
//! The attempt's runtime `node` field names the data node being checked. An S3DataNode exists
//! when its `filePath` names an object (a regular file on local disk), or its `directoryPath`
//! a directory: on local disk (the embedded store, `file://`, absolute paths) an existing
//! directory, even an empty one; on an S3 server a prefix with at least one object, since S3
//! has no empty directories. S3PrefixNotEmpty is the check for content.

use crate::exec::{error_id, storage};
use crate::execute::{AttemptContext, ExecFuture, Execute};
use sluice_model::{FieldValue, TaskResult};

/// Executes `Exists` attempts.
pub struct Exists;

impl Execute for Exists {
    fn execute<'a>(&'a self, ctx: &'a AttemptContext) -> ExecFuture<'a> {
        Box::pin(check(ctx))
    }
}

async fn check(ctx: &AttemptContext) -> TaskResult {
    if ctx.cancel.is_cancelled() {
        return crate::exec::shell::canceled();
    }
    let node_id = ctx
        .attempt()
        .and_then(|a| a.values("node").find_map(FieldValue::as_ref_id));
    let Some(node_id) = node_id else {
        return TaskResult::failed(
            error_id::INVALID_TASK,
            "Exists needs the data node it is evaluated for (runtime field node)",
        );
    };
    let Some(node) = ctx.task.objects.get(node_id) else {
        return TaskResult::failed(
            error_id::INVALID_TASK,
            format!("node {node_id} is not among the task's objects"),
        );
    };
    let node_type = node.object_type().unwrap_or("untyped");
    if node_type != "S3DataNode" {
        return TaskResult::failed(
            error_id::UNSUPPORTED,
            format!("Exists cannot check {node_type} nodes yet"),
        );
    }
    let (uri, want_dir) = match (node.string("filePath"), node.string("directoryPath")) {
        (Some(uri), _) => (uri, false),
        (None, Some(uri)) => (uri, true),
        (None, None) => {
            return TaskResult::failed(
                error_id::INVALID_TASK,
                format!("{node_id} has neither filePath nor directoryPath"),
            );
        }
    };
    let stores = match storage::stores(ctx) {
        Ok(stores) => stores,
        Err(result) => return result,
    };
    let answer = if want_dir {
        stores.dir_exists(uri).await
    } else {
        stores.file_exists(uri).await
    };
    storage::condition(node_id, answer)
}
