//! Times the SQLite store on a file in a temporary directory, or, given a URL, the PostgreSQL
//! store in a schema of its own (dropped at the end):
//!
//! ```text
//! cargo run --release -p sluice-store --example commit_bench
//! cargo run --release -p sluice-store --example commit_bench -- postgres://postgres@127.0.0.1/test
//! ```
//!
//! Reports one commit of 10 000 new instances, the same 10 000 again as updates, one commit of
//! 10 000 attempts, reading them back, and the latency of small one-instance commits (for
//! SQLite dominated by the per-commit flush to disk, for PostgreSQL by the round trips).

use std::time::{Duration, Instant};

use chrono::Duration as Span;
use sluice_engine::conformance::{
    at, attempt_record, full_instance_record, instance_record, pipeline_record,
};
use sluice_engine::{ChangeSet, InstanceRecord, Store};
use sluice_model::Status;
use sluice_store::SqliteStore;

fn ms(d: Duration) -> String {
    format!("{:.2} ms", d.as_secs_f64() * 1000.0)
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    match std::env::args().nth(1) {
        None => {
            let dir = tempfile::tempdir()?;
            let store = SqliteStore::open(&dir.path().join("sluice.db")).await?;
            println!("SQLite, {}", dir.path().display());
            bench(&store).await?;
            store.close().await;
        }
        #[cfg(feature = "postgres")]
        Some(url) => {
            use sqlx::Connection;
            let schema = format!("commit_bench_{}", std::process::id());
            let options = sluice_store::PostgresOptions {
                schema: Some(schema.clone()),
                ..Default::default()
            };
            let store = sluice_store::PostgresStore::connect_with(&url, options).await?;
            println!("PostgreSQL, {}", store.location());
            let result = bench(&store).await;
            store.close().await;
            let mut connection = sqlx::PgConnection::connect(&url).await?;
            sqlx::query(&format!("DROP SCHEMA \"{schema}\" CASCADE"))
                .execute(&mut connection)
                .await?;
            result?;
        }
        #[cfg(not(feature = "postgres"))]
        Some(_) => return Err("a URL needs the `postgres` feature".into()),
    }
    Ok(())
}

async fn bench(store: &dyn Store) -> Result<(), Box<dyn std::error::Error>> {
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
    let mut times = Vec::new();
    let t = Instant::now();
    for (n, instance) in instances.iter().take(rounds as usize).enumerate() {
        let one = Instant::now();
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
        times.push(one.elapsed());
    }
    times.sort();
    println!(
        "small commit (pipeline + 1 instance), mean of {rounds}: {} (median {}, p99 {})",
        ms(t.elapsed() / rounds),
        ms(times[times.len() / 2]),
        ms(times[times.len() * 99 / 100]),
    );
    Ok(())
}
