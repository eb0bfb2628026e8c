//! `HiveCopyActivity`: filtered DynamoDB/S3 copy on EMR (dp-object-hivecopyactivity).
//!
//! AWS runs this copy as a Hive job on an EMR cluster. Sluice copies directly: items stream
//! from the input (a DynamoDB table scanned within its `readThroughputPercent`, or S3 files in
//! `DynamoDBExportDataFormat`), pass `filterSql` (evaluated by Sluice, see
//! `sluice_data::dynamodb::filter`), and go to the output (a table written within its
//! `writeThroughputPercent`, or one S3 object in `DynamoDBExportDataFormat`). Directions:
//! DynamoDB → S3, S3 → DynamoDB and DynamoDB → DynamoDB. An S3 output with `directoryPath`
//! gets the object `part-00000`; with `filePath`, that object. The S3 output is uploaded in one
//! piece once every item is read, so a failed attempt leaves no partial file behind; writes
//! into a table are not undone. The attempt's stdout says how many items were read, written and
//! filtered out.

use crate::exec::error_id;
use crate::exec::storage as exec_storage;
use crate::execute::{AttemptContext, ExecFuture, Execute};
use crate::types::dynamo_db_data_node::{DYNAMODB_REQUEST_FAILED, DynamoTable, OpenTable};
use futures::StreamExt;
use sluice_data::aws::AwsError;
use sluice_data::dynamodb::filter::ItemFilter;
use sluice_data::dynamodb::{Item, item_json};
use sluice_data::storage::ObjectStores;
use sluice_model::{FieldValue, PipelineObject, TaskResult};

/// Executes `HiveCopyActivity` attempts.
pub struct HiveCopyActivity;

impl Execute for HiveCopyActivity {
    fn execute<'a>(&'a self, ctx: &'a AttemptContext) -> ExecFuture<'a> {
        Box::pin(async move {
            tokio::select! {
                result = copy(ctx) => result.unwrap_or_else(|failure| failure),
                () = ctx.cancel.cancelled() => crate::exec::shell::canceled(),
            }
        })
    }
}

/// Items per BatchWriteItem round when writing into a table.
const WRITE_CHUNK: usize = 500;

/// The name of the object written under an output `directoryPath`.
const PART_NAME: &str = "part-00000";

/// One end of the copy.
enum End {
    Table(Box<OpenTable>),
    S3 {
        node: String,
        uri: String,
        dir: bool,
    },
}

/// Counts for the attempt's stdout.
#[derive(Default)]
struct Counts {
    read: u64,
    skipped: u64,
    written: u64,
}

async fn copy(ctx: &AttemptContext) -> Result<TaskResult, TaskResult> {
    let invalid = |m: String| TaskResult::failed(error_id::INVALID_TASK, m);
    let node = |field: &str| -> Result<&PipelineObject, TaskResult> {
        ctx.referenced(field)
            .into_iter()
            .next()
            .ok_or_else(|| invalid(format!("HiveCopyActivity needs an {field} data node")))
    };
    let (input, output) = (node("input")?, node("output")?);
    let filter = ctx
        .field("filterSql")
        .map(str::trim)
        .filter(|f| !f.is_empty())
        .map(ItemFilter::parse)
        .transpose()
        .map_err(invalid)?;
    let source = open_end(ctx, input).await?;
    let target = open_end(ctx, output).await?;
    let keep = |item: &Item| filter.as_ref().is_none_or(|f| f.matches(item));
    let mut counts = Counts::default();

    let mut lines = String::new();
    let mut pending: Vec<Item> = Vec::new();
    let write_limiter = match &target {
        End::Table(table) => Some(table.write_limiter()),
        End::S3 { .. } => None,
    };
    let sink = async |items: Vec<Item>, lines: &mut String, counts: &mut Counts| {
        counts.written += items.len() as u64;
        match (&target, &write_limiter) {
            (End::Table(table), Some(limiter)) => table
                .write(items, limiter)
                .await
                .map(drop)
                .map_err(|e| dynamo_failed(&table.node.table_name, e)),
            _ => {
                for item in &items {
                    lines.push_str(&item_json::item_to_line(item));
                    lines.push('\n');
                }
                Ok(())
            }
        }
    };

    match &source {
        End::Table(table) => {
            let mut scan = Box::pin(table.scan(table.read_limiter()));
            while let Some(item) = scan.next().await {
                let item = item.map_err(|e| dynamo_failed(&table.node.table_name, e))?;
                counts.read += 1;
                if !keep(&item) {
                    counts.skipped += 1;
                    continue;
                }
                pending.push(item);
                if pending.len() >= WRITE_CHUNK {
                    sink(std::mem::take(&mut pending), &mut lines, &mut counts).await?;
                }
            }
        }
        End::S3 { node, uri, dir } => {
            let stores = exec_storage::stores(ctx)?;
            for object in input_objects(&stores, node, uri, *dir).await? {
                let bytes = stores
                    .resolve(&object)
                    .map_err(|e| exec_storage::failed(&format!("input {node}"), &e))?
                    .get_bytes()
                    .await
                    .map_err(|e| exec_storage::failed(&format!("input {node}"), &e))?;
                let text = String::from_utf8_lossy(&bytes);
                for (n, line) in text.lines().enumerate() {
                    if line.trim().is_empty() {
                        continue;
                    }
                    let item = item_json::item_from_line(line).map_err(|e| {
                        invalid(format!("input {node}: {object} line {}: {e}", n + 1))
                    })?;
                    counts.read += 1;
                    if !keep(&item) {
                        counts.skipped += 1;
                        continue;
                    }
                    pending.push(item);
                    if pending.len() >= WRITE_CHUNK {
                        sink(std::mem::take(&mut pending), &mut lines, &mut counts).await?;
                    }
                }
            }
        }
    }
    if !pending.is_empty() {
        sink(pending, &mut lines, &mut counts).await?;
    }
    if let End::S3 { node, uri, dir } = &target {
        let uri = if *dir {
            format!("{}/{PART_NAME}", uri.trim_end_matches('/'))
        } else {
            uri.clone()
        };
        let stores = exec_storage::stores(ctx)?;
        let put = async { stores.resolve(&uri)?.put_bytes(lines).await };
        put.await
            .map_err(|e| exec_storage::failed(&format!("output {node}"), &e))?;
    }
    let summary = format!(
        "HiveCopyActivity: read {} items, filtered out {}, wrote {}\n",
        counts.read, counts.skipped, counts.written
    );
    if let Err(err) = tokio::fs::write(&ctx.stdout_log, summary).await {
        return Err(TaskResult::failed(
            error_id::OUTPUT_FAILED,
            format!("cannot write {}: {err}", ctx.stdout_log.display()),
        ));
    }
    Ok(TaskResult::finished())
}

async fn open_end(ctx: &AttemptContext, node: &PipelineObject) -> Result<End, TaskResult> {
    let invalid = |m: String| TaskResult::failed(error_id::INVALID_TASK, m);
    match node.object_type().unwrap_or("untyped") {
        "DynamoDBDataNode" => {
            let table = DynamoTable::from_object(node).map_err(invalid)?;
            let open = table
                .open(&ctx.settings.data)
                .await
                .map_err(|e| dynamo_failed(&table.table_name, e))?;
            Ok(End::Table(Box::new(open)))
        }
        "S3DataNode" => {
            if let Some(format_id) = node.values("dataFormat").find_map(FieldValue::as_ref_id) {
                let format_type = ctx
                    .task
                    .objects
                    .get(format_id)
                    .and_then(PipelineObject::object_type)
                    .unwrap_or("untyped");
                if format_type != "DynamoDBExportDataFormat" {
                    return Err(TaskResult::failed(
                        error_id::UNSUPPORTED,
                        format!(
                            "{}: HiveCopyActivity reads and writes S3 in DynamoDBExportDataFormat, \
                             not {format_type}",
                            node.id
                        ),
                    ));
                }
            }
            if node
                .string("compression")
                .is_some_and(|c| !c.eq_ignore_ascii_case("none"))
            {
                return Err(TaskResult::failed(
                    error_id::UNSUPPORTED,
                    format!(
                        "{}: HiveCopyActivity does not compress or decompress",
                        node.id
                    ),
                ));
            }
            match (node.string("filePath"), node.string("directoryPath")) {
                (Some(uri), _) => Ok(End::S3 {
                    node: node.id.clone(),
                    uri: uri.to_owned(),
                    dir: false,
                }),
                (None, Some(uri)) => Ok(End::S3 {
                    node: node.id.clone(),
                    uri: uri.to_owned(),
                    dir: true,
                }),
                (None, None) => Err(invalid(format!(
                    "{} has neither filePath nor directoryPath",
                    node.id
                ))),
            }
        }
        other => Err(TaskResult::failed(
            error_id::UNSUPPORTED,
            format!(
                "{}: HiveCopyActivity copies between DynamoDBDataNode and S3DataNode, not {other}",
                node.id
            ),
        )),
    }
}

/// The objects an S3 input names: its file, or every object under its directory.
async fn input_objects(
    stores: &ObjectStores,
    node: &str,
    uri: &str,
    dir: bool,
) -> Result<Vec<String>, TaskResult> {
    if !dir {
        return Ok(vec![uri.to_owned()]);
    }
    let listed = stores
        .list(uri)
        .await
        .map_err(|e| exec_storage::failed(&format!("input {node}"), &e))?;
    Ok(listed.into_iter().map(|l| l.uri).collect())
}

fn dynamo_failed(table: &str, err: AwsError) -> TaskResult {
    TaskResult::failed(DYNAMODB_REQUEST_FAILED, format!("table {table}: {err}"))
}
