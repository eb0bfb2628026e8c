//! Between the SDK's shapes and `sluice_model`'s.
//!
//! A task that cannot be represented (a field with both or neither of `stringValue` and
//! `refValue`, a missing id) is refused with a message naming the object and field, rather than
//! guessed at: executing a half-understood task is worse than failing it.

use std::collections::BTreeMap;

use aws_sdk_datapipeline::types as sdk;
use sluice_model::{Field, FieldValue, PipelineObject, TaskObject, TaskResult, TaskStatus};

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
