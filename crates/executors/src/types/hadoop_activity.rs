//! `HadoopActivity`: runs a MapReduce jar (dp-object-hadoopactivity).
//!
//! The jar (`jarUri`, fetched through the object stores) runs through the cluster's
//! `spark-submit`, which puts the Spark installation's Hadoop client (`hadoop-client-api`,
//! `hadoop-client-runtime`) on the classpath: a MapReduce job runs in Hadoop's local mode with
//! a local master, or on the cluster when settings name one. `mainClass` becomes `--class`;
//! without it the jar's manifest names the class. `argument`s follow in order, with embedded
//! `s3://` URIs mapped to local paths. `hadoopQueue` is the job's queue
//! (`mapreduce.job.queuename`). A class the job needs that the classpath lacks fails the
//! attempt naming the class.
//!
//! `preActivityTaskConfig` and `postActivityTaskConfig` scripts run before and after the job.

use sluice_model::TaskResult;

use crate::exec::emr::spark::{Launcher, Spark};
use crate::exec::emr::uris::{self, Style};
use crate::exec::emr::{cluster, fetch, outcome, run, task_config};
use crate::exec::{error_id, storage};
use crate::execute::{AttemptContext, ExecFuture, Execute};

/// Executes `HadoopActivity` attempts.
pub struct HadoopActivity;

impl Execute for HadoopActivity {
    fn execute<'a>(&'a self, ctx: &'a AttemptContext) -> ExecFuture<'a> {
        Box::pin(async move { outcome(execute(ctx).await) })
    }
}

async fn execute(ctx: &AttemptContext) -> Result<(), TaskResult> {
    let Some(jar_uri) = ctx.field("jarUri") else {
        return Err(TaskResult::failed(
            error_id::INVALID_TASK,
            "HadoopActivity needs a jarUri",
        ));
    };
    let spark = Spark::for_attempt(ctx, "HadoopActivity")?;
    cluster::prepare(ctx).await?;
    task_config::run_config(ctx, "preActivityTaskConfig").await?;
    let jar = fetch(ctx, "jarUri", jar_uri, "jars").await?;
    let stores = storage::stores(ctx)?;
    let mut spec = spark.process(Launcher::SparkSubmit, ctx);
    if let Some(queue) = ctx.field("hadoopQueue") {
        spec.args.push("--conf".into());
        spec.args
            .push(format!("spark.hadoop.mapreduce.job.queuename={queue}").into());
    }
    if let Some(class) = ctx.field("mainClass") {
        spec.args.push("--class".into());
        spec.args.push(class.into());
    }
    spec.args.push(jar.into_os_string());
    spec.args.extend(
        ctx.fields("argument")
            .into_iter()
            .map(|a| uris::map_text(&stores, a, Style::FileUri).into()),
    );
    run(ctx, "HadoopActivity", spec).await?;
    task_config::run_config(ctx, "postActivityTaskConfig").await
}
