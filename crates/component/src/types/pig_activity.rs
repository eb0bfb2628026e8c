//! `PigActivity`: runs a Pig script on EMR (dp-object-pigactivity).

use crate::common::{self, optional, repeated};
use crate::spec::{Category, FieldSpec, ObjectKind, OneOf, ValueType};

/// Runs a Pig script on an EMR cluster, with inputs and outputs staged as tables.
pub struct PigActivity;

static FIELDS: &[FieldSpec] = &[
    optional(
        "runsOn",
        ValueType::Reference(common::EMR_CLUSTER_REF),
        "EmrCluster on which the activity runs.",
    ),
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
    optional(
        "postActivityTaskConfig",
        ValueType::Reference(common::SHELL_SCRIPT_CONFIG_REF),
        "Shell script (S3 URI plus arguments) run after the activity.",
    ),
    optional(
        "preActivityTaskConfig",
        ValueType::Reference(common::SHELL_SCRIPT_CONFIG_REF),
        "Shell script (S3 URI plus arguments) run before the activity.",
    ),
    optional(
        "resizeClusterBeforeRunning",
        ValueType::Boolean,
        "Resize the cluster to suit DynamoDB input or output nodes before running (switches instance types to m3.xlarge).",
    ),
    optional(
        "resizeClusterMaxInstances",
        ValueType::Integer,
        "Upper bound on the instances the resize algorithm may request.",
    ),
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
