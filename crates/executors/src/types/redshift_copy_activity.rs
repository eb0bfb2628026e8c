//! `RedshiftCopyActivity`: copies data into or out of Redshift (dp-object-redshiftcopyactivity).
//!
//! Over the PostgreSQL protocol, so any PostgreSQL-protocol warehouse works, in two directions.
//!
//! **Load**: an S3DataNode or a DynamoDBDataNode into a RedshiftDataNode. In one transaction:
//! the input is streamed with `COPY staging FROM STDIN` into a temporary table `staging` shaped
//! like the target (DynamoDB items by attribute name, as Redshift's COPY from DynamoDB does),
//! then `transformSql` (if any) turns `staging` into the rows to load, then `insertMode`
//! decides how they meet the target's rows — matched on `primaryKeys` (or the table's primary
//! key):
//!
//! * `KEEP_EXISTING`: only rows whose key is not in the table yet are added;
//! * `OVERWRITE_EXISTING`: rows with a matching key are replaced, the others added;
//! * `TRUNCATE`: every existing row is deleted first;
//! * `APPEND`: every row is added.
//!
//! A failure anywhere rolls everything back. `commandOptions` and `queue` are Redshift-specific
//! and not applied. A build without the `dynamodb` feature loads from S3 only.
//!
//! **Unload**: a RedshiftDataNode into an S3DataNode, what AWS does with Redshift's `UNLOAD`.
//! The node's `selectQuery` (or its whole table) streams from the database through a bounded
//! channel into S3 objects, as CopyActivity's SQL → S3 direction does (the same producer and
//! the same uploads that appear only when committed).
//!
//! Design decisions (AWS documents only that the direction exists and that `commandOptions`
//! takes UNLOAD options such as `PARALLEL OFF`):
//! * Records are written in the output node's `dataFormat` (CSV, TSV or Custom); without one,
//!   in what the UNLOAD format options (`CSV`, `DELIMITER`, `ADDQUOTES`, `ESCAPE`, `NULL AS`)
//!   describe, starting from UNLOAD's `|`-delimited text; without those either, in CSV, what
//!   every Sluice node without a `dataFormat` reads, so a following CopyActivity of the same
//!   node (AWS's RedshiftToRDS sample) reads it back. A `dataFormat` together with format
//!   options is refused: AWS ignores `commandOptions` when a data format is set, and Sluice
//!   ignores nothing silently.
//! * The other UNLOAD options are honoured as Redshift does (`HEADER`, `GZIP`, `PARALLEL`,
//!   `MANIFEST`, `MAXFILESIZE`, `ALLOWOVERWRITE`, `CLEANPATH`, `EXTENSION`); every other one
//!   (Parquet, JSON, fixed width, bzip2, zstd, encryption, partitions, authorization, region,
//!   COPY options) is refused naming it, never its value.
//! * Names: a `directoryPath` is UNLOAD's prefix `<dir>/`: `0000_part_00`, `0000_part_01`, …
//!   (one reader is one slice), or `000`, `001`, … with `PARALLEL OFF`; `.gz` with gzip, or
//!   the `EXTENSION`; the manifest is `<dir>/manifest`. A new file starts before one could pass
//!   `MAXFILESIZE` (6.2 GB by default), counting each record at its largest encoded size
//!   before compression. A `filePath` is the one object written, whatever its size; the
//!   options that need names of their own (`MAXFILESIZE`, `MANIFEST`, `EXTENSION`) are refused
//!   with it. An empty result still writes one file, so readers find the output.
//! * `insertMode` says what happens to objects already there. `KEEP_EXISTING` and `APPEND`
//!   keep them: an object at a name the unload could write fails the attempt before anything
//!   is written (UNLOAD's rule without `ALLOWOVERWRITE`). `OVERWRITE_EXISTING` replaces such
//!   objects. `TRUNCATE` replaces them and then deletes the older unload files in the
//!   directory that this run did not rewrite, so the directory holds exactly this unload;
//!   other objects are left alone. `CLEANPATH` deletes everything else under the directory.
//!   Deletions happen after the new files are complete, so a failure keeps the old output.
//! * A failed attempt deletes the files it had completed (a canceled one in the background),
//!   as CopyActivity does for directories; files it replaced are gone with them.
//! * `transformSql` and a `manifestFilePath` on the output are refused: they describe loads.

use crate::execute::{AttemptContext, ExecFuture, Execute};
use crate::types::copy_activity::{
    Failure, S3Node, produce_files, run_cancellable, s3_node, single_ref,
};
#[cfg(feature = "dynamodb")]
use crate::types::dynamo_db_data_node::{DynamoTable, OpenTable};
use crate::types::sql_data_node::{SqlNode, sql_node};
use sluice_data::format::objects::{CHANNEL_BATCHES, ObjectFile};
use sluice_data::sql::table::copy_in;
use sluice_data::sql::{Engine, SqlConn, SqlError};
use sluice_model::PipelineObject;
use tokio::sync::mpsc;

/// Executes `RedshiftCopyActivity` attempts.
pub struct RedshiftCopyActivity;

/// The `errorId` of a load or unload that failed.
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
    if input.object_type() == Some("RedshiftDataNode") {
        return unload::run(ctx, input, output, mode).await;
    }
    load(ctx, input, output, mode).await
}

/// A RedshiftDataNode's table, which must be on a PostgreSQL-protocol database.
fn redshift_node(ctx: &AttemptContext, node: &PipelineObject) -> Result<SqlNode, Failure> {
    let node = sql_node(ctx, node).map_err(Failure::invalid)?;
    if node.target.engine != Engine::Postgresql {
        return Err(Failure::invalid(format!(
            "RedshiftDataNode {} must be on a PostgreSQL-protocol database, not {}",
            node.id,
            node.target.engine.name()
        )));
    }
    Ok(node)
}

/// Fails unless the output `node` is a `type_name`; `what` says what the activity does.
fn expect_type(node: &PipelineObject, type_name: &str, what: &str) -> Result<(), Failure> {
    if node.object_type() == Some(type_name) {
        return Ok(());
    }
    Err(Failure::invalid(format!(
        "RedshiftCopyActivity {what}; output {} is a {}",
        node.id,
        node.object_type().unwrap_or("node without a type")
    )))
}

async fn load(
    ctx: &AttemptContext,
    input: &PipelineObject,
    output: &PipelineObject,
    mode: &str,
) -> Result<String, Failure> {
    expect_type(
        output,
        "RedshiftDataNode",
        "loads into a RedshiftDataNode (or unloads one into an S3DataNode)",
    )?;
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
                "RedshiftCopyActivity loads from an S3DataNode or a DynamoDBDataNode (or unloads a RedshiftDataNode); input {} is a {}",
                input.id,
                other.unwrap_or("node without a type")
            )));
        }
    };
    let to = redshift_node(ctx, output)?;
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

/// Unloading a RedshiftDataNode into an S3DataNode, as Redshift's `UNLOAD` does.
mod unload {
    use super::options::UnloadOptions;
    use super::{Failure, REDSHIFT_COPY_FAILED, expect_type, redshift_node};
    use crate::execute::AttemptContext;
    use crate::types::copy_activity::{S3Node, produce_sql, s3_node};
    use crate::types::sql_data_node::SqlNode;
    use sluice_data::format::objects::{BATCH_RECORDS, CHANNEL_BATCHES, Chunk, ObjectFile};
    use sluice_data::format::{
        Compression, FinishWrite, FormatError, FormatKind, Record, RecordFormat, RecordWrite,
        UnloadText, WriteFormat,
    };
    use sluice_data::sql::SqlConn;
    use sluice_data::storage::Listed;
    use sluice_model::PipelineObject;
    use tokio::sync::mpsc;
    use tokio::task::JoinHandle;

    const MB: u64 = 1024 * 1024;
    /// Redshift's largest unload file, and so the default `MAXFILESIZE`: 6.2 GB.
    pub(super) const MAX_FILE_BYTES: u64 = 62 * 1024 * MB / 10;
    /// The smallest `MAXFILESIZE` Redshift takes: 5 MB.
    pub(super) const MIN_FILE_BYTES: u64 = 5 * MB;

    pub(super) async fn run(
        ctx: &AttemptContext,
        input: &PipelineObject,
        output: &PipelineObject,
        mode: &str,
    ) -> Result<String, Failure> {
        expect_type(
            output,
            "S3DataNode",
            "unloads a RedshiftDataNode into an S3DataNode",
        )?;
        if ctx.field("transformSql").is_some() {
            return Err(Failure::invalid(format!(
                "transformSql transforms rows loaded into Redshift; to choose the rows an unload \
                 writes, give RedshiftDataNode {} a selectQuery",
                input.id
            )));
        }
        if output.string("manifestFilePath").is_some() {
            return Err(Failure::invalid(format!(
                "S3DataNode {}: manifestFilePath names files to load; an unload writes its \
                 manifest as <directoryPath>/manifest when commandOptions has MANIFEST",
                output.id
            )));
        }
        let from = redshift_node(ctx, input)?;
        let to = s3_node(ctx, output)?;
        let options = UnloadOptions::parse(&ctx.fields("commandOptions"))
            .map_err(|e| Failure::invalid(format!("commandOptions: {e}")))?;
        let plan = Plan::new(&options, &to, mode)?;
        let failed = Failure::with(REDSHIFT_COPY_FAILED);
        let mut conn = SqlConn::connect(&from.target)
            .await
            .map_err(|e| failed(format!("{}: {e}", from.id)))?;
        let header = match plan.header {
            true => Some(header_record(&mut conn, &from).await?),
            false => None,
        };
        let existing = plan.existing().await?;
        plan.check_overwrite(&existing)?;

        let mut written = Written::default();
        let (tx, rx) = mpsc::channel(CHANNEL_BATCHES);
        let (produced, parts) = futures::future::join(
            produce_sql(&from, &mut conn, tx),
            plan.write_parts(header.as_ref(), rx, &mut written),
        )
        .await;
        let outcome = match (produced, parts) {
            (Err(f), _) => Err(Failure {
                id: REDSHIFT_COPY_FAILED,
                ..f
            }),
            (Ok(_), Err(f)) => Err(f),
            (Ok(_), Ok(records)) => match plan.write_manifest(&written).await {
                Ok(manifest) => Ok((records, manifest)),
                Err(f) => Err(f),
            },
        };
        conn.close().await;
        let (records, manifest) = match outcome {
            Ok(done) => done,
            Err(f) => {
                written.discard().await;
                return Err(f);
            }
        };
        let files = written.keep();
        let removed = plan.clean_up(&existing, &files, manifest.as_ref()).await?;
        let mut summary = format!(
            "unloaded {records} records from {} ({} on {}) into {} ({} {} at {}",
            from.id,
            match &from.table.select_query {
                Some(_) => "selectQuery".to_string(),
                None => format!("table {}", from.table.qualified()),
            },
            from.target.describe(),
            to.id,
            files.len(),
            if files.len() == 1 {
                "object"
            } else {
                "objects"
            },
            to.location.uri,
        );
        if let Some(manifest) = &manifest {
            summary.push_str(&format!(", manifest {}", manifest.uri));
        }
        if removed > 0 {
            summary.push_str(&format!(", {removed} older objects deleted"));
        }
        summary.push(')');
        Ok(summary)
    }

    /// The query's column names, as `HEADER` writes them.
    async fn header_record(conn: &mut SqlConn, from: &SqlNode) -> Result<Record, Failure> {
        let names = conn
            .column_names(&from.table.select_sql())
            .await
            .map_err(|e| Failure::with(REDSHIFT_COPY_FAILED)(format!("{}: {e}", from.id)))?;
        Ok(names.into_iter().map(Some).collect())
    }

    /// How records are written: the output node's format, or UNLOAD's own.
    #[derive(Clone)]
    enum OutFormat {
        Node(RecordFormat),
        Unload(UnloadText),
    }

    impl WriteFormat for OutFormat {
        fn record_writer<'a>(
            &self,
            output: Box<dyn FinishWrite + 'a>,
        ) -> Result<Box<dyn RecordWrite + 'a>, FormatError> {
            match self {
                OutFormat::Node(format) => format.record_writer(output),
                OutFormat::Unload(format) => format.record_writer(output),
            }
        }
    }

    impl OutFormat {
        /// The most bytes `record` can take once written (before compression).
        fn bound(&self, record: &[Option<String>]) -> u64 {
            let fields = record.iter().map(|f| f.as_deref().unwrap_or(""));
            let separators = record.len() as u64 + 1;
            match self {
                OutFormat::Unload(format) => format.encoded_len(record) as u64,
                // Quoted, with every quote (or escape character) doubled.
                OutFormat::Node(RecordFormat {
                    kind: FormatKind::Csv { escape },
                    ..
                }) => {
                    let extra = |b: &u8| *b == b'"' || Some(*b) == *escape;
                    fields
                        .map(|f| f.len() as u64 + 2 + f.bytes().filter(extra).count() as u64)
                        .sum::<u64>()
                        + separators
                }
                // Every byte escaped.
                OutFormat::Node(_) => fields.map(|f| 2 * f.len() as u64).sum::<u64>() + separators,
            }
        }
    }

    /// Where the files go and what they are called.
    enum Naming {
        /// `filePath`: exactly this object.
        File(ObjectFile),
        /// `directoryPath`, UNLOAD's prefix `<dir>/`.
        Dir {
            dir: ObjectFile,
            parallel: bool,
            /// `.gz`, or `.` and the `EXTENSION`, or nothing.
            suffix: String,
        },
    }

    impl Naming {
        fn file(&self, index: usize) -> ObjectFile {
            match self {
                Naming::File(file) => file.clone(),
                Naming::Dir {
                    dir,
                    parallel: true,
                    suffix,
                } => dir.child(&format!("0000_part_{index:02}{suffix}")),
                Naming::Dir {
                    dir,
                    parallel: false,
                    suffix,
                } => dir.child(&format!("{index:03}{suffix}")),
            }
        }

        /// Whether this unload could write a file called `name` in the directory.
        fn could_write(&self, name: &str) -> bool {
            let Naming::Dir {
                parallel, suffix, ..
            } = self
            else {
                return false;
            };
            let Some(base) = name.strip_suffix(suffix.as_str()) else {
                return false;
            };
            match parallel {
                true => base
                    .strip_prefix("0000_part_")
                    .is_some_and(|n| digits(n, 2)),
                false => digits(base, 3),
            }
        }
    }

    fn digits(text: &str, at_least: usize) -> bool {
        text.len() >= at_least && text.bytes().all(|b| b.is_ascii_digit())
    }

    /// Whether `name` is what some unload writes in a directory: a data file of either naming
    /// (`0000_part_00`, `000`, with any extension) or the manifest.
    pub(super) fn is_unload_file(name: &str) -> bool {
        let base = name.split('.').next().unwrap_or(name);
        let sliced = base
            .split_once("_part_")
            .is_some_and(|(slice, part)| slice.len() == 4 && digits(slice, 4) && digits(part, 2));
        base == "manifest" || digits(base, 3) || sliced
    }

    /// What goes after the new files are complete.
    enum CleanUp {
        Nothing,
        /// `TRUNCATE`: older unload files in the directory.
        UnloadFiles,
        /// `CLEANPATH`: everything under the directory.
        Everything,
    }

    struct Plan {
        node_id: String,
        stores: sluice_data::storage::ObjectStores,
        format: OutFormat,
        compression: Compression,
        naming: Naming,
        /// A file is cut before it could pass this many bytes; `None` for a `filePath`.
        max_bytes: Option<u64>,
        header: bool,
        manifest: bool,
        overwrite: bool,
        clean_up: CleanUp,
    }

    impl Plan {
        fn new(options: &UnloadOptions, to: &S3Node, mode: &str) -> Result<Plan, Failure> {
            let invalid =
                |message: String| Failure::invalid(format!("S3DataNode {}: {message}", to.id));
            let format = match &to.format_id {
                Some(id) => {
                    if let Some(option) = options.format_options.first() {
                        return Err(invalid(format!(
                            "commandOptions {option} sets the record format, which dataFormat \
                             {id} already sets; remove one of them"
                        )));
                    }
                    if matches!(to.format.kind, FormatKind::RegEx { .. }) {
                        return Err(invalid(format!(
                            "dataFormat {id} is RegEx; an unload writes CSV, TSV or Custom"
                        )));
                    }
                    OutFormat::Node(to.format.clone())
                }
                None if !options.format_options.is_empty() => {
                    OutFormat::Unload(options.unload_text())
                }
                None => OutFormat::Node(to.format.clone()),
            };
            let compression = match options.gzip {
                true => Compression::Gzip,
                false => to.compression,
            };
            let (naming, max_bytes) = if to.is_dir {
                let suffix = match (&options.extension, compression) {
                    (Some(ext), _) => format!(".{}", ext.trim_start_matches('.')),
                    (None, Compression::Gzip) => ".gz".to_string(),
                    (None, Compression::None) => String::new(),
                };
                let max = options.max_file_size.unwrap_or(MAX_FILE_BYTES);
                // Deflate can grow incompressible data a little; leave room for it.
                let max = match compression {
                    Compression::Gzip => max - max / 4096 - 1024,
                    Compression::None => max,
                };
                let naming = Naming::Dir {
                    dir: to.location.clone(),
                    parallel: !options.parallel_off,
                    suffix,
                };
                (naming, Some(max))
            } else {
                let needs_dir = [
                    ("MAXFILESIZE", options.max_file_size.is_some()),
                    ("MANIFEST", options.manifest),
                    ("EXTENSION", options.extension.is_some()),
                ];
                if let Some((option, _)) = needs_dir.iter().find(|(_, set)| *set) {
                    return Err(invalid(format!(
                        "commandOptions {option} needs a directoryPath output; a filePath names \
                         the one object written"
                    )));
                }
                (Naming::File(to.location.clone()), None)
            };
            Ok(Plan {
                node_id: to.id.clone(),
                stores: to.stores.clone(),
                format,
                compression,
                naming,
                max_bytes,
                header: options.header,
                manifest: options.manifest,
                overwrite: options.allow_overwrite
                    || options.clean_path
                    || matches!(mode, "TRUNCATE" | "OVERWRITE_EXISTING"),
                clean_up: if options.clean_path {
                    CleanUp::Everything
                } else if mode == "TRUNCATE" {
                    CleanUp::UnloadFiles
                } else {
                    CleanUp::Nothing
                },
            })
        }

        fn failed(&self, message: impl std::fmt::Display) -> Failure {
            Failure::with(REDSHIFT_COPY_FAILED)(format!("S3DataNode {}: {message}", self.node_id))
        }

        /// The objects already under the directory (every level), or the file if it exists.
        async fn existing(&self) -> Result<Vec<Listed>, Failure> {
            let (uri, dir) = match &self.naming {
                Naming::File(file) => (&file.uri, false),
                Naming::Dir { dir, .. } => (&dir.uri, true),
            };
            let location = self.stores.resolve(uri).map_err(|e| self.failed(e))?;
            if dir {
                return location.list().await.map_err(|e| self.failed(e));
            }
            let exists = location.exists().await.map_err(|e| self.failed(e))?;
            Ok(exists
                .then(|| Listed {
                    uri: uri.clone(),
                    relative: String::new(),
                    size: 0,
                })
                .into_iter()
                .collect())
        }

        /// Fails, before anything is written, when the unload would replace an object and
        /// may not.
        fn check_overwrite(&self, existing: &[Listed]) -> Result<(), Failure> {
            if self.overwrite {
                return Ok(());
            }
            let clash = existing.iter().find(|o| match &self.naming {
                Naming::File(_) => true,
                Naming::Dir { .. } => {
                    !o.relative.contains('/')
                        && (self.naming.could_write(&o.relative)
                            || (self.manifest && o.relative == "manifest"))
                }
            });
            match clash {
                Some(object) => Err(self.failed(format!(
                    "{} already exists, and an unload does not overwrite files: add \
                     ALLOWOVERWRITE to commandOptions, or use insertMode TRUNCATE or \
                     OVERWRITE_EXISTING",
                    object.uri
                ))),
                None => Ok(()),
            }
        }

        /// Writes the records received on `rx` (then `Commit`) into as many files as the size
        /// limit needs, at least one; every completed file goes into `written`. Returns how
        /// many records were written.
        async fn write_parts(
            &self,
            header: Option<&Record>,
            mut rx: mpsc::Receiver<Chunk>,
            written: &mut Written,
        ) -> Result<u64, Failure> {
            let mut part: Option<Part> = None;
            let mut records = 0u64;
            loop {
                match rx.recv().await {
                    Some(Chunk::Records(batch)) => {
                        for record in batch {
                            let size = self.format.bound(&record);
                            if let (Some(open), Some(max)) = (&part, self.max_bytes)
                                && open.records > 0
                                && open.bytes + size > max
                            {
                                let full = part.take().expect("an open part");
                                written.files.push(full.finish(self).await?);
                            }
                            let index = written.files.len();
                            let open = part.get_or_insert_with(|| self.open(index, header));
                            open.push(record, size, self).await?;
                            records += 1;
                        }
                    }
                    Some(Chunk::Commit) => break,
                    None => {
                        if let Some(open) = part {
                            open.abort().await;
                        }
                        return Err(self.failed("reading the rows stopped before the end"));
                    }
                }
            }
            let last = match part {
                Some(open) => open,
                None => self.open(written.files.len(), header),
            };
            written.files.push(last.finish(self).await?);
            Ok(records)
        }

        fn open(&self, index: usize, header: Option<&Record>) -> Part {
            let file = self.naming.file(index);
            let (tx, rx) = mpsc::channel(CHANNEL_BATCHES);
            let task = tokio::spawn({
                let (file, format, compression) =
                    (file.clone(), self.format.clone(), self.compression);
                async move { file.write_records(format, compression, rx).await }
            });
            let mut part = Part {
                file,
                tx,
                task,
                pending: Vec::with_capacity(BATCH_RECORDS),
                bytes: 0,
                records: 0,
            };
            if let Some(header) = header {
                part.bytes = self.format.bound(header);
                part.pending.push(header.clone());
            }
            part
        }

        /// With `MANIFEST`, writes `<dir>/manifest` listing `written`, as Redshift does.
        async fn write_manifest(&self, written: &Written) -> Result<Option<ObjectFile>, Failure> {
            let (true, Naming::Dir { dir, .. }) = (self.manifest, &self.naming) else {
                return Ok(None);
            };
            let entries: Vec<_> = written
                .files
                .iter()
                .map(|file| serde_json::json!({ "url": file.uri }))
                .collect();
            let text = serde_json::to_string_pretty(&serde_json::json!({ "entries": entries }))
                .map_err(|e| self.failed(e))?;
            let manifest = dir.child("manifest");
            self.stores
                .resolve(&manifest.uri)
                .map_err(|e| self.failed(e))?
                .put_bytes(text.into_bytes())
                .await
                .map_err(|e| self.failed(e))?;
            Ok(Some(manifest))
        }

        /// After a successful unload, deletes what `TRUNCATE` or `CLEANPATH` replaces;
        /// returns how many objects.
        async fn clean_up(
            &self,
            existing: &[Listed],
            files: &[ObjectFile],
            manifest: Option<&ObjectFile>,
        ) -> Result<usize, Failure> {
            let Naming::Dir { dir, .. } = &self.naming else {
                return Ok(0);
            };
            let new: Vec<&str> = files
                .iter()
                .chain(manifest)
                .map(|f| f.uri.as_str())
                .collect();
            let stale = existing.iter().filter(|o| {
                !new.contains(&o.uri.as_str())
                    && match self.clean_up {
                        CleanUp::Nothing => false,
                        CleanUp::UnloadFiles => {
                            !o.relative.contains('/') && is_unload_file(&o.relative)
                        }
                        CleanUp::Everything => true,
                    }
            });
            let mut removed = 0;
            for object in stale {
                dir.child(&object.relative)
                    .delete()
                    .await
                    .map_err(|e| self.failed(format!("deleting an older object: {e}")))?;
                removed += 1;
            }
            Ok(removed)
        }
    }

    /// One file being written: its upload runs in its own task, fed by `tx`.
    struct Part {
        file: ObjectFile,
        tx: mpsc::Sender<Chunk>,
        task: JoinHandle<Result<u64, sluice_data::format::objects::ObjectIoError>>,
        pending: Vec<Record>,
        /// The most bytes written so far, by [`OutFormat::bound`].
        bytes: u64,
        records: u64,
    }

    impl Part {
        async fn push(&mut self, record: Record, size: u64, plan: &Plan) -> Result<(), Failure> {
            self.pending.push(record);
            self.bytes += size;
            self.records += 1;
            if self.pending.len() >= BATCH_RECORDS {
                self.send(plan).await?;
            }
            Ok(())
        }

        async fn send(&mut self, plan: &Plan) -> Result<(), Failure> {
            let batch = std::mem::replace(&mut self.pending, Vec::with_capacity(BATCH_RECORDS));
            if self.tx.send(Chunk::Records(batch)).await.is_err() {
                // The upload stopped; its task says why.
                return Err(self.upload_error(plan).await);
            }
            Ok(())
        }

        async fn upload_error(&mut self, plan: &Plan) -> Failure {
            match (&mut self.task).await {
                Ok(Err(e)) => plan.failed(e),
                Ok(Ok(_)) => plan.failed(format!("{}: the upload ended early", self.file.uri)),
                Err(e) => plan.failed(format!("{}: {e}", self.file.uri)),
            }
        }

        /// Completes the object: it appears now.
        async fn finish(mut self, plan: &Plan) -> Result<ObjectFile, Failure> {
            if !self.pending.is_empty() {
                self.send(plan).await?;
            }
            if self.tx.send(Chunk::Commit).await.is_err() {
                return Err(self.upload_error(plan).await);
            }
            match (&mut self.task).await {
                Ok(Ok(_)) => Ok(self.file),
                Ok(Err(e)) => Err(plan.failed(e)),
                Err(e) => Err(plan.failed(format!("{}: {e}", self.file.uri))),
            }
        }

        /// Gives the object up: the upload is aborted and nothing appears.
        async fn abort(self) {
            let Part { tx, task, .. } = self;
            drop(tx);
            let _ = task.await;
        }
    }

    /// The objects this attempt completed. Unless kept, they are deleted again: at once when
    /// the unload fails, in the background when the attempt is canceled (its work dropped).
    #[derive(Default)]
    struct Written {
        files: Vec<ObjectFile>,
        kept: bool,
    }

    impl Written {
        async fn discard(&mut self) {
            for file in self.files.drain(..) {
                let _ = file.delete().await;
            }
        }

        fn keep(mut self) -> Vec<ObjectFile> {
            self.kept = true;
            std::mem::take(&mut self.files)
        }
    }

    impl Drop for Written {
        fn drop(&mut self) {
            if self.kept || self.files.is_empty() {
                return;
            }
            let files = std::mem::take(&mut self.files);
            if let Ok(runtime) = tokio::runtime::Handle::try_current() {
                runtime.spawn(async move {
                    for file in files {
                        let _ = file.delete().await;
                    }
                });
            }
        }
    }
}

/// `commandOptions` when unloading: Redshift `UNLOAD` options (r_UNLOAD).
mod options {
    use super::unload::{MAX_FILE_BYTES, MIN_FILE_BYTES};
    use sluice_data::format::UnloadText;

    /// The UNLOAD options Sluice honours, as given.
    #[derive(Debug, Clone, Default, PartialEq)]
    pub(super) struct UnloadOptions {
        pub csv: bool,
        pub delimiter: Option<u8>,
        pub add_quotes: bool,
        pub escape: bool,
        pub null_as: Option<String>,
        pub header: bool,
        pub gzip: bool,
        pub parallel_off: bool,
        pub manifest: bool,
        pub max_file_size: Option<u64>,
        pub allow_overwrite: bool,
        pub clean_path: bool,
        pub extension: Option<String>,
        /// The options given that shape records (`CSV`, `DELIMITER`, …), in order.
        pub format_options: Vec<&'static str>,
    }

    /// Options that write what Sluice does not: their names, and why.
    const NOT_WRITTEN: &[(&str, &str)] = &[
        ("PARQUET", "Parquet files"),
        ("JSON", "JSON files"),
        ("FIXEDWIDTH", "fixed-width files"),
        ("PARTITION", "partitioned files (PARTITION BY)"),
        ("ROWGROUPSIZE", "Parquet row groups"),
        ("BZIP2", "bzip2 files"),
        ("ZSTD", "Zstandard files"),
        ("ENCRYPTED", "client-side or KMS-encrypted files"),
        ("KMS_KEY_ID", "KMS-encrypted files"),
        ("MASTER_SYMMETRIC_KEY", "client-side encrypted files"),
    ];

    /// Options that say how Redshift reaches S3, which the runner's S3 settings say here.
    const REACHING_S3: &[&str] = &[
        "REGION",
        "IAM_ROLE",
        "CREDENTIALS",
        "ACCESS_KEY_ID",
        "SECRET_ACCESS_KEY",
        "SESSION_TOKEN",
    ];

    type Tokens = std::iter::Peekable<std::vec::IntoIter<Token>>;

    #[derive(Debug, Clone, PartialEq)]
    enum Token {
        /// A keyword or number, upper-cased.
        Word(String),
        /// A quoted value, unescaped.
        Quoted(String),
        Other(char),
    }

    impl UnloadOptions {
        /// Parses every `commandOptions` value, as one UNLOAD option list. An error names the
        /// option at fault and never echoes a value (authorization values are secrets).
        pub(super) fn parse(values: &[&str]) -> Result<UnloadOptions, String> {
            let mut tokens = tokenize(&values.join(" "))?.into_iter().peekable();
            let mut options = UnloadOptions::default();
            let mut seen: Vec<String> = Vec::new();
            while let Some(token) = tokens.next() {
                let word = match token {
                    Token::Word(word) => word,
                    Token::Quoted(_) => return Err("a quoted value follows no option".into()),
                    Token::Other(c) => return Err(format!("unexpected {c:?}")),
                };
                if seen.contains(&word) {
                    return Err(format!("{word} is given twice"));
                }
                seen.push(word.clone());
                match word.as_str() {
                    "FORMAT" => {
                        eat(&mut tokens, "AS");
                        match tokens.next() {
                            Some(Token::Word(w)) if w == "CSV" => options.set_csv(),
                            Some(Token::Word(w)) if w == "PARQUET" || w == "JSON" => {
                                return Err(not_written(&format!("FORMAT {w}"), &w));
                            }
                            _ => return Err("FORMAT needs CSV, PARQUET or JSON".into()),
                        }
                    }
                    "CSV" => options.set_csv(),
                    "MANIFEST" => {
                        if eat(&mut tokens, "VERBOSE") {
                            return Err(
                                "MANIFEST VERBOSE is not supported (MANIFEST is): Sluice does not \
                                 write the column types and sizes it lists"
                                    .into(),
                            );
                        }
                        options.manifest = true;
                    }
                    "HEADER" => options.header = true,
                    "DELIMITER" => {
                        eat(&mut tokens, "AS");
                        let text = quoted(&mut tokens, "DELIMITER")?;
                        match text.as_bytes() {
                            [b] if b.is_ascii() => options.delimiter = Some(*b),
                            _ => {
                                return Err(
                                    "DELIMITER must be one ASCII character, e.g. DELIMITER ','"
                                        .into(),
                                );
                            }
                        }
                        options.format_options.push("DELIMITER");
                    }
                    "ADDQUOTES" => {
                        options.add_quotes = true;
                        options.format_options.push("ADDQUOTES");
                    }
                    "ESCAPE" => {
                        options.escape = true;
                        options.format_options.push("ESCAPE");
                    }
                    "NULL" => {
                        eat(&mut tokens, "AS");
                        options.null_as = Some(quoted(&mut tokens, "NULL AS")?);
                        options.format_options.push("NULL AS");
                    }
                    "GZIP" => options.gzip = true,
                    "ALLOWOVERWRITE" => options.allow_overwrite = true,
                    "CLEANPATH" => options.clean_path = true,
                    "PARALLEL" => {
                        if eat(&mut tokens, "OFF") || eat(&mut tokens, "FALSE") {
                            options.parallel_off = true;
                        } else {
                            let _ = eat(&mut tokens, "ON") || eat(&mut tokens, "TRUE");
                        }
                    }
                    "MAXFILESIZE" => {
                        eat(&mut tokens, "AS");
                        options.max_file_size = Some(max_file_size(&mut tokens)?);
                    }
                    "EXTENSION" => {
                        let ext = quoted(&mut tokens, "EXTENSION")?;
                        if ext.trim_start_matches('.').is_empty() || ext.contains('/') {
                            return Err(
                                "EXTENSION must be a file extension such as 'csv' or 'txt.gz'"
                                    .into(),
                            );
                        }
                        options.extension = Some(ext);
                    }
                    other => return Err(refusal(other)),
                }
            }
            options.check_combinations()?;
            Ok(options)
        }

        fn set_csv(&mut self) {
            self.csv = true;
            self.format_options.push("CSV");
        }

        /// Redshift's own rules about options used together, plus `ESCAPE` with `CSV`, whose
        /// meaning UNLOAD does not document.
        fn check_combinations(&self) -> Result<(), String> {
            let both =
                |a: &str, b: &str, why: &str| Err(format!("{a} cannot be used with {b}: {why}"));
            if self.csv && self.add_quotes {
                return both("CSV", "ADDQUOTES", "CSV quotes the fields that need it");
            }
            if self.csv && self.escape {
                return both("CSV", "ESCAPE", "CSV quotes fields instead of escaping");
            }
            if self.clean_path && self.allow_overwrite {
                return both(
                    "CLEANPATH",
                    "ALLOWOVERWRITE",
                    "CLEANPATH already replaces what is there",
                );
            }
            Ok(())
        }

        /// The record format the format options describe, from UNLOAD's defaults.
        pub(super) fn unload_text(&self) -> UnloadText {
            let mut text = if self.csv {
                UnloadText::csv()
            } else {
                UnloadText::text()
            };
            if let Some(delimiter) = self.delimiter {
                text.delimiter = delimiter;
            }
            text.add_quotes = self.add_quotes;
            text.escape = self.escape;
            text.null_as = self.null_as.clone();
            text
        }
    }

    fn not_written(option: &str, word: &str) -> String {
        let what = NOT_WRITTEN
            .iter()
            .find(|(name, _)| *name == word)
            .map_or("such files", |(_, what)| what);
        format!(
            "{option} is not supported: Sluice unloads delimited text or CSV, uncompressed or \
             GZIP, and does not write {what}"
        )
    }

    /// Why `word` is refused.
    fn refusal(word: &str) -> String {
        if NOT_WRITTEN.iter().any(|(name, _)| *name == word) {
            let option = if word == "PARTITION" {
                "PARTITION BY"
            } else {
                word
            };
            return not_written(option, word);
        }
        if REACHING_S3.contains(&word) {
            return format!(
                "{word} is not used: Sluice writes to S3 with the runner's S3 settings \
                 (endpoint, region, credentials); remove it"
            );
        }
        format!(
            "{word} is not a Redshift UNLOAD option; when RedshiftCopyActivity unloads to S3, \
             commandOptions takes UNLOAD options (COPY options such as EMPTYASNULL apply to \
             loads)"
        )
    }

    /// Takes the next token if it is `keyword`.
    fn eat(tokens: &mut Tokens, keyword: &str) -> bool {
        let next = matches!(tokens.peek(), Some(Token::Word(w)) if w == keyword);
        if next {
            tokens.next();
        }
        next
    }

    fn quoted(tokens: &mut Tokens, option: &str) -> Result<String, String> {
        match tokens.next() {
            Some(Token::Quoted(text)) => Ok(text),
            _ => Err(format!("{option} needs a value in single quotes")),
        }
    }

    /// `n [MB | GB]` (MB when no unit), within what Redshift accepts: 5 MB to 6.2 GB.
    fn max_file_size(tokens: &mut Tokens) -> Result<u64, String> {
        let usage = "MAXFILESIZE needs a size such as MAXFILESIZE 100 MB or MAXFILESIZE 1 GB";
        let Some(Token::Word(number)) = tokens.next() else {
            return Err(usage.into());
        };
        let value: f64 = number.parse().map_err(|_| usage.to_string())?;
        let unit = match tokens.peek() {
            Some(Token::Word(w)) if w == "MB" || w == "GB" => {
                let unit = if w == "GB" {
                    1024.0 * 1024.0 * 1024.0
                } else {
                    1024.0 * 1024.0
                };
                tokens.next();
                unit
            }
            _ => 1024.0 * 1024.0,
        };
        let bytes = value * unit;
        if !(MIN_FILE_BYTES as f64..=MAX_FILE_BYTES as f64).contains(&bytes) {
            return Err(format!(
                "MAXFILESIZE {number} is out of range: Redshift takes 5 MB to 6.2 GB"
            ));
        }
        Ok(bytes as u64)
    }

    /// Splits option text into words (letters, digits, `_`, `.`), quoted values and other
    /// characters. Quoted values are Redshift string literals: `''` is a quote, and `\t`,
    /// `\n`, `\r`, `\\`, `\'` and three octal digits are escapes; any other backslash stays.
    fn tokenize(text: &str) -> Result<Vec<Token>, String> {
        let mut tokens = Vec::new();
        let mut chars = text.chars().peekable();
        while let Some(c) = chars.next() {
            if c.is_whitespace() {
                continue;
            }
            if c.is_ascii_alphanumeric() || c == '_' || c == '.' {
                let mut word = c.to_string();
                while let Some(&n) = chars.peek() {
                    if !(n.is_ascii_alphanumeric() || n == '_' || n == '.') {
                        break;
                    }
                    word.push(n);
                    chars.next();
                }
                tokens.push(Token::Word(word.to_ascii_uppercase()));
            } else if c == '\'' {
                tokens.push(Token::Quoted(literal(&mut chars)?));
            } else {
                tokens.push(Token::Other(c));
            }
        }
        Ok(tokens)
    }

    /// The rest of a quoted literal whose opening quote was read.
    fn literal(chars: &mut std::iter::Peekable<std::str::Chars<'_>>) -> Result<String, String> {
        let mut value = String::new();
        while let Some(c) = chars.next() {
            match c {
                '\'' if chars.peek() == Some(&'\'') => {
                    chars.next();
                    value.push('\'');
                }
                '\'' => return Ok(value),
                '\\' => value.push(escaped(chars)),
                c => value.push(c),
            }
        }
        Err("a quoted value has no closing quote".into())
    }

    /// What follows a backslash stands for (taken), or the backslash itself.
    fn escaped(chars: &mut std::iter::Peekable<std::str::Chars<'_>>) -> char {
        let simple = match chars.peek() {
            Some('t') => Some('\t'),
            Some('n') => Some('\n'),
            Some('r') => Some('\r'),
            Some('\\') => Some('\\'),
            Some('\'') => Some('\''),
            _ => None,
        };
        if let Some(c) = simple {
            chars.next();
            return c;
        }
        let octal: String = chars.clone().take(3).collect();
        if octal.len() == 3
            && octal.chars().all(|d| d.is_digit(8))
            && let Ok(byte) = u8::from_str_radix(&octal, 8)
            && byte.is_ascii()
        {
            chars.nth(2);
            return char::from(byte);
        }
        '\\'
    }
}

#[cfg(test)]
mod tests {
    use super::merge_statements;
    use super::options::UnloadOptions;
    use super::unload::is_unload_file;

    fn parse(options: &[&str]) -> Result<UnloadOptions, String> {
        UnloadOptions::parse(options)
    }

    #[test]
    fn unload_options_as_redshift_spells_them() {
        let options = parse(&[
            "DELIMITER AS '\\t'",
            "addquotes escape",
            "NULL AS 'it''s null'",
            "HEADER",
            "GZIP",
            "PARALLEL OFF",
            "MANIFEST",
            "MAXFILESIZE AS 5.5 MB",
            "ALLOWOVERWRITE",
            "EXTENSION 'txt.gz'",
        ])
        .unwrap();
        assert_eq!(options.delimiter, Some(b'\t'));
        assert!(options.add_quotes && options.escape && options.header && options.gzip);
        assert!(options.parallel_off && options.manifest && options.allow_overwrite);
        assert_eq!(options.null_as.as_deref(), Some("it's null"));
        assert_eq!(options.max_file_size, Some(5 * 1024 * 1024 + 512 * 1024));
        assert_eq!(options.extension.as_deref(), Some("txt.gz"));
        assert_eq!(
            options.format_options,
            ["DELIMITER", "ADDQUOTES", "ESCAPE", "NULL AS"]
        );
        let csv = parse(&["FORMAT AS CSV", "DELIMITER '\\174'", "PARALLEL TRUE"]).unwrap();
        assert!(csv.csv && !csv.parallel_off);
        assert_eq!(csv.delimiter, Some(b'|'));
        assert_eq!(
            parse(&["MAXFILESIZE 1 gb"]).unwrap().max_file_size,
            Some(1 << 30)
        );
        assert_eq!(parse(&[]).unwrap(), UnloadOptions::default());
    }

    #[test]
    fn unload_options_refused_name_the_option_and_never_its_value() {
        let refused = [
            (vec!["PARQUET"], "PARQUET is not supported"),
            (vec!["FORMAT JSON"], "FORMAT JSON is not supported"),
            (vec!["FIXEDWIDTH 'a:1'"], "FIXEDWIDTH is not supported"),
            (vec!["PARTITION BY (day)"], "PARTITION BY is not supported"),
            (vec!["BZIP2"], "BZIP2 is not supported"),
            (vec!["ZSTD"], "ZSTD is not supported"),
            (vec!["ENCRYPTED"], "ENCRYPTED is not supported"),
            (
                vec!["MANIFEST VERBOSE"],
                "MANIFEST VERBOSE is not supported",
            ),
            (vec!["REGION 'eu-west-1'"], "REGION is not used"),
            (
                vec!["EMPTYASNULL"],
                "EMPTYASNULL is not a Redshift UNLOAD option",
            ),
            (
                vec!["CSV", "ADDQUOTES"],
                "CSV cannot be used with ADDQUOTES",
            ),
            (vec!["CSV ESCAPE"], "CSV cannot be used with ESCAPE"),
            (
                vec!["CLEANPATH", "ALLOWOVERWRITE"],
                "CLEANPATH cannot be used with ALLOWOVERWRITE",
            ),
            (vec!["MAXFILESIZE 4 MB"], "MAXFILESIZE 4 is out of range"),
            (vec!["MAXFILESIZE 7 GB"], "MAXFILESIZE 7 is out of range"),
            (
                vec!["DELIMITER ',,'"],
                "DELIMITER must be one ASCII character",
            ),
            (
                vec!["DELIMITER"],
                "DELIMITER needs a value in single quotes",
            ),
            (vec!["HEADER HEADER"], "HEADER is given twice"),
            (vec!["NULL AS 'x"], "no closing quote"),
        ];
        for (options, expected) in refused {
            let error = parse(&options).unwrap_err();
            assert!(error.contains(expected), "{options:?}: {error}");
        }
        for secret in [
            "CREDENTIALS 'aws_access_key_id=AKIDSECRET;aws_secret_access_key=hush'",
            "ACCESS_KEY_ID 'AKIDSECRET' SECRET_ACCESS_KEY 'hush'",
            "IAM_ROLE 'arn:aws:iam::123:role/hush'",
        ] {
            let error = parse(&[secret]).unwrap_err();
            assert!(error.contains("is not used"), "{error}");
            assert!(
                !error.contains("hush") && !error.contains("AKIDSECRET"),
                "{error}"
            );
        }
    }

    #[test]
    fn unload_file_names() {
        for name in [
            "0000_part_00",
            "0000_part_13.gz",
            "000",
            "017.csv",
            "manifest",
            "0003_part_00",
        ] {
            assert!(is_unload_file(name), "{name}");
        }
        for name in [
            "part-00000",
            "00",
            "data.csv",
            "0000_part_0",
            "00000_part_00",
            "a000",
        ] {
            assert!(!is_unload_file(name), "{name}");
        }
    }

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
