//! The DynamoDB export and import tools of EMR steps, run natively by the real EmrActivity
//! executor between dynalite servers and the embedded object store.

mod attempt_support;
mod dynamo_support;

use std::collections::{BTreeMap, BTreeSet};
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use aws_sdk_dynamodb::primitives::Blob;
use aws_sdk_dynamodb::types::AttributeValue;
use futures::TryStreamExt;
use serde_json::Value;
use sluice_data::DataSettings;
use sluice_data::dynamodb::{DynamoClient, Item, RateLimiter, item_json};
use sluice_data::storage::embedded_root;
use sluice_executors::RunnerSettings;
use sluice_model::{PipelineObject, TaskResult, TaskStatus};
use sluice_testsupport::dynamodb::Dynalite;

use attempt_support::{Ids, assert_failed, attempt_context, execute, object, objects_by_id, r, s};
use dynamo_support::{create_table, dynamo_settings};

const NEW_JAR: &str = "s3://dynamodb-dpl-us-east-1/emr-ddb-storage-handler/4.11.0/\
                       emr-dynamodb-tools-4.11.0-SNAPSHOT-jar-with-dependencies.jar";
const OLD_JAR: &str = "s3://dynamodb-emr-us-east-1/emr-ddb-storage-handler/2.1.0/emr-ddb-2.1.0.jar";
const EXPORT: &str = "org.apache.hadoop.dynamodb.tools.DynamoDBExport";
const IMPORT: &str = "org.apache.hadoop.dynamodb.tools.DynamoDBImport";

/// The new tools' step: `<jar>,<class>,<args…>`.
fn step(class: &str, args: &[&str]) -> String {
    std::iter::once(NEW_JAR)
        .chain(std::iter::once(class))
        .chain(args.iter().copied())
        .collect::<Vec<_>>()
        .join(",")
}

struct Run {
    scratch: tempfile::TempDir,
    settings: Arc<DataSettings>,
    attempts: AtomicUsize,
}

/// What one EmrActivity attempt returned and wrote to its stdout log.
struct Outcome {
    result: TaskResult,
    stdout: String,
}

impl Outcome {
    fn assert_finished(&self) {
        assert_eq!(
            self.result.task_status,
            TaskStatus::Finished,
            "{:?}\n{}",
            self.result,
            self.stdout
        );
    }
}

impl Run {
    fn new(settings: DataSettings) -> Run {
        Run {
            scratch: tempfile::tempdir().unwrap(),
            settings: Arc::new(settings),
            attempts: AtomicUsize::new(0),
        }
    }

    fn data_dir(&self) -> PathBuf {
        self.scratch.path().join("data")
    }

    /// The embedded store's file (or folder) for `s3://<bucket_and_key>`.
    fn s3_path(&self, bucket_and_key: &str) -> PathBuf {
        embedded_root(&self.data_dir()).join(bucket_and_key)
    }

    /// Runs an EmrActivity with `steps` on an EmrCluster in `cluster_region`, its `input` and
    /// `output` being the first two of `nodes` when given.
    async fn emr(
        &self,
        steps: &[String],
        cluster_region: &str,
        input: Option<PipelineObject>,
        output: Option<PipelineObject>,
    ) -> Outcome {
        let k = self.attempts.fetch_add(1, Ordering::Relaxed);
        let attempt_id = format!("@TableBackupActivity_2026-03-02T00:00:00_Attempt={}", k + 1);
        let mut fields = vec![s("type", "EmrActivity"), r("runsOn", "EmrClusterForBackup")];
        fields.extend(steps.iter().map(|st| s("step", st)));
        let mut others = vec![object(
            "EmrClusterForBackup",
            vec![
                s("type", "EmrCluster"),
                s("region", cluster_region),
                s("releaseLabel", "emr-5.23.0"),
                s("coreInstanceCount", "1"),
            ],
        )];
        if let Some(node) = input {
            fields.push(r("input", &node.id));
            others.push(node);
        }
        if let Some(node) = output {
            fields.push(r("output", &node.id));
            others.push(node);
        }
        let attempt_dir = self.scratch.path().join(format!("attempt-{}", k + 1));
        let ctx = attempt_context(
            Ids {
                task: "t",
                pipeline: "df-DDB",
                attempt: &attempt_id,
            },
            objects_by_id(object(&attempt_id, fields), others),
            attempt_dir.clone(),
            RunnerSettings {
                data_dir: self.data_dir(),
                data: self.settings.clone(),
            },
        );
        let result = execute(&ctx).await;
        let stdout = std::fs::read_to_string(attempt_dir.join("stdout.log")).unwrap_or_default();
        Outcome { result, stdout }
    }
}

fn table_node(id: &str, table: &str, region: Option<&str>) -> PipelineObject {
    let mut fields = vec![s("type", "DynamoDBDataNode"), s("tableName", table)];
    if let Some(region) = region {
        fields.push(s("region", region));
    }
    object(id, fields)
}

fn folder_node(id: &str, uri: &str) -> PipelineObject {
    object(id, vec![s("type", "S3DataNode"), s("directoryPath", uri)])
}

/// Item `k` of a test table: every attribute type, some nested, with the odd sparse item and
/// strings that need escaping.
fn every_type_item(k: u32) -> Item {
    let mut item = item_json::item([
        ("id", AttributeValue::S(format!("item-{k:04}"))),
        (
            "count",
            AttributeValue::N((i64::from(k) * 37 - 5000).to_string()),
        ),
        ("price", AttributeValue::N(format!("{k}.25"))),
        (
            "bin",
            AttributeValue::B(Blob::new(vec![k as u8, (k >> 8) as u8, 0, 255])),
        ),
        ("flag", AttributeValue::Bool(k.is_multiple_of(2))),
        ("nothing", AttributeValue::Null(true)),
        (
            "list",
            AttributeValue::L(vec![
                AttributeValue::S(format!("x{k}")),
                AttributeValue::N(k.to_string()),
                AttributeValue::Bool(false),
                AttributeValue::Null(true),
                AttributeValue::L(vec![AttributeValue::N("-1500".into())]),
                AttributeValue::M(item_json::item([(
                    "inner",
                    AttributeValue::B(Blob::new(b"in a list".to_vec())),
                )])),
            ]),
        ),
        (
            "map",
            AttributeValue::M(item_json::item([
                (
                    "name",
                    AttributeValue::S(format!("name \"{k}\", é ✓\n\ttab\u{1}")),
                ),
                (
                    "nested",
                    AttributeValue::M(item_json::item([
                        ("scores", AttributeValue::Ns(vec!["1".into(), "2.5".into()])),
                        ("empty_list", AttributeValue::L(vec![])),
                    ])),
                ),
            ])),
        ),
        (
            "tags",
            AttributeValue::Ss(vec![format!("t{k}"), "common".into()]),
        ),
        (
            "scores",
            AttributeValue::Ns(vec!["1".into(), format!("{k}.5")]),
        ),
        (
            "blobs",
            AttributeValue::Bs(vec![Blob::new(vec![1, 2, 3]), Blob::new(vec![k as u8])]),
        ),
    ]);
    if k.is_multiple_of(7) {
        item.remove("tags");
        item.remove("map");
    }
    item
}

/// Sets in a canonical order, so that tables can be compared whatever order a server keeps
/// set members in.
fn canonical(value: &AttributeValue) -> AttributeValue {
    match value {
        AttributeValue::Ss(v) => {
            let mut v = v.clone();
            v.sort();
            AttributeValue::Ss(v)
        }
        AttributeValue::Ns(v) => {
            let mut v = v.clone();
            v.sort();
            AttributeValue::Ns(v)
        }
        AttributeValue::Bs(v) => {
            let mut v = v.clone();
            v.sort_by(|a, b| a.as_ref().cmp(b.as_ref()));
            AttributeValue::Bs(v)
        }
        AttributeValue::L(v) => AttributeValue::L(v.iter().map(canonical).collect()),
        AttributeValue::M(m) => {
            AttributeValue::M(m.iter().map(|(k, v)| (k.clone(), canonical(v))).collect())
        }
        other => other.clone(),
    }
}

type Rows = BTreeMap<String, Item>;

fn rows(items: impl IntoIterator<Item = Item>) -> Rows {
    items
        .into_iter()
        .map(|item| {
            let item: Item = item
                .iter()
                .map(|(k, v)| (k.clone(), canonical(v)))
                .collect();
            (item["id"].as_s().unwrap().clone(), item)
        })
        .collect()
}

async fn scan(client: &DynamoClient, table: &str) -> Rows {
    let items: Vec<Item> = client
        .scan(table, None, Arc::new(RateLimiter::new(10_000.0)))
        .try_collect()
        .await
        .unwrap();
    rows(items)
}

async fn fill(client: &DynamoClient, table: &str, items: Vec<Item>) {
    create_table(client, table, 1000, 1000).await;
    client
        .write_items(table, items, &RateLimiter::new(10_000.0))
        .await
        .unwrap();
}

/// Whether `name` is a version 4 UUID, as the export tool names its data files.
fn is_uuid(name: &str) -> bool {
    let parts: Vec<&str> = name.split('-').collect();
    parts.iter().map(|p| p.len()).collect::<Vec<_>>() == [8, 4, 4, 4, 12]
        && parts.iter().all(|p| {
            p.bytes()
                .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase())
        })
        && parts[2].starts_with('4')
}

/// Checks an export folder (local path `dir`, URI `uri`) and returns its items: a `manifest`
/// in the tool's format listing exactly the data files, an empty `_SUCCESS` written last, and
/// data files of one connector-format item per line.
fn read_export(dir: &Path, uri: &str, gzip: bool) -> Vec<Item> {
    let mut data_files = BTreeSet::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let entry = entry.unwrap();
        assert!(entry.file_type().unwrap().is_file(), "{:?}", entry.path());
        let name = entry.file_name().into_string().unwrap();
        if name != "manifest" && name != "_SUCCESS" {
            let stem = if gzip {
                name.strip_suffix(".gz")
                    .unwrap_or_else(|| panic!("{name} is not gzipped"))
            } else {
                &name
            };
            assert!(is_uuid(stem), "data file name {name}");
            data_files.insert(name);
        }
    }
    assert!(!data_files.is_empty(), "no data files in {}", dir.display());

    let success = dir.join("_SUCCESS");
    assert_eq!(std::fs::read(&success).unwrap(), b"", "_SUCCESS is empty");
    let modified = |p: &Path| std::fs::metadata(p).unwrap().modified().unwrap();
    let manifest_path = dir.join("manifest");
    assert!(modified(&manifest_path) <= modified(&success));
    for name in &data_files {
        assert!(modified(&dir.join(name)) <= modified(&manifest_path));
    }

    let manifest = std::fs::read_to_string(&manifest_path).unwrap();
    assert!(
        manifest.starts_with("{\"name\":\"DynamoDB-export\",\"version\":3,\n\"entries\": [\n"),
        "{manifest}"
    );
    assert!(manifest.ends_with("\n]}"), "{manifest}");
    let parsed: Value = serde_json::from_str(&manifest).unwrap();
    assert_eq!(parsed["name"], "DynamoDB-export");
    assert_eq!(parsed["version"], 3);
    let entries = parsed["entries"].as_array().unwrap();
    assert!(entries.iter().all(|e| e["mandatory"] == true), "{manifest}");
    let urls: Vec<&str> = entries.iter().map(|e| e["url"].as_str().unwrap()).collect();
    let expected: BTreeSet<String> = data_files.iter().map(|n| format!("{uri}/{n}")).collect();
    assert_eq!(urls.len(), expected.len(), "{manifest}");
    assert_eq!(
        urls.iter().map(|u| u.to_string()).collect::<BTreeSet<_>>(),
        expected
    );

    let mut items = Vec::new();
    for name in &data_files {
        let bytes = std::fs::read(dir.join(name)).unwrap();
        let text = if gzip {
            let mut text = String::new();
            std::io::Read::read_to_string(&mut flate2::read::GzDecoder::new(&bytes[..]), &mut text)
                .unwrap();
            text
        } else {
            String::from_utf8(bytes).unwrap()
        };
        assert!(text.ends_with('\n'), "{name} ends with a newline");
        for line in text.lines() {
            // The connector's spelling: `{"s":…}`, not DynamoDB's `{"S":…}`.
            assert!(line.contains("\"id\":{\"s\":\"item-"), "{line}");
            assert!(!line.contains("{\"S\":"), "{line}");
            items.push(item_json::item_from_line(line).unwrap_or_else(|e| panic!("{line}: {e}")));
        }
    }
    items
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_export_imports_into_another_table_row_for_row() {
    let server = Dynalite::start().unwrap();
    let run = Run::new(dynamo_settings(&[("us-east-1", &server)], "test"));
    let client = DynamoClient::connect(&run.settings.dynamodb, None).unwrap();
    fill(&client, "source", (1..=300).map(every_type_item).collect()).await;
    let source = scan(&client, "source").await;
    assert_eq!(source, rows((1..=300).map(every_type_item)));

    let out = "s3://backups/source/2026-03-02-00-00-00";
    let export = run
        .emr(
            &[step(EXPORT, &[out, "source", "0.5"])],
            "us-east-1",
            Some(table_node("DDBSourceTable", "source", None)),
            Some(folder_node("S3BackupLocation", out)),
        )
        .await;
    export.assert_finished();
    assert!(
        export.stdout.contains("read 300 item(s)") && export.stdout.contains("1 data file(s)"),
        "{}",
        export.stdout
    );
    let exported = read_export(
        &run.s3_path("backups/source/2026-03-02-00-00-00"),
        out,
        false,
    );
    assert_eq!(exported.len(), 300);
    assert_eq!(rows(exported), source);

    create_table(&client, "restored", 1000, 1000).await;
    let import = run
        .emr(
            &[step(IMPORT, &[out, "restored", "1.0"])],
            "us-east-1",
            Some(folder_node("S3InputDataNode", out)),
            Some(table_node("DDBDestinationTable", "restored", None)),
        )
        .await;
    import.assert_finished();
    assert!(
        import.stdout.contains("1 file(s) listed in the manifest")
            && import.stdout.contains("wrote 300 item(s)"),
        "{}",
        import.stdout
    );
    assert_eq!(scan(&client, "restored").await, source);
    // The export only read its table.
    assert_eq!(scan(&client, "source").await, source);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_old_emr_ddb_step_form_runs_the_same_tools() {
    let server = Dynalite::start().unwrap();
    let run = Run::new(dynamo_settings(&[("us-east-1", &server)], "test"));
    let client = DynamoClient::connect(&run.settings.dynamodb, None).unwrap();
    fill(&client, "orders", (1..=120).map(every_type_item).collect()).await;
    create_table(&client, "orders_copy", 1000, 1000).await;

    // Spread over lines, as AWS's own samples write these steps.
    let old = |class: &str, path: &str, table: &str, ratio: &str| {
        format!(
            "{OLD_JAR},\n    org.apache.hadoop.dynamodb.tools.{class},\n    {path},\n    \
             {table},\n    {ratio}"
        )
    };
    let out = "s3://backups/orders/old";
    let export = run
        .emr(
            &[old("DynamoDbExport", out, "orders", "0.25")],
            "us-east-1",
            None,
            None,
        )
        .await;
    export.assert_finished();
    let exported = read_export(&run.s3_path("backups/orders/old"), out, false);
    assert_eq!(exported.len(), 120);
    let import = run
        .emr(
            &[old("DynamoDbImport", out, "orders_copy", "0.25")],
            "us-east-1",
            None,
            None,
        )
        .await;
    import.assert_finished();
    assert_eq!(
        scan(&client, "orders_copy").await,
        scan(&client, "orders").await
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hadoop_options_segments_and_the_tables_region_are_honoured() {
    let east = Dynalite::start().unwrap();
    let west = Dynalite::start().unwrap();
    let run = Run::new(dynamo_settings(
        &[("us-east-1", &east), ("eu-west-1", &west)],
        "test",
    ));
    let west_client = DynamoClient::connect(&run.settings.dynamodb, Some("eu-west-1")).unwrap();
    let east_client = DynamoClient::connect(&run.settings.dynamodb, Some("us-east-1")).unwrap();
    fill(
        &west_client,
        "events",
        (1..=200).map(every_type_item).collect(),
    )
    .await;
    create_table(&west_client, "events_restored", 1000, 1000).await;

    // The table's region comes from the input node (the cluster is elsewhere).
    let out = "s3://backups/events/gz";
    let export = run
        .emr(
            &[step(
                EXPORT,
                &[
                    "-Dfs.s3.canned.acl=BucketOwnerFullControl",
                    "-D mapreduce.output.fileoutputformat.compress=true",
                    out,
                    "events",
                    "0.5",
                    "3",
                ],
            )],
            "us-east-1",
            Some(table_node("DDBSourceTable", "events", Some("eu-west-1"))),
            Some(folder_node("S3BackupLocation", out)),
        )
        .await;
    export.assert_finished();
    assert!(
        export
            .stdout
            .contains("-D fs.s3.canned.acl=BucketOwnerFullControl is not acted on")
            && export.stdout.contains("3 segment(s), gzipped files"),
        "{}",
        export.stdout
    );
    let exported = read_export(&run.s3_path("backups/events/gz"), out, true);
    assert_eq!(rows(exported), scan(&west_client, "events").await);

    // Here the region comes from the cluster, as on AWS where the tool runs in its region.
    let import = run
        .emr(
            &[step(IMPORT, &[out, "events_restored", "0.5"])],
            "eu-west-1",
            None,
            None,
        )
        .await;
    import.assert_finished();
    assert_eq!(
        scan(&west_client, "events_restored").await,
        scan(&west_client, "events").await
    );
    assert_eq!(
        east_client.describe_table("events_restored").await.unwrap(),
        None
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_a_manifest_the_import_reads_the_visible_files_of_the_folder() {
    let server = Dynalite::start().unwrap();
    let run = Run::new(dynamo_settings(&[("us-east-1", &server)], "test"));
    let client = DynamoClient::connect(&run.settings.dynamodb, None).unwrap();
    create_table(&client, "products", 100, 100).await;
    let dir = run.s3_path("samples/products");
    std::fs::create_dir_all(&dir).unwrap();
    // The connector's JSON, blank lines included.
    let json: String = (1..=30)
        .map(|k| item_json::item_to_line(&every_type_item(k)) + "\n\n")
        .collect();
    std::fs::write(dir.join("part-00000"), json).unwrap();
    // Data Pipeline's first export format: ^B between attributes, ^C after each name.
    std::fs::write(
        dir.join("ProductCatalog.txt"),
        "id\u{3}{\"s\":\"book-101\"}\u{2}Price\u{3}{\"n\":\"2\"}\u{2}Authors\u{3}{\"sS\":[\"A\",\"B\"]}\n\
         id\u{3}{\"s\":\"book-102\"}\u{2}InStock\u{3}{\"bOOL\":true}\n",
    )
    .unwrap();
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(item_json::item_to_line(&every_type_item(31)).as_bytes())
        .unwrap();
    std::fs::write(dir.join("more.gz"), gz.finish().unwrap()).unwrap();
    // Hidden files are not data.
    std::fs::write(dir.join("_SUCCESS"), "").unwrap();
    std::fs::write(dir.join(".part-00000.crc"), "not json").unwrap();

    let import = run
        .emr(
            &[step(IMPORT, &["s3://samples/products/", "products"])],
            "us-east-1",
            None,
            None,
        )
        .await;
    import.assert_finished();
    assert!(
        import
            .stdout
            .contains("3 file(s) found in the folder (no manifest)")
            && import.stdout.contains("wrote 33 item(s)"),
        "{}",
        import.stdout
    );
    let mut expected = rows((1..=31).map(every_type_item));
    expected.extend(rows([
        item_json::item([
            ("id", AttributeValue::S("book-101".into())),
            ("Price", AttributeValue::N("2".into())),
            ("Authors", AttributeValue::Ss(vec!["A".into(), "B".into()])),
        ]),
        item_json::item([
            ("id", AttributeValue::S("book-102".into())),
            ("InStock", AttributeValue::Bool(true)),
        ]),
    ]));
    assert_eq!(scan(&client, "products").await, expected);

    // A folder of export folders is not one export.
    let nested = run
        .emr(
            &[step(IMPORT, &["s3://samples", "products"])],
            "us-east-1",
            None,
            None,
        )
        .await;
    assert_failed(&nested.result, "StepFailed", "holds sub-folders (products)");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn missing_tables_and_bad_arguments_fail_with_a_clear_message() {
    let server = Dynalite::start().unwrap();
    let run = Run::new(dynamo_settings(&[("us-east-1", &server)], "test"));
    let client = DynamoClient::connect(&run.settings.dynamodb, None).unwrap();
    fill(&client, "orders", (1..=5).map(every_type_item).collect()).await;
    let out = "s3://backups/nope/1";

    let export = run
        .emr(
            &[step(EXPORT, &[out, "nope", "0.5"])],
            "us-east-1",
            None,
            None,
        )
        .await;
    assert_failed(
        &export.result,
        "DynamoDBRequestFailed",
        "nope does not exist",
    );
    let message = export.result.error_message.clone().unwrap();
    assert!(
        message.starts_with("step 1: DynamoDBExport of table nope to s3://backups/nope/1: "),
        "{message}"
    );
    assert!(!run.s3_path("backups/nope").exists());

    let import = run
        .emr(
            &[step(IMPORT, &["s3://backups/anything", "nope", "0.5"])],
            "us-east-1",
            None,
            None,
        )
        .await;
    assert_failed(
        &import.result,
        "DynamoDBRequestFailed",
        "nope does not exist",
    );
    assert!(
        import
            .result
            .error_message
            .as_deref()
            .unwrap()
            .starts_with("step 1: DynamoDBImport of s3://backups/anything into table nope: "),
        "{:?}",
        import.result
    );

    let cases: [(&str, &[&str], &str); 6] = [
        (
            EXPORT,
            &[out, "orders", "abc"],
            "could not use \"abc\" as the read ratio",
        ),
        (
            EXPORT,
            &[out, "orders", "0"],
            "could not use \"0\" as the read ratio",
        ),
        (
            IMPORT,
            &[out, "orders", "3"],
            "could not use \"3\" as the write ratio",
        ),
        (
            EXPORT,
            &[out, "orders", "0.5", "none"],
            "total segment count",
        ),
        (
            IMPORT,
            &[out, "orders", "0.5", "extra"],
            "unexpected argument(s) \"extra\"",
        ),
        (EXPORT, &[out], "not enough arguments"),
    ];
    for (class, args, expected) in cases {
        let outcome = run.emr(&[step(class, args)], "us-east-1", None, None).await;
        assert_failed(&outcome.result, "InvalidTask", expected);
        assert!(
            outcome
                .result
                .error_message
                .as_deref()
                .unwrap()
                .starts_with("step 1: "),
            "{:?}",
            outcome.result
        );
        assert!(!run.s3_path("backups/nope").exists(), "{args:?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_export_writes_only_into_a_new_folder_and_removes_its_files_when_it_fails() {
    let server = Dynalite::start().unwrap();
    let run = Run::new(dynamo_settings(&[("us-east-1", &server)], "test"));
    let client = DynamoClient::connect(&run.settings.dynamodb, None).unwrap();
    fill(&client, "orders", (1..=50).map(every_type_item).collect()).await;

    // A folder that already holds something is refused before anything is written.
    let used = run.s3_path("backups/used");
    std::fs::create_dir_all(&used).unwrap();
    std::fs::write(used.join("keep.txt"), "mine").unwrap();
    let refused = run
        .emr(
            &[step(EXPORT, &["s3://backups/used", "orders", "0.5"])],
            "us-east-1",
            None,
            None,
        )
        .await;
    assert_failed(
        &refused.result,
        "StepFailed",
        "already holds 1 object(s), for example s3://backups/used/keep.txt",
    );
    let left: Vec<_> = std::fs::read_dir(&used).unwrap().collect();
    assert_eq!(left.len(), 1);
    assert_eq!(
        std::fs::read_to_string(used.join("keep.txt")).unwrap(),
        "mine"
    );

    // `_SUCCESS` cannot be written (a directory stands in its way), so the export fails
    // after its data files and manifest are uploaded, and takes them back.
    let broken = run.s3_path("backups/broken");
    std::fs::create_dir_all(broken.join("_SUCCESS")).unwrap();
    let failed = run
        .emr(
            &[step(EXPORT, &["s3://backups/broken", "orders", "0.5"])],
            "us-east-1",
            None,
            None,
        )
        .await;
    assert_eq!(
        failed.result.task_status,
        TaskStatus::Failed,
        "{:?}",
        failed.result
    );
    assert_eq!(failed.result.error_id.as_deref(), Some("StorageFailed"));
    assert!(
        failed
            .stdout
            .contains("failed; removed the 2 object(s) it had written"),
        "{}",
        failed.stdout
    );
    let left: Vec<String> = std::fs::read_dir(&broken)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    assert_eq!(left, ["_SUCCESS"]);
    assert!(broken.join("_SUCCESS").is_dir());

    // Once the way is clear, the retry writes the whole export.
    std::fs::remove_dir(broken.join("_SUCCESS")).unwrap();
    let retried = run
        .emr(
            &[step(EXPORT, &["s3://backups/broken", "orders", "0.5"])],
            "us-east-1",
            None,
            None,
        )
        .await;
    retried.assert_finished();
    assert_eq!(read_export(&broken, "s3://backups/broken", false).len(), 50);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_import_fails_on_a_missing_entry_or_a_bad_line_naming_them() {
    let server = Dynalite::start().unwrap();
    let run = Run::new(dynamo_settings(&[("us-east-1", &server)], "test"));
    let client = DynamoClient::connect(&run.settings.dynamodb, None).unwrap();
    create_table(&client, "target", 100, 100).await;

    let dir = run.s3_path("in/missing");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join("manifest"),
        "{\"name\":\"DynamoDB-export\",\"version\":3,\n\"entries\": [\n\
         {\"url\":\"s3://in/missing/gone\",\"mandatory\":true}\n]}",
    )
    .unwrap();
    let missing = run
        .emr(
            &[step(IMPORT, &["s3://in/missing", "target", "0.5"])],
            "us-east-1",
            None,
            None,
        )
        .await;
    assert_failed(
        &missing.result,
        "StepFailed",
        "s3://in/missing/gone is listed in the manifest but does not exist",
    );

    let dir = run.s3_path("in/bad");
    std::fs::create_dir_all(&dir).unwrap();
    let good = item_json::item_to_line(&every_type_item(1));
    std::fs::write(
        dir.join("data"),
        format!("{good}\n{{\"id\":{{\"s\":\"x\"}},\"n\":{{\"n\":\"12x\"}}}}\n"),
    )
    .unwrap();
    let bad = run
        .emr(
            &[step(IMPORT, &["s3://in/bad", "target", "0.5"])],
            "us-east-1",
            None,
            None,
        )
        .await;
    assert_failed(
        &bad.result,
        "StepFailed",
        "s3://in/bad/data line 2: attribute \"n\"",
    );

    let dir = run.s3_path("in/version");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("manifest"), "{\"version\":2,\"entries\":[]}").unwrap();
    let version = run
        .emr(
            &[step(IMPORT, &["s3://in/version", "target", "0.5"])],
            "us-east-1",
            None,
            None,
        )
        .await;
    assert_failed(&version.result, "StepFailed", "unknown manifest version 2");

    let absent = run
        .emr(
            &[step(IMPORT, &["s3://in/absent", "target", "0.5"])],
            "us-east-1",
            None,
            None,
        )
        .await;
    assert_failed(
        &absent.result,
        "StepFailed",
        "the input folder does not exist",
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_demand_tables_count_as_the_capacity_the_connector_assumes() {
    use aws_sdk_dynamodb::types::{
        AttributeDefinition, BillingMode, KeySchemaElement, KeyType, ScalarAttributeType,
    };
    let server = Dynalite::start().unwrap();
    let run = Run::new(dynamo_settings(&[("us-east-1", &server)], "test"));
    let client = DynamoClient::connect(&run.settings.dynamodb, None).unwrap();
    for name in ["od_source", "od_target"] {
        client
            .sdk()
            .create_table()
            .table_name(name)
            .attribute_definitions(
                AttributeDefinition::builder()
                    .attribute_name("id")
                    .attribute_type(ScalarAttributeType::S)
                    .build()
                    .unwrap(),
            )
            .key_schema(
                KeySchemaElement::builder()
                    .attribute_name("id")
                    .key_type(KeyType::Hash)
                    .build()
                    .unwrap(),
            )
            .billing_mode(BillingMode::PayPerRequest)
            .send()
            .await
            .unwrap();
        sluice_testsupport::poll::wait_for_async(
            &format!("{name} to become ACTIVE"),
            std::time::Duration::from_secs(30),
            || async {
                let info = client.describe_table(name).await.unwrap();
                match &info {
                    Some(i) if i.status == "ACTIVE" => Ok(()),
                    _ => Err(format!("{info:?}")),
                }
            },
        )
        .await;
    }
    client
        .write_items(
            "od_source",
            (1..=40).map(every_type_item),
            &RateLimiter::new(10_000.0),
        )
        .await
        .unwrap();

    let out = "s3://backups/on-demand";
    let export = run
        .emr(
            &[step(EXPORT, &[out, "od_source", "0.5"])],
            "us-east-1",
            None,
            None,
        )
        .await;
    export.assert_finished();
    assert!(
        export.stdout.contains(
            "at 20000 units/s at most (0.5 of an on-demand table, counted as 40000 units)"
        ),
        "{}",
        export.stdout
    );
    let import = run
        .emr(
            &[step(IMPORT, &[out, "od_target", "0.25"])],
            "us-east-1",
            None,
            None,
        )
        .await;
    import.assert_finished();
    assert!(
        import.stdout.contains(
            "at 10000 units/s at most (0.25 of an on-demand table, counted as 40000 units)"
        ),
        "{}",
        import.stdout
    );
    assert_eq!(
        scan(&client, "od_target").await,
        rows((1..=40).map(every_type_item))
    );
}
