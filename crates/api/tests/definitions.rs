//! PutPipelineDefinition, GetPipelineDefinition, ValidatePipelineDefinition, and the rules
//! activation applies to definitions.

mod common;

use common::{ALICE, Api, HOURLY, ONDEMAND, api_form, redacted};
use serde_json::{Value, json};

fn with_id(mut body: Value, id: &str) -> Value {
    body["pipelineId"] = json!(id);
    body
}

const INVALID: &str = r#"{"objects": [
  {"id": "Default", "name": "Default", "scheduleType": "ondemand"},
  {"id": "Bad", "name": "Bad", "type": "ShellCommandActivity", "comand": "typo"}
]}"#;

#[tokio::test]
async fn put_then_get_returns_the_definition_exactly() {
    let api = Api::new().await;
    let id = api.create(ALICE, "roundtrip").await;
    let mut definition = api_form(ONDEMAND);
    definition["parameterValues"] = json!([
        {"id": "myGreeting", "stringValue": "hello"},
        {"id": "myList", "stringValue": "a"},
        {"id": "myList", "stringValue": "b"}
    ]);
    let put = api
        .ok(
            ALICE,
            "PutPipelineDefinition",
            with_id(definition.clone(), &id),
        )
        .await;
    insta::assert_json_snapshot!("put_valid_definition", put);
    let got = api
        .ok(ALICE, "GetPipelineDefinition", json!({"pipelineId": id}))
        .await;
    assert_eq!(got, definition);
    let latest = api
        .ok(
            ALICE,
            "GetPipelineDefinition",
            json!({"pipelineId": id, "version": "latest"}),
        )
        .await;
    assert_eq!(latest, definition);
    // Not activated yet: the active definition is empty.
    let active = api
        .ok(
            ALICE,
            "GetPipelineDefinition",
            json!({"pipelineId": id, "version": "active"}),
        )
        .await;
    assert_eq!(active, json!({"pipelineObjects": []}));
    api.fails(
        ALICE,
        "GetPipelineDefinition",
        json!({"pipelineId": id, "version": "yesterday"}),
        "InvalidRequestException",
    )
    .await;
}

#[tokio::test]
async fn an_errored_definition_is_stored_but_cannot_be_activated() {
    let api = Api::new().await;
    let id = api.create(ALICE, "errored").await;
    let message = api
        .fails(
            ALICE,
            "ActivatePipeline",
            json!({"pipelineId": id}),
            "InvalidRequestException",
        )
        .await;
    assert!(message.contains("no definition"), "{message}");
    let put = api.put(ALICE, &id, INVALID).await;
    insta::assert_json_snapshot!("put_errored_definition", put);
    assert_eq!(put["errored"], true);
    let got = api
        .ok(ALICE, "GetPipelineDefinition", json!({"pipelineId": id}))
        .await;
    assert_eq!(got, api_form(INVALID));
    let message = api
        .fails(
            ALICE,
            "ActivatePipeline",
            json!({"pipelineId": id}),
            "InvalidRequestException",
        )
        .await;
    assert!(
        message.starts_with("Pipeline definition has errors:"),
        "{message}"
    );
    assert!(message.contains("UNKNOWN_FIELD"), "{message}");
}

#[tokio::test]
async fn fatal_errors_are_invalid_requests_and_store_nothing() {
    let api = Api::new().await;
    let id = api.create(ALICE, "fatal").await;
    api.put(ALICE, &id, ONDEMAND).await;
    for objects in [
        json!([{"id": "", "name": "x", "fields": []}]),
        json!([{"id": "A", "name": "", "fields": []}]),
        json!([{"id": "A", "name": "A", "fields": [{"key": "command", "stringValue": ""}]}]),
        json!([{"id": "A", "name": "A", "fields": [{"key": "schedule", "refValue": ""}]}]),
        json!([{"id": "A", "name": "A", "fields": [{"key": "command"}]}]),
    ] {
        let body = json!({"pipelineId": id, "pipelineObjects": objects});
        api.fails(
            ALICE,
            "PutPipelineDefinition",
            body.clone(),
            "InvalidRequestException",
        )
        .await;
        api.fails(
            ALICE,
            "ValidatePipelineDefinition",
            body,
            "InvalidRequestException",
        )
        .await;
    }
    let got = api
        .ok(ALICE, "GetPipelineDefinition", json!({"pipelineId": id}))
        .await;
    assert_eq!(got, api_form(ONDEMAND));
}

#[tokio::test]
async fn validate_checks_without_storing() {
    let api = Api::new().await;
    let id = api.create(ALICE, "validate").await;
    let answer = api
        .ok(
            ALICE,
            "ValidatePipelineDefinition",
            with_id(api_form(INVALID), &id),
        )
        .await;
    assert_eq!(answer["errored"], true);
    assert_eq!(answer["validationErrors"][0]["id"], "Bad");
    let answer = api
        .ok(
            ALICE,
            "ValidatePipelineDefinition",
            with_id(api_form(ONDEMAND), &id),
        )
        .await;
    assert_eq!(
        answer,
        json!({"validationErrors": [], "validationWarnings": [], "errored": false})
    );
    let got = api
        .ok(ALICE, "GetPipelineDefinition", json!({"pipelineId": id}))
        .await;
    assert_eq!(got, json!({"pipelineObjects": []}));
}

#[tokio::test]
async fn activation_parameter_values_override_stored_ones() {
    let api = common::quick().await;
    let id = api.create(ALICE, "params").await;
    api.put(ALICE, &id, ONDEMAND).await;
    api.ok(
        ALICE,
        "ActivatePipeline",
        json!({"pipelineId": id,
               "parameterValues": [{"id": "myGreeting", "stringValue": "bonjour"}]}),
    )
    .await;
    let active = api
        .ok(
            ALICE,
            "GetPipelineDefinition",
            json!({"pipelineId": id, "version": "active"}),
        )
        .await;
    assert_eq!(
        active["parameterValues"],
        json!([{"id": "myGreeting", "stringValue": "bonjour"}])
    );
    let latest = api
        .ok(ALICE, "GetPipelineDefinition", json!({"pipelineId": id}))
        .await;
    assert!(latest.get("parameterValues").is_none(), "{latest}");
    let task = api.poll(ALICE, "wg-1").await;
    let fields = &task["taskObject"]["objects"][task["taskObject"]["attemptId"].as_str().unwrap()];
    assert_eq!(
        common::field(fields, "command").as_deref(),
        Some("echo bonjour at 2026-01-01T00:00:00")
    );
}

#[tokio::test]
async fn edits_after_activation_are_restricted() {
    let api = common::quick().await;
    let id = api.activated(ALICE, "restricted", HOURLY).await;
    // A changed command is fine.
    let changed = HOURLY.replace("echo #{format", "echo changed #{format");
    let put = api.put(ALICE, &id, &changed).await;
    assert_eq!(put["errored"], false, "{put}");
    // A changed period, start and a new reference are not.
    let forbidden = HOURLY
        .replace("\"1 hours\"", "\"2 hours\"")
        .replace("2025-12-31T20:00:00", "2025-12-31T21:00:00")
        .replace(
            "\"type\": \"ShellCommandActivity\",",
            "\"type\": \"ShellCommandActivity\", \"dependsOn\": {\"ref\": \"Hourly\"},",
        );
    let answer = api
        .ok(
            ALICE,
            "ValidatePipelineDefinition",
            with_id(api_form(&forbidden), &id),
        )
        .await;
    assert_eq!(answer["errored"], true);
    let messages: Vec<String> = answer["validationErrors"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|e| common::strings(&e["errors"]))
        .filter(|m| m.starts_with("INVALID_EDIT"))
        .collect();
    assert_eq!(messages.len(), 3, "{answer}");
    // Removing an object is refused too; once stored, activation refuses the definition.
    let removed = api_form(HOURLY);
    let mut objects = removed["pipelineObjects"].as_array().unwrap().clone();
    objects.retain(|o| o["id"] != "Step");
    let put = api
        .ok(
            ALICE,
            "PutPipelineDefinition",
            json!({"pipelineId": id, "pipelineObjects": objects}),
        )
        .await;
    assert_eq!(put["errored"], true, "{put}");
    assert!(put.to_string().contains("cannot be removed"), "{put}");
    api.fails(
        ALICE,
        "ActivatePipeline",
        json!({"pipelineId": id}),
        "InvalidRequestException",
    )
    .await;
}

#[tokio::test]
async fn reactivation_with_a_changed_definition_raises_the_version() {
    let api = common::quick().await;
    let id = api.activated(ALICE, "versions", ONDEMAND).await;
    let version = |described: Value| {
        common::field(&described["pipelineDescriptionList"][0], "@version").unwrap()
    };
    let describe = json!({"pipelineIds": [id]});
    assert_eq!(
        version(api.ok(ALICE, "DescribePipelines", describe.clone()).await),
        "1"
    );
    // Same definition: same version, one more run.
    api.ok(ALICE, "ActivatePipeline", json!({"pipelineId": id}))
        .await;
    assert_eq!(
        version(api.ok(ALICE, "DescribePipelines", describe.clone()).await),
        "1"
    );
    let changed = ONDEMAND.replace("echo #{myGreeting}", "echo changed #{myGreeting}");
    api.put(ALICE, &id, &changed).await;
    api.clock.advance(chrono::Duration::minutes(1));
    api.ok(ALICE, "ActivatePipeline", json!({"pipelineId": id}))
        .await;
    assert_eq!(
        version(api.ok(ALICE, "DescribePipelines", describe).await),
        "2"
    );
    let active = api
        .ok(
            ALICE,
            "GetPipelineDefinition",
            json!({"pipelineId": id, "version": "active"}),
        )
        .await;
    assert_eq!(redacted(active), api_form(&changed));
}

#[tokio::test]
async fn objects_of_a_pipeline_never_activated_come_from_its_latest_definition() {
    let api = Api::new().await;
    let id = api.create(ALICE, "pending").await;
    api.put(ALICE, &id, HOURLY).await;
    let components = api.query(ALICE, &id, "COMPONENT", json!({})).await;
    assert_eq!(components, ["Default", "Hourly", "Step"]);
    assert!(
        api.query(ALICE, &id, "INSTANCE", json!({}))
            .await
            .is_empty()
    );
    assert_eq!(
        api.describe_field(ALICE, &id, "Step", "@status")
            .await
            .as_deref(),
        Some("PENDING")
    );
    // Inherited fields are part of the component.
    assert_eq!(
        api.describe_field(ALICE, &id, "Step", "workerGroup")
            .await
            .as_deref(),
        Some("wg-1")
    );
    let evaluated = api
        .ok(
            ALICE,
            "EvaluateExpression",
            json!({"pipelineId": id, "objectId": "Hourly", "expression": "#{period}"}),
        )
        .await;
    assert_eq!(evaluated["evaluatedExpression"], "1 hours");
}
