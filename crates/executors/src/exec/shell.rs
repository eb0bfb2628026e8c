//! The running rules ShellCommandActivity and ShellCommandPrecondition share.
//!
//! - `command` runs as `sh -c <command> sh <scriptArgument...>`, so the arguments are `$1..$n`
//!   and `$0` is `sh`.
//! - `scriptUri` (`s3://`, `file://` or an absolute path, read through the runner's
//!   [`ObjectStores`](sluice_data::storage::ObjectStores)) is downloaded into
//!   `<attempt_dir>/scripts/` and run as `sh <copy> <scriptArgument...>`. It always runs under
//!   `sh`, whatever its `#!` line says: AWS documents scriptUri as a shell script.
//! - The working directory is the attempt directory; the environment is the runner's plus
//!   `SLUICE_ATTEMPT_ID`, `SLUICE_PIPELINE_ID` and whatever the caller adds.
//! - Standard output and error always go to the attempt's `stdout.log` / `stderr.log`. When the
//!   object sets `stdout` / `stderr`, the stream is *also* appended there: a file on this
//!   machine (a local path, `file://`, or `s3://` in the embedded store) is written as the
//!   output arrives, creating parent directories; an object on an S3 server is written once
//!   the command has ended, whatever its outcome, as the previous object's content followed by
//!   this run's output. The attempt's own logs stay complete either way, which is what an
//!   operator looks at first.

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::path::{Path, PathBuf};

use sluice_data::storage::{Location, StorageError};
use sluice_model::TaskResult;

use super::error_id;
use super::process::{
    ProcessError, ProcessOutcome, ProcessReport, ProcessSpec, run_process, signal_name,
};
use super::storage;
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
            let script = fetch_script(ctx, "scriptUri", uri).await?;
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
    let mut outputs = Outputs::default();
    spec.stdout = outputs.files(ctx, "stdout", &ctx.stdout_log).await?;
    spec.stderr = outputs.files(ctx, "stderr", &ctx.stderr_log).await?;
    spec.lazy_outputs = vec![ctx.stdout_log.clone(), ctx.stderr_log.clone()];

    let mut report = run_process(spec, &ctx.cancel)
        .await
        .map_err(|err| match err {
            ProcessError::Output { .. } => {
                TaskResult::failed(error_id::OUTPUT_FAILED, err.to_string())
            }
            ProcessError::Spawn { .. } => {
                TaskResult::failed(error_id::SPAWN_FAILED, err.to_string())
            }
        })?;
    if let Some(err) = outputs.upload().await {
        report.capture_error.get_or_insert(err);
    }
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
    if let Some(err) = &report.capture_error {
        message.push_str("; its output was not fully saved: ");
        message.push_str(err);
    }
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

/// Downloads the script into the attempt directory, so the attempt runs (and keeps, for
/// operators) the exact text it started with even if the source changes meanwhile. `what`
/// names the field or step the URI came from, for messages.
pub(crate) async fn fetch_script(
    ctx: &AttemptContext,
    what: &str,
    uri: &str,
) -> Result<PathBuf, TaskResult> {
    let stores = storage::stores(ctx)?;
    let location = stores
        .resolve(uri)
        .map_err(|err| storage::failed(what, &err))?;
    let Some(name) = location.path.filename().map(str::to_string) else {
        return Err(TaskResult::failed(
            error_id::INVALID_TASK,
            format!("{what} '{uri}' does not name a file"),
        ));
    };
    if let Some(path) = stores
        .local_path(uri)
        .map_err(|err| storage::failed(what, &err))?
        && tokio::fs::metadata(&path).await.is_ok_and(|m| m.is_dir())
    {
        return Err(TaskResult::failed(
            error_id::SCRIPT_NOT_FOUND,
            format!("{what} '{uri}' ({}) is not a file", path.display()),
        ));
    }
    let target = ctx.attempt_dir.join("scripts").join(name);
    location.get_to_file(&target).await.map_err(|err| {
        if err.is_not_found() {
            TaskResult::failed(error_id::SCRIPT_NOT_FOUND, format!("{what}: {err}"))
        } else {
            storage::failed(what, &err)
        }
    })?;
    Ok(target)
}

/// Where the `stdout` / `stderr` fields send output, beyond the attempt's own logs.
#[derive(Default)]
struct Outputs {
    /// Objects on S3 servers, by URI, each with the local file its output is collected in; a
    /// URI named by both fields gets both streams in one file, as a local file would.
    uploads: BTreeMap<String, (PathBuf, Location)>,
}

impl Outputs {
    /// The files the stream `field` is appended to: the attempt's `log`, plus the field's
    /// target (or the file collecting output for it).
    async fn files(
        &mut self,
        ctx: &AttemptContext,
        field: &str,
        log: &Path,
    ) -> Result<Vec<PathBuf>, TaskResult> {
        let mut files = vec![log.to_path_buf()];
        let Some(uri) = ctx.field(field) else {
            return Ok(files);
        };
        let stores = storage::stores(ctx)?;
        let local = stores
            .local_path(uri)
            .map_err(|err| storage::failed(field, &err))?;
        let path = match local {
            Some(path) => path,
            None => self.collector(ctx, field, uri, &stores).await?,
        };
        if path != log {
            files.push(path);
        }
        Ok(files)
    }

    /// The local file collecting output for the S3 object `uri`, starting with the object's
    /// current content so that the upload appends as a local file would.
    async fn collector(
        &mut self,
        ctx: &AttemptContext,
        field: &str,
        uri: &str,
        stores: &sluice_data::storage::ObjectStores,
    ) -> Result<PathBuf, TaskResult> {
        if let Some((path, _)) = self.uploads.get(uri) {
            return Ok(path.clone());
        }
        let location = stores
            .resolve(uri)
            .map_err(|err| storage::failed(field, &err))?;
        let path = ctx.attempt_dir.join("outputs").join(field);
        match location.get_to_file(&path).await {
            Ok(_) => {}
            Err(StorageError::NotFound { .. }) => {
                if let Some(parent) = path.parent() {
                    tokio::fs::create_dir_all(parent).await.map_err(|err| {
                        TaskResult::failed(
                            error_id::OUTPUT_FAILED,
                            format!("cannot create {}: {err}", parent.display()),
                        )
                    })?;
                }
                tokio::fs::write(&path, b"").await.map_err(|err| {
                    TaskResult::failed(
                        error_id::OUTPUT_FAILED,
                        format!("cannot create {}: {err}", path.display()),
                    )
                })?;
            }
            Err(err) => return Err(storage::failed(field, &err)),
        }
        self.uploads
            .insert(uri.to_string(), (path.clone(), location));
        Ok(path)
    }

    /// Writes every collected output to its object; the first failure, if any.
    async fn upload(&self) -> Option<String> {
        let mut error = None;
        for (path, location) in self.uploads.values() {
            if let Err(err) = location.put_file(path).await {
                error.get_or_insert(err.to_string());
            }
        }
        error
    }
}
