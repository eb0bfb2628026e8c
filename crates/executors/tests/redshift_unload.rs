//! RedshiftCopyActivity from a RedshiftDataNode (the local PostgreSQL) into an S3DataNode on a
//! real S3 server (s3s-fs): what UNLOAD writes, read back from the server's files and checked
//! row by row with PostgreSQL's own `\copy` as the oracle.

mod attempt_support;
mod data_support;

use std::io::Read;
use std::path::PathBuf;

use data_support::*;
use sluice_executors::AttemptContext;
use sluice_model::{Field, PipelineObject};
use sluice_testsupport::s3::S3Server;

/// A bucket of its own on an S3 server of its own, and the attempt environment pointing at it.
struct Bucket {
    server: S3Server,
    name: String,
    env: Env,
}

impl Bucket {
    fn new() -> Bucket {
        let server = S3Server::start();
        let name = unique("unloadbkt").replace('_', "-");
        server.create_bucket(&name);
        let env = Env::with_data(s3_server_settings(&server));
        Bucket { server, name, env }
    }

    fn uri(&self, key: &str) -> String {
        format!("s3://{}/{key}", self.name)
    }

    fn file(&self, key: &str) -> PathBuf {
        self.server.object_file(&self.name, key)
    }

    fn bytes(&self, key: &str) -> Vec<u8> {
        std::fs::read(self.file(key)).unwrap_or_else(|e| panic!("{key}: {e}"))
    }

    fn text(&self, key: &str) -> String {
        String::from_utf8(self.bytes(key)).unwrap()
    }

    fn gunzipped(&self, key: &str) -> String {
        let mut text = String::new();
        flate2::read::MultiGzDecoder::new(&self.bytes(key)[..])
            .read_to_string(&mut text)
            .unwrap_or_else(|e| panic!("{key} is not gzip: {e}"));
        text
    }

    fn put(&self, key: &str, text: &str) {
        let file = self.file(key);
        std::fs::create_dir_all(file.parent().unwrap()).unwrap();
        std::fs::write(file, text).unwrap();
    }

    /// Every object in the bucket, by key, sorted.
    fn keys(&self) -> Vec<String> {
        files_under(&self.server.data_dir().join(&self.name))
    }

    /// An attempt unloading RedshiftDataNode `In` (table `table`) under `mode`.
    fn unload<'a>(&'a self, table: &str, mode: &str) -> Unload<'a> {
        Unload {
            bucket: self,
            fields: vec![
                r("input", "In"),
                r("output", "Out"),
                s("insertMode", mode),
                s("workerGroup", "wg"),
            ],
            node: vec![r("database", "Wh"), s("tableName", table)],
            others: vec![redshift_db()],
        }
    }
}

/// An unload attempt being described.
struct Unload<'a> {
    bucket: &'a Bucket,
    /// The activity's fields.
    fields: Vec<Field>,
    /// The RedshiftDataNode's fields.
    node: Vec<Field>,
    others: Vec<PipelineObject>,
}

impl Unload<'_> {
    fn select(mut self, sql: &str) -> Self {
        self.node.push(s("selectQuery", sql));
        self
    }

    fn options(mut self, options: &[&str]) -> Self {
        self.fields
            .extend(options.iter().map(|o| s("commandOptions", o)));
        self
    }

    fn field(mut self, field: Field) -> Self {
        self.fields.push(field);
        self
    }

    fn with(mut self, object: PipelineObject) -> Self {
        self.others.push(object);
        self
    }

    /// The attempt, writing into S3DataNode `Out` at `path_field` `uri`, with `extra` fields.
    fn into(self, path_field: &str, uri: &str, extra: Vec<Field>) -> AttemptContext {
        let mut out = vec![s(path_field, uri)];
        out.extend(extra);
        let mut objects = vec![
            obj("In", "RedshiftDataNode", self.node),
            obj("Out", "S3DataNode", out),
        ];
        objects.extend(self.others);
        self.bucket
            .env
            .ctx("RedshiftCopyActivity", self.fields, objects)
    }
}

/// A table of rows every format finds awkward: NULLs and empty strings, commas, both quotes,
/// line feeds, carriage returns, tabs, pipes, backslashes and non-ASCII text.
fn awkward_table(prefix: &str) -> (String, PgTables) {
    let table = unique(prefix);
    let drop = PgTables(vec![table.clone(), format!("{table}_back")]);
    psql(&format!(
        "CREATE TABLE {table} (id int PRIMARY KEY, name text, note text, amount numeric(8,2));
         INSERT INTO {table} VALUES
           (1, 'plain', 'x', 1.50),
           (2, 'with, comma', NULL, NULL),
           (3, 'quote \"q\" and ''apos''', E'line1\\nline2', -2),
           (4, E'pipe|and\\\\back', E'tab\\there\\r\\nCRLF', 0),
           (5, 'ünïcödé ✓ 日本', '', 3.25);"
    ));
    (table, drop)
}

fn redshift_db() -> PipelineObject {
    obj(
        "Wh",
        "RedshiftDatabase",
        vec![
            s("connectionString", PG_URL),
            s("username", "postgres"),
            s("*password", "unused-with-trust-auth"),
        ],
    )
}

/// Loads `text` into a new table `<table>_back` shaped like `table` with `\copy … WITH
/// (options)`, and returns how many rows differ from what `expected` selects (0 when the
/// two hold exactly the same rows, duplicates counted).
fn rows_differing(table: &str, text: &str, options: &str, expected: &str) -> String {
    let back = format!("{table}_back");
    let file = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(file.path(), text).unwrap();
    psql(&format!(
        "DROP TABLE IF EXISTS {back}; CREATE TABLE {back} (LIKE {table})"
    ));
    psql(&format!(
        "\\copy {back} FROM '{}' WITH ({options})",
        file.path().display()
    ));
    psql(&format!(
        "SELECT count(*) FROM (({expected} EXCEPT ALL TABLE {back}) \
         UNION ALL (TABLE {back} EXCEPT ALL ({expected}))) AS differing"
    ))
}

#[tokio::test]
async fn csv_by_default_into_unload_names_under_the_directory() {
    let bucket = Bucket::new();
    let (table, _drop) = awkward_table("unload_csv");
    // The RedshiftToRDS sample's shape: a directoryPath ending in `/`, no dataFormat, no
    // commandOptions, insertMode TRUNCATE.
    let ctx =
        bucket
            .unload(&table, "TRUNCATE")
            .into("directoryPath", &bucket.uri("export/"), vec![]);
    assert_finished(&execute(&ctx).await);
    assert_eq!(bucket.keys(), ["export/0000_part_00"]);
    // CSV writes NULL as an empty field and the empty string as `""`, as PostgreSQL reads them.
    assert_eq!(
        rows_differing(
            &table,
            &bucket.text("export/0000_part_00"),
            "FORMAT csv",
            &format!("SELECT id, name, note, amount FROM {table}"),
        ),
        "0\n"
    );
    let stdout = bucket.env.stdout();
    assert!(
        stdout.contains(&format!(
            "unloaded 5 records from In (table {table} on postgresql://postgres@127.0.0.1:5432/test) into Out (1 object at {})",
            bucket.uri("export/")
        )),
        "{stdout}"
    );
}

#[tokio::test]
async fn tsv_gzip_into_a_file_path_with_a_select_query() {
    let bucket = Bucket::new();
    let (table, _drop) = awkward_table("unload_tsv");
    // PostgreSQL's text format refuses a bare carriage return, which TSV leaves unescaped.
    let ctx = bucket
        .unload(&table, "APPEND")
        .select(&format!(
            "SELECT id, name, replace(note, E'\\r', '') AS note, amount FROM {table} WHERE id >= 2 ORDER BY id"
        ))
        .with(obj("Tsv", "TSV", vec![s("escapeChar", "\\")]))
        .into(
            "filePath",
            &bucket.uri("tsv/rows.tsv.gz"),
            vec![r("dataFormat", "Tsv"), s("compression", "gzip")],
        );
    assert_finished(&execute(&ctx).await);
    // A filePath is the object's whole name: no suffix added.
    assert_eq!(bucket.keys(), ["tsv/rows.tsv.gz"]);
    assert_eq!(
        rows_differing(
            &table,
            &bucket.gunzipped("tsv/rows.tsv.gz"),
            "FORMAT text, NULL ''",
            &format!(
                "SELECT id, name, nullif(replace(note, E'\\r', ''), ''), amount FROM {table} WHERE id >= 2"
            ),
        ),
        "0\n"
    );
    let stdout = bucket.env.stdout();
    assert!(
        stdout.contains("unloaded 4 records from In (selectQuery on"),
        "{stdout}"
    );
}

#[tokio::test]
async fn csv_header_gzip_serially_with_a_manifest() {
    let bucket = Bucket::new();
    let (table, _drop) = awkward_table("unload_hdr");
    let ctx = bucket
        .unload(&table, "KEEP_EXISTING")
        .options(&["CSV", "HEADER", "GZIP", "PARALLEL OFF", "MANIFEST"])
        .into("directoryPath", &bucket.uri("csv"), vec![]);
    assert_finished(&execute(&ctx).await);
    assert_eq!(bucket.keys(), ["csv/000.gz", "csv/manifest"]);
    let manifest: serde_json::Value = serde_json::from_str(&bucket.text("csv/manifest")).unwrap();
    assert_eq!(
        manifest,
        serde_json::json!({ "entries": [{ "url": bucket.uri("csv/000.gz") }] })
    );
    let text = bucket.gunzipped("csv/000.gz");
    assert!(text.starts_with("id,name,note,amount\n"), "{text}");
    assert_eq!(
        rows_differing(
            &table,
            &text,
            "FORMAT csv, HEADER true",
            &format!("SELECT id, name, nullif(note, ''), amount FROM {table}"),
        ),
        "0\n"
    );
}

#[tokio::test]
async fn delimiter_addquotes_escape_and_null_as_write_what_unload_writes() {
    let bucket = Bucket::new();
    let (table, _drop) = awkward_table("unload_text");
    let ctx = bucket
        .unload(&table, "APPEND")
        .select(&format!("SELECT id, name, note FROM {table} ORDER BY id"))
        .options(&["DELIMITER ','", "ADDQUOTES", "ESCAPE", "NULL AS 'NULL'"])
        .into("directoryPath", &bucket.uri("quoted"), vec![]);
    assert_finished(&execute(&ctx).await);
    assert_eq!(
        bucket.text("quoted/0000_part_00"),
        concat!(
            "\"1\",\"plain\",\"x\"\n",
            "\"2\",\"with\\, comma\",\"NULL\"\n",
            "\"3\",\"quote \\\"q\\\" and \\'apos\\'\",\"line1\\\nline2\"\n",
            "\"4\",\"pipe|and\\\\back\",\"tab\there\\\r\\\nCRLF\"\n",
            "\"5\",\"ünïcödé ✓ 日本\",\"\"\n",
        )
    );

    // `|`-delimited text with ESCAPE and NULL AS '\N' is PostgreSQL's own text format, so it
    // reads back exactly, NULL and empty string apart.
    let ctx = bucket
        .unload(&table, "APPEND")
        .options(&["ESCAPE", "NULL AS '\\N'", "HEADER"])
        .into("directoryPath", &bucket.uri("escaped"), vec![]);
    assert_finished(&execute(&ctx).await);
    let text = bucket.text("escaped/0000_part_00");
    assert!(text.starts_with("id|name|note|amount\n"), "{text}");
    assert_eq!(
        rows_differing(
            &table,
            &text,
            "FORMAT text, DELIMITER '|', HEADER true",
            &format!("TABLE {table}"),
        ),
        "0\n"
    );
}

#[tokio::test]
async fn insert_modes_decide_what_happens_to_existing_objects() {
    let bucket = Bucket::new();
    let (table, _drop) = awkward_table("unload_modes");
    let run = |mode: &str, options: &[&str]| {
        bucket
            .unload(&table, mode)
            .select(&format!("SELECT id, name FROM {table} WHERE id = 1"))
            .options(options)
            .into("directoryPath", &bucket.uri("out"), vec![])
    };
    assert_finished(&execute(&run("APPEND", &[])).await);
    assert_eq!(bucket.text("out/0000_part_00"), "1,plain\n");

    // UNLOAD's rule: nothing is overwritten without leave, and nothing is written either.
    psql(&format!("UPDATE {table} SET name = 'changed' WHERE id = 1"));
    for mode in ["APPEND", "KEEP_EXISTING"] {
        let result = execute(&run(mode, &[])).await;
        assert_failed(
            &result,
            "RedshiftCopyFailed",
            &format!("{} already exists", bucket.uri("out/0000_part_00")),
        );
        assert_failed(&result, "RedshiftCopyFailed", "ALLOWOVERWRITE");
    }
    assert_eq!(bucket.text("out/0000_part_00"), "1,plain\n");
    assert_finished(&execute(&run("KEEP_EXISTING", &["ALLOWOVERWRITE"])).await);
    assert_eq!(bucket.text("out/0000_part_00"), "1,changed\n");

    // OVERWRITE_EXISTING replaces what it writes and deletes nothing.
    bucket.put("out/notes.txt", "keep me");
    bucket.put("out/sub/0000_part_00", "nested");
    assert_finished(&execute(&run("OVERWRITE_EXISTING", &["PARALLEL OFF"])).await);
    assert_eq!(
        bucket.keys(),
        [
            "out/000",
            "out/0000_part_00",
            "out/notes.txt",
            "out/sub/0000_part_00"
        ]
    );

    // TRUNCATE leaves exactly this unload's files among the unload files in the directory.
    psql(&format!("UPDATE {table} SET name = 'again' WHERE id = 1"));
    assert_finished(&execute(&run("TRUNCATE", &[])).await);
    assert_eq!(
        bucket.keys(),
        ["out/0000_part_00", "out/notes.txt", "out/sub/0000_part_00"]
    );
    assert_eq!(bucket.text("out/0000_part_00"), "1,again\n");
    let stdout = bucket.env.stdout();
    assert!(stdout.contains("1 older objects deleted"), "{stdout}");

    // CLEANPATH deletes everything else under the directory.
    assert_finished(&execute(&run("APPEND", &["CLEANPATH", "MANIFEST"])).await);
    assert_eq!(bucket.keys(), ["out/0000_part_00", "out/manifest"]);

    // A filePath that exists: kept by APPEND, replaced by TRUNCATE.
    bucket.put("one.csv", "old\n");
    let to_file = |mode: &str| {
        bucket
            .unload(&table, mode)
            .select(&format!("SELECT id FROM {table} WHERE id < 3 ORDER BY id"))
            .into("filePath", &bucket.uri("one.csv"), vec![])
    };
    assert_failed(
        &execute(&to_file("APPEND")).await,
        "RedshiftCopyFailed",
        "already exists",
    );
    assert_eq!(bucket.text("one.csv"), "old\n");
    assert_finished(&execute(&to_file("TRUNCATE")).await);
    assert_eq!(bucket.text("one.csv"), "1\n2\n");
}

/// 70,000 rows of about 97 bytes: more than one 5 MB file.
fn big_table() -> (String, PgTables) {
    let table = unique("unload_big");
    let drop = PgTables(vec![table.clone(), format!("{table}_back")]);
    psql(&format!(
        "CREATE TABLE {table} AS SELECT g AS id, repeat('x', 90) AS pad FROM generate_series(1, 70000) g"
    ));
    (table, drop)
}

#[tokio::test]
async fn maxfilesize_cuts_parts_and_a_failure_removes_the_completed_ones() {
    let bucket = Bucket::new();
    let (table, _drop) = big_table();
    let ctx = bucket
        .unload(&table, "APPEND")
        .select(&format!("SELECT id, pad FROM {table} ORDER BY id"))
        .options(&["MAXFILESIZE 5 MB", "MANIFEST"])
        .into("directoryPath", &bucket.uri("big"), vec![]);
    assert_finished(&execute(&ctx).await);
    assert_eq!(
        bucket.keys(),
        ["big/0000_part_00", "big/0000_part_01", "big/manifest"]
    );
    let parts = ["big/0000_part_00", "big/0000_part_01"];
    for part in parts {
        let size = bucket.bytes(part).len();
        assert!(size <= 5 * 1024 * 1024, "{part} has {size} bytes");
    }
    let pad = "x".repeat(90);
    let expected: String = (1..=70000).map(|i| format!("{i},{pad}\n")).collect();
    assert_eq!(parts.map(|p| bucket.text(p)).concat(), expected);
    let manifest: serde_json::Value = serde_json::from_str(&bucket.text("big/manifest")).unwrap();
    assert_eq!(
        manifest,
        serde_json::json!({ "entries": [
            { "url": bucket.uri("big/0000_part_00") },
            { "url": bucket.uri("big/0000_part_01") },
        ] })
    );

    // The manifest is what a load reads: CopyActivity through manifestFilePath.
    let back = format!("{table}_back");
    psql(&format!("CREATE TABLE {back} (id int, pad text)"));
    let ctx = bucket.env.ctx(
        "CopyActivity",
        vec![
            r("input", "Staged"),
            r("output", "Back"),
            s("workerGroup", "wg"),
        ],
        vec![
            obj(
                "Staged",
                "S3DataNode",
                vec![
                    s("directoryPath", &bucket.uri("big")),
                    s("manifestFilePath", &bucket.uri("big/manifest")),
                ],
            ),
            obj(
                "Back",
                "SqlDataNode",
                vec![r("database", "Db"), s("table", &back)],
            ),
            pg_db("Db"),
        ],
    );
    assert_finished(&execute(&ctx).await);
    assert_eq!(
        psql(&format!(
            "SELECT count(*), count(DISTINCT id), sum(id), min(pad) = max(pad) FROM {back}"
        )),
        "70000|70000|2450035000|t\n"
    );

    // The query fails at row 65,000, after the first part was complete: it goes again.
    let ctx = bucket
        .unload(&table, "APPEND")
        .select("SELECT g, repeat('x', 90), 1 / (g - 65000) FROM generate_series(1, 70000) g")
        .options(&["MAXFILESIZE 5 MB", "MANIFEST"])
        .into("directoryPath", &bucket.uri("failing"), vec![]);
    assert_failed(
        &execute(&ctx).await,
        "RedshiftCopyFailed",
        "division by zero",
    );
    assert!(
        bucket.keys().iter().all(|k| k.starts_with("big/")),
        "{:?}",
        bucket.keys()
    );
}

#[tokio::test]
async fn options_and_fields_that_cannot_apply_are_refused_naming_them() {
    let bucket = Bucket::new();
    let (table, _drop) = awkward_table("unload_refused");
    let never = bucket.uri("never");
    let refused: Vec<(AttemptContext, &str, String)> =
        vec![
        (
            bucket
                .unload(&table, "APPEND")
                .options(&["PARALLEL OFF", "BZIP2"])
                .into("directoryPath", &never, vec![]),
            "InvalidTask",
            "commandOptions: BZIP2 is not supported".into(),
        ),
        (
            bucket
                .unload(&table, "APPEND")
                .options(&["EMPTYASNULL"])
                .into("directoryPath", &never, vec![]),
            "InvalidTask",
            "EMPTYASNULL is not a Redshift UNLOAD option".into(),
        ),
        (
            bucket
                .unload(&table, "APPEND")
                .options(&["DELIMITER '|'"])
                .with(obj("Csv", "CSV", vec![]))
                .into("directoryPath", &never, vec![r("dataFormat", "Csv")]),
            "InvalidTask",
            "commandOptions DELIMITER sets the record format, which dataFormat Csv already sets"
                .into(),
        ),
        (
            bucket
                .unload(&table, "APPEND")
                .with(obj("Re", "RegEx", vec![s("outputFormat", "%1$s")]))
                .into("directoryPath", &never, vec![r("dataFormat", "Re")]),
            "InvalidTask",
            "dataFormat Re is RegEx; an unload writes CSV, TSV or Custom".into(),
        ),
        (
            bucket
                .unload(&table, "APPEND")
                .options(&["MANIFEST"])
                .into("filePath", &bucket.uri("never/one.csv"), vec![]),
            "InvalidTask",
            "commandOptions MANIFEST needs a directoryPath output".into(),
        ),
        (
            bucket
                .unload(&table, "APPEND")
                .field(s("transformSql", "SELECT * FROM staging"))
                .into("directoryPath", &never, vec![]),
            "InvalidTask",
            "transformSql transforms rows loaded into Redshift".into(),
        ),
        (
            bucket
                .unload(&format!("{table}_missing"), "APPEND")
                .into("directoryPath", &never, vec![]),
            "RedshiftCopyFailed",
            format!("{table}_missing"),
        ),
    ];
    for (ctx, error_id, message) in &refused {
        assert_failed(&execute(ctx).await, error_id, message);
    }
    assert_eq!(bucket.keys(), Vec::<String>::new());
}
