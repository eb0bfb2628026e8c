//! Between the SDK's shapes and `sluice_model`'s: tasks for the runner, whole definitions for
//! anything that moves pipelines between services.
//!
//! A task or definition that cannot be represented (a field with both or neither of
//! `stringValue` and `refValue`, a missing id) is refused with a message naming the object and
//! field, rather than guessed at: executing a half-understood task is worse than failing it.

use std::collections::BTreeMap;

use aws_sdk_datapipeline::operation::get_pipeline_definition::GetPipelineDefinitionOutput;
use aws_sdk_datapipeline::types as sdk;
use sluice_model::{
    Field, FieldValue, ParameterAttribute, ParameterObject, ParameterValue, PipelineDefinition,
    PipelineObject, TaskObject, TaskResult, TaskStatus,
};

/// An SDK task as the model's [`TaskObject`].
pub(crate) fn task_from_sdk(task: sdk::TaskObject) -> Result<TaskObject, String> {
    let task_id = task
        .task_id
        .filter(|s| !s.is_empty())
        .ok_or("the task has no taskId")?;
    let pipeline_id = task
        .pipeline_id
        .filter(|s| !s.is_empty())
        .ok_or("the task has no pipelineId")?;
    let attempt_id = task
        .attempt_id
        .filter(|s| !s.is_empty())
        .ok_or_else(|| format!("the task of pipeline {pipeline_id} has no attemptId"))?;
    let objects = task
        .objects
        .unwrap_or_default()
        .into_iter()
        .map(|(key, object)| object_from_sdk(object).map(|object| (key, object)))
        .collect::<Result<BTreeMap<_, _>, _>>()
        .map_err(|e| format!("the task of attempt {attempt_id}: {e}"))?;
    if !objects.contains_key(&attempt_id) {
        return Err(format!(
            "the task does not include its attempt object {attempt_id}"
        ));
    }
    Ok(TaskObject {
        task_id,
        pipeline_id,
        attempt_id,
        objects,
    })
}

fn object_from_sdk(object: sdk::PipelineObject) -> Result<PipelineObject, String> {
    let id = object.id;
    let fields = object
        .fields
        .into_iter()
        .map(|field| field_from_sdk(field).map_err(|e| format!("object {id}: {e}")))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(PipelineObject {
        id,
        name: object.name,
        fields,
    })
}

fn field_from_sdk(field: sdk::Field) -> Result<Field, String> {
    let value = match (field.string_value, field.ref_value) {
        (Some(value), None) => FieldValue::String(value),
        (None, Some(target)) => FieldValue::Ref(target),
        (Some(_), Some(_)) => {
            return Err(format!(
                "field '{}' has both stringValue and refValue",
                field.key
            ));
        }
        (None, None) => {
            return Err(format!(
                "field '{}' has neither stringValue nor refValue",
                field.key
            ));
        }
    };
    Ok(Field {
        key: field.key,
        value,
    })
}

/// GetPipelineDefinition's answer as the model's definition, order kept.
pub fn definition_from_sdk(
    output: GetPipelineDefinitionOutput,
) -> Result<PipelineDefinition, String> {
    let pipeline_objects = output
        .pipeline_objects
        .unwrap_or_default()
        .into_iter()
        .map(object_from_sdk)
        .collect::<Result<_, _>>()?;
    let parameter_objects = output
        .parameter_objects
        .unwrap_or_default()
        .into_iter()
        .map(|parameter| ParameterObject {
            id: parameter.id,
            attributes: parameter
                .attributes
                .into_iter()
                .map(|a| ParameterAttribute {
                    key: a.key,
                    string_value: a.string_value,
                })
                .collect(),
        })
        .collect();
    let parameter_values = output
        .parameter_values
        .unwrap_or_default()
        .into_iter()
        .map(|v| ParameterValue {
            id: v.id,
            string_value: v.string_value,
        })
        .collect();
    Ok(PipelineDefinition {
        pipeline_objects,
        parameter_objects,
        parameter_values,
    })
}

/// A definition as PutPipelineDefinition's three members.
#[derive(Debug, Clone, PartialEq)]
pub struct SdkDefinition {
    pub objects: Vec<sdk::PipelineObject>,
    pub parameters: Vec<sdk::ParameterObject>,
    pub values: Vec<sdk::ParameterValue>,
}

/// The model's definition in the SDK's shapes, order kept.
pub fn definition_to_sdk(definition: &PipelineDefinition) -> SdkDefinition {
    const SET: &str = "every required member is set";
    let objects = definition
        .pipeline_objects
        .iter()
        .map(|object| {
            sdk::PipelineObject::builder()
                .id(&object.id)
                .name(&object.name)
                .set_fields(Some(object.fields.iter().map(field_to_sdk).collect()))
                .build()
                .expect(SET)
        })
        .collect();
    let parameters = definition
        .parameter_objects
        .iter()
        .map(|parameter| {
            let attributes = parameter
                .attributes
                .iter()
                .map(|a| {
                    sdk::ParameterAttribute::builder()
                        .key(&a.key)
                        .string_value(&a.string_value)
                        .build()
                        .expect(SET)
                })
                .collect();
            sdk::ParameterObject::builder()
                .id(&parameter.id)
                .set_attributes(Some(attributes))
                .build()
                .expect(SET)
        })
        .collect();
    let values = definition
        .parameter_values
        .iter()
        .map(|v| {
            sdk::ParameterValue::builder()
                .id(&v.id)
                .string_value(&v.string_value)
                .build()
                .expect(SET)
        })
        .collect();
    SdkDefinition {
        objects,
        parameters,
        values,
    }
}

/// A model field as the SDK's, for ReportTaskProgress.
pub(crate) fn field_to_sdk(field: &Field) -> sdk::Field {
    let builder = sdk::Field::builder().key(&field.key);
    let builder = match &field.value {
        FieldValue::String(value) => builder.string_value(value),
        FieldValue::Ref(target) => builder.ref_value(target),
    };
    builder
        .build()
        .expect("the key, the only required member, is always set")
}

/// The SDK's `taskStatus`.
pub(crate) fn status_to_sdk(status: TaskStatus) -> sdk::TaskStatus {
    match status {
        TaskStatus::Finished => sdk::TaskStatus::Finished,
        TaskStatus::Failed => sdk::TaskStatus::Failed,
        TaskStatus::False => sdk::TaskStatus::False,
    }
}

/// SetTaskStatus's members for a result: status, error id, message, stack trace.
pub(crate) fn result_to_sdk(
    result: TaskResult,
) -> (
    sdk::TaskStatus,
    Option<String>,
    Option<String>,
    Option<String>,
) {
    (
        status_to_sdk(result.task_status),
        result.error_id,
        result.error_message,
        result.error_stack_trace,
    )
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    fn sdk_field(key: &str, string: Option<&str>, reference: Option<&str>) -> sdk::Field {
        sdk::Field::builder()
            .key(key)
            .set_string_value(string.map(str::to_owned))
            .set_ref_value(reference.map(str::to_owned))
            .build()
            .unwrap()
    }

    fn sdk_object(id: &str, fields: Vec<sdk::Field>) -> sdk::PipelineObject {
        sdk::PipelineObject::builder()
            .id(id)
            .name(format!("name of {id}"))
            .set_fields(Some(fields))
            .build()
            .unwrap()
    }

    fn sdk_task(objects: HashMap<String, sdk::PipelineObject>) -> sdk::TaskObject {
        sdk::TaskObject::builder()
            .task_id("task-1")
            .pipeline_id("df-1")
            .attempt_id("@A_1_Attempt=1")
            .set_objects(Some(objects))
            .build()
    }

    #[test]
    fn a_task_keeps_every_object_field_order_and_kind() {
        let attempt = sdk_object(
            "@A_1_Attempt=1",
            vec![
                sdk_field("type", Some("ShellCommandActivity"), None),
                sdk_field("step", Some("b"), None),
                sdk_field("step", Some("a"), None),
                sdk_field("input", None, Some("In")),
            ],
        );
        let input = sdk_object("In", vec![sdk_field("type", Some("S3DataNode"), None)]);
        let task = task_from_sdk(sdk_task(HashMap::from([
            ("@A_1_Attempt=1".to_string(), attempt),
            ("In".to_string(), input),
        ])))
        .unwrap();
        assert_eq!(task.task_id, "task-1");
        assert_eq!(task.pipeline_id, "df-1");
        let a = task.attempt().unwrap();
        assert_eq!(a.name, "name of @A_1_Attempt=1");
        assert_eq!(
            a.fields,
            vec![
                Field::string("type", "ShellCommandActivity"),
                Field::string("step", "b"),
                Field::string("step", "a"),
                Field::reference("input", "In"),
            ]
        );
        assert_eq!(task.objects["In"].object_type(), Some("S3DataNode"));
    }

    #[test]
    fn malformed_tasks_are_refused_with_the_culprit_named() {
        let both = sdk_object(
            "@A_1_Attempt=1",
            vec![sdk_field("command", Some("x"), Some("y"))],
        );
        let err = task_from_sdk(sdk_task(HashMap::from([(
            "@A_1_Attempt=1".to_string(),
            both,
        )])))
        .unwrap_err();
        assert!(err.contains("'command'") && err.contains("both"), "{err}");

        let neither = sdk_object("Other", vec![sdk_field("command", None, None)]);
        let err =
            task_from_sdk(sdk_task(HashMap::from([("Other".to_string(), neither)]))).unwrap_err();
        assert!(
            err.contains("object Other") && err.contains("neither"),
            "{err}"
        );

        let missing = task_from_sdk(sdk_task(HashMap::new())).unwrap_err();
        assert!(
            missing.contains("attempt object @A_1_Attempt=1"),
            "{missing}"
        );

        let no_id = sdk::TaskObject::builder().pipeline_id("df-1").build();
        assert!(task_from_sdk(no_id).unwrap_err().contains("taskId"));
    }

    #[test]
    fn a_definition_goes_to_the_sdk_and_back_unchanged() {
        let definition = sluice_model::file::parse_definition_file(
            r#"{
              "objects": [{"id": "Greet", "name": "Say hello", "type": "ShellCommandActivity",
                           "command": ["echo #{myGreeting}", "a second value keeps its place"],
                           "schedule": {"ref": "Daily"}}],
              "parameters": [{"id": "myGreeting", "type": "String", "default": "hello"}],
              "values": {"myList": ["a", "b"]}
            }"#,
        )
        .unwrap()
        .definition;
        let sdk = definition_to_sdk(&definition);
        let schedule = sdk.objects[0]
            .fields()
            .iter()
            .find(|f| f.key() == "schedule");
        assert_eq!(schedule.and_then(|f| f.ref_value()), Some("Daily"));
        assert_eq!(sdk.values.len(), 2);
        let output = GetPipelineDefinitionOutput::builder()
            .set_pipeline_objects(Some(sdk.objects))
            .set_parameter_objects(Some(sdk.parameters))
            .set_parameter_values(Some(sdk.values))
            .build();
        assert_eq!(definition_from_sdk(output).unwrap(), definition);

        let empty = definition_from_sdk(GetPipelineDefinitionOutput::builder().build()).unwrap();
        assert_eq!(empty, PipelineDefinition::default());
        let broken = GetPipelineDefinitionOutput::builder()
            .pipeline_objects(sdk_object("Bad", vec![sdk_field("x", None, None)]))
            .build();
        let err = definition_from_sdk(broken).unwrap_err();
        assert!(err.contains("object Bad") && err.contains("'x'"), "{err}");
    }

    #[test]
    fn results_and_fields_map_to_the_sdk() {
        let (status, id, message, trace) = result_to_sdk(TaskResult::failed("Boom", "it broke"));
        assert_eq!(status, sdk::TaskStatus::Failed);
        assert_eq!(id.as_deref(), Some("Boom"));
        assert_eq!(message.as_deref(), Some("it broke"));
        assert_eq!(trace, None);
        assert_eq!(status_to_sdk(TaskStatus::False).as_str(), "FALSE");
        assert_eq!(status_to_sdk(TaskStatus::Finished).as_str(), "FINISHED");

        let f = field_to_sdk(&Field::string("percentComplete", "50"));
        assert_eq!(
            (f.key(), f.string_value(), f.ref_value()),
            ("percentComplete", Some("50"), None)
        );
        let r = field_to_sdk(&Field::reference("node", "N"));
        assert_eq!((r.string_value(), r.ref_value()), (None, Some("N")));
        // And back: what goes out comes in unchanged.
        assert_eq!(field_from_sdk(r).unwrap(), Field::reference("node", "N"));
    }
}
