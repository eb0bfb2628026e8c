//! The task-runner protocol: PollForTask, ReportTaskProgress, ReportTaskRunnerHeartbeat,
//! SetTaskStatus.
//!
//! Design decisions:
//! * PollForTask takes a task of exactly the given worker group from any active pipeline of
//!   the caller's account, visiting pipelines round-robin so one busy pipeline cannot starve
//!   the others, and long-polls (90 s by default) until a task is ready. An empty `workerGroup`
//!   is refused: the empty group is where Sluice queues work that names no worker group, which
//!   only the in-process runner serves.
//! * The in-process runner calls the same functions with no account (every account) and the
//!   groups the service serves itself (`GroupFilter::Local`), so a task runs the same way
//!   whichever runner takes it.
//! * A store failure while polling one pipeline is logged and the poll goes on with the
//!   others: one broken pipeline must not stop every runner.
//! * `errorId` values starting with `Service_` are reserved for the service (AWS rule).

use std::time::Duration;

use chrono::NaiveDateTime;
use sluice_engine::{EngineError, GroupFilter};
use sluice_model::ops::{
    PollForTaskInput, PollForTaskOutput, ReportTaskProgressInput, ReportTaskProgressOutput,
    ReportTaskRunnerHeartbeatInput, ReportTaskRunnerHeartbeatOutput, SetTaskStatusInput,
    SetTaskStatusOutput,
};
use sluice_model::{Field, TaskObject, TaskResult};

use crate::accounts::Principal;
use crate::cluster::{Forwarder, Placement, Remote};
use crate::error::{ApiError, ApiResult};
use crate::metrics::Poller;
use crate::service::{RunnerInfo, Service, lock, task_not_found};

/// The host name recorded when a runner sends none.
const UNKNOWN_HOST: &str = "unknown";

impl Service {
    /// PollForTask.
    pub async fn poll_for_task(
        &self,
        principal: &Principal,
        input: PollForTaskInput,
    ) -> ApiResult<PollForTaskOutput> {
        self.poll_for_task_from(principal, input, Remote::None)
            .await
    }

    /// PollForTask, taking tasks of pipelines other servers own through `remote` (a shared
    /// deployment), or answering at once from this server's own pipelines (a poll another
    /// server forwarded here).
    pub async fn poll_for_task_from(
        &self,
        principal: &Principal,
        input: PollForTaskInput,
        remote: Remote<'_>,
    ) -> ApiResult<PollForTaskOutput> {
        if input.worker_group.is_empty() {
            return Err(ApiError::invalid(
                "workerGroup must not be empty: name the worker group this runner serves",
            ));
        }
        let hostname = input.hostname.as_deref().unwrap_or(UNKNOWN_HOST);
        let wait = match remote {
            Remote::Forwarded => Duration::ZERO,
            _ => self.options.poll_wait,
        };
        let task = self
            .poll_with(
                Some(&principal.account_id),
                GroupFilter::Exactly(&input.worker_group),
                hostname,
                wait,
                remote,
            )
            .await?;
        Ok(PollForTaskOutput { task_object: task })
    }

    /// Takes a ready task of the groups `group` selects from the pipelines of `account` (every
    /// account for `None`), waiting up to `wait` for one.
    pub(crate) async fn poll(
        &self,
        account: Option<&str>,
        group: GroupFilter<'_>,
        hostname: &str,
        wait: Duration,
    ) -> ApiResult<Option<TaskObject>> {
        self.poll_with(account, group, hostname, wait, Remote::None)
            .await
    }

    async fn poll_with(
        &self,
        account: Option<&str>,
        group: GroupFilter<'_>,
        hostname: &str,
        wait: Duration,
        remote: Remote<'_>,
    ) -> ApiResult<Option<TaskObject>> {
        self.pollers.polled(group, self.clock.now());
        let deadline = tokio::time::Instant::now() + wait;
        let mut remote_seen = None;
        loop {
            // Registered before looking, so a task that appears meanwhile wakes us.
            let notified = self.changed.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            let schedulers = match account {
                Some(account) => self.account_schedulers(account),
                None => self.schedulers(),
            };
            let n = schedulers.len();
            let first = self
                .cursor
                .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            for k in 0..n {
                let (pipeline_id, scheduler) = &schedulers[(first + k) % n];
                match scheduler
                    .poll_for_task_in(group, hostname, Duration::ZERO)
                    .await
                {
                    Ok(Some(task)) => {
                        let owner = self
                            .registry()
                            .pipelines
                            .get(pipeline_id)
                            .map(|m| m.account_id.clone())
                            .unwrap_or_default();
                        self.remember_task(&task.task_id, pipeline_id, &owner);
                        tracing::debug!(pipeline = %pipeline_id, attempt = %task.attempt_id, %hostname, "task handed out");
                        return Ok(Some(task));
                    }
                    Ok(None) => {}
                    Err(error) => {
                        tracing::warn!(pipeline = %pipeline_id, "polling for a task: {error}")
                    }
                }
            }
            // Read before looking, so work signalled meanwhile makes the next pass look again.
            let remote_now = self.remote_work.load(std::sync::atomic::Ordering::SeqCst);
            if let (Remote::Through(forwarder), Some(account), GroupFilter::Exactly(group)) =
                (remote, account, group)
                && remote_seen.replace(remote_now) != Some(remote_now)
            {
                match self
                    .poll_elsewhere(forwarder, account, group, hostname)
                    .await
                {
                    Ok(Some(task)) => return Ok(Some(task)),
                    Ok(None) => {}
                    Err(error) => {
                        tracing::warn!("polling other servers for a task: {}", error.message())
                    }
                }
            }
            if self.stopping.is_cancelled() || wait.is_zero() {
                return Ok(None);
            }
            let _waiting = WaitingPoll::enter(&self.waiting_polls);
            let _counted = self.metrics.long_poll(match account {
                Some(_) => Poller::Api,
                None => Poller::InProcess,
            });
            tokio::select! {
                woken = tokio::time::timeout_at(deadline, notified) => {
                    if woken.is_err() {
                        return Ok(None);
                    }
                }
                () = self.stopping.cancelled() => return Ok(None),
            }
        }
    }

    /// Takes a task of `group` from a pipeline of `account` another server owns (or nobody
    /// does, which this server then takes).
    async fn poll_elsewhere(
        &self,
        forwarder: &dyn Forwarder,
        account: &str,
        group: &str,
        hostname: &str,
    ) -> ApiResult<Option<TaskObject>> {
        let Some(m) = self.membership() else {
            return Ok(None);
        };
        let ready = m.backend.ready_pipelines(group).await?;
        let mut asked = std::collections::HashSet::new();
        for pipeline_id in ready {
            if m.fence(&pipeline_id).is_some() {
                continue;
            }
            self.know(&pipeline_id).await?;
            let ours = self
                .registry()
                .pipelines
                .get(&pipeline_id)
                .is_some_and(|meta| meta.account_id == account && !meta.deleted);
            if !ours {
                continue;
            }
            match self.place_cached(&pipeline_id).await? {
                Placement::Here => {
                    let Some(scheduler) = self.scheduler(&pipeline_id) else {
                        continue;
                    };
                    let task = scheduler
                        .poll_for_task_in(GroupFilter::Exactly(group), hostname, Duration::ZERO)
                        .await?;
                    if let Some(task) = task {
                        self.remember_task(&task.task_id, &pipeline_id, account);
                        return Ok(Some(task));
                    }
                }
                Placement::Elsewhere(url) => {
                    if !asked.insert(url.clone()) {
                        continue;
                    }
                    // An owner that cannot be reached (it died; its lease has not lapsed yet)
                    // must not keep the others' tasks from this poll.
                    match forwarder.poll_at(&url).await {
                        Ok(Some(task)) => return Ok(Some(task)),
                        Ok(None) => {}
                        Err(error) => {
                            tracing::debug!(%url, "polling another server: {}", error.message())
                        }
                    }
                }
            }
        }
        Ok(None)
    }

    /// How many PollForTask calls are waiting for a task right now (for metrics, and for tests
    /// that must act only once a long poll is in flight).
    pub fn waiting_polls(&self) -> usize {
        self.waiting_polls.load(std::sync::atomic::Ordering::SeqCst)
    }

    /// ReportTaskProgress.
    pub async fn report_task_progress(
        &self,
        principal: &Principal,
        input: ReportTaskProgressInput,
    ) -> ApiResult<ReportTaskProgressOutput> {
        let canceled = self
            .report_progress(
                Some(&principal.account_id),
                &input.task_id,
                &input.fields.unwrap_or_default(),
            )
            .await?;
        Ok(ReportTaskProgressOutput { canceled })
    }

    pub(crate) async fn report_progress(
        &self,
        account: Option<&str>,
        task_id: &str,
        fields: &[Field],
    ) -> ApiResult<bool> {
        let (_, scheduler) = self.route_task(task_id, account)?;
        match scheduler.report_task_progress(task_id, fields).await {
            Ok(canceled) => Ok(canceled),
            Err(EngineError::TaskNotFound(_)) => {
                self.forget_task(task_id);
                Err(task_not_found(task_id))
            }
            Err(error) => Err(error.into()),
        }
    }

    /// SetTaskStatus.
    pub async fn set_task_status(
        &self,
        principal: &Principal,
        input: SetTaskStatusInput,
    ) -> ApiResult<SetTaskStatusOutput> {
        if input
            .error_id
            .as_deref()
            .is_some_and(|id| id.starts_with("Service_"))
        {
            return Err(ApiError::invalid(
                "errorId must not start with 'Service_': that prefix is reserved for the service",
            ));
        }
        let result = TaskResult {
            task_status: input.task_status,
            error_id: input.error_id,
            error_message: input.error_message,
            error_stack_trace: input.error_stack_trace,
        };
        self.finish_task(Some(&principal.account_id), &input.task_id, result)
            .await?;
        Ok(SetTaskStatusOutput {})
    }

    pub(crate) async fn finish_task(
        &self,
        account: Option<&str>,
        task_id: &str,
        result: TaskResult,
    ) -> ApiResult<()> {
        let (pipeline_id, scheduler) = self.route_task(task_id, account)?;
        let status = result.task_status;
        match scheduler.set_task_status(task_id, result).await {
            Ok(()) => {
                self.forget_task(task_id);
                tracing::debug!(pipeline = %pipeline_id, status = status.as_str(), "task status set");
                Ok(())
            }
            Err(EngineError::TaskNotFound(_)) => {
                self.forget_task(task_id);
                Err(task_not_found(task_id))
            }
            Err(error) => Err(error.into()),
        }
    }

    /// ReportTaskRunnerHeartbeat: records the runner, and asks it to terminate when it is the
    /// runner of a resource instance that no longer needs it.
    pub async fn report_task_runner_heartbeat(
        &self,
        principal: &Principal,
        input: ReportTaskRunnerHeartbeatInput,
    ) -> ApiResult<ReportTaskRunnerHeartbeatOutput> {
        let terminate = self
            .runner_should_terminate(&principal.account_id, &input.taskrunner_id)
            .await;
        let now: NaiveDateTime = self.clock.now();
        lock(&self.runners).insert(
            (principal.account_id.clone(), input.taskrunner_id.clone()),
            RunnerInfo {
                account_id: principal.account_id.clone(),
                taskrunner_id: input.taskrunner_id,
                worker_group: input.worker_group,
                hostname: input.hostname,
                last_heartbeat: now,
            },
        );
        Ok(ReportTaskRunnerHeartbeatOutput { terminate })
    }
}

/// Counts a long poll as waiting for as long as it is held, however the wait ends.
struct WaitingPoll<'a>(&'a std::sync::atomic::AtomicUsize);

impl<'a> WaitingPoll<'a> {
    fn enter(counter: &'a std::sync::atomic::AtomicUsize) -> Self {
        counter.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        WaitingPoll(counter)
    }
}

impl Drop for WaitingPoll<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, std::sync::atomic::Ordering::SeqCst);
    }
}
