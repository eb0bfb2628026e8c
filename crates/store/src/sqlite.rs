//! The SQLite store; the crate documentation explains the design.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::sync::LazyLock;
use std::time::Duration;

use async_trait::async_trait;
use chrono::NaiveDateTime;
use serde::de::DeserializeOwned;
use sluice_engine::store::StoreResult;
use sluice_engine::{AttemptRecord, ChangeSet, InstanceRecord, PipelineRecord, Store, StoreError};
use sqlx::migrate::{MigrateError, Migrator};
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteRow,
    SqliteSynchronous,
};
use sqlx::{Row, Sqlite, Transaction};

static MIGRATOR: Migrator = sqlx::migrate!("./migrations");

/// How long a statement waits for another process's lock before giving up as `Unavailable`.
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// Connections for reads; readers never wait for the writer under WAL, so a few suffice.
const READERS: u32 = 4;

/// Rows per multi-row upsert. Larger batches mean fewer statement executions (each one a round
/// trip to the connection's worker thread); the bound keeps the parameter count (rows × 8
/// columns at most) well under SQLite's limit of 32 766.
const BATCH_ROWS: usize = 500;

const PIPELINE_COLUMNS: &[&str] = &["pipeline_id", "state", "version", "created_at", "data"];
const INSTANCE_COLUMNS: &[&str] = &[
    "pipeline_id",
    "instance_id",
    "component_id",
    "status",
    "scheduled_start",
    "data",
];
const ATTEMPT_COLUMNS: &[&str] = &[
    "pipeline_id",
    "attempt_id",
    "instance_id",
    "number",
    "status",
    "worker_group",
    "lease_expires_at",
    "data",
];

static UPSERT_PIPELINE: LazyLock<String> =
    LazyLock::new(|| upsert_sql("pipelines", PIPELINE_COLUMNS, 1, 1));
static UPSERT_INSTANCE_BATCH: LazyLock<String> =
    LazyLock::new(|| upsert_sql("instances", INSTANCE_COLUMNS, 2, BATCH_ROWS));
static UPSERT_ATTEMPT_BATCH: LazyLock<String> =
    LazyLock::new(|| upsert_sql("attempts", ATTEMPT_COLUMNS, 2, BATCH_ROWS));

/// `INSERT INTO table (columns) VALUES (?, …), … ON CONFLICT (first key_len columns) DO UPDATE`
/// for `rows` rows. SQLite applies the rows in order, so of two rows with one key in a batch the
/// later one wins.
fn upsert_sql(table: &str, columns: &[&str], key_len: usize, rows: usize) -> String {
    let placeholders = format!("({})", vec!["?"; columns.len()].join(", "));
    let values = vec![placeholders.as_str(); rows].join(", ");
    let updates: Vec<String> = columns[key_len..]
        .iter()
        .map(|c| format!("{c} = excluded.{c}"))
        .collect();
    format!(
        "INSERT INTO {table} ({}) VALUES {values} ON CONFLICT ({}) DO UPDATE SET {}",
        columns.join(", "),
        columns[..key_len].join(", "),
        updates.join(", ")
    )
}

/// Fixed-width, so that text order is time order (for years 0 to 9999).
fn time_key(time: NaiveDateTime) -> String {
    time.format("%Y-%m-%dT%H:%M:%S%.9f").to_string()
}

/// The version column holds the u64's bits as an i64 (SQLite integers are signed).
fn version_to_column(version: u64) -> i64 {
    i64::from_ne_bytes(version.to_ne_bytes())
}

fn version_from_column(column: i64) -> u64 {
    u64::from_ne_bytes(column.to_ne_bytes())
}

/// A durable [`Store`] in one SQLite database file.
#[derive(Debug, Clone)]
pub struct SqliteStore {
    /// One connection: every write goes through it (see the crate documentation).
    writer: SqlitePool,
    readers: SqlitePool,
    /// The file's path, or a description of an in-memory database, for error messages.
    location: String,
    path: Option<PathBuf>,
}

impl SqliteStore {
    /// Opens (creating if needed, with its parent directories) the database at `path` and
    /// brings its schema up to date.
    ///
    /// Fails with `Unavailable` when the file cannot be created or opened, and with `Corrupt`
    /// when it is not a SQLite database or was migrated by a newer Sluice.
    pub async fn open(path: &Path) -> Result<SqliteStore, StoreError> {
        let location = path.display().to_string();
        if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            tokio::fs::create_dir_all(parent).await.map_err(|e| {
                StoreError::Unavailable(format!(
                    "cannot open {location}: cannot create directory {}: {e}",
                    parent.display()
                ))
            })?;
        }
        let options = SqliteConnectOptions::new()
            .filename(path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .busy_timeout(BUSY_TIMEOUT)
            .foreign_keys(true);
        // The writer connects first: switching the file to WAL needs a lock that waits for
        // nobody, so it is done before any reader exists.
        let writer = SqlitePoolOptions::new()
            .max_connections(1)
            .connect_with(options.clone())
            .await
            .map_err(|e| sql_error(&location, "cannot open", e))?;
        migrate(&writer, &location).await?;
        let readers = SqlitePoolOptions::new()
            .max_connections(READERS)
            .connect_with(options.pragma("query_only", "ON"))
            .await
            .map_err(|e| sql_error(&location, "cannot open", e))?;
        Ok(SqliteStore {
            writer,
            readers,
            location,
            path: Some(path.to_owned()),
        })
    }

    /// A private database in memory, for tests: it vanishes with the store.
    pub async fn open_in_memory() -> Result<SqliteStore, StoreError> {
        let location = "in-memory database".to_owned();
        let options = SqliteConnectOptions::new()
            .in_memory(true)
            .foreign_keys(true);
        // An in-memory database lives exactly as long as its connection, so the pool keeps its
        // only connection forever and reads share it.
        let pool = SqlitePoolOptions::new()
            .max_connections(1)
            .min_connections(1)
            .idle_timeout(None)
            .max_lifetime(None)
            .connect_with(options)
            .await
            .map_err(|e| sql_error(&location, "cannot open", e))?;
        migrate(&pool, &location).await?;
        Ok(SqliteStore {
            writer: pool.clone(),
            readers: pool,
            location,
            path: None,
        })
    }

    /// The database file, or `None` for an in-memory store.
    pub fn path(&self) -> Option<&Path> {
        self.path.as_deref()
    }

    /// Closes every connection, waiting for operations in progress; later operations fail with
    /// `Unavailable`. Closing the last connection checkpoints the WAL into the database file.
    pub async fn close(&self) {
        self.readers.close().await;
        self.writer.close().await;
    }

    fn error(&self, doing: &str, error: sqlx::Error) -> StoreError {
        sql_error(&self.location, doing, error)
    }

    async fn read_rows(&self, what: &str, sql: &str, key: &str) -> StoreResult<Vec<SqliteRow>> {
        sqlx::query(sql)
            .bind(key)
            .fetch_all(&self.readers)
            .await
            .map_err(|e| self.error(&format!("cannot read {what} from"), e))
    }

    /// Decodes one row's `data`, checking that the record is the one the row is keyed by.
    fn decode<T: DeserializeOwned>(
        &self,
        row: &SqliteRow,
        kind: &str,
        pipeline_id: Option<&str>,
        ids: impl Fn(&T) -> (&str, &str),
    ) -> StoreResult<T> {
        let corrupt = |what: String| StoreError::Corrupt(format!("{what} (in {})", self.location));
        let id: String = row
            .try_get(0)
            .map_err(|e| corrupt(format!("a {kind} row has an unreadable id: {e}")))?;
        let owner = match pipeline_id {
            Some(p) => format!("{kind} {id} of pipeline {p}"),
            None => format!("{kind} {id}"),
        };
        let data: String = row
            .try_get(1)
            .map_err(|e| corrupt(format!("{owner} has an unreadable data column: {e}")))?;
        let record: T = serde_json::from_str(&data)
            .map_err(|e| corrupt(format!("{owner} cannot be decoded: {e}")))?;
        let (record_pipeline, record_id) = ids(&record);
        if record_id != id || pipeline_id.is_some_and(|p| p != record_pipeline) {
            return Err(corrupt(format!(
                "{owner} holds the record of {kind} {record_id} of pipeline {record_pipeline}"
            )));
        }
        Ok(record)
    }
}

async fn migrate(pool: &SqlitePool, location: &str) -> StoreResult<()> {
    MIGRATOR.run(pool).await.map_err(|error| match error {
        MigrateError::Execute(e) => sql_error(location, "cannot read the schema version of", e),
        MigrateError::ExecuteMigration(e, version) => sql_error(
            location,
            &format!("cannot apply schema migration {version} to"),
            e,
        ),
        MigrateError::VersionMissing(version) => StoreError::Corrupt(format!(
            "{location} was written by a newer Sluice: it has schema migration {version}, \
             which this build does not know"
        )),
        MigrateError::VersionMismatch(version) => StoreError::Corrupt(format!(
            "{location}: schema migration {version} differs from this build's"
        )),
        MigrateError::Dirty(version) => StoreError::Corrupt(format!(
            "{location}: schema migration {version} was left half-applied"
        )),
        other => StoreError::Unavailable(format!("cannot migrate {location}: {other}")),
    })
}

/// Maps a database error to the store's error kinds, naming the operation and the database:
/// `cannot open /x/sluice.db: unable to open database file`.
fn sql_error(location: &str, doing: &str, error: sqlx::Error) -> StoreError {
    // SQLite's primary result codes (the low byte of the extended code sqlx reports).
    const SQLITE_CORRUPT: i64 = 11;
    const SQLITE_CONSTRAINT: i64 = 19;
    const SQLITE_NOTADB: i64 = 26;

    let message = |detail: &dyn std::fmt::Display| format!("{doing} {location}: {detail}");
    match &error {
        sqlx::Error::Database(db) => {
            let primary = db
                .code()
                .and_then(|code| code.parse::<i64>().ok())
                .map(|code| code & 0xff);
            let text = message(&db.message());
            match primary {
                Some(SQLITE_CORRUPT | SQLITE_NOTADB) => StoreError::Corrupt(text),
                // Includes SQLITE_CONSTRAINT_FOREIGNKEY (787): a record whose pipeline is gone.
                Some(SQLITE_CONSTRAINT) => StoreError::Conflict(text),
                _ => StoreError::Unavailable(text),
            }
        }
        sqlx::Error::Io(e) => StoreError::Unavailable(message(e)),
        sqlx::Error::PoolTimedOut => {
            StoreError::Unavailable(message(&"timed out waiting for a database connection"))
        }
        sqlx::Error::PoolClosed => StoreError::Unavailable(message(&"the store has been closed")),
        sqlx::Error::RowNotFound
        | sqlx::Error::TypeNotFound { .. }
        | sqlx::Error::ColumnIndexOutOfBounds { .. }
        | sqlx::Error::ColumnNotFound(_)
        | sqlx::Error::ColumnDecode { .. }
        | sqlx::Error::Decode(_) => StoreError::Corrupt(message(&error)),
        _ => StoreError::Unavailable(message(&error)),
    }
}

/// The error every store returns when a pipeline record does not advance the stored version.
fn stale_version(pipeline_id: &str, stored: u64, written: u64) -> StoreError {
    StoreError::Conflict(format!(
        "pipeline {pipeline_id}: stored version is {stored}, the write carries version \
         {written}; another writer changed it first (each write must increase the version)"
    ))
}

fn encode<T: serde::Serialize>(record: &T, kind: &str, id: &str) -> StoreResult<String> {
    // The records hold only strings, numbers and string-keyed maps, which always serialize;
    // should that ever change, the commit fails rather than storing half a record.
    serde_json::to_string(record)
        .map_err(|e| StoreError::Corrupt(format!("{kind} {id} cannot be encoded as JSON: {e}")))
}

struct InstanceRow<'a> {
    record: &'a InstanceRecord,
    scheduled_start: String,
    data: String,
}

struct AttemptRow<'a> {
    record: &'a AttemptRecord,
    lease_expires_at: Option<String>,
    data: String,
}

type Tx = Transaction<'static, Sqlite>;

impl SqliteStore {
    /// Fails with `Conflict` unless every pipeline record advances the version stored (or
    /// written earlier in the change set). Runs inside the write transaction, so the versions
    /// read cannot change before the write.
    async fn check_versions(&self, tx: &mut Tx, pipelines: &[PipelineRecord]) -> StoreResult<()> {
        let mut written: BTreeMap<&str, u64> = BTreeMap::new();
        for pipeline in pipelines {
            let id = pipeline.pipeline_id.as_str();
            let current = match written.get(id) {
                Some(version) => Some(*version),
                None => sqlx::query_scalar::<_, i64>(
                    "SELECT version FROM pipelines WHERE pipeline_id = ?",
                )
                .bind(id)
                .fetch_optional(&mut **tx)
                .await
                .map_err(|e| self.error(&format!("cannot read pipeline {id} from"), e))?
                .map(version_from_column),
            };
            if let Some(current) = current
                && pipeline.version <= current
            {
                return Err(stale_version(id, current, pipeline.version));
            }
            written.insert(id, pipeline.version);
        }
        Ok(())
    }

    /// Fails with `Conflict` naming the first instance or attempt whose pipeline neither exists
    /// nor is written in the change set. The foreign keys refuse such rows, but cannot say which
    /// record it was, so `commit` runs this only after a write fails on a constraint.
    async fn check_owners(&self, tx: &mut Tx, changes: &ChangeSet) -> StoreResult<()> {
        let written: BTreeSet<&str> = changes
            .pipelines
            .iter()
            .map(|p| p.pipeline_id.as_str())
            .collect();
        let mut checked: BTreeSet<&str> = BTreeSet::new();
        let owners = changes
            .instances
            .iter()
            .map(|i| ("instance", i.instance_id.as_str(), i.pipeline_id.as_str()))
            .chain(
                changes
                    .attempts
                    .iter()
                    .map(|a| ("attempt", a.attempt_id.as_str(), a.pipeline_id.as_str())),
            );
        for (kind, id, pipeline_id) in owners {
            if written.contains(pipeline_id) || !checked.insert(pipeline_id) {
                continue;
            }
            let exists = sqlx::query("SELECT 1 FROM pipelines WHERE pipeline_id = ?")
                .bind(pipeline_id)
                .fetch_optional(&mut **tx)
                .await
                .map_err(|e| self.error(&format!("cannot read pipeline {pipeline_id} from"), e))?
                .is_some();
            if !exists {
                return Err(StoreError::Conflict(format!(
                    "{kind} {id}: pipeline {pipeline_id} does not exist (deleted, or never created)"
                )));
            }
        }
        Ok(())
    }

    async fn write_records(&self, tx: &mut Tx, changes: &ChangeSet) -> StoreResult<()> {
        self.write_instances(tx, &changes.instances).await?;
        self.write_attempts(tx, &changes.attempts).await
    }

    async fn write_pipelines(&self, tx: &mut Tx, pipelines: &[PipelineRecord]) -> StoreResult<()> {
        for pipeline in pipelines {
            let id = pipeline.pipeline_id.as_str();
            let data = encode(pipeline, "pipeline", id)?;
            sqlx::query(UPSERT_PIPELINE.as_str())
                .bind(id)
                .bind(pipeline.state.as_str())
                .bind(version_to_column(pipeline.version))
                .bind(time_key(pipeline.created_at))
                .bind(data)
                .execute(&mut **tx)
                .await
                .map_err(|e| self.error(&format!("cannot write pipeline {id} to"), e))?;
        }
        Ok(())
    }

    async fn write_instances(&self, tx: &mut Tx, instances: &[InstanceRecord]) -> StoreResult<()> {
        let rows = instances
            .iter()
            .map(|record| {
                Ok(InstanceRow {
                    record,
                    scheduled_start: time_key(record.scheduled_start),
                    data: encode(record, "instance", &record.instance_id)?,
                })
            })
            .collect::<StoreResult<Vec<_>>>()?;
        for batch in rows.chunks(BATCH_ROWS) {
            let partial;
            let sql = if batch.len() == BATCH_ROWS {
                UPSERT_INSTANCE_BATCH.as_str()
            } else {
                partial = upsert_sql("instances", INSTANCE_COLUMNS, 2, batch.len());
                partial.as_str()
            };
            let mut query = sqlx::query(sql);
            for row in batch {
                query = query
                    .bind(row.record.pipeline_id.as_str())
                    .bind(row.record.instance_id.as_str())
                    .bind(row.record.component_id.as_str())
                    .bind(row.record.status.as_str())
                    .bind(row.scheduled_start.as_str())
                    .bind(row.data.as_str());
            }
            query.execute(&mut **tx).await.map_err(|e| {
                let first = &batch[0].record;
                self.error(
                    &format!(
                        "cannot write instances (from {} of pipeline {}) to",
                        first.instance_id, first.pipeline_id
                    ),
                    e,
                )
            })?;
        }
        Ok(())
    }

    async fn write_attempts(&self, tx: &mut Tx, attempts: &[AttemptRecord]) -> StoreResult<()> {
        let rows = attempts
            .iter()
            .map(|record| {
                Ok(AttemptRow {
                    record,
                    lease_expires_at: record.lease_expires_at.map(time_key),
                    data: encode(record, "attempt", &record.attempt_id)?,
                })
            })
            .collect::<StoreResult<Vec<_>>>()?;
        for batch in rows.chunks(BATCH_ROWS) {
            let partial;
            let sql = if batch.len() == BATCH_ROWS {
                UPSERT_ATTEMPT_BATCH.as_str()
            } else {
                partial = upsert_sql("attempts", ATTEMPT_COLUMNS, 2, batch.len());
                partial.as_str()
            };
            let mut query = sqlx::query(sql);
            for row in batch {
                query = query
                    .bind(row.record.pipeline_id.as_str())
                    .bind(row.record.attempt_id.as_str())
                    .bind(row.record.instance_id.as_str())
                    .bind(i64::from(row.record.number))
                    .bind(row.record.status.as_str())
                    .bind(row.record.worker_group.as_str())
                    .bind(row.lease_expires_at.as_deref())
                    .bind(row.data.as_str());
            }
            query.execute(&mut **tx).await.map_err(|e| {
                let first = &batch[0].record;
                self.error(
                    &format!(
                        "cannot write attempts (from {} of pipeline {}) to",
                        first.attempt_id, first.pipeline_id
                    ),
                    e,
                )
            })?;
        }
        Ok(())
    }
}

#[async_trait]
impl Store for SqliteStore {
    async fn commit(&self, changes: &ChangeSet) -> StoreResult<()> {
        if changes.is_empty() {
            return Ok(());
        }
        // IMMEDIATE takes the write lock now, so the versions checked below are the ones the
        // writes replace. Any early return drops the transaction, which rolls it back.
        let mut tx = self
            .writer
            .begin_with("BEGIN IMMEDIATE")
            .await
            .map_err(|e| self.error("cannot start a transaction on", e))?;
        // Reads nothing when the change set holds no pipeline record (most commits).
        self.check_versions(&mut tx, &changes.pipelines).await?;
        self.write_pipelines(&mut tx, &changes.pipelines).await?;
        // The foreign keys refuse an instance or attempt whose pipeline does not exist, without
        // a read per commit; only then is the record looked for, to name it.
        if let Err(error) = self.write_records(&mut tx, changes).await {
            if let StoreError::Conflict(_) = error {
                self.check_owners(&mut tx, changes).await?;
            }
            return Err(error);
        }
        tx.commit()
            .await
            .map_err(|e| self.error("cannot commit to", e))
    }

    async fn pipeline(&self, pipeline_id: &str) -> StoreResult<Option<PipelineRecord>> {
        let rows = self
            .read_rows(
                &format!("pipeline {pipeline_id}"),
                "SELECT pipeline_id, data FROM pipelines WHERE pipeline_id = ?",
                pipeline_id,
            )
            .await?;
        rows.first()
            .map(|row| {
                self.decode(row, "pipeline", None, |p: &PipelineRecord| {
                    (p.pipeline_id.as_str(), p.pipeline_id.as_str())
                })
            })
            .transpose()
    }

    async fn pipelines(&self) -> StoreResult<Vec<PipelineRecord>> {
        let rows = sqlx::query("SELECT pipeline_id, data FROM pipelines ORDER BY pipeline_id")
            .fetch_all(&self.readers)
            .await
            .map_err(|e| self.error("cannot read pipelines from", e))?;
        rows.iter()
            .map(|row| {
                self.decode(row, "pipeline", None, |p: &PipelineRecord| {
                    (p.pipeline_id.as_str(), p.pipeline_id.as_str())
                })
            })
            .collect()
    }

    async fn instances(&self, pipeline_id: &str) -> StoreResult<Vec<InstanceRecord>> {
        let rows = self
            .read_rows(
                &format!("instances of pipeline {pipeline_id}"),
                "SELECT instance_id, data FROM instances WHERE pipeline_id = ? \
                 ORDER BY scheduled_start, instance_id",
                pipeline_id,
            )
            .await?;
        rows.iter()
            .map(|row| {
                self.decode(row, "instance", Some(pipeline_id), |i: &InstanceRecord| {
                    (i.pipeline_id.as_str(), i.instance_id.as_str())
                })
            })
            .collect()
    }

    async fn attempts(&self, pipeline_id: &str) -> StoreResult<Vec<AttemptRecord>> {
        let rows = self
            .read_rows(
                &format!("attempts of pipeline {pipeline_id}"),
                "SELECT attempt_id, data FROM attempts WHERE pipeline_id = ? \
                 ORDER BY instance_id, number, attempt_id",
                pipeline_id,
            )
            .await?;
        rows.iter()
            .map(|row| {
                self.decode(row, "attempt", Some(pipeline_id), |a: &AttemptRecord| {
                    (a.pipeline_id.as_str(), a.attempt_id.as_str())
                })
            })
            .collect()
    }

    async fn delete_pipeline(&self, pipeline_id: &str) -> StoreResult<()> {
        let doing = format!("cannot delete pipeline {pipeline_id} from");
        let mut tx = self
            .writer
            .begin_with("BEGIN IMMEDIATE")
            .await
            .map_err(|e| self.error(&doing, e))?;
        // Children first and explicitly, so the delete does not depend on the connection having
        // foreign keys (and their cascades) switched on.
        for sql in [
            "DELETE FROM attempts WHERE pipeline_id = ?",
            "DELETE FROM instances WHERE pipeline_id = ?",
            "DELETE FROM pipelines WHERE pipeline_id = ?",
        ] {
            sqlx::query(sql)
                .bind(pipeline_id)
                .execute(&mut *tx)
                .await
                .map_err(|e| self.error(&doing, e))?;
        }
        tx.commit().await.map_err(|e| self.error(&doing, e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn time_keys_sort_as_times() {
        let times = [
            sluice_engine::conformance::at((999, 1, 1), (0, 0, 0), 0),
            sluice_engine::conformance::at((2023, 12, 31), (23, 59, 59), 999_999_999),
            sluice_engine::conformance::at((2024, 1, 1), (0, 0, 0), 0),
            sluice_engine::conformance::at((2024, 1, 1), (0, 0, 0), 1),
            sluice_engine::conformance::at((2024, 1, 1), (0, 0, 0), 100_000_000),
            sluice_engine::conformance::at((2024, 1, 1), (0, 0, 1), 0),
        ];
        let keys: Vec<String> = times.iter().map(|t| time_key(*t)).collect();
        let mut sorted = keys.clone();
        sorted.sort();
        assert_eq!(keys, sorted);
        assert_eq!(keys[2], "2024-01-01T00:00:00.000000000");
    }

    #[test]
    fn versions_keep_their_bits_in_the_column() {
        for version in [0, 1, i64::MAX as u64, (1 << 63) + 5, u64::MAX] {
            assert_eq!(version_from_column(version_to_column(version)), version);
        }
    }

    #[test]
    fn upsert_statements_name_every_column_once() {
        assert_eq!(
            upsert_sql("t", &["a", "b", "c"], 1, 2),
            "INSERT INTO t (a, b, c) VALUES (?, ?, ?), (?, ?, ?) \
             ON CONFLICT (a) DO UPDATE SET b = excluded.b, c = excluded.c"
        );
    }
}
