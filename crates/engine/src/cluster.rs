//! What servers sharing one database need from it besides the [`Store`]: membership, one
//! lease per pipeline, commits fenced by that lease, and a few lookups across pipelines.
//!
//! Design decisions:
//! * **Time is the database's.** Lease and membership expiry are compared with the database
//!   clock, so servers whose clocks disagree still agree on who holds what.
//! * **A lease is a grant, numbered.** Each time a pipeline's lease passes to a new holder (or
//!   back to the same one after it lapsed), its `epoch` grows. A [`Fence`] is the holder and
//!   the epoch it was granted; [`Cluster::commit_fenced`] lands only while that grant is still
//!   live, in the same transaction as the write. A server that paused or lost its connection
//!   past its lease therefore cannot write after another took over, whatever it believes.
//! * **Renewal keeps, never revives.** Renewing extends the live leases of a holder only; a
//!   lapsed lease must be acquired again, which bumps the epoch and so voids fences of the
//!   earlier grant.

use std::time::Duration;

use async_trait::async_trait;

use crate::store::{ChangeSet, StoreResult};

/// The holder of retired pipelines' leases.
pub const NOBODY: &str = "-";

/// A server of a shared deployment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Member {
    /// Unique per server process.
    pub server_id: String,
    /// Where the other servers reach its API (`--advertise-url`).
    pub url: String,
}

/// Proof of one grant of a pipeline's lease.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fence {
    pub owner: String,
    pub epoch: i64,
}

/// A pipeline's lease as the database holds it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lease {
    pub pipeline_id: String,
    pub owner: String,
    pub epoch: i64,
    /// Not lapsed, by the database clock.
    pub live: bool,
}

/// Coordination of the servers sharing a database.
#[async_trait]
pub trait Cluster: Send + Sync {
    /// Records that `member` is alive for `ttl` more, and returns every live member (itself
    /// included), ordered by server id.
    async fn heartbeat(&self, member: &Member, ttl: Duration) -> StoreResult<Vec<Member>>;

    /// Removes `server_id` from the members and gives up its leases (clean shutdown).
    async fn leave(&self, server_id: &str) -> StoreResult<()>;

    /// Every lease, live or lapsed.
    async fn leases(&self) -> StoreResult<Vec<Lease>>;

    /// One pipeline's lease.
    async fn lease(&self, pipeline_id: &str) -> StoreResult<Option<Lease>>;

    /// Takes the lease of `pipeline_id` for `owner` for `ttl`, if nobody holds it, it lapsed,
    /// or `owner` already holds it (then its epoch stays). `None` when another holds it.
    async fn acquire(
        &self,
        pipeline_id: &str,
        owner: &str,
        ttl: Duration,
    ) -> StoreResult<Option<Fence>>;

    /// Extends every live lease of `owner` by `ttl`; returns them as (pipeline, epoch).
    async fn renew(&self, owner: &str, ttl: Duration) -> StoreResult<Vec<(String, i64)>>;

    /// Gives a lease up, if `fence` still describes it: it lapses at once, for another server
    /// to acquire.
    async fn release(&self, pipeline_id: &str, fence: &Fence) -> StoreResult<()>;

    /// Marks a pipeline as needing no scheduler ever again (deleted, or driven by `sluice
    /// run`): its lease is held by [`NOBODY`] forever.
    async fn retire(&self, pipeline_id: &str) -> StoreResult<()>;

    /// Gives every stored pipeline without a lease a lapsed one, so some server adopts it
    /// (pipelines copied in with `sluice store copy`, or created by an older version).
    async fn lease_orphans(&self) -> StoreResult<()>;

    /// [`Store::commit`](crate::Store::commit), landing only while `fence` holds a live lease
    /// of every pipeline the change set touches; otherwise
    /// [`StoreError::Conflict`](crate::StoreError::Conflict).
    async fn commit_fenced(&self, changes: &ChangeSet, fence: &Fence) -> StoreResult<()>;

    /// The pipeline holding the task `task_id` (an attempt handed out and not ended).
    async fn task_pipeline(&self, task_id: &str) -> StoreResult<Option<String>>;

    /// Pipelines with attempts waiting for a runner of `worker_group`.
    async fn ready_pipelines(&self, worker_group: &str) -> StoreResult<Vec<String>>;

    /// Binds (`name`, `unique_id`) of `account_id` to `pipeline_id` unless already bound;
    /// returns the pipeline it is bound to (CreatePipeline's idempotency across servers).
    async fn claim_unique_id(
        &self,
        account_id: &str,
        name: &str,
        unique_id: &str,
        pipeline_id: &str,
    ) -> StoreResult<String>;

    /// Frees the binding of `pipeline_id` (it was deleted).
    async fn free_unique_id(&self, pipeline_id: &str) -> StoreResult<()>;

    /// Calls `wake` whenever any server commits an attempt waiting for a runner, until the
    /// process ends (reconnecting after outages, and calling `wake` after each reconnection,
    /// since signals sent meanwhile were lost).
    fn on_work(&self, wake: Box<dyn Fn() + Send + Sync>);
}

/// A store whose commits are fenced by one lease grant: what a pipeline's scheduler writes
/// through on a shared database.
pub struct FencedStore {
    store: std::sync::Arc<dyn crate::Store>,
    cluster: std::sync::Arc<dyn Cluster>,
    fence: Fence,
}

impl FencedStore {
    pub fn new(
        store: std::sync::Arc<dyn crate::Store>,
        cluster: std::sync::Arc<dyn Cluster>,
        fence: Fence,
    ) -> Self {
        FencedStore {
            store,
            cluster,
            fence,
        }
    }
}

#[async_trait]
impl crate::Store for FencedStore {
    async fn commit(&self, changes: &ChangeSet) -> StoreResult<()> {
        self.cluster.commit_fenced(changes, &self.fence).await
    }

    async fn pipeline(&self, pipeline_id: &str) -> StoreResult<Option<crate::PipelineRecord>> {
        self.store.pipeline(pipeline_id).await
    }

    async fn pipelines(&self) -> StoreResult<Vec<crate::PipelineRecord>> {
        self.store.pipelines().await
    }

    async fn instances(&self, pipeline_id: &str) -> StoreResult<Vec<crate::InstanceRecord>> {
        self.store.instances(pipeline_id).await
    }

    async fn attempts(&self, pipeline_id: &str) -> StoreResult<Vec<crate::AttemptRecord>> {
        self.store.attempts(pipeline_id).await
    }

    async fn delete_pipeline(&self, pipeline_id: &str) -> StoreResult<()> {
        self.store.delete_pipeline(pipeline_id).await
    }

    async fn query_instances(
        &self,
        pipeline_id: &str,
        query: &crate::store::InstanceQuery,
    ) -> StoreResult<Vec<crate::InstanceRecord>> {
        self.store.query_instances(pipeline_id, query).await
    }

    async fn instances_with_id_hash(
        &self,
        pipeline_id: &str,
        hash: u64,
    ) -> StoreResult<Vec<crate::InstanceRecord>> {
        self.store.instances_with_id_hash(pipeline_id, hash).await
    }
}
