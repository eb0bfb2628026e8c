//! Running the API: the HTTP listener, the background ticker and the in-process task runner,
//! and a clean shutdown.
//!
//! Shutdown order, once `shutdown` fires: long polls answer empty and the listener stops
//! accepting; requests in flight finish; the in-process runner stops (tasks it was running are
//! reported FAILED with error id `Canceled`, so they are retried after the restart rather than
//! waiting for their lease); the ticker stops; every scheduler commits what it still holds.

use std::path::PathBuf;
use std::sync::Arc;

use sluice_runner::{Runner, RunnerOptions};
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

use crate::authn::Authenticator;
use crate::local_runner::LocalTaskSource;
use crate::router::{ApiConfig, router};
use crate::service::Service;

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
    let ticker_stop = CancellationToken::new();
    let ticker = {
        let service = Arc::clone(&service);
        let stop = ticker_stop.clone();
        tokio::spawn(async move { service.run_ticker(stop).await })
    };
    let runner_stop = CancellationToken::new();
    let runner = options.local_runner.then(|| {
        let mut runner_options = RunnerOptions::new(&options.data_dir);
        runner_options.workers = options.workers.max(1);
        runner_options.data = Arc::clone(&service.options().data);
        // Polls already wait for work inside the service, so the pause after an empty one
        // only needs to be long enough to make the error backoff (which starts from it) sane.
        runner_options.poll_backoff = std::time::Duration::from_millis(100);
        let source = Arc::new(LocalTaskSource::new(Arc::clone(&service)));
        let runner = Runner::new(source, service.catalog().clone(), runner_options);
        tokio::spawn(runner.run(runner_stop.clone()))
    });

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

    runner_stop.cancel();
    let mut outcome = served.map_err(ServerError::from);
    if let Some(runner) = runner {
        match runner.await {
            Ok(Ok(stats)) => tracing::info!(
                received = stats.received,
                finished = stats.finished,
                failed = stats.failed,
                "in-process task runner stopped"
            ),
            Ok(Err(error)) => {
                outcome = outcome.and(Err(ServerError::Runner(error.to_string())));
            }
            Err(join) => outcome = outcome.and(Err(ServerError::Runner(join.to_string()))),
        }
    }
    ticker_stop.cancel();
    let _ = ticker.await;
    service.flush().await;
    outcome
}
