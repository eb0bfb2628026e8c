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
pub mod hive;
pub mod spark;
pub mod step;
pub mod streaming;
pub mod uris;

use std::io::Write as _;

use sluice_model::TaskResult;

use super::process::{ProcessError, ProcessOutcome, ProcessSpec, run_process};
use super::{error_id, shell, storage};
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

/// Runs the process of a step (or of a Hive job) with the attempt's logs as its output, unless
/// `spec` names other files. A non-zero exit is a `StepFailed` result naming `what`, with the
/// last lines of its standard error.
pub(crate) async fn run_step_process(
    ctx: &AttemptContext,
    what: &str,
    mut spec: ProcessSpec,
) -> Result<(), TaskResult> {
    if ctx.cancel.is_cancelled() {
        return Err(shell::canceled());
    }
    spec.env.extend([
        (
            "SLUICE_ATTEMPT_ID".into(),
            ctx.task.attempt_id.clone().into(),
        ),
        (
            "SLUICE_PIPELINE_ID".into(),
            ctx.task.pipeline_id.clone().into(),
        ),
    ]);
    if spec.stdout.is_empty() {
        spec.stdout = vec![ctx.stdout_log.clone()];
        spec.stderr = vec![ctx.stderr_log.clone()];
    }
    let report = run_process(spec, &ctx.cancel).await.map_err(|err| {
        let id = match err {
            ProcessError::Output { .. } => error_id::OUTPUT_FAILED,
            ProcessError::Spawn { .. } => error_id::SPAWN_FAILED,
        };
        TaskResult::failed(id, format!("{what}: {err}"))
    })?;
    match report.outcome {
        ProcessOutcome::Exited(0) => Ok(()),
        ProcessOutcome::Canceled => Err(shell::canceled()),
        _ => Err(step_failed(
            what,
            TaskResult {
                error_id: Some(error_id::STEP_FAILED.into()),
                ..shell::exit_failure(&report)
            },
        )),
    }
}

/// A SQL script fetched into the attempt directory with its S3 URIs mapped.
pub(crate) async fn fetch_mapped_script(
    ctx: &AttemptContext,
    what: &str,
    uri: &str,
) -> Result<std::path::PathBuf, TaskResult> {
    let script = shell::fetch_script(ctx, what, uri).await?;
    let stores = storage::stores(ctx)?;
    let text = tokio::fs::read_to_string(&script).await.map_err(|err| {
        TaskResult::failed(
            error_id::SCRIPT_NOT_FOUND,
            format!("{what}: cannot read {uri}: {err}"),
        )
    })?;
    tokio::fs::write(
        &script,
        uris::map_text(&stores, &text, uris::Style::FileUri),
    )
    .await
    .map_err(|err| {
        TaskResult::failed(
            error_id::STAGING_FAILED,
            format!("{what}: cannot write {}: {err}", script.display()),
        )
    })?;
    Ok(script)
}
