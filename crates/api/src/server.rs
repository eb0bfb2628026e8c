//! Running the API: the HTTP listener beside the service's background work
//! ([`sluice_runtime::background`]), and a clean shutdown.
//!
//! Shutdown order, once `shutdown` fires: long polls answer empty and the listener stops
//! accepting; requests in flight finish; then the background work stops in its own order (the
//! in-process runner, the ticker, a last commit of every scheduler).

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::State;
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use sluice_runtime::Service;
use sluice_runtime::background::{Background, BackgroundOptions};
use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

use crate::authn::Authenticator;
use crate::router::{ApiConfig, metrics_response, router};

/// How the server runs.
#[derive(Debug, Clone)]
pub struct ServerOptions {
    pub api: ApiConfig,
    /// Run the in-process task runner.
    pub local_runner: bool,
    /// Tasks the in-process runner executes at once.
    pub workers: usize,
    /// Where the in-process runner keeps attempt logs and the local object store.
    pub data_dir: PathBuf,
}

#[derive(Debug, thiserror::Error)]
pub enum ServerError {
    #[error("HTTP server: {0}")]
    Http(#[from] std::io::Error),
    #[error("task runner: {0}")]
    Runner(String),
}

/// Serves the API on `listener` until `shutdown` fires, then shuts down in order.
pub async fn serve(
    listener: TcpListener,
    service: Arc<Service>,
    authenticator: Arc<dyn Authenticator>,
    options: ServerOptions,
    shutdown: CancellationToken,
) -> Result<(), ServerError> {
    let background = Background::start(
        Arc::clone(&service),
        BackgroundOptions {
            local_runner: options.local_runner,
            workers: options.workers,
            data_dir: options.data_dir.clone(),
        },
    );
    let app = router(Arc::clone(&service), authenticator, options.api);
    let stopping = shutdown.clone();
    let served = serve_connections(listener, app, &options.api, stopping, Some(&service)).await;
    let stopped = background.stop().await.map_err(ServerError::Runner);
    served.map_err(ServerError::from).and(stopped)
}

/// Serves `GET /metrics` alone on `listener` until `shutdown` fires (`sluice server
/// --metrics-listen`): the metrics kept off the API's port. Every other request is a 404.
pub async fn serve_metrics(
    listener: TcpListener,
    service: Arc<Service>,
    config: ApiConfig,
    shutdown: CancellationToken,
) -> Result<(), ServerError> {
    let app = axum::Router::new()
        .route(
            "/metrics",
            axum::routing::get(|State(service): State<Arc<Service>>| async move {
                metrics_response(&service).await
            }),
        )
        .with_state(service);
    Ok(serve_connections(listener, app, &config, shutdown, None).await?)
}

/// Accepts connections until `shutdown`, then lets those open finish the request in hand
/// (after making `service`'s long polls answer).
///
/// hyper's HTTP/1 server directly rather than `axum::serve`, for what that does not offer: a
/// deadline on a request's headers (which also closes a kept-alive connection left idle, and
/// one that never finishes its headers) and a cap on connections.
/// Headers the HTTP parser reads before giving up with a bare 431 (the router's own limit,
/// `router::MAX_HEADERS`, is lower).
const PARSED_HEADERS: usize = 1000;
/// Bytes the HTTP parser buffers for a request head (the router's limit on header bytes is
/// lower); per connection, so it also bounds what a slow client can make the server hold.
const HEADER_BUFFER_BYTES: usize = 128 * 1024;

async fn serve_connections(
    listener: TcpListener,
    app: axum::Router,
    config: &ApiConfig,
    shutdown: CancellationToken,
    service: Option<&Service>,
) -> std::io::Result<()> {
    let slots = Arc::new(Semaphore::new(config.max_connections));
    let mut connections = JoinSet::new();
    loop {
        while connections.try_join_next().is_some() {}
        let slot = tokio::select! {
            slot = Arc::clone(&slots).acquire_owned() => {
                slot.expect("the connection semaphore is never closed")
            }
            () = shutdown.cancelled() => break,
        };
        let (stream, _) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(error) => {
                    // Out of file descriptors and the like: pause rather than spin.
                    tracing::warn!(%error, "cannot accept a connection");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = shutdown.cancelled() => break,
        };
        let _ = stream.set_nodelay(true);
        let connection = http1::Builder::new()
            .timer(TokioTimer::new())
            .header_read_timeout(config.header_timeout)
            // Far above what the router accepts, so that a client with too many or too large
            // headers gets the API's JSON error, not the parser's bare 431.
            .max_headers(PARSED_HEADERS)
            .max_buf_size(HEADER_BUFFER_BYTES)
            .keep_alive(true)
            .serve_connection(TokioIo::new(stream), TowerToHyperService::new(app.clone()));
        let stop = shutdown.clone();
        connections.spawn(async move {
            tokio::pin!(connection);
            tokio::select! {
                _ = connection.as_mut() => {}
                () = stop.cancelled() => {
                    connection.as_mut().graceful_shutdown();
                    let _ = connection.await;
                }
            }
            drop(slot);
        });
    }
    if let Some(service) = service {
        tracing::info!("shutting down");
        service.begin_shutdown();
    }
    while connections.join_next().await.is_some() {}
    Ok(())
}
