//! `Cluster` on the machine's PostgreSQL (each test in a schema of its own): leases and their
//! epochs, fenced commits, membership, the cross-pipeline lookups and the work signal.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use sluice_engine::cluster::NOBODY;
use sluice_engine::conformance::{at, attempt_record, instance_record, pipeline_record};
use sluice_engine::{ChangeSet, Cluster, Fence, Member, Store, StoreError};
use sluice_model::Status;
use sluice_store::{PostgresOptions, PostgresStore};
use sluice_testsupport::databases::PgSchema;

const URL: &str = "postgres://postgres@127.0.0.1:5432/test";

/// A lease long enough never to lapse during a test.
const LONG: Duration = Duration::from_secs(600);
/// A lease short enough to wait out.
const SHORT: Duration = Duration::from_millis(300);

/// Two connections to one fresh schema, as two servers would hold.
async fn two_servers() -> (PostgresStore, PostgresStore, PgSchema) {
    let schema = PgSchema::fresh("sluice_cluster");
    let options = PostgresOptions {
        schema: Some(schema.0.clone()),
        max_connections: 4,
        ..PostgresOptions::default()
    };
    let a = PostgresStore::connect_with(URL, options.clone())
        .await
        .expect("connect to the local PostgreSQL");
    let b = PostgresStore::connect_with(URL, options)
        .await
        .expect("connect to the local PostgreSQL");
    (a, b, schema)
}

async fn wait_lapsed(store: &PostgresStore, pipeline_id: &str) {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let lease = store.lease(pipeline_id).await.unwrap().expect("a lease");
        if !lease.live {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "the lease never lapsed: {lease:?}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// A change set writing one more instance of `pipeline_id`.
fn one_instance(pipeline_id: &str, day: u32) -> ChangeSet {
    ChangeSet {
        instances: vec![instance_record(
            pipeline_id,
            "Copy",
            at((2024, 3, day), (0, 0, 0), 0),
        )],
        ..ChangeSet::default()
    }
}

async fn stored_pipeline(store: &PostgresStore, pipeline_id: &str) {
    store
        .commit(&ChangeSet {
            pipelines: vec![pipeline_record(pipeline_id, 1)],
            ..ChangeSet::default()
        })
        .await
        .unwrap();
}

#[tokio::test]
async fn a_lease_is_held_by_one_server_and_passes_on_with_a_new_epoch() {
    let (a, b, _schema) = two_servers().await;
    let first = a.acquire("df-1", "server-a", SHORT).await.unwrap();
    assert_eq!(
        first,
        Some(Fence {
            owner: "server-a".into(),
            epoch: 1
        })
    );
    assert_eq!(b.acquire("df-1", "server-b", LONG).await.unwrap(), None);
    // The holder acquiring again keeps its grant.
    let again = a.acquire("df-1", "server-a", SHORT).await.unwrap();
    assert_eq!(again.map(|f| f.epoch), Some(1));
    wait_lapsed(&b, "df-1").await;
    // Renewal never revives a lapsed lease.
    assert!(a.renew("server-a", LONG).await.unwrap().is_empty());
    let taken = b.acquire("df-1", "server-b", LONG).await.unwrap().unwrap();
    assert_eq!(taken.epoch, 2);
    assert_eq!(
        b.renew("server-b", LONG).await.unwrap(),
        vec![("df-1".into(), 2)]
    );
    let lease = a.lease("df-1").await.unwrap().unwrap();
    assert_eq!(
        (lease.owner.as_str(), lease.epoch, lease.live),
        ("server-b", 2, true)
    );
}

#[tokio::test]
async fn a_commit_fenced_by_a_lapsed_grant_is_refused_and_writes_nothing() {
    let (a, b, _schema) = two_servers().await;
    stored_pipeline(&a, "df-1").await;
    let old = a.acquire("df-1", "server-a", SHORT).await.unwrap().unwrap();
    a.commit_fenced(&one_instance("df-1", 1), &old)
        .await
        .unwrap();
    wait_lapsed(&a, "df-1").await;
    // Lapsed but not yet taken: the grant is void all the same.
    let refused = a.commit_fenced(&one_instance("df-1", 2), &old).await;
    assert!(
        matches!(refused, Err(StoreError::Conflict(_))),
        "{refused:?}"
    );
    let new = b.acquire("df-1", "server-b", LONG).await.unwrap().unwrap();
    let refused = a.commit_fenced(&one_instance("df-1", 3), &old).await;
    match refused {
        Err(StoreError::Conflict(message)) => {
            assert!(
                message.contains("df-1") && message.contains("epoch 1"),
                "{message}"
            )
        }
        other => panic!("{other:?}"),
    }
    b.commit_fenced(&one_instance("df-1", 4), &new)
        .await
        .unwrap();
    let days: Vec<u32> = b
        .instances("df-1")
        .await
        .unwrap()
        .iter()
        .map(|i| chrono::Datelike::day(&i.scheduled_start))
        .collect();
    assert_eq!(days, vec![1, 4]);
}

#[tokio::test]
async fn release_lapses_at_once_and_retire_is_forever() {
    let (a, b, _schema) = two_servers().await;
    let fence = a.acquire("df-1", "server-a", LONG).await.unwrap().unwrap();
    // A stale grant releases nothing.
    let stale = Fence {
        owner: "server-a".into(),
        epoch: fence.epoch + 1,
    };
    a.release("df-1", &stale).await.unwrap();
    assert!(a.lease("df-1").await.unwrap().unwrap().live);
    a.release("df-1", &fence).await.unwrap();
    assert!(!a.lease("df-1").await.unwrap().unwrap().live);
    assert!(b.acquire("df-1", "server-b", LONG).await.unwrap().is_some());
    b.retire("df-1").await.unwrap();
    let retired = a.lease("df-1").await.unwrap().unwrap();
    assert_eq!((retired.owner.as_str(), retired.live), (NOBODY, true));
    assert_eq!(a.acquire("df-1", "server-a", LONG).await.unwrap(), None);
}

#[tokio::test]
async fn stored_pipelines_without_a_lease_get_a_lapsed_one() {
    let (a, b, _schema) = two_servers().await;
    stored_pipeline(&a, "df-1").await;
    stored_pipeline(&a, "df-2").await;
    b.acquire("df-2", "server-b", LONG).await.unwrap().unwrap();
    a.lease_orphans().await.unwrap();
    let leases = b.leases().await.unwrap();
    let summary: Vec<(&str, &str, bool)> = leases
        .iter()
        .map(|l| (l.pipeline_id.as_str(), l.owner.as_str(), l.live))
        .collect();
    assert_eq!(
        summary,
        vec![("df-1", "", false), ("df-2", "server-b", true)]
    );
    assert_eq!(
        a.acquire("df-1", "server-a", LONG)
            .await
            .unwrap()
            .map(|f| f.epoch),
        Some(1)
    );
}

#[tokio::test]
async fn members_heartbeat_and_leave() {
    let (a, b, _schema) = two_servers().await;
    let one = Member {
        server_id: "server-a".into(),
        url: "http://127.0.0.1:1".into(),
    };
    let two = Member {
        server_id: "server-b".into(),
        url: "http://127.0.0.1:2".into(),
    };
    a.heartbeat(&one, LONG).await.unwrap();
    let members = b.heartbeat(&two, SHORT).await.unwrap();
    assert_eq!(members, vec![one.clone(), two.clone()]);
    a.acquire("df-1", "server-a", LONG).await.unwrap().unwrap();
    a.leave("server-a").await.unwrap();
    assert!(!b.lease("df-1").await.unwrap().unwrap().live);
    // server-b's own membership lapses too when it stops heartbeating.
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let members = a.heartbeat(&one, LONG).await.unwrap();
        if members == vec![one.clone()] {
            break;
        }
        assert!(Instant::now() < deadline, "{members:?}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn a_unique_id_binds_one_pipeline_across_servers() {
    let (a, b, _schema) = two_servers().await;
    let (first, second) = tokio::join!(
        a.claim_unique_id("111111111111", "nightly", "token", "df-a"),
        b.claim_unique_id("111111111111", "nightly", "token", "df-b"),
    );
    let (first, second) = (first.unwrap(), second.unwrap());
    assert_eq!(first, second);
    assert!(first == "df-a" || first == "df-b");
    // Another account, or another name, is another pipeline.
    assert_eq!(
        a.claim_unique_id("222222222222", "nightly", "token", "df-c")
            .await
            .unwrap(),
        "df-c"
    );
    assert_eq!(
        a.claim_unique_id("111111111111", "weekly", "token", "df-d")
            .await
            .unwrap(),
        "df-d"
    );
    b.free_unique_id(&first).await.unwrap();
    assert_eq!(
        a.claim_unique_id("111111111111", "nightly", "token", "df-e")
            .await
            .unwrap(),
        "df-e"
    );
}

#[tokio::test]
async fn tasks_and_waiting_work_are_found_from_any_server() {
    let (a, b, _schema) = two_servers().await;
    stored_pipeline(&a, "df-1").await;
    let instance = instance_record("df-1", "Copy", at((2024, 3, 1), (0, 0, 0), 0));
    let waiting = attempt_record(&instance, 1);
    let mut running = attempt_record(&instance, 2);
    running.status = Status::Running;
    running.task_id = Some("task-7".into());
    a.commit(&ChangeSet {
        instances: vec![instance.clone()],
        attempts: vec![waiting.clone(), running],
        ..ChangeSet::default()
    })
    .await
    .unwrap();
    assert_eq!(
        b.task_pipeline("task-7").await.unwrap().as_deref(),
        Some("df-1")
    );
    assert_eq!(b.task_pipeline("task-8").await.unwrap(), None);
    assert_eq!(
        b.ready_pipelines(&waiting.worker_group).await.unwrap(),
        vec!["df-1".to_owned()]
    );
    assert!(b.ready_pipelines("other-group").await.unwrap().is_empty());
}

#[tokio::test]
async fn a_commit_leaving_work_for_runners_wakes_the_other_servers() {
    let (a, b, _schema) = two_servers().await;
    stored_pipeline(&a, "df-1").await;
    let wakes = Arc::new(AtomicUsize::new(0));
    let counter = Arc::clone(&wakes);
    b.on_work(Box::new(move || {
        counter.fetch_add(1, Ordering::SeqCst);
    }));
    // The first wake comes when the listener connects.
    let deadline = Instant::now() + Duration::from_secs(10);
    while wakes.load(Ordering::SeqCst) == 0 {
        assert!(Instant::now() < deadline, "the listener never connected");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let before = wakes.load(Ordering::SeqCst);
    // A commit without waiting work signals nothing.
    a.commit(&one_instance("df-1", 1)).await.unwrap();
    let instance = instance_record("df-1", "Copy", at((2024, 3, 2), (0, 0, 0), 0));
    a.commit(&ChangeSet {
        attempts: vec![attempt_record(&instance, 1)],
        instances: vec![instance],
        ..ChangeSet::default()
    })
    .await
    .unwrap();
    while wakes.load(Ordering::SeqCst) == before {
        assert!(Instant::now() < deadline, "no wake-up after the commit");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    // One signal for the one commit with waiting work.
    assert_eq!(wakes.load(Ordering::SeqCst), before + 1);
}

#[tokio::test]
async fn waiting_work_names_each_pipeline_once_in_id_order() {
    let (a, b, _schema) = two_servers().await;
    let mut changes = ChangeSet::default();
    for (pipeline, waiting, other_group, running) in
        [("df-3", 2, 1, 0), ("df-1", 3, 0, 1), ("df-2", 0, 0, 2)]
    {
        stored_pipeline(&a, pipeline).await;
        let attempts = [
            (waiting, "g", Status::WaitingForRunner),
            (other_group, "h", Status::WaitingForRunner),
            (running, "g", Status::Running),
        ];
        let mut day = 0;
        for (count, group, status) in attempts {
            for _ in 0..count {
                day += 1;
                let instance = instance_record(pipeline, "Copy", at((2024, 3, day), (0, 0, 0), 0));
                let mut attempt = attempt_record(&instance, 1);
                attempt.worker_group = group.into();
                attempt.status = status;
                changes.instances.push(instance);
                changes.attempts.push(attempt);
            }
        }
    }
    a.commit(&changes).await.unwrap();
    assert_eq!(b.ready_pipelines("g").await.unwrap(), ["df-1", "df-3"]);
    assert_eq!(b.ready_pipelines("h").await.unwrap(), ["df-3"]);
    assert!(b.ready_pipelines("nobody").await.unwrap().is_empty());
}
