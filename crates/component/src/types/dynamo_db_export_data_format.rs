//! `DynamoDBExportDataFormat`: schema of DynamoDB export files (dp-object-dynamodbexportdataformat).

use crate::common::{self, repeated};
use crate::spec::{Category, FieldSpec, ObjectKind, ValueType};

/// Schema of DynamoDB export files.
pub struct DynamoDBExportDataFormat;

static FIELDS: &[FieldSpec] = &[repeated(
    "column",
    ValueType::String,
    "Column of the export schema as \"name TYPE\".",
)];

impl ObjectKind for DynamoDBExportDataFormat {
    fn type_name(&self) -> &'static str {
        "DynamoDBExportDataFormat"
    }

    fn category(&self) -> Category {
        Category::DataFormat
    }

    fn doc(&self) -> &'static str {
        "Schema of DynamoDB export files."
    }

    fn fields(&self) -> Vec<&'static FieldSpec> {
        common::with_common(common::PARENT_ONLY, FIELDS)
    }
}
