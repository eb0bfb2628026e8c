//! The write path: one connection on a thread of its own.
//!
//! A commit is the engine's critical path (a task leaves the process only once its step is
//! committed), so it must cost what SQLite costs and little more. Through an async driver every
//! statement is a message to the connection's thread and back; here the whole transaction —
//! `BEGIN IMMEDIATE`, the version check, one cached prepared statement per row, `COMMIT` — is
//! one message, and runs in tens of microseconds instead of hundreds.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::sync::{Mutex, PoisonError, mpsc};
use std::thread::JoinHandle;
use std::time::Duration;

use rusqlite::{Connection, ErrorCode, OpenFlags, OptionalExtension, params};
use sluice_engine::StoreError;
use sluice_engine::store::StoreResult;
use tokio::sync::oneshot;

use crate::Durability;
use crate::query::id_hash_column;
use crate::records::{stale_version, version_from_column, version_to_column};

/// One pipeline record, encoded.
pub(crate) struct PipelineRow {
    pub(crate) pipeline_id: String,
    pub(crate) state: &'static str,
    pub(crate) version: u64,
    pub(crate) created_at: String,
    pub(crate) data: String,
}

/// One instance record, encoded.
pub(crate) struct InstanceRow {
    pub(crate) pipeline_id: String,
    pub(crate) instance_id: String,
    pub(crate) component_id: String,
    pub(crate) status: &'static str,
    pub(crate) scheduled_start: String,
    pub(crate) id_hash: i64,
    pub(crate) data: String,
}

/// One attempt record, encoded.
pub(crate) struct AttemptRow {
    pub(crate) pipeline_id: String,
    pub(crate) attempt_id: String,
    pub(crate) instance_id: String,
    pub(crate) number: u32,
    pub(crate) status: &'static str,
    pub(crate) worker_group: String,
    pub(crate) lease_expires_at: Option<String>,
    pub(crate) data: String,
}

/// A change set, encoded and owned, ready to cross to the writer thread.
#[derive(Default)]
pub(crate) struct Rows {
    pub(crate) pipelines: Vec<PipelineRow>,
    pub(crate) instances: Vec<InstanceRow>,
    pub(crate) attempts: Vec<AttemptRow>,
}

/// Records per message of a large commit: a commit is encoded and written a part at a time, so
/// a backfill of many thousand instances does not hold them all encoded at once.
pub(crate) const PART_ROWS: usize = 1000;

enum Job {
    /// One part of a commit; the first part begins the transaction, the last commits it.
    Part {
        rows: Rows,
        first: bool,
        last: bool,
        reply: oneshot::Sender<StoreResult<()>>,
    },
    Delete(String, oneshot::Sender<StoreResult<()>>),
}

/// The writer thread's handle; dropping the sender ends the thread, which closes the connection.
pub(crate) struct Writer {
    /// Held for a whole commit, so the parts of two commits never interleave.
    commits: tokio::sync::Mutex<()>,
    jobs: Mutex<Option<mpsc::Sender<Job>>>,
    thread: Mutex<Option<JoinHandle<()>>>,
    location: String,
}

impl std::fmt::Debug for Writer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Writer")
            .field("location", &self.location)
            .finish_non_exhaustive()
    }
}

const UPSERT_PIPELINE: &str = "INSERT INTO pipelines (pipeline_id, state, version, created_at, data) \
     VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT (pipeline_id) DO UPDATE SET \
     state = excluded.state, version = excluded.version, created_at = excluded.created_at, \
     data = excluded.data";
// An instance's component and start do not change once it exists, so the update leaves them
// alone: SQLite rewrites the entries of every index holding a column the update sets, changed
// or not, and a status change then touches only the status index, not `instances_by_start`
// and `instances_by_component`. Should they differ after all, the update is skipped (no row
// changes) and `MOVE_INSTANCE` writes the whole row. `id_hash` is a function of the key.
const UPSERT_INSTANCE: &str = "INSERT INTO instances \
     (pipeline_id, instance_id, component_id, status, scheduled_start, data, id_hash) \
     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) ON CONFLICT (pipeline_id, instance_id) DO UPDATE SET \
     status = excluded.status, data = excluded.data \
     WHERE component_id = excluded.component_id AND scheduled_start = excluded.scheduled_start";
const MOVE_INSTANCE: &str = "UPDATE instances SET \
     component_id = ?3, status = ?4, scheduled_start = ?5, data = ?6 \
     WHERE pipeline_id = ?1 AND instance_id = ?2";
const UPSERT_ATTEMPT: &str = "INSERT INTO attempts \
     (pipeline_id, attempt_id, instance_id, number, status, worker_group, lease_expires_at, data) \
     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8) ON CONFLICT (pipeline_id, attempt_id) DO UPDATE SET \
     instance_id = excluded.instance_id, number = excluded.number, status = excluded.status, \
     worker_group = excluded.worker_group, lease_expires_at = excluded.lease_expires_at, \
     data = excluded.data";

impl Writer {
    /// Opens the database (already created and migrated) for writing on a new thread.
    pub(crate) fn open(
        path: &Path,
        location: &str,
        busy_timeout: Duration,
        durability: Durability,
    ) -> StoreResult<Writer> {
        let connection = Connection::open_with_flags(
            path,
            OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )
        .and_then(|c| {
            c.busy_timeout(busy_timeout)?;
            c.pragma_update(None, "journal_mode", "WAL")?;
            c.pragma_update(None, "synchronous", durability.pragma())?;
            c.pragma_update(None, "foreign_keys", "ON")?;
            c.set_prepared_statement_cache_capacity(16);
            Ok(c)
        })
        .map_err(|e| sqlite_error(location, "cannot open", &e))?;
        fill_id_hashes(&connection, location)?;
        let (jobs, receiver) = mpsc::channel::<Job>();
        let thread_location = location.to_owned();
        let thread = std::thread::Builder::new()
            .name("sluice-store-writer".into())
            .spawn(move || serve(connection, &thread_location, &receiver))
            .map_err(|e| {
                StoreError::Unavailable(format!("cannot start the writer of {location}: {e}"))
            })?;
        Ok(Writer {
            commits: tokio::sync::Mutex::new(()),
            jobs: Mutex::new(Some(jobs)),
            thread: Mutex::new(Some(thread)),
            location: location.to_owned(),
        })
    }

    /// Commits `parts` as one transaction: `parts(k)` encodes part `k` of `count` (at least
    /// one), the first holding every pipeline record.
    pub(crate) async fn commit(
        &self,
        count: usize,
        mut parts: impl FnMut(usize) -> StoreResult<Rows>,
    ) -> StoreResult<()> {
        let _commit = self.commits.lock().await;
        for k in 0..count {
            // A part that fails to encode ends the commit; the open transaction is rolled back
            // when the next commit begins.
            let rows = parts(k)?;
            let (reply, answer) = oneshot::channel();
            self.send(Job::Part {
                rows,
                first: k == 0,
                last: k + 1 == count,
                reply,
            })?;
            self.wait(answer).await?;
        }
        Ok(())
    }

    pub(crate) async fn delete(&self, pipeline_id: &str) -> StoreResult<()> {
        let _commit = self.commits.lock().await;
        let (reply, answer) = oneshot::channel();
        self.send(Job::Delete(pipeline_id.to_owned(), reply))?;
        self.wait(answer).await
    }

    fn send(&self, job: Job) -> StoreResult<()> {
        self.jobs
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .as_ref()
            .and_then(|jobs| jobs.send(job).ok())
            .ok_or_else(|| self.closed())
    }

    async fn wait(&self, answer: oneshot::Receiver<StoreResult<()>>) -> StoreResult<()> {
        answer.await.map_err(|_| self.closed())?
    }

    fn closed(&self) -> StoreError {
        StoreError::Unavailable(format!(
            "cannot write to {}: the store has been closed",
            self.location
        ))
    }

    /// Stops accepting jobs and waits for the thread to finish the ones queued and close the
    /// connection.
    pub(crate) async fn close(&self) {
        self.jobs
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take();
        let thread = self
            .thread
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take();
        if let Some(thread) = thread {
            let _ = tokio::task::spawn_blocking(move || thread.join()).await;
        }
    }
}

/// Gives the instances written before migration 3 their `id_hash` (see the migration), in one
/// transaction, before any other write: SQL cannot compute the hash.
fn fill_id_hashes(connection: &Connection, location: &str) -> StoreResult<()> {
    const BATCH: usize = 10_000;
    let failed =
        |e: rusqlite::Error| sqlite_error(location, "cannot fill in instance id hashes in", &e);
    let tx = connection.unchecked_transaction().map_err(failed)?;
    loop {
        let batch: Vec<(i64, String)> = tx
            .prepare_cached(
                "SELECT rowid, instance_id FROM instances INDEXED BY instances_without_id_hash \
                 WHERE id_hash IS NULL LIMIT ?1",
            )
            .and_then(|mut select| {
                select
                    .query_map([BATCH as i64], |row| Ok((row.get(0)?, row.get(1)?)))?
                    .collect()
            })
            .map_err(failed)?;
        if batch.is_empty() {
            break;
        }
        let mut update = tx
            .prepare_cached("UPDATE instances SET id_hash = ?1 WHERE rowid = ?2")
            .map_err(failed)?;
        for (rowid, instance_id) in &batch {
            update
                .execute(params![id_hash_column(instance_id), rowid])
                .map_err(failed)?;
        }
    }
    tx.commit().map_err(failed)
}

fn serve(mut connection: Connection, location: &str, jobs: &mpsc::Receiver<Job>) {
    // Whether a transaction is open: a commit whose caller went away between parts leaves one,
    // which the next job rolls back.
    let mut open = false;
    for job in jobs {
        match job {
            Job::Part {
                rows,
                first,
                last,
                reply,
            } => {
                let result = part(&connection, location, &rows, first, last, &mut open);
                if result.is_err() && open {
                    let _ = connection.execute_batch("ROLLBACK");
                    open = false;
                }
                let _ = reply.send(result);
            }
            Job::Delete(pipeline_id, reply) => {
                if open {
                    let _ = connection.execute_batch("ROLLBACK");
                    open = false;
                }
                let _ = reply.send(delete(&mut connection, location, &pipeline_id));
            }
        }
    }
}

fn part(
    connection: &Connection,
    location: &str,
    rows: &Rows,
    first: bool,
    last: bool,
    open: &mut bool,
) -> StoreResult<()> {
    let failed = |doing: &str, e: &rusqlite::Error| sqlite_error(location, doing, e);
    if first {
        if *open {
            connection
                .execute_batch("ROLLBACK")
                .map_err(|e| failed("cannot roll back an abandoned commit on", &e))?;
        }
        // IMMEDIATE takes the write lock now, so the versions checked below are the ones the
        // writes replace.
        connection
            .execute_batch("BEGIN IMMEDIATE")
            .map_err(|e| failed("cannot start a transaction on", &e))?;
        *open = true;
    } else if !*open {
        return Err(StoreError::Unavailable(format!(
            "cannot write to {location}: the commit's transaction was abandoned"
        )));
    }
    check_versions(connection, location, &rows.pipelines)?;
    for p in &rows.pipelines {
        connection
            .prepare_cached(UPSERT_PIPELINE)
            .and_then(|mut s| {
                s.execute(params![
                    p.pipeline_id,
                    p.state,
                    version_to_column(p.version),
                    p.created_at,
                    p.data
                ])
            })
            .map_err(|e| failed(&format!("cannot write pipeline {} to", p.pipeline_id), &e))?;
    }
    // The foreign keys refuse an instance or attempt whose pipeline does not exist, without a
    // read per commit; only then is the record looked for, to name it.
    if let Err(error) = write_records(connection, location, rows) {
        if let StoreError::Conflict(_) = error {
            check_owners(connection, location, rows)?;
        }
        return Err(error);
    }
    if last {
        connection
            .execute_batch("COMMIT")
            .map_err(|e| failed("cannot commit to", &e))?;
        *open = false;
    }
    Ok(())
}

fn write_records(tx: &Connection, location: &str, rows: &Rows) -> StoreResult<()> {
    let mut instances = tx
        .prepare_cached(UPSERT_INSTANCE)
        .map_err(|e| sqlite_error(location, "cannot write instances to", &e))?;
    for i in &rows.instances {
        let failed = |e: rusqlite::Error| {
            sqlite_error(
                location,
                &format!(
                    "cannot write instance {} of pipeline {} to",
                    i.instance_id, i.pipeline_id
                ),
                &e,
            )
        };
        let written = instances
            .execute(params![
                i.pipeline_id,
                i.instance_id,
                i.component_id,
                i.status,
                i.scheduled_start,
                i.data,
                i.id_hash
            ])
            .map_err(failed)?;
        if written == 0 {
            tx.prepare_cached(MOVE_INSTANCE)
                .and_then(|mut s| {
                    s.execute(params![
                        i.pipeline_id,
                        i.instance_id,
                        i.component_id,
                        i.status,
                        i.scheduled_start,
                        i.data
                    ])
                })
                .map_err(failed)?;
        }
    }
    let mut attempts = tx
        .prepare_cached(UPSERT_ATTEMPT)
        .map_err(|e| sqlite_error(location, "cannot write attempts to", &e))?;
    for a in &rows.attempts {
        attempts
            .execute(params![
                a.pipeline_id,
                a.attempt_id,
                a.instance_id,
                i64::from(a.number),
                a.status,
                a.worker_group,
                a.lease_expires_at,
                a.data
            ])
            .map_err(|e| {
                sqlite_error(
                    location,
                    &format!(
                        "cannot write attempt {} of pipeline {} to",
                        a.attempt_id, a.pipeline_id
                    ),
                    &e,
                )
            })?;
    }
    Ok(())
}

/// Fails with `Conflict` unless every pipeline record advances the version stored (or written
/// earlier in the change set).
fn check_versions(tx: &Connection, location: &str, pipelines: &[PipelineRow]) -> StoreResult<()> {
    let mut written: BTreeMap<&str, u64> = BTreeMap::new();
    for pipeline in pipelines {
        let id = pipeline.pipeline_id.as_str();
        let current = match written.get(id) {
            Some(version) => Some(*version),
            None => tx
                .prepare_cached("SELECT version FROM pipelines WHERE pipeline_id = ?1")
                .and_then(|mut s| s.query_row([id], |row| row.get::<_, i64>(0)).optional())
                .map_err(|e| {
                    sqlite_error(location, &format!("cannot read pipeline {id} from"), &e)
                })?
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

/// Fails with `Conflict` naming the first instance or attempt whose pipeline neither exists nor
/// is written in the change set.
fn check_owners(tx: &Connection, location: &str, rows: &Rows) -> StoreResult<()> {
    let written: BTreeSet<&str> = rows
        .pipelines
        .iter()
        .map(|p| p.pipeline_id.as_str())
        .collect();
    let mut checked: BTreeSet<&str> = BTreeSet::new();
    let owners = rows
        .instances
        .iter()
        .map(|i| ("instance", i.instance_id.as_str(), i.pipeline_id.as_str()))
        .chain(
            rows.attempts
                .iter()
                .map(|a| ("attempt", a.attempt_id.as_str(), a.pipeline_id.as_str())),
        );
    for (kind, id, pipeline_id) in owners {
        if written.contains(pipeline_id) || !checked.insert(pipeline_id) {
            continue;
        }
        let exists = tx
            .prepare_cached("SELECT 1 FROM pipelines WHERE pipeline_id = ?1")
            .and_then(|mut s| s.exists([pipeline_id]))
            .map_err(|e| {
                sqlite_error(
                    location,
                    &format!("cannot read pipeline {pipeline_id} from"),
                    &e,
                )
            })?;
        if !exists {
            return Err(StoreError::Conflict(format!(
                "{kind} {id}: pipeline {pipeline_id} does not exist (deleted, or never created)"
            )));
        }
    }
    Ok(())
}

fn delete(connection: &mut Connection, location: &str, pipeline_id: &str) -> StoreResult<()> {
    let doing = format!("cannot delete pipeline {pipeline_id} from");
    let failed = |e: &rusqlite::Error| sqlite_error(location, &doing, e);
    let tx = connection
        .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
        .map_err(|e| failed(&e))?;
    // Children first and explicitly, so the delete does not depend on the cascades.
    for sql in [
        "DELETE FROM attempts WHERE pipeline_id = ?1",
        "DELETE FROM instances WHERE pipeline_id = ?1",
        "DELETE FROM pipelines WHERE pipeline_id = ?1",
    ] {
        tx.execute(sql, [pipeline_id]).map_err(|e| failed(&e))?;
    }
    tx.commit().map_err(|e| failed(&e))
}

/// Maps a SQLite error to the store's error kinds, naming the operation and the database.
fn sqlite_error(location: &str, doing: &str, error: &rusqlite::Error) -> StoreError {
    let text = format!("{doing} {location}: {error}");
    match error.sqlite_error_code() {
        Some(ErrorCode::DatabaseCorrupt | ErrorCode::NotADatabase) => StoreError::Corrupt(text),
        // Includes the foreign-key failure of a record whose pipeline is gone.
        Some(ErrorCode::ConstraintViolation) => StoreError::Conflict(text),
        _ => StoreError::Unavailable(text),
    }
}
