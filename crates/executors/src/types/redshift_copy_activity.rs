//! `RedshiftCopyActivity`: copies data into or out of Redshift (dp-object-redshiftcopyactivity).
//!
//! Loads an S3DataNode or a DynamoDBDataNode into a RedshiftDataNode over the PostgreSQL
//! protocol, so any PostgreSQL-protocol warehouse works. In one transaction: the input is
//! streamed with `COPY staging FROM STDIN` into a temporary table `staging` shaped like the
//! target (DynamoDB items by attribute name, as Redshift's COPY from DynamoDB does), then
//! `transformSql` (if any) turns `staging` into the rows to load, then `insertMode` decides how
//! they meet the target's rows — matched on `primaryKeys` (or the table's primary key):
//!
//! * `KEEP_EXISTING`: only rows whose key is not in the table yet are added;
//! * `OVERWRITE_EXISTING`: rows with a matching key are replaced, the others added;
//! * `TRUNCATE`: every existing row is deleted first;
//! * `APPEND`: every row is added.
//!
//! A failure anywhere rolls everything back. `commandOptions` and `queue` are Redshift-specific
//! and not applied. A build without the `dynamodb` feature loads from S3 only.

use crate::execute::{AttemptContext, ExecFuture, Execute};
use crate::types::copy_activity::{
    Failure, S3Node, produce_files, run_cancellable, s3_node, single_ref,
};
#[cfg(feature = "dynamodb")]
use crate::types::dynamo_db_data_node::{DynamoTable, OpenTable};
use sluice_data::format::objects::{CHANNEL_BATCHES, ObjectFile};
use sluice_data::sql::table::copy_in;
use sluice_data::sql::{Engine, SqlConn, SqlError};
use tokio::sync::mpsc;

/// Executes `RedshiftCopyActivity` attempts.
pub struct RedshiftCopyActivity;

/// The `errorId` of a load that failed.
pub(crate) const REDSHIFT_COPY_FAILED: &str = "RedshiftCopyFailed";

impl Execute for RedshiftCopyActivity {
    fn execute<'a>(&'a self, ctx: &'a AttemptContext) -> ExecFuture<'a> {
        Box::pin(run_cancellable(ctx, Box::pin(run(ctx))))
    }
}

async fn run(ctx: &AttemptContext) -> Result<String, Failure> {
    let mode = ctx.field("insertMode").unwrap_or("");
    if !sluice_catalog::types::INSERT_MODE_VALUES.contains(&mode) {
        return Err(Failure::invalid(format!(
            "insertMode {mode:?} is not one of {}",
            sluice_catalog::types::INSERT_MODE_VALUES.join(", ")
        )));
    }
    let input = single_ref(ctx, "input")?;
    let output = single_ref(ctx, "output")?;
    if output.object_type() != Some("RedshiftDataNode") {
        return Err(Failure::invalid(format!(
            "RedshiftCopyActivity loads into a RedshiftDataNode; output {} is a {}",
            output.id,
            output.object_type().unwrap_or("node without a type")
        )));
    }
    let source = match input.object_type() {
        Some("S3DataNode") => Source::S3(s3_node(ctx, input)?),
        #[cfg(feature = "dynamodb")]
        Some("DynamoDBDataNode") => {
            Source::Dynamo(DynamoTable::from_object(input).map_err(Failure::invalid)?)
        }
        #[cfg(not(feature = "dynamodb"))]
        Some("DynamoDBDataNode") => {
            return Err(Failure::with(crate::exec::error_id::UNSUPPORTED)(
                sluice_data::left_out(
                    format!("RedshiftCopyActivity from DynamoDBDataNode {}", input.id),
                    "DynamoDB",
                    "dynamodb",
                ),
            ));
        }
        other => {
            return Err(Failure::invalid(format!(
                "RedshiftCopyActivity loads from an S3DataNode or a DynamoDBDataNode; input {} is a {}",
                input.id,
                other.unwrap_or("node without a type")
            )));
        }
    };
    let to = crate::types::sql_data_node::sql_node(ctx, output).map_err(Failure::invalid)?;
    if to.target.engine != Engine::Postgresql {
        return Err(Failure::invalid(format!(
            "RedshiftDataNode {} must be on a PostgreSQL-protocol database, not {}",
            to.id,
            to.target.engine.name()
        )));
    }
    let failed = Failure::with(REDSHIFT_COPY_FAILED);
    let in_node = |e: SqlError| failed(format!("{}: {e}", to.id));
    let source = match source {
        Source::S3(from) => {
            let files = from.inputs().await?;
            Opened::S3(from, files)
        }
        #[cfg(feature = "dynamodb")]
        Source::Dynamo(table) => Opened::Dynamo(
            input.id.clone(),
            table
                .open(&ctx.settings.data)
                .await
                .map_err(|e| failed(format!("{}: {e}", input.id)))?,
        ),
    };
    let mut conn = SqlConn::connect(&to.target).await.map_err(in_node)?;
    to.table.ensure(&mut conn).await.map_err(in_node)?;
    let table = to.table.qualified();
    let mut keys = crate::types::redshift_data_node::primary_keys(output);
    if keys.is_empty() {
        keys = conn
            .primary_key(to.table.schema.as_deref(), &to.table.table)
            .await
            .map_err(in_node)?;
    }
    if keys.is_empty() && matches!(mode, "KEEP_EXISTING" | "OVERWRITE_EXISTING") {
        return Err(Failure::invalid(format!(
            "insertMode {mode} matches rows on a key, but table {table} has no primary key and {} sets no primaryKeys",
            to.id
        )));
    }
    conn.begin().await.map_err(in_node)?;
    conn.execute_raw(&format!("CREATE TEMPORARY TABLE staging (LIKE {table})"))
        .await
        .map_err(in_node)?;
    let (tx, rx) = mpsc::channel(CHANNEL_BATCHES);
    let (records, described) = match &source {
        Opened::S3(from, files) => {
            let (produced, copied) = futures::future::join(
                produce_files(from, files.clone(), tx),
                copy_in(&mut conn, "COPY staging FROM STDIN", rx),
            )
            .await;
            produced?;
            let records =
                copied.map_err(|e| failed(format!("loading {} into staging: {e}", from.id)))?;
            (records, from.location.uri.clone())
        }
        #[cfg(feature = "dynamodb")]
        Opened::Dynamo(id, table) => dynamo::load(&mut conn, id, table, &to.id, tx, rx).await?,
    };
    let source = match ctx.field("transformSql") {
        Some(sql) => {
            conn.execute_raw(&format!(
                "CREATE TEMPORARY TABLE staging_transformed AS {sql}"
            ))
            .await
            .map_err(|e| failed(format!("transformSql: {e}")))?;
            "staging_transformed"
        }
        None => "staging",
    };
    for sql in merge_statements(mode, &table, source, &keys) {
        conn.execute_raw(&sql).await.map_err(in_node)?;
    }
    conn.commit().await.map_err(in_node)?;
    conn.close().await;
    Ok(format!(
        "loaded {records} records from {described} into {} (table {table}, insertMode {mode})",
        to.id
    ))
}

/// Where the rows come from, as the node says.
enum Source {
    S3(S3Node),
    #[cfg(feature = "dynamodb")]
    Dynamo(DynamoTable),
}

/// The source, ready to read: the S3 objects listed, the DynamoDB table described.
enum Opened {
    S3(S3Node, Vec<ObjectFile>),
    /// The input node's id and its table.
    #[cfg(feature = "dynamodb")]
    Dynamo(String, OpenTable),
}

/// Loading from a DynamoDB table.
#[cfg(feature = "dynamodb")]
mod dynamo {
    use super::{Failure, OpenTable, REDSHIFT_COPY_FAILED};
    use sluice_data::dynamodb::Item;
    use sluice_data::dynamodb::columns::{Column, ColumnType, item_to_row};
    use sluice_data::format::Record;
    use sluice_data::format::objects::{BATCH_RECORDS, Chunk};
    use sluice_data::sql::table::copy_in;
    use sluice_data::sql::{SqlConn, SqlError};
    use tokio::sync::mpsc;

    /// Streams the table's items into `staging`, each attribute into the column of its name;
    /// returns how many, and the source as messages name it. `to_id` is the output node.
    pub(super) async fn load(
        conn: &mut SqlConn,
        id: &str,
        table: &OpenTable,
        to_id: &str,
        tx: mpsc::Sender<Chunk>,
        rx: mpsc::Receiver<Chunk>,
    ) -> Result<(u64, String), Failure> {
        let failed = Failure::with(REDSHIFT_COPY_FAILED);
        let columns = staging_columns(conn)
            .await
            .map_err(|e| failed(format!("{to_id}: {e}")))?;
        let copy = format!(
            "COPY staging ({}) FROM STDIN",
            columns
                .iter()
                .map(|c| quote_ident(c))
                .collect::<Vec<_>>()
                .join(", ")
        );
        let (produced, copied) = futures::future::join(
            produce_items(id, table, &columns, tx),
            copy_in(conn, &copy, rx),
        )
        .await;
        produced?;
        let records = copied.map_err(|e| failed(format!("loading {id} into staging: {e}")))?;
        Ok((
            records,
            format!(
                "DynamoDB table {} at {}",
                table.node.table_name,
                table.client.describe()
            ),
        ))
    }

    /// The columns of `staging` (shaped like the target), in table order.
    async fn staging_columns(conn: &mut SqlConn) -> Result<Vec<String>, SqlError> {
        use futures::TryStreamExt;
        let sql = "SELECT attname FROM pg_attribute WHERE attrelid = 'staging'::regclass \
                   AND attnum > 0 AND NOT attisdropped ORDER BY attnum";
        let rows: Vec<_> = conn
            .fetch_text(sql)
            .try_collect()
            .await
            .map_err(|e| SqlError::Config(format!("reading the columns of staging: {e}")))?;
        Ok(rows
            .into_iter()
            .filter_map(|row| row.into_iter().next().flatten())
            .collect())
    }

    fn quote_ident(name: &str) -> String {
        format!("\"{}\"", name.replace('"', "\"\""))
    }

    /// Scans the table within its `readThroughputPercent` and sends each item as a row of
    /// `columns`, then `Commit`. As Redshift's COPY from DynamoDB does, an attribute fills the
    /// column of the same name compared case-insensitively (an exact match wins), a column with
    /// no attribute gets NULL, and attributes without a column are ignored. Strings and numbers
    /// load as their text, booleans as `true`/`false`; other types as their typed JSON.
    async fn produce_items(
        id: &str,
        table: &OpenTable,
        columns: &[String],
        tx: mpsc::Sender<Chunk>,
    ) -> Result<u64, Failure> {
        use futures::StreamExt;
        let mut items = std::pin::pin!(table.scan(table.read_limiter()));
        let mut batch = Vec::with_capacity(BATCH_RECORDS);
        let mut count = 0u64;
        while let Some(item) = items.next().await {
            let item = item
                .map_err(|e| Failure::with(REDSHIFT_COPY_FAILED)(format!("reading {id}: {e}")))?;
            batch.push(item_record(&item, columns));
            count += 1;
            if batch.len() == BATCH_RECORDS {
                let full = std::mem::replace(&mut batch, Vec::with_capacity(BATCH_RECORDS));
                if tx.send(Chunk::Records(full)).await.is_err() {
                    // The loader stopped; its side reports why.
                    return Ok(count);
                }
            }
        }
        if !batch.is_empty() && tx.send(Chunk::Records(batch)).await.is_err() {
            return Ok(count);
        }
        let _ = tx.send(Chunk::Commit).await;
        Ok(count)
    }

    /// The row `item` gives for `columns`.
    fn item_record(item: &Item, columns: &[String]) -> Record {
        let attributes: Vec<Column> = columns
            .iter()
            .map(|column| {
                let name = if item.contains_key(column) {
                    column.clone()
                } else {
                    item.keys()
                        .find(|k| k.eq_ignore_ascii_case(column))
                        .cloned()
                        // No attribute: a name the item cannot have, so the value is NULL.
                        .unwrap_or_default()
                };
                Column {
                    name,
                    column_type: ColumnType::String,
                }
            })
            .collect();
        let mut record = item_to_row(item, &attributes);
        for (value, column) in record.iter_mut().zip(&attributes) {
            if column.name.is_empty() {
                *value = None;
            }
        }
        record
    }
}

/// The statements that move `source`'s rows into `table` under `mode`.
fn merge_statements(mode: &str, table: &str, source: &str, keys: &[String]) -> Vec<String> {
    let matches = keys
        .iter()
        .map(|k| format!("t.{k} = s.{k}"))
        .collect::<Vec<_>>()
        .join(" AND ");
    let insert_all = format!("INSERT INTO {table} SELECT * FROM {source}");
    match mode {
        "KEEP_EXISTING" => vec![format!(
            "INSERT INTO {table} SELECT s.* FROM {source} s \
             WHERE NOT EXISTS (SELECT 1 FROM {table} t WHERE {matches})"
        )],
        "OVERWRITE_EXISTING" => vec![
            format!("DELETE FROM {table} t USING {source} s WHERE {matches}"),
            insert_all,
        ],
        "TRUNCATE" => vec![format!("DELETE FROM {table}"), insert_all],
        _ => vec![insert_all],
    }
}

#[cfg(test)]
mod tests {
    use super::merge_statements;

    #[test]
    fn merge_statements_per_mode() {
        let keys = vec!["id".to_string(), "day".to_string()];
        let keep = merge_statements("KEEP_EXISTING", "s.t", "staging", &keys);
        assert_eq!(keep.len(), 1);
        assert!(
            keep[0].contains("NOT EXISTS") && keep[0].contains("t.id = s.id AND t.day = s.day")
        );
        let over = merge_statements("OVERWRITE_EXISTING", "s.t", "staging", &keys);
        assert!(over[0].starts_with("DELETE FROM s.t t USING staging s"));
        assert_eq!(
            merge_statements("TRUNCATE", "t", "staging", &[])[0],
            "DELETE FROM t"
        );
        assert_eq!(
            merge_statements("APPEND", "t", "x", &[]),
            vec!["INSERT INTO t SELECT * FROM x"]
        );
    }
}
