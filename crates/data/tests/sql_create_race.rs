//! Loads of several intervals into one table start at the same moment, each making sure the
//! table exists first: on the local PostgreSQL, every one of them must get past `createTableSql`
//! whichever session created the table.

use std::process::Command;
use std::sync::Arc;

use sluice_data::sql::table::TableSpec;
use sluice_data::sql::{DatabaseFields, SqlConn, SqlSettings};

/// How many loads race for the table.
const LOADS: usize = 6;

fn unique(prefix: &str) -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .subsec_nanos();
    format!("{prefix}_{}_{nanos}", std::process::id())
}

fn psql(sql: &str) -> String {
    let out = Command::new("psql")
        .args([
            "-h",
            "127.0.0.1",
            "-U",
            "postgres",
            "-d",
            "test",
            "-X",
            "-q",
            "-A",
            "-t",
        ])
        .args(["-v", "ON_ERROR_STOP=1", "-c", sql])
        .output()
        .expect("psql runs");
    assert!(
        out.status.success(),
        "{sql}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

struct DropTable(String);

impl Drop for DropTable {
    fn drop(&mut self) {
        let _ = Command::new("psql")
            .args([
                "-h",
                "127.0.0.1",
                "-U",
                "postgres",
                "-d",
                "test",
                "-q",
                "-c",
            ])
            .arg(format!("DROP TABLE IF EXISTS {}", self.0))
            .output();
    }
}

async fn connect() -> SqlConn {
    let fields = DatabaseFields {
        type_name: "JdbcDatabase",
        id: "Db",
        connection_string: Some("jdbc:postgresql://127.0.0.1:5432/test"),
        username: Some("postgres"),
        ..Default::default()
    };
    SqlConn::connect(&fields.resolve(&SqlSettings::default()).unwrap())
        .await
        .unwrap()
}

/// Runs `ensure` for `spec` on `LOADS` connections released at once; returns the failures.
async fn race(spec: TableSpec) -> Vec<String> {
    let spec = Arc::new(spec);
    let mut conns = Vec::new();
    for _ in 0..LOADS {
        conns.push(connect().await);
    }
    let start = Arc::new(tokio::sync::Barrier::new(LOADS));
    let tasks: Vec<_> = conns
        .into_iter()
        .map(|mut conn| {
            let (spec, start) = (spec.clone(), start.clone());
            tokio::spawn(async move {
                start.wait().await;
                spec.ensure(&mut conn).await.map_err(|e| e.to_string())
            })
        })
        .collect();
    let mut failures = Vec::new();
    for task in tasks {
        if let Err(e) = task.await.unwrap() {
            failures.push(e);
        }
    }
    failures
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_loads_all_find_the_table_one_of_them_created() {
    let table = unique("create_race");
    let _drop = DropTable(table.clone());
    // Without IF NOT EXISTS, all but one CREATE fail outright once the first commits.
    let failures = race(TableSpec {
        table: table.clone(),
        create_table_sql: Some(format!("CREATE TABLE {table} (id INT PRIMARY KEY)")),
        ..TableSpec::default()
    })
    .await;
    assert_eq!(failures, Vec::<String>::new());
    assert_eq!(
        psql(&format!(
            "SELECT count(*) FROM pg_tables WHERE tablename = '{table}'"
        )),
        "1\n"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_create_statement_that_fails_for_its_own_reasons_still_fails() {
    let table = unique("create_broken");
    let _drop = DropTable(table.clone());
    let failures = race(TableSpec {
        table: table.clone(),
        create_table_sql: Some(format!("CREATE TABLE {table} (id INT PRIMARY KEY, id INT)")),
        ..TableSpec::default()
    })
    .await;
    assert_eq!(failures.len(), LOADS, "{failures:?}");
    assert!(
        failures
            .iter()
            .all(|f| f.contains("specified more than once")),
        "{failures:?}"
    );
}
