//! How instances move: status transitions and everything they trigger (dependants, checks,
//! resources, maxActiveInstances slots), the readiness check of a waiting instance, cascade,
//! precondition checks, actions and cancellation.
//!
//! [`Engine::transition`] is the only place an instance's status changes. It keeps the
//! counters (`nonterminal`, `open_due`), the dependants' unmet counts, the checked instance's
//! unmet checks and the resource's open count in step, and queues exactly the instances that
//! may now move for [`Engine::check`].

use chrono::NaiveDateTime;
use sluice_model::{PipelineState, Status};

use super::state::{AttIdx, InstIdx, Slot, keys};
use super::{ActionEvent, ActionTrigger, Engine, is_failure};
use crate::plan::FailureMode;

impl Engine {
    /// Changes an instance's status and propagates the consequences.
    pub(super) fn transition(&mut self, i: InstIdx, new: Status, at: NaiveDateTime) {
        let old = self.insts[i].status;
        if old == new {
            return;
        }
        self.insts[i].status = new;
        self.mark_inst(i);
        let (was_terminal, is_terminal) = (old.is_terminal(), new.is_terminal());
        if was_terminal != is_terminal {
            let due = self.insts[i].due_reached;
            let resource = self.insts[i].resource;
            if is_terminal {
                self.nonterminal -= 1;
                if due {
                    self.open_due -= 1;
                }
                if new != Status::Skipped && self.insts[i].actual_end.is_none() {
                    self.insts[i].actual_end = Some(at);
                }
                self.release_slot(i);
                let (c, start) = (self.insts[i].comp, self.insts[i].start);
                self.comps[c].throttled.remove(&(start, i));
                if let Some(r) = resource {
                    self.insts[r].served_open = self.insts[r].served_open.saturating_sub(1);
                    self.maybe_release_resource(r, at);
                }
            } else {
                self.nonterminal += 1;
                if due {
                    self.open_due += 1;
                }
                self.insts[i].actual_end = None;
                if let Some(r) = resource {
                    self.insts[r].served_open += 1;
                    if self.insts[r].status.is_terminal() {
                        self.reopen_resource(r, at);
                    }
                }
            }
        }
        let owner = self.insts[i].owner();
        if old.is_success() != new.is_success() {
            let success = new.is_success();
            for n in 0..self.insts[i].dependants.len() {
                let d = self.insts[i].dependants[n];
                let unmet = &mut self.insts[d].unmet;
                *unmet = if success {
                    unmet.saturating_sub(1)
                } else {
                    *unmet + 1
                };
                self.wake(d);
            }
            if let Some(o) = owner {
                let unmet = &mut self.insts[o].checks_unmet;
                *unmet = if success {
                    unmet.saturating_sub(1)
                } else {
                    *unmet + 1
                };
                self.wake(o);
            }
        } else if is_failure(new) && !is_failure(old) {
            for n in 0..self.insts[i].dependants.len() {
                let d = self.insts[i].dependants[n];
                self.insts[d].dep_failed = true;
                self.wake(d);
            }
            if let Some(o) = owner {
                self.wake(o);
            }
        }
    }

    /// Gives back a maxActiveInstances slot and lets the earliest held-back instance have it.
    fn release_slot(&mut self, i: InstIdx) {
        if !self.insts[i].counted_active {
            return;
        }
        self.insts[i].counted_active = false;
        let c = self.insts[i].comp;
        self.comps[c].active = self.comps[c].active.saturating_sub(1);
        if let Some(&(start, j)) = self.comps[c].throttled.first() {
            self.comps[c].throttled.remove(&(start, j));
            self.wake(j);
        }
    }

    /// Moves a waiting instance as far as it can go now.
    pub(super) fn check(&mut self, i: InstIdx, at: NaiveDateTime) {
        let inst = &self.insts[i];
        if inst.status != Status::WaitingOnDependencies || inst.owner().is_some() {
            return;
        }
        let c = inst.comp;
        let comp = &self.plan.components[c];
        if comp.is_resource() {
            self.maybe_release_resource(i, at);
            return;
        }
        if inst.dep_failed {
            if let Some(&failed) = inst
                .deps
                .iter()
                .find(|&&d| is_failure(self.insts[d].status))
            {
                if comp.failure_mode == FailureMode::Cascade {
                    self.cascade_fail(i, failed, at);
                }
                return;
            }
            self.insts[i].dep_failed = false;
        }
        let inst = &self.insts[i];
        if !inst.due_reached || inst.unmet > 0 {
            return;
        }
        if !inst.admitted {
            let (rerun, start) = (inst.rerun, inst.start);
            if !rerun
                && let Some(max) = comp.max_active_instances
                && self.comps[c].active >= max
            {
                self.comps[c].throttled.insert((start, i));
                return;
            }
            self.comps[c].throttled.remove(&(start, i));
            let inst = &mut self.insts[i];
            inst.admitted = true;
            if !rerun {
                inst.counted_active = true;
                self.comps[c].active += 1;
            }
        }
        if !self.plan.components[c].preconditions.is_empty() {
            if !self.insts[i].checks_started {
                self.start_checks(i, at);
            }
            let inst = &self.insts[i];
            if let Some(&bad) = inst
                .checks
                .iter()
                .find(|&&k| is_failure(self.insts[k].status))
            {
                self.precondition_failed(i, bad, at);
                return;
            }
            if self.insts[i].checks_unmet > 0 {
                return;
            }
        }
        let comp = &self.plan.components[c];
        if comp.is_data_node() {
            if self.paused(i) {
                self.comps[c].held.push(i);
                return;
            }
            self.insts[i].actual_start.get_or_insert(at);
            self.transition(i, Status::Finished, at);
            self.fire_actions(i, ActionTrigger::Success, at);
        } else if comp.is_activity() {
            self.create_attempt(i, at);
        }
    }

    /// Creates (or, after a rerun or restart, reuses) the precondition checks of `i` and
    /// gives each pending one an attempt.
    fn start_checks(&mut self, i: InstIdx, at: NaiveDateTime) {
        self.insts[i].checks_started = true;
        let c = self.insts[i].comp;
        let start = self.insts[i].start;
        let end = self.insts[i].end;
        for n in 0..self.plan.components[c].preconditions.len() {
            let p = self.plan.components[c].preconditions[n];
            let id = self.plan.check_instance_id(c, p, start);
            let k = match self.by_id.get(&id) {
                Some(&k) => k,
                None => {
                    let mut inst =
                        super::state::Inst::new(id, p, Slot::Check { owner: i }, start, end, at);
                    inst.fields = self.version_fields();
                    inst.set_field(keys::NODE, self.insts[i].id.clone());
                    let k = self.insert_instance(inst, at);
                    self.comps[p].instances.push(k);
                    k
                }
            };
            if !self.insts[i].checks.contains(&k) {
                self.insts[i].checks.push(k);
            }
            let check = &self.insts[k];
            let pending = check.status == Status::WaitingOnDependencies && check.retry_at.is_none();
            if pending {
                if let Some(timeout) = self.plan.components[p].policy.precondition_timeout {
                    let deadline = super::plus(at, &timeout);
                    self.insts[k].deadline = Some(deadline);
                    self.push_timer(deadline, super::state::Timer::Deadline(k));
                }
                self.create_attempt(k, at);
            }
        }
        let unmet = self.insts[i]
            .checks
            .iter()
            .filter(|&&k| !self.insts[k].status.is_success())
            .count();
        self.insts[i].checks_unmet = unmet as u32;
    }

    /// A check of `i` ended without the precondition holding.
    fn precondition_failed(&mut self, i: InstIdx, check: InstIdx, at: NaiveDateTime) {
        if self.insts[check].status == Status::Canceled {
            self.cancel_instance(i, at, "a precondition check was canceled");
            return;
        }
        let precondition = self.plan.components[self.insts[check].comp].id.clone();
        let detail = self.insts[check]
            .field(keys::ERROR_MESSAGE)
            .map(|m| format!(": {m}"))
            .unwrap_or_default();
        self.release_work(i, at);
        let inst = &mut self.insts[i];
        inst.set_field(keys::ERROR_ID, "Service_PreconditionFailed");
        inst.set_field(
            keys::ERROR_MESSAGE,
            format!("precondition {precondition} did not hold{detail}"),
        );
        self.transition(i, Status::Failed, at);
        self.fire_actions(i, ActionTrigger::Fail, at);
    }

    fn cascade_fail(&mut self, i: InstIdx, failed: InstIdx, at: NaiveDateTime) {
        let mut chain = self.insts[failed]
            .fields
            .get(keys::CASCADE_FAILED_ON)
            .cloned()
            .unwrap_or_default();
        chain.push(self.insts[failed].id.clone());
        self.release_work(i, at);
        self.insts[i]
            .fields
            .insert(keys::CASCADE_FAILED_ON.to_owned(), chain);
        self.transition(i, Status::CascadeFailed, at);
    }

    /// Stops everything in progress for `i` without changing its own status: queued attempts
    /// are withdrawn, running ones told to cancel, retries and deadlines dropped, and its
    /// pending precondition checks CANCELED.
    pub(super) fn release_work(&mut self, i: InstIdx, at: NaiveDateTime) {
        if self.plan.components[self.insts[i].comp].is_resource() {
            self.release_resource_work(i, at);
            return;
        }
        let inst = &mut self.insts[i];
        inst.retry_at = None;
        inst.deadline = None;
        let from = inst.rerun_from as usize;
        for n in from..self.insts[i].attempts.len() {
            let a = self.insts[i].attempts[n];
            match self.atts[a].status {
                Status::WaitingForRunner => {
                    self.dequeue(a);
                    self.end_attempt(a, Status::Canceled, at);
                }
                Status::Running => {
                    self.running -= 1;
                    self.request_cancel(a);
                    self.end_attempt(a, Status::Canceled, at);
                }
                _ => {}
            }
        }
        let (c, start) = (self.insts[i].comp, self.insts[i].start);
        self.comps[c].throttled.remove(&(start, i));
        for n in 0..self.insts[i].checks.len() {
            let k = self.insts[i].checks[n];
            if !self.insts[k].status.is_terminal() {
                self.release_work(k, at);
                self.transition(k, Status::Canceled, at);
            }
        }
    }

    /// Cancels a non-terminal instance (TRY_CANCEL, deactivation, Terminate).
    pub(super) fn cancel_instance(&mut self, i: InstIdx, at: NaiveDateTime, reason: &str) {
        if self.insts[i].status.is_terminal() {
            return;
        }
        let inst = &self.insts[i];
        let open: Vec<AttIdx> = inst.attempts[inst.rerun_from as usize..]
            .iter()
            .copied()
            .filter(|&a| !self.atts[a].status.is_terminal())
            .collect();
        self.release_work(i, at);
        for a in open {
            self.atts[a].fields.insert(
                keys::CANCELLATION_REASON.to_owned(),
                vec![reason.to_owned()],
            );
            self.mark_att(a);
        }
        self.insts[i].set_field(keys::CANCELLATION_REASON, reason);
        self.transition(i, Status::Canceled, at);
    }

    /// Fires the component's actions for `trigger` and carries out a `Terminate`.
    pub(super) fn fire_actions(&mut self, i: InstIdx, trigger: ActionTrigger, at: NaiveDateTime) {
        let c = self.insts[i].comp;
        let comp = &self.plan.components[c];
        let list = match trigger {
            ActionTrigger::Success => &comp.on_success,
            ActionTrigger::Fail => &comp.on_fail,
            ActionTrigger::Late => &comp.on_late,
        };
        if list.is_empty() {
            return;
        }
        let mut terminate = false;
        let mut fired = Vec::with_capacity(list.len());
        for &a in list {
            let action = &self.plan.components[a];
            terminate |= trigger == ActionTrigger::Late && action.is_terminate();
            fired.push(format!("{}:{}", trigger.field(), action.id));
            self.actions.push(ActionEvent {
                action_id: action.id.clone(),
                action_type: action.type_name.clone(),
                node_instance_id: self.insts[i].id.clone(),
                event: trigger,
                at,
            });
        }
        self.insts[i]
            .fields
            .entry(keys::ACTIONS_FIRED.to_owned())
            .or_default()
            .extend(fired);
        self.mark_inst(i);
        if terminate {
            self.cancel_instance(i, at, "Terminate action: lateAfterTimeout exceeded");
        }
    }

    /// A scheduled pipeline is FINISHED when every schedule is exhausted and every instance
    /// terminal. Ondemand pipelines stay SCHEDULED, waiting for the next activation.
    pub(super) fn maybe_finish_pipeline(&mut self) {
        if self.record.state == PipelineState::Deactivating && self.running == 0 {
            self.record.state = PipelineState::Inactive;
            self.mark_pipeline();
            return;
        }
        if self.nonterminal > 0
            || self.record.state != PipelineState::Scheduled
            || self.plan.ondemand
        {
            return;
        }
        let exhausted = self
            .plan
            .components
            .iter()
            .zip(&self.comps)
            .all(|(comp, state)| !comp.is_scheduled() || state.exhausted);
        if exhausted {
            self.record.state = PipelineState::Finished;
            self.mark_pipeline();
        }
    }

    /// Whether every open due instance waits for something that only an operator can
    /// unblock (see [`Engine::is_settled`]).
    pub(super) fn open_instances_are_stuck(&self) -> bool {
        let mut memo = vec![0u8; self.insts.len()];
        (0..self.insts.len()).all(|i| {
            let inst = &self.insts[i];
            inst.status.is_terminal() || !inst.due_reached || self.stuck(i, &mut memo)
        })
    }

    fn stuck(&self, i: InstIdx, memo: &mut [u8]) -> bool {
        const VISITING: u8 = 1;
        const STUCK: u8 = 2;
        const FREE: u8 = 3;
        match memo[i] {
            VISITING | STUCK => return true,
            FREE => return false,
            _ => {}
        }
        memo[i] = VISITING;
        let inst = &self.insts[i];
        let result = if inst.status.is_terminal() {
            true
        } else if self.plan.components[inst.comp].is_resource() {
            // A resource that is stopping waits for its provisioner, not for an operator.
            inst.status != Status::ShuttingDown && inst.served.iter().all(|&s| self.stuck(s, memo))
        } else if inst.status != Status::WaitingOnDependencies
            || inst.retry_at.is_some()
            || inst.owner().is_some()
            || self.paused(i)
        {
            false
        } else {
            inst.deps.iter().any(|&d| {
                let status = self.insts[d].status;
                is_failure(status) || (!status.is_terminal() && self.stuck(d, memo))
            })
        };
        memo[i] = if result { STUCK } else { FREE };
        result
    }
}
