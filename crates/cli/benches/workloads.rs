//! Benchmarks of the engine and of `sluice run` (README, "Benchmarks").
//!
//! ```sh
//! cargo bench -p sluice --bench workloads                      # everything, 3 runs each
//! cargo bench -p sluice --bench workloads -- fanout --n 1000   # one workload, another size
//! ```
//!
//! Workloads (each a definition generated in memory and run in a fresh data directory; the
//! pipeline is `ondemand`, so every component has exactly one instance):
//!
//! * `store`: the `Engine` committing every step to SQLite, no runner: the cost of one commit.
//! * `fanout`: N independent activities, wall time of `run_local`, against
//!   `seq N | xargs -P<workers> -n1 true` measured in the same run.
//! * `chain`: N activities each depending on the previous one; the hop is the time from an
//!   executor's end to the next executor's start, measured with `Instant` by the executors
//!   themselves (the engine's clock has second resolution).
//! * `diamond`: L layers of W activities, each depending on every activity of the layer
//!   before, against a fanout of L×W.
//! * `engine`: the `Engine` alone (no store, no runner) finishing a fanout of N.
//! * `memory`: peak RSS (`VmHWM`) of a fresh process running a fanout of N no-op activities
//!   through `run_local`.
//! * `process`: the whole `sluice run` binary running a fanout of N shell activities in a fresh
//!   data directory on disk (`--disk-dir`, default `/var/tmp`) and on tmpfs (`--tmpfs-dir`,
//!   default `/dev/shm`): wall time and peak RSS, against `seq N | xargs -P<workers> -I{} sh -c
//!   true` measured in the same run.
//! * `process-memory`: peak RSS of the whole `sluice run` binary over a fanout of N (default
//!   10 000) shell activities, on disk.
//!
//! `fanout`, `chain` and `diamond` run twice: with real `true` processes (ShellCommandActivity)
//! and with `NoopActivity`, a kind registered only in this benchmark's catalog whose executor
//! returns at once, which measures engine + store + runner without processes.
//!
//! This is a measurement, not a test: it prints one table and exits 0 whether or not the
//! targets are met. Run without `--bench` (as `cargo test --benches` does) it only smoke-tests
//! every workload at tiny sizes.
//!
//! Data directories go under `$TMPDIR` (default `/tmp`) and are removed at the end, or kept
//! with `--keep`. The header says how long creating a file takes there, since every attempt
//! creates a directory and its log files.

use std::collections::HashMap;
use std::path::PathBuf;
use std::process::{Command, ExitCode};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// The same allocator as the `sluice` binary, so the figures are the product's.
#[cfg(feature = "jemalloc")]
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

use async_trait::async_trait;
use serde_json::{Value, json};
use sluice_catalog::spec::{Category, FieldSpec, ObjectKind, OneOf};
use sluice_catalog::{Catalog, common};
use sluice_cli::local_run::{LocalRunConfig, Progress, run_local};
use sluice_definition::{Limits, ResolvedPipeline, ValidateOptions, load};
use sluice_engine::{
    AttemptRecord, ChangeSet, Clock, Engine, EngineOptions, InstanceQuery, InstanceRecord,
    PipelineRecord, Plan, Store, StoreError, Summary, SystemClock,
};
use sluice_executors::types::ShellCommandActivity;
use sluice_executors::{AttemptContext, ExecFuture, Execute, Executors};
use sluice_model::{FieldValue, PipelineDefinition, Status, TaskResult, parse_definition_file};
use sluice_store::SqliteStore;
use tokio_util::sync::CancellationToken;

#[path = "workloads/process.rs"]
mod process;

// ----- activity kinds of the benchmark's catalog -----------------------------------------------

/// When one execution started and ended, by component id.
struct Stamp {
    component: String,
    start: Instant,
    end: Instant,
}

static STAMPS: Mutex<Vec<Stamp>> = Mutex::new(Vec::new());

fn record(ctx: &AttemptContext, start: Instant, end: Instant) {
    let component = ctx
        .attempt()
        .and_then(|a| a.values("@componentParent").find_map(FieldValue::as_ref_id))
        .unwrap_or_default()
        .to_owned();
    STAMPS
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .push(Stamp {
            component,
            start,
            end,
        });
}

fn take_stamps() -> Vec<Stamp> {
    std::mem::take(&mut *STAMPS.lock().unwrap_or_else(|e| e.into_inner()))
}

static ACTIVITY_ONE_OF: &[OneOf] = &[common::RUNS_ON_OR_WORKER_GROUP];

/// An activity whose executor does nothing and finishes at once.
struct NoopActivity;

impl ObjectKind for NoopActivity {
    fn type_name(&self) -> &'static str {
        "NoopActivity"
    }

    fn category(&self) -> Category {
        Category::Activity
    }

    fn doc(&self) -> &'static str {
        "Does nothing (benchmarks only)."
    }

    fn fields(&self) -> Vec<&'static FieldSpec> {
        common::with_common(common::ACTIVITY_FIELDS, &[])
    }

    fn one_of(&self) -> &'static [OneOf] {
        ACTIVITY_ONE_OF
    }
}

impl Execute for NoopActivity {
    fn execute<'a>(&'a self, ctx: &'a AttemptContext) -> ExecFuture<'a> {
        Box::pin(async move {
            let start = Instant::now();
            record(ctx, start, Instant::now());
            TaskResult::finished()
        })
    }
}

/// `ShellCommandActivity` with its executor timed.
struct TimedShellCommandActivity;

impl ObjectKind for TimedShellCommandActivity {
    fn type_name(&self) -> &'static str {
        "TimedShellCommandActivity"
    }

    fn category(&self) -> Category {
        Category::Activity
    }

    fn doc(&self) -> &'static str {
        "ShellCommandActivity recording when its executor starts and ends (benchmarks only)."
    }

    fn fields(&self) -> Vec<&'static FieldSpec> {
        sluice_catalog::types::ShellCommandActivity.fields()
    }

    fn one_of(&self) -> &'static [OneOf] {
        sluice_catalog::types::ShellCommandActivity.one_of()
    }
}

impl Execute for TimedShellCommandActivity {
    fn execute<'a>(&'a self, ctx: &'a AttemptContext) -> ExecFuture<'a> {
        Box::pin(async move {
            let start = Instant::now();
            let result = ShellCommandActivity.execute(ctx).await;
            record(ctx, start, Instant::now());
            result
        })
    }
}

fn bench_catalog() -> Catalog {
    let extra: [&'static dyn ObjectKind; 2] = [&NoopActivity, &TimedShellCommandActivity];
    Catalog::from_kinds(Catalog::builtin().kinds().chain(extra).collect())
}

fn bench_executors() -> Executors {
    let extra: [(&'static str, &'static dyn Execute); 2] = [
        ("NoopActivity", &NoopActivity),
        ("TimedShellCommandActivity", &TimedShellCommandActivity),
    ];
    Executors::from_entries(sluice_executors::types::ALL.iter().copied().chain(extra))
}

// ----- definitions --------------------------------------------------------------------------

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// `true` in a shell, one process per activity.
    Shell,
    /// No process at all.
    Noop,
}

impl Kind {
    fn label(self) -> &'static str {
        match self {
            Kind::Shell => "shell",
            Kind::Noop => "noop",
        }
    }

    /// An activity object of this kind; `timed` picks the shell kind that records stamps.
    fn object(self, id: &str, timed: bool, depends_on: &[String]) -> Value {
        let mut object = match self {
            Kind::Shell if timed => {
                json!({"id": id, "type": "TimedShellCommandActivity", "command": "true"})
            }
            Kind::Shell => json!({"id": id, "type": "ShellCommandActivity", "command": "true"}),
            Kind::Noop => json!({"id": id, "type": "NoopActivity"}),
        };
        if !depends_on.is_empty() {
            let refs: Vec<Value> = depends_on.iter().map(|d| json!({"ref": d})).collect();
            object["dependsOn"] = Value::Array(refs);
        }
        object
    }
}

fn definition(activities: Vec<Value>) -> String {
    let mut objects =
        vec![json!({"id": "Default", "scheduleType": "ondemand", "workerGroup": "bench"})];
    objects.extend(activities);
    json!({ "objects": objects }).to_string()
}

fn fanout_definition(n: usize, kind: Kind) -> String {
    definition(
        (0..n)
            .map(|i| kind.object(&format!("T{i:05}"), false, &[]))
            .collect(),
    )
}

fn chain_id(i: usize) -> String {
    format!("C{i:05}")
}

fn chain_definition(n: usize, kind: Kind) -> String {
    definition(
        (0..n)
            .map(|i| {
                let before: Vec<String> = i.checked_sub(1).map(chain_id).into_iter().collect();
                kind.object(&chain_id(i), true, &before)
            })
            .collect(),
    )
}

fn diamond_definition(layers: usize, width: usize, kind: Kind) -> String {
    let id = |l: usize, w: usize| format!("L{l:03}W{w:03}");
    let mut objects = Vec::with_capacity(layers * width);
    for l in 0..layers {
        let before: Vec<String> = match l.checked_sub(1) {
            Some(p) => (0..width).map(|w| id(p, w)).collect(),
            None => Vec::new(),
        };
        for w in 0..width {
            objects.push(kind.object(&id(l, w), false, &before));
        }
    }
    definition(objects)
}

/// Parses and validates a generated definition.
fn load_definition(text: &str, catalog: &Catalog) -> (PipelineDefinition, ResolvedPipeline) {
    let parsed = parse_definition_file(text).unwrap_or_else(|e| panic!("generated file: {e}"));
    let (pipeline, _warnings) = load(
        &parsed.definition,
        catalog,
        &Limits::default(),
        &ValidateOptions::default(),
    )
    .unwrap_or_else(|report| {
        panic!(
            "generated definition does not validate: {:?}",
            report.error_messages().collect::<Vec<_>>()
        )
    });
    (parsed.definition, pipeline)
}

// ----- running through run_local --------------------------------------------------------------

/// SQLite with the time spent in `commit` counted.
struct TimedStore {
    inner: SqliteStore,
    commits: AtomicU64,
    commit_nanos: AtomicU64,
}

#[async_trait]
impl Store for TimedStore {
    async fn commit(&self, changes: &ChangeSet) -> Result<(), StoreError> {
        let started = Instant::now();
        let result = self.inner.commit(changes).await;
        let nanos = u64::try_from(started.elapsed().as_nanos()).unwrap_or(u64::MAX);
        self.commits.fetch_add(1, Ordering::Relaxed);
        self.commit_nanos.fetch_add(nanos, Ordering::Relaxed);
        result
    }

    async fn pipeline(&self, pipeline_id: &str) -> Result<Option<PipelineRecord>, StoreError> {
        self.inner.pipeline(pipeline_id).await
    }

    async fn pipelines(&self) -> Result<Vec<PipelineRecord>, StoreError> {
        self.inner.pipelines().await
    }

    async fn instances(&self, pipeline_id: &str) -> Result<Vec<InstanceRecord>, StoreError> {
        self.inner.instances(pipeline_id).await
    }

    async fn attempts(&self, pipeline_id: &str) -> Result<Vec<AttemptRecord>, StoreError> {
        self.inner.attempts(pipeline_id).await
    }

    async fn query_instances(
        &self,
        pipeline_id: &str,
        query: &InstanceQuery,
    ) -> Result<Vec<InstanceRecord>, StoreError> {
        self.inner.query_instances(pipeline_id, query).await
    }

    async fn instances_with_id_hash(
        &self,
        pipeline_id: &str,
        hash: u64,
    ) -> Result<Vec<InstanceRecord>, StoreError> {
        self.inner.instances_with_id_hash(pipeline_id, hash).await
    }

    async fn delete_pipeline(&self, pipeline_id: &str) -> Result<(), StoreError> {
        self.inner.delete_pipeline(pipeline_id).await
    }
}

struct Quiet;

impl Progress for Quiet {
    fn update(&mut self, _summary: &Summary) {}
}

/// What one `run_local` took.
struct RunFigures {
    wall: Duration,
    commits: u64,
    commit_time: Duration,
    stamps: Vec<Stamp>,
}

impl RunFigures {
    fn describe(&self) -> String {
        format!(
            "{:.3} s; {} commits, {:.3} s in commit ({:.2} ms each)",
            self.wall.as_secs_f64(),
            self.commits,
            self.commit_time.as_secs_f64(),
            self.commit_time.as_secs_f64() * 1e3 / self.commits.max(1) as f64
        )
    }
}

/// Fresh data directories, all removed only when the benchmark ends: on ext4 without a
/// journal, creating files in the minutes after many were deleted is up to 25 times slower
/// (the inode allocator skips recently deleted inodes one by one), so deleting one run's
/// directory would slow the next run down.
struct Scratch {
    root: tempfile::TempDir,
    next: AtomicU64,
}

impl Scratch {
    fn new() -> Scratch {
        Scratch::new_in(&std::env::temp_dir())
    }

    fn new_in(parent: &std::path::Path) -> Scratch {
        Scratch {
            root: tempfile::Builder::new()
                .prefix("sluice-bench-")
                .tempdir_in(parent)
                .unwrap_or_else(|e| panic!("temporary directory in {}: {e}", parent.display())),
            next: AtomicU64::new(0),
        }
    }

    /// Removes the directories now, or leaves them with `keep`.
    fn finish(self, keep: bool) {
        if keep {
            eprintln!("data directories kept in {}", self.root.keep().display());
        } else {
            eprintln!("removing {}", self.root.path().display());
        }
    }

    fn data_dir(&self) -> PathBuf {
        let n = self.next.fetch_add(1, Ordering::Relaxed);
        let dir = self.root.path().join(format!("run-{n}"));
        std::fs::create_dir(&dir).expect("data directory");
        dir
    }

    /// Mean time to create (and write) one small file here: the filesystem's share of every
    /// attempt, which starts with a directory and three log files.
    fn file_creation(&self) -> Duration {
        let dir = self.data_dir();
        let count = 200;
        let started = Instant::now();
        for i in 0..count {
            std::fs::write(dir.join(format!("probe-{i}")), b"x\n").expect("probe file");
        }
        started.elapsed() / count
    }
}

/// Runs `text` with `run_local` on a fresh SQLite data directory; every instance must finish.
fn run_definition(
    runtime: &tokio::runtime::Runtime,
    dir: PathBuf,
    text: &str,
    catalog: &Catalog,
    workers: usize,
    expected: usize,
) -> RunFigures {
    let (definition, pipeline) = load_definition(text, catalog);
    take_stamps();
    runtime.block_on(async {
        let inner = SqliteStore::open(&dir.join("sluice.db"))
            .await
            .expect("open the store");
        let store = Arc::new(TimedStore {
            inner,
            commits: AtomicU64::new(0),
            commit_nanos: AtomicU64::new(0),
        });
        let config = LocalRunConfig {
            pipeline_id: "df-BENCHMARK000000000".to_owned(),
            definition,
            pipeline,
            catalog: catalog.clone(),
            executors: bench_executors(),
            data_dir: dir.clone(),
            data: Arc::new(sluice_data::DataSettings::from_env()),
            workers,
            follow: false,
        };
        let clock: Arc<dyn Clock> = Arc::new(SystemClock);
        let started = Instant::now();
        let report = run_local(
            config,
            store.clone(),
            clock,
            CancellationToken::new(),
            &mut Quiet,
        )
        .await
        .unwrap_or_else(|e| panic!("run_local: {e}"));
        let wall = started.elapsed();
        let finished = report
            .instances
            .iter()
            .filter(|i| i.status == Status::Finished)
            .count();
        assert!(
            finished == expected && report.instances.len() == expected,
            "expected {expected} FINISHED instances, got {finished} of {}",
            report.instances.len()
        );
        store.inner.close().await;
        RunFigures {
            wall,
            commits: store.commits.load(Ordering::Relaxed),
            commit_time: Duration::from_nanos(store.commit_nanos.load(Ordering::Relaxed)),
            stamps: take_stamps(),
        }
    })
}

/// Wall time of `seq n | xargs -P<workers> -n1 true`.
fn xargs(n: usize, workers: usize) -> Duration {
    time_script(&format!("seq {n} | xargs -P{workers} -n1 true"))
}

/// Wall time of a shell script, which must succeed.
fn time_script(script: &str) -> Duration {
    let started = Instant::now();
    let status = Command::new("sh")
        .args(["-c", script])
        .status()
        .expect("run sh");
    let elapsed = started.elapsed();
    assert!(status.success(), "{script} failed: {status}");
    elapsed
}

/// Hops of a chain: start of executor k+1 minus end of executor k.
fn chain_hops(n: usize, stamps: &[Stamp]) -> Vec<Duration> {
    let by_id: HashMap<&str, &Stamp> = stamps.iter().map(|s| (s.component.as_str(), s)).collect();
    let stamp = |i: usize| {
        *by_id
            .get(chain_id(i).as_str())
            .unwrap_or_else(|| panic!("no execution recorded for {}", chain_id(i)))
    };
    (1..n)
        .map(|k| stamp(k).start.saturating_duration_since(stamp(k - 1).end))
        .collect()
}

// ----- the engine alone -----------------------------------------------------------------------

struct EngineFigures {
    elapsed: Duration,
    per_second: f64,
}

fn engine_only(n: usize, catalog: &Catalog) -> EngineFigures {
    let (_, pipeline) = load_definition(&fanout_definition(n, Kind::Shell), catalog);
    let plan = Plan::compile(pipeline, catalog).expect("plan");
    let now = SystemClock.now();
    let mut engine = Engine::new(
        PipelineRecord::new_local("df-BENCHMARK000000000", now),
        plan,
        EngineOptions::default(),
    );
    let started = Instant::now();
    engine.activate(now, None).expect("activate");
    let mut finished = 0usize;
    loop {
        let mut progressed = false;
        while let Some(task) = engine.poll_task(None, "bench", now) {
            engine
                .set_task_status(&task.task_id, TaskResult::finished(), now)
                .expect("set_task_status");
            finished += 1;
            progressed = true;
            if finished.is_multiple_of(1000) {
                drop(engine.take_changes());
            }
        }
        engine.advance(now);
        if !progressed {
            break;
        }
    }
    drop(engine.take_changes());
    let elapsed = started.elapsed();
    assert_eq!(finished, n, "every task is handed out once");
    assert_eq!(engine.summary().get(Status::Finished), n);
    EngineFigures {
        elapsed,
        per_second: n as f64 / elapsed.as_secs_f64(),
    }
}

// ----- the engine and the store, no runner --------------------------------------------------

/// The engine driven as in `engine_only`, committing every step's changes to SQLite as the
/// driver does when steps do not overlap (poll, then SetTaskStatus: two commits a task).
fn engine_and_store(
    runtime: &tokio::runtime::Runtime,
    dir: PathBuf,
    n: usize,
    catalog: &Catalog,
) -> RunFigures {
    let (_, pipeline) = load_definition(&fanout_definition(n, Kind::Noop), catalog);
    let plan = Plan::compile(pipeline, catalog).expect("plan");
    runtime.block_on(async {
        let store = SqliteStore::open(&dir.join("sluice.db"))
            .await
            .expect("open the store");
        let now = SystemClock.now();
        let mut engine = Engine::new(
            PipelineRecord::new_local("df-BENCHMARK000000000", now),
            plan,
            EngineOptions::default(),
        );
        let mut commits = 0u64;
        let mut commit_time = Duration::ZERO;
        let mut commit = async |engine: &mut Engine| {
            let changes = engine.take_changes();
            let started = Instant::now();
            store.commit(&changes).await.expect("commit");
            commit_time += started.elapsed();
            commits += 1;
        };
        let started = Instant::now();
        engine.activate(now, None).expect("activate");
        commit(&mut engine).await;
        let mut finished = 0;
        while let Some(task) = engine.poll_task(None, "bench", now) {
            commit(&mut engine).await;
            engine
                .set_task_status(&task.task_id, TaskResult::finished(), now)
                .expect("set_task_status");
            commit(&mut engine).await;
            finished += 1;
        }
        let wall = started.elapsed();
        assert_eq!(finished, n);
        store.close().await;
        RunFigures {
            wall,
            commits,
            commit_time,
            stamps: Vec::new(),
        }
    })
}

// ----- peak memory in a fresh process ---------------------------------------------------------

const MEMORY_CHILD: &str = "--memory-child";
const HWM_PREFIX: &str = "vmhwm_kib=";

fn vm_hwm_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    status
        .lines()
        .find(|l| l.starts_with("VmHWM:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|n| n.parse().ok())
}

/// The child: one no-op fanout through `run_local` in `dir`, then its peak RSS on stdout.
fn memory_child(n: usize, workers: usize, dir: PathBuf) -> ExitCode {
    let runtime = runtime();
    let catalog = bench_catalog();
    let figures = run_definition(
        &runtime,
        dir,
        &fanout_definition(n, Kind::Noop),
        &catalog,
        workers,
        n,
    );
    drop(runtime);
    match vm_hwm_kib() {
        Some(kib) => {
            println!("{HWM_PREFIX}{kib}");
            eprintln!("memory child: fanout {n} noop {}", figures.describe());
            ExitCode::SUCCESS
        }
        None => {
            eprintln!("cannot read VmHWM from /proc/self/status");
            ExitCode::FAILURE
        }
    }
}

/// Peak RSS of a child process running the memory workload in `dir`, in bytes.
fn memory_in_child(n: usize, workers: usize, dir: PathBuf) -> u64 {
    let exe = std::env::current_exe().expect("the benchmark's own path");
    let output = Command::new(exe)
        .arg(MEMORY_CHILD)
        .arg(n.to_string())
        .arg(workers.to_string())
        .arg(dir)
        .stderr(std::process::Stdio::inherit())
        .output()
        .expect("start the memory child");
    assert!(output.status.success(), "memory child: {}", output.status);
    let stdout = String::from_utf8_lossy(&output.stdout);
    let kib: u64 = stdout
        .lines()
        .find_map(|l| l.strip_prefix(HWM_PREFIX))
        .and_then(|n| n.trim().parse().ok())
        .unwrap_or_else(|| panic!("memory child printed no {HWM_PREFIX}: {stdout}"));
    kib * 1024
}

// ----- options and the table ------------------------------------------------------------------

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Workload {
    Store,
    Fanout,
    Chain,
    Diamond,
    Engine,
    Memory,
    Process,
    ProcessMemory,
}

const ALL: [Workload; 8] = [
    Workload::Store,
    Workload::Fanout,
    Workload::Chain,
    Workload::Diamond,
    Workload::Engine,
    Workload::Memory,
    Workload::Process,
    Workload::ProcessMemory,
];

struct Options {
    workloads: Vec<Workload>,
    /// Overrides the size of every selected workload but `diamond`.
    n: Option<usize>,
    layers: usize,
    width: usize,
    runs: usize,
    workers: usize,
    kinds: Vec<Kind>,
    /// Leave the data directories behind (their logs) instead of removing them at the end.
    keep: bool,
    /// Where `process` and `process-memory` put their data directories on disk.
    disk_dir: PathBuf,
    /// Where `process` puts its data directories on tmpfs.
    tmpfs_dir: PathBuf,
    smoke: bool,
}

const USAGE: &str = "usage: cargo bench -p sluice --bench workloads -- \
[store|fanout|chain|diamond|engine|memory|process|process-memory|all]... [--n N] [--layers L] \
[--width W] [--runs R] [--workers W] [--kind shell|noop|both] [--disk-dir DIR] [--tmpfs-dir DIR] \
[--keep]";

fn nproc() -> usize {
    std::thread::available_parallelism().map_or(2, |n| n.get())
}

fn parse_options(args: Vec<String>) -> Result<Options, String> {
    let smoke = !args.iter().any(|a| a == "--bench");
    let mut options = Options {
        workloads: Vec::new(),
        n: None,
        layers: 10,
        width: 50,
        runs: 3,
        workers: nproc(),
        kinds: vec![Kind::Shell, Kind::Noop],
        keep: false,
        disk_dir: PathBuf::from("/var/tmp"),
        tmpfs_dir: PathBuf::from("/dev/shm"),
        smoke,
    };
    let mut args = args.into_iter();
    let number = |flag: &str, value: Option<String>| -> Result<usize, String> {
        value
            .as_deref()
            .and_then(|v| v.parse().ok())
            .filter(|&v| v > 0)
            .ok_or_else(|| format!("{flag} needs a positive number"))
    };
    let path = |flag: &str, value: Option<String>| -> Result<PathBuf, String> {
        value
            .map(PathBuf::from)
            .filter(|p| p.is_dir())
            .ok_or_else(|| format!("{flag} needs an existing directory"))
    };
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--bench" => {}
            "store" => options.workloads.push(Workload::Store),
            "fanout" => options.workloads.push(Workload::Fanout),
            "chain" => options.workloads.push(Workload::Chain),
            "diamond" => options.workloads.push(Workload::Diamond),
            "engine" => options.workloads.push(Workload::Engine),
            "memory" => options.workloads.push(Workload::Memory),
            "process" => options.workloads.push(Workload::Process),
            "process-memory" => options.workloads.push(Workload::ProcessMemory),
            "all" => options.workloads.extend(ALL),
            "--n" => options.n = Some(number("--n", args.next())?),
            "--layers" => options.layers = number("--layers", args.next())?,
            "--width" => options.width = number("--width", args.next())?,
            "--runs" => options.runs = number("--runs", args.next())?,
            "--workers" => options.workers = number("--workers", args.next())?,
            "--kind" => {
                options.kinds = match args.next().as_deref() {
                    Some("shell") => vec![Kind::Shell],
                    Some("noop") => vec![Kind::Noop],
                    Some("both") => vec![Kind::Shell, Kind::Noop],
                    _ => return Err("--kind takes shell, noop or both".into()),
                }
            }
            "--keep" => options.keep = true,
            "--disk-dir" => options.disk_dir = path("--disk-dir", args.next())?,
            "--tmpfs-dir" => options.tmpfs_dir = path("--tmpfs-dir", args.next())?,
            "-h" | "--help" => return Err(String::new()),
            other => return Err(format!("unknown argument {other}")),
        }
    }
    if options.workloads.is_empty() {
        options.workloads.extend(ALL);
    }
    options.workloads.dedup();
    if options.smoke {
        // `cargo test --benches`: a quick check that every workload runs, not a measurement.
        options.n = Some(options.n.unwrap_or(20).min(200));
        options.layers = options.layers.min(3);
        options.width = options.width.min(5);
        options.runs = 1;
    }
    Ok(options)
}

struct Row {
    workload: String,
    figure: String,
    target: String,
    /// `None` for figures without a target.
    meets: Option<bool>,
}

fn row(workload: String, figure: String, target: &str, meets: Option<bool>) -> Row {
    Row {
        workload,
        figure,
        target: target.to_owned(),
        meets,
    }
}

fn median_duration(mut values: Vec<Duration>) -> Duration {
    values.sort();
    values[values.len() / 2]
}

fn median_f64(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let index = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[index.min(sorted.len() - 1)]
}

fn ms(d: Duration) -> String {
    format!("{:.2} ms", d.as_secs_f64() * 1e3)
}

fn secs(d: Duration) -> String {
    format!("{:.3} s", d.as_secs_f64())
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("tokio runtime")
}

fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|l| l.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|_| "unknown".into())
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if let [flag, n, workers, dir] = args.as_slice()
        && flag == MEMORY_CHILD
    {
        let (Ok(n), Ok(workers)) = (n.parse(), workers.parse()) else {
            eprintln!("usage: workloads {MEMORY_CHILD} N WORKERS DATA_DIR");
            return ExitCode::from(2);
        };
        return memory_child(n, workers, PathBuf::from(dir));
    }
    if let [flag, definition, dir, workers] = args.as_slice()
        && flag == process::PROCESS_CHILD
    {
        return process::process_child(definition.as_ref(), dir.as_ref(), workers);
    }
    let options = match parse_options(args) {
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
    let header = format!(
        "sluice benchmarks: {} cores, {} workers, median of {} run(s), load average before: {}{}",
        nproc(),
        options.workers,
        options.runs,
        load_average(),
        if options.smoke {
            " (smoke test: tiny sizes; use `cargo bench` to measure)"
        } else {
            ""
        }
    );
    let scratch = Scratch::new();
    let header = format!(
        "{header}\ndata directories under {}: creating a file takes {:.0} µs",
        scratch.root.path().display(),
        scratch.file_creation().as_secs_f64() * 1e6
    );
    eprintln!("{header}");
    let mut process_scratch = ProcessScratch::default();
    let rows = run_workloads(&options, &scratch, &mut process_scratch);
    scratch.finish(options.keep);
    for scratch in [process_scratch.disk, process_scratch.tmpfs]
        .into_iter()
        .flatten()
    {
        scratch.finish(options.keep);
    }
    println!("\n{header}\n");
    println!("| workload | figure | target | verdict |");
    println!("|---|---|---|---|");
    for row in &rows {
        let verdict = match row.meets {
            Some(_) if options.smoke => "(smoke test)",
            Some(true) => "meets",
            Some(false) => "misses",
            None => "—",
        };
        println!(
            "| {} | {} | {} | {verdict} |",
            row.workload, row.figure, row.target
        );
    }
    println!("\nload average after: {}", load_average());
    ExitCode::SUCCESS
}

/// The data directories of the whole-process workloads, created when one runs and removed
/// (or kept) with the others at the end.
#[derive(Default)]
struct ProcessScratch {
    disk: Option<Scratch>,
    tmpfs: Option<Scratch>,
}

impl ProcessScratch {
    fn disk(&mut self, options: &Options) -> &Scratch {
        self.disk
            .get_or_insert_with(|| Scratch::new_in(&options.disk_dir))
    }

    fn tmpfs(&mut self, options: &Options) -> &Scratch {
        self.tmpfs
            .get_or_insert_with(|| Scratch::new_in(&options.tmpfs_dir))
    }
}

fn mib(bytes: u64) -> String {
    format!("{:.1} MiB", bytes as f64 / (1024.0 * 1024.0))
}

fn run_workloads(
    options: &Options,
    scratch: &Scratch,
    process_scratch: &mut ProcessScratch,
) -> Vec<Row> {
    let runtime = runtime();
    let catalog = bench_catalog();
    let workers = options.workers;
    let runs = options.runs;
    let mut rows = Vec::new();
    for &workload in &options.workloads {
        match workload {
            Workload::Store => {
                let n = options.n.unwrap_or(1000);
                let mut per_commit = Vec::new();
                let mut walls = Vec::new();
                for run in 1..=runs {
                    let figures = engine_and_store(&runtime, scratch.data_dir(), n, &catalog);
                    eprintln!(
                        "engine + store, fanout {n} run {run}: {}",
                        figures.describe()
                    );
                    per_commit.push(figures.commit_time / figures.commits.max(1) as u32);
                    walls.push(figures.wall);
                }
                let wall = median_duration(walls);
                rows.push(row(
                    format!("engine + SQLite, no runner: fanout {n}, a commit per step"),
                    format!(
                        "{} per commit; {} = {:.0} instances/s",
                        ms(median_duration(per_commit)),
                        secs(wall),
                        n as f64 / wall.as_secs_f64()
                    ),
                    "(reference)",
                    None,
                ));
            }
            Workload::Fanout => {
                let n = options.n.unwrap_or(1000);
                let mut baseline = Vec::new();
                let mut walls: HashMap<&str, Vec<Duration>> = HashMap::new();
                for run in 1..=runs {
                    let x = xargs(n, workers);
                    eprintln!("fanout {n} run {run}: xargs {}", secs(x));
                    baseline.push(x);
                    for &kind in &options.kinds {
                        let figures = run_definition(
                            &runtime,
                            scratch.data_dir(),
                            &fanout_definition(n, kind),
                            &catalog,
                            workers,
                            n,
                        );
                        eprintln!(
                            "fanout {n} run {run}: {} {}",
                            kind.label(),
                            figures.describe()
                        );
                        walls.entry(kind.label()).or_default().push(figures.wall);
                    }
                }
                let baseline = median_duration(baseline);
                rows.push(row(
                    format!("fanout {n}: xargs -P{workers} baseline"),
                    secs(baseline),
                    "(baseline)",
                    None,
                ));
                for &kind in &options.kinds {
                    let wall = median_duration(walls.remove(kind.label()).unwrap_or_default());
                    let ratio = wall.as_secs_f64() / baseline.as_secs_f64();
                    rows.push(row(
                        format!("fanout {n} {}", kind.label()),
                        format!(
                            "{} = {ratio:.2}× xargs ({:.0} instances/s)",
                            secs(wall),
                            n as f64 / wall.as_secs_f64()
                        ),
                        "≤ 2× xargs",
                        Some(ratio <= 2.0),
                    ));
                }
            }
            Workload::Chain => {
                let n = options.n.unwrap_or(100).max(2);
                for &kind in &options.kinds {
                    let mut medians = Vec::new();
                    let mut p90s = Vec::new();
                    let mut walls = Vec::new();
                    for run in 1..=runs {
                        let figures = run_definition(
                            &runtime,
                            scratch.data_dir(),
                            &chain_definition(n, kind),
                            &catalog,
                            workers,
                            n,
                        );
                        let mut hops = chain_hops(n, &figures.stamps);
                        hops.sort();
                        let median = percentile(&hops, 0.5);
                        let p90 = percentile(&hops, 0.9);
                        eprintln!(
                            "chain {n} run {run}: {} hop median {} p90 {} max {}; {}",
                            kind.label(),
                            ms(median),
                            ms(p90),
                            ms(*hops.last().unwrap_or(&Duration::ZERO)),
                            figures.describe()
                        );
                        medians.push(median);
                        p90s.push(p90);
                        walls.push(figures.wall);
                    }
                    let median = median_duration(medians);
                    rows.push(row(
                        format!("chain {n} {}: median hop", kind.label()),
                        format!(
                            "{} (p90 {}; whole chain {})",
                            ms(median),
                            ms(median_duration(p90s)),
                            secs(median_duration(walls))
                        ),
                        "< 5 ms",
                        Some(median < Duration::from_millis(5)),
                    ));
                }
            }
            Workload::Diamond => {
                let (layers, width) = (options.layers, options.width);
                let n = layers * width;
                for &kind in &options.kinds {
                    let mut diamonds = Vec::new();
                    let mut fanouts = Vec::new();
                    for run in 1..=runs {
                        let diamond = run_definition(
                            &runtime,
                            scratch.data_dir(),
                            &diamond_definition(layers, width, kind),
                            &catalog,
                            workers,
                            n,
                        );
                        let fanout = run_definition(
                            &runtime,
                            scratch.data_dir(),
                            &fanout_definition(n, kind),
                            &catalog,
                            workers,
                            n,
                        );
                        eprintln!(
                            "diamond {layers}x{width} run {run}: {} {}; fanout {n} {}",
                            kind.label(),
                            diamond.describe(),
                            fanout.describe()
                        );
                        diamonds.push(diamond.wall);
                        fanouts.push(fanout.wall);
                    }
                    let diamond = median_duration(diamonds);
                    let fanout = median_duration(fanouts);
                    let ratio = diamond.as_secs_f64() / fanout.as_secs_f64();
                    rows.push(row(
                        format!("diamond {layers}×{width} {}", kind.label()),
                        format!(
                            "{} = {ratio:.2}× fanout {n} ({})",
                            secs(diamond),
                            secs(fanout)
                        ),
                        &format!("≤ 1.5× fanout {n}"),
                        Some(ratio <= 1.5),
                    ));
                }
            }
            Workload::Engine => {
                let n = options.n.unwrap_or(20_000);
                let mut rates = Vec::new();
                for run in 1..=runs {
                    let figures = engine_only(n, &catalog);
                    eprintln!(
                        "engine fanout {n} run {run}: {} = {:.0} instances/s",
                        secs(figures.elapsed),
                        figures.per_second
                    );
                    rates.push(figures.per_second);
                }
                let rate = median_f64(rates);
                rows.push(row(
                    format!("engine only, fanout {n}"),
                    format!("{rate:.0} instances/s"),
                    "≥ 20 000 instances/s",
                    Some(rate >= 20_000.0),
                ));
            }
            Workload::Memory => {
                let n = options.n.unwrap_or(10_000);
                let mut peaks = Vec::new();
                for run in 1..=runs {
                    let bytes = memory_in_child(n, workers, scratch.data_dir());
                    eprintln!(
                        "memory fanout {n} noop run {run}: VmHWM {:.1} MB",
                        bytes as f64 / 1e6
                    );
                    peaks.push(bytes as f64);
                }
                let peak = median_f64(peaks) / 1e6;
                rows.push(row(
                    format!("memory: fanout {n} noop through run_local, peak RSS"),
                    format!("{peak:.1} MB"),
                    "< 100 MB",
                    Some(peak < 100.0),
                ));
            }
            Workload::Process => {
                let n = options.n.unwrap_or(1000);
                let text = fanout_definition(n, Kind::Shell);
                let mut baseline = Vec::new();
                let mut disk = Vec::new();
                let mut tmpfs = Vec::new();
                for run in 1..=runs {
                    let x = process::xargs_sh(n, workers);
                    baseline.push(x);
                    let on_disk = process::sluice_run(
                        &text,
                        &process_scratch.disk(options).data_dir(),
                        workers,
                    );
                    let on_tmpfs = process::sluice_run(
                        &text,
                        &process_scratch.tmpfs(options).data_dir(),
                        workers,
                    );
                    eprintln!(
                        "process fanout {n} run {run}: xargs sh {}; sluice run on disk {} \
                         (peak {}), on tmpfs {} (peak {})",
                        secs(x),
                        secs(on_disk.wall),
                        mib(on_disk.peak_rss),
                        secs(on_tmpfs.wall),
                        mib(on_tmpfs.peak_rss)
                    );
                    disk.push(on_disk);
                    tmpfs.push(on_tmpfs);
                }
                let baseline = median_duration(baseline);
                rows.push(row(
                    format!(
                        "`sluice run` fanout {n}: `xargs -P{workers} -I{{}} sh -c true` baseline"
                    ),
                    secs(baseline),
                    "(baseline)",
                    None,
                ));
                for (place, dir, figures) in [
                    ("disk", &options.disk_dir, disk),
                    ("tmpfs", &options.tmpfs_dir, tmpfs),
                ] {
                    let peak = figures.iter().map(|f| f.peak_rss).max().unwrap_or(0);
                    let wall = median_duration(figures.into_iter().map(|f| f.wall).collect());
                    let ratio = wall.as_secs_f64() / baseline.as_secs_f64();
                    rows.push(row(
                        format!("`sluice run` fanout {n} shell, {place} ({})", dir.display()),
                        format!("{} = {ratio:.2}× xargs; peak RSS {}", secs(wall), mib(peak)),
                        "≤ 2× xargs",
                        Some(ratio <= 2.0),
                    ));
                }
            }
            Workload::ProcessMemory => {
                let n = options.n.unwrap_or(10_000);
                let text = fanout_definition(n, Kind::Shell);
                let mut peaks = Vec::new();
                let mut walls = Vec::new();
                for run in 1..=runs {
                    let figures = process::sluice_run(
                        &text,
                        &process_scratch.disk(options).data_dir(),
                        workers,
                    );
                    eprintln!(
                        "process memory fanout {n} run {run}: peak RSS {} in {}",
                        mib(figures.peak_rss),
                        secs(figures.wall)
                    );
                    peaks.push(figures.peak_rss);
                    walls.push(figures.wall);
                }
                peaks.sort_unstable();
                let peak = peaks[peaks.len() / 2];
                rows.push(row(
                    format!(
                        "`sluice run` fanout {n} shell, peak RSS ({})",
                        options.disk_dir.display()
                    ),
                    format!("{} (run {})", mib(peak), secs(median_duration(walls))),
                    "< 100 MiB",
                    Some(peak < 100 * 1024 * 1024),
                ));
            }
        }
    }
    rows
}
