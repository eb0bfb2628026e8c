//! `DynamoDBExportDataFormat`: schema of DynamoDB export files (dp-object-dynamodbexportdataformat).
//!
//! An export file holds one item per line in DynamoDB's typed JSON
//! (`{"id":{"S":"a1"},"n":{"N":"3"}}`), every attribute kept whatever the columns say; the
//! columns only document the schema. See `sluice_data::dynamodb::item_json` for the spellings
//! read.

use sluice_data::dynamodb::{Item, item_json};

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

/// One item as a line of an export file (without the newline).
pub fn item_to_line(item: &Item) -> String {
    item_json::item_to_line(item)
}

/// One line of an export file as an item; `line_number` (from 1) goes into the error.
pub fn item_from_line(line: &str, line_number: usize) -> Result<Item, String> {
    item_json::item_from_line(line).map_err(|e| format!("line {line_number}: {e}"))
}
