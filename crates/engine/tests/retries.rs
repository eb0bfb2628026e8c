//! Retries, timeouts and leases.

mod common;

use common::*;
use sluice_model::{Field, Status, TaskResult};

fn definition(extra: &str) -> String {
    format!(
        r#"{{"objects": [
    {{"id": "Default", "scheduleType": "cron", "workerGroup": "wg"}},
    {{"id": "S", "type": "Schedule", "period": "1 day", "startDateTime": "2026-01-01T00:00:00",
      "occurrences": "1"}},
    {{"id": "Job", "type": "ShellCommandActivity", "schedule": {{"ref": "S"}}, "command": "false"
      {extra}}}
  ]}}"#
    )
}

const INSTANCE: &str = "@Job_2026-01-01T00:00:00";

#[test]
fn failed_attempts_are_retried_after_retry_delay_until_maximum_retries() {
    let json = definition(r#", "maximumRetries": "2", "retryDelay": "5 minutes""#);
    let mut e = engine(&json, "2026-01-01T00:00:00");
    let mut now = at("2026-01-01T00:00:00");
    e.activate(now, None).unwrap();
    for n in 1..=3 {
        let task = poll(&mut e, now).unwrap_or_else(|| panic!("attempt {n} not ready"));
        assert_eq!(task.attempt_id, format!("{INSTANCE}_Attempt={n}"));
        let mut failure = TaskResult::failed("Exit1", format!("exit status 1 (try {n})"));
        failure.error_stack_trace = Some("at line 1".into());
        e.set_task_status(&task.task_id, failure, now + minutes(1))
            .unwrap();
        now += minutes(1);
        if n < 3 {
            assert_eq!(status(&e, INSTANCE), Status::WaitingForRunner);
            assert!(poll(&mut e, now + minutes(4) - chrono::Duration::seconds(1)).is_none());
            now += minutes(5);
        }
    }
    assert_eq!(status(&e, INSTANCE), Status::Failed);
    let record = e.instance(INSTANCE).unwrap();
    assert_eq!(record.attempt_count, 3);
    assert_eq!(record.fields["errorId"], vec!["Exit1"]);
    assert_eq!(record.fields["errorMessage"], vec!["exit status 1 (try 3)"]);
    assert_eq!(record.fields["errorStackTrace"], vec!["at line 1"]);
    let attempts = e.attempts_of(INSTANCE);
    assert!(attempts.iter().all(|a| a.status == Status::Failed));
    assert_eq!(
        attempts[0].fields["errorMessage"],
        vec!["exit status 1 (try 1)"]
    );
    assert!(poll(&mut e, now + minutes(60)).is_none());
    assert!(e.is_settled(now + minutes(60)));
}

#[test]
fn a_failure_no_retry_can_fix_fails_the_instance_at_once() {
    for error_id in sluice_engine::UNRETRYABLE_ERROR_IDS {
        let json = definition(r#", "maximumRetries": "2", "retryDelay": "5 minutes""#);
        let mut e = engine(&json, "2026-01-01T00:00:00");
        let now = at("2026-01-01T00:00:00");
        e.activate(now, None).unwrap();
        let task = poll(&mut e, now).unwrap();
        e.set_task_status(
            &task.task_id,
            TaskResult::failed(error_id, "cannot run"),
            now,
        )
        .unwrap();
        assert_eq!(status(&e, INSTANCE), Status::Failed, "{error_id}");
        let record = e.instance(INSTANCE).unwrap();
        assert_eq!(record.attempt_count, 1);
        assert_eq!(record.fields["errorId"], vec![error_id]);
        assert!(e.is_settled(now));
    }
}

#[test]
fn default_maximum_retries_gives_three_attempts() {
    let json = definition(r#", "retryDelay": "2 minutes""#);
    let mut e = engine(&json, "2026-01-01T00:00:00");
    let mut now = at("2026-01-01T00:00:00");
    e.activate(now, None).unwrap();
    let mut attempts = 0;
    while let Some(task) = poll(&mut e, now) {
        attempts += 1;
        e.set_task_status(&task.task_id, TaskResult::failed("E", "no"), now)
            .unwrap();
        now += minutes(2);
    }
    assert_eq!(attempts, 3);
    assert_eq!(status(&e, INSTANCE), Status::Failed);
}

#[test]
fn attempt_timeout_cancels_the_task_and_retries() {
    let json = definition(
        r#", "attemptTimeout": "30 minutes", "maximumRetries": "1", "retryDelay": "2 minutes""#,
    );
    let mut e = engine(&json, "2026-01-01T00:00:00");
    let start = at("2026-01-01T00:00:00");
    e.activate(start, None).unwrap();
    let task = poll(&mut e, start).unwrap();
    for m in (1..30).step_by(5) {
        assert_eq!(
            e.report_progress(&task.task_id, &[], start + minutes(m)),
            Ok(false)
        );
    }
    assert!(e.take_canceled_tasks().is_empty());
    e.advance(start + minutes(30));
    assert_eq!(e.take_canceled_tasks(), [task.task_id.as_str()]);
    let fields = [Field::string("percentComplete", "90")];
    assert_eq!(
        e.report_progress(&task.task_id, &fields, start + minutes(31)),
        Ok(true)
    );
    let first = &e.attempts_of(INSTANCE)[0];
    assert_eq!(first.status, Status::Failed);
    assert_eq!(first.fields["errorId"], vec!["Service_AttemptTimeout"]);
    assert!(!first.fields.contains_key("percentComplete"));
    // The canceled runner's result is accepted and ignored.
    e.set_task_status(&task.task_id, TaskResult::finished(), start + minutes(31))
        .unwrap();
    assert_eq!(status(&e, INSTANCE), Status::WaitingForRunner);
    let retry = poll(&mut e, start + minutes(32)).unwrap();
    assert_eq!(retry.attempt_id, format!("{INSTANCE}_Attempt=2"));
    e.set_task_status(&retry.task_id, TaskResult::finished(), start + minutes(33))
        .unwrap();
    assert_eq!(status(&e, INSTANCE), Status::Finished);
}

#[test]
fn a_task_never_acknowledged_loses_its_lease_after_two_minutes() {
    let json = definition(r#", "maximumRetries": "1", "retryDelay": "10 minutes""#);
    let mut e = engine(&json, "2026-01-01T00:00:00");
    let start = at("2026-01-01T00:00:00");
    e.activate(start, None).unwrap();
    let task = poll(&mut e, start).unwrap();
    e.advance(start + minutes(2));
    let first = &e.attempts_of(INSTANCE)[0];
    assert_eq!(first.status, Status::Failed);
    assert_eq!(
        first.fields["errorMessage"],
        vec!["lease lost: the task runner stopped reporting"]
    );
    assert_eq!(
        e.set_task_status(&task.task_id, TaskResult::finished(), start + minutes(3)),
        Err(sluice_engine::EngineError::TaskNotFound(
            task.task_id.clone()
        ))
    );
    assert!(
        e.report_progress(&task.task_id, &[], start + minutes(3))
            .is_err()
    );
    assert_eq!(status(&e, INSTANCE), Status::WaitingForRunner);
    assert!(poll(&mut e, start + minutes(11)).is_none());
    let retry = poll(&mut e, start + minutes(12)).unwrap();
    assert_eq!(retry.attempt_id, format!("{INSTANCE}_Attempt=2"));
}

#[test]
fn progress_reports_keep_the_lease_for_report_progress_timeout() {
    let json = definition(r#", "reportProgressTimeout": "20 minutes""#);
    let mut e = engine(&json, "2026-01-01T00:00:00");
    let start = at("2026-01-01T00:00:00");
    e.activate(start, None).unwrap();
    let task = poll(&mut e, start).unwrap();
    assert_eq!(
        e.report_progress(&task.task_id, &[], start + minutes(1)),
        Ok(false)
    );
    assert_eq!(
        e.report_progress(&task.task_id, &[], start + minutes(20)),
        Ok(false)
    );
    assert_eq!(
        e.report_progress(&task.task_id, &[], start + minutes(39)),
        Ok(false)
    );
    assert_eq!(status(&e, INSTANCE), Status::Running);
    e.advance(start + minutes(59));
    assert_eq!(e.attempts_of(INSTANCE)[0].status, Status::Failed);
    assert!(
        e.report_progress(&task.task_id, &[], start + minutes(60))
            .is_err()
    );
}

#[test]
fn the_default_lease_after_acknowledgement_is_fifteen_minutes() {
    let json = definition("");
    let mut e = engine(&json, "2026-01-01T00:00:00");
    let start = at("2026-01-01T00:00:00");
    e.activate(start, None).unwrap();
    let task = poll(&mut e, start).unwrap();
    assert_eq!(
        e.report_progress(&task.task_id, &[], start + minutes(1)),
        Ok(false)
    );
    e.advance(start + minutes(15));
    assert_eq!(status(&e, INSTANCE), Status::Running);
    e.advance(start + minutes(16));
    assert_eq!(status(&e, INSTANCE), Status::WaitingForRunner);
}
