//! The store conformance suite: one set of checks that every [`Store`] backend must pass, so the
//! engine behaves the same on the in-memory store, SQLite and every future backend.
//!
//! A backend runs it by instantiating [`store_conformance_suite!`](crate::store_conformance_suite)
//! in a test module, with an expression that makes a fresh, empty store. The expression is
//! evaluated inside each async test, so it may `.await`, and its value must dereference to a
//! store: a `Box`, or a guard that also owns the store's temporary directory.
//!
//! ```ignore
//! mod sqlite_file {
//!     sluice_engine::store_conformance_suite!(TempStore::new().await);
//! }
//! ```
//!
//! The caller's crate needs `tokio` with the `macros` and `rt` features, and this crate with
//! its `conformance` feature, which production builds leave off:
//!
//! ```toml
//! [dev-dependencies]
//! sluice-engine = { workspace = true, features = ["conformance"] }
//! ```
//!
//! Besides what the [`Store`] trait documents, the suite fixes these write rules:
//!
//! - a pipeline record's `version` must exceed the stored one (and any earlier copy in the same
//!   change set), otherwise [`StoreError::Conflict`] naming the pipeline: that is how two
//!   writers of one pipeline find out about each other;
//! - an instance or attempt whose pipeline is neither stored nor in the same change set is a
//!   [`StoreError::Conflict`] naming the record (the pipeline was deleted meanwhile);
//! - a rejected change set changes nothing;
//! - when one change set holds the same record twice, the later copy wins;
//! - records of different pipelines never mix, even when their ids are equal.
//!
//! The record builders here are the only place the suite constructs records, so a field added
//! to a record needs setting in one place only.

use std::collections::BTreeMap;

use chrono::{NaiveDate, NaiveDateTime};
use sluice_model::{
    Field, ParameterAttribute, ParameterObject, ParameterValue, PipelineDefinition, PipelineObject,
    PipelineState, Status, TaskResult,
};

use crate::store::{
    AttemptRecord, ChangeSet, InstanceKey, InstanceQuery, InstanceRecord, PipelineRecord, Store,
    StoreError, id_hash,
};

/// Instantiates the conformance suite: one `#[tokio::test]` per check in
/// [`crate::conformance`]. `$make` is an expression giving a fresh, empty store per test (see
/// the module documentation).
#[macro_export]
macro_rules! store_conformance_suite {
    ($make:expr) => {
        $crate::store_conformance_suite!(@checks $make;
            empty_store_holds_nothing,
            empty_change_set_changes_nothing,
            commit_round_trips_every_field,
            minimal_records_round_trip,
            upsert_replaces_the_whole_record,
            later_copy_in_one_change_set_wins,
            instances_and_attempts_commit_without_their_pipeline_record,
            pipeline_version_must_increase,
            versions_beyond_i64_round_trip,
            rejected_change_set_applies_nothing,
            records_of_a_missing_pipeline_are_rejected,
            pipelines_are_ordered_by_id,
            instances_are_ordered_by_start_then_id,
            attempts_are_ordered_by_instance_then_number,
            pipelines_do_not_mix,
            delete_removes_the_pipeline_and_everything_it_owns,
            delete_of_an_unknown_pipeline_succeeds,
            deleted_pipeline_can_be_created_again,
            ten_thousand_instances_round_trip_in_one_commit,
            concurrent_commits_to_different_pipelines_all_land,
            concurrent_writers_of_one_pipeline_conflict,
            queries_select_by_status_component_and_start,
            queries_page_after_a_key,
            queries_that_select_nothing_return_nothing,
            queries_see_upserts_and_deletes,
            instances_are_found_by_id_hash,
        );
    };
    (@checks $make:expr; $($check:ident),* $(,)?) => {
        $(
            #[::tokio::test]
            async fn $check() {
                let fixture = $make;
                $crate::conformance::$check(&*fixture).await;
            }
        )*
    };
}

/// `YYYY-MM-DD hh:mm:ss` plus nanoseconds.
pub fn at(date: (i32, u32, u32), time: (u32, u32, u32), nanos: u32) -> NaiveDateTime {
    NaiveDate::from_ymd_opt(date.0, date.1, date.2)
        .and_then(|d| d.and_hms_nano_opt(time.0, time.1, time.2, nanos))
        .expect("a valid date and time")
}

fn def(objects: &[(&str, &str)]) -> PipelineDefinition {
    PipelineDefinition {
        pipeline_objects: objects
            .iter()
            .map(|(id, kind)| PipelineObject {
                id: (*id).to_owned(),
                name: format!("{id} name"),
                fields: vec![
                    Field::string("type", *kind),
                    Field::reference("schedule", "DailySchedule"),
                    Field::string("command", "echo \"#{@scheduledStartTime}\" \\ ünïcødé ✓\n"),
                ],
            })
            .collect(),
        parameter_objects: vec![ParameterObject {
            id: "myInput".to_owned(),
            attributes: vec![
                ParameterAttribute {
                    key: "type".to_owned(),
                    string_value: "AWS::S3::ObjectKey".to_owned(),
                },
                ParameterAttribute {
                    key: "default".to_owned(),
                    string_value: "s3://bucket/in".to_owned(),
                },
            ],
        }],
        parameter_values: vec![
            ParameterValue {
                id: "myInput".to_owned(),
                string_value: "s3://bucket/a".to_owned(),
            },
            ParameterValue {
                id: "myInput".to_owned(),
                string_value: "s3://bucket/b".to_owned(),
            },
        ],
    }
}

/// A pipeline record with every field set, including both definitions and runtime fields.
pub fn pipeline_record(pipeline_id: &str, version: u64) -> PipelineRecord {
    PipelineRecord {
        pipeline_id: pipeline_id.to_owned(),
        name: format!("{pipeline_id} — nightly"),
        unique_id: format!("token-{pipeline_id}"),
        account_id: "123456789012".to_owned(),
        state: PipelineState::Scheduled,
        created_at: at((2024, 2, 29), (23, 59, 58), 123_456_789),
        definition: Some(def(&[
            ("Copy", "CopyActivity"),
            ("DailySchedule", "Schedule"),
        ])),
        active_definition: Some(def(&[("DailySchedule", "Schedule")])),
        fields: BTreeMap::from([
            (
                "@firstActivationTime".to_owned(),
                "2024-03-01T00:00:00".to_owned(),
            ),
            ("tag:team".to_owned(), "data \"eng\"".to_owned()),
            ("empty".to_owned(), String::new()),
        ]),
        version,
    }
}

/// A pipeline record with every optional field empty.
pub fn minimal_pipeline_record(pipeline_id: &str, version: u64) -> PipelineRecord {
    PipelineRecord {
        pipeline_id: pipeline_id.to_owned(),
        name: pipeline_id.to_owned(),
        unique_id: String::new(),
        account_id: "local".to_owned(),
        state: PipelineState::Pending,
        created_at: at((2024, 1, 1), (0, 0, 0), 0),
        definition: None,
        active_definition: None,
        fields: BTreeMap::new(),
        version,
    }
}

/// An instance of `component_id` starting at `start` (one-day interval), with its AWS-style id.
pub fn instance_record(
    pipeline_id: &str,
    component_id: &str,
    start: NaiveDateTime,
) -> InstanceRecord {
    InstanceRecord {
        pipeline_id: pipeline_id.to_owned(),
        instance_id: format!("@{component_id}_{}", start.format("%Y-%m-%dT%H:%M:%S%.f")),
        component_id: component_id.to_owned(),
        status: Status::WaitingOnDependencies,
        scheduled_start: start,
        scheduled_end: start + chrono::Duration::days(1),
        actual_start: None,
        actual_end: None,
        attempt_count: 0,
        fields: BTreeMap::new(),
    }
}

/// An instance with every optional field set and multi-valued runtime fields.
pub fn full_instance_record(
    pipeline_id: &str,
    component_id: &str,
    start: NaiveDateTime,
) -> InstanceRecord {
    InstanceRecord {
        status: Status::Failed,
        actual_start: Some(start + chrono::Duration::nanoseconds(1)),
        actual_end: Some(start + chrono::Duration::hours(3)),
        attempt_count: 3,
        fields: BTreeMap::from([
            (
                "@cascadeFailedOn".to_owned(),
                vec![
                    "@A_2024-01-01T00:00:00".to_owned(),
                    "@B_2024-01-01T00:00:00".to_owned(),
                ],
            ),
            (
                "errorMessage".to_owned(),
                vec!["line 1\nline 2 \"quoted\" \\ ✗".to_owned()],
            ),
            ("@waitingOn".to_owned(), Vec::new()),
        ]),
        ..instance_record(pipeline_id, component_id, start)
    }
}

/// Attempt `number` of `instance`, with no optional field set.
pub fn attempt_record(instance: &InstanceRecord, number: u32) -> AttemptRecord {
    AttemptRecord {
        pipeline_id: instance.pipeline_id.clone(),
        attempt_id: format!("{}_Attempt={number}", instance.instance_id),
        instance_id: instance.instance_id.clone(),
        number,
        status: Status::WaitingForRunner,
        worker_group: "wg-default".to_owned(),
        task_id: None,
        hostname: None,
        taskrunner_id: None,
        created_at: instance.scheduled_end + chrono::Duration::seconds(i64::from(number)),
        started_at: None,
        ended_at: None,
        lease_expires_at: None,
        result: None,
        fields: BTreeMap::new(),
    }
}

/// Attempt `number` of `instance` with every optional field set and a failed result.
pub fn full_attempt_record(instance: &InstanceRecord, number: u32) -> AttemptRecord {
    let base = attempt_record(instance, number);
    AttemptRecord {
        status: Status::Failed,
        task_id: Some(format!("task-{number}")),
        hostname: Some("worker-1.example".to_owned()),
        taskrunner_id: Some("runner-7".to_owned()),
        started_at: Some(base.created_at + chrono::Duration::milliseconds(1500)),
        ended_at: Some(base.created_at + chrono::Duration::minutes(5)),
        lease_expires_at: Some(base.created_at + chrono::Duration::minutes(15)),
        result: Some(TaskResult {
            error_stack_trace: Some("at step 1\nat step 2".to_owned()),
            ..TaskResult::failed("Err-1", "exit code 2: ✗ \"bad\"")
        }),
        fields: BTreeMap::from([
            (
                "reportProgressTime".to_owned(),
                vec!["2024-01-02T00:01:00".to_owned()],
            ),
            (
                "@logLocation".to_owned(),
                vec!["s3://logs/a".to_owned(), "s3://logs/b".to_owned()],
            ),
        ]),
        ..base
    }
}

/// Panics with the first difference rather than two whole lists, which for thousands of records
/// would bury the point.
fn assert_same<T: PartialEq + std::fmt::Debug>(actual: &[T], expected: &[T], what: &str) {
    if let Some(i) = (0..actual.len().min(expected.len())).find(|&i| actual[i] != expected[i]) {
        panic!(
            "{what}: first difference at position {i}:\n  read back: {:?}\n   expected: {:?}",
            actual[i], expected[i]
        );
    }
    assert_eq!(
        actual.len(),
        expected.len(),
        "{what}: read back {} records, expected {}",
        actual.len(),
        expected.len()
    );
}

fn assert_conflict_naming(result: Result<(), StoreError>, name: &str) {
    match result {
        Err(StoreError::Conflict(message)) => assert!(
            message.contains(name),
            "the conflict should name {name}: {message}"
        ),
        other => panic!("expected a conflict naming {name}, got {other:?}"),
    }
}

async fn commit(store: &dyn Store, changes: ChangeSet) {
    if let Err(error) = store.commit(&changes).await {
        panic!("commit failed: {error}");
    }
}

async fn instances_of(store: &dyn Store, pipeline_id: &str) -> Vec<InstanceRecord> {
    store.instances(pipeline_id).await.expect("instances")
}

async fn attempts_of(store: &dyn Store, pipeline_id: &str) -> Vec<AttemptRecord> {
    store.attempts(pipeline_id).await.expect("attempts")
}

fn day(n: u32) -> NaiveDateTime {
    at((2024, 1, n), (0, 0, 0), 0)
}

pub async fn empty_store_holds_nothing(store: &dyn Store) {
    assert_eq!(store.pipelines().await.unwrap(), Vec::new());
    assert_eq!(store.pipeline("df-none").await.unwrap(), None);
    assert_eq!(instances_of(store, "df-none").await, Vec::new());
    assert_eq!(attempts_of(store, "df-none").await, Vec::new());
}

pub async fn empty_change_set_changes_nothing(store: &dyn Store) {
    commit(store, ChangeSet::default()).await;
    assert_eq!(store.pipelines().await.unwrap(), Vec::new());
    let p = pipeline_record("df-1", 1);
    commit(
        store,
        ChangeSet {
            pipelines: vec![p.clone()],
            ..ChangeSet::default()
        },
    )
    .await;
    commit(store, ChangeSet::default()).await;
    assert_eq!(store.pipelines().await.unwrap(), vec![p]);
}

pub async fn commit_round_trips_every_field(store: &dyn Store) {
    let p = pipeline_record("df-1", 7);
    let i1 = full_instance_record("df-1", "Copy", day(1));
    let i2 = instance_record("df-1", "Copy", day(2));
    let attempts = vec![
        full_attempt_record(&i1, 1),
        AttemptRecord {
            result: Some(TaskResult::finished()),
            ..full_attempt_record(&i1, 2)
        },
        attempt_record(&i2, 1),
    ];
    commit(
        store,
        ChangeSet {
            pipelines: vec![p.clone()],
            instances: vec![i2.clone(), i1.clone()],
            attempts: attempts.clone(),
        },
    )
    .await;
    assert_eq!(store.pipeline("df-1").await.unwrap(), Some(p.clone()));
    assert_eq!(store.pipelines().await.unwrap(), vec![p]);
    assert_eq!(instances_of(store, "df-1").await, vec![i1, i2]);
    assert_eq!(attempts_of(store, "df-1").await, attempts);
}

pub async fn minimal_records_round_trip(store: &dyn Store) {
    let p = minimal_pipeline_record("df-min", 0);
    let i = instance_record("df-min", "A", day(1));
    let a = attempt_record(&i, 1);
    commit(
        store,
        ChangeSet {
            pipelines: vec![p.clone()],
            instances: vec![i.clone()],
            attempts: vec![a.clone()],
        },
    )
    .await;
    assert_eq!(store.pipeline("df-min").await.unwrap(), Some(p));
    assert_eq!(instances_of(store, "df-min").await, vec![i]);
    assert_eq!(attempts_of(store, "df-min").await, vec![a]);
}

pub async fn upsert_replaces_the_whole_record(store: &dyn Store) {
    let p = pipeline_record("df-1", 1);
    let i = full_instance_record("df-1", "A", day(1));
    let a = full_attempt_record(&i, 1);
    commit(
        store,
        ChangeSet {
            pipelines: vec![p.clone()],
            instances: vec![i.clone()],
            attempts: vec![a.clone()],
        },
    )
    .await;

    // Options cleared, fields removed, indexed columns (status, times) changed.
    let p2 = PipelineRecord {
        state: PipelineState::Inactive,
        definition: None,
        fields: BTreeMap::new(),
        version: 2,
        ..p
    };
    let i2 = InstanceRecord {
        status: Status::Running,
        scheduled_start: day(5),
        actual_end: None,
        fields: BTreeMap::from([("k".to_owned(), vec!["v".to_owned()])]),
        ..i
    };
    let a2 = AttemptRecord {
        status: Status::Running,
        number: 4,
        result: None,
        lease_expires_at: None,
        fields: BTreeMap::new(),
        ..a
    };
    commit(
        store,
        ChangeSet {
            pipelines: vec![p2.clone()],
            instances: vec![i2.clone()],
            attempts: vec![a2.clone()],
        },
    )
    .await;
    assert_eq!(store.pipelines().await.unwrap(), vec![p2]);
    assert_eq!(instances_of(store, "df-1").await, vec![i2]);
    assert_eq!(attempts_of(store, "df-1").await, vec![a2]);
}

pub async fn later_copy_in_one_change_set_wins(store: &dyn Store) {
    let p1 = pipeline_record("df-1", 1);
    let p2 = PipelineRecord {
        name: "renamed".to_owned(),
        version: 2,
        ..p1.clone()
    };
    let i1 = instance_record("df-1", "A", day(1));
    let i2 = InstanceRecord {
        status: Status::Finished,
        ..i1.clone()
    };
    let a1 = attempt_record(&i1, 1);
    let a2 = AttemptRecord {
        status: Status::Finished,
        ..a1.clone()
    };
    commit(
        store,
        ChangeSet {
            pipelines: vec![p1, p2.clone()],
            instances: vec![i1, i2.clone()],
            attempts: vec![a1, a2.clone()],
        },
    )
    .await;
    assert_eq!(store.pipelines().await.unwrap(), vec![p2]);
    assert_eq!(instances_of(store, "df-1").await, vec![i2]);
    assert_eq!(attempts_of(store, "df-1").await, vec![a2]);
}

pub async fn instances_and_attempts_commit_without_their_pipeline_record(store: &dyn Store) {
    let p = pipeline_record("df-1", 1);
    commit(
        store,
        ChangeSet {
            pipelines: vec![p.clone()],
            ..ChangeSet::default()
        },
    )
    .await;
    let i = instance_record("df-1", "A", day(1));
    let a = attempt_record(&i, 1);
    commit(
        store,
        ChangeSet {
            instances: vec![i.clone()],
            attempts: vec![a.clone()],
            ..ChangeSet::default()
        },
    )
    .await;
    assert_eq!(store.pipeline("df-1").await.unwrap(), Some(p));
    assert_eq!(instances_of(store, "df-1").await, vec![i]);
    assert_eq!(attempts_of(store, "df-1").await, vec![a]);
}

pub async fn pipeline_version_must_increase(store: &dyn Store) {
    let only = |version| ChangeSet {
        pipelines: vec![pipeline_record("df-1", version)],
        ..ChangeSet::default()
    };
    commit(store, only(1)).await;
    commit(store, only(2)).await;
    commit(store, only(10)).await;
    assert_conflict_naming(store.commit(&only(10)).await, "df-1");
    assert_conflict_naming(store.commit(&only(3)).await, "df-1");
    assert_eq!(
        store.pipeline("df-1").await.unwrap(),
        Some(pipeline_record("df-1", 10))
    );

    // Within one change set, a later copy must also advance on the earlier one.
    let twice = ChangeSet {
        pipelines: vec![pipeline_record("df-1", 12), pipeline_record("df-1", 11)],
        ..ChangeSet::default()
    };
    assert_conflict_naming(store.commit(&twice).await, "df-1");
    assert_eq!(
        store.pipeline("df-1").await.unwrap(),
        Some(pipeline_record("df-1", 10))
    );
}

pub async fn versions_beyond_i64_round_trip(store: &dyn Store) {
    let high = (1u64 << 63) + 5;
    commit(
        store,
        ChangeSet {
            pipelines: vec![pipeline_record("df-1", high)],
            ..ChangeSet::default()
        },
    )
    .await;
    assert_eq!(
        store.pipeline("df-1").await.unwrap().map(|p| p.version),
        Some(high)
    );
    // Ordering must hold across the top bit.
    assert_conflict_naming(
        store
            .commit(&ChangeSet {
                pipelines: vec![pipeline_record("df-1", 3)],
                ..ChangeSet::default()
            })
            .await,
        "df-1",
    );
    commit(
        store,
        ChangeSet {
            pipelines: vec![pipeline_record("df-1", u64::MAX)],
            ..ChangeSet::default()
        },
    )
    .await;
    assert_eq!(
        store.pipeline("df-1").await.unwrap().map(|p| p.version),
        Some(u64::MAX)
    );
}

/// The realistic failure: an engine step computed from a stale pipeline (another writer moved
/// it on) must not land any of its instances or attempts.
pub async fn rejected_change_set_applies_nothing(store: &dyn Store) {
    let p = pipeline_record("df-1", 5);
    let i = instance_record("df-1", "A", day(1));
    commit(
        store,
        ChangeSet {
            pipelines: vec![p.clone()],
            instances: vec![i.clone()],
            ..ChangeSet::default()
        },
    )
    .await;

    let changed = InstanceRecord {
        status: Status::Running,
        ..i.clone()
    };
    let new_instances: Vec<InstanceRecord> = (2..=20)
        .map(|d| instance_record("df-1", "A", day(d)))
        .collect();
    let stale = ChangeSet {
        // A new pipeline first, so a store applying records one by one would already have
        // written it when it meets the stale one.
        pipelines: vec![
            pipeline_record("df-0", 1),
            PipelineRecord {
                state: PipelineState::Finished,
                ..pipeline_record("df-1", 5)
            },
        ],
        instances: std::iter::once(changed)
            .chain(new_instances.iter().cloned())
            .collect(),
        attempts: new_instances.iter().map(|i| attempt_record(i, 1)).collect(),
    };
    assert_conflict_naming(store.commit(&stale).await, "df-1");

    assert_eq!(store.pipelines().await.unwrap(), vec![p]);
    assert_eq!(instances_of(store, "df-1").await, vec![i]);
    assert_eq!(attempts_of(store, "df-1").await, Vec::new());
    assert_eq!(instances_of(store, "df-0").await, Vec::new());
}

pub async fn records_of_a_missing_pipeline_are_rejected(store: &dyn Store) {
    let p = pipeline_record("df-new", 1);
    let i = instance_record("df-new", "A", day(1));
    let orphan = instance_record("df-gone", "A", day(1));
    let rejected = ChangeSet {
        pipelines: vec![p.clone()],
        instances: vec![i.clone(), orphan.clone()],
        attempts: vec![attempt_record(&i, 1)],
    };
    assert_conflict_naming(store.commit(&rejected).await, "df-gone");
    assert_eq!(store.pipelines().await.unwrap(), Vec::new());
    assert_eq!(instances_of(store, "df-new").await, Vec::new());
    assert_eq!(instances_of(store, "df-gone").await, Vec::new());

    let orphan_attempt = ChangeSet {
        pipelines: vec![p.clone()],
        instances: vec![i.clone()],
        attempts: vec![attempt_record(&orphan, 1)],
    };
    assert_conflict_naming(store.commit(&orphan_attempt).await, "df-gone");
    assert_eq!(store.pipelines().await.unwrap(), Vec::new());

    // The same records are accepted once their pipeline exists.
    commit(
        store,
        ChangeSet {
            pipelines: vec![p.clone()],
            instances: vec![i.clone()],
            ..ChangeSet::default()
        },
    )
    .await;
    assert_eq!(instances_of(store, "df-new").await, vec![i]);
}

pub async fn pipelines_are_ordered_by_id(store: &dyn Store) {
    let ids = ["df-b", "df-10", "df-a", "DF-Z", "df-1", "df-2", "df-é"];
    for id in ids {
        commit(
            store,
            ChangeSet {
                pipelines: vec![minimal_pipeline_record(id, 1)],
                ..ChangeSet::default()
            },
        )
        .await;
    }
    let mut expected: Vec<String> = ids.iter().map(|s| (*s).to_owned()).collect();
    expected.sort();
    let read: Vec<String> = store
        .pipelines()
        .await
        .unwrap()
        .into_iter()
        .map(|p| p.pipeline_id)
        .collect();
    assert_eq!(read, expected);
}

pub async fn instances_are_ordered_by_start_then_id(store: &dyn Store) {
    let p = minimal_pipeline_record("df-1", 1);
    let mut instances = vec![
        instance_record("df-1", "B", day(2)),
        instance_record("df-1", "A", day(2)),
        instance_record("df-1", "Z", day(1)),
        instance_record("df-1", "C", at((2024, 1, 1), (0, 0, 0), 500_000_000)),
        instance_record("df-1", "D", at((2024, 1, 1), (0, 0, 0), 123_456_789)),
        instance_record("df-1", "E", at((2023, 12, 31), (23, 59, 59), 999_999_999)),
        instance_record("df-1", "F", at((2024, 1, 10), (0, 0, 0), 0)),
        instance_record("df-1", "G", at((2024, 1, 9), (12, 0, 0), 0)),
    ];
    // Two commits, so ordering does not come from insertion order.
    let later = instances.split_off(4);
    commit(
        store,
        ChangeSet {
            pipelines: vec![p],
            instances: later,
            ..ChangeSet::default()
        },
    )
    .await;
    commit(
        store,
        ChangeSet {
            instances: instances.clone(),
            ..ChangeSet::default()
        },
    )
    .await;

    let read: Vec<String> = instances_of(store, "df-1")
        .await
        .into_iter()
        .map(|i| i.component_id)
        .collect();
    assert_eq!(read, ["E", "Z", "D", "C", "A", "B", "G", "F"]);
}

pub async fn attempts_are_ordered_by_instance_then_number(store: &dyn Store) {
    let p = minimal_pipeline_record("df-1", 1);
    let a = instance_record("df-1", "A", day(2));
    let b = instance_record("df-1", "B", day(1));
    let mut attempts = Vec::new();
    // Numbers past 9 catch a store that sorts numbers as text.
    for number in [3, 12, 1, 10, 2] {
        attempts.push(attempt_record(&b, number));
        attempts.push(attempt_record(&a, number));
    }
    commit(
        store,
        ChangeSet {
            pipelines: vec![p],
            instances: vec![a.clone(), b.clone()],
            attempts,
        },
    )
    .await;
    let read: Vec<(String, u32)> = attempts_of(store, "df-1")
        .await
        .into_iter()
        .map(|t| (t.instance_id, t.number))
        .collect();
    let mut expected = Vec::new();
    for instance in [&a, &b] {
        for number in [1, 2, 3, 10, 12] {
            expected.push((instance.instance_id.clone(), number));
        }
    }
    assert_eq!(read, expected);
}

pub async fn pipelines_do_not_mix(store: &dyn Store) {
    // Equal component ids and times give equal instance and attempt ids in both pipelines.
    let mut changes = ChangeSet::default();
    for pipeline_id in ["df-1", "df-2"] {
        changes.pipelines.push(pipeline_record(pipeline_id, 1));
        let i = InstanceRecord {
            fields: BTreeMap::from([("owner".to_owned(), vec![pipeline_id.to_owned()])]),
            ..instance_record(pipeline_id, "A", day(1))
        };
        changes.attempts.push(AttemptRecord {
            worker_group: pipeline_id.to_owned(),
            ..attempt_record(&i, 1)
        });
        changes.instances.push(i);
    }
    commit(store, changes.clone()).await;
    assert_eq!(
        changes.instances[0].instance_id,
        changes.instances[1].instance_id
    );

    for (n, pipeline_id) in ["df-1", "df-2"].into_iter().enumerate() {
        assert_eq!(
            store.pipeline(pipeline_id).await.unwrap(),
            Some(changes.pipelines[n].clone())
        );
        assert_eq!(
            instances_of(store, pipeline_id).await,
            vec![changes.instances[n].clone()]
        );
        assert_eq!(
            attempts_of(store, pipeline_id).await,
            vec![changes.attempts[n].clone()]
        );
    }

    // Updating one pipeline's instance leaves the other's alone.
    let updated = InstanceRecord {
        status: Status::Finished,
        ..changes.instances[0].clone()
    };
    commit(
        store,
        ChangeSet {
            instances: vec![updated.clone()],
            ..ChangeSet::default()
        },
    )
    .await;
    assert_eq!(instances_of(store, "df-1").await, vec![updated]);
    assert_eq!(
        instances_of(store, "df-2").await,
        vec![changes.instances[1].clone()]
    );
}

pub async fn delete_removes_the_pipeline_and_everything_it_owns(store: &dyn Store) {
    let mut changes = ChangeSet::default();
    for pipeline_id in ["df-1", "df-2"] {
        changes.pipelines.push(pipeline_record(pipeline_id, 1));
        for d in 1..=3 {
            let i = instance_record(pipeline_id, "A", day(d));
            changes.attempts.push(attempt_record(&i, 1));
            changes.attempts.push(attempt_record(&i, 2));
            changes.instances.push(i);
        }
    }
    commit(store, changes).await;

    store.delete_pipeline("df-1").await.unwrap();
    assert_eq!(store.pipeline("df-1").await.unwrap(), None);
    assert_eq!(instances_of(store, "df-1").await, Vec::new());
    assert_eq!(attempts_of(store, "df-1").await, Vec::new());
    let left: Vec<String> = store
        .pipelines()
        .await
        .unwrap()
        .into_iter()
        .map(|p| p.pipeline_id)
        .collect();
    assert_eq!(left, ["df-2"]);
    assert_eq!(instances_of(store, "df-2").await.len(), 3);
    assert_eq!(attempts_of(store, "df-2").await.len(), 6);

    // Records of a deleted pipeline are not accepted on their own any more.
    let late = instance_record("df-1", "A", day(4));
    assert_conflict_naming(
        store
            .commit(&ChangeSet {
                instances: vec![late],
                ..ChangeSet::default()
            })
            .await,
        "df-1",
    );
}

pub async fn delete_of_an_unknown_pipeline_succeeds(store: &dyn Store) {
    store.delete_pipeline("df-none").await.unwrap();
    commit(
        store,
        ChangeSet {
            pipelines: vec![pipeline_record("df-1", 1)],
            ..ChangeSet::default()
        },
    )
    .await;
    store.delete_pipeline("df-1").await.unwrap();
    store.delete_pipeline("df-1").await.unwrap();
    assert_eq!(store.pipelines().await.unwrap(), Vec::new());
}

pub async fn deleted_pipeline_can_be_created_again(store: &dyn Store) {
    let i = instance_record("df-1", "A", day(1));
    commit(
        store,
        ChangeSet {
            pipelines: vec![pipeline_record("df-1", 9)],
            instances: vec![i.clone()],
            attempts: vec![attempt_record(&i, 1)],
        },
    )
    .await;
    store.delete_pipeline("df-1").await.unwrap();

    // A fresh pipeline starts its versions again and inherits nothing.
    let p = minimal_pipeline_record("df-1", 1);
    commit(
        store,
        ChangeSet {
            pipelines: vec![p.clone()],
            ..ChangeSet::default()
        },
    )
    .await;
    assert_eq!(store.pipelines().await.unwrap(), vec![p]);
    assert_eq!(instances_of(store, "df-1").await, Vec::new());
    assert_eq!(attempts_of(store, "df-1").await, Vec::new());
}

pub async fn ten_thousand_instances_round_trip_in_one_commit(store: &dyn Store) {
    let start = day(1);
    let instances: Vec<InstanceRecord> = (0..10_000)
        .map(|n| {
            let when = start + chrono::Duration::minutes(15 * n);
            if n % 7 == 0 {
                full_instance_record("df-big", "Copy", when)
            } else {
                instance_record("df-big", "Copy", when)
            }
        })
        .collect();
    let attempts: Vec<AttemptRecord> = instances.iter().map(|i| attempt_record(i, 1)).collect();
    // Reversed, so order on reading comes from the store.
    let changes = ChangeSet {
        pipelines: vec![pipeline_record("df-big", 1)],
        instances: instances.iter().rev().cloned().collect(),
        attempts: attempts.iter().rev().cloned().collect(),
    };
    commit(store, changes).await;

    assert_same(
        &instances_of(store, "df-big").await,
        &instances,
        "instances",
    );
    let mut by_instance_id = attempts;
    by_instance_id.sort_by(|a, b| a.instance_id.cmp(&b.instance_id));
    assert_same(
        &attempts_of(store, "df-big").await,
        &by_instance_id,
        "attempts",
    );
}

pub async fn concurrent_commits_to_different_pipelines_all_land(store: &dyn Store) {
    let changes: Vec<ChangeSet> = (0..4)
        .map(|n| {
            let pipeline_id = format!("df-{n}");
            let instances: Vec<InstanceRecord> = (1..=25)
                .map(|d| instance_record(&pipeline_id, "A", day(d)))
                .collect();
            ChangeSet {
                pipelines: vec![pipeline_record(&pipeline_id, 1)],
                attempts: instances.iter().map(|i| attempt_record(i, 1)).collect(),
                instances,
            }
        })
        .collect();
    let (a, b, c, d) = tokio::join!(
        store.commit(&changes[0]),
        store.commit(&changes[1]),
        store.commit(&changes[2]),
        store.commit(&changes[3]),
    );
    for result in [a, b, c, d] {
        result.expect("concurrent commit");
    }
    for change in &changes {
        let pipeline_id = &change.pipelines[0].pipeline_id;
        assert_eq!(
            store.pipeline(pipeline_id).await.unwrap(),
            Some(change.pipelines[0].clone())
        );
        assert_same(
            &instances_of(store, pipeline_id).await,
            &change.instances,
            "instances",
        );
        assert_eq!(attempts_of(store, pipeline_id).await.len(), 25);
    }
}

/// Two schedulers both read version 1 and each write version 2: exactly one wins, and only the
/// winner's instances land.
pub async fn concurrent_writers_of_one_pipeline_conflict(store: &dyn Store) {
    commit(
        store,
        ChangeSet {
            pipelines: vec![pipeline_record("df-1", 1)],
            ..ChangeSet::default()
        },
    )
    .await;
    let writer = |component: &str| ChangeSet {
        pipelines: vec![PipelineRecord {
            name: component.to_owned(),
            ..pipeline_record("df-1", 2)
        }],
        instances: vec![instance_record("df-1", component, day(1))],
        ..ChangeSet::default()
    };
    let (first, second) = (writer("A"), writer("B"));
    let (r1, r2) = tokio::join!(store.commit(&first), store.commit(&second));
    let winner = match (r1, r2) {
        (Ok(()), Err(StoreError::Conflict(_))) => first,
        (Err(StoreError::Conflict(_)), Ok(())) => second,
        other => panic!("expected exactly one commit to win, got {other:?}"),
    };
    assert_eq!(
        store.pipeline("df-1").await.unwrap(),
        Some(winner.pipelines[0].clone())
    );
    assert_eq!(instances_of(store, "df-1").await, winner.instances);
}

/// Instances for the query checks: five components (byte order puts `B` before `a`, and `Ünï`
/// last), starts over ten days with equal starts across components, starts a nanosecond either
/// side of midnight, and statuses cycling through eight values, so that every filter splits
/// them unevenly.
fn query_fixture(pipeline_id: &str) -> Vec<InstanceRecord> {
    const STATUSES: [Status; 8] = [
        Status::Finished,
        Status::Failed,
        Status::WaitingOnDependencies,
        Status::WaitingForRunner,
        Status::Running,
        Status::Canceled,
        Status::Paused,
        Status::TimedOut,
    ];
    let components = ["A", "B", "a", "Ünï", "Z-9"];
    let mut instances = Vec::new();
    let mut n = 0;
    for d in 1..=10 {
        let starts = [
            day(d),
            at((2024, 1, d), (0, 0, 0), 1),
            at((2024, 1, d), (23, 59, 59), 999_999_999),
        ];
        for (k, start) in starts.into_iter().enumerate() {
            for (c, component) in components.iter().enumerate() {
                if (d as usize + k + c).is_multiple_of(3) {
                    continue;
                }
                instances.push(InstanceRecord {
                    status: STATUSES[n % STATUSES.len()],
                    ..instance_record(pipeline_id, component, start)
                });
                n += 1;
            }
        }
    }
    instances
}

/// Commits the fixture to `df-q` and, with the same ids and other statuses, to `df-other`.
async fn commit_query_fixture(store: &dyn Store) -> Vec<InstanceRecord> {
    let instances = query_fixture("df-q");
    let others: Vec<InstanceRecord> = query_fixture("df-other")
        .into_iter()
        .map(|i| InstanceRecord {
            status: Status::Finished,
            ..i
        })
        .collect();
    // Out of order, in two commits, so no store can pass by insertion order.
    let (first, second): (Vec<_>, Vec<_>) = instances
        .iter()
        .rev()
        .cloned()
        .enumerate()
        .partition(|(n, _)| n.is_multiple_of(2));
    for (part, pipelines) in [
        (
            first,
            vec![
                minimal_pipeline_record("df-q", 1),
                minimal_pipeline_record("df-other", 1),
            ],
        ),
        (second, Vec::new()),
    ] {
        commit(
            store,
            ChangeSet {
                pipelines,
                instances: part.into_iter().map(|(_, i)| i).collect(),
                ..ChangeSet::default()
            },
        )
        .await;
    }
    commit(
        store,
        ChangeSet {
            instances: others,
            ..ChangeSet::default()
        },
    )
    .await;
    let mut sorted = instances;
    sorted.sort_by_key(InstanceKey::of);
    sorted
}

async fn query(store: &dyn Store, pipeline_id: &str, query: &InstanceQuery) -> Vec<InstanceRecord> {
    store
        .query_instances(pipeline_id, query)
        .await
        .unwrap_or_else(|e| panic!("{query:?}: {e}"))
}

fn ids(instances: &[InstanceRecord]) -> Vec<&str> {
    instances.iter().map(|i| i.instance_id.as_str()).collect()
}

pub async fn queries_select_by_status_component_and_start(store: &dyn Store) {
    let all = commit_query_fixture(store).await;
    let statuses: [Option<Vec<Status>>; 5] = [
        None,
        Some(vec![Status::Finished]),
        Some(vec![Status::Failed, Status::Finished]),
        Some(vec![
            Status::WaitingOnDependencies,
            Status::WaitingForRunner,
            Status::Running,
            Status::Paused,
            Status::Skipped,
        ]),
        Some(Status::ALL.to_vec()),
    ];
    let components: [Option<Vec<&str>>; 5] = [
        None,
        Some(vec!["a"]),
        Some(vec!["B", "Ünï"]),
        Some(vec!["Z-9", "A", "a"]),
        Some(vec!["missing"]),
    ];
    let ranges = [
        (None, None),
        (Some(day(3)), None),
        (None, Some(day(5))),
        (Some(at((2024, 1, 3), (0, 0, 0), 1)), Some(day(5))),
        (
            Some(day(2)),
            Some(at((2024, 1, 8), (23, 59, 59), 999_999_999)),
        ),
    ];
    for statuses in &statuses {
        for components in &components {
            for (start_from, start_before) in ranges {
                for limit in [usize::MAX, 4] {
                    let q = InstanceQuery {
                        statuses: statuses.clone(),
                        components: components
                            .as_ref()
                            .map(|c| c.iter().map(|s| (*s).to_owned()).collect()),
                        start_from,
                        start_before,
                        after: None,
                        limit,
                    };
                    let expected: Vec<InstanceRecord> = all
                        .iter()
                        .filter(|i| q.selects(i))
                        .take(limit)
                        .cloned()
                        .collect();
                    assert_same(
                        &query(store, "df-q", &q).await,
                        &expected,
                        &format!("{q:?}"),
                    );
                }
            }
        }
    }

    // The definition itself, on a few cases worked out by hand.
    let finished_a = InstanceQuery {
        statuses: Some(vec![Status::Finished]),
        components: Some(vec!["A".to_owned()]),
        ..InstanceQuery::default()
    };
    let expected: Vec<&str> = all
        .iter()
        .filter(|i| i.status == Status::Finished && i.component_id == "A")
        .map(|i| i.instance_id.as_str())
        .collect();
    assert!(!expected.is_empty());
    assert_eq!(ids(&query(store, "df-q", &finished_a).await), expected);
    let day_two = InstanceQuery {
        start_from: Some(day(2)),
        start_before: Some(day(3)),
        ..InstanceQuery::default()
    };
    let read = query(store, "df-q", &day_two).await;
    assert!(
        read.iter()
            .all(|i| i.scheduled_start.date() == day(2).date())
    );
    assert_eq!(
        read.len(),
        all.iter()
            .filter(|i| i.scheduled_start.date() == day(2).date())
            .count()
    );
    // Equal starts come in id order, which is byte order.
    let midnight: Vec<&str> = read
        .iter()
        .filter(|i| i.scheduled_start == day(2))
        .map(|i| i.component_id.as_str())
        .collect();
    assert_eq!(
        midnight,
        ["A", "B", "Z-9", "a", "Ünï"]
            .iter()
            .copied()
            .filter(|c| midnight.contains(c))
            .collect::<Vec<_>>()
    );
    assert!(midnight.len() >= 3, "{midnight:?}");
}

pub async fn queries_page_after_a_key(store: &dyn Store) {
    let all = commit_query_fixture(store).await;
    let filters = [
        InstanceQuery::default(),
        InstanceQuery {
            statuses: Some(vec![Status::Finished, Status::Running, Status::Paused]),
            ..InstanceQuery::default()
        },
        InstanceQuery {
            components: Some(vec!["a".to_owned(), "B".to_owned()]),
            start_from: Some(day(4)),
            ..InstanceQuery::default()
        },
        InstanceQuery {
            statuses: Some(vec![Status::Failed]),
            components: Some(vec!["A".to_owned(), "Ünï".to_owned()]),
            start_before: Some(day(9)),
            ..InstanceQuery::default()
        },
    ];
    for filter in filters {
        let expected: Vec<InstanceRecord> =
            all.iter().filter(|i| filter.selects(i)).cloned().collect();
        assert!(!expected.is_empty(), "{filter:?}");
        for limit in [1, 3, 7] {
            let mut pages = Vec::new();
            let mut after = None;
            loop {
                let page = query(
                    store,
                    "df-q",
                    &InstanceQuery {
                        after: after.clone(),
                        limit,
                        ..filter.clone()
                    },
                )
                .await;
                assert!(page.len() <= limit);
                let Some(last) = page.last() else { break };
                after = Some(InstanceKey::of(last));
                pages.extend(page);
            }
            assert_same(&pages, &expected, &format!("pages of {limit}, {filter:?}"));
        }
    }
    // A key that is no instance's: between two starts, and within one start between two ids.
    let between = InstanceKey {
        scheduled_start: at((2024, 1, 5), (12, 0, 0), 0),
        instance_id: String::new(),
    };
    let within = InstanceKey {
        scheduled_start: day(5),
        instance_id: "@B".to_owned(),
    };
    for after in [between, within] {
        let q = InstanceQuery {
            after: Some(after),
            ..InstanceQuery::default()
        };
        let expected: Vec<InstanceRecord> = all.iter().filter(|i| q.selects(i)).cloned().collect();
        assert_same(
            &query(store, "df-q", &q).await,
            &expected,
            &format!("{q:?}"),
        );
    }
}

pub async fn queries_that_select_nothing_return_nothing(store: &dyn Store) {
    let all = commit_query_fixture(store).await;
    let nothing = [
        InstanceQuery {
            statuses: Some(Vec::new()),
            ..InstanceQuery::default()
        },
        InstanceQuery {
            components: Some(Vec::new()),
            ..InstanceQuery::default()
        },
        InstanceQuery {
            statuses: Some(vec![Status::Skipped, Status::Scheduled]),
            ..InstanceQuery::default()
        },
        InstanceQuery {
            start_from: Some(day(5)),
            start_before: Some(day(5)),
            ..InstanceQuery::default()
        },
        InstanceQuery {
            start_from: Some(day(6)),
            start_before: Some(day(5)),
            ..InstanceQuery::default()
        },
        InstanceQuery {
            limit: 0,
            ..InstanceQuery::default()
        },
        InstanceQuery {
            after: Some(InstanceKey::of(all.last().unwrap())),
            ..InstanceQuery::default()
        },
    ];
    for q in &nothing {
        assert_eq!(query(store, "df-q", q).await, Vec::new(), "{q:?}");
    }
    for pipeline_id in ["df-none", "df-"] {
        assert_eq!(
            query(store, pipeline_id, &InstanceQuery::default()).await,
            Vec::new()
        );
    }
    // The other pipeline's instances share every id and are all FINISHED.
    let finished = InstanceQuery {
        statuses: Some(vec![Status::Finished]),
        ..InstanceQuery::default()
    };
    assert_eq!(query(store, "df-other", &finished).await.len(), all.len());
    let read = query(store, "df-q", &finished).await;
    assert!(read.iter().all(|i| i.pipeline_id == "df-q"));
    assert!(read.len() < all.len());
}

pub async fn queries_see_upserts_and_deletes(store: &dyn Store) {
    let all = commit_query_fixture(store).await;
    let failed = InstanceQuery {
        statuses: Some(vec![Status::Failed]),
        ..InstanceQuery::default()
    };
    let before = query(store, "df-q", &failed).await;
    // Rerun: every failed instance waits again, and one instance moves to another start and
    // component (no store may assume that an instance keeps them).
    let mut moved = all[0].clone();
    moved.scheduled_start = day(20);
    moved.component_id = "Moved".to_owned();
    moved.status = Status::Failed;
    let mut changes: Vec<InstanceRecord> = before
        .iter()
        .map(|i| InstanceRecord {
            status: Status::WaitingOnDependencies,
            ..i.clone()
        })
        .collect();
    changes.push(moved.clone());
    commit(
        store,
        ChangeSet {
            instances: changes,
            ..ChangeSet::default()
        },
    )
    .await;
    assert_eq!(query(store, "df-q", &failed).await, vec![moved.clone()]);
    let late = InstanceQuery {
        start_from: Some(day(15)),
        ..InstanceQuery::default()
    };
    assert_eq!(query(store, "df-q", &late).await, vec![moved.clone()]);
    let by_component = |component: &str| InstanceQuery {
        components: Some(vec![component.to_owned()]),
        ..InstanceQuery::default()
    };
    assert_eq!(
        query(store, "df-q", &by_component("Moved")).await,
        vec![moved]
    );
    assert!(
        !query(store, "df-q", &by_component(&all[0].component_id))
            .await
            .iter()
            .any(|i| i.instance_id == all[0].instance_id)
    );
    store.delete_pipeline("df-q").await.unwrap();
    assert_eq!(
        query(store, "df-q", &InstanceQuery::default()).await,
        Vec::new()
    );
    assert_eq!(
        query(store, "df-other", &InstanceQuery::default())
            .await
            .len(),
        all.len()
    );
}

pub async fn instances_are_found_by_id_hash(store: &dyn Store) {
    // FNV-1a, fixed: markers written by one version are read by the next.
    assert_eq!(id_hash(""), 0xcbf2_9ce4_8422_2325);
    assert_eq!(id_hash("a"), 0xaf63_dc4c_8601_ec8c);
    let all = commit_query_fixture(store).await;
    for instance in all.iter().step_by(7) {
        let found = store
            .instances_with_id_hash("df-q", id_hash(&instance.instance_id))
            .await
            .unwrap();
        assert_eq!(found, vec![instance.clone()]);
    }
    let unknown = id_hash("@nobody_2024-01-01T00:00:00");
    assert_eq!(
        store.instances_with_id_hash("df-q", unknown).await.unwrap(),
        Vec::new()
    );
    // Hashes whose top bit is set, stored in signed columns, still match.
    let high = all
        .iter()
        .find(|i| id_hash(&i.instance_id) >> 63 == 1)
        .expect("an id whose hash has the top bit set");
    let low = all
        .iter()
        .find(|i| id_hash(&i.instance_id) >> 63 == 0)
        .expect("an id whose hash has the top bit clear");
    for instance in [high, low] {
        assert_eq!(
            store
                .instances_with_id_hash("df-q", id_hash(&instance.instance_id))
                .await
                .unwrap(),
            vec![instance.clone()]
        );
    }
    assert_eq!(
        store
            .instances_with_id_hash("df-none", id_hash(&high.instance_id))
            .await
            .unwrap(),
        Vec::new()
    );
}
