//! Dependencies between components, failureAndRerunMode, RERUN and MARK_FINISHED.

mod common;

use common::*;
use sluice_model::{Status, TaskResult};

fn chain(mode: &str) -> String {
    chain_of(mode, 1)
}

/// With two days the pipeline stays SCHEDULED after the first day (a FINISHED pipeline
/// refuses SetStatus, as AWS does).
fn chain_of(mode: &str, occurrences: u32) -> String {
    format!(
        r#"{{"objects": [
    {{"id": "Default", "scheduleType": "cron", "workerGroup": "wg", "maximumRetries": "0",
      "failureAndRerunMode": "{mode}"}},
    {{"id": "S", "type": "Schedule", "period": "1 day", "startDateTime": "2026-01-01T00:00:00",
      "occurrences": "{occurrences}"}},
    {{"id": "Out", "type": "S3DataNode", "schedule": {{"ref": "S"}}, "directoryPath": "s3://b/out"}},
    {{"id": "A", "type": "ShellCommandActivity", "schedule": {{"ref": "S"}}, "command": "a",
      "output": {{"ref": "Out"}}}},
    {{"id": "B", "type": "ShellCommandActivity", "schedule": {{"ref": "S"}}, "command": "b",
      "input": {{"ref": "Out"}}}},
    {{"id": "C", "type": "ShellCommandActivity", "schedule": {{"ref": "S"}}, "command": "c",
      "dependsOn": {{"ref": "B"}}}}
  ]}}"#
    )
}

const T: &str = "2026-01-01T00:00:00";

fn id(component: &str) -> String {
    format!("@{component}_{T}")
}

fn fail_a(e: &mut sluice_engine::Engine) {
    let now = at(T);
    let task = poll(e, now).unwrap();
    assert_eq!(task.attempt_id, format!("{}_Attempt=1", id("A")));
    e.set_task_status(&task.task_id, TaskResult::failed("E", "boom"), now)
        .unwrap();
}

#[test]
fn an_output_node_finishes_only_when_its_producer_finishes() {
    let mut e = engine(&chain("none"), T);
    e.activate(at(T), None).unwrap();
    assert_eq!(status(&e, &id("Out")), Status::WaitingOnDependencies);
    let a = poll(&mut e, at(T)).unwrap();
    assert!(
        poll(&mut e, at(T)).is_none(),
        "B must wait for Out, which waits for A"
    );
    assert_eq!(a.objects["Out"].string("directoryPath"), Some("s3://b/out"));
    e.set_task_status(&a.task_id, TaskResult::finished(), at(T))
        .unwrap();
    assert_eq!(status(&e, &id("Out")), Status::Finished);
    let b = poll(&mut e, at(T)).unwrap();
    assert_eq!(b.attempt_id, format!("{}_Attempt=1", id("B")));
}

#[test]
fn cascade_fails_every_waiting_consumer_downstream() {
    let mut e = engine(&chain("cascade"), T);
    e.activate(at(T), None).unwrap();
    fail_a(&mut e);
    assert_eq!(status(&e, &id("A")), Status::Failed);
    assert_eq!(status(&e, &id("Out")), Status::CascadeFailed);
    assert_eq!(status(&e, &id("B")), Status::CascadeFailed);
    assert_eq!(status(&e, &id("C")), Status::CascadeFailed);
    let c = e.instance(&id("C")).unwrap();
    assert_eq!(
        c.fields["@cascadeFailedOn"],
        vec![id("A"), id("Out"), id("B")]
    );
    assert!(e.is_settled(at(T)));
    assert_eq!(e.pipeline_state(), sluice_model::PipelineState::Finished);
    let refused = e.set_status(&[id("A")], "RERUN", at(T));
    assert!(matches!(
        refused,
        Err(sluice_engine::EngineError::InvalidRequest(_))
    ));
}

#[test]
fn with_none_consumers_keep_waiting_and_the_pipeline_is_settled() {
    let mut e = engine(&chain("none"), T);
    e.activate(at(T), None).unwrap();
    fail_a(&mut e);
    assert_eq!(status(&e, &id("Out")), Status::WaitingOnDependencies);
    assert_eq!(status(&e, &id("B")), Status::WaitingOnDependencies);
    assert_eq!(status(&e, &id("C")), Status::WaitingOnDependencies);
    assert!(e.is_settled(at(T)));
    assert_eq!(e.pipeline_state(), sluice_model::PipelineState::Scheduled);
    // MARK_FINISHED on the failed producer lets the consumers proceed.
    e.set_status(&[id("A")], "mark_finished", at(T)).unwrap();
    assert_eq!(status(&e, &id("Out")), Status::Finished);
    let done = finish_all(&mut e, at(T));
    assert_eq!(
        done,
        vec![
            format!("{}_Attempt=1", id("B")),
            format!("{}_Attempt=1", id("C"))
        ]
    );
}

#[test]
fn rerun_propagates_to_cascade_failed_consumers() {
    let mut e = engine(&chain_of("cascade", 2), T);
    e.activate(at(T), None).unwrap();
    fail_a(&mut e);
    e.set_status(&[id("A")], "RERUN", at(T)).unwrap();
    for component in ["Out", "B", "C"] {
        assert_eq!(
            status(&e, &id(component)),
            Status::WaitingOnDependencies,
            "{component}"
        );
        assert!(
            !e.instance(&id(component))
                .unwrap()
                .fields
                .contains_key("@cascadeFailedOn")
        );
    }
    assert_eq!(status(&e, &id("A")), Status::WaitingForRunner);
    assert!(
        !e.instance(&id("A"))
            .unwrap()
            .fields
            .contains_key("errorMessage")
    );
    let done = finish_all(&mut e, at(T));
    assert_eq!(
        done,
        vec![
            format!("{}_Attempt=2", id("A")),
            format!("{}_Attempt=1", id("B")),
            format!("{}_Attempt=1", id("C"))
        ]
    );
    assert_eq!(e.summary().get(Status::Finished), 4);
}

#[test]
fn rerun_of_a_consumer_whose_dependency_still_failed_cascades_again() {
    let mut e = engine(&chain_of("cascade", 2), T);
    e.activate(at(T), None).unwrap();
    fail_a(&mut e);
    e.set_status(&[id("B")], "RERUN", at(T)).unwrap();
    assert_eq!(status(&e, &id("B")), Status::CascadeFailed);
}
