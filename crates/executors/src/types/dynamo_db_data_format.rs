//! `DynamoDBDataFormat`: schema for Hive access to a DynamoDB table (dp-object-dynamodbdataformat).
//!
//! Each `column` (`"name TYPE"`, Hive types) is the attribute of that name; see
//! `sluice_data::dynamodb::columns` for how Hive types map to DynamoDB's.

use sluice_data::dynamodb::Item;
use sluice_data::dynamodb::columns::{self, Column};
use sluice_model::{FieldValue, PipelineObject};

/// The columns of an evaluated `DynamoDBDataFormat` object; an error names the object.
pub fn columns_of(format: &PipelineObject) -> Result<Vec<Column>, String> {
    columns::parse_columns(format.values("column").filter_map(FieldValue::as_str))
        .map_err(|e| format!("{}: {e}", format.id))
}

/// An item as a row of text values, one per column (`None` for a missing attribute).
pub fn item_to_row(item: &Item, columns: &[Column]) -> Vec<Option<String>> {
    columns::item_to_row(item, columns)
}

/// A row of text values as an item, typed by the columns.
pub fn row_to_item(row: &[Option<String>], columns: &[Column]) -> Result<Item, String> {
    columns::row_to_item(row, columns)
}
