//! The lifecycle of resource instances (`Ec2Resource`, `EmrCluster`), which a provisioner
//! outside the engine starts and stops.
//!
//! ```text
//! WAITING_ON_DEPENDENCIES ──work is ready──▶ CREATING ──runner up──▶ RUNNING
//!        │                                      │  │                    │
//!        │ nothing needed it                    │  └─terminateAfter─────┼──▶ TIMEDOUT
//!        ▼                                      │                       │
//!    FINISHED ◀──runner stopped── SHUTTING_DOWN ◀──last served done─────┘
//!                                               (or actionOnTaskFailure: terminate)
//! ```
//!
//! Design decisions:
//! * Each start of a resource is a resource *attempt* (`@Box_…_Attempt=1`), as AWS shows them;
//!   its status follows the instance's and it carries `@resourceId` and `hostname`. Resource
//!   attempts are never tasks: they are not queued and not counted as running.
//! * The engine asks for a start ([`ResourceAction::Provision`]) and a stop
//!   ([`ResourceAction::Release`]) through resource events, and hears back through
//!   [`Engine::resource_provisioned`], [`Engine::resource_running`] and
//!   [`Engine::resource_stopped`], each naming the resource attempt so that a report about an
//!   earlier attempt's process changes nothing. The resource is RUNNING once its runner polls
//!   its worker group (or a task of the group is handed out), or when the provisioner says so.
//! * A runner that stops while the resource is still needed is a resource failure. With
//!   `actionOnResourceFailure: retryall` (default) the resource is started again at once while
//!   its attempts (current run) do not exceed `maximumRetries`, and the attempts it was running
//!   fail and follow their own retry policy; with `retrynone`, or once the resource's retries
//!   are used up, the resource is FAILED and so are the instances whose attempts it ran.
//!   Instances that need a FAILED resource later fail at once (`Service_ResourceFailed`).
//! * `terminateAfter` counts from the creation of each resource attempt. When it passes, the
//!   resource is TIMEDOUT and stopped; attempts it was running or holding are CANCELED and
//!   their instances follow their retry policy. A retry needs the resource again, which starts
//!   it anew (a new resource attempt): a timeout is not a resource failure.
//! * `actionOnTaskFailure: terminate` shuts the resource down when a task on it fails; other
//!   attempts on it are canceled and retried per policy, and a retry starts it again.
//! * Canceling a resource (TRY_CANCEL, deactivation with cancelActive) stops it.

use chrono::NaiveDateTime;
use sluice_model::{Status, TaskResult};

use super::state::{AttIdx, Attempt, InstIdx, Timer, keys};
use super::{ActionTrigger, Engine, ResourceAction, ResourceEvent, plus};
use crate::error::EngineError;
use crate::ids;
use crate::plan::{ResourceFailureAction, TaskFailureAction};

/// What happens to the attempts a resource was running or holding when it goes away.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Affected {
    /// The attempt fails (or is canceled) and its instance follows its retry policy.
    Retry(Status),
    /// The instance fails at once.
    Fail,
}

impl Engine {
    /// The resource `r` is needed by an attempt about to be created: starts it if it is not up,
    /// and returns the worker group the attempt goes to — or an error message when the resource
    /// has FAILED and cannot serve.
    pub(super) fn resource_for_attempt(
        &mut self,
        r: InstIdx,
        at: NaiveDateTime,
    ) -> Result<(), String> {
        match self.insts[r].status {
            Status::Failed => {
                return Err(format!(
                    "the resource {} FAILED{}",
                    self.insts[r].id,
                    self.insts[r]
                        .field(keys::FAILURE_REASON)
                        .map(|m| format!(": {m}"))
                        .unwrap_or_default()
                ));
            }
            Status::TimedOut | Status::Finished | Status::Canceled | Status::Skipped => {
                self.reopen_resource(r, at);
            }
            _ => {}
        }
        self.activate_resource(r, at);
        Ok(())
    }

    /// Starts a resource instance that is waiting: a new resource attempt, CREATING.
    pub(super) fn activate_resource(&mut self, r: InstIdx, at: NaiveDateTime) {
        if self.insts[r].status != Status::WaitingOnDependencies {
            return;
        }
        let number = self.insts[r].attempts.len() as u32 + 1;
        let a = self.atts.len();
        self.atts.push(Attempt {
            id: ids::attempt_id(&self.insts[r].id, number),
            inst: r,
            number,
            status: Status::Creating,
            worker_group: std::sync::Arc::from(""),
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
            fields: self.version_fields(),
            queue_seq: None,
            dirty: false,
        });
        self.mark_att(a);
        self.insts[r].attempts.push(a);
        for key in [keys::RESOURCE_ID, keys::HOSTNAME, keys::FAILURE_REASON] {
            self.insts[r].fields.remove(key);
        }
        self.insts[r].actual_start.get_or_insert(at);
        // A backfilled interval is processed at its own (past) time, but the resource comes up
        // now: terminateAfter counts from then, or it would expire before it started.
        self.arm_terminate_after(r, at.max(self.now));
        self.transition(r, Status::Creating, at);
        self.push_resource_event(r, ResourceAction::Provision, at);
    }

    fn arm_terminate_after(&mut self, r: InstIdx, created: NaiveDateTime) {
        let policy = self.plan.components[self.insts[r].comp].resource;
        self.insts[r].terminate_at = policy.terminate_after.map(|p| plus(created, &p));
        if let Some(when) = self.insts[r].terminate_at {
            self.push_timer(when, Timer::TerminateAfter(r));
        }
    }

    /// Finishes a resource instance once nothing can need it any more: one that never started
    /// is FINISHED at once, a live one is SHUTTING_DOWN until its runner has stopped.
    pub(super) fn maybe_release_resource(&mut self, r: InstIdx, at: NaiveDateTime) {
        let inst = &self.insts[r];
        if inst.status.is_terminal() || inst.served_open > 0 || !inst.window_closed {
            return;
        }
        match inst.status {
            Status::Creating | Status::Running => self.shut_down(r, at),
            Status::ShuttingDown => {}
            _ => self.transition(r, Status::Finished, at),
        }
    }

    /// Asks the provisioner to stop a live resource (SHUTTING_DOWN).
    fn shut_down(&mut self, r: InstIdx, at: NaiveDateTime) {
        self.insts[r].terminate_at = None;
        self.set_resource_attempt_status(r, Status::ShuttingDown, at);
        self.transition(r, Status::ShuttingDown, at);
        self.push_resource_event(r, ResourceAction::Release, at);
    }

    /// A finished resource instance is needed again (a rerun, a late-linked consumer, a retry
    /// after a timeout).
    pub(super) fn reopen_resource(&mut self, r: InstIdx, at: NaiveDateTime) {
        self.insts[r].actual_start = None;
        self.transition(r, Status::WaitingOnDependencies, at);
    }

    pub(super) fn push_resource_event(
        &mut self,
        r: InstIdx,
        action: ResourceAction,
        at: NaiveDateTime,
    ) {
        let inst = &self.insts[r];
        let attempt_id = inst
            .attempts
            .last()
            .map(|&a| self.atts[a].id.clone())
            .unwrap_or_default();
        self.resource_events.push(ResourceEvent {
            resource_instance_id: inst.id.clone(),
            attempt_id,
            component_id: self.plan.components[inst.comp].id.clone(),
            worker_group: inst.id.clone(),
            action,
            at,
        });
    }

    /// The live resource attempt of `r`, if `r` is live.
    fn live_resource_attempt(&self, r: InstIdx) -> Option<AttIdx> {
        let status = self.insts[r].status;
        if !matches!(
            status,
            Status::Creating | Status::Running | Status::ShuttingDown
        ) {
            return None;
        }
        self.insts[r].attempts.last().copied()
    }

    fn set_resource_attempt_status(&mut self, r: InstIdx, status: Status, at: NaiveDateTime) {
        let Some(&a) = self.insts[r].attempts.last() else {
            return;
        };
        if self.atts[a].status.is_terminal() {
            return;
        }
        self.atts[a].status = status;
        if status == Status::Running {
            self.atts[a].started_at.get_or_insert(at);
        }
        if status.is_terminal() {
            self.atts[a].ended_at = Some(at);
        }
        self.mark_att(a);
    }

    /// The resource attempt a provisioner reports about, when it is still the current one.
    fn reported_resource(&self, attempt_id: &str) -> Result<Option<InstIdx>, EngineError> {
        let instance_id = attempt_id
            .rsplit_once("_Attempt=")
            .map(|(instance, _)| instance)
            .ok_or_else(|| EngineError::ObjectNotFound(attempt_id.to_owned()))?;
        let &r = self
            .by_id
            .get(instance_id)
            .ok_or_else(|| EngineError::ObjectNotFound(attempt_id.to_owned()))?;
        if !self.plan.components[self.insts[r].comp].is_resource() {
            return Err(EngineError::InvalidRequest(format!(
                "'{attempt_id}' is not an attempt of a resource"
            )));
        }
        let current = self.insts[r]
            .attempts
            .last()
            .is_some_and(|&a| self.atts[a].id == attempt_id);
        Ok(current.then_some(r))
    }

    /// The provisioner started something for the resource attempt: records what (`@resourceId`,
    /// e.g. `local-process:4242`) and where (`hostname`) on the attempt and the instance.
    pub fn resource_provisioned(
        &mut self,
        attempt_id: &str,
        resource_id: &str,
        hostname: &str,
        now: NaiveDateTime,
    ) -> Result<(), EngineError> {
        self.advance(now);
        let now = self.now;
        let Some(r) = self.reported_resource(attempt_id)? else {
            return Ok(());
        };
        if let Some(a) = self.live_resource_attempt(r) {
            let att = &mut self.atts[a];
            att.fields
                .insert(keys::RESOURCE_ID.to_owned(), vec![resource_id.to_owned()]);
            att.hostname = Some(hostname.to_owned());
            self.mark_att(a);
            let inst = &mut self.insts[r];
            inst.set_field(keys::RESOURCE_ID, resource_id);
            inst.set_field(keys::HOSTNAME, hostname);
            self.mark_inst(r);
            // Its runner may have taken work before this report arrived.
            for n in 0..self.insts[r].served.len() {
                let s = self.insts[r].served[n];
                if let Some(&a) = self.insts[s].attempts.last()
                    && self.atts[a].status == Status::Running
                    && *self.atts[a].worker_group == *self.insts[r].id
                    && !self.atts[a].fields.contains_key(keys::RESOURCE_ID)
                {
                    self.atts[a]
                        .fields
                        .insert(keys::RESOURCE_ID.to_owned(), vec![resource_id.to_owned()]);
                    self.mark_att(a);
                }
            }
        }
        self.settle(now);
        Ok(())
    }

    /// The resource attempt's runner is up and taking work: CREATING → RUNNING.
    pub fn resource_running(
        &mut self,
        attempt_id: &str,
        now: NaiveDateTime,
    ) -> Result<(), EngineError> {
        self.advance(now);
        let now = self.now;
        if let Some(r) = self.reported_resource(attempt_id)? {
            self.resource_up(r, now);
        }
        self.settle(now);
        Ok(())
    }

    /// Marks a CREATING resource RUNNING.
    pub(super) fn resource_up(&mut self, r: InstIdx, at: NaiveDateTime) {
        if self.insts[r].status != Status::Creating {
            return;
        }
        self.set_resource_attempt_status(r, Status::Running, at);
        self.transition(r, Status::Running, at);
    }

    /// The resource attempt's runner has stopped. Expected (SHUTTING_DOWN, or after TIMEDOUT or
    /// a cancel) it ends the attempt; while the resource was still needed it is a resource
    /// failure (`reason` says what happened).
    pub fn resource_stopped(
        &mut self,
        attempt_id: &str,
        reason: &str,
        now: NaiveDateTime,
    ) -> Result<(), EngineError> {
        self.advance(now);
        let now = self.now;
        let Some(r) = self.reported_resource(attempt_id)? else {
            return Ok(());
        };
        match self.insts[r].status {
            Status::ShuttingDown => {
                self.set_resource_attempt_status(r, Status::Finished, now);
                self.transition(r, Status::Finished, now);
                if self.insts[r].served_open > 0 {
                    // Something needed it again while it was stopping (a retry).
                    self.reopen_resource(r, now);
                    self.activate_resource(r, now);
                }
            }
            Status::Creating | Status::Running => self.resource_failed(r, reason, now),
            _ => {
                if let Some(&a) = self.insts[r].attempts.last()
                    && self.atts[a].ended_at.is_none()
                {
                    self.atts[a].ended_at = Some(now);
                    self.mark_att(a);
                }
            }
        }
        self.settle(now);
        Ok(())
    }

    /// The resource's runner died (or could not be started) while it was needed.
    fn resource_failed(&mut self, r: InstIdx, reason: &str, at: NaiveDateTime) {
        let comp = &self.plan.components[self.insts[r].comp];
        let (policy, retries) = (comp.resource, comp.policy.maximum_retries);
        let made = self.insts[r].attempts.len() as u32 - self.insts[r].rerun_from;
        let retry =
            policy.on_resource_failure == ResourceFailureAction::RetryAll && made <= retries;
        if let Some(&a) = self.insts[r].attempts.last() {
            let att = &mut self.atts[a];
            att.fields.insert(
                keys::ERROR_ID.to_owned(),
                vec!["Service_ResourceFailed".to_owned()],
            );
            att.fields
                .insert(keys::ERROR_MESSAGE.to_owned(), vec![reason.to_owned()]);
        }
        self.set_resource_attempt_status(r, Status::Failed, at);
        self.insts[r].terminate_at = None;
        self.insts[r].set_field(keys::FAILURE_REASON, reason);
        let message = format!("the resource {} failed: {reason}", self.insts[r].id);
        if retry {
            // Back to waiting first: instances that end now release it without stopping a
            // runner that is already gone, and a new start is a new attempt.
            self.transition(r, Status::WaitingOnDependencies, at);
            self.affect_served(
                r,
                Affected::Retry(Status::Failed),
                "Service_ResourceFailed",
                &message,
                at,
            );
            if self.insts[r].status == Status::WaitingOnDependencies
                && self.insts[r].served_open > 0
            {
                self.activate_resource(r, at);
            } else {
                self.maybe_release_resource(r, at);
            }
        } else {
            self.transition(r, Status::Failed, at);
            self.fire_actions(r, ActionTrigger::Fail, at);
            self.affect_served(r, Affected::Fail, "Service_ResourceFailed", &message, at);
        }
    }

    /// `terminateAfter` passed: the resource is TIMEDOUT and stopped.
    pub(super) fn resource_timed_out(&mut self, r: InstIdx, at: NaiveDateTime) {
        if !matches!(self.insts[r].status, Status::Creating | Status::Running) {
            return;
        }
        self.insts[r].terminate_at = None;
        let after = self.plan.components[self.insts[r].comp]
            .resource
            .terminate_after
            .map(|p| p.to_string())
            .unwrap_or_default();
        let message = format!(
            "the resource {} was stopped after terminateAfter ({after})",
            self.insts[r].id
        );
        self.insts[r].set_field(keys::FAILURE_REASON, message.clone());
        self.set_resource_attempt_status(r, Status::TimedOut, at);
        self.transition(r, Status::TimedOut, at);
        self.push_resource_event(r, ResourceAction::Release, at);
        self.affect_served(
            r,
            Affected::Retry(Status::Canceled),
            "Service_ResourceTimedOut",
            &message,
            at,
        );
    }

    /// A task on resource `r` failed: with `actionOnTaskFailure: terminate` the resource is
    /// shut down and the other work on it is retried elsewhere in time (a retry restarts it).
    pub(super) fn task_failed_on_resource(&mut self, r: InstIdx, at: NaiveDateTime) {
        let policy = self.plan.components[self.insts[r].comp].resource;
        if policy.on_task_failure != TaskFailureAction::Terminate
            || !matches!(self.insts[r].status, Status::Creating | Status::Running)
        {
            return;
        }
        let message = format!(
            "the resource {} was terminated because a task on it failed (actionOnTaskFailure)",
            self.insts[r].id
        );
        self.shut_down(r, at);
        self.affect_served(
            r,
            Affected::Retry(Status::Canceled),
            "Service_ResourceTerminated",
            &message,
            at,
        );
    }

    /// Stops a live resource whose instance is being canceled or marked finished (the caller
    /// sets the instance's status).
    pub(super) fn release_resource_work(&mut self, r: InstIdx, at: NaiveDateTime) {
        let Some(_) = self.live_resource_attempt(r) else {
            return;
        };
        let was_stopping = self.insts[r].status == Status::ShuttingDown;
        self.insts[r].terminate_at = None;
        self.set_resource_attempt_status(r, Status::Canceled, at);
        if !was_stopping {
            self.push_resource_event(r, ResourceAction::Release, at);
        }
        let message = format!("the resource {} was canceled", self.insts[r].id);
        self.affect_served(
            r,
            Affected::Retry(Status::Canceled),
            "Service_ResourceCanceled",
            &message,
            at,
        );
    }

    /// Ends the attempts that resource `r` was running or holding in its queue (of the
    /// instances it serves and of their checks that run on it).
    fn affect_served(
        &mut self,
        r: InstIdx,
        how: Affected,
        error_id: &str,
        message: &str,
        at: NaiveDateTime,
    ) {
        let group = self.insts[r].id.clone();
        for n in 0..self.insts[r].served.len() {
            let s = self.insts[r].served[n];
            let mut subjects = vec![s];
            subjects.extend(self.insts[s].checks.iter().copied());
            for i in subjects {
                self.affect_attempt(i, &group, how, error_id, message, at);
            }
        }
    }

    fn affect_attempt(
        &mut self,
        i: InstIdx,
        group: &str,
        how: Affected,
        error_id: &str,
        message: &str,
        at: NaiveDateTime,
    ) {
        if self.insts[i].status.is_terminal() {
            return;
        }
        let Some(&a) = self.insts[i].attempts.last() else {
            return;
        };
        if &*self.atts[a].worker_group != group {
            return;
        }
        match self.atts[a].status {
            Status::WaitingForRunner => self.dequeue(a),
            Status::Running => {
                self.running -= 1;
                self.request_cancel(a);
            }
            _ => return,
        }
        let att = &mut self.atts[a];
        att.fields
            .insert(keys::ERROR_ID.to_owned(), vec![error_id.to_owned()]);
        att.fields
            .insert(keys::ERROR_MESSAGE.to_owned(), vec![message.to_owned()]);
        att.result = Some(TaskResult::failed(error_id, message));
        match how {
            Affected::Retry(status) => {
                self.end_attempt(a, status, at);
                self.attempt_failed(i, at, false);
            }
            Affected::Fail => {
                self.end_attempt(a, Status::Failed, at);
                self.fail_without_retry(i, error_id, message, at);
            }
        }
    }

    /// Fails `i` at once (no retry): its resource cannot serve.
    pub(super) fn fail_without_retry(
        &mut self,
        i: InstIdx,
        error_id: &str,
        message: &str,
        at: NaiveDateTime,
    ) {
        if self.insts[i].status.is_terminal() {
            return;
        }
        self.release_work(i, at);
        let inst = &mut self.insts[i];
        inst.set_field(keys::ERROR_ID, error_id);
        inst.set_field(keys::ERROR_MESSAGE, message);
        self.transition(i, Status::Failed, at);
        self.fire_actions(i, ActionTrigger::Fail, at);
    }

    /// Restores a resource instance: one that was starting or up belonged to the previous
    /// process's provisioner, so its attempt ends (FAILED, not counted as a resource failure)
    /// and, when it is still needed, a new one is provisioned. One that was shutting down has
    /// stopped with that provisioner.
    pub(super) fn resume_resource(&mut self, r: InstIdx, now: NaiveDateTime) {
        match self.insts[r].status {
            Status::Creating | Status::Running => {
                if let Some(&a) = self.insts[r].attempts.last() {
                    self.atts[a].fields.insert(
                        keys::ERROR_MESSAGE.to_owned(),
                        vec!["the scheduler restarted; the resource is provisioned again".into()],
                    );
                }
                self.set_resource_attempt_status(r, Status::Failed, now);
                self.transition(r, Status::WaitingOnDependencies, now);
                if self.insts[r].served_open > 0 {
                    self.activate_resource(r, now);
                }
            }
            Status::ShuttingDown => {
                self.set_resource_attempt_status(r, Status::Finished, now);
                self.transition(r, Status::Finished, now);
            }
            _ => {}
        }
    }

    fn settle(&mut self, now: NaiveDateTime) {
        self.drain_wake(now);
        self.purge_stale_timers();
        self.maybe_finish_pipeline();
    }
}
