//! DynamoDB preconditions and data-node reads and writes against real dynalite servers (one
//! per test; two where a test needs two regions).

mod attempt_support;
mod dynamo_support;

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::time::Instant;

use aws_sdk_dynamodb::types::AttributeValue;
use futures::TryStreamExt;
use sluice_data::DataSettings;
use sluice_data::dynamodb::{DynamoClient, DynamoSettings, Item};
use sluice_executors::types::dynamo_db_data_format::{columns_of, item_to_row, row_to_item};
use sluice_executors::types::dynamo_db_data_node::{DynamoTable, OpenTable};
use sluice_executors::types::dynamo_db_export_data_format::{item_from_line, item_to_line};
use sluice_executors::{Executors, RunnerSettings};
use sluice_model::{Field, PipelineObject, TaskResult, TaskStatus};
use sluice_testsupport::dynamodb::Dynalite;

use attempt_support::{Ids, attempt_context, objects_by_id};
use dynamo_support::{create_table, dynamo_settings};

const ATTEMPT_ID: &str = "@Check_2026-01-01T00:00:00_Attempt=1";
/// The secret key every test uses; no message may contain it.
const SECRET: &str = "dynalite-secret-key";

fn settings(endpoints: &[(&str, &Dynalite)]) -> Arc<DataSettings> {
    Arc::new(dynamo_settings(endpoints, SECRET))
}

fn object(id: &str, fields: &[(&str, &str)]) -> PipelineObject {
    PipelineObject {
        id: id.into(),
        name: id.into(),
        fields: fields.iter().map(|(k, v)| Field::string(*k, *v)).collect(),
    }
}

/// Runs precondition `type_name` on `table`, evaluated for a DynamoDBDataNode in `region`.
async fn check(
    settings: &Arc<DataSettings>,
    type_name: &str,
    table: &str,
    region: &str,
) -> TaskResult {
    let scratch = tempfile::tempdir().unwrap();
    let mut attempt = object(
        ATTEMPT_ID,
        &[("type", type_name), ("tableName", table), ("role", "r")],
    );
    attempt.fields.push(Field::reference("node", "@Node_1"));
    let node = object(
        "@Node_1",
        &[
            ("type", "DynamoDBDataNode"),
            ("tableName", "other"),
            ("region", region),
        ],
    );
    let ctx = attempt_context(
        Ids {
            task: "t",
            pipeline: "df-DDB",
            attempt: ATTEMPT_ID,
        },
        objects_by_id(attempt, [node]),
        scratch.path().to_path_buf(),
        RunnerSettings {
            data_dir: scratch.path().join("data"),
            data: settings.clone(),
        },
    );
    Executors::builtin()
        .get(type_name)
        .expect("DynamoDB preconditions have executors")
        .execute(&ctx)
        .await
}

fn sample_items(count: usize, padding: usize) -> Vec<Item> {
    (0..count)
        .map(|i| {
            HashMap::from([
                ("id".to_owned(), AttributeValue::S(format!("item-{i:04}"))),
                ("n".to_owned(), AttributeValue::N(i.to_string())),
                ("even".to_owned(), AttributeValue::Bool(i % 2 == 0)),
                (
                    "tags".to_owned(),
                    AttributeValue::Ss(vec![format!("t{}", i % 3), "all".into()]),
                ),
                ("pad".to_owned(), AttributeValue::S("x".repeat(padding))),
            ])
        })
        .collect()
}

fn by_id(items: Vec<Item>) -> BTreeMap<String, Item> {
    items
        .into_iter()
        .map(|item| {
            let id = item["id"].as_s().unwrap().clone();
            (id, item)
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn table_exists_is_true_only_for_an_existing_table() {
    let server = Dynalite::start().unwrap();
    let settings = settings(&[("us-east-1", &server)]);
    let client = DynamoClient::connect(&settings.dynamodb, None).unwrap();
    create_table(&client, "present", 5, 5).await;

    let result = check(&settings, "DynamoDBTableExists", "present", "us-east-1").await;
    assert_eq!(result.task_status, TaskStatus::Finished, "{result:?}");
    let result = check(&settings, "DynamoDBTableExists", "absent", "us-east-1").await;
    assert_eq!(result.task_status, TaskStatus::False, "{result:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn data_exists_is_true_only_once_the_table_has_an_item() {
    let server = Dynalite::start().unwrap();
    let settings = settings(&[("us-east-1", &server)]);
    let client = DynamoClient::connect(&settings.dynamodb, None).unwrap();
    create_table(&client, "events", 5, 5).await;

    let result = check(&settings, "DynamoDBDataExists", "events", "us-east-1").await;
    assert_eq!(
        result.task_status,
        TaskStatus::False,
        "empty table: {result:?}"
    );
    let result = check(&settings, "DynamoDBDataExists", "missing", "us-east-1").await;
    assert_eq!(
        result.task_status,
        TaskStatus::False,
        "no table: {result:?}"
    );

    let limiter = sluice_data::dynamodb::RateLimiter::new(100.0);
    client
        .write_items("events", sample_items(1, 10), &limiter)
        .await
        .unwrap();
    let result = check(&settings, "DynamoDBDataExists", "events", "us-east-1").await;
    assert_eq!(result.task_status, TaskStatus::Finished, "{result:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn preconditions_look_in_the_region_of_their_node_and_report_unreachable_servers() {
    let east = Dynalite::start().unwrap();
    let west = Dynalite::start().unwrap();
    let settings = settings(&[("us-east-1", &east), ("eu-west-1", &west)]);
    let west_client = DynamoClient::connect(&settings.dynamodb, Some("eu-west-1")).unwrap();
    create_table(&west_client, "only-in-west", 5, 5).await;

    let result = check(
        &settings,
        "DynamoDBTableExists",
        "only-in-west",
        "eu-west-1",
    )
    .await;
    assert_eq!(result.task_status, TaskStatus::Finished, "{result:?}");
    let result = check(
        &settings,
        "DynamoDBTableExists",
        "only-in-west",
        "us-east-1",
    )
    .await;
    assert_eq!(result.task_status, TaskStatus::False, "{result:?}");

    // A region whose endpoint accepts no connections fails the check, naming the table.
    let closed = sluice_testsupport::tools::free_port();
    let mut broken = (*settings).clone();
    broken
        .dynamodb
        .endpoints
        .insert("ap-south-1".into(), format!("http://127.0.0.1:{closed}"));
    let result = check(&Arc::new(broken), "DynamoDBTableExists", "t1", "ap-south-1").await;
    assert_eq!(result.task_status, TaskStatus::Failed, "{result:?}");
    assert_eq!(result.error_id.as_deref(), Some("DynamoDBRequestFailed"));
    let message = result.error_message.unwrap_or_default();
    assert!(
        message.contains("t1") && message.contains("ap-south-1"),
        "{message}"
    );
    assert!(!message.contains(SECRET), "{message}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn items_copied_between_two_regions_arrive_intact_through_both_formats() {
    let east = Dynalite::start().unwrap();
    let west = Dynalite::start().unwrap();
    let settings = settings(&[("us-east-1", &east), ("eu-west-1", &west)]);
    let source_node = object(
        "Source",
        &[("tableName", "orders"), ("region", "us-east-1")],
    );
    let target_node = object(
        "Target",
        &[
            ("tableName", "orders-copy"),
            ("region", "eu-west-1"),
            ("writeThroughputPercent", "1.0"),
        ],
    );
    let source = DynamoTable::from_object(&source_node).unwrap();
    let target = DynamoTable::from_object(&target_node).unwrap();
    create_table(&source.client(&settings).unwrap(), "orders", 1000, 1000).await;
    create_table(
        &target.client(&settings).unwrap(),
        "orders-copy",
        1000,
        1000,
    )
    .await;

    let original = sample_items(260, 20);
    let source: OpenTable = source.open(&settings).await.unwrap();
    let written = source
        .write(original.clone(), &source.write_limiter())
        .await
        .unwrap();
    assert_eq!(written.items, 260);
    assert!(written.requests >= 11, "{written:?}");

    // Out through the export format (one typed-JSON line per item) and back in.
    let scanned: Vec<Item> = source
        .scan(source.read_limiter())
        .try_collect()
        .await
        .unwrap();
    assert_eq!(scanned.len(), 260);
    let lines: Vec<String> = scanned.iter().map(item_to_line).collect();
    let reread: Vec<Item> = lines
        .iter()
        .enumerate()
        .map(|(i, line)| item_from_line(line, i + 1).unwrap())
        .collect();
    let target = target.open(&settings).await.unwrap();
    target.write(reread, &target.write_limiter()).await.unwrap();

    let copied: Vec<Item> = target
        .scan(target.read_limiter())
        .try_collect()
        .await
        .unwrap();
    assert_eq!(by_id(copied), by_id(original.clone()));
    // The source region's server does not have the copy.
    let east_client = DynamoClient::connect(&settings.dynamodb, Some("us-east-1")).unwrap();
    assert_eq!(
        east_client.describe_table("orders-copy").await.unwrap(),
        None
    );

    // A DynamoDBDataFormat row keeps the columns it names, typed as the schema says.
    let format = object(
        "Format",
        &[
            ("column", "id string"),
            ("column", "n bigint"),
            ("column", "even boolean"),
        ],
    );
    let columns = columns_of(&format).unwrap();
    let row = item_to_row(&original[7], &columns);
    assert_eq!(
        row,
        vec![
            Some("item-0007".into()),
            Some("7".into()),
            Some("false".into())
        ]
    );
    let back = row_to_item(&row, &columns).unwrap();
    assert_eq!(back["n"], AttributeValue::N("7".into()));
    assert_eq!(back.len(), 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_scan_keeps_to_its_share_of_the_read_capacity() {
    let server = Dynalite::start().unwrap();
    let settings = settings(&[("us-east-1", &server)]);
    let node = object(
        "Throttled",
        &[("tableName", "slow"), ("readThroughputPercent", "0.25")],
    );
    let node = DynamoTable::from_object(&node).unwrap();
    // 8 read units at 25% is 2 units per second.
    create_table(&node.client(&settings).unwrap(), "slow", 8, 1000).await;
    let table = node.open(&settings).await.unwrap();
    assert_eq!(table.info.read_capacity, Some(8));
    let fast = sluice_data::dynamodb::RateLimiter::new(1000.0);
    table.write(sample_items(24, 3500), &fast).await.unwrap();

    let limiter = table.read_limiter();
    assert_eq!(limiter.rate(), 2.0);
    let start = Instant::now();
    let items: Vec<Item> = table.scan(limiter.clone()).try_collect().await.unwrap();
    let elapsed = start.elapsed();
    assert_eq!(items.len(), 24);

    // The bucket lets through at most one burst, plus one request per scan segment in flight,
    // more than the rate allows; everything beyond that had to wait.
    let stats = limiter.stats();
    let segments = f64::from(DynamoSettings::default().scan_segments);
    let allowance = limiter.burst() + segments * stats.largest_request_units;
    let bound = (stats.consumed_units - allowance) / limiter.rate();
    eprintln!("limited scan: {stats:?} in {elapsed:?}; lower bound {bound:.2} s");
    assert!(
        bound >= 2.0,
        "the scan must cost enough for the bound to mean something: {stats:?}"
    );
    assert!(
        elapsed.as_secs_f64() >= bound,
        "{} units at {}/s took {elapsed:?}, less than the {bound:.2} s the limit allows ({stats:?})",
        stats.consumed_units,
        limiter.rate()
    );
}
