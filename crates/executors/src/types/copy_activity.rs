//! `CopyActivity`: copies data between S3 and SQL data nodes (dp-object-copyactivity).
//!
//! Every direction is a producer → bounded channel → consumer pipeline of record batches:
//! S3 objects are parsed on blocking threads (several input files at once), SQL rows stream
//! from the simple protocol. The consumer commits only after every producer succeeded — a SQL
//! output in one transaction (`COPY` on PostgreSQL), an S3 output as uploads that complete at
//! the end — and a failed attempt removes any output object it had already completed, so
//! readers never see half a copy and a retry never duplicates rows.
//!
//! S3 to S3 with the same format and compression is a plain object copy; otherwise records are
//! converted one by one. A directory input into a directory output keeps file names; into a
//! file output, every input's records go into that one object. SQL into a directory writes
//! `part-00000` (`.gz` when compressed).

use crate::exec::error_id;
use crate::execute::{AttemptContext, ExecFuture, Execute};
use crate::types::sql_data_node::{SqlNode, sql_node};
use sluice_data::format::objects::{CHANNEL_BATCHES, Chunk, ObjectFile, parse_manifest};
use sluice_data::format::{Compression, RecordFormat};
use sluice_data::sql::SqlConn;
use sluice_data::storage::ObjectStores;
use sluice_model::{FieldValue, PipelineObject, TaskResult};
use std::future::Future;
use std::pin::Pin;
use tokio::sync::mpsc;
use tokio::task::JoinSet;

/// Executes `CopyActivity` attempts.
pub struct CopyActivity;

impl Execute for CopyActivity {
    fn execute<'a>(&'a self, ctx: &'a AttemptContext) -> ExecFuture<'a> {
        Box::pin(run_cancellable(ctx, Box::pin(copy(ctx))))
    }
}

/// The `errorId` of a copy that failed while moving data.
pub(crate) const COPY_FAILED: &str = "CopyFailed";
/// Input files parsed at once.
const PARALLEL_FILES: usize = 4;

/// Why an attempt failed: its `errorId` and message.
#[derive(Debug)]
pub(crate) struct Failure {
    pub id: &'static str,
    pub message: String,
}

impl Failure {
    pub(crate) fn invalid(message: impl Into<String>) -> Self {
        Failure {
            id: error_id::INVALID_TASK,
            message: message.into(),
        }
    }

    pub(crate) fn with(id: &'static str) -> impl Fn(String) -> Failure {
        move |message| Failure { id, message }
    }
}

/// An executor's work, boxed so its `Send`-ness is checked where its lifetimes are concrete.
/// Its result is a one-line summary for the attempt's `stdout.log` (empty for none).
pub(crate) type Work<'a> = Pin<Box<dyn Future<Output = Result<String, Failure>> + Send + 'a>>;

/// Runs the work until it ends or the attempt is canceled (dropping the work rolls back open
/// transactions and aborts uploads).
pub(crate) async fn run_cancellable(ctx: &AttemptContext, work: Work<'_>) -> TaskResult {
    tokio::select! {
        biased;
        _ = ctx.cancel.cancelled() => TaskResult::failed(error_id::CANCELED, "the attempt was canceled"),
        result = work => match result {
            Ok(summary) => {
                if !summary.is_empty() {
                    append_line(&ctx.stdout_log, &summary).await;
                }
                TaskResult::finished()
            }
            Err(f) => TaskResult::failed(f.id, f.message),
        },
    }
}

/// Appends `line` to a log file; a log that cannot be written does not fail the attempt.
async fn append_line(path: &std::path::Path, line: &str) {
    use tokio::io::AsyncWriteExt;
    let file = tokio::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .await;
    match file {
        Ok(mut file) => {
            // tokio writes in the background; the flush waits, so the line is there on return.
            let _ = file.write_all(format!("{line}\n").as_bytes()).await;
            let _ = file.flush().await;
        }
        Err(e) => tracing::warn!(path = %path.display(), "cannot write the attempt log: {e}"),
    }
}

/// The one object the attempt's reference field `name` points at.
pub(crate) fn single_ref<'a>(
    ctx: &'a AttemptContext,
    name: &str,
) -> Result<&'a PipelineObject, Failure> {
    let mut refs = ctx.referenced(name);
    match refs.len() {
        1 => Ok(refs.remove(0)),
        0 => Err(Failure::invalid(format!(
            "the activity needs an {name} data node"
        ))),
        n => Err(Failure::invalid(format!(
            "the activity takes exactly one {name} data node, got {n}"
        ))),
    }
}

/// An S3DataNode resolved to its objects and record format.
#[derive(Clone)]
pub(crate) struct S3Node {
    pub id: String,
    pub location: ObjectFile,
    /// `directoryPath` rather than `filePath`.
    pub is_dir: bool,
    /// `manifestFilePath`: when set, the inputs are exactly the manifest's entries.
    pub manifest: Option<ObjectFile>,
    pub stores: ObjectStores,
    pub format: RecordFormat,
    /// The id of the `dataFormat` object, if any.
    pub format_id: Option<String>,
    pub compression: Compression,
}

impl S3Node {
    /// The objects to read: the manifest's entries, the file, or every object under the
    /// directory.
    pub(crate) async fn inputs(&self) -> Result<Vec<ObjectFile>, Failure> {
        if let Some(manifest) = &self.manifest {
            return self.manifest_inputs(manifest).await;
        }
        if self.is_dir {
            self.location
                .list_dir()
                .await
                .map_err(|e| Failure::with(COPY_FAILED)(e.to_string()))
        } else {
            Ok(vec![self.location.clone()])
        }
    }
}

impl S3Node {
    /// The manifest's entries that exist, in manifest order. A missing mandatory entry fails
    /// the attempt (naming its URL), as Redshift's `COPY … MANIFEST` does; a missing optional
    /// one is skipped.
    async fn manifest_inputs(&self, manifest: &ObjectFile) -> Result<Vec<ObjectFile>, Failure> {
        let failed = |message: String| {
            Failure::with(COPY_FAILED)(format!(
                "S3DataNode {} manifest {}: {message}",
                self.id, manifest.uri
            ))
        };
        let text = manifest
            .read_to_string()
            .await
            .map_err(|e| failed(e.to_string()))?;
        let entries = parse_manifest(&text).map_err(failed)?;
        let mut files = Vec::with_capacity(entries.len());
        for entry in entries {
            let file: ObjectFile = self
                .stores
                .resolve(&entry.url)
                .map_err(|e| failed(format!("entry {}: {e}", entry.url)))?
                .into();
            if file.exists().await.map_err(|e| failed(e.to_string()))? {
                files.push(file);
            } else if entry.mandatory {
                return Err(failed(format!(
                    "mandatory entry {} does not exist",
                    entry.url
                )));
            } else {
                tracing::info!(url = %entry.url, "skipping a manifest entry that does not exist");
            }
        }
        Ok(files)
    }
}

pub(crate) fn s3_node(ctx: &AttemptContext, node: &PipelineObject) -> Result<S3Node, Failure> {
    let manifest_uri = node.string("manifestFilePath");
    let (uri, is_dir) = match (node.string("filePath"), node.string("directoryPath")) {
        (Some(f), None) => (f, false),
        (None, Some(d)) => (d, true),
        // The manifest alone names the inputs; it stands for the node in messages.
        (None, None) if manifest_uri.is_some() => (manifest_uri.unwrap_or_default(), false),
        _ => {
            return Err(Failure::invalid(format!(
                "S3DataNode {} needs exactly one of filePath and directoryPath (or a manifestFilePath)",
                node.id
            )));
        }
    };
    let stores = ObjectStores::shared(&ctx.settings.data.s3, &ctx.settings.data_dir)
        .map_err(|e| Failure::invalid(e.to_string()))?;
    let location = stores
        .resolve(uri)
        .map_err(|e| Failure::invalid(format!("S3DataNode {}: {e}", node.id)))?;
    let manifest = manifest_uri
        .map(|m| stores.resolve(m).map(ObjectFile::from))
        .transpose()
        .map_err(|e| Failure::invalid(format!("S3DataNode {} manifestFilePath: {e}", node.id)))?;
    let format_id = node.values("dataFormat").find_map(FieldValue::as_ref_id);
    let format_obj = format_id.and_then(|id| ctx.task.objects.get(id));
    let format = crate::types::csv::record_format(format_obj)
        .map_err(|e| Failure::invalid(format!("S3DataNode {}: {e}", node.id)))?;
    let compression = Compression::parse(node.string("compression"))
        .map_err(|e| Failure::invalid(format!("S3DataNode {}: {e}", node.id)))?;
    Ok(S3Node {
        id: node.id.clone(),
        location: location.into(),
        is_dir,
        manifest,
        stores,
        format,
        format_id: format_id.map(str::to_string),
        compression,
    })
}

enum Endpoint {
    S3(S3Node),
    Sql(SqlNode),
}

fn endpoint(ctx: &AttemptContext, node: &PipelineObject) -> Result<Endpoint, Failure> {
    match node.object_type() {
        Some("S3DataNode") => Ok(Endpoint::S3(s3_node(ctx, node)?)),
        Some("SqlDataNode" | "MySqlDataNode" | "RedshiftDataNode") => Ok(Endpoint::Sql(
            sql_node(ctx, node).map_err(Failure::invalid)?,
        )),
        other => Err(Failure::invalid(format!(
            "CopyActivity copies between S3DataNode and SQL data nodes; {} is a {}",
            node.id,
            other.unwrap_or("node without a type")
        ))),
    }
}

async fn copy(ctx: &AttemptContext) -> Result<String, Failure> {
    let input = endpoint(ctx, single_ref(ctx, "input")?)?;
    let output = endpoint(ctx, single_ref(ctx, "output")?)?;
    let failed = Failure::with(COPY_FAILED);
    match (input, output) {
        (Endpoint::S3(from), Endpoint::S3(to)) => s3_to_s3(&from, &to).await,
        (Endpoint::S3(from), Endpoint::Sql(to)) => {
            let files = from.inputs().await?;
            let objects = files.len();
            let conn = connect(&to).await?;
            let (tx, rx) = mpsc::channel(CHANNEL_BATCHES);
            let load = to.table.load(conn, rx);
            let (produced, loaded) =
                futures::future::join(produce_files(&from, files, tx), load).await;
            produced?;
            let rows = loaded.map_err(|e| failed(format!("loading {}: {e}", to.id)))?;
            Ok(format!(
                "copied {rows} records from {} ({objects} objects at {}) into {} (table {} on {})",
                from.id,
                from.location.uri,
                to.id,
                to.table.qualified(),
                to.target.describe()
            ))
        }
        (Endpoint::Sql(from), Endpoint::S3(to)) => {
            let target = if to.is_dir {
                let ext = if to.compression == Compression::Gzip {
                    ".gz"
                } else {
                    ""
                };
                to.location.child(&format!("part-00000{ext}"))
            } else {
                to.location.clone()
            };
            let mut conn = connect(&from).await?;
            let (tx, rx) = mpsc::channel(CHANNEL_BATCHES);
            let write = target.write_records(to.format.clone(), to.compression, rx);
            let (produced, written) =
                futures::future::join(produce_sql(&from, &mut conn, tx), write).await;
            produced?;
            let records = written.map_err(|e| failed(e.to_string()))?;
            Ok(format!(
                "copied {records} records from {} (table {} on {}) into {} ({})",
                from.id,
                from.table.qualified(),
                from.target.describe(),
                to.id,
                target.uri
            ))
        }
        (Endpoint::Sql(from), Endpoint::Sql(to)) => {
            let mut source = connect(&from).await?;
            let sink = connect(&to).await?;
            let (tx, rx) = mpsc::channel(CHANNEL_BATCHES);
            let load = to.table.load(sink, rx);
            let (produced, loaded) =
                futures::future::join(produce_sql(&from, &mut source, tx), load).await;
            produced?;
            let rows = loaded.map_err(|e| failed(format!("loading {}: {e}", to.id)))?;
            Ok(format!(
                "copied {rows} records from {} (table {} on {}) into {} (table {} on {})",
                from.id,
                from.table.qualified(),
                from.target.describe(),
                to.id,
                to.table.qualified(),
                to.target.describe()
            ))
        }
    }
}

pub(crate) async fn connect(node: &SqlNode) -> Result<SqlConn, Failure> {
    SqlConn::connect(&node.target)
        .await
        .map_err(|e| Failure::with(COPY_FAILED)(format!("{}: {e}", node.id)))
}

/// Reads every file (several at once) into `tx`, then sends `Commit` if all succeeded. On
/// failure `tx` is dropped without `Commit`, so the consumer discards what it received.
pub(crate) async fn produce_files(
    from: &S3Node,
    files: Vec<ObjectFile>,
    tx: mpsc::Sender<Chunk>,
) -> Result<u64, Failure> {
    let failed =
        |message: String| Failure::with(COPY_FAILED)(format!("reading {}: {message}", from.id));
    let mut pending = files.into_iter();
    let mut running = JoinSet::new();
    let mut total = 0;
    loop {
        while running.len() < PARALLEL_FILES {
            let Some(file) = pending.next() else { break };
            let (format, compression, tx) = (from.format.clone(), from.compression, tx.clone());
            running.spawn(async move { file.read_records(format, compression, tx).await });
        }
        match running.join_next().await {
            None => break,
            Some(Ok(Ok(n))) => total += n,
            Some(Ok(Err(e))) => return Err(failed(e.to_string())),
            Some(Err(e)) => return Err(failed(e.to_string())),
        }
    }
    let _ = tx.send(Chunk::Commit).await;
    Ok(total)
}

/// Reads the node's rows into `tx`, then sends `Commit`; on failure `tx` is dropped without it.
pub(crate) async fn produce_sql(
    from: &SqlNode,
    conn: &mut SqlConn,
    tx: mpsc::Sender<Chunk>,
) -> Result<u64, Failure> {
    let count = from
        .table
        .read(conn, tx.clone())
        .await
        .map_err(|e| Failure::with(COPY_FAILED)(format!("reading {}: {e}", from.id)))?;
    let _ = tx.send(Chunk::Commit).await;
    Ok(count)
}

fn same_format(a: &S3Node, b: &S3Node) -> bool {
    let same = match (&a.format_id, &b.format_id) {
        (Some(x), Some(y)) if x == y => true,
        _ => a.format.kind == b.format.kind && a.format.columns == b.format.columns,
    };
    same && a.compression == b.compression
}

async fn s3_to_s3(from: &S3Node, to: &S3Node) -> Result<String, Failure> {
    let files = from.inputs().await?;
    let failed = Failure::with(COPY_FAILED);
    if !to.is_dir {
        if same_format(from, to) && !from.is_dir && from.manifest.is_none() {
            from.location
                .copy_to(&to.location)
                .await
                .map_err(|e| failed(e.to_string()))?;
            return Ok(format!(
                "copied object {} to {}",
                from.location.uri, to.location.uri
            ));
        }
        let (tx, rx) = mpsc::channel(CHANNEL_BATCHES);
        let write = to
            .location
            .write_records(to.format.clone(), to.compression, rx);
        let (produced, written) =
            futures::future::join(produce_files(from, files, tx), write).await;
        produced?;
        let records = written.map_err(|e| failed(e.to_string()))?;
        return Ok(format!(
            "copied {records} records from {} into {}",
            from.location.uri, to.location.uri
        ));
    }
    // Directory output: one output object per input file, under the same relative name.
    let pairs: Vec<(ObjectFile, ObjectFile)> = files
        .into_iter()
        .map(|file| {
            let rel = relative_name(from, &file);
            let out = to.location.child(&rel);
            (file, out)
        })
        .collect();
    let fast = same_format(from, to);
    let mut pending = pairs.into_iter();
    let mut running = JoinSet::new();
    let mut done = Vec::new();
    let mut failure = None;
    loop {
        while failure.is_none() && running.len() < PARALLEL_FILES {
            let Some((input, output)) = pending.next() else {
                break;
            };
            let single = S3Node {
                location: input,
                is_dir: false,
                manifest: None,
                ..from.clone()
            };
            let (format, compression) = (to.format.clone(), to.compression);
            running.spawn(async move {
                let result = copy_one(single, output.clone(), fast, format, compression).await;
                (output, result)
            });
        }
        match running.join_next().await {
            None => break,
            Some(Ok((output, Ok(())))) => done.push(output),
            Some(Ok((_, Err(f)))) => {
                failure.get_or_insert(f);
            }
            Some(Err(e)) => {
                failure.get_or_insert(Failure::with(COPY_FAILED)(e.to_string()));
            }
        }
    }
    if let Some(failure) = failure {
        // Take back what this attempt completed, so readers never see a partial copy.
        for output in &done {
            let _ = output.delete().await;
        }
        return Err(failure);
    }
    let how = if fast { "copied" } else { "converted" };
    Ok(format!(
        "{how} {} objects from {} into {}",
        done.len(),
        from.location.uri,
        to.location.uri
    ))
}

/// Copies one input object into one output object: bytes when the formats match, else records.
async fn copy_one(
    from: S3Node,
    output: ObjectFile,
    fast: bool,
    format: RecordFormat,
    compression: Compression,
) -> Result<(), Failure> {
    let failed = Failure::with(COPY_FAILED);
    if fast {
        return from
            .location
            .copy_to(&output)
            .await
            .map_err(|e| failed(e.to_string()));
    }
    let (tx, rx) = mpsc::channel(CHANNEL_BATCHES);
    let write = output.write_records(format, compression, rx);
    let files = vec![from.location.clone()];
    let (produced, written) = futures::future::join(produce_files(&from, files, tx), write).await;
    produced?;
    written.map_err(|e| failed(e.to_string()))?;
    Ok(())
}

/// The name of `file` relative to the input node's directory (its file name for filePath).
fn relative_name(node: &S3Node, file: &ObjectFile) -> String {
    if node.is_dir {
        let base = node.location.uri.trim_end_matches('/');
        if let Some(rel) = file.uri.strip_prefix(base) {
            return rel.trim_start_matches('/').to_string();
        }
    }
    file.path.filename().unwrap_or("part-00000").to_string()
}
