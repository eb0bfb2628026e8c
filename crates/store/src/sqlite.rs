//! The SQLite store; the crate documentation explains the design.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use serde::de::DeserializeOwned;
use sluice_engine::store::StoreResult;
use sluice_engine::{AttemptRecord, ChangeSet, InstanceRecord, PipelineRecord, Store, StoreError};

use crate::Durability;
use crate::records::{self, PipelineData, StoredPipeline, encode, time_key};
use crate::writer::{AttemptRow, InstanceRow, PART_ROWS, PipelineRow, Rows, Writer};
use sqlx::Row;
use sqlx::migrate::{MigrateError, Migrator};
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteRow,
    SqliteSynchronous,
};

static MIGRATOR: Migrator = sqlx::migrate!("./migrations");

/// How long a statement waits for another process's lock before giving up as `Unavailable`.
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// Connections for reads; readers never wait for the writer under WAL, so a few suffice.
const READERS: u32 = 4;

/// A durable [`Store`] in one SQLite database file.
#[derive(Debug, Clone)]
pub struct SqliteStore {
    /// The one connection every write goes through, on its own thread.
    writer: Arc<Writer>,
    readers: SqlitePool,
    /// The file's path, for error messages.
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
        SqliteStore::open_with(path, Durability::default()).await
    }

    /// [`SqliteStore::open`] with a choice of what a commit must survive.
    pub async fn open_with(path: &Path, durability: Durability) -> Result<SqliteStore, StoreError> {
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
            .synchronous(match durability {
                Durability::ProcessCrash => SqliteSynchronous::Normal,
                Durability::PowerLoss => SqliteSynchronous::Full,
            })
            .busy_timeout(BUSY_TIMEOUT)
            .foreign_keys(true);
        // Migrations connect first: switching the file to WAL needs a lock that waits for
        // nobody, so it is done before any other connection exists.
        let migrator = SqlitePoolOptions::new()
            .max_connections(1)
            .connect_with(options.clone())
            .await
            .map_err(|e| sql_error(&location, "cannot open", e))?;
        migrate(&migrator, &location).await?;
        migrator.close().await;
        let writer = Arc::new(Writer::open(path, &location, BUSY_TIMEOUT, durability)?);
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

    /// The database file.
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
        records::decode_row(
            &self.location,
            kind,
            pipeline_id,
            row.try_get(0),
            || row.try_get(1),
            ids,
        )
    }

    fn decode_pipeline(&self, row: &SqliteRow) -> StoreResult<PipelineRecord> {
        self.decode(row, "pipeline", None, |p: &StoredPipeline| {
            (p.pipeline_id(), p.pipeline_id())
        })
        .map(StoredPipeline::into_record)
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

#[async_trait]
impl Store for SqliteStore {
    async fn commit(&self, changes: &ChangeSet) -> StoreResult<()> {
        if changes.is_empty() {
            return Ok(());
        }
        let (instances, attempts) = (changes.instances.len(), changes.attempts.len());
        let instance_parts = instances.div_ceil(PART_ROWS);
        let parts = (instance_parts + attempts.div_ceil(PART_ROWS)).max(1);
        self.writer
            .commit(parts, |k| {
                let range =
                    |len: usize, k: usize| (k * PART_ROWS).min(len)..((k + 1) * PART_ROWS).min(len);
                let (pipelines, instances, attempts): (&[_], &[_], &[_]) = if k < instance_parts {
                    (
                        if k == 0 { &changes.pipelines } else { &[] },
                        &changes.instances[range(instances, k)],
                        &[],
                    )
                } else {
                    (
                        if k == 0 { &changes.pipelines } else { &[] },
                        &[],
                        &changes.attempts[range(attempts, k - instance_parts)],
                    )
                };
                encode_rows(pipelines, instances, attempts)
            })
            .await
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
            .map(|row| self.decode_pipeline(row))
            .transpose()
    }

    async fn pipelines(&self) -> StoreResult<Vec<PipelineRecord>> {
        let rows = sqlx::query("SELECT pipeline_id, data FROM pipelines ORDER BY pipeline_id")
            .fetch_all(&self.readers)
            .await
            .map_err(|e| self.error("cannot read pipelines from", e))?;
        rows.iter().map(|row| self.decode_pipeline(row)).collect()
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
        self.writer.delete(pipeline_id).await
    }
}

/// Records as owned rows for the writer thread, encoded on the caller's thread.
fn encode_rows(
    pipelines: &[PipelineRecord],
    instances: &[InstanceRecord],
    attempts: &[AttemptRecord],
) -> StoreResult<Rows> {
    let pipelines = pipelines
        .iter()
        .map(|p| {
            Ok(PipelineRow {
                pipeline_id: p.pipeline_id.clone(),
                state: p.state.as_str(),
                version: p.version,
                created_at: time_key(p.created_at),
                data: encode(&PipelineData::of(p), "pipeline", &p.pipeline_id)?,
            })
        })
        .collect::<StoreResult<_>>()?;
    let instances = instances
        .iter()
        .map(|i| {
            Ok(InstanceRow {
                pipeline_id: i.pipeline_id.clone(),
                instance_id: i.instance_id.clone(),
                component_id: i.component_id.clone(),
                status: i.status.as_str(),
                scheduled_start: time_key(i.scheduled_start),
                data: encode(i, "instance", &i.instance_id)?,
            })
        })
        .collect::<StoreResult<_>>()?;
    let attempts = attempts
        .iter()
        .map(|a| {
            Ok(AttemptRow {
                pipeline_id: a.pipeline_id.clone(),
                attempt_id: a.attempt_id.clone(),
                instance_id: a.instance_id.clone(),
                number: a.number,
                status: a.status.as_str(),
                worker_group: a.worker_group.clone(),
                lease_expires_at: a.lease_expires_at.map(time_key),
                data: encode(a, "attempt", &a.attempt_id)?,
            })
        })
        .collect::<StoreResult<_>>()?;
    Ok(Rows {
        pipelines,
        instances,
        attempts,
    })
}
