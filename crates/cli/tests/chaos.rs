//! Chaos on a deployment of three servers sharing one PostgreSQL database: four remote task
//! runners work through pipelines of chained shell activities, each writing a line of its own,
//! while a random server is killed with `kill -9` (and restarted) again and again. Afterwards
//! every line is there, every activity FINISHED once and no activity that FINISHED ran again.
//!
//! CI runs it bounded to a few minutes (10 kills); `scripts/soak.sh` runs it long, with
//! PostgreSQL restarts, through the environment:
//! `SLUICE_CHAOS_KILLS` (10), `SLUICE_CHAOS_PIPELINES` (10), `SLUICE_CHAOS_ACTIVITIES` (30),
//! `SLUICE_CHAOS_PG_RESTART` (a shell command restarting PostgreSQL, run after every fifth
//! kill; none by default), `SLUICE_CHAOS_SEED` (the random moments, printed).

#[path = "clients/deployment.rs"]
mod deployment;
#[path = "clients/harness.rs"]
mod harness;
#[path = "clients/sdk_api.rs"]
mod sdk_api;

use std::collections::BTreeMap;
use std::fs;
use std::net::TcpListener;
use std::process::Command;
use std::time::{Duration, Instant};

use deployment::{Deployment, Server};
use sdk_api::{Api, Described, one};
use serde_json::{Value, json};
use sluice_testsupport::files::sh_quoted;
use sluice_testsupport::poll::wait_for;

const SERVERS: usize = 3;
const RUNNERS: usize = 4;

fn setting(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// A small generator of random moments, reproducible from the printed seed.
struct Moments(u64);

impl Moments {
    fn next(&mut self, below: u64) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (self.0 >> 33) % below.max(1)
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

fn chain(lines: &str, pipeline: usize, activities: usize) -> Value {
    let mut objects = vec![json!({
        "id": "Default", "scheduleType": "ondemand", "workerGroup": "chaos",
        "maximumRetries": "5", "retryDelay": "1 seconds"
    })];
    for a in 0..activities {
        let mut activity = json!({
            "id": format!("A{a}"), "type": "ShellCommandActivity",
            // Long enough for kills to land while work is in flight.
            "command": format!("sleep 0.5; echo p{pipeline}-a{a} >> {lines}"),
        });
        if a > 0 {
            activity["dependsOn"] = json!({ "ref": format!("A{}", a - 1) });
        }
        objects.push(activity);
    }
    Value::Array(objects)
}

/// Every object of `sphere`, by id, read page by page (None while the servers cannot answer).
fn all_objects(api: &Api, pipeline: &str, sphere: &str) -> Option<BTreeMap<String, Described>> {
    api.rt.block_on(async {
        let mut ids = Vec::new();
        let mut marker: Option<String> = None;
        loop {
            let page = api
                .client
                .query_objects()
                .pipeline_id(pipeline)
                .sphere(sphere)
                .limit(100)
                .set_marker(marker.clone())
                .send()
                .await
                .ok()?;
            ids.extend(page.ids.unwrap_or_default());
            if !page.has_more_results {
                break;
            }
            marker = page.marker;
        }
        let mut found = BTreeMap::new();
        for chunk in ids.chunks(25) {
            let described = api
                .client
                .describe_objects()
                .pipeline_id(pipeline)
                .set_object_ids(Some(chunk.to_vec()))
                .send()
                .await
                .ok()?;
            for object in described.pipeline_objects {
                let mut fields = Described::new();
                for f in object.fields {
                    let value = f.string_value.or(f.ref_value).unwrap_or_default();
                    fields.entry(f.key).or_default().push(value);
                }
                found.insert(object.id, fields);
            }
        }
        Some(found)
    })
}

#[test]
fn pipelines_finish_exactly_once_while_servers_are_killed() {
    let kills = setting("SLUICE_CHAOS_KILLS", 10);
    let pipelines = setting("SLUICE_CHAOS_PIPELINES", 10) as usize;
    let activities = setting("SLUICE_CHAOS_ACTIVITIES", 30) as usize;
    let restart_pg = std::env::var("SLUICE_CHAOS_PG_RESTART").ok();
    let seed = setting(
        "SLUICE_CHAOS_SEED",
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs(),
    );
    println!("chaos: seed {seed}, {kills} kills, {pipelines}×{activities} activities");
    let mut moments = Moments(seed);

    // A lost hand-out (a server killed between committing a task and answering the runner)
    // waits for the first report, and a task its runner gave up waits for the next: keep
    // both short (the runners report every 2 s).
    let deployment = Deployment::with_settings(
        "sluice_chaos",
        json!({ "pollWaitSeconds": 5, "firstReportTimeoutSeconds": 10,
                "reportProgressTimeoutSeconds": 20 }),
    );
    let url = deployment.db.url();
    let listen: Vec<String> = (0..SERVERS)
        .map(|_| format!("127.0.0.1:{}", free_port()))
        .collect();
    let mut servers: Vec<Server> = (0..SERVERS)
        .map(|n| deployment.start(&format!("server-{n}"), &listen[n], &url, &[]))
        .collect();
    let endpoints: Vec<String> = servers.iter().map(|s| s.endpoint.clone()).collect();
    let _runners: Vec<_> = (0..RUNNERS)
        .map(|n| {
            deployment.runner(
                &format!("r{n}"),
                &endpoints[n % SERVERS],
                "chaos",
                &[
                    "--max-backoff",
                    "1",
                    "--report-interval",
                    "2",
                    "--tasks",
                    "2",
                ],
            )
        })
        .collect();

    let lines = deployment.path("lines");
    let quoted = sh_quoted(&lines);
    let apis: Vec<Api> = endpoints.iter().map(|e| Api::new(e)).collect();
    let ids: Vec<String> = (0..pipelines)
        .map(|p| apis[p % SERVERS].launch(&format!("chaos-{p}"), chain(&quoted, p, activities)))
        .collect();

    let started = Instant::now();
    let mut restarts = 0;
    for k in 0..kills {
        std::thread::sleep(Duration::from_millis(300 + moments.next(2_500)));
        let victim = moments.next(SERVERS as u64) as usize;
        println!("chaos: kill -9 server-{victim} at {:?}", started.elapsed());
        servers[victim].process.kill();
        servers[victim] = deployment.start(&format!("server-{victim}"), &listen[victim], &url, &[]);
        if let Some(command) = restart_pg.as_deref().filter(|_| k % 5 == 4) {
            println!("chaos: restarting PostgreSQL at {:?}", started.elapsed());
            let status = Command::new("sh").args(["-c", command]).status().unwrap();
            assert!(status.success(), "{command}: {status}");
            restarts += 1;
        }
    }
    println!(
        "chaos: {kills} kills and {restarts} PostgreSQL restarts in {:?}",
        started.elapsed()
    );

    let last = format!("A{}", activities - 1);
    let deadline = Duration::from_secs(60 + 10 * activities as u64);
    for (p, id) in ids.iter().enumerate() {
        wait_for(&format!("pipeline {p} to finish"), deadline, || {
            let api = &apis[p % SERVERS];
            let instances = all_objects(api, id, "INSTANCE")
                .ok_or_else(|| "servers not answering".to_owned())?;
            let status = instances
                .values()
                .find(|f| one(f, "@componentParent") == Some(last.as_str()))
                .and_then(|f| one(f, "@status"))
                .unwrap_or("none")
                .to_owned();
            match status.as_str() {
                "FINISHED" => Ok(()),
                "FAILED" | "CANCELED" => panic!("pipeline {p}: {last} ended {status}"),
                _ => Err(format!("{last} is {status}")),
            }
        });
    }
    println!(
        "chaos: every pipeline finished after {:?}",
        started.elapsed()
    );

    // Every line is there; an activity ran more than once only when an earlier attempt of it
    // ended without finishing (its runner's result lost with a server), never after it
    // FINISHED.
    let written = fs::read_to_string(&lines).unwrap();
    let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
    for line in written.lines() {
        *counts.entry(line).or_default() += 1;
    }
    let mut reruns = 0;
    for (p, id) in ids.iter().enumerate() {
        let api = &apis[p % SERVERS];
        let instances = wait_for("the instances", deployment::DEADLINE, || {
            all_objects(api, id, "INSTANCE").ok_or_else(|| "servers not answering".to_owned())
        });
        let attempts = wait_for("the attempts", deployment::DEADLINE, || {
            all_objects(api, id, "ATTEMPT").ok_or_else(|| "servers not answering".to_owned())
        });
        for a in 0..activities {
            let component = format!("A{a}");
            let line = format!("p{p}-a{a}");
            let instance = instances
                .values()
                .find(|f| one(f, "@componentParent") == Some(component.as_str()))
                .unwrap_or_else(|| panic!("no instance of {component} in pipeline {p}"));
            assert_eq!(one(instance, "@status"), Some("FINISHED"), "{line}");
            let mut tries: Vec<(&str, &str)> = attempts
                .values()
                .filter(|f| one(f, "@componentParent") == Some(component.as_str()))
                .map(|f| {
                    (
                        one(f, "@actualStartTime").unwrap_or(""),
                        one(f, "@status").unwrap_or(""),
                    )
                })
                .collect();
            tries.sort();
            let finished = tries.iter().filter(|(_, s)| *s == "FINISHED").count();
            assert_eq!(finished, 1, "{line}: attempts {tries:?}");
            assert_eq!(
                tries.last().map(|t| t.1),
                Some("FINISHED"),
                "{line}: {tries:?}"
            );
            let ran = counts.get(line.as_str()).copied().unwrap_or(0);
            assert!(ran >= 1, "{line} never written");
            assert!(
                ran <= tries.len(),
                "{line} written {ran} times by {} attempts",
                tries.len()
            );
            reruns += ran - 1;
        }
    }
    assert_eq!(
        counts.len(),
        pipelines * activities,
        "unexpected lines: {counts:?}"
    );
    println!(
        "chaos: {} activities, {reruns} run again after an unfinished attempt, done in {:?}",
        pipelines * activities,
        started.elapsed()
    );
}
