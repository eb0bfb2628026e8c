//! `HiveCopyActivity`: filtered DynamoDB/S3 copy on EMR (dp-object-hivecopyactivity).
//!
//! What it does on a runner: `sluice_executors::types::hive_copy_activity`.

use crate::common::{self, optional};
use crate::spec::{Category, FieldSpec, ObjectKind, OneOf, ValueType};

/// Copies data between DynamoDB and S3 through Hive, optionally filtered.
pub struct HiveCopyActivity;

static FIELDS: &[FieldSpec] = &[
    common::EMR_RUNS_ON,
    optional(
        "filterSql",
        ValueType::String,
        "Hive predicate (without WHERE) selecting the data to copy.",
    ),
    common::POST_ACTIVITY_TASK_CONFIG,
    common::PRE_ACTIVITY_TASK_CONFIG,
    common::RESIZE_CLUSTER_BEFORE_RUNNING,
    common::RESIZE_CLUSTER_MAX_INSTANCES,
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
