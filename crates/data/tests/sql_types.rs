//! Every column type reads as the database's own text form: checked against what each
//! database's command-line client prints for the same query (the client is the oracle), on the
//! local PostgreSQL and MariaDB and a SQLite file. Also: text binds into typed columns.

use std::process::Command;

use futures::StreamExt;
use sluice_data::sql::SqlConn;
#[cfg(any(feature = "postgres", feature = "mysql"))]
use sluice_data::sql::SqlSettings;
#[cfg(feature = "postgres")]
use sluice_data::sql::script;
use sluice_data::sql::target::parse_jdbc;
#[cfg(any(feature = "postgres", feature = "mysql"))]
use sluice_testsupport::databases::{self, unique_name as unique};

fn client(program: &str, args: &[&str]) -> String {
    let out = Command::new(program)
        .args(args)
        .output()
        .expect("client runs");
    assert!(
        out.status.success(),
        "{program}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// Tab-separated with `NULL` for None, as `read_text` prints rows.
#[cfg(feature = "postgres")]
fn psql(sql: &str) -> String {
    databases::psql_with(&["-F", "\t", "-P", "null=NULL"], sql)
}

/// Raw (`-r`), so escapes in values print as the values themselves.
#[cfg(feature = "mysql")]
fn mariadb(sql: &str) -> String {
    databases::mariadb_with(&["-r"], sql)
}

/// The rows of `sql` read through `SqlConn`, as tab-separated lines with `NULL` for None.
async fn read_text(conn: &mut SqlConn, sql: &str) -> String {
    let mut rows = conn.fetch_text(sql);
    let mut out = String::new();
    while let Some(row) = rows.next().await {
        let row = row.unwrap();
        let fields: Vec<&str> = row.iter().map(|f| f.as_deref().unwrap_or("NULL")).collect();
        out.push_str(&fields.join("\t"));
        out.push('\n');
    }
    out
}

#[cfg(any(feature = "postgres", feature = "mysql"))]
async fn connect(jdbc: &str, user: &str) -> SqlConn {
    let fields = sluice_data::sql::DatabaseFields {
        type_name: "JdbcDatabase",
        id: "Db",
        connection_string: Some(jdbc),
        username: Some(user),
        ..Default::default()
    };
    SqlConn::connect(&fields.resolve(&SqlSettings::default()).unwrap())
        .await
        .unwrap()
}

#[cfg(feature = "postgres")]
#[tokio::test]
async fn postgres_types_read_as_psql_prints_them() {
    let table = unique("types_pg");
    psql(&format!(
        "CREATE TABLE {table} (i int, b bigint, n numeric(12,4), f double precision, ok boolean, \
         d date, ts timestamp, tz timestamptz, u uuid, j jsonb, raw bytea, arr text[], t text);
         INSERT INTO {table} VALUES (-7, 9007199254740993, 12.5, 0.1, true, '2024-02-29', \
         '2024-01-01 23:59:59.5', '2024-01-01 00:00:00+00', 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', \
         '{{\"k\": [1, 2]}}', '\\x00ff', ARRAY['a', 'b c'], 'tab\there'), \
         (NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL)"
    ));
    let query = format!("SELECT * FROM {table} ORDER BY i NULLS LAST");
    let mut conn = connect("jdbc:postgresql://127.0.0.1:5432/test", "postgres").await;
    conn.execute_raw("SET TIME ZONE 'UTC'").await.unwrap();
    let ours = read_text(&mut conn, &query).await;
    let theirs = psql(&format!("SET TIME ZONE 'UTC'; {query}"));
    psql(&format!("DROP TABLE {table}"));
    assert_eq!(ours, theirs);
    assert!(ours.contains("9007199254740993"), "{ours}");
}

#[cfg(feature = "postgres")]
#[tokio::test]
async fn postgres_text_binds_are_cast_to_the_column_types() {
    let table = unique("binds_pg");
    psql(&format!(
        "CREATE TABLE {table} (i int, d date, n numeric, ok boolean, t text)"
    ));
    let mut conn = connect("jdbc:postgresql://127.0.0.1:5432/test", "postgres").await;
    let statement = script::split(&format!("INSERT INTO {table} VALUES (?, ?, ?, ?, ?)")).remove(0);
    for values in [
        ["1", "2024-03-01", "1.25", "true", "x"],
        ["2", "2024-03-02", "-3", "f", "?"],
    ] {
        let args: Vec<Option<String>> = values.iter().map(|v| Some(v.to_string())).collect();
        conn.execute_bound(&statement, &args).await.unwrap();
    }
    conn.execute_bound(&statement, &[None, None, None, None, None])
        .await
        .unwrap();
    let err = conn
        .execute_bound(&statement, &[Some("x".into()), None, None, None, None])
        .await
        .unwrap_err();
    let message = conn.describe_error(&err);
    let rows = psql(&format!("SELECT * FROM {table} ORDER BY i NULLS LAST"));
    psql(&format!("DROP TABLE {table}"));
    assert_eq!(
        rows,
        "1\t2024-03-01\t1.25\tt\tx\n2\t2024-03-02\t-3\tf\t?\nNULL\tNULL\tNULL\tNULL\tNULL\n"
    );
    assert!(
        message.contains("integer") && message.contains("\"x\""),
        "{message}"
    );
}

#[cfg(feature = "mysql")]
#[tokio::test]
async fn mariadb_types_read_as_the_client_prints_them() {
    let table = unique("types_my");
    mariadb(&format!(
        "CREATE TABLE {table} (i INT, b BIGINT UNSIGNED, n DECIMAL(12,4), f DOUBLE, ok BOOLEAN, \
         d DATE, ts DATETIME(3), tm TIME, e ENUM('x','y'), j JSON, t TEXT);
         INSERT INTO {table} VALUES (-7, 18446744073709551615, 12.5, 0.1, TRUE, '2024-02-29', \
         '2024-01-01 23:59:59.500', '-01:02:03', 'y', '[1, 2]', 'a\\tb'), \
         (NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL)"
    ));
    let query = format!("SELECT * FROM {table} ORDER BY i IS NULL, i");
    let mut conn = connect("jdbc:mariadb://127.0.0.1:3306/test", "root").await;
    let ours = read_text(&mut conn, &query).await;
    let theirs = mariadb(&query);
    mariadb(&format!("DROP TABLE {table}"));
    assert_eq!(ours, theirs);
}

#[tokio::test]
async fn sqlite_values_read_as_text() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("t.db");
    let jdbc = format!("jdbc:sqlite:{}", path.display());
    let target = parse_jdbc(&jdbc).unwrap();
    let mut conn = SqlConn::connect(&target).await.unwrap();
    conn.execute_raw("CREATE TABLE t (i INTEGER, r REAL, s TEXT, b BLOB); INSERT INTO t VALUES (42, 1.5, 'x', 'raw'), (NULL, NULL, NULL, NULL)")
        .await
        .unwrap();
    let ours = read_text(&mut conn, "SELECT * FROM t ORDER BY i IS NULL").await;
    let theirs = client(
        "sqlite3",
        &[
            "-separator",
            "\t",
            "-nullvalue",
            "NULL",
            path.to_str().unwrap(),
            "SELECT * FROM t ORDER BY i IS NULL",
        ],
    );
    assert_eq!(ours, theirs);
}

#[cfg(feature = "postgres")]
#[tokio::test]
async fn missing_database_and_refused_connection_are_clear() {
    let fields = sluice_data::sql::DatabaseFields {
        type_name: "JdbcDatabase",
        id: "Db",
        connection_string: Some("jdbc:postgresql://127.0.0.1:5432/no_such_db_here"),
        username: Some("postgres"),
        password: Some("pw-never-shown"),
        ..Default::default()
    };
    let err = SqlConn::connect(&fields.resolve(&SqlSettings::default()).unwrap())
        .await
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("no_such_db_here") && err.contains("cannot connect"),
        "{err}"
    );
    assert!(!err.contains("pw-never-shown"), "{err}");
}
