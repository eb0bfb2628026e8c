//! Scale-out benchmark: whole `sluice server` and `sluice taskrunner` processes on loopback, in
//! three deployments side by side — one server on SQLite, one server on PostgreSQL, three
//! servers on one PostgreSQL — each with the same remote runners spread over its servers.
//!
//! - **dispatch**: `--pipelines` pipelines of independent `true` activities (`--tasks` in all),
//!   defined beforehand, from the first activation until QueryObjects reports every instance
//!   FINISHED (polled every 50 ms), as tasks/s; `seq N | xargs -P<runners×2> -n1 true` is the
//!   baseline in the same run.
//! - **chain hop**: one pipeline of `--chain` activities each depending on the previous; each
//!   writes its start and end times (`date +%s%N`), and a hop is the next one's start minus
//!   this one's end: SetTaskStatus, scheduling, PollForTask. The chain has a runner of its
//!   own polling the last server while the first owns the pipeline, so with three servers
//!   every hop crosses servers: the result is forwarded to the owner, and the runner's waiting
//!   poll is woken by the owner's NOTIFY and forwarded there. Median and p90.
//! - **takeover** (three servers): `kill -9` of the server owning a pipeline until another holds
//!   its lease, read from the database every 20 ms, against the lease period.
//! - **start-up**: spawn to `listening` of one server, and its peak RSS after the runs.
//!
//! `cargo bench -p sluice --bench cluster` (defaults) or `-- --quick` (a smoke run, also what
//! `cargo test --benches` runs).

mod support;

#[path = "../tests/clients/deployment.rs"]
mod deployment;
#[path = "../tests/clients/harness.rs"]
mod harness;
#[path = "../tests/clients/sdk_api.rs"]
mod sdk_api;

use std::process::{Command, ExitCode};
use std::time::{Duration, Instant};

use aws_sdk_datapipeline::types::{Operator, OperatorType, Query, Selector};
use deployment::{Deployment, Server};
use harness::{ROOT_ACCESS_KEY, ROOT_SECRET_KEY, ready_url};
use sdk_api::Api;
use serde_json::{Value, json};
use sluice_testsupport::process::Proc;

const USAGE: &str = "cargo bench -p sluice --bench cluster -- [--tasks N] [--pipelines N] \
[--chain N] [--runners N] [--lease SECONDS] [--only sqlite|pg1|pg3] [--quick]";

struct Options {
    tasks: usize,
    pipelines: usize,
    chain: usize,
    runners: usize,
    lease: u64,
    /// Runs only this deployment (for profiling one of them).
    only: Option<String>,
}

fn parse_options(args: &[String]) -> Result<Options, String> {
    let mut options = Options {
        tasks: 2400,
        pipelines: 12,
        chain: 40,
        runners: 8,
        lease: 15,
        only: None,
    };
    // `cargo bench` passes `--bench`; without it (`cargo test --benches`) this is a smoke run.
    let smoke = !args.iter().any(|a| a == "--bench");
    let quick = smoke.then(|| "--quick".to_owned());
    let mut args = args
        .iter()
        .filter(|a| *a != "--bench")
        .chain(quick.as_ref());
    while let Some(flag) = args.next() {
        let mut number = || -> Result<u64, String> {
            args.next()
                .and_then(|v| v.parse().ok())
                .ok_or_else(|| format!("{flag} takes a number"))
        };
        match flag.as_str() {
            "--tasks" => options.tasks = number()? as usize,
            "--pipelines" => options.pipelines = number()? as usize,
            "--chain" => options.chain = number()? as usize,
            "--runners" => options.runners = number()? as usize,
            "--lease" => options.lease = number()?.max(3),
            "--only" => match args.next().map(String::as_str) {
                Some(key @ ("sqlite" | "pg1" | "pg3")) => options.only = Some(key.to_owned()),
                _ => return Err("--only takes sqlite, pg1 or pg3".into()),
            },
            "--quick" => {
                options.tasks = 24;
                options.pipelines = 3;
                options.chain = 5;
                options.runners = 2;
                options.lease = 3;
            }
            "--help" | "-h" => return Err(String::new()),
            other => return Err(format!("unknown argument {other}")),
        }
    }
    Ok(options)
}

/// Starts the servers of one deployment.
type Build = fn(&Options) -> Setup;

/// One deployment under measurement.
struct Setup {
    label: &'static str,
    servers: Vec<Server>,
    /// Keeps the database (and the scratch directory) of a PostgreSQL deployment.
    deployment: Option<Deployment>,
    _scratch: Option<tempfile::TempDir>,
    startup: Duration,
}

fn sqlite_server(options: &Options) -> Setup {
    let scratch = tempfile::Builder::new()
        .prefix("sluice-bench-cluster")
        .tempdir()
        .expect("temp dir");
    let settings = scratch.path().join("settings.json");
    std::fs::write(&settings, json!({ "pollWaitSeconds": 20 }).to_string()).unwrap();
    let mut command = Command::new(env!("CARGO_BIN_EXE_sluice"));
    command
        .arg("server")
        .args(["--listen", "127.0.0.1:0", "--no-local-runner"])
        .arg("--data-dir")
        .arg(scratch.path().join("data"))
        .arg("--settings")
        .arg(&settings)
        .env_remove("SLUICE_DATABASE_URL")
        .env("SLUICE_ROOT_ACCESS_KEY_ID", ROOT_ACCESS_KEY)
        .env("SLUICE_ROOT_SECRET_ACCESS_KEY", ROOT_SECRET_KEY)
        .env("RUST_LOG", "warn");
    let started = Instant::now();
    let mut process =
        Proc::spawn("server", command, scratch.path()).terminate_on_drop(Duration::from_secs(30));
    let line = process.wait_line("listening on http://", Duration::from_secs(60));
    let startup = started.elapsed();
    let endpoint = ready_url(&line).expect("a URL");
    let _ = options;
    Setup {
        label: "1 server, SQLite",
        servers: vec![Server { process, endpoint }],
        deployment: None,
        _scratch: Some(scratch),
        startup,
    }
}

fn postgres_servers(label: &'static str, count: usize, options: &Options) -> Setup {
    let mut deployment =
        Deployment::with_settings("sluice_bench_cluster", json!({ "pollWaitSeconds": 20 }));
    deployment.lease_seconds = options.lease;
    let started = Instant::now();
    let first = deployment.server();
    let startup = started.elapsed();
    let mut servers = vec![first];
    servers.extend((1..count).map(|_| deployment.server()));
    Setup {
        label,
        servers,
        deployment: Some(deployment),
        _scratch: None,
        startup,
    }
}

/// The dispatch runners, spread over the servers, and the chain's own runner on the last
/// server (the chain's pipeline is created, so owned, by the first).
fn runners(setup: &Setup, options: &Options, dir: &std::path::Path) -> Vec<Proc> {
    let endpoint = |n: usize| setup.servers[n % setup.servers.len()].endpoint.as_str();
    let mut runners: Vec<Proc> = (0..options.runners)
        .map(|n| runner(endpoint(n), "bench", &format!("r{n}"), dir))
        .collect();
    runners.push(runner(
        endpoint(setup.servers.len() - 1),
        "chain",
        "chain",
        dir,
    ));
    runners
}

fn runner(endpoint: &str, group: &str, id: &str, dir: &std::path::Path) -> Proc {
    let mut command = Command::new(env!("CARGO_BIN_EXE_sluice"));
    command
        .arg("taskrunner")
        .args(["--endpoint", endpoint, "--worker-group", group])
        .args(["--taskrunner-id", id, "--tasks", "2"])
        .args(["--poll-wait", "20", "--max-backoff", "1"])
        .arg("--data-dir")
        .arg(dir.join(format!("runner-{id}")))
        .env("AWS_ACCESS_KEY_ID", ROOT_ACCESS_KEY)
        .env("AWS_SECRET_ACCESS_KEY", ROOT_SECRET_KEY)
        .env("RUST_LOG", "warn");
    let mut runner = Proc::spawn(&format!("runner-{id}"), command, dir)
        .terminate_on_drop(Duration::from_secs(30));
    runner.wait_line("sluice taskrunner ready", Duration::from_secs(60));
    runner
}

fn default_object(worker_group: &str) -> Value {
    json!({ "id": "Default", "scheduleType": "ondemand", "workerGroup": worker_group,
            "maximumRetries": "0" })
}

/// Instances of `pipeline` that FINISHED, by QueryObjects with a selector.
fn finished(api: &Api, pipeline: &str) -> usize {
    api.rt.block_on(async {
        let query = Query::builder()
            .selectors(
                Selector::builder()
                    .field_name("@status")
                    .operator(
                        Operator::builder()
                            .r#type(OperatorType::Equal)
                            .values("FINISHED")
                            .build(),
                    )
                    .build(),
            )
            .build();
        let mut count = 0;
        let mut marker: Option<String> = None;
        loop {
            let Ok(page) = api
                .client
                .query_objects()
                .pipeline_id(pipeline)
                .sphere("INSTANCE")
                .query(query.clone())
                .limit(500)
                .set_marker(marker.clone())
                .send()
                .await
            else {
                return count;
            };
            count += page.ids.map_or(0, |ids| ids.len());
            if !page.has_more_results {
                return count;
            }
            marker = page.marker;
        }
    })
}

fn wait_finished(api: &Api, pipelines: &[(String, usize)], limit: Duration) -> Result<(), String> {
    let deadline = Instant::now() + limit;
    for (pipeline, expected) in pipelines {
        while finished(api, pipeline) < *expected {
            if Instant::now() > deadline {
                return Err(format!("{pipeline} did not finish within {limit:?}"));
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }
    Ok(())
}

/// Tasks per second of a fanout spread over pipelines.
fn dispatch(setup: &Setup, options: &Options) -> Result<f64, String> {
    let apis: Vec<Api> = setup
        .servers
        .iter()
        .map(|s| Api::new(&s.endpoint))
        .collect();
    let per = options.tasks.div_ceil(options.pipelines);
    let mut launched = Vec::new();
    for p in 0..options.pipelines {
        let mut objects = vec![default_object("bench")];
        objects.extend((0..per).map(
            |a| json!({ "id": format!("T{a}"), "type": "ShellCommandActivity", "command": "true" }),
        ));
        let id = apis[p % apis.len()].define(&format!("dispatch-{p}"), Value::Array(objects));
        launched.push((id, per));
    }
    let started = Instant::now();
    for (p, (id, _)) in launched.iter().enumerate() {
        apis[p % apis.len()].activate(id);
    }
    wait_finished(&apis[0], &launched, Duration::from_secs(600))?;
    Ok((per * options.pipelines) as f64 / started.elapsed().as_secs_f64())
}

/// Median and p90 of the hops of a chain, in ms.
fn chain(setup: &Setup, options: &Options, dir: &std::path::Path) -> Result<(f64, f64), String> {
    let api = Api::new(&setup.servers[0].endpoint);
    let marks = dir.join(format!("marks-{}", setup.label.replace([' ', ','], "")));
    let file = marks.display().to_string();
    let mut objects = vec![default_object("chain")];
    for a in 0..options.chain {
        let mut activity = json!({
            "id": format!("C{a}"), "type": "ShellCommandActivity",
            "command": format!("echo s$(date +%s%N) >> {file}; echo e$(date +%s%N) >> {file}"),
        });
        if a > 0 {
            activity["dependsOn"] = json!({ "ref": format!("C{}", a - 1) });
        }
        objects.push(activity);
    }
    let id = api.launch("chain", Value::Array(objects));
    wait_finished(&api, &[(id, options.chain)], Duration::from_secs(600))?;
    let text = std::fs::read_to_string(&marks).map_err(|e| e.to_string())?;
    let mut last_end: Option<u128> = None;
    let mut hops: Vec<f64> = Vec::new();
    for line in text.lines() {
        let value: u128 = line[1..].parse().map_err(|e| format!("{line}: {e}"))?;
        match &line[..1] {
            "s" => {
                if let Some(end) = last_end {
                    hops.push((value - end) as f64 / 1e6);
                }
            }
            _ => last_end = Some(value),
        }
    }
    hops.sort_by(f64::total_cmp);
    if hops.is_empty() {
        return Err("no hops".into());
    }
    let at = |q: f64| hops[((hops.len() - 1) as f64 * q).round() as usize];
    Ok((at(0.5), at(0.9)))
}

/// Seconds from `kill -9` of a pipeline's owner until another server holds its lease.
fn takeover(setup: &mut Setup) -> Result<f64, String> {
    let Some(deployment) = setup.deployment.as_ref() else {
        return Err("no database".into());
    };
    let api = Api::new(&setup.servers[0].endpoint);
    let objects = json!([
        { "id": "Default", "scheduleType": "ondemand", "workerGroup": "nobody" },
        { "id": "Wait", "type": "ShellCommandActivity", "command": "true" },
    ]);
    let pipeline = api.launch("takeover", objects);
    let owner = deployment
        .owner_of(&pipeline)
        .ok_or("the new pipeline has no owner")?;
    let victim = setup
        .servers
        .iter()
        .position(|s| s.endpoint == owner)
        .ok_or("the owner is not one of the servers")?;
    setup.servers[victim].process.kill();
    let killed = Instant::now();
    loop {
        match deployment.owner_of(&pipeline) {
            Some(now) if now != owner => return Ok(killed.elapsed().as_secs_f64()),
            _ if killed.elapsed() > Duration::from_secs(300) => {
                return Err("no takeover within 300 s".into());
            }
            _ => std::thread::sleep(Duration::from_millis(20)),
        }
    }
}

fn peak_rss_mb(pid: u32) -> f64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("VmHWM:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        })
        .map_or(0.0, |kb| kb / 1024.0)
}

fn xargs_baseline(options: &Options) -> Result<f64, String> {
    let started = Instant::now();
    let status = Command::new("sh")
        .arg("-c")
        .arg(format!(
            "seq {} | xargs -P{} -n1 true",
            options.tasks,
            options.runners * 2
        ))
        .status()
        .map_err(|e| e.to_string())?;
    if !status.success() {
        return Err("xargs failed".into());
    }
    Ok(options.tasks as f64 / started.elapsed().as_secs_f64())
}

fn run(options: &Options) -> Result<(), String> {
    let scratch = tempfile::Builder::new()
        .prefix("sluice-bench-cluster")
        .tempdir()
        .map_err(|e| e.to_string())?;
    println!(
        "cluster benchmark: {} tasks in {} pipelines, chain of {}, {} remote runners × 2 tasks, \
         lease {} s",
        options.tasks, options.pipelines, options.chain, options.runners, options.lease
    );
    let baseline = xargs_baseline(options)?;
    println!(
        "| deployment | dispatch (tasks/s) | chain hop median (p90) | start-up | server peak RSS |"
    );
    println!("|---|---|---|---|---|");
    println!(
        "| baseline: xargs -P{1} running `true` {0} times | {baseline:.0} | — | — | — |",
        options.tasks,
        options.runners * 2
    );
    let builders: [(&str, Build); 3] = [
        ("sqlite", sqlite_server),
        ("pg1", |o| postgres_servers("1 server, PostgreSQL", 1, o)),
        ("pg3", |o| postgres_servers("3 servers, PostgreSQL", 3, o)),
    ];
    let mut takeover_figure = None;
    for (key, build) in builders {
        if options.only.as_deref().is_some_and(|only| only != key) {
            continue;
        }
        let mut setup = build(options);
        let dir = scratch.path().join(key);
        std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
        let workers = runners(&setup, options, &dir);
        let rate = dispatch(&setup, options)?;
        let (median, p90) = chain(&setup, options, &dir)?;
        let rss = peak_rss_mb(setup.servers[0].process.pid());
        println!(
            "| {} | {rate:.0} | {median:.1} ms ({p90:.1} ms) | {:.0} ms | {rss:.0} MB |",
            setup.label,
            setup.startup.as_secs_f64() * 1000.0
        );
        drop(workers);
        if setup.servers.len() > 1 {
            takeover_figure = Some(takeover(&mut setup)?);
        }
    }
    if let Some(seconds) = takeover_figure {
        println!(
            "\ntakeover after kill -9 of the owner: {seconds:.1} s = {:.2} lease periods \
             (target < 2)",
            seconds / options.lease as f64
        );
    }
    Ok(())
}

fn main() -> ExitCode {
    support::main("cluster", USAGE, parse_options, run)
}
