//! The running rules ShellCommandActivity and ShellCommandPrecondition share.
//!
//! - `command` runs as `sh -c <command> sh <scriptArgument...>`, so the arguments are `$1..$n`
//!   and `$0` is `sh`.
//! - `scriptUri` (local path, `file://` or `s3://`, see [`local_path_for`]) is copied into
//!   `<attempt_dir>/scripts/` and run as `sh <copy> <scriptArgument...>`. It always runs under
//!   `sh`, whatever its `#!` line says: AWS documents scriptUri as a shell script.
//! - The working directory is the attempt directory; the environment is the runner's plus
//!   `SLUICE_ATTEMPT_ID`, `SLUICE_PIPELINE_ID` and whatever the caller adds.
//! - Standard output and error always go to the attempt's `stdout.log` / `stderr.log`. When the
//!   object sets `stdout` / `stderr` (same path forms as scriptUri), the stream is *also*
//!   appended there, creating parent directories; the attempt's own logs stay complete either
//!   way, which is what an operator looks at first.

use std::ffi::OsString;
use std::path::PathBuf;

use sluice_model::TaskResult;

use super::error_id;
use super::paths::local_path_for;
use super::process::{
    ProcessError, ProcessOutcome, ProcessReport, ProcessSpec, run_process, signal_name,
};
use crate::execute::AttemptContext;

/// Runs the attempt's `command` or `scriptUri` to completion.
///
/// `Ok` carries how the process ended (a zero exit whose output could not be fully captured is
/// already turned into an error); `Err` is the result to report when the process never ran
/// usefully: a definition problem, a missing script, a spawn failure, or cancellation.
pub async fn run_shell(
    ctx: &AttemptContext,
    extra_env: Vec<(OsString, OsString)>,
) -> Result<ProcessReport, TaskResult> {
    if ctx.cancel.is_cancelled() {
        return Err(canceled());
    }
    let args: Vec<OsString> = ctx
        .fields("scriptArgument")
        .into_iter()
        .map(OsString::from)
        .collect();
    let mut spec = ProcessSpec::new("/bin/sh", &ctx.attempt_dir);
    match (ctx.field("command"), ctx.field("scriptUri")) {
        (Some(command), None) => {
            spec.args = vec!["-c".into(), command.into(), "sh".into()];
        }
        (None, Some(uri)) => {
            let script = fetch_script(ctx, uri).await?;
            spec.args = vec![script.into_os_string()];
        }
        (Some(_), Some(_)) => {
            return Err(TaskResult::failed(
                error_id::INVALID_TASK,
                "set exactly one of command and scriptUri, not both",
            ));
        }
        (None, None) => {
            return Err(TaskResult::failed(
                error_id::INVALID_TASK,
                "nothing to run: set command or scriptUri",
            ));
        }
    }
    spec.args.extend(args);
    spec.env = vec![
        (
            "SLUICE_ATTEMPT_ID".into(),
            ctx.task.attempt_id.clone().into(),
        ),
        (
            "SLUICE_PIPELINE_ID".into(),
            ctx.task.pipeline_id.clone().into(),
        ),
    ];
    spec.env.extend(extra_env);
    spec.stdout = output_files(ctx, "stdout", &ctx.stdout_log)?;
    spec.stderr = output_files(ctx, "stderr", &ctx.stderr_log)?;

    let report = run_process(spec, &ctx.cancel)
        .await
        .map_err(|err| match err {
            ProcessError::Output { .. } => {
                TaskResult::failed(error_id::OUTPUT_FAILED, err.to_string())
            }
            ProcessError::Spawn { .. } => {
                TaskResult::failed(error_id::SPAWN_FAILED, err.to_string())
            }
        })?;
    match (&report.outcome, &report.capture_error) {
        (ProcessOutcome::Canceled, _) => Err(canceled()),
        (ProcessOutcome::Exited(0), Some(err)) => Err(TaskResult::failed(
            error_id::OUTPUT_FAILED,
            format!("command succeeded but its output was not fully saved: {err}"),
        )),
        _ => Ok(report),
    }
}

/// The result for a process that ran and did not exit 0.
pub fn exit_failure(report: &ProcessReport) -> TaskResult {
    let mut message = match report.outcome {
        ProcessOutcome::Exited(code) => format!("command exited with status {code}"),
        ProcessOutcome::Signaled(signal) => format!(
            "command was killed by signal {signal} ({})",
            signal_name(signal)
        ),
        ProcessOutcome::Canceled => return canceled(),
    };
    if !report.stderr_tail.is_empty() {
        message.push_str("; last lines of stderr:\n");
        message.push_str(&report.stderr_tail);
    }
    TaskResult::failed(error_id::SHELL_COMMAND_FAILED, message)
}

/// The result for an attempt stopped by its cancellation token.
pub fn canceled() -> TaskResult {
    TaskResult::failed(
        error_id::CANCELED,
        "the attempt was canceled before the command finished; its processes were stopped",
    )
}

/// Copies the script into the attempt directory, so the attempt runs (and keeps, for
/// operators) the exact text it started with even if the source changes meanwhile.
async fn fetch_script(ctx: &AttemptContext, uri: &str) -> Result<PathBuf, TaskResult> {
    let source = local_path_for(uri, &ctx.settings)
        .map_err(|err| TaskResult::failed(error_id::INVALID_TASK, format!("scriptUri: {err}")))?;
    let name = source.file_name().ok_or_else(|| {
        TaskResult::failed(
            error_id::INVALID_TASK,
            format!("scriptUri '{uri}' does not name a file"),
        )
    })?;
    let target = ctx.attempt_dir.join("scripts").join(name);
    match tokio::fs::metadata(&source).await {
        Ok(meta) if meta.is_file() => {}
        Ok(_) => {
            return Err(TaskResult::failed(
                error_id::SCRIPT_NOT_FOUND,
                format!("scriptUri '{uri}' ({}) is not a file", source.display()),
            ));
        }
        Err(err) => {
            return Err(TaskResult::failed(
                error_id::SCRIPT_NOT_FOUND,
                format!("scriptUri '{uri}' ({}): {err}", source.display()),
            ));
        }
    }
    super::files::copy_file(source, target.clone())
        .await
        .map_err(|err| {
            TaskResult::failed(
                error_id::SCRIPT_NOT_FOUND,
                format!("cannot copy scriptUri '{uri}' into the attempt directory: {err}"),
            )
        })?;
    Ok(target)
}

fn output_files(
    ctx: &AttemptContext,
    field: &str,
    log: &std::path::Path,
) -> Result<Vec<PathBuf>, TaskResult> {
    let mut files = vec![log.to_path_buf()];
    if let Some(uri) = ctx.field(field) {
        let path = local_path_for(uri, &ctx.settings)
            .map_err(|err| TaskResult::failed(error_id::INVALID_TASK, format!("{field}: {err}")))?;
        if path != log {
            files.push(path);
        }
    }
    Ok(files)
}
