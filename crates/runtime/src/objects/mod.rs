//! Reading a pipeline's objects: the views DescribeObjects returns, QueryObjects' selectors,
//! and health.

pub(crate) mod component_runtime;
pub(crate) mod health;
pub(crate) mod query;
pub(crate) mod view;

use std::collections::HashSet;
use std::sync::Arc;

use sluice_catalog::Catalog;
use sluice_definition::{ResolvedPipeline, resolve};
use sluice_engine::{PipelineRecord, Scheduler};

use crate::error::ApiResult;
use crate::service::Service;
use view::{PipelineView, Runs, StoredRuns, Versions, record_version};

/// Where a view of a pipeline's objects comes from. One lives for one request, so the size
/// difference between variants does not matter.
#[allow(clippy::large_enum_variant)]
pub(crate) enum Source {
    /// The engine of a pipeline with a scheduler: its definitions and its records.
    Live(Arc<Scheduler>),
    /// The stored record of a pipeline without one, its current definition resolved; the
    /// records come from the store.
    Stored(PipelineRecord, ResolvedPipeline),
}

impl Source {
    /// Runs `f` over a view: of the engine's state (under its lock) when live, else of the
    /// stored definitions with `stored` as the instances and attempts. `f` learns which.
    pub(crate) async fn view<R: Send>(
        &self,
        catalog: &Catalog,
        stored: &(dyn Runs + Sync),
        f: impl FnOnce(&PipelineView<'_>, bool) -> R + Send,
    ) -> R {
        match self {
            Source::Live(scheduler) => {
                scheduler
                    .inspect(|engine| {
                        let record = engine.pipeline_record();
                        let versions = Versions::new(record, catalog);
                        let view = PipelineView {
                            record,
                            resolved: engine.plan().pipeline(),
                            versions: &versions,
                            catalog: engine.plan().catalog(),
                            runs: engine,
                        };
                        f(&view, true)
                    })
                    .await
            }
            Source::Stored(record, resolved) => {
                let versions = Versions::new(record, catalog);
                let view = PipelineView {
                    record,
                    resolved,
                    versions: &versions,
                    catalog,
                    runs: stored,
                };
                f(&view, false)
            }
        }
    }
}

impl Service {
    /// The source of a pipeline's views: its scheduler, or its stored record.
    pub(crate) async fn view_source(&self, pipeline_id: &str) -> ApiResult<Source> {
        if let Some(scheduler) = self.scheduler(pipeline_id) {
            return Ok(Source::Live(scheduler));
        }
        let record: PipelineRecord = self.record(pipeline_id).await?;
        let definition = record
            .active_definition
            .clone()
            .or_else(|| record.definition.clone())
            .unwrap_or_default();
        let resolved = resolve(&definition, &self.catalog);
        Ok(Source::Stored(record, resolved))
    }

    /// Runs `f` over a consistent view of a pipeline's objects: the engine's state (under its
    /// lock) when the pipeline has a scheduler, else the stored definition and records.
    pub(crate) async fn with_view<R: Send>(
        &self,
        pipeline_id: &str,
        f: impl FnOnce(&PipelineView<'_>) -> R + Send,
    ) -> ApiResult<R> {
        let source = self.view_source(pipeline_id).await?;
        let runs = match &source {
            Source::Live(_) => StoredRuns::default(),
            Source::Stored(..) => StoredRuns {
                instances: self.store.instances(pipeline_id).await?,
                attempts: self.store.attempts(pipeline_id).await?,
            },
        };
        Ok(source.view(&self.catalog, &runs, |view, _| f(view)).await)
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
