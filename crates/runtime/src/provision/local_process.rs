//! [`LocalProcessProvisioner`]: each resource attempt is a `sluice taskrunner` child process
//! on this machine.
//!
//! Design decisions:
//! * The child is `<executable> taskrunner --endpoint <server URL> --worker-group <resource
//!   instance id> --taskrunner-id <resource instance id> --data-dir <data dir>`, with
//!   `--ca-bundle <file>` when the server has one, so that it trusts an `https://` server's
//!   certificate as the server trusts its peers'. Its access key
//!   comes in `AWS_ACCESS_KEY_ID`/`AWS_SECRET_ACCESS_KEY` (never in the arguments, which any
//!   user can read from `/proc`); inherited AWS profile and session variables are removed so
//!   they cannot override it.
//! * It runs in its own process group, so a Ctrl-C aimed at the server does not kill it
//!   behind the server's back: the server stops it in order.
//! * Stopping is SIGTERM (the runner finishes its reports and exits), then SIGKILL after
//!   `grace`. Its output goes to `<data dir>/logs/<pipeline>/<resource attempt>/taskrunner.log`.

use std::collections::HashMap;
use std::path::PathBuf;
use std::process::Stdio;
use std::sync::Mutex;
use std::time::Duration;

use async_trait::async_trait;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use super::{
    ProvisionError, ProvisionReport, ProvisionRequest, Provisioner, ReportSink, RunnerKey,
};
use crate::service::lock;

/// Variables of the server's environment a child must not inherit: they would change which
/// credentials the runner uses.
/// The pid of the server that started a runner (`sluice taskrunner` stops when it is gone).
pub const PARENT_PID_ENV: &str = "SLUICE_PARENT_PID";

const SCRUBBED_ENV: &[&str] = &[
    "AWS_PROFILE",
    "AWS_DEFAULT_PROFILE",
    "AWS_SESSION_TOKEN",
    "AWS_SECURITY_TOKEN",
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_WEB_IDENTITY_TOKEN_FILE",
    "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
    "AWS_CONTAINER_CREDENTIALS_FULL_URI",
];

/// How children are started.
#[derive(Debug, Clone)]
pub struct LocalProcessSettings {
    /// The `sluice` executable (normally `std::env::current_exe()`).
    pub executable: PathBuf,
    /// The server's URL, e.g. `http://127.0.0.1:8080`.
    pub endpoint: String,
    /// Certificate authorities (a PEM file, an absolute path) the child trusts besides the
    /// system's, for an `https://` endpoint.
    pub ca_bundle: Option<PathBuf>,
    /// The data directory handed to children (attempt logs, the local object store).
    pub data_dir: PathBuf,
    /// Between SIGTERM and SIGKILL.
    pub grace: Duration,
    /// Arguments added after the standard ones (e.g. `--tasks 2`).
    pub extra_args: Vec<String>,
    /// Variables added to the child's environment: the server's Spark and Pig settings, which
    /// runners read from there (`SPARK_HOME`, `SLUICE_SPARK_MASTER`, …).
    pub env: Vec<(String, String)>,
}

impl LocalProcessSettings {
    pub fn new(executable: PathBuf, endpoint: String, data_dir: PathBuf) -> Self {
        LocalProcessSettings {
            executable,
            endpoint,
            ca_bundle: None,
            data_dir,
            grace: Duration::from_secs(10),
            extra_args: Vec::new(),
            env: Vec::new(),
        }
    }
}

#[derive(Debug)]
struct Child {
    stop: CancellationToken,
    watcher: JoinHandle<()>,
}

#[derive(Debug)]
pub struct LocalProcessProvisioner {
    settings: LocalProcessSettings,
    children: std::sync::Arc<Mutex<HashMap<RunnerKey, Child>>>,
}

impl LocalProcessProvisioner {
    pub fn new(settings: LocalProcessSettings) -> Self {
        LocalProcessProvisioner {
            settings,
            children: std::sync::Arc::new(Mutex::new(HashMap::new())),
        }
    }

    /// How many children are alive (or being stopped).
    pub fn live(&self) -> usize {
        lock(&self.children).len()
    }

    fn command(
        &self,
        request: &ProvisionRequest,
        log: std::fs::File,
    ) -> std::io::Result<tokio::process::Command> {
        let s = &self.settings;
        let mut command = tokio::process::Command::new(&s.executable);
        command
            .arg("taskrunner")
            .arg("--endpoint")
            .arg(&s.endpoint)
            .arg("--worker-group")
            .arg(&request.worker_group)
            .arg("--taskrunner-id")
            .arg(&request.worker_group)
            .arg("--data-dir")
            .arg(&s.data_dir);
        if let Some(bundle) = &s.ca_bundle {
            command.arg("--ca-bundle").arg(bundle);
        }
        command.args(&s.extra_args);
        for var in SCRUBBED_ENV {
            command.env_remove(var);
        }
        command.envs(s.env.iter().map(|(k, v)| (k, v)));
        // The runner stops when this server dies: after a `kill -9` its pipelines move to
        // another server, which provisions runners of its own.
        command.env(PARENT_PID_ENV, std::process::id().to_string());
        if let Some(key) = &request.credentials {
            command.env("AWS_ACCESS_KEY_ID", &key.access_key_id).env(
                "AWS_SECRET_ACCESS_KEY",
                key.secret_access_key.expose_secret(),
            );
        }
        if std::env::var_os("AWS_REGION").is_none()
            && std::env::var_os("AWS_DEFAULT_REGION").is_none()
        {
            command.env("AWS_REGION", "us-east-1");
        }
        command
            .stdin(Stdio::null())
            .stdout(log.try_clone()?)
            .stderr(log)
            .process_group(0)
            .kill_on_drop(true);
        Ok(command)
    }
}

#[async_trait]
impl Provisioner for LocalProcessProvisioner {
    async fn start(
        &self,
        request: ProvisionRequest,
        sink: ReportSink,
    ) -> Result<(), ProvisionError> {
        let key = RunnerKey {
            pipeline_id: request.pipeline_id.clone(),
            attempt_id: request.attempt_id.clone(),
        };
        let dir = self
            .settings
            .data_dir
            .join("logs")
            .join(&request.pipeline_id)
            .join(&request.attempt_id);
        let log_path = dir.join("taskrunner.log");
        let log = sluice_data::private_files::create_dir_all(&dir)
            .and_then(|()| sluice_data::private_files::create(&log_path))
            .map_err(|e| ProvisionError(format!("cannot create {}: {e}", log_path.display())))?;
        let mut child = self
            .command(&request, log)
            .and_then(|mut command| command.spawn())
            .map_err(|e| {
                ProvisionError(format!(
                    "cannot run {} taskrunner: {e}",
                    self.settings.executable.display()
                ))
            })?;
        let pid = child.id().unwrap_or_default();
        tracing::info!(resource = %request.attempt_id, pid, log = %log_path.display(), "task runner started");
        sink.send(
            &key,
            ProvisionReport::Started {
                resource_id: format!("local-process:{pid}"),
                hostname: sluice_runner::default_hostname(),
            },
        );
        let stop = CancellationToken::new();
        let grace = self.settings.grace;
        let children = std::sync::Arc::clone(&self.children);
        let watcher = {
            let stop = stop.clone();
            let key = key.clone();
            tokio::spawn(async move {
                let reason = tokio::select! {
                    status = child.wait() => match status {
                        Ok(status) => format!("the task runner (pid {pid}) exited: {status}"),
                        Err(e) => format!("the task runner (pid {pid}) could not be waited for: {e}"),
                    },
                    () = stop.cancelled() => terminate(&mut child, pid, grace).await,
                };
                tracing::info!(resource = %key.attempt_id, pid, "{reason}");
                lock(&children).remove(&key);
                sink.send(&key, ProvisionReport::Stopped { reason });
            })
        };
        lock(&self.children).insert(key, Child { stop, watcher });
        Ok(())
    }

    async fn stop(&self, key: &RunnerKey) {
        if let Some(child) = lock(&self.children).get(key) {
            child.stop.cancel();
        }
    }

    async fn stop_all(&self) {
        let watchers: Vec<JoinHandle<()>> = {
            let mut children = lock(&self.children);
            children
                .drain()
                .map(|(_, child)| {
                    child.stop.cancel();
                    child.watcher
                })
                .collect()
        };
        for watcher in watchers {
            let _ = watcher.await;
        }
    }
}

/// SIGTERM, then SIGKILL if the child is still there after `grace`.
async fn terminate(child: &mut tokio::process::Child, pid: u32, grace: Duration) -> String {
    if let Ok(raw) = i32::try_from(pid) {
        let _ = nix::sys::signal::kill(
            nix::unistd::Pid::from_raw(raw),
            nix::sys::signal::Signal::SIGTERM,
        );
    }
    match tokio::time::timeout(grace, child.wait()).await {
        Ok(Ok(status)) => format!("the task runner (pid {pid}) stopped: {status}"),
        _ => {
            let _ = child.kill().await;
            format!("the task runner (pid {pid}) was killed after {grace:?}")
        }
    }
}
