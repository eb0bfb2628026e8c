//! CreatePipeline, DeletePipeline, DescribePipelines, ListPipelines, AddTags, RemoveTags, and
//! account isolation.

mod common;

use common::{ALICE, Api, BOB, ONDEMAND, redacted, strings};
use serde_json::{Value, json};
use sluice_api::{ApiConfig, ServiceOptions};
use sluice_engine::Store;

#[tokio::test]
async fn create_and_describe_a_pipeline() {
    let api = Api::new().await;
    let created = api
        .ok(
            ALICE,
            "CreatePipeline",
            json!({"name": "orders", "uniqueId": "orders-1", "description": "nightly orders",
                   "tags": [{"key": "team", "value": "data"}]}),
        )
        .await;
    let id = created["pipelineId"].as_str().unwrap();
    assert!(id.starts_with("df-") && id.len() == 22, "{id}");
    assert!(
        id[3..]
            .chars()
            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit())
    );
    let described = api
        .ok(ALICE, "DescribePipelines", json!({"pipelineIds": [id]}))
        .await;
    insta::assert_json_snapshot!("describe_new_pipeline", redacted(described));
}

#[tokio::test]
async fn create_is_idempotent_on_name_and_unique_id_per_account() {
    let api = Api::new().await;
    let first = api.create(ALICE, "same").await;
    let again = api
        .ok(
            ALICE,
            "CreatePipeline",
            json!({"name": "same", "uniqueId": "same", "description": "ignored"}),
        )
        .await;
    assert_eq!(again["pipelineId"], first.as_str());
    let other_token = api
        .ok(
            ALICE,
            "CreatePipeline",
            json!({"name": "same", "uniqueId": "another"}),
        )
        .await;
    assert_ne!(other_token["pipelineId"], first.as_str());
    let other_account = api.create(BOB, "same").await;
    assert_ne!(other_account, first);
    // After deletion the same name and token make a new pipeline.
    api.ok(ALICE, "DeletePipeline", json!({"pipelineId": first}))
        .await;
    assert_ne!(api.create(ALICE, "same").await, first);
}

#[tokio::test]
async fn list_pipelines_pages_through_the_callers_pipelines() {
    let api = Api::with(
        ServiceOptions {
            list_page_size: 2,
            ..ServiceOptions::default()
        },
        ApiConfig::default(),
    )
    .await;
    let mut created = Vec::new();
    for name in ["a", "b", "c", "d", "e"] {
        created.push(api.create(ALICE, name).await);
    }
    api.create(BOB, "bobs").await;
    created.sort();
    let mut listed = Vec::new();
    let mut marker: Option<String> = None;
    let mut pages = 0;
    loop {
        let body = match &marker {
            Some(m) => json!({"marker": m}),
            None => json!({}),
        };
        let page = api.ok(ALICE, "ListPipelines", body).await;
        pages += 1;
        for entry in page["pipelineIdList"].as_array().unwrap() {
            listed.push(entry["id"].as_str().unwrap().to_owned());
            assert!(entry["name"].is_string());
        }
        match page["hasMoreResults"].as_bool().unwrap() {
            true => marker = Some(page["marker"].as_str().unwrap().to_owned()),
            false => {
                assert!(page.get("marker").is_none(), "{page}");
                break;
            }
        }
    }
    assert_eq!(pages, 3);
    assert_eq!(listed, created);
    api.fails(
        ALICE,
        "ListPipelines",
        json!({"marker": "garbage"}),
        "InvalidRequestException",
    )
    .await;
}

#[tokio::test]
async fn deleted_pipelines_answer_pipeline_deleted() {
    let api = common::quick().await;
    let id = api.activated(ALICE, "doomed", ONDEMAND).await;
    api.ok(ALICE, "DeletePipeline", json!({"pipelineId": id}))
        .await;
    let body = json!({"pipelineId": id});
    for operation in [
        "GetPipelineDefinition",
        "ActivatePipeline",
        "DeactivatePipeline",
    ] {
        api.fails(ALICE, operation, body.clone(), "PipelineDeletedException")
            .await;
    }
    api.fails(
        ALICE,
        "DescribePipelines",
        json!({"pipelineIds": [id]}),
        "PipelineDeletedException",
    )
    .await;
    api.fails(
        ALICE,
        "QueryObjects",
        json!({"pipelineId": id, "sphere": "INSTANCE"}),
        "PipelineDeletedException",
    )
    .await;
    // The model gives DeletePipeline no "deleted" error: a second delete is not found.
    api.fails(
        ALICE,
        "DeletePipeline",
        body.clone(),
        "PipelineNotFoundException",
    )
    .await;
    // Another account never learns that the id existed.
    api.fails(
        BOB,
        "DescribePipelines",
        json!({"pipelineIds": [id]}),
        "PipelineNotFoundException",
    )
    .await;
    let listed = api.ok(ALICE, "ListPipelines", json!({})).await;
    assert_eq!(listed["pipelineIdList"], json!([]));
    // The run history is gone and the tombstone survives a restart.
    assert!(
        api.store
            .pipeline(&id)
            .await
            .unwrap()
            .unwrap()
            .definition
            .is_none()
    );
    assert!(api.store.instances(&id).await.unwrap().is_empty());
    let restarted = Api::open(
        api.store.clone(),
        api.clock.clone(),
        common::quick_options(),
        ApiConfig::default(),
    )
    .await;
    restarted
        .fails(
            ALICE,
            "GetPipelineDefinition",
            body,
            "PipelineDeletedException",
        )
        .await;
}

#[tokio::test]
async fn missing_pipelines_answer_pipeline_not_found() {
    let api = Api::new().await;
    let body = json!({"pipelineId": "df-0000000000000000000"});
    for operation in [
        "DeletePipeline",
        "GetPipelineDefinition",
        "ActivatePipeline",
        "DeactivatePipeline",
    ] {
        api.fails(ALICE, operation, body.clone(), "PipelineNotFoundException")
            .await;
    }
    let mut with_objects = body.clone();
    with_objects["pipelineObjects"] = json!([]);
    api.fails(
        ALICE,
        "PutPipelineDefinition",
        with_objects.clone(),
        "PipelineNotFoundException",
    )
    .await;
    api.fails(
        ALICE,
        "ValidatePipelineDefinition",
        with_objects,
        "PipelineNotFoundException",
    )
    .await;
    let mut ids = body.clone();
    ids["objectIds"] = json!(["X"]);
    api.fails(
        ALICE,
        "DescribeObjects",
        ids.clone(),
        "PipelineNotFoundException",
    )
    .await;
    ids["status"] = json!("PAUSE");
    api.fails(ALICE, "SetStatus", ids, "PipelineNotFoundException")
        .await;
    let mut query = body.clone();
    query["sphere"] = json!("COMPONENT");
    api.fails(ALICE, "QueryObjects", query, "PipelineNotFoundException")
        .await;
    let mut expression = body.clone();
    expression["objectId"] = json!("Default");
    expression["expression"] = json!("#{1}");
    api.fails(
        ALICE,
        "EvaluateExpression",
        expression,
        "PipelineNotFoundException",
    )
    .await;
    let mut tags = body.clone();
    tags["tags"] = json!([]);
    api.fails(ALICE, "AddTags", tags, "PipelineNotFoundException")
        .await;
    let mut keys = body;
    keys["tagKeys"] = json!([]);
    api.fails(ALICE, "RemoveTags", keys, "PipelineNotFoundException")
        .await;
}

#[tokio::test]
async fn accounts_cannot_see_or_touch_each_others_pipelines() {
    let api = common::quick().await;
    let id = api.activated(ALICE, "private", ONDEMAND).await;
    let listed = api.ok(BOB, "ListPipelines", json!({})).await;
    assert_eq!(listed["pipelineIdList"], json!([]));
    let body = json!({"pipelineId": id});
    for operation in [
        "GetPipelineDefinition",
        "ActivatePipeline",
        "DeactivatePipeline",
        "DeletePipeline",
    ] {
        api.fails(BOB, operation, body.clone(), "PipelineNotFoundException")
            .await;
    }
    api.fails(
        BOB,
        "SetStatus",
        json!({"pipelineId": id, "objectIds": ["Hello"], "status": "PAUSE"}),
        "PipelineNotFoundException",
    )
    .await;
    api.fails(
        BOB,
        "AddTags",
        json!({"pipelineId": id, "tags": [{"key": "k", "value": "v"}]}),
        "PipelineNotFoundException",
    )
    .await;
    // Bob's runners get none of Alice's tasks, and cannot report on them.
    let polled = api.poll(BOB, "wg-1").await;
    assert_eq!(polled, json!({}));
    let task = api.poll(ALICE, "wg-1").await;
    let task_id = task["taskObject"]["taskId"].as_str().unwrap();
    api.fails(
        BOB,
        "ReportTaskProgress",
        json!({"taskId": task_id}),
        "TaskNotFoundException",
    )
    .await;
    api.fails(
        BOB,
        "SetTaskStatus",
        json!({"taskId": task_id, "taskStatus": "FINISHED"}),
        "TaskNotFoundException",
    )
    .await;
    // Alice's pipeline is untouched.
    api.ok(
        ALICE,
        "SetTaskStatus",
        json!({"taskId": task_id, "taskStatus": "FINISHED"}),
    )
    .await;
    let described = api
        .ok(ALICE, "DescribePipelines", json!({"pipelineIds": [id]}))
        .await;
    assert_eq!(
        common::field(&described["pipelineDescriptionList"][0], "@accountId").as_deref(),
        Some(common::ALICE.account_id)
    );
}

#[tokio::test]
async fn tags_are_added_overwritten_and_removed() {
    let api = Api::new().await;
    let id = api.create(ALICE, "tagged").await;
    let tags_of = |described: Value| described["pipelineDescriptionList"][0]["tags"].clone();
    api.ok(
        ALICE,
        "AddTags",
        json!({"pipelineId": id, "tags": [{"key": "a", "value": "1"}, {"key": "b", "value": "2"}]}),
    )
    .await;
    api.ok(
        ALICE,
        "AddTags",
        json!({"pipelineId": id, "tags": [{"key": "a", "value": "one"}]}),
    )
    .await;
    let described = api
        .ok(ALICE, "DescribePipelines", json!({"pipelineIds": [id]}))
        .await;
    assert_eq!(
        tags_of(described),
        json!([{"key": "a", "value": "one"}, {"key": "b", "value": "2"}])
    );
    api.ok(
        ALICE,
        "RemoveTags",
        json!({"pipelineId": id, "tagKeys": ["a", "unknown"]}),
    )
    .await;
    let described = api
        .ok(ALICE, "DescribePipelines", json!({"pipelineIds": [id]}))
        .await;
    assert_eq!(tags_of(described), json!([{"key": "b", "value": "2"}]));
    let many: Vec<_> = (0..10)
        .map(|i| json!({"key": format!("k{i}"), "value": "v"}))
        .collect();
    let message = api
        .fails(
            ALICE,
            "AddTags",
            json!({"pipelineId": id, "tags": many}),
            "InvalidRequestException",
        )
        .await;
    assert!(message.contains("at most 10 tags"), "{message}");
}

#[tokio::test]
async fn tags_of_an_active_pipeline_go_through_its_scheduler() {
    let api = common::quick().await;
    let id = api.activated(ALICE, "busy", ONDEMAND).await;
    api.ok(
        ALICE,
        "AddTags",
        json!({"pipelineId": id, "tags": [{"key": "k", "value": "v"}]}),
    )
    .await;
    // The engine's next commit must not lose the tag (nor fail on the record's version).
    let task = api.poll(ALICE, "wg-1").await;
    assert!(task["taskObject"].is_object(), "{task}");
    let stored = api.store.pipeline(&id).await.unwrap().unwrap();
    assert!(stored.fields["@tags"].contains("\"k\""), "{stored:?}");
    let described = api
        .ok(ALICE, "DescribePipelines", json!({"pipelineIds": [id]}))
        .await;
    assert_eq!(
        described["pipelineDescriptionList"][0]["tags"],
        json!([{"key": "k", "value": "v"}])
    );
}

#[tokio::test]
async fn describe_pipelines_reports_state_health_and_activation_times() {
    let api = common::quick().await;
    let id = api.activated(ALICE, "healthy", ONDEMAND).await;
    let task = api.poll(ALICE, "wg-1").await;
    api.ok(
        ALICE,
        "SetTaskStatus",
        json!({"taskId": task["taskObject"]["taskId"], "taskStatus": "FINISHED"}),
    )
    .await;
    let described = api
        .ok(ALICE, "DescribePipelines", json!({"pipelineIds": [id]}))
        .await;
    insta::assert_json_snapshot!("describe_activated_pipeline", redacted(described.clone()));
    let description = &described["pipelineDescriptionList"][0];
    assert_eq!(
        common::field(description, "@healthStatus").as_deref(),
        Some("HEALTHY")
    );
    let names = strings(&json!(
        description["fields"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["key"].clone())
            .collect::<Vec<_>>()
    ));
    for key in ["@pipelineState", "@firstActivationTime", "@latestRunTime"] {
        assert!(names.iter().any(|n| n == key), "{key} in {names:?}");
    }
}
