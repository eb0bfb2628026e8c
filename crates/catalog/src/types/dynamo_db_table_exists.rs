//! `DynamoDBTableExists`: a DynamoDB table exists (dp-dynamodbtableexists); checked by the service.

use crate::common::{self, required};
use crate::spec::{Category, FieldSpec, ManagedBy, ObjectKind, ValueType};

/// True when a DynamoDB table exists.
pub struct DynamoDBTableExists;

static FIELDS: &[FieldSpec] = &[
    required(
        "role",
        ValueType::String,
        "IAM role the service uses to perform the check.",
    ),
    required("tableName", ValueType::String, "DynamoDB table to check."),
];

impl ObjectKind for DynamoDBTableExists {
    fn type_name(&self) -> &'static str {
        "DynamoDBTableExists"
    }

    fn category(&self) -> Category {
        Category::Precondition
    }

    fn doc(&self) -> &'static str {
        "True when a DynamoDB table exists."
    }

    fn fields(&self) -> Vec<&'static FieldSpec> {
        common::with_common(common::PRECONDITION_FIELDS, FIELDS)
    }

    fn managed_by(&self) -> Option<ManagedBy> {
        Some(ManagedBy::Service)
    }
}
