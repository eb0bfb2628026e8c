//! PutPipelineDefinition, GetPipelineDefinition, ValidatePipelineDefinition.
//!
//! Design decisions:
//! * The fatal errors AWS lists for PutPipelineDefinition are an InvalidRequestException and
//!   nothing is stored: an object without id or name, an empty string or reference value, and
//!   more objects than the limit when limits are enforced as errors.
//! * A FINISHED pipeline's definition is not saved: the answer is `errored` with one error
//!   naming the state, as AWS's PutPipelineDefinition documents, and the stored definitions
//!   stay as they were. Its work is done; a changed definition goes into a new pipeline.
//! * Anything else is stored as the latest definition even with validation errors, and the
//!   answer says `errored`; activation refuses an errored definition. After the first
//!   activation the edit restrictions ([`crate::edits`]) add errors of their own.
//! * Definitions are stored and returned exactly as put; both lists of the answer are always
//!   present, as in the AWS CLI's example.

use sluice_definition::{Enforcement, ValidateOptions, ValidationReport, validate};
use sluice_model::ops::{
    GetPipelineDefinitionInput, GetPipelineDefinitionOutput, PutPipelineDefinitionInput,
    PutPipelineDefinitionOutput, ValidatePipelineDefinitionInput, ValidatePipelineDefinitionOutput,
};
use sluice_model::{FieldValue, PipelineDefinition, PipelineState};

use crate::accounts::Principal;
use crate::edits::restricted_edits;
use crate::error::{ApiError, ApiResult};
use crate::service::Service;

fn definition_of(input: PutPipelineDefinitionInput) -> PipelineDefinition {
    PipelineDefinition {
        pipeline_objects: input.pipeline_objects,
        parameter_objects: input.parameter_objects.unwrap_or_default(),
        parameter_values: input.parameter_values.unwrap_or_default(),
    }
}

fn non_empty<T>(list: Vec<T>) -> Option<Vec<T>> {
    (!list.is_empty()).then_some(list)
}

fn answer(report: ValidationReport) -> PutPipelineDefinitionOutput {
    PutPipelineDefinitionOutput {
        errored: report.errored(),
        validation_errors: Some(report.errors),
        validation_warnings: Some(report.warnings),
    }
}

impl Service {
    /// The fatal checks, validation, and (after activation) the edit restrictions.
    pub(crate) fn check_definition(
        &self,
        definition: &PipelineDefinition,
        active: Option<&PipelineDefinition>,
    ) -> ApiResult<ValidationReport> {
        self.fatal_problems(definition)?;
        let options = ValidateOptions {
            now: Some(self.clock.now()),
        };
        let mut report = validate(definition, &self.catalog, &self.options.limits, &options);
        if let Some(active) = active {
            for (id, message) in restricted_edits(active, definition) {
                report.add_error(id, message);
            }
        }
        Ok(report)
    }

    fn fatal_problems(&self, definition: &PipelineDefinition) -> ApiResult<()> {
        let fatal = |text: String| {
            Err(ApiError::invalid(format!(
                "Pipeline definition has errors: {text}"
            )))
        };
        let limits = &self.options.limits;
        let count = definition.pipeline_objects.len();
        if limits.enforcement == Enforcement::Error && count > limits.max_objects {
            return fatal(format!(
                "the pipeline has {count} objects, more than the limit of {}",
                limits.max_objects
            ));
        }
        for (position, object) in definition.pipeline_objects.iter().enumerate() {
            if object.id.is_empty() {
                return fatal(format!("object {} has an empty id", position + 1));
            }
            if object.name.is_empty() {
                return fatal(format!("object '{}' has an empty name", object.id));
            }
            for field in &object.fields {
                let empty = match &field.value {
                    FieldValue::String(s) => s.is_empty(),
                    FieldValue::Ref(r) => r.is_empty(),
                };
                if empty {
                    return fatal(format!(
                        "field '{}' of object '{}' is empty",
                        field.key, object.id
                    ));
                }
            }
        }
        Ok(())
    }

    /// PutPipelineDefinition.
    pub async fn put_pipeline_definition(
        &self,
        principal: &Principal,
        input: PutPipelineDefinitionInput,
    ) -> ApiResult<PutPipelineDefinitionOutput> {
        let _control = self.control.lock().await;
        let pipeline_id = input.pipeline_id.clone();
        self.meta(principal, &pipeline_id)?;
        let definition = definition_of(input);
        let record = self.record(&pipeline_id).await?;
        let mut report = self.check_definition(&definition, record.active_definition.as_ref())?;
        if record.state == PipelineState::Finished {
            report.add_error(
                pipeline_id.clone(),
                "the pipeline is FINISHED, so its definition was not saved; create a new \
                 pipeline for the changed definition",
            );
            return Ok(answer(report));
        }
        self.write_record(&pipeline_id, move |record| {
            record.definition = Some(definition);
        })
        .await?;
        Ok(answer(report))
    }

    /// ValidatePipelineDefinition: the same checks as PutPipelineDefinition; stores nothing.
    pub async fn validate_pipeline_definition(
        &self,
        principal: &Principal,
        input: ValidatePipelineDefinitionInput,
    ) -> ApiResult<ValidatePipelineDefinitionOutput> {
        let pipeline_id = input.pipeline_id.clone();
        self.meta(principal, &pipeline_id)?;
        let record = self.record(&pipeline_id).await?;
        let definition = definition_of(input);
        let report = self.check_definition(&definition, record.active_definition.as_ref())?;
        Ok(answer(report))
    }

    /// GetPipelineDefinition: `version` `latest` (default) or `active`. A pipeline without
    /// such a definition answers an empty object list, which the AWS CLI's translation expects.
    pub async fn get_pipeline_definition(
        &self,
        principal: &Principal,
        input: GetPipelineDefinitionInput,
    ) -> ApiResult<GetPipelineDefinitionOutput> {
        self.meta(principal, &input.pipeline_id)?;
        let active = match input.version.as_deref() {
            None | Some("latest") => false,
            Some("active") => true,
            Some(other) => {
                return Err(ApiError::invalid(format!(
                    "version must be 'latest' or 'active', not '{other}'"
                )));
            }
        };
        let record = self.record(&input.pipeline_id).await?;
        let definition = if active {
            record.active_definition
        } else {
            record.definition
        }
        .unwrap_or_default();
        Ok(GetPipelineDefinitionOutput {
            pipeline_objects: Some(definition.pipeline_objects),
            parameter_objects: non_empty(definition.parameter_objects),
            parameter_values: non_empty(definition.parameter_values),
        })
    }
}
