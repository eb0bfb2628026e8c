//! `Property`: one key/value of an EMR configuration (dp-object-property).

use crate::common::{self, required};
use crate::spec::{Category, FieldSpec, ObjectKind, ValueType};

/// A key/value pair of an EmrConfiguration.
pub struct Property;

static FIELDS: &[FieldSpec] = &[
    required(
        "key",
        ValueType::String,
        "Property name, e.g. io.file.buffer.size.",
    ),
    required("value", ValueType::String, "Property value."),
];

impl ObjectKind for Property {
    fn type_name(&self) -> &'static str {
        "Property"
    }

    fn category(&self) -> Category {
        Category::Configuration
    }

    fn doc(&self) -> &'static str {
        "A key/value pair of an EmrConfiguration."
    }

    fn fields(&self) -> Vec<&'static FieldSpec> {
        common::with_common(common::PARENT_ONLY, FIELDS)
    }
}
