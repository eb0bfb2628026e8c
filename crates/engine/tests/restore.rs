//! Rebuilding an engine from its records mid-run, as after a crash.

mod common;

use std::collections::BTreeMap;

use common::*;
use std::sync::Arc;

use sluice_engine::{
    AttemptRecord, ChangeSet, Engine, EngineOptions, GroupFilter, InProcessRunner, InstanceRecord,
    Interrupted, PipelineRecord,
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
        self.restore_with(json, now, EngineOptions::default())
    }

    fn restore_with(&self, json: &str, now: &str, options: EngineOptions) -> Engine {
        Engine::restore(
            plan(json),
            self.pipeline.clone().unwrap(),
            self.instances.values().cloned().collect(),
            self.attempts.values().cloned().collect(),
            at(now),
            options,
        )
    }

    fn attempt(&self, id: &str) -> &AttemptRecord {
        &self.attempts[id]
    }
}

/// The options of a process named `process` that runs tasks itself, knowing `live` other
/// processes to be alive.
fn in_process(process: &str, live: &[&str]) -> EngineOptions {
    EngineOptions {
        in_process: Some(Arc::new(InProcessRunner {
            process: process.to_owned(),
            live: live.iter().map(|p| (*p).to_owned()).collect(),
        })),
        ..EngineOptions::default()
    }
}

/// An engine for `json` created at `created` in process `process`.
fn engine_in(json: &str, created: &str, process: &str) -> Engine {
    Engine::new(
        PipelineRecord::new_local("df-TEST", at(created)),
        plan(json),
        in_process(process, &[]),
    )
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

/// One ondemand activity with the default `retryDelay` (10 minutes) and one retry.
const LONG: &str = r#"{"objects": [
    {"id": "Default", "scheduleType": "ondemand", "workerGroup": "wg", "maximumRetries": "1"},
    {"id": "Long", "type": "ShellCommandActivity", "command": "sleep 300"}
  ]}"#;

const LONG_INSTANCE: &str = "@Long_2026-01-01T00:00:00";

#[test]
fn an_attempt_a_stopped_process_left_running_is_retried_at_once_and_counts_against_retries() {
    let mut records = Records::default();
    let mut e = engine_in(LONG, "2026-01-01T00:00:00", "first");
    let t0 = at("2026-01-01T00:00:00");
    e.activate(t0, None).unwrap();
    let first = poll(&mut e, t0).unwrap();
    records.apply(e.take_changes());
    assert_eq!(
        records.attempt(&first.attempt_id).taskrunner_id.as_deref(),
        Some("in-process:first"),
        "the in-process runner's attempt records the process"
    );
    assert!(e.interrupted().is_empty());
    drop(e);

    // The process died; the next one starts a minute later.
    let mut e = records.restore_with(LONG, "2026-01-01T00:01:00", in_process("second", &[]));
    let ended = &e.attempts_of(LONG_INSTANCE)[0];
    assert_eq!(ended.status, Status::Failed);
    assert_eq!(ended.fields["errorId"], ["Service_Interrupted"]);
    assert!(
        ended.fields["errorMessage"][0].starts_with("interrupted: the process that ran it stopped"),
        "{:?}",
        ended.fields["errorMessage"]
    );
    assert_eq!(
        e.interrupted(),
        [Interrupted {
            instance_id: LONG_INSTANCE.to_owned(),
            attempt_id: first.attempt_id.clone(),
            retried: true,
        }]
    );
    assert_eq!(e.next_wakeup(), Some(at("2026-01-01T00:01:00")));
    // Not after retryDelay: now.
    let second = poll(&mut e, at("2026-01-01T00:01:00")).unwrap();
    assert_eq!(second.attempt_id, format!("{LONG_INSTANCE}_Attempt=2"));
    records.apply(e.take_changes());
    drop(e);

    // A task that kills the process running it each time: the retry counted, so the next
    // interruption fails the instance instead of looping.
    let mut e = records.restore_with(LONG, "2026-01-01T00:02:00", in_process("third", &[]));
    assert_eq!(
        e.interrupted(),
        [Interrupted {
            instance_id: LONG_INSTANCE.to_owned(),
            attempt_id: second.attempt_id.clone(),
            retried: false,
        }]
    );
    assert_eq!(status(&e, LONG_INSTANCE), Status::Failed);
    assert!(poll(&mut e, at("2026-01-01T00:30:00")).is_none());
}

#[test]
fn only_a_gone_processs_in_process_attempts_are_resumed_at_once() {
    const GROUPS: &str = r#"{"objects": [
        {"id": "Default", "scheduleType": "ondemand", "workerGroup": "local",
         "maximumRetries": "1"},
        {"id": "Mine", "type": "ShellCommandActivity", "command": "a"},
        {"id": "Gone", "type": "ShellCommandActivity", "command": "b"},
        {"id": "Live", "type": "ShellCommandActivity", "command": "c"},
        {"id": "Remote", "type": "ShellCommandActivity", "command": "d", "workerGroup": "wg"}
      ]}"#;
    let instance = |c: &str| format!("@{c}_2026-01-01T00:00:00");
    let t0 = at("2026-01-01T00:00:00");
    let mut records = Records::default();
    let mut e = engine_in(GROUPS, "2026-01-01T00:00:00", "server-a");
    e.activate(t0, None).unwrap();
    let remote = e.poll_task(Some("wg"), "remote-host", t0).unwrap();
    let mut taken = Vec::new();
    let local = ["local".to_owned()];
    while let Some(task) = e.poll_task_in(GroupFilter::Local { extra: &local }, "h", t0) {
        taken.push(task.attempt_id);
    }
    assert_eq!(taken.len(), 3);
    records.apply(e.take_changes());
    assert_eq!(records.attempt(&remote.attempt_id).taskrunner_id, None);
    // The three in-process attempts as three processes' runners would have left them.
    for (component, process) in [
        ("Mine", "server-b"),
        ("Gone", "server-a"),
        ("Live", "server-c"),
    ] {
        let id = format!("{}_Attempt=1", instance(component));
        records.attempts.get_mut(&id).unwrap().taskrunner_id =
            Some(format!("in-process:{process}"));
    }
    drop(e);

    // Server B restores with server C alive; server A is gone.
    let restore = |adopt: bool| {
        let mut options = in_process("server-b", &["server-c"]);
        options.adopt_running = adopt;
        records.restore_with(GROUPS, "2026-01-01T00:01:00", options)
    };
    for adopt in [false, true] {
        let mut e = restore(adopt);
        let error_of = |e: &Engine, component: &str| {
            e.attempts_of(&instance(component))[0].fields["errorId"][0].clone()
        };
        assert_eq!(
            e.interrupted()
                .iter()
                .map(|a| a.instance_id.clone())
                .collect::<Vec<_>>(),
            [instance("Gone")]
        );
        assert_eq!(error_of(&e, "Gone"), "Service_Interrupted");
        // Its own runner's, a live server's and (unless adopted) a remote runner's attempts
        // keep the lease rules: lost leases, retried after retryDelay.
        assert_eq!(error_of(&e, "Mine"), "Service_LeaseLost");
        assert_eq!(error_of(&e, "Live"), "Service_LeaseLost");
        let remote_attempt = &e.attempts_of(&instance("Remote"))[0];
        if adopt {
            assert_eq!(remote_attempt.status, Status::Running);
            assert_eq!(
                e.report_progress(&remote.task_id, &[], at("2026-01-01T00:01:00")),
                Ok(false)
            );
        } else {
            assert_eq!(remote_attempt.fields["errorId"], ["Service_LeaseLost"]);
        }
        let now: Vec<String> =
            std::iter::from_fn(|| poll(&mut e, at("2026-01-01T00:01:00")).map(|t| t.attempt_id))
                .collect();
        assert_eq!(now, [format!("{}_Attempt=2", instance("Gone"))]);
        let mut later: Vec<String> =
            std::iter::from_fn(|| poll(&mut e, at("2026-01-01T00:11:00")).map(|t| t.attempt_id))
                .collect();
        later.sort();
        let mut expected = vec![
            format!("{}_Attempt=2", instance("Live")),
            format!("{}_Attempt=2", instance("Mine")),
        ];
        if !adopt {
            expected.push(format!("{}_Attempt=2", instance("Remote")));
        }
        expected.sort();
        assert_eq!(later, expected);
    }

    // An engine that does not know its process resumes nothing at once.
    let e = records.restore(GROUPS, "2026-01-01T00:01:00");
    assert!(e.interrupted().is_empty());
    assert_eq!(
        e.attempts_of(&instance("Gone"))[0].fields["errorId"],
        ["Service_LeaseLost"]
    );
}
