//! The Data Pipeline service without HTTP: what `sluice server` and `sluice run` share.
//!
//! * [`Service`] implements the 19 operations on typed requests ([`sluice_model::ops`]),
//!   scoped by the caller's account ([`accounts::Principal`]); one
//!   [`sluice_engine::Scheduler`] per activated pipeline, moved forward by the ticker
//!   ([`Service::run_ticker`]). The HTTP crate (`sluice-api`) only routes, authenticates and
//!   maps requests onto it; a console or another front end calls it the same way.
//! * [`cluster`] divides pipelines between servers sharing one database, by lease.
//! * [`background`] runs the ticker and the in-process runner beside a server's listener.
//! * [`actions`] delivers the actions the engine fires (SnsAlarm).
//! * [`provision`] starts and stops the task runners of managed resources.
//! * [`in_process`] is the one [`sluice_runner::TaskSource`] of the runner that runs inside the
//!   process, over the service (server) or over one scheduler (`sluice run`).
//! * [`event_log`] writes each pipeline's `events.log` of attempt status changes.
//! * [`metrics`] counts what the service does, for `GET /metrics`.
//! * [`accounts`] holds the accounts' access keys, long-term and minted.
//! * [`ApiError`] is the AWS error vocabulary every operation answers with.

pub mod accounts;
pub mod actions;
pub mod background;
pub mod cluster;
mod edits;
mod error;
pub mod event_log;
mod ids;
pub mod in_process;
pub mod metrics;
mod objects;
mod ops;
mod paging;
mod pollers;
pub mod provision;
mod service;
mod ticker;

pub use error::{ApiError, ApiResult};
pub use ids::new_request_id;
pub use in_process::{InProcessSource, TaskCancellations};
pub use objects::health::{Health, pipeline_health};
pub use ops::tags::MAX_TAGS;
pub use service::{RunnerInfo, Service, ServiceOptions};
