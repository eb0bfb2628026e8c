//! HiveActivity on a real Spark (PySpark's `spark-sql`, `local[2]`): staged CSV, gzipped TSV
//! and RegEx inputs, DynamoDB tables on dynalite, outputs published to the embedded store and
//! to an S3 server, a failing script, and the failures that come before Spark starts.
//!
//! Each Spark run costs a JVM start (about 20 s), so the runs are few, each covering several
//! staging paths, and they take turns.

mod attempt_support;
mod dynamo_support;

use std::collections::{BTreeMap, BTreeSet};
use std::io::Read as _;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use aws_sdk_dynamodb::types::AttributeValue;
use futures::TryStreamExt;
use sluice_data::DataSettings;
use sluice_data::compute::SparkSettings;
use sluice_data::dynamodb::{DynamoClient, Item, RateLimiter, item_json};
use sluice_data::storage::{S3Settings, Secret, embedded_root};
use sluice_executors::RunnerSettings;
use sluice_model::{Field, PipelineObject, TaskResult, TaskStatus};
use sluice_testsupport::dynamodb::Dynalite;
use sluice_testsupport::s3::S3Server;

use attempt_support::{Ids, assert_failed, attempt_context, execute, objects_by_id};
use dynamo_support::{create_table, dynamo_settings};

const ATTEMPT_ID: &str = "@Report_2026-03-01T00:00:00_Attempt=1";

/// One Spark application at a time: the runner has two cores.
static SPARK_TURN: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

fn spark_home() -> PathBuf {
    sluice_testsupport::spark::install().expect("PySpark installs")
}

fn spark(home: PathBuf) -> SparkSettings {
    SparkSettings {
        spark_home: Some(home),
        master: Some("local[2]".into()),
        ..SparkSettings::default()
    }
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

fn format(id: &str, kind: &str, columns: &[&str], extra: &[(&str, &str)]) -> PipelineObject {
    let mut fields = vec![Field::string("type", kind)];
    fields.extend(columns.iter().map(|c| Field::string("column", *c)));
    fields.extend(extra.iter().map(|(k, v)| Field::string(*k, *v)));
    PipelineObject {
        id: id.into(),
        name: id.into(),
        fields,
    }
}

/// A scratch directory with a data directory (whose `s3/` is the embedded store) and the
/// attempt's directory.
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

    fn data_dir(&self) -> PathBuf {
        self.scratch.path().join("data")
    }

    /// Where a runner puts the attempt: its name has `:`, which Hadoop cannot take.
    fn attempt_dir(&self) -> PathBuf {
        self.scratch
            .path()
            .join("data/logs/df-HIVE")
            .join(ATTEMPT_ID)
    }

    /// Where the staged tables' files are while the attempt runs.
    fn work_dir(&self) -> PathBuf {
        self.data_dir()
            .join("spark/df-HIVE")
            .join(ATTEMPT_ID.replace(':', "_"))
    }

    /// The embedded store's file for `bucket/key`.
    fn s3_file(&self, bucket_and_key: &str) -> PathBuf {
        embedded_root(&self.data_dir()).join(bucket_and_key)
    }

    fn put(&self, bucket_and_key: &str, bytes: impl AsRef<[u8]>) {
        let file = self.s3_file(bucket_and_key);
        std::fs::create_dir_all(file.parent().unwrap()).unwrap();
        std::fs::write(file, bytes).unwrap();
    }

    /// Runs a HiveActivity with `fields`, `input` and `output` references, among `others`.
    async fn hive(
        &self,
        fields: &[(&str, &str)],
        inputs: &[&str],
        outputs: &[&str],
        others: Vec<PipelineObject>,
    ) -> TaskResult {
        let mut all = vec![("type", "HiveActivity"), ("workerGroup", "wg")];
        all.extend_from_slice(fields);
        let mut attempt = object(ATTEMPT_ID, &all, &[]);
        attempt.fields.extend(
            inputs
                .iter()
                .map(|id| Field::reference("input", *id))
                .chain(outputs.iter().map(|id| Field::reference("output", *id))),
        );
        let ctx = attempt_context(
            Ids {
                task: "t",
                pipeline: "df-HIVE",
                attempt: ATTEMPT_ID,
            },
            objects_by_id(attempt, others),
            self.attempt_dir(),
            RunnerSettings {
                data_dir: self.data_dir(),
                data: self.settings.clone(),
            },
        );
        execute(&ctx).await
    }

    fn stdout(&self) -> String {
        std::fs::read_to_string(self.attempt_dir().join("stdout.log")).unwrap_or_default()
    }

    fn stderr(&self) -> String {
        std::fs::read_to_string(self.attempt_dir().join("stderr.log")).unwrap_or_default()
    }

    #[track_caller]
    fn assert_finished(&self, result: &TaskResult) {
        assert_eq!(
            result.task_status,
            TaskStatus::Finished,
            "{result:?}\nstdout:\n{}\nstderr:\n{}",
            self.stdout(),
            self.stderr()
        );
    }
}

/// The names of the files in `dir`, sorted.
fn names(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

/// The fields of one CSV line (RFC 4180 quoting).
fn csv_fields(line: &str) -> Vec<String> {
    let mut fields = vec![String::new()];
    let mut quoted = false;
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '"' if quoted && chars.peek() == Some(&'"') => {
                fields.last_mut().unwrap().push('"');
                chars.next();
            }
            '"' => quoted = !quoted,
            ',' if !quoted => fields.push(String::new()),
            c => fields.last_mut().unwrap().push(c),
        }
    }
    fields
}

fn csv_field(text: &str) -> String {
    if text.contains([',', '"']) {
        format!("\"{}\"", text.replace('"', "\"\""))
    } else {
        text.to_owned()
    }
}

fn gzip(text: &str) -> Vec<u8> {
    use std::io::Write as _;
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    encoder.write_all(text.as_bytes()).unwrap();
    encoder.finish().unwrap()
}

fn gunzip(bytes: &[u8]) -> String {
    let mut text = String::new();
    flate2::read::MultiGzDecoder::new(bytes)
        .read_to_string(&mut text)
        .unwrap();
    text
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn csv_and_gzipped_tsv_inputs_become_a_published_csv_report() {
    let home = spark_home();
    let run = Run::new(DataSettings {
        spark: spark(home),
        ..DataSettings::default()
    });
    // Sales over two files; customers with commas and quotes, which only a CSV parser that
    // honours quoting keeps in their column.
    let sales: Vec<(&str, String, u32)> = (1..=30)
        .map(|n| {
            let region = ["north", "south", "east", "west"][n % 4];
            (
                region,
                format!("shop {n}, \"the {n}th\""),
                (n * 7 % 23) as u32,
            )
        })
        .collect();
    let (first, second) = sales.split_at(17);
    for (name, rows) in [("a.csv", first), ("b.csv", second)] {
        let text: String = rows
            .iter()
            .map(|(region, customer, amount)| {
                format!("{region},{},{amount}\n", csv_field(customer))
            })
            .collect();
        run.put(&format!("shop/sales/2026-03-01/{name}"), text);
    }
    // Managers, gzipped TSV in a file of its own; "west" has none, so the join drops it.
    let managers = [
        ("north", "Ann Lee"),
        ("south", "Bo Chen"),
        ("east", "Cy Diaz"),
    ];
    let tsv: String = managers
        .iter()
        .map(|(r, m)| format!("{r}\t{m}\n"))
        .collect();
    run.put("shop/ref/managers-2026-03-01T00:00:00.tsv.gz", gzip(&tsv));
    // What an earlier run left in the report directory.
    run.put("shop/reports/2026-03-01/part-00003", "stale\n");
    run.put("shop/reports/2026-03-01/README", "keep me\n");

    let script = "-- orders and totals per region and manager, from ${MIN_AMOUNT} up\n\
        INSERT OVERWRITE TABLE ${output1}\n\
        SELECT s.region, m.manager, count(*), sum(CAST(s.amount AS BIGINT))\n\
        FROM ${input1} s JOIN ${INPUT2} m ON s.region = m.region\n\
        WHERE CAST(s.amount AS INT) >= ${MIN_AMOUNT}\n\
        GROUP BY s.region, m.manager;\n";
    let result = {
        let _turn = SPARK_TURN.lock().await;
        run.hive(
            &[("hiveScript", script), ("scriptVariable", "MIN_AMOUNT=5")],
            &["Sales", "Managers"],
            &["Report"],
            vec![
                object(
                    "Sales",
                    &[
                        ("type", "S3DataNode"),
                        ("directoryPath", "s3://shop/sales/2026-03-01"),
                    ],
                    &[("dataFormat", "SalesCsv")],
                ),
                format(
                    "SalesCsv",
                    "CSV",
                    &["region STRING", "customer STRING", "amount INT"],
                    &[],
                ),
                object(
                    "Managers",
                    &[
                        ("type", "S3DataNode"),
                        (
                            "filePath",
                            "s3://shop/ref/managers-2026-03-01T00:00:00.tsv.gz",
                        ),
                        ("compression", "gzip"),
                    ],
                    &[("dataFormat", "ManagersTsv")],
                ),
                format(
                    "ManagersTsv",
                    "TSV",
                    &["region STRING", "manager STRING"],
                    &[],
                ),
                object(
                    "Report",
                    &[
                        ("type", "S3DataNode"),
                        ("directoryPath", "s3://shop/reports/2026-03-01/"),
                    ],
                    &[("dataFormat", "ReportCsv")],
                ),
                format(
                    "ReportCsv",
                    "CSV",
                    &[
                        "region STRING",
                        "manager STRING",
                        "orders BIGINT",
                        "total BIGINT",
                    ],
                    &[],
                ),
            ],
        )
        .await
    };
    run.assert_finished(&result);

    let mut expected: BTreeMap<&str, (u32, u32)> = BTreeMap::new();
    for (region, _, amount) in sales.iter().filter(|s| s.2 >= 5) {
        let entry = expected.entry(region).or_default();
        entry.0 += 1;
        entry.1 += amount;
    }
    let expected: BTreeSet<Vec<String>> = managers
        .iter()
        .map(|(region, manager)| {
            let (orders, total) = expected[region];
            vec![
                region.to_string(),
                manager.to_string(),
                orders.to_string(),
                total.to_string(),
            ]
        })
        .collect();
    let out = run.s3_file("shop/reports/2026-03-01");
    let published = names(&out);
    assert!(
        published.contains(&"part-00000".to_string()),
        "{published:?}"
    );
    assert!(
        published
            .iter()
            .all(|n| n == "README" || (n.starts_with("part-0") && n.len() == 10)),
        "only numbered parts are published, and the stale part-00003 is gone: {published:?}"
    );
    let mut rows = BTreeSet::new();
    for part in published.iter().filter(|n| n.starts_with("part-")) {
        let text = std::fs::read_to_string(out.join(part)).unwrap();
        for line in text.lines() {
            // The CSV SerDe quotes every field.
            assert!(line.starts_with('"') && line.ends_with('"'), "{line}");
            assert!(rows.insert(csv_fields(line)), "{line} twice");
        }
    }
    assert_eq!(rows, expected);
    assert_eq!(
        std::fs::read_to_string(out.join("README")).unwrap(),
        "keep me\n"
    );
    // The inputs are read in place or linked, never changed.
    assert_eq!(
        names(&run.s3_file("shop/sales/2026-03-01")),
        ["a.csv", "b.csv"]
    );
    assert_eq!(
        gunzip(
            &std::fs::read(run.s3_file("shop/ref/managers-2026-03-01T00:00:00.tsv.gz")).unwrap()
        ),
        tsv
    );
    let stdout = run.stdout();
    assert!(
        stdout.contains(&format!(
            "HiveActivity input1 (Sales): reads {} in place",
            run.s3_file("shop/sales/2026-03-01").display()
        )),
        "{stdout}"
    );
    assert!(
        stdout.contains(&format!(
            "HiveActivity input2 (Managers): reads s3://shop/ref/managers-2026-03-01T00:00:00.tsv.gz from {}",
            run.work_dir().join("input2").display()
        )),
        "{stdout}"
    );
    let parts = published.iter().filter(|n| n.starts_with("part-")).count();
    let published_line = match parts {
        1 => "published 1 file under s3://shop/reports/2026-03-01/ (removed 1 part object of an earlier run)".to_string(),
        // part-00003 itself is then replaced rather than removed.
        n if n > 3 => format!("published {n} files under s3://shop/reports/2026-03-01/\n"),
        n => format!("published {n} files under s3://shop/reports/2026-03-01/ (removed 1 part object of an earlier run)"),
    };
    assert!(
        stdout.contains(&format!("HiveActivity output1 (Report): {published_line}")),
        "{stdout}"
    );
    assert!(
        !run.work_dir().exists(),
        "staged files are removed after success"
    );
    let staging = std::fs::read_to_string(run.attempt_dir().join("hive/staging.q")).unwrap();
    assert!(
        staging.contains("CREATE EXTERNAL TABLE `input2` (`region` STRING, `manager` STRING)\nROW FORMAT DELIMITED FIELDS TERMINATED BY '\\t'"),
        "{staging}"
    );
}

/// Orders in DynamoDB: (id, region, amount, note).
fn orders() -> Vec<(String, &'static str, u32, Option<&'static str>)> {
    (1..=12)
        .map(|n| {
            let note = match n % 3 {
                0 => None,
                1 => Some("fragile\nhandle with care"),
                _ => Some("leave at door"),
            };
            (
                format!("o-{n:02}"),
                ["emea", "apac"][n % 2],
                (n * 11) as u32,
                note,
            )
        })
        .collect()
}

fn order_item(id: &str, region: &str, amount: u32, note: Option<&str>) -> Item {
    let mut item = item_json::item([
        ("id", AttributeValue::S(id.into())),
        ("region", AttributeValue::S(region.into())),
        ("amount", AttributeValue::N(amount.to_string())),
    ]);
    if let Some(note) = note {
        item.insert("note".into(), AttributeValue::S(note.into()));
    }
    item
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dynamodb_and_a_regex_log_on_an_s3_server_feed_a_gzipped_tsv_and_a_table() {
    let home = spark_home();
    let dynalite = Dynalite::start().unwrap();
    let s3 = S3Server::start();
    s3.create_bucket("logs");
    s3.create_bucket("reports");
    let mut settings = dynamo_settings(&[("us-east-1", &dynalite)], "test");
    settings.s3 = S3Settings {
        endpoint: Some(s3.endpoint()),
        access_key_id: Some(s3.access_key().into()),
        secret_access_key: Some(Secret::new(s3.secret_key())),
        region: Some("us-east-1".into()),
        ..S3Settings::default()
    };
    settings.spark = spark(home);
    let run = Run::new(settings);
    let client = DynamoClient::connect(&run.settings.dynamodb, None).unwrap();
    create_table(&client, "orders", 1000, 1000).await;
    create_table(&client, "order_notes", 1000, 1000).await;
    let orders = orders();
    client
        .write_items(
            "orders",
            orders
                .iter()
                .map(|(id, region, amount, note)| order_item(id, region, *amount, *note)),
            &RateLimiter::new(1000.0),
        )
        .await
        .unwrap();
    // Requests for orders: (ip, order, status); only status 200 counts as a view.
    let hits: Vec<(String, String, u32)> = (0..40)
        .map(|k| {
            (
                format!("10.0.0.{}", k % 7),
                format!("o-{:02}", k % 9 + 1),
                if k % 5 == 0 { 404 } else { 200 },
            )
        })
        .collect();
    let log: String = hits
        .iter()
        .map(|(ip, order, status)| format!("{ip} GET /orders/{order} {status}\n"))
        .collect();
    let log_file = s3.object_file("logs", "access/2026-03-01.log");
    std::fs::create_dir_all(log_file.parent().unwrap()).unwrap();
    std::fs::write(&log_file, &log).unwrap();

    let script = "INSERT OVERWRITE TABLE ${output1}\n\
        SELECT region, count(*), sum(amount) FROM ${input1} GROUP BY region;\n\
        INSERT OVERWRITE TABLE ${output2}\n\
        SELECT o.id, upper(o.note), count(l.order_id)\n\
        FROM ${input1} o LEFT JOIN (SELECT order_id FROM ${input2} WHERE status = 200) l\n\
        ON l.order_id = o.id GROUP BY o.id, o.note;\n";
    let order_columns = ["id STRING", "region STRING", "amount BIGINT", "note STRING"];
    let result = {
        let _turn = SPARK_TURN.lock().await;
        run.hive(
            &[("hiveScript", script)],
            &["Orders", "AccessLog"],
            &["RegionTotals", "OrderNotes"],
            vec![
                object(
                    "Orders",
                    &[
                        ("type", "DynamoDBDataNode"),
                        ("tableName", "orders"),
                        ("readThroughputPercent", "0.5"),
                    ],
                    &[("dataFormat", "OrderColumns")],
                ),
                format("OrderColumns", "DynamoDBDataFormat", &order_columns, &[]),
                object(
                    "AccessLog",
                    &[
                        ("type", "S3DataNode"),
                        ("filePath", "s3://logs/access/2026-03-01.log"),
                    ],
                    &[("dataFormat", "AccessLogFormat")],
                ),
                format(
                    "AccessLogFormat",
                    "RegEx",
                    &["ip STRING", "order_id STRING", "status INT"],
                    &[("inputRegEx", r"(\S+) GET /orders/(\S+) (\d+)")],
                ),
                object(
                    "RegionTotals",
                    &[
                        ("type", "S3DataNode"),
                        ("directoryPath", "s3://reports/orders/2026-03-01"),
                        ("compression", "gzip"),
                    ],
                    &[("dataFormat", "TotalsTsv")],
                ),
                format(
                    "TotalsTsv",
                    "TSV",
                    &["region STRING", "orders BIGINT", "total BIGINT"],
                    &[],
                ),
                object(
                    "OrderNotes",
                    &[
                        ("type", "DynamoDBDataNode"),
                        ("tableName", "order_notes"),
                        ("writeThroughputPercent", "0.5"),
                    ],
                    &[("dataFormat", "NoteColumns")],
                ),
                format(
                    "NoteColumns",
                    "DynamoDBDataFormat",
                    &["id STRING", "note STRING", "views BIGINT"],
                    &[],
                ),
            ],
        )
        .await
    };
    run.assert_finished(&result);

    // The classic: a DynamoDB table summarised into S3, here as gzipped TSV uploaded to the
    // server.
    let mut totals: BTreeMap<String, (u32, u32)> = BTreeMap::new();
    for (_, region, amount, _) in &orders {
        let entry = totals.entry(region.to_string()).or_default();
        entry.0 += 1;
        entry.1 += amount;
    }
    let expected: BTreeSet<String> = totals
        .iter()
        .map(|(region, (n, total))| format!("{region}\t{n}\t{total}"))
        .collect();
    let out = s3.object_file("reports", "orders/2026-03-01");
    let parts: Vec<String> = names(&out)
        .into_iter()
        .filter(|n| n.starts_with("part-"))
        .collect();
    assert!(
        !parts.is_empty() && parts.iter().all(|n| n.ends_with(".gz")),
        "{parts:?}"
    );
    let published: BTreeSet<String> = parts
        .iter()
        .flat_map(|p| {
            gunzip(&std::fs::read(out.join(p)).unwrap())
                .lines()
                .map(str::to_owned)
                .collect::<Vec<_>>()
        })
        .collect();
    assert_eq!(published, expected);

    // Rows written into a table become items; NULL leaves the attribute out, and a line break
    // survives both trips.
    let views: BTreeMap<&str, usize> =
        hits.iter()
            .filter(|h| h.2 == 200)
            .fold(BTreeMap::new(), |mut m, h| {
                *m.entry(h.1.as_str()).or_default() += 1;
                m
            });
    let expected: BTreeMap<String, Item> = orders
        .iter()
        .map(|(id, _, _, note)| {
            let mut item = item_json::item([
                ("id", AttributeValue::S(id.clone())),
                (
                    "views",
                    AttributeValue::N(views.get(id.as_str()).copied().unwrap_or(0).to_string()),
                ),
            ]);
            if let Some(note) = note {
                item.insert("note".into(), AttributeValue::S(note.to_uppercase()));
            }
            (id.clone(), item)
        })
        .collect();
    let written: BTreeMap<String, Item> = client
        .scan("order_notes", None, Arc::new(RateLimiter::new(1000.0)))
        .map_ok(|item| (item["id"].as_s().unwrap().clone(), item))
        .try_collect()
        .await
        .unwrap();
    assert_eq!(written, expected);
    let stdout = run.stdout();
    for line in [
        "HiveActivity input1 (Orders): scanned 12 items of table orders",
        "HiveActivity input2 (AccessLog): downloaded s3://logs/access/2026-03-01.log",
        "HiveActivity output2 (OrderNotes): wrote 12 items into table order_notes",
    ] {
        assert!(stdout.contains(line), "{line:?} in {stdout}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failing_script_fails_with_sparks_error_and_publishes_nothing() {
    let home = spark_home();
    let run = Run::new(DataSettings {
        spark: spark(home),
        ..DataSettings::default()
    });
    run.put("shop/sales/day.csv", "north,3\nsouth,4\n");
    run.put("shop/out/part-00000", "old\n");
    // The first statement succeeds and fills the staged output; the second fails.
    let script = "INSERT OVERWRITE TABLE ${output1} SELECT region, amount FROM ${input1};\n\
        SELECT no_such_column FROM ${input1};\n";
    let result = {
        let _turn = SPARK_TURN.lock().await;
        run.hive(
            &[("hiveScript", script)],
            &["Day"],
            &["Out"],
            vec![
                object(
                    "Day",
                    &[
                        ("type", "S3DataNode"),
                        ("filePath", "s3://shop/sales/day.csv"),
                    ],
                    &[("dataFormat", "Csv")],
                ),
                format("Csv", "CSV", &["region STRING", "amount INT"], &[]),
                object(
                    "Out",
                    &[("type", "S3DataNode"), ("directoryPath", "s3://shop/out")],
                    &[("dataFormat", "Csv")],
                ),
            ],
        )
        .await
    };
    assert_failed(
        &result,
        "StepFailed",
        "HiveActivity: command exited with status 1",
    );
    let message = result.error_message.unwrap();
    assert!(message.contains("last lines of stderr"), "{message}");
    assert!(message.contains("no_such_column"), "{message}");
    assert_eq!(names(&run.s3_file("shop/out")), ["part-00000"]);
    assert_eq!(
        std::fs::read_to_string(run.s3_file("shop/out/part-00000")).unwrap(),
        "old\n"
    );
    let staged = run.work_dir().join("output1");
    assert!(
        names(&staged).iter().any(|n| n.starts_with("part-")),
        "the script did write its output table, kept for inspection: {:?}",
        names(&staged)
    );
    assert!(
        run.stdout().contains("the staged tables are kept in"),
        "{}",
        run.stdout()
    );
}

#[tokio::test]
async fn without_spark_the_attempt_fails_at_once_naming_what_to_install() {
    let empty = tempfile::tempdir().unwrap();
    let run = Run::new(DataSettings {
        spark: spark(empty.path().to_path_buf()),
        ..DataSettings::default()
    });
    run.put("shop/in/a.csv", "x,1\n");
    let started = Instant::now();
    let result = run
        .hive(
            &[(
                "hiveScript",
                "INSERT OVERWRITE TABLE ${output1} SELECT * FROM ${input1};",
            )],
            &["In"],
            &["Out"],
            vec![
                object(
                    "In",
                    &[("type", "S3DataNode"), ("directoryPath", "s3://shop/in")],
                    &[("dataFormat", "Csv")],
                ),
                format("Csv", "CSV", &["k STRING", "v INT"], &[]),
                object(
                    "Out",
                    &[("type", "S3DataNode"), ("directoryPath", "s3://shop/out")],
                    &[("dataFormat", "Csv")],
                ),
            ],
        )
        .await;
    assert_failed(&result, "SparkNotFound", "HiveActivity needs Apache Spark");
    let message = result.error_message.unwrap();
    assert!(message.contains("pip install pyspark"), "{message}");
    assert!(
        message.contains(&empty.path().display().to_string()),
        "{message}"
    );
    assert!(started.elapsed() < Duration::from_secs(5));
    assert!(!run.attempt_dir().join("hive").exists());
    assert!(!run.s3_file("shop/out").exists());
}

#[tokio::test]
async fn definitions_that_cannot_be_staged_fail_before_spark_starts() {
    // A real installation, found but never started: every case fails before the JVM would.
    let run = Run::new(DataSettings {
        spark: spark(spark_home()),
        ..DataSettings::default()
    });
    let input = |format: &str| {
        object(
            "In",
            &[("type", "S3DataNode"), ("directoryPath", "s3://b/in")],
            &[("dataFormat", format)],
        )
    };
    let output = |format: &str| {
        object(
            "Out",
            &[("type", "S3DataNode"), ("directoryPath", "s3://b/out")],
            &[("dataFormat", format)],
        )
    };
    let script = [(
        "hiveScript",
        "INSERT OVERWRITE TABLE ${output1} SELECT * FROM ${input1};",
    )];
    let cases: Vec<(&str, Vec<PipelineObject>, &str, &str)> = vec![
        (
            "a RegEx output",
            vec![
                input("Csv"),
                format("Csv", "CSV", &["k STRING"], &[]),
                output("Log"),
                format("Log", "RegEx", &["k STRING"], &[("inputRegEx", "(.*)")]),
            ],
            "Unsupported",
            "HiveActivity output1 (Out): RegEx Log: Hive's RegexSerDe only reads",
        ),
        (
            "a format without columns",
            vec![
                input("Bare"),
                format("Bare", "TSV", &[], &[]),
                output("Bare"),
            ],
            "InvalidTask",
            "HiveActivity input1 (In): TSV Bare has no column",
        ),
        (
            "a record separator other than a line break",
            vec![
                input("Semi"),
                format(
                    "Semi",
                    "Custom",
                    &["k STRING"],
                    &[("columnSeparator", "|"), ("recordSeparator", ";")],
                ),
                output("Semi"),
            ],
            "Unsupported",
            "HiveActivity input1 (In): Custom Semi: recordSeparator ';'",
        ),
        (
            "a SQL data node",
            vec![
                object("In", &[("type", "SqlDataNode"), ("table", "t")], &[]),
                output("Csv"),
                format("Csv", "CSV", &["k STRING"], &[]),
            ],
            "Unsupported",
            "HiveActivity input1 (In): SqlDataNode In cannot be staged",
        ),
    ];
    for (case, objects, error_id, message) in cases {
        let result = run.hive(&script, &["In"], &["Out"], objects).await;
        assert_eq!(result.task_status, TaskStatus::Failed, "{case}: {result:?}");
        assert_eq!(
            result.error_id.as_deref(),
            Some(error_id),
            "{case}: {result:?}"
        );
        let got = result.error_message.unwrap_or_default();
        assert!(got.contains(message), "{case}: {got}");
    }
    // EMR's DynamoDB storage handler is named in the refusal, with what to do instead.
    let result = run
        .hive(
            &[(
                "hiveScript",
                "CREATE EXTERNAL TABLE ddb (id string) STORED BY \
                 'org.apache.hadoop.hive.dynamodb.DynamoDBStorageHandler' \
                 TBLPROPERTIES ('dynamodb.table.name' = 'orders');",
            )],
            &[],
            &[],
            vec![],
        )
        .await;
    assert_failed(&result, "Unsupported", "DynamoDBStorageHandler");
    assert!(
        result
            .error_message
            .unwrap()
            .contains("give the DynamoDBDataNode a DynamoDBDataFormat")
    );
    assert!(!run.attempt_dir().join("stderr.log").exists());
}
