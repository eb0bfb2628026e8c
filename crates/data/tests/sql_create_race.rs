//! Loads of several intervals into one table start at the same moment, each making sure the
//! table exists first: on the local PostgreSQL, every one of them must get past `createTableSql`
//! whichever session created the table.

use std::sync::Arc;

use sluice_data::sql::table::TableSpec;
use sluice_data::sql::{DatabaseFields, SqlConn, SqlSettings};
use sluice_testsupport::databases::{POSTGRES_URL, PgTables, psql, unique_name};

/// How many loads race for the table.
const LOADS: usize = 6;

async fn connect() -> SqlConn {
    let fields = DatabaseFields {
        type_name: "JdbcDatabase",
        id: "Db",
        connection_string: Some(POSTGRES_URL),
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
    let table = unique_name("create_race");
    let _drop = PgTables(vec![table.clone()]);
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
    let table = unique_name("create_broken");
    let _drop = PgTables(vec![table.clone()]);
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
