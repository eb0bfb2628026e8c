//! The JSON 1.1 protocol: routing by `X-Amz-Target`, headers, authentication of every
//! request, decoding and constraint errors, the body limit, and the exact error shape.

mod common;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use common::{ALICE, Api, Caller, signed_request, signed_request_with};
use serde_json::json;
use sluice_api::{ApiConfig, ServiceOptions};

#[tokio::test]
async fn responses_carry_the_protocol_headers() {
    let api = Api::new().await;
    let reply = api.call(ALICE, "ListPipelines", json!({})).await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(reply.headers["content-type"], "application/x-amz-json-1.1");
    let request_id = reply.headers["x-amzn-requestid"].to_str().unwrap();
    assert_eq!(request_id.len(), 36, "{request_id}");
    assert_eq!(
        reply.body,
        json!({"pipelineIdList": [], "hasMoreResults": false})
    );
    let error = api.call(ALICE, "Nope", json!({})).await;
    assert!(error.headers.contains_key("x-amzn-requestid"));
    assert_eq!(
        error.headers["x-amzn-errortype"],
        "UnknownOperationException"
    );
    assert_eq!(error.headers["content-type"], "application/x-amz-json-1.1");
}

#[tokio::test]
async fn unknown_and_missing_targets_are_unknown_operations() {
    let api = Api::new().await;
    let message = api
        .fails(
            ALICE,
            "FlyToTheMoon",
            json!({}),
            "UnknownOperationException",
        )
        .await;
    assert!(message.contains("FlyToTheMoon"), "{message}");
    let reply = api
        .send(signed_request(ALICE, "Wrong.ListPipelines", b"{}"))
        .await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    assert_eq!(reply.error_type(), "UnknownOperationException");

    let unsigned_get = || {
        Request::builder()
            .method("GET")
            .uri("/")
            .body(Body::empty())
            .unwrap()
    };
    // A browser lands in the console, unless it is off.
    let reply = api.send(unsigned_get()).await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER);
    assert_eq!(reply.headers["location"], "/console/");
    let without_console = Api::with(
        ServiceOptions::default(),
        ApiConfig {
            console: false,
            ..ApiConfig::default()
        },
    )
    .await;
    let reply = without_console.send(unsigned_get()).await;
    assert_eq!(reply.error_type(), "UnknownOperationException");
    let other_path = Request::builder()
        .method("POST")
        .uri("/somewhere")
        .body(Body::empty())
        .unwrap();
    assert_eq!(
        api.send(other_path).await.error_type(),
        "UnknownOperationException"
    );
}

#[tokio::test]
async fn the_legacy_target_prefix_and_json_1_0_are_accepted() {
    let api = Api::new().await;
    let request = signed_request_with(
        ALICE,
        "DataPipeline_20121129.ListPipelines",
        b"",
        Some("application/x-amz-json-1.0"),
    );
    let reply = api.send(request).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    let no_content_type = signed_request_with(ALICE, "DataPipeline.ListPipelines", b"{}", None);
    assert_eq!(api.send(no_content_type).await.status, StatusCode::OK);
}

#[tokio::test]
async fn every_request_is_authenticated() {
    let api = Api::new().await;
    let unsigned = Request::builder()
        .method("POST")
        .uri("/")
        .header("x-amz-target", "DataPipeline.ListPipelines")
        .header("content-type", "application/x-amz-json-1.1")
        .body(Body::from("{}"))
        .unwrap();
    let reply = api.send(unsigned).await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    assert_eq!(reply.error_type(), "MissingAuthenticationTokenException");

    // Unknown operations are not revealed to unauthenticated callers either.
    let unsigned = Request::builder()
        .method("POST")
        .uri("/")
        .header("x-amz-target", "DataPipeline.Nope")
        .body(Body::from("{}"))
        .unwrap();
    assert_eq!(
        api.send(unsigned).await.error_type(),
        "MissingAuthenticationTokenException"
    );

    let stranger = Caller {
        access_key_id: "AKIASTRANGER00000000",
        secret: "whatever",
        account_id: "999999999999",
    };
    api.fails(
        stranger,
        "ListPipelines",
        json!({}),
        "UnrecognizedClientException",
    )
    .await;
    let forger = Caller {
        secret: "not-alices-secret",
        ..ALICE
    };
    api.fails(
        forger,
        "ListPipelines",
        json!({}),
        "InvalidSignatureException",
    )
    .await;

    // A body changed after signing does not verify.
    let mut request = api.request(ALICE, "CreatePipeline", br#"{"name":"a","uniqueId":"a"}"#);
    *request.body_mut() = Body::from(r#"{"name":"b","uniqueId":"b"}"#);
    assert_eq!(
        api.send(request).await.error_type(),
        "InvalidSignatureException"
    );
}

#[tokio::test]
async fn malformed_bodies_are_serialization_errors() {
    let api = Api::new().await;
    let reply = api
        .send(api.request(ALICE, "CreatePipeline", b"{\"name\": "))
        .await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    assert_eq!(reply.error_type(), "SerializationException");
    assert_eq!(reply.body.as_object().unwrap().len(), 2);
    let reply = api.send(api.request(ALICE, "ListPipelines", b"[]")).await;
    assert_eq!(reply.error_type(), "SerializationException");
    api.fails(
        ALICE,
        "CreatePipeline",
        json!({"name": 7, "uniqueId": "u"}),
        "SerializationException",
    )
    .await;
    api.fails(
        ALICE,
        "ActivatePipeline",
        json!({"pipelineId": "df-1", "startTimestamp": true}),
        "SerializationException",
    )
    .await;
}

#[tokio::test]
async fn missing_members_and_constraint_violations_are_invalid_requests() {
    let api = Api::new().await;
    let message = api
        .fails(
            ALICE,
            "CreatePipeline",
            json!({"name": "only a name"}),
            "InvalidRequestException",
        )
        .await;
    assert!(message.contains("uniqueId"), "{message}");
    let message = api
        .fails(
            ALICE,
            "CreatePipeline",
            json!({"name": "", "uniqueId": "x".repeat(1025)}),
            "InvalidRequestException",
        )
        .await;
    assert!(
        message.starts_with("2 validation errors detected"),
        "{message}"
    );
    assert!(!message.contains(&"x".repeat(100)), "values are not echoed");
    let too_many_tags: Vec<_> = (0..11)
        .map(|i| json!({"key": format!("k{i}"), "value": "v"}))
        .collect();
    api.fails(
        ALICE,
        "CreatePipeline",
        json!({"name": "n", "uniqueId": "u", "tags": too_many_tags}),
        "InvalidRequestException",
    )
    .await;
    let ids: Vec<String> = (0..26).map(|i| format!("df-{i}")).collect();
    api.fails(
        ALICE,
        "DescribePipelines",
        json!({"pipelineIds": ids}),
        "InvalidRequestException",
    )
    .await;
    api.fails(
        ALICE,
        "DescribePipelines",
        json!({"pipelineIds": []}),
        "InvalidRequestException",
    )
    .await;
    api.fails(
        ALICE,
        "SetTaskStatus",
        json!({"taskId": "t", "taskStatus": "DONE"}),
        "InvalidRequestException",
    )
    .await;
    api.fails(
        ALICE,
        "PollForTask",
        json!({"workerGroup": ""}),
        "InvalidRequestException",
    )
    .await;
    api.fails(
        ALICE,
        "ReportTaskRunnerHeartbeat",
        json!({"workerGroup": "wg-1"}),
        "InvalidRequestException",
    )
    .await;
}

#[tokio::test]
async fn error_bodies_are_exactly_type_and_message() {
    let api = Api::new().await;
    let reply = api
        .call(
            ALICE,
            "GetPipelineDefinition",
            json!({"pipelineId": "df-0000000000000000000"}),
        )
        .await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    insta::assert_json_snapshot!("pipeline_not_found", reply.body);
}

#[tokio::test]
async fn oversized_bodies_are_refused() {
    let api = Api::with(
        ServiceOptions::default(),
        ApiConfig {
            body_limit: 1024,
            ..ApiConfig::default()
        },
    )
    .await;
    let big = json!({"name": "n", "uniqueId": "u", "description": "d".repeat(2000)});
    let reply = api.call(ALICE, "CreatePipeline", big).await;
    assert_eq!(reply.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(reply.error_type(), "RequestEntityTooLargeException");
    assert!(reply.message().contains("1024"), "{}", reply.message());
    // Without a Content-Length the limit applies while reading.
    let mut request = api.request(ALICE, "ListPipelines", &vec![b' '; 4096]);
    request.headers_mut().remove("content-length");
    assert_eq!(
        api.send(request).await.error_type(),
        "RequestEntityTooLargeException"
    );
}

#[tokio::test]
async fn unsupported_content_types_are_refused() {
    let api = Api::new().await;
    let mut request = api.request(ALICE, "ListPipelines", b"{}");
    request.headers_mut().insert(
        "content-type",
        "application/x-www-form-urlencoded".parse().unwrap(),
    );
    assert_eq!(
        api.send(request).await.error_type(),
        "SerializationException"
    );
}

#[tokio::test]
async fn health_and_readiness_answer_unsigned() {
    let api = Api::new().await;
    for (path, status) in [("/healthz", "ok"), ("/readyz", "ready")] {
        let request = Request::builder()
            .method("GET")
            .uri(path)
            .body(Body::empty())
            .unwrap();
        let reply = api.send(request).await;
        assert_eq!(reply.status, StatusCode::OK, "{path}");
        assert_eq!(reply.body["status"], status, "{path}");
    }
    // Any other GET is still refused as the protocol refuses it.
    let request = Request::builder()
        .method("GET")
        .uri("/metrics-nope")
        .body(Body::empty())
        .unwrap();
    assert_eq!(
        api.send(request).await.error_type(),
        "UnknownOperationException"
    );
}

#[tokio::test]
async fn decoding_errors_are_worded_as_aws_words_them() {
    let api = Api::new().await;
    let reply = api
        .call(ALICE, "CreatePipeline", json!({ "name": "no-unique-id" }))
        .await;
    assert_eq!(reply.error_type(), "InvalidRequestException");
    assert_eq!(
        reply.message(),
        "1 validation error detected: Value null at 'uniqueId' failed to satisfy constraint: \
         Member must not be null"
    );
    let reply = api
        .call(
            ALICE,
            "CreatePipeline",
            json!({ "name": 7, "uniqueId": "u" }),
        )
        .await;
    assert_eq!(reply.error_type(), "SerializationException");
    assert!(
        !reply.message().contains(" at line "),
        "{}",
        reply.message()
    );
}
