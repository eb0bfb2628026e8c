//! `DynamoDBDataFormat`: schema for Hive access to a DynamoDB table (dp-object-dynamodbdataformat).
//!
//! Each `column` (`"name TYPE"`, Hive types) is the attribute of that name; see
//! `sluice_data::dynamodb::columns` for how Hive types map to DynamoDB's.

use crate::common::{self, repeated};
use crate::spec::{Category, FieldSpec, ObjectKind, ValueType};

/// Hive schema for reading or writing a DynamoDB table.
pub struct DynamoDBDataFormat;

static FIELDS: &[FieldSpec] = &[repeated(
    "column",
    ValueType::String,
    "Column of the Hive schema as \"name TYPE\".",
)];

impl ObjectKind for DynamoDBDataFormat {
    fn type_name(&self) -> &'static str {
        "DynamoDBDataFormat"
    }

    fn category(&self) -> Category {
        Category::DataFormat
    }

    fn doc(&self) -> &'static str {
        "Hive schema for reading or writing a DynamoDB table."
    }

    fn fields(&self) -> Vec<&'static FieldSpec> {
        common::with_common(common::PARENT_ONLY, FIELDS)
    }
}
