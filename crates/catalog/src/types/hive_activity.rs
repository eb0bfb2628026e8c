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
    common::EMR_RUNS_ON,
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
    common::HADOOP_QUEUE,
    common::POST_ACTIVITY_TASK_CONFIG,
    common::PRE_ACTIVITY_TASK_CONFIG,
    common::RESIZE_CLUSTER_BEFORE_RUNNING,
    common::RESIZE_CLUSTER_MAX_INSTANCES,
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
