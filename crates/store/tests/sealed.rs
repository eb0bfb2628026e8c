//! Secrets at rest on both backends: a pipeline's `*` field and `*` parameter values are in
//! no byte of the SQLite files (database and WAL) nor in PostgreSQL's rows, read back whole
//! with the key, and a store opened with another key refuses at once, naming both keys. Key
//! rotation, below, on both backends.

use std::path::Path;
use std::sync::Arc;

use sluice_engine::conformance::pipeline_record;
use sluice_engine::{ChangeSet, PipelineRecord, Store};
use sluice_model::{Field, ParameterValue, PipelineDefinition, PipelineObject};
use sluice_store::{
    PostgresOptions, PostgresStore, RotateError, RotationReport, Sealer, SqliteStore, rotate_sqlite,
};
use sluice_testsupport::databases::{PgSchema, psql};
use sqlx::Connection as _;

const URL: &str = "postgres://postgres@127.0.0.1:5432/test";
const FIELD_SECRET: &str = "sealed-canary-field-41d2";
const PARAM_SECRET: &str = "sealed-canary-param-93be";

fn with_secrets(pipeline_id: &str) -> PipelineRecord {
    let mut record = pipeline_record(pipeline_id, 1);
    let definition = PipelineDefinition {
        pipeline_objects: vec![PipelineObject {
            id: "Db".into(),
            name: "Db".into(),
            fields: vec![
                Field::string("type", "JdbcDatabase"),
                Field::string("*password", FIELD_SECRET),
            ],
        }],
        parameter_objects: Vec::new(),
        parameter_values: vec![ParameterValue {
            id: "*myPassword".into(),
            string_value: PARAM_SECRET.into(),
        }],
    };
    record.definition = Some(definition.clone());
    record.active_definition = Some(definition);
    record
}

fn key(byte: u8) -> Arc<Sealer> {
    Arc::new(Sealer::new(&[byte; 32]).unwrap())
}

fn commit(record: &PipelineRecord) -> ChangeSet {
    ChangeSet {
        pipelines: vec![record.clone()],
        ..ChangeSet::default()
    }
}

#[tokio::test]
async fn sqlite_files_hold_no_secret_and_another_key_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("sluice.db");
    let store = SqliteStore::open(&path)
        .await
        .unwrap()
        .seal_with(key(1))
        .await
        .unwrap();
    let record = with_secrets("df-SEALED");
    store.commit(&commit(&record)).await.unwrap();
    assert_eq!(
        store.pipeline("df-SEALED").await.unwrap(),
        Some(record.clone())
    );

    // Every file of the database while it is open (the WAL holds the commit).
    let mut files = 0;
    for entry in std::fs::read_dir(dir.path()).unwrap().flatten() {
        let bytes = std::fs::read(entry.path()).unwrap();
        files += 1;
        for secret in [FIELD_SECRET, PARAM_SECRET] {
            assert!(
                !bytes.windows(secret.len()).any(|w| w == secret.as_bytes()),
                "{} holds {secret}",
                entry.path().display()
            );
        }
    }
    assert!(files >= 2, "the database and its WAL were searched");
    store.close().await;

    let err = SqliteStore::open(&path)
        .await
        .unwrap()
        .seal_with(key(2))
        .await
        .unwrap_err()
        .to_string();
    assert!(
        err.contains(key(1).key_id()) && err.contains(key(2).key_id()),
        "{err}"
    );
    let reopened = SqliteStore::open(&path)
        .await
        .unwrap()
        .seal_with(key(1))
        .await
        .unwrap();
    assert_eq!(reopened.pipeline("df-SEALED").await.unwrap(), Some(record));
}

#[tokio::test]
async fn postgres_rows_hold_no_secret_and_another_key_is_refused() {
    let schema = PgSchema::fresh("sluice_sealed");
    let options = PostgresOptions {
        schema: Some(schema.0.clone()),
        max_connections: 2,
        ..PostgresOptions::default()
    };
    let store = PostgresStore::connect_with(URL, options.clone())
        .await
        .unwrap()
        .seal_with(key(1))
        .await
        .unwrap();
    let record = with_secrets("df-SEALED");
    store.commit(&commit(&record)).await.unwrap();
    assert_eq!(
        store.pipeline("df-SEALED").await.unwrap(),
        Some(record.clone())
    );
    let rows = psql(&format!("SELECT data FROM \"{}\".pipelines", schema.0));
    assert!(rows.contains("sluice:sealed:v1:"), "{rows}");
    assert!(
        !rows.contains(FIELD_SECRET) && !rows.contains(PARAM_SECRET),
        "{rows}"
    );

    let err = PostgresStore::connect_with(URL, options)
        .await
        .unwrap()
        .seal_with(key(2))
        .await
        .unwrap_err()
        .to_string();
    assert!(
        err.contains(key(1).key_id()) && err.contains("same secret key file"),
        "{err}"
    );
    store.close().await;
}

// ---------------------------------------------------------------------------------------------
// Key rotation: every secret value resealed with the new key, so that the old key no longer
// opens the database and the new one reads every pipeline whole; values an interrupted
// rotation already resealed left byte for byte; values of a third key refused, naming the
// keys, with nothing changed; and no rotation under a process using the database.
// ---------------------------------------------------------------------------------------------

/// [`with_secrets`] with an active definition that differs from the latest one, so that the
/// row holds both.
fn rotated(pipeline_id: &str) -> PipelineRecord {
    let mut record = with_secrets(pipeline_id);
    if let Some(active) = &mut record.active_definition {
        active.parameter_values[0].string_value = format!("{PARAM_SECRET}-active");
    }
    record
}

/// Whether `bytes` hold a secret value of [`rotated`]'s (the active one starts with the other).
fn holds_secret(bytes: &[u8]) -> bool {
    contains(bytes, FIELD_SECRET) || contains(bytes, PARAM_SECRET)
}

fn contains(haystack: &[u8], needle: &str) -> bool {
    haystack
        .windows(needle.len())
        .any(|w| w == needle.as_bytes())
}

/// A database at `path` holding `records`, their secrets sealed with `sealer`.
async fn sqlite_with(path: &Path, sealer: &Arc<Sealer>, records: &[PipelineRecord]) {
    let store = SqliteStore::open(path)
        .await
        .unwrap()
        .seal_with(sealer.clone())
        .await
        .unwrap();
    for record in records {
        store.commit(&commit(record)).await.unwrap();
    }
    store.close().await;
}

/// Copies the pipeline rows of the database at `from` into the one at `into`, as they are.
async fn copy_rows(from: &Path, into: &Path) {
    let mut connection = sqlx::SqliteConnection::connect(&format!("sqlite://{}", into.display()))
        .await
        .unwrap();
    sqlx::query("ATTACH DATABASE ? AS other")
        .bind(from.display().to_string())
        .execute(&mut connection)
        .await
        .unwrap();
    sqlx::query("INSERT INTO pipelines SELECT * FROM other.pipelines")
        .execute(&mut connection)
        .await
        .unwrap();
    connection.close().await.unwrap();
}

async fn sqlite_rows(path: &Path) -> Vec<(String, String)> {
    let mut connection = sqlx::SqliteConnection::connect(&format!("sqlite://{}", path.display()))
        .await
        .unwrap();
    let rows = sqlx::query_as("SELECT pipeline_id, data FROM pipelines ORDER BY pipeline_id")
        .fetch_all(&mut connection)
        .await
        .unwrap();
    connection.close().await.unwrap();
    rows
}

#[tokio::test]
async fn sqlite_rotation_reseals_every_secret_and_finishes_an_interrupted_run() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("sluice.db");
    let (current, new) = (key(1), key(2));
    let plain = pipeline_record("df-PLAIN", 1);
    let (old, done) = (rotated("df-OLD"), rotated("df-DONE"));
    sqlite_with(&path, &current, &[old.clone(), plain.clone()]).await;
    // df-DONE as an interrupted rotation left it: sealed with the new key already.
    let aside = dir.path().join("aside.db");
    sqlite_with(&aside, &new, std::slice::from_ref(&done)).await;
    copy_rows(&aside, &path).await;
    std::fs::remove_file(&aside).unwrap();
    let before = sqlite_rows(&path).await;

    let report = rotate_sqlite(&path, &current, &new).await.unwrap();
    assert_eq!(
        report,
        RotationReport {
            pipelines: 3,
            with_secrets: 2,
            resealed: 1,
            // df-OLD's field and parameter value, in its definition and active definition.
            values: 4,
        }
    );
    let after = sqlite_rows(&path).await;
    let row =
        |rows: &[(String, String)], id: &str| rows.iter().find(|(i, _)| i == id).unwrap().1.clone();
    assert_eq!(row(&after, "df-DONE"), row(&before, "df-DONE"));
    assert_eq!(row(&after, "df-PLAIN"), row(&before, "df-PLAIN"));
    assert_ne!(row(&after, "df-OLD"), row(&before, "df-OLD"));

    // No secret in any file of the database; only the new key's seals.
    for entry in std::fs::read_dir(dir.path()).unwrap().flatten() {
        let bytes = std::fs::read(entry.path()).unwrap();
        assert!(!holds_secret(&bytes), "{}", entry.path().display());
        assert!(
            !contains(&bytes, current.key_id()),
            "{}",
            entry.path().display()
        );
    }
    assert!(contains(&std::fs::read(&path).unwrap(), new.key_id()));

    // The old key no longer opens it; the new one reads every pipeline whole.
    let err = SqliteStore::open(&path)
        .await
        .unwrap()
        .seal_with(current.clone())
        .await
        .unwrap_err()
        .to_string();
    assert!(
        err.contains(current.key_id()) && err.contains(new.key_id()),
        "{err}"
    );
    let store = SqliteStore::open(&path)
        .await
        .unwrap()
        .seal_with(new.clone())
        .await
        .unwrap();
    assert_eq!(store.pipeline("df-OLD").await.unwrap(), Some(old));
    assert_eq!(store.pipeline("df-DONE").await.unwrap(), Some(done));
    assert_eq!(store.pipeline("df-PLAIN").await.unwrap(), Some(plain));

    // While a process has the database open, a rotation is refused and changes nothing.
    let err = rotate_sqlite(&path, &new, &key(3)).await.unwrap_err();
    assert!(matches!(err, RotateError::InUse(_)), "{err}");
    assert!(err.to_string().contains("stop it"), "{err}");
    store.close().await;
    assert_eq!(sqlite_rows(&path).await, after);

    // Run again: everything is sealed with the new key already.
    let again = rotate_sqlite(&path, &current, &new).await.unwrap();
    assert_eq!((again.pipelines, again.resealed, again.values), (3, 0, 0));
    assert_eq!(sqlite_rows(&path).await, after);
}

#[tokio::test]
async fn sqlite_rotation_refuses_a_third_key_and_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("sluice.db");
    let (current, new, third) = (key(1), key(2), key(3));
    sqlite_with(&path, &current, &[rotated("df-A")]).await;
    let aside = dir.path().join("aside.db");
    sqlite_with(&aside, &third, &[rotated("df-Z")]).await;
    copy_rows(&aside, &path).await;
    let before = sqlite_rows(&path).await;

    let err = rotate_sqlite(&path, &current, &new).await.unwrap_err();
    let message = err.to_string();
    assert!(matches!(err, RotateError::Refused { .. }), "{message}");
    assert!(message.contains("df-Z"), "{message}");
    for id in [third.key_id(), current.key_id(), new.key_id()] {
        assert!(message.contains(id), "{message}");
    }
    // df-A, before df-Z in the rotation's order, is unchanged too: one transaction.
    assert_eq!(sqlite_rows(&path).await, before);

    let missing = rotate_sqlite(&dir.path().join("none.db"), &current, &new)
        .await
        .unwrap_err()
        .to_string();
    assert!(missing.contains("does not exist"), "{missing}");
    assert!(!dir.path().join("none.db").exists());
}

// ---------------------------------------------------------------------------------------------
// PostgreSQL
// ---------------------------------------------------------------------------------------------

async fn postgres(schema: &PgSchema, sealer: Option<&Arc<Sealer>>) -> PostgresStore {
    let options = PostgresOptions {
        schema: Some(schema.0.clone()),
        max_connections: 2,
        ..PostgresOptions::default()
    };
    let store = PostgresStore::connect_with(URL, options).await.unwrap();
    match sealer {
        Some(sealer) => store.seal_with(sealer.clone()).await.unwrap(),
        None => store,
    }
}

fn pg_rows(schema: &PgSchema) -> String {
    psql(&format!(
        "SELECT pipeline_id, data FROM \"{}\".pipelines ORDER BY pipeline_id",
        schema.0
    ))
}

#[tokio::test]
async fn postgres_rotation_reseals_every_secret_and_waits_for_the_servers_to_stop() {
    let schema = PgSchema::fresh("sluice_rotate");
    let aside = PgSchema::fresh("sluice_rotate_aside");
    let (current, new) = (key(1), key(2));
    let (old, done) = (rotated("df-OLD"), rotated("df-DONE"));
    let store = postgres(&schema, Some(&current)).await;
    store.commit(&commit(&old)).await.unwrap();
    store.close().await;
    // df-DONE as an interrupted rotation left it.
    let other = postgres(&aside, Some(&new)).await;
    other.commit(&commit(&done)).await.unwrap();
    other.close().await;
    psql(&format!(
        "INSERT INTO \"{}\".pipelines SELECT * FROM \"{}\".pipelines",
        schema.0, aside.0
    ));
    let done_before = psql(&format!(
        "SELECT data FROM \"{}\".pipelines WHERE pipeline_id = 'df-DONE'",
        schema.0
    ));

    // A live server's membership row: refused, naming it, and nothing changes.
    psql(&format!(
        "INSERT INTO \"{}\".servers VALUES ('srv-rotate-1', 'http://10.0.0.1:8080', \
         clock_timestamp() + interval '1 minute')",
        schema.0
    ));
    let before = pg_rows(&schema);
    let unsealed = postgres(&schema, None).await;
    let err = unsealed.rotate_key(&current, &new).await.unwrap_err();
    assert!(matches!(err, RotateError::InUse(_)), "{err}");
    assert!(err.to_string().contains("srv-rotate-1"), "{err}");
    assert_eq!(pg_rows(&schema), before);

    // Once it has stopped (its row gone), the rotation proceeds.
    psql(&format!("DELETE FROM \"{}\".servers", schema.0));
    let report = unsealed.rotate_key(&current, &new).await.unwrap();
    assert_eq!(
        report,
        RotationReport {
            pipelines: 2,
            with_secrets: 2,
            resealed: 1,
            values: 4,
        }
    );
    let rows = pg_rows(&schema);
    assert!(!holds_secret(rows.as_bytes()), "{rows}");
    assert!(!rows.contains(current.key_id()), "{rows}");
    assert!(rows.contains(new.key_id()), "{rows}");
    assert_eq!(
        psql(&format!(
            "SELECT data FROM \"{}\".pipelines WHERE pipeline_id = 'df-DONE'",
            schema.0
        )),
        done_before
    );
    let again = unsealed.rotate_key(&current, &new).await.unwrap();
    assert_eq!((again.resealed, again.values), (0, 0));
    unsealed.close().await;

    let err = PostgresStore::connect_with(
        URL,
        PostgresOptions {
            schema: Some(schema.0.clone()),
            ..PostgresOptions::default()
        },
    )
    .await
    .unwrap()
    .seal_with(current.clone())
    .await
    .unwrap_err()
    .to_string();
    assert!(err.contains(new.key_id()), "{err}");
    let store = postgres(&schema, Some(&new)).await;
    assert_eq!(store.pipeline("df-OLD").await.unwrap(), Some(old));
    assert_eq!(store.pipeline("df-DONE").await.unwrap(), Some(done));
    store.close().await;
}

#[tokio::test]
async fn postgres_rotation_refuses_a_third_key_and_changes_nothing() {
    let schema = PgSchema::fresh("sluice_rotate_third");
    let aside = PgSchema::fresh("sluice_rotate_third_aside");
    let (current, new, third) = (key(1), key(2), key(3));
    let store = postgres(&schema, Some(&current)).await;
    store.commit(&commit(&rotated("df-A"))).await.unwrap();
    store.close().await;
    let other = postgres(&aside, Some(&third)).await;
    other.commit(&commit(&rotated("df-Z"))).await.unwrap();
    other.close().await;
    psql(&format!(
        "INSERT INTO \"{}\".pipelines SELECT * FROM \"{}\".pipelines",
        schema.0, aside.0
    ));
    let before = pg_rows(&schema);

    let unsealed = postgres(&schema, None).await;
    let err = unsealed.rotate_key(&current, &new).await.unwrap_err();
    let message = err.to_string();
    assert!(matches!(err, RotateError::Refused { .. }), "{message}");
    assert!(message.contains("df-Z"), "{message}");
    for id in [third.key_id(), current.key_id(), new.key_id()] {
        assert!(message.contains(id), "{message}");
    }
    // df-A comes first, but every row is checked before one is changed.
    assert_eq!(pg_rows(&schema), before);
    unsealed.close().await;
}
