//! Creating instances: one per schedule interval (or ondemand run) of each scheduled
//! component, wired to the instances they depend on and to the resource they run on.
//!
//! Instances are materialised when due (cron: interval start, timeseries: interval end,
//! resources: interval start). An instance needed earlier — a producer whose interval is not
//! due yet, or the resource of a consumer — is created on demand ("ensured") and waits for
//! its due time. Creation never runs anything directly: it queues the new instance for a
//! readiness check, so everything created at one time exists before anything proceeds.

use chrono::NaiveDateTime;
use sluice_model::Status;

use super::state::{Inst, InstIdx, Slot, Timer};
use super::{Engine, is_failure};
use crate::ids;
use crate::plan::ComponentIdx;
use crate::schedule::{Interval, ScheduleType};

impl Engine {
    /// Computes every scheduled component's timeline (needs the first activation time).
    pub(super) fn init_timelines(&mut self) {
        for (c, comp) in self.plan.components.iter().enumerate() {
            if let Some(spec) = comp.schedule {
                let state = &mut self.comps[c];
                if state.timeline.is_none() {
                    state.timeline = spec.timeline(self.first_activation);
                }
                let exhausted = state
                    .timeline
                    .as_ref()
                    .is_none_or(|t| t.interval(state.cursor).is_none());
                state.exhausted = exhausted;
            } else if comp.is_scheduled() && !self.plan.ondemand {
                self.comps[c].exhausted = true;
            }
        }
    }

    /// Queues every scheduled component's next interval for materialisation.
    pub(super) fn rebuild_due_heap(&mut self) {
        self.due_heap.clear();
        if self.plan.ondemand {
            return;
        }
        for c in 0..self.comps.len() {
            self.push_next_due(c);
        }
    }

    fn push_next_due(&mut self, c: ComponentIdx) {
        let comp = &self.plan.components[c];
        if !comp.is_scheduled() {
            return;
        }
        let state = &mut self.comps[c];
        let Some(interval) = state.timeline.and_then(|t| t.interval(state.cursor)) else {
            state.exhausted = true;
            return;
        };
        state.exhausted = false;
        let due = self.due_of(c, &interval);
        self.due_heap.push(std::cmp::Reverse((due, c)));
    }

    fn due_of(&self, c: ComponentIdx, interval: &Interval) -> NaiveDateTime {
        let comp = &self.plan.components[c];
        if comp.is_resource() {
            interval.start
        } else {
            comp.schedule_type.due(interval)
        }
    }

    /// Materialises the component's next interval (due at `at`) and queues the one after.
    pub(super) fn materialize_next(&mut self, c: ComponentIdx, at: NaiveDateTime) {
        let k = self.comps[c].cursor;
        self.ensure(c, k, at);
        self.comps[c].cursor = k + 1;
        self.push_next_due(c);
    }

    /// The slot of component `p` that serves an instance of another component starting at
    /// `start` (scheduled) or belonging to ondemand run `run`.
    pub(super) fn aligned_slot(
        &self,
        p: ComponentIdx,
        start: NaiveDateTime,
        run: u64,
    ) -> Option<u64> {
        if self.plan.ondemand {
            return Some(run);
        }
        self.comps[p]
            .timeline
            .and_then(|t| t.aligned(start))
            .map(|interval| interval.index)
    }

    /// The instance of component `c` for slot `k`, created (at time `at`) if needed.
    pub(super) fn ensure(&mut self, c: ComponentIdx, k: u64, at: NaiveDateTime) -> Option<InstIdx> {
        if let Some(&i) = self.comps[c].slots.get(&k) {
            return Some(i);
        }
        let (start, end, due) = if self.plan.ondemand {
            let t = *self.runs.get(usize::try_from(k).ok()?)?;
            (t, t, t)
        } else {
            let interval = self.comps[c].timeline?.interval(k)?;
            (interval.start, interval.end, self.due_of(c, &interval))
        };
        let id = ids::instance_id(&self.plan.components[c].id, start);
        let mut inst = Inst::new(id, c, Slot::Run(k), start, end, due);
        inst.fields = self.version_fields();
        let i = self.insert_instance(inst, at);
        self.comps[c].slots.insert(k, i);
        self.comps[c].instances.push(i);
        self.arm_instance_timers(i);
        self.wire(i, at);
        if self.plan.components[c].is_resource() {
            self.arm_window(i);
        }
        self.wake(i);
        Some(i)
    }

    /// Registers a new instance (counters, id index, dirty set).
    pub(super) fn insert_instance(&mut self, mut inst: Inst, at: NaiveDateTime) -> InstIdx {
        let i = self.insts.len();
        inst.dirty = false;
        if !inst.status.is_terminal() {
            self.nonterminal += 1;
        }
        if inst.due <= at {
            inst.due_reached = true;
            if !inst.status.is_terminal() {
                self.open_due += 1;
            }
        }
        self.by_id.insert(inst.id.clone(), i);
        self.insts.push(inst);
        self.mark_inst(i);
        i
    }

    /// Due and late timers of a scheduled instance.
    pub(super) fn arm_instance_timers(&mut self, i: InstIdx) {
        let inst = &self.insts[i];
        let (due, reached, start) = (inst.due, inst.due_reached, inst.start);
        let comp = &self.plan.components[inst.comp];
        let late = comp.policy.late_after_timeout;
        let ondemand = comp.schedule_type == ScheduleType::Ondemand;
        if !reached {
            self.push_timer(due, Timer::Due(i));
        }
        if let Some(late) = late
            && !ondemand
            && !self.insts[i].late_fired
            && !self.insts[i].status.is_terminal()
        {
            self.push_timer(super::plus(start, &late), Timer::Late(i));
        }
    }

    /// Links an instance to its producers and its resource, creating them if needed.
    pub(super) fn wire(&mut self, i: InstIdx, at: NaiveDateTime) {
        let c = self.insts[i].comp;
        let start = self.insts[i].start;
        let Slot::Run(run) = self.insts[i].slot else {
            return;
        };
        let producers = self.plan.components[c].producers.clone();
        for p in producers {
            let Some(k) = self.aligned_slot(p, start, run) else {
                continue;
            };
            if let Some(j) = self.ensure(p, k, at)
                && j != i
            {
                self.link(i, j);
            }
        }
        if let Some(r) = self.plan.components[c].runs_on
            && let Some(k) = self.aligned_slot(r, start, run)
            && let Some(ri) = self.ensure(r, k, at)
        {
            self.insts[i].resource = Some(ri);
            self.insts[ri].served.push(i);
            if !self.insts[i].status.is_terminal() {
                self.insts[ri].served_open += 1;
                if self.insts[ri].status.is_terminal() {
                    self.reopen_resource(ri, at);
                }
            }
        }
    }

    fn link(&mut self, consumer: InstIdx, producer: InstIdx) {
        if self.insts[consumer].deps.contains(&producer) {
            return;
        }
        self.insts[consumer].deps.push(producer);
        self.insts[producer].dependants.push(consumer);
        if !self.insts[producer].status.is_success() {
            self.insts[consumer].unmet += 1;
        }
        if is_failure(self.insts[producer].status) {
            self.insts[consumer].dep_failed = true;
        }
    }

    /// Arms the timer after which no more consumers can be linked to a resource instance:
    /// the due time of the last consumer interval that starts inside the resource's interval
    /// (its own start when there is none, so an unused resource finishes at once). The last
    /// interval of a resource schedule also serves every later consumer interval, so it
    /// closes with the consumers' schedules, or never.
    pub(super) fn arm_window(&mut self, ri: InstIdx) {
        if self.plan.ondemand {
            // Every instance of a run is created together, before anything proceeds.
            self.insts[ri].window_closed = true;
            self.wake(ri);
            return;
        }
        let c = self.insts[ri].comp;
        let (rs, re) = (self.insts[ri].start, self.insts[ri].end);
        let Slot::Run(k) = self.insts[ri].slot else {
            return;
        };
        let last_interval = self.comps[c]
            .timeline
            .is_some_and(|t| t.interval(k + 1).is_none());
        let mut close = Some(rs);
        for &s in &self.plan.components[c].served {
            let Some(timeline) = self.comps[s].timeline else {
                continue;
            };
            let candidate = if last_interval {
                match timeline.len() {
                    None => {
                        close = None;
                        break;
                    }
                    Some(0) => None,
                    Some(n) => timeline.interval(n - 1),
                }
            } else {
                let probe = re - chrono::Duration::seconds(1);
                timeline
                    .index_containing(probe)
                    .and_then(|k| match timeline.len() {
                        Some(n) if k >= n => n.checked_sub(1).and_then(|k| timeline.interval(k)),
                        _ => timeline.interval(k),
                    })
                    .filter(|interval| interval.start >= rs || last_interval)
            };
            if let Some(interval) = candidate {
                let due = self.due_of(s, &interval);
                close = close.map(|c| c.max(due));
            }
        }
        match close {
            Some(at) => self.push_timer(at, Timer::Window(ri)),
            None => self.insts[ri].window_closed = false,
        }
    }

    /// Starts ondemand run number `runs.len()` at `at`: one instance of every scheduled
    /// component. The run's time is made unique (one second after the previous run at most)
    /// so that instance ids never collide.
    pub(super) fn start_run(&mut self, at: NaiveDateTime) {
        let at = match self.runs.last() {
            Some(&last) if at <= last => last + chrono::Duration::seconds(1),
            _ => at,
        };
        self.runs.push(at);
        let run = (self.runs.len() - 1) as u64;
        for c in 0..self.plan.components.len() {
            if self.plan.components[c].is_scheduled() {
                self.ensure(c, run, at);
            }
        }
    }

    /// Activation with a start timestamp: every interval starting before `until` that has not
    /// started running becomes SKIPPED, and materialisation continues after them.
    pub(super) fn skip_until(&mut self, until: NaiveDateTime, at: NaiveDateTime) {
        for c in 0..self.plan.components.len() {
            if !self.plan.components[c].is_scheduled() {
                continue;
            }
            let existing = self.comps[c].instances.clone();
            for i in existing {
                if self.insts[i].start < until && self.not_started(i) {
                    self.skip(i, at);
                }
            }
            loop {
                let state = &self.comps[c];
                let Some(interval) = state.timeline.and_then(|t| t.interval(state.cursor)) else {
                    break;
                };
                if interval.start >= until {
                    break;
                }
                let k = state.cursor;
                if let Some(i) = self.ensure(c, k, at)
                    && self.not_started(i)
                {
                    self.skip(i, at);
                }
                self.comps[c].cursor = k + 1;
            }
        }
    }

    /// Moves each scheduled component's cursor to its first interval starting at or after
    /// `from` (for previews): the intervals passed over are created only when a later
    /// instance is wired to them.
    pub(super) fn begin_materialising_at(&mut self, from: NaiveDateTime) {
        for state in &mut self.comps {
            let Some(timeline) = state.timeline else {
                continue;
            };
            let Some(k) = timeline.index_containing(from) else {
                continue;
            };
            let first = if timeline.interval(k).is_some_and(|i| i.start < from) {
                k + 1
            } else {
                k
            };
            state.cursor = state.cursor.max(first);
        }
    }

    fn not_started(&self, i: InstIdx) -> bool {
        let inst = &self.insts[i];
        inst.status == Status::WaitingOnDependencies
            && inst.attempts.len() as u32 == inst.rerun_from
            && !inst.checks_started
    }

    fn skip(&mut self, i: InstIdx, at: NaiveDateTime) {
        self.release_work(i, at);
        self.transition(i, Status::Skipped, at);
    }
}
