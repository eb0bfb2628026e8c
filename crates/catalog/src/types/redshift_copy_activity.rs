//! `RedshiftCopyActivity`: copies data into or out of Redshift (dp-object-redshiftcopyactivity).
//!
//! What it does on a runner: `sluice_executors::types::redshift_copy_activity`.

use crate::common::{self, optional, repeated, required};
use crate::spec::{Category, FieldSpec, ObjectKind, OneOf, ValueType};

/// Loads data from S3 or DynamoDB into Amazon Redshift (or unloads it).
pub struct RedshiftCopyActivity;

/// Values of `insertMode`: how rows overlapping the loaded data are treated.
pub const INSERT_MODE_VALUES: &[&str] =
    &["KEEP_EXISTING", "OVERWRITE_EXISTING", "TRUNCATE", "APPEND"];

static FIELDS: &[FieldSpec] = &[
    required(
        "insertMode",
        ValueType::Enumeration(INSERT_MODE_VALUES),
        "What to do with existing rows that overlap the loaded data.",
    ),
    repeated(
        "commandOptions",
        ValueType::String,
        "Redshift COPY option when loading (e.g. EMPTYASNULL), UNLOAD option when unloading to S3 (e.g. PARALLEL OFF).",
    ),
    optional(
        "queue",
        ValueType::String,
        "Redshift query_group the copy runs in.",
    ),
    optional(
        "transformSql",
        ValueType::String,
        "SELECT over the table named staging that transforms the input before loading.",
    ),
];

static ONE_OF: &[OneOf] = &[common::RUNS_ON_OR_WORKER_GROUP];

impl ObjectKind for RedshiftCopyActivity {
    fn type_name(&self) -> &'static str {
        "RedshiftCopyActivity"
    }

    fn category(&self) -> Category {
        Category::Activity
    }

    fn doc(&self) -> &'static str {
        "Loads data from S3 or DynamoDB into Amazon Redshift (or unloads it)."
    }

    fn fields(&self) -> Vec<&'static FieldSpec> {
        common::with_common(common::ACTIVITY_FIELDS, FIELDS)
    }

    fn one_of(&self) -> &'static [OneOf] {
        ONE_OF
    }
}
