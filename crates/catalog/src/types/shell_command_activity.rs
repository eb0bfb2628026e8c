//! `ShellCommandActivity`: runs a command or script (dp-object-shellcommandactivity).
//!
//! The field table says `scriptArgument` only works with `command`, yet AWS samples (TeraSort,
//! kinesis) pass it to `scriptUri` scripts, so the combination is accepted.
//!
//! What it does on a runner: `sluice_executors::types::shell_command_activity`.

use crate::common::{self, optional, repeated};

use crate::spec::{Category, FieldSpec, ObjectKind, OneOf, ValueType};

/// Runs a shell command or an S3-hosted script.
pub struct ShellCommandActivity;

static FIELDS: &[FieldSpec] = &[
    optional(
        "command",
        ValueType::String,
        "Command to run; scriptArgument values are its $1, $2, ...",
    ),
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
        "stage",
        ValueType::Boolean,
        "Stage S3 inputs and outputs in ${INPUT1_STAGING_DIR}, ${OUTPUT1_STAGING_DIR}, ...",
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

static ONE_OF: &[OneOf] = &[
    common::RUNS_ON_OR_WORKER_GROUP,
    OneOf {
        fields: &["command", "scriptUri"],
        exclusive: true,
    },
];

impl ObjectKind for ShellCommandActivity {
    fn type_name(&self) -> &'static str {
        "ShellCommandActivity"
    }

    fn category(&self) -> Category {
        Category::Activity
    }

    fn doc(&self) -> &'static str {
        "Runs a shell command or an S3-hosted script."
    }

    fn fields(&self) -> Vec<&'static FieldSpec> {
        common::with_common(common::ACTIVITY_FIELDS, FIELDS)
    }

    fn one_of(&self) -> &'static [OneOf] {
        ONE_OF
    }
}
