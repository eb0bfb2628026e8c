//! How a fired SnsAlarm's fields are evaluated for the instance that fired it, on an engine
//! driven in virtual time, and how the server's ticker publishes it: to a real SNS server
//! (moto), which delivers it to an HTTP listener in the test.

use std::sync::Arc;
use std::time::Duration;

use sluice_catalog::Catalog;
use sluice_data::DataSettings;
use sluice_data::aws::Secret;
use sluice_definition::{Limits, ValidateOptions, load};
use sluice_engine::{ActionEvent, ActionTrigger, Engine, EngineOptions, PipelineRecord, Plan};
use sluice_engine::{MemoryStore, Scheduler, VirtualClock};
use sluice_model::time::parse_datetime;
use sluice_model::{FieldValue, PipelineObject, TaskResult, parse_definition_file};
use sluice_runtime::actions::{deliver, evaluate_action};
use sluice_testsupport::sns::{Moto, NotificationListener};

const DEFINITION: &str = r##"{"objects": [
  {"id": "Default", "scheduleType": "cron", "workerGroup": "wg", "maximumRetries": "0"},
  {"id": "Daily", "type": "Schedule", "period": "1 day", "startDateTime": "2026-01-01T00:00:00"},
  {"id": "Failed", "type": "SnsAlarm", "role": "r", "topicArn": "arn:aws:sns:us-east-1:1:ops",
   "subject": "#{node.name} #{node.@status} for #{format(node.@scheduledStartTime, 'YYYY-MM-dd')}",
   "message": "#{node.@id} ended: #{node.errorMessage} (pipeline #{@pipelineId})"},
  {"id": "Done", "type": "SnsAlarm", "role": "r", "topicArn": "arn:aws:sns:us-east-1:1:ops",
   "subject": "#{node.name} done", "message": "error was #{node.errorMessage}"},
  {"id": "Load", "type": "ShellCommandActivity", "schedule": {"ref": "Daily"}, "command": "run",
   "onFail": {"ref": "Failed"}, "onSuccess": {"ref": "Done"}}
]}"##;

fn at(text: &str) -> chrono::NaiveDateTime {
    parse_datetime(text).unwrap()
}

fn compiled() -> Plan {
    let parsed = parse_definition_file(DEFINITION).unwrap();
    let catalog = Catalog::builtin();
    let options = ValidateOptions {
        now: Some(at("2030-01-01T00:00:00")),
    };
    let (pipeline, _) = load(&parsed.definition, &catalog, &Limits::default(), &options)
        .unwrap_or_else(|report| panic!("{report:?}"));
    Plan::compile(pipeline, &catalog).unwrap()
}

fn engine() -> Engine {
    Engine::new(
        PipelineRecord::new_local("df-ALARMS", at("2026-01-01T00:00:00")),
        compiled(),
        EngineOptions::default(),
    )
}

/// Runs the instance scheduled at `start` to `result` and returns the one event it fires.
fn run_once(e: &mut Engine, start: &str, result: TaskResult) -> ActionEvent {
    let now = at(start);
    let task = e.poll_task(None, "host", now).expect("a task is ready");
    e.set_task_status(&task.task_id, result, now).unwrap();
    let mut events = e.take_action_events();
    assert_eq!(events.len(), 1, "{events:?}");
    events.remove(0)
}

fn text<'a>(alarm: &'a PipelineObject, field: &str) -> &'a str {
    alarm
        .string(field)
        .unwrap_or_else(|| panic!("{field} in {alarm:?}"))
}

#[test]
fn a_failure_alarm_sees_the_failed_instance() {
    let mut e = engine();
    e.activate(at("2026-01-01T00:00:00"), None).unwrap();
    e.advance(at("2026-01-02T00:00:00"));
    let event = run_once(
        &mut e,
        "2026-01-02T00:00:00",
        TaskResult::failed("E1", "disk full on /data"),
    );
    assert_eq!(event.event, ActionTrigger::Fail);
    let alarm = evaluate_action(&e, &event).unwrap();
    assert_eq!(text(&alarm, "subject"), "Load FAILED for 2026-01-01");
    assert_eq!(
        text(&alarm, "message"),
        "@Load_2026-01-01T00:00:00 ended: disk full on /data (pipeline df-ALARMS)"
    );
    assert_eq!(text(&alarm, "topicArn"), "arn:aws:sns:us-east-1:1:ops");
    let node = alarm.values("node").find_map(FieldValue::as_ref_id);
    assert_eq!(node, Some("@Load_2026-01-01T00:00:00"));

    // The next day's instance is a different node with its own fields.
    let event = run_once(
        &mut e,
        "2026-01-02T00:00:00",
        TaskResult::failed("E2", "timeout"),
    );
    let alarm = evaluate_action(&e, &event).unwrap();
    assert_eq!(text(&alarm, "subject"), "Load FAILED for 2026-01-02");
    assert!(text(&alarm, "message").ends_with("ended: timeout (pipeline df-ALARMS)"));
}

#[test]
fn a_field_that_cannot_be_evaluated_is_sent_as_written() {
    let mut e = engine();
    e.activate(at("2026-01-01T00:00:00"), None).unwrap();
    let event = run_once(&mut e, "2026-01-01T00:00:00", TaskResult::finished());
    assert_eq!(event.event, ActionTrigger::Success);
    let alarm = evaluate_action(&e, &event).unwrap();
    assert_eq!(text(&alarm, "subject"), "Load done");
    assert_eq!(
        text(&alarm, "message"),
        "error was #{node.errorMessage}",
        "a finished instance has no errorMessage"
    );
}

#[test]
fn an_event_for_an_unknown_instance_or_action_is_an_error() {
    let e = engine();
    let event = ActionEvent {
        action_id: "Failed".into(),
        action_type: "SnsAlarm".into(),
        node_instance_id: "@Load_2020-01-01T00:00:00".into(),
        event: ActionTrigger::Fail,
        at: at("2026-01-01T00:00:00"),
    };
    let err = evaluate_action(&e, &event).unwrap_err();
    assert!(err.contains("@Load_2020-01-01T00:00:00"), "{err}");
    let event = ActionEvent {
        action_id: "Nope".into(),
        ..event
    };
    assert!(evaluate_action(&e, &event).unwrap_err().contains("Nope"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_ticker_path_publishes_in_the_background_to_the_topic() {
    let moto = Moto::start().unwrap();
    let listener = NotificationListener::start().unwrap();
    let topic = moto.create_topic("ticker-alarms").unwrap();
    moto.subscribe_http(&topic, &listener.url()).unwrap();
    let definition = DEFINITION.replace("arn:aws:sns:us-east-1:1:ops", &topic);
    let parsed = parse_definition_file(&definition).unwrap();
    let catalog = Catalog::builtin();
    let options = ValidateOptions {
        now: Some(at("2030-01-01T00:00:00")),
    };
    let (pipeline, _) = load(&parsed.definition, &catalog, &Limits::default(), &options).unwrap();
    let plan = Plan::compile(pipeline, &catalog).unwrap();
    let clock = Arc::new(VirtualClock::new(at("2026-01-01T00:00:00")));
    let scheduler = Scheduler::open(Arc::new(MemoryStore::new()), clock, "df-TICK", plan)
        .await
        .unwrap();
    scheduler.activate(None).await.unwrap();
    let task = scheduler
        .poll_for_task(None, "host", Duration::ZERO)
        .await
        .unwrap()
        .expect("a task is ready");
    scheduler
        .set_task_status(&task.task_id, TaskResult::failed("E", "no space left"))
        .await
        .unwrap();
    let events = scheduler.take_action_events().await;
    assert_eq!(events.len(), 1, "{events:?}");

    let mut settings = DataSettings::default();
    settings.sns.endpoint = Some(moto.endpoint());
    settings.sns.access_key_id = Some("test".into());
    settings.sns.secret_access_key = Some(Secret::new("test"));
    deliver(&scheduler, &events[0], &settings).await;

    let body = listener
        .next(Duration::from_secs(30))
        .expect("moto delivered the notification");
    let note: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(note["Subject"], "Load FAILED for 2026-01-01", "{note}");
    assert_eq!(
        note["Message"], "@Load_2026-01-01T00:00:00 ended: no space left (pipeline df-TICK)",
        "{note}"
    );
}
