//! `EmrActivity`: runs EMR steps (dp-object-emractivity).

use crate::common::{self, repeated};
use crate::spec::{Category, FieldSpec, ObjectKind, OneOf, ValueType};

/// Runs steps on an EMR cluster.
pub struct EmrActivity;

static FIELDS: &[FieldSpec] = &[
    common::EMR_RUNS_ON,
    repeated(
        "postStepCommand",
        ValueType::String,
        "Shell script run after all steps finish (up to 255).",
    ),
    repeated(
        "preStepCommand",
        ValueType::String,
        "Shell script run before any step (up to 255).",
    ),
    common::RESIZE_CLUSTER_BEFORE_RUNNING,
    common::RESIZE_CLUSTER_MAX_INSTANCES,
    repeated(
        "step",
        ValueType::String,
        "Step to run: a JAR followed by comma-separated arguments, e.g. s3://bucket/MyWork.jar,arg1,arg2 (up to 255).",
    ),
];

static ONE_OF: &[OneOf] = &[common::RUNS_ON_OR_WORKER_GROUP];

impl ObjectKind for EmrActivity {
    fn type_name(&self) -> &'static str {
        "EmrActivity"
    }

    fn category(&self) -> Category {
        Category::Activity
    }

    fn doc(&self) -> &'static str {
        "Runs steps on an EMR cluster."
    }

    fn fields(&self) -> Vec<&'static FieldSpec> {
        common::with_common(common::ACTIVITY_FIELDS, FIELDS)
    }

    fn one_of(&self) -> &'static [OneOf] {
        ONE_OF
    }
}
