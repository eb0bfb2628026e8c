//! The task source of the runner that runs inside the process: one adapter, whether it serves
//! a whole server ([`Service`]) or the one pipeline of `sluice run` ([`Scheduler`]).
//!
//! It calls the engine directly rather than over HTTP (no signing, no serialization) but
//! through the same functions PollForTask, ReportTaskProgress and SetTaskStatus use, so tasks
//! behave identically to those a remote runner takes.
//!
//! Over a [`Service`] it serves every account, but only the work that belongs to the service
//! itself: tasks that name no worker group and the checks the service performs (S3KeyExists,
//! DynamoDBTableExists, …, queued in
//! [`SERVICE_WORKER_GROUP`](sluice_engine::SERVICE_WORKER_GROUP)). Named worker groups are left
//! to remote runners (`sluice taskrunner`) and resource groups to the runners the provisioner
//! starts, unless listed in `ServiceOptions::local_worker_groups` (`sluice server
//! --local-worker-group NAME`). Over a [`Scheduler`] (`sluice run`) it takes every group.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use sluice_engine::{GroupFilter, Scheduler};
use sluice_model::{Field, TaskObject, TaskResult};
use sluice_runner::{SourceError, TaskSource};

use crate::error::{ApiError, ApiResult};
use crate::service::Service;

/// How long one in-process poll waits before the runner asks again (short, so shutdown is
/// noticed quickly).
const POLL_WAIT: Duration = Duration::from_secs(5);

/// Where in-process tasks come from: the task protocol's three calls, as the engine answers
/// them.
#[async_trait]
pub trait TaskDesk: Send + Sync + 'static {
    /// The next task for `worker_group` (`None`: every group this desk serves in process).
    async fn poll(
        &self,
        worker_group: Option<&str>,
        hostname: &str,
        wait: Duration,
    ) -> ApiResult<Option<TaskObject>>;

    /// Extends the lease; `true` when the task was canceled.
    async fn report(&self, task_id: &str, fields: &[Field]) -> ApiResult<bool>;

    /// Records how the task ended.
    async fn finish(&self, task_id: &str, result: TaskResult) -> ApiResult<()>;
}

#[async_trait]
impl TaskDesk for Service {
    async fn poll(
        &self,
        worker_group: Option<&str>,
        hostname: &str,
        wait: Duration,
    ) -> ApiResult<Option<TaskObject>> {
        let groups = match worker_group {
            Some(group) => GroupFilter::Exactly(group),
            None => GroupFilter::Local {
                extra: &self.options.local_worker_groups,
            },
        };
        Service::poll(self, None, groups, hostname, wait).await
    }

    async fn report(&self, task_id: &str, fields: &[Field]) -> ApiResult<bool> {
        self.report_progress(None, task_id, fields).await
    }

    async fn finish(&self, task_id: &str, result: TaskResult) -> ApiResult<()> {
        self.finish_task(None, task_id, result).await
    }
}

#[async_trait]
impl TaskDesk for Scheduler {
    async fn poll(
        &self,
        worker_group: Option<&str>,
        hostname: &str,
        wait: Duration,
    ) -> ApiResult<Option<TaskObject>> {
        Ok(self.poll_for_task(worker_group, hostname, wait).await?)
    }

    async fn report(&self, task_id: &str, fields: &[Field]) -> ApiResult<bool> {
        Ok(self.report_task_progress(task_id, fields).await?)
    }

    async fn finish(&self, task_id: &str, result: TaskResult) -> ApiResult<()> {
        Ok(self.set_task_status(task_id, result).await?)
    }
}

/// A [`TaskSource`] over a [`TaskDesk`], for the in-process runner.
pub struct InProcessSource<D: ?Sized> {
    desk: Arc<D>,
}

impl<D: TaskDesk + ?Sized> InProcessSource<D> {
    pub fn new(desk: Arc<D>) -> Self {
        InProcessSource { desk }
    }
}

impl<D: ?Sized> std::fmt::Debug for InProcessSource<D> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("InProcessSource")
    }
}

/// A lost lease stays a lost lease; anything else is worth another try.
fn source_error(error: ApiError) -> SourceError {
    match error {
        ApiError::TaskNotFound(message) => SourceError::TaskNotFound(message),
        other => SourceError::Transient(other.message()),
    }
}

#[async_trait]
impl<D: TaskDesk + ?Sized> TaskSource for InProcessSource<D> {
    async fn poll_for_task(
        &self,
        worker_group: Option<&str>,
        hostname: &str,
    ) -> Result<Option<TaskObject>, SourceError> {
        self.desk
            .poll(worker_group, hostname, POLL_WAIT)
            .await
            .map_err(source_error)
    }

    async fn report_task_progress(
        &self,
        task_id: &str,
        fields: Vec<Field>,
    ) -> Result<bool, SourceError> {
        self.desk
            .report(task_id, &fields)
            .await
            .map_err(source_error)
    }

    async fn set_task_status(&self, task_id: &str, result: TaskResult) -> Result<(), SourceError> {
        self.desk
            .finish(task_id, result)
            .await
            .map_err(source_error)
    }
}
