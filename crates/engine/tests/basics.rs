mod common;

use common::*;
use sluice_model::{PipelineState, Status, TaskResult};

const HOURLY: &str = r#"{
  "objects": [
    {"id": "Default", "scheduleType": "cron", "failureAndRerunMode": "cascade", "workerGroup": "wg"},
    {"id": "Hourly", "type": "Schedule", "period": "1 hour",
     "startDateTime": "2026-01-01T00:00:00", "occurrences": "3"},
    {"id": "Say", "type": "ShellCommandActivity", "schedule": {"ref": "Hourly"},
     "command": "echo #{format(@scheduledStartTime, 'YYYY-MM-dd HH')}"}
  ]
}"#;

#[test]
fn cron_instances_run_at_interval_start() {
    let mut e = engine(HOURLY, "2026-01-01T00:00:00");
    e.activate(at("2026-01-01T00:00:00"), None).unwrap();
    assert_eq!(ids(&e), vec!["@Say_2026-01-01T00:00:00"]);
    let task = poll(&mut e, at("2026-01-01T00:00:00")).unwrap();
    assert_eq!(task.attempt_id, "@Say_2026-01-01T00:00:00_Attempt=1");
    assert_eq!(field(&task, "command"), Some("echo 2026-01-01 00"));
    assert_eq!(field(&task, "@sphere"), Some("ATTEMPT"));
    assert_eq!(field(&task, "@pipelineId"), Some("df-TEST"));
    assert_eq!(status(&e, "@Say_2026-01-01T00:00:00"), Status::Running);
    e.set_task_status(
        &task.task_id,
        TaskResult::finished(),
        at("2026-01-01T00:01:00"),
    )
    .unwrap();
    assert_eq!(status(&e, "@Say_2026-01-01T00:00:00"), Status::Finished);
    assert_eq!(e.next_wakeup(), Some(at("2026-01-01T01:00:00")));
    run_until(&mut e, at("2026-01-01T05:00:00"));
    assert_eq!(e.summary().get(Status::Finished), 3);
    assert_eq!(e.pipeline_state(), PipelineState::Finished);
}
