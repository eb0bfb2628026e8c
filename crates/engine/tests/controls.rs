//! Operator controls: maxActiveInstances, SetStatus, activation and deactivation.

mod common;

use common::*;
use sluice_engine::{Engine, EngineError};
use sluice_model::{PipelineState, Status, TaskResult};

fn hourly(extra: &str) -> String {
    format!(
        r#"{{"objects": [
    {{"id": "Default", "scheduleType": "cron", "workerGroup": "wg", "maximumRetries": "0"}},
    {{"id": "S", "type": "Schedule", "period": "1 hour", "startDateTime": "2026-01-01T00:00:00"}},
    {{"id": "Job", "type": "ShellCommandActivity", "schedule": {{"ref": "S"}}, "command": "run"
      {extra}}},
    {{"id": "Other", "type": "ShellCommandActivity", "schedule": {{"ref": "S"}}, "command": "o"}}
  ]}}"#
    )
}

fn job(hour: u32) -> String {
    format!("@Job_2026-01-01T{hour:02}:00:00")
}

#[test]
fn max_active_instances_limits_concurrent_instances_in_interval_order() {
    let mut e = engine(
        &hourly(r#", "maxActiveInstances": "2""#),
        "2026-01-01T05:00:00",
    );
    let now = at("2026-01-01T04:30:00");
    e.activate(now, None).unwrap();
    let mut running = Vec::new();
    while let Some(task) = e.poll_task(Some("wg"), "h", now) {
        if task.attempt_id.starts_with("@Job") {
            running.push(task);
        } else {
            e.set_task_status(&task.task_id, TaskResult::finished(), now)
                .unwrap();
        }
    }
    let ids: Vec<_> = running.iter().map(|t| t.attempt_id.as_str()).collect();
    assert_eq!(
        ids,
        vec![
            format!("{}_Attempt=1", job(0)),
            format!("{}_Attempt=1", job(1))
        ]
    );
    assert_eq!(status(&e, &job(2)), Status::WaitingOnDependencies);
    e.set_task_status(&running[0].task_id, TaskResult::finished(), now)
        .unwrap();
    let next = e.poll_task(Some("wg"), "h", now).unwrap();
    assert_eq!(next.attempt_id, format!("{}_Attempt=1", job(2)));
    // A failure frees the slot as well.
    e.set_task_status(&running[1].task_id, TaskResult::failed("E", "x"), now)
        .unwrap();
    let next = e.poll_task(Some("wg"), "h", now).unwrap();
    assert_eq!(next.attempt_id, format!("{}_Attempt=1", job(3)));
    assert!(e.poll_task(Some("wg"), "h", now).is_none());
}

#[test]
fn pause_holds_new_work_and_resume_releases_it() {
    let mut e = engine(&hourly(""), "2026-01-01T00:00:00");
    let t0 = at("2026-01-01T00:00:00");
    e.activate(t0, None).unwrap();
    let running = e.poll_task(Some("wg"), "h", t0).unwrap();
    assert_eq!(running.attempt_id, format!("{}_Attempt=1", job(0)));
    e.set_status(&["Job".to_owned()], "pause", t0).unwrap();
    // Running work goes on and may finish; what is not running shows PAUSED and is not
    // handed out.
    assert_eq!(status(&e, &job(0)), Status::Running);
    e.set_task_status(
        &running.task_id,
        TaskResult::finished(),
        at("2026-01-01T00:01:00"),
    )
    .unwrap();
    assert_eq!(status(&e, &job(0)), Status::Finished);
    let t1 = at("2026-01-01T01:00:00");
    e.advance(t1);
    assert_eq!(status(&e, &job(1)), Status::Paused);
    let record = e.instance(&job(1)).unwrap();
    assert_eq!(record.status, Status::Paused);
    assert_eq!(record.fields["@pausedFrom"], vec!["WAITING_FOR_RUNNER"]);
    let mut handed = Vec::new();
    while let Some(task) = e.poll_task(Some("wg"), "h", t1) {
        handed.push(task.attempt_id.clone());
        e.set_task_status(&task.task_id, TaskResult::finished(), t1)
            .unwrap();
    }
    assert_eq!(
        handed,
        vec![
            "@Other_2026-01-01T00:00:00_Attempt=1",
            "@Other_2026-01-01T01:00:00_Attempt=1"
        ]
    );
    assert!(!e.is_settled(t1));
    e.set_status(&["Job".to_owned()], "RESUME", t1).unwrap();
    assert_eq!(status(&e, &job(1)), Status::WaitingForRunner);
    let task = e.poll_task(Some("wg"), "h", t1).unwrap();
    assert_eq!(task.attempt_id, format!("{}_Attempt=1", job(1)));
}

#[test]
fn try_cancel_cancels_running_and_waiting_instances() {
    let mut e = engine(&hourly(""), "2026-01-01T00:00:00");
    let t0 = at("2026-01-01T00:00:00");
    e.activate(t0, None).unwrap();
    let running = e.poll_task(Some("wg"), "h", t0).unwrap();
    assert_eq!(running.attempt_id, format!("{}_Attempt=1", job(0)));
    e.set_status(
        &[job(0), "@Other_2026-01-01T00:00:00".to_owned()],
        "TRY_CANCEL",
        t0,
    )
    .unwrap();
    assert_eq!(status(&e, &job(0)), Status::Canceled);
    assert_eq!(status(&e, "@Other_2026-01-01T00:00:00"), Status::Canceled);
    // The running task is told at once; the waiting one had no runner to tell.
    assert_eq!(e.take_canceled_tasks(), [running.task_id.as_str()]);
    assert_eq!(e.report_progress(&running.task_id, &[], t0), Ok(true));
    assert!(e.poll_task(Some("wg"), "h", t0).is_none());
    // CANCEL is the legacy spelling; terminal instances are left alone.
    e.set_status(&[job(0)], "cancel", t0).unwrap();
    assert_eq!(status(&e, &job(0)), Status::Canceled);
    assert!(e.take_canceled_tasks().is_empty());
}

#[test]
fn set_status_rejects_bad_requests() {
    let mut e = engine(&hourly(""), "2026-01-01T00:00:00");
    let t0 = at("2026-01-01T00:00:00");
    e.activate(t0, None).unwrap();
    let mixed = e.set_status(&["Job".to_owned(), job(0)], "PAUSE", t0);
    assert!(matches!(mixed, Err(EngineError::InvalidRequest(_))));
    let wrong_kind = e.set_status(&[job(0)], "PAUSE", t0);
    assert!(matches!(wrong_kind, Err(EngineError::InvalidRequest(_))));
    let wrong_kind = e.set_status(&["Job".to_owned()], "RERUN", t0);
    assert!(matches!(wrong_kind, Err(EngineError::InvalidRequest(_))));
    let unknown = e.set_status(&["Nope".to_owned()], "PAUSE", t0);
    assert_eq!(unknown, Err(EngineError::ObjectNotFound("Nope".into())));
    let bad = e.set_status(&["Job".to_owned()], "STOP", t0);
    assert!(matches!(bad, Err(EngineError::InvalidRequest(_))));
}

#[test]
fn reactivation_with_a_start_timestamp_skips_the_intervals_before_it() {
    let mut e = engine(&hourly(""), "2026-01-01T00:00:00");
    let t0 = at("2026-01-01T00:00:00");
    e.activate(t0, None).unwrap();
    finish_all(&mut e, t0);
    e.deactivate(at("2026-01-01T00:30:00"), true).unwrap();
    assert_eq!(e.pipeline_state(), PipelineState::Inactive);
    e.advance(at("2026-01-01T05:30:00"));
    assert!(e.poll_task(None, "h", at("2026-01-01T05:30:00")).is_none());
    assert_eq!(e.instance_count(), 2);
    e.activate(at("2026-01-01T05:30:00"), Some(at("2026-01-01T04:00:00")))
        .unwrap();
    for hour in 1..4 {
        assert_eq!(status(&e, &job(hour)), Status::Skipped, "hour {hour}");
    }
    assert_eq!(status(&e, &job(4)), Status::WaitingForRunner);
    assert_eq!(status(&e, &job(5)), Status::WaitingForRunner);
    assert_eq!(e.summary().get(Status::Skipped), 6);
}

#[test]
fn reactivation_without_a_start_timestamp_catches_up() {
    let mut e = engine(&hourly(""), "2026-01-01T00:00:00");
    let t0 = at("2026-01-01T00:00:00");
    e.activate(t0, None).unwrap();
    e.deactivate(at("2026-01-01T00:30:00"), false).unwrap();
    e.activate(at("2026-01-01T03:30:00"), None).unwrap();
    assert_eq!(e.summary().get(Status::WaitingForRunner), 8);
}

#[test]
fn deactivation_with_cancel_active_cancels_work_in_progress() {
    let mut e = engine(&hourly(""), "2026-01-01T00:00:00");
    let t0 = at("2026-01-01T00:00:00");
    e.activate(t0, None).unwrap();
    let running = poll(&mut e, t0).unwrap();
    e.deactivate(t0, true).unwrap();
    assert_eq!(e.summary().get(Status::Canceled), 2);
    assert_eq!(e.take_canceled_tasks(), [running.task_id.as_str()]);
    assert_eq!(e.report_progress(&running.task_id, &[], t0), Ok(true));
    assert_eq!(e.pipeline_state(), PipelineState::Inactive);

    // Without cancelActive the running task ends on its runner: DEACTIVATING until then.
    let mut e = engine(&hourly(""), "2026-01-01T00:00:00");
    e.activate(t0, None).unwrap();
    let running = poll(&mut e, t0).unwrap();
    e.deactivate(t0, false).unwrap();
    assert_eq!(e.pipeline_state(), PipelineState::Deactivating);
    assert!(e.take_canceled_tasks().is_empty());
    assert!(poll(&mut e, t0).is_none());
    e.set_task_status(&running.task_id, TaskResult::finished(), t0)
        .unwrap();
    assert_eq!(e.pipeline_state(), PipelineState::Inactive);
    assert_eq!(
        status(&e, &running.attempt_id[..running.attempt_id.len() - 10]),
        Status::Finished
    );
}

const ONDEMAND: &str = r#"{"objects": [
    {"id": "Default", "scheduleType": "ondemand", "workerGroup": "wg"},
    {"id": "Prep", "type": "ShellCommandActivity", "command": "prep"},
    {"id": "Job", "type": "ShellCommandActivity", "command": "run", "dependsOn": {"ref": "Prep"}}
  ]}"#;

#[test]
fn a_waiting_instance_names_what_it_waits_on() {
    let mut e = engine(ONDEMAND, "2026-01-01T00:00:00");
    let t0 = at("2026-01-01T08:00:00");
    e.activate(t0, None).unwrap();
    let job = "@Job_2026-01-01T08:00:00";
    let waiting_on = |e: &Engine| e.instance(job).unwrap().fields.get("@waitingOn").cloned();
    assert_eq!(
        waiting_on(&e),
        Some(vec!["@Prep_2026-01-01T08:00:00".to_owned()])
    );
    let prep = poll(&mut e, t0).unwrap();
    e.set_task_status(&prep.task_id, TaskResult::finished(), t0)
        .unwrap();
    assert_eq!(status(&e, job), Status::WaitingForRunner);
    assert_eq!(waiting_on(&e), None);
}

#[test]
fn each_ondemand_activation_starts_one_run() {
    let mut e = engine(ONDEMAND, "2026-01-01T00:00:00");
    let first = at("2026-01-01T08:00:00");
    e.activate(first, None).unwrap();
    assert_eq!(
        ids(&e),
        vec!["@Job_2026-01-01T08:00:00", "@Prep_2026-01-01T08:00:00"]
    );
    let second = at("2026-01-01T09:15:00");
    e.activate(second, None).unwrap();
    assert_eq!(e.instance_count(), 4);
    // maxActiveInstances defaults to 1 for ondemand: the second run waits for the first.
    let prep = poll(&mut e, second).unwrap();
    assert_eq!(prep.attempt_id, "@Prep_2026-01-01T08:00:00_Attempt=1");
    assert!(poll(&mut e, second).is_none());
    e.set_task_status(&prep.task_id, TaskResult::finished(), second)
        .unwrap();
    let done = finish_all(&mut e, second);
    assert_eq!(
        done,
        vec![
            "@Prep_2026-01-01T09:15:00_Attempt=1",
            "@Job_2026-01-01T08:00:00_Attempt=1",
            "@Job_2026-01-01T09:15:00_Attempt=1"
        ]
    );
    assert_eq!(e.pipeline_state(), PipelineState::Scheduled);
    assert!(e.is_settled(second));
}
