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
//! `sluice-store`'s SQLite store (embedded default) and, later, PostgreSQL. Every method is
//! exercised by one conformance suite run against each.

use std::collections::BTreeMap;

use async_trait::async_trait;
use chrono::NaiveDateTime;
use serde::{Deserialize, Serialize};
use sluice_model::{PipelineDefinition, PipelineState, Status, TaskResult};

/// A pipeline: its definitions, state and pipeline-level fields.
///
/// Stored, the active definition is written only when it differs from the latest one (a flag
/// says when they are the same): a definition of many thousand objects is most of the record,
/// and the record is written on every change of pipeline state.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(from = "StoredPipelineRecord")]
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

/// How a [`PipelineRecord`] is read back: records written before the flag existed carry both
/// definitions.
#[derive(Deserialize)]
struct StoredPipelineRecord {
    pipeline_id: String,
    name: String,
    unique_id: String,
    account_id: String,
    state: PipelineState,
    created_at: NaiveDateTime,
    definition: Option<PipelineDefinition>,
    #[serde(default)]
    active_definition: Option<PipelineDefinition>,
    #[serde(default)]
    active_is_latest: bool,
    fields: BTreeMap<String, String>,
    version: u64,
}

impl From<StoredPipelineRecord> for PipelineRecord {
    fn from(stored: StoredPipelineRecord) -> Self {
        let active_definition = if stored.active_is_latest {
            stored.definition.clone()
        } else {
            stored.active_definition
        };
        PipelineRecord {
            pipeline_id: stored.pipeline_id,
            name: stored.name,
            unique_id: stored.unique_id,
            account_id: stored.account_id,
            state: stored.state,
            created_at: stored.created_at,
            definition: stored.definition,
            active_definition,
            fields: stored.fields,
            version: stored.version,
        }
    }
}

impl Serialize for PipelineRecord {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        #[derive(Serialize)]
        struct Out<'a> {
            pipeline_id: &'a str,
            name: &'a str,
            unique_id: &'a str,
            account_id: &'a str,
            state: &'a PipelineState,
            created_at: &'a NaiveDateTime,
            definition: &'a Option<PipelineDefinition>,
            #[serde(skip_serializing_if = "Option::is_none")]
            active_definition: Option<&'a PipelineDefinition>,
            #[serde(skip_serializing_if = "std::ops::Not::not")]
            active_is_latest: bool,
            fields: &'a BTreeMap<String, String>,
            version: u64,
        }
        let same = self.active_definition.is_some() && self.active_definition == self.definition;
        Out {
            pipeline_id: &self.pipeline_id,
            name: &self.name,
            unique_id: &self.unique_id,
            account_id: &self.account_id,
            state: &self.state,
            created_at: &self.created_at,
            definition: &self.definition,
            active_definition: if same {
                None
            } else {
                self.active_definition.as_ref()
            },
            active_is_latest: same,
            fields: &self.fields,
            version: self.version,
        }
        .serialize(serializer)
    }
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

    /// Removes a pipeline and everything it owns.
    async fn delete_pipeline(&self, pipeline_id: &str) -> StoreResult<()>;
}

#[cfg(test)]
mod record_tests {
    use sluice_model::{Field, PipelineObject};

    use super::*;

    fn definition(command: &str) -> PipelineDefinition {
        PipelineDefinition {
            pipeline_objects: vec![PipelineObject {
                id: "A".into(),
                name: "A".into(),
                fields: vec![Field::string("command", command)],
            }],
            ..PipelineDefinition::default()
        }
    }

    #[test]
    fn an_active_definition_equal_to_the_latest_is_stored_once_and_read_back() {
        let at = chrono::NaiveDate::from_ymd_opt(2026, 1, 1)
            .unwrap()
            .and_hms_opt(0, 0, 0)
            .unwrap();
        let mut record = PipelineRecord::new_local("df-1", at);
        for (latest, active) in [
            (None, None),
            (Some(definition("a")), None),
            (Some(definition("a")), Some(definition("a"))),
            (Some(definition("b")), Some(definition("a"))),
        ] {
            record.definition = latest;
            record.active_definition = active;
            let json = serde_json::to_string(&record).unwrap();
            let same =
                record.active_definition.is_some() && record.active_definition == record.definition;
            assert_eq!(json.matches("\"command\"").count(), {
                let stored = usize::from(record.definition.is_some())
                    + usize::from(record.active_definition.is_some());
                if same { 1 } else { stored }
            });
            let back: PipelineRecord = serde_json::from_str(&json).unwrap();
            assert_eq!(back, record, "{json}");
        }
        // A record written before the flag existed, with both definitions, still reads.
        record.definition = Some(definition("a"));
        record.active_definition = Some(definition("a"));
        let mut old = serde_json::to_value(&record).unwrap();
        old["active_definition"] = serde_json::to_value(definition("a")).unwrap();
        old.as_object_mut().unwrap().remove("active_is_latest");
        let back: PipelineRecord = serde_json::from_value(old).unwrap();
        assert_eq!(back, record);
    }
}
