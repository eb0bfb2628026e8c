//! How a task runner executes an attempt.
//!
//! A type that does work on a runner (activities, runner-managed preconditions) implements
//! [`Execute`] in its own file and returns itself from [`ObjectKind::executor`]; the runner
//! finds it through the catalog. The runner gives each attempt an [`AttemptContext`]: the task
//! as PollForTask delivers it (fields already evaluated), a directory for its logs and scratch
//! files, and a cancellation token that fires on TRY_CANCEL, timeouts and shutdown.
//!
//! [`ObjectKind::executor`]: crate::ObjectKind::executor

use std::future::Future;
use std::path::PathBuf;
use std::pin::Pin;
use std::sync::Arc;

use sluice_data::storage::{ObjectStores, StorageError};
use sluice_model::{FieldValue, PipelineObject, TaskObject, TaskResult};
use tokio_util::sync::CancellationToken;

/// The future an executor returns.
pub type ExecFuture<'a> = Pin<Box<dyn Future<Output = TaskResult> + Send + 'a>>;

/// Runs one attempt of a type to completion.
pub trait Execute: Sync {
    /// Executes the attempt. Failures are returned as `TaskResult::failed`, never panics; when
    /// `ctx.cancel` fires the executor stops its work promptly (killing child processes) and
    /// returns a failed result with error id `Canceled`.
    fn execute<'a>(&'a self, ctx: &'a AttemptContext) -> ExecFuture<'a>;
}

/// Settings shared by every attempt a runner executes.
#[derive(Debug, Clone, Default)]
pub struct RunnerSettings {
    /// Sluice's data directory (state, logs, the local object store).
    pub data_dir: PathBuf,
    /// How to reach object stores and databases.
    pub data: Arc<sluice_data::DataSettings>,
}

impl RunnerSettings {
    /// The object stores for these settings: one set per runner, shared by its attempts (see
    /// [`ObjectStores::shared`]), so S3 clients and their connections are reused.
    pub fn object_stores(&self) -> Result<ObjectStores, StorageError> {
        ObjectStores::shared(&self.data.s3, &self.data_dir)
    }
}

/// Everything an executor may use for one attempt.
#[derive(Debug, Clone)]
pub struct AttemptContext {
    pub task: TaskObject,
    /// This attempt's own directory: logs and scratch files live here, and it survives the
    /// attempt so operators can read the logs.
    pub attempt_dir: PathBuf,
    /// Where the attempt's standard output is kept (unless the object sets `stdout`).
    pub stdout_log: PathBuf,
    /// Where the attempt's standard error is kept (unless the object sets `stderr`).
    pub stderr_log: PathBuf,
    pub cancel: CancellationToken,
    pub settings: Arc<RunnerSettings>,
}

impl AttemptContext {
    /// The attempt object (its effective, evaluated fields).
    pub fn attempt(&self) -> Option<&PipelineObject> {
        self.task.attempt()
    }

    /// The first string value of `name` on the attempt.
    pub fn field(&self, name: &str) -> Option<&str> {
        self.attempt()?.string(name)
    }

    /// Every string value of `name` on the attempt, in order.
    pub fn fields(&self, name: &str) -> Vec<&str> {
        self.attempt()
            .map(|a| a.values(name).filter_map(FieldValue::as_str).collect())
            .unwrap_or_default()
    }

    /// The objects the attempt's reference field `name` points at, in order.
    pub fn referenced(&self, name: &str) -> Vec<&PipelineObject> {
        self.attempt()
            .map(|a| {
                a.values(name)
                    .filter_map(FieldValue::as_ref_id)
                    .filter_map(|id| self.task.objects.get(id))
                    .collect()
            })
            .unwrap_or_default()
    }

    /// The runner's object stores, through which every `s3://`, `file://` and local path is
    /// read and written.
    pub fn object_stores(&self) -> Result<ObjectStores, StorageError> {
        self.settings.object_stores()
    }

    /// Whether a boolean field is `"true"` (case-insensitive).
    pub fn flag(&self, name: &str) -> bool {
        self.field(name)
            .is_some_and(|v| v.eq_ignore_ascii_case("true"))
    }
}
