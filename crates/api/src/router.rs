//! The AWS JSON 1.1 protocol: one route, `POST /`, the operation named by
//! `X-Amz-Target: DataPipeline.<Operation>`, JSON in and out.
//!
//! Each request goes through, in order: method and path (`UnknownOperationException`),
//! content type (`application/x-amz-json-1.1`; 1.0 and `application/json` are tolerated, as is
//! none), the body limit (`RequestEntityTooLargeException`), authentication (every request, so
//! an unauthenticated caller learns nothing, not even which operations exist), the target
//! (`DataPipeline.` or the 2012 `DataPipeline_20121129.` prefix), decoding (an empty body is
//! `{}`), the model's constraints, and the operation. Every response, error or not, carries
//! `Content-Type: application/x-amz-json-1.1` and a UUID-shaped `x-amzn-RequestId`; errors
//! also `x-amzn-ErrorType`, as AWS sends it.

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::Response;
use serde::Serialize;
use sluice_model::ops::Operation;

use sluice_runtime::cluster::{Placement, Remote};
use sluice_runtime::metrics::UNKNOWN_OPERATION;
use sluice_runtime::{ApiError, ApiResult, Service, new_request_id};

use crate::auth::{self, Principal, SignedRequest};
use crate::authn::Authenticator;
use crate::forward;
use crate::input::{Input, decode_input};

/// The response content type.
pub const CONTENT_TYPE: &str = "application/x-amz-json-1.1";
/// Most headers a request may carry.
pub(crate) const MAX_HEADERS: usize = 100;
/// Most bytes of header names and values a request may carry.
pub(crate) const MAX_HEADER_BYTES: usize = 32 * 1024;
/// The request-id response header.
pub const REQUEST_ID_HEADER: &str = "x-amzn-RequestId";

/// Protocol settings, and the bounds that keep clients that never finish a request from
/// exhausting the server.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ApiConfig {
    /// Largest request body accepted, in bytes (EvaluateExpression alone may carry 20 MiB).
    pub body_limit: usize,
    /// Most bytes buffered at once, across all connections, for bodies whose signature is not
    /// verified yet; a request waits (up to `body_timeout`) for its share.
    pub unverified_bytes: usize,
    /// How long a request's body may take to arrive once its headers have.
    pub body_timeout: Duration,
    /// How long a client has to send a request's headers, and how long a kept-alive
    /// connection may sit idle before its next request.
    pub header_timeout: Duration,
    /// Most connections served at once; more wait in the listen backlog.
    pub max_connections: usize,
    /// Answer `GET /metrics` here (off when the metrics have a listener of their own).
    pub metrics: bool,
    /// Serve the web console under `/console/` (and send `GET /` there).
    pub console: bool,
    /// Mark the console's session cookie `Secure` (the listener serves TLS).
    pub console_secure_cookie: bool,
}

impl Default for ApiConfig {
    fn default() -> Self {
        ApiConfig {
            body_limit: 32 * 1024 * 1024,
            unverified_bytes: 64 * 1024 * 1024,
            body_timeout: Duration::from_secs(60),
            header_timeout: Duration::from_secs(30),
            max_connections: 1024,
            metrics: true,
            console: true,
            console_secure_cookie: false,
        }
    }
}

#[derive(Clone)]
struct AppState {
    service: Arc<Service>,
    authenticator: Arc<dyn Authenticator>,
    config: ApiConfig,
    /// For calls answered by another server (a shared deployment).
    client: reqwest::Client,
    /// Bytes of not-yet-verified bodies being read, bounded by `config.unverified_bytes`.
    unverified: Arc<tokio::sync::Semaphore>,
}

/// The API as an axum router (every path and method is handled, most of them with an error).
pub fn router(
    service: Arc<Service>,
    authenticator: Arc<dyn Authenticator>,
    config: ApiConfig,
) -> Router {
    let client = forward::client(None).unwrap_or_default();
    router_with_client(service, authenticator, config, client)
}

/// [`router`] forwarding calls to other servers with `client` (one trusting the deployment's
/// CA bundle).
pub(crate) fn router_with_client(
    service: Arc<Service>,
    authenticator: Arc<dyn Authenticator>,
    config: ApiConfig,
    client: reqwest::Client,
) -> Router {
    let api = Router::new().fallback(handle).with_state(AppState {
        service: Arc::clone(&service),
        authenticator: Arc::clone(&authenticator),
        config,
        client: client.clone(),
        unverified: Arc::new(tokio::sync::Semaphore::new(config.unverified_bytes)),
    });
    if !config.console {
        return api;
    }
    let options = sluice_console::ConsoleOptions {
        secure_cookie: config.console_secure_cookie,
        ..sluice_console::ConsoleOptions::default()
    };
    let relay = forward::ConsoleRelay {
        client,
        authenticator: Arc::clone(&authenticator),
    };
    sluice_console::router(
        service,
        Arc::new(ConsoleKeys(authenticator)),
        Arc::new(relay),
        options,
    )
    .merge(api)
}

/// The console signs people in with the keys the API verifies signatures against.
struct ConsoleKeys(Arc<dyn Authenticator>);

impl sluice_console::KeyCheck for ConsoleKeys {
    fn check(&self, access_key_id: &str, secret: &str) -> Option<Principal> {
        self.0.check_secret(access_key_id, secret)
    }
}

/// `GET /healthz` (the process answers) and `GET /readyz` (and its state store does), for
/// load balancers and orchestrators, and `GET /metrics` unless it has its own listener:
/// unsigned, and saying nothing about any account.
async fn unsigned(state: &AppState, path: &str) -> Option<Response> {
    if path == "/metrics" && state.config.metrics {
        return Some(metrics_response(&state.service).await);
    }
    let (status, body) = match path {
        "/healthz" => (StatusCode::OK, r#"{"status":"ok"}"#.to_owned()),
        "/readyz" => match state.service.store().pipeline("readyz-probe").await {
            Ok(_) => (StatusCode::OK, r#"{"status":"ready"}"#.to_owned()),
            Err(error) => (
                StatusCode::SERVICE_UNAVAILABLE,
                serde_json::json!({ "status": "unavailable", "reason": error.to_string() })
                    .to_string(),
            ),
        },
        _ => return None,
    };
    let mut response = Response::new(Body::from(body));
    *response.status_mut() = status;
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    Some(response)
}

/// `GET /metrics`: every metric in the Prometheus text format.
pub(crate) async fn metrics_response(service: &Service) -> Response {
    let mut response = Response::new(Body::from(service.render_metrics().await));
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(sluice_runtime::metrics::CONTENT_TYPE),
    );
    response
}

async fn handle(State(state): State<AppState>, request: Request) -> Response {
    if request.method() == Method::GET
        && let Some(response) = unsigned(&state, request.uri().path()).await
    {
        return response;
    }
    // A browser pointed at the server lands in the console.
    if state.config.console && request.method() == Method::GET && request.uri().path() == "/" {
        let mut response = Response::new(Body::empty());
        *response.status_mut() = StatusCode::SEE_OTHER;
        response
            .headers_mut()
            .insert(header::LOCATION, HeaderValue::from_static("/console/"));
        return response;
    }
    let request_id = new_request_id();
    let started = Instant::now();
    let (parts, body) = request.into_parts();
    let outcome = process(&state, &parts.method, &parts.uri, &parts.headers, body).await;
    let elapsed = started.elapsed();
    let elapsed_ms = elapsed.as_millis();
    let metrics = state.service.metrics();
    let (status, body, error_type) = match outcome {
        Ok(Answer::Forwarded(operation, url, response)) => {
            tracing::debug!(request_id, operation = %operation, %url, elapsed_ms, "forwarded");
            let error = (!response.status().is_success()).then(|| {
                response
                    .headers()
                    .get("x-amzn-ErrorType")
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or("unknown")
            });
            metrics.api_request(operation.name(), error, elapsed);
            return response;
        }
        Ok(Answer::Here(operation, account, body)) => {
            tracing::debug!(request_id, operation = %operation, account, elapsed_ms, "ok");
            metrics.api_request(operation.name(), None, elapsed);
            (StatusCode::OK, body, None)
        }
        Err((operation, error)) => {
            // Counted under the operation the request named even when it failed before that
            // mattered (authentication, the body), so each operation's error rate is whole.
            let named = operation.or_else(|| target(&parts.headers).ok());
            metrics.api_request(
                named.map_or(UNKNOWN_OPERATION, Operation::name),
                Some(error.aws_type()),
                elapsed,
            );
            let operation = operation.map_or("-", Operation::name);
            let status =
                StatusCode::from_u16(error.http_status()).unwrap_or(StatusCode::BAD_REQUEST);
            if status.is_server_error() {
                tracing::warn!(
                    request_id,
                    operation,
                    elapsed_ms,
                    error = error.aws_type(),
                    "{}",
                    error.message()
                );
            } else {
                tracing::debug!(
                    request_id,
                    operation,
                    elapsed_ms,
                    error = error.aws_type(),
                    "{}",
                    error.message()
                );
            }
            (status, error.body(), Some(error.aws_type().to_owned()))
        }
    };
    let mut response = Response::new(Body::from(body));
    *response.status_mut() = status;
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(CONTENT_TYPE));
    if let Ok(value) = HeaderValue::from_str(&request_id) {
        headers.insert(REQUEST_ID_HEADER, value);
    }
    if let Some(value) = error_type.and_then(|t| HeaderValue::from_str(&t).ok()) {
        headers.insert("x-amzn-ErrorType", value);
    }
    response
}

type Failure = (Option<Operation>, ApiError);

/// How a call was answered.
enum Answer {
    /// Here: the operation, the caller's account and the response body.
    Here(Operation, String, Vec<u8>),
    /// By the server at the URL, whose response is passed on.
    Forwarded(Operation, String, Response),
}

async fn process(
    state: &AppState,
    method: &Method,
    uri: &axum::http::Uri,
    headers: &HeaderMap,
    body: Body,
) -> Result<Answer, Failure> {
    let fail = |error: ApiError| (None, error);
    let authenticator = &*state.authenticator;
    let header_pairs = admit(method, uri, headers, authenticator).map_err(fail)?;
    let (body, reading) = read_body(headers, body, &state.config, &state.unverified)
        .await
        .map_err(fail)?;
    let principal = authenticate(method, uri, &header_pairs, &body, authenticator).map_err(fail)?;
    drop(reading);
    let operation = target(headers).map_err(fail)?;
    let failed = |error: ApiError| (Some(operation), error);
    let hops = forward::hops(headers);
    let forwarded = hops > 0;
    if let Placement::Elsewhere(url) =
        place(&state.service, operation, &principal, &body, forwarded)
            .await
            .map_err(failed)?
    {
        if hops >= forward::MAX_HOPS {
            // Each server it reached thought another the owner; ownership is moving.
            return Err(failed(ApiError::internal(
                "the pipeline is changing hands between servers; retry the call",
            )));
        }
        let response = forward::send(&state.client, &url, headers, &body)
            .await
            .map_err(failed)?;
        return Ok(Answer::Forwarded(operation, url, response));
    }
    let input = decode_input(operation, &body).map_err(failed)?;
    let answer = if let Input::PollForTask(input) = input {
        let forwarder = forward::PollForwarder {
            client: &state.client,
            headers,
            body: &body,
        };
        let remote = if forwarded {
            Remote::Forwarded
        } else {
            Remote::Through(&forwarder)
        };
        respond(
            state
                .service
                .poll_for_task_from(&principal, input, remote)
                .await,
        )
    } else {
        dispatch(&state.service, &principal, input).await
    };
    match answer {
        Ok(out) => Ok(Answer::Here(operation, principal.account_id, out)),
        Err(error) => Err(failed(error)),
    }
}

/// What is judged before a request's body is read: the method and path, the size of its
/// headers, its content type and the structure, key and time of its signature. Returns the
/// headers as the signature covers them.
pub(crate) fn admit(
    method: &Method,
    uri: &axum::http::Uri,
    headers: &HeaderMap,
    authenticator: &dyn Authenticator,
) -> ApiResult<Vec<(String, String)>> {
    if uri.path() != "/" || method != Method::POST {
        return Err(ApiError::UnknownOperation(format!(
            "{method} {} is not an operation: the Data Pipeline API is POST / with an \
             X-Amz-Target header",
            uri.path()
        )));
    }
    check_header_size(headers)?;
    check_content_type(headers)?;
    let header_pairs = auth::header_pairs(headers);
    authenticator.precheck(&SignedRequest {
        method: method.as_str(),
        path: uri.path(),
        query: uri.query().unwrap_or(""),
        headers: &header_pairs,
        body: &[],
    })?;
    Ok(header_pairs)
}

/// Who signed the request, its body included.
pub(crate) fn authenticate(
    method: &Method,
    uri: &axum::http::Uri,
    header_pairs: &[(String, String)],
    body: &[u8],
    authenticator: &dyn Authenticator,
) -> ApiResult<Principal> {
    Ok(authenticator.authenticate(&SignedRequest {
        method: method.as_str(),
        path: uri.path(),
        query: uri.query().unwrap_or(""),
        headers: header_pairs,
        body,
    })?)
}

/// Where a call is answered: by the server owning the pipeline (or task) it names, in a
/// deployment of several servers; here otherwise. A call another server forwarded is placed
/// from the lease itself, not this server's view of the owners.
async fn place(
    service: &Service,
    operation: Operation,
    principal: &Principal,
    body: &[u8],
    forwarded: bool,
) -> ApiResult<Placement> {
    use Operation as Op;
    if service.server_id().is_none() {
        return Ok(Placement::Here);
    }
    let key = match operation {
        Op::ActivatePipeline
        | Op::AddTags
        | Op::DeactivatePipeline
        | Op::DeletePipeline
        | Op::DescribeObjects
        | Op::EvaluateExpression
        | Op::GetPipelineDefinition
        | Op::PutPipelineDefinition
        | Op::QueryObjects
        | Op::RemoveTags
        | Op::SetStatus => "pipelineId",
        Op::ReportTaskProgress | Op::SetTaskStatus => "taskId",
        _ => return Ok(Placement::Here),
    };
    // A body that does not decode is answered here, with the decoding error.
    let Ok(value) = serde_json::from_slice::<serde_json::Value>(body) else {
        return Ok(Placement::Here);
    };
    let Some(id) = value.get(key).and_then(|v| v.as_str()) else {
        return Ok(Placement::Here);
    };
    if key == "taskId" {
        service.place_task(principal, id, forwarded).await
    } else {
        service.place_pipeline(principal, id).await
    }
}

/// Refuses more headers, or more header bytes, than a request of this API ever needs (SDKs
/// send about ten, under 2 KiB), with the error the protocol's clients can read. The HTTP
/// parser stops well beyond these ([`crate::server`]), so they are what a client meets.
fn check_header_size(headers: &HeaderMap) -> ApiResult<()> {
    let count = headers.len();
    let bytes: usize = headers
        .iter()
        .map(|(name, value)| name.as_str().len() + value.len())
        .sum();
    if count > MAX_HEADERS || bytes > MAX_HEADER_BYTES {
        return Err(ApiError::HeadersTooLarge(format!(
            "the request has {count} headers of {bytes} bytes in all; at most {MAX_HEADERS} \
             headers and {MAX_HEADER_BYTES} bytes are accepted"
        )));
    }
    Ok(())
}

fn check_content_type(headers: &HeaderMap) -> ApiResult<()> {
    let Some(value) = headers.get(header::CONTENT_TYPE) else {
        return Ok(());
    };
    let text = value.to_str().unwrap_or_default();
    let essence = text.split(';').next().unwrap_or_default().trim();
    let accepted = [
        "application/x-amz-json-1.1",
        "application/x-amz-json-1.0",
        "application/json",
    ];
    if accepted.iter().any(|a| essence.eq_ignore_ascii_case(a)) {
        Ok(())
    } else {
        Err(ApiError::Serialization(format!(
            "Content-Type '{text}' is not supported: send {CONTENT_TYPE}"
        )))
    }
}

/// Reads the body, holding its share of the budget for unverified bodies until the caller
/// drops the returned permit (once the signature is checked).
async fn read_body(
    headers: &HeaderMap,
    body: Body,
    config: &ApiConfig,
    unverified: &Arc<tokio::sync::Semaphore>,
) -> ApiResult<(Vec<u8>, tokio::sync::OwnedSemaphorePermit)> {
    let limit = config.body_limit;
    let too_large = || {
        ApiError::PayloadTooLarge(format!(
            "The request body is larger than the limit of {limit} bytes"
        ))
    };
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > limit as u64) {
        return Err(too_large());
    }
    // A body of unknown length may take up to the limit.
    let share = declared
        .map_or(limit, |n| usize::try_from(n).unwrap_or(limit))
        .min(config.unverified_bytes);
    let share = u32::try_from(share).unwrap_or(u32::MAX);
    let permit = tokio::time::timeout(
        config.body_timeout,
        Arc::clone(unverified).acquire_many_owned(share),
    )
    .await
    .ok()
    .and_then(Result::ok)
    .ok_or_else(|| {
        ApiError::internal("the server is busy reading other requests' bodies; retry the call")
    })?;
    let seconds = config.body_timeout.as_secs();
    let bytes = tokio::time::timeout(config.body_timeout, axum::body::to_bytes(body, limit))
        .await
        .map_err(|_| {
            ApiError::InvalidRequest(format!(
                "The request body did not arrive within {seconds} seconds"
            ))
        })?
        .map_err(|_| too_large())?;
    Ok((bytes.to_vec(), permit))
}

/// The operation named by `X-Amz-Target`.
pub(crate) fn target(headers: &HeaderMap) -> ApiResult<Operation> {
    let Some(value) = headers.get("x-amz-target") else {
        return Err(ApiError::UnknownOperation(
            "Missing X-Amz-Target header: name the operation as DataPipeline.<Operation>".into(),
        ));
    };
    let text = value.to_str().unwrap_or_default().trim();
    text.strip_prefix("DataPipeline.")
        .or_else(|| text.strip_prefix("DataPipeline_20121129."))
        .and_then(Operation::from_name)
        .ok_or_else(|| ApiError::UnknownOperation(format!("Unknown operation: {text}")))
}

/// Runs a decoded request's operation (PollForTask aside, which `process` runs itself) and
/// encodes its output.
async fn dispatch(service: &Service, principal: &Principal, input: Input) -> ApiResult<Vec<u8>> {
    let p = principal;
    match input {
        Input::ActivatePipeline(i) => respond(service.activate_pipeline(p, i).await),
        Input::AddTags(i) => respond(service.add_tags(p, i).await),
        Input::CreatePipeline(i) => respond(service.create_pipeline(p, i).await),
        Input::DeactivatePipeline(i) => respond(service.deactivate_pipeline(p, i).await),
        Input::DeletePipeline(i) => respond(service.delete_pipeline(p, i).await),
        Input::DescribeObjects(i) => respond(service.describe_objects(p, i).await),
        Input::DescribePipelines(i) => respond(service.describe_pipelines(p, i).await),
        Input::EvaluateExpression(i) => respond(service.evaluate_expression(p, i).await),
        Input::GetPipelineDefinition(i) => respond(service.get_pipeline_definition(p, i).await),
        Input::ListPipelines(i) => respond(service.list_pipelines(p, i).await),
        Input::PollForTask(i) => respond(service.poll_for_task(p, i).await),
        Input::PutPipelineDefinition(i) => respond(service.put_pipeline_definition(p, i).await),
        Input::QueryObjects(i) => respond(service.query_objects(p, i).await),
        Input::RemoveTags(i) => respond(service.remove_tags(p, i).await),
        Input::ReportTaskProgress(i) => respond(service.report_task_progress(p, i).await),
        Input::ReportTaskRunnerHeartbeat(i) => {
            respond(service.report_task_runner_heartbeat(p, i).await)
        }
        Input::SetStatus(i) => respond(service.set_status(p, i).await),
        Input::SetTaskStatus(i) => respond(service.set_task_status(p, i).await),
        Input::ValidatePipelineDefinition(i) => {
            respond(service.validate_pipeline_definition(p, i).await)
        }
    }
}

fn respond<O: Serialize>(output: ApiResult<O>) -> ApiResult<Vec<u8>> {
    serde_json::to_vec(&output?).map_err(|e| ApiError::internal(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets_take_both_prefixes() {
        let mut headers = HeaderMap::new();
        headers.insert(
            "x-amz-target",
            HeaderValue::from_static("DataPipeline.ListPipelines"),
        );
        assert_eq!(target(&headers).unwrap(), Operation::ListPipelines);
        headers.insert(
            "x-amz-target",
            HeaderValue::from_static("DataPipeline_20121129.ActivatePipeline"),
        );
        assert_eq!(target(&headers).unwrap(), Operation::ActivatePipeline);
        headers.insert(
            "x-amz-target",
            HeaderValue::from_static("DataPipeline.Nope"),
        );
        assert_eq!(
            target(&headers).unwrap_err().aws_type(),
            "UnknownOperationException"
        );
        assert_eq!(
            target(&HeaderMap::new()).unwrap_err().aws_type(),
            "UnknownOperationException"
        );
    }
}
