//! The poll / execute / report loop.

use std::path::PathBuf;
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use sluice_executors::exec::error_id::CANCELED;
use sluice_executors::{AttemptContext, Execute, Executors, RunnerSettings};
use sluice_model::{Period, Redactor, TaskObject, TaskResult, TaskStatus};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;
use tracing::Instrument;

use crate::layout::{RUNNER_LOG, STDERR_LOG, STDOUT_LOG, attempt_dir};
use crate::log::{RunnerLog, describe_fields, mask_file};
use crate::log_upload::{log_destination, upload_attempt_logs};
use crate::source::{SourceError, TaskSource};

/// How many times SetTaskStatus is tried before the result is given up on (the lease then
/// expires and the service retries the attempt). With the default backoff the tries span about
/// three minutes: longer than a deployment of several servers takes to move a pipeline whose
/// server died (two lease periods, 30 s by default), so a result survives that.
const STATUS_TRIES: u32 = 10;

/// The default upper bound of the exponential backoff after failed calls.
const MAX_BACKOFF: Duration = Duration::from_secs(30);

/// The error id reported when no executor exists for the attempt's type.
pub const NO_EXECUTOR: &str = "NoExecutor";

/// How a runner behaves.
#[derive(Debug, Clone)]
pub struct RunnerOptions {
    /// The worker group polled; `None` takes tasks of every group (the embedded runner).
    pub worker_group: Option<String>,
    /// Most tasks executed at once (AWS Task Runner's `--tasks`, default 2).
    pub workers: usize,
    /// Sent with every poll and heartbeat.
    pub hostname: String,
    /// Time between progress reports (AWS asks runners for one every 60 s). The first report
    /// is sent after `first_report_delay` (or this interval, if shorter); later ones must stay
    /// inside the lease (AWS: 15 minutes by default, or the attempt's `reportProgressTimeout`),
    /// so an attempt whose `reportProgressTimeout` is short is reported at a third of it
    /// instead.
    pub report_interval: Duration,
    /// How long a task runs before its first progress report (10 s; the report interval if
    /// that is shorter). The report acknowledges the task, which AWS asks for within two
    /// minutes of delivery; a task that ends sooner is acknowledged by its SetTaskStatus, so
    /// the short tasks most pipelines are made of cost the service one call and one commit
    /// less.
    pub first_report_delay: Duration,
    /// Holds `logs/` (attempt directories) and the embedded object store.
    pub data_dir: PathBuf,
    /// Pause after an empty poll, and first step of the exponential backoff after errors.
    pub poll_backoff: Duration,
    /// Longest pause of the exponential backoff while the service cannot be reached.
    pub max_backoff: Duration,
    /// Identifies this runner in heartbeats.
    pub taskrunner_id: String,
    /// Time between heartbeats (AWS: 15 minutes); zero disables them.
    pub heartbeat_interval: Duration,
    /// How executors reach object stores and databases.
    pub data: Arc<sluice_data::DataSettings>,
    /// Where each attempt's logs are copied when it ends (`s3://`, `file://` or an absolute
    /// path), unless the task names its own `pipelineLogUri`. `None`: only then.
    pub log_uri: Option<String>,
    /// Whether tasks stopped by shutdown are reported FAILED (`Canceled`), as a remote runner
    /// does so that the service retries them per their policy. The in-process runner leaves
    /// them unreported instead: their attempts stay RUNNING under its name, and the process
    /// that restores the pipeline next resumes them at once.
    pub report_on_shutdown: bool,
}

impl RunnerOptions {
    /// The defaults: every worker group, 2 workers, reports every 60 s, heartbeats every
    /// 15 minutes, 1 s pause after an empty poll, backoff up to 30 s, no log upload beyond
    /// the tasks' own `pipelineLogUri`.
    pub fn new(data_dir: impl Into<PathBuf>) -> Self {
        let hostname = default_hostname();
        RunnerOptions {
            worker_group: None,
            workers: 2,
            taskrunner_id: format!("sluice-{hostname}-{}", std::process::id()),
            hostname,
            report_interval: Duration::from_secs(60),
            first_report_delay: Duration::from_secs(10),
            data_dir: data_dir.into(),
            poll_backoff: Duration::from_secs(1),
            max_backoff: MAX_BACKOFF,
            heartbeat_interval: Duration::from_secs(15 * 60),
            data: Arc::default(),
            log_uri: None,
            report_on_shutdown: true,
        }
    }
}

/// This machine's host name, or `localhost` when it cannot be read.
pub fn default_hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .or_else(|_| std::fs::read_to_string("/etc/hostname"))
        .ok()
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .or_else(|| std::env::var("HOSTNAME").ok().filter(|s| !s.is_empty()))
        .unwrap_or_else(|| "localhost".to_string())
}

/// What a finished [`Runner::run`] did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RunnerStats {
    /// Tasks received from the source.
    pub received: u64,
    /// Results reported as FINISHED.
    pub finished: u64,
    /// Results reported as FAILED.
    pub failed: u64,
    /// Results reported as FALSE.
    pub condition_false: u64,
    /// Tasks the service canceled; no status was reported for them, as the protocol allows.
    pub canceled: u64,
    /// Tasks whose lease was lost (TaskNotFound); stopped without a status.
    pub lease_lost: u64,
    /// Tasks whose result could not be delivered after retries.
    pub unreported: u64,
    /// Tasks stopped by shutdown and left unreported (see [`RunnerOptions::report_on_shutdown`]).
    pub interrupted: u64,
}

/// Why [`Runner::run`] could not start.
#[derive(Debug, thiserror::Error)]
pub enum RunnerError {
    #[error("invalid runner options: {0}")]
    InvalidOptions(String),
    #[error("cannot create {}: {source}", path.display())]
    DataDir {
        path: PathBuf,
        source: std::io::Error,
    },
    /// The service refused the runner's credentials; the runner stopped its tasks and exited.
    #[error("the service refused this runner's credentials ({0}); stopped")]
    Rejected(String),
}

/// Polls a [`TaskSource`] and executes its tasks, at most `workers` at a time.
///
/// A worker slot is held from the poll that takes a task until the task's executor ends; the
/// result is reported after the slot is freed, so the next poll can run while it is being
/// reported (against the engine, both then share one store commit). At most `workers` results
/// are being reported at once besides: a runner whose reports stall stops polling.
pub struct Runner {
    source: Arc<dyn TaskSource>,
    executors: Executors,
    options: RunnerOptions,
}

/// What the per-task workers share.
struct Shared {
    source: Arc<dyn TaskSource>,
    executors: Executors,
    options: RunnerOptions,
    settings: Arc<RunnerSettings>,
}

/// How one task ended, from the runner's side.
enum TaskOutcome {
    Reported(TaskStatus),
    CanceledByService,
    LeaseLost,
    Unreported,
    Interrupted,
}

/// Why the runner stopped an executor before it finished.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Stop {
    CanceledByService,
    LeaseLost,
    Shutdown,
}

impl Runner {
    pub fn new(source: Arc<dyn TaskSource>, executors: Executors, options: RunnerOptions) -> Self {
        Runner {
            source,
            executors,
            options,
        }
    }

    /// Runs until `shutdown` fires, a heartbeat answers `terminate`, or the service refuses
    /// the runner's credentials ([`RunnerError::Rejected`], after stopping running tasks as
    /// on shutdown).
    ///
    /// On shutdown, running tasks are canceled (their processes stopped) and reported FAILED
    /// with error id `Canceled`, so the service can retry them without waiting for the lease
    /// to lapse — unless [`RunnerOptions::report_on_shutdown`] is off, when they are left for
    /// the next process to resume. On `terminate`, no new task is taken and running ones
    /// finish normally. Either way `run` returns once every task has ended.
    pub async fn run(self, shutdown: CancellationToken) -> Result<RunnerStats, RunnerError> {
        let options = &self.options;
        if options.workers == 0 {
            return Err(RunnerError::InvalidOptions(
                "workers must be at least 1".into(),
            ));
        }
        if options.report_interval.is_zero() {
            return Err(RunnerError::InvalidOptions(
                "report_interval must be positive".into(),
            ));
        }
        let logs = options.data_dir.join("logs");
        sluice_data::private_files::create_dir_all(&logs).map_err(|source| {
            RunnerError::DataDir {
                path: logs.clone(),
                source,
            }
        })?;
        // Commands run in their attempt directory, so every path handed to them (staging
        // directories, script copies, object-store paths) must not depend on the runner's own
        // working directory.
        let data_dir =
            std::path::absolute(&options.data_dir).map_err(|source| RunnerError::DataDir {
                path: options.data_dir.clone(),
                source,
            })?;

        let shared = Arc::new(Shared {
            source: Arc::clone(&self.source),
            executors: self.executors.clone(),
            settings: Arc::new(RunnerSettings {
                data_dir: data_dir.clone(),
                data: Arc::clone(&options.data),
            }),
            options: RunnerOptions {
                data_dir,
                ..self.options.clone()
            },
        });
        // Stops running tasks: the caller's shutdown, or this runner's own decision to quit.
        let stop_tasks = shutdown.child_token();
        let stop_polling = stop_tasks.child_token();
        let heartbeat = (!options.heartbeat_interval.is_zero())
            .then(|| tokio::spawn(heartbeat(Arc::clone(&shared), stop_polling.clone())));
        tracing::info!(
            worker_group = options.worker_group.as_deref().unwrap_or("*"),
            workers = options.workers,
            "task runner started"
        );

        let mut stats = RunnerStats::default();
        // Executing tasks; a task's permit is dropped when its executor ends.
        let slots = Arc::new(Semaphore::new(options.workers));
        // Executing and reporting tasks.
        let mut tasks: JoinSet<TaskOutcome> = JoinSet::new();
        let mut outage = Outage::default();
        let mut rejected = None;
        loop {
            while let Some(done) = tasks.try_join_next() {
                stats.record(done);
            }
            if stop_polling.is_cancelled() {
                break;
            }
            if tasks.len() >= 2 * options.workers {
                tokio::select! {
                    Some(done) = tasks.join_next() => stats.record(done),
                    () = stop_polling.cancelled() => {}
                }
                continue;
            }
            let slot = tokio::select! {
                slot = Arc::clone(&slots).acquire_owned() => {
                    slot.expect("the runner never closes its semaphore")
                }
                Some(done) = tasks.join_next() => {
                    stats.record(done);
                    continue;
                }
                () = stop_polling.cancelled() => break,
            };
            let polled = tokio::select! {
                biased;
                () = stop_polling.cancelled() => break,
                polled = self.source.poll_for_task(options.worker_group.as_deref(), &options.hostname) => polled,
            };
            match polled {
                Ok(Some(task)) => {
                    outage.ended();
                    stats.received += 1;
                    // Not the task id: it is the bearer token of its attempt.
                    let span = tracing::info_span!("task", attempt = %task.attempt_id);
                    tasks.spawn(
                        run_task(Arc::clone(&shared), task, slot, stop_tasks.clone())
                            .instrument(span),
                    );
                }
                Ok(None) => {
                    outage.ended();
                    drop(slot);
                    pause(options.poll_backoff, &stop_polling).await;
                }
                Err(SourceError::Rejected(why)) => {
                    tracing::error!(%why, "the service refused this runner's credentials; stopping");
                    // Running tasks cannot report either: stop them now rather than let their
                    // leases lapse while they run on.
                    stop_tasks.cancel();
                    rejected = Some(why);
                    break;
                }
                Err(err) => {
                    drop(slot);
                    let delay = outage.failed(&err, options);
                    pause(delay, &stop_polling).await;
                }
            }
        }

        while let Some(done) = tasks.join_next().await {
            stats.record(done);
        }
        if let Some(heartbeat) = heartbeat {
            heartbeat.abort();
        }
        tracing::info!(?stats, "task runner stopped");
        match rejected {
            Some(why) => Err(RunnerError::Rejected(why)),
            None => Ok(stats),
        }
    }
}

impl RunnerStats {
    fn record(&mut self, done: Result<TaskOutcome, tokio::task::JoinError>) {
        match done {
            Ok(TaskOutcome::Reported(TaskStatus::Finished)) => self.finished += 1,
            Ok(TaskOutcome::Reported(TaskStatus::Failed)) => self.failed += 1,
            Ok(TaskOutcome::Reported(TaskStatus::False)) => self.condition_false += 1,
            Ok(TaskOutcome::CanceledByService) => self.canceled += 1,
            Ok(TaskOutcome::LeaseLost) => self.lease_lost += 1,
            Ok(TaskOutcome::Unreported) => self.unreported += 1,
            Ok(TaskOutcome::Interrupted) => self.interrupted += 1,
            Err(err) => {
                tracing::error!(%err, "task worker stopped unexpectedly");
                self.unreported += 1;
            }
        }
    }
}

async fn heartbeat(shared: Arc<Shared>, stop_polling: CancellationToken) {
    let options = &shared.options;
    let mut ticker = tokio::time::interval(options.heartbeat_interval);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            () = stop_polling.cancelled() => return,
            _ = ticker.tick() => {}
        }
        let answer = shared
            .source
            .report_heartbeat(
                &options.taskrunner_id,
                options.worker_group.as_deref(),
                &options.hostname,
            )
            .await;
        match answer {
            Ok(true) => {
                tracing::info!("heartbeat answered terminate; taking no more tasks");
                stop_polling.cancel();
                return;
            }
            Ok(false) => {}
            Err(err) => tracing::warn!(%err, "ReportTaskRunnerHeartbeat failed"),
        }
    }
}

/// Receives, executes and reports one task, then keeps and publishes its logs, or removes its
/// directory when there is nothing to keep.
///
/// An attempt keeps nothing when it FINISHED, left its directory empty (no output, no file
/// written there, and a `runner.log` not yet written, which happens once the attempt has run
/// for a report interval) and its logs are not copied anywhere. Every other attempt keeps its
/// directory with `runner.log`.
async fn run_task(
    shared: Arc<Shared>,
    task: TaskObject,
    slot: OwnedSemaphorePermit,
    shutdown: CancellationToken,
) -> TaskOutcome {
    let dir = attempt_dir(
        &shared.options.data_dir,
        &task.pipeline_id,
        &task.attempt_id,
    );
    let redactor = Redactor::for_task(&task);
    let log = RunnerLog::new(dir.join(RUNNER_LOG), redactor.clone());
    let outcome = execute_and_report(&shared, &task, &dir, &redactor, &log, slot, shutdown).await;
    let destination = log_destination(&task, shared.options.log_uri.as_deref());
    let finished = matches!(outcome, TaskOutcome::Reported(TaskStatus::Finished));
    // Removing an empty directory is what tells that the attempt left nothing: it fails for a
    // directory holding anything.
    if finished && destination.is_none() && std::fs::remove_dir(&dir).is_ok() {
        log.discard();
        return outcome;
    }
    log.write();
    if let Some(destination) = destination {
        publish_logs(&shared, &dir, &log, &destination).await;
    }
    outcome
}

/// Copies the attempt's logs to `destination`. Failing to do so is logged and does not change
/// the attempt's result, which is already reported.
async fn publish_logs(shared: &Shared, dir: &std::path::Path, log: &RunnerLog, destination: &str) {
    log.event(&format!("copying logs to {destination}"));
    match upload_attempt_logs(dir, destination, &shared.settings).await {
        Ok(files) => tracing::info!(%destination, files, "attempt logs copied"),
        Err(err) => tracing::warn!(%destination, %err, "cannot copy the attempt's logs"),
    }
}

/// Executes one task and reports its result. `slot` is released when the executor ends (or
/// the task fails before one starts), before the result is reported.
async fn execute_and_report(
    shared: &Shared,
    task: &TaskObject,
    dir: &std::path::Path,
    redactor: &Redactor,
    log: &RunnerLog,
    slot: OwnedSemaphorePermit,
    shutdown: CancellationToken,
) -> TaskOutcome {
    let dir = dir.to_path_buf();
    let type_name = task
        .attempt()
        .and_then(|a| a.object_type())
        .unwrap_or("(none)")
        .to_string();
    tracing::info!("received task");

    if let Err(err) = sluice_data::private_files::create_dir_all(&dir) {
        let result = TaskResult::failed(
            "AttemptDirectoryFailed",
            format!("cannot create attempt directory {}: {err}", dir.display()),
        );
        drop(slot);
        return finish(shared, task, log, result).await;
    }
    log.event(&format!(
        "received attempt {} (type {type_name}) of pipeline {} on {}",
        task.attempt_id, task.pipeline_id, shared.options.hostname
    ));
    if let Some(attempt) = task.attempt() {
        log.event(&format!("fields: {}", describe_fields(attempt)));
    }

    let executor = match executor_for(&shared.executors, task) {
        Ok(executor) => executor,
        Err(message) => {
            log.event(&message);
            tracing::warn!("{message}");
            drop(slot);
            return finish(shared, task, log, TaskResult::failed(NO_EXECUTOR, message)).await;
        }
    };

    let cancel = CancellationToken::new();
    let ctx = AttemptContext {
        task: task.clone(),
        stdout_log: dir.join(STDOUT_LOG),
        stderr_log: dir.join(STDERR_LOG),
        attempt_dir: dir.clone(),
        cancel: cancel.clone(),
        settings: Arc::clone(&shared.settings),
    };
    // A separate task, so that a panicking executor fails this attempt instead of the worker.
    let mut execution = tokio::spawn(async move { executor.execute(&ctx).await });

    // Fires when the source hears of a cancellation before the next report would.
    let told = shared.source.cancellation(&task.task_id);
    let interval = report_interval_for(task, shared.options.report_interval);
    let mut ticker = tokio::time::interval_at(
        tokio::time::Instant::now() + interval.min(shared.options.first_report_delay),
        interval,
    );
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut stop = None;
    // Failed reports in a row: an outage is logged when it starts and when it ends.
    let mut failed_reports = 0u32;
    let mut ticks = 0u32;
    let joined = loop {
        tokio::select! {
            joined = &mut execution => break joined,
            // The first tick acknowledges the task (AWS reassigns a task not acknowledged
            // within two minutes of delivery); see `first_report_delay`.
            _ = ticker.tick(), if stop.is_none() => {
                ticks += 1;
                if ticks == 2 {
                    // Running for a report interval already: from now on runner.log is on disk
                    // as it is written, for whoever looks at a long attempt.
                    log.write();
                }
                let report = tokio::time::timeout(
                    interval,
                    shared.source.report_task_progress(&task.task_id, Vec::new()),
                )
                .await
                .unwrap_or_else(|_| Err(SourceError::Transient("ReportTaskProgress timed out".into())));
                if report.is_ok() && failed_reports > 0 {
                    log.event(&format!("progress reported again after {failed_reports} failed reports"));
                    tracing::info!(failed_reports, "ReportTaskProgress works again");
                    failed_reports = 0;
                }
                match report {
                    Ok(false) => log.event("progress reported"),
                    Ok(true) => {
                        log.event("canceled by the service; stopping the task");
                        tracing::info!("canceled by the service");
                        stop = Some(Stop::CanceledByService);
                        cancel.cancel();
                    }
                    Err(SourceError::TaskNotFound(_)) => {
                        log.event("lease lost (task not found); stopping the task");
                        tracing::warn!("lease lost; stopping the task");
                        stop = Some(Stop::LeaseLost);
                        cancel.cancel();
                    }
                    Err(err) => {
                        failed_reports += 1;
                        if failed_reports == 1 {
                            log.event(&format!("progress report failed, retrying every interval: {err}"));
                            tracing::warn!(%err, "ReportTaskProgress failed; retrying every interval");
                        } else {
                            tracing::debug!(%err, failed_reports, "ReportTaskProgress failed again");
                        }
                    }
                }
            }
            () = canceled_by(told.as_ref()), if stop.is_none() => {
                log.event("canceled by the service; stopping the task");
                tracing::info!("canceled by the service");
                stop = Some(Stop::CanceledByService);
                cancel.cancel();
            }
            () = shutdown.cancelled(), if stop.is_none() => {
                log.event("task runner shutting down; stopping the task");
                stop = Some(Stop::Shutdown);
                cancel.cancel();
            }
        }
    };

    drop(slot);
    let result = joined.unwrap_or_else(|err| {
        TaskResult::failed(
            "ExecutorCrashed",
            format!("the {type_name} executor stopped unexpectedly: {err}"),
        )
    });
    // The attempt's own output is masked too: a command may print what it was given.
    for name in [STDOUT_LOG, STDERR_LOG] {
        if let Err(err) = mask_file(&dir.join(name), redactor).await {
            log.event(&format!("cannot mask secrets in {name}: {err}"));
            tracing::warn!(file = name, %err, "cannot mask secrets in an attempt log");
        }
    }
    let mut result = masked_result(result, redactor);
    log.event(&format!("executor ended: {}", describe_result(&result)));
    match stop {
        Some(Stop::CanceledByService) => {
            log.event("no status reported: the service canceled the task");
            TaskOutcome::CanceledByService
        }
        Some(Stop::LeaseLost) => TaskOutcome::LeaseLost,
        Some(Stop::Shutdown)
            if !shared.options.report_on_shutdown
                && result.error_id.as_deref() == Some(CANCELED) =>
        {
            log.event("no status reported: stopped by shutdown, resumed by the next process");
            TaskOutcome::Interrupted
        }
        Some(Stop::Shutdown) | None => {
            if stop == Some(Stop::Shutdown) && result.error_id.as_deref() == Some(CANCELED) {
                result.error_message =
                    Some("the task runner shut down before the task finished".to_string());
            }
            finish(shared, task, log, result).await
        }
    }
}

/// Completes when `token` is canceled; never without one.
async fn canceled_by(token: Option<&CancellationToken>) {
    match token {
        Some(token) => token.cancelled().await,
        None => std::future::pending().await,
    }
}

/// The executor registered for the attempt's type, or why there is none.
fn executor_for(executors: &Executors, task: &TaskObject) -> Result<&'static dyn Execute, String> {
    let attempt = task.attempt().ok_or_else(|| {
        format!(
            "the task does not include its attempt object {}",
            task.attempt_id
        )
    })?;
    let type_name = attempt
        .object_type()
        .ok_or_else(|| format!("attempt {} has no type", task.attempt_id))?;
    executors
        .get(type_name)
        .ok_or_else(|| format!("no executor for type {type_name}"))
}

/// The configured interval, shortened for attempts whose `reportProgressTimeout` would
/// otherwise lapse between two reports.
fn report_interval_for(task: &TaskObject, configured: Duration) -> Duration {
    let timeout = task
        .attempt()
        .and_then(|a| a.string("reportProgressTimeout"))
        .and_then(|p| Period::from_str(p).ok())
        .map(|p| Duration::from_secs(p.min_seconds()));
    match timeout {
        Some(timeout) => configured.min((timeout / 3).max(Duration::from_secs(1))),
        _ => configured,
    }
}

/// Reports the result with SetTaskStatus, retrying transient failures.
async fn finish(
    shared: &Shared,
    task: &TaskObject,
    log: &RunnerLog,
    result: TaskResult,
) -> TaskOutcome {
    let status = result.task_status;
    let description = describe_result(&result);
    for attempt in 0..STATUS_TRIES {
        match shared
            .source
            .set_task_status(&task.task_id, result.clone())
            .await
        {
            Ok(()) => {
                log.event(&format!("result reported: {description}"));
                tracing::info!(status = status.as_str(), "result reported");
                return TaskOutcome::Reported(status);
            }
            Err(SourceError::Rejected(why)) => {
                log.event(&format!(
                    "result not reported, the service refused the credentials ({why}): \
                     {description}"
                ));
                tracing::warn!(%why, "SetTaskStatus: credentials refused");
                return TaskOutcome::Unreported;
            }
            Err(SourceError::TaskNotFound(_)) => {
                log.event(&format!(
                    "result not reported, the lease was already lost: {description}"
                ));
                tracing::warn!("SetTaskStatus: task not found (lease lost)");
                return TaskOutcome::LeaseLost;
            }
            Err(err) => {
                let delay = backoff(
                    shared.options.poll_backoff,
                    attempt,
                    shared.options.max_backoff,
                );
                tracing::warn!(%err, retry_in = ?delay, "SetTaskStatus failed");
                log.event(&format!("reporting the result failed: {err}"));
                if attempt + 1 < STATUS_TRIES {
                    tokio::time::sleep(delay).await;
                }
            }
        }
    }
    log.event(&format!("result could not be reported: {description}"));
    TaskOutcome::Unreported
}

/// The result with the attempt's secrets masked in its message and stack trace: they are
/// stored by the service and shown by every client.
fn masked_result(mut result: TaskResult, redactor: &Redactor) -> TaskResult {
    for text in [&mut result.error_message, &mut result.error_stack_trace]
        .into_iter()
        .flatten()
    {
        if let std::borrow::Cow::Owned(masked) = redactor.redact(text) {
            *text = masked;
        }
    }
    result
}

fn describe_result(result: &TaskResult) -> String {
    let mut text = result.task_status.as_str().to_string();
    if let Some(id) = &result.error_id {
        text.push_str(&format!(" [{id}]"));
    }
    if let Some(message) = &result.error_message {
        text.push_str(&format!(" {message}"));
    }
    text
}

/// `base * 2^failures`, capped at `cap` (or at `base` when that is larger).
fn backoff(base: Duration, failures: u32, cap: Duration) -> Duration {
    let factor = 1u32.checked_shl(failures.min(16)).unwrap_or(u32::MAX);
    base.saturating_mul(factor).min(cap.max(base))
}

/// A run of failed polls: logged once when it starts and once when it ends, however many
/// retries it takes, so a service restart does not flood the log.
#[derive(Default)]
struct Outage {
    failures: u32,
    since: Option<std::time::Instant>,
}

impl Outage {
    /// Records a failed poll; how long to wait before the next one.
    fn failed(&mut self, err: &SourceError, options: &RunnerOptions) -> Duration {
        let delay = backoff(options.poll_backoff, self.failures, options.max_backoff);
        if self.failures == 0 {
            self.since = Some(std::time::Instant::now());
            tracing::warn!(
                %err,
                max_backoff = ?options.max_backoff,
                "cannot reach the service (PollForTask failed); retrying with backoff"
            );
        } else {
            tracing::debug!(%err, retry_in = ?delay, "PollForTask failed again");
        }
        self.failures = self.failures.saturating_add(1);
        delay
    }

    /// Records a successful poll.
    fn ended(&mut self) {
        if self.failures > 0 {
            let down = self.since.map(|t| t.elapsed()).unwrap_or_default();
            tracing::info!(
                failed_polls = self.failures,
                outage = ?Duration::from_secs(down.as_secs()),
                "reconnected to the service"
            );
        }
        self.failures = 0;
        self.since = None;
    }
}

/// Waits `delay` unless `stop` fires first.
async fn pause(delay: Duration, stop: &CancellationToken) {
    tokio::select! {
        () = tokio::time::sleep(delay) => {}
        () = stop.cancelled() => {}
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use sluice_model::{Field, PipelineObject};

    use super::*;

    #[test]
    fn backoff_doubles_up_to_a_cap() {
        let base = Duration::from_millis(100);
        assert_eq!(backoff(base, 0, MAX_BACKOFF), base);
        assert_eq!(backoff(base, 3, MAX_BACKOFF), Duration::from_millis(800));
        assert_eq!(backoff(base, 40, MAX_BACKOFF), MAX_BACKOFF);
        assert_eq!(
            backoff(Duration::from_secs(120), 5, MAX_BACKOFF),
            Duration::from_secs(120)
        );
        assert_eq!(
            backoff(base, 10, Duration::from_secs(2)),
            Duration::from_secs(2)
        );
    }

    #[test]
    fn short_progress_timeouts_shorten_the_report_interval() {
        let task = |timeout: Option<&str>| {
            let mut fields = vec![Field::string("type", "ShellCommandActivity")];
            if let Some(t) = timeout {
                fields.push(Field::string("reportProgressTimeout", t));
            }
            TaskObject {
                task_id: "t".into(),
                pipeline_id: "p".into(),
                attempt_id: "a".into(),
                objects: BTreeMap::from([(
                    "a".to_string(),
                    PipelineObject {
                        id: "a".into(),
                        name: "a".into(),
                        fields,
                    },
                )]),
            }
        };
        let minute = Duration::from_secs(60);
        assert_eq!(report_interval_for(&task(None), minute), minute);
        assert_eq!(
            report_interval_for(&task(Some("90 seconds")), minute),
            Duration::from_secs(30)
        );
        assert_eq!(report_interval_for(&task(Some("1 hour")), minute), minute);
        assert_eq!(
            report_interval_for(&task(Some("1 hour")), Duration::from_millis(50)),
            Duration::from_millis(50)
        );
    }
}
