//! Request bodies: the JSON of each operation decoded into its input shape and checked against
//! the model's constraints ([`crate::validate`]), failing as AWS fails: a body that is not a
//! JSON object, or a member of the wrong type, is a `SerializationException`; a missing member
//! or an unknown enumeration value an `InvalidRequestException` naming it.

use serde::de::DeserializeOwned;
use serde_json::error::Category;
use sluice_model::ops::{
    ActivatePipelineInput, AddTagsInput, CreatePipelineInput, DeactivatePipelineInput,
    DeletePipelineInput, DescribeObjectsInput, DescribePipelinesInput, EvaluateExpressionInput,
    GetPipelineDefinitionInput, ListPipelinesInput, Operation, PollForTaskInput,
    PutPipelineDefinitionInput, QueryObjectsInput, RemoveTagsInput, ReportTaskProgressInput,
    ReportTaskRunnerHeartbeatInput, SetStatusInput, SetTaskStatusInput,
    ValidatePipelineDefinitionInput,
};
use sluice_runtime::{ApiError, ApiResult};

use crate::validate::Validate;

/// The input enum and its decoder from one list, so that every operation has exactly one
/// input shape, the one its service method takes (the dispatcher's match checks that).
macro_rules! inputs {
    ($($operation:ident($shape:ty)),* $(,)?) => {
        /// A request's input, decoded and within the model's constraints.
        #[derive(Debug)]
        pub(crate) enum Input {
            $($operation($shape)),*
        }

        impl Input {
            #[cfg(any(test, feature = "fuzzing"))]
            pub(crate) fn operation(&self) -> Operation {
                match self {
                    $(Input::$operation(_) => Operation::$operation),*
                }
            }
        }

        /// Decodes `body` as `operation`'s input and checks it against the model's
        /// constraints.
        pub(crate) fn decode_input(operation: Operation, body: &[u8]) -> ApiResult<Input> {
            match operation {
                $(Operation::$operation => checked::<$shape>(body).map(Input::$operation)),*
            }
        }
    };
}

inputs! {
    ActivatePipeline(ActivatePipelineInput),
    AddTags(AddTagsInput),
    CreatePipeline(CreatePipelineInput),
    DeactivatePipeline(DeactivatePipelineInput),
    DeletePipeline(DeletePipelineInput),
    DescribeObjects(DescribeObjectsInput),
    DescribePipelines(DescribePipelinesInput),
    EvaluateExpression(EvaluateExpressionInput),
    GetPipelineDefinition(GetPipelineDefinitionInput),
    ListPipelines(ListPipelinesInput),
    PollForTask(PollForTaskInput),
    PutPipelineDefinition(PutPipelineDefinitionInput),
    QueryObjects(QueryObjectsInput),
    RemoveTags(RemoveTagsInput),
    ReportTaskProgress(ReportTaskProgressInput),
    ReportTaskRunnerHeartbeat(ReportTaskRunnerHeartbeatInput),
    SetStatus(SetStatusInput),
    SetTaskStatus(SetTaskStatusInput),
    ValidatePipelineDefinition(ValidatePipelineDefinitionInput),
}

fn checked<I: DeserializeOwned + Validate>(body: &[u8]) -> ApiResult<I> {
    let input: I = decode(body)?;
    input.validate()?;
    Ok(input)
}

/// Decodes a request body (an empty one is `{}`).
fn decode<I: DeserializeOwned>(body: &[u8]) -> ApiResult<I> {
    let body: &[u8] = match body.iter().find(|b| !b.is_ascii_whitespace()) {
        None => b"{}",
        Some(b'{') => body,
        // serde would read a struct from an array too; the protocol only has objects.
        Some(_) => {
            return Err(ApiError::Serialization(
                "The request body must be a JSON object".into(),
            ));
        }
    };
    serde_json::from_slice(body).map_err(|error| {
        let message = aws_wording(&error);
        match error.classify() {
            Category::Data if !message.starts_with("invalid type") => {
                ApiError::InvalidRequest(message)
            }
            Category::Data => ApiError::Serialization(message),
            Category::Syntax | Category::Eof | Category::Io => {
                ApiError::Serialization(format!("The request body is not valid JSON: {message}"))
            }
        }
    })
}

/// A decoding error as AWS words it: a missing member is a validation error naming it, and
/// no message carries the JSON reader's position ("at line 1 column 13").
fn aws_wording(error: &serde_json::Error) -> String {
    let message = error.to_string();
    let message = match message.rfind(" at line ") {
        Some(at) if message[at..].contains(" column ") => message[..at].to_owned(),
        _ => message,
    };
    match message
        .strip_prefix("missing field `")
        .and_then(|rest| rest.strip_suffix('`'))
    {
        Some(member) => format!(
            "1 validation error detected: Value null at '{member}' failed to satisfy \
             constraint: Member must not be null"
        ),
        None => message,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decoding_failures_are_classified() {
        let syntax = decode::<CreatePipelineInput>(b"{not json").unwrap_err();
        assert_eq!(syntax.aws_type(), "SerializationException");
        let wrong_type =
            decode::<CreatePipelineInput>(br#"{"name": 1, "uniqueId": "u"}"#).unwrap_err();
        assert_eq!(wrong_type.aws_type(), "SerializationException");
        let missing = decode::<CreatePipelineInput>(br#"{"name": "n"}"#).unwrap_err();
        assert_eq!(missing.aws_type(), "InvalidRequestException");
        assert!(
            missing.message().contains("uniqueId"),
            "{}",
            missing.message()
        );
        let bad_enum =
            decode::<SetTaskStatusInput>(br#"{"taskId": "t", "taskStatus": "DONE"}"#).unwrap_err();
        assert_eq!(bad_enum.aws_type(), "InvalidRequestException");
        let empty = decode::<ListPipelinesInput>(b"").unwrap();
        assert_eq!(empty.marker, None);
    }

    #[test]
    fn each_operation_decodes_its_own_shape_and_constraints() {
        let created = decode_input(
            Operation::CreatePipeline,
            br#"{"name": "n", "uniqueId": "u"}"#,
        )
        .unwrap();
        assert!(matches!(created, Input::CreatePipeline(i) if i.unique_id == "u"));
        // Decodes, but breaks the model's length constraint on pipelineId.
        let error =
            decode_input(Operation::ActivatePipeline, br#"{"pipelineId": ""}"#).unwrap_err();
        assert_eq!(error.aws_type(), "InvalidRequestException");
        assert!(
            error.message().contains("'pipelineId'"),
            "{}",
            error.message()
        );
        let array = decode_input(Operation::ListPipelines, b" [1]").unwrap_err();
        assert_eq!(array.aws_type(), "SerializationException");
    }
}
