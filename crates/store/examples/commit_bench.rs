//! Times the SQLite store on a file in a temporary directory:
//!
//! ```text
//! cargo run --release -p sluice-store --example commit_bench
//! ```
//!
//! Reports one commit of 10 000 new instances, the same 10 000 again as updates, one commit of
//! 10 000 attempts, reading them back, and the latency of small one-instance commits (which is
//! dominated by the per-commit flush to disk).

use std::time::{Duration, Instant};

use chrono::Duration as Span;
use sluice_engine::conformance::{
    at, attempt_record, full_instance_record, instance_record, pipeline_record,
};
use sluice_engine::{ChangeSet, InstanceRecord, Store};
use sluice_model::Status;
use sluice_store::SqliteStore;

fn ms(d: Duration) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1000.0)
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let dir = tempfile::tempdir()?;
    let store = SqliteStore::open(&dir.path().join("sluice.db")).await?;
    let start = at((2024, 1, 1), (0, 0, 0), 0);
    let instances: Vec<InstanceRecord> = (0..10_000)
        .map(|n| {
            let when = start + Span::minutes(15 * n);
            if n % 2 == 0 {
                full_instance_record("df-bench", "Copy", when)
            } else {
                instance_record("df-bench", "Copy", when)
            }
        })
        .collect();
    let json_bytes: usize = instances
        .iter()
        .map(|i| serde_json::to_string(i).map_or(0, |s| s.len()))
        .sum();

    let t = Instant::now();
    store
        .commit(&ChangeSet {
            pipelines: vec![pipeline_record("df-bench", 1)],
            instances: instances.clone(),
            ..ChangeSet::default()
        })
        .await?;
    println!(
        "commit 10 000 new instances ({} KiB of JSON): {}",
        json_bytes / 1024,
        ms(t.elapsed())
    );

    let updated: Vec<InstanceRecord> = instances
        .iter()
        .map(|i| InstanceRecord {
            status: Status::Running,
            ..i.clone()
        })
        .collect();
    let t = Instant::now();
    store
        .commit(&ChangeSet {
            instances: updated,
            ..ChangeSet::default()
        })
        .await?;
    println!("commit 10 000 updated instances: {}", ms(t.elapsed()));

    let attempts = instances.iter().map(|i| attempt_record(i, 1)).collect();
    let t = Instant::now();
    store
        .commit(&ChangeSet {
            attempts,
            ..ChangeSet::default()
        })
        .await?;
    println!("commit 10 000 new attempts: {}", ms(t.elapsed()));

    let t = Instant::now();
    let read = store.instances("df-bench").await?;
    println!("read {} instances: {}", read.len(), ms(t.elapsed()));
    let t = Instant::now();
    let read = store.attempts("df-bench").await?;
    println!("read {} attempts: {}", read.len(), ms(t.elapsed()));

    let rounds = 200u32;
    let t = Instant::now();
    for (n, instance) in instances.iter().take(rounds as usize).enumerate() {
        store
            .commit(&ChangeSet {
                pipelines: vec![pipeline_record("df-bench", 2 + n as u64)],
                instances: vec![InstanceRecord {
                    status: Status::Finished,
                    ..instance.clone()
                }],
                ..ChangeSet::default()
            })
            .await?;
    }
    println!(
        "small commit (pipeline + 1 instance), mean of {rounds}: {}",
        ms(t.elapsed() / rounds)
    );
    store.close().await;
    Ok(())
}
