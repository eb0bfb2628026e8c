//! What a server runs beside its listener: the ticker that moves every scheduler forward and
//! the in-process task runner, started together and stopped in order.
//!
//! Shutdown order: the in-process runner stops first (it stops the tasks it was running and
//! leaves their attempts RUNNING under this process's name, so that the process restoring
//! them next — this server restarted, or another server of a shared deployment — resumes them
//! at once), then the ticker, then every scheduler commits what it still holds, and last a
//! server sharing its database leaves, giving its pipelines up at once.

use std::path::PathBuf;
use std::sync::Arc;

use sluice_executors::Executors;
use sluice_runner::{Runner, RunnerError, RunnerOptions, RunnerStats};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use crate::in_process::InProcessSource;
use crate::service::Service;

/// How the background work runs.
#[derive(Debug, Clone)]
pub struct BackgroundOptions {
    /// Run the in-process task runner.
    pub local_runner: bool,
    /// Tasks the in-process runner executes at once.
    pub workers: usize,
    /// Where the in-process runner keeps attempt logs and the local object store.
    pub data_dir: PathBuf,
}

/// The running ticker and in-process runner of a service.
pub struct Background {
    service: Arc<Service>,
    ticker: JoinHandle<()>,
    ticker_stop: CancellationToken,
    runner: Option<JoinHandle<Result<RunnerStats, RunnerError>>>,
    runner_stop: CancellationToken,
    /// The rounds of a shared deployment (they return at once otherwise).
    cluster: JoinHandle<()>,
    cluster_stop: CancellationToken,
}

impl Background {
    /// Starts the ticker and, unless disabled, the in-process runner.
    pub fn start(service: Arc<Service>, options: BackgroundOptions) -> Self {
        let ticker_stop = CancellationToken::new();
        let ticker = {
            let service = Arc::clone(&service);
            let stop = ticker_stop.clone();
            tokio::spawn(async move { service.run_ticker(stop).await })
        };
        let cluster_stop = CancellationToken::new();
        let cluster = {
            let service = Arc::clone(&service);
            let stop = cluster_stop.clone();
            tokio::spawn(async move { service.run_cluster(stop).await })
        };
        let runner_stop = CancellationToken::new();
        let runner = options.local_runner.then(|| {
            let mut runner_options = RunnerOptions::new(&options.data_dir);
            runner_options.workers = options.workers.max(1);
            runner_options.data = Arc::clone(&service.options().data);
            // Polls already wait for work inside the service, so the pause after an empty one
            // only needs to be long enough to make the error backoff (which starts from it)
            // sane.
            runner_options.poll_backoff = std::time::Duration::from_millis(100);
            runner_options.report_on_shutdown = false;
            let source = Arc::new(InProcessSource::for_service(Arc::clone(&service)));
            let runner = Runner::new(source, Executors::builtin(), runner_options);
            tokio::spawn(runner.run(runner_stop.clone()))
        });
        Background {
            service,
            ticker,
            ticker_stop,
            runner,
            runner_stop,
            cluster,
            cluster_stop,
        }
    }

    /// Stops the runner, then the ticker, then flushes every scheduler. An error says why the
    /// runner did not stop cleanly.
    pub async fn stop(self) -> Result<(), String> {
        self.runner_stop.cancel();
        let mut outcome = Ok(());
        if let Some(runner) = self.runner {
            match runner.await {
                Ok(Ok(stats)) => tracing::info!(
                    received = stats.received,
                    finished = stats.finished,
                    failed = stats.failed,
                    "in-process task runner stopped"
                ),
                Ok(Err(error)) => outcome = Err(error.to_string()),
                Err(join) => outcome = Err(join.to_string()),
            }
        }
        self.ticker_stop.cancel();
        let _ = self.ticker.await;
        self.service.flush().await;
        self.cluster_stop.cancel();
        let _ = self.cluster.await;
        self.service.leave_cluster().await;
        outcome
    }
}
