//! [`Engine`]: one pipeline's scheduler as a deterministic state machine.
//!
//! Design decisions:
//! * **Synchronous, no I/O, time as an argument.** Every method that can change state takes
//!   `now` and first applies everything due up to then ([`Engine::advance`]), so the result
//!   of a call depends only on the calls before it. Time never moves backwards: an earlier
//!   `now` than already seen counts as the latest one.
//! * **Event-driven readiness.** Each waiting instance counts its unmet dependencies and each
//!   instance lists its dependants; a status change touches exactly the dependants (through a
//!   FIFO work queue, so long chains never recurse). Timers live in one binary heap keyed by
//!   time and are checked for staleness when they fire rather than removed eagerly. Ready
//!   attempts sit in one queue ordered by readiness with a per-worker-group index. No step
//!   scans all instances; only operator commands on a whole component (PAUSE, activation with
//!   a start timestamp, deactivation with cancelActive) and introspection do.
//! * **Alignment across schedules.** A consumer instance depends on the producer instance
//!   whose interval contains the consumer's scheduled start — the same interval when both use
//!   one schedule. Before the producer's first interval the first one is used, after its last
//!   the last one. A producer instance that is needed before its own interval is due is
//!   created early and waits for its due time like any other.
//! * **Phases of a waiting instance.** Dependencies FINISHED (or SKIPPED) and due time reached
//!   → a maxActiveInstances slot is taken → precondition checks run → an activity gets an
//!   attempt (WAITING_FOR_RUNNER), a data node is FINISHED (it has no task of its own).
//! * **Statuses while retrying.** Between a failed attempt and the next one (retryDelay) the
//!   instance shows WAITING_FOR_RUNNER; the failed attempt shows FAILED.
//! * **Failure modes.** The consumer's `failureAndRerunMode` decides: with `cascade` a consumer
//!   still waiting when a dependency ends FAILED, CASCADE_FAILED, CANCELED or TIMEDOUT becomes
//!   CASCADE_FAILED (`@cascadeFailedOn` lists the chain, root first) and its pending checks are
//!   CANCELED; with `none` it simply keeps waiting until an operator reruns or marks the
//!   dependency finished. onFail fires for FAILED instances only, not for each cascaded one.
//! * **Resources** (`runsOn`) are started and stopped by a provisioner outside the engine:
//!   the engine emits [`ResourceEvent`]s and hears back what happened (`resources.rs` has the
//!   lifecycle, `terminateAfter`, `actionOnTaskFailure` and `actionOnResourceFailure`).
//! * **Worker groups.** A poll names the groups it serves ([`GroupFilter`]): one group, every
//!   group, or the service's own (no group, and the checks the service performs itself).
//! * **Write-ahead.** Mutations only mark records dirty; [`Engine::take_changes`] returns them.
//!   Drivers commit that change set before handing out any task or delivering any action
//!   produced by the same call (see `store.rs`).
//! * **The in-process runner is known by name.** A poll over [`GroupFilter::Any`] or
//!   [`GroupFilter::Local`] comes from the runner inside the process that holds the engine
//!   (`sluice run`'s, a server's); with [`EngineOptions::in_process`] set, the attempt it takes
//!   records `in-process:<process>` as its taskrunner id. That is how a later process tells
//!   work a stopped process left behind (resumed at once, see `restore.rs`) from a remote
//!   runner's, whose lease keeps AWS's rules.
//! * **Cancellations are told, not only answered.** Each running task the engine cancels
//!   (TRY_CANCEL, deactivation, Terminate, attemptTimeout, a failed resource) is listed for
//!   [`Engine::take_canceled_tasks`], so a driver can stop an in-process task as soon as the
//!   cancellation is committed instead of at the runner's next progress report.

mod attempts;
mod controls;
mod graph;
mod instances;
mod persist;
mod progress;
mod resources;
mod restore;
mod task_object;
mod timers;

mod state;

use std::cmp::Reverse;
use std::collections::{BTreeMap, BTreeSet, BinaryHeap, HashMap, VecDeque};
use std::sync::Arc;

use chrono::{Duration, NaiveDateTime};
use sluice_model::{PipelineState, Status};

use crate::ids::TaskIds;
use crate::plan::{ComponentIdx, Plan};
use crate::store::PipelineRecord;
use state::{AttIdx, Attempt, CompState, InstIdx, Timer};

pub use attempts::UNRETRYABLE_ERROR_IDS;
pub use restore::INTERRUPTED_ERROR_ID;
pub use state::keys;

/// Tunables of the task protocol.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EngineOptions {
    /// A runner must acknowledge a task with ReportTaskProgress within this (AWS: 2 minutes).
    pub first_report_timeout: Duration,
    /// Later reports must come at least this often unless the object sets
    /// `reportProgressTimeout` (AWS: 15 minutes).
    pub report_progress_timeout: Duration,
    /// What a restored engine does with an attempt that was RUNNING in a named worker group
    /// (a remote runner's): `false` fails it as a lost lease (one process, restarted: its
    /// runners' reports went nowhere meanwhile); `true` adopts it, keeping its task id and
    /// lease, so the runner's next report is accepted and the attempt fails only if its lease
    /// lapses (a scheduler taking a pipeline over from another server, which runners reach
    /// through any server).
    pub adopt_running: bool,
    /// The process holding the engine, when it runs tasks itself: its in-process runner's
    /// attempts are recorded as its own, and a restored attempt that another process's
    /// in-process runner left RUNNING is resumed at once (see `restore.rs`). `None`: attempts
    /// record no runner and every restored RUNNING attempt follows the lease rules.
    pub in_process: Option<Arc<InProcessRunner>>,
}

impl Default for EngineOptions {
    fn default() -> Self {
        EngineOptions {
            first_report_timeout: Duration::minutes(2),
            report_progress_timeout: Duration::minutes(15),
            adopt_running: false,
            in_process: None,
        }
    }
}

/// The runner inside the process holding an engine, and the other processes whose runners
/// are known to be alive.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InProcessRunner {
    /// Unique per process (a server's id in a shared deployment).
    pub process: String,
    /// Other processes whose in-process runners are alive (the live servers sharing a
    /// database): what their runners hold is theirs, not work a stopped process left behind.
    pub live: Vec<String>,
}

/// How the taskrunner id of an attempt taken by an in-process runner starts; the process
/// follows.
pub const IN_PROCESS_TASKRUNNER: &str = "in-process:";

impl InProcessRunner {
    /// A runner of `process` with no other live process.
    pub fn new(process: impl Into<String>) -> Self {
        InProcessRunner {
            process: process.into(),
            live: Vec::new(),
        }
    }

    /// The taskrunner id its attempts record.
    pub fn taskrunner_id(&self) -> String {
        format!("{IN_PROCESS_TASKRUNNER}{}", self.process)
    }

    /// Whether an attempt that records `taskrunner_id` was taken by the in-process runner of
    /// a process that is gone: neither this one nor a live one.
    pub fn outlived(&self, taskrunner_id: &str) -> bool {
        taskrunner_id
            .strip_prefix(IN_PROCESS_TASKRUNNER)
            .is_some_and(|p| p != self.process && !self.live.iter().any(|l| l == p))
    }
}

/// An attempt that the in-process runner of a stopped process left RUNNING, ended by a restore
/// (FAILED, `Service_Interrupted`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Interrupted {
    pub instance_id: String,
    pub attempt_id: String,
    /// Its instance gets another attempt at once; `false` when it had no retries left (the
    /// instance FAILED).
    pub retried: bool,
}

/// What triggered an action.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ActionTrigger {
    /// `onSuccess`.
    Success,
    /// `onFail`.
    Fail,
    /// `onLateAction`.
    Late,
}

impl ActionTrigger {
    /// The field that names the action (`onSuccess`, `onFail`, `onLateAction`).
    pub fn field(self) -> &'static str {
        match self {
            ActionTrigger::Success => "onSuccess",
            ActionTrigger::Fail => "onFail",
            ActionTrigger::Late => "onLateAction",
        }
    }
}

/// An action to deliver (an SnsAlarm to publish). `Terminate` actions are carried out by
/// the engine itself and are reported here for information only.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ActionEvent {
    pub action_id: String,
    pub action_type: String,
    /// The instance whose event fired the action (the action's `node`).
    pub node_instance_id: String,
    pub event: ActionTrigger,
    pub at: NaiveDateTime,
}

/// What a driver should do about a resource instance; a provisioner carries it out and
/// reports back through [`Engine::resource_provisioned`], [`Engine::resource_running`] and
/// [`Engine::resource_stopped`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ResourceAction {
    /// Work for the resource is ready: start a runner for its worker group (the instance is
    /// now CREATING, with a new resource attempt).
    Provision,
    /// Stop the resource attempt's runner (the instance is now SHUTTING_DOWN, TIMEDOUT or
    /// CANCELED).
    Release,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResourceEvent {
    pub resource_instance_id: String,
    /// The resource attempt the event is about; reports name it.
    pub attempt_id: String,
    pub component_id: String,
    /// The worker group whose tasks should run on the resource (its instance id).
    pub worker_group: String,
    pub action: ResourceAction,
    pub at: NaiveDateTime,
}

/// Which worker groups a poll takes tasks from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GroupFilter<'a> {
    /// Every group (the embedded runner of `sluice run`).
    Any,
    /// One group (a remote runner, or a provisioned resource's runner).
    Exactly(&'a str),
    /// What the service's own runner serves: tasks naming no worker group (`""`), checks the
    /// service performs ([`SERVICE_WORKER_GROUP`](crate::plan::SERVICE_WORKER_GROUP)), and the
    /// named groups in `extra` it was configured to take as well.
    Local { extra: &'a [String] },
}

impl<'a> From<Option<&'a str>> for GroupFilter<'a> {
    fn from(group: Option<&'a str>) -> Self {
        group.map_or(GroupFilter::Any, GroupFilter::Exactly)
    }
}

/// Instance counts by `@status` as shown (PAUSED included).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Summary {
    counts: BTreeMap<&'static str, usize>,
}

impl Summary {
    pub fn get(&self, status: Status) -> usize {
        self.counts.get(status.as_str()).copied().unwrap_or(0)
    }

    /// Non-zero counts, by status name.
    pub fn iter(&self) -> impl Iterator<Item = (&'static str, usize)> + '_ {
        self.counts.iter().map(|(k, v)| (*k, *v))
    }

    pub fn total(&self) -> usize {
        self.counts.values().sum()
    }
}

/// One pipeline's scheduler.
pub struct Engine {
    plan: Plan,
    options: EngineOptions,
    record: PipelineRecord,
    pipeline_dirty: bool,
    comps: Vec<CompState>,
    insts: Vec<state::Inst>,
    atts: Vec<Attempt>,
    by_id: HashMap<String, InstIdx>,
    /// Live and canceled-but-not-yet-lapsed tasks.
    tasks: HashMap<String, AttIdx>,
    ready: BTreeMap<u64, AttIdx>,
    by_group: HashMap<Arc<str>, BTreeSet<u64>>,
    next_seq: u64,
    timers: BinaryHeap<Reverse<(NaiveDateTime, u64, Timer)>>,
    timer_seq: u64,
    /// Next materialisation time of each scheduled component (only while SCHEDULED).
    due_heap: BinaryHeap<Reverse<(NaiveDateTime, ComponentIdx)>>,
    wake: VecDeque<InstIdx>,
    dirty_insts: Vec<InstIdx>,
    dirty_atts: Vec<AttIdx>,
    actions: Vec<ActionEvent>,
    resource_events: Vec<ResourceEvent>,
    now: NaiveDateTime,
    first_activation: Option<NaiveDateTime>,
    /// Start times of ondemand runs, in order.
    runs: Vec<NaiveDateTime>,
    nonterminal: usize,
    /// Non-terminal instances whose due time has been reached.
    open_due: usize,
    running: usize,
    task_ids: TaskIds,
    /// [`SERVICE_WORKER_GROUP`](crate::plan::SERVICE_WORKER_GROUP), shared by its attempts.
    service_group: Arc<str>,
    /// The taskrunner id recorded on attempts the in-process runner takes.
    in_process_id: Option<Arc<str>>,
    /// Tasks canceled since the last [`Engine::take_canceled_tasks`].
    canceled_tasks: Vec<String>,
    /// What the restore that built this engine found interrupted.
    interrupted: Vec<Interrupted>,
}

impl std::fmt::Debug for Engine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Engine")
            .field("pipeline_id", &self.record.pipeline_id)
            .field("state", &self.record.state)
            .field("instances", &self.insts.len())
            .field("attempts", &self.atts.len())
            .field("now", &self.now)
            .finish_non_exhaustive()
    }
}

impl Engine {
    /// A new engine for a pipeline that has never run. The record's state is kept (normally
    /// PENDING); instances appear on [`activate`](Self::activate).
    pub fn new(record: PipelineRecord, plan: Plan, options: EngineOptions) -> Engine {
        let now = record.created_at;
        let comps = plan
            .components
            .iter()
            .map(|c| CompState {
                group: Arc::from(c.worker_group.as_deref().unwrap_or("")),
                ..CompState::default()
            })
            .collect();
        let in_process_id = options
            .in_process
            .as_ref()
            .map(|runner| Arc::from(runner.taskrunner_id()));
        let task_ids = TaskIds::for_pipeline(&record.pipeline_id);
        let mut engine = Engine {
            plan,
            options,
            record,
            pipeline_dirty: false,
            comps,
            insts: Vec::new(),
            atts: Vec::new(),
            by_id: HashMap::new(),
            tasks: HashMap::new(),
            ready: BTreeMap::new(),
            by_group: HashMap::new(),
            next_seq: 0,
            timers: BinaryHeap::new(),
            timer_seq: 0,
            due_heap: BinaryHeap::new(),
            wake: VecDeque::new(),
            dirty_insts: Vec::new(),
            dirty_atts: Vec::new(),
            actions: Vec::new(),
            resource_events: Vec::new(),
            now,
            first_activation: None,
            runs: Vec::new(),
            nonterminal: 0,
            open_due: 0,
            running: 0,
            task_ids,
            service_group: Arc::from(crate::plan::SERVICE_WORKER_GROUP),
            in_process_id,
            canceled_tasks: Vec::new(),
            interrupted: Vec::new(),
        };
        engine.load_pipeline_fields();
        // A record that was never stored must be part of the first change set.
        engine.pipeline_dirty = engine.record.version == 0;
        engine
    }

    /// The pipeline's id.
    pub fn pipeline_id(&self) -> &str {
        &self.record.pipeline_id
    }

    pub fn plan(&self) -> &Plan {
        &self.plan
    }

    pub fn options(&self) -> &EngineOptions {
        &self.options
    }

    /// `@pipelineState`.
    pub fn pipeline_state(&self) -> PipelineState {
        self.record.state
    }

    /// The pipeline record as the engine holds it.
    pub fn pipeline_record(&self) -> &PipelineRecord {
        &self.record
    }

    /// The latest time the engine has seen.
    pub fn now(&self) -> NaiveDateTime {
        self.now
    }

    /// Applies everything due up to `now`, in time order: instances whose interval is due
    /// are materialised (all past intervals at once when backfilling), expired timers fire
    /// (retry delays, leases, attemptTimeout, lateAfterTimeout, preconditionTimeout), and
    /// instances that became ready move on. Idempotent for the same `now`.
    pub fn advance(&mut self, now: NaiveDateTime) {
        if now > self.now {
            self.now = now;
        }
        let now = self.now;
        loop {
            let next_due = self.due_heap.peek().map(|Reverse((t, _))| *t);
            let next_timer = self.timers.peek().map(|Reverse((t, _, _))| *t);
            match (next_due, next_timer) {
                (Some(d), t) if d <= now && t.is_none_or(|t| d <= t) => {
                    let Some(Reverse((at, comp))) = self.due_heap.pop() else {
                        break;
                    };
                    self.materialize_next(comp, at);
                    self.drain_wake(at);
                }
                (_, Some(t)) if t <= now => {
                    let Some(Reverse((at, _, timer))) = self.timers.pop() else {
                        break;
                    };
                    self.fire(timer, at);
                    self.drain_wake(at);
                }
                _ => break,
            }
        }
        self.drain_wake(now);
        self.purge_stale_timers();
        self.maybe_finish_pipeline();
    }

    /// The earliest future time at which something will happen without outside input (an
    /// interval becoming due, a timer), or `None` when nothing is scheduled. A driver sleeps
    /// until then; it may be early (a timer that turns out stale), never late.
    pub fn next_wakeup(&self) -> Option<NaiveDateTime> {
        let due = self.due_heap.peek().map(|Reverse((t, _))| *t);
        let timer = self.timers.peek().map(|Reverse((t, _, _))| *t);
        match (due, timer) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    /// Each worker group with tasks waiting for a runner, with when its longest-waiting task
    /// became ready.
    pub fn ready_groups(&self) -> Vec<(String, NaiveDateTime)> {
        self.by_group
            .iter()
            .filter_map(|(group, queue)| {
                // Queued in order, so the first is the longest waiting.
                let a = *self.ready.get(queue.first()?)?;
                Some((group.to_string(), self.atts[a].created_at))
            })
            .collect()
    }

    /// `@nextRunTime` of each scheduled component: when its next schedule interval becomes due
    /// (`None` for ondemand pipelines, paused or stopped schedules and schedules that ended).
    /// Timers (retries, leases) are not runs and never count.
    pub fn next_run_times(&self) -> HashMap<String, NaiveDateTime> {
        let mut next = HashMap::new();
        if self.record.state != PipelineState::Scheduled {
            return next;
        }
        for Reverse((at, c)) in self.due_heap.iter() {
            next.entry(self.plan.components[*c].id.clone())
                .and_modify(|t: &mut NaiveDateTime| *t = (*t).min(*at))
                .or_insert(*at);
        }
        next
    }

    /// Whether nothing more happens at `now` without time passing or an operator command:
    /// no task is queued or running, no retry or check is pending, every interval due by
    /// `now` exists, and every instance due by `now` is terminal — or is waiting on a failed
    /// dependency under `failureAndRerunMode: none` (directly or through other such
    /// instances), which only an operator can unblock. A resource counts as settled while
    /// none of its instances needs it. This is what `sluice run` waits for.
    pub fn is_settled(&self, now: NaiveDateTime) -> bool {
        let now = now.max(self.now);
        if self.running > 0 || !self.ready.is_empty() {
            return false;
        }
        if self.record.state == PipelineState::Scheduled
            && self
                .due_heap
                .peek()
                .is_some_and(|Reverse((t, _))| *t <= now)
        {
            return false;
        }
        // Stale timers are purged from the top after every call, so the top decides.
        if self
            .timers
            .peek()
            .is_some_and(|Reverse((t, _, timer))| *t <= now && self.timer_is_live(*timer, *t))
        {
            return false;
        }
        if self.open_due == 0 {
            return true;
        }
        self.open_instances_are_stuck()
    }

    /// Action events since the last call, oldest first.
    pub fn take_action_events(&mut self) -> Vec<ActionEvent> {
        std::mem::take(&mut self.actions)
    }

    /// Resource provisioning events since the last call, oldest first.
    pub fn take_resource_events(&mut self) -> Vec<ResourceEvent> {
        std::mem::take(&mut self.resource_events)
    }

    /// Task ids of the running tasks canceled since the last call (their runners must stop
    /// them), in order.
    pub fn take_canceled_tasks(&mut self) -> Vec<String> {
        std::mem::take(&mut self.canceled_tasks)
    }

    /// The attempts the in-process runner of a stopped process had left RUNNING, which the
    /// restore that built this engine ended (empty for an engine that was not restored).
    pub fn interrupted(&self) -> &[Interrupted] {
        &self.interrupted
    }

    /// Instance counts by displayed status. Scans every instance (introspection only).
    pub fn summary(&self) -> Summary {
        let mut summary = Summary::default();
        for i in 0..self.insts.len() {
            *summary
                .counts
                .entry(self.displayed_status(i).as_str())
                .or_default() += 1;
        }
        summary
    }

    /// The number of instances.
    pub fn instance_count(&self) -> usize {
        self.insts.len()
    }

    /// The number of attempts.
    pub fn attempt_count(&self) -> usize {
        self.atts.len()
    }

    fn push_timer(&mut self, at: NaiveDateTime, timer: Timer) {
        self.timer_seq += 1;
        self.timers.push(Reverse((at, self.timer_seq, timer)));
    }

    fn wake(&mut self, i: InstIdx) {
        self.wake.push_back(i);
    }

    fn drain_wake(&mut self, at: NaiveDateTime) {
        while let Some(i) = self.wake.pop_front() {
            self.check(i, at);
        }
    }

    fn mark_inst(&mut self, i: InstIdx) {
        let inst = &mut self.insts[i];
        if !inst.dirty {
            inst.dirty = true;
            self.dirty_insts.push(i);
        }
    }

    fn mark_att(&mut self, a: AttIdx) {
        let att = &mut self.atts[a];
        if !att.dirty {
            att.dirty = true;
            self.dirty_atts.push(a);
        }
    }

    fn mark_pipeline(&mut self) {
        self.pipeline_dirty = true;
    }

    /// Whether the component of `i` (or, for a check, of the checked instance) is paused.
    fn paused(&self, i: InstIdx) -> bool {
        let inst = &self.insts[i];
        if self.comps[inst.comp].paused {
            return true;
        }
        inst.owner()
            .is_some_and(|o| self.comps[self.insts[o].comp].paused)
    }

    fn displayed_status(&self, i: InstIdx) -> Status {
        let inst = &self.insts[i];
        if !inst.status.is_terminal() && inst.status != Status::Running && self.paused(i) {
            Status::Paused
        } else {
            inst.status
        }
    }
}

/// Adds a period to a time, saturating far in the future on overflow.
pub(crate) fn plus(at: NaiveDateTime, period: &sluice_model::Period) -> NaiveDateTime {
    period.add_to(at).unwrap_or(NaiveDateTime::MAX)
}

/// Adds a duration, saturating.
pub(crate) fn plus_duration(at: NaiveDateTime, duration: Duration) -> NaiveDateTime {
    at.checked_add_signed(duration)
        .unwrap_or(NaiveDateTime::MAX)
}

/// Whether a status is a terminal failure (it blocks dependants for good).
pub(crate) fn is_failure(status: Status) -> bool {
    status.is_terminal() && !status.is_success()
}
