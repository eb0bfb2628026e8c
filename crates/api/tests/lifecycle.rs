//! A pipeline's life through the API: activation, the task protocol, objects and queries,
//! operator controls, expressions, deactivation, deletion, and a server restart.

mod common;

use common::{ALICE, Api, HOURLY, ONDEMAND, field, quick, quick_options, redacted, strings};
use serde_json::{Value, json};
use sluice_api::{ApiConfig, ServiceOptions};
use sluice_engine::Store;
use sluice_testsupport::poll::eventually;

fn task_id(task: &Value) -> String {
    task["taskObject"]["taskId"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn full_life_cycle_of_an_ondemand_pipeline() {
    let api = quick().await;
    let id = api.create(ALICE, "life").await;
    let put = api
        .put(
            ALICE,
            &id,
            r#"{"objects": [
              {"id": "Default", "name": "Default", "scheduleType": "ondemand",
               "workerGroup": "wg-1"},
              {"id": "Run", "name": "Run", "type": "ShellCommandActivity", "command": "true"}
            ]}"#,
        )
        .await;
    assert_eq!(put["errored"], false, "{put}");
    api.ok(ALICE, "ActivatePipeline", json!({"pipelineId": id}))
        .await;

    let task = api.poll(ALICE, "wg-1").await;
    insta::assert_json_snapshot!("poll_for_task", redacted(task.clone()));
    let task_id = task_id(&task);
    let progress = api
        .ok(
            ALICE,
            "ReportTaskProgress",
            json!({"taskId": task_id, "fields": [{"key": "percentComplete", "stringValue": "50"}]}),
        )
        .await;
    assert_eq!(progress, json!({"canceled": false}));
    let heartbeat = api
        .ok(
            ALICE,
            "ReportTaskRunnerHeartbeat",
            json!({"taskrunnerId": "runner-1", "workerGroup": "wg-1", "hostname": "test-host"}),
        )
        .await;
    assert_eq!(heartbeat, json!({"terminate": false}));
    assert_eq!(api.service.task_runners()[0].taskrunner_id, "runner-1");
    let done = api
        .ok(
            ALICE,
            "SetTaskStatus",
            json!({"taskId": task_id, "taskStatus": "FINISHED"}),
        )
        .await;
    assert_eq!(done, json!({}));

    let finished = api
        .query(
            ALICE,
            &id,
            "INSTANCE",
            json!({"selectors": [{"fieldName": "@status",
                                  "operator": {"type": "EQ", "values": ["FINISHED"]}}]}),
        )
        .await;
    assert_eq!(finished, ["@Run_2026-01-01T00:00:00"]);
    let attempt = task["taskObject"]["attemptId"].as_str().unwrap();
    let objects = api
        .ok(
            ALICE,
            "DescribeObjects",
            json!({"pipelineId": id, "objectIds": ["Run", finished[0], attempt]}),
        )
        .await;
    insta::assert_json_snapshot!("describe_objects_all_spheres", redacted(objects.clone()));
    let attempt_object = &objects["pipelineObjects"][2];
    assert_eq!(
        field(attempt_object, "percentComplete").as_deref(),
        Some("50")
    );
    assert!(
        !objects.to_string().contains(&task_id),
        "task ids are never shown"
    );

    let deactivated = api
        .ok(ALICE, "DeactivatePipeline", json!({"pipelineId": id}))
        .await;
    assert_eq!(deactivated, json!({}));
    let described = api
        .ok(ALICE, "DescribePipelines", json!({"pipelineIds": [id]}))
        .await;
    assert_eq!(
        field(&described["pipelineDescriptionList"][0], "@pipelineState").as_deref(),
        Some("INACTIVE")
    );
    let deleted = api
        .ok(ALICE, "DeletePipeline", json!({"pipelineId": id}))
        .await;
    assert_eq!(deleted, json!({}));
    api.fails(
        ALICE,
        "DescribePipelines",
        json!({"pipelineIds": [id]}),
        "PipelineDeletedException",
    )
    .await;
}

#[tokio::test]
async fn poll_for_task_waits_and_answers_empty() {
    let api = quick().await;
    let started = std::time::Instant::now();
    let reply = api.poll(ALICE, "nobody-serves-this").await;
    assert_eq!(reply, json!({}));
    assert!(started.elapsed() >= std::time::Duration::from_millis(150));
    // A task that becomes ready while a poll waits is handed to it.
    let id = api.create(ALICE, "later").await;
    api.put(ALICE, &id, ONDEMAND).await;
    let poller = {
        let router = api.router.clone();
        tokio::spawn(async move {
            let request = common::signed_request(
                ALICE,
                "DataPipeline.PollForTask",
                br#"{"workerGroup": "wg-1"}"#,
            );
            tower::ServiceExt::oneshot(router, request).await.unwrap()
        })
    };
    // Activate only once the poll is waiting, so the task reaches it by waking it up.
    assert!(
        eventually(std::time::Duration::from_secs(10), || api
            .service
            .waiting_polls()
            > 0)
        .await,
        "the poll never started waiting"
    );
    api.ok(ALICE, "ActivatePipeline", json!({"pipelineId": id}))
        .await;
    let response = poller.await.unwrap();
    let body = axum::body::to_bytes(response.into_body(), usize::MAX)
        .await
        .unwrap();
    let task: Value = serde_json::from_slice(&body).unwrap();
    assert!(task["taskObject"]["taskId"].is_string(), "{task}");
    assert_eq!(
        task["taskObject"]["objects"][task["taskObject"]["attemptId"].as_str().unwrap()]["fields"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["key"] == "hostname")
            .unwrap()["stringValue"],
        "unknown"
    );
}

#[tokio::test]
async fn bad_task_ids_are_task_not_found() {
    let api = quick().await;
    for (operation, body) in [
        ("ReportTaskProgress", json!({"taskId": "task-nope"})),
        (
            "SetTaskStatus",
            json!({"taskId": "task-nope", "taskStatus": "FAILED"}),
        ),
    ] {
        api.fails(ALICE, operation, body, "TaskNotFoundException")
            .await;
    }
    // A task whose status was set is gone.
    let id = api.activated(ALICE, "once", ONDEMAND).await;
    let task = api.poll(ALICE, "wg-1").await;
    let task_id = task_id(&task);
    let failed = json!({"taskId": task_id, "taskStatus": "FAILED",
                        "errorId": "Boom", "errorMessage": "it broke",
                        "errorStackTrace": "x".repeat(5000)});
    api.ok(ALICE, "SetTaskStatus", failed.clone()).await;
    api.fails(ALICE, "SetTaskStatus", failed, "TaskNotFoundException")
        .await;
    api.fails(
        ALICE,
        "ReportTaskProgress",
        json!({"taskId": task_id}),
        "TaskNotFoundException",
    )
    .await;
    let instance = api.query(ALICE, &id, "INSTANCE", json!({})).await;
    assert_eq!(
        api.describe_field(ALICE, &id, &instance[0], "@status")
            .await
            .as_deref(),
        Some("FAILED")
    );
    assert_eq!(
        api.describe_field(ALICE, &id, &instance[0], "errorMessage")
            .await
            .as_deref(),
        Some("it broke")
    );
    // Reserved error ids are refused.
    api.ok(ALICE, "ActivatePipeline", json!({"pipelineId": id}))
        .await;
    let task = api.poll(ALICE, "wg-1").await;
    api.fails(
        ALICE,
        "SetTaskStatus",
        json!({"taskId": self::task_id(&task), "taskStatus": "FAILED", "errorId": "Service_Mine"}),
        "InvalidRequestException",
    )
    .await;
}

#[tokio::test]
async fn a_lapsed_lease_makes_the_task_id_unknown() {
    let api = quick().await;
    api.activated(ALICE, "lease", ONDEMAND).await;
    let task = api.poll(ALICE, "wg-1").await;
    // No progress report within two minutes: the lease is lost.
    api.clock.advance(chrono::Duration::minutes(3));
    api.service.tick_due().await;
    api.fails(
        ALICE,
        "ReportTaskProgress",
        json!({"taskId": task_id(&task)}),
        "TaskNotFoundException",
    )
    .await;
    assert_eq!(api.service.task_route_count(), 0);
}

#[tokio::test]
async fn query_objects_filters_and_pages_in_a_stable_order() {
    let api = quick().await;
    let id = api.activated(ALICE, "hourly", HOURLY).await;
    let all = api.query(ALICE, &id, "INSTANCE", json!({})).await;
    assert_eq!(
        all,
        [
            "@Step_2025-12-31T20:00:00",
            "@Step_2025-12-31T21:00:00",
            "@Step_2025-12-31T22:00:00",
            "@Step_2025-12-31T23:00:00",
            "@Step_2026-01-01T00:00:00",
        ]
    );
    let between = api
        .query(
            ALICE,
            &id,
            "INSTANCE",
            json!({"selectors": [
                {"fieldName": "@scheduledStartTime",
                 "operator": {"type": "BETWEEN", "values": ["2025-12-31T21:00:00", "2025-12-31T23:00:00"]}},
                {"fieldName": "@componentParent", "operator": {"type": "REF_EQ", "values": ["Step"]}}
            ]}),
        )
        .await;
    assert_eq!(between, all[1..4]);
    let le = api
        .query(
            ALICE,
            &id,
            "INSTANCE",
            json!({"selectors": [{"fieldName": "@scheduledStartTime",
                                  "operator": {"type": "LE", "values": ["2025-12-31T20:00:00"]}}]}),
        )
        .await;
    assert_eq!(le, all[..1]);
    let ge = api
        .query(
            ALICE,
            &id,
            "INSTANCE",
            json!({"selectors": [{"fieldName": "@scheduledEndTime",
                                  "operator": {"type": "GE", "values": ["2026-01-01T01:00:00"]}}]}),
        )
        .await;
    assert_eq!(ge, all[4..]);
    let components = api.query(ALICE, &id, "COMPONENT", json!({})).await;
    assert_eq!(components, ["Default", "Hourly", "Step"]);
    let waiting = api
        .query(
            ALICE,
            &id,
            "INSTANCE",
            json!({"selectors": [{"fieldName": "@status",
                                  "operator": {"type": "EQ", "values": ["WAITING"]}}]}),
        )
        .await;
    assert_eq!(
        waiting, all,
        "list-runs' 'waiting' matches WAITING_FOR_RUNNER"
    );

    // Pages of two, following markers.
    let mut paged = Vec::new();
    let mut marker: Option<String> = None;
    loop {
        let mut body = json!({"pipelineId": id, "sphere": "INSTANCE", "limit": 2});
        if let Some(m) = &marker {
            body["marker"] = json!(m);
        }
        let page = api.ok(ALICE, "QueryObjects", body).await;
        paged.extend(strings(&page["ids"]));
        if page["hasMoreResults"] == true {
            marker = Some(page["marker"].as_str().unwrap().to_owned());
        } else {
            assert!(page.get("marker").is_none());
            break;
        }
    }
    assert_eq!(paged, all);

    // Attempts exist once tasks are handed out.
    for _ in 0..2 {
        api.poll(ALICE, "wg-1").await;
    }
    // Every ready instance has an attempt waiting for a runner; two are running.
    let attempts = api.query(ALICE, &id, "ATTEMPT", json!({})).await;
    let expected: Vec<String> = all.iter().map(|i| format!("{i}_Attempt=1")).collect();
    assert_eq!(attempts, expected);
    let running = api
        .query(
            ALICE,
            &id,
            "ATTEMPT",
            json!({"selectors": [{"fieldName": "@status",
                                  "operator": {"type": "EQ", "values": ["RUNNING"]}}]}),
        )
        .await;
    assert_eq!(running, attempts[..2]);

    for bad in [
        json!({"pipelineId": id, "sphere": "EVERYTHING"}),
        json!({"pipelineId": id, "sphere": "INSTANCE", "limit": 0}),
        json!({"pipelineId": id, "sphere": "INSTANCE", "query": {"selectors": [
            {"fieldName": "@scheduledStartTime", "operator": {"type": "LE", "values": ["soon"]}}]}}),
        json!({"pipelineId": id, "sphere": "INSTANCE", "query": {"selectors":
            (0..11).map(|_| json!({"fieldName": "@status", "operator": {"type": "EQ", "values": ["X"]}})).collect::<Vec<_>>()}}),
        json!({"pipelineId": id, "sphere": "INSTANCE", "query": {"selectors": [
            {"fieldName": "@status", "operator": {"type": "LIKE", "values": ["X"]}}]}}),
    ] {
        api.fails(ALICE, "QueryObjects", bad, "InvalidRequestException")
            .await;
    }
}

/// Two daily-started hourly components, `Load` after `Extract`: activation backfills 49
/// instances of each.
const TWO_DAYS: &str = r##"{"objects": [
  {"id": "Default", "name": "Default", "scheduleType": "cron", "schedule": {"ref": "Hourly"},
   "workerGroup": "wg-1", "maximumRetries": "0"},
  {"id": "Hourly", "name": "Hourly", "type": "Schedule", "period": "1 hours",
   "startDateTime": "2025-12-30T00:00:00"},
  {"id": "Extract", "name": "Extract", "type": "ShellCommandActivity", "command": "true"},
  {"id": "Load", "name": "Load", "type": "ShellCommandActivity", "command": "true",
   "dependsOn": {"ref": "Extract"}}
]}"##;

/// Every page of a query (ids, marker, hasMoreResults), following markers.
async fn all_pages(api: &Api, id: &str, selectors: &Value, limit: u32) -> Vec<Value> {
    let mut pages = Vec::new();
    let mut marker: Option<String> = None;
    loop {
        let mut body = json!({"pipelineId": id, "sphere": "INSTANCE", "limit": limit,
                              "query": {"selectors": selectors}});
        if let Some(m) = &marker {
            body["marker"] = json!(m);
        }
        let page = api.ok(ALICE, "QueryObjects", body).await;
        marker = page["marker"].as_str().map(str::to_owned);
        pages.push(page);
        if marker.is_none() {
            return pages;
        }
    }
}

/// Queries the stores answer from their indexes give the pages the in-memory path gives: the
/// same selectors plus one on `@pipelineId`, which always holds and which no index answers.
async fn assert_indexed_pages_as_in_memory(api: &Api, id: &str) {
    let selector = |field: &str, kind: &str, values: &[&str]| json!({"fieldName": field, "operator": {"type": kind, "values": values}});
    let queries = [
        json!([]),
        json!([selector("@status", "EQ", &["FINISHED"])]),
        json!([selector("@status", "EQ", &["waiting", "Failed"])]),
        json!([selector("@status", "REF_EQ", &["RUNNING"])]),
        json!([selector("@componentParent", "REF_EQ", &["Load"])]),
        json!([selector(
            "@componentParent",
            "EQ",
            &["Extract", "Load", "Hourly"]
        )]),
        json!([selector(
            "@scheduledStartTime",
            "BETWEEN",
            &["2025-12-30T10:00:00", "2025-12-31T05:00:00"]
        )]),
        json!([
            selector("@scheduledStartTime", "GE", &["2025-12-30T07:00:00"]),
            selector("@scheduledStartTime", "LE", &["2025-12-30T20:00:00"]),
            selector(
                "@status",
                "EQ",
                &["FINISHED", "FAILED", "WAITING_ON_DEPENDENCIES"]
            ),
        ]),
        json!([
            selector("@status", "EQ", &["FINISHED"]),
            selector("@componentParent", "EQ", &["Extract"]),
            selector("@scheduledStartTime", "LE", &["2025-12-30T03:00:00"]),
        ]),
        json!([selector(
            "@scheduledStartTime",
            "EQ",
            &["2025-12-30T05:00:00"]
        )]),
        json!([selector("@sphere", "EQ", &["INSTANCE"])]),
        json!([selector("@sphere", "EQ", &["ATTEMPT"])]),
        json!([selector("@status", "EQ", &["NO_SUCH_STATUS"])]),
    ];
    let always = selector("@pipelineId", "EQ", &[id]);
    for selectors in queries {
        let mut in_memory = selectors.clone();
        in_memory.as_array_mut().unwrap().push(always.clone());
        for limit in [1, 4, 100] {
            let indexed = all_pages(api, id, &selectors, limit).await;
            let expected = all_pages(api, id, &in_memory, limit).await;
            assert_eq!(indexed, expected, "{selectors} by {limit}");
        }
    }
    // A marker whose instance does not exist here: both start after its position.
    let foreign = json!({"pipelineId": id, "sphere": "INSTANCE", "limit": 5,
                         "marker": "3.0123456789abcdef"});
    let mut in_memory = foreign.clone();
    in_memory["query"] = json!({"selectors": [always]});
    assert_eq!(
        api.ok(ALICE, "QueryObjects", foreign).await,
        api.ok(ALICE, "QueryObjects", in_memory).await
    );
}

#[tokio::test]
async fn instance_queries_from_the_indexes_page_as_in_memory() {
    let api = quick().await;
    let id = api.activated(ALICE, "two-days", TWO_DAYS).await;
    // Runs in every state: finished, failed, running, waiting for a runner or a dependency.
    for n in 0..30 {
        let task = api.poll(ALICE, "wg-1").await;
        let status = match n % 3 {
            0 => "FAILED",
            1 => "FINISHED",
            _ => continue,
        };
        api.ok(
            ALICE,
            "SetTaskStatus",
            json!({"taskId": task_id(&task), "taskStatus": status}),
        )
        .await;
    }
    let all = api.query(ALICE, &id, "INSTANCE", json!({})).await;
    assert_eq!(all.len(), 98);
    assert_indexed_pages_as_in_memory(&api, &id).await;

    // The same pipeline without a scheduler: the records as stored.
    let store = api.store.clone();
    let mut record = store.pipeline(&id).await.unwrap().unwrap();
    record.state = sluice_model::PipelineState::Pending;
    record.version += 1;
    store
        .commit(&sluice_engine::ChangeSet {
            pipelines: vec![record],
            ..sluice_engine::ChangeSet::default()
        })
        .await
        .unwrap();
    let stored = Api::open(
        store,
        api.clock.clone(),
        quick_options(),
        ApiConfig::default(),
    )
    .await;
    assert!(stored.service.scheduler(&id).is_none());
    assert_eq!(stored.query(ALICE, &id, "INSTANCE", json!({})).await, all);
    assert_indexed_pages_as_in_memory(&stored, &id).await;
}

#[tokio::test]
async fn an_indexed_page_continues_after_the_marker_even_when_it_no_longer_matches() {
    let api = quick().await;
    let id = api.activated(ALICE, "hourly", HOURLY).await;
    let waiting = json!([{"fieldName": "@status",
                          "operator": {"type": "EQ", "values": ["WAITING_FOR_RUNNER"]}}]);
    let first = api
        .ok(
            ALICE,
            "QueryObjects",
            json!({"pipelineId": id, "sphere": "INSTANCE", "limit": 2,
                   "query": {"selectors": waiting}}),
        )
        .await;
    assert_eq!(
        strings(&first["ids"]),
        ["@Step_2025-12-31T20:00:00", "@Step_2025-12-31T21:00:00"]
    );
    // Both instances of the first page start running: neither matches any more.
    api.poll(ALICE, "wg-1").await;
    api.poll(ALICE, "wg-1").await;
    let next = api
        .ok(
            ALICE,
            "QueryObjects",
            json!({"pipelineId": id, "sphere": "INSTANCE", "limit": 2,
                   "query": {"selectors": waiting}, "marker": first["marker"]}),
        )
        .await;
    assert_eq!(
        strings(&next["ids"]),
        ["@Step_2025-12-31T22:00:00", "@Step_2025-12-31T23:00:00"]
    );
}

#[tokio::test]
async fn describe_objects_pages_and_evaluates_expressions() {
    let api = Api::with(
        ServiceOptions {
            describe_page_size: 2,
            ..quick_options()
        },
        ApiConfig::default(),
    )
    .await;
    let id = api.activated(ALICE, "describe", HOURLY).await;
    let all = api.query(ALICE, &id, "INSTANCE", json!({})).await;
    let mut ids: Vec<Value> = all.iter().map(|i| json!(i)).collect();
    ids.push(json!("NoSuchObject"));
    let mut described = Vec::new();
    let mut marker: Option<String> = None;
    loop {
        let mut body = json!({"pipelineId": id, "objectIds": ids});
        if let Some(m) = &marker {
            body["marker"] = json!(m);
        }
        let page = api.ok(ALICE, "DescribeObjects", body).await;
        for object in page["pipelineObjects"].as_array().unwrap() {
            described.push(object["id"].as_str().unwrap().to_owned());
        }
        match page["hasMoreResults"].as_bool().unwrap() {
            true => marker = Some(page["marker"].as_str().unwrap().to_owned()),
            false => break,
        }
    }
    assert_eq!(described, all, "unknown ids are left out");

    let raw = api
        .ok(
            ALICE,
            "DescribeObjects",
            json!({"pipelineId": id, "objectIds": [all[0]]}),
        )
        .await;
    assert_eq!(
        field(&raw["pipelineObjects"][0], "command").as_deref(),
        Some("echo #{format(@scheduledStartTime, 'YYYY-MM-dd HH')}")
    );
    let evaluated = api
        .ok(
            ALICE,
            "DescribeObjects",
            json!({"pipelineId": id, "objectIds": [all[0], "Hourly"], "evaluateExpressions": true}),
        )
        .await;
    assert_eq!(
        field(&evaluated["pipelineObjects"][0], "command").as_deref(),
        Some("echo 2025-12-31 20")
    );
    let schedule = &evaluated["pipelineObjects"][1];
    assert_eq!(field(schedule, "@sphere").as_deref(), Some("COMPONENT"));
    assert_eq!(field(schedule, "@status").as_deref(), Some("SCHEDULED"));
    let too_many: Vec<String> = (0..101).map(|i| format!("o{i}")).collect();
    api.fails(
        ALICE,
        "DescribeObjects",
        json!({"pipelineId": id, "objectIds": too_many}),
        "InvalidRequestException",
    )
    .await;
    let hundred: Vec<String> = (0..100).map(|i| format!("o{i}")).collect();
    api.ok(
        ALICE,
        "DescribeObjects",
        json!({"pipelineId": id, "objectIds": hundred}),
    )
    .await;
}

#[tokio::test]
async fn evaluate_expression_for_components_and_instances() {
    let api = quick().await;
    let id = api.activated(ALICE, "eval", HOURLY).await;
    let eval = |object: &str, expression: &str| json!({"pipelineId": id, "objectId": object, "expression": expression});
    let reply = api
        .ok(
            ALICE,
            "EvaluateExpression",
            eval("Hourly", "Every #{period} from #{startDateTime}"),
        )
        .await;
    assert_eq!(
        reply,
        json!({"evaluatedExpression": "Every 1 hours from 2025-12-31T20:00:00"})
    );
    let reply = api
        .ok(
            ALICE,
            "EvaluateExpression",
            eval(
                "@Step_2025-12-31T22:00:00",
                "#{@scheduledEndTime} #{@id} #{@pipelineId}",
            ),
        )
        .await;
    assert_eq!(
        reply["evaluatedExpression"],
        format!("2025-12-31T23:00:00 @Step_2025-12-31T22:00:00 {id}")
    );
    let message = api
        .fails(
            ALICE,
            "EvaluateExpression",
            eval("Step", "#{fromat(@scheduledStartTime)}"),
            "InvalidRequestException",
        )
        .await;
    assert!(message.contains("fromat"), "{message}");
    api.fails(
        ALICE,
        "EvaluateExpression",
        eval("Nothing", "#{1}"),
        "InvalidRequestException",
    )
    .await;
}

#[tokio::test]
async fn set_status_pauses_cancels_reruns_and_marks_finished() {
    let api = quick().await;
    let id = api.activated(ALICE, "controls", HOURLY).await;
    let all = api.query(ALICE, &id, "INSTANCE", json!({})).await;
    let set = |ids: Vec<&str>, status: &str| json!({"pipelineId": id, "objectIds": ids, "status": status});
    assert_eq!(
        api.ok(ALICE, "SetStatus", set(vec!["Step"], "pause")).await,
        json!({})
    );
    assert_eq!(
        api.describe_field(ALICE, &id, "Step", "@status")
            .await
            .as_deref(),
        Some("PAUSED")
    );
    assert_eq!(api.poll(ALICE, "wg-1").await, json!({}));
    api.ok(ALICE, "SetStatus", set(vec!["Step"], "RESUME"))
        .await;
    api.ok(ALICE, "SetStatus", set(vec![&all[0]], "TRY_CANCEL"))
        .await;
    api.ok(ALICE, "SetStatus", set(vec![&all[1]], "MARK_FINISHED"))
        .await;
    let status = |i: usize| api.describe_field(ALICE, &id, &all[i], "@status");
    assert_eq!(status(0).await.as_deref(), Some("CANCELED"));
    assert_eq!(status(1).await.as_deref(), Some("FINISHED"));
    api.ok(ALICE, "SetStatus", set(vec![&all[0]], "RERUN"))
        .await;
    assert_eq!(status(0).await.as_deref(), Some("WAITING_FOR_RUNNER"));
    for bad in [
        set(vec!["Step", &all[0]], "PAUSE"),
        set(vec![&all[0]], "PAUSE"),
        set(vec!["Step"], "EXPLODE"),
        set(vec!["Nothing"], "PAUSE"),
    ] {
        api.fails(ALICE, "SetStatus", bad, "InvalidRequestException")
            .await;
    }
    let pending = api.create(ALICE, "pending").await;
    api.fails(
        ALICE,
        "SetStatus",
        json!({"pipelineId": pending, "objectIds": ["X"], "status": "PAUSE"}),
        "InvalidRequestException",
    )
    .await;
}

#[tokio::test]
async fn deactivation_cancels_and_reactivation_with_a_start_timestamp_skips() {
    let api = quick().await;
    let id = api.activated(ALICE, "pause-resume", HOURLY).await;
    let task = api.poll(ALICE, "wg-1").await;
    api.ok(
        ALICE,
        "DeactivatePipeline",
        json!({"pipelineId": id, "cancelActive": true}),
    )
    .await;
    let canceled = api
        .ok(
            ALICE,
            "ReportTaskProgress",
            json!({"taskId": task_id(&task)}),
        )
        .await;
    assert_eq!(canceled, json!({"canceled": true}));
    assert_eq!(api.poll(ALICE, "wg-1").await, json!({}));
    // Two hours later, resume from now: the missed intervals are skipped.
    api.clock.advance(chrono::Duration::hours(2));
    api.ok(
        ALICE,
        "ActivatePipeline",
        json!({"pipelineId": id, "startTimestamp": 1767232800}),
    )
    .await;
    let skipped = api
        .query(
            ALICE,
            &id,
            "INSTANCE",
            json!({"selectors": [{"fieldName": "@status",
                                  "operator": {"type": "EQ", "values": ["SKIPPED"]}}]}),
        )
        .await;
    assert!(
        skipped.contains(&"@Step_2026-01-01T01:00:00".to_owned()),
        "{skipped:?}"
    );
    let next = api.poll(ALICE, "wg-1").await;
    assert_eq!(
        next["taskObject"]["attemptId"], "@Step_2026-01-01T02:00:00_Attempt=1",
        "{next}"
    );
}

#[tokio::test]
async fn deactivation_without_cancel_active_is_deactivating_until_running_work_ends() {
    let api = quick().await;
    let id = api.activated(ALICE, "deactivating", HOURLY).await;
    let task = api.poll(ALICE, "wg-1").await;
    api.ok(
        ALICE,
        "DeactivatePipeline",
        json!({"pipelineId": id, "cancelActive": false}),
    )
    .await;
    let state = || async {
        let described = api
            .ok(ALICE, "DescribePipelines", json!({"pipelineIds": [id]}))
            .await;
        field(&described["pipelineDescriptionList"][0], "@pipelineState")
    };
    assert_eq!(state().await.as_deref(), Some("DEACTIVATING"));
    api.ok(
        ALICE,
        "SetTaskStatus",
        json!({"taskId": task_id(&task), "taskStatus": "FINISHED"}),
    )
    .await;
    assert_eq!(state().await.as_deref(), Some("INACTIVE"));
}

#[tokio::test]
async fn a_restarted_service_resumes_active_pipelines() {
    let api = quick().await;
    let retrying = ONDEMAND.replace("\"maximumRetries\": \"0\"", "\"maximumRetries\": \"1\"");
    let id = api.activated(ALICE, "resume", &retrying).await;
    let task = api.poll(ALICE, "wg-1").await;
    let restarted = Api::open(
        api.store.clone(),
        api.clock.clone(),
        quick_options(),
        ApiConfig::default(),
    )
    .await;
    drop(api);
    // The old process's task is a lost lease: unknown to the new one, and retried.
    restarted
        .fails(
            ALICE,
            "ReportTaskProgress",
            json!({"taskId": task_id(&task)}),
            "TaskNotFoundException",
        )
        .await;
    restarted.clock.advance(chrono::Duration::minutes(11));
    restarted.service.tick_due().await;
    let retried = restarted.poll(ALICE, "wg-1").await;
    assert_eq!(
        retried["taskObject"]["attemptId"], "@Hello_2026-01-01T00:00:00_Attempt=2",
        "{retried}"
    );
    let described = restarted
        .ok(ALICE, "DescribePipelines", json!({"pipelineIds": [id]}))
        .await;
    assert_eq!(
        field(&described["pipelineDescriptionList"][0], "@pipelineState").as_deref(),
        Some("SCHEDULED")
    );
}

#[tokio::test]
async fn pipelines_of_sluice_run_are_left_to_it() {
    use sluice_engine::{ChangeSet, PipelineRecord, Store};
    let store = std::sync::Arc::new(sluice_engine::MemoryStore::new());
    let definition: sluice_model::PipelineDefinition =
        serde_json::from_value(common::api_form(ONDEMAND)).unwrap();
    let mut record = PipelineRecord::new_local("df-LOCALRUN0000000000A", common::at(common::START));
    record.state = sluice_model::PipelineState::Scheduled;
    record.definition = Some(definition.clone());
    record.active_definition = Some(definition);
    record.version = 1;
    store
        .commit(&ChangeSet {
            pipelines: vec![record],
            ..ChangeSet::default()
        })
        .await
        .unwrap();
    let clock = std::sync::Arc::new(sluice_engine::VirtualClock::new(common::at(common::START)));
    let api = Api::open(store, clock, quick_options(), ApiConfig::default()).await;
    assert!(api.service.scheduler("df-LOCALRUN0000000000A").is_none());
    api.fails(
        ALICE,
        "DescribePipelines",
        json!({"pipelineIds": ["df-LOCALRUN0000000000A"]}),
        "PipelineNotFoundException",
    )
    .await;
}

/// Every value of `key` in an API object's `fields`.
fn values(object: &Value, key: &str) -> Vec<String> {
    object["fields"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|f| f["key"] == key)
        .filter_map(|f| f.get("stringValue").or_else(|| f.get("refValue")))
        .filter_map(|v| v.as_str().map(str::to_owned))
        .collect()
}

#[tokio::test]
async fn runtime_fields_follow_the_runs() {
    let api = quick().await;
    let daily = r##"{"objects": [
      {"id": "Default", "name": "Default", "scheduleType": "cron", "schedule": {"ref": "Daily"},
       "workerGroup": "wg-1", "maximumRetries": "1"},
      {"id": "Daily", "name": "Daily", "type": "Schedule", "period": "1 days",
       "startDateTime": "2026-01-01T00:00:00", "endDateTime": "2026-01-03T00:00:00"},
      {"id": "Step", "name": "Step", "type": "ShellCommandActivity", "command": "true"}
    ]}"##;
    let id = api.activated(ALICE, "runtime", daily).await;
    let first = "@Step_2026-01-01T00:00:00";
    let second = "@Step_2026-01-02T00:00:00";
    let describe = |ids: Vec<&str>| {
        let api = &api;
        let id = id.clone();
        let ids: Vec<String> = ids.into_iter().map(str::to_owned).collect();
        async move {
            let reply = api
                .ok(
                    ALICE,
                    "DescribeObjects",
                    json!({"pipelineId": id, "objectIds": ids}),
                )
                .await;
            reply["pipelineObjects"].as_array().unwrap().clone()
        }
    };

    let task = api.poll(ALICE, "wg-1").await;
    let attempt_id = task["taskObject"]["attemptId"].as_str().unwrap().to_owned();
    let attempt = &task["taskObject"]["objects"][&attempt_id];
    assert_eq!(field(attempt, "@id").as_deref(), Some(attempt_id.as_str()));

    let objects = describe(vec!["Step", first]).await;
    let (step, instance) = (&objects[0], &objects[1]);
    assert_eq!(values(step, "@activeInstances"), [first]);
    assert_eq!(values(step, "@latestRunTime"), ["2026-01-01T00:00:00"]);
    assert_eq!(values(step, "@nextRunTime"), ["2026-01-02T00:00:00"]);
    assert!(values(step, "@healthStatus").is_empty(), "{step}");
    assert_eq!(values(instance, "@triesLeft"), ["1"]);

    api.clock.advance(chrono::Duration::minutes(1));
    api.ok(
        ALICE,
        "SetTaskStatus",
        json!({"taskId": task_id(&task), "taskStatus": "FINISHED"}),
    )
    .await;
    let objects = describe(vec!["Step", first, &attempt_id]).await;
    let (step, instance, attempt) = (&objects[0], &objects[1], &objects[2]);
    assert_eq!(values(step, "@healthStatus"), ["HEALTHY"]);
    assert_eq!(
        values(step, "@healthStatusUpdatedTime"),
        ["2026-01-01T00:01:00"]
    );
    assert_eq!(
        values(step, "@latestCompletedRunTime"),
        ["2026-01-01T00:00:00"]
    );
    assert!(values(step, "@activeInstances").is_empty(), "{step}");
    assert_eq!(values(instance, "@finishedTime"), ["2026-01-01T00:01:00"]);
    assert_eq!(values(attempt, "@finishedTime"), ["2026-01-01T00:01:00"]);

    // The second and last day: its attempt is canceled, with the reason on the attempt.
    api.clock.advance(chrono::Duration::days(1));
    let task = api.poll(ALICE, "wg-1").await;
    let attempt_id = task["taskObject"]["attemptId"].as_str().unwrap().to_owned();
    assert_eq!(
        values(&describe(vec!["Step"]).await[0], "@activeInstances"),
        [second]
    );
    api.ok(
        ALICE,
        "SetStatus",
        json!({"pipelineId": id, "objectIds": [second], "status": "TRY_CANCEL"}),
    )
    .await;
    let objects = describe(vec![&attempt_id]).await;
    assert_eq!(values(&objects[0], "@status"), ["CANCELED"]);
    assert_eq!(
        values(&objects[0], "cancellationReason").len(),
        1,
        "{}",
        objects[0]
    );

    // With the schedule over, the pipeline is FINISHED: no next run, and its definition
    // no longer changes.
    let state = api
        .ok(ALICE, "DescribePipelines", json!({"pipelineIds": [id]}))
        .await;
    let description = &state["pipelineDescriptionList"][0];
    assert_eq!(
        field(description, "@pipelineState").as_deref(),
        Some("FINISHED")
    );
    assert_eq!(field(description, "@nextRunTime"), None);
    assert!(!values(&describe(vec!["Step"]).await[0], "@finishedTime").is_empty());
    let put = api.put(ALICE, &id, ONDEMAND).await;
    assert_eq!(put["errored"], true, "{put}");
    assert!(put.to_string().contains("FINISHED"), "{put}");
    let kept = api
        .ok(ALICE, "GetPipelineDefinition", json!({"pipelineId": id}))
        .await;
    assert!(kept.to_string().contains("Daily"), "{kept}");
}

#[tokio::test]
async fn an_ondemand_pipeline_has_no_next_run_time() {
    let api = quick().await;
    let id = api.activated(ALICE, "ondemand-next", ONDEMAND).await;
    let task = api.poll(ALICE, "wg-1").await;
    assert!(task["taskObject"].is_object(), "{task}");
    let described = api
        .ok(ALICE, "DescribePipelines", json!({"pipelineIds": [id]}))
        .await;
    assert_eq!(
        field(&described["pipelineDescriptionList"][0], "@nextRunTime"),
        None
    );
    assert_eq!(
        api.describe_field(ALICE, &id, "Hello", "@nextRunTime")
            .await,
        None
    );
}

#[tokio::test]
async fn a_worker_group_nobody_polls_for_is_reported_after_a_minute() {
    let api = quick().await;
    api.activated(ALICE, "unserved", ONDEMAND).await;
    assert!(api.service.warn_unserved_groups().await.is_empty());
    api.clock.advance(chrono::Duration::seconds(61));
    assert_eq!(api.service.warn_unserved_groups().await, ["wg-1"]);
    // Reported once; a poll for the group makes it served again.
    assert!(api.service.warn_unserved_groups().await.is_empty());
    let task = api.poll(ALICE, "wg-1").await;
    assert!(task["taskObject"].is_object(), "{task}");
    api.clock.advance(chrono::Duration::seconds(61));
    assert!(api.service.warn_unserved_groups().await.is_empty());
}
