//! `ShellCommandActivity`: runs a command or script (dp-object-shellcommandactivity).
//!
//! The field table says `scriptArgument` only works with `command`, yet AWS samples (TeraSort,
//! kinesis) pass it to `scriptUri` scripts, so the combination is accepted.
//!
//! Execution follows [`exec::shell`](crate::exec::shell) for running the command. With
//! `stage: true`, input data node *k* (1-based, in `input` order) is downloaded into
//! `<attempt_dir>/staging/input<k>`, exported as `INPUT<k>_STAGING_DIR`: every object under a
//! `directoryPath` (keeping the paths below it), or the one object of a `filePath` (under its
//! own name). Output node *k* gets an empty `<attempt_dir>/staging/output<k>` exported as
//! `OUTPUT<k>_STAGING_DIR`, whose files are uploaded below the node's `directoryPath` after a
//! zero exit, and only then. Paths go through the runner's object stores, so they may be on an
//! S3 server, in the embedded store, or local.
//!
//! A staged input directory must exist before the command runs. On an S3 server that means at
//! least one object under it, since S3 has no empty directories; on local disk an empty
//! directory is an empty input.

use crate::exec::process::ProcessOutcome;
use crate::exec::{error_id, shell, storage};
use crate::execute::{AttemptContext, ExecFuture, Execute};
use sluice_data::storage::{Location, ObjectStores};
use sluice_model::{FieldValue, PipelineObject, TaskResult};
use std::ffi::OsString;
use std::path::PathBuf;

/// Executes `ShellCommandActivity` attempts.
pub struct ShellCommandActivity;

impl Execute for ShellCommandActivity {
    fn execute<'a>(&'a self, ctx: &'a AttemptContext) -> ExecFuture<'a> {
        Box::pin(execute(ctx))
    }
}

async fn execute(ctx: &AttemptContext) -> TaskResult {
    let staging = if ctx.flag("stage") {
        match stage_in(ctx).await {
            Ok(staging) => staging,
            Err(result) => return result,
        }
    } else {
        Staging::default()
    };
    let report = match shell::run_shell(ctx, staging.env).await {
        Ok(report) => report,
        Err(result) => return result,
    };
    if report.outcome != ProcessOutcome::Exited(0) {
        return shell::exit_failure(&report);
    }
    for output in &staging.outputs {
        if let Err(err) = output.target.put_dir(&output.staged).await {
            return TaskResult::failed(
                error_id::STAGING_FAILED,
                format!("cannot upload staged output of {}: {err}", output.node_id),
            );
        }
    }
    TaskResult::finished()
}

#[derive(Default)]
struct Staging {
    env: Vec<(OsString, OsString)>,
    outputs: Vec<StagedOutput>,
}

struct StagedOutput {
    node_id: String,
    staged: PathBuf,
    target: Location,
}

/// Fills the input staging directories and prepares the output ones. Everything that can be
/// checked before the command runs is checked here, so a misconfigured output fails the
/// attempt before it does any work.
async fn stage_in(ctx: &AttemptContext) -> Result<Staging, TaskResult> {
    let root = ctx.attempt_dir.join("staging");
    let stores = storage::stores(ctx)?;
    let mut staging = Staging::default();

    for (k, node) in nodes(ctx, "input")?.into_iter().enumerate() {
        let k = k + 1;
        let dir = fresh_dir(root.join(format!("input{k}"))).await?;
        match (node.string("directoryPath"), node.string("filePath")) {
            (Some(uri), _) => stage_dir(&stores, node, uri, &dir).await?,
            (None, Some(uri)) => stage_file(&stores, node, uri, &dir).await?,
            (None, None) => {
                return Err(TaskResult::failed(
                    error_id::UNSUPPORTED,
                    format!(
                        "cannot stage input {} ({}): only data nodes with a directoryPath or \
                         filePath can be staged",
                        node.id,
                        node.object_type().unwrap_or("untyped")
                    ),
                ));
            }
        }
        staging
            .env
            .push((format!("INPUT{k}_STAGING_DIR").into(), dir.into_os_string()));
    }

    for (k, node) in nodes(ctx, "output")?.into_iter().enumerate() {
        let k = k + 1;
        let Some(uri) = node.string("directoryPath") else {
            return Err(TaskResult::failed(
                error_id::INVALID_TASK,
                format!("output staging requires directoryPath on {}", node.id),
            ));
        };
        let target = resolve(&stores, node, uri)?;
        let dir = fresh_dir(root.join(format!("output{k}"))).await?;
        staging.env.push((
            format!("OUTPUT{k}_STAGING_DIR").into(),
            dir.clone().into_os_string(),
        ));
        staging.outputs.push(StagedOutput {
            node_id: node.id.clone(),
            staged: dir,
            target,
        });
    }
    Ok(staging)
}

/// Downloads every object under `uri` into `dir`.
async fn stage_dir(
    stores: &ObjectStores,
    node: &PipelineObject,
    uri: &str,
    dir: &std::path::Path,
) -> Result<(), TaskResult> {
    let location = resolve(stores, node, uri)?;
    let exists = stores
        .dir_exists(uri)
        .await
        .map_err(|err| storage::failed(&format!("staging input {}", node.id), &err))?;
    if !exists {
        let what = if stores.local_path(uri).ok().flatten().is_some() {
            "does not exist"
        } else {
            "does not exist (no objects under it)"
        };
        return Err(staging_failed(format!(
            "input {}: directory {uri} {what}",
            node.id
        )));
    }
    location
        .get_dir(dir)
        .await
        .map_err(|err| staging_failed(format!("staging input {}: {err}", node.id)))?;
    Ok(())
}

/// Downloads the object `uri` into `dir`, under its own name.
async fn stage_file(
    stores: &ObjectStores,
    node: &PipelineObject,
    uri: &str,
    dir: &std::path::Path,
) -> Result<(), TaskResult> {
    let location = resolve(stores, node, uri)?;
    let Some(name) = location.path.filename().map(str::to_string) else {
        return Err(staging_failed(format!(
            "input {}: filePath '{uri}' does not name a file",
            node.id
        )));
    };
    location
        .get_to_file(&dir.join(name))
        .await
        .map_err(|err| staging_failed(format!("staging input {}: {err}", node.id)))?;
    Ok(())
}

/// The data nodes a reference field points at, in field order; a dangling reference is an
/// error rather than a skip, because skipping would renumber the staging directories.
fn nodes<'a>(ctx: &'a AttemptContext, field: &str) -> Result<Vec<&'a PipelineObject>, TaskResult> {
    let Some(attempt) = ctx.attempt() else {
        return Ok(Vec::new());
    };
    attempt
        .values(field)
        .filter_map(FieldValue::as_ref_id)
        .map(|id| {
            ctx.task.objects.get(id).ok_or_else(|| {
                TaskResult::failed(
                    error_id::INVALID_TASK,
                    format!("{field} {id} is not among the task's objects"),
                )
            })
        })
        .collect()
}

fn resolve(
    stores: &ObjectStores,
    node: &PipelineObject,
    uri: &str,
) -> Result<Location, TaskResult> {
    stores
        .resolve(uri)
        .map_err(|err| storage::failed(&node.id, &err))
}

/// An empty directory: a redelivered attempt must not see the previous run's staged files.
async fn fresh_dir(dir: PathBuf) -> Result<PathBuf, TaskResult> {
    if tokio::fs::metadata(&dir).await.is_ok() {
        tokio::fs::remove_dir_all(&dir)
            .await
            .map_err(|err| staging_failed(format!("cannot clear {}: {err}", dir.display())))?;
    }
    tokio::fs::create_dir_all(&dir)
        .await
        .map_err(|err| staging_failed(format!("cannot create {}: {err}", dir.display())))?;
    Ok(dir)
}

fn staging_failed(message: String) -> TaskResult {
    TaskResult::failed(error_id::STAGING_FAILED, message)
}
