//! Activities running on a resource (`runsOn`).

mod common;

use common::*;
use sluice_engine::{
    ChangeSet, Engine, EngineOptions, GroupFilter, PipelineRecord, ResourceAction,
    SERVICE_WORKER_GROUP,
};
use sluice_model::{PipelineState, Status, TaskResult};

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
const BOX_1: &str = "@Box_2026-01-01T00:00:00_Attempt=1";
const BOX_2: &str = "@Box_2026-01-01T00:00:00_Attempt=2";
const JOB: &str = "@Job_2026-01-01T00:00:00";

fn attempt_statuses(e: &Engine, instance: &str) -> Vec<Status> {
    e.attempts_of(instance).iter().map(|a| a.status).collect()
}

fn actions(e: &mut Engine) -> Vec<(ResourceAction, String)> {
    e.take_resource_events()
        .into_iter()
        .map(|ev| (ev.action, ev.attempt_id))
        .collect()
}

/// One hour-long resource and one job on it, with `box_fields` and `job_fields` spliced in.
fn single(box_fields: &str, job_fields: &str) -> String {
    format!(
        r#"{{"objects": [
    {{"id": "Default", "scheduleType": "cron", "role": "r", "resourceRole": "rr",
     "retryDelay": "5 minutes", "reportProgressTimeout": "2 hours"}},
    {{"id": "Hourly", "type": "Schedule", "period": "1 hour",
     "startDateTime": "2026-01-01T00:00:00", "occurrences": "1"}},
    {{"id": "Box", "type": "Ec2Resource", "schedule": {{"ref": "Hourly"}} {box_fields}}},
    {{"id": "Job", "type": "ShellCommandActivity", "schedule": {{"ref": "Hourly"}},
     "runsOn": {{"ref": "Box"}}, "command": "run" {job_fields}}}
  ]}}"#
    )
}

/// Activates `json` and brings its resource up with one running task of Job.
fn running(json: &str) -> (Engine, String) {
    let mut e = engine(json, "2026-01-01T00:00:00");
    let t0 = at("2026-01-01T00:00:00");
    e.activate(t0, None).unwrap();
    assert_eq!(actions(&mut e), [(ResourceAction::Provision, BOX_1.into())]);
    e.resource_provisioned(BOX_1, "local-process:7", "h", t0)
        .unwrap();
    let task = e.poll_task(Some(BOX), "h", t0).unwrap();
    e.report_progress(&task.task_id, &[], t0).unwrap();
    assert_eq!(status(&e, BOX), Status::Running);
    (e, task.task_id)
}

#[test]
fn one_resource_instance_serves_activities_of_a_shorter_period() {
    let mut e = engine(JSON, "2026-01-01T00:00:00");
    let t0 = at("2026-01-01T00:00:00");
    e.activate(t0, None).unwrap();
    assert_eq!(status(&e, BOX), Status::Creating);
    let events = e.take_resource_events();
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].action, ResourceAction::Provision);
    assert_eq!(events[0].worker_group, BOX);
    assert_eq!(events[0].attempt_id, BOX_1);
    assert_eq!(attempt_statuses(&e, BOX), [Status::Creating]);
    e.resource_provisioned(BOX_1, "local-process:42", "box-host", t0)
        .unwrap();
    assert!(e.poll_task(Some("wg"), "h", t0).is_none());
    let task = e.poll_task(Some(BOX), "h", t0).unwrap();
    // Taking the resource's work is what shows its runner is up.
    assert_eq!(status(&e, BOX), Status::Running);
    assert_eq!(attempt_statuses(&e, BOX), [Status::Running]);
    assert_eq!(task.objects["Box"].string("instanceType"), Some("t2.small"));
    let job = &e.attempts_of("@Job_2026-01-01T00:00:00")[0];
    assert_eq!(job.worker_group, BOX);
    assert_eq!(job.fields["@resourceId"], ["local-process:42"]);
    let record = e.instance(BOX).unwrap();
    assert_eq!(record.fields["@resourceId"], ["local-process:42"]);
    assert_eq!(record.fields["hostname"], ["box-host"]);
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
    assert_eq!(status(&e, BOX), Status::ShuttingDown);
    let events = e.take_resource_events();
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].action, ResourceAction::Release);
    assert_eq!(events[0].attempt_id, BOX_1);
    // The pipeline is not done while its resource is still stopping.
    assert_eq!(e.pipeline_state(), PipelineState::Scheduled);
    let t1 = t0 + minutes(41);
    e.resource_stopped(BOX_1, "stopped", t1).unwrap();
    assert_eq!(status(&e, BOX), Status::Finished);
    assert_eq!(attempt_statuses(&e, BOX), [Status::Finished]);
    assert_eq!(e.instance(BOX).unwrap().actual_end, Some(t1));
    assert_eq!(e.pipeline_state(), PipelineState::Finished);
    assert!(e.take_resource_events().is_empty());
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

#[test]
fn terminate_after_times_the_resource_out_and_cancels_its_attempts() {
    let json = single(
        r#", "terminateAfter": "30 minutes""#,
        r#", "maximumRetries": "0""#,
    );
    let (mut e, task) = running(&json);
    let t0 = at("2026-01-01T00:00:00");
    e.advance(t0 + minutes(29));
    assert_eq!(status(&e, BOX), Status::Running);
    e.advance(t0 + minutes(30));
    assert_eq!(status(&e, BOX), Status::TimedOut);
    assert_eq!(attempt_statuses(&e, BOX), [Status::TimedOut]);
    assert!(
        e.instance(BOX).unwrap().fields["@failureReason"][0]
            .contains("terminateAfter (30 minutes)")
    );
    assert_eq!(attempt_statuses(&e, JOB), [Status::Canceled]);
    assert_eq!(
        e.attempts_of(JOB)[0].fields["errorId"],
        ["Service_ResourceTimedOut"]
    );
    assert_eq!(status(&e, JOB), Status::Failed);
    // The runner hears that its task is canceled.
    assert!(e.report_progress(&task, &[], t0 + minutes(30)).unwrap());
    assert_eq!(actions(&mut e), [(ResourceAction::Release, BOX_1.into())]);
    // Its process stopping later changes nothing.
    e.resource_stopped(BOX_1, "stopped", t0 + minutes(31))
        .unwrap();
    assert_eq!(status(&e, BOX), Status::TimedOut);
    assert_eq!(e.pipeline_state(), PipelineState::Finished);
}

#[test]
fn terminate_after_counts_from_when_a_backfilled_resource_comes_up() {
    let json = single(
        r#", "terminateAfter": "30 minutes""#,
        r#", "maximumRetries": "0""#,
    );
    // Activated a day after the interval: the resource is created now, not at midnight.
    let now = at("2026-01-02T00:00:00");
    let mut e = engine(&json, "2026-01-02T00:00:00");
    e.activate(now, None).unwrap();
    assert_eq!(actions(&mut e), [(ResourceAction::Provision, BOX_1.into())]);
    assert_eq!(status(&e, BOX), Status::Creating);
    e.advance(now + minutes(29));
    assert_eq!(status(&e, BOX), Status::Creating);
    e.advance(now + minutes(30));
    assert_eq!(status(&e, BOX), Status::TimedOut);
}

#[test]
fn a_retry_after_a_timeout_starts_the_resource_again() {
    let json = single(
        r#", "terminateAfter": "30 minutes""#,
        r#", "maximumRetries": "1""#,
    );
    let (mut e, _task) = running(&json);
    let t0 = at("2026-01-01T00:00:00");
    e.advance(t0 + minutes(30));
    assert_eq!(status(&e, JOB), Status::WaitingForRunner);
    assert_eq!(actions(&mut e), [(ResourceAction::Release, BOX_1.into())]);
    e.advance(t0 + minutes(35));
    assert_eq!(
        attempt_statuses(&e, JOB),
        [Status::Canceled, Status::WaitingForRunner]
    );
    assert_eq!(status(&e, BOX), Status::Creating);
    assert_eq!(
        attempt_statuses(&e, BOX),
        [Status::TimedOut, Status::Creating]
    );
    assert_eq!(actions(&mut e), [(ResourceAction::Provision, BOX_2.into())]);
    // A report about the first start is stale and changes nothing.
    e.resource_stopped(BOX_1, "stopped", t0 + minutes(36))
        .unwrap();
    assert_eq!(status(&e, BOX), Status::Creating);
    // terminateAfter counts again from the new start.
    e.advance(t0 + minutes(64));
    assert_eq!(status(&e, BOX), Status::Creating);
    e.advance(t0 + minutes(65));
    assert_eq!(status(&e, BOX), Status::TimedOut);
}

#[test]
fn action_on_task_failure_terminate_shuts_the_resource_down() {
    let two_jobs = |action: &str| {
        let json = single(
            &format!(r#", "actionOnTaskFailure": "{action}""#),
            r#", "maximumRetries": "0""#,
        );
        json.replace(
            "\n  ]}",
            r#",
    {"id": "Other", "type": "ShellCommandActivity", "schedule": {"ref": "Hourly"},
     "runsOn": {"ref": "Box"}, "command": "other", "maximumRetries": "1"}
  ]}"#,
        )
    };
    let t0 = at("2026-01-01T00:00:00");
    let other = "@Other_2026-01-01T00:00:00";
    for action in ["continue", "terminate"] {
        let mut e = engine(&two_jobs(action), "2026-01-01T00:00:00");
        e.activate(t0, None).unwrap();
        let a = e.poll_task(Some(BOX), "h", t0).unwrap();
        let b = e.poll_task(Some(BOX), "h", t0).unwrap();
        let (job, rest) = if a.attempt_id.starts_with(JOB) {
            (a, b)
        } else {
            (b, a)
        };
        actions(&mut e);
        e.set_task_status(&job.task_id, TaskResult::failed("E", "boom"), t0)
            .unwrap();
        assert_eq!(status(&e, JOB), Status::Failed);
        if action == "continue" {
            assert_eq!(status(&e, BOX), Status::Running, "{action}");
            assert_eq!(status(&e, other), Status::Running, "{action}");
            assert!(actions(&mut e).is_empty());
            continue;
        }
        assert_eq!(status(&e, BOX), Status::ShuttingDown);
        assert_eq!(actions(&mut e), [(ResourceAction::Release, BOX_1.into())]);
        assert_eq!(attempt_statuses(&e, other), [Status::Canceled]);
        assert_eq!(status(&e, other), Status::WaitingForRunner);
        assert!(e.report_progress(&rest.task_id, &[], t0).unwrap());
        // Once stopped, the retry of the other job needs the resource again.
        e.resource_stopped(BOX_1, "stopped", t0 + minutes(1))
            .unwrap();
        assert_eq!(status(&e, BOX), Status::Creating);
        assert_eq!(
            attempt_statuses(&e, BOX),
            [Status::Finished, Status::Creating]
        );
        assert_eq!(actions(&mut e), [(ResourceAction::Provision, BOX_2.into())]);
    }
}

#[test]
fn retryall_starts_the_resource_again_and_retries_the_attempts_it_ran() {
    let json = single(r#", "maximumRetries": "1""#, r#", "maximumRetries": "2""#);
    let (mut e, task) = running(&json);
    let t0 = at("2026-01-01T00:00:00");
    let t1 = t0 + minutes(1);
    e.resource_stopped(BOX_1, "the task runner exited: signal 9", t1)
        .unwrap();
    assert_eq!(
        attempt_statuses(&e, BOX),
        [Status::Failed, Status::Creating]
    );
    assert_eq!(status(&e, BOX), Status::Creating);
    assert_eq!(actions(&mut e), [(ResourceAction::Provision, BOX_2.into())]);
    assert_eq!(attempt_statuses(&e, JOB), [Status::Failed]);
    assert_eq!(
        e.attempts_of(JOB)[0].fields["errorId"],
        ["Service_ResourceFailed"]
    );
    assert_eq!(status(&e, JOB), Status::WaitingForRunner);
    assert!(
        e.report_progress(&task, &[], t1)
            .is_ok_and(|canceled| canceled)
    );
    // The resource's retries are used up by the second failure.
    e.advance(t0 + minutes(6));
    let task = e.poll_task(Some(BOX), "h", t0 + minutes(6)).unwrap();
    assert_eq!(status(&e, BOX), Status::Running);
    e.resource_stopped(BOX_2, "died again", t0 + minutes(7))
        .unwrap();
    assert_eq!(status(&e, BOX), Status::Failed);
    assert_eq!(
        e.instance(BOX).unwrap().fields["@failureReason"],
        ["died again"]
    );
    assert_eq!(status(&e, JOB), Status::Failed);
    assert!(
        e.report_progress(&task.task_id, &[], t0 + minutes(7))
            .unwrap()
    );
    assert_eq!(e.pipeline_state(), PipelineState::Finished);
}

#[test]
fn retrynone_fails_the_resource_and_the_attempts_it_ran() {
    let json = single(
        r#", "actionOnResourceFailure": "retrynone""#,
        r#", "maximumRetries": "2""#,
    );
    let (mut e, _task) = running(&json);
    let t1 = at("2026-01-01T00:01:00");
    e.resource_stopped(BOX_1, "the task runner exited: exit status: 1", t1)
        .unwrap();
    assert_eq!(status(&e, BOX), Status::Failed);
    assert_eq!(attempt_statuses(&e, BOX), [Status::Failed]);
    assert_eq!(status(&e, JOB), Status::Failed);
    assert!(e.instance(JOB).unwrap().fields["errorMessage"][0].contains("exit status: 1"));
    assert!(actions(&mut e).is_empty());
}

#[test]
fn a_restored_resource_that_was_up_is_provisioned_again() {
    let json = single("", r#", "maximumRetries": "1""#);
    let (mut e, _task) = running(&json);
    // Everything so far is in one change set, holding each record's latest version once.
    let changes: ChangeSet = e.take_changes();
    let pipeline: PipelineRecord = changes.pipelines.last().unwrap().clone();
    let (instances, attempts) = (changes.instances, changes.attempts);
    let t1 = at("2026-01-01T00:02:00");
    let mut e = Engine::restore(
        plan(&json),
        pipeline,
        instances,
        attempts,
        t1,
        EngineOptions::default(),
    );
    assert_eq!(
        attempt_statuses(&e, BOX),
        [Status::Failed, Status::Creating]
    );
    assert_eq!(status(&e, BOX), Status::Creating);
    assert_eq!(actions(&mut e), [(ResourceAction::Provision, BOX_2.into())]);
    // The job's running attempt was a lost lease; its retry waits for the new start.
    assert_eq!(attempt_statuses(&e, JOB), [Status::Failed]);
    e.advance(at("2026-01-01T00:07:00"));
    assert_eq!(
        attempt_statuses(&e, JOB),
        [Status::Failed, Status::WaitingForRunner]
    );
    assert!(
        e.poll_task(Some(BOX), "h", at("2026-01-01T00:07:00"))
            .is_some()
    );
    assert_eq!(status(&e, BOX), Status::Running);
}

#[test]
fn the_service_runner_takes_unnamed_groups_and_service_checks_only() {
    let json = r#"{"objects": [
    {"id": "Default", "scheduleType": "cron"},
    {"id": "Hourly", "type": "Schedule", "period": "1 hour",
     "startDateTime": "2026-01-01T00:00:00", "occurrences": "1"},
    {"id": "Key", "type": "S3KeyExists", "s3Key": "s3://bucket/ready", "role": "r"},
    {"id": "Named", "type": "ShellCommandActivity", "schedule": {"ref": "Hourly"},
     "workerGroup": "team", "command": "named", "precondition": {"ref": "Key"}}
  ]}"#;
    let mut e = engine(json, "2026-01-01T00:00:00");
    let t0 = at("2026-01-01T00:00:00");
    e.activate(t0, None).unwrap();
    let mut local = Vec::new();
    while let Some(task) = e.poll_task_in(GroupFilter::Local { extra: &[] }, "service", t0) {
        local.push(task.attempt_id.clone());
        e.set_task_status(&task.task_id, TaskResult::finished(), t0)
            .unwrap();
    }
    // (Validation requires runsOn or workerGroup on activities, so the unnamed group only
    // holds work of definitions that predate that rule.)
    assert_eq!(local, ["@Key_2026-01-01T00:00:00_Attempt=1"]);
    let check = &e.attempts_of("@Key_2026-01-01T00:00:00")[0];
    assert_eq!(check.worker_group, SERVICE_WORKER_GROUP);
    // The activity itself waits for a runner of its own group.
    assert_eq!(
        status(&e, "@Named_2026-01-01T00:00:00"),
        Status::WaitingForRunner
    );
    assert!(
        e.poll_task_in(GroupFilter::Local { extra: &[] }, "service", t0)
            .is_none()
    );
    // Unless the service's runner is configured to take that group too.
    let extra = ["team".to_owned()];
    let task = e
        .poll_task_in(GroupFilter::Local { extra: &extra }, "service", t0)
        .unwrap();
    assert_eq!(task.attempt_id, "@Named_2026-01-01T00:00:00_Attempt=1");
}

#[test]
fn deactivating_with_cancel_active_stops_a_starting_resource() {
    let json = single("", r#", "maximumRetries": "1""#);
    let mut e = engine(&json, "2026-01-01T00:00:00");
    let t0 = at("2026-01-01T00:00:00");
    e.activate(t0, None).unwrap();
    assert_eq!(actions(&mut e), [(ResourceAction::Provision, BOX_1.into())]);
    assert_eq!(status(&e, BOX), Status::Creating);
    e.deactivate(t0 + minutes(1), true).unwrap();
    assert_eq!(status(&e, BOX), Status::Canceled);
    assert_eq!(attempt_statuses(&e, BOX), [Status::Canceled]);
    assert_eq!(status(&e, JOB), Status::Canceled);
    assert_eq!(actions(&mut e), [(ResourceAction::Release, BOX_1.into())]);
    // The runner stopping afterwards changes nothing.
    e.resource_stopped(BOX_1, "stopped", t0 + minutes(2))
        .unwrap();
    assert_eq!(status(&e, BOX), Status::Canceled);
}

#[test]
fn a_field_sluice_never_reads_goes_on_as_written_when_it_cannot_be_evaluated() {
    // `imageId` only matters to AWS; `1 / myZero` fails (division of a number by text).
    let json = single(r##", "myZero": "zero", "imageId": "#{1 / myZero}""##, "");
    let mut e = engine(&json, "2026-01-01T00:00:00");
    let t0 = at("2026-01-01T00:00:00");
    e.activate(t0, None).unwrap();
    e.resource_provisioned(BOX_1, "local-process:7", "h", t0)
        .unwrap();
    let job = e.poll_task(Some(BOX), "h", t0);
    let job = job.unwrap_or_else(|| panic!("the job's attempt failed: {:?}", e.instance(JOB)));
    assert_eq!(job.objects["Box"].string("imageId"), Some("#{1 / myZero}"));

    // The same expression in a field an executor reads fails the attempt.
    let json = single(
        "",
        r##", "myZero": "zero", "scriptArgument": "#{1 / myZero}""##,
    );
    let mut e = engine(&json, "2026-01-01T00:00:00");
    e.activate(t0, None).unwrap();
    e.resource_provisioned(BOX_1, "local-process:7", "h", t0)
        .unwrap();
    assert!(e.poll_task(Some(BOX), "h", t0).is_none());
    assert_eq!(status(&e, JOB), Status::Failed);
    assert_eq!(
        e.instance(JOB).unwrap().fields["errorId"],
        vec!["Service_EvaluationError"]
    );
}
