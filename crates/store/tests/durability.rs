//! What survives: closing and reopening, a writer killed with SIGKILL, and a commit that fails
//! half-way through its writes.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};

use chrono::Duration;
use sluice_engine::conformance::{
    at, attempt_record, full_attempt_record, full_instance_record, instance_record, pipeline_record,
};
use sluice_engine::{ChangeSet, InstanceRecord, Store};
use sluice_store::SqliteStore;
use sqlx::sqlite::SqliteConnectOptions;
use sqlx::{ConnectOptions, Connection};

/// Tells the ignored `killed_writer` test that it runs as the child of
/// `commits_acknowledged_before_sigkill_survive`, and where to write.
const CHILD_DB: &str = "SLUICE_STORE_TEST_KILLED_WRITER_DB";
const INSTANCES_PER_COMMIT: u64 = 200;

/// A raw connection to the file, bypassing the store, to inspect or damage it.
async fn raw(path: &Path) -> sqlx::SqliteConnection {
    SqliteConnectOptions::new()
        .filename(path)
        .connect()
        .await
        .expect("raw connection")
}

fn sample(pipeline_id: &str) -> ChangeSet {
    let instances: Vec<InstanceRecord> = (0..50)
        .map(|n| {
            full_instance_record(
                pipeline_id,
                "Copy",
                at((2024, 1, 1), (0, 0, 0), 0) + Duration::hours(n),
            )
        })
        .collect();
    ChangeSet {
        pipelines: vec![pipeline_record(pipeline_id, 1)],
        attempts: instances
            .iter()
            .map(|i| full_attempt_record(i, 1))
            .collect(),
        instances,
    }
}

async fn assert_holds(store: &SqliteStore, changes: &ChangeSet) {
    for pipeline in &changes.pipelines {
        let id = &pipeline.pipeline_id;
        assert_eq!(store.pipeline(id).await.unwrap().as_ref(), Some(pipeline));
        let instances: Vec<_> = changes
            .instances
            .iter()
            .filter(|i| &i.pipeline_id == id)
            .cloned()
            .collect();
        assert_eq!(store.instances(id).await.unwrap(), instances);
        let attempts: Vec<_> = changes
            .attempts
            .iter()
            .filter(|a| &a.pipeline_id == id)
            .cloned()
            .collect();
        assert_eq!(store.attempts(id).await.unwrap(), attempts);
    }
}

#[tokio::test]
async fn reopening_gives_back_everything_committed() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("sluice.db");
    let first = sample("df-1");
    let second = sample("df-2");

    let store = SqliteStore::open(&path).await.unwrap();
    store.commit(&first).await.unwrap();
    store.close().await;
    let store = SqliteStore::open(&path).await.unwrap();
    assert_holds(&store, &first).await;

    // Dropped without closing: the WAL still holds the commit, and reopening replays it.
    store.commit(&second).await.unwrap();
    drop(store);
    let store = SqliteStore::open(&path).await.unwrap();
    assert_holds(&store, &first).await;
    assert_holds(&store, &second).await;
    assert_eq!(store.path(), Some(path.as_path()));
}

/// Runs only as the child process of `commits_acknowledged_before_sigkill_survive`: commits
/// again and again, printing each version once its commit has returned, until it is killed.
#[tokio::test]
#[ignore = "the child half of commits_acknowledged_before_sigkill_survive"]
async fn killed_writer() {
    let Some(path) = std::env::var_os(CHILD_DB) else {
        return;
    };
    let store = SqliteStore::open(Path::new(&path)).await.unwrap();
    let start = at((2024, 1, 1), (0, 0, 0), 0);
    // Bounded, so a writer whose parent died does not run on; the parent stops it far sooner.
    for version in 1u64..=2_000 {
        let first = (version - 1) * INSTANCES_PER_COMMIT;
        let instances: Vec<InstanceRecord> = (first..first + INSTANCES_PER_COMMIT)
            .map(|n| instance_record("df-1", "A", start + Duration::minutes(n as i64)))
            .collect();
        let changes = ChangeSet {
            pipelines: vec![pipeline_record("df-1", version)],
            attempts: instances.iter().map(|i| attempt_record(i, 1)).collect(),
            instances,
        };
        store.commit(&changes).await.unwrap();
        println!("committed {version}");
    }
}

/// Kills the child if the test fails before it does.
struct KillOnDrop(std::process::Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn commits_acknowledged_before_sigkill_survive() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("state").join("sluice.db");
    let mut child = KillOnDrop(
        Command::new(std::env::current_exe().unwrap())
            .args([
                "killed_writer",
                "--exact",
                "--ignored",
                "--nocapture",
                "--test-threads=1",
            ])
            .env(CHILD_DB, &path)
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start the writer"),
    );
    let mut acknowledged = 0u64;
    for line in BufReader::new(child.0.stdout.take().unwrap()).lines() {
        let line = line.unwrap();
        if let Some(version) = line.strip_prefix("committed ") {
            acknowledged = version.parse().unwrap();
            if acknowledged == 25 {
                break;
            }
        }
    }
    // SIGKILL, while the writer is (most likely) in the middle of its next commit.
    child.0.kill().unwrap();
    let status = child.0.wait().unwrap();
    assert_eq!(acknowledged, 25, "the writer stopped early ({status})");

    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(async {
            let mut conn = raw(&path).await;
            let check: String = sqlx::query_scalar("PRAGMA integrity_check")
                .fetch_one(&mut conn)
                .await
                .unwrap();
            assert_eq!(check, "ok");
            conn.close().await.unwrap();

            let store = SqliteStore::open(&path).await.unwrap();
            let version = store.pipeline("df-1").await.unwrap().unwrap().version;
            assert!(
                version >= acknowledged,
                "acknowledged {acknowledged}, found {version}"
            );
            // Every commit landed whole or not at all.
            let instances = store.instances("df-1").await.unwrap();
            assert_eq!(instances.len() as u64, version * INSTANCES_PER_COMMIT);
            assert_eq!(store.attempts("df-1").await.unwrap().len(), instances.len());
            // And the store carries on where the writer stopped.
            store
                .commit(&ChangeSet {
                    pipelines: vec![pipeline_record("df-1", version + 1)],
                    ..ChangeSet::default()
                })
                .await
                .unwrap();
        });
}

/// A write that fails after others in the same commit succeeded (here an I/O-like failure
/// simulated by a trigger refusing one attempt row) rolls the whole commit back.
#[tokio::test]
async fn commit_failing_half_way_rolls_back() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("sluice.db");
    let store = SqliteStore::open(&path).await.unwrap();
    let before = sample("df-1");
    store.commit(&before).await.unwrap();

    let mut conn = raw(&path).await;
    sqlx::query(
        "CREATE TRIGGER refuse BEFORE INSERT ON attempts WHEN NEW.attempt_id LIKE '%_Attempt=9' \
         BEGIN SELECT RAISE(ABORT, 'simulated write failure'); END",
    )
    .execute(&mut conn)
    .await
    .unwrap();

    // Pipelines, 1 200 instances (three batches) and most attempts are written before the
    // refused attempt.
    let mut failing = sample("df-2");
    failing.pipelines.push(pipeline_record("df-1", 2));
    let start = at((2024, 6, 1), (0, 0, 0), 0);
    failing
        .instances
        .extend((0..1200).map(|n| instance_record("df-1", "B", start + Duration::minutes(n))));
    let last = failing.instances.last().unwrap().clone();
    failing
        .attempts
        .extend((1..=9).map(|n| attempt_record(&last, n)));
    let error = store.commit(&failing).await.unwrap_err();
    assert!(
        error.to_string().contains("simulated write failure"),
        "{error}"
    );

    assert_holds(&store, &before).await;
    assert_eq!(store.pipeline("df-2").await.unwrap(), None);
    assert_eq!(store.pipelines().await.unwrap().len(), 1);

    sqlx::query("DROP TRIGGER refuse")
        .execute(&mut conn)
        .await
        .unwrap();
    store.commit(&failing).await.unwrap();
    assert_eq!(store.instances("df-1").await.unwrap().len(), 1250);
}
