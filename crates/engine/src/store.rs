//! The persistence contract. The engine keeps a pipeline's working state in memory and writes
//! every change through a [`Store`] *before* acting on it (dispatching a task, firing an
//! action), so a crash loses nothing that was acted upon: on restart the engine reloads the
//! records and carries on.
//!
//! The write-ahead contract: the engine mutates only memory and marks what it touched;
//! `Engine::take_changes` returns those records as one [`ChangeSet`]. A driver commits that
//! change set *before* it returns a task from PollForTask, delivers an action, or answers the
//! call that produced it, so everything a runner or the outside world has seen is durable.
//! If the process dies after a commit but before the task reached its runner, the restarted
//! engine finds the attempt RUNNING and treats it as a lost lease (retried per its policy);
//! if it dies before the commit, nothing was handed out and the step simply happens again.
//!
//! Records carry indexed columns (ids, status, times) plus a `fields` map for everything else,
//! so new runtime fields need no migration. Implementations: `MemoryStore` here (tests),
//! `sluice-store`'s SQLite store (embedded default) and PostgreSQL store (`sluice server
//! --database`). Every method is exercised by one conformance suite run against each.
//!
//! Reads of whole pipelines serve restores. The API's object queries read pages instead
//! ([`Store::query_instances`]), which the durable stores answer from indexes so that a page
//! costs the same at a million instances as at ten; the trait's own implementation reads every
//! instance, so a store without indexes (or a wrapper that forgets to forward) stays correct,
//! only slower.

use std::collections::BTreeMap;

use async_trait::async_trait;
use chrono::NaiveDateTime;
use serde::{Deserialize, Serialize};
use sluice_model::{PipelineDefinition, PipelineState, Status, TaskResult};

/// A pipeline: its definitions, state and pipeline-level fields. Each store chooses how to
/// encode it (the SQLite store writes an active definition equal to the latest one once).
#[derive(Debug, Clone, PartialEq)]
pub struct PipelineRecord {
    pub pipeline_id: String,
    pub name: String,
    /// CreatePipeline's idempotency token.
    pub unique_id: String,
    /// The account that owns the pipeline (the access key's account; `local` for `sluice run`).
    pub account_id: String,
    pub state: PipelineState,
    pub created_at: NaiveDateTime,
    /// The definition last put (`version: latest`).
    pub definition: Option<PipelineDefinition>,
    /// The definition last activated (`version: active`).
    pub active_definition: Option<PipelineDefinition>,
    /// Pipeline-level runtime fields (`@firstActivationTime`, `@lastActivationTime`, tags, …).
    pub fields: BTreeMap<String, String>,
    /// Incremented on every write; writers compare it to detect a concurrent writer.
    pub version: u64,
}

impl PipelineRecord {
    /// A pipeline that has never been stored (`version` 0), owned by the local account, in
    /// state PENDING. Its first commit carries version 1.
    pub fn new_local(pipeline_id: impl Into<String>, created_at: NaiveDateTime) -> Self {
        let pipeline_id = pipeline_id.into();
        PipelineRecord {
            name: pipeline_id.clone(),
            unique_id: pipeline_id.clone(),
            pipeline_id,
            account_id: "local".to_owned(),
            state: PipelineState::Pending,
            created_at,
            definition: None,
            active_definition: None,
            fields: BTreeMap::new(),
            version: 0,
        }
    }
}

/// One instance: a component's run for one schedule interval.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InstanceRecord {
    pub pipeline_id: String,
    /// `@<componentId>_<scheduledStartTime>`.
    pub instance_id: String,
    pub component_id: String,
    pub status: Status,
    pub scheduled_start: NaiveDateTime,
    pub scheduled_end: NaiveDateTime,
    pub actual_start: Option<NaiveDateTime>,
    pub actual_end: Option<NaiveDateTime>,
    /// Attempts created so far; the current attempt is number `attempt_count`.
    pub attempt_count: u32,
    /// Other runtime fields (`@cascadeFailedOn`, `errorMessage`, `@waitingOn`, …), each a list.
    pub fields: BTreeMap<String, Vec<String>>,
}

/// One attempt: an instance's try, handed to a task runner as a task.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AttemptRecord {
    pub pipeline_id: String,
    /// `@<componentId>_<scheduledStartTime>_Attempt=<n>`.
    pub attempt_id: String,
    pub instance_id: String,
    pub number: u32,
    pub status: Status,
    /// The worker group that may take the task (for `runsOn`, the resource instance's own group).
    pub worker_group: String,
    /// Set while a runner holds the task.
    pub task_id: Option<String>,
    pub hostname: Option<String>,
    pub taskrunner_id: Option<String>,
    pub created_at: NaiveDateTime,
    pub started_at: Option<NaiveDateTime>,
    pub ended_at: Option<NaiveDateTime>,
    /// When the runner's lease lapses unless it reports progress.
    pub lease_expires_at: Option<NaiveDateTime>,
    pub result: Option<TaskResult>,
    /// Other runtime fields (`reportProgressTime`, `attemptStatus`, log paths, …).
    pub fields: BTreeMap<String, Vec<String>>,
}

/// Everything one engine step changed; a store applies it atomically.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ChangeSet {
    pub pipelines: Vec<PipelineRecord>,
    pub instances: Vec<InstanceRecord>,
    pub attempts: Vec<AttemptRecord>,
}

impl ChangeSet {
    pub fn is_empty(&self) -> bool {
        self.pipelines.is_empty() && self.instances.is_empty() && self.attempts.is_empty()
    }
}

/// Why a store operation failed. The kind decides what a caller does next (see the driver's
/// documentation for what the scheduler does with each); the message is for people.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// The backing database could not be reached or failed; the operation may be retried.
    #[error("state store unavailable: {0}")]
    Unavailable(String),
    /// Stored data could not be decoded (a newer or corrupted database).
    #[error("state store holds unreadable data: {0}")]
    Corrupt(String),
    /// Another writer changed the record first.
    #[error("conflicting write to the state store: {0}")]
    Conflict(String),
}

pub type StoreResult<T> = Result<T, StoreError>;

/// An instance's place in the order stores list instances in: scheduled start, then id (byte
/// order).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct InstanceKey {
    pub scheduled_start: NaiveDateTime,
    pub instance_id: String,
}

impl InstanceKey {
    pub fn of(instance: &InstanceRecord) -> InstanceKey {
        InstanceKey {
            scheduled_start: instance.scheduled_start,
            instance_id: instance.instance_id.clone(),
        }
    }
}

/// A page of a pipeline's instances: those passing every filter given, after `after`, at most
/// `limit`, in [`InstanceKey`] order. A filter left `None` passes everything; an empty list
/// passes nothing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InstanceQuery {
    /// Any of these statuses.
    pub statuses: Option<Vec<Status>>,
    /// Instances of any of these components.
    pub components: Option<Vec<String>>,
    /// Scheduled start at or after this.
    pub start_from: Option<NaiveDateTime>,
    /// Scheduled start strictly before this.
    pub start_before: Option<NaiveDateTime>,
    /// Only instances that sort after this key (the last one of the previous page).
    pub after: Option<InstanceKey>,
    pub limit: usize,
}

impl Default for InstanceQuery {
    /// Every instance.
    fn default() -> Self {
        InstanceQuery {
            statuses: None,
            components: None,
            start_from: None,
            start_before: None,
            after: None,
            limit: usize::MAX,
        }
    }
}

impl InstanceQuery {
    /// Whether `instance` belongs to the result, `limit` aside: the definition every store's
    /// answer must agree with.
    pub fn selects(&self, instance: &InstanceRecord) -> bool {
        let start = instance.scheduled_start;
        self.statuses
            .as_ref()
            .is_none_or(|s| s.contains(&instance.status))
            && self
                .components
                .as_ref()
                .is_none_or(|c| c.contains(&instance.component_id))
            && self.start_from.is_none_or(|from| start >= from)
            && self.start_before.is_none_or(|before| start < before)
            && self.after.as_ref().is_none_or(|after| {
                (start, instance.instance_id.as_str())
                    > (after.scheduled_start, after.instance_id.as_str())
            })
    }

    /// Whether no instance can pass the filters (an empty list, an empty time range, a zero
    /// limit), so a store can answer without reading.
    pub fn selects_nothing(&self) -> bool {
        self.limit == 0
            || self.statuses.as_ref().is_some_and(Vec::is_empty)
            || self.components.as_ref().is_some_and(Vec::is_empty)
            || matches!((self.start_from, self.start_before), (Some(from), Some(before)) if from >= before)
    }
}

/// The 64-bit FNV-1a hash of an instance id, by which [`Store::instances_with_id_hash`] finds
/// instances. It is stable across processes and versions: stores keep it in their rows, and
/// QueryObjects markers carry it.
pub fn id_hash(id: &str) -> u64 {
    id.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

/// Durable state of pipelines, instances and attempts.
#[async_trait]
pub trait Store: Send + Sync {
    /// Applies every record of `changes` atomically (upserts keyed by id).
    async fn commit(&self, changes: &ChangeSet) -> StoreResult<()>;

    async fn pipeline(&self, pipeline_id: &str) -> StoreResult<Option<PipelineRecord>>;

    /// Every pipeline, ordered by id.
    async fn pipelines(&self) -> StoreResult<Vec<PipelineRecord>>;

    /// Every instance of a pipeline, ordered by (scheduled start, instance id).
    async fn instances(&self, pipeline_id: &str) -> StoreResult<Vec<InstanceRecord>>;

    /// Every attempt of a pipeline, ordered by (instance id, number).
    async fn attempts(&self, pipeline_id: &str) -> StoreResult<Vec<AttemptRecord>>;

    /// The instances of a pipeline that `query` selects, in [`InstanceKey`] order, at most
    /// `query.limit` of them. The durable stores answer from indexes; this implementation
    /// reads every instance, which keeps stores without them correct.
    async fn query_instances(
        &self,
        pipeline_id: &str,
        query: &InstanceQuery,
    ) -> StoreResult<Vec<InstanceRecord>> {
        if query.selects_nothing() {
            return Ok(Vec::new());
        }
        let instances = self.instances(pipeline_id).await?;
        Ok(instances
            .into_iter()
            .filter(|i| query.selects(i))
            .take(query.limit)
            .collect())
    }

    /// The instances of a pipeline whose id has this [`id_hash`] (as a rule one at most), in
    /// [`InstanceKey`] order: how a caller that kept only the hash of an id (a QueryObjects
    /// marker) finds the instance again. This implementation reads every instance.
    async fn instances_with_id_hash(
        &self,
        pipeline_id: &str,
        hash: u64,
    ) -> StoreResult<Vec<InstanceRecord>> {
        let mut instances = self.instances(pipeline_id).await?;
        instances.retain(|i| id_hash(&i.instance_id) == hash);
        Ok(instances)
    }

    /// Removes a pipeline and everything it owns.
    async fn delete_pipeline(&self, pipeline_id: &str) -> StoreResult<()>;
}
