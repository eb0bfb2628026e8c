//! The EMR family's overhead over the tools it stands on (docs/emr.md, "Performance").
//!
//! ```sh
//! cargo bench -p sluice --bench emr                          # both workloads, full size
//! cargo bench -p sluice --bench emr -- hive --size-mb 200    # one workload, smaller
//! cargo bench -p sluice --bench emr -- dynamodb --items 20000
//! ```
//!
//! Each side is a separate process, timed whole (start-up included) under `/usr/bin/time -v`:
//!
//! * `hive`: `sluice run` of a HiveActivity aggregating a CSV of `--size-mb` MB (default
//!   1024) in the embedded store — staging tables over the input and output nodes, then the
//!   script on `spark-sql` — against `spark-sql -f` of the same query over tables the user
//!   declared on the same files. Target: ≤ 1.2× its time.
//! * `dynamodb`: `sluice run` of `examples/dynamodb-export-to-s3.json` (AWS's export template,
//!   unchanged) on a table of `--items` items (default 100 000) in dynalite, backing up to an
//!   S3 server (s3s-fs), against a plain parallel scan written to local files (boto3, one
//!   thread and one file per segment). Target: ≤ 1.2× its time.
//!
//! Spark is the tests' PySpark install in `local[2]`; dynalite and boto3 are installed as for
//! the tests. This is a measurement, not a test: it prints a table and exits 0 whether or not
//! the targets are met. Run without `--bench` it only smoke-tests on a small input.

use std::collections::BTreeMap;
use std::fs;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};
use std::time::Instant;

use aws_sdk_dynamodb::types::{AttributeValue, PutRequest, WriteRequest};
use serde_json::json;
use sluice_testsupport::dynamodb::{Dynalite, create_id_table};
use sluice_testsupport::s3::S3Server;

mod support;

use support::{Measured, measure};

const USAGE: &str = "usage: cargo bench -p sluice --bench emr -- [hive] [dynamodb] \
                     [--size-mb N] [--items N] [--keep]";

struct Options {
    hive: bool,
    dynamodb: bool,
    size_mb: u64,
    items: u64,
    keep: bool,
}

fn parse_options(args: &[String]) -> Result<Options, String> {
    let smoke = !args.iter().any(|a| a == "--bench");
    let mut options = Options {
        hive: false,
        dynamodb: false,
        size_mb: if smoke { 2 } else { 1024 },
        items: if smoke { 500 } else { 100_000 },
        keep: false,
    };
    let mut it = args.iter();
    let number = |v: Option<&String>, name: &str| {
        v.and_then(|v| v.parse().ok())
            .filter(|n: &u64| *n > 0)
            .ok_or(format!("{name} needs a positive number"))
    };
    while let Some(arg) = it.next() {
        match arg.as_str() {
            "--bench" => {}
            "--keep" => options.keep = true,
            "hive" => options.hive = true,
            "dynamodb" => options.dynamodb = true,
            "--size-mb" => options.size_mb = number(it.next(), "--size-mb")?,
            "--items" => options.items = number(it.next(), "--items")?,
            "-h" | "--help" => return Err(String::new()),
            other => return Err(format!("unknown argument {other:?}")),
        }
    }
    if !options.hive && !options.dynamodb {
        options.hive = true;
        options.dynamodb = true;
    }
    Ok(options)
}

fn header() {
    println!(
        "{:<10} {:>10} {:>11}   {:<22} {:>10} {:>11}   {:>6}",
        "workload", "sluice", "peak RSS", "baseline", "time", "peak RSS", "ratio"
    );
}

fn row(name: &str, ours: &Measured, theirs: &Measured, baseline: &str) {
    let ratio = ours.wall.as_secs_f64() / theirs.wall.as_secs_f64().max(1e-9);
    println!(
        "{name:<10} {:>9.2}s {:>8} MB   {baseline:<22} {:>9.2}s {:>8} MB   {ratio:>5.2}x",
        ours.wall.as_secs_f64(),
        ours.max_rss_kb / 1024,
        theirs.wall.as_secs_f64(),
        theirs.max_rss_kb / 1024,
    );
}

/// A scratch directory for one workload.
struct Scratch {
    dir: PathBuf,
}

impl Scratch {
    fn new(name: &str) -> Result<Scratch, String> {
        let dir =
            std::env::temp_dir().join(format!("sluice-emr-bench-{name}-{}", std::process::id()));
        fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
        Ok(Scratch { dir })
    }

    fn path(&self, rel: &str) -> PathBuf {
        self.dir.join(rel)
    }

    fn data_dir(&self) -> PathBuf {
        self.path("data")
    }

    fn sluice_run(&self, definition: &Path, values: &[(&str, String)]) -> Command {
        let mut command = Command::new(env!("CARGO_BIN_EXE_sluice"));
        command
            .arg("run")
            .arg(definition)
            .arg("--data-dir")
            .arg(self.data_dir())
            .arg("--fresh")
            .current_dir(&self.dir);
        for (id, value) in values {
            command
                .arg("--parameter-values")
                .arg(format!("{id}={value}"));
        }
        command
    }
}

/// Every line of every `part-*` file under `dir`, sorted.
fn part_lines(dir: &Path) -> Result<Vec<String>, String> {
    let mut lines = Vec::new();
    for entry in fs::read_dir(dir).map_err(|e| format!("{}: {e}", dir.display()))? {
        let path = entry.map_err(|e| e.to_string())?.path();
        let name = path
            .file_name()
            .unwrap_or_default()
            .to_string_lossy()
            .into_owned();
        if name.starts_with('.') || name.starts_with('_') {
            continue;
        }
        let text = fs::read_to_string(&path).map_err(|e| e.to_string())?;
        lines.extend(text.lines().map(str::to_owned));
    }
    lines.sort();
    Ok(lines)
}

const REGIONS: u64 = 50;

/// About `bytes` of `id,region,amount,note` rows; returns the row count.
fn generate_sales(path: &Path, bytes: u64) -> std::io::Result<u64> {
    fs::create_dir_all(path.parent().expect("parent"))?;
    let mut out = BufWriter::with_capacity(1 << 20, fs::File::create(path)?);
    let (mut written, mut rows) = (0u64, 0u64);
    while written < bytes {
        rows += 1;
        let line = format!(
            "{rows},region-{:02},{}.{:02},sale number {rows:012} of the benchmark padding text\n",
            rows % REGIONS,
            rows % 1000,
            rows % 100,
        );
        out.write_all(line.as_bytes())?;
        written += line.len() as u64;
    }
    out.flush()?;
    Ok(rows)
}

fn hive(options: &Options, spark_home: &Path) -> Result<(), String> {
    let scratch = Scratch::new("hive")?;
    let input = scratch.data_dir().join("s3/bench/sales/sales.csv");
    let started = Instant::now();
    let rows = generate_sales(&input, options.size_mb * 1_000_000).map_err(|e| e.to_string())?;
    let size = fs::metadata(&input).map_err(|e| e.to_string())?.len();
    println!(
        "hive: {:.0} MB CSV, {rows} rows (generated in {:.1}s)",
        size as f64 / 1e6,
        started.elapsed().as_secs_f64()
    );
    let query = "SELECT region, round(sum(amount), 2) FROM {input} GROUP BY region";
    let definition = scratch.path("hive.json");
    let objects = json!({ "objects": [
        { "id": "Default", "name": "Default", "scheduleType": "ondemand", "maximumRetries": "0" },
        { "id": "Cluster", "type": "EmrCluster", "releaseLabel": "emr-6.15.0" },
        { "id": "SalesFormat", "type": "CSV",
          "column": ["id BIGINT", "region STRING", "amount DOUBLE", "note STRING"] },
        { "id": "TotalsFormat", "type": "CSV", "column": ["region STRING", "total DOUBLE"] },
        { "id": "Sales", "type": "S3DataNode", "directoryPath": "s3://bench/sales",
          "dataFormat": { "ref": "SalesFormat" } },
        { "id": "Totals", "type": "S3DataNode", "directoryPath": "s3://bench/totals",
          "dataFormat": { "ref": "TotalsFormat" } },
        { "id": "Report", "type": "HiveActivity", "runsOn": { "ref": "Cluster" },
          "input": { "ref": "Sales" }, "output": { "ref": "Totals" },
          "hiveScript": format!("INSERT OVERWRITE TABLE ${{output1}} {};",
                                query.replace("{input}", "${input1}")) }
    ]});
    fs::write(&definition, objects.to_string()).map_err(|e| e.to_string())?;
    let mut ours = scratch.sluice_run(&definition, &[]);
    ours.env("SPARK_HOME", spark_home)
        .env("SLUICE_SPARK_MASTER", "local[2]");
    let ours = measure(ours)?;

    // The same query as a user would run it by hand, over tables declared on the same files.
    let work = scratch.path("spark-sql");
    fs::create_dir_all(&work).map_err(|e| e.to_string())?;
    let out_dir = scratch.path("spark-sql-out");
    // Declared as Sluice (and AWS) declares a table over a CSV data format: Hive's CSV SerDe,
    // every column a string; Hive's non-ANSI casts, as Sluice runs it.
    let csv = "ROW FORMAT SERDE 'org.apache.hadoop.hive.serde2.OpenCSVSerde' WITH SERDEPROPERTIES \
               ('separatorChar' = ',', 'quoteChar' = '\"', 'escapeChar' = '\"') STORED AS TEXTFILE";
    let script = format!(
        "CREATE EXTERNAL TABLE sales (id STRING, region STRING, amount STRING, note STRING) \
         {csv} LOCATION 'file://{}';\n\
         CREATE EXTERNAL TABLE totals (region STRING, total STRING) {csv} LOCATION 'file://{}';\n\
         INSERT OVERWRITE TABLE totals {};\n",
        input.parent().expect("parent").display(),
        out_dir.display(),
        query.replace("{input}", "sales")
    );
    let script_path = work.join("report.sql");
    fs::write(&script_path, script).map_err(|e| e.to_string())?;
    let mut theirs = Command::new(spark_home.join("bin/spark-sql"));
    theirs
        .args([
            "--master",
            "local[2]",
            "--conf",
            "spark.sql.ansi.enabled=false",
            "-f",
        ])
        .arg(&script_path)
        .current_dir(&work)
        .env("SPARK_HOME", spark_home)
        .env("SPARK_LOCAL_IP", "127.0.0.1");
    let theirs = measure(theirs)?;

    let (a, b) = (
        part_lines(&scratch.data_dir().join("s3/bench/totals"))?,
        part_lines(&out_dir)?,
    );
    if a != b || a.len() as u64 != REGIONS.min(rows) {
        return Err(format!("the two reports differ:\n{a:?}\n{b:?}"));
    }
    header();
    row("hive", &ours, &theirs, "spark-sql -f");
    finish(scratch, options.keep);
    Ok(())
}

/// A plain parallel scan written to files, one thread and one file per segment.
const PARALLEL_SCAN_PY: &str = r#"
import json, sys, threading, boto3
endpoint, table, segments, out = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
client = boto3.client("dynamodb", endpoint_url=endpoint, region_name="us-east-1",
                      aws_access_key_id="bench", aws_secret_access_key="bench")
def scan(segment):
    with open("%s/segment-%d.json" % (out, segment), "w") as f:
        kwargs = {"TableName": table, "Segment": segment, "TotalSegments": segments}
        while True:
            page = client.scan(**kwargs)
            for item in page["Items"]:
                f.write(json.dumps(item) + "\n")
            if "LastEvaluatedKey" not in page:
                break
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]
threads = [threading.Thread(target=scan, args=(s,)) for s in range(segments)]
for t in threads: t.start()
for t in threads: t.join()
"#;

fn dynamodb(options: &Options) -> Result<(), String> {
    let scratch = Scratch::new("dynamodb")?;
    let server = Dynalite::start().map_err(|e| format!("dynalite: {e}"))?;
    let table = "bench_items";
    let started = Instant::now();
    load_items(&server, table, options.items)?;
    println!(
        "dynamodb: {} items loaded into dynalite in {:.1}s",
        options.items,
        started.elapsed().as_secs_f64()
    );
    let definition =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/dynamodb-export-to-s3.json");
    let mut ours = scratch.sluice_run(
        &definition,
        &[
            ("myDDBTableName", table.to_owned()),
            ("myOutputS3Loc", "s3://bench/backups".to_owned()),
            ("myDDBReadThroughputRatio", "1".to_owned()),
            ("myDDBRegion", "us-east-1".to_owned()),
        ],
    );
    // With AWS credentials in the environment `s3://` leaves the embedded store, so the
    // backup goes to an S3 server (s3s-fs), as a user's would.
    let s3 = S3Server::try_start().map_err(|e| format!("s3s-fs: {e}"))?;
    s3.create_bucket("bench");
    ours.envs(s3.env())
        .env("SLUICE_ENDPOINT_URL_DYNAMODB_US_EAST_1", server.endpoint());
    let ours = measure(ours)?;

    let out = scratch.path("scan");
    fs::create_dir_all(&out).map_err(|e| e.to_string())?;
    let python = sluice_testsupport::tools::tools_dir().join("venv/bin/python");
    let mut theirs = Command::new(&python);
    theirs
        .arg("-c")
        .arg(PARALLEL_SCAN_PY)
        .arg(server.endpoint())
        .arg(table)
        .arg("4")
        .arg(&out);
    let theirs = measure(theirs)?;

    let exported = count_lines_under(&s3.object_file("bench", "backups"), |name| {
        name != "manifest" && !name.starts_with('_')
    })?;
    let scanned = count_lines_under(&out, |_| true)?;
    if exported != options.items || scanned != options.items {
        return Err(format!(
            "exported {exported} and scanned {scanned} items, expected {}",
            options.items
        ));
    }
    header();
    row("dynamodb", &ours, &theirs, "boto3 parallel scan");
    finish(scratch, options.keep);
    Ok(())
}

/// Lines in every file under `dir` (recursively) whose name `keep` accepts.
fn count_lines_under(dir: &Path, keep: impl Fn(&str) -> bool + Copy) -> Result<u64, String> {
    let mut total = 0;
    for entry in fs::read_dir(dir).map_err(|e| format!("{}: {e}", dir.display()))? {
        let path = entry.map_err(|e| e.to_string())?.path();
        if path.is_dir() {
            total += count_lines_under(&path, keep)?;
        } else if keep(&path.file_name().unwrap_or_default().to_string_lossy()) {
            let text = fs::read_to_string(&path).map_err(|e| e.to_string())?;
            total += text.lines().filter(|l| !l.trim().is_empty()).count() as u64;
        }
    }
    Ok(total)
}

/// Creates `table` and writes `count` items of about 200 bytes with batch writes.
fn load_items(server: &Dynalite, table: &str, count: u64) -> Result<(), String> {
    let runtime = tokio::runtime::Runtime::new().map_err(|e| e.to_string())?;
    runtime.block_on(async {
        let client = server.client("us-east-1");
        create_id_table(&client, table, 100_000, 100_000).await;
        let batches: Vec<Vec<WriteRequest>> = (0..count)
            .map(|n| {
                let item: BTreeMap<String, AttributeValue> = [
                    ("id", AttributeValue::S(format!("item-{n:08}"))),
                    (
                        "amount",
                        AttributeValue::N(format!("{}.{:02}", n % 1000, n % 100)),
                    ),
                    (
                        "customer",
                        AttributeValue::S(format!("customer {}", n % 5000)),
                    ),
                    (
                        "tags",
                        AttributeValue::Ss(vec!["a".into(), format!("t{}", n % 7)]),
                    ),
                    ("note", AttributeValue::S("x".repeat(120))),
                ]
                .into_iter()
                .map(|(k, v)| (k.to_owned(), v))
                .collect();
                WriteRequest::builder()
                    .put_request(
                        PutRequest::builder()
                            .set_item(Some(item.into_iter().collect()))
                            .build()
                            .expect("put request"),
                    )
                    .build()
            })
            .collect::<Vec<_>>()
            .chunks(25)
            .map(<[WriteRequest]>::to_vec)
            .collect();
        // Eight writers, each taking every eighth batch.
        let mut writers = tokio::task::JoinSet::new();
        for first in 0..8 {
            let client = client.clone();
            let table = table.to_owned();
            let mine: Vec<Vec<WriteRequest>> =
                batches.iter().skip(first).step_by(8).cloned().collect();
            writers.spawn(async move {
                for batch in mine {
                    let mut pending = batch;
                    while !pending.is_empty() {
                        let out = client
                            .batch_write_item()
                            .request_items(&table, pending)
                            .send()
                            .await
                            .map_err(|e| format!("{e:?}"))?;
                        pending = out
                            .unprocessed_items
                            .and_then(|mut u| u.remove(&table))
                            .unwrap_or_default();
                    }
                }
                Ok::<(), String>(())
            });
        }
        let mut results = Vec::new();
        while let Some(joined) = writers.join_next().await {
            results.push(joined.map_err(|e| e.to_string()).and_then(|r| r));
        }
        results.into_iter().collect::<Result<(), String>>()
    })
}

fn finish(scratch: Scratch, keep: bool) {
    if keep {
        println!("kept {}", scratch.dir.display());
    } else {
        let _ = fs::remove_dir_all(&scratch.dir);
    }
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let options = match parse_options(&args) {
        Ok(options) => options,
        Err(message) if message.is_empty() => {
            println!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        Err(message) => {
            eprintln!("{message}\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    println!(
        "sluice EMR benchmark: {} cores, load average {}",
        std::thread::available_parallelism().map_or(2, |n| n.get()),
        fs::read_to_string("/proc/loadavg")
            .unwrap_or_default()
            .split_whitespace()
            .take(3)
            .collect::<Vec<_>>()
            .join(" "),
    );
    let mut outcome = Ok(());
    if options.hive {
        outcome = sluice_testsupport::spark::install()
            .map_err(|e| format!("PySpark: {e}"))
            .and_then(|home| hive(&options, &home));
    }
    if options.dynamodb && outcome.is_ok() {
        outcome = dynamodb(&options);
    }
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("EMR benchmark failed: {message}");
            ExitCode::FAILURE
        }
    }
}
