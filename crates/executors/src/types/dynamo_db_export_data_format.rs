//! `DynamoDBExportDataFormat`: schema of DynamoDB export files (dp-object-dynamodbexportdataformat).
//!
//! An export file holds one item per line in DynamoDB's typed JSON
//! (`{"id":{"S":"a1"},"n":{"N":"3"}}`), every attribute kept whatever the columns say; the
//! columns only document the schema. See `sluice_data::dynamodb::item_json` for the spellings
//! read.

use sluice_data::dynamodb::{Item, item_json};

/// One item as a line of an export file (without the newline).
pub fn item_to_line(item: &Item) -> String {
    item_json::item_to_line(item)
}

/// One line of an export file as an item; `line_number` (from 1) goes into the error.
pub fn item_from_line(line: &str, line_number: usize) -> Result<Item, String> {
    item_json::item_from_line(line).map_err(|e| format!("line {line_number}: {e}"))
}
