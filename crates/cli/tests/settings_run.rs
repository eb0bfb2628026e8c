//! `sluice run --settings FILE`: the server's settings file given to a local run. Database ids
//! resolve through `data.sql`, `data.s3.embedded` keeps `s3://` on this machine beside AWS
//! credentials meant for DynamoDB, an S3 endpoint that cannot be reached is named with where it
//! was set, and the keys only a server uses are accepted. The real binary, the real
//! PostgreSQL, dynalite and a closed loopback port.

mod common;

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use aws_sdk_dynamodb::types::AttributeValue;
use serde_json::{Value, json};
use sluice_testsupport::databases::{PgTables, psql, unique_name};
use sluice_testsupport::dynamodb::{Dynalite, create_id_table};
use sluice_testsupport::files::read;

use common::{RunOutput, Sandbox, ondemand_default};

/// `sluice run DEFINITION --data-dir DATA [--settings SETTINGS]` with none of the AWS variables
/// of whoever runs the tests, and `env` instead.
fn run(
    sb: &Sandbox,
    definition: &Path,
    data: &str,
    settings: Option<&Path>,
    env: &[(&str, &str)],
) -> RunOutput {
    let mut command: Command = sb.command(definition);
    command.arg("--data-dir").arg(sb.path(data));
    if let Some(settings) = settings {
        command.arg("--settings").arg(settings);
    }
    for (var, _) in std::env::vars() {
        if var.starts_with("AWS_")
            || var.starts_with("SLUICE_ENDPOINT_URL_")
            || var.starts_with("SLUICE_S3_")
            || var == "RUST_LOG"
        {
            command.env_remove(var);
        }
    }
    command.envs(env.iter().copied());
    sb.run_command(command)
}

fn write_settings(sb: &Sandbox, name: &str, settings: Value) -> PathBuf {
    let path = sb.path(name);
    fs::write(&path, settings.to_string()).unwrap();
    path
}

/// Every `runner.log` under `<data>/logs`, concatenated.
fn runner_logs(data: &Path) -> String {
    let mut text = String::new();
    for pipeline in fs::read_dir(data.join("logs")).unwrap() {
        for attempt in fs::read_dir(pipeline.unwrap().path()).unwrap() {
            text.push_str(&read(&attempt.unwrap().path().join("runner.log")));
        }
    }
    text
}

#[test]
fn an_rds_instance_id_resolves_through_the_settings_file() {
    let sb = Sandbox::new();
    let table = unique_name("rds_orders");
    let _drop = PgTables(vec![table.clone()]);
    let def = sb.write_definition(
        "rds.json",
        json!([
            ondemand_default(json!({ "maximumRetries": "0" })),
            { "id": "Shop", "type": "RdsDatabase", "rdsInstanceId": "orders-db",
              "username": "postgres", "*password": "unused" },
            { "id": "Fill", "type": "SqlActivity", "database": { "ref": "Shop" },
              "script": format!(
                  "CREATE TABLE {table} (id int PRIMARY KEY, name text); \
                   INSERT INTO {table} VALUES (1, 'anvil'), (2, 'bolt'), (3, 'chain');"
              ) },
            { "id": "Orders", "type": "SqlDataNode", "database": { "ref": "Shop" },
              "table": table, "selectQuery": format!("SELECT id, name FROM {table} ORDER BY id") },
            { "id": "Csv", "type": "S3DataNode", "filePath": "s3://exports/orders.csv" },
            { "id": "Export", "type": "CopyActivity", "dependsOn": { "ref": "Fill" },
              "input": { "ref": "Orders" }, "output": { "ref": "Csv" } }
        ]),
    );

    // Without settings the id means nothing, and the message says where to put it.
    let out = run(&sb, &def, "bare", None, &[]);
    out.assert_code(1);
    assert!(
        out.stdout
            .contains("rdsInstanceId \"orders-db\" is not configured")
            && out.stdout.contains("data.sql.rdsInstances")
            && out.stdout.contains("--settings")
            && out.stdout.contains("sluice run"),
        "{}",
        out.stdout
    );

    let settings = write_settings(
        &sb,
        "settings.json",
        json!({ "data": { "sql": { "rdsInstances": {
            "orders-db": { "engine": "postgresql", "host": "127.0.0.1", "port": 5432,
                           "database": "test" }
        } } } }),
    );
    let out = run(&sb, &def, "data", Some(&settings), &[]);
    out.assert_code(0);
    assert_eq!(
        psql(&format!("SELECT id, name FROM {table} ORDER BY id")),
        "1|anvil\n2|bolt\n3|chain\n"
    );
    assert_eq!(
        read(&sb.path("data/s3/exports/orders.csv")),
        "1,anvil\n2,bolt\n3,chain\n"
    );
}

#[test]
fn a_pinned_embedded_store_keeps_s3_local_beside_aws_credentials_for_dynamodb() {
    let dynalite = Dynalite::start().unwrap();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let client = dynalite.client("us-east-1");
        create_id_table(&client, "orders", 100, 100).await;
        for id in ["order-1", "order-2", "order-3"] {
            client
                .put_item()
                .table_name("orders")
                .item("id", AttributeValue::S(id.into()))
                .send()
                .await
                .unwrap();
        }
    });

    let sb = Sandbox::new();
    let def = sb.write_definition(
        "export.json",
        json!([
            ondemand_default(json!({ "maximumRetries": "0" })),
            { "id": "Orders", "type": "DynamoDBDataNode", "tableName": "orders" },
            { "id": "ExportFormat", "type": "DynamoDBExportDataFormat" },
            { "id": "Backup", "type": "S3DataNode", "directoryPath": "s3://backups/orders",
              "dataFormat": { "ref": "ExportFormat" } },
            { "id": "Copy", "type": "HiveCopyActivity",
              "input": { "ref": "Orders" }, "output": { "ref": "Backup" } }
        ]),
    );
    // DynamoDB's endpoint is in the settings; the credentials that sign its requests are
    // the environment's, which would otherwise send s3:// to Amazon S3.
    let settings = write_settings(
        &sb,
        "settings.json",
        json!({ "data": {
            "s3": { "embedded": true },
            "dynamodb": { "endpoint": dynalite.endpoint() }
        } }),
    );
    let env = [
        ("AWS_ACCESS_KEY_ID", "AKIDFORDYNAMODB"),
        ("AWS_SECRET_ACCESS_KEY", "dynamodb-secret-w4"),
        ("AWS_REGION", "us-east-1"),
    ];
    let out = run(&sb, &def, "data", Some(&settings), &env);
    out.assert_code(0);
    assert!(
        out.stderr.contains("pinned by data.s3.embedded"),
        "{}",
        out.stderr
    );
    let export = read(&sb.path("data/s3/backups/orders/part-00000"));
    let mut ids: Vec<&str> = ["order-1", "order-2", "order-3"]
        .into_iter()
        .filter(|id| export.contains(&format!("\"{id}\"")))
        .collect();
    ids.sort_unstable();
    assert_eq!(ids, ["order-1", "order-2", "order-3"], "{export}");
    assert_eq!(export.lines().count(), 3, "{export}");
}

#[test]
fn an_unreachable_s3_endpoint_is_named_with_where_it_was_set() {
    let sb = Sandbox::new();
    let port = sluice_testsupport::tools::free_port();
    let endpoint = format!("http://127.0.0.1:{port}");
    let def = sb.write_definition(
        "fetch.json",
        json!([
            ondemand_default(json!({ "maximumRetries": "0" })),
            { "id": "Fetch", "type": "ShellCommandActivity", "scriptUri": "s3://code/run.sh" }
        ]),
    );
    let secret = "settings-secret-r7";
    let settings = write_settings(
        &sb,
        "settings.json",
        json!({ "data": { "s3": {
            "endpoint": endpoint, "accessKeyId": "AKIDUNREACHABLE", "secretAccessKey": secret
        } } }),
    );
    let out = run(&sb, &def, "from-file", Some(&settings), &[]);
    out.assert_code(1);
    let named = format!(
        "cannot reach the S3 endpoint {endpoint} (set by data.s3.endpoint in the settings file)"
    );
    let logs = runner_logs(&sb.path("from-file"));
    // The attempt's error, the attempt's runner.log, and a warning while the run goes on.
    assert!(
        out.stdout
            .contains(&format!("scriptUri: cannot read s3://code/run.sh: {named}")),
        "{}",
        out.stdout
    );
    assert!(logs.contains(&named), "{logs}");
    assert!(
        out.stderr.contains(&named) && out.stderr.contains("retrying"),
        "{}",
        out.stderr
    );
    for text in [&out.stdout, &out.stderr, &logs] {
        assert!(!text.contains(secret), "{text}");
    }

    // The same endpoint from the environment says so.
    let env_secret = "env-secret-p2";
    let env = [
        ("AWS_ENDPOINT_URL_S3", endpoint.as_str()),
        ("AWS_ACCESS_KEY_ID", "AKIDUNREACHABLE"),
        ("AWS_SECRET_ACCESS_KEY", env_secret),
    ];
    let out = run(&sb, &def, "from-env", None, &env);
    out.assert_code(1);
    assert!(
        out.stdout.contains(&format!(
            "cannot reach the S3 endpoint {endpoint} (set by AWS_ENDPOINT_URL_S3 in the \
             environment)"
        )),
        "{}",
        out.stdout
    );
    assert!(!out.stdout.contains(env_secret) && !out.stderr.contains(env_secret));
}

#[test]
fn the_servers_keys_are_accepted_and_typos_and_contradictions_refused() {
    let sb = Sandbox::new();
    let marker = sb.path("ran");
    let def = sb.write_definition(
        "touch.json",
        json!([
            ondemand_default(json!({})),
            common::shell("Touch", &format!("touch {}", sb.sh("ran")), json!({}))
        ]),
    );
    // The server's own file, as it is: its keys mean nothing here and are ignored.
    let server_file = write_settings(
        &sb,
        "server.json",
        json!({
            "pollWaitSeconds": 5, "maxConnections": 10, "bodyLimitBytes": 1024,
            "firstReportTimeoutSeconds": 120, "data": { "s3": { "embedded": true } }
        }),
    );
    run(&sb, &def, "data", Some(&server_file), &[]).assert_code(0);
    assert!(marker.exists());

    for (name, settings, needles) in [
        (
            "typo.json",
            json!({ "pollWiat": 5 }),
            vec!["typo.json", "unknown field `pollWiat`"],
        ),
        (
            "both.json",
            json!({ "data": { "s3": { "embedded": true, "endpoint": "http://127.0.0.1:9" } } }),
            vec!["both.json", "data.s3.embedded", "data.s3.endpoint"],
        ),
        (
            "limits.json",
            json!({ "limits": { "max_objects": 1, "enforcement": "error" } }),
            vec!["is not a valid definition"],
        ),
    ] {
        let path = write_settings(&sb, name, settings);
        let out = run(&sb, &def, "refused", Some(&path), &[]);
        out.assert_code(2);
        for needle in needles {
            assert!(out.stderr.contains(needle), "{name}: {}", out.stderr);
        }
    }
    let out = run(&sb, &def, "refused", Some(&sb.path("missing.json")), &[]);
    out.assert_code(2);
    assert!(
        out.stderr.contains("cannot read settings file"),
        "{}",
        out.stderr
    );
}
