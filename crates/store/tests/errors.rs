//! Failures are reported as `StoreError`s naming the database and what was being done; bad
//! data is never a panic.

use std::path::Path;

use sluice_engine::conformance::{at, attempt_record, instance_record, pipeline_record};
use sluice_engine::{ChangeSet, Store, StoreError};
use sluice_store::SqliteStore;
use sqlx::sqlite::SqliteConnectOptions;
use sqlx::{ConnectOptions, SqliteConnection};

async fn raw(path: &Path) -> SqliteConnection {
    SqliteConnectOptions::new()
        .filename(path)
        .connect()
        .await
        .expect("raw connection")
}

async fn execute(path: &Path, sql: &str) {
    let mut conn = raw(path).await;
    sqlx::query(sql).execute(&mut conn).await.expect(sql);
}

fn unavailable(result: Result<SqliteStore, StoreError>) -> String {
    match result {
        Err(StoreError::Unavailable(message)) => message,
        other => panic!("expected Unavailable, got {other:?}"),
    }
}

fn corrupt<T: std::fmt::Debug>(result: Result<T, StoreError>) -> String {
    match result {
        Err(StoreError::Corrupt(message)) => message,
        other => panic!("expected Corrupt, got {other:?}"),
    }
}

/// A store at `dir/sluice.db` holding pipelines df-1 and df-2, each with one instance and one
/// attempt.
async fn populated(dir: &Path) -> SqliteStore {
    let store = SqliteStore::open(&dir.join("sluice.db")).await.unwrap();
    let mut changes = ChangeSet::default();
    for id in ["df-1", "df-2"] {
        let instance = instance_record(id, "A", at((2024, 1, 1), (0, 0, 0), 0));
        changes.pipelines.push(pipeline_record(id, 1));
        changes.attempts.push(attempt_record(&instance, 1));
        changes.instances.push(instance);
    }
    store.commit(&changes).await.unwrap();
    store
}

#[tokio::test]
async fn a_directory_that_cannot_be_created_is_unavailable() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("plain-file");
    std::fs::write(&file, "not a directory").unwrap();
    let path = file.join("state").join("sluice.db");

    let message = unavailable(SqliteStore::open(&path).await);
    assert!(
        message.starts_with(&format!(
            "cannot open {}: cannot create directory",
            path.display()
        )),
        "{message}"
    );
    assert!(
        message.contains(&file.join("state").display().to_string()),
        "{message}"
    );
    let full = StoreError::Unavailable(message).to_string();
    assert!(
        full.starts_with("state store unavailable: cannot open "),
        "{full}"
    );
}

#[tokio::test]
async fn a_path_that_is_a_directory_is_unavailable() {
    let dir = tempfile::tempdir().unwrap();
    let message = unavailable(SqliteStore::open(dir.path()).await);
    assert_eq!(
        message,
        format!(
            "cannot open {}: unable to open database file",
            dir.path().display()
        )
    );
}

#[tokio::test]
async fn a_file_that_is_not_a_database_is_corrupt() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("sluice.db");
    std::fs::write(&path, vec![b'x'; 8192]).unwrap();
    let message = corrupt(SqliteStore::open(&path).await);
    assert!(message.contains(&path.display().to_string()), "{message}");
    assert!(message.contains("not a database"), "{message}");
}

#[tokio::test]
async fn a_database_from_a_newer_sluice_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let store = populated(dir.path()).await;
    store.close().await;
    let path = dir.path().join("sluice.db");
    execute(
        &path,
        "INSERT INTO _sqlx_migrations (version, description, success, checksum, execution_time) \
         VALUES (9999, 'from the future', TRUE, x'00', 0)",
    )
    .await;
    let message = corrupt(SqliteStore::open(&path).await);
    assert!(message.contains("newer Sluice"), "{message}");
    assert!(message.contains("9999"), "{message}");
}

#[tokio::test]
async fn undecodable_data_is_corrupt_and_names_the_record() {
    let dir = tempfile::tempdir().unwrap();
    let store = populated(dir.path()).await;
    let path = dir.path().join("sluice.db");
    execute(
        &path,
        "UPDATE instances SET data = '{not json' WHERE pipeline_id = 'df-1'",
    )
    .await;
    execute(
        &path,
        "UPDATE attempts SET data = '{\"pipeline_id\": \"df-1\"}' WHERE pipeline_id = 'df-1'",
    )
    .await;
    execute(
        &path,
        "UPDATE pipelines SET data = '[]' WHERE pipeline_id = 'df-1'",
    )
    .await;

    let message = corrupt(store.instances("df-1").await);
    assert!(
        message.contains("instance @A_2024-01-01T00:00:00 of pipeline df-1"),
        "{message}"
    );
    assert!(message.contains(&path.display().to_string()), "{message}");
    let message = corrupt(store.attempts("df-1").await);
    assert!(
        message.contains("attempt @A_2024-01-01T00:00:00_Attempt=1 of pipeline df-1"),
        "{message}"
    );
    assert!(message.contains("missing field"), "{message}");
    let message = corrupt(store.pipeline("df-1").await);
    assert!(message.contains("pipeline df-1"), "{message}");
    let message = corrupt(store.pipelines().await);
    assert!(message.contains("pipeline df-1"), "{message}");

    // The other pipeline's records are unaffected.
    assert_eq!(store.instances("df-2").await.unwrap().len(), 1);
    assert_eq!(store.attempts("df-2").await.unwrap().len(), 1);
    assert_eq!(
        store.pipeline("df-2").await.unwrap().unwrap().pipeline_id,
        "df-2"
    );
    // Replacing a damaged record repairs it.
    let instance = instance_record("df-1", "A", at((2024, 1, 1), (0, 0, 0), 0));
    store
        .commit(&ChangeSet {
            instances: vec![instance.clone()],
            ..ChangeSet::default()
        })
        .await
        .unwrap();
    assert_eq!(store.instances("df-1").await.unwrap(), vec![instance]);
}

#[tokio::test]
async fn a_record_filed_under_another_id_is_corrupt() {
    let dir = tempfile::tempdir().unwrap();
    let store = populated(dir.path()).await;
    let path = dir.path().join("sluice.db");
    // df-1's instance row now holds df-2's record.
    execute(
        &path,
        "UPDATE instances SET data = (SELECT data FROM instances WHERE pipeline_id = 'df-2') \
         WHERE pipeline_id = 'df-1'",
    )
    .await;
    let message = corrupt(store.instances("df-1").await);
    assert!(
        message.contains("of pipeline df-1 holds the record of instance"),
        "{message}"
    );
    assert!(message.contains("of pipeline df-2"), "{message}");
}

#[tokio::test]
async fn a_data_column_of_the_wrong_type_is_corrupt() {
    let dir = tempfile::tempdir().unwrap();
    let store = populated(dir.path()).await;
    let path = dir.path().join("sluice.db");
    // STRICT tables refuse a blob in a TEXT column, but invalid UTF-8 can still be cast in.
    execute(
        &path,
        "UPDATE pipelines SET data = CAST(x'ff00fe' AS TEXT) WHERE pipeline_id = 'df-2'",
    )
    .await;
    let message = corrupt(store.pipeline("df-2").await);
    assert!(message.contains("pipeline df-2"), "{message}");
}

#[tokio::test]
async fn a_closed_store_is_unavailable() {
    let dir = tempfile::tempdir().unwrap();
    let store = populated(dir.path()).await;
    store.close().await;
    let path = dir.path().join("sluice.db").display().to_string();
    for result in [
        store
            .commit(&ChangeSet {
                pipelines: vec![pipeline_record("df-3", 1)],
                ..ChangeSet::default()
            })
            .await,
        store.pipelines().await.map(drop),
        store.delete_pipeline("df-1").await,
    ] {
        match result {
            Err(StoreError::Unavailable(message)) => {
                assert!(message.contains(&path), "{message}");
                assert!(message.contains("closed"), "{message}");
            }
            other => panic!("expected Unavailable, got {other:?}"),
        }
    }
}

#[tokio::test]
async fn a_locked_database_makes_commits_unavailable_not_stuck() {
    let dir = tempfile::tempdir().unwrap();
    let store = populated(dir.path()).await;
    let path = dir.path().join("sluice.db");
    // Another process holding the write lock past the busy timeout.
    let mut other = raw(&path).await;
    sqlx::query("BEGIN IMMEDIATE")
        .execute(&mut other)
        .await
        .unwrap();
    let result = store
        .commit(&ChangeSet {
            pipelines: vec![pipeline_record("df-3", 1)],
            ..ChangeSet::default()
        })
        .await;
    match result {
        Err(StoreError::Unavailable(message)) => assert!(message.contains("locked"), "{message}"),
        other => panic!("expected Unavailable, got {other:?}"),
    }
    // Readers are not blocked by a writer under WAL.
    assert_eq!(store.pipelines().await.unwrap().len(), 2);
    sqlx::query("ROLLBACK").execute(&mut other).await.unwrap();
    store
        .commit(&ChangeSet {
            pipelines: vec![pipeline_record("df-3", 1)],
            ..ChangeSet::default()
        })
        .await
        .unwrap();
}
