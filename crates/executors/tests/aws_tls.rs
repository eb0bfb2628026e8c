//! S3 and DynamoDB endpoints over HTTPS whose certificate a private CA signed: the real
//! s3s-fs and dynalite behind a TLS relay with a CA of the test's own. With the CA bundle the
//! executors read and write as over plain HTTP; without it they fail naming the endpoint and
//! the certificate, and say where a bundle goes. Objects are checked through the server's
//! files, never through the code under test.

#![cfg(all(feature = "s3", feature = "dynamodb"))]

mod attempt_support;
mod data_support;
// For `create_table`; its settings helper builds plain-HTTP endpoints.
#[allow(dead_code)]
mod dynamo_support;

use std::fs;
use std::net::SocketAddr;
use std::path::PathBuf;

use data_support::*;
use dynamo_support::create_table;
use sluice_data::DataSettings;
use sluice_data::dynamodb::DynamoClient;
use sluice_model::{TaskResult, TaskStatus};
use sluice_testsupport::dynamodb::Dynalite;
use sluice_testsupport::s3::S3Server;
use sluice_testsupport::tls_relay::TlsRelay;

fn loopback(port: u16) -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], port))
}

/// Asserts the attempt failed with a message holding every one of `parts`.
fn assert_failed_naming(result: &TaskResult, parts: &[&str]) {
    assert_eq!(result.task_status, TaskStatus::Failed, "{result:?}");
    let message = result.error_message.as_deref().unwrap_or_default();
    for part in parts {
        assert!(message.contains(part), "expected {part:?} in {message:?}");
    }
}

fn s3_settings(server: &S3Server, relay: &TlsRelay, ca_bundle: Option<PathBuf>) -> DataSettings {
    serde_json::from_value(serde_json::json!({
        "s3": {
            "endpoint": relay.endpoint(),
            "accessKeyId": server.access_key(),
            "secretAccessKey": server.secret_key(),
            "caBundle": ca_bundle,
        }
    }))
    .unwrap()
}

/// A CopyActivity from `s3://src/in/a.csv` to `s3://dst/<key>`.
fn copy(env: &Env, key: &str) -> sluice_executors::AttemptContext {
    env.ctx(
        "CopyActivity",
        vec![r("input", "In"), r("output", "Out"), s("workerGroup", "wg")],
        vec![
            obj("In", "S3DataNode", vec![s("filePath", "s3://src/in/a.csv")]),
            obj(
                "Out",
                "S3DataNode",
                vec![s("filePath", &format!("s3://dst/{key}"))],
            ),
        ],
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn s3_over_https_trusts_the_ca_bundle_and_names_the_certificate_without_it() {
    let server = S3Server::start();
    let relay = TlsRelay::start(loopback(server.port())).unwrap();
    server.create_bucket("src");
    server.create_bucket("dst");
    let source = server.object_file("src", "in/a.csv");
    fs::create_dir_all(source.parent().unwrap()).unwrap();
    fs::write(&source, "1,a\n2,b\n").unwrap();

    let env = Env::with_data(s3_settings(&server, &relay, Some(relay.ca_certificate())));
    assert_finished(&execute(&copy(&env, "out/a.csv")).await);
    assert_eq!(
        fs::read(server.object_file("dst", "out/a.csv")).unwrap(),
        b"1,a\n2,b\n"
    );

    let env = Env::with_data(s3_settings(&server, &relay, None));
    let result = execute(&copy(&env, "untrusted/a.csv")).await;
    assert_failed_naming(
        &result,
        &[
            &format!("cannot reach the S3 endpoint {}", relay.endpoint()),
            "invalid peer certificate",
            "data.s3.caBundle or AWS_CA_BUNDLE",
        ],
    );
    assert!(!server.object_file("dst", "untrusted/a.csv").exists());

    // A bundle that is not one is named before any request.
    let not_pem = env.tmp.path().join("not.pem");
    fs::write(&not_pem, "not a certificate").unwrap();
    let env = Env::with_data(s3_settings(&server, &relay, Some(not_pem)));
    let result = execute(&copy(&env, "bad-bundle/a.csv")).await;
    assert_failed_naming(
        &result,
        &["data.s3.caBundle", "not.pem", "no PEM certificate"],
    );
}

/// Where the message says the CA goes, for a service whose settings name no bundle: the settings
/// key or the variable, or, when the environment has `AWS_CA_BUNDLE` (as CI machines often do,
/// naming the system's bundle), that this bundle lacks the CA.
fn remedy_without_settings(key: &str) -> String {
    match std::env::var("AWS_CA_BUNDLE") {
        Ok(bundle) if !bundle.trim().is_empty() => {
            format!("the CA bundle {bundle} (AWS_CA_BUNDLE) does not hold the CA that signed it")
        }
        _ => format!("{key} or AWS_CA_BUNDLE"),
    }
}

fn dynamo_settings(relay: &TlsRelay, ca_bundle: Option<PathBuf>) -> DataSettings {
    serde_json::from_value(serde_json::json!({
        "dynamodb": {
            "region": "us-east-1",
            "endpoint": relay.endpoint(),
            "accessKeyId": "test",
            "secretAccessKey": "dynalite-secret",
            "caBundle": ca_bundle,
        }
    }))
    .unwrap()
}

/// DynamoDBTableExists on `table`, evaluated for a DynamoDBDataNode in us-east-1.
async fn table_exists(env: &Env, table: &str) -> TaskResult {
    let ctx = env.ctx(
        "DynamoDBTableExists",
        vec![s("tableName", table), s("role", "r"), r("node", "Node")],
        vec![obj(
            "Node",
            "DynamoDBDataNode",
            vec![s("tableName", table), s("region", "us-east-1")],
        )],
    );
    execute(&ctx).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dynamodb_over_https_trusts_the_ca_bundle_and_names_the_certificate_without_it() {
    let server = Dynalite::start().unwrap();
    let relay = TlsRelay::start(loopback(server.port())).unwrap();
    let trusted = dynamo_settings(&relay, Some(relay.ca_certificate()));
    let client = DynamoClient::connect(&trusted.dynamodb, None).unwrap();
    create_table(&client, "present", 5, 5).await;

    let env = Env::with_data(trusted);
    assert_finished(&table_exists(&env, "present").await);
    let absent = table_exists(&env, "absent").await;
    assert_eq!(absent.task_status, TaskStatus::False, "{absent:?}");

    let env = Env::with_data(dynamo_settings(&relay, None));
    let result = table_exists(&env, "present").await;
    assert_failed_naming(
        &result,
        &[
            &relay.endpoint(),
            "invalid peer certificate",
            &remedy_without_settings("data.dynamodb.caBundle"),
        ],
    );
    assert!(
        !result
            .error_message
            .as_deref()
            .unwrap_or_default()
            .contains("dynalite-secret"),
        "{result:?}"
    );
}
