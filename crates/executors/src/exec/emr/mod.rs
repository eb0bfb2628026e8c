//! What the EMR family (`EmrActivity`, `HiveActivity`, `HadoopActivity`, `PigActivity`) shares.
//!
//! An `EmrCluster` is a Spark environment ([`spark`]): `local[N]` from an installed PySpark by
//! default, a real cluster when settings name a master. Steps are parsed in [`step`]; the
//! `s3://` URIs in their arguments and scripts reach Spark as local paths when they live in the
//! embedded store ([`uris`]); the cluster's own fields and bootstrap actions are handled in
//! [`cluster`]. Hadoop streaming and the DynamoDB tools run natively, without Spark.
//!
//! See `docs/emr.md` for what maps to what.

pub mod cluster;
#[cfg(feature = "dynamodb")]
pub mod dynamodb_tools;
pub mod spark;
pub mod step;
pub mod streaming;
pub mod uris;

use std::io::Write as _;

use sluice_model::TaskResult;

use super::error_id;
use crate::execute::AttemptContext;

/// Appends a line to the attempt's standard output log: what the EMR executors decided and
/// did (the step being run, a setting not acted on), next to the output of the programs they
/// run.
pub fn note(ctx: &AttemptContext, line: &str) -> Result<(), TaskResult> {
    let write = || -> std::io::Result<()> {
        if let Some(dir) = ctx.stdout_log.parent() {
            std::fs::create_dir_all(dir)?;
        }
        let mut file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&ctx.stdout_log)?;
        writeln!(file, "{line}")
    };
    write().map_err(|err| {
        TaskResult::failed(
            error_id::OUTPUT_FAILED,
            format!("cannot write {}: {err}", ctx.stdout_log.display()),
        )
    })
}

/// A failed result whose message starts with the step (or script) it is about.
pub fn step_failed(what: &str, result: TaskResult) -> TaskResult {
    match result.error_message.as_deref() {
        Some(message) if !message.starts_with(what) => TaskResult {
            error_message: Some(format!("{what}: {message}")),
            ..result
        },
        _ => result,
    }
}
