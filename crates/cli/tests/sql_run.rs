//! `sluice run` of a pipeline that loads a CSV from the local object store into the local
//! PostgreSQL (CopyActivity), then summarises it with SqlActivity: the real binary, the real
//! database, table names unique per run.

mod common;

use std::fs;

use serde_json::json;

use common::{Sandbox, ondemand_default};
use sluice_testsupport::databases::{PgTables, psql, unique_name};

#[test]
fn csv_in_local_s3_into_postgres_then_sql_activity() {
    let sb = Sandbox::new();
    let table = unique_name("run_orders");
    let summary = unique_name("run_summary");
    let _drop = PgTables(vec![table.clone(), summary.clone()]);

    let input = sb.data_dir().join("s3/landing/orders/2024-01-01.csv");
    fs::create_dir_all(input.parent().unwrap()).unwrap();
    let mut csv = String::new();
    for i in 1..=250 {
        csv.push_str(&format!(
            "{i},\"customer {i}, ltd\",{}.{:02}\n",
            i * 3,
            i % 100
        ));
    }
    fs::write(&input, csv).unwrap();

    let def = sb.write_definition_with(
        "load.json",
        json!([
            ondemand_default(json!({})),
            { "id": "Orders", "type": "S3DataNode", "filePath": "s3://landing/orders/2024-01-01.csv",
              "dataFormat": { "ref": "OrdersCsv" } },
            { "id": "OrdersCsv", "type": "CSV", "column": ["id INT", "customer STRING", "amount DOUBLE"] },
            { "id": "Warehouse", "type": "JdbcDatabase",
              "connectionString": "jdbc:postgresql://127.0.0.1:5432/test",
              "jdbcDriverClass": "org.postgresql.Driver", "username": "postgres", "*password": "unused" },
            { "id": "OrdersTable", "type": "SqlDataNode", "database": { "ref": "Warehouse" },
              "table": "#{myTable}",
              "createTableSql": "CREATE TABLE #{myTable} (id int PRIMARY KEY, customer text, amount numeric(12,2))" },
            { "id": "Load", "type": "CopyActivity",
              "input": { "ref": "Orders" }, "output": { "ref": "OrdersTable" } },
            { "id": "Summarize", "type": "SqlActivity", "database": { "ref": "Warehouse" },
              "dependsOn": { "ref": "Load" },
              "script": "CREATE TABLE #{mySummary} AS SELECT count(*) AS n, sum(amount) AS total FROM #{myTable};" }
        ]),
        json!({
            "parameters": [
                { "id": "myTable", "type": "String" },
                { "id": "mySummary", "type": "String" }
            ],
            "values": { "myTable": table, "mySummary": summary }
        }),
    );
    let out = sb.run(&def, &[]);
    out.assert_code(0);
    assert_eq!(
        psql(&format!(
            "SELECT id, customer, amount FROM {table} WHERE id IN (1, 250) ORDER BY id"
        )),
        "1|customer 1, ltd|3.01\n250|customer 250, ltd|750.50\n"
    );
    let expected_total: f64 = (1..=250)
        .map(|i| (i * 3) as f64 + (i % 100) as f64 / 100.0)
        .sum();
    assert_eq!(
        psql(&format!("SELECT n, total FROM {summary}")),
        format!("250|{expected_total:.2}\n")
    );
}
