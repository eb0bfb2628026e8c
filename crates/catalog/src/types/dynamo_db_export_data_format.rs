//! `DynamoDBExportDataFormat`: schema of DynamoDB export files (dp-object-dynamodbexportdataformat).
//!
//! An export file holds one item per line in DynamoDB's typed JSON
//! (`{"id":{"S":"a1"},"n":{"N":"3"}}`), every attribute kept whatever the columns say; the
//! columns only document the schema. See `sluice_data::dynamodb::item_json` for the spellings
//! read.

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
