//! SqlActivity over TLS, with the TLS properties each JDBC driver spells: against a PostgreSQL
//! cluster of the test's own that accepts only TLS connections (its certificate signed by a CA
//! the test makes), and against the machine's MariaDB, whose TLS support is whatever the
//! machine gives it. What reached the server is read back with `psql`, not through the code
//! under test.

#![cfg(all(feature = "postgres", feature = "mysql"))]

mod attempt_support;
mod data_support;
mod mariadb_tls;

use std::process::Command;

use data_support::*;
use sluice_data::DataSettings;
use sluice_model::{PipelineObject, TaskResult, TaskStatus};
use sluice_testsupport::pg_ssl::SslPostgres;
use sluice_testsupport::test_ca::TestCa;

use mariadb_tls::TlsMariaDb;

/// A password the messages must never show.
const PASSWORD: &str = "Tls-Secret-pw-77";

fn database(connection_string: &str, properties: &[&str]) -> PipelineObject {
    let mut fields = vec![
        s("connectionString", connection_string),
        s("username", "postgres"),
        s("*password", PASSWORD),
    ];
    fields.extend(properties.iter().map(|p| s("jdbcProperties", p)));
    obj("Db", "JdbcDatabase", fields)
}

async fn run_script(env: &Env, db: PipelineObject, script: &str) -> TaskResult {
    let ctx = env.ctx(
        "SqlActivity",
        vec![
            r("database", "Db"),
            s("workerGroup", "wg"),
            s("script", script),
        ],
        vec![db],
    );
    execute(&ctx).await
}

/// Asserts the attempt failed with `error_id` and a message holding every one of `parts`, and
/// never the password.
fn assert_failed_with(result: &TaskResult, error_id: &str, parts: &[&str]) {
    assert_eq!(result.task_status, TaskStatus::Failed, "{result:?}");
    assert_eq!(result.error_id.as_deref(), Some(error_id), "{result:?}");
    let message = result.error_message.as_deref().unwrap_or_default();
    for part in parts {
        assert!(message.contains(part), "expected {part:?} in {message:?}");
    }
    assert!(!format!("{result:?}").contains(PASSWORD), "{result:?}");
}

/// `psql` on the TLS-only cluster (encrypted, as it must be).
fn ssl_psql(server: &SslPostgres, sql: &str) -> String {
    let out = Command::new("psql")
        .arg(format!(
            "host=127.0.0.1 port={} user=postgres dbname=postgres sslmode=require",
            server.port()
        ))
        .args(["-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-c", sql])
        .output()
        .expect("psql runs");
    assert!(
        out.status.success(),
        "psql {sql}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

fn pg_url(scheme: &str, host: &str, server: &SslPostgres, query: &str) -> String {
    format!("jdbc:{scheme}://{host}:{}/postgres?{query}", server.port())
}

/// A statement recording, under `label`, whether the session it runs in is encrypted.
fn record_tls(label: &str) -> String {
    format!(
        "INSERT INTO tls_seen SELECT '{label}', ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()"
    )
}

#[tokio::test]
async fn postgres_connects_over_tls_as_each_driver_spells_it() {
    let server = SslPostgres::start().expect("a TLS-only PostgreSQL cluster starts");
    ssl_psql(&server, "CREATE TABLE tls_seen (label text, ssl boolean)");
    let ca = server.certificate();
    let ca = ca.display();
    let env = Env::new();
    let cases = [
        // libpq's and pgjdbc's `require`: encrypted, certificate not checked.
        (
            "require",
            pg_url("postgresql", "127.0.0.1", &server, "sslmode=require"),
            vec![],
        ),
        (
            "verify-full",
            pg_url(
                "postgresql",
                "localhost",
                &server,
                &format!("sslmode=verify-full&sslrootcert={ca}"),
            ),
            vec![],
        ),
        // pgjdbc: `ssl=true` alone is verify-full.
        (
            "ssl-true",
            pg_url(
                "postgresql",
                "localhost",
                &server,
                &format!("ssl=true&sslrootcert={ca}"),
            ),
            vec![],
        ),
        // What AWS Data Pipeline's RDS templates write: encrypted, not verified.
        (
            "non-validating",
            pg_url(
                "postgresql",
                "127.0.0.1",
                &server,
                "ssl=true&sslfactory=org.postgresql.ssl.NonValidatingFactory",
            ),
            vec![],
        ),
        // libpq's `allow`: refused without TLS, so it tries again with TLS.
        (
            "allow",
            pg_url("postgresql", "127.0.0.1", &server, "sslmode=allow"),
            vec![],
        ),
        // The default, `prefer`, encrypts when the server offers TLS.
        (
            "prefer",
            pg_url("postgresql", "127.0.0.1", &server, ""),
            vec![],
        ),
        // The Redshift driver verifies the chain by default (not the name).
        (
            "redshift",
            pg_url(
                "redshift",
                "127.0.0.1",
                &server,
                &format!("sslrootcert={ca}"),
            ),
            vec![],
        ),
        // jdbcProperties say it instead of the URL.
        (
            "properties",
            pg_url("postgresql", "localhost", &server, ""),
            vec![
                "sslmode=verify-full".to_string(),
                format!("sslrootcert={ca}"),
            ],
        ),
    ];
    for (label, url, properties) in &cases {
        let properties: Vec<&str> = properties.iter().map(String::as_str).collect();
        let result = run_script(&env, database(url, &properties), &record_tls(label)).await;
        assert_finished(&result);
    }
    let expected: String = cases
        .iter()
        .map(|(label, _, _)| format!("{label}|t\n"))
        .collect();
    assert_eq!(
        ssl_psql(&server, "SELECT label, ssl FROM tls_seen"),
        expected
    );
}

#[tokio::test]
async fn postgres_tls_failures_say_why_and_what_to_change() {
    let server = SslPostgres::start().expect("a TLS-only PostgreSQL cluster starts");
    let env = Env::new();
    let run = |url: String, properties: &'static [&'static str]| {
        let db = database(&url, properties);
        let env = &env;
        async move { run_script(env, db, "SELECT 1").await }
    };
    // The server refuses a connection without TLS; the message says so and what to change.
    let result = run(
        pg_url("postgresql", "127.0.0.1", &server, "sslmode=disable"),
        &[],
    )
    .await;
    assert_failed_with(
        &result,
        "SqlFailed",
        &[
            "no encryption",
            "TLS off (sslmode=disable)",
            "accepts only TLS",
            "sslmode=require",
        ],
    );
    // verify-full without the CA: the certificate is not trusted.
    let result = run(
        pg_url("postgresql", "localhost", &server, "sslmode=verify-full"),
        &[],
    )
    .await;
    assert_failed_with(
        &result,
        "SqlFailed",
        &[
            &format!("postgresql://postgres@localhost:{}/postgres", server.port()),
            "invalid peer certificate",
            "TLS verify-full (sslmode=verify-full)",
            "sslrootcert=FILE",
        ],
    );
    // pgjdbc's ssl=true verifies too, so it fails the same way; Redshift's default as well.
    let result = run(pg_url("postgresql", "localhost", &server, "ssl=true"), &[]).await;
    assert_failed_with(
        &result,
        "SqlFailed",
        &["invalid peer certificate", "ssl=true"],
    );
    let result = run(pg_url("redshift", "127.0.0.1", &server, ""), &[]).await;
    assert_failed_with(
        &result,
        "SqlFailed",
        &["invalid peer certificate", "verify-ca"],
    );
    // A CA that did not sign the server's certificate.
    let other = tempfile::tempdir().unwrap();
    let other_ca = TestCa::create(other.path()).unwrap().certificate();
    let result = run(
        pg_url(
            "postgresql",
            "localhost",
            &server,
            &format!("sslmode=verify-full&sslrootcert={}", other_ca.display()),
        ),
        &[],
    )
    .await;
    assert_failed_with(&result, "SqlFailed", &["invalid peer certificate"]);
    // A root certificate file that is not there is named.
    let result = run(
        pg_url(
            "postgresql",
            "localhost",
            &server,
            "sslmode=verify-ca&sslrootcert=/nonexistent/root.crt",
        ),
        &[],
    )
    .await;
    assert_eq!(result.task_status, TaskStatus::Failed, "{result:?}");
    let message = result.error_message.unwrap_or_default();
    assert!(
        message.contains("sslrootcert /nonexistent/root.crt") && message.contains("cannot read"),
        "{message}"
    );
    // An unknown mode is refused before any connection, with the allowed ones.
    let result = run(
        pg_url("postgresql", "localhost", &server, ""),
        &["sslmode=verify_full"],
    )
    .await;
    assert_failed_with(
        &result,
        "InvalidTask",
        &[
            "JdbcDatabase Db",
            "\"verify_full\"",
            "disable, allow, prefer, require, verify-ca, verify-full",
        ],
    );
}

#[tokio::test]
async fn settings_entries_carry_the_tls_mode_and_root_certificate() {
    let server = SslPostgres::start().expect("a TLS-only PostgreSQL cluster starts");
    ssl_psql(&server, "CREATE TABLE tls_seen (label text, ssl boolean)");
    let settings: DataSettings = serde_json::from_value(serde_json::json!({
        "sql": {
            "rdsInstances": {
                "verified": {
                    "engine": "postgresql", "host": "localhost", "port": server.port(),
                    "database": "postgres", "sslMode": "verify-full",
                    "sslRootCert": server.certificate(),
                },
                "untrusted": {
                    "engine": "postgresql", "host": "localhost", "port": server.port(),
                    "database": "postgres", "sslMode": "verify-full",
                },
            }
        }
    }))
    .unwrap();
    settings.check().unwrap();
    let env = Env::with_data(settings);
    let rds = |id: &str, properties: &[&str]| {
        let mut fields = vec![
            s("rdsInstanceId", id),
            s("username", "postgres"),
            s("*password", PASSWORD),
        ];
        fields.extend(properties.iter().map(|p| s("jdbcProperties", p)));
        obj("Db", "RdsDatabase", fields)
    };
    assert_finished(&run_script(&env, rds("verified", &[]), &record_tls("settings")).await);
    let result = run_script(&env, rds("untrusted", &[]), "SELECT 1").await;
    assert_failed_with(
        &result,
        "SqlFailed",
        &["sslMode verify-full in the settings entry", "sslRootCert"],
    );
    // The object's own properties win over the entry's.
    assert_finished(
        &run_script(
            &env,
            rds("untrusted", &["sslmode=require"]),
            &record_tls("overridden"),
        )
        .await,
    );
    assert_eq!(
        ssl_psql(&server, "SELECT label, ssl FROM tls_seen"),
        "settings|t\noverridden|t\n"
    );
    // A mode the engine does not know is refused when the settings are checked.
    let bad: DataSettings = serde_json::from_value(serde_json::json!({
        "sql": {"rdsInstances": {"x": {"engine": "mariadb", "sslMode": "require"}}}
    }))
    .unwrap();
    let err = bad.check().unwrap_err();
    assert!(
        err.contains("data.sql.rdsInstances.x")
            && err.contains("\"require\"")
            && err.contains("VERIFY_IDENTITY"),
        "{err}"
    );
}

/// Whether the machine's MariaDB has TLS turned on (`have_ssl` is `YES`).
fn mariadb_has_tls() -> bool {
    mariadb("SHOW VARIABLES LIKE 'have_ssl'").contains("YES")
}

fn my_url(scheme: &str, query: &str) -> String {
    format!("jdbc:{scheme}://127.0.0.1:3306/test?{query}")
}

fn my_database(url: &str, properties: &[&str]) -> PipelineObject {
    let mut fields = vec![
        s("connectionString", url),
        s("username", "root"),
        s("*password", ""),
    ];
    fields.extend(properties.iter().map(|p| s("jdbcProperties", p)));
    obj("Db", "JdbcDatabase", fields)
}

#[tokio::test]
async fn mariadb_modes_ask_for_what_the_server_can_give() {
    let env = Env::new();
    let table = unique("tls_my");
    let _drop = MyTables(vec![table.clone()]);
    mariadb(&format!("CREATE TABLE {table} (label VARCHAR(40))"));
    let insert = |label: &str| format!("INSERT INTO {table} VALUES ('{label}')");
    // Without TLS, by each driver's words.
    for (label, url) in [
        ("disabled", my_url("mariadb", "sslMode=DISABLED")),
        ("disable", my_url("mariadb", "sslMode=disable")),
        ("use-ssl-false", my_url("mysql", "useSSL=false")),
        ("preferred", my_url("mysql", "")),
    ] {
        assert_finished(&run_script(&env, my_database(&url, &[]), &insert(label)).await);
    }
    assert_eq!(
        mariadb(&format!("SELECT label FROM {table} ORDER BY label")),
        "disable\ndisabled\npreferred\nuse-ssl-false\n"
    );
    // Modes that need TLS: refused by a server without it, naming TLS; a server with TLS
    // encrypts (REQUIRED does not check the certificate).
    let has_tls = mariadb_has_tls();
    for (url, properties) in [
        (my_url("mariadb", "sslMode=REQUIRED"), vec![]),
        (my_url("mariadb", "sslMode=trust"), vec![]),
        (my_url("mysql", ""), vec!["useSSL=true", "requireSSL=true"]),
    ] {
        let result = run_script(&env, my_database(&url, &properties), "SELECT 1").await;
        if has_tls {
            assert_finished(&result);
        } else {
            assert_failed_with(
                &result,
                "SqlFailed",
                &[
                    "server does not support TLS",
                    "TLS require",
                    "sslMode=DISABLED or PREFERRED",
                ],
            );
        }
    }
    // What cannot be used is refused before connecting, saying what to use instead.
    let result = run_script(
        &env,
        my_database(
            &my_url("mysql", ""),
            &["trustCertificateKeyStoreUrl=file:/etc/trust.jks"],
        ),
        "SELECT 1",
    )
    .await;
    assert_failed_with(
        &result,
        "InvalidTask",
        &[
            "trustCertificateKeyStoreUrl",
            "Java key store",
            "serverSslCert=FILE",
        ],
    );
    let result = run_script(
        &env,
        my_database(&my_url("mariadb", "sslMode=STRICT"), &[]),
        "SELECT 1",
    )
    .await;
    assert_failed_with(
        &result,
        "InvalidTask",
        &["\"STRICT\"", "VERIFY_IDENTITY", "verify-full"],
    );
}

/// A statement recording, under `label`, the TLS version of the session it runs in (empty when
/// it is not encrypted).
fn record_my_tls(label: &str) -> String {
    format!(
        "INSERT INTO tls_seen SELECT '{label}', VARIABLE_VALUE FROM \
         information_schema.SESSION_STATUS WHERE VARIABLE_NAME = 'Ssl_version'"
    )
}

#[tokio::test]
async fn mariadb_with_tls_verifies_as_each_driver_spells_it() {
    let server = TlsMariaDb::start().expect("a TLS-only MariaDB starts");
    server
        .client("CREATE TABLE test.tls_seen (label VARCHAR(40), version VARCHAR(20))")
        .unwrap();
    let ca = server.ca_certificate();
    let url = |scheme: &str, host: &str, query: &str| {
        format!("jdbc:{scheme}://{host}:{}/test?{query}", server.port())
    };
    let pem = std::fs::read_to_string(&ca).unwrap();
    let inline = format!("serverSslCert={pem}");
    let env = Env::new();
    let cases: Vec<(&str, String, Vec<&str>)> = vec![
        ("preferred", url("mysql", "127.0.0.1", ""), vec![]),
        (
            "required",
            url("mysql", "127.0.0.1", "sslMode=REQUIRED"),
            vec![],
        ),
        (
            "trust",
            url("mariadb", "127.0.0.1", "sslMode=trust"),
            vec![],
        ),
        (
            "verify-ca",
            url(
                "mysql",
                "127.0.0.1",
                &format!("sslMode=VERIFY_CA&serverSslCert={}", ca.display()),
            ),
            vec![],
        ),
        (
            "verify-identity",
            url("mysql", "localhost", "sslMode=VERIFY_IDENTITY"),
            vec![&inline],
        ),
        (
            "use-ssl",
            url(
                "mariadb",
                "localhost",
                &format!("useSsl=true&serverSslCert={}", ca.display()),
            ),
            vec![],
        ),
    ];
    for (label, url, properties) in &cases {
        let result = run_script(&env, my_database(url, properties), &record_my_tls(label)).await;
        assert_finished(&result);
    }
    let rows = server
        .client("SELECT label, version FROM test.tls_seen")
        .unwrap();
    let labels: Vec<&str> = rows
        .lines()
        .map(|row| {
            let (label, version) = row.split_once('\t').unwrap();
            assert!(version.starts_with("TLSv1."), "{row}");
            label
        })
        .collect();
    let expected: Vec<&str> = cases.iter().map(|(label, _, _)| *label).collect();
    assert_eq!(labels, expected);

    // A settings entry names the CA; the server refuses what is not encrypted; a certificate
    // no configured CA signed is refused, saying where the CA goes.
    let settings: DataSettings = serde_json::from_value(serde_json::json!({
        "sql": {"rdsInstances": {"shop": {
            "engine": "mariadb", "host": "localhost", "port": server.port(), "database": "test",
            "sslMode": "VERIFY_IDENTITY", "sslRootCert": ca,
        }}}
    }))
    .unwrap();
    let rds = obj(
        "Db",
        "RdsDatabase",
        vec![
            s("rdsInstanceId", "shop"),
            s("username", "root"),
            s("*password", ""),
        ],
    );
    assert_finished(&run_script(&Env::with_data(settings), rds, "SELECT 1").await);
    // MariaDB answers a connection without TLS to a server that requires it with "Access
    // denied"; the message adds that TLS was off.
    let refused = [
        (
            url("mariadb", "127.0.0.1", "sslMode=disable"),
            vec!["Access denied", "TLS off (sslMode=disable)"],
        ),
        (
            url("mysql", "localhost", "sslMode=VERIFY_IDENTITY"),
            vec![
                "invalid peer certificate",
                "TLS verify-full (sslMode=VERIFY_IDENTITY)",
                "serverSslCert=FILE",
            ],
        ),
    ];
    for (url, parts) in refused {
        let result = run_script(&env, my_database(&url, &[]), "SELECT 1").await;
        assert_failed_with(&result, "SqlFailed", &parts);
    }
}
