//! The async Scheduler over the in-memory store and a virtual clock.

mod common;

use std::sync::Arc;
use std::time::Duration;

use common::*;
use sluice_engine::{Clock, EngineError, MemoryStore, Scheduler, Store, StoreError, VirtualClock};
use sluice_model::{PipelineState, Status, TaskObject, TaskResult};

const JSON: &str = r#"{"objects": [
    {"id": "Default", "scheduleType": "cron", "workerGroup": "wg", "maximumRetries": "1",
     "retryDelay": "5 minutes", "onFail": {"ref": "Alarm"}},
    {"id": "Alarm", "type": "SnsAlarm", "role": "r", "topicArn": "t", "subject": "s",
     "message": "m"},
    {"id": "S", "type": "Schedule", "period": "1 hour", "startDateTime": "2026-01-01T00:00:00",
     "occurrences": "2"},
    {"id": "A", "type": "ShellCommandActivity", "schedule": {"ref": "S"}, "command": "a"}
  ]}"#;

async fn open(store: &Arc<MemoryStore>, clock: &Arc<VirtualClock>) -> Scheduler {
    let store: Arc<dyn Store> = store.clone();
    let clock: Arc<dyn Clock> = clock.clone();
    Scheduler::open(store, clock, "df-DRIVER", plan(JSON))
        .await
        .unwrap()
}

#[tokio::test]
async fn a_pipeline_runs_to_the_end_with_every_step_committed() {
    let store = Arc::new(MemoryStore::new());
    let clock = Arc::new(VirtualClock::new(at("2026-01-01T00:00:00")));
    let scheduler = open(&store, &clock).await;
    assert_eq!(
        store.pipeline("df-DRIVER").await.unwrap().unwrap().state,
        PipelineState::Pending
    );
    scheduler.activate(None).await.unwrap();
    let task = scheduler
        .poll_for_task(Some("wg"), "host", Duration::ZERO)
        .await
        .unwrap()
        .unwrap();
    // Written ahead: the store already shows the attempt RUNNING.
    let attempts = store.attempts("df-DRIVER").await.unwrap();
    assert_eq!(attempts[0].status, Status::Running);
    assert_eq!(attempts[0].task_id.as_deref(), Some(task.task_id.as_str()));
    scheduler
        .set_task_status(&task.task_id, TaskResult::finished())
        .await
        .unwrap();
    assert!(scheduler.is_settled().await);

    clock.advance_to(at("2026-01-01T01:00:00"));
    scheduler.tick().await.unwrap();
    let task = scheduler
        .poll_for_task(None, "host", Duration::ZERO)
        .await
        .unwrap()
        .unwrap();
    scheduler
        .set_task_status(&task.task_id, TaskResult::failed("E", "x"))
        .await
        .unwrap();
    clock.advance_to(at("2026-01-01T01:05:00"));
    scheduler.tick().await.unwrap();
    let task = scheduler
        .poll_for_task(None, "host", Duration::ZERO)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(task.attempt_id, "@A_2026-01-01T01:00:00_Attempt=2");
    scheduler
        .set_task_status(&task.task_id, TaskResult::failed("E", "again"))
        .await
        .unwrap();
    let events = scheduler.take_action_events().await;
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].action_id, "Alarm");
    assert_eq!(scheduler.pipeline_state().await, PipelineState::Finished);
    let stored = store.instances("df-DRIVER").await.unwrap();
    assert_eq!(stored.len(), 2);
    assert_eq!(stored[1].status, Status::Failed);
    assert_eq!(stored[1].fields["errorMessage"], vec!["again"]);
    assert_eq!(
        store.pipeline("df-DRIVER").await.unwrap().unwrap().state,
        PipelineState::Finished
    );
}

/// Activates the pipeline and takes its first task.
async fn activate_and_poll(scheduler: &Scheduler) -> TaskObject {
    scheduler.activate(None).await.unwrap();
    scheduler
        .poll_for_task(None, "host", Duration::ZERO)
        .await
        .unwrap()
        .unwrap()
}

#[tokio::test]
async fn reopening_resumes_from_the_store_after_a_crash() {
    let store = Arc::new(MemoryStore::new());
    let clock = Arc::new(VirtualClock::new(at("2026-01-01T00:00:00")));
    let scheduler = open(&store, &clock).await;
    let task = activate_and_poll(&scheduler).await;
    drop(scheduler);

    clock.advance_to(at("2026-01-01T00:00:30"));
    let scheduler = open(&store, &clock).await;
    let stored = store.attempts("df-DRIVER").await.unwrap();
    assert_eq!(
        stored[0].status,
        Status::Failed,
        "the lost lease is committed on open"
    );
    assert!(matches!(
        scheduler
            .set_task_status(&task.task_id, TaskResult::finished())
            .await,
        Err(EngineError::TaskNotFound(_))
    ));
    clock.advance_to(at("2026-01-01T00:05:30"));
    scheduler.tick().await.unwrap();
    let retry = scheduler
        .poll_for_task(None, "host", Duration::ZERO)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(retry.attempt_id, "@A_2026-01-01T00:00:00_Attempt=2");
}

#[tokio::test]
async fn an_unavailable_store_keeps_the_changes_and_asks_for_a_retry_with_backoff() {
    let store = Arc::new(MemoryStore::new());
    let clock = Arc::new(VirtualClock::new(at("2026-01-01T00:00:00")));
    let scheduler = open(&store, &clock).await;
    store.set_unavailable(true);
    let error = scheduler.activate(None).await.unwrap_err();
    assert!(
        matches!(error, EngineError::Store(StoreError::Unavailable(_))),
        "{error}"
    );
    assert_eq!(
        scheduler.next_wakeup().await,
        Some(at("2026-01-01T00:00:01"))
    );
    // Every further refusal doubles the wait.
    for (now, retry) in [
        ("2026-01-01T00:00:01", "2026-01-01T00:00:03"),
        ("2026-01-01T00:00:03", "2026-01-01T00:00:07"),
    ] {
        clock.advance_to(at(now));
        let refused = scheduler.tick().await;
        assert!(
            matches!(refused, Err(EngineError::Store(StoreError::Unavailable(_)))),
            "{refused:?}"
        );
        assert_eq!(scheduler.next_wakeup().await, Some(at(retry)));
    }
    store.set_unavailable(false);
    clock.advance_to(at("2026-01-01T00:00:07"));
    scheduler.tick().await.unwrap();
    assert_eq!(
        store.pipeline("df-DRIVER").await.unwrap().unwrap().state,
        PipelineState::Scheduled
    );
    assert_eq!(store.instances("df-DRIVER").await.unwrap().len(), 1);
    // Nothing waits for a retry any more: the next wakeup is the second interval's.
    assert_eq!(
        scheduler.next_wakeup().await,
        Some(at("2026-01-01T01:00:00"))
    );
}

#[tokio::test(start_paused = true)]
async fn a_long_poll_wakes_when_a_task_becomes_ready() {
    let store = Arc::new(MemoryStore::new());
    let clock = Arc::new(VirtualClock::new(at("2025-12-31T23:59:00")));
    let scheduler = Arc::new(open(&store, &clock).await);
    scheduler.activate(None).await.unwrap();
    let poller = {
        let scheduler = scheduler.clone();
        tokio::spawn(async move {
            scheduler
                .poll_for_task(Some("wg"), "host", Duration::from_secs(90))
                .await
        })
    };
    tokio::task::yield_now().await;
    clock.advance_to(at("2026-01-01T00:00:00"));
    scheduler.tick().await.unwrap();
    let task = poller.await.unwrap().unwrap().unwrap();
    assert_eq!(task.attempt_id, "@A_2026-01-01T00:00:00_Attempt=1");
    let nothing = scheduler
        .poll_for_task(Some("wg"), "host", Duration::from_secs(90))
        .await
        .unwrap();
    assert!(nothing.is_none());
}

#[tokio::test(start_paused = true)]
async fn run_until_settled_returns_once_a_runner_has_done_everything_due() {
    let store = Arc::new(MemoryStore::new());
    // Both intervals are in the past: a backfill.
    let clock = Arc::new(VirtualClock::new(at("2026-01-01T03:00:00")));
    let scheduler = Arc::new(open(&store, &clock).await);
    scheduler.activate(None).await.unwrap();
    let runner = {
        let scheduler = scheduler.clone();
        tokio::spawn(async move {
            let mut done = 0;
            while let Some(task) = scheduler
                .poll_for_task(None, "embedded", Duration::from_secs(90))
                .await
                .unwrap()
            {
                scheduler
                    .set_task_status(&task.task_id, TaskResult::finished())
                    .await
                    .unwrap();
                done += 1;
            }
            done
        })
    };
    tokio::time::timeout(Duration::from_secs(3600), scheduler.run_until_settled())
        .await
        .expect("settles")
        .unwrap();
    assert_eq!(scheduler.summary().await.get(Status::Finished), 2);
    assert_eq!(runner.await.unwrap(), 2);
}

#[tokio::test]
async fn the_commit_observer_sees_exactly_what_the_store_accepted() {
    let store = Arc::new(MemoryStore::new());
    let clock = Arc::new(VirtualClock::new(at("2026-01-01T00:00:00")));
    let scheduler = open(&store, &clock).await;
    let seen: Arc<std::sync::Mutex<Vec<(String, Status)>>> = Arc::default();
    let sink = seen.clone();
    scheduler.set_commit_observer(Box::new(move |changes| {
        let mut sink = sink.lock().unwrap();
        for attempt in &changes.attempts {
            sink.push((attempt.attempt_id.clone(), attempt.status));
        }
    }));
    scheduler.activate(None).await.unwrap();
    let task = scheduler
        .poll_for_task(None, "host", Duration::ZERO)
        .await
        .unwrap()
        .unwrap();
    store.set_unavailable(true);
    let refused = scheduler
        .set_task_status(&task.task_id, TaskResult::finished())
        .await;
    assert!(
        matches!(refused, Err(EngineError::Store(StoreError::Unavailable(_)))),
        "{refused:?}"
    );
    let before_recovery = seen.lock().unwrap().clone();
    assert!(
        before_recovery
            .iter()
            .all(|(_, status)| *status != Status::Finished),
        "an unsaved change reached the observer: {before_recovery:?}"
    );
    store.set_unavailable(false);
    scheduler.tick().await.unwrap();
    let statuses: Vec<Status> = seen
        .lock()
        .unwrap()
        .iter()
        .filter(|(id, _)| id == &task.attempt_id)
        .map(|(_, s)| *s)
        .collect();
    assert_eq!(statuses.last(), Some(&Status::Finished), "{statuses:?}");
    assert!(statuses.contains(&Status::Running), "{statuses:?}");
}

#[tokio::test]
async fn a_canceled_task_is_told_once_its_cancellation_is_committed() {
    let store = Arc::new(MemoryStore::new());
    let clock = Arc::new(VirtualClock::new(at("2026-01-01T00:00:00")));
    let scheduler = open(&store, &clock).await;
    let told: Arc<std::sync::Mutex<Vec<String>>> = Arc::default();
    let sink = told.clone();
    scheduler.set_cancel_observer(Box::new(move |tasks| {
        sink.lock().unwrap().extend(tasks.iter().cloned());
    }));
    let task = activate_and_poll(&scheduler).await;
    let instance = "@A_2026-01-01T00:00:00".to_owned();
    store.set_unavailable(true);
    let refused = scheduler.set_status(&[instance], "TRY_CANCEL").await;
    assert!(
        matches!(refused, Err(EngineError::Store(StoreError::Unavailable(_)))),
        "{refused:?}"
    );
    assert!(
        told.lock().unwrap().is_empty(),
        "told before the cancellation was stored"
    );
    store.set_unavailable(false);
    scheduler.tick().await.unwrap();
    assert_eq!(*told.lock().unwrap(), [task.task_id.as_str()]);
    let stored = store.attempts("df-DRIVER").await.unwrap();
    assert_eq!(stored[0].status, Status::Canceled);
    // Told once: the runner's report still answers `canceled`, and nothing is told again.
    assert!(
        scheduler
            .report_task_progress(&task.task_id, &[])
            .await
            .unwrap()
    );
    scheduler.tick().await.unwrap();
    assert_eq!(told.lock().unwrap().len(), 1);
}

#[tokio::test]
async fn a_timeout_another_runners_report_brings_about_is_told_at_once() {
    const TWO: &str = r#"{"objects": [
        {"id": "Default", "scheduleType": "ondemand", "workerGroup": "wg"},
        {"id": "Timed", "type": "ShellCommandActivity", "command": "a",
         "attemptTimeout": "10 minutes"},
        {"id": "Other", "type": "ShellCommandActivity", "command": "b"}
      ]}"#;
    let store: Arc<dyn Store> = Arc::new(MemoryStore::new());
    let clock = Arc::new(VirtualClock::new(at("2026-01-01T00:00:00")));
    let scheduler = Scheduler::open(store.clone(), clock.clone(), "df-TWO", plan(TWO))
        .await
        .unwrap();
    let told: Arc<std::sync::Mutex<Vec<String>>> = Arc::default();
    let sink = told.clone();
    scheduler.set_cancel_observer(Box::new(move |tasks| {
        sink.lock().unwrap().extend(tasks.iter().cloned());
    }));
    let first = activate_and_poll(&scheduler).await;
    let second = scheduler
        .poll_for_task(None, "host", Duration::ZERO)
        .await
        .unwrap()
        .unwrap();
    let (timed, other) = if first.attempt_id.starts_with("@Timed_") {
        (first, second)
    } else {
        (second, first)
    };
    clock.advance_to(at("2026-01-01T00:01:00"));
    for task in [&timed, &other] {
        assert!(
            !scheduler
                .report_task_progress(&task.task_id, &[])
                .await
                .unwrap()
        );
    }
    assert!(told.lock().unwrap().is_empty());
    // Nothing ticks: the other runner's report is what brings the engine past the timeout.
    clock.advance_to(at("2026-01-01T00:10:30"));
    assert!(
        !scheduler
            .report_task_progress(&other.task_id, &[])
            .await
            .unwrap()
    );
    assert_eq!(*told.lock().unwrap(), [timed.task_id.as_str()]);
    let stored = store.attempts("df-TWO").await.unwrap();
    let timed_out = stored
        .iter()
        .find(|a| a.attempt_id == timed.attempt_id)
        .unwrap();
    assert_eq!(timed_out.fields["errorId"], ["Service_AttemptTimeout"]);
}

/// A store over a [`MemoryStore`] whose commits wait at a gate while it is closed, then fail
/// with the injected error while one is set; it counts the commits that passed the gate.
struct TestStore {
    inner: Arc<MemoryStore>,
    closed: std::sync::atomic::AtomicBool,
    gate: tokio::sync::Semaphore,
    waiting: std::sync::atomic::AtomicUsize,
    commits: std::sync::atomic::AtomicUsize,
    fail: std::sync::Mutex<Option<StoreError>>,
}

impl TestStore {
    fn over(inner: Arc<MemoryStore>) -> Arc<TestStore> {
        Arc::new(TestStore {
            inner,
            closed: false.into(),
            gate: tokio::sync::Semaphore::new(0),
            waiting: 0.into(),
            commits: 0.into(),
            fail: std::sync::Mutex::new(None),
        })
    }

    fn fail_with(&self, error: Option<StoreError>) {
        *self.fail.lock().unwrap() = error;
    }
}

#[async_trait::async_trait]
impl Store for TestStore {
    async fn commit(
        &self,
        changes: &sluice_engine::ChangeSet,
    ) -> sluice_engine::store::StoreResult<()> {
        use std::sync::atomic::Ordering::SeqCst;
        if self.closed.load(SeqCst) {
            self.waiting.fetch_add(1, SeqCst);
            self.gate.acquire().await.unwrap().forget();
        }
        self.commits.fetch_add(1, SeqCst);
        let injected = self.fail.lock().unwrap().clone();
        match injected {
            Some(error) => Err(error),
            None => self.inner.commit(changes).await,
        }
    }

    async fn pipeline(
        &self,
        id: &str,
    ) -> sluice_engine::store::StoreResult<Option<sluice_engine::PipelineRecord>> {
        self.inner.pipeline(id).await
    }

    async fn pipelines(
        &self,
    ) -> sluice_engine::store::StoreResult<Vec<sluice_engine::PipelineRecord>> {
        self.inner.pipelines().await
    }

    async fn instances(
        &self,
        id: &str,
    ) -> sluice_engine::store::StoreResult<Vec<sluice_engine::InstanceRecord>> {
        self.inner.instances(id).await
    }

    async fn attempts(
        &self,
        id: &str,
    ) -> sluice_engine::store::StoreResult<Vec<sluice_engine::AttemptRecord>> {
        self.inner.attempts(id).await
    }

    async fn query_instances(
        &self,
        id: &str,
        query: &sluice_engine::InstanceQuery,
    ) -> sluice_engine::store::StoreResult<Vec<sluice_engine::InstanceRecord>> {
        self.inner.query_instances(id, query).await
    }

    async fn instances_with_id_hash(
        &self,
        id: &str,
        hash: u64,
    ) -> sluice_engine::store::StoreResult<Vec<sluice_engine::InstanceRecord>> {
        self.inner.instances_with_id_hash(id, hash).await
    }

    async fn delete_pipeline(&self, id: &str) -> sluice_engine::store::StoreResult<()> {
        self.inner.delete_pipeline(id).await
    }
}

async fn until(mut condition: impl FnMut() -> bool) {
    for _ in 0..10_000 {
        if condition() {
            return;
        }
        tokio::task::yield_now().await;
    }
    panic!("condition never became true");
}

/// Yields until the scheduler's engine holds `n` RUNNING attempts, committed or not.
async fn until_running(scheduler: &Scheduler, n: usize) {
    for _ in 0..10_000 {
        if scheduler.summary().await.get(Status::Running) == n {
            return;
        }
        tokio::task::yield_now().await;
    }
    panic!("the engine never held {n} RUNNING attempts");
}

/// How many attempts of the pipeline the store holds as RUNNING.
async fn stored_running(store: &MemoryStore) -> usize {
    let attempts = store.attempts("df-DRIVER").await.unwrap();
    attempts
        .iter()
        .filter(|a| a.status == Status::Running)
        .count()
}

/// A poll for a task of any group, answered without waiting, in a task of its own.
fn spawn_poll(
    scheduler: &Arc<Scheduler>,
) -> tokio::task::JoinHandle<Result<Option<TaskObject>, EngineError>> {
    let scheduler = scheduler.clone();
    tokio::spawn(async move { scheduler.poll_for_task(None, "host", Duration::ZERO).await })
}

#[tokio::test]
async fn steps_queued_during_a_commit_share_the_next_one_and_wait_for_it() {
    use std::sync::atomic::Ordering::SeqCst;
    let json = r#"{"objects": [
        {"id": "Default", "scheduleType": "cron", "workerGroup": "wg"},
        {"id": "S", "type": "Schedule", "period": "1 hour",
         "startDateTime": "2026-01-01T00:00:00", "occurrences": "3"},
        {"id": "A", "type": "ShellCommandActivity", "schedule": {"ref": "S"}, "command": "a"}
      ]}"#;
    let store = TestStore::over(Arc::new(MemoryStore::new()));
    // Every interval is in the past, so all three tasks are ready at once.
    let clock: Arc<dyn Clock> = Arc::new(VirtualClock::new(at("2026-01-01T05:00:00")));
    let scheduler = Arc::new(
        Scheduler::open(store.clone(), clock, "df-DRIVER", plan(json))
            .await
            .unwrap(),
    );
    scheduler.activate(None).await.unwrap();
    store.closed.store(true, SeqCst);
    let before = store.commits.load(SeqCst);
    // The first poll's commit is held at the gate; two more polls queue behind it.
    let first = spawn_poll(&scheduler);
    until(|| store.waiting.load(SeqCst) == 1).await;
    let others = [spawn_poll(&scheduler), spawn_poll(&scheduler)];
    // All three polls take their task.
    until_running(&scheduler, 3).await;
    // Nothing is handed out before its commit.
    assert!(!first.is_finished() && others.iter().all(|h| !h.is_finished()));
    assert_eq!(stored_running(&store.inner).await, 0);

    store.gate.add_permits(100);
    let mut tasks = Vec::new();
    for poll in [first].into_iter().chain(others) {
        tasks.push(poll.await.unwrap().unwrap().unwrap());
    }
    tasks.sort_by(|a, b| a.attempt_id.cmp(&b.attempt_id));
    tasks.dedup_by(|a, b| a.attempt_id == b.attempt_id);
    assert_eq!(tasks.len(), 3);
    assert_eq!(
        store.commits.load(SeqCst) - before,
        2,
        "the second and third polls shared one commit"
    );
    assert_eq!(stored_running(&store.inner).await, 3);
}

/// A scheduler over a [`TestStore`] at the first interval's start, its first task handed out.
async fn running_task() -> (Arc<TestStore>, Arc<VirtualClock>, Scheduler, TaskObject) {
    let store = TestStore::over(Arc::new(MemoryStore::new()));
    let clock = Arc::new(VirtualClock::new(at("2026-01-01T00:00:00")));
    let shared_clock: Arc<dyn Clock> = clock.clone();
    let scheduler = Scheduler::open(store.clone(), shared_clock, "df-DRIVER", plan(JSON))
        .await
        .unwrap();
    scheduler.activate(None).await.unwrap();
    let task = scheduler
        .poll_for_task(None, "host", Duration::ZERO)
        .await
        .unwrap()
        .unwrap();
    (store, clock, scheduler, task)
}

#[tokio::test]
async fn progress_reports_ride_with_the_next_commit_unless_they_cancel() {
    use std::sync::atomic::Ordering::SeqCst;
    let (store, clock, scheduler, task) = running_task().await;
    let lease_of = |attempts: &[sluice_engine::AttemptRecord]| {
        attempts
            .iter()
            .find(|a| a.attempt_id == task.attempt_id)
            .and_then(|a| a.lease_expires_at)
    };
    let stored_lease = lease_of(&store.inner.attempts("df-DRIVER").await.unwrap());

    clock.advance_to(at("2026-01-01T00:01:00"));
    let commits = store.commits.load(SeqCst);
    let canceled = scheduler
        .report_task_progress(&task.task_id, &[])
        .await
        .unwrap();
    assert!(!canceled);
    assert_eq!(
        store.commits.load(SeqCst),
        commits,
        "a plain report waits for the next commit"
    );
    assert_eq!(
        lease_of(&store.inner.attempts("df-DRIVER").await.unwrap()),
        stored_lease
    );

    // The next step's commit carries the extended lease along.
    scheduler.tick().await.unwrap();
    let extended = lease_of(&store.inner.attempts("df-DRIVER").await.unwrap());
    assert!(
        extended > stored_lease,
        "{extended:?} after {stored_lease:?}"
    );

    // A cancellation is durable before the runner hears of it.
    let instance = scheduler.instances().await[0].instance_id.clone();
    scheduler
        .set_status(&[instance], "TRY_CANCEL")
        .await
        .unwrap();
    let commits = store.commits.load(SeqCst);
    let canceled = scheduler
        .report_task_progress(&task.task_id, &[])
        .await
        .unwrap();
    assert!(canceled);
    assert!(store.commits.load(SeqCst) >= commits);
    let stored = store.inner.instances("df-DRIVER").await.unwrap();
    assert_eq!(stored[0].status, Status::Canceled);
}

#[tokio::test]
async fn sync_commits_what_the_engine_shows_and_nothing_more() {
    use std::sync::atomic::Ordering::SeqCst;
    let (store, clock, scheduler, task) = running_task().await;
    let commits = store.commits.load(SeqCst);
    scheduler.sync().await.unwrap();
    assert_eq!(store.commits.load(SeqCst), commits, "nothing was queued");

    // A progress report waits for the next commit; a reader of the store cannot wait.
    clock.advance_to(at("2026-01-01T00:01:00"));
    scheduler
        .report_task_progress(&task.task_id, &[])
        .await
        .unwrap();
    let attempt = |attempts: Vec<sluice_engine::AttemptRecord>| {
        attempts
            .into_iter()
            .find(|a| a.attempt_id == task.attempt_id)
            .unwrap()
    };
    let shown = attempt(scheduler.inspect(sluice_engine::Engine::attempts).await);
    assert_ne!(
        attempt(store.inner.attempts("df-DRIVER").await.unwrap()),
        shown
    );
    scheduler.sync().await.unwrap();
    assert_eq!(store.commits.load(SeqCst), commits + 1);
    assert_eq!(
        attempt(store.inner.attempts("df-DRIVER").await.unwrap()),
        shown
    );
}

#[tokio::test]
async fn a_scheduler_whose_pipeline_another_writer_changed_steps_down() {
    use std::sync::atomic::Ordering::SeqCst;
    let shared = Arc::new(MemoryStore::new());
    let store = TestStore::over(shared.clone());
    let clock = Arc::new(VirtualClock::new(at("2026-01-01T00:00:00")));
    let shared_clock: Arc<dyn Clock> = clock.clone();
    let first = Scheduler::open(store.clone(), shared_clock, "df-DRIVER", plan(JSON))
        .await
        .unwrap();
    first.activate(None).await.unwrap();
    // A second scheduler takes the pipeline over and writes its record.
    let second = open(&shared, &clock).await;
    let owner = |name: &'static str| {
        move |record: &mut sluice_engine::PipelineRecord| {
            record.fields.insert("owner".into(), name.into());
        }
    };
    second
        .update_pipeline_record(owner("second"))
        .await
        .unwrap();

    let error = first
        .update_pipeline_record(owner("first"))
        .await
        .unwrap_err();
    assert!(
        matches!(error, EngineError::Store(StoreError::Conflict(_))),
        "{error}"
    );
    // Stepped down: every call fails the same way, no task leaves, nothing is retried.
    let commits = store.commits.load(SeqCst);
    clock.advance_to(at("2026-01-01T01:00:00"));
    let results = [
        first.tick().await,
        first
            .poll_for_task(None, "host", Duration::ZERO)
            .await
            .map(|task| assert!(task.is_none())),
        first.deactivate(false).await,
        first.sync().await,
    ];
    for result in results {
        assert!(
            matches!(result, Err(EngineError::Store(StoreError::Conflict(_)))),
            "{result:?}"
        );
    }
    assert_eq!(store.commits.load(SeqCst), commits);
    assert_eq!(first.next_wakeup().await, None);
    let stored = shared.pipeline("df-DRIVER").await.unwrap().unwrap();
    assert_eq!(stored.fields["owner"], "second");
    assert_eq!(stored_running(&shared).await, 0);

    // The new owner carries on.
    second.tick().await.unwrap();
    let task = second
        .poll_for_task(None, "host", Duration::ZERO)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(task.attempt_id, "@A_2026-01-01T00:00:00_Attempt=1");
}

#[tokio::test]
async fn unreadable_data_is_fatal_for_the_pipeline_even_for_callers_already_queued() {
    use std::sync::atomic::Ordering::SeqCst;
    let store = TestStore::over(Arc::new(MemoryStore::new()));
    // Both intervals are in the past, so two tasks are ready at once.
    let clock: Arc<dyn Clock> = Arc::new(VirtualClock::new(at("2026-01-01T03:00:00")));
    let scheduler = Arc::new(
        Scheduler::open(store.clone(), clock, "df-DRIVER", plan(JSON))
            .await
            .unwrap(),
    );
    scheduler.activate(None).await.unwrap();
    let before = store.commits.load(SeqCst);
    store.closed.store(true, SeqCst);
    // The first poll's commit is held at the gate; the second poll queues behind it.
    let first = spawn_poll(&scheduler);
    until(|| store.waiting.load(SeqCst) == 1).await;
    let second = spawn_poll(&scheduler);
    until_running(&scheduler, 2).await;

    store.fail_with(Some(StoreError::Corrupt(
        "a record cannot be encoded".into(),
    )));
    store.gate.add_permits(100);
    for result in [first.await.unwrap(), second.await.unwrap()] {
        assert!(
            matches!(result, Err(EngineError::Store(StoreError::Corrupt(_)))),
            "{result:?}"
        );
    }
    assert_eq!(
        store.commits.load(SeqCst) - before,
        1,
        "the queued poll did not commit again"
    );

    // Fatal: the store working again does not bring the scheduler back.
    store.fail_with(None);
    let ticked = scheduler.tick().await;
    assert!(
        matches!(ticked, Err(EngineError::Store(StoreError::Corrupt(_)))),
        "{ticked:?}"
    );
    assert_eq!(store.commits.load(SeqCst) - before, 1);
    assert_eq!(scheduler.next_wakeup().await, None);
    assert_eq!(stored_running(&store.inner).await, 0);
}
