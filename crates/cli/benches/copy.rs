//! CopyActivity throughput and memory (docs/data.md, "Performance").
//!
//! ```sh
//! cargo bench -p sluice --bench copy                     # 1 GB (≈ 10 M rows)
//! cargo bench -p sluice --bench copy -- --size-mb 100    # a smaller file
//! ```
//!
//! Generates a CSV in the embedded object store of a fresh data directory, then measures, each
//! as a separate process so peak RSS is that process's own (`/usr/bin/time -v`):
//!
//! * `s3→pg`: `sluice run` of a CopyActivity from that file into a PostgreSQL table, against
//!   `psql \copy` of the same file into an identical table (target: ≤ 1.2× its time, peak RSS
//!   ≤ 100 MB);
//! * `s3→s3`: `sluice run` of a CopyActivity between S3 files of the same format (an object
//!   copy), against `cp` of the underlying file;
//! * `s3→s3 csv→tsv`: the same with a format change, so every record is parsed and rewritten.
//!
//! PostgreSQL is the local server (127.0.0.1:5432, user `postgres`, database `test`). This is a
//! measurement, not a test: it prints a table and exits 0 whether or not the targets are met.
//! Run without `--bench` (as `cargo test --benches` does) it only smoke-tests on 1 MB.

use std::fs;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};
use std::time::Instant;

use serde_json::json;
use sluice_testsupport::databases;

mod support;

use support::Measured;

const USAGE: &str = "usage: cargo bench -p sluice --bench copy -- [--size-mb N] [--keep]";

struct Options {
    size_mb: u64,
    keep: bool,
}

fn parse_options(args: &[String]) -> Result<Options, String> {
    let smoke = !args.iter().any(|a| a == "--bench");
    let mut options = Options {
        size_mb: if smoke { 1 } else { 1024 },
        keep: false,
    };
    let mut it = args.iter();
    while let Some(arg) = it.next() {
        match arg.as_str() {
            "--bench" => {}
            "--keep" => options.keep = true,
            "--size-mb" => {
                options.size_mb = it
                    .next()
                    .and_then(|v| v.parse().ok())
                    .filter(|n| *n > 0)
                    .ok_or("--size-mb needs a positive number")?;
            }
            "-h" | "--help" => return Err(String::new()),
            other => return Err(format!("unknown argument {other:?}")),
        }
    }
    Ok(options)
}

/// Runs `program args` under `/usr/bin/time -v`; fails on a non-zero exit.
fn measure(program: &str, args: &[&str]) -> Result<Measured, String> {
    let mut command = Command::new(program);
    command.args(args);
    support::measure(command)
}

/// Runs SQL on the local PostgreSQL; the output trimmed.
fn psql(sql: &str) -> Result<String, String> {
    databases::try_psql(sql).map(|out| out.trim().to_string())
}

/// Writes about `bytes` of CSV rows (≈ 100 bytes each, quoted fields included); returns the
/// row count.
fn generate_csv(path: &Path, bytes: u64) -> std::io::Result<u64> {
    fs::create_dir_all(path.parent().expect("parent"))?;
    let mut out = BufWriter::with_capacity(1 << 20, fs::File::create(path)?);
    let (mut written, mut rows) = (0u64, 0u64);
    while written < bytes {
        rows += 1;
        let line = format!(
            "{rows},\"customer {}, ltd\",{}.{:02},2024-{:02}-{:02} {:02}:{:02}:{:02},order note number {rows:012} padding\n",
            rows % 100_000,
            rows % 10_000,
            rows % 100,
            rows % 12 + 1,
            rows % 28 + 1,
            rows % 24,
            rows % 60,
            rows % 60,
        );
        out.write_all(line.as_bytes())?;
        written += line.len() as u64;
    }
    out.flush()?;
    Ok(rows)
}

const COLUMNS: &str = "(id bigint, customer text, amount numeric(12,2), at timestamp, note text)";

struct Bench {
    dir: PathBuf,
    data_dir: PathBuf,
    csv: PathBuf,
    rows: u64,
    size: u64,
}

impl Bench {
    fn definition(&self, name: &str, objects: serde_json::Value) -> Result<PathBuf, String> {
        let mut all = vec![json!({
            "id": "Default", "name": "Default", "scheduleType": "ondemand", "workerGroup": "local"
        })];
        all.extend(objects.as_array().cloned().unwrap_or_default());
        let path = self.dir.join(name);
        fs::write(&path, json!({ "objects": all }).to_string()).map_err(|e| e.to_string())?;
        Ok(path)
    }

    fn sluice_run(&self, definition: &Path) -> Result<Measured, String> {
        let data_dir = self.data_dir.to_str().ok_or("utf-8 path")?;
        let def = definition.to_str().ok_or("utf-8 path")?;
        measure(
            env!("CARGO_BIN_EXE_sluice"),
            &["run", def, "--data-dir", data_dir, "--fresh"],
        )
    }
}

fn row(name: &str, ours: &Measured, theirs: &Measured, baseline: &str, bytes: u64) {
    let ratio = ours.wall.as_secs_f64() / theirs.wall.as_secs_f64().max(1e-9);
    let mbps = bytes as f64 / 1e6 / ours.wall.as_secs_f64().max(1e-9);
    println!(
        "{name:<16} {:>9.2}s {:>8.1} MB/s {:>8} MB   {baseline:<12} {:>9.2}s {:>8} MB   {ratio:>5.2}x",
        ours.wall.as_secs_f64(),
        mbps,
        ours.max_rss_kb / 1024,
        theirs.wall.as_secs_f64(),
        theirs.max_rss_kb / 1024,
    );
}

fn run(options: &Options) -> Result<(), String> {
    let base = std::env::temp_dir().join(format!("sluice-copy-bench-{}", std::process::id()));
    let data_dir = base.join("data");
    let csv = data_dir.join("s3/bench/input/orders.csv");
    let started = Instant::now();
    let rows = generate_csv(&csv, options.size_mb * 1_000_000).map_err(|e| e.to_string())?;
    let size = fs::metadata(&csv).map_err(|e| e.to_string())?.len();
    println!(
        "sluice copy benchmark: {:.0} MB CSV, {rows} rows (generated in {:.1}s), {} cores, load average {}",
        size as f64 / 1e6,
        started.elapsed().as_secs_f64(),
        std::thread::available_parallelism().map_or(2, |n| n.get()),
        fs::read_to_string("/proc/loadavg")
            .unwrap_or_default()
            .split_whitespace()
            .take(3)
            .collect::<Vec<_>>()
            .join(" "),
    );
    let bench = Bench {
        dir: base.clone(),
        data_dir,
        csv,
        rows,
        size,
    };
    let result = run_workloads(&bench);
    if options.keep {
        println!("kept {}", base.display());
    } else {
        let _ = fs::remove_dir_all(&base);
    }
    result
}

fn run_workloads(bench: &Bench) -> Result<(), String> {
    let stamp = format!("{}", std::process::id());
    let ours_table = format!("bench_copy_sluice_{stamp}");
    let psql_table = format!("bench_copy_psql_{stamp}");
    psql(&format!(
        "DROP TABLE IF EXISTS {ours_table}; DROP TABLE IF EXISTS {psql_table}; \
         CREATE TABLE {ours_table} {COLUMNS}; CREATE TABLE {psql_table} {COLUMNS}"
    ))?;
    let outcome = (|| {
        println!(
            "{:<16} {:>10} {:>13} {:>11}   {:<12} {:>10} {:>11}   {:>6}",
            "workload", "sluice", "throughput", "peak RSS", "baseline", "time", "peak RSS", "ratio"
        );
        let def = bench.definition("to_pg.json", json!([
            { "id": "In", "type": "S3DataNode", "filePath": "s3://bench/input/orders.csv" },
            { "id": "Db", "type": "JdbcDatabase", "connectionString": "jdbc:postgresql://127.0.0.1:5432/test",
              "jdbcDriverClass": "org.postgresql.Driver", "username": "postgres", "*password": "unused" },
            { "id": "Out", "type": "SqlDataNode", "database": { "ref": "Db" }, "table": ours_table },
            { "id": "Copy", "type": "CopyActivity", "input": { "ref": "In" }, "output": { "ref": "Out" } }
        ]))?;
        let ours = bench.sluice_run(&def)?;
        let csv = bench.csv.to_str().ok_or("utf-8 path")?;
        let copy = format!("\\copy {psql_table} FROM '{csv}' WITH (FORMAT csv)");
        let args: Vec<&str> = databases::PSQL_CONNECT
            .into_iter()
            .chain(["-X", "-q", "-v", "ON_ERROR_STOP=1", "-c", &copy])
            .collect();
        let theirs = measure("psql", &args)?;
        for table in [&ours_table, &psql_table] {
            let count: u64 = psql(&format!("SELECT count(*) FROM {table}"))?
                .parse()
                .map_err(|_| "count")?;
            if count != bench.rows {
                return Err(format!("{table} has {count} rows, expected {}", bench.rows));
            }
        }
        row("s3→pg", &ours, &theirs, "psql \\copy", bench.size);

        let def = bench.definition("to_s3.json", json!([
            { "id": "In", "type": "S3DataNode", "filePath": "s3://bench/input/orders.csv" },
            { "id": "Out", "type": "S3DataNode", "filePath": "s3://bench/copy/orders.csv" },
            { "id": "Copy", "type": "CopyActivity", "input": { "ref": "In" }, "output": { "ref": "Out" } }
        ]))?;
        let ours = bench.sluice_run(&def)?;
        let target = bench.dir.join("cp-orders.csv");
        let theirs = measure("cp", &[csv, target.to_str().ok_or("utf-8 path")?])?;
        let copied = bench.data_dir.join("s3/bench/copy/orders.csv");
        if fs::metadata(&copied).map(|m| m.len()).ok() != Some(bench.size) {
            return Err(format!("{} is not a full copy", copied.display()));
        }
        row("s3→s3", &ours, &theirs, "cp", bench.size);

        let def = bench.definition("to_tsv.json", json!([
            { "id": "In", "type": "S3DataNode", "filePath": "s3://bench/input/orders.csv" },
            { "id": "Tsv", "type": "TSV", "escapeChar": "\\" },
            { "id": "Out", "type": "S3DataNode", "filePath": "s3://bench/tsv/orders.tsv", "dataFormat": { "ref": "Tsv" } },
            { "id": "Copy", "type": "CopyActivity", "input": { "ref": "In" }, "output": { "ref": "Out" } }
        ]))?;
        let ours = bench.sluice_run(&def)?;
        row("s3→s3 csv→tsv", &ours, &theirs, "cp", bench.size);
        Ok(())
    })();
    let _ = psql(&format!(
        "DROP TABLE IF EXISTS {ours_table}; DROP TABLE IF EXISTS {psql_table}"
    ));
    outcome
}

fn main() -> ExitCode {
    support::main("copy", USAGE, parse_options, run)
}
