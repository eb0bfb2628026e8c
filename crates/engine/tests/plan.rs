//! Compiling definitions into plans: defaults, dependencies, where components run.

mod common;

use common::*;
use sluice_engine::{FailureMode, PlanDefaults, ScheduleType};
use sluice_model::{Period, PeriodUnit};

const JSON: &str = r##"{
  "objects": [
    {"id": "Default", "scheduleType": "CRON", "failureAndRerunMode": "CASCADE",
     "role": "r", "resourceRole": "rr", "workerGroup": "wg"},
    {"id": "S", "type": "Schedule", "period": "1 hour", "startDateTime": "2026-01-01T00:00:00"},
    {"id": "Ready", "type": "Exists"},
    {"id": "Fmt", "type": "CSV"},
    {"id": "In", "type": "S3DataNode", "schedule": {"ref": "S"}, "filePath": "s3://b/in",
     "dataFormat": {"ref": "Fmt"}, "precondition": {"ref": "Ready"}},
    {"id": "Out", "type": "S3DataNode", "schedule": {"ref": "S"}, "filePath": "s3://b/out",
     "precondition": {"ref": "Ready"}},
    {"id": "Box", "type": "Ec2Resource", "schedule": {"ref": "S"}},
    {"id": "Copy", "type": "CopyActivity", "schedule": {"ref": "S"}, "runsOn": {"ref": "Box"},
     "input": {"ref": "In"}, "output": {"ref": "Out"}, "maximumRetries": "#{myRetries}",
     "retryDelay": "3 minutes", "attemptTimeout": "1 hour", "maxActiveInstances": "2"},
    {"id": "Later", "type": "ShellCommandActivity", "schedule": {"ref": "S"}, "command": "x",
     "input": {"ref": "Out"}, "dependsOn": {"ref": "Copy"}}
  ],
  "parameters": [{"id": "myRetries", "type": "Integer", "default": "4"}]
}"##;

#[test]
fn components_carry_their_policies_and_dependencies() {
    let plan = plan(JSON);
    let get = |id: &str| plan.component(plan.get(id).unwrap());
    let copy = get("Copy");
    assert_eq!(copy.schedule_type, ScheduleType::Cron);
    assert_eq!(copy.failure_mode, FailureMode::Cascade);
    assert_eq!(copy.policy.maximum_retries, 4);
    assert!(copy.policy.retries_explicit);
    assert_eq!(copy.policy.retry_delay, Period::new(3, PeriodUnit::Minutes));
    assert_eq!(
        copy.policy.attempt_timeout,
        Some(Period::new(1, PeriodUnit::Hours))
    );
    assert_eq!(copy.max_active_instances, Some(2));
    assert_eq!(copy.runs_on, plan.get("Box"));
    assert_eq!(copy.producers, vec![plan.get("In").unwrap()]);
    // The output node waits for the activity that produces it.
    assert_eq!(get("Out").producers, vec![plan.get("Copy").unwrap()]);
    assert_eq!(
        get("Later").producers,
        vec![plan.get("Out").unwrap(), plan.get("Copy").unwrap()]
    );
    assert_eq!(get("Box").served, vec![plan.get("Copy").unwrap()]);
    assert!(get("Ready").shared_precondition);
    let refs: Vec<&str> = copy
        .task_refs
        .iter()
        .map(|&r| plan.component(r).id.as_str())
        .collect();
    for id in ["In", "Out", "Box", "S", "Fmt", "Ready"] {
        assert!(refs.contains(&id), "{id} missing from {refs:?}");
    }
    assert!(!refs.contains(&"Later"));
}

#[test]
fn unset_fields_take_the_documented_defaults() {
    let plan = plan(JSON);
    let later = plan.component(plan.get("Later").unwrap());
    assert_eq!(later.policy.maximum_retries, 2);
    assert!(!later.policy.retries_explicit);
    assert_eq!(
        later.policy.retry_delay,
        Period::new(10, PeriodUnit::Minutes)
    );
    assert_eq!(later.policy.report_progress_timeout, None);
    assert_eq!(later.max_active_instances, None);
    assert_eq!(later.worker_group.as_deref(), Some("wg"));

    let strict = PlanDefaults {
        maximum_retries: 0,
        ..PlanDefaults::default()
    };
    let plan = plan_with(JSON, &strict);
    assert_eq!(
        plan.component(plan.get("Later").unwrap())
            .policy
            .maximum_retries,
        0
    );
}

#[test]
fn ondemand_components_run_one_at_a_time_by_default() {
    let plan = plan(
        r#"{"objects": [
        {"id": "Default", "scheduleType": "ondemand", "workerGroup": "wg"},
        {"id": "Job", "type": "ShellCommandActivity", "command": "x"}
      ]}"#,
    );
    assert!(plan.ondemand);
    let job = plan.component(plan.get("Job").unwrap());
    assert_eq!(job.schedule_type, ScheduleType::Ondemand);
    assert_eq!(job.max_active_instances, Some(1));
    assert!(job.schedule.is_none());
}
