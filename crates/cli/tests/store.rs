//! `sluice store copy` and `sluice server --database`: a deployment's state moved from SQLite
//! to the machine's PostgreSQL and back, and a server keeping its state there.

mod common;

use std::process::Command;

use sluice_engine::Store;
use sluice_store::{PostgresStore, SqliteStore};
use sluice_testsupport::databases::PgDatabase;

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
