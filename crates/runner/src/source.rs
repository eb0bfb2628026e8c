//! Where tasks come from: the task-runner half of the AWS protocol.

use async_trait::async_trait;
use sluice_model::{Field, TaskObject, TaskResult};
use tokio_util::sync::CancellationToken;

/// Why a call to a [`TaskSource`] failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SourceError {
    /// The task id is unknown or expired (`TaskNotFoundException`): the lease is lost and the
    /// task may already belong to another runner, so the runner stops it without reporting.
    #[error("task not found: {0}")]
    TaskNotFound(String),
    /// Anything worth retrying: network errors, throttling, a service that is restarting.
    #[error("{0}")]
    Transient(String),
    /// The service refused the runner's credentials (unknown or revoked key, bad signature).
    /// Retrying cannot help, so a poll answered this way stops the runner.
    #[error("credentials refused: {0}")]
    Rejected(String),
}

/// The calls a task runner makes (PollForTask, ReportTaskProgress, SetTaskStatus,
/// ReportTaskRunnerHeartbeat).
#[async_trait]
pub trait TaskSource: Send + Sync {
    /// Returns the next task for `worker_group` (`None`: any group), or `Ok(None)` when there
    /// is none. May long-poll (AWS waits up to 90 s before answering empty).
    async fn poll_for_task(
        &self,
        worker_group: Option<&str>,
        hostname: &str,
    ) -> Result<Option<TaskObject>, SourceError>;

    /// Extends the task's lease and stores `fields` on its attempt; `Ok(true)` means the task
    /// was canceled and the runner must stop it (and need not call
    /// [`set_task_status`](Self::set_task_status)).
    async fn report_task_progress(
        &self,
        task_id: &str,
        fields: Vec<Field>,
    ) -> Result<bool, SourceError>;

    /// Reports how the task ended; called at most once per task.
    async fn set_task_status(&self, task_id: &str, result: TaskResult) -> Result<(), SourceError>;

    /// A token the source cancels as soon as the service cancels the task, for a source that
    /// hears of it without a progress report (the in-process one); the runner then stops the
    /// task as it does when a report answers `canceled`. `None` (the default): the runner
    /// learns it only from [`report_task_progress`](Self::report_task_progress).
    fn cancellation(&self, task_id: &str) -> Option<CancellationToken> {
        let _ = task_id;
        None
    }

    /// Says the runner is alive; `Ok(true)` asks it to stop taking work and exit.
    async fn report_heartbeat(
        &self,
        taskrunner_id: &str,
        worker_group: Option<&str>,
        hostname: &str,
    ) -> Result<bool, SourceError> {
        let _ = (taskrunner_id, worker_group, hostname);
        Ok(false)
    }
}
