//! Task runners: poll a [`TaskSource`] for work, execute each task with the executor its type
//! registers in `sluice-executors`, keep the lease alive with progress reports, and report the result.
//!
//! The runner is transport-agnostic: the in-process engine and a remote service over the
//! AWS-compatible API both sit behind [`TaskSource`], so a task executes the same way whichever
//! carried it. Each attempt gets its own directory ([`attempt_dir`]) holding `stdout.log`,
//! `stderr.log` and `runner.log`, the operator's record of what the runner did with it; an
//! attempt that FINISHED leaving nothing there (and whose logs are not copied) keeps none.
//! Once an attempt ends its logs may be copied to a log location ([`attempt_logs_uri`]), where
//! [`UploadedLogs`] reads them back.

mod error_chain;
mod layout;
mod log;
mod log_upload;
#[cfg(feature = "remote")]
pub mod remote;
mod runner;
mod source;
pub mod trust;
mod uploaded_logs;

pub use error_chain::error_chain;
pub use layout::{RUNNER_LOG, STDERR_LOG, STDOUT_LOG, attempt_dir, file_name_for};
pub use log_upload::{
    COMPONENT_PARENT, INSTANCE_PARENT, PIPELINE_LOG_URI, attempt_logs_uri, parent_id,
};
#[cfg(feature = "remote")]
pub use remote::{RemoteOptions, RemoteTaskSource};
pub use runner::{NO_EXECUTOR, Runner, RunnerError, RunnerOptions, RunnerStats, default_hostname};
pub use source::{SourceError, TaskSource};
pub use uploaded_logs::{LogPart, UploadedLogError, UploadedLogs};
