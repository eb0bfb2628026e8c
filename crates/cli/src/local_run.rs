//! Running a pipeline locally: the engine, the SQLite store and an in-process task runner in
//! one process — what `sluice run` does and what the benchmarks measure.
//!
//! The in-process runner talks to the scheduler through the same `TaskSource` calls a remote
//! runner makes over the API (PollForTask, ReportTaskProgress, SetTaskStatus), so a task
//! executes identically either way.
//!
//! Design decisions:
//! * Each run is a process of its own name (`EngineOptions::in_process`): attempts its runner
//!   takes record it, so the next run of the pipeline knows which RUNNING attempts a stopped
//!   run left behind and resumes them at once rather than after `retryDelay` (`kill -9`, a
//!   crash, or Ctrl-C alike: on shutdown the runner stops its tasks without reporting them).
//!   [`RunReport::resumed`] and [`Progress::resumed`] say which.
//! * Cancellations (attemptTimeout, a Terminate action) reach the runner as soon as they are
//!   committed, through the source's cancellation tokens, not through progress reports.

use std::collections::HashSet;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use chrono::NaiveDateTime;
use sluice_catalog::Catalog;
use sluice_definition::ResolvedPipeline;
use sluice_engine::engine::keys;
use sluice_engine::{
    AttemptRecord, Clock, EngineError, EngineOptions, INTERRUPTED_ERROR_ID, InProcessRunner,
    InstanceRecord, Interrupted, PipelineRecord, Plan, Scheduler, Store, Summary,
};
use sluice_executors::Executors;
use sluice_model::{PipelineDefinition, PipelineState, Status};
use sluice_runner::{Runner, RunnerOptions};
use tokio_util::sync::CancellationToken;

pub use sluice_runtime::event_log::{EVENTS_LOG, events_log_path};

/// What to run and how.
pub struct LocalRunConfig {
    pub pipeline_id: String,
    pub definition: PipelineDefinition,
    pub pipeline: ResolvedPipeline,
    pub catalog: Catalog,
    /// What each runnable type does.
    pub executors: Executors,
    pub data_dir: PathBuf,
    /// How tasks reach data, and where SnsAlarm actions are published.
    pub data: Arc<sluice_data::DataSettings>,
    pub workers: usize,
    /// Keep scheduling future intervals instead of stopping once everything due has settled.
    pub follow: bool,
}

/// Why a local run could not start or continue.
#[derive(Debug, thiserror::Error)]
pub enum LocalRunError {
    #[error(
        "the definition differs from the one this data directory last ran as {pipeline_id}; \
         use --fresh to discard that run and start over"
    )]
    DefinitionChanged { pipeline_id: String },
    #[error(transparent)]
    Engine(#[from] EngineError),
    #[error(transparent)]
    Plan(#[from] sluice_engine::PlanError),
    #[error("task runner: {0}")]
    Runner(String),
}

/// The outcome of a run: every instance as the store holds it, and the attempts that failed.
#[derive(Debug, Clone)]
pub struct RunReport {
    pub pipeline_id: String,
    pub state: PipelineState,
    pub instances: Vec<InstanceRecord>,
    /// The FAILED attempts only: what the report shows. A copy of every attempt record (a
    /// fanout of 10 000 has 10 000) raised the run's peak memory by about 10 MiB at its very
    /// end.
    pub attempts: Vec<AttemptRecord>,
    /// The run stopped because `shutdown` fired while work due by now was still unsettled
    /// (running, queued or waiting for a retry); running the same pipeline again resumes it.
    pub interrupted: bool,
    /// Attempts a previous run left running when it stopped, which this run ended and (when
    /// they had retries left) ran again at once.
    pub resumed: Vec<Interrupted>,
    /// When each scheduled component's next interval falls due, earliest first (empty for an
    /// ondemand pipeline and a schedule that ended).
    pub next_runs: Vec<(String, NaiveDateTime)>,
}

impl RunReport {
    /// Whether any instance ended badly (FAILED, CASCADE_FAILED, TIMEDOUT or CANCELED).
    pub fn failed(&self) -> bool {
        self.instances.iter().any(|i| {
            matches!(
                i.status,
                Status::Failed | Status::CascadeFailed | Status::TimedOut | Status::Canceled
            )
        })
    }
}

/// Something that wants to hear how the run is going (the terminal progress line).
pub trait Progress: Send {
    /// Once, before the first update, when a previous run left attempts running.
    fn resumed(&mut self, _interrupted: &[Interrupted]) {}
    /// An attempt failed (or timed out) just now; `retry_at` is when the next attempt of its
    /// instance is due, `None` when there is none.
    fn attempt_failed(&mut self, _attempt: &AttemptRecord, _retry_at: Option<NaiveDateTime>) {}
    fn update(&mut self, summary: &Summary);
    fn finish(&mut self) {}
}

/// Runs (or resumes) a pipeline until everything due has settled, or forever with `follow`.
pub async fn run_local(
    config: LocalRunConfig,
    store: Arc<dyn Store>,
    clock: Arc<dyn Clock>,
    shutdown: CancellationToken,
    progress: &mut dyn Progress,
) -> Result<RunReport, LocalRunError> {
    let now = clock.now();
    let existing = store
        .pipeline(&config.pipeline_id)
        .await
        .map_err(EngineError::from)?;
    // Moved into the pipeline record rather than copied: a definition of many thousand objects
    // is a good part of a run's memory.
    let definition = config.definition;
    let resuming = match &existing {
        Some(record) if record.definition.as_ref() != Some(&definition) => {
            return Err(LocalRunError::DefinitionChanged {
                pipeline_id: config.pipeline_id,
            });
        }
        Some(_) => true,
        None => {
            let mut record = PipelineRecord::new_local(config.pipeline_id.clone(), now);
            record.active_definition = Some(definition.clone());
            record.definition = Some(definition);
            record.version = 1;
            let changes = sluice_engine::ChangeSet {
                pipelines: vec![record],
                ..Default::default()
            };
            store.commit(&changes).await.map_err(EngineError::from)?;
            false
        }
    };
    let plan = Plan::compile(config.pipeline, &config.catalog)?;
    let ondemand = plan.pipeline().is_ondemand();
    // The observer is there from the first commit, which records the attempts a run that
    // stopped left running.
    let process = format!(
        "run-{}-{}",
        sluice_runner::default_hostname(),
        sluice_runtime::new_request_id()
    );
    let (failed_tx, failed_rx) = std::sync::mpsc::channel();
    let engine_options = EngineOptions {
        in_process: Some(Arc::new(InProcessRunner::new(process))),
        ..EngineOptions::default()
    };
    let scheduler = Arc::new(
        Scheduler::open_observed(
            store.clone(),
            clock.clone(),
            &config.pipeline_id,
            plan,
            engine_options,
            Some(failure_observer(
                sluice_runtime::event_log::attempt_event_log(config.data_dir.clone()),
                failed_tx,
            )),
        )
        .await?,
    );
    let resumed = scheduler
        .inspect(|engine| engine.interrupted().to_vec())
        .await;
    if !resumed.is_empty() {
        progress.resumed(&resumed);
    }
    let state = scheduler.pipeline_state().await;
    // A pipeline that never got going is activated; an ondemand pipeline whose last run has
    // settled runs once more, as another ActivatePipeline would.
    let start_new_run = match state {
        PipelineState::Pending => true,
        _ => ondemand && resuming && scheduler.is_settled().await,
    };
    if start_new_run {
        scheduler.activate(None).await?;
    }

    let runner_shutdown = CancellationToken::new();
    let mut options = RunnerOptions::new(&config.data_dir);
    options.data = Arc::clone(&config.data);
    options.workers = config.workers.max(1);
    options.poll_backoff = Duration::ZERO;
    options.report_on_shutdown = false;
    let source = Arc::new(sluice_runtime::InProcessSource::for_scheduler(
        scheduler.clone(),
    ));
    let runner = Runner::new(source, config.executors.clone(), options);
    let runner_task = tokio::spawn(runner.run(runner_shutdown.clone()));

    let outcome = drive(
        &scheduler,
        clock.as_ref(),
        config.follow,
        &config.data,
        &shutdown,
        Reporting {
            progress,
            failed: failed_rx,
            announced: HashSet::new(),
        },
    )
    .await;
    sluice_runtime::actions::deliver_pending(&scheduler, &config.data).await;
    runner_shutdown.cancel();
    let runner_result = runner_task.await;
    progress.finish();
    let settled = outcome?;
    match runner_result {
        Ok(Ok(_stats)) => {}
        Ok(Err(error)) => return Err(LocalRunError::Runner(error.to_string())),
        Err(join) => return Err(LocalRunError::Runner(join.to_string())),
    }
    let (instances, attempts, state, next_runs) = scheduler
        .inspect(|engine| {
            let mut next_runs: Vec<(String, NaiveDateTime)> =
                engine.next_run_times().into_iter().collect();
            next_runs.sort_by(|a, b| (a.1, &a.0).cmp(&(b.1, &b.0)));
            (
                engine.instances(),
                engine.attempts_where(|status| status == Status::Failed),
                engine.pipeline_state(),
                next_runs,
            )
        })
        .await;
    Ok(RunReport {
        pipeline_id: config.pipeline_id,
        state,
        instances,
        attempts,
        interrupted: !settled,
        resumed,
        next_runs,
    })
}

/// Ticks the scheduler until it settles (or until shutdown), waking for the engine's next
/// timer, for every change a runner reports, and often enough to keep the progress line live.
/// Returns whether everything due had settled when it stopped.
async fn drive(
    scheduler: &Scheduler,
    clock: &dyn Clock,
    follow: bool,
    data: &sluice_data::DataSettings,
    shutdown: &CancellationToken,
    mut reporting: Reporting<'_>,
) -> Result<bool, LocalRunError> {
    const REFRESH: Duration = Duration::from_millis(200);
    loop {
        scheduler.tick().await?;
        sluice_runtime::provision::provision_in_process(scheduler).await?;
        sluice_runtime::actions::deliver_pending(scheduler, data).await;
        let now = clock.now();
        let (settled, next, summary) = scheduler
            .inspect(|engine| {
                (
                    engine.is_settled(now),
                    engine.next_wakeup(),
                    engine.summary(),
                )
            })
            .await;
        reporting.announce_failures(scheduler).await;
        reporting.progress.update(&summary);
        if (settled && !follow) || shutdown.is_cancelled() {
            return Ok(settled);
        }
        let wait = next
            .map(|at| until(at, clock.now()))
            .unwrap_or(REFRESH)
            .min(REFRESH);
        tokio::select! {
            () = tokio::time::sleep(wait) => {}
            () = scheduler.changed() => {}
            () = shutdown.cancelled() => {}
        }
    }
}

/// Where the run's progress goes, with the attempt failures the commits brought.
struct Reporting<'a> {
    progress: &'a mut dyn Progress,
    failed: std::sync::mpsc::Receiver<AttemptRecord>,
    /// A failed attempt's record may be committed again (a later field): told once.
    announced: HashSet<String>,
}

impl Reporting<'_> {
    async fn announce_failures(&mut self, scheduler: &Scheduler) {
        while let Ok(attempt) = self.failed.try_recv() {
            if !self.announced.insert(attempt.attempt_id.clone()) {
                continue;
            }
            let retry_at = scheduler
                .inspect(|engine| engine.retry_at(&attempt.instance_id))
                .await;
            self.progress.attempt_failed(&attempt, retry_at);
        }
    }
}

/// The scheduler's commit observer: the attempt event log, and every attempt that failed or
/// timed out sent on (an attempt a stopped run left behind is said by `Progress::resumed`).
fn failure_observer(
    event_log: sluice_engine::CommitObserver,
    failed: std::sync::mpsc::Sender<AttemptRecord>,
) -> sluice_engine::CommitObserver {
    Box::new(move |changes| {
        event_log(changes);
        for attempt in &changes.attempts {
            let interrupted = attempt
                .fields
                .get(keys::ERROR_ID)
                .is_some_and(|ids| ids.iter().any(|id| id == INTERRUPTED_ERROR_ID));
            if matches!(attempt.status, Status::Failed | Status::TimedOut) && !interrupted {
                let _ = failed.send(attempt.clone());
            }
        }
    })
}

fn until(at: NaiveDateTime, now: NaiveDateTime) -> Duration {
    (at - now).to_std().unwrap_or(Duration::ZERO)
}
