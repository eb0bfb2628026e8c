//! `HadoopActivity`: runs a Hadoop JAR on EMR (dp-object-hadoopactivity).

use crate::common::{self, optional, repeated, required};
use crate::spec::{Category, FieldSpec, ObjectKind, OneOf, ValueType};

/// Runs a MapReduce JAR on an EMR cluster.
pub struct HadoopActivity;

static FIELDS: &[FieldSpec] = &[
    optional(
        "runsOn",
        ValueType::Reference(common::EMR_CLUSTER_REF),
        "EmrCluster on which the activity runs.",
    ),
    required(
        "jarUri",
        ValueType::String,
        "JAR in S3 or on the cluster's local file system.",
    ),
    repeated("argument", ValueType::String, "Argument passed to the JAR."),
    optional(
        "hadoopQueue",
        ValueType::String,
        "Hadoop scheduler queue the job is submitted to.",
    ),
    optional("mainClass", ValueType::String, "Main class of the JAR."),
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
];

static ONE_OF: &[OneOf] = &[common::RUNS_ON_OR_WORKER_GROUP];

impl ObjectKind for HadoopActivity {
    fn type_name(&self) -> &'static str {
        "HadoopActivity"
    }

    fn category(&self) -> Category {
        Category::Activity
    }

    fn doc(&self) -> &'static str {
        "Runs a MapReduce JAR on an EMR cluster."
    }

    fn fields(&self) -> Vec<&'static FieldSpec> {
        common::with_common(common::ACTIVITY_FIELDS, FIELDS)
    }

    fn one_of(&self) -> &'static [OneOf] {
        ONE_OF
    }
}
