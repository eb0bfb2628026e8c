//! Timers: what happens when each kind fires, and how a timer knows it is stale.
//!
//! Timers are never removed from the heap when the thing they watch changes; instead each
//! kind has a liveness rule checked when it fires (and when the heap's top is purged), which
//! keeps every state change O(1) with respect to the heap.

use chrono::NaiveDateTime;

use super::state::{Timer, keys};
use super::{ActionTrigger, Engine};
use sluice_model::Status;

impl Engine {
    pub(super) fn timer_is_live(&self, timer: Timer, at: NaiveDateTime) -> bool {
        match timer {
            Timer::Due(i) => !self.insts[i].due_reached,
            Timer::Retry(i) => self.insts[i].retry_at == Some(at),
            Timer::Lease(a) => {
                let att = &self.atts[a];
                att.lease_timer == Some(at)
                    && att
                        .task_id
                        .as_ref()
                        .is_some_and(|t| self.tasks.contains_key(t))
            }
            Timer::AttemptTimeout(a) => {
                self.atts[a].status == Status::Running && !self.atts[a].cancel_requested
            }
            Timer::Late(i) => !self.insts[i].late_fired && !self.insts[i].status.is_terminal(),
            Timer::Deadline(i) => self.insts[i].deadline == Some(at),
            Timer::Window(r) => !self.insts[r].window_closed,
            Timer::TerminateAfter(r) => self.insts[r].terminate_at == Some(at),
        }
    }

    /// Drops stale timers from the top of the heap so [`Engine::next_wakeup`] is exact in
    /// the common case.
    pub(super) fn purge_stale_timers(&mut self) {
        while let Some(std::cmp::Reverse((at, _, timer))) = self.timers.peek() {
            if self.timer_is_live(*timer, *at) {
                break;
            }
            self.timers.pop();
        }
    }

    pub(super) fn fire(&mut self, timer: Timer, at: NaiveDateTime) {
        if !self.timer_is_live(timer, at) {
            return;
        }
        match timer {
            Timer::Due(i) => {
                let inst = &mut self.insts[i];
                inst.due_reached = true;
                if !inst.status.is_terminal() {
                    self.open_due += 1;
                }
                self.wake(i);
            }
            Timer::Retry(i) => {
                self.insts[i].retry_at = None;
                if !self.insts[i].status.is_terminal() {
                    self.create_attempt(i, at);
                }
            }
            Timer::Lease(a) => {
                let att = &mut self.atts[a];
                att.lease_timer = None;
                let expires = att.lease_expires_at.unwrap_or(at);
                if expires > at && !att.cancel_requested {
                    att.lease_timer = Some(expires);
                    self.push_timer(expires, Timer::Lease(a));
                } else if att.cancel_requested {
                    if let Some(task) = att.task_id.clone() {
                        self.tasks.remove(&task);
                    }
                } else {
                    self.fail_running_attempt(
                        a,
                        at,
                        "Service_LeaseLost",
                        "lease lost: the task runner stopped reporting".to_owned(),
                        false,
                    );
                }
            }
            Timer::AttemptTimeout(a) => {
                let i = self.atts[a].inst;
                let timeout = self.plan.components[self.insts[i].comp]
                    .policy
                    .attempt_timeout
                    .map(|p| p.to_string())
                    .unwrap_or_default();
                self.fail_running_attempt(
                    a,
                    at,
                    "Service_AttemptTimeout",
                    format!("the attempt did not finish within attemptTimeout ({timeout})"),
                    true,
                );
            }
            Timer::Late(i) => {
                self.insts[i].late_fired = true;
                self.fire_actions(i, ActionTrigger::Late, at);
            }
            Timer::Deadline(i) => {
                self.insts[i].deadline = None;
                if self.insts[i].status.is_terminal() {
                    return;
                }
                let timeout = self.plan.components[self.insts[i].comp]
                    .policy
                    .precondition_timeout
                    .map(|p| p.to_string())
                    .unwrap_or_default();
                self.release_work(i, at);
                let inst = &mut self.insts[i];
                inst.set_field(keys::ERROR_ID, "Service_PreconditionTimeout");
                inst.set_field(
                    keys::ERROR_MESSAGE,
                    format!("the precondition did not hold within preconditionTimeout ({timeout})"),
                );
                self.transition(i, Status::Failed, at);
                self.fire_actions(i, ActionTrigger::Fail, at);
            }
            Timer::Window(r) => {
                self.insts[r].window_closed = true;
                self.maybe_release_resource(r, at);
            }
            Timer::TerminateAfter(r) => self.resource_timed_out(r, at),
        }
    }
}
