//! `RegEx`: data format parsed by a regular expression (dp-object-regex).

use crate::common::{self, optional, repeated};
use crate::spec::{Category, FieldSpec, ObjectKind, ValueType};

/// Lines parsed into columns by a regular expression.
pub struct RegEx;

static FIELDS: &[FieldSpec] = &[
    repeated(
        "column",
        ValueType::String,
        "Column as \"name TYPE\", e.g. \"hostname STRING\".",
    ),
    optional(
        "inputRegEx",
        ValueType::String,
        "Java regular expression whose groups are the columns of each input line.",
    ),
    optional(
        "outputFormat",
        ValueType::String,
        "Java formatter over the captured columns, e.g. \"%1$s %2$s\".",
    ),
];

impl ObjectKind for RegEx {
    fn type_name(&self) -> &'static str {
        "RegEx"
    }

    fn category(&self) -> Category {
        Category::DataFormat
    }

    fn doc(&self) -> &'static str {
        "Lines parsed into columns by a regular expression."
    }

    fn fields(&self) -> Vec<&'static FieldSpec> {
        common::with_common(common::PARENT_ONLY, FIELDS)
    }
}
