//! The web console over pipelines of 1 000 components and 100 000 instances (README,
//! "Benchmarks").
//!
//! ```sh
//! cargo bench -p sluice --bench console                              # 1 000 × 100 intervals
//! cargo bench -p sluice --bench console -- --components 200 --intervals 50 --runs 10
//! ```
//!
//! Writes two copies of one pipeline straight into a SQLite store (commits of 10 000 records
//! through the store's own write path): `--components` activities on an hourly schedule of
//! `--intervals` occurrences, chained in tens by `dependsOn`, one instance per component and
//! interval, most FINISHED, some FAILED, the latest intervals still waiting. The pipelines are
//! SCHEDULED, so the service restores each into a scheduler, as a server does after a
//! restart. Then it serves the real router (API and console) on a loopback port, signs in
//! through the form, and times whole page loads over HTTP: the graph of one copy and the run
//! grid's latest window of the other, each the first read of its pipeline (cold: the console
//! keeps a pipeline's snapshot only while it is unchanged), then a grid window further down
//! the components, one instance and the list of pipelines. Each page is loaded once, then
//! `--runs` times more; the table gives the first load, the median and the slowest of the rest.
//!
//! This is a measurement, not a test: it prints the table and exits 0 whether or not the
//! target (every page under 1 s) is met. Run without `--bench` (as `cargo test --benches`
//! does) it only smoke-tests at 20 components × 5 intervals.

mod support;

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{NaiveDateTime, TimeDelta};
use serde_json::json;
use sluice_api::auth::{AccessKey, CredentialStore, KeyRing, SecretKey};
use sluice_api::server::{ServerOptions, serve};
use sluice_api::{ApiConfig, Service, ServiceOptions};
use sluice_engine::{ChangeSet, InstanceRecord, PipelineRecord, Store, SystemClock};
use sluice_model::time::{format_datetime, parse_datetime};
use sluice_model::{PipelineState, Status, parse_definition_file};
use sluice_store::SqliteStore;
use tokio_util::sync::CancellationToken;

const USAGE: &str = "usage: cargo bench -p sluice --bench console -- \
                     [--components N] [--intervals N] [--runs R]";

const ACCOUNT: &str = "123456789012";
const KEY_ID: &str = "AKIABENCHCONSOLE0001";
const SECRET: &str = "bench/console/secret";
/// Two copies of the pipeline, so that the graph and the run grid are each measured opening a
/// pipeline no page has read yet (the console keeps a pipeline's snapshot while it is
/// unchanged).
const GRAPHED: &str = "df-CONSOLEBENCH-GRAPH";
const GRIDDED: &str = "df-CONSOLEBENCH-GRID";
/// Records per commit while writing the pipeline.
const CHUNK: usize = 10_000;
const TARGET: Duration = Duration::from_secs(1);

struct Options {
    components: usize,
    intervals: usize,
    runs: usize,
}

fn parse_options(args: &[String]) -> Result<Options, String> {
    let smoke = !args.iter().any(|a| a == "--bench");
    let mut options = if smoke {
        Options {
            components: 20,
            intervals: 5,
            runs: 2,
        }
    } else {
        Options {
            components: 1000,
            intervals: 100,
            runs: 10,
        }
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
            "--components" => options.components = number("--components")?,
            "--intervals" => options.intervals = number("--intervals")?,
            "--runs" => options.runs = number("--runs")?,
            "-h" | "--help" => return Err(String::new()),
            other => return Err(format!("unknown argument {other:?}")),
        }
    }
    Ok(options)
}

fn base() -> NaiveDateTime {
    parse_datetime("2026-01-01T00:00:00").expect("a valid datetime")
}

fn component(c: usize) -> String {
    format!("C{c:04}")
}

/// Hourly activities chained in tens, with exactly `intervals` occurrences, so a scheduler
/// restoring the written instances finds nothing more due.
fn definition(options: &Options) -> sluice_model::PipelineDefinition {
    let mut objects = vec![
        json!({"id": "Default", "name": "Default", "scheduleType": "cron",
               "schedule": {"ref": "Hourly"}, "workerGroup": "nobody-polls"}),
        json!({"id": "Hourly", "name": "Hourly", "type": "Schedule", "period": "1 hours",
               "startDateTime": format_datetime(base()),
               "occurrences": options.intervals.to_string()}),
    ];
    for c in 0..options.components {
        let mut object = json!({"id": component(c), "name": component(c),
                                "type": "ShellCommandActivity", "command": "true"});
        if c % 10 != 0 {
            object["dependsOn"] = json!({"ref": component(c - 1)});
        }
        objects.push(object);
    }
    parse_definition_file(&json!({ "objects": objects }).to_string())
        .expect("the generated definition reads")
        .definition
}

fn instance(pipeline_id: &str, options: &Options, i: usize) -> InstanceRecord {
    let hour = i / options.components;
    let start = base() + TimeDelta::hours(hour as i64);
    let component = component(i % options.components);
    let status = if hour + 3 >= options.intervals {
        Status::WaitingOnDependencies
    } else if i.is_multiple_of(97) {
        Status::Failed
    } else {
        Status::Finished
    };
    let ended = status.is_terminal();
    let mut fields = BTreeMap::from([("@version".to_owned(), vec!["1".to_owned()])]);
    if status == Status::Failed {
        fields.insert("errorMessage".into(), vec!["exit code 1".into()]);
    }
    InstanceRecord {
        pipeline_id: pipeline_id.to_owned(),
        instance_id: format!("@{component}_{}", format_datetime(start)),
        component_id: component,
        status,
        scheduled_start: start,
        scheduled_end: start + TimeDelta::hours(1),
        actual_start: ended.then(|| start + TimeDelta::seconds(2)),
        actual_end: ended.then(|| start + TimeDelta::seconds(30)),
        attempt_count: u32::from(ended),
        fields,
    }
}

async fn write_pipeline(
    store: &dyn Store,
    pipeline_id: &str,
    options: &Options,
) -> Result<(), String> {
    let definition = definition(options);
    let record = PipelineRecord {
        pipeline_id: pipeline_id.to_owned(),
        name: pipeline_id.to_lowercase(),
        unique_id: pipeline_id.to_owned(),
        account_id: ACCOUNT.to_owned(),
        state: PipelineState::Scheduled,
        created_at: base(),
        definition: Some(definition.clone()),
        active_definition: Some(definition),
        fields: BTreeMap::from([("@firstActivationTime".to_owned(), format_datetime(base()))]),
        version: 1,
    };
    let n = options.components * options.intervals;
    for first in (0..n).step_by(CHUNK) {
        let instances = (first..(first + CHUNK).min(n))
            .map(|i| instance(pipeline_id, options, i))
            .collect();
        let pipelines = if first == 0 {
            vec![record.clone()]
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
    Ok(())
}

/// One HTTP/1.1 request; the status code, headers and body.
fn http(
    addr: SocketAddr,
    method: &str,
    path: &str,
    cookie: &str,
    body: &str,
) -> Result<(u16, String, String), String> {
    let mut stream = TcpStream::connect(addr).map_err(|e| e.to_string())?;
    write!(
        stream,
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nCookie: {cookie}\r\n\
         Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n\
         Connection: close\r\n\r\n{body}",
        body.len()
    )
    .map_err(|e| e.to_string())?;
    let mut answer = Vec::new();
    stream.read_to_end(&mut answer).map_err(|e| e.to_string())?;
    let answer = String::from_utf8_lossy(&answer).into_owned();
    let (head, body) = answer.split_once("\r\n\r\n").unwrap_or((&answer, ""));
    let status = head
        .split(' ')
        .nth(1)
        .and_then(|c| c.parse().ok())
        .ok_or_else(|| format!("no status in {head}"))?;
    Ok((status, head.to_owned(), body.to_owned()))
}

/// The first `Set-Cookie` value of a response head.
fn set_cookie(head: &str) -> Option<String> {
    head.lines()
        .find_map(|l| {
            l.strip_prefix("set-cookie: ")
                .or_else(|| l.strip_prefix("Set-Cookie: "))
        })
        .and_then(|c| c.split(';').next())
        .map(str::to_owned)
}

fn sign_in(addr: SocketAddr) -> Result<String, String> {
    // The form's CSRF token, and the cookie holding it.
    let (_, head, page) = http(addr, "GET", "/console/signin", "", "")?;
    let held = set_cookie(&head).ok_or("the sign-in page set no cookie")?;
    let token = page
        .split("name=\"csrf\" value=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .ok_or("no CSRF token on the sign-in page")?;
    let (status, head, _) = http(
        addr,
        "POST",
        "/console/signin",
        &held,
        &format!(
            "csrf={token}&access_key_id={KEY_ID}&secret={}",
            SECRET.replace('/', "%2F")
        ),
    )?;
    if status != 303 {
        return Err(format!("sign-in answered {status}"));
    }
    set_cookie(&head).ok_or_else(|| "sign-in set no cookie".to_owned())
}

/// What loading a page took.
struct Figures {
    /// The first load (the first read of its pipeline for the graph and the grid).
    first: Duration,
    /// Of the later loads.
    median: Duration,
    slowest: Duration,
    size: usize,
}

/// Loads `path` once, then `runs` times more.
fn time_page(addr: SocketAddr, cookie: &str, path: &str, runs: usize) -> Result<Figures, String> {
    let load = || -> Result<usize, String> {
        let (status, _, body) = http(addr, "GET", path, cookie, "")?;
        if status != 200 {
            return Err(format!(
                "GET {path} answered {status}: {}",
                &body[..body.len().min(500)]
            ));
        }
        Ok(body.len())
    };
    let started = Instant::now();
    let size = load()?;
    let first = started.elapsed();
    let mut taken = Vec::with_capacity(runs);
    for _ in 0..runs {
        let started = Instant::now();
        load()?;
        taken.push(started.elapsed());
    }
    taken.sort_unstable();
    Ok(Figures {
        first,
        median: taken[runs / 2],
        slowest: taken[runs - 1],
        size,
    })
}

fn run(options: &Options) -> Result<(), String> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| e.to_string())?;
    let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
    let n = options.components * options.intervals;
    let (addr, shutdown, served) = runtime.block_on(async {
        let store = SqliteStore::open(&dir.path().join("state.db"))
            .await
            .map_err(|e| e.to_string())?;
        for pipeline_id in [GRAPHED, GRIDDED] {
            let started = Instant::now();
            write_pipeline(&store, pipeline_id, options).await?;
            eprintln!(
                "  {pipeline_id}: wrote {n} instances in {:.1} s",
                started.elapsed().as_secs_f64()
            );
        }
        let store: Arc<dyn Store> = Arc::new(store);
        let started = Instant::now();
        let service_options = ServiceOptions {
            data_dir: Some(dir.path().to_path_buf()),
            ..ServiceOptions::default()
        };
        let service = Service::open(store, Arc::new(SystemClock), service_options)
            .await
            .map_err(|e| e.message())?;
        eprintln!(
            "  restored both schedulers in {:.1} s",
            started.elapsed().as_secs_f64()
        );
        let mut keys = CredentialStore::new();
        keys.insert(
            AccessKey {
                access_key_id: KEY_ID.to_owned(),
                secret_access_key: SecretKey::new(SECRET),
                account_id: ACCOUNT.to_owned(),
            },
            "benchmark",
        )
        .map_err(|e| e.to_string())?;
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .map_err(|e| e.to_string())?;
        let addr = listener.local_addr().map_err(|e| e.to_string())?;
        let shutdown = CancellationToken::new();
        let server_options = ServerOptions {
            api: ApiConfig::default(),
            local_runner: false,
            workers: 1,
            data_dir: dir.path().to_path_buf(),
            tls: None,
            ca_bundle: None,
        };
        let served = tokio::spawn(serve(
            listener,
            service,
            Arc::new(KeyRing::new(keys)),
            server_options,
            shutdown.clone(),
        ));
        Ok::<_, String>((addr, shutdown, served))
    })?;
    let cookie = sign_in(addr)?;
    let last = base() + TimeDelta::hours(options.intervals as i64);
    let to = format_datetime(last).replace(':', "%3A");
    let middle = component(options.components / 2);
    let pages = [
        (
            "graph (first load: cold)",
            format!("/console/pipelines/{GRAPHED}"),
        ),
        (
            "run grid, latest window (first load: cold)",
            format!("/console/pipelines/{GRIDDED}/runs?to={to}"),
        ),
        (
            "run grid, components further down",
            format!(
                "/console/pipelines/{GRIDDED}/runs?to={to}&rows={}",
                options.components / 2
            ),
        ),
        (
            "instance",
            format!(
                "/console/pipelines/{GRIDDED}/instances/%40{middle}_{}",
                format_datetime(base()).replace(':', "%3A")
            ),
        ),
        ("pipelines", "/console/".to_owned()),
    ];
    println!(
        "\nconsole: 2 pipelines of {} components × {} intervals = {n} instances each, {} loads \
         after the first\n",
        options.components, options.intervals, options.runs
    );
    println!("| page | first load | median | slowest | size | target | verdict |");
    println!("|---|---|---|---|---|---|---|");
    let ms = |d: Duration| format!("{:.0} ms", d.as_secs_f64() * 1000.0);
    for (name, path) in &pages {
        let figures = time_page(addr, &cookie, path, options.runs)?;
        let worst = figures.first.max(figures.slowest);
        let verdict = if worst < TARGET { "met" } else { "MISSED" };
        println!(
            "| {name} | {} | {} | {} | {} KiB | < 1 s | {verdict} |",
            ms(figures.first),
            ms(figures.median),
            ms(figures.slowest),
            figures.size / 1024
        );
    }
    shutdown.cancel();
    runtime
        .block_on(served)
        .map_err(|e| e.to_string())?
        .map_err(|e| e.to_string())?;
    Ok(())
}

fn main() -> std::process::ExitCode {
    support::main("console", USAGE, parse_options, run)
}
