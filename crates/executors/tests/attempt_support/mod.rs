//! Shared by the executor tests: the context a runner hands an executor for one attempt, and
//! running it through the catalog.

#![allow(dead_code)]

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;

use sluice_executors::{AttemptContext, Executors, RunnerSettings};
use sluice_model::{Field, PipelineObject, TaskObject, TaskResult, TaskStatus};
use tokio_util::sync::CancellationToken;

/// Which task, pipeline and attempt a context stands for.
pub(crate) struct Ids<'a> {
    pub(crate) task: &'a str,
    pub(crate) pipeline: &'a str,
    pub(crate) attempt: &'a str,
}

/// A context for the attempt `ids.attempt` among `objects`, with its logs in `attempt_dir`
/// (created if missing), under `settings`.
pub(crate) fn attempt_context(
    ids: Ids<'_>,
    objects: BTreeMap<String, PipelineObject>,
    attempt_dir: PathBuf,
    settings: RunnerSettings,
) -> AttemptContext {
    std::fs::create_dir_all(&attempt_dir).unwrap();
    AttemptContext {
        task: TaskObject {
            task_id: ids.task.into(),
            pipeline_id: ids.pipeline.into(),
            attempt_id: ids.attempt.into(),
            objects,
        },
        stdout_log: attempt_dir.join("stdout.log"),
        stderr_log: attempt_dir.join("stderr.log"),
        attempt_dir,
        cancel: CancellationToken::new(),
        settings: Arc::new(settings),
    }
}

/// The task's objects by id: the attempt first, so that none of `others` can be shadowed by it.
pub(crate) fn objects_by_id(
    attempt: PipelineObject,
    others: impl IntoIterator<Item = PipelineObject>,
) -> BTreeMap<String, PipelineObject> {
    let mut objects = BTreeMap::from([(attempt.id.clone(), attempt)]);
    for o in others {
        objects.insert(o.id.clone(), o);
    }
    objects
}

/// An object named after its id.
pub(crate) fn object(id: &str, fields: Vec<Field>) -> PipelineObject {
    PipelineObject {
        id: id.to_string(),
        name: id.to_string(),
        fields,
    }
}

pub(crate) fn s(key: &str, value: &str) -> Field {
    Field::string(key, value)
}

pub(crate) fn r(key: &str, target: &str) -> Field {
    Field::reference(key, target)
}

/// Runs the attempt with the executor registered for its type, as a runner does.
pub(crate) async fn execute(ctx: &AttemptContext) -> TaskResult {
    let type_name = ctx.attempt().unwrap().object_type().unwrap().to_string();
    Executors::builtin()
        .get(&type_name)
        .expect("type has an executor")
        .execute(ctx)
        .await
}

pub(crate) fn assert_failed(result: &TaskResult, error_id: &str, message_part: &str) {
    assert_eq!(result.task_status, TaskStatus::Failed, "{result:?}");
    assert_eq!(result.error_id.as_deref(), Some(error_id), "{result:?}");
    let message = result.error_message.as_deref().unwrap_or_default();
    assert!(
        message.contains(message_part),
        "expected {message_part:?} in {message:?}"
    );
}
