//! `ShellScriptConfig`: a script run around an EMR activity (dp-object-shellscriptconfig).

use crate::common::{self, optional, repeated};
use crate::spec::{Category, FieldSpec, ObjectKind, ValueType};

/// A shell script with arguments, run before or after an EMR activity.
pub struct ShellScriptConfig;

static FIELDS: &[FieldSpec] = &[
    optional(
        "scriptUri",
        ValueType::String,
        "S3 URI of the script to download and run.",
    ),
    repeated(
        "scriptArgument",
        ValueType::String,
        "Argument passed to the script.",
    ),
];

impl ObjectKind for ShellScriptConfig {
    fn type_name(&self) -> &'static str {
        "ShellScriptConfig"
    }

    fn category(&self) -> Category {
        Category::Configuration
    }

    fn doc(&self) -> &'static str {
        "A shell script with arguments, run before or after an EMR activity."
    }

    fn fields(&self) -> Vec<&'static FieldSpec> {
        common::with_common(common::PARENT_ONLY, FIELDS)
    }
}
