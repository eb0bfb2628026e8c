//! `CopyActivity`: copies data between S3 and SQL data nodes (dp-object-copyactivity).
//!
//! What it does on a runner: `sluice_executors::types::copy_activity`.

use crate::common;
use crate::spec::{Category, FieldSpec, ObjectKind, OneOf};

/// Copies records from an input data node to an output data node.
pub struct CopyActivity;

static ONE_OF: &[OneOf] = &[common::RUNS_ON_OR_WORKER_GROUP];

impl ObjectKind for CopyActivity {
    fn type_name(&self) -> &'static str {
        "CopyActivity"
    }

    fn category(&self) -> Category {
        Category::Activity
    }

    fn doc(&self) -> &'static str {
        "Copies records from an input data node to an output data node."
    }

    fn fields(&self) -> Vec<&'static FieldSpec> {
        common::with_common(common::ACTIVITY_FIELDS, &[])
    }

    fn one_of(&self) -> &'static [OneOf] {
        ONE_OF
    }
}
