//! Shared by the SQL and copy executor tests: attempt contexts over a temporary data directory,
//! the local object store, and the real PostgreSQL, MariaDB and SQLite on this machine (driven
//! through their own command-line clients, so checks do not go through the code under test).

#![allow(dead_code, unreachable_pub)]

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};

use sluice_component::{AttemptContext, Catalog, RunnerSettings};
use sluice_data::DataSettings;
use sluice_model::{Field, PipelineObject, TaskObject, TaskResult, TaskStatus};
use tempfile::TempDir;
use tokio_util::sync::CancellationToken;

pub const ATTEMPT_ID: &str = "@Job_2024-01-01T00:00:00_Attempt=1";
pub const PG_URL: &str = "jdbc:postgresql://127.0.0.1:5432/test";
pub const MY_URL: &str = "jdbc:mariadb://127.0.0.1:3306/test";

pub fn s(key: &str, value: &str) -> Field {
    Field::string(key, value)
}

pub fn r(key: &str, target: &str) -> Field {
    Field::reference(key, target)
}

/// An object of `type_name` with `fields`.
pub fn obj(id: &str, type_name: &str, fields: Vec<Field>) -> PipelineObject {
    let mut all = vec![s("type", type_name)];
    all.extend(fields);
    PipelineObject {
        id: id.to_string(),
        name: id.to_string(),
        fields: all,
    }
}

/// A name no other test (or earlier run) uses: tables and buckets per test.
pub fn unique(prefix: &str) -> String {
    static NEXT: AtomicU32 = AtomicU32::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .subsec_nanos();
    format!(
        "{prefix}_{}_{}_{nanos}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    )
}

pub struct Env {
    pub tmp: TempDir,
    pub data: DataSettings,
}

impl Env {
    pub fn new() -> Self {
        Env {
            tmp: tempfile::tempdir().unwrap(),
            data: DataSettings::default(),
        }
    }

    pub fn with_data(data: DataSettings) -> Self {
        Env {
            tmp: tempfile::tempdir().unwrap(),
            data,
        }
    }

    pub fn data_dir(&self) -> PathBuf {
        self.tmp.path().join("data")
    }

    /// The file behind `s3://bucket/key` in the embedded store.
    pub fn s3_file(&self, bucket_and_key: &str) -> PathBuf {
        self.data_dir().join("s3").join(bucket_and_key)
    }

    pub fn put(&self, bucket_and_key: &str, bytes: impl AsRef<[u8]>) {
        let path = self.s3_file(bucket_and_key);
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::write(path, bytes).unwrap();
    }

    pub fn get(&self, bucket_and_key: &str) -> Vec<u8> {
        fs::read(self.s3_file(bucket_and_key))
            .unwrap_or_else(|e| panic!("s3://{bucket_and_key}: {e}"))
    }

    /// The files under a directory of the embedded store, relative names, sorted.
    pub fn list(&self, bucket_and_prefix: &str) -> Vec<String> {
        let root = self.s3_file(bucket_and_prefix);
        let mut out = Vec::new();
        walk(&root, &root, &mut out);
        out.sort();
        out
    }

    /// The attempt's `stdout.log`, where executors write their summary line.
    pub fn stdout(&self) -> String {
        fs::read_to_string(self.tmp.path().join("attempt/stdout.log")).unwrap_or_default()
    }

    pub fn sqlite_path(&self) -> PathBuf {
        self.tmp.path().join("db.sqlite")
    }

    /// A context for an attempt of `type_name` with `fields`; `others` are the objects the
    /// attempt references.
    pub fn ctx(
        &self,
        type_name: &str,
        fields: Vec<Field>,
        others: Vec<PipelineObject>,
    ) -> AttemptContext {
        let mut objects = BTreeMap::new();
        objects.insert(ATTEMPT_ID.to_string(), obj(ATTEMPT_ID, type_name, fields));
        for o in others {
            objects.insert(o.id.clone(), o);
        }
        let attempt_dir = self.tmp.path().join("attempt");
        fs::create_dir_all(&attempt_dir).unwrap();
        AttemptContext {
            task: TaskObject {
                task_id: "task-1".into(),
                pipeline_id: "df-TEST".into(),
                attempt_id: ATTEMPT_ID.into(),
                objects,
            },
            stdout_log: attempt_dir.join("stdout.log"),
            stderr_log: attempt_dir.join("stderr.log"),
            attempt_dir,
            cancel: CancellationToken::new(),
            settings: Arc::new(RunnerSettings {
                data_dir: self.data_dir(),
                data: Arc::new(self.data.clone()),
            }),
        }
    }
}

fn walk(root: &Path, dir: &Path, out: &mut Vec<String>) {
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    for entry in entries {
        let path = entry.unwrap().path();
        if path.is_dir() {
            walk(root, &path, out);
        } else {
            out.push(
                path.strip_prefix(root)
                    .unwrap()
                    .to_string_lossy()
                    .into_owned(),
            );
        }
    }
}

/// Runs the attempt through the catalog, as a runner does.
pub async fn execute(ctx: &AttemptContext) -> TaskResult {
    let type_name = ctx.attempt().unwrap().object_type().unwrap().to_string();
    let kind = Catalog::builtin().get(&type_name).unwrap();
    kind.executor()
        .expect("type has an executor")
        .execute(ctx)
        .await
}

pub fn assert_finished(result: &TaskResult) {
    assert_eq!(result.task_status, TaskStatus::Finished, "{result:?}");
}

pub fn assert_failed(result: &TaskResult, error_id: &str, message_part: &str) {
    assert_eq!(result.task_status, TaskStatus::Failed, "{result:?}");
    assert_eq!(result.error_id.as_deref(), Some(error_id), "{result:?}");
    let message = result.error_message.as_deref().unwrap_or_default();
    assert!(
        message.contains(message_part),
        "expected {message_part:?} in {message:?}"
    );
}

fn run(mut cmd: Command) -> String {
    let out = cmd.output().expect("client runs");
    assert!(
        out.status.success(),
        "{cmd:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// Runs SQL on the local PostgreSQL `test` database; rows come back as `a|b` lines.
pub fn psql(sql: &str) -> String {
    let mut cmd = Command::new("psql");
    cmd.args([
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
        "-v",
        "ON_ERROR_STOP=1",
        "-c",
        sql,
    ]);
    run(cmd)
}

/// Runs SQL on the local MariaDB `test` database; rows come back tab-separated.
pub fn mariadb(sql: &str) -> String {
    let mut cmd = Command::new("mariadb");
    cmd.args([
        "-h",
        "127.0.0.1",
        "-u",
        "root",
        "-N",
        "-B",
        "test",
        "-e",
        sql,
    ]);
    run(cmd)
}

/// Runs SQL on a SQLite file; rows come back as `a|b` lines.
pub fn sqlite(path: &Path, sql: &str) -> String {
    let mut cmd = Command::new("sqlite3");
    cmd.arg(path).arg(sql);
    run(cmd)
}

pub fn pg_db(id: &str) -> PipelineObject {
    obj(
        id,
        "JdbcDatabase",
        vec![
            s("connectionString", PG_URL),
            s("jdbcDriverClass", "org.postgresql.Driver"),
            s("username", "postgres"),
            s("*password", "unused-with-trust-auth"),
        ],
    )
}

pub fn my_db(id: &str) -> PipelineObject {
    obj(
        id,
        "JdbcDatabase",
        vec![
            s("connectionString", MY_URL),
            s("jdbcDriverClass", "org.mariadb.jdbc.Driver"),
            s("username", "root"),
            s("*password", ""),
        ],
    )
}

pub fn sqlite_db(id: &str, path: &Path) -> PipelineObject {
    obj(
        id,
        "JdbcDatabase",
        vec![
            s(
                "connectionString",
                &format!("jdbc:sqlite:{}", path.display()),
            ),
            s("jdbcDriverClass", "org.sqlite.JDBC"),
            s("username", "x"),
            s("*password", "x"),
        ],
    )
}

/// Drops the PostgreSQL tables when the test ends, pass or fail.
pub struct PgTables(pub Vec<String>);

impl Drop for PgTables {
    fn drop(&mut self) {
        for t in &self.0 {
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
                    &format!("DROP TABLE IF EXISTS {t}"),
                ])
                .output();
        }
    }
}

/// Drops the MariaDB tables when the test ends, pass or fail.
pub struct MyTables(pub Vec<String>);

impl Drop for MyTables {
    fn drop(&mut self) {
        for t in &self.0 {
            let _ = Command::new("mariadb")
                .args([
                    "-h",
                    "127.0.0.1",
                    "-u",
                    "root",
                    "test",
                    "-e",
                    &format!("DROP TABLE IF EXISTS {t}"),
                ])
                .output();
        }
    }
}
