//! The scheduler of Sluice: it turns a validated pipeline into instances per schedule
//! interval, hands their attempts to task runners as tasks, and follows them through retries,
//! timeouts, preconditions, cascades, actions and operator commands — as AWS Data Pipeline
//! does.
//!
//! * [`schedule`]: intervals and due times of `Schedule` objects.
//! * [`plan`]: a resolved definition compiled into components with dependencies and policies.
//! * [`engine`]: [`Engine`], one pipeline's deterministic state machine (no I/O, time passed
//!   in).
//! * [`preview`]: the instances a window of the schedule would create, without running them.
//! * [`driver`]: [`Scheduler`], the async wrapper that persists every step through a
//!   [`Store`] before acting on it and lets task runners long-poll.
//! * [`store`] and [`clock`]: the persistence contract and time sources.
//! * `conformance` (only with the `conformance` feature, and in this crate's own tests): the
//!   checks every [`Store`] backend must pass, for the backends' tests.

pub mod clock;
pub mod cluster;
#[cfg(any(test, feature = "conformance"))]
pub mod conformance;
pub mod driver;
pub mod engine;
pub mod error;
pub mod ids;
pub mod memory_store;
pub mod plan;
pub mod preview;
pub mod schedule;
pub mod store;

pub use clock::{Clock, SystemClock, VirtualClock};
pub use cluster::{Cluster, Fence, FencedStore, Lease, Member};
pub use driver::{CancelObserver, CommitObserver, Scheduler};
pub use engine::{
    ActionEvent, ActionTrigger, Engine, EngineOptions, GroupFilter, IN_PROCESS_TASKRUNNER,
    INTERRUPTED_ERROR_ID, InProcessRunner, Interrupted, ResourceAction, ResourceEvent, Summary,
    UNRETRYABLE_ERROR_IDS,
};
pub use error::{EngineError, EngineResult};
pub use memory_store::MemoryStore;
pub use plan::{
    Component, ComponentIdx, FailureMode, Plan, PlanDefaults, PlanError, Policy,
    ResourceFailureAction, ResourcePolicy, SERVICE_WORKER_GROUP, TaskFailureAction,
};
pub use preview::{PlannedInstance, Preview, PreviewOptions, Until, preview};
pub use schedule::{End, Interval, ScheduleSpec, ScheduleType, Start, Timeline};
pub use store::{
    AttemptRecord, ChangeSet, InstanceKey, InstanceQuery, InstanceRecord, PipelineRecord, Store,
    StoreError, id_hash,
};
