//! The SQLite store; the crate documentation explains the design.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use serde::de::DeserializeOwned;
use sluice_engine::store::StoreResult;
use sluice_engine::{
    AttemptRecord, ChangeSet, InstanceQuery, InstanceRecord, PipelineRecord, Store, StoreError,
};

use crate::Durability;
use crate::query::{self, Dialect, Reader, Statement};
use crate::records::{self, PipelineData, StoredPipeline, encode, time_key};
use crate::seal::{SEALED_LIKE, Sealer};
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
    /// Seals the secret values of pipeline rows; none in tests that need no key.
    sealer: Option<Arc<Sealer>>,
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
            sealer: None,
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

    fn decode_instance(&self, row: &SqliteRow, pipeline_id: &str) -> StoreResult<InstanceRecord> {
        self.decode(row, "instance", Some(pipeline_id), |i: &InstanceRecord| {
            (i.pipeline_id.as_str(), i.instance_id.as_str())
        })
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
        .and_then(|p| p.into_record(self.sealer.as_deref(), &self.location))
    }

    /// Seals the secret values of every pipeline written from now on with `sealer`, and
    /// opens those read. Fails (`Corrupt`, naming both keys) when the database holds secrets
    /// sealed with another key, so a server given the wrong key file stops at start rather
    /// than at its first read.
    pub async fn seal_with(mut self, sealer: Arc<Sealer>) -> StoreResult<Self> {
        self.sealer = Some(sealer);
        let rows = self
            .read_rows(
                "pipelines with sealed secrets",
                "SELECT pipeline_id, data FROM pipelines WHERE data LIKE ? LIMIT 1",
                SEALED_LIKE,
            )
            .await?;
        if let Some(row) = rows.first() {
            self.decode_pipeline(row)?;
        }
        Ok(self)
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
pub(crate) fn sql_error(location: &str, doing: &str, error: sqlx::Error) -> StoreError {
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
impl Reader for SqliteStore {
    const DIALECT: Dialect = Dialect::Sqlite;

    async fn read_instances(
        &self,
        pipeline_id: &str,
        statement: Statement,
    ) -> StoreResult<Vec<InstanceRecord>> {
        let rows = statement
            .query()
            .fetch_all(&self.readers)
            .await
            .map_err(|e| {
                self.error(
                    &format!("cannot read instances of pipeline {pipeline_id} from"),
                    e,
                )
            })?;
        rows.iter()
            .map(|row| self.decode_instance(row, pipeline_id))
            .collect()
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
        let sealer = self.sealer.as_deref();
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
                encode_rows(pipelines, instances, attempts, sealer)
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
            .map(|row| self.decode_instance(row, pipeline_id))
            .collect()
    }

    async fn query_instances(
        &self,
        pipeline_id: &str,
        query: &InstanceQuery,
    ) -> StoreResult<Vec<InstanceRecord>> {
        Reader::query_instances(self, pipeline_id, query).await
    }

    async fn instances_with_id_hash(
        &self,
        pipeline_id: &str,
        hash: u64,
    ) -> StoreResult<Vec<InstanceRecord>> {
        Reader::instances_with_id_hash(self, pipeline_id, hash).await
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
    sealer: Option<&Sealer>,
) -> StoreResult<Rows> {
    let pipelines = pipelines
        .iter()
        .map(|p| {
            Ok(PipelineRow {
                pipeline_id: p.pipeline_id.clone(),
                state: p.state.as_str(),
                version: p.version,
                created_at: time_key(p.created_at),
                data: encode(&PipelineData::of(p, sealer), "pipeline", &p.pipeline_id)?,
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
                id_hash: query::id_hash_column(&i.instance_id),
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

#[cfg(test)]
mod tests {
    use sluice_engine::InstanceKey;
    use sluice_model::Status;

    use super::*;
    use crate::query::page;

    /// SQLite's plan for a statement, one line per step.
    async fn plan(store: &SqliteStore, statement: &Statement) -> String {
        let explain = Statement {
            sql: format!("EXPLAIN QUERY PLAN {}", statement.sql),
            values: statement.values.clone(),
        };
        let rows = explain.query().fetch_all(&store.readers).await.unwrap();
        rows.iter()
            .map(|row| row.get::<String, _>(3))
            .collect::<Vec<_>>()
            .join("\n")
    }

    /// Each kind of page reads one range of the index made for it, in order: no sort of the
    /// pipeline's instances, whatever their number.
    #[tokio::test]
    async fn pages_read_ranges_of_indexes_in_order() {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open(&dir.path().join("sluice.db"))
            .await
            .unwrap();
        let at = |day| {
            chrono::NaiveDate::from_ymd_opt(2024, 1, day)
                .unwrap()
                .and_hms_opt(0, 0, 0)
                .unwrap()
        };
        let after = Some(InstanceKey {
            scheduled_start: at(2),
            instance_id: "@A_2024-01-02T00:00:00".into(),
        });
        let one = |index: &str| vec![index.to_owned()];
        let cases: Vec<(InstanceQuery, Vec<String>)> = vec![
            (InstanceQuery::default(), one("instances_by_start")),
            (
                InstanceQuery {
                    start_from: Some(at(1)),
                    start_before: Some(at(9)),
                    after: after.clone(),
                    ..InstanceQuery::default()
                },
                one("instances_by_start"),
            ),
            (
                InstanceQuery {
                    statuses: Some(vec![Status::Finished]),
                    start_from: Some(at(3)),
                    after: after.clone(),
                    limit: 100,
                    ..InstanceQuery::default()
                },
                one("instances_by_status"),
            ),
            (
                InstanceQuery {
                    statuses: Some(vec![Status::Failed]),
                    components: Some(vec!["A".into()]),
                    start_before: Some(at(3)),
                    ..InstanceQuery::default()
                },
                one("instances_by_status"),
            ),
            (
                InstanceQuery {
                    components: Some(vec!["A".into()]),
                    start_from: Some(at(1)),
                    after: after.clone(),
                    ..InstanceQuery::default()
                },
                one("instances_by_component"),
            ),
        ];
        for (query, indexes) in cases {
            let statement = page(Dialect::Sqlite, "df-1", &query).unwrap();
            let plan = plan(&store, &statement).await;
            for index in indexes {
                assert!(
                    plan.contains(&format!("INDEX {index} (")),
                    "{query:?}:\n{plan}"
                );
            }
            assert!(!plan.contains("TEMP B-TREE"), "{query:?}:\n{plan}");
        }

        let statement = crate::query::with_id_hash(Dialect::Sqlite, "df-1", 1 << 63);
        let found = plan(&store, &statement).await;
        assert!(
            found.contains("INDEX instances_by_id_hash (pipeline_id=? AND id_hash=?)"),
            "{found}"
        );

        // Several values: one ordered range per value, then a sort of what the ranges gave.
        let several = [
            InstanceQuery {
                statuses: Some(vec![Status::Finished, Status::Failed, Status::Running]),
                limit: 100,
                ..InstanceQuery::default()
            },
            InstanceQuery {
                components: Some(vec!["A".into(), "B".into(), "C".into()]),
                after,
                limit: 100,
                ..InstanceQuery::default()
            },
        ];
        for query in several {
            let statement = page(Dialect::Sqlite, "df-1", &query).unwrap();
            let plan = plan(&store, &statement).await;
            let ranges = plan.matches("USING INDEX instances_by_").count()
                + plan.matches("USING COVERING INDEX instances_by_").count();
            assert!(ranges >= 3, "{query:?}:\n{plan}");
            assert!(!plan.contains("SCAN instances"), "{query:?}:\n{plan}");
            // The page's records by primary key, only once the page is known.
            assert!(
                plan.contains("(pipeline_id=? AND instance_id=?)") && plan.contains("SCAN k"),
                "{query:?}:\n{plan}"
            );
        }
    }
}
