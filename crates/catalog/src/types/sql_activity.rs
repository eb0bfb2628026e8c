//! `SqlActivity`: runs SQL on a database (dp-object-sqlactivity).
//!
//! What it does on a runner: `sluice_executors::types::sql_activity`.

use crate::common::{self, optional, repeated, required};
use crate::spec::{Category, FieldSpec, ObjectKind, OneOf, ValueType};

/// Runs a SQL script against a database.
pub struct SqlActivity;

static FIELDS: &[FieldSpec] = &[
    required(
        "database",
        ValueType::Reference(common::DATABASE_REF),
        "Database the script runs against.",
    ),
    optional(
        "script",
        ValueType::String,
        "SQL script to run; evaluated for expressions.",
    ),
    optional(
        "scriptUri",
        ValueType::String,
        "S3 location of the SQL script (not evaluated for expressions).",
    ),
    optional(
        "queue",
        ValueType::String,
        "Redshift query_group the script runs in (Redshift only).",
    ),
    repeated(
        "scriptArgument",
        ValueType::String,
        "Value made available to the script.",
    ),
];

static ONE_OF: &[OneOf] = &[
    common::RUNS_ON_OR_WORKER_GROUP,
    OneOf {
        fields: &["script", "scriptUri"],
        exclusive: false,
    },
];

impl ObjectKind for SqlActivity {
    fn type_name(&self) -> &'static str {
        "SqlActivity"
    }

    fn category(&self) -> Category {
        Category::Activity
    }

    fn doc(&self) -> &'static str {
        "Runs a SQL script against a database."
    }

    fn fields(&self) -> Vec<&'static FieldSpec> {
        common::with_common(common::ACTIVITY_FIELDS, FIELDS)
    }

    fn one_of(&self) -> &'static [OneOf] {
        ONE_OF
    }
}
