//! Schedules as the engine applies them: due times, backfill, startAt, occurrences,
//! endDateTime and alignment of different periods.

mod common;

use common::*;
use sluice_model::{PipelineState, Status, TaskResult};

fn one_activity(schedule_type: &str, schedule: &str) -> String {
    format!(
        r#"{{"objects": [
    {{"id": "Default", "scheduleType": "{schedule_type}", "workerGroup": "wg"}},
    {{"id": "S", "type": "Schedule", {schedule}}},
    {{"id": "Job", "type": "ShellCommandActivity", "schedule": {{"ref": "S"}}, "command": "true"}}
  ]}}"#
    )
}

#[test]
fn timeseries_instances_become_due_at_interval_end() {
    let json = one_activity(
        "timeseries",
        r#""period": "30 minutes", "startDateTime": "2026-01-01T22:00:00""#,
    );
    let mut e = engine(&json, "2026-01-01T22:00:00");
    e.activate(at("2026-01-01T22:00:00"), None).unwrap();
    assert!(ids(&e).is_empty());
    assert_eq!(e.next_wakeup(), Some(at("2026-01-01T22:30:00")));
    assert!(poll(&mut e, at("2026-01-01T22:29:59")).is_none());
    let task = poll(&mut e, at("2026-01-01T22:30:00")).unwrap();
    assert_eq!(task.attempt_id, "@Job_2026-01-01T22:00:00_Attempt=1");
    assert_eq!(
        field(&task, "@scheduledEndTime"),
        Some("2026-01-01T22:30:00")
    );
}

#[test]
fn cron_instances_become_due_at_interval_start() {
    let json = one_activity(
        "CRON",
        r#""period": "30 minutes", "startDateTime": "2026-01-01T22:00:00""#,
    );
    let mut e = engine(&json, "2026-01-01T21:00:00");
    e.activate(at("2026-01-01T21:00:00"), None).unwrap();
    assert_eq!(e.next_wakeup(), Some(at("2026-01-01T22:00:00")));
    let task = poll(&mut e, at("2026-01-01T22:00:00")).unwrap();
    assert_eq!(task.attempt_id, "@Job_2026-01-01T22:00:00_Attempt=1");
}

#[test]
fn unset_schedule_type_defaults_to_timeseries() {
    let json = r#"{"objects": [
    {"id": "Default", "workerGroup": "wg"},
    {"id": "S", "type": "Schedule", "period": "1 hour", "startDateTime": "2026-01-01T00:00:00"},
    {"id": "Job", "type": "ShellCommandActivity", "schedule": {"ref": "S"}, "command": "true"}
  ]}"#;
    let mut e = engine(json, "2026-01-01T00:00:00");
    e.activate(at("2026-01-01T00:30:00"), None).unwrap();
    assert!(ids(&e).is_empty());
    e.advance(at("2026-01-01T01:00:00"));
    assert_eq!(ids(&e), vec!["@Job_2026-01-01T00:00:00"]);
}

#[test]
fn backfill_creates_a_month_of_hourly_instances_at_once_and_runs_them_in_order() {
    let json = one_activity(
        "cron",
        r#""period": "1 hour", "startDateTime": "2026-01-01T00:00:00",
           "endDateTime": "2026-02-01T00:00:00""#,
    );
    let mut e = engine(&json, "2026-03-01T00:00:00");
    let now = at("2026-03-01T00:00:00");
    e.activate(now, None).unwrap();
    assert_eq!(e.instance_count(), 744);
    assert_eq!(e.summary().get(Status::WaitingForRunner), 744);
    let done = finish_all(&mut e, now);
    assert_eq!(done.len(), 744);
    assert_eq!(done[0], "@Job_2026-01-01T00:00:00_Attempt=1");
    assert_eq!(done[743], "@Job_2026-01-31T23:00:00_Attempt=1");
    assert!(done.windows(2).all(|w| w[0] < w[1]));
    assert_eq!(e.pipeline_state(), PipelineState::Finished);
    assert!(e.is_settled(now));
    assert_eq!(e.next_wakeup(), None);
}

#[test]
fn start_at_first_activation_with_one_occurrence_runs_once_at_activation() {
    let json = one_activity(
        "cron",
        r#""period": "1 day", "startAt": "FIRST_ACTIVATION_DATE_TIME", "occurrences": "1""#,
    );
    let mut e = engine(&json, "2026-05-05T10:00:00");
    e.activate(at("2026-05-05T10:11:12"), None).unwrap();
    assert_eq!(ids(&e), vec!["@Job_2026-05-05T10:11:12"]);
    assert_eq!(
        e.pipeline_record()
            .fields
            .get("@firstActivationTime")
            .map(String::as_str),
        Some("2026-05-05T10:11:12")
    );
    run_until(&mut e, at("2026-05-09T00:00:00"));
    assert_eq!(e.instance_count(), 1);
    assert_eq!(e.pipeline_state(), PipelineState::Finished);
}

#[test]
fn occurrences_and_end_date_time_bound_the_instances() {
    let json = one_activity(
        "cron",
        r#""period": "1 day", "startDateTime": "2026-01-01T00:00:00", "occurrences": "4""#,
    );
    let mut e = engine(&json, "2026-01-01T00:00:00");
    e.activate(at("2026-01-01T00:00:00"), None).unwrap();
    run_until(&mut e, at("2026-02-01T00:00:00"));
    assert_eq!(e.instance_count(), 4);

    let json = one_activity(
        "timeseries",
        r#""period": "1 day", "startDateTime": "2026-01-01T00:00:00",
           "endDateTime": "2026-01-03T12:00:00""#,
    );
    let mut e = engine(&json, "2026-01-01T00:00:00");
    e.activate(at("2026-01-01T00:00:00"), None).unwrap();
    run_until(&mut e, at("2026-02-01T00:00:00"));
    assert_eq!(
        ids(&e),
        vec!["@Job_2026-01-01T00:00:00", "@Job_2026-01-02T00:00:00"]
    );
    assert_eq!(e.pipeline_state(), PipelineState::Finished);
}

#[test]
fn hourly_activity_reading_a_daily_node_waits_for_that_days_node() {
    let json = r#"{"objects": [
    {"id": "Default", "scheduleType": "cron", "workerGroup": "wg"},
    {"id": "Hourly", "type": "Schedule", "period": "1 hour", "startDateTime": "2026-01-01T00:00:00"},
    {"id": "Daily", "type": "Schedule", "period": "1 day", "startDateTime": "2026-01-01T00:00:00"},
    {"id": "Ready", "type": "ShellCommandPrecondition", "command": "test -e /data"},
    {"id": "Day", "type": "S3DataNode", "schedule": {"ref": "Daily"},
     "directoryPath": "s3://b/#{format(@scheduledStartTime, 'YYYY-MM-dd')}",
     "precondition": {"ref": "Ready"}},
    {"id": "Hour", "type": "ShellCommandActivity", "schedule": {"ref": "Hourly"},
     "input": {"ref": "Day"}, "command": "process #{input.directoryPath}"}
  ]}"#;
    let mut e = engine(json, "2026-01-01T00:00:00");
    e.activate(at("2026-01-01T00:00:00"), None).unwrap();
    // The day's node is checked first; the hourly activities wait for it.
    let check = poll(&mut e, at("2026-01-01T00:00:00")).unwrap();
    assert_eq!(check.attempt_id, "@Ready_2026-01-01T00:00:00_Attempt=1");
    assert_eq!(field(&check, "type"), Some("ShellCommandPrecondition"));
    assert_eq!(
        check
            .attempt()
            .unwrap()
            .values("node")
            .next()
            .and_then(|v| v.as_ref_id()),
        Some("@Day_2026-01-01T00:00:00")
    );
    let node = &check.objects["@Day_2026-01-01T00:00:00"];
    assert_eq!(node.string("directoryPath"), Some("s3://b/2026-01-01"));
    e.advance(at("2026-01-01T02:00:00"));
    // The check's lease lapsed at 00:02 (no progress report); a late result is refused and
    // the retry, queued since 00:12, is the only ready task: the hours still wait.
    e.set_task_status(
        &check.task_id,
        TaskResult::finished(),
        at("2026-01-01T02:00:00"),
    )
    .unwrap_err();
    assert_eq!(e.summary().get(Status::WaitingForRunner), 1);
    let check = poll(&mut e, at("2026-01-01T02:00:00")).unwrap();
    assert_eq!(check.attempt_id, "@Ready_2026-01-01T00:00:00_Attempt=2");
    assert!(poll(&mut e, at("2026-01-01T02:00:00")).is_none());
    e.set_task_status(
        &check.task_id,
        TaskResult::finished(),
        at("2026-01-01T02:00:30"),
    )
    .unwrap();
    assert_eq!(status(&e, "@Day_2026-01-01T00:00:00"), Status::Finished);
    let mut hours = Vec::new();
    while let Some(task) = poll(&mut e, at("2026-01-01T02:00:30")) {
        assert_eq!(field(&task, "command"), Some("process s3://b/2026-01-01"));
        let input = &task.objects["Day"];
        assert_eq!(
            input.string("@scheduledStartTime"),
            Some("2026-01-01T00:00:00")
        );
        hours.push(task.attempt_id);
    }
    assert_eq!(
        hours,
        vec![
            "@Hour_2026-01-01T00:00:00_Attempt=1",
            "@Hour_2026-01-01T01:00:00_Attempt=1",
            "@Hour_2026-01-01T02:00:00_Attempt=1"
        ]
    );
    // The next day's hours line up with the next day's node.
    let hour = e.instance("@Hour_2026-01-01T23:00:00");
    assert!(hour.is_none());
    e.advance(at("2026-01-02T00:00:00"));
    assert_eq!(
        status(&e, "@Hour_2026-01-02T00:00:00"),
        Status::WaitingOnDependencies
    );
    assert_eq!(
        status(&e, "@Day_2026-01-02T00:00:00"),
        Status::WaitingOnDependencies
    );
}
