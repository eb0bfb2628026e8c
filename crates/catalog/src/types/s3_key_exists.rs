//! `S3KeyExists`: an S3 key exists (dp-object-S3KeyExists); checked by the service.
//!
//! What it does on a runner: `sluice_executors::types::s3_key_exists`.

use crate::common::{self, required};
use crate::spec::{Category, FieldSpec, ManagedBy, ObjectKind, ValueType};

/// True when an S3 key exists.
pub struct S3KeyExists;

static FIELDS: &[FieldSpec] = &[
    required(
        "role",
        ValueType::String,
        "IAM role the service uses to perform the check.",
    ),
    required("s3Key", ValueType::String, "S3 key to check."),
];

impl ObjectKind for S3KeyExists {
    fn type_name(&self) -> &'static str {
        "S3KeyExists"
    }

    fn category(&self) -> Category {
        Category::Precondition
    }

    fn doc(&self) -> &'static str {
        "True when an S3 key exists."
    }

    fn fields(&self) -> Vec<&'static FieldSpec> {
        common::with_common(common::PRECONDITION_FIELDS, FIELDS)
    }

    fn managed_by(&self) -> Option<ManagedBy> {
        Some(ManagedBy::Service)
    }
}
