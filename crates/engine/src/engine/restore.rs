//! Rebuilding an engine from stored records after a restart.
//!
//! Design decisions:
//! * Structure is re-derived, not stored: slots come from scheduled start times, edges from
//!   the plan's alignment rule, counters from statuses, cursors from the first interval with
//!   no record. The only extra facts are in record fields (`node`, `@rerunFrom`,
//!   `@pausedFrom`, `@actionsFired`) and pipeline fields (`@firstActivationTime`,
//!   `@pausedComponents`).
//! * An attempt that was RUNNING had been handed to a runner whose progress reports went to
//!   the dead process: it is a lost lease. It becomes FAILED ("lease lost …") and the retry
//!   policy applies, exactly as if the lease had lapsed. Task ids are not restored, so the
//!   old runner's reports get TaskNotFound.
//!   With [`EngineOptions::adopt_running`](super::EngineOptions::adopt_running) (a server
//!   taking a pipeline over from another), an attempt of a named worker group keeps its task
//!   id and lease instead: its runner reports through any server, so only a lease that lapses
//!   makes it a lost lease. Attempts of the in-process group or taken by an in-process runner
//!   (their runner was the previous owner's, and reports only to it) and of resource groups
//!   (re-provisioned below) are lost leases all the same.
//! * An attempt that the in-process runner of a process that is gone left RUNNING (its
//!   taskrunner id names another process than this one and than every live one, see
//!   [`InProcessRunner`](super::InProcessRunner)) was interrupted by the death or the stop of
//!   that process, not by a runner that stopped reporting: nothing runs it any more, and the
//!   process that ran it is back. It ends FAILED with error id `Service_Interrupted` and its
//!   instance is retried at once instead of after `retryDelay`; [`Engine::interrupted`] lists
//!   it. The retry counts against `maximumRetries` like any failed attempt, so a task that
//!   kills the process running it each time fails after its retries instead of looping.
//!   Another live server's in-process attempts (its runner may still be running them) and
//!   remote runners' attempts keep the lease rules above.
//! * WAITING_FOR_RUNNER attempts are queued again in creation order; a FAILED latest attempt
//!   of a non-terminal instance means a retry was pending: it is due `retryDelay` after the
//!   failure. FINISHED and FAILED attempts are never run again.
//! * Records of components the plan no longer has are ignored.

use chrono::NaiveDateTime;
use sluice_model::{PipelineState, Status};

use super::state::{Attempt, Inst, InstIdx, Slot, Timer, keys};
use super::{Engine, EngineOptions, plus};
use crate::plan::Plan;
use crate::store::{AttemptRecord, InstanceRecord, PipelineRecord};

impl Engine {
    /// An engine continuing from stored records at `now`.
    pub fn restore(
        plan: Plan,
        record: PipelineRecord,
        mut instances: Vec<InstanceRecord>,
        mut attempts: Vec<AttemptRecord>,
        now: NaiveDateTime,
        options: EngineOptions,
    ) -> Engine {
        let mut engine = Engine::new(record, plan, options);
        engine.now = engine.now.max(now);
        let now = engine.now;
        if engine.record.state != PipelineState::Pending {
            engine.init_timelines();
        }
        instances.sort_by(|a, b| {
            (a.scheduled_start, &a.instance_id).cmp(&(b.scheduled_start, &b.instance_id))
        });
        if engine.plan.ondemand {
            let mut runs: Vec<NaiveDateTime> = instances
                .iter()
                .filter(|r| {
                    engine
                        .plan
                        .get(&r.component_id)
                        .is_some_and(|c| engine.plan.components[c].is_scheduled())
                })
                .map(|r| r.scheduled_start)
                .collect();
            runs.dedup();
            engine.runs = runs;
        }
        let (checks, runs): (Vec<_>, Vec<_>) = instances.iter().partition(|r| {
            engine
                .plan
                .get(&r.component_id)
                .is_some_and(|c| engine.plan.components[c].is_precondition())
        });
        for rec in runs {
            engine.restore_run_instance(rec, now);
        }
        for rec in checks {
            engine.restore_check(rec, now);
        }

        attempts.sort_by(|a, b| (&a.instance_id, a.number).cmp(&(&b.instance_id, b.number)));
        for rec in attempts {
            let Some(&i) = engine.by_id.get(&rec.instance_id) else {
                continue;
            };
            let a = engine.atts.len();
            engine.atts.push(Attempt {
                id: rec.attempt_id,
                inst: i,
                number: rec.number,
                status: rec.status,
                worker_group: rec.worker_group.into(),
                task_id: rec.task_id,
                hostname: rec.hostname,
                taskrunner_id: rec.taskrunner_id,
                created_at: rec.created_at,
                started_at: rec.started_at,
                ended_at: rec.ended_at,
                lease_expires_at: rec.lease_expires_at,
                lease_timer: None,
                reported: false,
                cancel_requested: false,
                result: rec.result,
                fields: rec.fields,
                queue_seq: None,
                dirty: false,
            });
            engine.insts[i].attempts.push(a);
        }
        for i in std::mem::take(&mut engine.dirty_insts) {
            engine.insts[i].dirty = false;
        }

        for c in 0..engine.comps.len() {
            if engine.plan.ondemand || !engine.plan.components[c].is_scheduled() {
                continue;
            }
            let state = &mut engine.comps[c];
            while state.slots.contains_key(&state.cursor) {
                state.cursor += 1;
            }
            state.exhausted = state
                .timeline
                .is_none_or(|t| t.interval(state.cursor).is_none());
        }
        let restored = engine.insts.len();
        for i in 0..restored {
            engine.wire(i, now);
        }
        for i in 0..restored {
            let inst = &engine.insts[i];
            let (slot, comp, terminal) = (inst.slot, inst.comp, inst.status.is_terminal());
            if matches!(slot, Slot::Run(_)) {
                engine.arm_instance_timers(i);
                if engine.plan.components[comp].is_resource() {
                    if terminal {
                        engine.insts[i].window_closed = true;
                    } else {
                        engine.arm_window(i);
                    }
                }
            }
        }
        for i in 0..restored {
            engine.resume_instance(i, now);
        }
        if engine.record.state == PipelineState::Scheduled {
            engine.rebuild_due_heap();
        }
        for i in 0..engine.insts.len() {
            if !engine.insts[i].status.is_terminal() {
                engine.wake(i);
            }
        }
        engine.drain_wake(now);
        engine.purge_stale_timers();
        engine
    }

    fn restore_run_instance(&mut self, rec: &InstanceRecord, now: NaiveDateTime) {
        let Some(c) = self.plan.get(&rec.component_id) else {
            return;
        };
        if !self.plan.components[c].is_scheduled() || self.by_id.contains_key(&rec.instance_id) {
            return;
        }
        let (k, due) = if self.plan.ondemand {
            let Some(k) = self.runs.iter().position(|&t| t == rec.scheduled_start) else {
                return;
            };
            (k as u64, rec.scheduled_start)
        } else {
            let Some(timeline) = self.comps[c].timeline else {
                return;
            };
            let Some(interval) = timeline
                .index_containing(rec.scheduled_start)
                .and_then(|k| timeline.interval(k))
                .filter(|interval| interval.start == rec.scheduled_start)
            else {
                return;
            };
            let comp = &self.plan.components[c];
            let due = if comp.is_resource() {
                interval.start
            } else {
                comp.schedule_type.due(&interval)
            };
            (interval.index, due)
        };
        let inst = self.inst_from_record(rec, c, Slot::Run(k), due);
        let i = self.insert_instance(inst, now);
        self.comps[c].slots.insert(k, i);
        self.comps[c].instances.push(i);
    }

    fn restore_check(&mut self, rec: &InstanceRecord, now: NaiveDateTime) {
        let Some(c) = self.plan.get(&rec.component_id) else {
            return;
        };
        let owner = rec
            .fields
            .get(keys::NODE)
            .and_then(|v| v.first())
            .and_then(|id| self.by_id.get(id))
            .copied();
        let Some(owner) = owner else {
            return;
        };
        if self.by_id.contains_key(&rec.instance_id) {
            return;
        }
        let inst = self.inst_from_record(rec, c, Slot::Check { owner }, rec.scheduled_start);
        let k = self.insert_instance(inst, now);
        self.comps[c].instances.push(k);
        self.insts[owner].checks.push(k);
    }

    fn inst_from_record(
        &self,
        rec: &InstanceRecord,
        c: usize,
        slot: Slot,
        due: NaiveDateTime,
    ) -> Inst {
        let mut inst = Inst::new(
            rec.instance_id.clone(),
            c,
            slot,
            rec.scheduled_start,
            rec.scheduled_end,
            due,
        );
        let mut fields = rec.fields.clone();
        let paused_from = fields.remove(keys::PAUSED_FROM);
        inst.status = if rec.status == Status::Paused {
            paused_from
                .and_then(|v| v.first().and_then(|s| s.parse().ok()))
                .unwrap_or(Status::WaitingOnDependencies)
        } else {
            rec.status
        };
        inst.actual_start = rec.actual_start;
        inst.actual_end = rec.actual_end;
        if let Some(from) = fields
            .get(keys::RERUN_FROM)
            .and_then(|v| v.first())
            .and_then(|s| s.parse().ok())
        {
            inst.rerun_from = from;
            inst.rerun = true;
        }
        inst.late_fired = fields
            .get(keys::ACTIONS_FIRED)
            .is_some_and(|v| v.iter().any(|a| a.starts_with("onLateAction:")));
        inst.fields = fields;
        inst
    }

    /// Re-establishes what a non-terminal instance was doing: its queued attempt, its pending
    /// retry, its maxActiveInstances slot, its check deadline — and turns a RUNNING attempt
    /// into a lost lease.
    fn resume_instance(&mut self, i: InstIdx, now: NaiveDateTime) {
        if self.insts[i].status.is_terminal() {
            return;
        }
        let c = self.insts[i].comp;
        let from = self.insts[i].rerun_from as usize;
        let current: Vec<usize> = self.insts[i].attempts.iter().skip(from).copied().collect();
        let is_check = self.insts[i].owner().is_some();
        if is_check {
            self.insts[i].due_reached = true;
        } else {
            let checks_running = self.insts[i].checks.iter().any(|&k| {
                let check = &self.insts[k];
                check.attempts.len() as u32 > check.rerun_from
            });
            if checks_running {
                self.insts[i].checks_started = true;
                self.insts[i].checks_unmet = self.insts[i]
                    .checks
                    .iter()
                    .filter(|&&k| !self.insts[k].status.is_success())
                    .count() as u32;
            }
            if !current.is_empty() || checks_running {
                self.insts[i].admitted = true;
                if !self.insts[i].rerun {
                    self.insts[i].counted_active = true;
                    self.comps[c].active += 1;
                }
            }
        }
        if self.plan.components[c].is_resource() {
            self.resume_resource(i, now);
            return;
        }
        let Some(&last) = current.last() else {
            if matches!(
                self.insts[i].status,
                Status::WaitingForRunner | Status::Running
            ) {
                self.transition(i, Status::WaitingOnDependencies, now);
            }
            return;
        };
        if is_check && let Some(timeout) = self.plan.components[c].policy.precondition_timeout {
            let first = self.atts[current[0]].created_at;
            let deadline = plus(first, &timeout);
            self.insts[i].deadline = Some(deadline);
            self.push_timer(deadline, Timer::Deadline(i));
        }
        match self.atts[last].status {
            Status::WaitingForRunner => {
                self.transition(i, Status::WaitingForRunner, now);
                self.enqueue(last);
            }
            Status::Running if self.outlived_its_process(last) => {
                self.running += 1;
                self.transition(i, Status::Running, now);
                self.resume_interrupted(last, now);
            }
            Status::Running if self.adoptable(last) => {
                self.running += 1;
                self.transition(i, Status::Running, now);
                self.adopt_attempt(last);
            }
            Status::Running => {
                self.running += 1;
                self.transition(i, Status::Running, now);
                self.fail_running_attempt(
                    last,
                    now,
                    "Service_LeaseLost",
                    "lease lost: the task runner stopped reporting (the scheduler restarted)"
                        .to_owned(),
                    false,
                );
            }
            Status::Failed => {
                let delay = self.plan.components[c].policy.retry_delay;
                let failed_at = self.atts[last].ended_at.unwrap_or(now);
                let when = plus(failed_at, &delay);
                self.insts[i].retry_at = Some(when);
                self.push_timer(when, Timer::Retry(i));
                self.transition(i, Status::WaitingForRunner, now);
            }
            _ => {}
        }
    }
}

/// The error id of an attempt interrupted by the stop of the process that ran it.
pub const INTERRUPTED_ERROR_ID: &str = "Service_Interrupted";

impl Engine {
    /// Whether a RUNNING attempt restored from the store was taken by the in-process runner of
    /// a process that is gone (see the module notes).
    fn outlived_its_process(&self, a: super::state::AttIdx) -> bool {
        let (Some(runner), Some(taken_by)) = (
            self.options.in_process.as_deref(),
            self.atts[a].taskrunner_id.as_deref(),
        ) else {
            return false;
        };
        runner.outlived(taken_by)
    }

    /// Ends an interrupted attempt and retries its instance now, if it has retries left.
    fn resume_interrupted(&mut self, a: super::state::AttIdx, now: NaiveDateTime) {
        let i = self.atts[a].inst;
        self.fail_running_attempt(
            a,
            now,
            INTERRUPTED_ERROR_ID,
            "interrupted: the process that ran it stopped before the attempt ended".to_owned(),
            false,
        );
        let retried = self.insts[i].retry_at.is_some();
        if retried {
            self.insts[i].retry_at = Some(now);
            self.push_timer(now, Timer::Retry(i));
        }
        self.interrupted.push(super::Interrupted {
            instance_id: self.insts[i].id.clone(),
            attempt_id: self.atts[a].id.clone(),
            retried,
        });
    }

    /// Whether a RUNNING attempt restored from the store keeps running (see the module notes).
    fn adoptable(&self, a: super::state::AttIdx) -> bool {
        let att = &self.atts[a];
        self.options.adopt_running
            && !att.worker_group.is_empty()
            && !att.worker_group.starts_with('@')
            && !att
                .taskrunner_id
                .as_deref()
                .is_some_and(|id| id.starts_with(super::IN_PROCESS_TASKRUNNER))
            && att.task_id.is_some()
            && att.lease_expires_at.is_some()
    }

    /// Re-arms what handing the attempt out armed: its task route, its lease and its
    /// attemptTimeout (counted from when it started).
    fn adopt_attempt(&mut self, a: super::state::AttIdx) {
        let i = self.atts[a].inst;
        let (Some(task_id), Some(lease)) =
            (self.atts[a].task_id.clone(), self.atts[a].lease_expires_at)
        else {
            return;
        };
        self.atts[a].lease_timer = Some(lease);
        self.push_timer(lease, Timer::Lease(a));
        let comp = &self.plan.components[self.insts[i].comp];
        if let (Some(timeout), Some(started)) =
            (comp.policy.attempt_timeout, self.atts[a].started_at)
        {
            self.push_timer(plus(started, &timeout), Timer::AttemptTimeout(a));
        }
        self.tasks.insert(task_id, a);
    }
}
