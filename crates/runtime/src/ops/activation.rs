//! ActivatePipeline and DeactivatePipeline.
//!
//! Design decisions:
//! * Activation validates the latest definition with the activation's `parameterValues`
//!   (each id given replaces every stored value of that id; other stored values stay), and
//!   refuses a missing or errored definition with an InvalidRequestException listing the
//!   errors. What is activated is stored as the active definition (GetPipelineDefinition
//!   `version: active`).
//! * The first activation opens the pipeline's scheduler. A later activation with the same
//!   definition resumes the same scheduler (`startTimestamp` SKIPs earlier intervals; an
//!   ondemand pipeline starts one more run). A later activation with a changed definition
//!   reopens the scheduler from the store with the new plan: finished work is kept, and an
//!   attempt still running under the old definition counts as a lost lease and is retried
//!   under the new one.
//! * Each activation with a changed definition (parameter values included) raises the
//!   pipeline's `@version`. The engine stamps every instance and attempt with the `@version`
//!   current when it is created, and the definition being replaced is kept in the pipeline
//!   record as `@definition:<version>`, so DescribeObjects, QueryObjects and
//!   EvaluateExpression show old objects as they ran (see `objects::view`). Kept definitions
//!   are pruned at each such activation: one survives while some instance or attempt names
//!   its version (the one just replaced is always kept, because the old scheduler may still
//!   have been creating objects for it).
//! * Deactivation of a pipeline that was never activated does nothing.

use std::collections::HashSet;

use sluice_model::ops::{
    ActivatePipelineInput, ActivatePipelineOutput, DeactivatePipelineInput,
    DeactivatePipelineOutput,
};
use sluice_model::{ParameterValue, PipelineDefinition};

use crate::accounts::Principal;
use crate::error::{ApiError, ApiResult};
use crate::service::{DEFINITION_PREFIX, Service, VERSION, errors_message};

/// The definition with the activation's parameter values applied.
fn with_parameter_values(
    mut definition: PipelineDefinition,
    values: Option<Vec<ParameterValue>>,
) -> PipelineDefinition {
    if let Some(values) = values.filter(|v| !v.is_empty()) {
        let given: HashSet<&str> = values.iter().map(|v| v.id.as_str()).collect();
        definition
            .parameter_values
            .retain(|v| !given.contains(v.id.as_str()));
        definition.parameter_values.extend(values);
    }
    definition
}

impl Service {
    /// ActivatePipeline.
    pub async fn activate_pipeline(
        &self,
        principal: &Principal,
        input: ActivatePipelineInput,
    ) -> ApiResult<ActivatePipelineOutput> {
        let _control = self.control.lock().await;
        let id = input.pipeline_id;
        self.meta(principal, &id)?;
        let record = self.record(&id).await?;
        let Some(latest) = record.definition.clone() else {
            return Err(ApiError::invalid(format!(
                "Pipeline {id} has no definition; put one with PutPipelineDefinition first"
            )));
        };
        let definition = with_parameter_values(latest, input.parameter_values);
        let report = self.check_definition(&definition, record.active_definition.as_ref())?;
        if report.errored() {
            return Err(ApiError::invalid(errors_message(&report)));
        }
        let start = input.start_timestamp.map(|t| t.0);
        let unchanged = record.active_definition.as_ref() == Some(&definition);
        let scheduler = match self.scheduler(&id) {
            Some(scheduler) if unchanged => scheduler,
            existing => {
                let plan = self.compile(&definition)?;
                let version = match (&record.active_definition, record.fields.get(VERSION)) {
                    (Some(_), Some(v)) => v.parse::<u64>().unwrap_or(1) + 1,
                    _ => 1,
                };
                let active = definition.clone();
                let mut keep = self.referenced_versions(&id).await?;
                let replaced = match (&record.active_definition, record.fields.get(VERSION)) {
                    (Some(old), Some(v)) => {
                        keep.insert(v.clone());
                        Some((
                            v.clone(),
                            serde_json::to_string(old)
                                .map_err(|e| ApiError::internal(e.to_string()))?,
                        ))
                    }
                    _ => None,
                };
                self.write_record(&id, move |r| {
                    r.fields.retain(|key, _| {
                        key.strip_prefix(DEFINITION_PREFIX)
                            .is_none_or(|v| keep.contains(v))
                    });
                    if let Some((v, text)) = replaced {
                        r.fields.insert(format!("{DEFINITION_PREFIX}{v}"), text);
                    }
                    r.active_definition = Some(active);
                    r.fields.insert(VERSION.into(), version.to_string());
                })
                .await?;
                if existing.is_some() {
                    self.registry_mut().schedulers.remove(&id);
                    self.forget_pipeline_tasks(&id);
                }
                let scheduler = self.open_scheduler_with(&id, plan).await?;
                self.install_scheduler(&id, scheduler.clone());
                scheduler
            }
        };
        scheduler.activate(start).await?;
        tracing::info!(pipeline = %id, "pipeline activated");
        Ok(ActivatePipelineOutput {})
    }

    /// DeactivatePipeline: `cancelActive` (default true) cancels work in progress; otherwise
    /// running tasks may finish but nothing new starts until the next activation.
    pub async fn deactivate_pipeline(
        &self,
        principal: &Principal,
        input: DeactivatePipelineInput,
    ) -> ApiResult<DeactivatePipelineOutput> {
        let _control = self.control.lock().await;
        self.meta(principal, &input.pipeline_id)?;
        if let Some(scheduler) = self.scheduler(&input.pipeline_id) {
            scheduler
                .deactivate(input.cancel_active.unwrap_or(true))
                .await?;
            tracing::info!(pipeline = %input.pipeline_id, "pipeline deactivated");
        }
        Ok(DeactivatePipelineOutput {})
    }
}
