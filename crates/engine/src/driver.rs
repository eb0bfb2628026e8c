//! [`Scheduler`]: the engine behind an async interface, persisting through a [`Store`] and
//! reading time from a [`Clock`].
//!
//! Design decisions:
//! * One mutex around the engine serialises every call. A step's change set is queued under
//!   it, so the queue holds changes in the order the engine produced them.
//! * Group commit: one caller at a time writes *everything* queued so far as one store commit,
//!   outside the engine mutex. Steps queued while a commit is in flight (other runners'
//!   polls and results) share the next commit, so concurrent callers pay for one `fsync`
//!   instead of one each, and the engine is not blocked while the disk flushes.
//! * Every call first brings the engine to `clock.now()` (a lapsed lease is applied before a
//!   late SetTaskStatus is judged), then waits until its step's changes — and every change
//!   queued before them — are committed, and only then returns a task, acknowledges a result
//!   or releases action events (write-ahead, see `store.rs`). Readers (`inspect`) may see a
//!   step whose commit is still in flight.
//! * A commit that fails makes the call that needed it return
//!   [`EngineError::Store`](crate::EngineError::Store) with the store's error; what happens
//!   next depends on its kind:
//!   - [`StoreError::Unavailable`] is an outage. The changes stay queued and are resubmitted
//!     with the next commit (later records of the same id win), so nothing is lost. Any
//!     caller's next step retries; without one, [`Scheduler::next_wakeup`] asks for a tick
//!     after a backoff (1 s, doubling while the outage lasts, at most a minute), which a
//!     server's ticker honours. A task whose commit failed is not handed out; its attempt
//!     stays RUNNING in memory until the lease lapses and is then retried.
//!   - [`StoreError::Conflict`] means another writer changed the pipeline first (or deleted
//!     it): this scheduler no longer owns it and steps down. Its queued changes are dropped,
//!     it commits nothing more, hands out no task and releases no event, and every later call
//!     returns the same error without touching the engine or the store;
//!     [`Scheduler::next_wakeup`] is `None` from then on. The pipeline's state is the other
//!     writer's: a scheduler opened anew restores it from the store.
//!   - [`StoreError::Corrupt`] (the store cannot encode or decode the records) is fatal for
//!     the pipeline: retrying would fail the same way, so the scheduler steps down as for a
//!     conflict.
//! * Long polling waits on a `Notify` signalled after every step that may have produced
//!   work; it does not advance time by itself. Something must call [`Scheduler::tick`]
//!   (e.g. [`Scheduler::run_until_settled`] or a server's background loop) for timers to fire.
//! * Canceled tasks are told to a [`CancelObserver`] once the step that canceled them is
//!   committed, by whichever call commits it, so an in-process runner stops the work at once
//!   and never before the cancellation is durable. Remote runners still learn it from their
//!   next ReportTaskProgress.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use chrono::NaiveDateTime;
use sluice_model::{Field, PipelineState, TaskObject, TaskResult};
use tokio::sync::{Mutex, Notify};

use crate::clock::Clock;
use crate::engine::{ActionEvent, Engine, EngineOptions, GroupFilter, ResourceEvent, Summary};
use crate::error::{EngineError, EngineResult};
use crate::plan::Plan;
use crate::store::{ChangeSet, InstanceRecord, PipelineRecord, Store, StoreError};

/// The wait before the first retry of a commit the store refused as unavailable; it doubles
/// with each further refusal, up to [`MAX_RETRY_DELAY_SECS`].
const FIRST_RETRY_DELAY_SECS: i64 = 1;
const MAX_RETRY_DELAY_SECS: i64 = 60;

struct Inner {
    engine: Engine,
    /// Changes taken from the engine and not committed yet, oldest first (a failed commit's
    /// changes come back to the front, to be resubmitted first).
    pending: ChangeSet,
    /// How many steps have queued changes: each such step's sequence number.
    queued: u64,
    /// Action events with their step's sequence number, released once it is committed.
    actions: Vec<(u64, ActionEvent)>,
    resources: Vec<(u64, ResourceEvent)>,
    /// Canceled task ids, told to the cancel observer once their step is committed.
    canceled: Vec<(u64, String)>,
    /// When queued changes the store refused as unavailable should be retried.
    retry_at: Option<NaiveDateTime>,
    /// The error that made this scheduler step down (a conflict or unreadable data); every
    /// call fails with it from then on.
    stepped_down: Option<StoreError>,
}

impl Inner {
    /// Refuses any further step once the scheduler has stepped down: its engine holds changes
    /// the store will never accept, so nothing it decides may reach a runner or the store.
    fn ensure_owner(&self) -> EngineResult<()> {
        match &self.stepped_down {
            Some(error) => Err(EngineError::Store(error.clone())),
            None => Ok(()),
        }
    }

    fn step_down(&mut self, error: StoreError) {
        self.pending = ChangeSet::default();
        self.canceled.clear();
        self.retry_at = None;
        self.stepped_down = Some(error);
    }

    /// Queues what the step just taken changed, and returns the sequence number that must be
    /// committed before the step's caller may act: its own, or when it changed nothing the
    /// last queued one (what the step saw may rest on those changes).
    fn queue(&mut self) -> u64 {
        let changes = self.engine.take_changes();
        let actions = self.engine.take_action_events();
        let resources = self.engine.take_resource_events();
        let canceled = self.engine.take_canceled_tasks();
        if !changes.is_empty()
            || !actions.is_empty()
            || !resources.is_empty()
            || !canceled.is_empty()
        {
            self.queued += 1;
            let seq = self.queued;
            append(&mut self.pending, changes);
            self.actions.extend(actions.into_iter().map(|a| (seq, a)));
            self.resources
                .extend(resources.into_iter().map(|r| (seq, r)));
            self.canceled.extend(canceled.into_iter().map(|t| (seq, t)));
        }
        self.queued
    }
}

fn append(to: &mut ChangeSet, changes: ChangeSet) {
    to.pipelines.extend(changes.pipelines);
    to.instances.extend(changes.instances);
    to.attempts.extend(changes.attempts);
}

/// How long to wait before retrying after `refused` commits in a row were refused as
/// unavailable.
fn retry_delay(refused: u32) -> chrono::TimeDelta {
    let doubled = FIRST_RETRY_DELAY_SECS << refused.saturating_sub(1).min(16);
    chrono::TimeDelta::seconds(doubled.min(MAX_RETRY_DELAY_SECS))
}

/// Removes and returns the events of committed steps (sequence numbers up to `committed`).
fn take_committed<T>(queue: &mut Vec<(u64, T)>, committed: u64) -> Vec<T> {
    let end = queue.partition_point(|(seq, _)| *seq <= committed);
    queue.drain(..end).map(|(_, event)| event).collect()
}

/// One pipeline's engine, store and clock.
pub struct Scheduler {
    inner: Mutex<Inner>,
    /// Held by the one caller writing queued changes to the store; counts the commits refused
    /// as unavailable in a row.
    writer: Mutex<u32>,
    /// The sequence number of the last step whose changes are committed.
    committed: AtomicU64,
    store: Arc<dyn Store>,
    clock: Arc<dyn Clock>,
    changed: Notify,
    observer: std::sync::Mutex<Option<CommitObserver>>,
    cancel_observer: std::sync::Mutex<Option<CancelObserver>>,
}

/// Called with every change set after the store has accepted it, in commit order. Observers
/// see exactly what became durable (the CLI writes attempt transitions to per-attempt event
/// logs); they must be quick, as the next commit waits for them.
pub type CommitObserver = Box<dyn Fn(&ChangeSet) + Send + Sync>;

/// Called with the ids of running tasks the engine canceled (TRY_CANCEL, deactivation,
/// Terminate, attemptTimeout, …) once the cancellation is committed; it must be quick.
pub type CancelObserver = Box<dyn Fn(&[String]) + Send + Sync>;

impl std::fmt::Debug for Scheduler {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Scheduler").finish_non_exhaustive()
    }
}

impl Scheduler {
    /// Opens pipeline `pipeline_id` with default options: restores it from the store when it
    /// has a record there (resuming after a crash), creates it otherwise.
    pub async fn open(
        store: Arc<dyn Store>,
        clock: Arc<dyn Clock>,
        pipeline_id: &str,
        plan: Plan,
    ) -> EngineResult<Scheduler> {
        Scheduler::open_with(store, clock, pipeline_id, plan, EngineOptions::default()).await
    }

    pub async fn open_with(
        store: Arc<dyn Store>,
        clock: Arc<dyn Clock>,
        pipeline_id: &str,
        plan: Plan,
        options: EngineOptions,
    ) -> EngineResult<Scheduler> {
        Scheduler::open_observed(store, clock, pipeline_id, plan, options, None).await
    }

    /// Like [`open_with`](Self::open_with), with a commit observer that also sees the first
    /// commit: what restoring changed (a RUNNING attempt of the previous process that became
    /// a lost lease), which [`set_commit_observer`](Self::set_commit_observer) comes too late for.
    pub async fn open_observed(
        store: Arc<dyn Store>,
        clock: Arc<dyn Clock>,
        pipeline_id: &str,
        plan: Plan,
        options: EngineOptions,
        observer: Option<CommitObserver>,
    ) -> EngineResult<Scheduler> {
        let now = clock.now();
        let engine = match store.pipeline(pipeline_id).await? {
            Some(record) => {
                let instances = store.instances(pipeline_id).await?;
                let attempts = store.attempts(pipeline_id).await?;
                Engine::restore(plan, record, instances, attempts, now, options)
            }
            None => Engine::new(PipelineRecord::new_local(pipeline_id, now), plan, options),
        };
        let scheduler = Scheduler {
            inner: Mutex::new(Inner {
                engine,
                pending: ChangeSet::default(),
                queued: 0,
                actions: Vec::new(),
                resources: Vec::new(),
                canceled: Vec::new(),
                retry_at: None,
                stepped_down: None,
            }),
            writer: Mutex::new(0),
            committed: AtomicU64::new(0),
            store,
            clock,
            changed: Notify::new(),
            observer: std::sync::Mutex::new(observer),
            cancel_observer: std::sync::Mutex::new(None),
        };
        let seq = scheduler.inner.lock().await.queue();
        scheduler.flush(seq).await?;
        Ok(scheduler)
    }

    /// Runs `f` on the engine at the clock's time, wakes waiting pollers, and returns once the
    /// step's changes are committed.
    ///
    /// Pollers are woken before the commit: a task they take is handed out only after their
    /// own step, which comes later in the queue, is committed, and their step can share this
    /// step's commit.
    async fn step<R>(&self, f: impl FnOnce(&mut Engine, NaiveDateTime) -> R) -> EngineResult<R> {
        let (out, seq) = {
            let mut inner = self.inner.lock().await;
            inner.ensure_owner()?;
            let now = self.clock.now();
            let out = f(&mut inner.engine, now);
            (out, inner.queue())
        };
        self.changed.notify_waiters();
        self.flush(seq).await.map(|()| out)
    }

    /// Returns once the changes of every step up to `seq` are committed, committing
    /// everything queued so far unless another caller's commit already covered `seq`.
    async fn flush(&self, seq: u64) -> EngineResult<()> {
        let mut refused = self.writer.lock().await;
        if self.committed.load(Ordering::Acquire) >= seq {
            return Ok(());
        }
        // One scheduler turn before taking the queue lets steps that are already runnable
        // (the next poll of a runner whose task just ended, another runner's result) join
        // this commit instead of waiting for their own.
        tokio::task::yield_now().await;
        let (changes, last) = {
            let mut inner = self.inner.lock().await;
            // Callers that queued behind a commit which made the scheduler step down must not
            // try again: the store would refuse them the same way.
            inner.ensure_owner()?;
            (std::mem::take(&mut inner.pending), inner.queued)
        };
        if !changes.is_empty() {
            if let Err(error) = self.store.commit(&changes).await {
                let mut inner = self.inner.lock().await;
                match &error {
                    StoreError::Unavailable(_) => {
                        let newer = std::mem::replace(&mut inner.pending, changes);
                        append(&mut inner.pending, newer);
                        *refused += 1;
                        inner.retry_at = Some(self.clock.now() + retry_delay(*refused));
                    }
                    StoreError::Conflict(_) | StoreError::Corrupt(_) => {
                        inner.step_down(error.clone());
                    }
                }
                return Err(error.into());
            }
            if let Some(observe) = self
                .observer
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .as_ref()
            {
                observe(&changes);
            }
        }
        let canceled = {
            let mut inner = self.inner.lock().await;
            if *refused > 0 {
                *refused = 0;
                inner.retry_at = None;
            }
            take_committed(&mut inner.canceled, last)
        };
        self.committed.store(last, Ordering::Release);
        if !canceled.is_empty()
            && let Some(observe) = self
                .cancel_observer
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .as_ref()
        {
            observe(&canceled);
        }
        Ok(())
    }

    /// Sets the function told about every committed change set (replacing any earlier one).
    pub fn set_commit_observer(&self, observer: CommitObserver) {
        *self.observer.lock().unwrap_or_else(|e| e.into_inner()) = Some(observer);
    }

    /// Sets the function told about every committed cancellation of a running task
    /// (replacing any earlier one).
    pub fn set_cancel_observer(&self, observer: CancelObserver) {
        *self
            .cancel_observer
            .lock()
            .unwrap_or_else(|e| e.into_inner()) = Some(observer);
    }

    /// Brings the engine to the clock's time (materialising due intervals, firing timers),
    /// commits, and wakes pollers.
    pub async fn tick(&self) -> EngineResult<()> {
        self.step(|engine, now| engine.advance(now)).await
    }

    /// PollForTask: returns a task of `worker_group` (any group for `None`), waiting up to
    /// `wait` for one to become ready. The task's attempt is committed as RUNNING first.
    pub async fn poll_for_task(
        &self,
        worker_group: Option<&str>,
        hostname: &str,
        wait: Duration,
    ) -> EngineResult<Option<TaskObject>> {
        self.poll_for_task_in(GroupFilter::from(worker_group), hostname, wait)
            .await
    }

    /// PollForTask over the worker groups `groups` selects.
    pub async fn poll_for_task_in(
        &self,
        groups: GroupFilter<'_>,
        hostname: &str,
        wait: Duration,
    ) -> EngineResult<Option<TaskObject>> {
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            let notified = self.changed.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            let (task, seq, changed) = {
                let mut inner = self.inner.lock().await;
                inner.ensure_owner()?;
                let now = self.clock.now();
                let before = inner.queued;
                let task = inner.engine.poll_task_in(groups, hostname, now);
                let seq = inner.queue();
                (task, seq, seq != before)
            };
            if task.is_some() || changed {
                self.flush(seq).await?;
            }
            if task.is_some() {
                return Ok(task);
            }
            if tokio::time::timeout_at(deadline, notified).await.is_err() {
                return Ok(None);
            }
        }
    }

    /// ReportTaskProgress: `Ok(true)` tells the runner to stop (canceled).
    ///
    /// A report changes only the lease and the progress fields, which a crash makes moot (a
    /// restarted engine treats every RUNNING attempt as a lost lease), so its changes ride with
    /// the next commit instead of waiting for one of their own — a task then costs two commits
    /// instead of three. The exceptions are cancellations: a `canceled` answer (the runner
    /// stops the work when it gets it), and tasks that time ran out for while the report
    /// brought the engine up to date (the cancel observer is told once they are committed) —
    /// both are committed first.
    pub async fn report_task_progress(
        &self,
        task_id: &str,
        fields: &[Field],
    ) -> EngineResult<bool> {
        let (canceled, seq, others_canceled) = {
            let mut inner = self.inner.lock().await;
            inner.ensure_owner()?;
            let now = self.clock.now();
            let canceled = inner.engine.report_progress(task_id, fields, now);
            let seq = inner.queue();
            (canceled, seq, !inner.canceled.is_empty())
        };
        self.changed.notify_waiters();
        let canceled = canceled?;
        if canceled || others_canceled {
            self.flush(seq).await?;
        }
        Ok(canceled)
    }

    /// SetTaskStatus.
    pub async fn set_task_status(&self, task_id: &str, result: TaskResult) -> EngineResult<()> {
        self.step(|engine, now| engine.set_task_status(task_id, result, now))
            .await?
    }

    /// SetStatus (PAUSE, RESUME, TRY_CANCEL, RERUN, MARK_FINISHED).
    pub async fn set_status(&self, object_ids: &[String], status: &str) -> EngineResult<()> {
        self.step(|engine, now| engine.set_status(object_ids, status, now))
            .await?
    }

    /// ActivatePipeline.
    pub async fn activate(&self, start_timestamp: Option<NaiveDateTime>) -> EngineResult<()> {
        self.step(|engine, now| engine.activate(now, start_timestamp))
            .await?
    }

    /// DeactivatePipeline.
    pub async fn deactivate(&self, cancel_active: bool) -> EngineResult<()> {
        self.step(|engine, now| engine.deactivate(now, cancel_active))
            .await?
    }

    /// Changes the pipeline record through the engine (see
    /// [`Engine::update_pipeline_record`]) and commits it.
    pub async fn update_pipeline_record(
        &self,
        f: impl FnOnce(&mut PipelineRecord) + Send,
    ) -> EngineResult<()> {
        self.step(|engine, _now| engine.update_pipeline_record(f))
            .await
    }

    /// A provisioner started something for a resource attempt (see
    /// [`Engine::resource_provisioned`]).
    pub async fn resource_provisioned(
        &self,
        attempt_id: &str,
        resource_id: &str,
        hostname: &str,
    ) -> EngineResult<()> {
        self.step(|engine, now| engine.resource_provisioned(attempt_id, resource_id, hostname, now))
            .await?
    }

    /// A resource attempt's runner is up (see [`Engine::resource_running`]).
    pub async fn resource_running(&self, attempt_id: &str) -> EngineResult<()> {
        self.step(|engine, now| engine.resource_running(attempt_id, now))
            .await?
    }

    /// A resource attempt's runner stopped (see [`Engine::resource_stopped`]).
    pub async fn resource_stopped(&self, attempt_id: &str, reason: &str) -> EngineResult<()> {
        self.step(|engine, now| engine.resource_stopped(attempt_id, reason, now))
            .await?
    }

    /// Completes at the next step that changes anything (a runner's report, a tick, a
    /// command); drivers use it to refresh without polling.
    pub async fn changed(&self) {
        self.changed.notified().await;
    }

    /// Action events of committed steps, oldest first.
    pub async fn take_action_events(&self) -> Vec<ActionEvent> {
        let mut inner = self.inner.lock().await;
        take_committed(&mut inner.actions, self.committed.load(Ordering::Acquire))
    }

    /// Resource events of committed steps, oldest first.
    pub async fn take_resource_events(&self) -> Vec<ResourceEvent> {
        let mut inner = self.inner.lock().await;
        take_committed(&mut inner.resources, self.committed.load(Ordering::Acquire))
    }

    /// Returns once every change the engine has made so far is committed, so that the store
    /// holds at least what [`inspect`](Self::inspect) showed before the call (a step whose
    /// commit is in flight, a progress report riding with the next commit, changes waiting
    /// for a retry): for readers that go to the store rather than the engine. Fails as a
    /// step's commit does, and once the scheduler has stepped down.
    pub async fn sync(&self) -> EngineResult<()> {
        let seq = {
            let inner = self.inner.lock().await;
            inner.ensure_owner()?;
            inner.queued
        };
        self.flush(seq).await
    }

    /// Reads the engine (for the CLI and the API).
    pub async fn inspect<R>(&self, f: impl FnOnce(&Engine) -> R) -> R {
        f(&self.inner.lock().await.engine)
    }

    pub async fn summary(&self) -> Summary {
        self.inspect(Engine::summary).await
    }

    pub async fn instances(&self) -> Vec<InstanceRecord> {
        self.inspect(Engine::instances).await
    }

    pub async fn pipeline_state(&self) -> PipelineState {
        self.inspect(Engine::pipeline_state).await
    }

    /// When the scheduler next needs a [`tick`](Self::tick): the engine's next timer, or
    /// sooner when changes the store refused as unavailable wait for their retry. `None` when
    /// nothing is scheduled, and once the scheduler has stepped down.
    pub async fn next_wakeup(&self) -> Option<NaiveDateTime> {
        let inner = self.inner.lock().await;
        if inner.stepped_down.is_some() {
            return None;
        }
        match (inner.engine.next_wakeup(), inner.retry_at) {
            (Some(timer), Some(retry)) => Some(timer.min(retry)),
            (timer, retry) => timer.or(retry),
        }
    }

    /// Why this scheduler stepped down (another writer, a lease lost, unreadable data), if it
    /// did: it will never commit again, and only a scheduler opened anew can continue.
    pub async fn stepped_down(&self) -> Option<StoreError> {
        self.inner.lock().await.stepped_down.clone()
    }

    /// Whether the pipeline is settled at the clock's time (see [`Engine::is_settled`]).
    pub async fn is_settled(&self) -> bool {
        let now = self.clock.now();
        self.inspect(|engine| engine.is_settled(now)).await
    }

    /// Ticks until the pipeline is settled, sleeping until the engine's next wakeup or until
    /// another call changes something (a runner reporting a result). Meant for the system
    /// clock; with a virtual clock, tests advance the clock and call [`tick`](Self::tick).
    pub async fn run_until_settled(&self) -> EngineResult<()> {
        loop {
            let notified = self.changed.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            self.tick().await?;
            let now = self.clock.now();
            let (settled, next) = self
                .inspect(|engine| (engine.is_settled(now), engine.next_wakeup()))
                .await;
            if settled {
                return Ok(());
            }
            match next {
                Some(at) => {
                    let wait = (at - self.clock.now()).to_std().unwrap_or(Duration::ZERO);
                    tokio::select! {
                        () = tokio::time::sleep(wait) => {}
                        () = notified => {}
                    }
                }
                None => notified.await,
            }
        }
    }
}
