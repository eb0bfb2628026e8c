//! Saying which S3 endpoint cannot be reached, and why Sluice sent requests there.
//!
//! object_store retries a request whose connection fails, and its final error names the
//! request's URL but not where that endpoint came from; without a network, a run against
//! Amazon S3 (chosen because AWS credentials meant for DynamoDB were set) looked like a hang.
//!
//! Design decisions:
//! * Every S3 client sends its HTTP requests through [`ReachConnector`], a thin layer over
//!   object_store's own reqwest client. A connection failure or timeout is returned as the
//!   same kind of error, so object_store's retry policy is unchanged, wrapping an
//!   [`Unreachable`](super::Unreachable) that names the endpoint (scheme, host and port only: never a path, a
//!   query or user information) and where it was set. `StorageError::from_store` finds it in
//!   the error chain.
//! * The first failure in a row logs a warning at once, while the retries go on, and the first
//!   success after it says the endpoint answers again: once per outage, not once per retry.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use object_store::ClientOptions;
use object_store::client::{
    HttpClient, HttpConnector, HttpError, HttpErrorKind, HttpRequest, HttpResponse, HttpService,
    ReqwestConnector,
};

use super::error::Unreachable;

/// object_store's reqwest connector, with failures to connect named (see the module docs).
#[derive(Debug)]
pub(super) struct ReachConnector {
    origin: Arc<str>,
    /// What to do when the endpoint's TLS certificate is refused.
    tls_remedy: Arc<str>,
    /// Whether the last request failed to connect: shared by the clients this connector makes.
    down: Arc<AtomicBool>,
}

impl ReachConnector {
    pub(super) fn new(origin: String, tls_remedy: String) -> Self {
        ReachConnector {
            origin: origin.into(),
            tls_remedy: tls_remedy.into(),
            down: Arc::new(AtomicBool::new(false)),
        }
    }
}

impl HttpConnector for ReachConnector {
    fn connect(&self, options: &ClientOptions) -> object_store::Result<HttpClient> {
        Ok(HttpClient::new(Reach {
            inner: ReqwestConnector::default().connect(options)?,
            origin: Arc::clone(&self.origin),
            tls_remedy: Arc::clone(&self.tls_remedy),
            down: Arc::clone(&self.down),
        }))
    }
}

#[derive(Debug)]
struct Reach {
    inner: HttpClient,
    origin: Arc<str>,
    tls_remedy: Arc<str>,
    down: Arc<AtomicBool>,
}

#[async_trait::async_trait]
impl HttpService for Reach {
    async fn call(&self, request: HttpRequest) -> Result<HttpResponse, HttpError> {
        let uri = request.uri();
        let endpoint = format!(
            "{}://{}{}",
            uri.scheme_str().unwrap_or("http"),
            uri.host().unwrap_or(""),
            uri.port_u16().map(|p| format!(":{p}")).unwrap_or_default()
        );
        match self.inner.execute(request).await {
            Ok(response) => {
                if self.down.swap(false, Ordering::Relaxed) {
                    tracing::info!(%endpoint, "the S3 endpoint answers again");
                }
                Ok(response)
            }
            Err(error)
                if matches!(
                    error.kind(),
                    HttpErrorKind::Connect | HttpErrorKind::Timeout
                ) =>
            {
                let reason = innermost(&error);
                let reason = match crate::tls::untrusted_hint(&reason, &self.tls_remedy) {
                    Some(hint) => format!("{reason}; {hint}"),
                    None => reason,
                };
                let unreachable = Unreachable {
                    endpoint,
                    origin: Arc::clone(&self.origin),
                    reason,
                };
                if !self.down.swap(true, Ordering::Relaxed) {
                    tracing::warn!("{unreachable}; retrying");
                }
                Err(HttpError::new(error.kind(), unreachable))
            }
            Err(error) => Err(error),
        }
    }
}

/// The message of the last error in `error`'s chain: the operating system's or the
/// resolver's own words, not the layers' ("error sending request", "client error (Connect)").
fn innermost(error: &(dyn std::error::Error + 'static)) -> String {
    let mut last = error;
    while let Some(source) = last.source() {
        last = source;
    }
    last.to_string()
}
