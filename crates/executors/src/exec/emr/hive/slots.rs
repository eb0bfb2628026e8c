//! The activity's inputs and outputs as staged tables: which node becomes which table, making
//! inputs readable before the script, and publishing outputs after it.

use std::path::Path;

use sluice_data::format::FormatKind;
use sluice_data::storage::ObjectStores;
use sluice_model::{FieldValue, PipelineObject, TaskResult};

use super::ACTIVITY as WHAT;
use super::ddl::{self, RowFormat, Table};
#[cfg(feature = "dynamodb")]
use super::dynamodb::DynamoSide;
use super::s3::{self, S3Side};
use crate::exec::emr::note;
use crate::exec::error_id;
use crate::execute::AttemptContext;

/// How one data node is staged.
enum Side {
    S3 {
        side: S3Side,
        columns: Vec<(String, String)>,
        row_format: RowFormat,
    },
    #[cfg(feature = "dynamodb")]
    Dynamo(DynamoSide),
    /// Left to the script; the text says why, for the attempt's output.
    Unstaged(String),
}

/// A data node in its place among the activity's inputs or outputs.
pub struct Slot {
    /// `input1`, `output2`, …: the table's name, and the variable that names it.
    pub name: String,
    /// `HiveActivity input1 (NodeId)`, for messages.
    what: String,
    side: Side,
}

fn invalid(message: String) -> TaskResult {
    TaskResult::failed(error_id::INVALID_TASK, message)
}

fn unsupported(message: String) -> TaskResult {
    TaskResult::failed(error_id::UNSUPPORTED, message)
}

/// A local directory as a URI Spark takes (a bare path would mean the default file system).
pub fn file_uri(dir: &Path) -> String {
    format!("file://{}", dir.display())
}

/// The activity's `input` or `output` nodes, each with how it is staged.
pub fn slots(ctx: &AttemptContext, field: &str) -> Result<Vec<Slot>, TaskResult> {
    ctx.referenced(field)
        .into_iter()
        .enumerate()
        .map(|(k, node)| {
            let name = format!("{field}{}", k + 1);
            let what = format!("{WHAT} {name} ({})", node.id);
            let side = side(ctx, &what, node, field == "output")?;
            Ok(Slot { name, what, side })
        })
        .collect()
}

fn side(
    ctx: &AttemptContext,
    what: &str,
    node: &PipelineObject,
    output: bool,
) -> Result<Side, TaskResult> {
    match node.object_type().unwrap_or("untyped") {
        "S3DataNode" => s3_side(ctx, what, node, output),
        "DynamoDBDataNode" => dynamo_side(ctx, what, node),
        other => Err(unsupported(format!(
            "{what}: {other} {} cannot be staged as a Hive table (S3DataNode and \
             DynamoDBDataNode can); set stage to false to leave its data to the script, or \
             copy it to S3 first",
            node.id
        ))),
    }
}

/// A DynamoDB table without a `dataFormat` is not staged, as on AWS: the script has to reach
/// it itself.
fn unstaged_table(what: &str, node: &PipelineObject) -> Side {
    Side::Unstaged(format!(
        "{what}: DynamoDBDataNode {} has no dataFormat, so it is not staged (as on AWS); give \
         it a DynamoDBDataFormat to read or write it as a table",
        node.id
    ))
}

#[cfg(feature = "dynamodb")]
fn dynamo_side(
    ctx: &AttemptContext,
    what: &str,
    node: &PipelineObject,
) -> Result<Side, TaskResult> {
    Ok(match DynamoSide::from_node(ctx, what, node)? {
        Some(dynamo) => Side::Dynamo(dynamo),
        None => unstaged_table(what, node),
    })
}

#[cfg(not(feature = "dynamodb"))]
fn dynamo_side(
    _ctx: &AttemptContext,
    what: &str,
    node: &PipelineObject,
) -> Result<Side, TaskResult> {
    if node.values("dataFormat").next().is_some() {
        return Err(unsupported(sluice_data::left_out(
            format!("{what} (a staged DynamoDB table)"),
            "DynamoDB",
            "dynamodb",
        )));
    }
    Ok(unstaged_table(what, node))
}

fn s3_side(
    ctx: &AttemptContext,
    what: &str,
    node: &PipelineObject,
    output: bool,
) -> Result<Side, TaskResult> {
    let side = S3Side::from_node(what, node)?;
    let Some(format) = node
        .values("dataFormat")
        .find_map(FieldValue::as_ref_id)
        .and_then(|id| ctx.task.objects.get(id))
    else {
        return Err(invalid(format!(
            "{what}: S3DataNode {} has no dataFormat; a staged table needs the columns of \
             its CSV, TSV, Custom or RegEx dataFormat",
            node.id
        )));
    };
    let format_type = format.object_type().unwrap_or("untyped");
    let about = format!("{what}: {format_type} {}", format.id);
    let row_format = match format_type {
        "CSV" | "TSV" | "Custom" => {
            let record = crate::types::csv::record_format(Some(format))
                .map_err(|e| invalid(format!("{what}: {e}")))?;
            match record.kind {
                FormatKind::Csv { escape } => RowFormat::Csv {
                    escape: escape.map_or('"', char::from),
                },
                FormatKind::Delimited(d) if d.record == b'\n' => RowFormat::Delimited {
                    column: d.column,
                    escape: d.escape,
                },
                FormatKind::Delimited(d) => {
                    return Err(unsupported(format!(
                        "{about}: recordSeparator {:?}: Hive reads text tables a line at a \
                         time, so records must end with \\n",
                        char::from(d.record)
                    )));
                }
                FormatKind::RegEx { .. } => {
                    return Err(invalid(format!("{about} is not a delimited format")));
                }
            }
        }
        "RegEx" if output => {
            return Err(unsupported(format!(
                "{about}: Hive's RegexSerDe only reads; give the output node a CSV, TSV or \
                 Custom dataFormat"
            )));
        }
        "RegEx" => RowFormat::RegEx {
            input_regex: format
                .string("inputRegEx")
                .ok_or_else(|| invalid(format!("{about} has no inputRegEx")))?
                .to_owned(),
        },
        _ => {
            return Err(unsupported(format!(
                "{about}: a staged S3 table has a CSV, TSV, Custom or RegEx dataFormat"
            )));
        }
    };
    let columns = ddl::columns_of(format).map_err(|e| invalid(format!("{what}: {e}")))?;
    if columns.is_empty() {
        return Err(invalid(format!(
            "{about} has no column; a staged table needs its columns (\"name TYPE\")"
        )));
    }
    Ok(Side::S3 {
        side,
        columns,
        row_format,
    })
}

/// Makes an input readable and returns its table, or `None` when it is not staged.
pub async fn stage_input(
    ctx: &AttemptContext,
    stores: &ObjectStores,
    slot: &Slot,
    work_dir: &Path,
) -> Result<Option<Table>, TaskResult> {
    let scratch = work_dir.join(&slot.name);
    match &slot.side {
        Side::S3 {
            side,
            columns,
            row_format,
        } => {
            let staged = s3::stage_input(stores, &slot.what, side, &scratch).await?;
            note(ctx, &format!("{}: {}", slot.what, staged.how))?;
            Ok(Some(Table {
                name: slot.name.clone(),
                columns: columns.clone(),
                row_format: row_format.clone(),
                location: file_uri(&staged.dir),
            }))
        }
        #[cfg(feature = "dynamodb")]
        Side::Dynamo(dynamo) => {
            let count = dynamo.export(ctx, &slot.what, &scratch).await?;
            note(
                ctx,
                &format!(
                    "{}: scanned {count} items of table {} into {}",
                    slot.what,
                    dynamo.table.table_name,
                    scratch.display()
                ),
            )?;
            Ok(Some(Table {
                name: slot.name.clone(),
                columns: dynamo.ddl_columns.clone(),
                row_format: RowFormat::DynamoRows,
                location: file_uri(&scratch),
            }))
        }
        Side::Unstaged(why) => {
            note(ctx, why)?;
            Ok(None)
        }
    }
}

/// The table an output is written into: a fresh directory of the attempt.
pub async fn output_table(
    ctx: &AttemptContext,
    slot: &Slot,
    work_dir: &Path,
) -> Result<Option<Table>, TaskResult> {
    let dir = work_dir.join(&slot.name);
    let (columns, row_format) = match &slot.side {
        Side::S3 {
            columns,
            row_format,
            ..
        } => (columns.clone(), row_format.clone()),
        #[cfg(feature = "dynamodb")]
        Side::Dynamo(dynamo) => (dynamo.ddl_columns.clone(), RowFormat::DynamoRows),
        Side::Unstaged(why) => {
            note(ctx, why)?;
            return Ok(None);
        }
    };
    s3::make_dir(&dir).await.map_err(|e| {
        TaskResult::failed(
            error_id::STAGING_FAILED,
            format!("{}: cannot create {}: {e}", slot.what, dir.display()),
        )
    })?;
    Ok(Some(Table {
        name: slot.name.clone(),
        columns,
        row_format,
        location: file_uri(&dir),
    }))
}

/// Moves what the script wrote into an output table to its data node.
pub async fn publish(
    ctx: &AttemptContext,
    stores: &ObjectStores,
    slot: &Slot,
    work_dir: &Path,
) -> Result<(), TaskResult> {
    let dir = work_dir.join(&slot.name);
    match &slot.side {
        Side::S3 { side, .. } => {
            let scratch = work_dir.join("publish").join(&slot.name);
            let line = s3::publish_output(stores, &slot.what, side, &dir, &scratch).await?;
            note(ctx, &line)
        }
        #[cfg(feature = "dynamodb")]
        Side::Dynamo(dynamo) => {
            let count = dynamo.import(ctx, &slot.what, &dir).await?;
            note(
                ctx,
                &format!(
                    "{}: wrote {count} items into table {}",
                    slot.what, dynamo.table.table_name
                ),
            )
        }
        Side::Unstaged(_) => Ok(()),
    }
}
