//! `PigActivity`: runs a Pig Latin script (dp-object-pigactivity).
//!
//! Apache Pig is not in the package registries Sluice installs from, so it runs only where an
//! installation is configured: `data.pig.home` (or `PIG_HOME`) with its `bin/pig`, else `pig`
//! on `PATH`; without one the attempt fails at once saying so. It runs with `-x local` unless
//! `data.pig.execType` says otherwise, in the attempt directory.
//!
//! The script is `script` or `scriptUri` (fetched; not `#{}`-evaluated, as AWS). Each
//! `scriptVariable` `NAME=value` becomes `-param NAME=value`. With `stage` (default true, as
//! AWS), input *k* is staged as the relation `input<k>`: a `LOAD` of the data node's path with
//! `PigStorage` and the separator and columns of its data format (CSV, TSV, Custom) is put
//! before the script, and `${input<k>}` / `${INPUT<k>}` in the script name that relation.
//! Output *k* is the relation `output<k>`, which the script assigns; a `STORE … INTO` its node's
//! `directoryPath` is put after the script. Embedded `s3://` paths reach Pig as local paths;
//! with an S3 server Pig must reach S3 itself.
//!
//! Only a stand-in `pig` that records what it is given tests this file; it is untested against
//! real Pig.

use std::ffi::OsString;
use std::path::PathBuf;

use sluice_data::format::{Column, FormatKind};
use sluice_model::{FieldValue, PipelineObject, TaskResult};

use crate::exec::emr::spark::find_program;
use crate::exec::emr::uris::{self, Style};
use crate::exec::emr::{cluster, outcome, run, task_config};
use crate::exec::process::ProcessSpec;
use crate::exec::{error_id, shell, storage};
use crate::execute::{AttemptContext, ExecFuture, Execute};
use crate::types::csv::record_format;

/// Executes `PigActivity` attempts.
pub struct PigActivity;

impl Execute for PigActivity {
    fn execute<'a>(&'a self, ctx: &'a AttemptContext) -> ExecFuture<'a> {
        Box::pin(async move { outcome(execute(ctx).await) })
    }
}

async fn execute(ctx: &AttemptContext) -> Result<(), TaskResult> {
    let pig = locate(&ctx.settings.data.pig)
        .map_err(|m| TaskResult::failed(error_id::PIG_NOT_FOUND, m))?;
    let script = match (ctx.field("script"), ctx.field("scriptUri")) {
        (Some(script), None) => script.to_string(),
        (None, Some(uri)) => {
            let path = shell::fetch_script(ctx, "scriptUri", uri).await?;
            tokio::fs::read_to_string(&path).await.map_err(|err| {
                TaskResult::failed(
                    error_id::SCRIPT_NOT_FOUND,
                    format!("scriptUri {uri}: {err}"),
                )
            })?
        }
        _ => {
            return Err(TaskResult::failed(
                error_id::INVALID_TASK,
                "PigActivity needs exactly one of script and scriptUri",
            ));
        }
    };
    let stores = storage::stores(ctx)?;
    let stage = ctx
        .field("stage")
        .is_none_or(|v| v.eq_ignore_ascii_case("true"));
    let script = if stage {
        staged_script(ctx, &script, |uri| uris::map_uri(&stores, uri, Style::Path))?
    } else {
        script
    };
    let script = uris::map_text(&stores, &script, Style::Path);
    cluster::prepare(ctx).await?;
    task_config::run_config(ctx, "preActivityTaskConfig").await?;
    let path = ctx.attempt_dir.join("scripts").join("script.pig");
    write(&path, &script).await?;
    let mut spec = ProcessSpec::new(pig, &ctx.attempt_dir);
    let exec_type = ctx
        .settings
        .data
        .pig
        .exec_type
        .as_deref()
        .unwrap_or("local");
    spec.args = vec!["-x".into(), exec_type.into()];
    for variable in ctx.fields("scriptVariable") {
        spec.args.push("-param".into());
        spec.args.push(variable.into());
    }
    spec.args.push("-f".into());
    spec.args.push(path.into_os_string());
    run(ctx, "PigActivity", spec).await?;
    task_config::run_config(ctx, "postActivityTaskConfig").await
}

/// The `pig` launcher, or why there is none.
fn locate(settings: &sluice_data::compute::PigSettings) -> Result<OsString, String> {
    const HINT: &str = "PigActivity needs Apache Pig, which Sluice cannot install for you (it \
                        is not in the package registries Sluice uses): install Pig and set \
                        `data.pig.home` in the settings file or PIG_HOME, or put `pig` on PATH \
                        (see docs/emr.md)";
    if let Some(home) = &settings.home {
        let pig = home.join("bin/pig");
        return if pig.is_file() {
            Ok(pig.into_os_string())
        } else {
            Err(format!("{} has no bin/pig; {HINT}", home.display()))
        };
    }
    find_program(std::env::var_os("PATH"), "pig")
        .map(PathBuf::into_os_string)
        .ok_or_else(|| HINT.to_string())
}

/// `script` with the staged inputs loaded before it and the outputs stored after it.
fn staged_script(
    ctx: &AttemptContext,
    script: &str,
    path_of: impl Fn(&str) -> String,
) -> Result<String, TaskResult> {
    let mut before = String::new();
    let mut after = String::new();
    let mut script = script.to_string();
    for (field, alias) in [("input", "input"), ("output", "output")] {
        for (k, node) in ctx.referenced(field).into_iter().enumerate() {
            let name = format!("{alias}{}", k + 1);
            let storage = pig_storage(ctx, node)?;
            let Some(uri) = node.string("directoryPath").or_else(|| {
                (field == "input")
                    .then(|| node.string("filePath"))
                    .flatten()
            }) else {
                return Err(TaskResult::failed(
                    error_id::UNSUPPORTED,
                    format!(
                        "PigActivity stages S3 data nodes with a directoryPath{}; {} has none",
                        if field == "input" { " or filePath" } else { "" },
                        node.id
                    ),
                ));
            };
            let path = path_of(uri);
            if field == "input" {
                before.push_str(&format!(
                    "{name} = LOAD '{path}' USING {}{};\n",
                    storage.using, storage.schema
                ));
            } else {
                after.push_str(&format!(
                    "STORE {name} INTO '{path}' USING {};\n",
                    storage.using
                ));
            }
            for form in [
                format!("${{{name}}}"),
                format!("${{{}}}", name.to_uppercase()),
            ] {
                script = script.replace(&form, &name);
            }
        }
    }
    Ok(format!("{before}{script}\n{after}"))
}

/// How a data node's records read and write in Pig.
struct PigStorage {
    using: String,
    /// ` AS (name:type, …)`, or empty without declared columns.
    schema: String,
}

fn pig_storage(ctx: &AttemptContext, node: &PipelineObject) -> Result<PigStorage, TaskResult> {
    if node.object_type() != Some("S3DataNode") {
        return Err(TaskResult::failed(
            error_id::UNSUPPORTED,
            format!(
                "PigActivity stages S3DataNode inputs and outputs, not {} ({})",
                node.object_type().unwrap_or("untyped"),
                node.id
            ),
        ));
    }
    let format_object = node
        .values("dataFormat")
        .find_map(FieldValue::as_ref_id)
        .and_then(|id| ctx.task.objects.get(id));
    let format = record_format(format_object)
        .map_err(|m| TaskResult::failed(error_id::INVALID_TASK, format!("{}: {m}", node.id)))?;
    let separator = match &format.kind {
        FormatKind::Csv { .. } => b',',
        FormatKind::Delimited(d) => d.column,
        FormatKind::RegEx { .. } => {
            return Err(TaskResult::failed(
                error_id::UNSUPPORTED,
                format!("{}: PigActivity cannot stage a RegEx data format", node.id),
            ));
        }
    };
    let separator = match separator {
        b'\t' => "\\t".to_string(),
        b'\'' => "\\'".to_string(),
        c => char::from(c).to_string(),
    };
    let schema = if format.columns.is_empty() {
        String::new()
    } else {
        let columns: Vec<String> = format.columns.iter().map(pig_column).collect();
        format!(" AS ({})", columns.join(", "))
    };
    Ok(PigStorage {
        using: format!("PigStorage('{separator}')"),
        schema,
    })
}

/// A column declared with a Hive type, in Pig's types.
fn pig_column(column: &Column) -> String {
    let ty = match column.ty.to_ascii_uppercase().as_str() {
        "INT" | "SMALLINT" | "TINYINT" => "int",
        "BIGINT" => "long",
        "FLOAT" => "float",
        "DOUBLE" => "double",
        "BOOLEAN" => "boolean",
        "TIMESTAMP" => "datetime",
        _ => "chararray",
    };
    format!("{}:{ty}", column.name)
}

async fn write(path: &std::path::Path, text: &str) -> Result<(), TaskResult> {
    let failed = |err: std::io::Error| {
        TaskResult::failed(
            error_id::STAGING_FAILED,
            format!("cannot write {}: {err}", path.display()),
        )
    };
    if let Some(dir) = path.parent() {
        tokio::fs::create_dir_all(dir).await.map_err(failed)?;
    }
    tokio::fs::write(path, text).await.map_err(failed)
}
