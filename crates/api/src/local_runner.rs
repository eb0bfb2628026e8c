//! The in-process task runner's view of the service.
//!
//! `sluice server` runs a [`sluice_runner::Runner`] in the same process unless told not to. It
//! calls the service directly rather than over HTTP (no signing, no serialization) but through
//! the same functions PollForTask, ReportTaskProgress and SetTaskStatus use, so tasks behave
//! identically. It serves every account, but only the work that belongs to the service
//! itself: tasks that name no worker group and the checks the service performs (S3KeyExists,
//! DynamoDBTableExists, …, queued in [`SERVICE_WORKER_GROUP`](sluice_engine::SERVICE_WORKER_GROUP)).
//! Named worker groups are left to remote runners (`sluice taskrunner`) and resource groups to
//! the runners the provisioner starts, unless listed in `ServiceOptions::local_worker_groups`
//! (`sluice server --local-worker-group NAME`). Start the server with `--no-local-runner` when
//! remote runners should take everything.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use sluice_engine::GroupFilter;
use sluice_model::{Field, TaskObject, TaskResult};
use sluice_runner::{SourceError, TaskSource};

use crate::error::ApiError;
use crate::service::Service;

/// How long one in-process poll waits before the runner asks again (short, so shutdown is
/// noticed quickly).
const POLL_WAIT: Duration = Duration::from_secs(5);

/// A [`TaskSource`] over the service, for the in-process runner.
#[derive(Debug, Clone)]
pub struct LocalTaskSource {
    service: Arc<Service>,
}

impl LocalTaskSource {
    pub fn new(service: Arc<Service>) -> Self {
        LocalTaskSource { service }
    }
}

fn source_error(error: ApiError) -> SourceError {
    match error {
        ApiError::TaskNotFound(message) => SourceError::TaskNotFound(message),
        other => SourceError::Transient(other.message()),
    }
}

#[async_trait]
impl TaskSource for LocalTaskSource {
    async fn poll_for_task(
        &self,
        worker_group: Option<&str>,
        hostname: &str,
    ) -> Result<Option<TaskObject>, SourceError> {
        let groups = match worker_group {
            Some(group) => GroupFilter::Exactly(group),
            None => GroupFilter::Local {
                extra: &self.service.options.local_worker_groups,
            },
        };
        self.service
            .poll(None, groups, hostname, POLL_WAIT)
            .await
            .map_err(source_error)
    }

    async fn report_task_progress(
        &self,
        task_id: &str,
        fields: Vec<Field>,
    ) -> Result<bool, SourceError> {
        self.service
            .report_progress(None, task_id, &fields)
            .await
            .map_err(source_error)
    }

    async fn set_task_status(&self, task_id: &str, result: TaskResult) -> Result<(), SourceError> {
        self.service
            .finish_task(None, task_id, result)
            .await
            .map_err(source_error)
    }
}
