//! `ShellCommandPrecondition`: a command exits 0 (dp-object-shellcommandprecondition); run by a task runner.
//!
//! What it does on a runner: `sluice_executors::types::shell_command_precondition`.

use crate::common::{self, optional, repeated};
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
}
