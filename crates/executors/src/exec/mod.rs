//! Helpers the executors share: running child processes, reaching object stores, copying
//! files, and the shell running rules.
//!
//! The executors themselves live with their types (`impl Execute for ShellCommandActivity` in
//! `types/shell_command_activity.rs`, …); this module holds only what several of them use.

pub mod emr;
pub mod paths;
pub mod process;
pub mod shell;
pub mod storage;

/// The `errorId` values executors report. None starts with `Service_`, which AWS reserves.
pub mod error_id {
    /// The attempt's cancellation token fired (TRY_CANCEL, timeout, lease loss, shutdown).
    pub const CANCELED: &str = "Canceled";
    /// The command or script exited non-zero or was killed by a signal.
    pub const SHELL_COMMAND_FAILED: &str = "ShellCommandFailed";
    /// The process could not be started.
    pub const SPAWN_FAILED: &str = "SpawnFailed";
    /// The task's fields cannot be executed as given (missing command, bad path, …).
    pub const INVALID_TASK: &str = "InvalidTask";
    /// `scriptUri` does not point at a readable file.
    pub const SCRIPT_NOT_FOUND: &str = "ScriptNotFound";
    /// Captured output could not be written to its files.
    pub const OUTPUT_FAILED: &str = "OutputCaptureFailed";
    /// Copying data into or out of the staging directories failed.
    pub const STAGING_FAILED: &str = "StagingFailed";
    /// An object store refused or could not serve a request (access denied, missing bucket,
    /// unreachable endpoint, unusable S3 settings).
    pub const STORAGE_FAILED: &str = "StorageFailed";
    /// The executor does not support this combination yet, or this build of sluice leaves out
    /// the support it needs (a cargo feature).
    pub const UNSUPPORTED: &str = "Unsupported";
    /// An EMR-family attempt needs Apache Spark, which the runner cannot find.
    pub const SPARK_NOT_FOUND: &str = "SparkNotFound";
    /// A `PigActivity` runs where no Apache Pig installation is configured.
    pub const PIG_NOT_FOUND: &str = "PigNotFound";
    /// A step of an `EmrActivity` (or the job of a Hive, Hadoop or Pig activity) failed.
    pub const STEP_FAILED: &str = "StepFailed";
}
