//! dynalite: a DynamoDB-compatible server on Node.js, stricter in its validation than most.
//!
//! Installed once from npm into `<tools>/node` (`dynalite@4.0.0`), started per test on a free
//! loopback port with table status changes made instant, keeping its data in memory, so every
//! test has its own empty server. Several servers can stand for several regions.

use std::io;
use std::path::PathBuf;
use std::process::Command;

use aws_sdk_dynamodb::types::{
    AttributeDefinition, KeySchemaElement, KeyType, ProvisionedThroughput, ScalarAttributeType,
};

use crate::tools::{self, STARTUP_TIMEOUT, ServerProcess};

/// The dynalite release the tests are written against.
pub const DYNALITE_VERSION: &str = "4.0.0";

/// How often a start is retried on a new port when another process took the free port first.
const START_ATTEMPTS: u32 = 3;

/// The `dynalite` executable, installing it first if needed.
pub fn install() -> io::Result<PathBuf> {
    let prefix = tools::tools_dir().join("node");
    let bin = prefix.join("node_modules/.bin/dynalite");
    tools::install_once("dynalite", &bin, || {
        std::fs::create_dir_all(&prefix)?;
        tools::run_logged(
            "dynalite-install",
            Command::new("npm")
                .arg("install")
                .arg("--no-audit")
                .arg("--no-fund")
                .arg("--prefix")
                .arg(&prefix)
                .arg(format!("dynalite@{DYNALITE_VERSION}")),
        )
    })
}

/// A running dynalite, stopped on drop.
#[derive(Debug)]
pub struct Dynalite {
    port: u16,
    _process: ServerProcess,
    _scratch: tempfile::TempDir,
}

impl Dynalite {
    /// Installs (once) and starts a fresh server.
    pub fn start() -> io::Result<Dynalite> {
        let bin = install()?;
        let scratch = tempfile::Builder::new().prefix("dynalite-").tempdir()?;
        let mut last_error = None;
        for attempt in 0..START_ATTEMPTS {
            let port = tools::free_port();
            let log = scratch.path().join(format!("dynalite-{attempt}.log"));
            let mut process = ServerProcess::spawn(
                "dynalite",
                Command::new(&bin)
                    .args(["--host", "127.0.0.1", "--port"])
                    .arg(port.to_string())
                    .args([
                        "--createTableMs",
                        "0",
                        "--deleteTableMs",
                        "0",
                        "--updateTableMs",
                        "0",
                    ]),
                &log,
            )?;
            match process.wait_for_port(port, STARTUP_TIMEOUT) {
                Ok(()) => {
                    return Ok(Dynalite {
                        port,
                        _process: process,
                        _scratch: scratch,
                    });
                }
                Err(err) => last_error = Some(err),
            }
        }
        Err(last_error.unwrap_or_else(|| io::Error::other("dynalite did not start")))
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// The endpoint URL clients use.
    pub fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// A DynamoDB client for this server, signing for `region` with a test key (dynalite
    /// accepts any).
    pub fn client(&self, region: &str) -> aws_sdk_dynamodb::Client {
        let config = aws_sdk_dynamodb::Config::builder()
            .behavior_version_latest()
            .region(aws_sdk_dynamodb::config::Region::new(region.to_owned()))
            .endpoint_url(self.endpoint())
            .credentials_provider(aws_sdk_dynamodb::config::Credentials::new(
                "test", "test", None, None, "test",
            ))
            .build();
        aws_sdk_dynamodb::Client::from_conf(config)
    }
}

/// Creates a table keyed by string `id` with the given provisioned throughput, failing the
/// test if the server refuses it.
pub async fn create_id_table(
    client: &aws_sdk_dynamodb::Client,
    name: &str,
    read_units: i64,
    write_units: i64,
) {
    client
        .create_table()
        .table_name(name)
        .attribute_definitions(
            AttributeDefinition::builder()
                .attribute_name("id")
                .attribute_type(ScalarAttributeType::S)
                .build()
                .expect("attribute definition"),
        )
        .key_schema(
            KeySchemaElement::builder()
                .attribute_name("id")
                .key_type(KeyType::Hash)
                .build()
                .expect("key schema"),
        )
        .provisioned_throughput(
            ProvisionedThroughput::builder()
                .read_capacity_units(read_units)
                .write_capacity_units(write_units)
                .build()
                .expect("throughput"),
        )
        .send()
        .await
        .unwrap_or_else(|e| panic!("create table {name}: {e:?}"));
}
