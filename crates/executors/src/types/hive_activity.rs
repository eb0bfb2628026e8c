//! `HiveActivity`: runs a Hive script with Spark SQL's Hive dialect (`spark-sql`) on the Spark
//! environment its `EmrCluster` stands for, with its inputs and outputs staged as tables
//! (dp-object-hiveactivity, dp-concepts-staging).
//!
//! | AWS | Sluice |
//! |---|---|
//! | `hiveScript` | run as `spark-sql -f`; `s3://` URIs in it are mapped as for EmrActivity ([`uris`]) |
//! | `scriptUri` | fetched into the attempt directory and run the same way (`#{…}` is not evaluated in it, as on AWS) |
//! | `scriptVariable` `NAME=value` | `--hivevar NAME=value`: `${NAME}` and `${hivevar:NAME}` in the script |
//! | `stage` (default `true`) | input *k* and output *k* (1-based, in field order) become the tables `inputk` / `outputk`, named by `${inputk}` and `${INPUTk}` (likewise `output`) and defined by `spark-sql -i` before the script runs |
//! | S3 input | a table over its `directoryPath`, or over a directory holding its `filePath` |
//! | S3 output | a table over a fresh directory of the attempt, published to the node once the script succeeded; nothing is published when it fails |
//! | DynamoDB input / output with a `DynamoDBDataFormat` | staged through files of the attempt, see [`dynamodb`](crate::exec::emr::hive::dynamodb) |
//! | DynamoDB node without a `dataFormat` | not staged (AWS leaves it to the script too) |
//! | `hadoopQueue` | `spark.yarn.queue` when the master is `yarn`; otherwise reported as ignored |
//! | `preActivityTaskConfig`, `postActivityTaskConfig` | the `ShellScriptConfig`'s `scriptUri`, fetched and run by `/bin/sh` with its `scriptArgument`s, before staging and after publishing |
//! | `resizeClusterBeforeRunning`, `resizeClusterMaxInstances` | reported as not acted on |
//!
//! The staged tables' row formats are listed in [`ddl`]. As on EMR, where AWS documents the
//! Hive CSV SerDe for this activity, a CSV table reads every column as `STRING` (cast in the
//! script, e.g. `sum(CAST(amount AS BIGINT))`) and a CSV output quotes every field. Gzip
//! inputs are read when their names end in `.gz` (Hadoop picks the codec by name, as on EMR);
//! gzip outputs are compressed by Sluice as they are published ([`s3`](crate::exec::emr::hive::s3)).
//! With an S3 server configured, inputs are downloaded into the attempt directory and outputs
//! uploaded from it: the tables Sluice stages never need Spark to reach S3 itself.
//!
//! Spark runs with Hive's non-ANSI semantics (`spark.sql.ansi.enabled=false`: a value that
//! does not cast is NULL) and reads S3 "directories" recursively; `data.spark.conf` can change
//! either. `spark-sql` runs in the attempt directory, which keeps its Hive metastore (so every
//! attempt starts with no tables), the table definitions (`hive/staging.q`) and the script
//! (`hive/script.q`). The tables' files, and the warehouse of tables the script creates itself,
//! are in `<data dir>/spark/<pipeline>/<attempt>/` instead, because Hadoop cannot use a path
//! with `:` in it, and attempt directories have one; that directory is removed once the
//! outputs are published and kept after a failure, for inspection. A master other than
//! `local` must see the data directory at the same path (a shared file system).
//!
//! Not supported: staging SQL data nodes (AWS stages MySQL inputs; copy them to S3 first),
//! S3 nodes with a `manifestFilePath`, `RegEx` outputs (Hive's RegexSerDe cannot write), and
//! record separators other than `\n`. A script that maps DynamoDB through EMR's storage
//! handler is refused before anything runs, naming the staged table to use instead.

use std::ffi::OsString;
use std::path::{Path, PathBuf};

use sluice_data::storage::ObjectStores;
use sluice_model::TaskResult;

use crate::exec::emr::hive::ACTIVITY as WHAT;
use crate::exec::emr::hive::slots::{file_uri, output_table, publish, slots, stage_input};
use crate::exec::emr::spark::{self, Launcher, Spark};
use crate::exec::emr::uris::{self, Style};
use crate::exec::emr::{cluster, fetch_mapped_script, note, task_config};
use crate::exec::process::ProcessSpec;
use crate::exec::{error_id, shell, storage};
use crate::execute::{AttemptContext, ExecFuture, Execute};

/// Executes `HiveActivity` attempts.
pub struct HiveActivity;

impl Execute for HiveActivity {
    fn execute<'a>(&'a self, ctx: &'a AttemptContext) -> ExecFuture<'a> {
        Box::pin(async move { run(ctx).await.err().unwrap_or_else(TaskResult::finished) })
    }
}

/// Spark settings for Hive scripts. They come before the runner's `data.spark.conf` values on
/// the command line, so those win.
const HIVE_CONF: &[(&str, &str)] = &[
    // Hive's semantics: a value that does not cast is NULL rather than an error.
    ("spark.sql.ansi.enabled", "false"),
    // An S3 "directory" is a prefix: everything below it belongs to the table.
    (
        "spark.hadoop.mapreduce.input.fileinputformat.input.dir.recursive",
        "true",
    ),
    // Nobody looks at a short-lived attempt's web UI, and concurrent attempts would compete
    // for its port.
    ("spark.ui.enabled", "false"),
];

/// Where a script comes from.
enum Script<'a> {
    Inline(&'a str),
    Uri(&'a str),
}

async fn run(ctx: &AttemptContext) -> Result<(), TaskResult> {
    let script = script_source(ctx)?;
    let variables = script_variables(ctx)?;
    let spark = Spark::for_attempt(ctx, WHAT)?;
    let stage = ctx
        .field("stage")
        .is_none_or(|v| !v.trim().eq_ignore_ascii_case("false"));
    let (inputs, outputs) = if stage {
        (slots(ctx, "input")?, slots(ctx, "output")?)
    } else {
        (Vec::new(), Vec::new())
    };
    let stores = storage::stores(ctx)?;
    let hive_dir = absolute(&ctx.attempt_dir.join("hive"))?;
    let work_dir = spark::work_dir(ctx, WHAT)?;

    cluster::prepare(ctx).await?;
    for field in ["resizeClusterBeforeRunning", "resizeClusterMaxInstances"] {
        if let Some(value) = ctx.field(field) {
            note(
                ctx,
                &format!(
                    "{WHAT}: {field} {value} kept but not acted on (Sluice does not resize its Spark environment)"
                ),
            )?;
        }
    }
    task_config::run_config(ctx, "preActivityTaskConfig").await?;
    let script_file = materialize(ctx, &stores, &script, &hive_dir).await?;
    fresh_dir(&work_dir).await?;

    let mut statements = String::new();
    let mut tables: Vec<&str> = Vec::new();
    for slot in &inputs {
        let table = unless_canceled(ctx, stage_input(ctx, &stores, slot, &work_dir)).await?;
        if let Some(table) = table {
            statements.push_str(&table.create_statement());
            tables.push(&slot.name);
        }
    }
    for slot in &outputs {
        if let Some(table) = output_table(ctx, slot, &work_dir).await? {
            statements.push_str(&table.create_statement());
            tables.push(&slot.name);
        }
    }

    let mut spec = spark_sql(ctx, &spark, &work_dir, &tables, &variables)?;
    if !statements.is_empty() {
        let staging = hive_dir.join("staging.q");
        write_file(&staging, &statements).await?;
        note(
            ctx,
            &format!(
                "{WHAT}: staged tables {} are defined in {}",
                tables.join(", "),
                staging.display()
            ),
        )?;
        spec.args.push("-i".into());
        spec.args.push(staging.into_os_string());
    }
    spec.args.push("-f".into());
    spec.args.push(script_file.into_os_string());
    if let Err(failed) = crate::exec::emr::run(ctx, WHAT, spec).await {
        note(
            ctx,
            &format!(
                "{WHAT}: the staged tables are kept in {} for inspection",
                work_dir.display()
            ),
        )?;
        return Err(failed);
    }

    for slot in &outputs {
        unless_canceled(ctx, publish(ctx, &stores, slot, &work_dir)).await?;
    }
    // Staged copies can be large and a finished attempt has no more use for them.
    if let Err(e) = tokio::fs::remove_dir_all(&work_dir).await {
        note(
            ctx,
            &format!("{WHAT}: cannot remove {}: {e}", work_dir.display()),
        )?;
    } else if let Some(pipeline_dir) = work_dir.parent() {
        // Only once no other attempt of the pipeline has files there.
        let _ = tokio::fs::remove_dir(pipeline_dir).await;
    }
    task_config::run_config(ctx, "postActivityTaskConfig").await
}

/// `spark-sql` for the script: Hive's settings, the queue, and the variables that name the
/// staged tables (`tables`) and carry the `scriptVariable`s.
fn spark_sql(
    ctx: &AttemptContext,
    spark: &Spark,
    work_dir: &Path,
    tables: &[&str],
    variables: &[(String, String)],
) -> Result<ProcessSpec, TaskResult> {
    let mut spec = spark.process(Launcher::SparkSql, ctx);
    let after_master = spec
        .args
        .iter()
        .position(|a| a == "--master")
        .map_or(0, |at| at + 2);
    let defaults: Vec<OsString> = HIVE_CONF
        .iter()
        .flat_map(|(k, v)| ["--conf".into(), format!("{k}={v}").into()])
        .collect();
    spec.args.splice(after_master..after_master, defaults);
    // Tables a script creates itself go there too, where Hadoop can reach them.
    spec.args.insert(after_master, "--conf".into());
    spec.args.insert(
        after_master + 1,
        format!(
            "spark.sql.warehouse.dir={}",
            file_uri(&work_dir.join("warehouse"))
        )
        .into(),
    );
    if let Some(queue) = ctx
        .field("hadoopQueue")
        .map(str::trim)
        .filter(|q| !q.is_empty())
    {
        if spark.master.starts_with("yarn") {
            spec.args.push("--conf".into());
            spec.args.push(format!("spark.yarn.queue={queue}").into());
        } else {
            note(
                ctx,
                &format!(
                    "{WHAT}: hadoopQueue {queue} ignored: Spark's master is {}, not YARN",
                    spark.master
                ),
            )?;
        }
    }
    for name in tables {
        for variable in [name.to_string(), name.to_ascii_uppercase()] {
            spec.args.push("--hivevar".into());
            spec.args.push(format!("{variable}={name}").into());
        }
    }
    // After the table names, so that a scriptVariable of the same name wins, as the later
    // of two Hive variables does.
    for (name, value) in variables {
        spec.args.push("--hivevar".into());
        spec.args.push(format!("{name}={value}").into());
    }
    Ok(spec)
}

fn absolute(path: &Path) -> Result<PathBuf, TaskResult> {
    std::path::absolute(path).map_err(|e| {
        TaskResult::failed(
            error_id::STAGING_FAILED,
            format!("{WHAT}: cannot resolve {}: {e}", path.display()),
        )
    })
}

/// Empties `dir`: a run that starts over with the same attempt ids must not find what an
/// earlier one wrote.
async fn fresh_dir(dir: &Path) -> Result<(), TaskResult> {
    let reset = async {
        match tokio::fs::remove_dir_all(dir).await {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(e),
            _ => {}
        }
        tokio::fs::create_dir_all(dir).await
    };
    reset.await.map_err(|e| {
        TaskResult::failed(
            error_id::STAGING_FAILED,
            format!("{WHAT}: cannot prepare {}: {e}", dir.display()),
        )
    })
}

fn invalid(message: String) -> TaskResult {
    TaskResult::failed(error_id::INVALID_TASK, message)
}

fn unsupported(message: String) -> TaskResult {
    TaskResult::failed(error_id::UNSUPPORTED, message)
}

/// Stops `work` when the attempt is canceled (a scan or a download can take long).
async fn unless_canceled<T>(
    ctx: &AttemptContext,
    work: impl Future<Output = Result<T, TaskResult>>,
) -> Result<T, TaskResult> {
    tokio::select! {
        biased;
        () = ctx.cancel.cancelled() => Err(shell::canceled()),
        result = work => result,
    }
}

fn script_source(ctx: &AttemptContext) -> Result<Script<'_>, TaskResult> {
    let nonempty = |field: &str| ctx.field(field).filter(|v| !v.trim().is_empty());
    match (nonempty("hiveScript"), nonempty("scriptUri")) {
        (Some(text), _) => Ok(Script::Inline(text)),
        (None, Some(uri)) => Ok(Script::Uri(uri)),
        (None, None) => Err(invalid(format!("{WHAT} needs a hiveScript or a scriptUri"))),
    }
}

/// `scriptVariable` values as `(name, value)` pairs.
fn script_variables(ctx: &AttemptContext) -> Result<Vec<(String, String)>, TaskResult> {
    ctx.fields("scriptVariable")
        .into_iter()
        .map(|spec| match spec.split_once('=') {
            Some((name, value)) if !name.trim().is_empty() => {
                Ok((name.trim().to_owned(), value.to_owned()))
            }
            _ => Err(invalid(format!(
                "{WHAT}: scriptVariable {spec:?} is not NAME=value"
            ))),
        })
        .collect()
}

/// The script as a local file, with its `s3://` URIs mapped.
async fn materialize(
    ctx: &AttemptContext,
    stores: &ObjectStores,
    script: &Script<'_>,
    hive_dir: &Path,
) -> Result<PathBuf, TaskResult> {
    let path = match script {
        Script::Inline(text) => {
            if let Some(uri) = ctx.field("scriptUri") {
                note(
                    ctx,
                    &format!("{WHAT}: scriptUri {uri} ignored: hiveScript is given"),
                )?;
            }
            let path = hive_dir.join("script.q");
            write_file(&path, &uris::map_text(stores, text, Style::FileUri)).await?;
            path
        }
        Script::Uri(uri) => fetch_mapped_script(ctx, "scriptUri", uri).await?,
    };
    let text = tokio::fs::read_to_string(&path).await.map_err(|e| {
        TaskResult::failed(
            error_id::SCRIPT_NOT_FOUND,
            format!("{WHAT}: cannot read {}: {e}", path.display()),
        )
    })?;
    if text
        .to_ascii_lowercase()
        .contains("org.apache.hadoop.hive.dynamodb.dynamodbstoragehandler")
    {
        return Err(unsupported(format!(
            "{WHAT}: the script maps a table through EMR's DynamoDB storage handler \
             (org.apache.hadoop.hive.dynamodb.DynamoDBStorageHandler), which Spark does not \
             have; give the DynamoDBDataNode a DynamoDBDataFormat and use its staged table \
             (${{input1}}, ${{output1}}, …) instead"
        )));
    }
    Ok(path)
}

async fn write_file(path: &Path, text: &str) -> Result<(), TaskResult> {
    let write = async {
        if let Some(dir) = path.parent() {
            tokio::fs::create_dir_all(dir).await?;
        }
        tokio::fs::write(path, text).await
    };
    write.await.map_err(|e| {
        TaskResult::failed(
            error_id::STAGING_FAILED,
            format!("{WHAT}: cannot write {}: {e}", path.display()),
        )
    })
}
