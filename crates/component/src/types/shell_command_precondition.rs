//! `ShellCommandPrecondition`: a command exits 0 (dp-object-shellcommandprecondition); run by a task runner.
//!
//! Runs like ShellCommandActivity without staging ([`exec::shell`](crate::exec::shell)). Exit 0
//! is true (FINISHED), any other exit status is false (FALSE). A process killed by a signal it
//! did not ask for, a spawn failure or a cancellation is an error (FAILED), not a false
//! condition: none of them says anything about the condition.

use sluice_model::TaskResult;

use crate::common::{self, optional, repeated};
use crate::exec::process::ProcessOutcome;
use crate::exec::shell;
use crate::execute::{AttemptContext, ExecFuture, Execute};
use crate::spec::{Category, FieldSpec, ObjectKind, OneOf, ValueType};

/// True when a shell command or script exits with status 0.
pub struct ShellCommandPrecondition;

static FIELDS: &[FieldSpec] = &[
    optional("command", ValueType::String, "Command to run."),
    optional(
        "scriptUri",
        ValueType::String,
        "S3 URI of a script to download and run.",
    ),
    repeated(
        "scriptArgument",
        ValueType::String,
        "Argument passed to the command or script.",
    ),
    optional(
        "stderr",
        ValueType::String,
        "Where standard error goes: an S3 path, or a local path when run by a worker group.",
    ),
    optional(
        "stdout",
        ValueType::String,
        "Where standard output goes: an S3 path, or a local path when run by a worker group.",
    ),
];

static ONE_OF: &[OneOf] = &[OneOf {
    fields: &["command", "scriptUri"],
    exclusive: true,
}];

impl ObjectKind for ShellCommandPrecondition {
    fn type_name(&self) -> &'static str {
        "ShellCommandPrecondition"
    }

    fn category(&self) -> Category {
        Category::Precondition
    }

    fn doc(&self) -> &'static str {
        "True when a shell command or script exits with status 0."
    }

    fn fields(&self) -> Vec<&'static FieldSpec> {
        common::with_common(common::PRECONDITION_FIELDS, FIELDS)
    }

    fn one_of(&self) -> &'static [OneOf] {
        ONE_OF
    }

    fn executor(&self) -> Option<&dyn Execute> {
        Some(self)
    }
}

impl Execute for ShellCommandPrecondition {
    fn execute<'a>(&'a self, ctx: &'a AttemptContext) -> ExecFuture<'a> {
        Box::pin(async move {
            match shell::run_shell(ctx, Vec::new()).await {
                Ok(report) => match report.outcome {
                    ProcessOutcome::Exited(0) => TaskResult::finished(),
                    ProcessOutcome::Exited(_) => TaskResult::condition_false(),
                    _ => shell::exit_failure(&report),
                },
                Err(result) => result,
            }
        })
    }
}
