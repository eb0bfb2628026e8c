//! [`Scheduler`]: the engine behind an async interface, persisting through a [`Store`] and
//! reading time from a [`Clock`].
//!
//! Design decisions:
//! * One mutex around the engine serialises every call; the store commit happens while it is
//!   held, so commits are applied in the order the engine produced them.
//! * Every call first brings the engine to `clock.now()` (a lapsed lease is applied before a
//!   late SetTaskStatus is judged), then commits the step's change set, and only then returns
//!   a task, acknowledges a result or releases action events (write-ahead, see `store.rs`).
//! * A commit that fails keeps its changes pending: they are resubmitted with the next commit
//!   (later records of the same id win), and the failing call returns
//!   [`EngineError::Store`](crate::EngineError::Store). A task whose commit failed is not handed out; its attempt stays
//!   RUNNING in memory until the lease lapses and is then retried.
//! * Long polling waits on a `Notify` signalled after every step that may have produced
//!   work; it does not advance time by itself. Something must call [`Scheduler::tick`]
//!   (e.g. [`Scheduler::run_until_settled`] or a server's background loop) for timers to fire.

use std::sync::Arc;
use std::time::Duration;

use chrono::NaiveDateTime;
use sluice_model::{Field, PipelineState, TaskObject, TaskResult};
use tokio::sync::{Mutex, Notify};

use crate::clock::Clock;
use crate::engine::{ActionEvent, Engine, EngineOptions, ResourceEvent, Summary};
use crate::error::EngineResult;
use crate::plan::Plan;
use crate::store::{ChangeSet, InstanceRecord, PipelineRecord, Store};

struct Inner {
    engine: Engine,
    /// Changes whose commit failed, to be resubmitted first.
    unsaved: ChangeSet,
    /// Action events of committed steps, waiting for the driver's caller.
    actions: Vec<ActionEvent>,
    resources: Vec<ResourceEvent>,
}

/// One pipeline's engine, store and clock.
pub struct Scheduler {
    inner: Mutex<Inner>,
    store: Arc<dyn Store>,
    clock: Arc<dyn Clock>,
    changed: Notify,
    observer: std::sync::Mutex<Option<CommitObserver>>,
}

/// Called with every change set after the store has accepted it, in commit order. Observers
/// see exactly what became durable (the CLI writes attempt transitions to per-attempt event
/// logs); they must be quick, as they run while the engine is locked.
pub type CommitObserver = Box<dyn Fn(&ChangeSet) + Send + Sync>;

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
                unsaved: ChangeSet::default(),
                actions: Vec::new(),
                resources: Vec::new(),
            }),
            store,
            clock,
            changed: Notify::new(),
            observer: std::sync::Mutex::new(None),
        };
        {
            let mut inner = scheduler.inner.lock().await;
            scheduler.commit(&mut inner).await?;
        }
        Ok(scheduler)
    }

    /// Runs `f` on the engine at the clock's time, commits, and wakes waiting pollers.
    async fn step<R>(&self, f: impl FnOnce(&mut Engine, NaiveDateTime) -> R) -> EngineResult<R> {
        let mut inner = self.inner.lock().await;
        let now = self.clock.now();
        let out = f(&mut inner.engine, now);
        let committed = self.commit(&mut inner).await;
        drop(inner);
        self.changed.notify_waiters();
        committed.map(|()| out)
    }

    async fn commit(&self, inner: &mut Inner) -> EngineResult<()> {
        let fresh = inner.engine.take_changes();
        let mut changes = std::mem::take(&mut inner.unsaved);
        changes.pipelines.extend(fresh.pipelines);
        changes.instances.extend(fresh.instances);
        changes.attempts.extend(fresh.attempts);
        if !changes.is_empty() {
            if let Err(error) = self.store.commit(&changes).await {
                inner.unsaved = changes;
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
        let actions = inner.engine.take_action_events();
        inner.actions.extend(actions);
        let resources = inner.engine.take_resource_events();
        inner.resources.extend(resources);
        Ok(())
    }

    /// Sets the function told about every committed change set (replacing any earlier one).
    pub fn set_commit_observer(&self, observer: CommitObserver) {
        *self.observer.lock().unwrap_or_else(|e| e.into_inner()) = Some(observer);
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
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            let notified = self.changed.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            let task = {
                let mut inner = self.inner.lock().await;
                let now = self.clock.now();
                let task = inner.engine.poll_task(worker_group, hostname, now);
                self.commit(&mut inner).await?;
                task
            };
            if task.is_some() {
                return Ok(task);
            }
            if tokio::time::timeout_at(deadline, notified).await.is_err() {
                return Ok(None);
            }
        }
    }

    /// ReportTaskProgress: `Ok(true)` tells the runner to stop (canceled).
    pub async fn report_task_progress(
        &self,
        task_id: &str,
        fields: &[Field],
    ) -> EngineResult<bool> {
        self.step(|engine, now| engine.report_progress(task_id, fields, now))
            .await?
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

    /// Completes at the next step that changes anything (a runner's report, a tick, a
    /// command); drivers use it to refresh without polling.
    pub async fn changed(&self) {
        self.changed.notified().await;
    }

    /// Action events of committed steps, oldest first.
    pub async fn take_action_events(&self) -> Vec<ActionEvent> {
        std::mem::take(&mut self.inner.lock().await.actions)
    }

    /// Resource events of committed steps, oldest first.
    pub async fn take_resource_events(&self) -> Vec<ResourceEvent> {
        std::mem::take(&mut self.inner.lock().await.resources)
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
