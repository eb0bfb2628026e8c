//! Rebuilding an engine from its records mid-run, as after a crash.

mod common;

use std::collections::BTreeMap;

use common::*;
use sluice_engine::{
    AttemptRecord, ChangeSet, Engine, EngineOptions, InstanceRecord, PipelineRecord,
};
use sluice_model::{Status, TaskResult};

/// What a store would hold after committing every change set in order.
#[derive(Default)]
struct Records {
    pipeline: Option<PipelineRecord>,
    instances: BTreeMap<String, InstanceRecord>,
    attempts: BTreeMap<String, AttemptRecord>,
}

impl Records {
    fn apply(&mut self, changes: ChangeSet) {
        if let Some(p) = changes.pipelines.into_iter().last() {
            self.pipeline = Some(p);
        }
        for r in changes.instances {
            self.instances.insert(r.instance_id.clone(), r);
        }
        for r in changes.attempts {
            self.attempts.insert(r.attempt_id.clone(), r);
        }
    }

    fn restore(&self, json: &str, now: &str) -> Engine {
        Engine::restore(
            plan(json),
            self.pipeline.clone().unwrap(),
            self.instances.values().cloned().collect(),
            self.attempts.values().cloned().collect(),
            at(now),
            EngineOptions::default(),
        )
    }
}

const JSON: &str = r#"{"objects": [
    {"id": "Default", "scheduleType": "cron", "workerGroup": "wg", "maximumRetries": "1",
     "retryDelay": "5 minutes"},
    {"id": "S", "type": "Schedule", "period": "1 hour", "startDateTime": "2026-01-01T00:00:00",
     "occurrences": "3"},
    {"id": "A", "type": "ShellCommandActivity", "schedule": {"ref": "S"}, "command": "a"},
    {"id": "B", "type": "ShellCommandActivity", "schedule": {"ref": "S"}, "command": "b",
     "dependsOn": {"ref": "A"}}
  ]}"#;

#[test]
fn a_running_attempt_becomes_a_lost_lease_and_finished_work_is_never_rerun() {
    let mut records = Records::default();
    let mut e = engine(JSON, "2026-01-01T00:00:00");
    let t0 = at("2026-01-01T00:00:00");
    e.activate(t0, None).unwrap();
    let a0 = poll(&mut e, t0).unwrap();
    e.set_task_status(&a0.task_id, TaskResult::finished(), t0)
        .unwrap();
    let b0 = poll(&mut e, at("2026-01-01T00:59:00")).unwrap();
    assert_eq!(b0.attempt_id, "@B_2026-01-01T00:00:00_Attempt=1");
    e.advance(at("2026-01-01T01:00:00"));
    assert_eq!(status(&e, "@B_2026-01-01T00:00:00"), Status::Running);
    records.apply(e.take_changes());
    drop(e);

    // The process died at 01:00 with B(00:00) handed out and A(01:00) queued.
    let mut e = records.restore(JSON, "2026-01-01T01:00:30");
    assert_eq!(status(&e, "@A_2026-01-01T00:00:00"), Status::Finished);
    let lost = &e.attempts_of("@B_2026-01-01T00:00:00")[0];
    assert_eq!(lost.status, Status::Failed);
    assert!(lost.fields["errorMessage"][0].starts_with("lease lost"));
    assert_eq!(
        status(&e, "@B_2026-01-01T00:00:00"),
        Status::WaitingForRunner
    );
    assert_eq!(
        e.set_task_status(
            &b0.task_id,
            TaskResult::finished(),
            at("2026-01-01T01:00:30")
        ),
        Err(sluice_engine::EngineError::TaskNotFound(b0.task_id.clone()))
    );
    let changes = e.take_changes();
    assert!(
        changes
            .attempts
            .iter()
            .any(|a| a.attempt_id == lost.attempt_id)
    );

    let queued = poll(&mut e, at("2026-01-01T01:00:30")).unwrap();
    assert_eq!(queued.attempt_id, "@A_2026-01-01T01:00:00_Attempt=1");
    e.set_task_status(
        &queued.task_id,
        TaskResult::finished(),
        at("2026-01-01T01:01:00"),
    )
    .unwrap();
    let b1 = poll(&mut e, at("2026-01-01T01:01:00")).unwrap();
    assert_eq!(b1.attempt_id, "@B_2026-01-01T01:00:00_Attempt=1");
    e.set_task_status(
        &b1.task_id,
        TaskResult::finished(),
        at("2026-01-01T01:02:00"),
    )
    .unwrap();
    assert!(poll(&mut e, at("2026-01-01T01:05:00")).is_none());
    let retry = poll(&mut e, at("2026-01-01T01:05:30")).unwrap();
    assert_eq!(retry.attempt_id, "@B_2026-01-01T00:00:00_Attempt=2");
    e.set_task_status(
        &retry.task_id,
        TaskResult::finished(),
        at("2026-01-01T01:06:00"),
    )
    .unwrap();

    run_until(&mut e, at("2026-01-01T05:00:00"));
    assert_eq!(e.summary().get(Status::Finished), 6);
    let attempts_of_a = e
        .attempts()
        .into_iter()
        .filter(|a| a.instance_id == "@A_2026-01-01T00:00:00")
        .count();
    assert_eq!(attempts_of_a, 1);
}

#[test]
fn restore_keeps_pending_retries_pause_and_schedule_position() {
    let mut records = Records::default();
    let mut e = engine(JSON, "2026-01-01T00:00:00");
    let t0 = at("2026-01-01T00:00:00");
    e.activate(t0, None).unwrap();
    let a0 = poll(&mut e, t0).unwrap();
    e.set_task_status(&a0.task_id, TaskResult::failed("E", "x"), t0)
        .unwrap();
    e.set_status(&["B".to_owned()], "PAUSE", t0).unwrap();
    records.apply(e.take_changes());

    let mut e = records.restore(JSON, "2026-01-01T00:01:00");
    assert_eq!(
        status(&e, "@A_2026-01-01T00:00:00"),
        Status::WaitingForRunner
    );
    assert!(poll(&mut e, at("2026-01-01T00:04:59")).is_none());
    let retry = poll(&mut e, at("2026-01-01T00:05:00")).unwrap();
    assert_eq!(retry.attempt_id, "@A_2026-01-01T00:00:00_Attempt=2");
    e.set_task_status(
        &retry.task_id,
        TaskResult::finished(),
        at("2026-01-01T00:05:00"),
    )
    .unwrap();
    assert_eq!(status(&e, "@B_2026-01-01T00:00:00"), Status::Paused);
    assert!(poll(&mut e, at("2026-01-01T00:05:00")).is_none());
    records.apply(e.take_changes());

    let mut e = records.restore(JSON, "2026-01-01T00:06:00");
    assert_eq!(status(&e, "@B_2026-01-01T00:00:00"), Status::Paused);
    e.set_status(&["B".to_owned()], "RESUME", at("2026-01-01T00:06:00"))
        .unwrap();
    assert!(poll(&mut e, at("2026-01-01T00:06:00")).is_some());
    e.advance(at("2026-01-01T01:00:00"));
    assert_eq!(ids(&e).len(), 4, "{:?}", ids(&e));
}
