//! `HiveCopyActivity`: filtered DynamoDB/S3 copy on EMR (dp-object-hivecopyactivity).

use crate::common::{self, optional};
use crate::spec::{Category, FieldSpec, ObjectKind, OneOf, ValueType};

/// Copies data between DynamoDB and S3 through Hive, optionally filtered.
pub struct HiveCopyActivity;

static FIELDS: &[FieldSpec] = &[
    optional(
        "runsOn",
        ValueType::Reference(common::EMR_CLUSTER_REF),
        "EmrCluster on which the activity runs.",
    ),
    optional(
        "filterSql",
        ValueType::String,
        "Hive predicate (without WHERE) selecting the data to copy.",
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
];

static ONE_OF: &[OneOf] = &[common::RUNS_ON_OR_WORKER_GROUP];

impl ObjectKind for HiveCopyActivity {
    fn type_name(&self) -> &'static str {
        "HiveCopyActivity"
    }

    fn category(&self) -> Category {
        Category::Activity
    }

    fn doc(&self) -> &'static str {
        "Copies data between DynamoDB and S3 through Hive, optionally filtered."
    }

    fn fields(&self) -> Vec<&'static FieldSpec> {
        common::with_common(common::ACTIVITY_FIELDS, FIELDS)
    }

    fn one_of(&self) -> &'static [OneOf] {
        ONE_OF
    }
}
