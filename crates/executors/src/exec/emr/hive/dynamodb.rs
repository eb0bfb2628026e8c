//! `DynamoDBDataNode`s with a `DynamoDBDataFormat` as staged tables.
//!
//! On EMR, AWS maps such a node onto the table itself through EMR's DynamoDB storage handler,
//! which Spark does not have. Sluice stages it instead: an input table is scanned (within
//! the node's `readThroughputPercent`) into a file of the attempt before the script runs, and
//! the rows the script writes into an output table are written as items (within
//! `writeThroughputPercent`) after it succeeded. Each `column` is the attribute of the same
//! name, typed as `sluice_data::dynamodb::columns` maps Hive types; sets, lists and maps are
//! `STRING` columns holding JSON (`["a","b"]`, typed JSON for maps and lists).
//!
//! Writes are by key (an item with the same key is replaced) and are not undone if a later
//! write fails.

use std::path::Path;

use futures::StreamExt;
use sluice_data::aws::AwsError;
use sluice_data::dynamodb::Item;
use sluice_data::dynamodb::columns::{self, Column, ColumnType};
use sluice_model::{FieldValue, PipelineObject, TaskResult};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt};

use super::{ddl, rows, s3};
use crate::exec::error_id;
use crate::execute::AttemptContext;
use crate::types::dynamo_db_data_node::{DYNAMODB_REQUEST_FAILED, DynamoTable};

/// Items per write request batch.
const WRITE_CHUNK: usize = 500;

/// The name of the file an input table is scanned into.
const EXPORT_FILE: &str = "items";

/// A DynamoDB table staged through its `DynamoDBDataFormat`.
#[derive(Debug, Clone)]
pub struct DynamoSide {
    pub node: String,
    pub table: DynamoTable,
    columns: Vec<Column>,
    /// The staged table's `(name, Hive type)` columns.
    pub ddl_columns: Vec<(String, String)>,
}

impl DynamoSide {
    /// The node's table and columns, or `None` when it has no `dataFormat` (AWS leaves such a
    /// node unstaged: the script maps the table itself).
    pub fn from_node(
        ctx: &AttemptContext,
        what: &str,
        node: &PipelineObject,
    ) -> Result<Option<DynamoSide>, TaskResult> {
        let invalid =
            |m: String| TaskResult::failed(error_id::INVALID_TASK, format!("{what}: {m}"));
        let Some(format) = node
            .values("dataFormat")
            .find_map(FieldValue::as_ref_id)
            .and_then(|id| ctx.task.objects.get(id))
        else {
            return Ok(None);
        };
        let format_type = format.object_type().unwrap_or("untyped");
        if format_type != "DynamoDBDataFormat" {
            return Err(TaskResult::failed(
                error_id::UNSUPPORTED,
                format!(
                    "{what}: DynamoDBDataNode {} has a {format_type} dataFormat ({}); a staged \
                     DynamoDB table needs a DynamoDBDataFormat",
                    node.id, format.id
                ),
            ));
        }
        let table = DynamoTable::from_object(node).map_err(invalid)?;
        let declared = ddl::columns_of(format).map_err(invalid)?;
        let columns = crate::types::dynamo_db_data_format::columns_of(format).map_err(invalid)?;
        let ddl_columns = declared
            .into_iter()
            .zip(&columns)
            .map(|((name, ty), column)| match column.column_type {
                ColumnType::String
                | ColumnType::Number
                | ColumnType::Boolean
                | ColumnType::Binary => (name, ty),
                ColumnType::StringSet
                | ColumnType::NumberSet
                | ColumnType::BinarySet
                | ColumnType::Json => (name, "STRING".to_owned()),
            })
            .collect();
        Ok(Some(DynamoSide {
            node: node.id.clone(),
            table,
            columns,
            ddl_columns,
        }))
    }

    fn failed(&self, what: &str, err: AwsError) -> TaskResult {
        TaskResult::failed(
            DYNAMODB_REQUEST_FAILED,
            format!(
                "{what}: DynamoDBDataNode {} (table {}): {err}",
                self.node, self.table.table_name
            ),
        )
    }

    /// Scans the table into `dir`; returns how many items were read.
    pub async fn export(
        &self,
        ctx: &AttemptContext,
        what: &str,
        dir: &Path,
    ) -> Result<u64, TaskResult> {
        let write_failed = |e: std::io::Error| {
            TaskResult::failed(
                error_id::STAGING_FAILED,
                format!("{what}: cannot write {}: {e}", dir.display()),
            )
        };
        let open = self
            .table
            .open(&ctx.settings.data)
            .await
            .map_err(|e| self.failed(what, e))?;
        s3::make_dir(dir).await.map_err(write_failed)?;
        let file = tokio::fs::File::create(dir.join(EXPORT_FILE))
            .await
            .map_err(write_failed)?;
        let mut out = tokio::io::BufWriter::new(file);
        let mut scan = Box::pin(open.scan(open.read_limiter()));
        let mut count = 0;
        while let Some(item) = scan.next().await {
            let item = item.map_err(|e| self.failed(what, e))?;
            let line = rows::encode(&columns::item_to_row(&item, &self.columns));
            out.write_all(line.as_bytes()).await.map_err(write_failed)?;
            count += 1;
        }
        out.flush().await.map_err(write_failed)?;
        Ok(count)
    }

    /// Writes the rows of the files in `dir` into the table; returns how many items were
    /// written.
    pub async fn import(
        &self,
        ctx: &AttemptContext,
        what: &str,
        dir: &Path,
    ) -> Result<u64, TaskResult> {
        let read_failed = |path: &Path, e: std::io::Error| {
            TaskResult::failed(
                error_id::STAGING_FAILED,
                format!("{what}: cannot read {}: {e}", path.display()),
            )
        };
        let files = s3::data_files(dir).await.map_err(|e| read_failed(dir, e))?;
        if files.is_empty() {
            return Ok(0);
        }
        let open = self
            .table
            .open(&ctx.settings.data)
            .await
            .map_err(|e| self.failed(what, e))?;
        let limiter = open.write_limiter();
        let mut pending: Vec<Item> = Vec::new();
        let mut written = 0;
        for file in &files {
            let reader = tokio::fs::File::open(file)
                .await
                .map_err(|e| read_failed(file, e))?;
            let mut lines = tokio::io::BufReader::new(reader).lines();
            let mut number = 0;
            while let Some(line) = lines.next_line().await.map_err(|e| read_failed(file, e))? {
                number += 1;
                let item =
                    columns::row_to_item(&rows::decode(&line), &self.columns).map_err(|e| {
                        TaskResult::failed(
                            error_id::STEP_FAILED,
                            format!(
                                "{what}: line {number} of {} does not fit the columns of {}: {e}",
                                file.display(),
                                self.node
                            ),
                        )
                    })?;
                pending.push(item);
                if pending.len() >= WRITE_CHUNK {
                    let batch = std::mem::take(&mut pending);
                    written += open
                        .write(batch, &limiter)
                        .await
                        .map_err(|e| self.failed(what, e))?
                        .items;
                }
            }
        }
        if !pending.is_empty() {
            written += open
                .write(pending, &limiter)
                .await
                .map_err(|e| self.failed(what, e))?
                .items;
        }
        Ok(written)
    }
}
