//! DynamoDB tables: what a `DynamoDBDataNode`, `DynamoDBTableExists` and `DynamoDBDataExists`
//! need, through the AWS SDK.
//!
//! * [`DynamoClient`]: one client per region (each region may have its own endpoint, so two
//!   local servers can stand for two regions);
//! * [`DynamoClient::describe_table`], [`DynamoClient::has_items`]: what the preconditions ask;
//! * [`DynamoClient::scan`]: a parallel scan as a stream of items, and
//!   [`DynamoClient::write_items`]: batch writes that retry unprocessed items; both kept to a
//!   share of the table's throughput by a [`RateLimiter`];
//! * [`item_json`] and [`columns`]: items as `DynamoDBExportDataFormat` lines and as
//!   `DynamoDBDataFormat` rows.
//!
//! Throughput shares follow AWS: `readThroughputPercent`/`writeThroughputPercent` of the
//! table's provisioned capacity units, 0.5 when unset. An on-demand table has no provisioned
//! capacity; it is treated as having [`DynamoSettings::on_demand_units`] (40,000 units per
//! second unless set, the EMR DynamoDB connector's assumption), so in practice the share only
//! matters for provisioned tables.

pub mod columns;
pub mod filter;
pub mod item_json;
pub mod limiter;

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

pub use crate::aws::DynamoSettings;
use crate::aws::{AwsError, ClientTarget};
use aws_sdk_dynamodb::error::DisplayErrorContext;
use aws_sdk_dynamodb::types::{
    AttributeValue, BillingMode, ConsumedCapacity, PutRequest, ReturnConsumedCapacity, WriteRequest,
};
use futures::Stream;
pub use limiter::{LimiterStats, RateLimiter};

/// One DynamoDB item: attribute name to typed value.
pub type Item = HashMap<String, AttributeValue>;

/// The name used in `AWS_ENDPOINT_URL_DYNAMODB` and in messages.
const SERVICE: &str = "DYNAMODB";

/// AWS's default share of a table's throughput.
pub const DEFAULT_THROUGHPUT_PERCENT: f64 = 0.5;

/// BatchWriteItem's limit.
const BATCH_SIZE: usize = 25;
/// How often a batch's unprocessed items are sent again before the write fails.
const UNPROCESSED_RETRIES: u32 = 10;

/// What DescribeTable says about a table.
#[derive(Debug, Clone, PartialEq)]
pub struct TableInfo {
    pub name: String,
    /// `CREATING`, `ACTIVE`, `UPDATING`, `DELETING`, …
    pub status: String,
    /// Provisioned read capacity units; `None` for on-demand tables.
    pub read_capacity: Option<i64>,
    /// Provisioned write capacity units; `None` for on-demand tables.
    pub write_capacity: Option<i64>,
    /// DynamoDB's item count, refreshed by AWS only every few hours.
    pub item_count: Option<i64>,
}

/// A client for one region's DynamoDB.
#[derive(Debug, Clone)]
pub struct DynamoClient {
    client: aws_sdk_dynamodb::Client,
    target: Arc<ClientTarget>,
    settings: Arc<DynamoSettings>,
}

/// What a write did.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct WriteStats {
    pub items: u64,
    /// BatchWriteItem calls, retries of unprocessed items included.
    pub requests: u64,
    pub consumed_units: f64,
}

impl DynamoClient {
    /// A client for `region` (the object's own, or the settings' default when `None`).
    pub fn connect(settings: &DynamoSettings, region: Option<&str>) -> Result<Self, AwsError> {
        let target = settings.client().target(SERVICE, region)?;
        let mut config = aws_sdk_dynamodb::Config::builder()
            .behavior_version(aws_sdk_dynamodb::config::BehaviorVersion::latest())
            .region(aws_sdk_dynamodb::config::Region::new(target.region.clone()))
            .credentials_provider(target.sdk_credentials())
            .timeout_config(crate::aws::timeouts());
        if let Some(url) = &target.endpoint {
            config = config.endpoint_url(url);
        }
        if let Some(client) = target.http_client(SERVICE)? {
            config = config.http_client(client);
        }
        Ok(DynamoClient {
            client: aws_sdk_dynamodb::Client::from_conf(config.build()),
            target: Arc::new(target),
            settings: Arc::new(settings.clone()),
        })
    }

    /// The SDK client, for operations this module does not wrap.
    pub fn sdk(&self) -> &aws_sdk_dynamodb::Client {
        &self.client
    }

    /// Where this client sends requests (for messages).
    pub fn describe(&self) -> String {
        self.target.describe()
    }

    /// The table's description, or `None` when it does not exist.
    pub async fn describe_table(&self, table: &str) -> Result<Option<TableInfo>, AwsError> {
        let out = match self.client.describe_table().table_name(table).send().await {
            Ok(out) => out,
            Err(err) => {
                if err
                    .as_service_error()
                    .is_some_and(|e| e.is_resource_not_found_exception())
                {
                    return Ok(None);
                }
                return Err(self.failed("DescribeTable", table, err));
            }
        };
        let Some(desc) = out.table else {
            return Ok(None);
        };
        let on_demand = desc
            .billing_mode_summary()
            .and_then(|b| b.billing_mode())
            .is_some_and(|m| *m == BillingMode::PayPerRequest);
        let provisioned = |units: Option<i64>| units.filter(|u| *u > 0 && !on_demand);
        let throughput = desc.provisioned_throughput();
        Ok(Some(TableInfo {
            name: desc.table_name().unwrap_or(table).to_owned(),
            status: desc
                .table_status()
                .map(|s| s.as_str().to_owned())
                .unwrap_or_default(),
            read_capacity: provisioned(throughput.and_then(|t| t.read_capacity_units())),
            write_capacity: provisioned(throughput.and_then(|t| t.write_capacity_units())),
            item_count: desc.item_count(),
        }))
    }

    /// Whether the table holds at least one item (one strongly consistent single-item scan,
    /// since DescribeTable's count lags by hours). `None` when the table does not exist.
    pub async fn has_items(&self, table: &str) -> Result<Option<bool>, AwsError> {
        let result = self
            .client
            .scan()
            .table_name(table)
            .limit(1)
            .consistent_read(true)
            .send()
            .await;
        match result {
            Ok(out) => Ok(Some(out.count() > 0 || !out.items().is_empty())),
            Err(err)
                if err
                    .as_service_error()
                    .is_some_and(|e| e.is_resource_not_found_exception()) =>
            {
                Ok(None)
            }
            Err(err) => Err(self.failed("Scan", table, err)),
        }
    }

    /// The limiter for `percent` of the table's read (or write) capacity.
    pub fn limiter_for(&self, info: &TableInfo, percent: Option<f64>, write: bool) -> RateLimiter {
        let percent = percent.unwrap_or(DEFAULT_THROUGHPUT_PERCENT);
        let provisioned = if write {
            info.write_capacity
        } else {
            info.read_capacity
        };
        RateLimiter::new(limiter::share_of(
            provisioned,
            self.settings.on_demand_units,
            percent,
        ))
    }

    /// Scans the whole table in `segments` parallel segments (the settings' count when
    /// `None`), keeping to `limiter`. Items arrive as the pages do, in no particular order. A
    /// failed segment yields its error and stops; readers stop at the first error, and
    /// dropping the stream stops every segment at its next page.
    pub fn scan(
        &self,
        table: &str,
        segments: Option<u32>,
        limiter: Arc<RateLimiter>,
    ) -> impl Stream<Item = Result<Item, AwsError>> + Send + 'static {
        let segments = segments.unwrap_or(self.settings.scan_segments).clamp(1, 64);
        let (tx, rx) = tokio::sync::mpsc::channel::<Result<Item, AwsError>>(256);
        for segment in 0..segments {
            let this = self.clone();
            let table = table.to_owned();
            let limiter = limiter.clone();
            let tx = tx.clone();
            tokio::spawn(async move {
                if let Err(err) = this
                    .scan_segment(&table, segment, segments, &limiter, &tx)
                    .await
                {
                    let _ = tx.send(Err(err)).await;
                }
            });
        }
        futures::stream::unfold(rx, |mut rx| async move {
            rx.recv().await.map(|item| (item, rx))
        })
    }

    async fn scan_segment(
        &self,
        table: &str,
        segment: u32,
        segments: u32,
        limiter: &RateLimiter,
        tx: &tokio::sync::mpsc::Sender<Result<Item, AwsError>>,
    ) -> Result<(), AwsError> {
        let mut start_key: Option<Item> = None;
        // The first page is one item, to learn what an item costs; later pages are sized to
        // about one second of this segment's budget, so no page runs far ahead of the limit.
        let mut page_limit: Option<i32> = Some(1);
        loop {
            limiter.acquire().await;
            let mut request = self
                .client
                .scan()
                .table_name(table)
                .set_exclusive_start_key(start_key.take())
                .set_limit(page_limit)
                .return_consumed_capacity(ReturnConsumedCapacity::Total);
            if segments > 1 {
                request = request
                    .segment(segment as i32)
                    .total_segments(segments as i32);
            }
            let out = request
                .send()
                .await
                .map_err(|e| self.failed("Scan", table, e))?;
            let units = capacity(out.consumed_capacity.as_ref());
            limiter.consume(units);
            let items = out.items.unwrap_or_default();
            if !items.is_empty() {
                page_limit = if units > 0.0 {
                    let per_item = units / items.len() as f64;
                    let budget = limiter.rate() / f64::from(segments);
                    Some((budget / per_item).floor().clamp(1.0, 1000.0) as i32)
                } else {
                    // A server that reports no capacity cannot be limited: use full pages.
                    None
                };
            }
            for item in items {
                if tx.send(Ok(item)).await.is_err() {
                    // The reader went away: stop scanning.
                    return Ok(());
                }
            }
            match out.last_evaluated_key {
                Some(key) if !key.is_empty() => start_key = Some(key),
                _ => return Ok(()),
            }
        }
    }

    /// Writes `items` with BatchWriteItem (25 at a time), keeping to `limiter` and sending
    /// unprocessed items again with growing back-off.
    pub async fn write_items(
        &self,
        table: &str,
        items: impl IntoIterator<Item = Item>,
        limiter: &RateLimiter,
    ) -> Result<WriteStats, AwsError> {
        let mut stats = WriteStats::default();
        let mut batch = Vec::with_capacity(BATCH_SIZE);
        for item in items {
            batch.push(item);
            if batch.len() == BATCH_SIZE {
                self.write_batch(table, std::mem::take(&mut batch), limiter, &mut stats)
                    .await?;
            }
        }
        if !batch.is_empty() {
            self.write_batch(table, batch, limiter, &mut stats).await?;
        }
        Ok(stats)
    }

    async fn write_batch(
        &self,
        table: &str,
        items: Vec<Item>,
        limiter: &RateLimiter,
        stats: &mut WriteStats,
    ) -> Result<(), AwsError> {
        let count = items.len() as u64;
        let mut pending: Vec<WriteRequest> = items
            .into_iter()
            .map(|item| {
                let put = PutRequest::builder()
                    .set_item(Some(item))
                    .build()
                    .map_err(|e| AwsError::Invalid(format!("cannot build a put request: {e}")))?;
                Ok(WriteRequest::builder().put_request(put).build())
            })
            .collect::<Result<_, AwsError>>()?;
        let mut backoff = Duration::from_millis(50);
        for retry in 0..=UNPROCESSED_RETRIES {
            limiter.acquire().await;
            let out = self
                .client
                .batch_write_item()
                .request_items(table, pending)
                .return_consumed_capacity(ReturnConsumedCapacity::Total)
                .send()
                .await
                .map_err(|e| self.failed("BatchWriteItem", table, e))?;
            stats.requests += 1;
            let units: f64 = out
                .consumed_capacity
                .iter()
                .flatten()
                .map(|c| capacity(Some(c)))
                .sum();
            limiter.consume(units);
            stats.consumed_units += units;
            pending = out
                .unprocessed_items
                .and_then(|mut m| m.remove(table))
                .unwrap_or_default();
            if pending.is_empty() {
                stats.items += count;
                return Ok(());
            }
            if retry < UNPROCESSED_RETRIES {
                // DynamoDB hands items back when the table is over its throughput; waiting
                // is the documented remedy.
                tokio::time::sleep(backoff).await;
                backoff = (backoff * 2).min(Duration::from_secs(5));
            }
        }
        Err(AwsError::Service {
            service: "DynamoDB",
            operation: "BatchWriteItem",
            message: format!(
                "table {table} at {}: {} items still unprocessed after {UNPROCESSED_RETRIES} retries",
                self.describe(),
                pending.len()
            ),
        })
    }

    fn failed<E, R>(
        &self,
        operation: &'static str,
        table: &str,
        err: aws_sdk_dynamodb::error::SdkError<E, R>,
    ) -> AwsError
    where
        E: std::error::Error + 'static,
        R: std::fmt::Debug,
    {
        AwsError::Service {
            service: "DynamoDB",
            operation,
            message: self.target.explain(
                SERVICE,
                format!(
                    "table {table} at {}: {}",
                    self.describe(),
                    DisplayErrorContext(&err)
                ),
            ),
        }
    }
}

fn capacity(consumed: Option<&ConsumedCapacity>) -> f64 {
    consumed.and_then(|c| c.capacity_units()).unwrap_or(0.0)
}
