//! Objects keep the definition version they were created under: after an activation with
//! other parameter values, earlier instances and attempts still show (and evaluate against)
//! the definition they ran with, also after a restart.

mod common;

use common::{ALICE, Api, field, quick, quick_options};
use serde_json::{Value, json};
use sluice_api::ApiConfig;
use sluice_engine::Store;

const GREET: &str = r##"{
  "objects": [
    {"id": "Default", "name": "Default", "scheduleType": "ondemand", "workerGroup": "wg-1",
     "maximumRetries": "0"},
    {"id": "Greet", "name": "Greet", "type": "ShellCommandActivity", "command": "echo #{myG}"}
  ],
  "parameters": [{"id": "myG", "type": "String"}],
  "values": {"myG": "one"}
}"##;

const OLD: &str = "@Greet_2026-01-01T00:00:00";
const OLD_ATTEMPT: &str = "@Greet_2026-01-01T00:00:00_Attempt=1";
const NEW: &str = "@Greet_2026-01-01T00:01:00";
const NEW_ATTEMPT: &str = "@Greet_2026-01-01T00:01:00_Attempt=1";

/// Polls one task, checks its command and `@version`, and finishes it.
async fn run_one(api: &Api, command: &str, version: &str) {
    let task = api.poll(ALICE, "wg-1").await;
    let object = &task["taskObject"]["objects"][task["taskObject"]["attemptId"].as_str().unwrap()];
    assert_eq!(field(object, "command").as_deref(), Some(command), "{task}");
    assert_eq!(
        field(object, "@version").as_deref(),
        Some(version),
        "{task}"
    );
    let task_id = task["taskObject"]["taskId"].as_str().unwrap();
    api.ok(
        ALICE,
        "SetTaskStatus",
        json!({"taskId": task_id, "taskStatus": "FINISHED"}),
    )
    .await;
}

async fn describe(api: &Api, id: &str, objects: &[&str]) -> Vec<Value> {
    let reply = api
        .ok(
            ALICE,
            "DescribeObjects",
            json!({"pipelineId": id, "objectIds": objects, "evaluateExpressions": true}),
        )
        .await;
    reply["pipelineObjects"].as_array().unwrap().clone()
}

async fn evaluate(api: &Api, id: &str, object: &str) -> String {
    let reply = api
        .ok(
            ALICE,
            "EvaluateExpression",
            json!({"pipelineId": id, "objectId": object, "expression": "#{myG} #{command}"}),
        )
        .await;
    reply["evaluatedExpression"].as_str().unwrap().to_owned()
}

/// Old objects show version 1 and `one`, new ones version 2 and `two`, the component the
/// current definition.
async fn assert_versions(api: &Api, id: &str) {
    let objects = describe(api, id, &["Greet", OLD, OLD_ATTEMPT, NEW, NEW_ATTEMPT]).await;
    let expected = [
        ("Greet", "echo two", "2"),
        (OLD, "echo one", "1"),
        (OLD_ATTEMPT, "echo one", "1"),
        (NEW, "echo two", "2"),
        (NEW_ATTEMPT, "echo two", "2"),
    ];
    assert_eq!(objects.len(), expected.len(), "{objects:?}");
    for (object, (object_id, command, version)) in objects.iter().zip(expected) {
        assert_eq!(object["id"], object_id);
        assert_eq!(
            field(object, "command").as_deref(),
            Some(command),
            "{object}"
        );
        assert_eq!(
            field(object, "@version").as_deref(),
            Some(version),
            "{object}"
        );
        let versions = object["fields"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|f| f["key"] == "@version")
            .count();
        assert_eq!(versions, 1, "one @version field: {object}");
    }
    assert_eq!(evaluate(api, id, OLD).await, "one echo one");
    assert_eq!(evaluate(api, id, OLD_ATTEMPT).await, "one echo one");
    assert_eq!(evaluate(api, id, NEW).await, "two echo two");
    assert_eq!(evaluate(api, id, NEW_ATTEMPT).await, "two echo two");
    assert_eq!(evaluate(api, id, "Greet").await, "two echo two");

    let old_ones = api
        .query(
            ALICE,
            id,
            "ATTEMPT",
            json!({"selectors": [{"fieldName": "@version",
                                  "operator": {"type": "EQ", "values": ["1"]}}]}),
        )
        .await;
    assert_eq!(old_ones, [OLD_ATTEMPT]);
    let new_ones = api
        .query(
            ALICE,
            id,
            "INSTANCE",
            json!({"selectors": [{"fieldName": "@version",
                                  "operator": {"type": "EQ", "values": ["2"]}}]}),
        )
        .await;
    assert_eq!(new_ones, [NEW]);
}

async fn activated_twice(api: &Api) -> String {
    let id = api.activated(ALICE, "versions", GREET).await;
    run_one(api, "echo one", "1").await;
    assert_eq!(evaluate(api, &id, OLD).await, "one echo one");
    api.clock.advance(chrono::Duration::minutes(1));
    api.ok(
        ALICE,
        "ActivatePipeline",
        json!({"pipelineId": id, "parameterValues": [{"id": "myG", "stringValue": "two"}]}),
    )
    .await;
    run_one(api, "echo two", "2").await;
    id
}

#[tokio::test]
async fn old_instances_and_attempts_keep_the_definition_they_ran_with() {
    let api = quick().await;
    let id = activated_twice(&api).await;
    assert_versions(&api, &id).await;
}

#[tokio::test]
async fn old_objects_keep_their_definition_after_a_restart() {
    let api = quick().await;
    let id = activated_twice(&api).await;
    let restarted = Api::open(
        api.store.clone(),
        api.clock.clone(),
        quick_options(),
        ApiConfig::default(),
    )
    .await;
    drop(api);
    assert_versions(&restarted, &id).await;
}

#[tokio::test]
async fn replaced_definitions_are_kept_in_the_pipeline_record() {
    let api = quick().await;
    let id = activated_twice(&api).await;
    // Version 3 replaces 2; both earlier definitions have objects, the current one is the
    // active definition.
    api.clock.advance(chrono::Duration::minutes(1));
    api.ok(
        ALICE,
        "ActivatePipeline",
        json!({"pipelineId": id, "parameterValues": [{"id": "myG", "stringValue": "three"}]}),
    )
    .await;
    let kept = |record: &sluice_engine::PipelineRecord| -> Vec<String> {
        record
            .fields
            .keys()
            .filter(|k| k.starts_with("@definition:"))
            .cloned()
            .collect()
    };
    let record = api.store.pipeline(&id).await.unwrap().unwrap();
    assert_eq!(kept(&record), ["@definition:1", "@definition:2"]);
    assert_eq!(evaluate(&api, &id, OLD).await, "one echo one");
    assert_eq!(evaluate(&api, &id, NEW).await, "two echo two");
}
