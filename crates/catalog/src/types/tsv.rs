//! `TSV`: tab-separated data format (dp-object-tsv).

use crate::common::{self, optional, repeated};
use crate::spec::{Category, FieldSpec, ObjectKind, ValueType};

/// Tab-separated values, with configurable separators.
pub struct TSV;

static FIELDS: &[FieldSpec] = &[
    repeated(
        "column",
        ValueType::String,
        "Column as \"name TYPE\", e.g. \"hostname STRING\".",
    ),
    optional(
        "columnSeparator",
        ValueType::String,
        "Character separating columns; default tab.",
    ),
    optional(
        "escapeChar",
        ValueType::String,
        "Character that makes the parser ignore the next character.",
    ),
    optional(
        "recordSeparator",
        ValueType::String,
        "Character separating records; default newline.",
    ),
];

impl ObjectKind for TSV {
    fn type_name(&self) -> &'static str {
        "TSV"
    }

    fn category(&self) -> Category {
        Category::DataFormat
    }

    fn doc(&self) -> &'static str {
        "Tab-separated values, with configurable separators."
    }

    fn fields(&self) -> Vec<&'static FieldSpec> {
        common::with_common(common::PARENT_ONLY, FIELDS)
    }
}
