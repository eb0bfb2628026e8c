//! Reading a pipeline's objects: the views DescribeObjects returns, QueryObjects' selectors,
//! and health.

pub(crate) mod health;
pub(crate) mod query;
pub(crate) mod view;

use std::collections::HashSet;

use sluice_definition::resolve;
use sluice_engine::PipelineRecord;

use crate::error::ApiResult;
use crate::service::Service;
use view::{PipelineView, Runs, StoredRuns, Versions, record_version};

impl Service {
    /// Runs `f` over a consistent view of a pipeline's objects: the engine's state (under its
    /// lock) when the pipeline has a scheduler, else the stored definition and records.
    pub(crate) async fn with_view<R: Send>(
        &self,
        pipeline_id: &str,
        f: impl FnOnce(&PipelineView<'_>) -> R + Send,
    ) -> ApiResult<R> {
        if let Some(scheduler) = self.scheduler(pipeline_id) {
            return Ok(scheduler
                .inspect(|engine| {
                    let record = engine.pipeline_record();
                    let versions = Versions::new(record, &self.catalog);
                    f(&PipelineView {
                        record,
                        resolved: engine.plan().pipeline(),
                        versions: &versions,
                        catalog: engine.plan().catalog(),
                        runs: engine,
                    })
                })
                .await);
        }
        let record: PipelineRecord = self.record(pipeline_id).await?;
        let definition = record
            .active_definition
            .clone()
            .or_else(|| record.definition.clone())
            .unwrap_or_default();
        let resolved = resolve(&definition, &self.catalog);
        let runs = StoredRuns {
            instances: self.store.instances(pipeline_id).await?,
            attempts: self.store.attempts(pipeline_id).await?,
        };
        let versions = Versions::new(&record, &self.catalog);
        Ok(f(&PipelineView {
            record: &record,
            resolved: &resolved,
            versions: &versions,
            catalog: &self.catalog,
            runs: &runs,
        }))
    }

    /// The definition versions some instance or attempt of the pipeline was created under.
    pub(crate) async fn referenced_versions(
        &self,
        pipeline_id: &str,
    ) -> ApiResult<HashSet<String>> {
        fn collect(runs: &dyn Runs) -> HashSet<String> {
            let instances = runs.all_instances();
            let attempts = runs.all_attempts();
            instances
                .iter()
                .map(|i| &i.fields)
                .chain(attempts.iter().map(|a| &a.fields))
                .filter_map(|fields| record_version(fields).map(str::to_owned))
                .collect()
        }
        if let Some(scheduler) = self.scheduler(pipeline_id) {
            return Ok(scheduler.inspect(|engine| collect(engine)).await);
        }
        Ok(collect(&StoredRuns {
            instances: self.store.instances(pipeline_id).await?,
            attempts: self.store.attempts(pipeline_id).await?,
        }))
    }
}
