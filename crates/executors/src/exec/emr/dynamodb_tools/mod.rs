//! The export and import tools of AWS's DynamoDB storage handler, run natively.
//!
//! The console templates "Export DynamoDB table to S3" and "Import DynamoDB backup data from
//! S3" run `org.apache.hadoop.dynamodb.tools.DynamoDBExport` / `DynamoDBImport` (the
//! `emr-dynamodb-tools` jar; `DynamoDbExport` / `DynamoDbImport` in the older `emr-ddb` jar)
//! as EmrActivity steps. Sluice does what those Hadoop jobs do without Hadoop: the jar named by
//! the step is never fetched.
//!
//! * Command lines: see `args`. The table's region is `-D dynamodb.regionid` when given,
//!   else the `region` of the activity's `input`/`output` DynamoDBDataNode with that
//!   `tableName`, else the `region` of the EmrCluster the activity runs on (where AWS runs the
//!   tool), else the settings' default.
//! * Throughput: the ratio is a share of the table's provisioned capacity (read for the export,
//!   write for the import); an on-demand table counts as the settings' `onDemandUnits`
//!   (40,000 by default, the connector's own assumption).
//! * The export scans the table in parallel segments and writes the folder `layout`
//!   describes: data files (uploaded as each fills up), then `manifest`, then `_SUCCESS`. As
//!   Hadoop refuses an output directory that exists, a folder already holding objects fails the
//!   step before anything is written. A failed or canceled export removes every object it
//!   wrote, so no `manifest` or `_SUCCESS` is left behind and a retry starts clean.
//! * The import reads the folder's `manifest` when there is one (every `mandatory` entry must
//!   exist), else every file directly in the folder except hidden ones (`_…`, `.…`), as
//!   Hadoop's FileInputFormat does; `.gz` files are gunzipped. Items are written in
//!   BatchWriteItem rounds; an item already in the table is replaced. Writes are not undone
//!   when the import fails.
//!
//! Both tools write what they did to the attempt's stdout log.

mod args;
mod layout;

use std::io::{BufRead as _, Write as _};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use futures::StreamExt as _;
use sluice_data::dynamodb::Item;
use sluice_data::format::{Compression, FinishWrite};
use sluice_data::storage::{Location, ObjectStores, StorageError};
use sluice_model::TaskResult;

use crate::exec::emr::{cluster, note};
use crate::exec::{error_id, shell, storage};
use crate::execute::AttemptContext;
use crate::types::dynamo_db_data_node::{DYNAMODB_REQUEST_FAILED, DynamoTable, OpenTable};

use args::{Tool, ToolArgs};

/// Items per round of writes into the table.
const WRITE_CHUNK: usize = 500;

/// The most segments the scan runs (more are read as this many).
const MAX_SEGMENTS: u32 = 64;

/// Checks a tool's command line without running it, so an `EmrActivity` can refuse a bad
/// step before its earlier steps change data.
pub fn check(export: bool, args: &[String]) -> Result<(), String> {
    let (tool, name) = if export {
        (Tool::Export, "DynamoDBExport")
    } else {
        (Tool::Import, "DynamoDBImport")
    };
    args::parse(tool, args)
        .map(drop)
        .map_err(|m| format!("{name}: {m}"))
}

/// `DynamoDbExport` / `DynamoDBExport`: `<s3 dir>,<table>[,<read ratio>][,<total segments>]`.
pub async fn export(ctx: &AttemptContext, what: &str, args: &[String]) -> Result<(), TaskResult> {
    let args = args::parse(Tool::Export, args)
        .map_err(|m| invalid(format!("{what}: DynamoDBExport: {m}")))?;
    let about = format!("DynamoDBExport of table {} to {}", args.table, args.path);
    let staging = ctx.attempt_dir.join("dynamodb-export");
    let written = Mutex::new(Vec::new());
    let result = tokio::select! {
        result = run_export(ctx, &about, &args, &staging, &written) => result,
        () = ctx.cancel.cancelled() => Err(shell::canceled()),
    };
    let _ = tokio::fs::remove_dir_all(&staging).await;
    if result.is_err() {
        let written = std::mem::take(&mut *lock(&written));
        remove_written(ctx, &about, written).await;
    }
    result
}

/// `DynamoDbImport` / `DynamoDBImport`: `<s3 dir>,<table>[,<write ratio>]`.
pub async fn import(ctx: &AttemptContext, what: &str, args: &[String]) -> Result<(), TaskResult> {
    let args = args::parse(Tool::Import, args)
        .map_err(|m| invalid(format!("{what}: DynamoDBImport: {m}")))?;
    let about = format!("DynamoDBImport of {} into table {}", args.path, args.table);
    let staging = ctx.attempt_dir.join("dynamodb-import");
    let result = tokio::select! {
        result = run_import(ctx, &about, &args, &staging) => result,
        () = ctx.cancel.cancelled() => Err(shell::canceled()),
    };
    let _ = tokio::fs::remove_dir_all(&staging).await;
    result
}

async fn run_export(
    ctx: &AttemptContext,
    about: &str,
    args: &ToolArgs,
    staging: &Path,
    written: &Mutex<Vec<Location>>,
) -> Result<(), TaskResult> {
    let fail = |id: &str, m: String| TaskResult::failed(id, format!("{about}: {m}"));
    report_ignored(ctx, about, args)?;
    // The tool describes the table before Hadoop checks the output folder.
    let table = open_table(ctx, about, args, Tool::Export).await?;
    let stores = storage::stores(ctx)?;
    let folder = stores
        .resolve(&args.path)
        .map_err(|e| storage::failed(about, &e))?;
    let existing = folder
        .list()
        .await
        .map_err(|e| storage::failed(about, &e))?;
    if let Some(first) = existing.first() {
        return Err(fail(
            error_id::STEP_FAILED,
            format!(
                "the output folder already holds {} object(s), for example {}; the export \
                 writes only into a new folder, as Hadoop refuses an output directory that \
                 exists",
                existing.len(),
                first.uri
            ),
        ));
    }

    let limiter = table.read_limiter();
    let settings = &ctx.settings.data.dynamodb;
    let segments = args.segments.unwrap_or(settings.scan_segments).max(1);
    if segments > MAX_SEGMENTS {
        note(
            ctx,
            &format!("{about}: {segments} segments asked for; the scan runs {MAX_SEGMENTS}"),
        )?;
    }
    note(
        ctx,
        &format!(
            "{about}: reading {} at {} units/s at most ({} of {}), {} segment(s){}",
            table.client.describe(),
            units(limiter.rate()),
            args.ratio,
            capacity(table.info.read_capacity, settings.on_demand_units, "read"),
            segments.min(MAX_SEGMENTS),
            if args.gzip { ", gzipped files" } else { "" }
        ),
    )?;

    std::fs::create_dir_all(staging).map_err(|e| {
        fail(
            error_id::STAGING_FAILED,
            format!("cannot create {}: {e}", staging.display()),
        )
    })?;
    let mut scan = Box::pin(
        table
            .client
            .scan(&args.table, Some(segments), limiter.clone()),
    );
    let compression = if args.gzip {
        Compression::Gzip
    } else {
        Compression::None
    };
    let mut names: Vec<String> = Vec::new();
    let mut current: Option<DataFile> = None;
    let mut items = 0u64;
    while let Some(item) = scan.next().await {
        let item = item.map_err(|e| fail(DYNAMODB_REQUEST_FAILED, e.to_string()))?;
        let file = match &mut current {
            Some(file) => file,
            None => current.insert(
                DataFile::create(staging, compression)
                    .map_err(|m| fail(error_id::STAGING_FAILED, m))?,
            ),
        };
        file.write(&item)
            .map_err(|m| fail(error_id::STAGING_FAILED, m))?;
        items += 1;
        if file.items == layout::MAX_ITEMS_PER_FILE
            && let Some(full) = current.take()
        {
            names.push(full.upload(&folder, written, about).await?);
        }
    }
    if let Some(last) = current.take() {
        names.push(last.upload(&folder, written, about).await?);
    }

    let put = async |name: &str, bytes: Vec<u8>| -> Result<(), TaskResult> {
        let target = folder.child(name).map_err(|e| storage::failed(about, &e))?;
        target
            .put_bytes(bytes)
            .await
            .map_err(|e| storage::failed(about, &e))?;
        lock(written).push(target);
        Ok(())
    };
    put(
        layout::MANIFEST,
        layout::manifest(&args.path, &names).into_bytes(),
    )
    .await?;
    put(layout::SUCCESS, Vec::new()).await?;
    note(
        ctx,
        &format!(
            "{about}: read {items} item(s) ({} read capacity units), wrote {} data file(s), \
             {} and {}",
            units(limiter.stats().consumed_units),
            names.len(),
            layout::MANIFEST,
            layout::SUCCESS
        ),
    )
}

/// A data file being written on local disk before it is uploaded.
struct DataFile {
    name: String,
    local: PathBuf,
    out: Box<dyn FinishWrite>,
    items: u64,
}

impl DataFile {
    fn create(staging: &Path, compression: Compression) -> Result<DataFile, String> {
        let mut name = layout::data_file_name();
        if matches!(compression, Compression::Gzip) {
            name.push_str(".gz");
        }
        let local = staging.join(&name);
        let file = std::fs::File::create(&local)
            .map_err(|e| format!("cannot create {}: {e}", local.display()))?;
        Ok(DataFile {
            out: compression.encode(std::io::BufWriter::new(file)),
            name,
            local,
            items: 0,
        })
    }

    fn write(&mut self, item: &Item) -> Result<(), String> {
        let mut line = layout::item_line(item);
        line.push('\n');
        self.out
            .write_all(line.as_bytes())
            .map_err(|e| format!("cannot write {}: {e}", self.local.display()))?;
        self.items += 1;
        Ok(())
    }

    /// Finishes the file and uploads it into `folder`, returning its name.
    async fn upload(
        self,
        folder: &Location,
        written: &Mutex<Vec<Location>>,
        about: &str,
    ) -> Result<String, TaskResult> {
        let DataFile {
            name, local, out, ..
        } = self;
        out.finish_stream().map_err(|e| {
            TaskResult::failed(
                error_id::STAGING_FAILED,
                format!("{about}: cannot write {}: {e}", local.display()),
            )
        })?;
        let target = folder
            .child(&name)
            .map_err(|e| storage::failed(about, &e))?;
        // An upload that fails leaves nothing (a multipart upload is aborted).
        target
            .put_file(&local)
            .await
            .map_err(|e| storage::failed(about, &e))?;
        lock(written).push(target);
        let _ = std::fs::remove_file(&local);
        Ok(name)
    }
}

async fn run_import(
    ctx: &AttemptContext,
    about: &str,
    args: &ToolArgs,
    staging: &Path,
) -> Result<(), TaskResult> {
    let fail = |id: &str, m: String| TaskResult::failed(id, format!("{about}: {m}"));
    let storage_failed = |e: StorageError| storage::failed(about, &e);
    report_ignored(ctx, about, args)?;
    let table = open_table(ctx, about, args, Tool::Import).await?;
    let stores = storage::stores(ctx)?;
    let (sources, from) = input_files(&stores, args).await.map_err(|e| match e {
        Failure::Storage(e) => storage_failed(e),
        Failure::Layout(m) => fail(error_id::STEP_FAILED, m),
    })?;
    let limiter = table.write_limiter();
    let settings = &ctx.settings.data.dynamodb;
    note(
        ctx,
        &format!(
            "{about}: {} file(s) {from}; writing to {} at {} units/s at most ({} of {})",
            sources.len(),
            table.client.describe(),
            units(limiter.rate()),
            args.ratio,
            capacity(table.info.write_capacity, settings.on_demand_units, "write"),
        ),
    )?;

    std::fs::create_dir_all(staging).map_err(|e| {
        fail(
            error_id::STAGING_FAILED,
            format!("cannot create {}: {e}", staging.display()),
        )
    })?;
    let mut batch: Vec<Item> = Vec::with_capacity(WRITE_CHUNK);
    let (mut read, mut files, mut requests, mut consumed) = (0u64, 0usize, 0u64, 0f64);
    let mut write = async |batch: Vec<Item>| -> Result<(), TaskResult> {
        let stats = write_batch(&table, batch, &limiter)
            .await
            .map_err(|m| fail(DYNAMODB_REQUEST_FAILED, m))?;
        requests += stats.requests;
        consumed += stats.consumed_units;
        Ok(())
    };
    for (k, source) in sources.iter().enumerate() {
        let location = stores.resolve(&source.url).map_err(storage_failed)?;
        if !location.exists().await.map_err(storage_failed)? {
            if source.mandatory {
                return Err(fail(
                    error_id::STEP_FAILED,
                    format!(
                        "{} is listed in the manifest but does not exist",
                        source.url
                    ),
                ));
            }
            note(
                ctx,
                &format!("{about}: {} (optional) is missing", source.url),
            )?;
            continue;
        }
        let compression =
            compression_of(&source.url).map_err(|m| fail(error_id::UNSUPPORTED, m))?;
        let local = staging.join(k.to_string());
        location.get_to_file(&local).await.map_err(storage_failed)?;
        let file = std::fs::File::open(&local).map_err(|e| {
            fail(
                error_id::STAGING_FAILED,
                format!("cannot read {}: {e}", local.display()),
            )
        })?;
        for (n, line) in compression.decode(file).lines().enumerate() {
            let line = line.map_err(|e| {
                fail(
                    error_id::STEP_FAILED,
                    format!("{} line {}: {e}", source.url, n + 1),
                )
            })?;
            if line.trim().is_empty() {
                continue;
            }
            let item = layout::parse_line(&line).map_err(|e| {
                fail(
                    error_id::STEP_FAILED,
                    format!("{} line {}: {e}", source.url, n + 1),
                )
            })?;
            read += 1;
            batch.push(item);
            if batch.len() >= WRITE_CHUNK {
                write(std::mem::replace(
                    &mut batch,
                    Vec::with_capacity(WRITE_CHUNK),
                ))
                .await?;
            }
        }
        let _ = std::fs::remove_file(&local);
        files += 1;
    }
    if !batch.is_empty() {
        write(batch).await?;
    }
    note(
        ctx,
        &format!(
            "{about}: read {read} item(s) from {files} file(s), wrote {read} item(s) in \
             {requests} request(s) ({} write capacity units)",
            units(consumed)
        ),
    )
}

async fn write_batch(
    table: &OpenTable,
    batch: Vec<Item>,
    limiter: &sluice_data::dynamodb::RateLimiter,
) -> Result<sluice_data::dynamodb::WriteStats, String> {
    table.write(batch, limiter).await.map_err(|e| e.to_string())
}

enum Failure {
    Storage(StorageError),
    Layout(String),
}

impl From<StorageError> for Failure {
    fn from(e: StorageError) -> Self {
        Failure::Storage(e)
    }
}

/// The files an import reads, and where their list came from (for the log).
async fn input_files(
    stores: &ObjectStores,
    args: &ToolArgs,
) -> Result<(Vec<layout::Entry>, &'static str), Failure> {
    let manifest = format!("{}/{}", args.path, layout::MANIFEST);
    if stores.file_exists(&manifest).await? {
        let bytes = stores.resolve(&manifest)?.get_bytes().await?;
        let text = String::from_utf8_lossy(&bytes);
        let entries = layout::parse_manifest(&text)
            .map_err(|m| Failure::Layout(format!("{manifest}: {m}")))?;
        return Ok((entries, "listed in the manifest"));
    }
    let listed = stores.list(&args.path).await?;
    if listed.is_empty() {
        if stores.file_exists(&args.path).await? {
            return Err(Failure::Layout(
                "the path is a file; the import reads a folder (an export's output path)".into(),
            ));
        }
        if !stores.dir_exists(&args.path).await? {
            return Err(Failure::Layout("the input folder does not exist".into()));
        }
    }
    let mut folders: Vec<&str> = Vec::new();
    let mut entries = Vec::new();
    for object in &listed {
        match object.relative.split_once('/') {
            Some((folder, _)) => {
                if !folders.contains(&folder) {
                    folders.push(folder);
                }
            }
            None if object.relative.starts_with(['_', '.']) => {}
            None => entries.push(layout::Entry {
                url: object.uri.clone(),
                mandatory: true,
            }),
        }
    }
    if !folders.is_empty() {
        return Err(Failure::Layout(format!(
            "the folder has no manifest and holds sub-folders ({}); like Hadoop, the import \
             reads only the files directly in its folder: name one export's folder",
            folders.join(", ")
        )));
    }
    Ok((entries, "found in the folder (no manifest)"))
}

/// How a data file is compressed, from its name as Hadoop's codec factory decides.
fn compression_of(url: &str) -> Result<Compression, String> {
    let name = url.rsplit('/').next().unwrap_or(url);
    if name.ends_with(".gz") {
        return Ok(Compression::Gzip);
    }
    for ext in [".deflate", ".bz2", ".snappy", ".lz4", ".zst"] {
        if name.ends_with(ext) {
            return Err(format!(
                "{url} is compressed ({ext}); Sluice reads plain and gzipped (.gz) files only"
            ));
        }
    }
    Ok(Compression::None)
}

/// Connects to the table (in its region, see the module docs); a missing table fails.
async fn open_table(
    ctx: &AttemptContext,
    about: &str,
    args: &ToolArgs,
    tool: Tool,
) -> Result<OpenTable, TaskResult> {
    let node = DynamoTable {
        table_name: args.table.clone(),
        region: region_for(ctx, args),
        read_percent: (tool == Tool::Export).then_some(args.ratio),
        write_percent: (tool == Tool::Import).then_some(args.ratio),
    };
    node.open(&ctx.settings.data)
        .await
        .map_err(|e| TaskResult::failed(DYNAMODB_REQUEST_FAILED, format!("{about}: {e}")))
}

/// The table's region: see the module docs.
fn region_for(ctx: &AttemptContext, args: &ToolArgs) -> Option<String> {
    let named = |r: Option<&str>| {
        r.map(str::trim)
            .filter(|r| !r.is_empty())
            .map(str::to_owned)
    };
    if let Some(region) = &args.region {
        return Some(region.clone());
    }
    let node_region = ctx
        .referenced("input")
        .into_iter()
        .chain(ctx.referenced("output"))
        .filter(|n| n.object_type() == Some("DynamoDBDataNode"))
        .filter(|n| n.string("tableName").map(str::trim) == Some(args.table.as_str()))
        .find_map(|n| named(n.string("region")));
    node_region.or_else(|| named(cluster::cluster(ctx).and_then(|c| c.string("region"))))
}

fn report_ignored(ctx: &AttemptContext, about: &str, args: &ToolArgs) -> Result<(), TaskResult> {
    for property in &args.ignored {
        note(ctx, &format!("{about}: -D {property} is not acted on"))?;
    }
    Ok(())
}

/// Best effort: removes what a failed export wrote, newest first, and says so in the log.
async fn remove_written(ctx: &AttemptContext, about: &str, written: Vec<Location>) {
    if written.is_empty() {
        return;
    }
    let mut left = Vec::new();
    for location in written.iter().rev() {
        if let Err(err) = location.delete().await {
            left.push(format!("{} ({err})", location.uri));
        }
    }
    let line = if left.is_empty() {
        format!(
            "{about}: failed; removed the {} object(s) it had written",
            written.len()
        )
    } else {
        format!(
            "{about}: failed; could not remove {} of the {} object(s) it had written: {}",
            left.len(),
            written.len(),
            left.join("; ")
        )
    };
    let _ = note(ctx, &line);
}

fn capacity(provisioned: Option<i64>, on_demand_units: f64, kind: &str) -> String {
    match provisioned {
        Some(units) => format!("{units} provisioned {kind} capacity units"),
        None => format!(
            "an on-demand table, counted as {} units",
            units(on_demand_units)
        ),
    }
}

/// A capacity figure with at most one decimal.
fn units(value: f64) -> String {
    let rounded = (value * 10.0).round() / 10.0;
    if rounded.fract() == 0.0 {
        format!("{rounded:.0}")
    } else {
        format!("{rounded:.1}")
    }
}

fn invalid(message: String) -> TaskResult {
    TaskResult::failed(error_id::INVALID_TASK, message)
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|e| e.into_inner())
}
