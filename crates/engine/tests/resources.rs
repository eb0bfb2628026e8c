//! Activities running on a resource (`runsOn`).

mod common;

use common::*;
use sluice_engine::ResourceAction;
use sluice_model::{Status, TaskResult};

const JSON: &str = r#"{"objects": [
    {"id": "Default", "scheduleType": "cron", "role": "r", "resourceRole": "rr"},
    {"id": "Hourly", "type": "Schedule", "period": "1 hour", "startDateTime": "2026-01-01T00:00:00",
     "occurrences": "1"},
    {"id": "Every20", "type": "Schedule", "period": "20 minutes",
     "startDateTime": "2026-01-01T00:00:00", "occurrences": "3"},
    {"id": "Box", "type": "Ec2Resource", "schedule": {"ref": "Hourly"}, "instanceType": "t2.small"},
    {"id": "Job", "type": "ShellCommandActivity", "schedule": {"ref": "Every20"},
     "runsOn": {"ref": "Box"}, "command": "run"}
  ]}"#;

const BOX: &str = "@Box_2026-01-01T00:00:00";

#[test]
fn one_resource_instance_serves_activities_of_a_shorter_period() {
    let mut e = engine(JSON, "2026-01-01T00:00:00");
    let t0 = at("2026-01-01T00:00:00");
    e.activate(t0, None).unwrap();
    assert_eq!(status(&e, BOX), Status::Running);
    let events = e.take_resource_events();
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].action, ResourceAction::Provision);
    assert_eq!(events[0].worker_group, BOX);
    assert!(e.poll_task(Some("wg"), "h", t0).is_none());
    let task = e.poll_task(Some(BOX), "h", t0).unwrap();
    assert_eq!(task.objects["Box"].string("instanceType"), Some("t2.small"));
    assert_eq!(
        e.attempts_of("@Job_2026-01-01T00:00:00")[0].worker_group,
        BOX
    );
    e.set_task_status(&task.task_id, TaskResult::finished(), t0)
        .unwrap();
    // Two more activity intervals fall inside the resource's hour: it stays up.
    assert_eq!(status(&e, BOX), Status::Running);
    for minute in [20, 40] {
        let now = t0 + minutes(minute);
        let task = e.poll_task(Some(BOX), "h", now).unwrap();
        e.set_task_status(&task.task_id, TaskResult::finished(), now)
            .unwrap();
    }
    assert_eq!(status(&e, BOX), Status::Finished);
    let events = e.take_resource_events();
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].action, ResourceAction::Release);
    assert_eq!(e.pipeline_state(), sluice_model::PipelineState::Finished);
}

#[test]
fn a_resource_whose_activities_all_failed_while_it_waited_finishes_unprovisioned() {
    let json = JSON
        .replace(
            r#""scheduleType": "cron","#,
            r#""scheduleType": "cron", "failureAndRerunMode": "cascade", "maximumRetries": "0","#,
        )
        .replace(
            r#""command": "run"}"#,
            r#""command": "run", "dependsOn": {"ref": "Prep"}},
    {"id": "Prep", "type": "ShellCommandActivity", "schedule": {"ref": "Every20"},
     "workerGroup": "wg", "command": "prep"}"#,
        );
    let mut e = engine(&json, "2026-01-01T00:00:00");
    let t0 = at("2026-01-01T00:00:00");
    e.activate(t0, None).unwrap();
    assert_eq!(status(&e, BOX), Status::WaitingOnDependencies);
    for minute in [0, 20, 40] {
        let now = t0 + minutes(minute);
        let task = e.poll_task(Some("wg"), "h", now).unwrap();
        e.set_task_status(&task.task_id, TaskResult::failed("E", "x"), now)
            .unwrap();
    }
    assert_eq!(e.summary().get(Status::CascadeFailed), 3);
    assert_eq!(status(&e, BOX), Status::Finished);
    assert!(e.take_resource_events().is_empty());
}
