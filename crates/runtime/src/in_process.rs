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
//!
//! Design decisions:
//! * **Cancellation arrives at once.** A remote runner learns that its task was canceled
//!   (TRY_CANCEL, deactivation, Terminate, attemptTimeout) from the answer to its next
//!   ReportTaskProgress, up to a report interval later. In process there is no need to wait:
//!   the source keeps a [`CancellationToken`] per task it handed out ([`TaskCancellations`]),
//!   every scheduler whose tasks it takes tells it which tasks were canceled once that is
//!   committed (`Scheduler::set_cancel_observer`), and the runner stops the task (killing its
//!   process group) as soon as the token fires. A task whose route the service drops (its
//!   pipeline moved to another server, or was reactivated with a changed definition) is
//!   stopped the same way rather than at its next report.
//! * A token is forgotten when its task's status is set, when a report finds the task
//!   canceled or unknown, and when it fires; a cancellation that comes before the runner
//!   asks for the token is still heard from the task's first report, which is sent at once.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use sluice_engine::{CancelObserver, GroupFilter, Scheduler};
use sluice_model::{Field, TaskObject, TaskResult};
use sluice_runner::{SourceError, TaskSource};
use tokio_util::sync::CancellationToken;

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

/// The cancellation tokens of the tasks an in-process runner holds, by task id.
#[derive(Debug, Default)]
pub struct TaskCancellations {
    tokens: Mutex<HashMap<String, CancellationToken>>,
}

impl TaskCancellations {
    /// Fires (and forgets) the tokens of those of `task_ids` an in-process runner holds; other
    /// ids (remote runners' tasks) are ignored.
    pub fn cancel(&self, task_ids: &[String]) {
        let fired: Vec<CancellationToken> = {
            let mut tokens = crate::service::lock(&self.tokens);
            task_ids.iter().filter_map(|id| tokens.remove(id)).collect()
        };
        for token in fired {
            token.cancel();
        }
    }

    /// A scheduler's cancel observer that fires these tokens.
    pub fn observer(self: &Arc<Self>) -> CancelObserver {
        let tokens = Arc::clone(self);
        Box::new(move |task_ids| tokens.cancel(task_ids))
    }

    fn issue(&self, task_id: &str) {
        crate::service::lock(&self.tokens).insert(task_id.to_owned(), CancellationToken::new());
    }

    fn token(&self, task_id: &str) -> Option<CancellationToken> {
        crate::service::lock(&self.tokens).get(task_id).cloned()
    }

    fn forget(&self, task_id: &str) {
        crate::service::lock(&self.tokens).remove(task_id);
    }
}

/// A [`TaskSource`] over a [`TaskDesk`], for the in-process runner.
pub struct InProcessSource<D: ?Sized> {
    desk: Arc<D>,
    cancellations: Arc<TaskCancellations>,
}

impl<D: TaskDesk + ?Sized> InProcessSource<D> {
    /// A source over `desk` whose tasks' tokens are `cancellations`, which the schedulers
    /// behind the desk must fire (see [`TaskCancellations::observer`]).
    pub fn new(desk: Arc<D>, cancellations: Arc<TaskCancellations>) -> Self {
        InProcessSource {
            desk,
            cancellations,
        }
    }
}

impl InProcessSource<Scheduler> {
    /// The source of `sluice run`'s runner: every task of `scheduler`, whose cancellations it
    /// hears from then on.
    pub fn for_scheduler(scheduler: Arc<Scheduler>) -> Self {
        let cancellations = Arc::new(TaskCancellations::default());
        scheduler.set_cancel_observer(cancellations.observer());
        InProcessSource::new(scheduler, cancellations)
    }
}

impl InProcessSource<Service> {
    /// The source of a server's in-process runner.
    pub fn for_service(service: Arc<Service>) -> Self {
        let cancellations = Arc::clone(service.in_process_cancellations());
        InProcessSource::new(service, cancellations)
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
        let task = self
            .desk
            .poll(worker_group, hostname, POLL_WAIT)
            .await
            .map_err(source_error)?;
        if let Some(task) = &task {
            self.cancellations.issue(&task.task_id);
        }
        Ok(task)
    }

    async fn report_task_progress(
        &self,
        task_id: &str,
        fields: Vec<Field>,
    ) -> Result<bool, SourceError> {
        let answer = self
            .desk
            .report(task_id, &fields)
            .await
            .map_err(source_error);
        if matches!(answer, Ok(true) | Err(SourceError::TaskNotFound(_))) {
            self.cancellations.forget(task_id);
        }
        answer
    }

    async fn set_task_status(&self, task_id: &str, result: TaskResult) -> Result<(), SourceError> {
        self.cancellations.forget(task_id);
        self.desk
            .finish(task_id, result)
            .await
            .map_err(source_error)
    }

    fn cancellation(&self, task_id: &str) -> Option<CancellationToken> {
        self.cancellations.token(task_id)
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;

    /// Hands out tasks `t1`, `t2`, …; answers reports with `canceled` for `t2`.
    #[derive(Default)]
    struct Desk {
        handed: std::sync::atomic::AtomicUsize,
    }

    #[async_trait]
    impl TaskDesk for Desk {
        async fn poll(
            &self,
            _worker_group: Option<&str>,
            _hostname: &str,
            _wait: Duration,
        ) -> ApiResult<Option<TaskObject>> {
            let n = self
                .handed
                .fetch_add(1, std::sync::atomic::Ordering::SeqCst)
                + 1;
            Ok(Some(TaskObject {
                task_id: format!("t{n}"),
                pipeline_id: "df-TEST".into(),
                attempt_id: format!("a{n}"),
                objects: BTreeMap::new(),
            }))
        }

        async fn report(&self, task_id: &str, _fields: &[Field]) -> ApiResult<bool> {
            Ok(task_id == "t2")
        }

        async fn finish(&self, _task_id: &str, _result: TaskResult) -> ApiResult<()> {
            Ok(())
        }
    }

    fn held(tokens: &TaskCancellations) -> Vec<String> {
        let mut ids: Vec<String> = crate::service::lock(&tokens.tokens)
            .keys()
            .cloned()
            .collect();
        ids.sort();
        ids
    }

    #[tokio::test]
    async fn a_task_s_token_fires_when_told_and_is_forgotten_when_the_task_ends() {
        let tokens = Arc::new(TaskCancellations::default());
        let source = InProcessSource::new(Arc::new(Desk::default()), Arc::clone(&tokens));
        let observer = tokens.observer();
        for _ in 0..3 {
            source.poll_for_task(None, "h").await.unwrap().unwrap();
        }
        assert_eq!(held(&tokens), ["t1", "t2", "t3"]);

        let first = source
            .cancellation("t1")
            .expect("a token for a task handed out");
        observer(&["t1".to_owned(), "remote-task".to_owned()]);
        assert!(first.is_cancelled());
        assert!(source.cancellation("t1").is_none());

        // A report answering `canceled` and a result each end a task's token.
        assert!(source.report_task_progress("t2", Vec::new()).await.unwrap());
        source
            .set_task_status("t3", TaskResult::finished())
            .await
            .unwrap();
        assert!(held(&tokens).is_empty());
    }
}
