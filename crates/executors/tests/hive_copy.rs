//! HiveCopyActivity between real dynalite servers and the embedded object store, with
//! `filterSql` evaluated by Sluice.

mod attempt_support;
mod dynamo_support;

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::sync::Arc;

use aws_sdk_dynamodb::types::AttributeValue;
use futures::TryStreamExt;
use sluice_data::DataSettings;
use sluice_data::dynamodb::{DynamoClient, Item, RateLimiter, item_json};
use sluice_data::storage::embedded_root;
use sluice_executors::{Executors, RunnerSettings};
use sluice_model::{Field, PipelineObject, TaskResult, TaskStatus};
use sluice_testsupport::dynamodb::Dynalite;

use attempt_support::{Ids, attempt_context, objects_by_id};
use dynamo_support::{create_table, dynamo_settings};

const ATTEMPT_ID: &str = "@Copy_2026-03-02T00:00:00_Attempt=1";

fn settings(endpoints: &[(&str, &Dynalite)]) -> DataSettings {
    dynamo_settings(endpoints, "test")
}

fn object(id: &str, fields: &[(&str, &str)], refs: &[(&str, &str)]) -> PipelineObject {
    let mut all: Vec<Field> = fields.iter().map(|(k, v)| Field::string(*k, *v)).collect();
    all.extend(refs.iter().map(|(k, v)| Field::reference(*k, *v)));
    PipelineObject {
        id: id.into(),
        name: id.into(),
        fields: all,
    }
}

struct Run {
    scratch: tempfile::TempDir,
    settings: Arc<DataSettings>,
}

impl Run {
    fn new(settings: DataSettings) -> Run {
        Run {
            scratch: tempfile::tempdir().unwrap(),
            settings: Arc::new(settings),
        }
    }

    fn data_dir(&self) -> std::path::PathBuf {
        self.scratch.path().join("data")
    }

    /// Executes a HiveCopyActivity from `input` to `output` with `filter`.
    async fn copy(
        &self,
        filter: Option<&str>,
        input: PipelineObject,
        output: PipelineObject,
        others: Vec<PipelineObject>,
    ) -> TaskResult {
        let mut fields = vec![("type", "HiveCopyActivity"), ("workerGroup", "wg")];
        if let Some(filter) = filter {
            fields.push(("filterSql", filter));
        }
        let attempt = object(
            ATTEMPT_ID,
            &fields,
            &[("input", &input.id), ("output", &output.id)],
        );
        let ctx = attempt_context(
            Ids {
                task: "t",
                pipeline: "df-HIVE",
                attempt: ATTEMPT_ID,
            },
            objects_by_id(attempt, [input, output].into_iter().chain(others)),
            self.scratch.path().join("attempt"),
            RunnerSettings {
                data_dir: self.data_dir(),
                data: self.settings.clone(),
            },
        );
        Executors::builtin()
            .get("HiveCopyActivity")
            .unwrap()
            .execute(&ctx)
            .await
    }

    fn stdout(&self) -> String {
        std::fs::read_to_string(self.scratch.path().join("attempt/stdout.log")).unwrap_or_default()
    }

    /// The embedded store's file for `s3://bucket/key`.
    fn s3_file(&self, bucket_and_key: &str) -> std::path::PathBuf {
        embedded_root(&self.data_dir()).join(bucket_and_key)
    }
}

/// Items updated on the 1st to the 20th of March 2026, one a day.
fn items() -> Vec<Item> {
    (1..=20)
        .map(|day| {
            item_json::item([
                ("id", AttributeValue::S(format!("order-{day:02}"))),
                (
                    "lastUpdated",
                    AttributeValue::S(format!("2026-03-{day:02}T12:00:00")),
                ),
                ("amount", AttributeValue::N((day * 10).to_string())),
            ])
        })
        .collect()
}

fn ids(items: &[Item]) -> BTreeSet<String> {
    items
        .iter()
        .map(|i| i["id"].as_s().unwrap().clone())
        .collect()
}

fn read_export(path: &Path) -> Vec<Item> {
    std::fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .lines()
        .map(|l| item_json::item_from_line(l).unwrap())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_filtered_export_from_dynamodb_to_s3_keeps_only_matching_items() {
    let server = Dynalite::start().unwrap();
    let run = Run::new(settings(&[("us-east-1", &server)]));
    let client = DynamoClient::connect(&run.settings.dynamodb, None).unwrap();
    create_table(&client, "orders", 1000, 1000).await;
    client
        .write_items("orders", items(), &RateLimiter::new(1000.0))
        .await
        .unwrap();

    let result = run
        .copy(
            Some("lastUpdated > '2026-03-15T00:00:00' AND amount <> 170"),
            object(
                "Orders",
                &[("type", "DynamoDBDataNode"), ("tableName", "orders")],
                &[],
            ),
            object(
                "Export",
                &[
                    ("type", "S3DataNode"),
                    ("directoryPath", "s3://exports/orders/2026-03-15"),
                ],
                &[("dataFormat", "ExportFormat")],
            ),
            vec![object(
                "ExportFormat",
                &[("type", "DynamoDBExportDataFormat")],
                &[],
            )],
        )
        .await;
    assert_eq!(result.task_status, TaskStatus::Finished, "{result:?}");
    let exported = read_export(&run.s3_file("exports/orders/2026-03-15/part-00000"));
    let expected: BTreeSet<String> = [15, 16, 18, 19, 20]
        .iter()
        .map(|d| format!("order-{d:02}"))
        .collect();
    assert_eq!(ids(&exported), expected);
    let original: BTreeMap<String, Item> = items()
        .into_iter()
        .map(|i| (i["id"].as_s().unwrap().clone(), i))
        .collect();
    for item in &exported {
        assert_eq!(item, &original[item["id"].as_s().unwrap()]);
    }
    assert_eq!(
        run.stdout(),
        "HiveCopyActivity: read 20 items, filtered out 15, wrote 5\n"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_import_from_s3_fills_a_table_in_another_region() {
    let east = Dynalite::start().unwrap();
    let west = Dynalite::start().unwrap();
    let run = Run::new(settings(&[("us-east-1", &east), ("eu-west-1", &west)]));
    let west_client = DynamoClient::connect(&run.settings.dynamodb, Some("eu-west-1")).unwrap();
    create_table(&west_client, "restored", 1000, 1000).await;
    let file = run.s3_file("backups/orders.json");
    std::fs::create_dir_all(file.parent().unwrap()).unwrap();
    let text: String = items()
        .iter()
        .map(|i| item_json::item_to_line(i) + "\n")
        .collect();
    std::fs::write(&file, text).unwrap();

    let result = run
        .copy(
            Some("amount <= 50"),
            object(
                "Backup",
                &[
                    ("type", "S3DataNode"),
                    ("filePath", "s3://backups/orders.json"),
                ],
                &[],
            ),
            object(
                "Restored",
                &[
                    ("type", "DynamoDBDataNode"),
                    ("tableName", "restored"),
                    ("region", "eu-west-1"),
                ],
                &[],
            ),
            vec![],
        )
        .await;
    assert_eq!(result.task_status, TaskStatus::Finished, "{result:?}");
    let copied: Vec<Item> = west_client
        .scan("restored", None, Arc::new(RateLimiter::new(1000.0)))
        .try_collect()
        .await
        .unwrap();
    let expected: BTreeSet<String> = (1..=5).map(|d| format!("order-{d:02}")).collect();
    assert_eq!(ids(&copied), expected);
    let east_client = DynamoClient::connect(&run.settings.dynamodb, Some("us-east-1")).unwrap();
    assert_eq!(east_client.describe_table("restored").await.unwrap(), None);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_filters_missing_tables_and_other_formats_fail_with_the_reason() {
    let server = Dynalite::start().unwrap();
    let run = Run::new(settings(&[("us-east-1", &server)]));
    let table = || {
        object(
            "Orders",
            &[("type", "DynamoDBDataNode"), ("tableName", "nope")],
            &[],
        )
    };
    let s3 = |format: &[(&str, &str)]| {
        object(
            "Out",
            &[("type", "S3DataNode"), ("filePath", "s3://b/out.json")],
            format,
        )
    };

    let result = run.copy(Some("amount >"), table(), s3(&[]), vec![]).await;
    assert_eq!(result.task_status, TaskStatus::Failed);
    assert_eq!(result.error_id.as_deref(), Some("InvalidTask"));
    assert!(result.error_message.unwrap().contains("filterSql"));

    let result = run.copy(None, table(), s3(&[]), vec![]).await;
    assert_eq!(result.error_id.as_deref(), Some("DynamoDBRequestFailed"));
    assert!(
        result
            .error_message
            .unwrap()
            .contains("nope does not exist"),
        "missing table"
    );

    let csv = object("Csv", &[("type", "CSV")], &[]);
    let result = run
        .copy(None, s3(&[("dataFormat", "Csv")]), table(), vec![csv])
        .await;
    assert_eq!(result.error_id.as_deref(), Some("Unsupported"));
    assert!(result.error_message.unwrap().contains("not CSV"));
    assert!(!run.s3_file("b/out.json").exists());
}
