//! CopyActivity in every direction against the local object store, PostgreSQL, MariaDB and
//! SQLite: rows checked one by one, failures that leave nothing behind, retries that do not
//! duplicate.

mod attempt_support;
mod data_support;

use std::io::Write;

use data_support::*;
use sluice_model::PipelineObject;

fn s3_node(
    id: &str,
    path_field: &str,
    uri: &str,
    format: Option<&str>,
    extra: Vec<sluice_model::Field>,
) -> PipelineObject {
    let mut fields = vec![s(path_field, uri)];
    if let Some(f) = format {
        fields.push(r("dataFormat", f));
    }
    fields.extend(extra);
    obj(id, "S3DataNode", fields)
}

fn sql_node(id: &str, db: &str, table: &str, extra: Vec<sluice_model::Field>) -> PipelineObject {
    let mut fields = vec![r("database", db), s("table", table)];
    fields.extend(extra);
    obj(id, "SqlDataNode", fields)
}

/// SqlDataNode `In` on `Db` reading all of `table` in `id` order.
fn ordered_sql_input(table: &str) -> PipelineObject {
    sql_node(
        "In",
        "Db",
        table,
        vec![s(
            "selectQuery",
            &format!("SELECT * FROM {table} ORDER BY id"),
        )],
    )
}

fn copy_ctx(env: &Env, others: Vec<PipelineObject>) -> sluice_executors::AttemptContext {
    env.ctx(
        "CopyActivity",
        vec![r("input", "In"), r("output", "Out"), s("workerGroup", "wg")],
        others,
    )
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    enc.write_all(bytes).unwrap();
    enc.finish().unwrap()
}

/// Copies `text`, as the object `bucket/in/data`, into a new PostgreSQL table of `columns`
/// through an S3DataNode with `format` (none: plain CSV); the table is dropped with the guard.
async fn s3_file_into_new_pg_table(
    env: &Env,
    columns: &str,
    text: &str,
    format: Option<PipelineObject>,
) -> (String, PgTables) {
    let table = unique("copy_pg");
    let guard = PgTables(vec![table.clone()]);
    psql(&format!("CREATE TABLE {table} ({columns})"));
    env.put("bucket/in/data", text);
    let format_id = format.as_ref().map(|f| f.id.clone());
    let mut objects = vec![
        s3_node(
            "In",
            "filePath",
            "s3://bucket/in/data",
            format_id.as_deref(),
            vec![],
        ),
        sql_node("Out", "Db", &table, vec![]),
        pg_db("Db"),
    ];
    objects.extend(format);
    assert_finished(&execute(&copy_ctx(env, objects)).await);
    (table, guard)
}

#[tokio::test]
async fn s3_csv_into_postgres_row_for_row() {
    let env = Env::new();
    let (table, _drop) = s3_file_into_new_pg_table(
        &env,
        "id int, name text, score numeric, seen timestamp",
        "1,plain,1.5,2024-01-01 10:00:00\n2,\"with, comma\",,2024-01-02 00:00:00\n3,\"quote \"\"q\"\" and\nnewline\",-2,\n",
        None,
    )
    .await;
    let rows = psql(&format!(
        "SELECT id, replace(name, E'\\n', '<NL>'), coalesce(score::text, 'NULL'), coalesce(seen::text, 'NULL') FROM {table} ORDER BY id"
    ));
    assert_eq!(
        rows,
        "1|plain|1.5|2024-01-01 10:00:00\n2|with, comma|NULL|2024-01-02 00:00:00\n3|quote \"q\" and<NL>newline|-2|NULL\n"
    );
}

/// A CSV format with escapeChar `\` and four declared columns.
fn escaped_csv(id: &str) -> PipelineObject {
    let mut fields = vec![s("escapeChar", "\\")];
    for column in ["id INT", "name STRING", "age INT", "note STRING"] {
        fields.push(s("column", column));
    }
    obj(id, "CSV", fields)
}

#[tokio::test]
async fn s3_csv_with_backslash_escapes_into_postgres_and_back_row_for_row() {
    let env = Env::new();
    // The unquoted variant with backslash escapes that AWS's CopyActivity reads, mixed with
    // quoted fields; `\N` and an empty field are NULL, `""` the empty string.
    let (table, _drop) = s3_file_into_new_pg_table(
        &env,
        "id int, name text, age int, note text",
        "1,Bob\\, Jr.,20,plain\n\
         2,\"quoted, \"\"field\"\"\",\\N,\"\"\n\
         3,back\\\\slash \\\"q\\\",,\\N\n\
         4,multi\\\nline,7,\"x\\,y\"\n",
        Some(escaped_csv("Csv")),
    )
    .await;
    assert_eq!(
        psql(&format!(
            "SELECT id, replace(name, E'\\n', '<NL>'), coalesce(age::text, 'NULL'), \
             coalesce(note, 'NULL') FROM {table} ORDER BY id"
        )),
        "1|Bob, Jr.|20|plain\n\
         2|quoted, \"field\"|NULL|\n\
         3|back\\slash \"q\"|NULL|NULL\n\
         4|multi<NL>line|7|x,y\n"
    );

    // Written back with the same format: escapes instead of quotes, NULL empty, `""` kept.
    let ctx = copy_ctx(
        &env,
        vec![
            ordered_sql_input(&table),
            s3_node(
                "Out",
                "filePath",
                "s3://bucket/out/escaped.csv",
                Some("Csv"),
                vec![],
            ),
            escaped_csv("Csv"),
            pg_db("Db"),
        ],
    );
    assert_finished(&execute(&ctx).await);
    assert_eq!(
        String::from_utf8(env.get("bucket/out/escaped.csv")).unwrap(),
        "1,Bob\\, Jr.,20,plain\n\
         2,quoted\\, \\\"field\\\",,\"\"\n\
         3,back\\\\slash \\\"q\\\",,\n\
         4,multi\\\nline,7,x\\,y\n"
    );
}

#[tokio::test]
async fn s3_manifest_into_postgres_reads_exactly_its_entries() {
    let env = Env::new();
    let table = unique("copy_manifest");
    let _drop = PgTables(vec![table.clone()]);
    psql(&format!("CREATE TABLE {table} (id int, name text)"));
    env.put("bucket/man/b.csv", "3,c\n4,d\n");
    env.put("bucket/elsewhere/a.csv", "1,a\n2,b\n");
    // Under the node's directoryPath but not in the manifest: must not be read.
    env.put("bucket/man/not-listed.csv", "99,zz\n");
    env.put(
        "bucket/manifests/good.json",
        r#"{"entries": [
            {"url": "s3://bucket/man/b.csv", "mandatory": true},
            {"url": "s3://bucket/man/gone.csv", "mandatory": false},
            {"url": "s3://bucket/elsewhere/a.csv"}
        ]}"#,
    );
    let node = |manifest: &str| {
        s3_node(
            "In",
            "directoryPath",
            "s3://bucket/man/",
            None,
            vec![s("manifestFilePath", manifest)],
        )
    };
    let ctx = copy_ctx(
        &env,
        vec![
            node("s3://bucket/manifests/good.json"),
            sql_node("Out", "Db", &table, vec![]),
            pg_db("Db"),
        ],
    );
    assert_finished(&execute(&ctx).await);
    assert_eq!(
        psql(&format!("SELECT id, name FROM {table} ORDER BY id")),
        "1|a\n2|b\n3|c\n4|d\n"
    );
    assert!(
        env.stdout().contains("copied 4 records"),
        "{}",
        env.stdout()
    );

    env.put(
        "bucket/manifests/bad.json",
        r#"{"entries": [
            {"url": "s3://bucket/man/b.csv", "mandatory": true},
            {"url": "s3://bucket/man/required-but-missing.csv", "mandatory": true}
        ]}"#,
    );
    psql(&format!("DELETE FROM {table}"));
    let ctx = copy_ctx(
        &env,
        vec![
            node("s3://bucket/manifests/bad.json"),
            sql_node("Out", "Db", &table, vec![]),
            pg_db("Db"),
        ],
    );
    assert_failed(
        &execute(&ctx).await,
        "CopyFailed",
        "mandatory entry s3://bucket/man/required-but-missing.csv does not exist",
    );
    assert_eq!(psql(&format!("SELECT count(*) FROM {table}")), "0\n");

    env.put("bucket/manifests/junk.json", "{\"files\": []}");
    let ctx = copy_ctx(
        &env,
        vec![
            node("s3://bucket/manifests/junk.json"),
            sql_node("Out", "Db", &table, vec![]),
            pg_db("Db"),
        ],
    );
    assert_failed(
        &execute(&ctx).await,
        "CopyFailed",
        "manifest s3://bucket/manifests/junk.json: is not a manifest",
    );
}

#[tokio::test]
async fn gzip_tsv_directory_into_mariadb_reads_every_file() {
    let env = Env::new();
    let table = unique("copy_my");
    let _drop = MyTables(vec![table.clone()]);
    mariadb(&format!(
        "CREATE TABLE {table} (id INT PRIMARY KEY, word VARCHAR(50))"
    ));
    for part in 0..3 {
        let mut text = String::new();
        for i in 0..100 {
            let id = part * 100 + i;
            text.push_str(&format!("{id}\tw\\\t{id}\n"));
        }
        env.put(&format!("bucket/dir/part-{part}.gz"), gzip(text.as_bytes()));
    }
    env.put("bucket/dir/_SUCCESS", "");
    let ctx = copy_ctx(
        &env,
        vec![
            s3_node(
                "In",
                "directoryPath",
                "s3://bucket/dir",
                Some("Tsv"),
                vec![s("compression", "gzip")],
            ),
            obj("Tsv", "TSV", vec![s("escapeChar", "\\")]),
            sql_node("Out", "Db", &table, vec![]),
            my_db("Db"),
        ],
    );
    assert_finished(&execute(&ctx).await);
    assert_eq!(
        mariadb(&format!("SELECT COUNT(*), MIN(id), MAX(id) FROM {table}")),
        "300\t0\t299\n"
    );
    assert_eq!(
        mariadb(&format!("SELECT word FROM {table} WHERE id = 142")),
        "w\\t142\n"
    );
}

#[tokio::test]
async fn insert_query_into_sqlite_with_create_table() {
    let env = Env::new();
    env.put("bucket/people.csv", "ann,31\nbob,\n");
    let db_path = env.sqlite_path();
    let ctx = copy_ctx(
        &env,
        vec![
            s3_node("In", "filePath", "s3://bucket/people.csv", None, vec![]),
            sql_node(
                "Out",
                "Db",
                "people",
                vec![
                    s(
                        "createTableSql",
                        "CREATE TABLE people (name TEXT, age INTEGER, source TEXT)",
                    ),
                    s(
                        "insertQuery",
                        "INSERT INTO people (name, age, source) VALUES (?, ?, 'csv')",
                    ),
                ],
            ),
            sqlite_db("Db", &db_path),
        ],
    );
    assert_finished(&execute(&ctx).await);
    assert_eq!(
        sqlite(
            &db_path,
            "SELECT name, typeof(age), coalesce(age, 'NULL'), source FROM people ORDER BY name"
        ),
        "ann|integer|31|csv\nbob|null|NULL|csv\n"
    );
}

#[tokio::test]
async fn postgres_into_s3_csv_gives_every_type_as_text() {
    let env = Env::new();
    let table = unique("copy_pg_out");
    let _drop = PgTables(vec![table.clone()]);
    psql(&format!(
        "CREATE TABLE {table} (id int, amount numeric(10,2), ok boolean, at timestamp, note text);
         INSERT INTO {table} VALUES (1, 2.50, true, '2024-03-01 12:30:00', 'a,b'), (2, NULL, false, NULL, 'x\"y')"
    ));
    let ctx = copy_ctx(
        &env,
        vec![
            ordered_sql_input(&table),
            s3_node("Out", "filePath", "s3://bucket/out/rows.csv", None, vec![]),
            pg_db("Db"),
        ],
    );
    assert_finished(&execute(&ctx).await);
    assert_eq!(
        String::from_utf8(env.get("bucket/out/rows.csv")).unwrap(),
        "1,2.50,t,2024-03-01 12:30:00,\"a,b\"\n2,,f,,\"x\"\"y\"\n"
    );
}

#[tokio::test]
async fn mariadb_into_s3_directory_as_custom_format() {
    let env = Env::new();
    let table = unique("copy_my_out");
    let _drop = MyTables(vec![table.clone()]);
    mariadb(&format!(
        "CREATE TABLE {table} (id INT, d DATE, v DOUBLE); INSERT INTO {table} VALUES (1, '2024-05-06', 0.25), (2, NULL, -1)"
    ));
    let ctx = copy_ctx(
        &env,
        vec![
            ordered_sql_input(&table),
            s3_node(
                "Out",
                "directoryPath",
                "s3://bucket/export/",
                Some("Pipe"),
                vec![],
            ),
            obj("Pipe", "Custom", vec![s("columnSeparator", "|")]),
            my_db("Db"),
        ],
    );
    assert_finished(&execute(&ctx).await);
    assert_eq!(env.list("bucket/export"), vec!["part-00000"]);
    assert_eq!(
        String::from_utf8(env.get("bucket/export/part-00000")).unwrap(),
        "1|2024-05-06|0.25\n2||-1\n"
    );
}

#[tokio::test]
async fn postgres_into_mariadb_and_sqlite_into_postgres() {
    let env = Env::new();
    let pg_src = unique("copy_src");
    let pg_dst = unique("copy_dst");
    let my_dst = unique("copy_mydst");
    let _pg = PgTables(vec![pg_src.clone(), pg_dst.clone()]);
    let _my = MyTables(vec![my_dst.clone()]);
    psql(&format!(
        "CREATE TABLE {pg_src} AS SELECT g AS id, 'row ' || g AS label FROM generate_series(1, 2500) g"
    ));
    mariadb(&format!("CREATE TABLE {my_dst} (id INT, label TEXT)"));
    let ctx = copy_ctx(
        &env,
        vec![
            sql_node("In", "Pg", &pg_src, vec![]),
            sql_node("Out", "My", &my_dst, vec![]),
            pg_db("Pg"),
            my_db("My"),
        ],
    );
    assert_finished(&execute(&ctx).await);
    assert_eq!(
        mariadb(&format!(
            "SELECT COUNT(*), SUM(id), MAX(label) FROM {my_dst}"
        )),
        "2500\t3126250\trow 999\n"
    );
    assert_eq!(
        mariadb(&format!("SELECT label FROM {my_dst} WHERE id = 1234")),
        "row 1234\n"
    );

    let db_path = env.sqlite_path();
    sqlite(
        &db_path,
        "CREATE TABLE src (k INTEGER, v REAL, t TEXT); INSERT INTO src VALUES (1, 1.5, 'a'), (2, NULL, 'b');",
    );
    psql(&format!(
        "CREATE TABLE {pg_dst} (k bigint, v double precision, t text)"
    ));
    let ctx = copy_ctx(
        &env,
        vec![
            sql_node("In", "Lite", "src", vec![]),
            sql_node("Out", "Pg", &pg_dst, vec![]),
            sqlite_db("Lite", &db_path),
            pg_db("Pg"),
        ],
    );
    assert_finished(&execute(&ctx).await);
    assert_eq!(
        psql(&format!(
            "SELECT k, coalesce(v::text, 'NULL'), t FROM {pg_dst} ORDER BY k"
        )),
        "1|1.5|a\n2|NULL|b\n"
    );
}

#[tokio::test]
async fn s3_to_s3_same_format_copies_bytes() {
    let env = Env::new();
    env.put("src/dir/a.csv", "1,a\n");
    env.put("src/dir/sub/b.csv", "not,even,checked\"\n");
    let ctx = copy_ctx(
        &env,
        vec![
            s3_node("In", "directoryPath", "s3://src/dir", None, vec![]),
            s3_node("Out", "directoryPath", "s3://dst/copy", None, vec![]),
        ],
    );
    assert_finished(&execute(&ctx).await);
    assert_eq!(env.list("dst/copy"), vec!["a.csv", "sub/b.csv"]);
    assert_eq!(env.get("dst/copy/sub/b.csv"), b"not,even,checked\"\n");

    let ctx = copy_ctx(
        &env,
        vec![
            s3_node("In", "filePath", "s3://src/dir/a.csv", None, vec![]),
            s3_node("Out", "filePath", "s3://dst/single.csv", None, vec![]),
        ],
    );
    assert_finished(&execute(&ctx).await);
    assert_eq!(env.get("dst/single.csv"), b"1,a\n");
}

#[tokio::test]
async fn s3_to_s3_converts_records_between_formats() {
    let env = Env::new();
    env.put("src/logs/1.log", "GET /a 200\nPOST /b 500\n");
    env.put("src/logs/2.log", "GET /c,d 404\n");
    let ctx = copy_ctx(
        &env,
        vec![
            s3_node("In", "directoryPath", "s3://src/logs", Some("Re"), vec![]),
            obj("Re", "RegEx", vec![s("inputRegEx", r"(\S+) (\S+) (\d+)")]),
            s3_node(
                "Out",
                "filePath",
                "s3://dst/all.csv.gz",
                None,
                vec![s("compression", "gzip")],
            ),
        ],
    );
    assert_finished(&execute(&ctx).await);
    let mut text = String::new();
    std::io::Read::read_to_string(
        &mut flate2::read::MultiGzDecoder::new(&env.get("dst/all.csv.gz")[..]),
        &mut text,
    )
    .unwrap();
    let mut lines: Vec<&str> = text.lines().collect();
    lines.sort();
    assert_eq!(lines, vec!["GET,\"/c,d\",404", "GET,/a,200", "POST,/b,500"]);
}

#[tokio::test]
async fn failed_s3_conversion_leaves_no_output_objects() {
    let env = Env::new();
    for i in 0..6 {
        env.put(&format!("src/in/{i}.csv"), format!("{i},ok\n"));
    }
    // A tab cannot be written to a TSV without escapeChar: this file fails the copy.
    env.put("src/in/9.csv", "9,\"tab\there\"\n");
    let ctx = copy_ctx(
        &env,
        vec![
            s3_node("In", "directoryPath", "s3://src/in", None, vec![]),
            s3_node("Out", "directoryPath", "s3://dst/out", Some("Tsv"), vec![]),
            obj("Tsv", "TSV", vec![]),
        ],
    );
    let result = execute(&ctx).await;
    assert_failed(&result, "CopyFailed", "escapeChar");
    assert_eq!(env.list("dst/out"), Vec::<String>::new());
}

#[tokio::test]
async fn bad_row_halfway_leaves_no_rows_and_retry_does_not_duplicate() {
    for engine in ["pg", "my"] {
        let env = Env::new();
        let table = unique("copy_atomic");
        let _pg = PgTables(vec![table.clone()]);
        let _my = MyTables(vec![table.clone()]);
        let (db, count): (PipelineObject, fn(&str) -> String) = if engine == "pg" {
            psql(&format!("CREATE TABLE {table} (id int, v text)"));
            (pg_db("Db"), |t| psql(&format!("SELECT count(*) FROM {t}")))
        } else {
            mariadb(&format!("CREATE TABLE {table} (id INT, v TEXT)"));
            (my_db("Db"), |t| {
                mariadb(&format!("SELECT COUNT(*) FROM {t}"))
            })
        };
        let mut text = String::new();
        for i in 0..4000 {
            if i == 2000 {
                text.push_str("not-a-number,bad\n");
            } else {
                text.push_str(&format!("{i},v{i}\n"));
            }
        }
        env.put("bucket/rows.csv", &text);
        let others = vec![
            s3_node("In", "filePath", "s3://bucket/rows.csv", None, vec![]),
            sql_node("Out", "Db", &table, vec![]),
            db,
        ];
        let result = execute(&copy_ctx(&env, others.clone())).await;
        assert_failed(&result, "CopyFailed", "not-a-number");
        let message = result.error_message.unwrap();
        assert!(
            message.contains("2001"),
            "{engine}: the message names the record: {message}"
        );
        assert_eq!(
            count(&table).trim(),
            "0",
            "{engine}: nothing of the failed attempt stays"
        );

        env.put(
            "bucket/rows.csv",
            text.replace("not-a-number,bad", "2000,fixed"),
        );
        assert_finished(&execute(&copy_ctx(&env, others)).await);
        assert_eq!(
            count(&table).trim(),
            "4000",
            "{engine}: the retry loads each row once"
        );
        assert!(
            env.stdout().contains("copied 4000 records from In"),
            "{engine}: {}",
            env.stdout()
        );
    }
}

#[tokio::test]
async fn missing_table_is_named() {
    let env = Env::new();
    let table = unique("copy_missing");
    env.put("bucket/x.csv", "1\n");
    let ctx = copy_ctx(
        &env,
        vec![
            s3_node("In", "filePath", "s3://bucket/x.csv", None, vec![]),
            sql_node("Out", "Db", &table, vec![]),
            pg_db("Db"),
        ],
    );
    assert_failed(
        &execute(&ctx).await,
        "CopyFailed",
        &format!("table {table} does not exist"),
    );

    let ctx = copy_ctx(
        &env,
        vec![
            sql_node("In", "Db", &table, vec![]),
            s3_node("Out", "filePath", "s3://bucket/y.csv", None, vec![]),
            my_db("Db"),
        ],
    );
    assert_failed(
        &execute(&ctx).await,
        "CopyFailed",
        &format!("table {table} does not exist"),
    );
    assert!(
        !env.s3_file("bucket/y.csv").exists(),
        "no output for a failed read"
    );
}

#[tokio::test]
async fn unsupported_nodes_and_bad_formats_are_invalid_tasks() {
    let env = Env::new();
    let ctx = copy_ctx(
        &env,
        vec![
            s3_node("In", "filePath", "s3://bucket/x.csv", None, vec![]),
            obj("Out", "DynamoDBDataNode", vec![s("tableName", "t")]),
        ],
    );
    assert_failed(&execute(&ctx).await, "InvalidTask", "DynamoDBDataNode");

    let ctx = copy_ctx(
        &env,
        vec![
            s3_node("In", "filePath", "s3://bucket/x.csv", Some("Bad"), vec![]),
            obj("Bad", "Custom", vec![s("columnSeparator", "::")]),
            s3_node("Out", "filePath", "s3://bucket/y.csv", None, vec![]),
        ],
    );
    assert_failed(&execute(&ctx).await, "InvalidTask", "columnSeparator");
}

#[tokio::test]
async fn canceled_copy_is_rolled_back() {
    let env = Env::new();
    let table = unique("copy_cancel");
    let _drop = PgTables(vec![table.clone()]);
    psql(&format!("CREATE TABLE {table} (id int, v text)"));
    let text: String = (0..20_000).map(|i| format!("{i},v{i}\n")).collect();
    env.put("bucket/big.csv", text);
    let ctx = copy_ctx(
        &env,
        vec![
            s3_node("In", "filePath", "s3://bucket/big.csv", None, vec![]),
            sql_node("Out", "Db", &table, vec![]),
            pg_db("Db"),
        ],
    );
    ctx.cancel.cancel();
    assert_failed(&execute(&ctx).await, "Canceled", "canceled");
    assert_eq!(psql(&format!("SELECT count(*) FROM {table}")), "0\n");
}

/// The same copies against a real S3 server (s3s-fs, which verifies signatures) instead of the
/// embedded store: S3 → PostgreSQL, then PostgreSQL → S3 gzip, then S3 → S3 record-wise.
#[tokio::test]
async fn through_a_real_s3_server() {
    let server = sluice_testsupport::s3::S3Server::start();
    let bucket = unique("copybkt").replace('_', "-");
    server.create_bucket(&bucket);
    let env = Env::with_data(s3_server_settings(&server));
    let input = server.object_file(&bucket, "in/rows.csv");
    std::fs::create_dir_all(input.parent().unwrap()).unwrap();
    let text: String = (1..=3000)
        .map(|i| format!("{i},\"name {i}, x\"\n"))
        .collect();
    std::fs::write(&input, &text).unwrap();

    let table = unique("copy_s3srv");
    let _drop = PgTables(vec![table.clone()]);
    psql(&format!("CREATE TABLE {table} (id int, name text)"));
    let ctx = copy_ctx(
        &env,
        vec![
            s3_node(
                "In",
                "filePath",
                &format!("s3://{bucket}/in/rows.csv"),
                None,
                vec![],
            ),
            sql_node("Out", "Db", &table, vec![]),
            pg_db("Db"),
        ],
    );
    assert_finished(&execute(&ctx).await);
    assert_eq!(
        psql(&format!("SELECT count(*), sum(id), max(name) FROM {table}")),
        "3000|4501500|name 999, x\n"
    );

    let ctx = copy_ctx(
        &env,
        vec![
            ordered_sql_input(&table),
            s3_node(
                "Out",
                "directoryPath",
                &format!("s3://{bucket}/export"),
                None,
                vec![s("compression", "gzip")],
            ),
            pg_db("Db"),
        ],
    );
    assert_finished(&execute(&ctx).await);
    let gz = std::fs::read(server.object_file(&bucket, "export/part-00000.gz")).unwrap();
    let mut round_trip = String::new();
    std::io::Read::read_to_string(
        &mut flate2::read::MultiGzDecoder::new(&gz[..]),
        &mut round_trip,
    )
    .unwrap();
    assert_eq!(round_trip, text);

    let ctx = copy_ctx(
        &env,
        vec![
            s3_node(
                "In",
                "directoryPath",
                &format!("s3://{bucket}/export"),
                None,
                vec![s("compression", "gzip")],
            ),
            s3_node(
                "Out",
                "directoryPath",
                &format!("s3://{bucket}/plain"),
                None,
                vec![],
            ),
        ],
    );
    assert_finished(&execute(&ctx).await);
    assert_eq!(
        std::fs::read_to_string(server.object_file(&bucket, "plain/part-00000.gz")).unwrap(),
        text
    );
}
