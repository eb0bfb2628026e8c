//! `sluice store copy`'s core: a deployment's state moved between stores loses nothing.

use sluice_engine::conformance::{
    at, full_attempt_record, full_instance_record, minimal_pipeline_record, pipeline_record,
};
use sluice_engine::{ChangeSet, Store};
use sluice_store::{CopyError, CopyOptions, SqliteStore, copy};
use tempfile::TempDir;

async fn store(dir: &TempDir, name: &str) -> SqliteStore {
    SqliteStore::open(&dir.path().join(name).join("sluice.db"))
        .await
        .expect("open the store")
}

/// Three pipelines of two accounts: one with 12 000 instances (more than a commit's chunk)
/// and an attempt on every fourth, one with a few records, one with none.
async fn fill(store: &dyn Store) {
    let mut big = pipeline_record("df-BIG0000000000000001", 7);
    big.account_id = "111111111111".into();
    big.fields
        .insert("tags".into(), r#"[{"key":"team","value":"data"}]"#.into());
    let instances: Vec<_> = (0..12_000)
        .map(|n| {
            let start = at((2026, 1, 1), (0, 0, 0), 0) + chrono::Duration::minutes(15 * n);
            full_instance_record(
                &big.pipeline_id,
                if n % 2 == 0 { "Copy" } else { "Load" },
                start,
            )
        })
        .collect();
    let attempts: Vec<_> = instances
        .iter()
        .step_by(4)
        .flat_map(|i| [full_attempt_record(i, 1), full_attempt_record(i, 2)])
        .collect();
    store
        .commit(&ChangeSet {
            pipelines: vec![big],
            instances,
            attempts,
        })
        .await
        .unwrap();

    let mut small = pipeline_record("df-SMALL00000000000002", 3);
    small.account_id = "222222222222".into();
    let instance =
        full_instance_record(&small.pipeline_id, "Report", at((2026, 2, 1), (0, 0, 0), 0));
    let attempt = full_attempt_record(&instance, 1);
    store
        .commit(&ChangeSet {
            pipelines: vec![small],
            instances: vec![instance],
            attempts: vec![attempt],
        })
        .await
        .unwrap();
    store
        .commit(&ChangeSet {
            pipelines: vec![minimal_pipeline_record("df-EMPTY0000000000003", 1)],
            ..ChangeSet::default()
        })
        .await
        .unwrap();
}

/// Every record of `a` equals `b`'s.
async fn assert_same_state(a: &dyn Store, b: &dyn Store) {
    let pipelines = a.pipelines().await.unwrap();
    assert_eq!(pipelines, b.pipelines().await.unwrap());
    for p in &pipelines {
        assert_eq!(
            a.instances(&p.pipeline_id).await.unwrap(),
            b.instances(&p.pipeline_id).await.unwrap()
        );
        assert_eq!(
            a.attempts(&p.pipeline_id).await.unwrap(),
            b.attempts(&p.pipeline_id).await.unwrap()
        );
    }
}

#[tokio::test]
async fn a_copy_and_a_copy_back_lose_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let (source, middle, back) = (
        store(&dir, "source").await,
        store(&dir, "middle").await,
        store(&dir, "back").await,
    );
    fill(&source).await;

    let report = copy(&source, &middle, &CopyOptions::default())
        .await
        .unwrap();
    assert_eq!(report.pipelines, 3);
    assert_eq!(report.instances, 12_001);
    assert_eq!(report.attempts, 6_001);
    assert!(report.skipped.is_empty());
    copy(&middle, &back, &CopyOptions::default()).await.unwrap();
    assert_same_state(&source, &back).await;
    assert_eq!(source.pipelines().await.unwrap().len(), 3);
}

#[tokio::test]
async fn a_non_empty_target_is_refused_unless_asked() {
    let dir = tempfile::tempdir().unwrap();
    let (source, target) = (store(&dir, "source").await, store(&dir, "target").await);
    fill(&source).await;
    let mine = pipeline_record("df-SMALL00000000000002", 9);
    target
        .commit(&ChangeSet {
            pipelines: vec![mine.clone()],
            ..ChangeSet::default()
        })
        .await
        .unwrap();

    let refused = copy(&source, &target, &CopyOptions::default())
        .await
        .unwrap_err();
    assert!(matches!(refused, CopyError::TargetNotEmpty(1)), "{refused}");
    assert!(
        refused.to_string().contains("--into-non-empty"),
        "{refused}"
    );
    assert_eq!(
        target.pipelines().await.unwrap(),
        std::slice::from_ref(&mine)
    );

    let options = CopyOptions {
        into_non_empty: true,
        ..CopyOptions::default()
    };
    let report = copy(&source, &target, &options).await.unwrap();
    assert_eq!(report.skipped, ["df-SMALL00000000000002"]);
    assert_eq!(report.pipelines, 2);
    // The target's own pipeline is left as it was.
    assert_eq!(
        target.pipeline(&mine.pipeline_id).await.unwrap(),
        Some(mine)
    );
    assert_eq!(target.pipelines().await.unwrap().len(), 3);
}
