//! SqlActivity and RedshiftCopyActivity against the local PostgreSQL and MariaDB, and how
//! database objects connect (RdsDatabase / RedshiftDatabase through the settings mapping).

mod attempt_support;
mod data_support;
mod dynamo_support;

use data_support::*;
use sluice_data::DataSettings;
use sluice_model::PipelineObject;

fn sql_ctx(
    env: &Env,
    fields: Vec<sluice_model::Field>,
    others: Vec<PipelineObject>,
) -> sluice_executors::AttemptContext {
    let mut all = vec![r("database", "Db"), s("workerGroup", "wg")];
    all.extend(fields);
    env.ctx("SqlActivity", all, others)
}

#[tokio::test]
async fn script_runs_every_statement_on_postgres() {
    let env = Env::new();
    let table = unique("sqlact");
    let _drop = PgTables(vec![table.clone()]);
    let script = format!(
        "CREATE TABLE {table} (id int PRIMARY KEY, note text);\n\
         -- a comment; with a semicolon\n\
         INSERT INTO {table} VALUES (1, 'semi;colon'), (2, $$dollar 'quoted'$$);\n\
         UPDATE {table} SET note = note || '!' WHERE id = 2;"
    );
    let ctx = sql_ctx(&env, vec![s("script", &script)], vec![pg_db("Db")]);
    assert_finished(&execute(&ctx).await);
    assert_eq!(
        psql(&format!("SELECT id, note FROM {table} ORDER BY id")),
        "1|semi;colon\n2|dollar 'quoted'!\n"
    );
    assert!(
        env.stdout()
            .contains("ran 3 statements on postgresql://postgres@127.0.0.1:5432/test"),
        "{}",
        env.stdout()
    );
}

#[tokio::test]
async fn script_uri_with_arguments_on_mariadb_and_postgres() {
    let env = Env::new();
    let table = unique("sqlargs");
    let _my = MyTables(vec![table.clone()]);
    let _pg = PgTables(vec![table.clone()]);
    // Fetched as-is: `#{...}` in a scriptUri script is not an expression.
    env.put(
        "scripts/load.sql",
        format!(
            "INSERT INTO {table} (id, day, note) VALUES (?, ?, '#{{not evaluated}}');\n\
             DELETE FROM {table} WHERE day < ?;"
        ),
    );
    mariadb(&format!(
        "CREATE TABLE {table} (id INT, day DATE, note TEXT)"
    ));
    psql(&format!(
        "CREATE TABLE {table} (id int, day date, note text)"
    ));
    mariadb(&format!(
        "INSERT INTO {table} VALUES (9, '2020-01-01', 'old')"
    ));
    psql(&format!(
        "INSERT INTO {table} VALUES (9, '2020-01-01', 'old')"
    ));
    let args = vec![
        s("scriptUri", "s3://scripts/load.sql"),
        s("scriptArgument", "7"),
        s("scriptArgument", "2024-02-29"),
        s("scriptArgument", "2023-01-01"),
    ];
    assert_finished(&execute(&sql_ctx(&env, args.clone(), vec![my_db("Db")])).await);
    assert_eq!(
        mariadb(&format!("SELECT id, day, note FROM {table}")),
        "7\t2024-02-29\t#{not evaluated}\n"
    );
    // PostgreSQL does not convert text to int or date on its own: the binds are cast.
    assert_finished(&execute(&sql_ctx(&env, args, vec![pg_db("Db")])).await);
    assert_eq!(
        psql(&format!("SELECT id, day, note FROM {table}")),
        "7|2024-02-29|#{not evaluated}\n"
    );
}

#[tokio::test]
async fn failing_statement_is_named_and_argument_count_checked() {
    let env = Env::new();
    let table = unique("sqlfail");
    let ctx = sql_ctx(
        &env,
        vec![s("script", &format!("SELECT 1; SELECT * FROM {table}"))],
        vec![pg_db("Db")],
    );
    let result = execute(&ctx).await;
    assert_failed(&result, "SqlFailed", "statement 2");
    assert_failed(&result, "SqlFailed", &table);

    let ctx = sql_ctx(
        &env,
        vec![s("script", "SELECT ?, ?"), s("scriptArgument", "1")],
        vec![pg_db("Db")],
    );
    assert_failed(
        &execute(&ctx).await,
        "InvalidTask",
        "2 ? placeholders but 1 scriptArgument",
    );
}

#[tokio::test]
async fn wrong_password_error_does_not_echo_it() {
    let env = Env::new();
    let secret = "Sup3r-Secret-pw";
    let db = obj(
        "Db",
        "JdbcDatabase",
        vec![
            s("connectionString", MY_URL),
            s("jdbcDriverClass", "org.mariadb.jdbc.Driver"),
            s("username", "root"),
            s("*password", secret),
        ],
    );
    let result = execute(&sql_ctx(&env, vec![s("script", "SELECT 1")], vec![db])).await;
    assert_failed(&result, "SqlFailed", "Access denied");
    let text = format!("{result:?}");
    assert!(!text.contains(secret), "{text}");
    assert!(
        text.contains("mysql://root@127.0.0.1:3306/test"),
        "names the target: {text}"
    );
}

#[tokio::test]
async fn rds_and_redshift_ids_connect_through_settings() {
    let settings: DataSettings = serde_json::from_str(
        r#"{"sql": {"rdsInstances": {"orders-db": {"engine": "mariadb", "host": "127.0.0.1", "port": 3306}},
                    "redshiftClusters": {"warehouse": {"host": "127.0.0.1", "port": 5432}}}}"#,
    )
    .unwrap();
    let env = Env::with_data(settings);
    let rds = obj(
        "Db",
        "RdsDatabase",
        vec![
            s("rdsInstanceId", "orders-db"),
            s("databaseName", "test"),
            s("username", "root"),
            s("*password", ""),
        ],
    );
    assert_finished(
        &execute(&sql_ctx(
            &env,
            vec![s("script", "SELECT DATABASE()")],
            vec![rds],
        ))
        .await,
    );
    let redshift = obj(
        "Db",
        "RedshiftDatabase",
        vec![
            s("clusterId", "warehouse"),
            s("databaseName", "test"),
            s("username", "postgres"),
            s("*password", "x"),
        ],
    );
    assert_finished(
        &execute(&sql_ctx(
            &env,
            vec![s("script", "SELECT current_database()")],
            vec![redshift],
        ))
        .await,
    );

    let unknown = obj(
        "Db",
        "RdsDatabase",
        vec![
            s("rdsInstanceId", "nowhere"),
            s("username", "u"),
            s("*password", "p"),
        ],
    );
    assert_failed(
        &execute(&sql_ctx(&env, vec![s("script", "SELECT 1")], vec![unknown])).await,
        "InvalidTask",
        "rdsInstanceId \"nowhere\"",
    );
}

fn redshift_ctx(
    env: &Env,
    mode: &str,
    table: &str,
    extra_node: Vec<sluice_model::Field>,
    extra: Vec<sluice_model::Field>,
) -> sluice_executors::AttemptContext {
    let mut fields = vec![
        r("input", "In"),
        r("output", "Out"),
        s("insertMode", mode),
        s("workerGroup", "wg"),
    ];
    fields.extend(extra);
    let mut node = vec![r("database", "Wh"), s("tableName", table)];
    node.extend(extra_node);
    env.ctx(
        "RedshiftCopyActivity",
        fields,
        vec![
            obj(
                "In",
                "S3DataNode",
                vec![s("filePath", "s3://load/input.csv")],
            ),
            obj("Out", "RedshiftDataNode", node),
            obj(
                "Wh",
                "RedshiftDatabase",
                vec![
                    s("connectionString", "jdbc:postgresql://127.0.0.1:5432/test"),
                    s("username", "postgres"),
                    s("*password", "x"),
                ],
            ),
        ],
    )
}

#[tokio::test]
async fn redshift_copy_insert_modes() {
    let env = Env::new();
    env.put("load/input.csv", "2,B\n3,C\n");
    let expectations = [
        ("KEEP_EXISTING", "1|a\n2|b\n3|C\n"),
        ("OVERWRITE_EXISTING", "1|a\n2|B\n3|C\n"),
        ("TRUNCATE", "2|B\n3|C\n"),
        ("APPEND", "1|a\n2|B\n2|b\n3|C\n"),
    ];
    for (mode, expected) in expectations {
        let table = unique("rs_mode");
        let _drop = PgTables(vec![table.clone()]);
        // APPEND works without a key; the others use the table's primary key.
        let key = if mode == "APPEND" { "" } else { " PRIMARY KEY" };
        psql(&format!(
            "CREATE TABLE {table} (id int{key}, v text); INSERT INTO {table} VALUES (1, 'a'), (2, 'b')"
        ));
        assert_finished(&execute(&redshift_ctx(&env, mode, &table, vec![], vec![])).await);
        assert_eq!(
            psql(&format!("SELECT id, v FROM {table} ORDER BY id, v")),
            expected,
            "{mode}"
        );
        assert!(env.stdout().contains(&format!("loaded 2 records from s3://load/input.csv into Out (table {table}, insertMode {mode})")), "{}", env.stdout());
    }
}

#[tokio::test]
async fn redshift_copy_primary_keys_transform_and_create_table() {
    let env = Env::new();
    env.put("load/input.csv", "2,b2\n3,c\n");
    let table = unique("rs_xform");
    let _drop = PgTables(vec![table.clone()]);
    let create = format!("CREATE TABLE {table} (id int, v text)");
    psql(&format!(
        "{create}; INSERT INTO {table} VALUES (1, 'a'), (2, 'b')"
    ));
    // No primary key on the table: primaryKeys on the node is the merge key.
    let ctx = redshift_ctx(
        &env,
        "OVERWRITE_EXISTING",
        &table,
        vec![s("primaryKeys", "id")],
        vec![s(
            "transformSql",
            "SELECT id * 10 AS id, upper(v) AS v FROM staging UNION ALL SELECT 1, 'A'",
        )],
    );
    assert_finished(&execute(&ctx).await);
    assert_eq!(
        psql(&format!("SELECT id, v FROM {table} ORDER BY id")),
        "1|A\n2|b\n20|B2\n30|C\n"
    );

    let created = unique("rs_created");
    let _drop2 = PgTables(vec![created.clone()]);
    let ctx = redshift_ctx(
        &env,
        "KEEP_EXISTING",
        &created,
        vec![s(
            "createTableSql",
            &format!("CREATE TABLE {created} (id int PRIMARY KEY, v text)"),
        )],
        vec![],
    );
    assert_finished(&execute(&ctx).await);
    assert_eq!(
        psql(&format!("SELECT id, v FROM {created} ORDER BY id")),
        "2|b2\n3|c\n"
    );
}

#[tokio::test]
async fn redshift_copy_without_key_or_with_bad_input_changes_nothing() {
    let env = Env::new();
    let table = unique("rs_nokey");
    let _drop = PgTables(vec![table.clone()]);
    psql(&format!(
        "CREATE TABLE {table} (id int, v text); INSERT INTO {table} VALUES (1, 'a')"
    ));
    env.put("load/input.csv", "2,b\n");
    assert_failed(
        &execute(&redshift_ctx(&env, "KEEP_EXISTING", &table, vec![], vec![])).await,
        "InvalidTask",
        "no primary key",
    );
    env.put("load/input.csv", "2,b\nx,c\n");
    let result = execute(&redshift_ctx(&env, "TRUNCATE", &table, vec![], vec![])).await;
    assert_failed(&result, "RedshiftCopyFailed", "integer");
    assert_eq!(
        psql(&format!("SELECT id, v FROM {table}")),
        "1|a\n",
        "the TRUNCATE was rolled back"
    );

    let missing = unique("rs_missing");
    assert_failed(
        &execute(&redshift_ctx(&env, "APPEND", &missing, vec![], vec![])).await,
        "RedshiftCopyFailed",
        &format!("table {missing} does not exist"),
    );
}

#[tokio::test]
async fn redshift_copy_from_dynamodb_matches_attributes_to_columns() {
    use aws_sdk_dynamodb::types::AttributeValue;
    use sluice_data::dynamodb::DynamoClient;

    let server = sluice_testsupport::dynamodb::Dynalite::start().unwrap();
    let data = dynamo_support::dynamo_settings(&[("us-east-1", &server)], "ddb-secret");
    let client = DynamoClient::connect(&data.dynamodb, None).unwrap();
    let source = unique("rs_ddb_src");
    dynamo_support::create_table(&client, &source, 100, 100).await;
    let items: [&[(&str, AttributeValue)]; 3] = [
        &[
            ("id", AttributeValue::S("a".into())),
            ("Qty", AttributeValue::N("3".into())),
            ("NOTE", AttributeValue::S("first".into())),
        ],
        &[
            ("id", AttributeValue::S("b".into())),
            ("qty", AttributeValue::N("5".into())),
            ("tags", AttributeValue::Ss(vec!["x".into()])),
        ],
        &[
            ("id", AttributeValue::S("c".into())),
            ("note", AttributeValue::S("third".into())),
            ("extra", AttributeValue::S("no column".into())),
        ],
    ];
    for item in items {
        let mut put = client.sdk().put_item().table_name(&source);
        for (name, value) in item {
            put = put.item(*name, value.clone());
        }
        put.send().await.unwrap();
    }

    let env = Env::with_data(data);
    let table = unique("rs_ddb");
    let _drop = PgTables(vec![table.clone()]);
    psql(&format!(
        "CREATE TABLE {table} (id text PRIMARY KEY, qty int, note text, tags text); \
         INSERT INTO {table} VALUES ('a', 1, 'old', NULL), ('z', 9, 'kept', NULL)"
    ));
    let ctx = |source_table: &str| {
        env.ctx(
            "RedshiftCopyActivity",
            vec![
                r("input", "In"),
                r("output", "Out"),
                s("insertMode", "OVERWRITE_EXISTING"),
                s("workerGroup", "wg"),
            ],
            vec![
                obj(
                    "In",
                    "DynamoDBDataNode",
                    vec![
                        s("tableName", source_table),
                        s("readThroughputPercent", "0.5"),
                    ],
                ),
                obj(
                    "Out",
                    "RedshiftDataNode",
                    vec![r("database", "Wh"), s("tableName", &table)],
                ),
                obj(
                    "Wh",
                    "RedshiftDatabase",
                    vec![
                        s("connectionString", "jdbc:postgresql://127.0.0.1:5432/test"),
                        s("username", "postgres"),
                        s("*password", "x"),
                    ],
                ),
            ],
        )
    };
    assert_finished(&execute(&ctx(&source)).await);
    assert_eq!(
        psql(&format!(
            "SELECT id, coalesce(qty::text, 'NULL'), coalesce(note, 'NULL'), coalesce(tags, 'NULL') FROM {table} ORDER BY id"
        )),
        "a|3|first|NULL\nb|5|NULL|{\"SS\":[\"x\"]}\nc|NULL|third|NULL\nz|9|kept|NULL\n"
    );
    assert!(
        env.stdout().contains(&format!(
            "loaded 3 records from DynamoDB table {source} at "
        )),
        "{}",
        env.stdout()
    );

    let missing = unique("rs_ddb_missing");
    assert_failed(
        &execute(&ctx(&missing)).await,
        "RedshiftCopyFailed",
        &format!("table {missing} does not exist"),
    );
    assert_eq!(
        psql(&format!("SELECT count(*) FROM {table}")),
        "4\n",
        "nothing changed"
    );
}
