//! `sluice run`: run a definition on this machine — the embedded defaults: SQLite state in the
//! data directory, an in-process task runner, local files.

use std::io::{IsTerminal, Write};
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicU8, Ordering};
use std::time::Instant;

use anyhow::{Context as _, Result};
use chrono::NaiveDateTime;
use serde_json::json;
use sluice_catalog::Catalog;
use sluice_cli::local_run::{LocalRunConfig, LocalRunError, Progress, RunReport, run_local};
use sluice_engine::engine::keys;
use sluice_engine::{
    AttemptRecord, EngineError, Interrupted, Store, StoreError, Summary, SystemClock,
};
use sluice_model::Status;
use sluice_model::time::format_datetime;
use sluice_runner::attempt_dir;
use sluice_store::SqliteStore;
use tokio_util::sync::CancellationToken;

use crate::cli::{OutputFormat, RunArgs};
use crate::commands::{EXIT_INVALID, EXIT_STATE, EXIT_USAGE, STATE_FILE, durability, stop_signal};
use crate::definition_input::{load_runnable, read_definition};
use crate::local_pipeline::pipeline_id_for;
use crate::settings_file::SettingsFile;
use crate::state_store::secret_key;
use sluice_executors::preflight::preflight;

pub(crate) fn run(args: &RunArgs) -> Result<ExitCode> {
    init_warnings();
    let settings = match SettingsFile::load_optional(args.settings.as_deref()) {
        Ok(settings) => settings,
        Err(error) => {
            eprintln!("sluice: {error:#}");
            return Ok(ExitCode::from(EXIT_USAGE));
        }
    };
    let file = &args.definition.file;
    let input = match read_definition(&args.definition) {
        Ok(input) => input,
        Err(error) => {
            eprintln!("sluice: {error:#}");
            return Ok(ExitCode::from(EXIT_USAGE));
        }
    };
    let catalog = Catalog::builtin();
    let now = chrono::Utc::now().naive_utc();
    let Some((pipeline, report)) =
        load_runnable(&input.definition, &catalog, &settings.limits(), file, now)
    else {
        return Ok(ExitCode::from(EXIT_USAGE));
    };
    if args.output == OutputFormat::Text {
        for (id, message) in report.warning_messages() {
            eprintln!("warning: {id}: {message}");
        }
        let data = settings.data_settings();
        for (id, message) in preflight(&input.definition.pipeline_objects, &data) {
            eprintln!("warning: {id}: {message}");
        }
    }
    let pipeline_id = pipeline_id_for(file)?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    let ran = runtime.block_on(async {
        super::create_data_dir(&args.data_dir, true)?;
        let store_path = args.data_dir.join(STATE_FILE);
        let sealer = secret_key(args.secret_key_file.as_deref(), &args.data_dir)?;
        let store = SqliteStore::open_with(&store_path, durability(args.fsync))
            .await?
            .seal_with(sealer)
            .await?;
        // Held until the process ends; released by the kernel even after `kill -9`.
        let _lock = match lock_pipeline(&args.data_dir, &pipeline_id)? {
            Ok(lock) => lock,
            Err(holder) => {
                eprintln!(
                    "sluice: {} is already running in {} (pipeline {pipeline_id}{holder}); \
                     wait for it to end or stop it first",
                    file.display(),
                    args.data_dir.display(),
                );
                return Ok(ExitCode::from(EXIT_USAGE));
            }
        };
        if args.fresh {
            store.delete_pipeline(&pipeline_id).await?;
            let logs = args.data_dir.join("logs").join(&pipeline_id);
            if logs.exists() {
                std::fs::remove_dir_all(&logs)
                    .with_context(|| format!("cannot remove {}", logs.display()))?;
            }
        }
        let data = Arc::new(settings.data_settings());
        if mentions_s3(&input.definition) {
            eprintln!("sluice: {}", data.s3.describe(&args.data_dir));
        }
        let shutdown = CancellationToken::new();
        let signal = Arc::new(AtomicU8::new(0));
        tokio::spawn(cancel_on_signal(shutdown.clone(), signal.clone()));
        let config = LocalRunConfig {
            pipeline_id: pipeline_id.clone(),
            definition: input.definition,
            pipeline,
            catalog,
            executors: sluice_executors::Executors::builtin(),
            data_dir: args.data_dir.clone(),
            data,
            workers: args.workers,
            follow: args.follow,
        };
        let live = args.output == OutputFormat::Text && std::io::stderr().is_terminal();
        let mut progress = TerminalProgress {
            enabled: live,
            notes: args.output == OutputFormat::Text,
            logs: (args.data_dir.clone(), pipeline_id.clone()),
            started: Instant::now(),
            shown: false,
            resumed: 0,
        };
        let store: Arc<dyn Store> = Arc::new(store);
        match run_local(
            config,
            store,
            Arc::new(SystemClock),
            shutdown,
            &mut progress,
        )
        .await
        {
            Ok(report) => {
                match args.output {
                    OutputFormat::Json => print_json(&report, &args.data_dir)?,
                    OutputFormat::Text => print_text(&report, args),
                }
                if report.failed() {
                    Ok(ExitCode::from(EXIT_INVALID))
                } else if report.interrupted && !args.follow {
                    // Not finished, not failed: say so, and exit as a signalled process does.
                    eprintln!(
                        "sluice: interrupted before everything due had finished; run the same \
                         command again to resume"
                    );
                    Ok(ExitCode::from(128 + signal.load(Ordering::SeqCst)))
                } else {
                    Ok(ExitCode::SUCCESS)
                }
            }
            Err(error @ LocalRunError::DefinitionChanged { .. }) => {
                eprintln!("sluice: {error}");
                Ok(ExitCode::from(EXIT_USAGE))
            }
            Err(error) => Err(error.into()),
        }
    });
    ran.or_else(|error| state_store_failure(&error, &args.data_dir).ok_or(error))
}

/// A failure of the state store, reported with its own exit status: the definition and the
/// command were fine, the data directory's database could not be opened or written.
fn state_store_failure(error: &anyhow::Error, data_dir: &std::path::Path) -> Option<ExitCode> {
    let store = error.chain().find_map(|cause| {
        cause
            .downcast_ref::<StoreError>()
            .or_else(|| match cause.downcast_ref::<EngineError>() {
                Some(EngineError::Store(inner)) => Some(inner),
                _ => None,
            })
            .or_else(|| match cause.downcast_ref::<LocalRunError>() {
                Some(LocalRunError::Engine(EngineError::Store(inner))) => Some(inner),
                _ => None,
            })
    })?;
    let advice = match store {
        StoreError::Corrupt(_) => {
            "the file is damaged or not a Sluice database: move it aside (or restore it from a \
             backup) and run the same command again"
        }
        _ => {
            "nothing about the definition is wrong: free disk space, make the data directory \
             writable or stop the process holding the database, then run the same command again"
        }
    };
    eprintln!(
        "sluice: the state database {} cannot be used: {store}; {advice}",
        data_dir.join(STATE_FILE).display()
    );
    Some(ExitCode::from(EXIT_STATE))
}

/// `sluice run` prints its report rather than a log; the data layer's warnings are the
/// exception (an S3 endpoint that cannot be reached while its requests are retried), since
/// the run would otherwise wait without a word. `RUST_LOG` chooses otherwise.
fn init_warnings() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("off,sluice_data=warn"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .without_time()
        .with_target(false)
        .try_init();
}

/// Takes `<data-dir>/locks/<pipeline>.lock` so that only one process runs a pipeline at a
/// time: a second one would restore the first one's running attempts as lost leases and run
/// them again. `Ok(Err(holder))` when another process holds it (`holder` names its pid).
fn lock_pipeline(
    data_dir: &std::path::Path,
    pipeline_id: &str,
) -> Result<std::result::Result<std::fs::File, String>> {
    use std::io::{Read, Seek};
    let dir = data_dir.join("locks");
    sluice_data::private_files::create_dir_all(&dir)
        .with_context(|| format!("cannot create {}", dir.display()))?;
    let path = dir.join(format!("{pipeline_id}.lock"));
    let mut file = sluice_data::private_files::options()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(&path)
        .with_context(|| format!("cannot open {}", path.display()))?;
    match file.try_lock() {
        Ok(()) => {
            file.set_len(0)?;
            file.rewind()?;
            write!(file, "{}", std::process::id())?;
            Ok(Ok(file))
        }
        Err(std::fs::TryLockError::WouldBlock) => {
            let mut pid = String::new();
            let _ = file.read_to_string(&mut pid);
            let pid = pid.trim();
            Ok(Err(if pid.is_empty() {
                String::new()
            } else {
                format!(", process {pid}")
            }))
        }
        Err(std::fs::TryLockError::Error(error)) => {
            Err(error).with_context(|| format!("cannot lock {}", path.display()))
        }
    }
}

/// Cancels `shutdown` on SIGINT or SIGTERM, recording which one in `signal`.
async fn cancel_on_signal(shutdown: CancellationToken, signal: Arc<AtomicU8>) {
    signal.store(stop_signal().await, Ordering::SeqCst);
    shutdown.cancel();
}

/// The live status line on a terminal, and the notes of a text run on stderr.
struct TerminalProgress {
    enabled: bool,
    notes: bool,
    /// Where failed attempts' logs are: the data directory and the pipeline.
    logs: (std::path::PathBuf, String),
    started: Instant,
    shown: bool,
    /// Attempts of a stopped run resumed at once.
    resumed: usize,
}

impl Progress for TerminalProgress {
    fn resumed(&mut self, interrupted: &[Interrupted]) {
        self.resumed = interrupted.iter().filter(|a| a.retried).count();
        if self.notes {
            for line in resumed_lines(interrupted) {
                eprintln!("sluice: {line}");
            }
        }
    }

    fn attempt_failed(&mut self, attempt: &AttemptRecord, retry_at: Option<NaiveDateTime>) {
        if !self.notes {
            return;
        }
        let message = error_message(attempt);
        let first_line = message.lines().next().unwrap_or_default();
        let next = match retry_at {
            Some(at) => format!("next attempt at {}", format_datetime(at)),
            None => "no further attempt".to_owned(),
        };
        let (data_dir, pipeline_id) = &self.logs;
        let dir = attempt_dir(data_dir, pipeline_id, &attempt.attempt_id);
        // An attempt that never reached a runner (an evaluation failure) has only the
        // pipeline's event log.
        let logs = if dir.exists() {
            dir
        } else {
            data_dir.join("logs").join(pipeline_id).join("events.log")
        };
        let mut err = std::io::stderr().lock();
        if self.shown {
            let _ = write!(err, "\r\x1b[2K");
        }
        let _ = writeln!(
            err,
            "sluice: {} {}: {first_line}; {next}\n  logs: {}",
            attempt.attempt_id,
            attempt.status.as_str(),
            logs.display()
        );
    }

    fn update(&mut self, summary: &Summary) {
        if !self.enabled {
            return;
        }
        let done = summary.get(Status::Finished) + summary.get(Status::Skipped);
        let running = summary.get(Status::Running);
        let failed = summary.get(Status::Failed)
            + summary.get(Status::CascadeFailed)
            + summary.get(Status::TimedOut)
            + summary.get(Status::Canceled);
        let waiting = summary.total().saturating_sub(done + running + failed);
        let resumed = match self.resumed {
            0 => String::new(),
            n => format!(" · resumed {n} interrupted attempt{}", plural(n)),
        };
        let mut err = std::io::stderr().lock();
        let _ = write!(
            err,
            "\r\x1b[2K[{:>4}s] {done} done · {running} running · {waiting} waiting · {failed} failed{resumed}",
            self.started.elapsed().as_secs()
        );
        let _ = err.flush();
        self.shown = true;
    }

    fn finish(&mut self) {
        if self.shown {
            let _ = write!(std::io::stderr(), "\r\x1b[2K");
        }
    }
}

/// Most outputs the text summary lists by path.
const OUTPUTS_LISTED: usize = 10;

/// Where the finished activities' standard output is, for those that wrote any.
fn print_outputs(report: &RunReport, data_dir: &std::path::Path) {
    let written: Vec<(String, std::path::PathBuf)> = report
        .instances
        .iter()
        .filter(|i| i.status == Status::Finished && i.attempt_count > 0)
        .filter_map(|i| {
            let attempt = sluice_engine::ids::attempt_id(&i.instance_id, i.attempt_count);
            let stdout = attempt_dir(data_dir, &report.pipeline_id, &attempt)
                .join(sluice_runner::STDOUT_LOG);
            let wrote = std::fs::metadata(&stdout).is_ok_and(|m| m.len() > 0);
            wrote.then(|| (i.instance_id.clone(), stdout))
        })
        .collect();
    if written.is_empty() {
        return;
    }
    println!(
        "
output (standard output of each finished activity that wrote any):"
    );
    for (instance, path) in written.iter().take(OUTPUTS_LISTED) {
        println!("  {instance}: {}", path.display());
    }
    if written.len() > OUTPUTS_LISTED {
        println!(
            "  … and {} more under the same directory",
            written.len() - OUTPUTS_LISTED
        );
    }
}

/// What the schedule brings next, or that nothing more is scheduled.
fn print_next_runs(report: &RunReport) {
    let Some((_, first)) = report.next_runs.first() else {
        return;
    };
    let at_first: Vec<&str> = report
        .next_runs
        .iter()
        .filter(|(_, at)| at == first)
        .map(|(component, _)| component.as_str())
        .collect();
    println!(
        "next: {} at {} (run again then, or use --follow to keep scheduling)",
        at_first.join(", "),
        format_datetime(*first)
    );
}

/// What a failed attempt said: the runner's result, else the message the engine recorded.
fn error_message(attempt: &AttemptRecord) -> &str {
    attempt
        .result
        .as_ref()
        .and_then(|r| r.error_message.as_deref())
        .or_else(|| {
            attempt
                .fields
                .get(keys::ERROR_MESSAGE)
                .and_then(|v| v.first())
                .map(String::as_str)
        })
        .unwrap_or("no error message")
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}

/// What a run says about the attempts a stopped run left running: those resumed at once, and
/// those whose instance had no retries left.
fn resumed_lines(interrupted: &[Interrupted]) -> Vec<String> {
    let (retried, failed): (Vec<&Interrupted>, Vec<&Interrupted>) =
        interrupted.iter().partition(|a| a.retried);
    [
        (retried, "resumed ", ""),
        (failed, "", " had no retries left"),
    ]
    .into_iter()
    .filter(|(list, ..)| !list.is_empty())
    .map(|(list, before, after)| {
        let n = list.len();
        let ids: Vec<&str> = list.iter().map(|a| a.attempt_id.as_str()).collect();
        format!(
            "{before}{n} attempt{} interrupted when the previous run stopped{after}: {}",
            plural(n),
            ids.join(", ")
        )
    })
    .collect()
}

fn print_json(report: &RunReport, data_dir: &std::path::Path) -> Result<()> {
    let instances: Vec<serde_json::Value> = report
        .instances
        .iter()
        .map(|i| {
            let mut entry = json!({
                "id": i.instance_id,
                "component": i.component_id,
                "scheduledStartTime": format_datetime(i.scheduled_start),
                "status": i.status.as_str(),
                "attempts": i.attempt_count,
            });
            if let Some(waiting_on) = i.fields.get(keys::WAITING_ON) {
                entry["waitingOn"] = json!(waiting_on);
            }
            let failed = matches!(
                i.status,
                Status::Failed | Status::CascadeFailed | Status::TimedOut | Status::Canceled
            );
            if let Some(message) = i
                .fields
                .get(keys::ERROR_MESSAGE)
                .and_then(|v| v.first())
                .filter(|_| failed)
            {
                entry["error"] = json!({
                    "errorId": i.fields.get(keys::ERROR_ID).and_then(|v| v.first()),
                    "errorMessage": message,
                });
            }
            if let Some(logs) = latest_logs(data_dir, report, i) {
                entry["logs"] = json!(logs.display().to_string());
            }
            entry
        })
        .collect();
    let resumed: Vec<serde_json::Value> = report
        .resumed
        .iter()
        .map(|a| {
            json!({
                "instance": a.instance_id,
                "interruptedAttempt": a.attempt_id,
                "retried": a.retried,
            })
        })
        .collect();
    let mut body = json!({
        "pipelineId": report.pipeline_id,
        "instances": instances,
        "resumed": resumed,
    });
    if let Some(health) = sluice_runtime::pipeline_health(&report.instances) {
        body["healthStatus"] = json!(health.status);
        body["healthStatusFromInstanceId"] = json!(health.from);
    }
    println!("{}", serde_json::to_string_pretty(&body)?);
    Ok(())
}

/// The attempt directory of the instance's latest attempt, when it has one on disk.
fn latest_logs(
    data_dir: &std::path::Path,
    report: &RunReport,
    instance: &sluice_engine::InstanceRecord,
) -> Option<std::path::PathBuf> {
    if instance.attempt_count == 0 {
        return None;
    }
    let attempt = sluice_engine::ids::attempt_id(&instance.instance_id, instance.attempt_count);
    let dir = attempt_dir(data_dir, &report.pipeline_id, &attempt);
    dir.exists().then_some(dir)
}

/// Whether any field names an `s3://` location, so the user is told once where those live.
fn mentions_s3(definition: &sluice_model::PipelineDefinition) -> bool {
    let in_objects = definition.pipeline_objects.iter().any(|object| {
        object
            .fields
            .iter()
            .any(|field| field.value.as_str().is_some_and(|v| v.contains("s3://")))
    });
    in_objects
        || definition
            .parameter_values
            .iter()
            .any(|value| value.string_value.contains("s3://"))
}

fn print_text(report: &RunReport, args: &RunArgs) {
    let width = report
        .instances
        .iter()
        .map(|i| i.instance_id.len())
        .max()
        .unwrap_or(8)
        .max(8);
    println!(
        "{:<width$}  {:<23}  {:>8}",
        "INSTANCE", "STATUS", "ATTEMPTS"
    );
    for instance in &report.instances {
        println!(
            "{:<width$}  {:<23}  {:>8}",
            instance.instance_id,
            instance.status.as_str(),
            instance.attempt_count
        );
        if let Some(waiting_on) = instance.fields.get(keys::WAITING_ON) {
            println!("{:<width$}    waiting on {}", "", waiting_on.join(", "));
        }
    }
    let mut counts: Vec<(Status, usize)> = Vec::new();
    for instance in &report.instances {
        match counts.iter_mut().find(|(s, _)| *s == instance.status) {
            Some((_, n)) => *n += 1,
            None => counts.push((instance.status, 1)),
        }
    }
    let tally: Vec<String> = counts
        .iter()
        .map(|(s, n)| format!("{n} {}", s.as_str()))
        .collect();
    let count = report.instances.len();
    println!(
        "\npipeline {}: {count} instance{} ({})",
        report.pipeline_id,
        if count == 1 { "" } else { "s" },
        if tally.is_empty() {
            "nothing due yet".to_owned()
        } else {
            tally.join(", ")
        }
    );
    if let Some(health) = sluice_runtime::pipeline_health(&report.instances) {
        println!("health: {} (from {})", health.status, health.from);
    }
    print_outputs(report, &args.data_dir);
    print_next_runs(report);
    if !report.resumed.is_empty() {
        println!();
        for line in resumed_lines(&report.resumed) {
            println!("{line}");
        }
    }
    let resumed = |id: &str| report.resumed.iter().any(|a| a.attempt_id == id);
    for attempt in report
        .attempts
        .iter()
        .filter(|a| a.status == Status::Failed && !resumed(&a.attempt_id))
    {
        let message = error_message(attempt);
        println!("\n{} failed: {}", attempt.attempt_id, message.trim_end());
        let logs = attempt_dir(&args.data_dir, &report.pipeline_id, &attempt.attempt_id);
        if logs.exists() {
            println!("  logs: {}", logs.display());
        }
    }
}
