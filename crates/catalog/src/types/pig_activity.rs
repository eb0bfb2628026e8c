//! `PigActivity`: runs a Pig script on EMR (dp-object-pigactivity).

use crate::common::{self, optional, repeated};
use crate::spec::{Category, FieldSpec, ObjectKind, OneOf, ValueType};

/// Runs a Pig script on an EMR cluster, with inputs and outputs staged as tables.
pub struct PigActivity;

static FIELDS: &[FieldSpec] = &[
    common::EMR_RUNS_ON,
    optional(
        "script",
        ValueType::String,
        "Pig script to run; staged tables are ${INPUT1}, ${OUTPUT1}, ...",
    ),
    optional(
        "scriptUri",
        ValueType::String,
        "S3 location of the Pig script to run.",
    ),
    common::POST_ACTIVITY_TASK_CONFIG,
    common::PRE_ACTIVITY_TASK_CONFIG,
    common::RESIZE_CLUSTER_BEFORE_RUNNING,
    common::RESIZE_CLUSTER_MAX_INSTANCES,
    repeated(
        "scriptVariable",
        ValueType::String,
        "Argument passed to the Pig script.",
    ),
    optional(
        "stage",
        ValueType::Boolean,
        "Stage inputs and outputs as tables the script can use.",
    ),
    optional(
        "generatedScriptsPath",
        ValueType::String,
        "S3 location for the scripts generated for the run (used by AWS samples, not in the field table).",
    ),
];

static ONE_OF: &[OneOf] = &[
    common::RUNS_ON_OR_WORKER_GROUP,
    OneOf {
        fields: &["script", "scriptUri"],
        exclusive: false,
    },
];

impl ObjectKind for PigActivity {
    fn type_name(&self) -> &'static str {
        "PigActivity"
    }

    fn category(&self) -> Category {
        Category::Activity
    }

    fn doc(&self) -> &'static str {
        "Runs a Pig script on an EMR cluster, with inputs and outputs staged as tables."
    }

    fn fields(&self) -> Vec<&'static FieldSpec> {
        common::with_common(common::ACTIVITY_FIELDS, FIELDS)
    }

    fn one_of(&self) -> &'static [OneOf] {
        ONE_OF
    }
}
