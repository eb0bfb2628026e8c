//! The task-runner protocol's shapes (PollForTask, ReportTaskProgress, SetTaskStatus).
//!
//! The in-process runner and remote runners exchange exactly these, so a task executes the same
//! way whichever transport carried it.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::api::PipelineObject;

/// A unit of work handed to a task runner (`TaskObject`): one attempt of an activity or of a
/// runner-managed precondition, with every object it references. Field values are already
/// evaluated for this attempt.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TaskObject {
    pub task_id: String,
    pub pipeline_id: String,
    pub attempt_id: String,
    /// The attempt object and every object reachable from it by reference, keyed by id.
    pub objects: BTreeMap<String, PipelineObject>,
}

impl TaskObject {
    /// The attempt object itself.
    pub fn attempt(&self) -> Option<&PipelineObject> {
        self.objects.get(&self.attempt_id)
    }
}

/// How a task ended (`TaskStatus`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum TaskStatus {
    Finished,
    Failed,
    /// A precondition evaluated to false.
    False,
}

impl TaskStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            TaskStatus::Finished => "FINISHED",
            TaskStatus::Failed => "FAILED",
            TaskStatus::False => "FALSE",
        }
    }
}

/// The outcome a runner reports with SetTaskStatus.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TaskResult {
    pub task_status: TaskStatus,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_message: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_stack_trace: Option<String>,
}

impl TaskResult {
    pub fn finished() -> Self {
        TaskResult {
            task_status: TaskStatus::Finished,
            error_id: None,
            error_message: None,
            error_stack_trace: None,
        }
    }

    /// A precondition that does not hold.
    pub fn condition_false() -> Self {
        TaskResult {
            task_status: TaskStatus::False,
            ..TaskResult::finished()
        }
    }

    pub fn failed(error_id: impl Into<String>, message: impl Into<String>) -> Self {
        TaskResult {
            task_status: TaskStatus::Failed,
            error_id: Some(error_id.into()),
            error_message: Some(message.into()),
            error_stack_trace: None,
        }
    }
}
