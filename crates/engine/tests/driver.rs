//! The async Scheduler over the in-memory store and a virtual clock.

mod common;

use std::sync::Arc;
use std::time::Duration;

use common::*;
use sluice_engine::{Clock, EngineError, MemoryStore, Scheduler, Store, VirtualClock};
use sluice_model::{PipelineState, Status, TaskResult};

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

#[tokio::test]
async fn reopening_resumes_from_the_store_after_a_crash() {
    let store = Arc::new(MemoryStore::new());
    let clock = Arc::new(VirtualClock::new(at("2026-01-01T00:00:00")));
    let scheduler = open(&store, &clock).await;
    scheduler.activate(None).await.unwrap();
    let task = scheduler
        .poll_for_task(None, "host", Duration::ZERO)
        .await
        .unwrap()
        .unwrap();
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
async fn store_errors_surface_and_changes_are_resubmitted() {
    let store = Arc::new(MemoryStore::new());
    let clock = Arc::new(VirtualClock::new(at("2026-01-01T00:00:00")));
    let scheduler = open(&store, &clock).await;
    store.set_unavailable(true);
    let error = scheduler.activate(None).await.unwrap_err();
    assert!(
        matches!(error, EngineError::Store(ref m) if m.contains("unavailable")),
        "{error}"
    );
    store.set_unavailable(false);
    scheduler.tick().await.unwrap();
    assert_eq!(
        store.pipeline("df-DRIVER").await.unwrap().unwrap().state,
        PipelineState::Scheduled
    );
    assert_eq!(store.instances("df-DRIVER").await.unwrap().len(), 1);
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
    assert!(matches!(refused, Err(EngineError::Store(_))));
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

/// A store whose commits wait at a gate while it is closed, counting the commits it accepted.
struct GatedStore {
    inner: MemoryStore,
    closed: std::sync::atomic::AtomicBool,
    gate: tokio::sync::Semaphore,
    waiting: std::sync::atomic::AtomicUsize,
    commits: std::sync::atomic::AtomicUsize,
}

#[async_trait::async_trait]
impl Store for GatedStore {
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
        self.inner.commit(changes).await
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

#[tokio::test]
async fn steps_queued_during_a_commit_share_the_next_one_and_wait_for_it() {
    use std::sync::atomic::Ordering::SeqCst;
    let json = r#"{"objects": [
        {"id": "Default", "scheduleType": "cron", "workerGroup": "wg"},
        {"id": "S", "type": "Schedule", "period": "1 hour",
         "startDateTime": "2026-01-01T00:00:00", "occurrences": "3"},
        {"id": "A", "type": "ShellCommandActivity", "schedule": {"ref": "S"}, "command": "a"}
      ]}"#;
    let store = Arc::new(GatedStore {
        inner: MemoryStore::new(),
        closed: false.into(),
        gate: tokio::sync::Semaphore::new(0),
        waiting: 0.into(),
        commits: 0.into(),
    });
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
    let poll = |scheduler: &Arc<Scheduler>| {
        let scheduler = scheduler.clone();
        tokio::spawn(async move {
            scheduler
                .poll_for_task(None, "host", Duration::ZERO)
                .await
                .unwrap()
                .unwrap()
        })
    };
    // The first poll's commit is held at the gate; two more polls queue behind it.
    let first = poll(&scheduler);
    until(|| store.waiting.load(SeqCst) == 1).await;
    let others = [poll(&scheduler), poll(&scheduler)];
    for _ in 0..10_000 {
        if scheduler.summary().await.get(Status::Running) == 3 {
            break;
        }
        tokio::task::yield_now().await;
    }
    assert_eq!(
        scheduler.summary().await.get(Status::Running),
        3,
        "all three polls took their task"
    );
    // Nothing is handed out before its commit.
    assert!(!first.is_finished() && others.iter().all(|h| !h.is_finished()));
    assert!(
        store
            .inner
            .attempts("df-DRIVER")
            .await
            .unwrap()
            .iter()
            .all(|a| a.status != Status::Running)
    );

    store.gate.add_permits(100);
    let mut tasks = vec![first.await.unwrap()];
    for other in others {
        tasks.push(other.await.unwrap());
    }
    tasks.sort_by(|a, b| a.attempt_id.cmp(&b.attempt_id));
    tasks.dedup_by(|a, b| a.attempt_id == b.attempt_id);
    assert_eq!(tasks.len(), 3);
    assert_eq!(
        store.commits.load(SeqCst) - before,
        2,
        "the second and third polls shared one commit"
    );
    let stored = store.inner.attempts("df-DRIVER").await.unwrap();
    assert_eq!(
        stored
            .iter()
            .filter(|a| a.status == Status::Running)
            .count(),
        3
    );
}

#[tokio::test]
async fn progress_reports_ride_with_the_next_commit_unless_they_cancel() {
    use std::sync::atomic::Ordering::SeqCst;
    let store = Arc::new(GatedStore {
        inner: MemoryStore::new(),
        closed: false.into(),
        gate: tokio::sync::Semaphore::new(0),
        waiting: 0.into(),
        commits: 0.into(),
    });
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
