//! The runner loop against an in-memory [`TaskSource`].
//!
//! `FakeSource` is a test double: it hands out queued tasks and records every call. The real
//! engine-backed source is wired up by the CLI.

use std::collections::{BTreeMap, HashMap, HashSet, VecDeque};
use std::fs;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use sluice_executors::types::ShellCommandActivity;
use sluice_executors::{AttemptContext, ExecFuture, Execute, Executors};
use sluice_model::{Field, PipelineObject, TaskObject, TaskResult, TaskStatus};
use sluice_runner::{
    Runner, RunnerError, RunnerOptions, RunnerStats, SourceError, TaskSource, attempt_dir,
};
use sluice_testsupport::poll::eventually;
use sluice_testsupport::process::{is_running, read_pid};
use tempfile::TempDir;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

const PIPELINE_ID: &str = "df-RUNNER";

// ----- the test double ------------------------------------------------------------------------

#[derive(Default)]
struct FakeSource {
    queue: Mutex<VecDeque<TaskObject>>,
    /// Task ids in the order progress was reported for them.
    progress: Mutex<Vec<String>>,
    statuses: Mutex<Vec<(String, TaskResult)>>,
    /// Tasks whose next progress report answers canceled.
    cancel: Mutex<HashSet<String>>,
    /// Tasks whose progress reports answer TaskNotFound.
    lost: Mutex<HashSet<String>>,
    /// Poll calls that fail before tasks are served.
    failing_polls: AtomicUsize,
    polls: AtomicUsize,
    /// The probe whose executing attempts each poll records in `executing_at_poll`.
    probe: Option<&'static Probe>,
    executing_at_poll: Mutex<Vec<usize>>,
    /// How long each SetTaskStatus takes.
    status_delay: Duration,
    terminate: AtomicBool,
    heartbeats: AtomicUsize,
    /// Tokens handed to the runner through `cancellation`, as the in-process source does.
    tokens: Mutex<HashMap<String, CancellationToken>>,
}

impl FakeSource {
    fn with_tasks(tasks: Vec<TaskObject>) -> Arc<Self> {
        let source = FakeSource::default();
        source.queue.lock().unwrap().extend(tasks);
        Arc::new(source)
    }

    fn statuses(&self) -> Vec<(String, TaskResult)> {
        self.statuses.lock().unwrap().clone()
    }

    fn status_of(&self, task_id: &str) -> Option<TaskResult> {
        self.statuses()
            .into_iter()
            .find(|(id, _)| id == task_id)
            .map(|(_, r)| r)
    }

    fn progress_count(&self, task_id: &str) -> usize {
        self.progress
            .lock()
            .unwrap()
            .iter()
            .filter(|id| *id == task_id)
            .count()
    }
}

#[async_trait]
impl TaskSource for FakeSource {
    async fn poll_for_task(
        &self,
        _worker_group: Option<&str>,
        _hostname: &str,
    ) -> Result<Option<TaskObject>, SourceError> {
        self.polls.fetch_add(1, Ordering::SeqCst);
        if self
            .failing_polls
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
            .is_ok()
        {
            return Err(SourceError::Transient("service unavailable".into()));
        }
        if let Some(probe) = self.probe {
            let executing = probe.current.load(Ordering::SeqCst);
            self.executing_at_poll.lock().unwrap().push(executing);
        }
        Ok(self.queue.lock().unwrap().pop_front())
    }

    async fn report_task_progress(
        &self,
        task_id: &str,
        _fields: Vec<Field>,
    ) -> Result<bool, SourceError> {
        self.progress.lock().unwrap().push(task_id.to_string());
        if self.lost.lock().unwrap().contains(task_id) {
            return Err(SourceError::TaskNotFound(task_id.to_string()));
        }
        Ok(self.cancel.lock().unwrap().contains(task_id))
    }

    async fn set_task_status(&self, task_id: &str, result: TaskResult) -> Result<(), SourceError> {
        if !self.status_delay.is_zero() {
            tokio::time::sleep(self.status_delay).await;
        }
        self.statuses
            .lock()
            .unwrap()
            .push((task_id.to_string(), result));
        Ok(())
    }

    async fn report_heartbeat(
        &self,
        _taskrunner_id: &str,
        _worker_group: Option<&str>,
        _hostname: &str,
    ) -> Result<bool, SourceError> {
        self.heartbeats.fetch_add(1, Ordering::SeqCst);
        Ok(self.terminate.load(Ordering::SeqCst))
    }

    fn cancellation(&self, task_id: &str) -> Option<CancellationToken> {
        self.tokens.lock().unwrap().get(task_id).cloned()
    }
}

// ----- a test executor that measures concurrency ----------------------------------------------

/// A task type whose executor holds for a while and records how many of its attempts run at
/// once. Each test uses its own static instance, since tests run in parallel.
struct Probe {
    name: &'static str,
    hold: Duration,
    current: AtomicUsize,
    max: AtomicUsize,
}

impl Probe {
    const fn new(name: &'static str, hold: Duration) -> Self {
        Probe {
            name,
            hold,
            current: AtomicUsize::new(0),
            max: AtomicUsize::new(0),
        }
    }
}

impl Execute for Probe {
    fn execute<'a>(&'a self, ctx: &'a AttemptContext) -> ExecFuture<'a> {
        Box::pin(async move {
            let now = self.current.fetch_add(1, Ordering::SeqCst) + 1;
            self.max.fetch_max(now, Ordering::SeqCst);
            // The work this executor stands for: occupying a slot for `hold`.
            tokio::select! {
                () = tokio::time::sleep(self.hold) => {}
                () = ctx.cancel.cancelled() => {}
            }
            self.current.fetch_sub(1, Ordering::SeqCst);
            TaskResult::finished()
        })
    }
}

static CONCURRENCY_PROBE: Probe = Probe::new("ConcurrencyProbe", Duration::from_millis(100));
static ACK_PROBE: Probe = Probe::new("AckProbe", Duration::from_millis(300));
static PROGRESS_PROBE: Probe = Probe::new("ProgressProbe", Duration::from_millis(400));
static TERMINATE_PROBE: Probe = Probe::new("TerminateProbe", Duration::from_millis(200));

/// The probes and the shell; `S3DataNode` is a real type without an executor.
fn executors() -> Executors {
    Executors::from_entries([
        probe(&CONCURRENCY_PROBE),
        probe(&ACK_PROBE),
        probe(&PROGRESS_PROBE),
        probe(&TERMINATE_PROBE),
        (
            "ShellCommandActivity",
            &ShellCommandActivity as &dyn Execute,
        ),
    ])
}

fn probe(probe: &'static Probe) -> (&'static str, &'static dyn Execute) {
    (probe.name, probe)
}

// ----- helpers --------------------------------------------------------------------------------

fn task(n: usize, type_name: &str, fields: Vec<Field>) -> TaskObject {
    let attempt_id = format!("@Job{n}_2024-01-01T00:00:00_Attempt=1");
    let mut all = vec![Field::string("type", type_name)];
    all.extend(fields);
    TaskObject {
        task_id: format!("task-{n}"),
        pipeline_id: PIPELINE_ID.into(),
        attempt_id: attempt_id.clone(),
        objects: BTreeMap::from([(
            attempt_id.clone(),
            PipelineObject {
                id: attempt_id.clone(),
                name: attempt_id,
                fields: all,
            },
        )]),
    }
}

fn options(data_dir: &Path, workers: usize, report_interval: Duration) -> RunnerOptions {
    let mut options = RunnerOptions::new(data_dir);
    options.workers = workers;
    options.report_interval = report_interval;
    options.poll_backoff = Duration::from_millis(5);
    options
}

fn start(
    source: Arc<FakeSource>,
    options: RunnerOptions,
) -> (
    CancellationToken,
    JoinHandle<Result<RunnerStats, RunnerError>>,
) {
    let shutdown = CancellationToken::new();
    let runner = Runner::new(source, executors(), options);
    let handle = tokio::spawn(runner.run(shutdown.clone()));
    (shutdown, handle)
}

async fn stop(
    shutdown: CancellationToken,
    handle: JoinHandle<Result<RunnerStats, RunnerError>>,
) -> RunnerStats {
    shutdown.cancel();
    tokio::time::timeout(Duration::from_secs(30), handle)
        .await
        .expect("the runner stops after shutdown")
        .unwrap()
        .unwrap()
}

fn task_dir(data_dir: &Path, task: &TaskObject) -> PathBuf {
    attempt_dir(data_dir, &task.pipeline_id, &task.attempt_id)
}

const LONG: Duration = Duration::from_secs(20);

// ----- tests ----------------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn never_exceeds_workers_and_reports_every_task_exactly_once() {
    let tmp = TempDir::new().unwrap();
    let tasks: Vec<_> = (0..12)
        .map(|n| task(n, "ConcurrencyProbe", vec![]))
        .collect();
    let ids: Vec<_> = tasks.iter().map(|t| t.task_id.clone()).collect();
    // Slow reports, so that polls overlap them: a slot is freed when its executor ends, and
    // only the reporting may run alongside the next `workers` executions.
    let source = FakeSource {
        probe: Some(&CONCURRENCY_PROBE),
        status_delay: Duration::from_millis(30),
        ..FakeSource::default()
    };
    source.queue.lock().unwrap().extend(tasks);
    let source = Arc::new(source);
    let (shutdown, handle) = start(
        Arc::clone(&source),
        options(tmp.path(), 3, Duration::from_millis(50)),
    );

    assert!(eventually(LONG, || source.statuses().len() >= 12).await);
    let stats = stop(shutdown, handle).await;

    let max = CONCURRENCY_PROBE.max.load(Ordering::SeqCst);
    assert!(max <= 3, "{max} tasks ran at once with 3 workers");
    assert!(max >= 2, "tasks never overlapped (max {max})");
    let at_poll = source.executing_at_poll.lock().unwrap().clone();
    assert!(
        at_poll.iter().all(|&n| n < 3),
        "polled while 3 tasks were executing: {at_poll:?}"
    );

    let statuses = source.statuses();
    assert_eq!(statuses.len(), 12, "{statuses:?}");
    let mut per_task: HashMap<&str, usize> = HashMap::new();
    for (id, result) in &statuses {
        *per_task.entry(id).or_default() += 1;
        assert_eq!(result.task_status, TaskStatus::Finished);
    }
    for id in &ids {
        assert_eq!(per_task.get(id.as_str()), Some(&1), "{id}");
        assert!(
            source.progress_count(id) >= 1,
            "{id} was never acknowledged"
        );
    }
    assert_eq!(stats.received, 12);
    assert_eq!(stats.finished, 12);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_task_is_acknowledged_after_the_first_report_delay_not_an_interval() {
    // With a 10-minute interval, the one report while the task runs (300 ms) is the
    // acknowledgement, 50 ms in.
    assert_eq!(
        reports_of_an_ack_probe(Some(Duration::from_millis(50))).await,
        1
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_task_that_ends_before_the_first_report_is_acknowledged_by_its_result() {
    // The default delay (10 s) is far beyond the task's 300 ms.
    assert_eq!(reports_of_an_ack_probe(None).await, 0);
}

/// The progress reports of one 300 ms task, with a 10-minute report interval.
async fn reports_of_an_ack_probe(first_report_delay: Option<Duration>) -> usize {
    let tmp = TempDir::new().unwrap();
    let t = task(1, "AckProbe", vec![]);
    let source = FakeSource::with_tasks(vec![t.clone()]);
    let mut options = options(tmp.path(), 1, Duration::from_secs(600));
    if let Some(delay) = first_report_delay {
        options.first_report_delay = delay;
    }
    let (shutdown, handle) = start(Arc::clone(&source), options);
    assert!(eventually(LONG, || source.status_of(&t.task_id).is_some()).await);
    stop(shutdown, handle).await;
    source.progress_count(&t.task_id)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn progress_is_reported_every_interval_while_running() {
    let tmp = TempDir::new().unwrap();
    let t = task(1, "ProgressProbe", vec![]);
    let source = FakeSource::with_tasks(vec![t.clone()]);
    let (shutdown, handle) = start(
        Arc::clone(&source),
        options(tmp.path(), 1, Duration::from_millis(50)),
    );
    assert!(eventually(LONG, || source.status_of(&t.task_id).is_some()).await);
    stop(shutdown, handle).await;
    // 400 ms of work at 50 ms intervals: comfortably more than the acknowledgement alone.
    let reports = source.progress_count(&t.task_id);
    assert!(reports >= 3, "only {reports} progress reports");
    let log = fs::read_to_string(task_dir(tmp.path(), &t).join("runner.log")).unwrap();
    assert!(log.contains("progress reported"), "{log}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shell_tasks_leave_their_logs_in_the_attempt_directory() {
    let tmp = TempDir::new().unwrap();
    let t = task(
        1,
        "ShellCommandActivity",
        vec![
            Field::string("command", "echo out; echo err >&2"),
            Field::string("*password", "hunter2"),
        ],
    );
    let source = FakeSource::with_tasks(vec![t.clone()]);
    let (shutdown, handle) = start(
        Arc::clone(&source),
        options(tmp.path(), 2, Duration::from_millis(50)),
    );
    assert!(eventually(LONG, || source.status_of(&t.task_id).is_some()).await);
    let stats = stop(shutdown, handle).await;

    assert_eq!(source.status_of(&t.task_id), Some(TaskResult::finished()));
    let dir = task_dir(tmp.path(), &t);
    assert_eq!(
        dir,
        tmp.path()
            .join("logs/df-RUNNER/@Job1_2024-01-01T00:00:00_Attempt=1")
    );
    assert_eq!(fs::read_to_string(dir.join("stdout.log")).unwrap(), "out\n");
    assert_eq!(fs::read_to_string(dir.join("stderr.log")).unwrap(), "err\n");
    let log = fs::read_to_string(dir.join("runner.log")).unwrap();
    assert!(
        log.contains("received attempt @Job1_2024-01-01T00:00:00_Attempt=1"),
        "{log}"
    );
    assert!(
        !log.contains("task-1"),
        "the task id reached runner.log: {log}"
    );
    assert!(log.contains("result reported: FINISHED"), "{log}");
    assert!(log.contains("*password=****"), "{log}");
    assert!(
        !log.contains("hunter2"),
        "a secret reached runner.log: {log}"
    );
    assert_eq!(stats.finished, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn types_without_an_executor_fail() {
    let tmp = TempDir::new().unwrap();
    let unknown = task(1, "NoSuchType", vec![]);
    let passive = task(2, "S3DataNode", vec![]);
    let source = FakeSource::with_tasks(vec![unknown.clone(), passive.clone()]);
    let (shutdown, handle) = start(
        Arc::clone(&source),
        options(tmp.path(), 2, Duration::from_millis(50)),
    );
    assert!(eventually(LONG, || source.statuses().len() >= 2).await);
    let stats = stop(shutdown, handle).await;

    for (t, name) in [(&unknown, "NoSuchType"), (&passive, "S3DataNode")] {
        let result = source.status_of(&t.task_id).unwrap();
        assert_eq!(result.task_status, TaskStatus::Failed);
        assert_eq!(
            result.error_message.as_deref(),
            Some(format!("no executor for type {name}").as_str())
        );
        assert!(task_dir(tmp.path(), t).join("runner.log").is_file());
    }
    assert_eq!(stats.failed, 2);
}

/// A shell task that records its pid and then sleeps "forever".
fn sleeper(n: usize) -> TaskObject {
    task(
        n,
        "ShellCommandActivity",
        vec![Field::string(
            "command",
            "echo $$ > sh.pid; exec sleep 1000",
        )],
    )
}

/// Waits for the sleeper `t` to be running; its pid.
async fn sleeper_pid(data_dir: &Path, t: &TaskObject) -> u32 {
    let pid_file = task_dir(data_dir, t).join("sh.pid");
    assert!(eventually(LONG, || read_pid(&pid_file).is_some()).await);
    let pid = read_pid(&pid_file).unwrap();
    assert!(is_running(pid));
    pid
}

/// Waits for the canceled sleeper `t` (`pid`) to be gone and its runner to have given up on
/// it without a status; how long the process took to go from `since`.
async fn canceled_sleeper(data_dir: &Path, t: &TaskObject, pid: u32, since: Instant) -> Duration {
    assert!(
        eventually(LONG, || !is_running(pid)).await,
        "sleep {pid} survived"
    );
    let took = since.elapsed();
    let log_path = task_dir(data_dir, t).join("runner.log");
    assert!(
        eventually(LONG, || fs::read_to_string(&log_path)
            .is_ok_and(|l| l.contains("no status reported")))
        .await
    );
    took
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn service_cancellation_stops_a_running_command_within_an_interval() {
    let tmp = TempDir::new().unwrap();
    let t = sleeper(1);
    let source = FakeSource::with_tasks(vec![t.clone()]);
    let interval = Duration::from_millis(50);
    let (shutdown, handle) = start(Arc::clone(&source), options(tmp.path(), 1, interval));
    let pid = sleeper_pid(tmp.path(), &t).await;

    let canceled_at = Instant::now();
    source.cancel.lock().unwrap().insert(t.task_id.clone());
    let took = canceled_sleeper(tmp.path(), &t, pid, canceled_at).await;
    // One interval to notice plus SIGTERM delivery; far below the 5 s SIGKILL grace.
    assert!(took < interval + Duration::from_secs(2), "took {took:?}");
    let stats = stop(shutdown, handle).await;
    assert_eq!(
        source.status_of(&t.task_id),
        None,
        "canceled tasks get no status"
    );
    assert_eq!(stats.canceled, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cancellation_the_source_tells_stops_the_command_without_waiting_for_a_report() {
    let tmp = TempDir::new().unwrap();
    let t = sleeper(1);
    let source = FakeSource::with_tasks(vec![t.clone()]);
    let token = CancellationToken::new();
    source
        .tokens
        .lock()
        .unwrap()
        .insert(t.task_id.clone(), token.clone());
    // No report within the test: the first is 10 s away.
    let (shutdown, handle) = start(
        Arc::clone(&source),
        options(tmp.path(), 1, Duration::from_secs(3600)),
    );
    let pid = sleeper_pid(tmp.path(), &t).await;

    let canceled_at = Instant::now();
    token.cancel();
    let took = canceled_sleeper(tmp.path(), &t, pid, canceled_at).await;
    assert!(took < Duration::from_secs(2), "took {took:?}");
    let stats = stop(shutdown, handle).await;
    assert_eq!(source.progress_count(&t.task_id), 0, "no report was due");
    assert_eq!(source.status_of(&t.task_id), None);
    assert_eq!(stats.canceled, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lost_lease_stops_the_task_silently() {
    let tmp = TempDir::new().unwrap();
    let t = sleeper(1);
    let source = FakeSource::with_tasks(vec![t.clone()]);
    let (shutdown, handle) = start(
        Arc::clone(&source),
        options(tmp.path(), 1, Duration::from_millis(50)),
    );
    let pid_file = task_dir(tmp.path(), &t).join("sh.pid");
    assert!(eventually(LONG, || read_pid(&pid_file).is_some()).await);
    let pid = read_pid(&pid_file).unwrap();

    source.lost.lock().unwrap().insert(t.task_id.clone());
    assert!(
        eventually(LONG, || !is_running(pid)).await,
        "sleep {pid} survived"
    );
    // Wait for the worker to wind down before stopping, so the count below is its own.
    let log_path = task_dir(tmp.path(), &t).join("runner.log");
    assert!(
        eventually(LONG, || fs::read_to_string(&log_path)
            .is_ok_and(|l| l.contains("executor ended")))
        .await
    );
    let stats = stop(shutdown, handle).await;
    assert_eq!(source.status_of(&t.task_id), None);
    assert_eq!(stats.lease_lost, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_stops_running_tasks_and_reports_them_failed() {
    let tmp = TempDir::new().unwrap();
    let t = sleeper(1);
    let source = FakeSource::with_tasks(vec![t.clone()]);
    let (shutdown, handle) = start(
        Arc::clone(&source),
        options(tmp.path(), 1, Duration::from_millis(50)),
    );
    let pid_file = task_dir(tmp.path(), &t).join("sh.pid");
    assert!(eventually(LONG, || read_pid(&pid_file).is_some()).await);
    let pid = read_pid(&pid_file).unwrap();

    let stats = stop(shutdown, handle).await;
    assert!(
        eventually(LONG, || !is_running(pid)).await,
        "sleep {pid} survived"
    );
    let result = source.status_of(&t.task_id).expect("a status on shutdown");
    assert_eq!(result.task_status, TaskStatus::Failed);
    assert_eq!(result.error_id.as_deref(), Some("Canceled"));
    assert!(result.error_message.unwrap().contains("shut down"));
    assert_eq!(stats.failed, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_report_on_shutdown_stopped_tasks_are_left_unreported() {
    let tmp = TempDir::new().unwrap();
    let (t, done) = (sleeper(1), task(2, "ConcurrencyProbe", vec![]));
    let source = FakeSource::with_tasks(vec![done.clone(), t.clone()]);
    let mut options = options(tmp.path(), 2, Duration::from_millis(50));
    options.report_on_shutdown = false;
    let (shutdown, handle) = start(Arc::clone(&source), options);
    let pid = sleeper_pid(tmp.path(), &t).await;
    assert!(eventually(LONG, || source.status_of(&done.task_id).is_some()).await);

    let stats = stop(shutdown, handle).await;
    assert!(
        eventually(LONG, || !is_running(pid)).await,
        "sleep {pid} survived"
    );
    assert_eq!(
        source.status_of(&t.task_id),
        None,
        "left for the next process"
    );
    assert_eq!(
        source.status_of(&done.task_id).map(|r| r.task_status),
        Some(TaskStatus::Finished),
        "a task that ended is reported as ever"
    );
    assert_eq!((stats.interrupted, stats.finished), (1, 1));
    let log = fs::read_to_string(task_dir(tmp.path(), &t).join("runner.log")).unwrap();
    assert!(log.contains("resumed by the next process"), "{log}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn transient_poll_errors_are_retried() {
    let tmp = TempDir::new().unwrap();
    let t = task(
        1,
        "ShellCommandActivity",
        vec![Field::string("command", "exit 0")],
    );
    let source = FakeSource::with_tasks(vec![t.clone()]);
    source.failing_polls.store(3, Ordering::SeqCst);
    let (shutdown, handle) = start(
        Arc::clone(&source),
        options(tmp.path(), 1, Duration::from_millis(50)),
    );
    assert!(eventually(LONG, || source.status_of(&t.task_id).is_some()).await);
    stop(shutdown, handle).await;
    assert!(source.polls.load(Ordering::SeqCst) >= 4);
    assert_eq!(source.status_of(&t.task_id), Some(TaskResult::finished()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_terminate_heartbeat_ends_the_run_after_running_tasks_finish() {
    let tmp = TempDir::new().unwrap();
    let t = task(1, "TerminateProbe", vec![]);
    let source = FakeSource::with_tasks(vec![t.clone()]);
    let mut opts = options(tmp.path(), 1, Duration::from_millis(50));
    opts.heartbeat_interval = Duration::from_millis(20);
    let (_shutdown, handle) = start(Arc::clone(&source), opts);

    assert!(eventually(LONG, || TERMINATE_PROBE.current.load(Ordering::SeqCst) == 1).await);
    source.terminate.store(true, Ordering::SeqCst);
    let stats = tokio::time::timeout(LONG, handle)
        .await
        .expect("terminate ends the run")
        .unwrap()
        .unwrap();
    assert_eq!(source.status_of(&t.task_id), Some(TaskResult::finished()));
    assert_eq!(stats.finished, 1);
    assert!(source.heartbeats.load(Ordering::SeqCst) >= 1);
}

#[tokio::test]
async fn zero_workers_is_rejected() {
    let tmp = TempDir::new().unwrap();
    let runner = Runner::new(
        FakeSource::with_tasks(vec![]),
        executors(),
        options(tmp.path(), 0, Duration::from_millis(50)),
    );
    let err = runner.run(CancellationToken::new()).await.unwrap_err();
    assert!(matches!(err, RunnerError::InvalidOptions(_)), "{err}");
}
