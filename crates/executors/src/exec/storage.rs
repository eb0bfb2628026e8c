//! Executors' access to object stores: results for storage failures and precondition answers.

use sluice_data::storage::{ObjectStores, StorageError};
use sluice_model::TaskResult;

use super::error_id;
use crate::execute::AttemptContext;

/// The runner's object stores, or the result to report when its S3 settings are unusable.
pub fn stores(ctx: &AttemptContext) -> Result<ObjectStores, TaskResult> {
    ctx.object_stores()
        .map_err(|err| TaskResult::failed(error_id::STORAGE_FAILED, err.to_string()))
}

/// The result for a storage error, prefixed with what was being done (`"scriptUri"`,
/// `"staging input In"`, …). A URI that cannot mean anything is the definition's fault
/// (`InvalidTask`); anything else is the store's (`StorageFailed`).
pub fn failed(context: &str, err: &StorageError) -> TaskResult {
    let id = match err {
        StorageError::InvalidUri { .. } => error_id::INVALID_TASK,
        _ => error_id::STORAGE_FAILED,
    };
    TaskResult::failed(id, format!("{context}: {err}"))
}

/// A precondition's answer: FINISHED when the check holds, FALSE when it does not (so it is
/// checked again later), FAILED when it could not be made.
pub fn condition(context: &str, answer: Result<bool, StorageError>) -> TaskResult {
    match answer {
        Ok(true) => TaskResult::finished(),
        Ok(false) => TaskResult::condition_false(),
        Err(err) => failed(context, &err),
    }
}
