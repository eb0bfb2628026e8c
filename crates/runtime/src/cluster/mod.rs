//! Several servers on one database: which server schedules which pipeline, and where a call
//! about a pipeline or a task is answered.
//!
//! Design decisions:
//! * **One owner per pipeline, by lease.** A pipeline's scheduler runs only on the server
//!   holding its lease ([`sluice_engine::Cluster`]), and every commit of that scheduler is
//!   fenced by the lease grant ([`sluice_engine::FencedStore`]), so a server that lost its
//!   lease (paused, cut off from the database) can no longer write the pipeline; its scheduler
//!   steps down and is dropped at the next round.
//! * **Calls go to the owner.** A call naming a pipeline (or a task, found through the
//!   database) is answered by the server that owns it: the HTTP front end forwards it there
//!   ([`Placement::Elsewhere`]). A pipeline nobody owns (new, or whose owner died) is taken by
//!   the server the call reached. Calls naming no pipeline (CreatePipeline, ListPipelines,
//!   DescribePipelines, ValidatePipelineDefinition, heartbeats) are answered anywhere from the
//!   database.
//! * **Rounds.** Every third of a lease period each server heartbeats, renews its leases,
//!   drops the pipelines whose lease it no longer holds (and reopens a scheduler that stepped
//!   down while the lease stayed its own), then balances: it takes lapsed leases while it owns
//!   fewer than its share (`ceil(pipelines / live servers)`), and gives up those above it, so a
//!   server that joins gets pipelines back and a dead server's are taken over within a lease
//!   period and a round.
//! * **Takeover adopts running attempts** of remote runners (`EngineOptions::adopt_running`):
//!   their runners report through any server, so they keep their task and lease. Attempts
//!   the in-process runner of a server that is no longer a member (killed, or left) was
//!   running are resumed at once; those of a live server's runner (a pipeline given up to
//!   balance) are lost leases, retried after `retryDelay`, as that server stops them itself.

mod rounds;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use sluice_engine::cluster::NOBODY;
use sluice_engine::{Cluster, Fence, Member};

use crate::accounts::Principal;
use crate::error::{ApiError, ApiResult};
use crate::service::{DELETED_TIME, LOCAL_ACCOUNT, PipelineMeta, Service, lock};

/// How a server takes part in a shared deployment.
#[derive(Debug, Clone)]
pub struct ClusterSettings {
    /// Unique per process.
    pub server_id: String,
    /// Where the other servers reach this one's API.
    pub url: String,
    /// How long a lease lasts unless renewed (renewed every third of it).
    pub lease: Duration,
}

/// Sends the call being served on to another server (the HTTP front end's side of
/// [`Placement::Elsewhere`], for the calls the service itself spreads: PollForTask).
#[async_trait::async_trait]
pub trait Forwarder: Send + Sync {
    /// The PollForTask being served, answered by the server at `url` from its own pipelines.
    async fn poll_at(&self, url: &str) -> ApiResult<Option<sluice_model::TaskObject>>;
}

/// How a PollForTask may reach other servers.
#[derive(Clone, Copy)]
pub enum Remote<'a> {
    /// Not at all (one server, or the in-process runner).
    None,
    /// Through this forwarder, for pipelines other servers own.
    Through(&'a dyn Forwarder),
    /// The poll was forwarded here by another server: answer at once from this server's own
    /// pipelines.
    Forwarded,
}

/// Where a call is answered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Placement {
    /// By this server.
    Here,
    /// By the server at this URL, which owns the pipeline.
    Elsewhere(String),
}

pub(crate) struct Membership {
    pub(crate) backend: Arc<dyn Cluster>,
    pub(crate) me: Member,
    pub(crate) lease: Duration,
    /// The pipelines this server holds, with their grants.
    pub(crate) held: Mutex<HashMap<String, Fence>>,
    pub(crate) members: Mutex<Vec<Member>>,
    /// The live owner of each leased pipeline, as the last round read them (pipeline id →
    /// server id): where polls for other servers' tasks go without asking the database.
    pub(crate) owners: Mutex<HashMap<String, String>>,
    /// Serialises taking pipelines in and giving them up.
    pub(crate) moving: tokio::sync::Mutex<()>,
    /// When the leases were last renewed.
    pub(crate) renewed: Mutex<Option<Instant>>,
}

impl Membership {
    pub(crate) fn new(backend: Arc<dyn Cluster>, settings: ClusterSettings) -> Membership {
        Membership {
            backend,
            me: Member {
                server_id: settings.server_id,
                url: settings.url,
            },
            lease: settings.lease,
            held: Mutex::new(HashMap::new()),
            members: Mutex::new(Vec::new()),
            owners: Mutex::new(HashMap::new()),
            moving: tokio::sync::Mutex::new(()),
            renewed: Mutex::new(None),
        }
    }

    pub(crate) fn fence(&self, pipeline_id: &str) -> Option<Fence> {
        lock(&self.held).get(pipeline_id).cloned()
    }
}

impl Service {
    pub(crate) fn membership(&self) -> Option<&Membership> {
        self.cluster.as_ref()
    }

    /// This server's id in a shared deployment.
    pub fn server_id(&self) -> Option<&str> {
        self.membership().map(|m| m.me.server_id.as_str())
    }

    /// The pipelines this server schedules, by id (a shared deployment's; every activated
    /// pipeline otherwise).
    pub fn owned_pipelines(&self) -> Vec<String> {
        match self.membership() {
            Some(m) => {
                let mut ids: Vec<String> = lock(&m.held).keys().cloned().collect();
                ids.sort();
                ids
            }
            None => self.schedulers().into_iter().map(|(id, _)| id).collect(),
        }
    }

    /// Where a call naming `pipeline_id` is answered. A pipeline of another account, unknown
    /// or deleted is answered here (with the error the call deserves).
    pub async fn place_pipeline(
        &self,
        principal: &Principal,
        pipeline_id: &str,
    ) -> ApiResult<Placement> {
        self.place_pipeline_with(principal, pipeline_id, true).await
    }

    /// [`Service::place_pipeline`], from the lease when `exact`, otherwise from the owners
    /// the last round saw ([`Service::place_cached`]).
    async fn place_pipeline_with(
        &self,
        principal: &Principal,
        pipeline_id: &str,
        exact: bool,
    ) -> ApiResult<Placement> {
        if self.membership().is_none() {
            return Ok(Placement::Here);
        }
        self.know(pipeline_id).await?;
        if self.meta(principal, pipeline_id).is_err() {
            return Ok(Placement::Here);
        }
        if exact {
            self.place(pipeline_id).await
        } else {
            self.place_cached(pipeline_id).await
        }
    }

    /// Where a call naming the task `task_id` is answered. The task's pipeline is read from
    /// its id (the database is asked only for ids that do not name it) and, unless `exact`,
    /// its owner is the one the last round saw, as for polls ([`Service::place_cached`]): a
    /// runner's reports are most of a deployment's calls, and a stale answer costs one more
    /// hop, as the server it reaches places the call `exact`ly (from the lease) and passes it
    /// on.
    pub async fn place_task(
        &self,
        principal: &Principal,
        task_id: &str,
        exact: bool,
    ) -> ApiResult<Placement> {
        let Some(m) = self.membership() else {
            return Ok(Placement::Here);
        };
        if lock(&self.tasks).contains_key(task_id) {
            return Ok(Placement::Here);
        }
        let pipeline_id = match sluice_engine::ids::task_pipeline(task_id) {
            Some(pipeline_id) => pipeline_id.to_owned(),
            None => match m.backend.task_pipeline(task_id).await? {
                Some(pipeline_id) => pipeline_id,
                None => return Ok(Placement::Here),
            },
        };
        self.place_pipeline_with(principal, &pipeline_id, exact)
            .await
    }

    /// Where calls about `pipeline_id` are answered, taking it if nobody owns it.
    pub(crate) async fn place(&self, pipeline_id: &str) -> ApiResult<Placement> {
        let Some(m) = self.membership() else {
            return Ok(Placement::Here);
        };
        for _ in 0..3 {
            if m.fence(pipeline_id).is_some() {
                // The grant is recorded before the scheduler opens and its running tasks are
                // routed: let an adoption in progress finish, or a task it is about to route
                // would be answered TaskNotFound.
                drop(m.moving.lock().await);
                return Ok(Placement::Here);
            }
            match m.backend.lease(pipeline_id).await? {
                Some(lease) if lease.live && lease.owner == NOBODY => return Ok(Placement::Here),
                Some(lease) if lease.live && lease.owner != m.me.server_id => {
                    if let Some(url) = self.member_url(&lease.owner).await? {
                        return Ok(Placement::Elsewhere(url));
                    }
                }
                _ => {
                    if self.take(pipeline_id).await? {
                        return Ok(Placement::Here);
                    }
                }
            }
        }
        Err(ApiError::internal(format!(
            "pipeline {pipeline_id} is changing hands between servers; retry the call"
        )))
    }

    /// Where a call for `pipeline_id`'s tasks goes: to the owner the last round saw, if that
    /// is another live server, without reading the lease again (a poll asks every pipeline
    /// with ready work, and a stale answer only costs that poll one pipeline); otherwise as
    /// [`Service::place`].
    pub(crate) async fn place_cached(&self, pipeline_id: &str) -> ApiResult<Placement> {
        if let Some(m) = self.membership()
            && m.fence(pipeline_id).is_none()
        {
            let owner = lock(&m.owners).get(pipeline_id).cloned();
            let url = owner
                .filter(|owner| *owner != m.me.server_id && owner != NOBODY)
                .and_then(|owner| {
                    lock(&m.members)
                        .iter()
                        .find(|member| member.server_id == owner)
                        .map(|member| member.url.clone())
                });
            if let Some(url) = url {
                return Ok(Placement::Elsewhere(url));
            }
        }
        self.place(pipeline_id).await
    }

    async fn member_url(&self, server_id: &str) -> ApiResult<Option<String>> {
        let Some(m) = self.membership() else {
            return Ok(None);
        };
        let find = |members: &[Member]| {
            members
                .iter()
                .find(|member| member.server_id == server_id)
                .map(|member| member.url.clone())
        };
        if let Some(url) = find(&lock(&m.members)) {
            return Ok(Some(url));
        }
        let members = m.backend.heartbeat(&m.me, m.lease).await?;
        let url = find(&members);
        *lock(&m.members) = members;
        Ok(url)
    }

    /// Takes the lease of `pipeline_id` if nobody holds it, and opens its scheduler; `false`
    /// when another server holds it.
    pub(crate) async fn take(&self, pipeline_id: &str) -> ApiResult<bool> {
        let Some(m) = self.membership() else {
            return Ok(true);
        };
        let _moving = m.moving.lock().await;
        if m.fence(pipeline_id).is_some() {
            return Ok(true);
        }
        let Some(fence) = m
            .backend
            .acquire(pipeline_id, &m.me.server_id, m.lease)
            .await?
        else {
            return Ok(false);
        };
        self.adopt(pipeline_id, fence).await?;
        Ok(true)
    }

    /// Starts owning a pipeline whose lease this server was just granted: reads it afresh,
    /// retires it if it needs no scheduler ever again, and opens its scheduler if activated.
    async fn adopt(&self, pipeline_id: &str, fence: Fence) -> ApiResult<()> {
        let Some(m) = self.membership() else {
            return Ok(());
        };
        let record = self.store.pipeline(pipeline_id).await?;
        let Some(record) = record else {
            m.backend.retire(pipeline_id).await?;
            return Ok(());
        };
        let deleted = record.fields.contains_key(DELETED_TIME);
        self.registry_mut().pipelines.insert(
            pipeline_id.to_owned(),
            PipelineMeta {
                account_id: record.account_id.clone(),
                name: record.name.clone(),
                unique_id: record.unique_id.clone(),
                deleted,
            },
        );
        if deleted || record.account_id == LOCAL_ACCOUNT {
            m.backend.retire(pipeline_id).await?;
            return Ok(());
        }
        lock(&m.held).insert(pipeline_id.to_owned(), fence.clone());
        // Who is alive now decides which running attempts a dead server's in-process runner
        // left behind (resumed at once) and which a live one may still be running: ask the
        // database rather than trust the last round.
        match m.backend.heartbeat(&m.me, m.lease).await {
            Ok(members) => *lock(&m.members) = members,
            Err(error) => tracing::warn!("cannot heartbeat: {error}"),
        }
        let activated = record.state != sluice_model::PipelineState::Pending;
        let Some(definition) = record.active_definition.as_ref().filter(|_| activated) else {
            tracing::info!(pipeline = %pipeline_id, epoch = fence.epoch, "took the lease of a pipeline");
            return Ok(());
        };
        match self.open_scheduler(pipeline_id, definition).await {
            Ok(scheduler) => {
                let running: Vec<String> = scheduler
                    .inspect(|engine| {
                        engine
                            .attempts()
                            .into_iter()
                            .filter(|a| a.status == sluice_model::Status::Running)
                            .filter_map(|a| a.task_id)
                            .collect()
                    })
                    .await;
                for task_id in running {
                    self.remember_task(&task_id, pipeline_id, &record.account_id);
                }
                self.install_scheduler(pipeline_id, scheduler);
                tracing::info!(pipeline = %pipeline_id, epoch = fence.epoch, "took over the scheduling of a pipeline");
            }
            // The lease stays held, so no other server tries in vain; the pipeline is logged
            // as unschedulable, as at a restart.
            Err(error) => tracing::error!(
                pipeline = %pipeline_id,
                "cannot schedule pipeline: {}",
                error.message()
            ),
        }
        Ok(())
    }

    /// Stops owning a pipeline: its scheduler goes (the ticker stops its provisioned
    /// runners), and with it the routes of its tasks.
    pub(crate) fn drop_pipeline(&self, pipeline_id: &str) {
        if let Some(m) = self.membership() {
            lock(&m.held).remove(pipeline_id);
        }
        self.registry_mut().schedulers.remove(pipeline_id);
        self.forget_pipeline_tasks(pipeline_id);
        self.changed.notify_waiters();
    }

    /// Gives a pipeline up for another server to take: commits what its scheduler holds, then
    /// lets the lease lapse.
    pub(crate) async fn release(&self, pipeline_id: &str) -> ApiResult<()> {
        let Some(m) = self.membership() else {
            return Ok(());
        };
        let _moving = m.moving.lock().await;
        let Some(fence) = m.fence(pipeline_id) else {
            return Ok(());
        };
        if let Some(scheduler) = self.scheduler(pipeline_id)
            && let Err(error) = scheduler.tick().await
        {
            tracing::warn!(pipeline = %pipeline_id, "last commit before giving the pipeline up: {error}");
        }
        self.drop_pipeline(pipeline_id);
        m.backend.release(pipeline_id, &fence).await?;
        tracing::info!(pipeline = %pipeline_id, "gave a pipeline up to balance the servers");
        Ok(())
    }

    /// Makes sure the registry knows `pipeline_id` (created on another server).
    pub(crate) async fn know(&self, pipeline_id: &str) -> ApiResult<()> {
        if self.membership().is_none() || self.registry().pipelines.contains_key(pipeline_id) {
            return Ok(());
        }
        if let Some(record) = self.store.pipeline(pipeline_id).await? {
            self.registry_mut()
                .pipelines
                .insert(pipeline_id.to_owned(), meta_of(&record));
        }
        Ok(())
    }

    /// Reloads the registry from the database (pipelines created or deleted on other
    /// servers); a no-op without a shared database.
    pub(crate) async fn refresh_registry(&self) -> ApiResult<()> {
        if self.membership().is_none() {
            return Ok(());
        }
        let records = self.store.pipelines().await?;
        let mut registry = self.registry_mut();
        for record in &records {
            registry
                .pipelines
                .insert(record.pipeline_id.clone(), meta_of(record));
        }
        Ok(())
    }

    /// Leaves the deployment (clean shutdown): the leases go at once, for the other servers
    /// to take over without waiting for them to lapse.
    pub async fn leave_cluster(&self) {
        if let Some(m) = self.membership()
            && let Err(error) = m.backend.leave(&m.me.server_id).await
        {
            tracing::warn!("leaving the deployment: {error}");
        }
    }
}

pub(crate) fn meta_of(record: &sluice_engine::PipelineRecord) -> PipelineMeta {
    PipelineMeta {
        account_id: record.account_id.clone(),
        name: record.name.clone(),
        unique_id: record.unique_id.clone(),
        deleted: record.fields.contains_key(DELETED_TIME),
    }
}
