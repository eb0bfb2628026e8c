//! SetStatus and EvaluateExpression.

use sluice_expr::evaluate_string;
use sluice_model::ops::{
    EmptyOutput, EvaluateExpressionInput, EvaluateExpressionOutput, SetStatusInput,
};

use crate::accounts::Principal;
use crate::error::{ApiError, ApiResult};
use crate::service::Service;

impl Service {
    /// SetStatus: PAUSE / RESUME on components, TRY_CANCEL (or CANCEL) / RERUN / MARK_FINISHED
    /// on instances, case-insensitively; the engine refuses mixed ids, the wrong kind, unknown
    /// ids and a FINISHED pipeline. A pipeline that was never activated has nothing to change.
    pub async fn set_status(
        &self,
        principal: &Principal,
        input: SetStatusInput,
    ) -> ApiResult<EmptyOutput> {
        let _control = self.control.lock().await;
        self.meta(principal, &input.pipeline_id)?;
        let Some(scheduler) = self.scheduler(&input.pipeline_id) else {
            return Err(ApiError::invalid(format!(
                "Pipeline {} has not been activated; SetStatus applies to activated pipelines",
                input.pipeline_id
            )));
        };
        scheduler
            .set_status(&input.object_ids, &input.status)
            .await?;
        Ok(EmptyOutput {})
    }

    /// EvaluateExpression: evaluates `#{…}` in `expression` for a component, instance or
    /// attempt. An unknown object or an expression error is an InvalidRequestException carrying
    /// the evaluator's message.
    pub async fn evaluate_expression(
        &self,
        principal: &Principal,
        input: EvaluateExpressionInput,
    ) -> ApiResult<EvaluateExpressionOutput> {
        self.meta(principal, &input.pipeline_id)?;
        let EvaluateExpressionInput {
            object_id,
            expression,
            ..
        } = input;
        let result = self
            .with_view(&input.pipeline_id, |view| {
                let found = view.find(&object_id).ok_or_else(|| {
                    ApiError::invalid(format!(
                        "Object '{object_id}' is not a component, instance or attempt of the pipeline"
                    ))
                })?;
                let ctx = view.context(&found);
                evaluate_string(&expression, &ctx).map_err(|e| ApiError::invalid(e.to_string()))
            })
            .await??;
        Ok(EvaluateExpressionOutput {
            evaluated_expression: result,
        })
    }
}
