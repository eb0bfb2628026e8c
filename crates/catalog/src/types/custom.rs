//! `Custom`: delimited data format with a custom separator (dp-object-custom).

use crate::common::{self, optional, repeated, required};
use crate::spec::{Category, FieldSpec, ObjectKind, ValueType};

/// Delimited data with a custom column separator.
pub struct Custom;

static FIELDS: &[FieldSpec] = &[
    required(
        "columnSeparator",
        ValueType::String,
        "Character that ends a column.",
    ),
    repeated(
        "column",
        ValueType::String,
        "Column as \"name TYPE\", e.g. \"hostname STRING\".",
    ),
    optional(
        "recordSeparator",
        ValueType::String,
        "Single character that ends a row.",
    ),
];

impl ObjectKind for Custom {
    fn type_name(&self) -> &'static str {
        "Custom"
    }

    fn category(&self) -> Category {
        Category::DataFormat
    }

    fn doc(&self) -> &'static str {
        "Delimited data with a custom column separator."
    }

    fn fields(&self) -> Vec<&'static FieldSpec> {
        common::with_common(common::PARENT_ONLY, FIELDS)
    }
}
