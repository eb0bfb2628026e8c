//! `EmrConfiguration`: an EMR configuration classification (dp-object-emrconfiguration).

use crate::common::{self, repeated, required};
use crate::spec::{Category, FieldSpec, ObjectKind, RefTarget, ValueType};

/// One EMR configuration classification with its properties and nested configurations.
pub struct EmrConfiguration;

static FIELDS: &[FieldSpec] = &[
    required(
        "classification",
        ValueType::String,
        "Configuration classification, e.g. core-site or hadoop-env.",
    ),
    repeated(
        "configuration",
        ValueType::Reference(common::EMR_CONFIGURATION_REF),
        "Nested configuration.",
    ),
    repeated(
        "property",
        ValueType::Reference(&[RefTarget::Type("Property")]),
        "Property set in this classification.",
    ),
];

impl ObjectKind for EmrConfiguration {
    fn type_name(&self) -> &'static str {
        "EmrConfiguration"
    }

    fn category(&self) -> Category {
        Category::Configuration
    }

    fn doc(&self) -> &'static str {
        "One EMR configuration classification with its properties and nested configurations."
    }

    fn fields(&self) -> Vec<&'static FieldSpec> {
        common::with_common(common::PARENT_ONLY, FIELDS)
    }
}
