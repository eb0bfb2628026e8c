//! `DynamoDBDataNode`: a DynamoDB table (dp-object-dynamodbdatanode).
//!
//! AWS types `region` as an enumeration of region codes; it is a String here because the
//! set of regions is open-ended.
//!
//! [`DynamoTable`] is the node as executors use it (CopyActivity, HiveCopyActivity, the
//! DynamoDB preconditions): it reads `tableName`, `region` and the throughput percents from the
//! evaluated node, connects through `sluice_data::dynamodb`, and reads or writes the table
//! within the node's share of its throughput.

use futures::Stream;
use sluice_data::DataSettings;
use sluice_data::aws::AwsError;
use sluice_data::dynamodb::{DynamoClient, Item, RateLimiter, TableInfo, WriteStats};
use sluice_model::PipelineObject;
use std::sync::Arc;

/// The `errorId` of an attempt failed by a DynamoDB request.
pub const DYNAMODB_REQUEST_FAILED: &str = "DynamoDBRequestFailed";

/// AWS's bounds on `readThroughputPercent` and `writeThroughputPercent`.
const PERCENT_RANGE: std::ops::RangeInclusive<f64> = 0.1..=1.0;

/// A `DynamoDBDataNode`'s fields, as an executor needs them.
#[derive(Debug, Clone, PartialEq)]
pub struct DynamoTable {
    pub table_name: String,
    pub region: Option<String>,
    pub read_percent: Option<f64>,
    pub write_percent: Option<f64>,
}

impl DynamoTable {
    /// Reads the evaluated node; a missing table name or a percent outside 0.1 to 1.0 is an
    /// error naming the node and the field.
    pub fn from_object(node: &PipelineObject) -> Result<DynamoTable, String> {
        let table_name = node
            .string("tableName")
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .ok_or_else(|| format!("{} has no tableName", node.id))?
            .to_owned();
        let percent = |field: &str| -> Result<Option<f64>, String> {
            let Some(raw) = node.string(field) else {
                return Ok(None);
            };
            match raw.trim().parse::<f64>() {
                Ok(p) if PERCENT_RANGE.contains(&p) => Ok(Some(p)),
                _ => Err(format!(
                    "{}: {field} is {raw:?}; it must be a number from 0.1 to 1.0",
                    node.id
                )),
            }
        };
        Ok(DynamoTable {
            table_name,
            region: node
                .string("region")
                .map(str::trim)
                .filter(|r| !r.is_empty())
                .map(str::to_owned),
            read_percent: percent("readThroughputPercent")?,
            write_percent: percent("writeThroughputPercent")?,
        })
    }

    /// A client for the node's region.
    pub fn client(&self, settings: &DataSettings) -> Result<DynamoClient, AwsError> {
        DynamoClient::connect(&settings.dynamodb, self.region.as_deref())
    }

    /// Connects and describes the table; a table that does not exist is an error.
    pub async fn open(&self, settings: &DataSettings) -> Result<OpenTable, AwsError> {
        let client = self.client(settings)?;
        let info = client
            .describe_table(&self.table_name)
            .await?
            .ok_or_else(|| AwsError::Service {
                service: "DynamoDB",
                operation: "DescribeTable",
                message: format!(
                    "table {} does not exist at {}",
                    self.table_name,
                    client.describe()
                ),
            })?;
        Ok(OpenTable {
            node: self.clone(),
            client,
            info,
        })
    }
}

/// A table that exists, with its capacity known.
#[derive(Debug, Clone)]
pub struct OpenTable {
    pub node: DynamoTable,
    pub client: DynamoClient,
    pub info: TableInfo,
}

impl OpenTable {
    /// The limiter for the node's `readThroughputPercent` of the table's read capacity.
    pub fn read_limiter(&self) -> Arc<RateLimiter> {
        Arc::new(
            self.client
                .limiter_for(&self.info, self.node.read_percent, false),
        )
    }

    /// The limiter for the node's `writeThroughputPercent` of the table's write capacity.
    pub fn write_limiter(&self) -> RateLimiter {
        self.client
            .limiter_for(&self.info, self.node.write_percent, true)
    }

    /// Every item of the table, read in parallel segments within `limiter`.
    pub fn scan(
        &self,
        limiter: Arc<RateLimiter>,
    ) -> impl Stream<Item = Result<Item, AwsError>> + Send + 'static {
        self.client.scan(&self.node.table_name, None, limiter)
    }

    /// Writes `items` within `limiter`.
    pub async fn write(
        &self,
        items: impl IntoIterator<Item = Item>,
        limiter: &RateLimiter,
    ) -> Result<WriteStats, AwsError> {
        self.client
            .write_items(&self.node.table_name, items, limiter)
            .await
    }
}

/// What a DynamoDB precondition (`DynamoDBTableExists`, `DynamoDBDataExists`) checks: its
/// `tableName`, in the `region` of the DynamoDBDataNode it is evaluated for when it is one
/// (preconditions have no region of their own), else the settings' default region.
pub(crate) fn precondition_target(
    ctx: &crate::execute::AttemptContext,
) -> Result<(DynamoClient, String), sluice_model::TaskResult> {
    use crate::exec::error_id;
    use sluice_model::{FieldValue, TaskResult};

    let Some(table) = ctx
        .field("tableName")
        .map(str::trim)
        .filter(|t| !t.is_empty())
    else {
        return Err(TaskResult::failed(
            error_id::INVALID_TASK,
            "the precondition has no tableName",
        ));
    };
    let region = ctx
        .attempt()
        .and_then(|a| a.values("node").find_map(FieldValue::as_ref_id))
        .and_then(|id| ctx.task.objects.get(id))
        .filter(|node| node.object_type() == Some("DynamoDBDataNode"))
        .and_then(|node| node.string("region"))
        .map(str::trim)
        .filter(|r| !r.is_empty());
    let client = DynamoClient::connect(&ctx.settings.data.dynamodb, region)
        .map_err(|e| TaskResult::failed(error_id::INVALID_TASK, e.to_string()))?;
    Ok((client, table.to_owned()))
}

#[cfg(test)]
mod tests {
    use sluice_model::Field;

    use super::*;

    fn node(fields: &[(&str, &str)]) -> PipelineObject {
        PipelineObject {
            id: "Table".into(),
            name: "Table".into(),
            fields: fields.iter().map(|(k, v)| Field::string(*k, *v)).collect(),
        }
    }

    #[test]
    fn fields_are_read_and_bad_percents_named() {
        let t = DynamoTable::from_object(&node(&[
            ("tableName", "orders"),
            ("region", "eu-west-1"),
            ("readThroughputPercent", "0.25"),
        ]))
        .unwrap();
        assert_eq!(t.table_name, "orders");
        assert_eq!(t.region.as_deref(), Some("eu-west-1"));
        assert_eq!(t.read_percent, Some(0.25));
        assert_eq!(t.write_percent, None);
        let err = DynamoTable::from_object(&node(&[
            ("tableName", "orders"),
            ("writeThroughputPercent", "1.5"),
        ]))
        .unwrap_err();
        assert!(
            err.contains("writeThroughputPercent") && err.contains("1.5"),
            "{err}"
        );
        let err = DynamoTable::from_object(&node(&[])).unwrap_err();
        assert!(err.contains("Table has no tableName"), "{err}");
    }
}
