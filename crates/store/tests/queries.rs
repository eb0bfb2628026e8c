//! Instance queries on a SQLite file beyond what the conformance suite covers: rows written
//! before the query indexes existed.

use std::path::Path;

use sluice_engine::conformance::{at, instance_record, minimal_pipeline_record};
use sluice_engine::{ChangeSet, InstanceQuery, InstanceRecord, Store, id_hash};
use sluice_model::Status;
use sluice_store::SqliteStore;
use sqlx::sqlite::SqliteConnectOptions;
use sqlx::{ConnectOptions, SqliteConnection};

/// A connection of the test's own, beside the store's.
async fn raw(path: &Path) -> SqliteConnection {
    SqliteConnectOptions::new()
        .filename(path)
        .connect()
        .await
        .unwrap()
}

#[tokio::test]
async fn instances_written_before_the_id_hash_existed_get_it_at_open() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("sluice.db");
    let instances: Vec<InstanceRecord> = (0..25_000)
        .map(|n| InstanceRecord {
            status: if n % 5 == 0 {
                Status::Failed
            } else {
                Status::Finished
            },
            ..instance_record("df-1", "A", at((2024, 1, 1), (0, 0, 0), n))
        })
        .collect();
    let store = SqliteStore::open(&path).await.unwrap();
    store
        .commit(&ChangeSet {
            pipelines: vec![minimal_pipeline_record("df-1", 1)],
            instances: instances.clone(),
            ..ChangeSet::default()
        })
        .await
        .unwrap();
    store.close().await;
    // As the rows of an older Sluice were: no hash.
    sqlx::query("UPDATE instances SET id_hash = NULL")
        .execute(&mut raw(&path).await)
        .await
        .unwrap();

    let store = SqliteStore::open(&path).await.unwrap();
    for instance in [&instances[0], &instances[12_345], &instances[24_999]] {
        assert_eq!(
            store
                .instances_with_id_hash("df-1", id_hash(&instance.instance_id))
                .await
                .unwrap(),
            vec![instance.clone()]
        );
    }
    let failed = InstanceQuery {
        statuses: Some(vec![Status::Failed]),
        limit: 3,
        ..InstanceQuery::default()
    };
    assert_eq!(
        store.query_instances("df-1", &failed).await.unwrap(),
        [&instances[0], &instances[5], &instances[10]].map(Clone::clone)
    );
    store.close().await;
    let missing: i64 = sqlx::query_scalar("SELECT count(*) FROM instances WHERE id_hash IS NULL")
        .fetch_one(&mut raw(&path).await)
        .await
        .unwrap();
    assert_eq!(missing, 0);
}
