//! Precondition checks: delivered as tasks, rechecked after retryDelay, bounded by
//! preconditionTimeout or an explicit maximumRetries.

mod common;

use common::*;
use sluice_model::{Status, TaskResult};

fn definition(precondition_extra: &str) -> String {
    format!(
        r#"{{"objects": [
    {{"id": "Default", "scheduleType": "cron", "workerGroup": "wg", "failureAndRerunMode": "cascade"}},
    {{"id": "S", "type": "Schedule", "period": "1 day", "startDateTime": "2026-01-01T00:00:00"}},
    {{"id": "Marker", "type": "S3KeyExists", "role": "r",
      "s3Key": "s3://b/#{{format(node.@scheduledStartTime, 'YYYY-MM-dd')}}/_SUCCESS",
      "retryDelay": "5 minutes" {precondition_extra}}},
    {{"id": "Job", "type": "ShellCommandActivity", "schedule": {{"ref": "S"}}, "command": "run",
      "precondition": {{"ref": "Marker"}}}}
  ]}}"#
    )
}

const T: &str = "2026-01-01T00:00:00";
const CHECK: &str = "@Marker_2026-01-01T00:00:00";
const JOB: &str = "@Job_2026-01-01T00:00:00";

#[test]
fn a_false_precondition_is_rechecked_until_it_holds() {
    let mut e = engine(&definition(""), T);
    let start = at(T);
    e.activate(start, None).unwrap();
    let check = poll(&mut e, start).unwrap();
    assert_eq!(check.attempt_id, format!("{CHECK}_Attempt=1"));
    assert_eq!(field(&check, "type"), Some("S3KeyExists"));
    assert_eq!(field(&check, "s3Key"), Some("s3://b/2026-01-01/_SUCCESS"));
    assert_eq!(
        check
            .attempt()
            .unwrap()
            .values("node")
            .next()
            .and_then(|v| v.as_ref_id()),
        Some(JOB)
    );
    assert!(check.objects.contains_key(JOB));
    assert_eq!(status(&e, JOB), Status::WaitingOnDependencies);
    let waiting_on =
        |e: &sluice_engine::Engine| e.instance(JOB).unwrap().fields.get("@waitingOn").cloned();
    assert_eq!(waiting_on(&e), Some(vec![CHECK.to_owned()]));
    for n in 1..=4 {
        let now = start + minutes(5 * (n - 1));
        let task = if n == 1 {
            check.clone()
        } else {
            poll(&mut e, now).unwrap()
        };
        assert_eq!(task.attempt_id, format!("{CHECK}_Attempt={n}"));
        e.set_task_status(&task.task_id, TaskResult::condition_false(), now)
            .unwrap();
        assert!(poll(&mut e, now).is_none());
    }
    let task = poll(&mut e, start + minutes(20)).unwrap();
    e.set_task_status(&task.task_id, TaskResult::finished(), start + minutes(20))
        .unwrap();
    assert_eq!(status(&e, CHECK), Status::Finished);
    let job = poll(&mut e, start + minutes(20)).unwrap();
    assert_eq!(job.attempt_id, format!("{JOB}_Attempt=1"));
    assert_eq!(waiting_on(&e), None);
    assert_eq!(job.objects["Marker"].string("type"), Some("S3KeyExists"));
}

#[test]
fn precondition_timeout_fails_the_check_and_the_object() {
    let mut e = engine(&definition(r#", "preconditionTimeout": "12 minutes""#), T);
    let start = at(T);
    e.activate(start, None).unwrap();
    let mut now = start;
    while let Some(task) = poll(&mut e, now) {
        e.set_task_status(&task.task_id, TaskResult::condition_false(), now)
            .unwrap();
        now += minutes(5);
    }
    e.advance(start + minutes(12));
    assert_eq!(e.attempts_of(CHECK).len(), 3);
    assert_eq!(status(&e, CHECK), Status::Failed);
    assert_eq!(
        e.instance(CHECK).unwrap().fields["errorId"],
        vec!["Service_PreconditionTimeout"]
    );
    assert_eq!(status(&e, JOB), Status::Failed);
    let job = e.instance(JOB).unwrap();
    assert!(job.fields["errorMessage"][0].contains("precondition Marker did not hold"));
    assert!(e.is_settled(start + minutes(12)));
}

#[test]
fn an_explicit_maximum_retries_bounds_rechecks() {
    let mut e = engine(&definition(r#", "maximumRetries": "1""#), T);
    let start = at(T);
    e.activate(start, None).unwrap();
    let mut now = start;
    let mut checks = 0;
    while let Some(task) = poll(&mut e, now) {
        checks += 1;
        e.set_task_status(&task.task_id, TaskResult::condition_false(), now)
            .unwrap();
        now += minutes(5);
    }
    assert_eq!(checks, 2);
    assert_eq!(status(&e, CHECK), Status::Failed);
    assert_eq!(status(&e, JOB), Status::Failed);
}

#[test]
fn a_node_precondition_runs_where_the_node_says() {
    let json = r#"{"objects": [
    {"id": "Default", "scheduleType": "cron"},
    {"id": "S", "type": "Schedule", "period": "1 day", "startDateTime": "2026-01-01T00:00:00"},
    {"id": "Ready", "type": "Exists"},
    {"id": "In", "type": "S3DataNode", "schedule": {"ref": "S"}, "filePath": "s3://b/f",
     "workerGroup": "checkers", "precondition": {"ref": "Ready"}},
    {"id": "Job", "type": "ShellCommandActivity", "schedule": {"ref": "S"}, "command": "run",
     "workerGroup": "workers", "input": {"ref": "In"}}
  ]}"#;
    let mut e = engine(json, T);
    e.activate(at(T), None).unwrap();
    assert!(e.poll_task(Some("workers"), "h", at(T)).is_none());
    let check = e.poll_task(Some("checkers"), "h", at(T)).unwrap();
    assert_eq!(check.attempt_id, "@Ready_2026-01-01T00:00:00_Attempt=1");
    assert_eq!(
        check.objects["@In_2026-01-01T00:00:00"].string("filePath"),
        Some("s3://b/f")
    );
    e.set_task_status(&check.task_id, TaskResult::finished(), at(T))
        .unwrap();
    assert_eq!(status(&e, "@In_2026-01-01T00:00:00"), Status::Finished);
    assert!(e.poll_task(Some("checkers"), "h", at(T)).is_none());
    assert!(e.poll_task(Some("workers"), "h", at(T)).is_some());
}
