//! Forwarding a call to the server that owns its pipeline, in a deployment of several servers
//! on one database (see `sluice_runtime::cluster`).
//!
//! The request goes on as it came, headers and body untouched (its `Host` too), so the owner
//! authenticates the very signature the client made; a header counts the hops, so a call is
//! passed on once more at most (when the server it reached had just lost the pipeline, or was
//! chosen from a stale view of the owners) and never goes round in circles. The owner's
//! answer, error or not, goes back to the client as it is.

use std::sync::Arc;

use axum::body::Body;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::Response;
use sluice_model::TaskObject;
use sluice_model::ops::PollForTaskOutput;
use sluice_runner::error_chain;
use sluice_runner::trust::CaBundle;
use sluice_runtime::accounts::Principal;
use sluice_runtime::cluster::Forwarder;
use sluice_runtime::{ApiError, ApiResult};

use crate::auth::{self, SignedRequest};
use crate::authn::Authenticator;

/// Marks a request another server forwarded, with the number of hops it made.
pub(crate) const FORWARDED_HEADER: &str = "x-sluice-forwarded";

/// The most hops a call makes between servers.
pub(crate) const MAX_HOPS: u8 = 2;

/// How many times the request was forwarded so far (a value that is not a number counts as
/// one hop).
pub(crate) fn hops(headers: &HeaderMap) -> u8 {
    headers.get(FORWARDED_HEADER).map_or(0, |value| {
        value
            .to_str()
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(1)
            .max(1)
    })
}

/// Headers that describe one hop, not the call.
const HOP_HEADERS: [header::HeaderName; 3] = [
    header::CONNECTION,
    header::CONTENT_LENGTH,
    header::TRANSFER_ENCODING,
];

/// The client of the servers' API, shared by every forwarded call: `https://` servers are
/// verified against the system's roots and `ca_bundle`.
pub(crate) fn client(ca_bundle: Option<&CaBundle>) -> Result<reqwest::Client, String> {
    let mut builder = reqwest::Client::builder()
        // A forwarded PollForTask answers at once; every other call is short.
        .timeout(std::time::Duration::from_secs(60))
        // Well inside the other server's idle limit (its header timeout, 30 s by default), so
        // a pooled connection is not reused just as that server closes it.
        .pool_idle_timeout(std::time::Duration::from_secs(10));
    for certificate in ca_bundle.map(CaBundle::certificates).unwrap_or_default() {
        let certificate = reqwest::Certificate::from_der(certificate)
            .map_err(|e| format!("a certificate of {}: {e}", display(ca_bundle)))?;
        builder = builder.add_root_certificate(certificate);
    }
    builder.build().map_err(|e| error_chain(&e))
}

fn display(bundle: Option<&CaBundle>) -> String {
    bundle.map_or_else(String::new, |b| b.path().display().to_string())
}

/// Sends the call to the server at `url` and returns its answer.
pub(crate) async fn send(
    client: &reqwest::Client,
    url: &str,
    headers: &HeaderMap,
    body: &[u8],
) -> ApiResult<Response> {
    let mut forwarded = headers.clone();
    for name in HOP_HEADERS {
        forwarded.remove(name);
    }
    let hop = hops(headers).saturating_add(1);
    forwarded.insert(FORWARDED_HEADER, HeaderValue::from(u16::from(hop)));
    let answer = client
        .post(format!("{}/", url.trim_end_matches('/')))
        .headers(forwarded)
        .body(body.to_vec())
        .send()
        .await
        .map_err(|e| unreachable(url, &e))?;
    let status =
        StatusCode::from_u16(answer.status().as_u16()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let mut response = Response::new(Body::empty());
    *response.status_mut() = status;
    for (name, value) in answer.headers() {
        if !HOP_HEADERS.contains(name) {
            response.headers_mut().append(name, value.clone());
        }
    }
    let bytes = answer.bytes().await.map_err(|e| unreachable(url, &e))?;
    *response.body_mut() = Body::from(bytes);
    Ok(response)
}

fn unreachable(url: &str, error: &reqwest::Error) -> ApiError {
    ApiError::internal(format!(
        "cannot reach the server that owns this pipeline ({url}): {}; retry the call",
        error_chain(error)
    ))
}

/// PollForTask as served: forwards it to other servers for their pipelines' tasks.
pub(crate) struct PollForwarder<'a> {
    pub(crate) client: &'a reqwest::Client,
    pub(crate) headers: &'a HeaderMap,
    pub(crate) body: &'a [u8],
}

#[async_trait::async_trait]
impl Forwarder for PollForwarder<'_> {
    async fn poll_at(&self, url: &str) -> ApiResult<Option<TaskObject>> {
        let response = send(self.client, url, self.headers, self.body).await?;
        let status = response.status();
        let bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
            .await
            .map_err(|e| ApiError::internal(format!("reading the answer of {url}: {e}")))?;
        if !status.is_success() {
            return Err(ApiError::internal(format!(
                "{url} answered PollForTask with {status}: {}",
                String::from_utf8_lossy(&bytes)
            )));
        }
        let output: PollForTaskOutput = serde_json::from_slice(&bytes)
            .map_err(|e| ApiError::internal(format!("{url} answered PollForTask with {e}")))?;
        Ok(output.task_object)
    }
}

/// The console's calls about pipelines another server owns. Each is signed with the signed-in
/// access key, so the owner authenticates and authorises it as any call, and marked as
/// forwarded, so it goes no further.
pub(crate) struct ConsoleRelay {
    pub(crate) client: reqwest::Client,
    pub(crate) authenticator: Arc<dyn Authenticator>,
}

/// The region the relayed calls are signed for (the verifier accepts any).
const RELAY_REGION: &str = "us-east-1";

impl sluice_console::Relay for ConsoleRelay {
    fn call<'a>(
        &'a self,
        url: &'a str,
        principal: &'a Principal,
        operation: sluice_model::ops::Operation,
        input: Vec<u8>,
    ) -> futures::future::BoxFuture<'a, ApiResult<Vec<u8>>> {
        Box::pin(async move {
            let key = self
                .authenticator
                .signing_key(&principal.access_key_id)
                .ok_or_else(|| {
                    ApiError::internal(format!(
                        "the server at {url} schedules this pipeline, and this server cannot \
                         sign calls to it as {}: use that server's console or the API",
                        principal.access_key_id
                    ))
                })?;
            let base = url.trim_end_matches('/');
            let parsed = reqwest::Url::parse(base).map_err(|e| unreachable_url(url, &e))?;
            let host = match (parsed.host_str(), parsed.port()) {
                (Some(host), Some(port)) => format!("{host}:{port}"),
                (Some(host), None) => host.to_owned(),
                (None, _) => return Err(ApiError::internal(format!("{url} names no host"))),
            };
            let mut pairs = vec![
                (
                    "content-type".to_owned(),
                    "application/x-amz-json-1.1".to_owned(),
                ),
                ("host".to_owned(), host),
                (
                    "x-amz-target".to_owned(),
                    format!("DataPipeline.{}", operation.name()),
                ),
            ];
            let signature = auth::sign(
                &SignedRequest {
                    method: "POST",
                    path: "/",
                    query: "",
                    headers: &pairs,
                    body: &input,
                },
                &key,
                RELAY_REGION,
                chrono::Utc::now(),
            )?;
            pairs.extend(signature.map(|(name, value)| (name.to_owned(), value)));
            let mut request = self.client.post(format!("{base}/")).body(input);
            for (name, value) in pairs.iter().filter(|(name, _)| name != "host") {
                request = request.header(name, value);
            }
            let answer = request
                .header(FORWARDED_HEADER, "1")
                .send()
                .await
                .map_err(|e| unreachable(url, &e))?;
            let status = answer.status();
            let bytes = answer.bytes().await.map_err(|e| unreachable(url, &e))?;
            if status.is_success() {
                return Ok(bytes.to_vec());
            }
            let error: serde_json::Value = serde_json::from_slice(&bytes).unwrap_or_default();
            let text = |key: &str| error.get(key).and_then(|v| v.as_str()).map(str::to_owned);
            Err(ApiError::answered(
                status.as_u16(),
                &text("__type").unwrap_or_else(|| "InternalServiceError".to_owned()),
                text("message").unwrap_or_else(|| {
                    format!("the server at {url} answered {status} without an error body")
                }),
            ))
        })
    }
}

fn unreachable_url(url: &str, error: &dyn std::fmt::Display) -> ApiError {
    ApiError::internal(format!(
        "cannot reach the server that owns this pipeline ({url}): {error}"
    ))
}
