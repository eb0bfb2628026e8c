//! onSuccess / onFail / onLateAction and the Terminate action.

mod common;

use common::*;
use sluice_engine::ActionTrigger;
use sluice_model::{Status, TaskResult};

fn definition(job_extra: &str) -> String {
    format!(
        r#"{{"objects": [
    {{"id": "Default", "scheduleType": "cron", "workerGroup": "wg", "maximumRetries": "0"}},
    {{"id": "S", "type": "Schedule", "period": "1 day", "startDateTime": "2026-01-01T00:00:00"}},
    {{"id": "Alarm", "type": "SnsAlarm", "role": "r", "topicArn": "arn:aws:sns:t",
      "subject": "s", "message": "m"}},
    {{"id": "Stop", "type": "Terminate"}},
    {{"id": "Job", "type": "ShellCommandActivity", "schedule": {{"ref": "S"}}, "command": "run"
      {job_extra}}}
  ]}}"#
    )
}

const T: &str = "2026-01-01T00:00:00";
const JOB: &str = "@Job_2026-01-01T00:00:00";

#[test]
fn on_success_and_on_fail_fire_action_events() {
    let json = definition(r#", "onSuccess": {"ref": "Alarm"}, "onFail": {"ref": "Alarm"}"#);
    let mut e = engine(&json, T);
    e.activate(at(T), None).unwrap();
    let task = poll(&mut e, at(T)).unwrap();
    e.set_task_status(&task.task_id, TaskResult::finished(), at(T))
        .unwrap();
    let events = e.take_action_events();
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].action_id, "Alarm");
    assert_eq!(events[0].action_type, "SnsAlarm");
    assert_eq!(events[0].node_instance_id, JOB);
    assert_eq!(events[0].event, ActionTrigger::Success);
    assert_eq!(
        e.instance(JOB).unwrap().fields["@actionsFired"],
        vec!["onSuccess:Alarm"]
    );

    let next = at("2026-01-02T00:00:00");
    let task = poll(&mut e, next).unwrap();
    e.set_task_status(&task.task_id, TaskResult::failed("E", "x"), next)
        .unwrap();
    let events = e.take_action_events();
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].event, ActionTrigger::Fail);
    assert!(e.take_action_events().is_empty());
}

#[test]
fn late_after_timeout_fires_on_late_action_once() {
    let json =
        definition(r#", "lateAfterTimeout": "30 minutes", "onLateAction": {"ref": "Alarm"}"#);
    let mut e = engine(&json, T);
    e.activate(at(T), None).unwrap();
    assert_eq!(e.next_wakeup(), Some(at("2026-01-01T00:30:00")));
    e.advance(at("2026-01-01T00:29:59"));
    assert!(e.take_action_events().is_empty());
    e.advance(at("2026-01-01T00:45:00"));
    let events = e.take_action_events();
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].event, ActionTrigger::Late);
    assert_eq!(events[0].at, at("2026-01-01T00:30:00"));
    assert_eq!(status(&e, JOB), Status::WaitingForRunner);
}

#[test]
fn terminate_cancels_a_late_object_that_has_not_started() {
    let json = definition(r#", "lateAfterTimeout": "30 minutes", "onLateAction": {"ref": "Stop"}"#);
    let mut e = engine(&json, T);
    e.activate(at(T), None).unwrap();
    e.advance(at("2026-01-01T00:30:00"));
    assert_eq!(status(&e, JOB), Status::Canceled);
    assert!(poll(&mut e, at("2026-01-01T00:30:00")).is_none());
    let record = e.instance(JOB).unwrap();
    assert!(record.fields["cancellationReason"][0].contains("Terminate"));
}

#[test]
fn terminate_tells_a_running_late_task_to_stop() {
    let json = definition(r#", "lateAfterTimeout": "30 minutes", "onLateAction": {"ref": "Stop"}"#);
    let mut e = engine(&json, T);
    e.activate(at(T), None).unwrap();
    let task = poll(&mut e, at("2026-01-01T00:10:00")).unwrap();
    assert_eq!(
        e.report_progress(&task.task_id, &[], at("2026-01-01T00:11:00")),
        Ok(false)
    );
    assert_eq!(
        e.report_progress(&task.task_id, &[], at("2026-01-01T00:25:00")),
        Ok(false)
    );
    assert!(e.take_canceled_tasks().is_empty());
    // Terminate fires when time reaches 00:30: the runner is told then, not at its next report.
    e.advance(at("2026-01-01T00:30:00"));
    assert_eq!(e.take_canceled_tasks(), [task.task_id.as_str()]);
    assert_eq!(
        e.report_progress(&task.task_id, &[], at("2026-01-01T00:31:00")),
        Ok(true)
    );
    // The canceled task is forgotten once its lease would have lapsed.
    e.advance(at("2026-01-01T00:40:00"));
    assert!(
        e.report_progress(&task.task_id, &[], at("2026-01-01T00:40:00"))
            .is_err()
    );
    assert_eq!(status(&e, JOB), Status::Canceled);
    assert_eq!(e.attempts_of(JOB)[0].status, Status::Canceled);
}
