//! `S3PrefixNotEmpty`: objects exist under an S3 prefix (dp-object-s3prefixnotempty); checked by the service.
//!
//! What it does on a runner: `sluice_executors::types::s3_prefix_not_empty`.

use crate::common::{self, required};
use crate::spec::{Category, FieldSpec, ManagedBy, ObjectKind, ValueType};

/// True when at least one S3 object exists under a prefix.
pub struct S3PrefixNotEmpty;

static FIELDS: &[FieldSpec] = &[
    required(
        "role",
        ValueType::String,
        "IAM role the service uses to perform the check.",
    ),
    required(
        "s3Prefix",
        ValueType::String,
        "S3 prefix that must hold at least one object.",
    ),
];

impl ObjectKind for S3PrefixNotEmpty {
    fn type_name(&self) -> &'static str {
        "S3PrefixNotEmpty"
    }

    fn category(&self) -> Category {
        Category::Precondition
    }

    fn doc(&self) -> &'static str {
        "True when at least one S3 object exists under a prefix."
    }

    fn fields(&self) -> Vec<&'static FieldSpec> {
        common::with_common(common::PRECONDITION_FIELDS, FIELDS)
    }

    fn managed_by(&self) -> Option<ManagedBy> {
        Some(ManagedBy::Service)
    }
}
