//! `HiveActivity`: runs a Hive script on EMR (dp-object-hiveactivity).
//!
//! AWS puts `input` and `output` in the same "Required Group" table as `runsOn` /
//! `workerGroup`, but AWS's own json-to-dynamodb sample runs a HiveActivity with neither,
//! so they stay optional. Nor does AWS forbid giving the script both inline and by URI, so
//! that group is not exclusive.

use crate::common::{self, optional, repeated};
use crate::spec::{Category, FieldSpec, ObjectKind, OneOf, ValueType};

/// Runs a Hive query on an EMR cluster, with inputs and outputs staged as Hive tables.
pub struct HiveActivity;

static FIELDS: &[FieldSpec] = &[
    optional(
        "runsOn",
        ValueType::Reference(common::EMR_CLUSTER_REF),
        "EmrCluster on which the activity runs.",
    ),
    optional(
        "hiveScript",
        ValueType::String,
        "Hive script to run; staged tables are ${input1}, ${output1}, ...",
    ),
    optional(
        "scriptUri",
        ValueType::String,
        "S3 location of the Hive script to run.",
    ),
    optional(
        "hadoopQueue",
        ValueType::String,
        "Hadoop scheduler queue the job is submitted to.",
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
        "NAME=value variable passed to Hive while running the script.",
    ),
    optional(
        "stage",
        ValueType::Boolean,
        "Stage inputs and outputs as Hive tables (needs EMR AMI 3.2.0 or later).",
    ),
];

static ONE_OF: &[OneOf] = &[
    common::RUNS_ON_OR_WORKER_GROUP,
    OneOf {
        fields: &["hiveScript", "scriptUri"],
        exclusive: false,
    },
];

impl ObjectKind for HiveActivity {
    fn type_name(&self) -> &'static str {
        "HiveActivity"
    }

    fn category(&self) -> Category {
        Category::Activity
    }

    fn doc(&self) -> &'static str {
        "Runs a Hive query on an EMR cluster, with inputs and outputs staged as Hive tables."
    }

    fn fields(&self) -> Vec<&'static FieldSpec> {
        common::with_common(common::ACTIVITY_FIELDS, FIELDS)
    }

    fn one_of(&self) -> &'static [OneOf] {
        ONE_OF
    }
}
