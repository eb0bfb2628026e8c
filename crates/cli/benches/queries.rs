//! QueryObjects over a pipeline of a million instances (README, "Benchmarks").
//!
//! ```sh
//! cargo bench -p sluice --bench queries                            # 1 000 000 instances, both stores
//! cargo bench -p sluice --bench queries -- --n 200000 --store sqlite
//! cargo bench -p sluice --bench queries -- --keep                  # keep the data for the next run
//! ```
//!
//! Writes one pipeline of N instances straight into each store — commits of 10 000 records
//! through the store's own write path, not a pipeline run — then opens a `Service` over it and
//! times QueryObjects on the INSTANCE sphere: the first page (default limit, 100) of each
//! selector the stores answer from their indexes, and pages further on by marker. Each query is
//! repeated; the table gives p50 and p99. Then pipelines of 10 000 instances, one read as
//! stored and one with a scheduler, to set the indexed path beside the in-memory one (forced
//! by an extra selector on `@pipelineId`, which always holds and which no index answers).
//!
//! The big pipeline is left PENDING, so the service opens no scheduler for it (restoring a
//! million instances into an engine is not what is measured) and reads it as stored. Its instances
//! belong to ten components and start a minute apart per component; 97 % of them ended (mostly
//! FINISHED, some FAILED, CASCADE_FAILED, CANCELED), the latest 3 % are waiting or running.
//!
//! SQLite lives under `$TMPDIR` (default `/tmp`), PostgreSQL is the local server
//! (127.0.0.1:5432, user `postgres`, database `test`, a schema of the benchmark's own). Data of
//! an earlier `--keep` run with the same N is used again. This is a measurement, not a test:
//! it prints a table and exits 0 whether or not the target (p99 ≤ 50 ms at a million
//! instances) is met. Run without `--bench` (as `cargo test --benches` does) it only
//! smoke-tests on 2 000 instances.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{NaiveDateTime, TimeDelta};
use serde_json::{Value, json};
use sluice_engine::{ChangeSet, InstanceRecord, PipelineRecord, Store, SystemClock};
use sluice_model::ops::{QueryObjectsInput, QueryObjectsOutput};
use sluice_model::time::{format_datetime, parse_datetime};
use sluice_model::{PipelineState, Status, parse_definition_file};
use sluice_runtime::accounts::Principal;
use sluice_runtime::{Service, ServiceOptions};
use sluice_store::{PostgresOptions, PostgresStore, SqliteStore};

const USAGE: &str = "usage: cargo bench -p sluice --bench queries -- \
                     [--n N] [--store sqlite|postgres|both] [--runs R] [--keep]";

const POSTGRES: &str = "postgres://postgres@127.0.0.1:5432/test";
const ACCOUNT: &str = "123456789012";
const COMPONENTS: usize = 10;
/// Records per commit while writing the pipeline.
const CHUNK: usize = 10_000;
/// The size the in-memory path is measured at.
const SMALL: usize = 10_000;
const TARGET_P99: Duration = Duration::from_millis(50);
/// The pipeline-record field saying how many instances a finished write left.
const WRITTEN: &str = "benchInstances";

#[derive(Clone, Copy, PartialEq, Eq)]
enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    fn name(self) -> &'static str {
        match self {
            Backend::Sqlite => "SQLite",
            Backend::Postgres => "PostgreSQL",
        }
    }
}

struct Options {
    n: usize,
    backends: Vec<Backend>,
    runs: usize,
    keep: bool,
    smoke: bool,
}

fn parse_options(args: &[String]) -> Result<Options, String> {
    let smoke = !args.iter().any(|a| a == "--bench");
    let mut options = Options {
        n: if smoke { 2_000 } else { 1_000_000 },
        backends: vec![Backend::Sqlite, Backend::Postgres],
        runs: if smoke { 3 } else { 300 },
        keep: false,
        smoke,
    };
    let mut it = args.iter();
    while let Some(arg) = it.next() {
        let mut number = |flag: &str| {
            it.next()
                .and_then(|v| v.parse::<usize>().ok())
                .filter(|n| *n > 0)
                .ok_or(format!("{flag} needs a positive number"))
        };
        match arg.as_str() {
            "--bench" => {}
            "--keep" => options.keep = true,
            "--n" => options.n = number("--n")?,
            "--runs" => options.runs = number("--runs")?,
            "--store" => {
                options.backends = match it.next().map(String::as_str) {
                    Some("sqlite") => vec![Backend::Sqlite],
                    Some("postgres") => vec![Backend::Postgres],
                    Some("both") => vec![Backend::Sqlite, Backend::Postgres],
                    _ => return Err("--store takes sqlite, postgres or both".into()),
                }
            }
            "-h" | "--help" => return Err(String::new()),
            other => return Err(format!("unknown argument {other:?}")),
        }
    }
    Ok(options)
}

fn at(text: &str) -> NaiveDateTime {
    parse_datetime(text).expect("a valid datetime")
}

/// The first interval's start.
fn base() -> NaiveDateTime {
    at("2026-01-01T00:00:00")
}

/// Ten activities on a schedule of one-minute intervals, as many as each has instances: the
/// instances are written, not scheduled, and a scheduler restoring them finds nothing more due.
fn definition(n: usize) -> sluice_model::PipelineDefinition {
    let mut objects = vec![
        json!({"id": "Default", "name": "Default", "scheduleType": "cron",
               "schedule": {"ref": "Minutely"}, "workerGroup": "wg"}),
        json!({"id": "Minutely", "name": "Minutely", "type": "Schedule",
               "period": "1 minutes", "startDateTime": format_datetime(base()),
               "occurrences": n.div_ceil(COMPONENTS).to_string()}),
    ];
    for c in 0..COMPONENTS {
        objects.push(json!({"id": format!("C{c}"), "name": format!("C{c}"),
                            "type": "ShellCommandActivity", "command": "true"}));
    }
    let text = json!({ "objects": objects }).to_string();
    parse_definition_file(&text)
        .expect("the generated definition reads")
        .definition
}

/// Instance `i` of `n`: component `i % 10`, starting `i / 10` minutes after the first.
fn instance(pipeline_id: &str, i: usize, n: usize) -> InstanceRecord {
    let minute = i / COMPONENTS;
    let minutes = n.div_ceil(COMPONENTS);
    let start = base() + TimeDelta::minutes(minute as i64);
    let component = format!("C{}", i % COMPONENTS);
    let recent = minute * 100 >= minutes * 97;
    let status = if recent {
        match i % 7 {
            0 => Status::Running,
            1 | 2 => Status::WaitingForRunner,
            _ => Status::WaitingOnDependencies,
        }
    } else if i.is_multiple_of(97) {
        Status::Failed
    } else if i.is_multiple_of(101) {
        Status::CascadeFailed
    } else if i.is_multiple_of(211) {
        Status::Canceled
    } else {
        Status::Finished
    };
    let ended = status.is_terminal();
    let mut fields = BTreeMap::from([("@version".to_owned(), vec!["1".to_owned()])]);
    if status == Status::Failed {
        fields.insert("errorId".into(), vec!["Err-1".into()]);
        fields.insert("errorMessage".into(), vec!["exit code 1".into()]);
    }
    InstanceRecord {
        pipeline_id: pipeline_id.to_owned(),
        instance_id: format!("@{component}_{}", format_datetime(start)),
        component_id: component,
        status,
        scheduled_start: start,
        scheduled_end: start + TimeDelta::minutes(1),
        actual_start: ended.then(|| start + TimeDelta::seconds(2)),
        actual_end: ended.then(|| start + TimeDelta::seconds(30)),
        attempt_count: u32::from(ended || status == Status::Running),
        fields,
    }
}

/// The pipeline's record: PENDING, so a service opened over the store reads it as stored, or
/// with `live` SCHEDULED, so the service resumes it with a scheduler.
fn pipeline_record(pipeline_id: &str, n: usize, live: bool, version: u64) -> PipelineRecord {
    let definition = definition(n);
    PipelineRecord {
        pipeline_id: pipeline_id.to_owned(),
        name: pipeline_id.to_owned(),
        unique_id: pipeline_id.to_owned(),
        account_id: ACCOUNT.to_owned(),
        state: if live {
            PipelineState::Scheduled
        } else {
            PipelineState::Pending
        },
        created_at: base(),
        definition: Some(definition.clone()),
        active_definition: Some(definition),
        fields: BTreeMap::new(),
        version,
    }
}

/// Makes sure the store holds pipeline `pipeline_id` with `n` instances, writing it unless an
/// earlier run left it whole.
async fn ensure_pipeline(
    store: &dyn Store,
    pipeline_id: &str,
    n: usize,
    live: bool,
) -> Result<(), String> {
    let existing = store
        .pipeline(pipeline_id)
        .await
        .map_err(|e| e.to_string())?;
    if let Some(record) = &existing {
        if record.fields.get(WRITTEN) == Some(&n.to_string()) {
            eprintln!("  {pipeline_id}: {n} instances from an earlier run");
            return Ok(());
        }
        store
            .delete_pipeline(pipeline_id)
            .await
            .map_err(|e| e.to_string())?;
    }
    let started = Instant::now();
    let mut version = 1;
    for first in (0..n).step_by(CHUNK) {
        let instances = (first..(first + CHUNK).min(n))
            .map(|i| instance(pipeline_id, i, n))
            .collect();
        let pipelines = if first == 0 {
            vec![pipeline_record(pipeline_id, n, live, version)]
        } else {
            Vec::new()
        };
        store
            .commit(&ChangeSet {
                pipelines,
                instances,
                ..ChangeSet::default()
            })
            .await
            .map_err(|e| e.to_string())?;
    }
    version += 1;
    let mut done = pipeline_record(pipeline_id, n, live, version);
    done.fields.insert(WRITTEN.into(), n.to_string());
    store
        .commit(&ChangeSet {
            pipelines: vec![done],
            ..ChangeSet::default()
        })
        .await
        .map_err(|e| e.to_string())?;
    let took = started.elapsed().as_secs_f64();
    eprintln!(
        "  {pipeline_id}: wrote {n} instances in {took:.1} s ({:.0}/s)",
        n as f64 / took
    );
    Ok(())
}

fn selector(field: &str, kind: &str, values: &[&str]) -> Value {
    json!({"fieldName": field, "operator": {"type": kind, "values": values}})
}

fn input(pipeline_id: &str, selectors: &[Value], marker: Option<&str>) -> QueryObjectsInput {
    let mut body = json!({"pipelineId": pipeline_id, "sphere": "INSTANCE",
                          "query": {"selectors": selectors}});
    if let Some(marker) = marker {
        body["marker"] = json!(marker);
    }
    serde_json::from_value(body).expect("a QueryObjects request")
}

struct Figures {
    p50: Duration,
    p99: Duration,
    ids: usize,
}

/// Times `runs` calls of the query (after a few unmeasured ones).
async fn time(
    service: &Service,
    principal: &Principal,
    query: &QueryObjectsInput,
    runs: usize,
) -> Result<Figures, String> {
    let call = || async {
        service
            .query_objects(principal, query.clone())
            .await
            .map_err(|e| e.message().to_owned())
    };
    let mut last: QueryObjectsOutput = call().await?;
    for _ in 0..2 {
        last = call().await?;
    }
    let mut taken = Vec::with_capacity(runs);
    for _ in 0..runs {
        let started = Instant::now();
        call().await?;
        taken.push(started.elapsed());
    }
    taken.sort_unstable();
    let rank = |q: f64| taken[((q * runs as f64).ceil() as usize).clamp(1, runs) - 1];
    Ok(Figures {
        p50: rank(0.5),
        p99: rank(0.99),
        ids: last.ids.map_or(0, |ids| ids.len()),
    })
}

/// The marker after the first page of `selectors`; `None` when that page is the last.
async fn marker_after(
    service: &Service,
    principal: &Principal,
    pipeline_id: &str,
    selectors: &[Value],
) -> Result<Option<String>, String> {
    Ok(service
        .query_objects(principal, input(pipeline_id, selectors, None))
        .await
        .map_err(|e| e.message().to_owned())?
        .marker)
}

struct Row {
    store: &'static str,
    instances: usize,
    query: String,
    figures: Figures,
    judged: bool,
}

fn ms(d: Duration) -> String {
    format!("{:.2}", d.as_secs_f64() * 1000.0)
}

async fn open(backend: Backend, options: &Options) -> Result<(Arc<dyn Store>, Cleanup), String> {
    match backend {
        Backend::Sqlite => {
            let dir = std::env::temp_dir().join(format!("sluice-bench-queries-{}", options.n));
            let path = dir.join("sluice.db");
            let store = SqliteStore::open(&path).await.map_err(|e| e.to_string())?;
            Ok((Arc::new(store), Cleanup::Dir(dir)))
        }
        Backend::Postgres => {
            let schema = format!("sluice_bench_queries_{}", options.n);
            let store = PostgresStore::connect_with(
                POSTGRES,
                PostgresOptions {
                    schema: Some(schema.clone()),
                    ..PostgresOptions::default()
                },
            )
            .await
            .map_err(|e| e.to_string())?;
            Ok((Arc::new(store), Cleanup::Schema(schema)))
        }
    }
}

enum Cleanup {
    Dir(PathBuf),
    Schema(String),
}

impl Cleanup {
    fn run(self) {
        match self {
            Cleanup::Dir(dir) => {
                let _ = std::fs::remove_dir_all(dir);
            }
            Cleanup::Schema(schema) => {
                let _ = sluice_testsupport::databases::try_psql(&format!(
                    "DROP SCHEMA IF EXISTS \"{schema}\" CASCADE"
                ));
            }
        }
    }
}

async fn bench(backend: Backend, options: &Options, rows: &mut Vec<Row>) -> Result<(), String> {
    eprintln!("{}:", backend.name());
    let (store, cleanup) = open(backend, options).await?;
    let (big, small, live) = (
        "df-BENCHQUERIES",
        "df-BENCHQUERIESSMALL",
        "df-BENCHQUERIESLIVE",
    );
    let small_n = SMALL.min(options.n);
    ensure_pipeline(&*store, big, options.n, false).await?;
    ensure_pipeline(&*store, small, small_n, false).await?;
    ensure_pipeline(&*store, live, small_n, true).await?;
    // PostgreSQL plans with the statistics of tables it has just seen grow.
    if backend == Backend::Postgres
        && let Cleanup::Schema(schema) = &cleanup
    {
        sluice_testsupport::databases::try_psql(&format!("ANALYZE \"{schema}\".instances"))?;
    }
    let service = Service::open(
        store.clone(),
        Arc::new(SystemClock),
        ServiceOptions::default(),
    )
    .await
    .map_err(|e| e.message().to_owned())?;
    let principal = Principal {
        access_key_id: "AKIABENCH".into(),
        account_id: ACCOUNT.into(),
    };

    let minutes = options.n.div_ceil(COMPONENTS) as i64;
    let mid = format_datetime(base() + TimeDelta::minutes(minutes / 2));
    let mid_hour = format_datetime(base() + TimeDelta::minutes(minutes / 2 + 60));
    let finished = selector("@status", "EQ", &["FINISHED"]);
    let c3 = selector("@componentParent", "REF_EQ", &["C3"]);
    let from_mid = selector("@scheduledStartTime", "GE", &[&mid]);
    let first_pages: Vec<(String, Vec<Value>)> = vec![
        ("no selector".into(), vec![]),
        ("@status = FINISHED".into(), vec![finished.clone()]),
        (
            "@status = FAILED".into(),
            vec![selector("@status", "EQ", &["FAILED"])],
        ),
        (
            "@status = WAITING (two statuses)".into(),
            vec![selector("@status", "EQ", &["WAITING"])],
        ),
        (
            "@status = RUNNING, FAILED, CANCELED".into(),
            vec![selector(
                "@status",
                "EQ",
                &["RUNNING", "FAILED", "CANCELED"],
            )],
        ),
        (
            "@scheduledStartTime BETWEEN mid, mid + 1 h".into(),
            vec![selector(
                "@scheduledStartTime",
                "BETWEEN",
                &[&mid, &mid_hour],
            )],
        ),
        ("@scheduledStartTime >= mid".into(), vec![from_mid.clone()]),
        (
            "@scheduledStartTime <= mid".into(),
            vec![selector("@scheduledStartTime", "LE", &[&mid])],
        ),
        ("@componentParent = C3".into(), vec![c3.clone()]),
        (
            "C3, FAILED, >= mid".into(),
            vec![
                c3.clone(),
                selector("@status", "EQ", &["FAILED"]),
                from_mid.clone(),
            ],
        ),
    ];
    let n = options.n;
    let mut measure = async |name: String, query: QueryObjectsInput| {
        let figures = time(&service, &principal, &query, options.runs).await?;
        eprintln!(
            "  {name}: p50 {} ms, p99 {} ms, {} ids",
            ms(figures.p50),
            ms(figures.p99),
            figures.ids
        );
        rows.push(Row {
            store: backend.name(),
            instances: n,
            query: name,
            figures,
            judged: true,
        });
        Ok::<(), String>(())
    };
    for (name, selectors) in &first_pages {
        measure(format!("first page: {name}"), input(big, selectors, None)).await?;
    }
    // Pages further on: the second one, and one in the middle, named by the marker of the
    // first page from the middle on (a marker names its instance, whatever query gave it).
    let later = [
        ("page 2: @status = FINISHED", &finished, None),
        (
            "page at mid: @status = FINISHED",
            &finished,
            Some(&from_mid),
        ),
        ("page at mid: @componentParent = C3", &c3, Some(&from_mid)),
    ];
    for (name, selector, from) in later {
        let first: Vec<Value> = [Some(selector), from]
            .into_iter()
            .flatten()
            .cloned()
            .collect();
        match marker_after(&service, &principal, big, &first).await? {
            Some(marker) => {
                let query = input(big, std::slice::from_ref(selector), Some(&marker));
                measure(name.into(), query).await?;
            }
            None => eprintln!("  {name}: no such page at {n} instances"),
        }
    }

    // The in-memory path beside the indexed one, where it can still be run many times: on a
    // pipeline read as stored, and on one with a scheduler, whose engine holds the instances.
    if service.scheduler(live).is_none() {
        return Err(format!("{live} was not resumed with a scheduler"));
    }
    let old_runs = (options.runs / 10).max(3);
    for (pipeline_id, how) in [(small, "stored"), (live, "live")] {
        let indexed = input(pipeline_id, std::slice::from_ref(&finished), None);
        let always = selector("@pipelineId", "EQ", &[pipeline_id]);
        let in_memory = input(pipeline_id, &[finished.clone(), always], None);
        for (path, query, runs) in [
            ("indexed", indexed, options.runs),
            ("in-memory", in_memory, old_runs),
        ] {
            let figures = time(&service, &principal, &query, runs).await?;
            let name = format!("first page: @status = FINISHED, {how}, {path} path");
            eprintln!(
                "  {name} at {small_n}: p50 {} ms, p99 {} ms",
                ms(figures.p50),
                ms(figures.p99)
            );
            rows.push(Row {
                store: backend.name(),
                instances: small_n,
                query: name,
                figures,
                judged: false,
            });
        }
    }

    drop(service);
    drop(store);
    if !options.keep {
        cleanup.run();
    }
    Ok(())
}

fn run(options: &Options) -> Result<(), String> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| e.to_string())?;
    let mut rows = Vec::new();
    runtime.block_on(async {
        for backend in &options.backends {
            bench(*backend, options, &mut rows).await?;
        }
        Ok::<(), String>(())
    })?;
    println!();
    println!("| store | instances | query | p50 ms | p99 ms | target | verdict |");
    println!("|---|---|---|---|---|---|---|");
    for row in &rows {
        let (target, verdict) = if row.judged && !options.smoke {
            let meets = row.figures.p99 <= TARGET_P99;
            ("p99 ≤ 50 ms", if meets { "meets" } else { "misses" })
        } else {
            ("(reference)", "—")
        };
        println!(
            "| {} | {} | {} | {} | {} | {target} | {verdict} |",
            row.store,
            row.instances,
            row.query,
            ms(row.figures.p50),
            ms(row.figures.p99)
        );
    }
    Ok(())
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
    match run(&options) {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("queries benchmark failed: {message}");
            ExitCode::FAILURE
        }
    }
}
