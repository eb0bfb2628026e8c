//! [`TimedStore`]: a [`Store`] that times each commit of the store it wraps.

use std::sync::Arc;
use std::time::Instant;

use async_trait::async_trait;
use sluice_engine::store::StoreResult;
use sluice_engine::store::{AttemptRecord, InstanceQuery, InstanceRecord, PipelineRecord};
use sluice_engine::{ChangeSet, Store};

use super::Metrics;

/// Times every commit into [`Metrics`]; everything else passes straight through (the paged
/// reads too, so the wrapped store's indexes still answer them).
pub(crate) struct TimedStore {
    inner: Arc<dyn Store>,
    metrics: Arc<Metrics>,
}

impl TimedStore {
    pub(crate) fn new(inner: Arc<dyn Store>, metrics: Arc<Metrics>) -> TimedStore {
        TimedStore { inner, metrics }
    }
}

#[async_trait]
impl Store for TimedStore {
    async fn commit(&self, changes: &ChangeSet) -> StoreResult<()> {
        let started = Instant::now();
        let result = self.inner.commit(changes).await;
        self.metrics
            .store_commit(started.elapsed(), result.as_ref().err());
        result
    }

    async fn pipeline(&self, pipeline_id: &str) -> StoreResult<Option<PipelineRecord>> {
        self.inner.pipeline(pipeline_id).await
    }

    async fn pipelines(&self) -> StoreResult<Vec<PipelineRecord>> {
        self.inner.pipelines().await
    }

    async fn instances(&self, pipeline_id: &str) -> StoreResult<Vec<InstanceRecord>> {
        self.inner.instances(pipeline_id).await
    }

    async fn attempts(&self, pipeline_id: &str) -> StoreResult<Vec<AttemptRecord>> {
        self.inner.attempts(pipeline_id).await
    }

    async fn query_instances(
        &self,
        pipeline_id: &str,
        query: &InstanceQuery,
    ) -> StoreResult<Vec<InstanceRecord>> {
        self.inner.query_instances(pipeline_id, query).await
    }

    async fn instances_with_id_hash(
        &self,
        pipeline_id: &str,
        hash: u64,
    ) -> StoreResult<Vec<InstanceRecord>> {
        self.inner.instances_with_id_hash(pipeline_id, hash).await
    }

    async fn delete_pipeline(&self, pipeline_id: &str) -> StoreResult<()> {
        self.inner.delete_pipeline(pipeline_id).await
    }
}
