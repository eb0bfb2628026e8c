//! Shared by the SQL, copy and unload executor tests: attempt contexts over a temporary data directory,
//! the local object store, and the real PostgreSQL, MariaDB and SQLite on this machine (driven
//! through their own command-line clients, so checks do not go through the code under test).

// Each test target uses part of it (the unload tests no MariaDB).
#![allow(dead_code, unreachable_pub, unused_imports)]

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;

use sluice_executors::{AttemptContext, RunnerSettings};

use crate::attempt_support::{Ids, attempt_context, objects_by_id};
pub(crate) use crate::attempt_support::{assert_failed, execute, r, s};
use sluice_data::DataSettings;
use sluice_model::{Field, PipelineObject, TaskResult, TaskStatus};
use tempfile::TempDir;

pub const ATTEMPT_ID: &str = "@Job_2024-01-01T00:00:00_Attempt=1";
pub use sluice_testsupport::databases::{
    MARIADB_URL as MY_URL, MariaDbTables as MyTables, POSTGRES_URL as PG_URL, PgTables, mariadb,
    psql, unique_name as unique,
};

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
        files_under(&self.s3_file(bucket_and_prefix))
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
        attempt_context(
            Ids {
                task: "task-1",
                pipeline: "df-TEST",
                attempt: ATTEMPT_ID,
            },
            objects_by_id(obj(ATTEMPT_ID, type_name, fields), others),
            self.tmp.path().join("attempt"),
            RunnerSettings {
                data_dir: self.data_dir(),
                data: Arc::new(self.data.clone()),
            },
        )
    }
}

/// The files under `root` (an object store's directory), relative names, sorted.
pub fn files_under(root: &Path) -> Vec<String> {
    let mut out = Vec::new();
    walk(root, root, &mut out);
    out.sort();
    out
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

/// Data settings that reach `server` for every `s3://` URI.
pub fn s3_server_settings(server: &sluice_testsupport::s3::S3Server) -> DataSettings {
    serde_json::from_value(serde_json::json!({
        "s3": {
            "endpoint": server.endpoint(),
            "accessKeyId": server.access_key(),
            "secretAccessKey": server.secret_key(),
        }
    }))
    .unwrap()
}

pub fn assert_finished(result: &TaskResult) {
    assert_eq!(result.task_status, TaskStatus::Finished, "{result:?}");
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
