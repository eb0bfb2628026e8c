//! CreatePipeline, DeletePipeline, DescribePipelines, ListPipelines.

use sluice_engine::{ChangeSet, PipelineRecord};
use sluice_model::ops::{
    CreatePipelineInput, CreatePipelineOutput, DeletePipelineInput, DescribePipelinesInput,
    DescribePipelinesOutput, EmptyOutput, ListPipelinesInput, ListPipelinesOutput,
    PipelineDescription, PipelineIdName,
};
use sluice_model::time::format_datetime;
use sluice_model::{Field, PipelineState};

use crate::accounts::Principal;
use crate::error::{ApiError, ApiResult};
use crate::ids::new_pipeline_id;
use crate::objects::health::{Health, pipeline_health};
use crate::ops::tags::{encode_tags, stored_tags};
use crate::paging::page;
use crate::service::{DELETED_TIME, DESCRIPTION, PipelineMeta, Service, VERSION};

impl Service {
    /// CreatePipeline. Idempotent per account on (name, uniqueId): a repeated call returns the
    /// existing pipeline's id, whatever its description and tags say.
    pub async fn create_pipeline(
        &self,
        principal: &Principal,
        input: CreatePipelineInput,
    ) -> ApiResult<CreatePipelineOutput> {
        let _control = self.control.lock().await;
        self.refresh_registry().await?;
        {
            let registry = self.registry();
            let mine = registry
                .pipelines
                .iter()
                .filter(|(_, m)| !m.deleted && m.account_id == principal.account_id);
            let mut live = 0;
            for (id, meta) in mine {
                if meta.name == input.name && meta.unique_id == input.unique_id {
                    return Ok(CreatePipelineOutput {
                        pipeline_id: id.clone(),
                    });
                }
                live += 1;
            }
            if let Some(max) = self.options.max_pipelines_per_account
                && live >= max
            {
                return Err(ApiError::invalid(format!(
                    "Limit exceeded: the account already has {live} pipelines (at most {max})"
                )));
            }
        }
        let pipeline_id = loop {
            let id = new_pipeline_id();
            if !self.registry().pipelines.contains_key(&id) {
                break id;
            }
        };
        if let Some(m) = self.membership() {
            // Another server may be creating the same pipeline right now: the database
            // decides which id the (name, uniqueId) gets.
            let bound = m
                .backend
                .claim_unique_id(
                    &principal.account_id,
                    &input.name,
                    &input.unique_id,
                    &pipeline_id,
                )
                .await?;
            if bound != pipeline_id {
                return Ok(CreatePipelineOutput { pipeline_id: bound });
            }
        }
        let now = self.clock.now();
        let mut record = PipelineRecord::new_local(pipeline_id.clone(), now);
        record.name = input.name.clone();
        record.unique_id = input.unique_id.clone();
        record.account_id = principal.account_id.clone();
        record.version = 1;
        record.fields.insert(VERSION.into(), "1".into());
        if let Some(description) = &input.description {
            record
                .fields
                .insert(DESCRIPTION.into(), description.clone());
        }
        if let Some(tags) = input.tags.as_deref().filter(|t| !t.is_empty()) {
            let mut merged = Vec::new();
            crate::ops::tags::merge_tags(&mut merged, tags);
            record
                .fields
                .insert(crate::service::TAGS.into(), encode_tags(&merged));
        }
        let committed = self
            .store
            .commit(&ChangeSet {
                pipelines: vec![record],
                ..ChangeSet::default()
            })
            .await;
        if let Err(error) = committed {
            if let Some(m) = self.membership() {
                // Best effort: a binding left behind would name a pipeline that never was.
                let _ = m.backend.free_unique_id(&pipeline_id).await;
            }
            return Err(error.into());
        }
        self.registry_mut().pipelines.insert(
            pipeline_id.clone(),
            PipelineMeta {
                account_id: principal.account_id.clone(),
                name: input.name,
                unique_id: input.unique_id,
                deleted: false,
            },
        );
        if let Err(error) = self.take(&pipeline_id).await {
            // Some server takes it at its next round.
            tracing::warn!(pipeline = %pipeline_id, "cannot take the new pipeline's lease: {}", error.message());
        }
        tracing::info!(pipeline = %pipeline_id, account = %principal.account_id, "pipeline created");
        Ok(CreatePipelineOutput { pipeline_id })
    }

    /// DeletePipeline: cancels running work, removes definitions and run history, and leaves a
    /// tombstone. A second delete is PipelineNotFoundException, the model's only "no such
    /// pipeline" error for this operation.
    pub async fn delete_pipeline(
        &self,
        principal: &Principal,
        input: DeletePipelineInput,
    ) -> ApiResult<EmptyOutput> {
        let _control = self.control.lock().await;
        let id = input.pipeline_id;
        let meta = self.meta(principal, &id).map_err(|e| match e {
            ApiError::PipelineDeleted(_) => {
                ApiError::PipelineNotFound(format!("Pipeline with id: {id} does not exist."))
            }
            other => other,
        })?;
        let scheduler = self.registry_mut().schedulers.remove(&id);
        if let Some(scheduler) = scheduler
            && let Err(error) = scheduler.deactivate(true).await
        {
            // The pipeline is going away; a failed cancellation only delays the runners'
            // discovery (their next report answers TaskNotFound).
            tracing::warn!(pipeline = %id, "cancelling work of a deleted pipeline: {error}");
        }
        self.forget_pipeline_tasks(&id);
        let old = self.store.pipeline(&id).await?;
        self.store.delete_pipeline(&id).await?;
        let now = self.clock.now();
        let mut tombstone = PipelineRecord::new_local(id.clone(), now);
        tombstone.name = meta.name;
        tombstone.unique_id = meta.unique_id;
        tombstone.account_id = meta.account_id;
        tombstone.state = PipelineState::Inactive;
        if let Some(old) = &old {
            tombstone.version = old.version.saturating_add(1 << 32);
            tombstone.created_at = old.created_at;
        } else {
            tombstone.version = 1;
        }
        tombstone
            .fields
            .insert(DELETED_TIME.into(), format_datetime(now));
        self.store
            .commit(&ChangeSet {
                pipelines: vec![tombstone],
                ..ChangeSet::default()
            })
            .await?;
        if let Some(meta) = self.registry_mut().pipelines.get_mut(&id) {
            meta.deleted = true;
        }
        if let Some(m) = self.membership() {
            crate::service::lock(&m.held).remove(&id);
            m.backend.retire(&id).await?;
            m.backend.free_unique_id(&id).await?;
        }
        if let Some(dir) = &self.options.data_dir {
            let logs = dir.join("logs").join(&id);
            // Best effort: the run history is gone from the store either way.
            if logs.is_dir()
                && let Err(error) = tokio::fs::remove_dir_all(&logs).await
            {
                tracing::warn!(pipeline = %id, "cannot remove {}: {error}", logs.display());
            }
        }
        tracing::info!(pipeline = %id, "pipeline deleted");
        Ok(EmptyOutput {})
    }

    /// DescribePipelines: every id must name a live pipeline of the caller's account.
    pub async fn describe_pipelines(
        &self,
        principal: &Principal,
        input: DescribePipelinesInput,
    ) -> ApiResult<DescribePipelinesOutput> {
        self.refresh_registry().await?;
        for id in &input.pipeline_ids {
            self.meta(principal, id)?;
        }
        let mut list = Vec::with_capacity(input.pipeline_ids.len());
        for id in &input.pipeline_ids {
            list.push(self.describe_pipeline(id).await?);
        }
        Ok(DescribePipelinesOutput {
            pipeline_description_list: list,
        })
    }

    async fn describe_pipeline(&self, id: &str) -> ApiResult<PipelineDescription> {
        let record = self.record(id).await?;
        let now = self.clock.now();
        let runtime = match self.scheduler(id) {
            Some(scheduler) => Some(
                scheduler
                    .inspect(|engine| {
                        let instances = engine.instances();
                        let latest = instances.iter().filter_map(|i| i.actual_start).max();
                        let next = engine
                            .next_run_times()
                            .into_values()
                            .min()
                            .map(|at| at.max(now));
                        (pipeline_health(&instances), latest, next)
                    })
                    .await,
            ),
            None => None,
        };
        let description = record.fields.get(DESCRIPTION).cloned();
        let mut fields = vec![Field::string("@pipelineState", record.state.as_str())];
        if let Some(text) = &description {
            fields.push(Field::string("description", text.clone()));
        }
        fields.extend([
            Field::string("name", record.name.clone()),
            Field::string("@creationTime", format_datetime(record.created_at)),
            Field::string("@id", id),
            Field::string("pipelineCreator", record.account_id.clone()),
            Field::string("@sphere", "PIPELINE"),
            Field::string("@userId", record.account_id.clone()),
            Field::string("@accountId", record.account_id.clone()),
            Field::string("uniqueId", record.unique_id.clone()),
            Field::string(
                "@version",
                record
                    .fields
                    .get(VERSION)
                    .cloned()
                    .unwrap_or_else(|| "1".into()),
            ),
        ]);
        for key in [
            "@firstActivationTime",
            "@lastActivationTime",
            "@lastDeactivatedTime",
        ] {
            if let Some(value) = record.fields.get(key) {
                fields.push(Field::string(key, value.clone()));
            }
        }
        if let Some((health, latest, next)) = runtime {
            if let Some(Health { status, from }) = health {
                fields.push(Field::string("@healthStatus", status));
                fields.push(Field::string("@healthStatusFromInstanceId", from));
            }
            if let Some(at) = latest {
                fields.push(Field::string("@latestRunTime", format_datetime(at)));
            }
            if let Some(at) = next {
                fields.push(Field::string("@nextRunTime", format_datetime(at)));
            }
        }
        Ok(PipelineDescription {
            pipeline_id: id.to_owned(),
            name: record.name,
            fields,
            description,
            tags: Some(stored_tags(&record.fields)),
        })
    }

    /// ListPipelines: the caller's live pipelines in id order, a page at a time.
    pub async fn list_pipelines(
        &self,
        principal: &Principal,
        input: ListPipelinesInput,
    ) -> ApiResult<ListPipelinesOutput> {
        self.refresh_registry().await?;
        let mut mine: Vec<(String, String)> = self
            .registry()
            .pipelines
            .iter()
            .filter(|(_, m)| !m.deleted && m.account_id == principal.account_id)
            .map(|(id, m)| (id.clone(), m.name.clone()))
            .collect();
        mine.sort();
        let keys: Vec<&str> = mine.iter().map(|(id, _)| id.as_str()).collect();
        let page = page(&keys, input.marker.as_deref(), self.options.list_page_size)?;
        let has_more = page.has_more();
        Ok(ListPipelinesOutput {
            pipeline_id_list: mine[page.range]
                .iter()
                .map(|(id, name)| PipelineIdName {
                    id: Some(id.clone()),
                    name: Some(name.clone()),
                })
                .collect(),
            marker: page.marker,
            has_more_results: Some(has_more),
        })
    }
}
