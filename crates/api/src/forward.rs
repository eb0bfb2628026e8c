//! Forwarding a call to the server that owns its pipeline, in a deployment of several servers
//! on one database (see `sluice_runtime::cluster`).
//!
//! The request goes on as it came, headers and body untouched (its `Host` too), so the owner
//! authenticates the very signature the client made; a header marks it as forwarded, so it is
//! never forwarded twice. The owner's answer, error or not, goes back to the client as it is.

use axum::body::Body;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::Response;
use sluice_model::TaskObject;
use sluice_model::ops::PollForTaskOutput;
use sluice_runner::error_chain;
use sluice_runner::trust::CaBundle;
use sluice_runtime::cluster::Forwarder;
use sluice_runtime::{ApiError, ApiResult};

/// Marks a request another server forwarded.
pub(crate) const FORWARDED_HEADER: &str = "x-sluice-forwarded";

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
    forwarded.insert(FORWARDED_HEADER, HeaderValue::from_static("1"));
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
