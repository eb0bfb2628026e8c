//! The shipped connector examples, run unchanged by `sluice run` against real servers: only
//! `--parameter-values` and the environment point them at the test's own PostgreSQL table,
//! MariaDB table, S3 server (s3s-fs), SNS server (moto) and DynamoDB servers (dynalite).
//! Schedules start a day or two back, so each run backfills a small, known set of days.

mod common;

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::types::AttributeValue;
use chrono::{NaiveDate, NaiveDateTime, Utc};
use serde_json::Value;
use sluice_testsupport::databases::{
    MariaDbTables, PgTables, mariadb, psql, unique_name as unique,
};
use sluice_testsupport::dynamodb::{Dynalite, create_id_table};
use sluice_testsupport::files::read;
use sluice_testsupport::poll::wait_until;
use sluice_testsupport::s3::S3Server;
use sluice_testsupport::sns::{Moto, NotificationListener};

use common::{RunOutput, Sandbox, datetime};

/// How long moto gets to deliver a notification after the run has ended.
const DELIVERY_DEADLINE: Duration = Duration::from_secs(30);

/// The repository's `examples/` file `name`.
fn example(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../examples")
        .join(name)
}

/// Midnight (UTC) `days` days before today.
fn midnight(days_ago: i64) -> NaiveDateTime {
    let today: NaiveDate = Utc::now().date_naive();
    (today - chrono::Duration::days(days_ago))
        .and_hms_opt(0, 0, 0)
        .unwrap()
}

fn day(at: NaiveDateTime) -> String {
    at.format("%Y-%m-%d").to_string()
}

/// `sluice run EXAMPLE --output json` with each parameter value and environment variable, and
/// none of the AWS variables of whoever runs the tests.
fn example_command(
    sb: &Sandbox,
    name: &str,
    values: &[(&str, String)],
    env: &[(String, String)],
) -> Command {
    let mut command = sb.command(&example(name));
    command
        .arg("--data-dir")
        .arg(sb.data_dir())
        .args(["--output", "json"]);
    for (id, value) in values {
        command
            .arg("--parameter-values")
            .arg(format!("{id}={value}"));
    }
    for (var, _) in std::env::vars() {
        if var.starts_with("AWS_") || var.starts_with("SLUICE_ENDPOINT_URL_") {
            command.env_remove(var);
        }
    }
    command.envs(env.iter().map(|(k, v)| (k.as_str(), v.as_str())));
    command
}

fn run_example(
    sb: &Sandbox,
    name: &str,
    values: &[(&str, String)],
    env: &[(String, String)],
) -> RunOutput {
    sb.run_command(example_command(sb, name, values, env))
}

fn put(server: &S3Server, bucket: &str, key: &str, text: &str) {
    let file = server.object_file(bucket, key);
    fs::create_dir_all(file.parent().expect("parent")).expect("object dir");
    fs::write(file, text).expect("object");
}

/// Orders for one day of the CSV example: (id, customer, amount).
fn orders(first_id: u32, count: u32) -> Vec<(u32, String, String)> {
    (first_id..first_id + count)
        .map(|id| {
            (
                id,
                format!("customer {id}, \"ltd\""),
                format!("{}.{:02}", id * 7, id % 100),
            )
        })
        .collect()
}

/// A field as CSV writes it: quoted when it holds a comma, a quote or a line break.
fn csv_field(text: &str) -> String {
    if text.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", text.replace('"', "\"\""))
    } else {
        text.to_owned()
    }
}

fn csv(rows: &[(u32, String, String)]) -> String {
    rows.iter()
        .map(|(id, customer, amount)| format!("{id},{},{amount}\n", csv_field(customer)))
        .collect()
}

fn psql_rows(rows: &[(u32, String, String)]) -> String {
    rows.iter()
        .map(|(id, customer, amount)| format!("{id}|{customer}|{amount}\n"))
        .collect()
}

/// The parameter values the CSV-to-PostgreSQL tests share: files are looked for every second.
fn csv_values(start: NaiveDateTime, table: &str) -> Vec<(&'static str, String)> {
    vec![
        ("myStartDateTime", datetime(start)),
        ("myInputBucket", "landing".to_owned()),
        ("myInputPrefix", "orders/daily".to_owned()),
        ("myTable", table.to_owned()),
        ("myCheckInterval", "1 seconds".to_owned()),
    ]
}

fn day_key(at: NaiveDateTime) -> String {
    format!("orders/daily/{}.csv", day(at))
}

/// The loaded rows, or `None` while the table does not exist yet.
fn loaded(table: &str) -> Option<String> {
    let exists = psql(&format!(
        "SELECT count(*) FROM pg_tables WHERE tablename = '{table}'"
    ));
    (exists.trim() == "1").then(|| {
        psql(&format!(
            "SELECT order_id, customer, amount FROM {table} ORDER BY order_id"
        ))
    })
}

#[test]
fn daily_csv_files_load_into_postgres_and_a_late_file_is_waited_for() {
    let server = S3Server::start();
    server.create_bucket("landing");
    let (yesterday, today) = (midnight(1), midnight(0));
    let first = orders(1, 40);
    let second = orders(41, 25);
    put(&server, "landing", &day_key(yesterday), &csv(&first));
    let table = unique("example_orders");
    let _drop = PgTables(vec![table.clone()]);

    let sb = Sandbox::new();
    let command = example_command(
        &sb,
        "daily-s3-csv-to-postgres.json",
        &csv_values(yesterday, &table),
        &server.env(),
    );
    let mut run = sb.spawn(command);
    // Yesterday's file is there: it loads while today's waits for its file.
    wait_until("yesterday's rows", common::RUN_DEADLINE, || {
        run.assert_running();
        loaded(&table).as_deref() == Some(psql_rows(&first).as_str())
    });
    run.assert_running();

    put(&server, "landing", &day_key(today), &csv(&second));
    let status = run.wait_for_exit(common::RUN_DEADLINE);
    let out = run.output(status);
    out.assert_code(0);
    let report = out.report();
    assert_eq!(
        report.statuses("LoadDay"),
        [(yesterday, "FINISHED"), (today, "FINISHED")],
        "{}",
        out.stdout
    );
    let checks = report.of("DayFileLanded");
    assert_eq!(checks[0].attempts, 1, "{checks:?}");
    assert!(
        checks[1].attempts >= 2,
        "today's file was looked for again: {checks:?}"
    );
    let all: Vec<_> = first.iter().chain(&second).cloned().collect();
    assert_eq!(loaded(&table), Some(psql_rows(&all)));
}

#[test]
fn a_day_that_fails_to_load_raises_the_alarm_and_loads_nothing() {
    let server = S3Server::start();
    server.create_bucket("landing");
    let moto = Moto::start().unwrap();
    let listener = NotificationListener::start().unwrap();
    let topic = moto.create_topic(&unique("load-alarms")).unwrap();
    moto.subscribe_http(&topic, &listener.url()).unwrap();

    let (yesterday, today) = (midnight(1), midnight(0));
    let mut broken = orders(1, 12);
    let bad = 7;
    broken[bad].2 = "twelve".to_owned();
    let good = orders(13, 9);
    put(&server, "landing", &day_key(yesterday), &csv(&broken));
    put(&server, "landing", &day_key(today), &csv(&good));
    let table = unique("example_orders");
    let _drop = PgTables(vec![table.clone()]);

    let sb = Sandbox::new();
    let mut env = server.env();
    env.push(("AWS_ENDPOINT_URL_SNS".into(), moto.endpoint()));
    let mut values = csv_values(yesterday, &table);
    values.push(("myMaximumRetries", "0".to_owned()));
    values.push(("myAlarmTopicArn", topic.clone()));
    let out = run_example(&sb, "daily-s3-csv-to-postgres.json", &values, &env);
    out.assert_code(1);
    let report = out.report();
    assert_eq!(
        report.statuses("LoadDay"),
        [(yesterday, "FAILED"), (today, "FINISHED")],
        "{}",
        out.stdout
    );
    assert_eq!(
        loaded(&table),
        Some(psql_rows(&good)),
        "the failed day loaded nothing, the other day everything"
    );

    let body = listener.next(DELIVERY_DEADLINE).unwrap_or_else(|| {
        panic!(
            "no alarm arrived\nstdout:\n{}\nstderr:\n{}",
            out.stdout, out.stderr
        )
    });
    let note: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(note["TopicArn"], topic.as_str(), "{note}");
    assert_eq!(
        note["Subject"],
        format!("Orders load for {} failed", datetime(yesterday)),
        "{note}"
    );
    let message = note["Message"].as_str().unwrap();
    let prefix = format!(
        "Copy the day's orders into PostgreSQL (@LoadDay_{}) ended FAILED: ",
        datetime(yesterday)
    );
    assert!(message.starts_with(&prefix), "{message}");
    // PostgreSQL's own error, naming the bad line of the file and its value.
    let line = format!("line {}, column amount", bad + 1);
    assert!(message.contains(&line), "{message}");
    assert!(message.contains("\"twelve\""), "{message}");
    // Only the failed day raised an alarm.
    assert_eq!(listener.next(Duration::from_millis(500)), None);
}

/// Orders in MariaDB for the export example: (id, customer, amount, ordered_at).
type Order = (u32, String, String, NaiveDateTime);

#[test]
fn a_mysql_table_is_exported_to_one_csv_object_per_finished_day() {
    let server = S3Server::start();
    server.create_bucket("exports");
    let table = unique("example_export");
    mariadb(&format!(
        "CREATE TABLE {table} (order_id INT PRIMARY KEY, customer VARCHAR(100) NOT NULL, \
         amount DECIMAL(10,2) NOT NULL, ordered_at DATETIME NOT NULL)"
    ));
    let _drop = MariaDbTables(vec![table.clone()]);
    // Three days ago (before the schedule), the two finished days, and today (not over yet);
    // the times include both ends of each day.
    let mut rows: Vec<Order> = Vec::new();
    for (days_ago, times) in [
        (3, &["23:59:59"][..]),
        (2, &["00:00:00", "09:15:00", "23:59:59"][..]),
        (1, &["00:00:01", "12:00:00"][..]),
        (0, &["00:00:00"][..]),
    ] {
        for time in times {
            let id = rows.len() as u32 + 1;
            let at = NaiveDateTime::parse_from_str(
                &format!("{} {time}", day(midnight(days_ago))),
                "%Y-%m-%d %H:%M:%S",
            )
            .unwrap();
            rows.push((
                id,
                format!("shop {id}, \"north\""),
                format!("{}.{:02}", id * 11, id * 3 % 100),
                at,
            ));
        }
    }
    let inserts: Vec<String> = rows
        .iter()
        .map(|(id, customer, amount, at)| {
            format!(
                "({id}, '{}', {amount}, '{}')",
                customer.replace('\'', "''"),
                at.format("%Y-%m-%d %H:%M:%S")
            )
        })
        .collect();
    mariadb(&format!(
        "INSERT INTO {table} VALUES {}",
        inserts.join(", ")
    ));

    let sb = Sandbox::new();
    let (start, end) = (midnight(2), midnight(0));
    let out = run_example(
        &sb,
        "mysql-table-to-s3-csv.json",
        &[
            ("myStartDateTime", datetime(start)),
            ("myTable", table.clone()),
            ("myOutputBucket", "exports".to_owned()),
            ("myOutputPrefix", format!("{table}/daily")),
        ],
        &server.env(),
    );
    out.assert_code(0);
    let report = out.report();
    assert_eq!(
        report.statuses("ExportDay"),
        [(midnight(2), "FINISHED"), (midnight(1), "FINISHED")],
        "{}",
        out.stdout
    );
    let mut days = 0;
    let mut at = start;
    while at < end {
        let next = at + chrono::Duration::days(1);
        let expected: String = rows
            .iter()
            .filter(|r| r.3 >= at && r.3 < next)
            .map(|(id, customer, amount, when)| {
                format!(
                    "{id},{},{amount},{}\n",
                    csv_field(customer),
                    when.format("%Y-%m-%dT%H:%M:%S")
                )
            })
            .collect();
        assert!(!expected.is_empty(), "every exported day has orders");
        let object = server.object_file("exports", &format!("{table}/daily/{}.csv", day(at)));
        assert_eq!(read(&object), expected, "{}", object.display());
        days += 1;
        at = next;
    }
    assert_eq!(days, 2);
    let today = server.object_file("exports", &format!("{table}/daily/{}.csv", day(end)));
    assert!(!today.exists(), "today is not over and is not exported");
}

async fn create_table(client: &Client, name: &str, read_capacity: i64) {
    create_id_table(client, name, read_capacity, 100).await;
}

type Items = BTreeMap<String, BTreeMap<String, AttributeValue>>;

async fn put_items(client: &Client, table: &str, items: &Items) {
    for (id, attributes) in items {
        client
            .put_item()
            .table_name(table)
            .set_item(Some(
                attributes
                    .iter()
                    .map(|(k, v)| (k.clone(), v.clone()))
                    .chain([("id".to_owned(), AttributeValue::S(id.clone()))])
                    .collect(),
            ))
            .send()
            .await
            .unwrap();
    }
}

async fn scan(client: &Client, table: &str) -> Items {
    let mut items = Items::new();
    let mut start = None;
    loop {
        let page = client
            .scan()
            .table_name(table)
            .consistent_read(true)
            .set_exclusive_start_key(start)
            .send()
            .await
            .unwrap();
        for mut item in page.items.unwrap_or_default() {
            let id = item.remove("id").unwrap().as_s().unwrap().clone();
            items.insert(id, item.into_iter().collect());
        }
        start = page.last_evaluated_key;
        if start.is_none() {
            return items;
        }
    }
}

/// An order item updated at `updated` (no `lastUpdated` at all when `None`).
fn order_item(updated: Option<NaiveDateTime>, amount: u32) -> BTreeMap<String, AttributeValue> {
    let mut item = BTreeMap::from([
        ("amount".to_owned(), AttributeValue::N(amount.to_string())),
        ("status".to_owned(), AttributeValue::S("open".into())),
    ]);
    if let Some(at) = updated {
        item.insert("lastUpdated".to_owned(), AttributeValue::S(datetime(at)));
    }
    item
}

/// The HiveCopyActivity summary each attempt wrote to its stdout.log, by scheduled day.
fn copy_summaries(data_dir: &Path) -> BTreeMap<String, String> {
    let mut found = BTreeMap::new();
    for pipeline in fs::read_dir(data_dir.join("logs")).unwrap() {
        for attempt in fs::read_dir(pipeline.unwrap().path()).unwrap() {
            let attempt = attempt.unwrap();
            let name = attempt.file_name().to_string_lossy().into_owned();
            if let Some(rest) = name.strip_prefix("@CopyChanges_") {
                let text = read(&attempt.path().join("stdout.log"));
                found.insert(rest[..10].to_owned(), text.trim().to_owned());
            }
        }
    }
    found
}

#[test]
fn only_items_changed_since_the_previous_run_reach_the_other_region() {
    let source_server = Dynalite::start().unwrap();
    let target_server = Dynalite::start().unwrap();
    let (two_days_ago, yesterday, today) = (midnight(2), midnight(1), midnight(0));
    let at = |base: NaiveDateTime, h: i64, m: i64, s: i64| {
        base + chrono::Duration::hours(h)
            + chrono::Duration::minutes(m)
            + chrono::Duration::seconds(s)
    };
    // The first run (yesterday) copies what changed after two days ago; the second (today)
    // what changed after yesterday. Items changed exactly at a previous run's start are old.
    let source_items: Items = [
        ("o-old", order_item(Some(at(midnight(3), 12, 0, 0)), 1)),
        ("o-boundary", order_item(Some(two_days_ago), 2)),
        (
            "o-first-run",
            order_item(Some(at(two_days_ago, 0, 0, 1)), 3),
        ),
        (
            "o-first-run-2",
            order_item(Some(at(two_days_ago, 18, 30, 0)), 4),
        ),
        ("o-at-yesterday", order_item(Some(yesterday), 5)),
        ("o-second-run", order_item(Some(at(yesterday, 9, 0, 0)), 6)),
        ("o-no-timestamp", order_item(None, 7)),
    ]
    .into_iter()
    .map(|(id, item)| (id.to_owned(), item))
    .collect();
    let stale_target: Items = [
        (
            "o-untouched",
            order_item(Some(at(midnight(9), 8, 0, 0)), 100),
        ),
        (
            "o-second-run",
            order_item(Some(at(midnight(5), 8, 0, 0)), 200),
        ),
    ]
    .into_iter()
    .map(|(id, item)| (id.to_owned(), item))
    .collect();
    let newer_than = |since: NaiveDateTime| -> Items {
        source_items
            .iter()
            .filter(|(_, item)| {
                item.get("lastUpdated")
                    .and_then(|v| v.as_s().ok())
                    .is_some_and(|v| v.as_str() > datetime(since).as_str())
            })
            .map(|(id, item)| (id.clone(), item.clone()))
            .collect()
    };

    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let source = source_server.client("us-east-1");
    let target = target_server.client("eu-west-1");
    runtime.block_on(async {
        create_table(&source, "orders_use1", 40).await;
        create_table(&target, "orders_euw1", 40).await;
        put_items(&source, "orders_use1", &source_items).await;
        put_items(&target, "orders_euw1", &stale_target).await;
    });

    let sb = Sandbox::new();
    let out = run_example(
        &sb,
        "dynamodb-cross-region-incremental-copy.json",
        &[
            ("myStartDateTime", datetime(yesterday)),
            ("mySourceTable", "orders_use1".to_owned()),
            ("myTargetTable", "orders_euw1".to_owned()),
        ],
        &[
            (
                "SLUICE_ENDPOINT_URL_DYNAMODB_US_EAST_1".to_owned(),
                source_server.endpoint(),
            ),
            (
                "SLUICE_ENDPOINT_URL_DYNAMODB_EU_WEST_1".to_owned(),
                target_server.endpoint(),
            ),
            ("AWS_ACCESS_KEY_ID".to_owned(), "test".to_owned()),
            (
                "AWS_SECRET_ACCESS_KEY".to_owned(),
                "dynalite-secret".to_owned(),
            ),
        ],
    );
    out.assert_code(0);
    let report = out.report();
    assert_eq!(
        report.statuses("CopyChanges"),
        [(yesterday, "FINISHED"), (today, "FINISHED")],
        "{}",
        out.stdout
    );

    let first_run = newer_than(two_days_ago);
    let second_run = newer_than(yesterday);
    assert_eq!(
        first_run.keys().collect::<Vec<_>>(),
        [
            "o-at-yesterday",
            "o-first-run",
            "o-first-run-2",
            "o-second-run"
        ]
    );
    assert_eq!(second_run.keys().collect::<Vec<_>>(), ["o-second-run"]);
    let summary = |read: usize, copied: usize| {
        format!(
            "HiveCopyActivity: read {read} items, filtered out {}, wrote {copied}",
            read - copied
        )
    };
    assert_eq!(
        copy_summaries(&sb.data_dir()),
        BTreeMap::from([
            (day(yesterday), summary(source_items.len(), first_run.len())),
            (day(today), summary(source_items.len(), second_run.len())),
        ])
    );

    let mut expected = stale_target.clone();
    expected.extend(first_run.into_iter().chain(second_run));
    let arrived = runtime.block_on(scan(&target, "orders_euw1"));
    assert_eq!(arrived, expected);
    // The source is only read.
    assert_eq!(runtime.block_on(scan(&source, "orders_use1")), source_items);
}

/// The embedded store's file for `s3://bucket/key` under the sandbox's data directory.
fn embedded(sb: &Sandbox, bucket_key: &str) -> PathBuf {
    sb.data_dir().join("s3").join(bucket_key)
}

fn put_embedded(sb: &Sandbox, bucket_key: &str, text: &str) {
    let file = embedded(sb, bucket_key);
    fs::create_dir_all(file.parent().expect("parent")).expect("object dir");
    fs::write(file, text).expect("object");
}

/// The environment that makes the tests' PySpark install the cluster, in `local[2]`.
fn spark_env() -> Vec<(String, String)> {
    let home = sluice_testsupport::spark::install().expect("PySpark installs");
    vec![
        ("SPARK_HOME".into(), home.display().to_string()),
        ("SLUICE_SPARK_MASTER".into(), "local[2]".into()),
    ]
}

const WORD_COUNT_PY: &str = "import sys\n\
from pyspark.sql import SparkSession\n\
spark = SparkSession.builder.appName('word count').getOrCreate()\n\
lines = spark.sparkContext.textFile(sys.argv[1])\n\
counts = lines.flatMap(lambda l: l.split()).map(lambda w: (w, 1)).reduceByKey(lambda a, b: a + b)\n\
counts.map(lambda kv: '%s\\t%d' % kv).saveAsTextFile(sys.argv[2])\n\
spark.stop()\n";

#[test]
fn the_spark_step_example_counts_words_on_the_embedded_store() {
    let sb = Sandbox::new();
    let books = [
        ("a.txt", "call me ishmael\nsome years ago\n"),
        (
            "b.txt",
            "it was the best of times it was the worst of times\n",
        ),
    ];
    for (name, text) in books {
        put_embedded(&sb, &format!("sluice-examples/books/{name}"), text);
    }
    put_embedded(&sb, "sluice-examples/jobs/word_count.py", WORD_COUNT_PY);
    let out = run_example(&sb, "emr-spark-step.json", &[], &spark_env());
    out.assert_code(0);
    let report = out.report();
    assert_eq!(report.one("WordCount").status, "FINISHED");
    assert_eq!(report.one("SparkCluster").status, "FINISHED");

    // One timestamped folder per run, holding Spark's parts and _SUCCESS.
    let runs: Vec<PathBuf> = fs::read_dir(embedded(&sb, "sluice-examples/word-counts"))
        .expect("the output folder exists")
        .map(|e| e.expect("entry").path())
        .collect();
    let [run] = &runs[..] else {
        panic!("one run folder expected: {runs:?}")
    };
    assert!(run.join("_SUCCESS").exists());
    let mut got: Vec<String> = fs::read_dir(run)
        .expect("run folder")
        .map(|e| e.expect("entry").path())
        .filter(|p| {
            p.file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with("part-"))
        })
        .flat_map(|p| read(&p).lines().map(str::to_owned).collect::<Vec<_>>())
        .collect();
    got.sort();
    let mut expected: BTreeMap<&str, u32> = BTreeMap::new();
    for word in books.iter().flat_map(|(_, text)| text.split_whitespace()) {
        *expected.entry(word).or_default() += 1;
    }
    let mut expected: Vec<String> = expected.iter().map(|(w, n)| format!("{w}\t{n}")).collect();
    expected.sort();
    assert_eq!(got, expected);
}

#[test]
fn validate_warns_when_this_machine_cannot_run_the_spark_step() {
    let validate = |env: &[(String, String)]| {
        let out = Command::new(common::sluice_bin())
            .args(["validate"])
            .arg(example("emr-spark-step.json"))
            .env_remove("SPARK_HOME")
            .env("PATH", "/usr/bin:/bin")
            .envs(env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
            .output()
            .expect("sluice validate runs");
        assert_eq!(out.status.code(), Some(0), "{out:?}");
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    let without = validate(&[]);
    assert!(without.contains("WordCount"), "{without}");
    assert!(
        without.contains("SPARK_NOT_FOUND: a step of this EmrActivity runs on Spark"),
        "{without}"
    );
    assert!(without.contains("pip install pyspark"), "{without}");
    let with = validate(&spark_env());
    assert!(!with.contains("SPARK_NOT_FOUND"), "{with}");
}

/// Order `k` of the template tests: every attribute type, some nested.
fn backup_item(k: u32) -> BTreeMap<String, AttributeValue> {
    use aws_sdk_dynamodb::primitives::Blob;
    let mut item = BTreeMap::from([
        ("amount".to_owned(), AttributeValue::N(format!("{k}.5"))),
        (
            "customer".to_owned(),
            AttributeValue::S(format!("customer {k}, \"ltd\"")),
        ),
        (
            "receipt".to_owned(),
            AttributeValue::B(Blob::new(vec![k as u8, 0, 255])),
        ),
        ("paid".to_owned(), AttributeValue::Bool(k.is_multiple_of(3))),
        ("note".to_owned(), AttributeValue::Null(true)),
        (
            "lines".to_owned(),
            AttributeValue::L(vec![
                AttributeValue::M(
                    [
                        ("sku".to_owned(), AttributeValue::S(format!("sku-{k}"))),
                        ("qty".to_owned(), AttributeValue::N((k % 5 + 1).to_string())),
                    ]
                    .into(),
                ),
                AttributeValue::Null(true),
            ]),
        ),
        (
            "address".to_owned(),
            AttributeValue::M(
                [
                    ("city".to_owned(), AttributeValue::S("Zürich".into())),
                    ("zip".to_owned(), AttributeValue::N("8001".into())),
                ]
                .into(),
            ),
        ),
        (
            "tags".to_owned(),
            AttributeValue::Ss(vec![format!("t{k}"), "all".into()]),
        ),
        (
            "sizes".to_owned(),
            AttributeValue::Ns(vec![k.to_string(), "1000".into()]),
        ),
        (
            "scans".to_owned(),
            AttributeValue::Bs(vec![Blob::new(vec![1, 2]), Blob::new(vec![3, k as u8])]),
        ),
    ]);
    if k.is_multiple_of(10) {
        item.remove("address");
    }
    item
}

/// Sets in one order, whatever order a server keeps their members in.
fn sorted_sets(items: Items) -> Items {
    fn value(v: AttributeValue) -> AttributeValue {
        match v {
            AttributeValue::Ss(mut v) => {
                v.sort();
                AttributeValue::Ss(v)
            }
            AttributeValue::Ns(mut v) => {
                v.sort();
                AttributeValue::Ns(v)
            }
            AttributeValue::Bs(mut v) => {
                v.sort_by(|a, b| a.as_ref().cmp(b.as_ref()));
                AttributeValue::Bs(v)
            }
            AttributeValue::L(v) => AttributeValue::L(v.into_iter().map(value).collect()),
            AttributeValue::M(m) => {
                AttributeValue::M(m.into_iter().map(|(k, v)| (k, value(v))).collect())
            }
            other => other,
        }
    }
    items
        .into_iter()
        .map(|(id, item)| (id, item.into_iter().map(|(k, v)| (k, value(v))).collect()))
        .collect()
}

/// The folders directly under `dir`.
fn folders(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap())
        .filter(|e| e.file_type().unwrap().is_dir())
        .map(|e| e.file_name().into_string().unwrap())
        .collect();
    names.sort();
    names
}

#[test]
fn the_console_templates_back_a_table_up_to_s3_and_restore_it_into_another() {
    let server = Dynalite::start().unwrap();
    let source_items: Items = (1..=150)
        .map(|k| (format!("order-{k:04}"), backup_item(k)))
        .collect();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let client = server.client("us-east-1");
    runtime.block_on(async {
        create_id_table(&client, "orders", 1000, 1000).await;
        create_id_table(&client, "orders_restored", 1000, 1000).await;
        put_items(&client, "orders", &source_items).await;
    });
    // The backup goes to an S3 server (with AWS credentials in the environment, s3:// URIs
    // leave the embedded store); DynamoDB requests go to dynalite.
    let s3 = S3Server::start();
    s3.create_bucket("table-backups");
    let mut env = s3.env();
    env.push((
        "SLUICE_ENDPOINT_URL_DYNAMODB_US_EAST_1".to_owned(),
        server.endpoint(),
    ));

    let sb = Sandbox::new();
    let out = run_example(
        &sb,
        "dynamodb-export-to-s3.json",
        &[
            ("myDDBTableName", "orders".to_owned()),
            ("myOutputS3Loc", "s3://table-backups/orders".to_owned()),
        ],
        &env,
    );
    out.assert_code(0);
    let backup = out.report();
    assert_eq!(backup.one("TableBackupActivity").status, "FINISHED");
    let started = backup.one("TableBackupActivity").scheduled_start;

    // The folder is named after the run's scheduled start, as the template says.
    let parent = s3.object_file("table-backups", "orders");
    let folder = started.format("%Y-%m-%d-%H-%M-%S").to_string();
    assert_eq!(folders(&parent), std::slice::from_ref(&folder));
    let dir = parent.join(&folder);
    assert_eq!(read(&dir.join("_SUCCESS")), "");
    let manifest: Value = serde_json::from_str(&read(&dir.join("manifest"))).unwrap();
    let entries: Vec<String> = manifest["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["url"].as_str().unwrap().to_owned())
        .collect();
    let mut data_files: Vec<String> = fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|n| n != "manifest" && n != "_SUCCESS")
        .map(|n| format!("s3://table-backups/orders/{folder}/{n}"))
        .collect();
    data_files.sort();
    assert_eq!(entries, data_files);
    let lines: usize = data_files
        .iter()
        .map(|uri| {
            let name = uri.rsplit('/').next().unwrap();
            read(&dir.join(name)).lines().count()
        })
        .sum();
    assert_eq!(lines, source_items.len());

    let out = run_example(
        &sb,
        "dynamodb-import-from-s3.json",
        &[
            ("myDDBTableName", "orders_restored".to_owned()),
            (
                "myInputS3Loc",
                format!("s3://table-backups/orders/{folder}"),
            ),
        ],
        &env,
    );
    out.assert_code(0);
    assert_eq!(out.report().one("TableLoadActivity").status, "FINISHED");

    let restored = runtime.block_on(scan(&client, "orders_restored"));
    let source = runtime.block_on(scan(&client, "orders"));
    assert_eq!(restored.len(), source_items.len());
    assert_eq!(sorted_sets(restored), sorted_sets(source.clone()));
    assert_eq!(sorted_sets(source), sorted_sets(source_items));
}

/// How long the Hive example may take: Spark starts a JVM for it.
const SPARK_RUN_DEADLINE: Duration = Duration::from_secs(300);

/// The fields of one CSV line (RFC 4180 quoting).
fn parse_csv_line(line: &str) -> Vec<String> {
    let mut fields = vec![String::new()];
    let mut quoted = false;
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '"' if quoted && chars.peek() == Some(&'"') => {
                fields.last_mut().expect("a field").push('"');
                chars.next();
            }
            '"' => quoted = !quoted,
            ',' if !quoted => fields.push(String::new()),
            c => fields.last_mut().expect("a field").push(c),
        }
    }
    fields
}

#[test]
fn the_hive_report_sums_a_days_csv_sales_per_region() {
    let spark_home = sluice_testsupport::spark::install().expect("PySpark installs");
    let sb = Sandbox::new();
    let today = midnight(0);
    // The day's sales in two files, amounts in cents; products with commas and quotes.
    let sales: Vec<(&str, String, u64)> = (1..=25u64)
        .map(|n| {
            let region = ["us-east", "eu-west", "ap-south"][(n % 3) as usize];
            (
                region,
                format!("widget {n}, \"size {}\"", n % 4),
                n * 137 % 5000 + 99,
            )
        })
        .collect();
    let landing = sb
        .data_dir()
        .join("s3/sales-landing/daily")
        .join(day(today));
    fs::create_dir_all(&landing).expect("landing dir");
    for (name, rows) in [("morning.csv", &sales[..11]), ("evening.csv", &sales[11..])] {
        let text: String = rows
            .iter()
            .map(|(region, product, cents)| {
                format!(
                    "{region},{},{}.{:02}\n",
                    csv_field(product),
                    cents / 100,
                    cents % 100
                )
            })
            .collect();
        fs::write(landing.join(name), text).expect("sales file");
    }

    let command = example_command(
        &sb,
        "hive-daily-s3-csv-report.json",
        &[("myStartDateTime", datetime(today))],
        &[(
            "SPARK_HOME".to_owned(),
            spark_home.to_string_lossy().into_owned(),
        )],
    );
    let mut run = sb.spawn(command);
    let status = run.wait_for_exit(SPARK_RUN_DEADLINE);
    let out = run.output(status);
    out.assert_code(0);
    assert_eq!(
        out.report().statuses("RegionReport"),
        [(today, "FINISHED")],
        "{}",
        out.stdout
    );

    let mut totals: BTreeMap<&str, (u64, u64)> = BTreeMap::new();
    for (region, _, cents) in &sales {
        let entry = totals.entry(region).or_default();
        entry.0 += 1;
        entry.1 += cents;
    }
    let expected: Vec<Vec<String>> = totals
        .iter()
        .map(|(region, (orders, cents))| {
            vec![
                region.to_string(),
                orders.to_string(),
                format!("{}.{:02}", cents / 100, cents % 100),
            ]
        })
        .collect();
    let report_dir = sb
        .data_dir()
        .join("s3/sales-reports/by-region")
        .join(day(today));
    let mut parts: Vec<String> = fs::read_dir(&report_dir)
        .expect("the report directory")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    parts.sort();
    assert!(
        !parts.is_empty() && parts.iter().all(|p| p.starts_with("part-")),
        "{parts:?}"
    );
    let mut rows: Vec<Vec<String>> = parts
        .iter()
        .flat_map(|p| {
            read(&report_dir.join(p))
                .lines()
                .map(parse_csv_line)
                .collect::<Vec<_>>()
        })
        .collect();
    rows.sort();
    assert_eq!(rows, expected);
    // The landing files are only read.
    assert_eq!(
        fs::read_dir(&landing).expect("landing").count(),
        2,
        "nothing was added to the input directory"
    );
}
