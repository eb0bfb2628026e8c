//! The API under test, in process: a [`Service`] over a `MemoryStore` and a virtual clock
//! behind the real router, called with requests signed by the AWS SDK's signer
//! (`aws-sigv4`) for two accounts, through `tower::ServiceExt::oneshot` (no socket).
#![allow(dead_code, unreachable_pub)]

use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::http::{HeaderMap, Request, StatusCode};
use chrono::NaiveDateTime;
use serde_json::{Value, json};
use sluice_api::auth::{AccessKey, CredentialStore, SecretKey};
use sluice_api::{ApiConfig, Service, ServiceOptions, router};
use sluice_engine::{Clock, MemoryStore, Store, VirtualClock};
use sluice_model::parse_definition_file;
use sluice_model::time::parse_datetime;
use sluice_testsupport::sigv4::{self, Signing};
use tower::ServiceExt;

pub const HOST: &str = "localhost:8080";

/// Who calls: an access key of an account.
#[derive(Debug, Clone, Copy)]
pub struct Caller {
    pub access_key_id: &'static str,
    pub secret: &'static str,
    pub account_id: &'static str,
}

pub const ALICE: Caller = Caller {
    access_key_id: "AKIAALICE00000000001",
    secret: "alice/secret/key/000000000000000000000000",
    account_id: "111111111111",
};

pub const BOB: Caller = Caller {
    access_key_id: "AKIABOB0000000000002",
    secret: "bob/secret/key/00000000000000000000000000",
    account_id: "222222222222",
};

/// The virtual time the tests start at.
pub const START: &str = "2026-01-01T00:00:00";

pub fn at(text: &str) -> NaiveDateTime {
    parse_datetime(text).unwrap_or_else(|e| panic!("{e}"))
}

pub fn credentials() -> CredentialStore {
    let mut store = CredentialStore::new();
    for caller in [ALICE, BOB] {
        store
            .insert(
                AccessKey {
                    access_key_id: caller.access_key_id.into(),
                    secret_access_key: SecretKey::new(caller.secret),
                    account_id: caller.account_id.into(),
                },
                "test",
            )
            .unwrap();
    }
    store
}

pub struct Api {
    pub service: Arc<Service>,
    pub router: Router,
    pub clock: Arc<VirtualClock>,
    pub store: Arc<MemoryStore>,
}

/// A reply: status, headers and the JSON body.
#[derive(Debug)]
pub struct Reply {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Value,
}

impl Reply {
    pub fn error_type(&self) -> &str {
        self.body["__type"].as_str().unwrap_or_default()
    }

    pub fn message(&self) -> &str {
        self.body["message"].as_str().unwrap_or_default()
    }
}

impl Api {
    pub async fn new() -> Api {
        Api::with(ServiceOptions::default(), ApiConfig::default()).await
    }

    pub async fn with(options: ServiceOptions, config: ApiConfig) -> Api {
        let store = Arc::new(MemoryStore::new());
        let clock = Arc::new(VirtualClock::new(at(START)));
        Api::open(store, clock, options, config).await
    }

    /// A service over an existing store and clock: a restarted server.
    pub async fn open(
        store: Arc<MemoryStore>,
        clock: Arc<VirtualClock>,
        options: ServiceOptions,
        config: ApiConfig,
    ) -> Api {
        let dyn_store: Arc<dyn Store> = store.clone();
        let dyn_clock: Arc<dyn Clock> = clock.clone();
        let service = Service::open(dyn_store, dyn_clock, options)
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        let router = router(service.clone(), Arc::new(credentials()), config);
        Api {
            service,
            router,
            clock,
            store,
        }
    }

    /// A signed request, as botocore sends it.
    pub fn request(&self, who: Caller, target: &str, body: &[u8]) -> Request<Body> {
        signed_request(who, &format!("DataPipeline.{target}"), body)
    }

    pub async fn send(&self, request: Request<Body>) -> Reply {
        let response = self.router.clone().oneshot(request).await.unwrap();
        let status = response.status();
        let headers = response.headers().clone();
        let bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
            .await
            .unwrap();
        let body = if bytes.is_empty() {
            Value::Null
        } else {
            serde_json::from_slice(&bytes)
                .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&bytes)))
        };
        Reply {
            status,
            headers,
            body,
        }
    }

    pub async fn call(&self, who: Caller, operation: &str, body: Value) -> Reply {
        let bytes = serde_json::to_vec(&body).unwrap();
        self.send(self.request(who, operation, &bytes)).await
    }

    /// Calls and expects success.
    #[track_caller]
    pub fn ok(
        &self,
        who: Caller,
        operation: &'static str,
        body: Value,
    ) -> impl std::future::Future<Output = Value> + '_ {
        let caller = std::panic::Location::caller();
        async move {
            let reply = self.call(who, operation, body).await;
            assert_eq!(
                reply.status,
                StatusCode::OK,
                "{operation} failed at {caller}: {}",
                reply.body
            );
            reply.body
        }
    }

    /// Calls and expects an error of `aws_type`; returns its message.
    pub async fn fails(&self, who: Caller, operation: &str, body: Value, aws_type: &str) -> String {
        let reply = self.call(who, operation, body).await;
        assert_eq!(
            reply.error_type(),
            aws_type,
            "{operation}: {} {}",
            reply.status,
            reply.body
        );
        assert!(reply.status.is_client_error() || reply.status.is_server_error());
        assert_eq!(
            reply.body.as_object().map(|o| o.len()),
            Some(2),
            "error bodies are exactly __type and message: {}",
            reply.body
        );
        reply.message().to_owned()
    }

    pub async fn create(&self, who: Caller, name: &str) -> String {
        let reply = self
            .ok(
                who,
                "CreatePipeline",
                json!({"name": name, "uniqueId": name}),
            )
            .await;
        reply["pipelineId"].as_str().unwrap().to_owned()
    }

    /// Puts a definition given in the definition-file form.
    pub async fn put(&self, who: Caller, pipeline_id: &str, file: &str) -> Value {
        let mut body = api_form(file);
        body["pipelineId"] = json!(pipeline_id);
        self.ok(who, "PutPipelineDefinition", body).await
    }

    /// Creates a pipeline, puts a definition and activates it.
    pub async fn activated(&self, who: Caller, name: &str, file: &str) -> String {
        let id = self.create(who, name).await;
        let put = self.put(who, &id, file).await;
        assert_eq!(put["errored"], false, "{put}");
        self.ok(who, "ActivatePipeline", json!({"pipelineId": id}))
            .await;
        id
    }

    /// Polls once for a task of `group` (the poll wait of the service applies).
    pub async fn poll(&self, who: Caller, group: &str) -> Value {
        self.ok(
            who,
            "PollForTask",
            json!({"workerGroup": group, "hostname": "test-host"}),
        )
        .await
    }

    pub async fn query(
        &self,
        who: Caller,
        pipeline_id: &str,
        sphere: &str,
        query: Value,
    ) -> Vec<String> {
        let reply = self
            .ok(
                who,
                "QueryObjects",
                json!({"pipelineId": pipeline_id, "sphere": sphere, "query": query}),
            )
            .await;
        strings(&reply["ids"])
    }

    /// A field of an object as DescribeObjects returns it.
    pub async fn describe_field(
        &self,
        who: Caller,
        pipeline_id: &str,
        object_id: &str,
        key: &str,
    ) -> Option<String> {
        let reply = self
            .ok(
                who,
                "DescribeObjects",
                json!({"pipelineId": pipeline_id, "objectIds": [object_id]}),
            )
            .await;
        field(&reply["pipelineObjects"][0], key)
    }
}

/// The API form (`pipelineObjects`, …) of a definition file.
pub fn api_form(file: &str) -> Value {
    let parsed = parse_definition_file(file).unwrap_or_else(|e| panic!("{e}"));
    serde_json::to_value(parsed.definition).unwrap()
}

/// A request signed now with `aws-sigv4` for `who`.
pub fn signed_request(who: Caller, target: &str, body: &[u8]) -> Request<Body> {
    signed_request_with(who, target, body, Some(sigv4::JSON_1_1))
}

/// A signed request with a chosen content type (or none).
pub fn signed_request_with(
    who: Caller,
    target: &str,
    body: &[u8],
    content_type: Option<&str>,
) -> Request<Body> {
    let mut request = sigv4::request(&format!("http://{HOST}/"), target, body);
    match content_type {
        Some(content_type) => {
            let value = content_type.parse().unwrap();
            request.headers_mut().insert("content-type", value);
        }
        None => {
            request.headers_mut().remove("content-type");
        }
    }
    sigv4::sign(&mut request, &Signing::new(who.access_key_id, who.secret));
    request.map(Body::from)
}

pub fn strings(value: &Value) -> Vec<String> {
    value
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|v| v.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

/// The first value (string or reference) of `key` in an API object's `fields`.
pub fn field(object: &Value, key: &str) -> Option<String> {
    object["fields"].as_array()?.iter().find_map(|f| {
        (f["key"] == key).then(|| {
            f.get("stringValue")
                .or_else(|| f.get("refValue"))
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_owned()
        })
    })
}

/// Replaces generated ids (pipeline ids, task ids) by stable placeholders for snapshots.
pub fn redact(value: &mut Value) {
    match value {
        Value::String(s) => {
            if s.starts_with("df-") && s.len() == 22 {
                *s = "df-<PIPELINE>".into();
            } else if s.starts_with("task-") {
                *s = "<TASK>".into();
            }
        }
        Value::Array(items) => items.iter_mut().for_each(redact),
        Value::Object(map) => map.values_mut().for_each(redact),
        _ => {}
    }
}

pub fn redacted(mut value: Value) -> Value {
    redact(&mut value);
    value
}

/// An ondemand pipeline whose one activity runs in worker group `wg-1`.
pub const ONDEMAND: &str = r##"{"objects": [
  {"id": "Default", "name": "Default", "scheduleType": "ondemand", "workerGroup": "wg-1",
   "maximumRetries": "0"},
  {"id": "Hello", "name": "Hello", "type": "ShellCommandActivity",
   "command": "echo #{myGreeting} at #{@scheduledStartTime}"}
 ],
 "parameters": [{"id": "myGreeting", "type": "String", "default": "hi"}]
}"##;

/// An hourly cron pipeline starting four hours before [`START`]: activation backfills five
/// instances of `Step`.
pub const HOURLY: &str = r##"{"objects": [
  {"id": "Default", "name": "Default", "scheduleType": "cron", "schedule": {"ref": "Hourly"},
   "workerGroup": "wg-1", "maximumRetries": "0"},
  {"id": "Hourly", "name": "Hourly", "type": "Schedule", "period": "1 hours",
   "startDateTime": "2025-12-31T20:00:00"},
  {"id": "Step", "name": "Step", "type": "ShellCommandActivity",
   "command": "echo #{format(@scheduledStartTime, 'YYYY-MM-dd HH')}"}
]}"##;

/// Options for tests: short long polls.
pub fn quick_options() -> ServiceOptions {
    ServiceOptions {
        poll_wait: std::time::Duration::from_millis(200),
        ..ServiceOptions::default()
    }
}

pub async fn quick() -> Api {
    Api::with(quick_options(), ApiConfig::default()).await
}
