//! `DynamoDBDataNode`: a DynamoDB table (dp-object-dynamodbdatanode).
//!
//! AWS types `region` as an enumeration of region codes; it is a String here because the
//! set of regions is open-ended.
//!
//! What it does on a runner: `sluice_executors::types::dynamo_db_data_node`.

use crate::common::{self, optional, required};
use crate::spec::{Category, FieldSpec, ObjectKind, RefTarget, ValueType};

/// A DynamoDB table, used by Hive-based and EMR activities.
pub struct DynamoDBDataNode;

static FIELDS: &[FieldSpec] = &[
    required("tableName", ValueType::String, "The DynamoDB table."),
    optional(
        "dataFormat",
        ValueType::Reference(&[
            RefTarget::Type("DynamoDBDataFormat"),
            RefTarget::Type("DynamoDBExportDataFormat"),
        ]),
        "Format of the table data; used by HiveActivity and HiveCopyActivity.",
    ),
    optional(
        "readThroughputPercent",
        ValueType::Double,
        "Share of the table's provisioned read throughput to use, 0.1 to 1.0.",
    ),
    optional(
        "region",
        ValueType::String,
        "Region of the table, e.g. us-east-1; used when Hive stages DynamoDB tables.",
    ),
    optional(
        "writeThroughputPercent",
        ValueType::Double,
        "Share of the table's provisioned write throughput to use, 0.1 to 1.0.",
    ),
];

impl ObjectKind for DynamoDBDataNode {
    fn type_name(&self) -> &'static str {
        "DynamoDBDataNode"
    }

    fn category(&self) -> Category {
        Category::DataNode
    }

    fn doc(&self) -> &'static str {
        "A DynamoDB table, used by Hive-based and EMR activities."
    }

    fn fields(&self) -> Vec<&'static FieldSpec> {
        common::with_common(common::DATA_NODE_FIELDS, FIELDS)
    }
}
