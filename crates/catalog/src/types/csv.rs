//! `CSV`: comma-separated data format (dp-object-csv).

use crate::common::{self, optional, repeated};
use crate::spec::{Category, FieldSpec, ObjectKind, ValueType};

/// Comma-separated values.
pub struct CSV;

static FIELDS: &[FieldSpec] = &[
    repeated(
        "column",
        ValueType::String,
        "Column as \"name TYPE\", e.g. \"hostname STRING\".",
    ),
    optional(
        "escapeChar",
        ValueType::String,
        "Character that makes the parser ignore the next character.",
    ),
];

impl ObjectKind for CSV {
    fn type_name(&self) -> &'static str {
        "CSV"
    }

    fn category(&self) -> Category {
        Category::DataFormat
    }

    fn doc(&self) -> &'static str {
        "Comma-separated values."
    }

    fn fields(&self) -> Vec<&'static FieldSpec> {
        common::with_common(common::PARENT_ONLY, FIELDS)
    }
}
