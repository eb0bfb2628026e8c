//! An in-memory [`Store`]: the engine's tests run against it, and it defines by example what
//! every durable store must do (the conformance suite, `crate::conformance`, holds it to the
//! same checks as SQLite).
//!
//! It enforces the same write rules as the durable stores, so a test that passes here does not
//! fail against SQLite:
//!
//! - a pipeline record's `version` must be greater than the stored one, otherwise the commit
//!   fails with [`StoreError::Conflict`] (another writer got there first);
//! - instances and attempts must belong to a pipeline that is stored or written in the same
//!   change set, otherwise [`StoreError::Conflict`] (the pipeline was deleted meanwhile);
//! - a failed commit changes nothing.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, MutexGuard};

use async_trait::async_trait;

use crate::store::{
    AttemptRecord, ChangeSet, InstanceRecord, PipelineRecord, Store, StoreError, StoreResult,
};

/// Records keyed by pipeline id, then by the record's own id.
#[derive(Debug, Default)]
struct Tables {
    pipelines: BTreeMap<String, PipelineRecord>,
    instances: BTreeMap<String, BTreeMap<String, InstanceRecord>>,
    attempts: BTreeMap<String, BTreeMap<String, AttemptRecord>>,
}

/// A [`Store`] that keeps everything in process memory; nothing survives the process.
///
/// Share one between an engine and a "restarted" engine with an `Arc` to simulate a restart.
#[derive(Debug, Default)]
pub struct MemoryStore {
    tables: Mutex<Tables>,
    unavailable: AtomicBool,
}

impl MemoryStore {
    pub fn new() -> Self {
        MemoryStore::default()
    }

    /// While set, every operation fails with [`StoreError::Unavailable`], as a database that
    /// went away would; lets engine tests exercise their handling of an unreachable store.
    pub fn set_unavailable(&self, unavailable: bool) {
        self.unavailable.store(unavailable, Ordering::SeqCst);
    }

    fn tables(&self) -> StoreResult<MutexGuard<'_, Tables>> {
        if self.unavailable.load(Ordering::SeqCst) {
            return Err(StoreError::Unavailable(
                "memory store is switched off (MemoryStore::set_unavailable)".to_owned(),
            ));
        }
        // No code path panics while holding the lock with the tables half-updated (commit
        // validates before it mutates), so the data behind a poisoned lock is still whole.
        Ok(self.tables.lock().unwrap_or_else(|e| e.into_inner()))
    }
}

/// Checks every rule a commit must satisfy before anything is changed, so that a rejected
/// change set leaves the tables exactly as they were.
fn validate(tables: &Tables, changes: &ChangeSet) -> StoreResult<()> {
    // Versions written earlier in the same change set count as stored.
    let mut versions: BTreeMap<&str, u64> = BTreeMap::new();
    for pipeline in &changes.pipelines {
        let id = pipeline.pipeline_id.as_str();
        let current = versions
            .get(id)
            .copied()
            .or_else(|| tables.pipelines.get(id).map(|p| p.version));
        if let Some(current) = current
            && pipeline.version <= current
        {
            return Err(stale_version(id, current, pipeline.version));
        }
        versions.insert(id, pipeline.version);
    }
    let exists = |pipeline_id: &str| {
        versions.contains_key(pipeline_id) || tables.pipelines.contains_key(pipeline_id)
    };
    for instance in &changes.instances {
        if !exists(&instance.pipeline_id) {
            return Err(missing_pipeline(
                "instance",
                &instance.instance_id,
                &instance.pipeline_id,
            ));
        }
    }
    for attempt in &changes.attempts {
        if !exists(&attempt.pipeline_id) {
            return Err(missing_pipeline(
                "attempt",
                &attempt.attempt_id,
                &attempt.pipeline_id,
            ));
        }
    }
    Ok(())
}

/// The error every store returns when a pipeline record does not advance the stored version.
fn stale_version(pipeline_id: &str, stored: u64, written: u64) -> StoreError {
    StoreError::Conflict(format!(
        "pipeline {pipeline_id}: stored version is {stored}, the write carries version \
         {written}; another writer changed it first (each write must increase the version)"
    ))
}

/// The error every store returns for a record whose pipeline does not exist.
fn missing_pipeline(kind: &str, id: &str, pipeline_id: &str) -> StoreError {
    StoreError::Conflict(format!(
        "{kind} {id}: pipeline {pipeline_id} does not exist (deleted, or never created)"
    ))
}

#[async_trait]
impl Store for MemoryStore {
    async fn commit(&self, changes: &ChangeSet) -> StoreResult<()> {
        let mut tables = self.tables()?;
        validate(&tables, changes)?;
        for pipeline in &changes.pipelines {
            tables
                .pipelines
                .insert(pipeline.pipeline_id.clone(), pipeline.clone());
        }
        for instance in &changes.instances {
            tables
                .instances
                .entry(instance.pipeline_id.clone())
                .or_default()
                .insert(instance.instance_id.clone(), instance.clone());
        }
        for attempt in &changes.attempts {
            tables
                .attempts
                .entry(attempt.pipeline_id.clone())
                .or_default()
                .insert(attempt.attempt_id.clone(), attempt.clone());
        }
        Ok(())
    }

    async fn pipeline(&self, pipeline_id: &str) -> StoreResult<Option<PipelineRecord>> {
        Ok(self.tables()?.pipelines.get(pipeline_id).cloned())
    }

    async fn pipelines(&self) -> StoreResult<Vec<PipelineRecord>> {
        Ok(self.tables()?.pipelines.values().cloned().collect())
    }

    async fn instances(&self, pipeline_id: &str) -> StoreResult<Vec<InstanceRecord>> {
        let tables = self.tables()?;
        let mut instances: Vec<InstanceRecord> = tables
            .instances
            .get(pipeline_id)
            .map(|by_id| by_id.values().cloned().collect())
            .unwrap_or_default();
        // The map is keyed by id, so a stable sort on the start time keeps ids ascending
        // within one start.
        instances.sort_by_key(|i| i.scheduled_start);
        Ok(instances)
    }

    async fn attempts(&self, pipeline_id: &str) -> StoreResult<Vec<AttemptRecord>> {
        let tables = self.tables()?;
        let mut attempts: Vec<AttemptRecord> = tables
            .attempts
            .get(pipeline_id)
            .map(|by_id| by_id.values().cloned().collect())
            .unwrap_or_default();
        // Keyed by attempt id, so a stable sort leaves ids ascending within one number.
        attempts.sort_by(|a, b| {
            (a.instance_id.as_str(), a.number).cmp(&(b.instance_id.as_str(), b.number))
        });
        Ok(attempts)
    }

    async fn delete_pipeline(&self, pipeline_id: &str) -> StoreResult<()> {
        let mut tables = self.tables()?;
        tables.pipelines.remove(pipeline_id);
        tables.instances.remove(pipeline_id);
        tables.attempts.remove(pipeline_id);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    crate::store_conformance_suite!(Box::new(MemoryStore::new()));

    #[tokio::test]
    async fn a_switched_off_store_is_unavailable_until_switched_back_on() {
        let store = MemoryStore::new();
        store.set_unavailable(true);
        assert!(matches!(
            store.commit(&ChangeSet::default()).await,
            Err(StoreError::Unavailable(_))
        ));
        assert!(matches!(
            store.pipelines().await,
            Err(StoreError::Unavailable(_))
        ));
        store.set_unavailable(false);
        assert_eq!(store.pipelines().await.unwrap(), Vec::new());
    }
}
