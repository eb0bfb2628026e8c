//! `sluice taskrunner`: a task runner on another machine (or process), taking the tasks of one
//! worker group from a Sluice or AWS endpoint over HTTP — the role of AWS's Task Runner.

use std::io::Write;
use std::path::Path;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context as _, Result};
use sluice_executors::Executors;
use sluice_runner::remote::Credentials;
use sluice_runner::remote::DEFAULT_REGION;
use sluice_runner::trust::CaBundle;
use sluice_runner::{RemoteOptions, RemoteTaskSource, Runner, RunnerOptions};
use sluice_runtime::provision::PARENT_PID_ENV;
use tokio_util::sync::CancellationToken;

use crate::cli::TaskRunnerArgs;
use crate::commands::{EXIT_USAGE, stop_signal};
use crate::settings_file::SettingsFile;

/// What the readiness line starts with (tests and supervisors wait for it).
pub(crate) const READY: &str = "sluice taskrunner ready";

pub(crate) fn run(args: &TaskRunnerArgs) -> Result<ExitCode> {
    super::init_logging(args.log_format);
    let config = match args.config.as_deref().map(ConfigFile::load).transpose() {
        Ok(config) => config.unwrap_or_default(),
        Err(message) => {
            eprintln!("sluice: {message}");
            return Ok(ExitCode::from(EXIT_USAGE));
        }
    };
    let settings = match SettingsFile::load_optional(args.settings.as_deref()) {
        Ok(settings) => settings,
        Err(error) => {
            eprintln!("sluice: {error:#}");
            return Ok(ExitCode::from(EXIT_USAGE));
        }
    };
    // Options on the command line win over the file's.
    let args = &TaskRunnerArgs {
        endpoint: args.endpoint.clone().or(config.endpoint),
        region: args.region.clone().or(config.region),
        log_uri: args.log_uri.clone().or(config.log_uri),
        ..args.clone()
    };
    let options = match runner_options(args, &settings) {
        Ok(options) => options,
        Err(message) => {
            eprintln!("sluice: {message}");
            return Ok(ExitCode::from(EXIT_USAGE));
        }
    };
    let ca_bundle = match args.ca_bundle.as_deref().map(CaBundle::load).transpose() {
        Ok(bundle) => bundle,
        Err(error) => {
            eprintln!("sluice: {error}");
            return Ok(ExitCode::from(EXIT_USAGE));
        }
    };
    let remote = RemoteOptions {
        endpoint: args.endpoint.clone(),
        region: args.region.clone(),
        poll_wait: Duration::from_secs(args.poll_wait),
        credentials: config.keys,
        ca_bundle,
        ..RemoteOptions::default()
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    runtime.block_on(run_runner(args, options, remote))
}

/// AWS Task Runner's `--config` file. Only the keys it documents are accepted, so a typo is
/// an error rather than a silently ignored setting.
#[derive(Default)]
struct ConfigFile {
    keys: Option<Credentials>,
    endpoint: Option<String>,
    region: Option<String>,
    log_uri: Option<String>,
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct RawConfigFile {
    access_id: Option<String>,
    private_key: Option<String>,
    endpoint: Option<String>,
    region: Option<String>,
    log_uri: Option<String>,
}

impl ConfigFile {
    fn load(path: &Path) -> Result<ConfigFile, String> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| format!("cannot read --config file {}: {e}", path.display()))?;
        ConfigFile::parse(&text).map_err(|e| format!("--config file {}: {e}", path.display()))
    }

    fn parse(text: &str) -> Result<ConfigFile, String> {
        let raw: RawConfigFile = serde_json::from_str(text).map_err(|e| e.to_string())?;
        let keys = match (raw.access_id, raw.private_key) {
            (Some(id), Some(secret)) if !id.is_empty() && !secret.is_empty() => Some(
                Credentials::new(id, secret, None, None, "sluice taskrunner --config"),
            ),
            (None, None) => None,
            _ => return Err("\"access-id\" and \"private-key\" must be given together".into()),
        };
        Ok(ConfigFile {
            keys,
            endpoint: raw.endpoint,
            region: raw.region,
            log_uri: raw.log_uri,
        })
    }
}

/// The runner's options from the command line and the settings file, or what is wrong with
/// them.
fn runner_options(args: &TaskRunnerArgs, settings: &SettingsFile) -> Result<RunnerOptions, String> {
    if args.worker_group.trim().is_empty() {
        return Err("--worker-group must not be empty".into());
    }
    if args.tasks == 0 {
        return Err("--tasks must be at least 1".into());
    }
    for (name, value) in [
        ("--poll-wait", args.poll_wait),
        ("--report-interval", args.report_interval),
        ("--max-backoff", args.max_backoff),
    ] {
        if value == 0 {
            return Err(format!("{name} must be at least 1 second"));
        }
    }
    if args.report_interval >= 120 {
        // AWS reassigns a task whose runner has not reported within 2 minutes of delivery.
        return Err(format!(
            "--report-interval {} is too long: progress must be reported well within the \
             2-minute acknowledgement deadline and the lease (use at most 119 seconds)",
            args.report_interval
        ));
    }
    if let Some(uri) = &args.log_uri
        && uri.trim().is_empty()
    {
        return Err("--log-uri must not be empty".into());
    }
    super::create_data_dir(&args.data_dir, false).map_err(|e| format!("{e:#}"))?;
    let mut options = RunnerOptions::new(&args.data_dir);
    options.worker_group = Some(args.worker_group.clone());
    options.workers = args.tasks;
    if let Some(hostname) = &args.hostname {
        options.hostname = hostname.clone();
    }
    if let Some(id) = &args.taskrunner_id {
        options.taskrunner_id = id.clone();
    }
    options.report_interval = Duration::from_secs(args.report_interval);
    options.heartbeat_interval = Duration::from_secs(args.heartbeat_interval);
    options.max_backoff = Duration::from_secs(args.max_backoff);
    options.log_uri = args.log_uri.clone();
    options.data = Arc::new(data_settings(args.endpoint.as_deref(), settings));
    Ok(options)
}

/// How tasks reach data: as `sluice run` does (the settings file's `data`, then the
/// environment variables), with one difference. The keys in a runner's environment sign its
/// Data Pipeline calls; against a Sluice endpoint with no S3 endpoint configured they say
/// nothing about S3, so the environment's S3 values are left out and `s3://` stays in the
/// embedded store, as for the server's own runner, unless the settings file itself sends it
/// elsewhere. Against AWS (no `--endpoint`) they are the host's AWS identity and reach Amazon
/// S3, as for AWS's Task Runner.
fn data_settings(endpoint: Option<&str>, settings: &SettingsFile) -> sluice_data::DataSettings {
    let own_s3 = settings.file_data().s3;
    let mut data = settings.data_settings();
    if endpoint.is_some() && data.s3.endpoint.is_none() {
        data.s3 = own_s3;
    }
    data
}

async fn run_runner(
    args: &TaskRunnerArgs,
    options: RunnerOptions,
    remote: RemoteOptions,
) -> Result<ExitCode> {
    let source = match RemoteTaskSource::connect(&remote).await {
        Ok(source) => source,
        Err(error) => {
            eprintln!("sluice: {error}");
            return Ok(ExitCode::from(EXIT_USAGE));
        }
    };
    let endpoint = args.endpoint.clone().unwrap_or_else(|| {
        format!(
            "the AWS endpoint of {}",
            args.region.as_deref().unwrap_or(DEFAULT_REGION)
        )
    });
    tracing::info!(
        endpoint = %endpoint,
        region = source.region(),
        worker_group = %args.worker_group,
        taskrunner_id = %options.taskrunner_id,
        tasks = options.workers,
        data_dir = %args.data_dir.display(),
        log_uri = args.log_uri.as_deref().unwrap_or("-"),
        ca_bundle = %args.ca_bundle.as_deref().map_or_else(|| "-".into(), |p| p.display().to_string()),
        "sluice taskrunner starting"
    );
    let shutdown = CancellationToken::new();
    tokio::spawn(cancel_on_signal(shutdown.clone()));
    if let Some(pid) = std::env::var(PARENT_PID_ENV)
        .ok()
        .and_then(|p| p.parse::<u32>().ok())
    {
        tokio::spawn(cancel_when_gone(pid, shutdown.clone()));
    }
    let line = format!(
        "{READY}: taskrunner {} polling worker group {} at {endpoint}",
        options.taskrunner_id, args.worker_group
    );
    tracing::info!("{}", options.data.s3.describe(&options.data_dir));
    let runner = Runner::new(Arc::new(source), Executors::builtin(), options);
    let running = tokio::spawn(runner.run(shutdown));
    println!("{line}");
    let _ = std::io::stdout().flush();
    match running
        .await
        .context("the task runner stopped unexpectedly")?
    {
        Ok(stats) => {
            tracing::info!(?stats, "sluice taskrunner stopped");
            Ok(ExitCode::SUCCESS)
        }
        Err(error) => {
            eprintln!("sluice: {error}");
            Ok(ExitCode::from(EXIT_USAGE))
        }
    }
}

/// How long a runner whose server is gone gives its tasks to stop before it exits.
const GONE_GRACE: Duration = Duration::from_secs(3);

/// Cancels `shutdown` once the server that provisioned this runner is gone (killed without
/// stopping its runners), then exits: the pipelines it scheduled moved to another server,
/// whose own runners take their tasks, and results cannot reach a dead server anyway. The
/// process's parent changing tells, since an orphan is adopted by another process (its own
/// pid may linger as a zombie).
async fn cancel_when_gone(server_pid: u32, shutdown: CancellationToken) {
    let parent = std::os::unix::process::parent_id();
    loop {
        tokio::time::sleep(Duration::from_secs(1)).await;
        if std::os::unix::process::parent_id() != parent {
            tracing::warn!(
                server_pid,
                "the server that started this runner is gone; stopping"
            );
            shutdown.cancel();
            tokio::time::sleep(GONE_GRACE).await;
            std::process::exit(1);
        }
    }
}

/// Cancels `shutdown` on Ctrl-C or SIGTERM: running tasks are stopped and reported, then the
/// runner exits.
async fn cancel_on_signal(shutdown: CancellationToken) {
    let signal = stop_signal().await;
    tracing::info!(signal, "stopping: canceling running tasks");
    shutdown.cancel();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_aws_task_runner_config_file_is_read() {
        let config = ConfigFile::parse(
            r#"{"access-id": "AKIAX", "private-key": "s3cr3t", "endpoint": "http://h:1",
                "region": "eu-west-1", "log-uri": "s3://logs/"}"#,
        )
        .unwrap();
        let keys = config.keys.unwrap();
        assert_eq!(keys.access_key_id(), "AKIAX");
        assert_eq!(keys.secret_access_key(), "s3cr3t");
        assert_eq!(config.endpoint.as_deref(), Some("http://h:1"));
        assert_eq!(config.region.as_deref(), Some("eu-west-1"));
        assert_eq!(config.log_uri.as_deref(), Some("s3://logs/"));
        assert!(ConfigFile::parse("{}").unwrap().keys.is_none());
    }

    /// `sluice taskrunner ARGS…` as the command line parses it, with its settings file.
    fn parse(args: &[&str]) -> (TaskRunnerArgs, SettingsFile) {
        use clap::Parser as _;
        let cli =
            crate::cli::Cli::try_parse_from(["sluice", "taskrunner"].iter().chain(args)).unwrap();
        let crate::cli::Command::TaskRunner(args) = cli.command else {
            panic!("not the taskrunner command");
        };
        let settings = SettingsFile::load_optional(args.settings.as_deref()).unwrap();
        (args, settings)
    }

    #[test]
    fn the_settings_file_reaches_the_runners_data_settings() {
        use sluice_data::storage::S3Target;
        let dir = tempfile::tempdir().unwrap();
        let pinned = dir.path().join("pinned.json");
        std::fs::write(
            &pinned,
            r#"{"pollWaitSeconds": 5, "maxConnections": 10,
                "data": {"s3": {"embedded": true},
                         "sql": {"rdsInstances": {"orders-db": {"host": "10.0.0.5"}}}}}"#,
        )
        .unwrap();
        let (args, settings) = parse(&[
            "--worker-group",
            "wg",
            "--settings",
            pinned.to_str().unwrap(),
        ]);
        let options = runner_options(&args, &settings).unwrap();
        assert_eq!(options.data.s3.target(), S3Target::Embedded);
        assert_eq!(
            options.data.sql.rds_instances["orders-db"].host.as_deref(),
            Some("10.0.0.5")
        );

        // Against a Sluice endpoint the environment's keys are the runner's own, but S3 keys
        // written in the file are meant for S3.
        let keys = dir.path().join("keys.json");
        std::fs::write(
            &keys,
            r#"{"data": {"s3": {"accessKeyId": "AKFILE", "secretAccessKey": "file-secret"}}}"#,
        )
        .unwrap();
        let (args, settings) = parse(&[
            "--worker-group",
            "wg",
            "--endpoint",
            "http://127.0.0.1:1",
            "--settings",
            keys.to_str().unwrap(),
        ]);
        let options = runner_options(&args, &settings).unwrap();
        assert_eq!(options.data.s3.access_key_id.as_deref(), Some("AKFILE"));
        assert!(matches!(
            options.data.s3.target(),
            S3Target::Remote { endpoint: None, .. }
        ));
    }

    #[test]
    fn a_bad_config_file_is_refused_without_echoing_the_secret() {
        let half = ConfigFile::parse(r#"{"private-key": "s3cr3t"}"#)
            .err()
            .unwrap();
        assert!(half.contains("must be given together"), "{half}");
        assert!(!half.contains("s3cr3t"));
        let typo = ConfigFile::parse(r#"{"acces-id": "AKIAX", "private-key": "s3cr3t"}"#)
            .err()
            .unwrap();
        assert!(typo.contains("acces-id"), "{typo}");
        assert!(!typo.contains("s3cr3t"), "{typo}");
    }
}
