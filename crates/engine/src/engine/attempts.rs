//! Attempts and the task protocol: creating attempts, the ready queue, PollForTask,
//! ReportTaskProgress, SetTaskStatus, and what a failed attempt leads to.
//!
//! Design decisions:
//! * The ready queue is ordered by the time attempts became ready (a sequence number), with a
//!   per-worker-group index over the same entries, so polling one group or any group is a
//!   logarithmic pop and an attempt handed out through one view leaves the other too.
//! * Leases: a task must be acknowledged with a progress report within
//!   `first_report_timeout` (2 min), then reported at least every `reportProgressTimeout`
//!   (object field, else 15 min). One lease timer per attempt is re-armed when it fires early,
//!   so progress reports never touch the timer heap. A lapsed lease fails the attempt
//!   (`Service_LeaseLost`) and the task id is forgotten: a late SetTaskStatus gets
//!   TaskNotFound and changes nothing.
//! * Canceled tasks (TRY_CANCEL, deactivation, Terminate, `attemptTimeout`,
//!   `preconditionTimeout`) stay known until their lease would lapse, so the runner's next
//!   ReportTaskProgress answers `canceled: true`; its SetTaskStatus is accepted and ignored.
//! * Retries: an attempt that fails is retried after `retryDelay` while the current run has
//!   made at most `maximumRetries` attempts beyond the first; then the instance is FAILED and
//!   onFail fires. A precondition that evaluates FALSE is rechecked after `retryDelay` without
//!   limit unless `maximumRetries` is set on it; `preconditionTimeout` bounds it either way.
//! * Service-made errors use error ids starting with `Service_`, the prefix AWS reserves for
//!   itself, so they never look like a runner's.
//! * A field whose expression cannot be evaluated fails the instance at once (no retry):
//!   evaluation is deterministic, so a retry would fail the same way.

use std::sync::Arc;

use chrono::NaiveDateTime;
use sluice_model::time::format_datetime;
use sluice_model::{Field, FieldValue, PipelineState, Status, TaskObject, TaskResult, TaskStatus};

use super::state::{AttIdx, Attempt, InstIdx, Timer, keys};
use super::{ActionTrigger, Engine, GroupFilter, plus, plus_duration};
use crate::error::EngineError;
use crate::ids;
use crate::plan::SERVICE_WORKER_GROUP;

impl Engine {
    /// Creates the next attempt of `i` and queues it (WAITING_FOR_RUNNER).
    pub(super) fn create_attempt(&mut self, i: InstIdx, at: NaiveDateTime) {
        let worker_group = match self.worker_group_for(i, at) {
            Ok(group) => group,
            Err(message) => {
                self.fail_without_retry(i, "Service_ResourceFailed", &message, at);
                return;
            }
        };
        let number = self.insts[i].attempts.len() as u32 + 1;
        let id = ids::attempt_id(&self.insts[i].id, number);
        let mut fields = self.version_fields();
        if let Some(r) = self.resource_of(i) {
            fields.insert(keys::RESOURCE.to_owned(), vec![self.insts[r].id.clone()]);
        }
        let a = self.atts.len();
        self.atts.push(Attempt {
            id,
            inst: i,
            number,
            status: Status::WaitingForRunner,
            worker_group,
            task_id: None,
            hostname: None,
            taskrunner_id: None,
            created_at: at,
            started_at: None,
            ended_at: None,
            lease_expires_at: None,
            lease_timer: None,
            reported: false,
            cancel_requested: false,
            result: None,
            fields,
            queue_seq: None,
            dirty: false,
        });
        self.mark_att(a);
        self.insts[i].attempts.push(a);
        self.transition(i, Status::WaitingForRunner, at);
        self.enqueue(a);
    }

    /// The worker group of `i`'s tasks: the service's own group for checks the service
    /// performs; its resource instance's id when it (or the instance it checks) runs on a
    /// resource, which is then started if needed; else the `workerGroup`. An error says why
    /// the resource cannot serve.
    fn worker_group_for(&mut self, i: InstIdx, at: NaiveDateTime) -> Result<Arc<str>, String> {
        if self.plan.components[self.insts[i].comp].service_managed {
            return Ok(self.service_group.clone());
        }
        let subject = self.insts[i].owner().unwrap_or(i);
        if let Some(r) = self.insts[subject].resource {
            self.resource_for_attempt(r, at)?;
            return Ok(Arc::from(self.insts[r].id.as_str()));
        }
        Ok(self.comps[self.insts[subject].comp].group.clone())
    }

    pub(super) fn enqueue(&mut self, a: AttIdx) {
        let seq = self.next_seq;
        self.next_seq += 1;
        self.ready.insert(seq, a);
        self.by_group
            .entry(self.atts[a].worker_group.clone())
            .or_default()
            .insert(seq);
        self.atts[a].queue_seq = Some(seq);
    }

    pub(super) fn dequeue(&mut self, a: AttIdx) {
        let Some(seq) = self.atts[a].queue_seq.take() else {
            return;
        };
        self.ready.remove(&seq);
        if let Some(set) = self.by_group.get_mut(&self.atts[a].worker_group) {
            set.remove(&seq);
        }
    }

    fn pop_ready(&mut self, groups: GroupFilter<'_>) -> Option<AttIdx> {
        let a = match groups {
            GroupFilter::Exactly(group) => {
                let seq = self.by_group.get_mut(group)?.pop_first()?;
                self.ready.remove(&seq)?
            }
            GroupFilter::Local { extra } => {
                // The oldest head of the few queues the service's own runner serves.
                let head = |group: &str| {
                    self.by_group
                        .get(group)
                        .and_then(|set| set.first().copied())
                };
                let seq = ["", SERVICE_WORKER_GROUP]
                    .into_iter()
                    .chain(extra.iter().map(String::as_str))
                    .filter_map(head)
                    .min()?;
                let a = self.ready.remove(&seq)?;
                if let Some(set) = self.by_group.get_mut(&self.atts[a].worker_group) {
                    set.remove(&seq);
                }
                a
            }
            GroupFilter::Any => {
                let (seq, a) = self.ready.pop_first()?;
                if let Some(set) = self.by_group.get_mut(&self.atts[a].worker_group) {
                    set.remove(&seq);
                }
                a
            }
        };
        self.atts[a].queue_seq = None;
        Some(a)
    }

    /// Ends an attempt (not a live task any more).
    pub(super) fn end_attempt(&mut self, a: AttIdx, status: Status, at: NaiveDateTime) {
        let att = &mut self.atts[a];
        att.status = status;
        att.ended_at = Some(at);
        self.mark_att(a);
    }

    /// PollForTask: hands out the oldest ready attempt of `worker_group` (any group for
    /// `None`, as the embedded runner polls) and returns its task with every field evaluated.
    /// Returns `None` when nothing is ready or the pipeline is not SCHEDULED. Attempts of a
    /// paused component are set aside until RESUME.
    pub fn poll_task(
        &mut self,
        worker_group: Option<&str>,
        hostname: &str,
        now: NaiveDateTime,
    ) -> Option<TaskObject> {
        self.poll_task_in(GroupFilter::from(worker_group), hostname, now)
    }

    /// PollForTask for the worker groups `groups` selects. A poll of a resource instance's
    /// group tells the engine that the resource's runner is up (CREATING → RUNNING).
    pub fn poll_task_in(
        &mut self,
        groups: GroupFilter<'_>,
        hostname: &str,
        now: NaiveDateTime,
    ) -> Option<TaskObject> {
        self.advance(now);
        let now = self.now;
        if self.record.state != PipelineState::Scheduled {
            return None;
        }
        if let GroupFilter::Exactly(group) = groups
            && let Some(&r) = self.by_id.get(group)
            && self.plan.components[self.insts[r].comp].is_resource()
        {
            self.resource_up(r, now);
        }
        let in_process = matches!(groups, GroupFilter::Any | GroupFilter::Local { .. });
        while let Some(a) = self.pop_ready(groups) {
            let i = self.atts[a].inst;
            if self.paused(i) {
                let own = self.insts[i].comp;
                let c = if self.comps[own].paused {
                    own
                } else {
                    self.insts[i].owner().map_or(own, |o| self.insts[o].comp)
                };
                self.comps[c].parked.push(a);
                continue;
            }
            let task_id = self.task_ids.next_id();
            match self.build_task(a, &task_id, hostname, now) {
                Ok(task) => {
                    let runner = if in_process {
                        self.in_process_id.clone()
                    } else {
                        None
                    };
                    self.start_attempt(a, task_id, hostname, runner, now);
                    return Some(task);
                }
                Err(message) => {
                    self.end_attempt(a, Status::Failed, now);
                    let att = &mut self.atts[a];
                    att.fields.insert(
                        keys::ERROR_ID.into(),
                        vec!["Service_EvaluationError".into()],
                    );
                    att.fields
                        .insert(keys::ERROR_MESSAGE.into(), vec![message.clone()]);
                    let inst = &mut self.insts[i];
                    inst.set_field(keys::ERROR_ID, "Service_EvaluationError");
                    inst.set_field(keys::ERROR_MESSAGE, message);
                    self.transition(i, Status::Failed, now);
                    self.fire_actions(i, ActionTrigger::Fail, now);
                    self.drain_wake(now);
                }
            }
        }
        self.maybe_finish_pipeline();
        None
    }

    /// Hands attempt `a` to a runner on `hostname`; `runner` is the in-process runner's
    /// taskrunner id when it is the taker.
    fn start_attempt(
        &mut self,
        a: AttIdx,
        task_id: String,
        hostname: &str,
        runner: Option<Arc<str>>,
        now: NaiveDateTime,
    ) {
        let i = self.atts[a].inst;
        let lease = plus_duration(now, self.options.first_report_timeout);
        let att = &mut self.atts[a];
        att.status = Status::Running;
        att.started_at = Some(now);
        att.task_id = Some(task_id.clone());
        att.hostname = Some(hostname.to_owned());
        att.taskrunner_id = runner.map(|r| r.to_string());
        att.lease_expires_at = Some(lease);
        att.lease_timer = Some(lease);
        self.mark_att(a);
        self.push_timer(lease, Timer::Lease(a));
        let comp = &self.plan.components[self.insts[i].comp];
        if let Some(timeout) = comp.policy.attempt_timeout {
            self.push_timer(plus(now, &timeout), Timer::AttemptTimeout(a));
        }
        self.tasks.insert(task_id, a);
        self.running += 1;
        let inst = &mut self.insts[i];
        inst.actual_start.get_or_insert(now);
        inst.set_field(keys::HOSTNAME, hostname);
        self.transition(i, Status::Running, now);
        // Whoever takes a task of a starting resource's group is that resource's runner.
        if let Some(r) = self.resource_of(i)
            && *self.atts[a].worker_group == *self.insts[r].id
        {
            self.resource_up(r, now);
            // Which start of the resource ran this attempt (`local-process:<pid>`, …).
            if let Some(resource_id) = self.insts[r].fields.get(keys::RESOURCE_ID).cloned() {
                self.atts[a]
                    .fields
                    .insert(keys::RESOURCE_ID.to_owned(), resource_id);
            }
        }
    }

    /// The resource instance `i` (or the instance it checks) runs on.
    pub(super) fn resource_of(&self, i: InstIdx) -> Option<InstIdx> {
        self.insts[self.insts[i].owner().unwrap_or(i)].resource
    }

    /// ReportTaskProgress: extends the task's lease and stores the reported fields on the
    /// attempt. Returns `true` when the runner must stop (the attempt was canceled).
    pub fn report_progress(
        &mut self,
        task_id: &str,
        fields: &[Field],
        now: NaiveDateTime,
    ) -> Result<bool, EngineError> {
        self.advance(now);
        let now = self.now;
        let a = *self
            .tasks
            .get(task_id)
            .ok_or_else(|| EngineError::TaskNotFound(task_id.to_owned()))?;
        if self.atts[a].cancel_requested {
            return Ok(true);
        }
        let comp = &self.plan.components[self.insts[self.atts[a].inst].comp];
        let lease = match comp.policy.report_progress_timeout {
            Some(timeout) => plus(now, &timeout),
            None => plus_duration(now, self.options.report_progress_timeout),
        };
        let att = &mut self.atts[a];
        att.reported = true;
        att.lease_expires_at = Some(lease);
        att.fields.insert(
            keys::REPORT_PROGRESS_TIME.to_owned(),
            vec![format_datetime(now)],
        );
        for field in fields {
            if let FieldValue::String(value) = &field.value {
                att.fields.insert(field.key.clone(), vec![value.clone()]);
            }
        }
        self.mark_att(a);
        Ok(false)
    }

    /// SetTaskStatus: records the task's outcome. FINISHED finishes the attempt and the
    /// instance (onSuccess fires, dependants move on); FAILED — and FALSE for anything but a
    /// precondition — fails the attempt, copies the error fields to attempt and instance and
    /// retries or fails the instance; FALSE on a precondition check schedules a recheck.
    pub fn set_task_status(
        &mut self,
        task_id: &str,
        result: TaskResult,
        now: NaiveDateTime,
    ) -> Result<(), EngineError> {
        self.advance(now);
        let now = self.now;
        let a = *self
            .tasks
            .get(task_id)
            .ok_or_else(|| EngineError::TaskNotFound(task_id.to_owned()))?;
        self.tasks.remove(task_id);
        if self.atts[a].cancel_requested {
            return Ok(());
        }
        self.running -= 1;
        let i = self.atts[a].inst;
        let att = &mut self.atts[a];
        att.lease_timer = None;
        for (key, value) in [
            (keys::ERROR_ID, &result.error_id),
            (keys::ERROR_MESSAGE, &result.error_message),
            (keys::ERROR_STACK_TRACE, &result.error_stack_trace),
        ] {
            if let Some(value) = value {
                att.fields.insert(key.to_owned(), vec![value.clone()]);
            }
        }
        let status = result.task_status;
        att.result = Some(result);
        let is_check = self.insts[i].owner().is_some();
        match status {
            TaskStatus::Finished => {
                self.end_attempt(a, Status::Finished, now);
                self.transition(i, Status::Finished, now);
                self.fire_actions(i, ActionTrigger::Success, now);
            }
            TaskStatus::False if is_check => {
                self.end_attempt(a, Status::Failed, now);
                self.attempt_failed(i, now, true);
            }
            TaskStatus::Failed | TaskStatus::False => {
                self.end_attempt(a, Status::Failed, now);
                self.attempt_failed(i, now, false);
                if let Some(r) = self.resource_of(i)
                    && *self.atts[a].worker_group == *self.insts[r].id
                {
                    self.task_failed_on_resource(r, now);
                }
            }
        }
        self.drain_wake(now);
        self.purge_stale_timers();
        self.maybe_finish_pipeline();
        Ok(())
    }

    /// Fails a running attempt on the service's side (lease lost, attemptTimeout). With
    /// `tell_runner` the task stays known so the runner hears `canceled: true`.
    pub(super) fn fail_running_attempt(
        &mut self,
        a: AttIdx,
        at: NaiveDateTime,
        error_id: &str,
        message: String,
        tell_runner: bool,
    ) {
        if self.atts[a].status != Status::Running {
            return;
        }
        self.running -= 1;
        let att = &mut self.atts[a];
        att.fields
            .insert(keys::ERROR_ID.to_owned(), vec![error_id.to_owned()]);
        att.fields
            .insert(keys::ERROR_MESSAGE.to_owned(), vec![message.clone()]);
        att.result = Some(TaskResult::failed(error_id, message));
        if tell_runner {
            self.request_cancel(a);
        } else {
            att.lease_timer = None;
            if let Some(task) = &att.task_id {
                self.tasks.remove(task);
            }
        }
        self.end_attempt(a, Status::Failed, at);
        let i = self.atts[a].inst;
        self.attempt_failed(i, at, false);
    }

    /// Tells the runner of running attempt `a` to stop: its next progress report answers
    /// `canceled`, and its task id is listed for [`Engine::take_canceled_tasks`].
    pub(super) fn request_cancel(&mut self, a: AttIdx) {
        let att = &mut self.atts[a];
        att.cancel_requested = true;
        if let Some(task_id) = &att.task_id {
            self.canceled_tasks.push(task_id.clone());
        }
    }

    /// The latest attempt of `i` failed (or found its precondition false): retry after
    /// `retryDelay`, or fail the instance.
    pub(super) fn attempt_failed(&mut self, i: InstIdx, at: NaiveDateTime, condition_false: bool) {
        if self.insts[i].status.is_terminal() {
            return;
        }
        let last = self.insts[i].attempts.last().copied();
        if !condition_false && let Some(a) = last {
            for key in [keys::ERROR_ID, keys::ERROR_MESSAGE, keys::ERROR_STACK_TRACE] {
                match self.atts[a].fields.get(key).cloned() {
                    Some(value) => {
                        self.insts[i].fields.insert(key.to_owned(), value);
                    }
                    None => {
                        self.insts[i].fields.remove(key);
                    }
                }
            }
            self.mark_inst(i);
        }
        let policy = self.plan.components[self.insts[i].comp].policy;
        let made = self.insts[i].attempts.len() as u32 - self.insts[i].rerun_from;
        let unlimited = condition_false && !policy.retries_explicit;
        let retryable = condition_false
            || last.is_none_or(|a| {
                let error_id = self.atts[a].fields.get(keys::ERROR_ID);
                !error_id.is_some_and(|ids| ids.iter().any(|id| is_unretryable(id)))
            });
        if retryable && (unlimited || made <= policy.maximum_retries) {
            let when = plus(at, &policy.retry_delay);
            self.insts[i].retry_at = Some(when);
            self.push_timer(when, Timer::Retry(i));
            self.transition(i, Status::WaitingForRunner, at);
            return;
        }
        if condition_false {
            let inst = &mut self.insts[i];
            inst.set_field(keys::ERROR_ID, "Service_PreconditionNotMet");
            inst.set_field(
                keys::ERROR_MESSAGE,
                format!("the precondition was still false after {made} checks"),
            );
        }
        self.release_work(i, at);
        self.transition(i, Status::Failed, at);
        self.fire_actions(i, ActionTrigger::Fail, at);
    }
}

/// Error ids runners report for a task that cannot run as given — no executor for its type,
/// fields an executor cannot use, a combination no executor supports, a runner without the
/// Spark or Pig installation the type needs. Every retry would fail the same way until an
/// operator changes something (and then reruns), so the instance fails at once instead of
/// waiting out its retries. The executors' `error_id` module and the runner's `NoExecutor`
/// define these names; a test in `sluice-runtime` keeps them in step.
pub const UNRETRYABLE_ERROR_IDS: [&str; 5] = [
    "NoExecutor",
    "InvalidTask",
    "Unsupported",
    "SparkNotFound",
    "PigNotFound",
];

fn is_unretryable(error_id: &str) -> bool {
    UNRETRYABLE_ERROR_IDS.contains(&error_id)
}
