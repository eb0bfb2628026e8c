//! Running the API: the HTTP listener beside the service's background work
//! ([`sluice_runtime::background`]), and a clean shutdown.
//!
//! Shutdown order, once `shutdown` fires: long polls answer empty and the listener stops
//! accepting; requests in flight finish; then the background work stops in its own order (the
//! in-process runner, the ticker, a last commit of every scheduler).

use std::path::PathBuf;
use std::sync::Arc;

use sluice_runtime::Service;
use sluice_runtime::background::{Background, BackgroundOptions};
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

use crate::authn::Authenticator;
use crate::router::{ApiConfig, router};

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
    let stopping = {
        let service = Arc::clone(&service);
        let shutdown = shutdown.clone();
        async move {
            shutdown.cancelled().await;
            tracing::info!("shutting down");
            service.begin_shutdown();
        }
    };
    let served = axum::serve(listener, app)
        .with_graceful_shutdown(stopping)
        .await;
    let stopped = background.stop().await.map_err(ServerError::Runner);
    served.map_err(ServerError::from).and(stopped)
}
