//! `EmrActivity`: runs EMR steps on the Spark environment its `EmrCluster` stands for
//! (dp-object-emractivity).
//!
//! In order: the cluster is readied (bootstrap actions, see
//! [`cluster`](crate::exec::emr::cluster)), every `preStepCommand` runs in a shell, every
//! `step` runs as [`step`](crate::exec::emr::step) describes, then every `postStepCommand`.
//! The first failure ends the attempt, naming the step. Fields arrive with `#{…}` evaluated,
//! so `#{input.directoryPath}` is already the input's path; `s3://` URIs in the arguments
//! reach the programs as [`uris`](crate::exec::emr::uris) describes.
//!
//! `spark-submit` steps keep their arguments except `--master` (the cluster's master replaces
//! it) and, with a local master, `--deploy-mode` (a local master has only client mode); both
//! are reported in the attempt's output when dropped.

use sluice_model::TaskResult;

use crate::exec::emr::spark::{Launcher, Spark};
use crate::exec::emr::step::{self, Step};
use crate::exec::emr::uris::{self, Style};
use crate::exec::emr::{
    cluster, fetch, fetch_mapped_script, note, outcome, run, script_process, step_failed, streaming,
};
use crate::exec::process::ProcessSpec;
use crate::exec::{error_id, shell, storage};
use crate::execute::{AttemptContext, ExecFuture, Execute};

/// Executes `EmrActivity` attempts.
pub struct EmrActivity;

impl Execute for EmrActivity {
    fn execute<'a>(&'a self, ctx: &'a AttemptContext) -> ExecFuture<'a> {
        Box::pin(async move { outcome(execute(ctx).await) })
    }
}

async fn execute(ctx: &AttemptContext) -> Result<(), TaskResult> {
    let steps = ctx.fields("step");
    if steps.is_empty() {
        return Err(TaskResult::failed(
            error_id::INVALID_TASK,
            "EmrActivity has no step to run",
        ));
    }
    // Every step is parsed before anything runs, so a malformed last step fails the attempt
    // before the first one changes data.
    let parsed: Vec<Step> = steps
        .iter()
        .enumerate()
        .map(|(k, s)| {
            step::parse(s)
                .and_then(|parsed| check_tool_args(&parsed).map(|()| parsed))
                .map_err(|m| {
                    TaskResult::failed(error_id::INVALID_TASK, format!("step {}: {m}", k + 1))
                })
        })
        .collect::<Result<_, _>>()?;
    let spark = match parsed.iter().position(step::needs_spark) {
        Some(k) => Some(Spark::for_attempt(ctx, &format!("step {}", k + 1))?),
        None => None,
    };
    cluster::prepare(ctx).await?;
    for (k, command) in ctx.fields("preStepCommand").iter().enumerate() {
        run_shell_command(ctx, &format!("preStepCommand {}", k + 1), command).await?;
    }
    for (k, (text, parsed)) in steps.iter().zip(&parsed).enumerate() {
        let what = format!("step {}", k + 1);
        note(ctx, &format!("{what}: {text}"))?;
        run_step(ctx, &what, parsed, spark.as_ref())
            .await
            .map_err(|r| step_failed(&what, r))?;
    }
    for (k, command) in ctx.fields("postStepCommand").iter().enumerate() {
        run_shell_command(ctx, &format!("postStepCommand {}", k + 1), command).await?;
    }
    Ok(())
}

async fn run_step(
    ctx: &AttemptContext,
    what: &str,
    parsed: &Step,
    spark: Option<&Spark>,
) -> Result<(), TaskResult> {
    let stores = storage::stores(ctx)?;
    let spark = || spark.ok_or_else(|| TaskResult::failed(error_id::SPARK_NOT_FOUND, "no Spark"));
    match parsed {
        Step::SparkSubmit(args) => {
            let spark = spark()?;
            let args = submit_args(ctx, spark, args)?;
            let mut spec = spark.process(Launcher::SparkSubmit, ctx);
            warehouse(ctx, what, spark, &mut spec)?;
            spec.args.extend(
                args.iter()
                    .map(|a| uris::map_text(&stores, a, Style::FileUri).into()),
            );
            run(ctx, what, spec).await
        }
        Step::SparkSql(args) => {
            let spark = spark()?;
            let mut spec = spark.process(Launcher::SparkSql, ctx);
            warehouse(ctx, what, spark, &mut spec)?;
            let mut args = args.iter();
            while let Some(arg) = args.next() {
                // Scripts given by URI are fetched and their own URIs mapped, as Hive reads
                // `-f` from the local file system.
                if matches!(arg.as_str(), "-f" | "-i")
                    && let Some(uri) = args.next()
                {
                    let script = fetch_mapped_script(ctx, what, uri).await?;
                    spec.args.push(arg.into());
                    spec.args.push(script.into_os_string());
                    continue;
                }
                spec.args
                    .push(uris::map_text(&stores, arg, Style::FileUri).into());
            }
            run(ctx, what, spec).await
        }
        Step::Jar {
            jar,
            main_class,
            args,
        } => {
            let spark = spark()?;
            let local_jar = fetch(ctx, what, jar, "jars").await?;
            let mut spec = spark.process(Launcher::SparkSubmit, ctx);
            warehouse(ctx, what, spark, &mut spec)?;
            if let Some(class) = main_class {
                spec.args.push("--class".into());
                spec.args.push(class.into());
            }
            spec.args.push(local_jar.into_os_string());
            spec.args.extend(
                args.iter()
                    .map(|a| uris::map_text(&stores, a, Style::FileUri).into()),
            );
            run(ctx, what, spec).await
        }
        Step::Command(args) => {
            let mut spec = ProcessSpec::new(&args[0], &ctx.attempt_dir);
            spec.args = args[1..]
                .iter()
                .map(|a| uris::map_text(&stores, a, Style::Path).into())
                .collect();
            run(ctx, what, spec).await
        }
        Step::Script { uri, args } => {
            let script = shell::fetch_script(ctx, what, uri).await?;
            let spec = script_process(ctx, script, args.iter().map(String::as_str)).await?;
            run(ctx, what, spec).await
        }
        Step::Streaming(args) => streaming::run(ctx, what, args).await,
        #[cfg(feature = "dynamodb")]
        Step::DynamoDbExport(args) => {
            crate::exec::emr::dynamodb_tools::export(ctx, what, args).await
        }
        #[cfg(feature = "dynamodb")]
        Step::DynamoDbImport(args) => {
            crate::exec::emr::dynamodb_tools::import(ctx, what, args).await
        }
        #[cfg(not(feature = "dynamodb"))]
        Step::DynamoDbExport(_) | Step::DynamoDbImport(_) => Err(TaskResult::failed(
            error_id::UNSUPPORTED,
            sluice_data::left_out(format!("{what} (a DynamoDB tool)"), "DynamoDB", "dynamodb"),
        )),
    }
}

/// Points Spark's SQL warehouse (tables a step creates without a location) into the
/// attempt's Spark working directory, unless the settings choose one.
fn warehouse(
    ctx: &AttemptContext,
    what: &str,
    spark: &Spark,
    spec: &mut ProcessSpec,
) -> Result<(), TaskResult> {
    const KEY: &str = "spark.sql.warehouse.dir";
    if spark.has_conf(KEY) {
        return Ok(());
    }
    let dir = crate::exec::emr::spark::work_dir(ctx, what)?.join("warehouse");
    spec.args.push("--conf".into());
    spec.args
        .push(format!("{KEY}=file://{}", dir.display()).into());
    Ok(())
}

/// The DynamoDB tools' command lines, checked before anything runs.
fn check_tool_args(step: &Step) -> Result<(), String> {
    match step {
        #[cfg(feature = "dynamodb")]
        Step::DynamoDbExport(args) => crate::exec::emr::dynamodb_tools::check(true, args),
        #[cfg(feature = "dynamodb")]
        Step::DynamoDbImport(args) => crate::exec::emr::dynamodb_tools::check(false, args),
        _ => Ok(()),
    }
}

/// The user's `spark-submit` arguments without the options the cluster decides.
fn submit_args(
    ctx: &AttemptContext,
    spark: &Spark,
    args: &[String],
) -> Result<Vec<String>, TaskResult> {
    let mut kept = Vec::with_capacity(args.len());
    let mut iter = args.iter();
    // Only options before the application file belong to spark-submit.
    let mut in_options = true;
    while let Some(arg) = iter.next() {
        if in_options {
            let (name, inline) = match arg.split_once('=') {
                Some((name, value)) if name.starts_with("--") => (name, Some(value)),
                _ => (arg.as_str(), None),
            };
            let dropped = match name {
                "--master" => true,
                "--deploy-mode" => spark.is_local(),
                _ => false,
            };
            if dropped {
                let value = match inline {
                    Some(v) => v.to_string(),
                    None => iter.next().cloned().unwrap_or_default(),
                };
                note(
                    ctx,
                    &format!(
                        "spark-submit {name} {value} ignored: the cluster's master is {}",
                        spark.master
                    ),
                )?;
                continue;
            }
            if !arg.starts_with('-') {
                in_options = false;
            } else if inline.is_none() && takes_value(arg) {
                kept.push(arg.clone());
                if let Some(value) = iter.next() {
                    kept.push(value.clone());
                }
                continue;
            }
        }
        kept.push(arg.clone());
    }
    Ok(kept)
}

/// The spark-submit options that are followed by a value (the rest are flags).
fn takes_value(option: &str) -> bool {
    !matches!(
        option,
        "--verbose" | "-v" | "--supervise" | "--help" | "-h" | "--version"
    )
}

async fn run_shell_command(
    ctx: &AttemptContext,
    what: &str,
    command: &str,
) -> Result<(), TaskResult> {
    let mut spec = ProcessSpec::new("/bin/sh", &ctx.attempt_dir);
    spec.args = vec!["-c".into(), command.into(), "sh".into()];
    run(ctx, what, spec).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_spark_submit_options_take_values() {
        assert!(takes_value("--class"));
        assert!(takes_value("--conf"));
        assert!(!takes_value("--verbose"));
    }
}
