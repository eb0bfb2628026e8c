//! Secrets at rest on both backends: a pipeline's `*` field and `*` parameter values are in
//! no byte of the SQLite files (database and WAL) nor in PostgreSQL's rows, read back whole
//! with the key, and a store opened with another key refuses at once, naming both keys.

use std::sync::Arc;

use sluice_engine::conformance::pipeline_record;
use sluice_engine::{ChangeSet, PipelineRecord, Store};
use sluice_model::{Field, ParameterValue, PipelineDefinition, PipelineObject};
use sluice_store::{PostgresOptions, PostgresStore, Sealer, SqliteStore};
use sluice_testsupport::databases::{PgSchema, psql};

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
