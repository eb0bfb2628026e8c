//! Request and response shapes of the 19 operations of the `DataPipeline` JSON 1.1 API
//! (service model `2012-10-29`), named after the model's `<Operation>Input` / `<Operation>Output`
//! shapes, plus the structures only the operations use.
//!
//! Design decisions:
//! * Member names, required members and enumerations follow the model exactly: a required
//!   member is a plain field (its absence is a decoding error), an optional one an `Option`
//!   that responses leave out when absent. Unknown members are ignored, as AWS services do.
//! * DeletePipeline and SetStatus have no output shape in the model; the service answers `{}`
//!   ([`EmptyOutput`]), which every SDK accepts.
//! * `startTimestamp` is the model's only `timestamp`: the JSON protocol sends epoch seconds
//!   (possibly fractional); an ISO-8601 string is accepted too ([`Timestamp`]).
//! * Length limits, list sizes and the character pattern are checked by the API layer, not by
//!   decoding, so that a violation is an `InvalidRequestException` naming the member.

use chrono::{DateTime, NaiveDateTime};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::api::{
    Field, ParameterObject, ParameterValue, PipelineObject, ValidationError, ValidationWarning,
};
use crate::task::{TaskObject, TaskStatus};

/// The operations, as `X-Amz-Target: DataPipeline.<name>` names them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Operation {
    ActivatePipeline,
    AddTags,
    CreatePipeline,
    DeactivatePipeline,
    DeletePipeline,
    DescribeObjects,
    DescribePipelines,
    EvaluateExpression,
    GetPipelineDefinition,
    ListPipelines,
    PollForTask,
    PutPipelineDefinition,
    QueryObjects,
    RemoveTags,
    ReportTaskProgress,
    ReportTaskRunnerHeartbeat,
    SetStatus,
    SetTaskStatus,
    ValidatePipelineDefinition,
}

impl Operation {
    pub const ALL: [Operation; 19] = [
        Operation::ActivatePipeline,
        Operation::AddTags,
        Operation::CreatePipeline,
        Operation::DeactivatePipeline,
        Operation::DeletePipeline,
        Operation::DescribeObjects,
        Operation::DescribePipelines,
        Operation::EvaluateExpression,
        Operation::GetPipelineDefinition,
        Operation::ListPipelines,
        Operation::PollForTask,
        Operation::PutPipelineDefinition,
        Operation::QueryObjects,
        Operation::RemoveTags,
        Operation::ReportTaskProgress,
        Operation::ReportTaskRunnerHeartbeat,
        Operation::SetStatus,
        Operation::SetTaskStatus,
        Operation::ValidatePipelineDefinition,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Operation::ActivatePipeline => "ActivatePipeline",
            Operation::AddTags => "AddTags",
            Operation::CreatePipeline => "CreatePipeline",
            Operation::DeactivatePipeline => "DeactivatePipeline",
            Operation::DeletePipeline => "DeletePipeline",
            Operation::DescribeObjects => "DescribeObjects",
            Operation::DescribePipelines => "DescribePipelines",
            Operation::EvaluateExpression => "EvaluateExpression",
            Operation::GetPipelineDefinition => "GetPipelineDefinition",
            Operation::ListPipelines => "ListPipelines",
            Operation::PollForTask => "PollForTask",
            Operation::PutPipelineDefinition => "PutPipelineDefinition",
            Operation::QueryObjects => "QueryObjects",
            Operation::RemoveTags => "RemoveTags",
            Operation::ReportTaskProgress => "ReportTaskProgress",
            Operation::ReportTaskRunnerHeartbeat => "ReportTaskRunnerHeartbeat",
            Operation::SetStatus => "SetStatus",
            Operation::SetTaskStatus => "SetTaskStatus",
            Operation::ValidatePipelineDefinition => "ValidatePipelineDefinition",
        }
    }

    /// The operation with this exact name.
    pub fn from_name(name: &str) -> Option<Operation> {
        Operation::ALL.into_iter().find(|op| op.name() == name)
    }
}

impl std::fmt::Display for Operation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

// ---------------------------------------------------------------------------------------------
// Shared structures

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tag {
    pub key: String,
    pub value: String,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PipelineIdName {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PipelineDescription {
    pub pipeline_id: String,
    pub name: String,
    pub fields: Vec<Field>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tags: Option<Vec<Tag>>,
}

/// QueryObjects' query: every selector must match (AND).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Query {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub selectors: Option<Vec<Selector>>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Selector {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub field_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub operator: Option<Operator>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Operator {
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    pub operator_type: Option<OperatorType>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub values: Option<Vec<String>>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum OperatorType {
    #[serde(rename = "EQ")]
    Eq,
    #[serde(rename = "REF_EQ")]
    RefEq,
    #[serde(rename = "LE")]
    Le,
    #[serde(rename = "GE")]
    Ge,
    #[serde(rename = "BETWEEN")]
    Between,
}

/// An EC2 instance identity document and its signature (PollForTask); a self-hosted service
/// accepts and ignores it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct InstanceIdentity {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub document: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signature: Option<String>,
}

/// A `timestamp` member: epoch seconds on the wire (the JSON protocol's encoding, possibly
/// fractional); an ISO-8601 string (`2026-01-01T00:00:00Z`, with an offset, or without a zone
/// meaning UTC) is accepted when decoding. Held as UTC.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp(pub NaiveDateTime);

impl Serialize for Timestamp {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let utc = self.0.and_utc();
        let nanos = utc.timestamp_subsec_nanos();
        if nanos == 0 {
            s.serialize_i64(utc.timestamp())
        } else {
            s.serialize_f64(utc.timestamp() as f64 + f64::from(nanos) / 1e9)
        }
    }
}

impl<'de> Deserialize<'de> for Timestamp {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Visitor;

        impl serde::de::Visitor<'_> for Visitor {
            type Value = Timestamp;

            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("epoch seconds or an ISO-8601 date and time")
            }

            fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<Timestamp, E> {
                DateTime::from_timestamp(v, 0)
                    .map(|at| Timestamp(at.naive_utc()))
                    .ok_or_else(|| E::custom(format!("timestamp {v} is out of range")))
            }

            fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<Timestamp, E> {
                let v = i64::try_from(v)
                    .map_err(|_| E::custom(format!("timestamp {v} is out of range")))?;
                self.visit_i64(v)
            }

            fn visit_f64<E: serde::de::Error>(self, v: f64) -> Result<Timestamp, E> {
                timestamp_from_seconds(v).map(Timestamp).map_err(E::custom)
            }

            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Timestamp, E> {
                timestamp_from_text(v).map(Timestamp).map_err(E::custom)
            }
        }

        d.deserialize_any(Visitor)
    }
}

fn timestamp_from_seconds(seconds: f64) -> Result<NaiveDateTime, String> {
    if !seconds.is_finite() {
        return Err(format!("timestamp {seconds} is not a number of seconds"));
    }
    let whole = seconds.floor();
    let nanos = ((seconds - whole) * 1e9).round().min(999_999_999.0) as u32;
    // i64 holds every representable timestamp; out-of-range values fail in chrono below.
    DateTime::from_timestamp(whole as i64, nanos)
        .map(|at| at.naive_utc())
        .ok_or_else(|| format!("timestamp {seconds} is out of range"))
}

fn timestamp_from_text(text: &str) -> Result<NaiveDateTime, String> {
    let text = text.trim();
    if let Ok(at) = DateTime::parse_from_rfc3339(text) {
        return Ok(at.naive_utc());
    }
    for format in ["%Y-%m-%dT%H:%M:%S%.f", "%Y-%m-%d %H:%M:%S%.f"] {
        if let Ok(at) = NaiveDateTime::parse_from_str(text, format) {
            return Ok(at);
        }
    }
    if let Ok(seconds) = text.parse::<f64>() {
        return timestamp_from_seconds(seconds);
    }
    Err(format!(
        "'{text}' is not a timestamp: expected epoch seconds or an ISO-8601 date and time"
    ))
}

/// The reply of operations without an output shape (DeletePipeline, SetStatus): `{}`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct EmptyOutput {}

// ---------------------------------------------------------------------------------------------
// Pipelines

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CreatePipelineInput {
    pub name: String,
    pub unique_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tags: Option<Vec<Tag>>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CreatePipelineOutput {
    pub pipeline_id: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DeletePipelineInput {
    pub pipeline_id: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DescribePipelinesInput {
    pub pipeline_ids: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DescribePipelinesOutput {
    pub pipeline_description_list: Vec<PipelineDescription>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ListPipelinesInput {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub marker: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ListPipelinesOutput {
    pub pipeline_id_list: Vec<PipelineIdName>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub marker: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub has_more_results: Option<bool>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AddTagsInput {
    pub pipeline_id: String,
    pub tags: Vec<Tag>,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AddTagsOutput {}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RemoveTagsInput {
    pub pipeline_id: String,
    pub tag_keys: Vec<String>,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RemoveTagsOutput {}

// ---------------------------------------------------------------------------------------------
// Definitions

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PutPipelineDefinitionInput {
    pub pipeline_id: String,
    pub pipeline_objects: Vec<PipelineObject>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parameter_objects: Option<Vec<ParameterObject>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parameter_values: Option<Vec<ParameterValue>>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PutPipelineDefinitionOutput {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub validation_errors: Option<Vec<ValidationError>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub validation_warnings: Option<Vec<ValidationWarning>>,
    pub errored: bool,
}

/// Same members as [`PutPipelineDefinitionInput`].
pub type ValidatePipelineDefinitionInput = PutPipelineDefinitionInput;

/// Same members as [`PutPipelineDefinitionOutput`].
pub type ValidatePipelineDefinitionOutput = PutPipelineDefinitionOutput;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GetPipelineDefinitionInput {
    pub pipeline_id: String,
    /// `latest` (the default) or `active`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GetPipelineDefinitionOutput {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pipeline_objects: Option<Vec<PipelineObject>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parameter_objects: Option<Vec<ParameterObject>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parameter_values: Option<Vec<ParameterValue>>,
}

// ---------------------------------------------------------------------------------------------
// Activation

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ActivatePipelineInput {
    pub pipeline_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parameter_values: Option<Vec<ParameterValue>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start_timestamp: Option<Timestamp>,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ActivatePipelineOutput {}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DeactivatePipelineInput {
    pub pipeline_id: String,
    /// Defaults to `true`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cancel_active: Option<bool>,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeactivatePipelineOutput {}

// ---------------------------------------------------------------------------------------------
// Objects

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DescribeObjectsInput {
    pub pipeline_id: String,
    pub object_ids: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub evaluate_expressions: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub marker: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DescribeObjectsOutput {
    pub pipeline_objects: Vec<PipelineObject>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub marker: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub has_more_results: Option<bool>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct QueryObjectsInput {
    pub pipeline_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub query: Option<Query>,
    /// `COMPONENT`, `INSTANCE` or `ATTEMPT`.
    pub sphere: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub marker: Option<String>,
    /// Defaults to 100.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<i32>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct QueryObjectsOutput {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ids: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub marker: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub has_more_results: Option<bool>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SetStatusInput {
    pub pipeline_id: String,
    pub object_ids: Vec<String>,
    pub status: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EvaluateExpressionInput {
    pub pipeline_id: String,
    pub object_id: String,
    pub expression: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EvaluateExpressionOutput {
    pub evaluated_expression: String,
}

// ---------------------------------------------------------------------------------------------
// Task runners

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PollForTaskInput {
    pub worker_group: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hostname: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub instance_identity: Option<InstanceIdentity>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PollForTaskOutput {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub task_object: Option<TaskObject>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ReportTaskProgressInput {
    pub task_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fields: Option<Vec<Field>>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReportTaskProgressOutput {
    pub canceled: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ReportTaskRunnerHeartbeatInput {
    pub taskrunner_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub worker_group: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hostname: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReportTaskRunnerHeartbeatOutput {
    pub terminate: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SetTaskStatusInput {
    pub task_id: String,
    pub task_status: TaskStatus,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_message: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_stack_trace: Option<String>,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SetTaskStatusOutput {}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn operation_names_round_trip() {
        for op in Operation::ALL {
            assert_eq!(Operation::from_name(op.name()), Some(op));
        }
        assert_eq!(Operation::from_name("createPipeline"), None);
    }

    #[test]
    fn timestamps_accept_seconds_and_iso_strings() {
        let at = |v: serde_json::Value| serde_json::from_value::<Timestamp>(v).map(|t| t.0);
        let expected = crate::time::parse_datetime("2026-01-02T03:04:05").unwrap();
        assert_eq!(at(json!(1767323045)).unwrap(), expected);
        assert_eq!(
            at(json!(1767323045.5)).unwrap(),
            expected + chrono::Duration::milliseconds(500)
        );
        assert_eq!(at(json!("2026-01-02T03:04:05Z")).unwrap(), expected);
        assert_eq!(at(json!("2026-01-02T05:04:05+02:00")).unwrap(), expected);
        assert_eq!(at(json!("2026-01-02T03:04:05")).unwrap(), expected);
        assert!(at(json!("yesterday")).is_err());
        assert!(at(json!(true)).is_err());
        assert_eq!(
            serde_json::to_value(Timestamp(expected)).unwrap(),
            json!(1767323045)
        );
    }

    #[test]
    fn optional_members_are_left_out_and_required_ones_enforced() {
        let out = ListPipelinesOutput {
            pipeline_id_list: vec![PipelineIdName {
                id: Some("df-1".into()),
                name: Some("a".into()),
            }],
            marker: None,
            has_more_results: Some(false),
        };
        assert_eq!(
            serde_json::to_value(&out).unwrap(),
            json!({"pipelineIdList": [{"id": "df-1", "name": "a"}], "hasMoreResults": false})
        );
        assert_eq!(serde_json::to_string(&EmptyOutput {}).unwrap(), "{}");
        assert!(serde_json::from_value::<CreatePipelineInput>(json!({"name": "a"})).is_err());
        let query: QueryObjectsInput = serde_json::from_value(json!({
            "pipelineId": "df-1", "sphere": "INSTANCE", "unknownMember": 1,
            "query": {"selectors": [{"fieldName": "@status",
                "operator": {"type": "EQ", "values": ["FINISHED"]}}]}
        }))
        .unwrap();
        let selector = &query.query.unwrap().selectors.unwrap()[0];
        assert_eq!(
            selector.operator.as_ref().unwrap().operator_type,
            Some(OperatorType::Eq)
        );
    }
}
