//! `sluice server --tls-cert/--tls-key` through real clients: the AWS CLI (`--ca-bundle`),
//! boto3 (`verify=`), the Rust SDK, `sluice taskrunner --ca-bundle` and the runners the server
//! provisions, each trusting a CA of the test's own ([`TestCa`]); and what happens to clients
//! that do not trust it, speak plain HTTP, or stall in the handshake.

#[path = "clients/harness.rs"]
mod harness;
#[path = "clients/sdk_api.rs"]
mod sdk_api;

use std::fs;
use std::io::{ErrorKind, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use harness::{
    AwsCli, ROOT_ACCESS_KEY, ROOT_SECRET_KEY, Server, ServerConfig, assert_boto3_lifecycle,
    greet_definition, raw_get, run_isolated, sdk_config, taskrunner_command, venv, with_root_keys,
};
use sdk_api::{Api, one};
use serde_json::{Value, json};
use sluice_runner::trust::CaBundle;
use sluice_testsupport::files::sh_quoted;
use sluice_testsupport::process::Proc;
use sluice_testsupport::test_ca::TestCa;

/// How long a pipeline may take to get where a test expects it.
const DEADLINE: Duration = Duration::from_secs(60);
/// What `sluice taskrunner` prints once it polls.
const RUNNER_READY: &str = "sluice taskrunner ready";

/// A CA of the test's own and the server certificate it issued (for localhost and
/// 127.0.0.1).
struct Pki {
    dir: tempfile::TempDir,
    ca: PathBuf,
    certificate: PathBuf,
    key: PathBuf,
}

impl Pki {
    fn new() -> Pki {
        let dir = tempfile::Builder::new()
            .prefix("sluice-tls")
            .tempdir()
            .unwrap();
        let ca = TestCa::create(&dir.path().join("ca")).expect("create the test CA");
        let issued = ca.issue("server").expect("issue the server certificate");
        Pki {
            ca: ca.certificate(),
            certificate: issued.certificate,
            key: issued.key,
            dir,
        }
    }

    fn ca(&self) -> &str {
        self.ca.to_str().unwrap()
    }

    /// `--tls-cert` and `--tls-key`, then `extra`.
    fn server_args(&self, extra: &[&str]) -> Vec<String> {
        let mut args: Vec<String> = vec![
            "--tls-cert".into(),
            self.certificate.display().to_string(),
            "--tls-key".into(),
            self.key.display().to_string(),
        ];
        args.extend(extra.iter().map(|a| (*a).to_owned()));
        args
    }

    /// A `sluice server` serving HTTPS, with `config`'s other settings.
    fn server(&self, config: ServerConfig) -> Server {
        let server = Server::start_with(ServerConfig {
            args: self.server_args(&config.args.iter().map(String::as_str).collect::<Vec<_>>()),
            ..config
        });
        assert!(
            server.endpoint.starts_with("https://127.0.0.1:"),
            "{}",
            server.endpoint
        );
        server
    }

    /// `aws datapipeline ARGS… --ca-bundle <the test CA>` against `aws`'s server.
    fn aws(&self, aws: &AwsCli, args: &[&str]) -> harness::Run {
        let mut args = args.to_vec();
        args.extend(["--ca-bundle", self.ca()]);
        aws.run(&args)
    }

    /// Puts `greet.json`, writing to `out_file`, as the definition of pipeline `id` with the
    /// AWS CLI.
    fn define_greeting(&self, aws: &AwsCli, id: &str, out_file: &Path) {
        let definition = aws.scratch().join("def.json");
        fs::write(
            &definition,
            serde_json::to_vec(&greet_definition(out_file)).unwrap(),
        )
        .unwrap();
        let file_arg = format!("file://{}", definition.display());
        let put = self
            .aws(
                aws,
                &[
                    "put-pipeline-definition",
                    "--pipeline-id",
                    id,
                    "--pipeline-definition",
                    &file_arg,
                ],
            )
            .json();
        assert_eq!(put["errored"], json!(false), "{put}");
    }

    /// The Rust SDK against `server`, trusting the test CA.
    fn api(&self, server: &Server) -> Api {
        let bundle = CaBundle::load(&self.ca).unwrap();
        Api::with_config(
            sdk_config(server, ROOT_ACCESS_KEY, ROOT_SECRET_KEY)
                .http_client(sluice_runner::remote::https_client(&bundle))
                .build(),
        )
    }

    /// A `sluice taskrunner` of `group` polling `server` with the root keys, an environment of
    /// its own, and `extra` arguments.
    fn runner(&self, id: &str, server: &Server, group: &str, extra: &[&str]) -> Proc {
        let mut command = taskrunner_command(self.dir.path(), id, &server.endpoint, group);
        with_root_keys(&mut command)
            .args(["--report-interval", "1", "--max-backoff", "2"])
            .args(extra);
        let mut runner = Proc::spawn(id, command, self.dir.path());
        runner.wait_line(RUNNER_READY, DEADLINE);
        runner
    }
}

/// An ondemand pipeline whose `Touch` activity runs on worker group `group` (or on the
/// resource `Box` when `group` is `None`) and writes `marker`.
fn touch_pipeline(group: Option<&str>, marker: &Path) -> Value {
    let mut default = json!({
        "id": "Default", "scheduleType": "ondemand", "failureAndRerunMode": "CASCADE",
        "maximumRetries": "0", "role": "DataPipelineDefaultRole",
        "resourceRole": "DataPipelineDefaultResourceRole"
    });
    let mut touch = json!({
        "id": "Touch", "type": "ShellCommandActivity",
        "command": format!("echo touched > {}", sh_quoted(marker))
    });
    let mut objects = vec![];
    match group {
        Some(group) => default["workerGroup"] = json!(group),
        None => {
            touch["runsOn"] = json!({"ref": "Box"});
            objects.push(json!({
                "id": "Box", "type": "Ec2Resource", "instanceType": "t2.micro",
                "terminateAfter": "10 minutes"
            }));
        }
    }
    objects.extend([default, touch]);
    Value::Array(objects)
}

// ---------------------------------------------------------------------------------------------
// The Python clients
// ---------------------------------------------------------------------------------------------

/// The AWS CLI creates, defines, activates and lists a pipeline over HTTPS with `--ca-bundle`,
/// and the pipeline runs; without the CA it refuses the server's certificate.
#[test]
fn the_aws_cli_with_the_ca_bundle_walks_a_pipeline_over_https() {
    let pki = Pki::new();
    let server = pki.server(ServerConfig::default());
    let aws = AwsCli::root(&server);
    let trusting = |args: &[&str]| pki.aws(&aws, args).json();

    let untrusted = aws.run(&["list-pipelines"]);
    assert_ne!(untrusted.code, 0, "{untrusted}");
    assert!(
        untrusted.stderr.contains("CERTIFICATE_VERIFY_FAILED"),
        "the CLI refuses a certificate of an unknown CA:\n{untrusted}"
    );

    let created = trusting(&["create-pipeline", "--name", "tls", "--unique-id", "tls-1"]);
    let id = created["pipelineId"]
        .as_str()
        .expect("pipelineId")
        .to_owned();
    let out_file = server.dir().join("greetings.txt");
    pki.define_greeting(&aws, &id, &out_file);
    trusting(&["activate-pipeline", "--pipeline-id", &id]);
    let listed = trusting(&["list-pipelines"]);
    assert_eq!(
        listed["pipelineIdList"],
        json!([{"id": id, "name": "tls"}]),
        "{listed}"
    );

    // The server's own runner runs it (greet.json's worker group).
    let api = pki.api(&server);
    api.instance_with_status(&id, "Greet", "FINISHED", DEADLINE);
    assert_eq!(fs::read_to_string(&out_file).unwrap(), "hello files\n");
}

/// boto3, verifying the server with the CA (`verify=`), walks a pipeline through its whole
/// life as its task runner (`clients/boto3_lifecycle.py`).
#[test]
fn boto3_with_verify_walks_a_pipeline_over_https() {
    let pki = Pki::new();
    let server = pki.server(ServerConfig {
        local_runner: false,
        ..ServerConfig::default()
    });
    assert_boto3_lifecycle(&server, &[("SLUICE_CA_BUNDLE", pki.ca())]);
}

/// Servers sharing a PostgreSQL database forward calls to the owner of a pipeline over HTTPS,
/// trusting the CA of their `--ca-bundle`; a server without it cannot, and says why.
#[cfg(feature = "postgres")]
#[test]
fn servers_sharing_a_database_forward_over_https_with_their_ca_bundle() {
    let pki = Pki::new();
    let db = sluice_testsupport::databases::PgDatabase::create("sluice_tls_forwarding");
    let key = pki.dir.path().join("secret.key");
    let shared = |extra: &[&str]| {
        let mut args = vec![
            "--database".to_owned(),
            db.url(),
            "--secret-key-file".to_owned(),
            key.display().to_string(),
        ];
        args.extend(extra.iter().map(|a| (*a).to_owned()));
        ServerConfig {
            args,
            ..ServerConfig::default()
        }
    };
    let owner = pki.server(shared(&["--ca-bundle", pki.ca()]));
    let peer = pki.server(shared(&["--ca-bundle", pki.ca()]));
    let untrusting = pki.server(shared(&[]));
    let (at_owner, at_peer, at_untrusting) = (
        AwsCli::root(&owner),
        AwsCli::root(&peer),
        AwsCli::root(&untrusting),
    );

    let created = pki.aws(
        &at_owner,
        &["create-pipeline", "--name", "fwd", "--unique-id", "fwd"],
    );
    let id = created.json()["pipelineId"].as_str().unwrap().to_owned();
    pki.define_greeting(&at_owner, &id, &owner.dir().join("greetings.txt"));
    pki.aws(&at_owner, &["activate-pipeline", "--pipeline-id", &id])
        .json();

    // The peer hands the call to the owner.
    let query = [
        "query-objects",
        "--pipeline-id",
        &id,
        "--sphere",
        "COMPONENT",
    ];
    let components = pki.aws(&at_peer, &query).json();
    assert_eq!(
        components["ids"].as_array().map(Vec::len),
        Some(2),
        "{components}"
    );
    assert!(
        peer.stderr().contains("operation=QueryObjects") && peer.stderr().contains("forwarded"),
        "{}",
        peer.output()
    );

    let refused = pki.aws(&at_untrusting, &query);
    assert_ne!(refused.code, 0, "{refused}");
    assert!(
        refused.stderr.contains("InternalServiceError")
            && refused
                .stderr
                .contains("invalid peer certificate: UnknownIssuer"),
        "{refused}"
    );
}

// ---------------------------------------------------------------------------------------------
// Task runners
// ---------------------------------------------------------------------------------------------

/// A runner without the CA cannot take the task and says the certificate could not be
/// verified; one with `--ca-bundle` runs it to FINISHED.
#[test]
fn a_task_runner_trusts_an_https_server_only_with_its_ca_bundle() {
    let pki = Pki::new();
    let server = pki.server(ServerConfig {
        local_runner: false,
        ..ServerConfig::default()
    });
    let api = pki.api(&server);
    let marker = pki.dir.path().join("touched");
    let pipeline = api.launch("runner-tls", touch_pipeline(Some("wg-tls"), &marker));

    let mut untrusting = pki.runner("untrusting", &server, "wg-tls", &[]);
    let line = untrusting.wait_line("certificate could not be verified", DEADLINE);
    assert!(line.contains("--ca-bundle"), "{line}");
    assert!(line.contains("UnknownIssuer"), "{line}");
    assert!(!marker.exists());
    untrusting.kill();

    let trusting = pki.runner("trusting", &server, "wg-tls", &["--ca-bundle", pki.ca()]);
    api.instance_with_status(&pipeline, "Touch", "FINISHED", DEADLINE);
    assert_eq!(fs::read_to_string(&marker).unwrap(), "touched\n");
    let attempts = api.attempts_of(&pipeline, "Touch");
    let attempt = attempts.values().next().unwrap();
    assert_eq!(one(attempt, "@status"), Some("FINISHED"));
    assert!(
        !trusting
            .stderr()
            .contains("certificate could not be verified"),
        "{}",
        trusting.output()
    );
}

/// An `Ec2Resource` of a pipeline on an HTTPS server: the runner the server provisions for it
/// reaches the server's https:// URL, trusting the CA the server was given (here through
/// `AWS_CA_BUNDLE`), and runs the activity.
#[test]
fn a_provisioned_runner_reaches_an_https_server_with_the_servers_ca_bundle() {
    let pki = Pki::new();
    let server = pki.server(ServerConfig {
        env: vec![("AWS_CA_BUNDLE".into(), pki.ca().to_owned())],
        ..ServerConfig::default()
    });
    let api = pki.api(&server);
    let marker = pki.dir.path().join("touched");
    let pipeline = api.launch("resource-tls", touch_pipeline(None, &marker));

    api.instance_with_status(&pipeline, "Touch", "FINISHED", DEADLINE);
    assert_eq!(fs::read_to_string(&marker).unwrap(), "touched\n");
    let attempts = api.attempts_of(&pipeline, "Touch");
    let attempt = attempts.values().next().unwrap();
    let resource = one(attempt, "@resourceId").unwrap_or_default();
    assert!(resource.starts_with("local-process:"), "{attempt:?}");

    // The runner was started with the server's https:// URL and its CA bundle.
    let logs = server.dir().join("data/logs").join(&pipeline);
    let runner_log = fs::read_dir(&logs)
        .unwrap()
        .filter_map(Result::ok)
        .map(|e| e.path().join("taskrunner.log"))
        .find(|p| p.exists())
        .unwrap_or_else(|| panic!("no taskrunner.log under {}", logs.display()));
    let log = fs::read_to_string(&runner_log).unwrap();
    assert!(log.contains(&format!("at {}", server.endpoint)), "{log}");
    assert!(log.contains(&format!("ca_bundle={}", pki.ca())), "{log}");
}

// ---------------------------------------------------------------------------------------------
// Hostile and confused clients
// ---------------------------------------------------------------------------------------------

/// Plain HTTP sent to the TLS port is answered 400 (saying to use https://) and closed; the
/// server serves the next request.
#[test]
fn plain_http_to_the_tls_port_is_answered_and_the_server_goes_on() {
    let pki = Pki::new();
    let server = pki.server(ServerConfig::default());
    let plain = raw_get(server.addr, "/healthz");
    assert_eq!(plain.status, 400, "{plain:?}");
    assert!(plain.body.contains("https://"), "{plain:?}");
    assert_eq!(pki.api(&server).list_pipelines(), Ok(0));
    assert!(
        server.stderr().contains("plain HTTP on the TLS port"),
        "{}",
        server.output()
    );
}

/// `--metrics-listen` speaks HTTPS too, with the same certificate: a scraper trusting the CA
/// reads the metrics, plain HTTP is told to use https://.
#[test]
fn the_metrics_port_serves_https_with_the_same_certificate() {
    let pki = Pki::new();
    let server = pki.server(ServerConfig {
        args: vec!["--metrics-listen".into(), "127.0.0.1:0".into()],
        ..ServerConfig::default()
    });
    let output = server.output();
    let url = output
        .lines()
        .find_map(|l| l.strip_prefix("sluice server metrics on "))
        .unwrap_or_else(|| panic!("no metrics address in {output}"));
    let addr = url
        .strip_prefix("https://")
        .and_then(|u| u.strip_suffix("/metrics"))
        .unwrap_or_else(|| panic!("metrics URL {url}"))
        .parse()
        .unwrap();
    assert_eq!(raw_get(addr, "/metrics").status, 400);

    let scrape = "import ssl, sys, urllib.request\n\
                  context = ssl.create_default_context(cafile=sys.argv[2])\n\
                  print(urllib.request.urlopen(sys.argv[1], context=context).read().decode())";
    let scraped = run_isolated(
        &venv().join("bin/python"),
        &["-c", scrape, url, pki.ca()],
        &[],
        pki.dir.path(),
    );
    assert_eq!(scraped.code, 0, "{scraped}");
    assert!(
        scraped.stdout.contains("# TYPE sluice_"),
        "Prometheus text expected:\n{scraped}"
    );
}

/// Connections that stall before or inside the TLS handshake are closed after the header
/// timeout, so they cannot keep the only connection slot from a real client.
#[test]
fn a_stalled_handshake_gives_up_its_connection_slot_after_the_header_timeout() {
    let pki = Pki::new();
    let settings = pki.dir.path().join("settings.json");
    fs::write(
        &settings,
        json!({"headerTimeoutSeconds": 2, "maxConnections": 1}).to_string(),
    )
    .unwrap();
    let server = pki.server(ServerConfig {
        args: vec!["--settings".into(), settings.display().to_string()],
        ..ServerConfig::default()
    });

    for (what, sent) in [
        ("nothing", &b""[..]),
        ("half a TLS record header", &b"\x16\x03\x01"[..]),
    ] {
        // A client of its own each time: a pooled connection would hold the slot too.
        let api = pki.api(&server);
        let started = Instant::now();
        let mut stalled = TcpStream::connect(server.addr).unwrap();
        stalled
            .set_read_timeout(Some(Duration::from_secs(20)))
            .unwrap();
        stalled.write_all(sent).unwrap();
        // While it holds the only slot, a real client waits; once it is closed, it is served.
        assert_eq!(
            api.list_pipelines(),
            Ok(0),
            "after a client that sent {what}"
        );
        let mut rest = Vec::new();
        let closed = stalled.read_to_end(&mut rest);
        let waited = started.elapsed();
        assert!(
            !matches!(&closed, Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut)),
            "the server closes a connection that sent {what}: {closed:?}"
        );
        assert!(
            waited >= Duration::from_secs(2) && waited < Duration::from_secs(15),
            "a connection that sent {what} held the slot for {waited:?}"
        );
    }
}

// ---------------------------------------------------------------------------------------------
// Options
// ---------------------------------------------------------------------------------------------

/// `sluice ARGS…` run to its end in `dir`, with the root keys, no inherited CA bundle and
/// `env`; its exit code and stderr.
fn sluice(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> (Option<i32>, String) {
    let output = Command::new(env!("CARGO_BIN_EXE_sluice"))
        .args(args)
        .current_dir(dir)
        .env_remove("AWS_CA_BUNDLE")
        .env_remove("SLUICE_TLS_CERT")
        .env_remove("SLUICE_TLS_KEY")
        .env("SLUICE_ROOT_ACCESS_KEY_ID", ROOT_ACCESS_KEY)
        .env("SLUICE_ROOT_SECRET_ACCESS_KEY", ROOT_SECRET_KEY)
        .env("AWS_ACCESS_KEY_ID", ROOT_ACCESS_KEY)
        .env("AWS_SECRET_ACCESS_KEY", ROOT_SECRET_KEY)
        .envs(env.iter().copied())
        .output()
        .unwrap();
    (
        output.status.code(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

/// A certificate without its key (or the reverse), and files that are missing or of the wrong
/// kind, stop `sluice server` and `sluice taskrunner` at once with exit status 2, naming what
/// is wrong; a key's contents never appear.
#[test]
fn bad_tls_options_are_refused_naming_what_is_wrong() {
    let pki = Pki::new();
    let dir = pki.dir.path();
    let (cert, key) = (pki.certificate.to_str().unwrap(), pki.key.to_str().unwrap());
    let server = |extra: &[&str]| {
        let mut args = vec!["server", "--listen", "127.0.0.1:0", "--data-dir", "data"];
        args.extend_from_slice(extra);
        sluice(dir, &args, &[])
    };

    let (code, stderr) = server(&["--tls-cert", cert]);
    assert_eq!(code, Some(2), "{stderr}");
    assert!(stderr.contains("--tls-key"), "{stderr}");
    let (code, stderr) = server(&["--tls-key", key]);
    assert_eq!(code, Some(2), "{stderr}");
    assert!(stderr.contains("--tls-cert"), "{stderr}");

    let missing = dir.join("missing.crt");
    let (code, stderr) = server(&["--tls-cert", missing.to_str().unwrap(), "--tls-key", key]);
    assert_eq!(code, Some(2), "{stderr}");
    assert!(
        stderr.contains(&format!(
            "cannot read the TLS certificate file {}",
            missing.display()
        )),
        "{stderr}"
    );

    // The files swapped: neither holds what it should, and the key is not shown.
    let key_text = fs::read_to_string(&pki.key).unwrap();
    let key_line = key_text.lines().nth(1).unwrap();
    let (code, stderr) = server(&["--tls-cert", key, "--tls-key", cert]);
    assert_eq!(code, Some(2), "{stderr}");
    assert!(
        stderr.contains(&format!("{key} holds no certificate")),
        "{stderr}"
    );
    assert!(!stderr.contains(key_line), "{stderr}");

    let (code, stderr) = server(&[
        "--tls-cert",
        cert,
        "--tls-key",
        key,
        "--advertise-url",
        "http://127.0.0.1:8443",
    ]);
    assert_eq!(code, Some(2), "{stderr}");
    assert!(stderr.contains("is not an https:// URL"), "{stderr}");

    let (code, stderr) = server(&["--ca-bundle", key]);
    assert_eq!(code, Some(2), "{stderr}");
    assert!(
        stderr.contains(&format!("the CA bundle {key} holds no certificate")),
        "{stderr}"
    );

    let (code, stderr) = sluice(
        dir,
        &[
            "taskrunner",
            "--endpoint",
            "https://127.0.0.1:1",
            "--worker-group",
            "wg",
            "--ca-bundle",
            missing.to_str().unwrap(),
        ],
        &[],
    );
    assert_eq!(code, Some(2), "{stderr}");
    assert!(
        stderr.contains(&format!("cannot read the CA bundle {}", missing.display())),
        "{stderr}"
    );
}

/// `sluice import` reads from an HTTPS endpoint trusting the CA `AWS_CA_BUNDLE` names, as the
/// AWS CLI does; without it, it stops saying the certificate could not be verified.
#[cfg(feature = "import")]
#[test]
fn sluice_import_reads_from_an_https_endpoint_trusting_aws_ca_bundle() {
    let pki = Pki::new();
    let server = pki.server(ServerConfig::default());
    let aws = AwsCli::root(&server);
    let created = pki.aws(
        &aws,
        &["create-pipeline", "--name", "imp", "--unique-id", "imp"],
    );
    let id = created.json()["pipelineId"].as_str().unwrap().to_owned();
    pki.define_greeting(&aws, &id, &server.dir().join("greetings.txt"));

    let out = pki.dir.path().join("imported");
    let import = |env: &[(&str, &str)]| {
        sluice(
            pki.dir.path(),
            &[
                "import",
                "--from-endpoint",
                &server.endpoint,
                "--pipeline-id",
                &id,
                "--out",
                out.to_str().unwrap(),
            ],
            env,
        )
    };
    let (code, stderr) = import(&[]);
    assert_eq!(code, Some(2), "{stderr}");
    assert!(
        stderr.contains("the server's TLS certificate could not be verified"),
        "{stderr}"
    );

    let (code, stderr) = import(&[("AWS_CA_BUNDLE", pki.ca())]);
    assert_eq!(code, Some(0), "{stderr}");
    let imported: Value =
        serde_json::from_slice(&fs::read(out.join(format!("{id}.json"))).unwrap()).unwrap();
    assert!(
        imported["objects"]
            .as_array()
            .is_some_and(|objects| objects.iter().any(|o| o["id"] == "Greet")),
        "{imported}"
    );
}
