//! [`Service`]: the Data Pipeline operations over the engine and the store, independent of
//! HTTP (the router decodes requests and calls it; the in-process task runner calls it
//! directly).
//!
//! Design decisions:
//! * **The store is the record of truth; each activated pipeline has a [`Scheduler`].** A
//!   pipeline gets its scheduler at its first activation (or, after a restart, when the server
//!   opens), and keeps it while deactivated or finished, so reactivation resumes and reads see
//!   the engine's state. Pipelines that were never activated have no scheduler and no instances.
//! * **Pipeline records are written through the scheduler when there is one** (the engine holds
//!   its own copy and the store refuses a record whose `version` does not increase); otherwise
//!   directly, with `version + 1`. Every such write happens under one control lock that
//!   serialises the operations changing pipelines (create, delete, put, activate, deactivate,
//!   SetStatus, tags). AWS rate-limits these to one call a second per account, so one lock
//!   costs nothing in practice and rules out lost updates. Reads and the task protocol never
//!   take it.
//! * **An in-memory registry** holds, per pipeline id, its account, name, uniqueId and whether
//!   it was deleted (loaded from the store at start, kept up to date by create and delete), so
//!   account checks, CreatePipeline's idempotency and ListPipelines never load definitions.
//! * **Deleted pipelines keep a tombstone record** (`@deletedTime`, no definition, no
//!   instances), so later calls answer PipelineDeletedException, also after a restart. Its
//!   `version` jumps by 2^32, so a straggling commit of the dropped scheduler cannot overwrite it.
//! * **Task ids are routed by a map** task id → pipeline, filled by PollForTask. Entries go
//!   when the task's status is set, when the engine no longer knows the task, when the pipeline
//!   is deleted, and otherwise after a day without a call (a lease lapses long before).
//! * Every scheduler's commit observer signals one [`Notify`], which wakes long polls across
//!   all pipelines and the background ticker; its cancel observer fires the in-process
//!   runner's token of each task it cancels ([`TaskCancellations`]).
//! * **The process has a name.** The in-process runner's attempts record it (the server's id
//!   in a shared deployment, otherwise a new one at each start), and every scheduler is
//!   opened knowing it and the live servers' names, so that restoring a pipeline resumes at
//!   once what the in-process runner of a stopped process left RUNNING — never what a live
//!   server's runner may still be running (see `sluice_engine`'s `restore.rs`).

use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, AtomicUsize};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

use sluice_catalog::Catalog;
use sluice_definition::{Limits, ValidateOptions, ValidationReport, load};
use sluice_engine::{
    ChangeSet, Clock, EngineOptions, InProcessRunner, PipelineRecord, Plan, Scheduler, Store,
};
use sluice_model::{PipelineDefinition, PipelineState};
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

use crate::accounts::Principal;
use crate::error::{ApiError, ApiResult};
use crate::in_process::TaskCancellations;
use crate::metrics::{AttemptTracker, Metrics, Scraped, TimedStore};

/// Pipeline-record field marking a tombstone: when the pipeline was deleted.
pub(crate) const DELETED_TIME: &str = "@deletedTime";
/// Pipeline-record field holding the tags as a JSON array of `{"key", "value"}`.
pub(crate) const TAGS: &str = "@tags";
/// Pipeline-record field holding CreatePipeline's description.
pub(crate) const DESCRIPTION: &str = "description";
/// Pipeline-record field: the version of the active definition, raised by each activation
/// with a changed definition.
pub(crate) const VERSION: &str = "@version";
/// Prefix of the pipeline-record fields `@definition:<version>` holding, as JSON, an earlier
/// active definition (parameter values applied) that instances or attempts still belong to.
pub(crate) const DEFINITION_PREFIX: &str = "@definition:";

/// The account of pipelines `sluice run` creates (`PipelineRecord::new_local`).
pub(crate) const LOCAL_ACCOUNT: &str = "local";

/// How long an unused task route is kept.
const TASK_ROUTE_IDLE: Duration = Duration::from_secs(24 * 3600);

/// Settings of the service.
#[derive(Debug, Clone)]
pub struct ServiceOptions {
    /// Service limits for validation (AWS values, warnings by default).
    pub limits: Limits,
    /// Task-protocol timeouts of every scheduler.
    pub engine: EngineOptions,
    /// Longest PollForTask long poll (AWS: 90 seconds).
    pub poll_wait: Duration,
    /// ListPipelines page size (AWS does not document one; moto uses 50).
    pub list_page_size: usize,
    /// DescribeObjects page size. At least 100, because `aws datapipeline list-runs` reads only
    /// the first page of each 100-id call.
    pub describe_page_size: usize,
    /// Largest QueryObjects `limit` honoured (larger ones are lowered; the rest comes in later
    /// pages).
    pub query_max_limit: usize,
    /// Most live (not deleted) pipelines per account; `None` for no limit (AWS: 100).
    pub max_pipelines_per_account: Option<usize>,
    /// The data directory whose `logs/<pipeline>/` DeletePipeline removes; `None` keeps logs.
    pub data_dir: Option<PathBuf>,
    /// Named worker groups the in-process runner takes besides its own (tasks naming no
    /// group and the service's checks). Empty by default: named groups are left to remote
    /// runners.
    pub local_worker_groups: Vec<String>,
    /// How the in-process runner and action delivery reach object stores, databases,
    /// DynamoDB and SNS.
    pub data: Arc<sluice_data::DataSettings>,
}

impl Default for ServiceOptions {
    fn default() -> Self {
        ServiceOptions {
            limits: Limits::default(),
            engine: EngineOptions::default(),
            poll_wait: Duration::from_secs(90),
            list_page_size: 50,
            describe_page_size: 100,
            query_max_limit: 1000,
            max_pipelines_per_account: None,
            data_dir: None,
            local_worker_groups: Vec::new(),
            data: Arc::default(),
        }
    }
}

/// What the registry knows about a pipeline without loading it.
#[derive(Debug, Clone)]
pub(crate) struct PipelineMeta {
    pub(crate) account_id: String,
    pub(crate) name: String,
    pub(crate) unique_id: String,
    pub(crate) deleted: bool,
}

#[derive(Default)]
pub(crate) struct Registry {
    pub(crate) pipelines: HashMap<String, PipelineMeta>,
    pub(crate) schedulers: HashMap<String, Arc<Scheduler>>,
}

pub(crate) struct TaskRoute {
    pub(crate) pipeline_id: String,
    pub(crate) account_id: String,
    pub(crate) touched: Instant,
}

/// A task runner as its last heartbeat described it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunnerInfo {
    pub account_id: String,
    pub taskrunner_id: String,
    pub worker_group: Option<String>,
    pub hostname: Option<String>,
    pub last_heartbeat: chrono::NaiveDateTime,
}

/// The Data Pipeline service.
pub struct Service {
    pub(crate) store: Arc<dyn Store>,
    pub(crate) clock: Arc<dyn Clock>,
    pub(crate) catalog: Catalog,
    pub(crate) options: ServiceOptions,
    pub(crate) registry: RwLock<Registry>,
    pub(crate) tasks: Mutex<HashMap<String, TaskRoute>>,
    pub(crate) runners: Mutex<BTreeMap<(String, String), RunnerInfo>>,
    pub(crate) control: tokio::sync::Mutex<()>,
    /// Signalled after every scheduler commit and every registry change.
    pub(crate) changed: Arc<Notify>,
    /// Counts the signals from the shared database that some server committed work waiting
    /// for a runner: a waiting PollForTask looks at other servers' pipelines only when it has
    /// moved, not after every commit of this server's own schedulers (which it sees by itself).
    pub(crate) remote_work: Arc<AtomicU64>,
    /// Where the next PollForTask starts its round over pipelines (fairness).
    pub(crate) cursor: AtomicUsize,
    /// Cancelled when the server stops: long polls answer at once.
    pub(crate) stopping: CancellationToken,
    /// PollForTask calls waiting for a task right now.
    pub(crate) waiting_polls: AtomicUsize,
    /// Which worker groups runners poll for, to notice groups nobody serves.
    pub(crate) pollers: crate::pollers::Pollers,
    /// Starts and stops runners of managed resources; without it resource events are only
    /// logged.
    pub(crate) provisioning: std::sync::OnceLock<crate::provision::Provisioning>,
    /// This server's part in a shared deployment; `None` when it is the only one.
    pub(crate) cluster: Option<crate::cluster::Membership>,
    pub(crate) metrics: Arc<Metrics>,
    /// This process's name, recorded on the attempts its in-process runner takes.
    pub(crate) process_id: String,
    /// The in-process runner's cancellation tokens, fired by every scheduler's cancellations.
    pub(crate) in_process: Arc<TaskCancellations>,
}

impl std::fmt::Debug for Service {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Service")
            .field("options", &self.options)
            .finish_non_exhaustive()
    }
}

impl Service {
    /// Opens the service over `store`: loads the registry and reopens the scheduler of every
    /// activated pipeline (an attempt that was running when the previous process stopped is a
    /// lost lease and is retried per its policy). A pipeline whose definition no longer compiles
    /// is logged and left without a scheduler rather than stopping the server.
    pub async fn open(
        store: Arc<dyn Store>,
        clock: Arc<dyn Clock>,
        options: ServiceOptions,
    ) -> ApiResult<Arc<Service>> {
        Service::open_in(store, None, clock, options).await
    }

    /// Opens the service as one of several servers sharing `cluster`'s database (`store` is
    /// the same database). No scheduler opens here: pipelines are taken by lease, in
    /// [`Service::run_cluster`]'s rounds or when a call reaches this server first.
    pub async fn open_shared(
        store: Arc<dyn Store>,
        cluster: Arc<dyn sluice_engine::Cluster>,
        settings: crate::cluster::ClusterSettings,
        clock: Arc<dyn Clock>,
        mut options: ServiceOptions,
    ) -> ApiResult<Arc<Service>> {
        options.engine.adopt_running = true;
        let membership = crate::cluster::Membership::new(Arc::clone(&cluster), settings);
        let service = Service::open_in(store, Some(membership), clock, options).await?;
        let changed = Arc::clone(&service.changed);
        let remote_work = Arc::clone(&service.remote_work);
        cluster.on_work(Box::new(move || {
            remote_work.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            changed.notify_waiters();
        }));
        service.cluster_round().await;
        Ok(service)
    }

    async fn open_in(
        store: Arc<dyn Store>,
        cluster: Option<crate::cluster::Membership>,
        clock: Arc<dyn Clock>,
        options: ServiceOptions,
    ) -> ApiResult<Arc<Service>> {
        let shared = cluster.is_some();
        let process_id = match &cluster {
            Some(m) => m.me.server_id.clone(),
            None => format!(
                "{}-{}",
                sluice_runner::default_hostname(),
                crate::ids::new_request_id()
            ),
        };
        let records = store.pipelines().await?;
        let metrics = Arc::new(Metrics::new());
        let service = Arc::new(Service {
            store: Arc::new(TimedStore::new(store, Arc::clone(&metrics))),
            clock,
            catalog: Catalog::builtin(),
            options,
            registry: RwLock::new(Registry::default()),
            tasks: Mutex::new(HashMap::new()),
            runners: Mutex::new(BTreeMap::new()),
            control: tokio::sync::Mutex::new(()),
            changed: Arc::new(Notify::new()),
            remote_work: Arc::new(AtomicU64::new(0)),
            cursor: AtomicUsize::new(0),
            stopping: CancellationToken::new(),
            waiting_polls: AtomicUsize::new(0),
            pollers: crate::pollers::Pollers::default(),
            provisioning: std::sync::OnceLock::new(),
            cluster,
            metrics,
            process_id,
            in_process: Arc::default(),
        });
        for record in &records {
            service.registry_mut().pipelines.insert(
                record.pipeline_id.clone(),
                PipelineMeta {
                    account_id: record.account_id.clone(),
                    name: record.name.clone(),
                    unique_id: record.unique_id.clone(),
                    deleted: record.fields.contains_key(DELETED_TIME),
                },
            );
        }
        for record in records.iter().filter(|_| !shared) {
            // Pipelines of `sluice run` (account `local`, which no access key has) are driven
            // by that command, possibly at this very moment: the server leaves them alone.
            let resumable = !record.fields.contains_key(DELETED_TIME)
                && record.state != PipelineState::Pending
                && record.account_id != LOCAL_ACCOUNT;
            let Some(definition) = record.active_definition.as_ref().filter(|_| resumable) else {
                continue;
            };
            match service
                .open_scheduler(&record.pipeline_id, definition)
                .await
            {
                Ok(scheduler) => {
                    tracing::info!(pipeline = %record.pipeline_id, state = %record.state, "resumed pipeline");
                    service
                        .registry_mut()
                        .schedulers
                        .insert(record.pipeline_id.clone(), scheduler);
                }
                Err(error) => tracing::error!(
                    pipeline = %record.pipeline_id,
                    "cannot resume pipeline: {}",
                    error.message()
                ),
            }
        }
        Ok(service)
    }

    pub fn options(&self) -> &ServiceOptions {
        &self.options
    }

    /// The tokens through which the in-process runner hears of its tasks' cancellations.
    pub fn in_process_cancellations(&self) -> &Arc<TaskCancellations> {
        &self.in_process
    }

    /// The engine options a scheduler opens with now: this process's name and the live
    /// servers' (as the last heartbeat saw them).
    fn engine_options(&self) -> EngineOptions {
        let live = match self.membership() {
            Some(m) => lock(&m.members)
                .iter()
                .map(|member| member.server_id.clone())
                .filter(|id| *id != m.me.server_id)
                .collect(),
            None => Vec::new(),
        };
        EngineOptions {
            in_process: Some(Arc::new(InProcessRunner {
                process: self.process_id.clone(),
                live,
            })),
            ..self.options.engine.clone()
        }
    }

    /// Makes `provisioner` start and stop the runners of managed resources; `keys` mints
    /// their access keys (`None` when the runners need none). Set once, before serving;
    /// returns `false` if a provisioner was already set.
    pub fn set_provisioner(
        &self,
        provisioner: Arc<dyn crate::provision::Provisioner>,
        keys: Option<Arc<crate::accounts::KeyRing>>,
    ) -> bool {
        let hub = crate::provision::Provisioning::new(provisioner, keys, Arc::clone(&self.changed));
        self.provisioning.set(hub).is_ok()
    }

    /// Whether a runner heartbeating as `taskrunner_id` should exit: it serves a resource
    /// instance of `account_id` (its id is the instance id, as provisioned runners' are) that no
    /// longer needs it (SHUTTING_DOWN or ended).
    pub(crate) async fn runner_should_terminate(
        &self,
        account_id: &str,
        taskrunner_id: &str,
    ) -> bool {
        if !taskrunner_id.starts_with('@') {
            return false;
        }
        for (_, scheduler) in self.account_schedulers(account_id) {
            let status = scheduler
                .inspect(|engine| {
                    let record = engine.instance(taskrunner_id)?;
                    let plan = engine.plan();
                    let component = plan.get(&record.component_id)?;
                    plan.components[component]
                        .is_resource()
                        .then_some(record.status)
                })
                .await;
            if let Some(status) = status {
                return status.is_terminal() || status == sluice_model::Status::ShuttingDown;
            }
        }
        false
    }

    /// Stops every provisioned runner (server shutdown).
    pub async fn stop_provisioned(&self) {
        if let Some(hub) = self.provisioning.get() {
            hub.stop_all().await;
        }
    }

    pub fn catalog(&self) -> &Catalog {
        &self.catalog
    }

    pub fn store(&self) -> &Arc<dyn Store> {
        &self.store
    }

    /// The scheduler of an activated pipeline.
    pub fn scheduler(&self, pipeline_id: &str) -> Option<Arc<Scheduler>> {
        self.registry().schedulers.get(pipeline_id).cloned()
    }

    /// Every scheduler, by pipeline id.
    pub fn schedulers(&self) -> Vec<(String, Arc<Scheduler>)> {
        let mut all: Vec<_> = self
            .registry()
            .schedulers
            .iter()
            .map(|(id, s)| (id.clone(), Arc::clone(s)))
            .collect();
        all.sort_by(|a, b| a.0.cmp(&b.0));
        all
    }

    /// The schedulers of one account's pipelines, by pipeline id.
    pub(crate) fn account_schedulers(&self, account_id: &str) -> Vec<(String, Arc<Scheduler>)> {
        let registry = self.registry();
        let mut all: Vec<_> = registry
            .schedulers
            .iter()
            .filter(|(id, _)| {
                registry
                    .pipelines
                    .get(*id)
                    .is_some_and(|m| m.account_id == account_id)
            })
            .map(|(id, s)| (id.clone(), Arc::clone(s)))
            .collect();
        all.sort_by(|a, b| a.0.cmp(&b.0));
        all
    }

    /// Task runners by (account, taskrunnerId), as their last heartbeat described them.
    pub fn task_runners(&self) -> Vec<RunnerInfo> {
        lock(&self.runners).values().cloned().collect()
    }

    pub(crate) fn registry(&self) -> std::sync::RwLockReadGuard<'_, Registry> {
        // Nothing panics while holding the lock, so a poisoned one still holds whole data.
        self.registry.read().unwrap_or_else(|e| e.into_inner())
    }

    pub(crate) fn registry_mut(&self) -> std::sync::RwLockWriteGuard<'_, Registry> {
        self.registry.write().unwrap_or_else(|e| e.into_inner())
    }

    /// The pipeline `pipeline_id` of the caller's account: PipelineNotFoundException when it
    /// does not exist or belongs to another account (which must not learn that it exists),
    /// PipelineDeletedException when it was deleted.
    pub(crate) fn meta(&self, principal: &Principal, pipeline_id: &str) -> ApiResult<PipelineMeta> {
        match self.registry().pipelines.get(pipeline_id) {
            Some(meta) if meta.account_id == principal.account_id => {
                if meta.deleted {
                    Err(ApiError::PipelineDeleted(format!(
                        "Pipeline with id: {pipeline_id} has been deleted."
                    )))
                } else {
                    Ok(meta.clone())
                }
            }
            _ => Err(ApiError::PipelineNotFound(format!(
                "Pipeline with id: {pipeline_id} does not exist."
            ))),
        }
    }

    /// The current pipeline record: the engine's copy when the pipeline has a scheduler.
    pub(crate) async fn record(&self, pipeline_id: &str) -> ApiResult<PipelineRecord> {
        if let Some(scheduler) = self.scheduler(pipeline_id) {
            return Ok(scheduler
                .inspect(|engine| engine.pipeline_record().clone())
                .await);
        }
        self.store.pipeline(pipeline_id).await?.ok_or_else(|| {
            ApiError::internal(format!(
                "pipeline {pipeline_id} is missing from the state store"
            ))
        })
    }

    /// Changes a pipeline record: through its scheduler if it has one, else directly with the
    /// next version. Callers hold the control lock.
    pub(crate) async fn write_record(
        &self,
        pipeline_id: &str,
        f: impl FnOnce(&mut PipelineRecord) + Send,
    ) -> ApiResult<()> {
        if let Some(scheduler) = self.scheduler(pipeline_id) {
            scheduler.update_pipeline_record(f).await?;
            return Ok(());
        }
        let mut record = self.store.pipeline(pipeline_id).await?.ok_or_else(|| {
            ApiError::internal(format!(
                "pipeline {pipeline_id} is missing from the state store"
            ))
        })?;
        f(&mut record);
        record.version += 1;
        self.store
            .commit(&ChangeSet {
                pipelines: vec![record],
                ..ChangeSet::default()
            })
            .await?;
        Ok(())
    }

    /// Validates and compiles a definition for the engine.
    pub(crate) fn compile(&self, definition: &PipelineDefinition) -> ApiResult<Plan> {
        let options = ValidateOptions {
            now: Some(self.clock.now()),
        };
        let (pipeline, _warnings) = load(definition, &self.catalog, &self.options.limits, &options)
            .map_err(|report| ApiError::invalid(errors_message(&report)))?;
        Plan::compile(pipeline, &self.catalog).map_err(|e| ApiError::invalid(e.to_string()))
    }

    /// Opens (restoring from the store) the scheduler of a pipeline for `definition`.
    pub(crate) async fn open_scheduler(
        &self,
        pipeline_id: &str,
        definition: &PipelineDefinition,
    ) -> ApiResult<Arc<Scheduler>> {
        let plan = self.compile(definition)?;
        self.open_scheduler_with(pipeline_id, plan).await
    }

    /// Opens (restoring from the store) the scheduler of a pipeline for a compiled plan; its
    /// commits wake long polls and the ticker.
    pub(crate) async fn open_scheduler_with(
        &self,
        pipeline_id: &str,
        plan: Plan,
    ) -> ApiResult<Arc<Scheduler>> {
        let store = match self.membership() {
            Some(m) => match m.fence(pipeline_id) {
                // Fenced commits bypass the service's store, so they are timed here.
                Some(fence) => Arc::new(TimedStore::new(
                    Arc::new(sluice_engine::FencedStore::new(
                        Arc::clone(&self.store),
                        Arc::clone(&m.backend),
                        fence,
                    )),
                    Arc::clone(&self.metrics),
                )) as Arc<dyn Store>,
                None => Arc::clone(&self.store),
            },
            None => Arc::clone(&self.store),
        };
        let scheduler = Scheduler::open_with(
            store,
            Arc::clone(&self.clock),
            pipeline_id,
            plan,
            self.engine_options(),
        )
        .await?;
        let changed = Arc::clone(&self.changed);
        let attempts = AttemptTracker::new(Arc::clone(&self.metrics));
        scheduler.set_commit_observer(Box::new(move |changes| {
            attempts.observe(changes);
            changed.notify_waiters();
        }));
        scheduler.set_cancel_observer(self.in_process.observer());
        Ok(Arc::new(scheduler))
    }

    /// Registers a pipeline's scheduler (replacing any older one) and wakes the ticker.
    pub(crate) fn install_scheduler(&self, pipeline_id: &str, scheduler: Arc<Scheduler>) {
        self.registry_mut()
            .schedulers
            .insert(pipeline_id.to_owned(), scheduler);
        self.changed.notify_waiters();
    }

    pub(crate) fn remember_task(&self, task_id: &str, pipeline_id: &str, account_id: &str) {
        lock(&self.tasks).insert(
            task_id.to_owned(),
            TaskRoute {
                pipeline_id: pipeline_id.to_owned(),
                account_id: account_id.to_owned(),
                touched: Instant::now(),
            },
        );
    }

    /// The pipeline and scheduler a task belongs to; `account` `None` is the in-process runner,
    /// which serves every account.
    pub(crate) fn route_task(
        &self,
        task_id: &str,
        account: Option<&str>,
    ) -> ApiResult<(String, Arc<Scheduler>)> {
        let pipeline_id = {
            let mut tasks = lock(&self.tasks);
            match tasks.get_mut(task_id) {
                Some(route) if account.is_none_or(|a| a == route.account_id) => {
                    route.touched = Instant::now();
                    route.pipeline_id.clone()
                }
                _ => return Err(task_not_found(task_id)),
            }
        };
        match self.scheduler(&pipeline_id) {
            Some(scheduler) => Ok((pipeline_id, scheduler)),
            None => {
                self.forget_task(task_id);
                Err(task_not_found(task_id))
            }
        }
    }

    pub(crate) fn forget_task(&self, task_id: &str) {
        lock(&self.tasks).remove(task_id);
    }

    /// Drops the routes of a pipeline's tasks; the in-process runner stops those it runs at
    /// once (their next report would find them unknown).
    pub(crate) fn forget_pipeline_tasks(&self, pipeline_id: &str) {
        let mut dropped = Vec::new();
        lock(&self.tasks).retain(|task_id, route| {
            let keep = route.pipeline_id != pipeline_id;
            if !keep {
                dropped.push(task_id.clone());
            }
            keep
        });
        self.in_process.cancel(&dropped);
    }

    /// Drops task routes unused for a day (their leases lapsed long ago).
    pub(crate) fn prune_task_routes(&self) {
        lock(&self.tasks).retain(|_, route| route.touched.elapsed() < TASK_ROUTE_IDLE);
    }

    /// Makes every long poll answer now (empty) and new ones answer at once; called when the
    /// server stops, so that graceful shutdown need not wait out 90-second polls.
    pub fn begin_shutdown(&self) {
        self.stopping.cancel();
    }

    /// Whether the server is stopping: long-lived answers (the console's event streams) end
    /// when it is, so that graceful shutdown need not wait for their clients to leave.
    pub fn is_stopping(&self) -> bool {
        self.stopping.is_cancelled()
    }

    /// Commits whatever a scheduler still holds (changes whose commit failed earlier) by
    /// ticking each one; the last step of a clean shutdown.
    pub async fn flush(&self) {
        for (pipeline_id, scheduler) in self.schedulers() {
            if let Err(error) = scheduler.tick().await {
                tracing::warn!(pipeline = %pipeline_id, "final commit failed: {error}");
            }
        }
    }

    /// The number of task routes held (for tests and metrics).
    pub fn task_route_count(&self) -> usize {
        lock(&self.tasks).len()
    }

    /// The service's metrics, for the API to count its requests in.
    pub fn metrics(&self) -> &Metrics {
        &self.metrics
    }

    /// Every metric in the Prometheus text format ([`crate::metrics::CONTENT_TYPE`]), with
    /// the schedulers' instances and pipelines and the provisioned runners as they are now.
    pub async fn render_metrics(&self) -> String {
        let mut scraped = Scraped::default();
        for (_, scheduler) in self.schedulers() {
            let (summary, state) = scheduler
                .inspect(|engine| (engine.summary(), engine.pipeline_state()))
                .await;
            for (status, count) in summary.iter() {
                *scraped.instances.entry(status).or_default() += count;
            }
            *scraped.pipelines.entry(state.as_str()).or_default() += 1;
        }
        scraped.provisioned = self.provisioning.get().map_or(0, |hub| hub.running());
        self.metrics.render(&scraped)
    }
}

pub(crate) fn task_not_found(task_id: &str) -> ApiError {
    ApiError::TaskNotFound(format!(
        "Task {task_id} not found: it is unknown, already finished, or its lease expired."
    ))
}

/// The message of an InvalidRequestException for a definition with errors.
pub(crate) fn errors_message(report: &ValidationReport) -> String {
    let errors: Vec<String> = report
        .error_messages()
        .map(|(id, message)| format!("{id}: {message}"))
        .collect();
    format!("Pipeline definition has errors: {}", errors.join("; "))
}

pub(crate) fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    // Critical sections never panic half-way, so the data behind a poisoned lock is whole.
    mutex.lock().unwrap_or_else(|e| e.into_inner())
}
