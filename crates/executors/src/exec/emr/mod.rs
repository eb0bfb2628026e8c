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
pub mod task_config;
pub mod uris;

use std::io::Write as _;
use std::path::Path;

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

/// The attempt's result from an executor body that fails with `Err`.
pub fn outcome(result: Result<(), TaskResult>) -> TaskResult {
    result.err().unwrap_or_else(TaskResult::finished)
}

/// A process running the fetched `script` with `args` (embedded `s3://` URIs mapped to local
/// paths): by its `#!` line when it has one, else by `/bin/sh`, as EMR's script runner does.
pub async fn script_process(
    ctx: &AttemptContext,
    script: std::path::PathBuf,
    args: impl IntoIterator<Item = &str>,
) -> Result<ProcessSpec, TaskResult> {
    let stores = storage::stores(ctx)?;
    let mut spec = ProcessSpec::new("/bin/sh", &ctx.attempt_dir);
    if has_shebang(&script).await {
        make_executable(&script).await?;
        spec.program = script.into_os_string();
    } else {
        spec.args.push(script.into_os_string());
    }
    spec.args.extend(
        args.into_iter()
            .map(|a| uris::map_text(&stores, a, uris::Style::Path).into()),
    );
    Ok(spec)
}

/// Runs a step's process with the attempt's logs as its output.
pub async fn run(
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
        _ => {
            let mut failed = shell::exit_failure(&report);
            if let (Some(class), Some(message)) = (
                missing_class(&report.stderr_tail),
                failed.error_message.as_mut(),
            ) {
                message.insert_str(
                    0,
                    &format!(
                        "the JVM could not find class {class}, which is not on the Spark \
                         installation's classpath (add its jar with --jars or \
                         spark.jars); "
                    ),
                );
            }
            Err(step_failed(
                what,
                TaskResult {
                    error_id: Some(error_id::STEP_FAILED.into()),
                    ..failed
                },
            ))
        }
    }
}

/// The class a JVM could not load, from the last lines of its standard error.
pub fn missing_class(stderr: &str) -> Option<String> {
    ["ClassNotFoundException: ", "NoClassDefFoundError: "]
        .iter()
        .filter_map(|marker| {
            let at = stderr.find(marker)? + marker.len();
            let name: String = stderr[at..]
                .chars()
                .take_while(|c| c.is_alphanumeric() || matches!(c, '.' | '/' | '$' | '_'))
                .collect();
            (!name.is_empty()).then(|| name.replace('/', "."))
        })
        .next()
}

/// A SQL script fetched into the attempt directory with its S3 URIs mapped (`file://` URIs,
/// for Spark).
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

/// Downloads `uri` into `<attempt dir>/<dir>/`, keeping its name.
pub async fn fetch(
    ctx: &AttemptContext,
    what: &str,
    uri: &str,
    dir: &str,
) -> Result<std::path::PathBuf, TaskResult> {
    let stores = storage::stores(ctx)?;
    let location = stores
        .resolve(uri)
        .map_err(|err| storage::failed(what, &err))?;
    let Some(name) = location.path.filename().map(str::to_string) else {
        return Err(TaskResult::failed(
            error_id::INVALID_TASK,
            format!("{what}: '{uri}' does not name a file"),
        ));
    };
    let target = ctx.attempt_dir.join(dir).join(name);
    location
        .get_to_file(&target)
        .await
        .map_err(|err| storage::failed(what, &err))?;
    Ok(target)
}

async fn has_shebang(script: &Path) -> bool {
    let mut head = [0u8; 2];
    match tokio::fs::File::open(script).await {
        Ok(mut file) => {
            use tokio::io::AsyncReadExt as _;
            file.read_exact(&mut head).await.is_ok() && &head == b"#!"
        }
        Err(_) => false,
    }
}

async fn make_executable(script: &Path) -> Result<(), TaskResult> {
    use std::os::unix::fs::PermissionsExt as _;
    tokio::fs::set_permissions(script, std::fs::Permissions::from_mode(0o755))
        .await
        .map_err(|err| {
            TaskResult::failed(
                error_id::SPAWN_FAILED,
                format!("cannot make {} executable: {err}", script.display()),
            )
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_classes_are_named_in_either_spelling() {
        assert_eq!(
            missing_class(
                "Exception in thread \"main\" java.lang.NoClassDefFoundError: org/apache/hadoop/mapred/LocalJobRunner\n\tat x"
            ),
            Some("org.apache.hadoop.mapred.LocalJobRunner".to_string())
        );
        assert_eq!(
            missing_class("java.lang.ClassNotFoundException: com.example.Main"),
            Some("com.example.Main".to_string())
        );
        assert_eq!(missing_class("exit 1"), None);
    }
}
