//! Managed resources: starting and stopping a task runner for each resource attempt
//! (`Ec2Resource`, `EmrCluster`) the engine asks for.
//!
//! The engine emits [`ResourceEvent`]s (Provision, Release); the ticker hands them to the
//! [`Provisioning`] hub, which mints the runner's access key and calls the configured
//! [`Provisioner`]. A provisioner reports back through its [`ReportSink`] — what it started,
//! and when it stopped — and the ticker applies those reports to the pipeline's scheduler.
//!
//! Design decisions:
//! * A provisioned runner serves exactly one worker group, named after the resource instance
//!   id, and identifies itself with that id as its `taskrunnerId`. It authenticates with a key
//!   minted for the pipeline's account ([`KeyRing::mint`]), handed over in the environment,
//!   never on a command line, and revoked once the runner has stopped.
//! * Reports name the resource *attempt*, so news about an earlier start of the same resource
//!   instance changes nothing.
//! * A runner that stops on its own while the resource is still needed is a resource failure
//!   (`actionOnResourceFailure` decides); one that cannot be started at all counts the same.
//! * On server shutdown every runner is stopped; a restarted server provisions anew.

mod external;
mod local_process;

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use sluice_engine::{EngineError, ResourceAction, ResourceEvent, Scheduler};
use tokio::sync::{Notify, mpsc};

use crate::accounts::{AccessKey, KeyRing};

pub use external::ExternalProvisioner;
pub use local_process::{LocalProcessProvisioner, LocalProcessSettings, PARENT_PID_ENV};

/// What to start.
#[derive(Debug, Clone)]
pub struct ProvisionRequest {
    pub pipeline_id: String,
    /// The account owning the pipeline; the runner acts for it.
    pub account_id: String,
    pub resource_instance_id: String,
    /// The resource attempt; reports name it.
    pub attempt_id: String,
    /// The resource's component id (`Ec2Resource` object id).
    pub component_id: String,
    /// The worker group the runner must poll (the resource instance id).
    pub worker_group: String,
    /// The runner's access key, when the server authenticates (`None` for runners that need
    /// none, such as the in-process one).
    pub credentials: Option<AccessKey>,
}

/// Identifies one provisioned runner.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct RunnerKey {
    pub pipeline_id: String,
    pub attempt_id: String,
}

/// What a provisioner learned about a runner it started.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProvisionReport {
    /// The runner was started: `resource_id` says what it is (`local-process:<pid>`), and
    /// `hostname` where.
    Started {
        resource_id: String,
        hostname: String,
    },
    /// The runner is up and polling.
    Running,
    /// The runner has stopped (asked to, or on its own); `reason` describes how.
    Stopped { reason: String },
}

/// Where a provisioner sends its reports; cheap to clone.
#[derive(Debug, Clone)]
pub struct ReportSink {
    tx: mpsc::UnboundedSender<(RunnerKey, ProvisionReport)>,
    wake: Arc<Notify>,
}

impl ReportSink {
    pub fn send(&self, key: &RunnerKey, report: ProvisionReport) {
        // The receiver lives as long as the service; a send after shutdown is moot.
        let _ = self.tx.send((key.clone(), report));
        self.wake.notify_waiters();
    }
}

/// Why a runner could not be started.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{0}")]
pub struct ProvisionError(pub String);

/// Starts and stops task runners for resource attempts. Implement it to run resources
/// elsewhere (a pool of SSH hosts, a Kubernetes Job); see `docs/resources.md`.
#[async_trait]
pub trait Provisioner: Send + Sync + std::fmt::Debug + 'static {
    /// Starts a runner for `request`. Returns once it is started (or failed to start);
    /// reports [`ProvisionReport::Started`] and, whenever it ends, exactly one
    /// [`ProvisionReport::Stopped`] through `sink`.
    async fn start(
        &self,
        request: ProvisionRequest,
        sink: ReportSink,
    ) -> Result<(), ProvisionError>;

    /// Asks the runner to stop (it reports `Stopped` when it has). Unknown keys are ignored.
    async fn stop(&self, key: &RunnerKey);

    /// Stops every runner and waits for them (server shutdown).
    async fn stop_all(&self);
}

/// The service's side of provisioning: the configured [`Provisioner`], the key ring that mints
/// runners' keys, and the queue of reports for the ticker.
#[derive(Debug)]
pub struct Provisioning {
    provisioner: Arc<dyn Provisioner>,
    keys: Option<Arc<KeyRing>>,
    sink: ReportSink,
    reports: Mutex<mpsc::UnboundedReceiver<(RunnerKey, ProvisionReport)>>,
    /// Every runner started and not yet reported stopped, with its minted access key id
    /// (revoked when it stops).
    live: Mutex<HashMap<RunnerKey, Option<String>>>,
    /// Set at shutdown: nothing more is started, and runners stopping now are not news to
    /// the engine (their resources are provisioned again after the restart).
    closed: AtomicBool,
}

impl Provisioning {
    /// A hub over `provisioner`; `keys` mints runners' credentials (`None`: runners get none).
    /// `wake` is signalled with every report.
    pub fn new(
        provisioner: Arc<dyn Provisioner>,
        keys: Option<Arc<KeyRing>>,
        wake: Arc<Notify>,
    ) -> Self {
        let (tx, rx) = mpsc::unbounded_channel();
        Provisioning {
            provisioner,
            keys,
            sink: ReportSink { tx, wake },
            reports: Mutex::new(rx),
            live: Mutex::new(HashMap::new()),
            closed: AtomicBool::new(false),
        }
    }

    /// Carries out one resource event of `pipeline_id` (owned by `account_id`).
    pub async fn handle(&self, pipeline_id: &str, account_id: &str, event: &ResourceEvent) {
        if self.closed.load(Ordering::Acquire) {
            return;
        }
        let key = RunnerKey {
            pipeline_id: pipeline_id.to_owned(),
            attempt_id: event.attempt_id.clone(),
        };
        match event.action {
            ResourceAction::Provision => self.start(key, account_id, event).await,
            ResourceAction::Release => self.provisioner.stop(&key).await,
        }
    }

    async fn start(&self, key: RunnerKey, account_id: &str, event: &ResourceEvent) {
        let credentials = match &self.keys {
            Some(keys) => match keys.mint(account_id, &format!("runner of {}", event.attempt_id)) {
                Ok(key) => Some(key),
                Err(error) => {
                    self.sink.send(
                        &key,
                        ProvisionReport::Stopped {
                            reason: format!("cannot mint the runner's access key: {error}"),
                        },
                    );
                    return;
                }
            },
            None => None,
        };
        crate::service::lock(&self.live).insert(
            key.clone(),
            credentials.as_ref().map(|c| c.access_key_id.clone()),
        );
        let request = ProvisionRequest {
            pipeline_id: key.pipeline_id.clone(),
            account_id: account_id.to_owned(),
            resource_instance_id: event.resource_instance_id.clone(),
            attempt_id: event.attempt_id.clone(),
            component_id: event.component_id.clone(),
            worker_group: event.worker_group.clone(),
            credentials,
        };
        tracing::info!(pipeline = %key.pipeline_id, resource = %event.attempt_id, "provisioning a task runner");
        if let Err(error) = self.provisioner.start(request, self.sink.clone()).await {
            self.sink.send(
                &key,
                ProvisionReport::Stopped {
                    reason: format!("the task runner could not be started: {error}"),
                },
            );
        }
    }

    /// How many runners were started and have not reported stopping.
    pub fn running(&self) -> usize {
        crate::service::lock(&self.live).len()
    }

    /// Reports received so far, oldest first (none once shutting down). A `Stopped` report
    /// revokes the runner's key.
    pub fn drain(&self) -> Vec<(RunnerKey, ProvisionReport)> {
        let mut out = Vec::new();
        let mut rx = crate::service::lock(&self.reports);
        while let Ok(report) = rx.try_recv() {
            if matches!(report.1, ProvisionReport::Stopped { .. }) {
                self.revoke(&report.0);
            }
            out.push(report);
        }
        if self.closed.load(Ordering::Acquire) {
            out.clear();
        }
        out
    }

    fn revoke(&self, key: &RunnerKey) {
        let minted = crate::service::lock(&self.live).remove(key).flatten();
        if let (Some(id), Some(keys)) = (minted, &self.keys) {
            keys.revoke(&id);
        }
    }

    /// Stops the runners of pipelines `keep` says are gone (deleted while resources ran).
    pub async fn stop_orphans(&self, keep: impl Fn(&str) -> bool) {
        let orphans: Vec<RunnerKey> = crate::service::lock(&self.live)
            .keys()
            .filter(|key| !keep(&key.pipeline_id))
            .cloned()
            .collect();
        for key in orphans {
            self.provisioner.stop(&key).await;
        }
    }

    /// Stops every runner (server shutdown) and revokes their keys; nothing is started
    /// afterwards.
    pub async fn stop_all(&self) {
        self.closed.store(true, Ordering::Release);
        self.provisioner.stop_all().await;
        let live: Vec<RunnerKey> = crate::service::lock(&self.live).keys().cloned().collect();
        for key in live {
            self.revoke(&key);
        }
    }
}

/// The in-process provisioner of `sluice run`: the embedded runner takes every worker group,
/// resources' included, so a resource is up as soon as it is asked for and stopped as soon as
/// it is released. Its instances still pass through CREATING, RUNNING, SHUTTING_DOWN and
/// FINISHED (or TIMEDOUT) as on a server.
pub async fn provision_in_process(scheduler: &Scheduler) -> Result<(), EngineError> {
    loop {
        let events = scheduler.take_resource_events().await;
        if events.is_empty() {
            return Ok(());
        }
        for event in events {
            match event.action {
                ResourceAction::Provision => {
                    let host = sluice_runner::default_hostname();
                    scheduler
                        .resource_provisioned(&event.attempt_id, "in-process", &host)
                        .await?;
                    scheduler.resource_running(&event.attempt_id).await?;
                }
                ResourceAction::Release => {
                    scheduler
                        .resource_stopped(&event.attempt_id, "released")
                        .await?;
                }
            }
        }
    }
}
