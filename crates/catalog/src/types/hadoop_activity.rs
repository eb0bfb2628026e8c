//! `HadoopActivity`: runs a Hadoop JAR on EMR (dp-object-hadoopactivity).

use crate::common::{self, optional, repeated, required};
use crate::spec::{Category, FieldSpec, ObjectKind, OneOf, ValueType};

/// Runs a MapReduce JAR on an EMR cluster.
pub struct HadoopActivity;

static FIELDS: &[FieldSpec] = &[
    common::EMR_RUNS_ON,
    required(
        "jarUri",
        ValueType::String,
        "JAR in S3 or on the cluster's local file system.",
    ),
    repeated("argument", ValueType::String, "Argument passed to the JAR."),
    common::HADOOP_QUEUE,
    optional("mainClass", ValueType::String, "Main class of the JAR."),
    common::POST_ACTIVITY_TASK_CONFIG,
    common::PRE_ACTIVITY_TASK_CONFIG,
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
