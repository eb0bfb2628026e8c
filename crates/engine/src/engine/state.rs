//! The engine's in-memory model: instances, attempts and per-component bookkeeping.
//!
//! Everything is held in vectors indexed by position; relations (dependencies, dependants,
//! checks, the serving resource) are positions too, so following an edge costs nothing and
//! no step needs to search. Records for the store are built from these on demand
//! (`persist.rs`); the few facts that cannot be re-derived from records after a restart live
//! in each instance's `fields` under the keys of [`keys`].

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;

use chrono::NaiveDateTime;
use sluice_model::{Status, TaskResult};

use crate::plan::ComponentIdx;
use crate::schedule::Timeline;

pub(crate) type InstIdx = usize;
pub(crate) type AttIdx = usize;

/// Keys of runtime fields the engine writes on instance, attempt and pipeline records.
/// They are part of the stored format: never rename one.
pub mod keys {
    /// Instances that failed because a dependency failed (cascade), root first.
    pub const CASCADE_FAILED_ON: &str = "@cascadeFailedOn";
    pub const ERROR_ID: &str = "errorId";
    pub const ERROR_MESSAGE: &str = "errorMessage";
    pub const ERROR_STACK_TRACE: &str = "errorStackTrace";
    pub const CANCELLATION_REASON: &str = "cancellationReason";
    /// The host of the runner that took the latest attempt.
    pub const HOSTNAME: &str = "hostname";
    pub const REPORT_PROGRESS_TIME: &str = "reportProgressTime";
    /// On a precondition check: the instance it checks.
    pub const NODE: &str = "node";
    /// Actions fired for the instance, each `<event>:<actionId>` (`onFail:Alarm`).
    pub const ACTIONS_FIRED: &str = "@actionsFired";
    /// On a PAUSED record: the status the instance really has underneath.
    pub const PAUSED_FROM: &str = "@pausedFrom";
    /// After RERUN: attempts numbered up to this belong to earlier runs.
    pub const RERUN_FROM: &str = "@rerunFrom";
    /// Pipeline field: JSON array of paused component ids.
    pub const PAUSED_COMPONENTS: &str = "@pausedComponents";
    pub const FIRST_ACTIVATION_TIME: &str = "@firstActivationTime";
    pub const LAST_ACTIVATION_TIME: &str = "@lastActivationTime";
    pub const LAST_DEACTIVATED_TIME: &str = "@lastDeactivatedTime";
    /// Pipeline field: the version of the active definition (set by the API server). Each
    /// instance and attempt records the value it had when it was created — the definition
    /// version it belongs to. Absent on records from before versions were recorded.
    pub const VERSION: &str = "@version";
    /// On a resource instance and its attempts: what the provisioner started (for a local
    /// process `local-process:<pid>`).
    pub const RESOURCE_ID: &str = "@resourceId";
    /// On an instance: attempts it may still make in its current run (`maximumRetries` + 1
    /// less those made since the latest rerun).
    pub const TRIES_LEFT: &str = "@triesLeft";
    /// On a waiting instance: what it waits on (dependencies, precondition checks, its
    /// resource), by instance id.
    pub const WAITING_ON: &str = "@waitingOn";
    /// On an attempt of an instance that runs on a resource: that resource instance.
    pub const RESOURCE: &str = "@resource";
    /// On a resource instance: why it failed or was stopped early.
    pub const FAILURE_REASON: &str = "@failureReason";
}

/// Which run of its component an instance is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Slot {
    /// Interval `k` of the component's schedule, or ondemand run `k`.
    Run(u64),
    /// A precondition check for the owner instance.
    Check { owner: InstIdx },
}

#[derive(Debug, Clone)]
pub(crate) struct Inst {
    pub id: String,
    pub comp: ComponentIdx,
    pub slot: Slot,
    pub status: Status,
    pub start: NaiveDateTime,
    pub end: NaiveDateTime,
    pub due: NaiveDateTime,
    pub due_reached: bool,
    pub actual_start: Option<NaiveDateTime>,
    pub actual_end: Option<NaiveDateTime>,
    /// Every attempt, in number order.
    pub attempts: Vec<AttIdx>,
    /// Attempts numbered up to this belong to runs before the latest RERUN.
    pub rerun_from: u32,
    /// The current run was started by RERUN (it does not count against maxActiveInstances).
    pub rerun: bool,
    pub deps: Vec<InstIdx>,
    pub dependants: Vec<InstIdx>,
    /// Dependencies not (yet) FINISHED or SKIPPED.
    pub unmet: u32,
    /// Whether a dependency may have failed since the last look: set when one enters a failed
    /// status (and on creation), cleared when a look finds none. Without it, every dependency
    /// that finishes would make each of its dependants scan all of their dependencies — cubic
    /// in the width of a layered pipeline.
    pub dep_failed: bool,
    /// Precondition checks of this instance.
    pub checks: Vec<InstIdx>,
    pub checks_started: bool,
    pub checks_unmet: u32,
    /// The resource instance this instance runs on.
    pub resource: Option<InstIdx>,
    /// For resource instances: the instances running on it, and how many are not terminal.
    pub served: Vec<InstIdx>,
    pub served_open: u32,
    /// For resource instances: no further instance can be linked to it.
    pub window_closed: bool,
    /// Holds a maxActiveInstances slot (or is a rerun, which needs none).
    pub admitted: bool,
    pub counted_active: bool,
    pub retry_at: Option<NaiveDateTime>,
    /// For precondition checks: when `preconditionTimeout` fails the check.
    pub deadline: Option<NaiveDateTime>,
    pub late_fired: bool,
    /// For resource instances: when `terminateAfter` stops the current resource attempt.
    pub terminate_at: Option<NaiveDateTime>,
    pub fields: BTreeMap<String, Vec<String>>,
    pub dirty: bool,
}

impl Inst {
    pub(crate) fn new(
        id: String,
        comp: ComponentIdx,
        slot: Slot,
        start: NaiveDateTime,
        end: NaiveDateTime,
        due: NaiveDateTime,
    ) -> Inst {
        Inst {
            id,
            comp,
            slot,
            status: Status::WaitingOnDependencies,
            start,
            end,
            due,
            due_reached: false,
            actual_start: None,
            actual_end: None,
            attempts: Vec::new(),
            rerun_from: 0,
            rerun: false,
            deps: Vec::new(),
            dependants: Vec::new(),
            unmet: 0,
            dep_failed: true,
            checks: Vec::new(),
            checks_started: false,
            checks_unmet: 0,
            resource: None,
            served: Vec::new(),
            served_open: 0,
            window_closed: false,
            admitted: false,
            counted_active: false,
            retry_at: None,
            deadline: None,
            late_fired: false,
            terminate_at: None,
            fields: BTreeMap::new(),
            dirty: true,
        }
    }

    pub(crate) fn owner(&self) -> Option<InstIdx> {
        match self.slot {
            Slot::Check { owner } => Some(owner),
            Slot::Run(_) => None,
        }
    }

    pub(crate) fn set_field(&mut self, key: &str, value: impl Into<String>) {
        self.fields.insert(key.to_owned(), vec![value.into()]);
    }

    pub(crate) fn field(&self, key: &str) -> Option<&str> {
        self.fields
            .get(key)
            .and_then(|v| v.first())
            .map(String::as_str)
    }
}

#[derive(Debug, Clone)]
pub(crate) struct Attempt {
    pub id: String,
    pub inst: InstIdx,
    pub number: u32,
    pub status: Status,
    pub worker_group: Arc<str>,
    pub task_id: Option<String>,
    pub hostname: Option<String>,
    pub taskrunner_id: Option<String>,
    pub created_at: NaiveDateTime,
    pub started_at: Option<NaiveDateTime>,
    pub ended_at: Option<NaiveDateTime>,
    pub lease_expires_at: Option<NaiveDateTime>,
    /// When the pending lease timer fires (one per attempt; re-armed when it fires early).
    pub lease_timer: Option<NaiveDateTime>,
    /// The runner has acknowledged the task with a first progress report.
    pub reported: bool,
    /// The runner is told `canceled: true`; the task id stays known until the lease lapses.
    pub cancel_requested: bool,
    pub result: Option<TaskResult>,
    pub fields: BTreeMap<String, Vec<String>>,
    /// Position in the ready queue while WAITING_FOR_RUNNER and queued.
    pub queue_seq: Option<u64>,
    pub dirty: bool,
}

/// Per-component runtime state.
#[derive(Debug, Clone, Default)]
pub(crate) struct CompState {
    pub timeline: Option<Timeline>,
    /// The next interval to materialise.
    pub cursor: u64,
    pub exhausted: bool,
    /// Instance per interval (or ondemand run) index.
    pub slots: HashMap<u64, InstIdx>,
    pub instances: Vec<InstIdx>,
    pub paused: bool,
    pub active: u32,
    /// Instances ready to start but held back by maxActiveInstances, earliest interval first.
    pub throttled: BTreeSet<(NaiveDateTime, InstIdx)>,
    /// Attempts taken off the ready queue while the component was paused.
    pub parked: Vec<AttIdx>,
    /// Data node instances that would have finished while paused.
    pub held: Vec<InstIdx>,
    /// The worker group of tasks not running on a resource.
    pub group: Arc<str>,
}

/// Something that happens at a time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Timer {
    /// An instance created ahead of its due time becomes due.
    Due(InstIdx),
    /// The retry delay of an instance elapsed.
    Retry(InstIdx),
    /// A lease may have lapsed.
    Lease(AttIdx),
    /// `attemptTimeout` of a running attempt.
    AttemptTimeout(AttIdx),
    /// `lateAfterTimeout` of an instance.
    Late(InstIdx),
    /// `preconditionTimeout` of a check.
    Deadline(InstIdx),
    /// No more instances can be linked to a resource instance.
    Window(InstIdx),
    /// `terminateAfter` of a resource instance's current attempt.
    TerminateAfter(InstIdx),
}
