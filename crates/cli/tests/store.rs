//! `sluice store copy` and `sluice server --database`: a deployment's state moved from SQLite
//! to the machine's PostgreSQL and back, and a server keeping its state there. `sluice store
//! rotate-key` on both backends: refused under a running server, then every secret resealed so
//! that only the new key opens the database, through the API as well.

mod common;
#[path = "clients/harness.rs"]
mod harness;

use std::net::SocketAddr;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, SystemTime};

use serde_json::{Value, json};
use sluice_engine::Store;
use sluice_store::{PostgresStore, Sealer, SqliteStore};
use sluice_testsupport::databases::PgDatabase;
use sluice_testsupport::process::Proc;

use common::Sandbox;

fn store_copy(from: &str, to: &str, extra: &[&str]) -> std::process::Output {
    Command::new(common::sluice_bin())
        .args(["store", "copy", "--from", from, "--to", to])
        .args(extra)
        .output()
        .expect("sluice store copy runs")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// Every record of `a` equals `b`'s; the number of instances compared.
async fn assert_same_state(a: &dyn Store, b: &dyn Store) -> usize {
    let pipelines = a.pipelines().await.unwrap();
    assert!(!pipelines.is_empty());
    assert_eq!(pipelines, b.pipelines().await.unwrap());
    let mut instances = 0;
    for p in &pipelines {
        let mine = a.instances(&p.pipeline_id).await.unwrap();
        instances += mine.len();
        assert_eq!(mine, b.instances(&p.pipeline_id).await.unwrap());
        assert_eq!(
            a.attempts(&p.pipeline_id).await.unwrap(),
            b.attempts(&p.pipeline_id).await.unwrap()
        );
    }
    instances
}

#[test]
fn a_data_directory_moves_to_postgres_and_back_without_loss() {
    let sb = Sandbox::new();
    // Real state: two pipelines run by `sluice run` into one data directory.
    for example in ["shell-with-preconditions.json", "on-demand-report.json"] {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../examples")
            .join(example);
        sb.run(&path, &[]).assert_code(0);
    }
    let db = PgDatabase::create("sluice_copy");
    let data_dir = sb.data_dir();
    let out = store_copy(data_dir.to_str().unwrap(), &db.url(), &[]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let said = text(&out.stdout);
    assert!(said.starts_with("copied 2 pipeline(s), "), "{said}");
    assert!(
        said.contains(&format!(
            "to postgres://postgres@127.0.0.1:5432/{}",
            db.name()
        )),
        "{said}"
    );

    // A second copy into the now non-empty database is refused, and changes nothing.
    let again = store_copy(data_dir.to_str().unwrap(), &db.url(), &[]);
    assert_eq!(again.status.code(), Some(1));
    assert!(
        text(&again.stderr).contains("--into-non-empty"),
        "{}",
        text(&again.stderr)
    );

    let back = sb.path("back.db");
    // Back with the key the data directory's runs generated, which sealed the secrets.
    let key = data_dir.join("secret.key");
    assert!(key.is_file());
    let out = store_copy(
        &db.url(),
        back.to_str().unwrap(),
        &["--secret-key-file", key.to_str().unwrap()],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));

    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        let original = SqliteStore::open(&data_dir.join("sluice.db"))
            .await
            .unwrap();
        let middle = PostgresStore::connect(&db.url()).await.unwrap();
        let copied_back = SqliteStore::open(&back).await.unwrap();
        let instances = assert_same_state(&original, &middle).await;
        assert!(instances >= 2, "{instances}");
        assert_same_state(&original, &copied_back).await;
        middle.close().await;
    });
}

#[test]
fn copy_names_what_is_wrong_with_its_locations() {
    let sb = Sandbox::new();
    let missing = sb.path("nowhere.db");
    let out = store_copy(
        missing.to_str().unwrap(),
        sb.path("to.db").to_str().unwrap(),
        &[],
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("--from"),
        "{}",
        text(&out.stderr)
    );
    assert!(
        text(&out.stderr).contains("does not exist"),
        "{}",
        text(&out.stderr)
    );
    assert!(
        !sb.path("to.db").exists(),
        "nothing is created for a failed copy"
    );

    // An unreachable database fails (fast, with the address) and never prints the password.
    let started = std::time::Instant::now();
    let out = store_copy(
        "postgres://sluice:hunter22@127.0.0.1:1/state",
        sb.path("to.db").to_str().unwrap(),
        &[],
    );
    assert_eq!(out.status.code(), Some(2));
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains("--from") && stderr.contains("127.0.0.1:1"),
        "{stderr}"
    );
    assert!(!stderr.contains("hunter22"), "{stderr}");
    assert!(
        started.elapsed() < std::time::Duration::from_secs(20),
        "{:?}",
        started.elapsed()
    );
}

#[test]
fn the_binary_reaches_a_tls_only_state_database_with_every_verifying_mode() {
    // The binary links two TLS crypto back ends (the AWS SDKs' and the database driver's):
    // the verifying modes must still pick one instead of failing.
    let server = sluice_testsupport::pg_ssl::SslPostgres::start().expect("a TLS-only cluster");
    let ca = server.certificate();
    let sb = Sandbox::new();
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../examples/on-demand-report.json");
    sb.run(&path, &[]).assert_code(0);
    let data_dir = sb.data_dir();
    for mode in ["verify-ca", "verify-full"] {
        let url = server.url(
            "localhost",
            &format!("sslmode={mode}&sslrootcert={}", ca.display()),
        );
        let out = store_copy(data_dir.to_str().unwrap(), &url, &["--into-non-empty"]);
        assert!(out.status.success(), "{mode}: {}", text(&out.stderr));
        assert!(text(&out.stdout).starts_with("copied "), "{mode}");
    }
    // Without the CA the certificate is refused, and the copy says so.
    let out = store_copy(
        data_dir.to_str().unwrap(),
        &server.url("localhost", "sslmode=verify-full"),
        &[],
    );
    let said = text(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{said}");
    assert!(said.contains("invalid peer certificate"), "{said}");
}

// ---------------------------------------------------------------------------------------------
// sluice store rotate-key
// ---------------------------------------------------------------------------------------------

const FIELD_CANARY: &str = "rotate-canary-field-5e1d";
const PARAM_CANARY: &str = "rotate-canary-param-8c2a";

fn rotate_key(args: &[&str]) -> std::process::Output {
    Command::new(common::sluice_bin())
        .args(["store", "rotate-key"])
        .args(args)
        .env_remove("SLUICE_SECRET_KEY_FILE")
        .env_remove("SLUICE_DATABASE_URL")
        .env_remove("SLUICE_DATA_DIR")
        .output()
        .expect("sluice store rotate-key runs")
}

/// `sluice server` on `data_dir` with `extra` arguments, without a task runner.
fn spawn_server(dir: &Path, name: &str, data_dir: &Path, extra: &[&str]) -> Proc {
    let mut command = Command::new(common::sluice_bin());
    command
        .args(["server", "--listen", "127.0.0.1:0", "--no-local-runner"])
        .arg("--data-dir")
        .arg(data_dir)
        .args(extra)
        .env_remove("SLUICE_SECRET_KEY_FILE")
        .env_remove("SLUICE_DATABASE_URL")
        .env("SLUICE_ROOT_ACCESS_KEY_ID", harness::ROOT_ACCESS_KEY)
        .env("SLUICE_ROOT_SECRET_ACCESS_KEY", harness::ROOT_SECRET_KEY);
    Proc::spawn(name, command, dir)
}

/// [`spawn_server`], once it listens.
fn start_server(dir: &Path, name: &str, data_dir: &Path, extra: &[&str]) -> (Proc, SocketAddr) {
    let mut server = spawn_server(dir, name, data_dir, extra);
    let line = server.wait_line("listening on ", Duration::from_secs(30));
    let url = harness::ready_url(&line).unwrap_or_else(|| panic!("no URL in {line:?}"));
    let addr = url.trim_start_matches("http://").parse().unwrap();
    (server, addr)
}

/// Stops a server as an operator would (SIGTERM) and checks it exits cleanly.
fn stop(server: &mut Proc) {
    server.signal("TERM");
    let status = server.wait_exit(Duration::from_secs(30));
    assert!(status.success(), "{status}\n{}", server.output());
}

fn call(addr: SocketAddr, target: &str, body: &Value) -> Value {
    let body = body.to_string();
    let headers = harness::signed_headers(
        addr,
        target,
        body.as_bytes(),
        (harness::ROOT_ACCESS_KEY, harness::ROOT_SECRET_KEY),
        SystemTime::now(),
    );
    let response = harness::raw_post(addr, &headers, body.as_bytes());
    assert_eq!(response.status, 200, "{target}: {}", response.body);
    response.json()
}

/// Creates a pipeline holding both canaries as secrets; returns its id.
fn pipeline_with_secrets(addr: SocketAddr) -> String {
    let created = call(
        addr,
        "CreatePipeline",
        &json!({"name": "rotated", "uniqueId": "rotated-1"}),
    );
    let id = created["pipelineId"].as_str().unwrap().to_owned();
    let field = |key: &str, value: &str| json!({"key": key, "stringValue": value});
    let put = call(
        addr,
        "PutPipelineDefinition",
        &json!({
            "pipelineId": id,
            "pipelineObjects": [
                {"id": "Default", "name": "Default", "fields": [
                    field("scheduleType", "ondemand"), field("workerGroup", "wg-rotate")]},
                {"id": "Db", "name": "Db", "fields": [
                    field("type", "JdbcDatabase"),
                    field("connectionString", "jdbc:postgresql://127.0.0.1:5432/test"),
                    field("jdbcDriverClass", "org.postgresql.Driver"),
                    field("username", "postgres"),
                    field("*password", FIELD_CANARY)]},
            ],
            "parameterObjects": [
                {"id": "*myPassword", "attributes": [{"key": "type", "stringValue": "String"}]}],
            "parameterValues": [{"id": "*myPassword", "stringValue": PARAM_CANARY}],
        }),
    );
    assert_eq!(put["errored"], false, "{put}");
    id
}

/// Both canaries come back through the API.
fn assert_secrets_served(addr: SocketAddr, pipeline_id: &str) {
    let definition = call(
        addr,
        "GetPipelineDefinition",
        &json!({"pipelineId": pipeline_id}),
    )
    .to_string();
    assert!(
        definition.contains(FIELD_CANARY) && definition.contains(PARAM_CANARY),
        "{definition}"
    );
}

/// A server given `key_file` refuses to start, naming both keys.
fn assert_key_refused(dir: &Path, data_dir: &Path, extra: &[&str], ids: [&str; 2]) {
    let mut server = spawn_server(dir, "server-old-key", data_dir, extra);
    let status = server.wait_exit(Duration::from_secs(30));
    let stderr = server.stderr();
    assert!(!status.success(), "{stderr}");
    for id in ids {
        assert!(stderr.contains(id), "{id} in {stderr}");
    }
}

fn mode(path: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

#[test]
fn rotate_key_reseals_a_data_directory_once_its_server_stops() {
    let sb = Sandbox::new();
    let data_dir = sb.data_dir();
    let (mut server, addr) = start_server(sb.root(), "server", &data_dir, &[]);
    let pipeline_id = pipeline_with_secrets(addr);
    let old_key = data_dir.join("secret.key");
    let new_key = sb.path("keys/new.key");
    let (data, new) = (data_dir.to_str().unwrap(), new_key.to_str().unwrap());

    let refused = rotate_key(&["--data-dir", data, "--new-secret-key-file", new]);
    assert_eq!(refused.status.code(), Some(1), "{}", text(&refused.stdout));
    assert!(
        text(&refused.stderr).contains("open in another process"),
        "{}",
        text(&refused.stderr)
    );
    stop(&mut server);

    let out = rotate_key(&["--data-dir", data, "--new-secret-key-file", new]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let said = text(&out.stdout);
    assert!(
        said.contains("resealed 2 secret value(s) in 1 pipeline(s)"),
        "{said}"
    );
    assert_eq!(mode(&new_key), 0o600);
    let (old_id, new_id) = (
        Sealer::load(&old_key).unwrap().key_id().to_owned(),
        Sealer::load(&new_key).unwrap().key_id().to_owned(),
    );
    assert!(said.contains(&new_id) && said.contains(&old_id), "{said}");
    for entry in std::fs::read_dir(&data_dir).unwrap().flatten() {
        if entry.path().is_file() {
            let bytes = std::fs::read(entry.path()).unwrap();
            for needle in [FIELD_CANARY, PARAM_CANARY, old_id.as_str()] {
                assert!(
                    !bytes.windows(needle.len()).any(|w| w == needle.as_bytes()),
                    "{} holds {needle}",
                    entry.path().display()
                );
            }
        }
    }

    // Run again: nothing left to reseal.
    let again = rotate_key(&["--data-dir", data, "--new-secret-key-file", new]);
    assert!(again.status.success(), "{}", text(&again.stderr));
    assert!(
        text(&again.stdout).contains("resealed 0 secret value(s) in 0 pipeline(s)"),
        "{}",
        text(&again.stdout)
    );

    // The old key (the data directory's default) no longer opens the database; the new one
    // serves the secrets.
    assert_key_refused(sb.root(), &data_dir, &[], [&old_id, &new_id]);
    let (mut server, addr) = start_server(
        sb.root(),
        "server-new-key",
        &data_dir,
        &["--secret-key-file", new],
    );
    assert_secrets_served(addr, &pipeline_id);
    stop(&mut server);
}

#[test]
fn rotate_key_reseals_a_postgres_database_once_every_server_stops() {
    let sb = Sandbox::new();
    let db = PgDatabase::create("sluice_rotate");
    let url = db.url();
    let data_dir = sb.data_dir();
    let database = ["--database", url.as_str()];
    let (mut server, addr) = start_server(sb.root(), "server", &data_dir, &database);
    let pipeline_id = pipeline_with_secrets(addr);
    let old_key = data_dir.join("secret.key");
    let new_key = sb.path("new.key");
    let (old, new) = (old_key.to_str().unwrap(), new_key.to_str().unwrap());
    let rotate = [
        "--database",
        url.as_str(),
        "--secret-key-file",
        old,
        "--new-secret-key-file",
        new,
    ];

    let refused = rotate_key(&rotate);
    assert_eq!(refused.status.code(), Some(1), "{}", text(&refused.stdout));
    let stderr = text(&refused.stderr);
    assert!(stderr.contains("1 server(s) use it"), "{stderr}");
    stop(&mut server);

    let out = rotate_key(&rotate);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let said = text(&out.stdout);
    assert!(
        said.contains("resealed 2 secret value(s) in 1 pipeline(s)"),
        "{said}"
    );
    let (old_id, new_id) = (
        Sealer::load(&old_key).unwrap().key_id().to_owned(),
        Sealer::load(&new_key).unwrap().key_id().to_owned(),
    );
    let rows = db.psql("SELECT data FROM pipelines");
    assert!(
        rows.contains(&format!("sluice:sealed:v1:{new_id}:")),
        "{rows}"
    );
    for needle in [FIELD_CANARY, PARAM_CANARY, old_id.as_str()] {
        assert!(!rows.contains(needle), "{needle} in {rows}");
    }

    assert_key_refused(sb.root(), &data_dir, &database, [&old_id, &new_id]);
    let mut with_new = database.to_vec();
    with_new.extend(["--secret-key-file", new]);
    let (mut server, addr) = start_server(sb.root(), "server-new-key", &data_dir, &with_new);
    assert_secrets_served(addr, &pipeline_id);
    stop(&mut server);
}

#[test]
fn rotate_key_names_what_is_wrong_with_its_keys() {
    let sb = Sandbox::new();
    let data_dir = sb.data_dir();
    let data = data_dir.to_str().unwrap();
    let new_key = sb.path("new.key");
    let new = new_key.to_str().unwrap();

    let out = rotate_key(&["--data-dir", data, "--new-secret-key-file", new]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("no state database"),
        "{}",
        text(&out.stderr)
    );
    assert!(
        !new_key.exists(),
        "no key is generated for a failed rotation"
    );

    // A data directory with its database and key, as `sluice run` leaves it.
    let definition = sb.write_definition(
        "one.json",
        json!([
            common::ondemand_default(json!({})),
            common::shell("Echo", "true", json!({}))
        ]),
    );
    sb.run(&definition, &[]).assert_code(0);
    let current = data_dir.join("secret.key");
    let out = rotate_key(&[
        "--data-dir",
        data,
        "--new-secret-key-file",
        current.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("names the current key"),
        "{}",
        text(&out.stderr)
    );
    let missing = sb.path("missing.key");
    let out = rotate_key(&[
        "--data-dir",
        data,
        "--secret-key-file",
        missing.to_str().unwrap(),
        "--new-secret-key-file",
        new,
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("the current key") && text(&out.stderr).contains("missing.key"),
        "{}",
        text(&out.stderr)
    );
    assert!(!missing.exists() && !new_key.exists());
}
