//! The PostgreSQL store: the engine's state in a database that several Sluice processes share.
//!
//! # Design
//!
//! **The SQLite store's rows.** The tables, their columns and the encoding of every record
//! (`records.rs`) are the SQLite store's, so both stores read back the same records in the same
//! order and the engine's conformance suite holds for both. Ids and time keys are `text COLLATE
//! "C"`, so ordering is byte order as in SQLite, whatever the database's default collation
//! (`en_US` would put `DF-Z` after `df-a`). Times stay fixed-width text rather than `timestamp`,
//! which would round nanoseconds to microseconds and could reorder instances. `data` is `text`,
//! not `jsonb`: nothing queries inside it, `jsonb` would reparse every record on each write, and
//! it refuses the `\u0000` escape that a runtime field copied from a process's output may hold
//! (a commit refused for that would be retried forever).
//!
//! **A commit is one transaction of few round trips.** First it locks, with
//! `SELECT … FOR UPDATE` in id order, the row of every pipeline the change set writes or whose
//! instances and attempts it writes. Then the versions are compared (in Rust, after converting
//! the column back to u64, as the SQLite store does) and the owners checked. Locking the
//! owners too means that a concurrent DeletePipeline cannot slip in between the check and the
//! writes, and that two commits to one pipeline are serialized; locking in id order means two
//! commits to several pipelines never deadlock on those rows. A writer that read version *n*
//! and writes *n + 1* after another writer did so finds *n + 1* stored once it gets the lock,
//! and fails with `Conflict`: that fences a scheduler that lost a pipeline to another process
//! without knowing it. Then every record is written by one statement per 1000 rows of each
//! table (`UNNEST` over arrays, the three upserts as data-modifying CTEs), so a small commit
//! costs `BEGIN`, the lock, one write and `COMMIT`, and 10 000 instances cost ten writes, not
//! 10 000.
//!
//! **Upserts of de-duplicated records.** `INSERT … ON CONFLICT DO UPDATE` refuses to touch one
//! row twice in a statement, so the change set is reduced first to the last copy of each record
//! (the rule every store follows), which also checks that each copy of a pipeline advances the
//! version of the copy before it. The records are written in key order, the order every
//! commit takes row locks in. A pipeline that did not exist when it was locked is inserted with
//! a conflict arm that only updates the rows this commit locked: if another process created it
//! meanwhile, the row comes back unwritten and the commit fails with `Conflict` instead of
//! overwriting it.
//!
//! **Deadlocks and serialization failures are retried.** Under READ COMMITTED with locks taken
//! in one order they are rare (two processes creating the same new pipeline at once can still
//! meet on its instances); PostgreSQL resolves them by aborting one transaction with SQLSTATE
//! 40P01 (or 40001). That is not a conflict between writers of one pipeline — nobody has been
//! shown to have moved it on — so it is not reported as `Conflict`, which makes the scheduler
//! give the pipeline up. The whole transaction is run again, up to three times: a retry reads
//! the versions afresh, so if another writer did move the pipeline on, the retry reports that
//! as `Conflict`. After the third failure the commit is `Unavailable`, which the driver retries
//! later.
//!
//! **Nothing waits forever.** Connecting, and waiting for a pooled connection, end after
//! `connect_timeout`; waiting for a row lock after `lock_timeout` (as SQLite's busy timeout);
//! one statement after `operation_timeout` (`statement_timeout`), and so does the whole
//! operation on the client, should the server stop answering; a session that leaves a
//! transaction open (a process frozen while holding row locks) is ended by the server after
//! that long too (`idle_in_transaction_session_timeout`), releasing the locks. Each of these is
//! `Unavailable`. The pool does not ping a connection on every acquire, which would add a round
//! trip to every commit, only one that sat idle for a while (a restarted server or a dropped
//! connection shows up there); a connection that dies anyway fails one operation with
//! `Unavailable`.
//!
//! **A commit whose outcome is unknown.** When the connection is lost while `COMMIT` is under
//! way, the transaction may or may not have landed; the commit is `Unavailable`. If it landed,
//! the driver's retry of the same records carries versions already stored and fails with
//! `Conflict`, so the scheduler steps down and another reload sees the stored state: a lost
//! answer costs a reload, never a lost or doubled write.
//!
//! **Migrations run once.** Processes that start together on an empty database would all try
//! to create the tables. Each takes a session-level `pg_advisory_lock` (keyed by the schema) on
//! a connection of its own, creates the schema if it is missing, runs the migrations under
//! `migrations/postgres/` (sqlx's migrator, which records them in `_sqlx_migrations`, in the
//! schema, each migration in the transaction that applies it), and releases the lock; the others
//! wait, then find nothing left to do. A database migrated by a newer Sluice is `Corrupt`, as
//! with SQLite.
//!
//! **The password stays out of messages.** Errors name the database by a location built from
//! the URL's parts without the password (`postgres://user@host:port/db`); no error or log
//! formats the connection options (sqlx's `Debug` of them prints the password). As a backstop,
//! every message is scrubbed of the URL's password, when it is at least four characters long
//! (shorter ones would garble every message and protect nothing).
//!
//! **TLS.** The URL's `sslmode` is sqlx's to honour, over rustls with the system's root
//! certificates (or the URL's `sslrootcert`): `prefer` (the default) encrypts when the server
//! offers TLS, `require` always encrypts, `verify-ca` / `verify-full` also check the server's
//! certificate (and, for `verify-full`, its name); a connection that cannot meet the mode fails
//! with `Unavailable`.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Display;
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use serde::de::DeserializeOwned;
use sluice_engine::store::StoreResult;
use sluice_engine::{
    AttemptRecord, ChangeSet, InstanceQuery, InstanceRecord, PipelineRecord, Store, StoreError,
};
use sluice_model::Redactor;
use sqlx::migrate::{MigrateError, Migrator};
use sqlx::postgres::{PgConnectOptions, PgConnection, PgPool, PgPoolOptions, PgRow};
use sqlx::{Connection, Row};

mod cluster;
mod rotate;

use crate::query::{Dialect, Reader, Statement, id_hash_column};
use crate::records::{
    self, PipelineData, StoredPipeline, encode, stale_version, time_key, version_from_column,
    version_to_column,
};
use crate::seal::{SEALED_LIKE, Sealer};

static MIGRATOR: Migrator = sqlx::migrate!("./migrations/postgres");

/// Records of each table per write statement: bounds a statement's size and the memory a large
/// commit holds encoded at once.
const BATCH_ROWS: usize = 1000;

/// Runs of one transaction that PostgreSQL aborted as a deadlock or serialization failure.
const TRIES: u32 = 3;

/// How long a process waits for another one's migration before giving up (`lock_timeout` of
/// the advisory lock's wait).
const MIGRATION_WAIT: Duration = Duration::from_secs(60);

/// A connection idle for longer is pinged before use.
const PING_AFTER_IDLE: Duration = Duration::from_secs(30);

/// The first key of the advisory lock taken around migrations (the second is the schema's
/// hash), so it cannot meet another application's single-key locks.
const MIGRATION_LOCK: i32 = 0x5_1C_E5;

/// Settings of a [`PostgresStore`] beyond its URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PostgresOptions {
    /// The schema holding the tables, created if missing; `None` keeps the connection's
    /// `search_path` (normally `public`). ASCII letters, digits and `_`, not starting with a
    /// digit, at most 63 bytes; the name is used as written (quoted, so case matters).
    pub schema: Option<String>,
    /// Connections the store keeps open at most.
    pub max_connections: u32,
    /// How long connecting, or waiting for a free connection, may take.
    pub connect_timeout: Duration,
    /// How long a statement waits for a lock another session holds (PostgreSQL's
    /// `lock_timeout`).
    pub lock_timeout: Duration,
    /// How long one operation (a whole commit, a read) may take.
    pub operation_timeout: Duration,
}

impl Default for PostgresOptions {
    fn default() -> Self {
        PostgresOptions {
            schema: None,
            max_connections: 8,
            connect_timeout: Duration::from_secs(5),
            lock_timeout: Duration::from_secs(5),
            operation_timeout: Duration::from_secs(30),
        }
    }
}

/// A durable [`Store`] in a PostgreSQL database, which several processes may share.
#[derive(Clone)]
pub struct PostgresStore {
    pool: PgPool,
    /// The database, for messages: `postgres://user@host:port/db`, and the schema.
    location: String,
    /// The URL's password, masked in every message.
    passwords: Redactor,
    /// Seals the secret values of pipeline rows; none in tests that need no key.
    sealer: Option<Arc<Sealer>>,
    operation_timeout: Duration,
    /// For connections of their own (migrations, outside the pool).
    connect: PgConnectOptions,
    connect_timeout: Duration,
    /// The second key of this schema's advisory locks.
    lock_key: String,
}

impl std::fmt::Debug for PostgresStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PostgresStore")
            .field("location", &self.location)
            .finish_non_exhaustive()
    }
}

impl PostgresStore {
    /// Connects to the database at `url` (`postgres://user:password@host:port/db?sslmode=…`)
    /// and brings its schema up to date; [`PostgresStore::connect_with`] with default options.
    pub async fn connect(url: &str) -> Result<PostgresStore, StoreError> {
        PostgresStore::connect_with(url, PostgresOptions::default()).await
    }

    /// Connects to the database at `url` with `options`, creating the schema if needed and
    /// migrating it (once, however many processes start at the same time).
    ///
    /// Fails with `Unavailable` when the URL is invalid or the database cannot be reached in
    /// time, and with `Corrupt` when the schema was migrated by a newer Sluice.
    pub async fn connect_with(
        url: &str,
        options: PostgresOptions,
    ) -> Result<PostgresStore, StoreError> {
        let passwords = url_passwords(url);
        let parsed = PgConnectOptions::from_str(url).map_err(|e| {
            scrub(
                &passwords,
                StoreError::Unavailable(format!(
                    "cannot open the PostgreSQL database: invalid URL: {e}"
                )),
            )
        })?;
        let location = location(&parsed, options.schema.as_deref());
        if let Some(schema) = &options.schema {
            check_schema_name(schema)
                .map_err(|why| StoreError::Unavailable(format!("cannot open {location}: {why}")))?;
        }
        let millis = |d: Duration| d.as_millis().max(1).to_string();
        let mut settings = vec![
            ("lock_timeout", millis(options.lock_timeout)),
            ("statement_timeout", millis(options.operation_timeout)),
            (
                "idle_in_transaction_session_timeout",
                millis(options.operation_timeout),
            ),
        ];
        if let Some(schema) = &options.schema {
            settings.push(("search_path", quote(schema)));
        }
        let mut connect = parsed.options(settings);
        if connect.get_application_name().is_none() {
            connect = connect.application_name("sluice");
        }

        let store = PostgresStore {
            pool: PgPoolOptions::new()
                .max_connections(options.max_connections.max(1))
                .min_connections(0)
                .acquire_timeout(options.connect_timeout)
                .test_before_acquire(false)
                .before_acquire(|connection, meta| {
                    Box::pin(async move {
                        if meta.idle_for > PING_AFTER_IDLE {
                            connection.ping().await?;
                        }
                        Ok(true)
                    })
                })
                .connect_lazy_with(connect.clone()),
            location,
            passwords,
            sealer: None,
            operation_timeout: options.operation_timeout,
            connect: connect.clone(),
            connect_timeout: options.connect_timeout,
            lock_key: options.schema.clone().unwrap_or_default(),
        };
        let mut connection = store.session().await?;
        // The lock wait is bounded by the server; the rest (migrations run without a statement
        // timeout) by the client, should the server stop answering.
        let bound = MIGRATION_WAIT + options.operation_timeout;
        let migrated = tokio::time::timeout(
            bound,
            store.migrate(&mut connection, options.schema.as_deref()),
        )
        .await
        .unwrap_or_else(|_| {
            Err(StoreError::Unavailable(format!(
                "cannot migrate {}: no answer within {} s",
                store.location,
                bound.as_secs_f64()
            )))
        });
        // Closing the session also releases the advisory lock should the migration have failed
        // while holding it.
        let _ = connection.close().await;
        migrated.map(|()| store)
    }

    /// The database, as messages name it: `postgres://user@host:port/db`, and the schema.
    pub fn location(&self) -> &str {
        &self.location
    }

    /// A session of its own, outside the pool.
    async fn session(&self) -> StoreResult<PgConnection> {
        tokio::time::timeout(
            self.connect_timeout,
            PgConnection::connect_with(&self.connect),
        )
        .await
        .map_err(|_| {
            StoreError::Unavailable(format!(
                "cannot open {}: no connection within {} s",
                self.location,
                self.connect_timeout.as_secs_f64()
            ))
        })?
        .map_err(|e| self.error("cannot open", &e))
    }

    /// Closes every connection, waiting for operations in progress; later operations fail with
    /// `Unavailable`.
    pub async fn close(&self) {
        self.pool.close().await;
    }

    async fn migrate(
        &self,
        connection: &mut PgConnection,
        schema: Option<&str>,
    ) -> StoreResult<()> {
        fn failed<'a>(
            store: &'a PostgresStore,
            doing: &'a str,
        ) -> impl Fn(sqlx::Error) -> StoreError + 'a {
            move |e| store.error(doing, &e)
        }
        sqlx::query(
            "SELECT set_config('statement_timeout', '0', false), \
             set_config('lock_timeout', $1, false)",
        )
        .bind(format!("{}ms", MIGRATION_WAIT.as_millis()))
        .execute(&mut *connection)
        .await
        .map_err(failed(self, "cannot prepare the migration of"))?;
        let key = schema.unwrap_or_default();
        sqlx::query("SELECT pg_advisory_lock($1, hashtext($2))")
            .bind(MIGRATION_LOCK)
            .bind(key)
            .execute(&mut *connection)
            .await
            .map_err(failed(
                self,
                "cannot take the migration lock (another process may be migrating) of",
            ))?;
        if let Some(schema) = schema {
            // Looked for first: CREATE SCHEMA IF NOT EXISTS needs the right to create schemas
            // even when the schema exists.
            let exists: bool =
                sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = $1)")
                    .bind(schema)
                    .fetch_one(&mut *connection)
                    .await
                    .map_err(failed(self, "cannot look for the schema of"))?;
            if !exists {
                sqlx::query(&format!("CREATE SCHEMA {}", quote(schema)))
                    .execute(&mut *connection)
                    .await
                    .map_err(failed(self, "cannot create the schema of"))?;
            }
        }
        // `run_direct` is `run` for one connection; `run` takes an `Acquire`, whose lifetimes
        // keep the future from being `Send`.
        MIGRATOR
            .run_direct(&mut *connection)
            .await
            .map_err(|e| self.migration_error(e))?;
        self.fill_id_hashes(&mut *connection).await?;
        sqlx::query("SELECT pg_advisory_unlock($1, hashtext($2))")
            .bind(MIGRATION_LOCK)
            .bind(key)
            .execute(&mut *connection)
            .await
            .map_err(failed(self, "cannot release the migration lock of"))?;
        Ok(())
    }

    /// Gives the instances written before migration 3 their `id_hash` (see the migration),
    /// under the migration lock, so that no two processes do it at once.
    async fn fill_id_hashes(&self, connection: &mut PgConnection) -> StoreResult<()> {
        const BATCH: i64 = 10_000;
        let failed = |e: sqlx::Error| self.error("cannot fill in instance id hashes in", &e);
        loop {
            let batch: Vec<(String, String)> = sqlx::query_as(
                "SELECT pipeline_id, instance_id FROM instances WHERE id_hash IS NULL LIMIT $1",
            )
            .bind(BATCH)
            .fetch_all(&mut *connection)
            .await
            .map_err(failed)?;
            if batch.is_empty() {
                return Ok(());
            }
            let hashes: Vec<i64> = batch.iter().map(|(_, id)| id_hash_column(id)).collect();
            let (pipelines, ids): (Vec<String>, Vec<String>) = batch.into_iter().unzip();
            sqlx::query(
                "UPDATE instances AS i SET id_hash = u.id_hash \
                 FROM UNNEST($1::text[], $2::text[], $3::int8[]) AS u (pipeline_id, instance_id, id_hash) \
                 WHERE i.pipeline_id = u.pipeline_id AND i.instance_id = u.instance_id",
            )
            .bind(pipelines)
            .bind(ids)
            .bind(hashes)
            .execute(&mut *connection)
            .await
            .map_err(failed)?;
        }
    }

    fn migration_error(&self, error: MigrateError) -> StoreError {
        let location = &self.location;
        match error {
            MigrateError::Execute(e) => self.error("cannot read the schema version of", &e),
            MigrateError::ExecuteMigration(e, version) => {
                self.error(&format!("cannot apply schema migration {version} to"), &e)
            }
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
            other => scrub(
                &self.passwords,
                StoreError::Unavailable(format!("cannot migrate {location}: {other}")),
            ),
        }
    }

    fn error(&self, doing: &str, error: &sqlx::Error) -> StoreError {
        scrub(&self.passwords, pg_error(&self.location, doing, error))
    }

    fn failed(&self, doing: &str, error: &sqlx::Error) -> Failed {
        let store_error = self.error(doing, error);
        if retryable(error) {
            Failed::Retry(store_error)
        } else {
            Failed::Final(store_error)
        }
    }

    /// `operation`, unless it takes longer than the operation timeout.
    async fn within<T>(
        &self,
        doing: &str,
        operation: impl Future<Output = StoreResult<T>>,
    ) -> StoreResult<T> {
        tokio::time::timeout(self.operation_timeout, operation)
            .await
            .unwrap_or_else(|_| {
                Err(StoreError::Unavailable(format!(
                    "{doing} {}: no answer within {} s",
                    self.location,
                    self.operation_timeout.as_secs_f64()
                )))
            })
    }

    async fn read_rows(&self, what: &str, sql: &str, key: Option<&str>) -> StoreResult<Vec<PgRow>> {
        let doing = format!("cannot read {what} from");
        self.within(&doing, async {
            let mut query = sqlx::query(sql);
            if let Some(key) = key {
                query = query.bind(key);
            }
            query
                .fetch_all(&self.pool)
                .await
                .map_err(|e| self.error(&doing, &e))
        })
        .await
    }

    fn decode_instance(&self, row: &PgRow, pipeline_id: &str) -> StoreResult<InstanceRecord> {
        self.decode(row, "instance", Some(pipeline_id), |i: &InstanceRecord| {
            (i.pipeline_id.as_str(), i.instance_id.as_str())
        })
    }

    fn decode<T: DeserializeOwned>(
        &self,
        row: &PgRow,
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

    fn decode_pipeline(&self, row: &PgRow) -> StoreResult<PipelineRecord> {
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
                "SELECT pipeline_id, data FROM pipelines WHERE data LIKE $1 LIMIT 1",
                Some(SEALED_LIKE),
            )
            .await?;
        if let Some(row) = rows.first() {
            self.decode_pipeline(row)?;
        }
        Ok(self)
    }

    /// One run of a commit's transaction.
    async fn try_commit(&self, plan: &Plan<'_>) -> Result<(), Failed> {
        let mut tx = self
            .pool
            .begin()
            .await
            .map_err(|e| self.failed("cannot start a transaction on", &e))?;
        match self.write(&mut tx, plan).await {
            Ok(()) => tx
                .commit()
                .await
                .map_err(|e| self.failed("cannot commit to", &e)),
            Err(failed) => {
                rollback(tx).await;
                Err(failed)
            }
        }
    }

    /// A commit's statements, in its transaction.
    async fn write(&self, tx: &mut PgConnection, plan: &Plan<'_>) -> Result<(), Failed> {
        // Every pipeline the commit writes or writes records of, locked in id order.
        let ids: Vec<&str> = plan
            .pipelines
            .keys()
            .chain(plan.owners.keys())
            .copied()
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect();
        let stored: BTreeMap<String, u64> = sqlx::query_as::<_, (String, i64)>(
            "SELECT pipeline_id, version FROM pipelines WHERE pipeline_id = ANY($1) \
             ORDER BY pipeline_id FOR UPDATE",
        )
        .bind(&ids)
        .fetch_all(&mut *tx)
        .await
        .map_err(|e| self.failed("cannot lock pipelines in", &e))?
        .into_iter()
        .map(|(id, version)| (id, version_from_column(version)))
        .collect();
        for (id, (_, first)) in &plan.pipelines {
            if let Some(&current) = stored.get(*id)
                && *first <= current
            {
                return Err(Failed::Final(stale_version(id, current, *first)));
            }
        }
        for (pipeline_id, (kind, id)) in &plan.owners {
            if !stored.contains_key(*pipeline_id) {
                return Err(Failed::Final(StoreError::Conflict(format!(
                    "{kind} {id}: pipeline {pipeline_id} does not exist (deleted, or never created)"
                ))));
            }
        }
        if let Some(fence) = plan.fence {
            cluster::check_fence(self, tx, &ids, fence).await?;
        }
        let locked: Vec<&str> = plan
            .pipelines
            .keys()
            .copied()
            .filter(|id| stored.contains_key(*id))
            .collect();

        let batches = plan
            .instances
            .len()
            .div_ceil(BATCH_ROWS)
            .max(plan.attempts.len().div_ceil(BATCH_ROWS))
            .max(1);
        for k in 0..batches {
            let pipelines: Vec<&PipelineRecord> = if k == 0 {
                plan.pipelines.values().map(|(p, _)| *p).collect()
            } else {
                Vec::new()
            };
            let batch = |len: usize| (k * BATCH_ROWS).min(len)..((k + 1) * BATCH_ROWS).min(len);
            let instances = &plan.instances[batch(plan.instances.len())];
            let attempts = &plan.attempts[batch(plan.attempts.len())];
            let written: Vec<String> = write_statement(
                self.sealer.as_deref(),
                &pipelines,
                &locked,
                instances,
                attempts,
            )?
            .fetch_one(&mut *tx)
            .await
            .map_err(|e| self.failed("cannot write to", &e))?;
            if written.len() < pipelines.len() {
                let written: BTreeSet<&str> = written.iter().map(String::as_str).collect();
                let id = pipelines
                    .iter()
                    .map(|p| p.pipeline_id.as_str())
                    .find(|id| !written.contains(id))
                    .unwrap_or_default();
                return Err(Failed::Final(StoreError::Conflict(format!(
                    "pipeline {id}: created by another writer while this commit ran \
                     (each write must increase the version)"
                ))));
            }
        }
        cluster::notify_work(self, tx, plan).await?;
        Ok(())
    }

    async fn try_delete(&self, pipeline_id: &str) -> Result<(), Failed> {
        let doing = format!("cannot delete pipeline {pipeline_id} from");
        let failed = |e: sqlx::Error| self.failed(&doing, &e);
        let mut tx = self.pool.begin().await.map_err(failed)?;
        match delete(&mut tx, pipeline_id).await {
            Ok(()) => tx.commit().await.map_err(failed),
            Err(e) => {
                rollback(tx).await;
                Err(failed(e))
            }
        }
    }
}

/// Removes a pipeline and its records, in a transaction.
async fn delete(tx: &mut PgConnection, pipeline_id: &str) -> Result<(), sqlx::Error> {
    // The pipeline's row first, as commits lock it, so the two never deadlock.
    let found = sqlx::query("SELECT 1 FROM pipelines WHERE pipeline_id = $1 FOR UPDATE")
        .bind(pipeline_id)
        .fetch_optional(&mut *tx)
        .await?;
    if found.is_none() {
        // No pipeline row, so no record of it either (the foreign keys see to that).
        return Ok(());
    }
    // Children first and explicitly, so the delete does not depend on the cascades.
    for sql in [
        "DELETE FROM attempts WHERE pipeline_id = $1",
        "DELETE FROM instances WHERE pipeline_id = $1",
        "DELETE FROM pipelines WHERE pipeline_id = $1",
    ] {
        sqlx::query(sql).bind(pipeline_id).execute(&mut *tx).await?;
    }
    Ok(())
}

/// Ends a failed transaction now, so its row locks do not outlive the failure: a transaction
/// merely dropped is rolled back only when its connection is next used or returned to the pool
/// by a task of its own. Should the rollback fail, the connection is broken and sqlx closes it,
/// which ends the transaction too.
async fn rollback(tx: sqlx::Transaction<'_, sqlx::Postgres>) {
    let _ = tx.rollback().await;
}

/// Why one run of a transaction failed: worth running again, or final.
enum Failed {
    /// A deadlock or serialization failure, which a new run of the transaction may not meet.
    Retry(StoreError),
    Final(StoreError),
}

impl From<StoreError> for Failed {
    fn from(error: StoreError) -> Self {
        Failed::Final(error)
    }
}

impl Failed {
    fn into_error(self) -> StoreError {
        match self {
            Failed::Retry(e) | Failed::Final(e) => e,
        }
    }
}

/// Runs `run` until it succeeds, fails for good, or has been aborted [`TRIES`] times.
macro_rules! retrying {
    ($run:expr) => {{
        let mut tries = 0;
        loop {
            tries += 1;
            match $run.await {
                Err(Failed::Retry(_)) if tries < TRIES => {
                    tokio::time::sleep(Duration::from_millis(10 * u64::from(tries))).await;
                }
                result => break result.map_err(Failed::into_error),
            }
        }
    }};
}

/// A change set reduced to what is written: the last copy of each record, in key order.
struct Plan<'a> {
    /// The lease grant every pipeline touched must be held under (a scheduler's commit on a
    /// shared database).
    fence: Option<&'a sluice_engine::Fence>,
    /// Each pipeline's last copy, and the version of its first copy (which must exceed the
    /// stored one; each later copy was checked against the one before).
    pipelines: BTreeMap<&'a str, (&'a PipelineRecord, u64)>,
    instances: Vec<&'a InstanceRecord>,
    attempts: Vec<&'a AttemptRecord>,
    /// Pipelines that records need but the change set does not write, each with the first
    /// record needing it (kind and id), to name in a conflict.
    owners: BTreeMap<&'a str, (&'static str, &'a str)>,
}

impl<'a> Plan<'a> {
    fn of(changes: &'a ChangeSet) -> StoreResult<Plan<'a>> {
        let mut pipelines: BTreeMap<&str, (&PipelineRecord, u64)> = BTreeMap::new();
        for p in &changes.pipelines {
            match pipelines.get_mut(p.pipeline_id.as_str()) {
                Some((last, _)) if p.version <= last.version => {
                    return Err(stale_version(&p.pipeline_id, last.version, p.version));
                }
                Some((last, _)) => *last = p,
                None => {
                    pipelines.insert(&p.pipeline_id, (p, p.version));
                }
            }
        }
        let mut owners = BTreeMap::new();
        let mut instances = BTreeMap::new();
        for i in &changes.instances {
            instances.insert((i.pipeline_id.as_str(), i.instance_id.as_str()), i);
            if !pipelines.contains_key(i.pipeline_id.as_str()) {
                owners
                    .entry(i.pipeline_id.as_str())
                    .or_insert(("instance", i.instance_id.as_str()));
            }
        }
        let mut attempts = BTreeMap::new();
        for a in &changes.attempts {
            attempts.insert((a.pipeline_id.as_str(), a.attempt_id.as_str()), a);
            if !pipelines.contains_key(a.pipeline_id.as_str()) {
                owners
                    .entry(a.pipeline_id.as_str())
                    .or_insert(("attempt", a.attempt_id.as_str()));
            }
        }
        Ok(Plan {
            fence: None,
            pipelines,
            instances: instances.into_values().collect(),
            attempts: attempts.into_values().collect(),
            owners,
        })
    }
}

/// Upserts pipelines, instances and attempts in one statement, returning the ids of the
/// pipelines written. A pipeline row that exists is only updated when this commit locked it
/// (`locked`); one that another writer created meanwhile is left alone and not returned.
const WRITE: &str = "\
WITH written_pipelines AS (
    INSERT INTO pipelines (pipeline_id, state, version, created_at, data)
    SELECT * FROM UNNEST($1::text[], $2::text[], $3::int8[], $4::text[], $5::text[])
    ON CONFLICT (pipeline_id) DO UPDATE SET
        state = excluded.state, version = excluded.version,
        created_at = excluded.created_at, data = excluded.data
    WHERE pipelines.pipeline_id = ANY($6::text[])
    RETURNING pipeline_id
), written_instances AS (
    INSERT INTO instances
        (pipeline_id, instance_id, component_id, status, scheduled_start, data, id_hash)
    SELECT * FROM UNNEST($7::text[], $8::text[], $9::text[], $10::text[], $11::text[], $12::text[],
                         $22::int8[])
    ON CONFLICT (pipeline_id, instance_id) DO UPDATE SET
        component_id = excluded.component_id, status = excluded.status,
        scheduled_start = excluded.scheduled_start, data = excluded.data
), written_attempts AS (
    INSERT INTO attempts
        (pipeline_id, attempt_id, instance_id, number, status, worker_group, lease_expires_at,
         data, task_id)
    SELECT * FROM UNNEST($13::text[], $14::text[], $15::text[], $16::int8[], $17::text[],
                         $18::text[], $19::text[], $20::text[], $21::text[])
    ON CONFLICT (pipeline_id, attempt_id) DO UPDATE SET
        instance_id = excluded.instance_id, number = excluded.number, status = excluded.status,
        worker_group = excluded.worker_group, lease_expires_at = excluded.lease_expires_at,
        data = excluded.data, task_id = excluded.task_id
)
SELECT ARRAY(SELECT pipeline_id FROM written_pipelines)";

type WriteQuery<'q> = sqlx::query::QueryScalar<
    'q,
    sqlx::Postgres,
    Vec<String>,
    <sqlx::Postgres as sqlx::Database>::Arguments<'q>,
>;

/// [`WRITE`] with the records encoded as one array per column.
fn write_statement<'q>(
    sealer: Option<&Sealer>,
    pipelines: &[&PipelineRecord],
    locked: &[&str],
    instances: &[&InstanceRecord],
    attempts: &[&AttemptRecord],
) -> StoreResult<WriteQuery<'q>> {
    let mut query = sqlx::query_scalar(WRITE);
    let column = |f: &dyn Fn(&PipelineRecord) -> String| -> Vec<String> {
        pipelines.iter().map(|p| f(p)).collect()
    };
    query = query
        .bind(column(&|p| p.pipeline_id.clone()))
        .bind(column(&|p| p.state.as_str().to_owned()))
        .bind(
            pipelines
                .iter()
                .map(|p| version_to_column(p.version))
                .collect::<Vec<i64>>(),
        )
        .bind(column(&|p| time_key(p.created_at)))
        .bind(
            pipelines
                .iter()
                .map(|p| encode(&PipelineData::of(p, sealer), "pipeline", &p.pipeline_id))
                .collect::<StoreResult<Vec<String>>>()?,
        )
        .bind(locked.iter().map(|id| (*id).to_owned()).collect::<Vec<_>>());

    let column = |f: &dyn Fn(&InstanceRecord) -> String| -> Vec<String> {
        instances.iter().map(|i| f(i)).collect()
    };
    query = query
        .bind(column(&|i| i.pipeline_id.clone()))
        .bind(column(&|i| i.instance_id.clone()))
        .bind(column(&|i| i.component_id.clone()))
        .bind(column(&|i| i.status.as_str().to_owned()))
        .bind(column(&|i| time_key(i.scheduled_start)))
        .bind(
            instances
                .iter()
                .map(|i| encode(*i, "instance", &i.instance_id))
                .collect::<StoreResult<Vec<String>>>()?,
        );

    let column = |f: &dyn Fn(&AttemptRecord) -> String| -> Vec<String> {
        attempts.iter().map(|a| f(a)).collect()
    };
    query = query
        .bind(column(&|a| a.pipeline_id.clone()))
        .bind(column(&|a| a.attempt_id.clone()))
        .bind(column(&|a| a.instance_id.clone()))
        .bind(
            attempts
                .iter()
                .map(|a| i64::from(a.number))
                .collect::<Vec<i64>>(),
        )
        .bind(column(&|a| a.status.as_str().to_owned()))
        .bind(column(&|a| a.worker_group.clone()))
        .bind(
            attempts
                .iter()
                .map(|a| a.lease_expires_at.map(time_key))
                .collect::<Vec<Option<String>>>(),
        )
        .bind(
            attempts
                .iter()
                .map(|a| encode(*a, "attempt", &a.attempt_id))
                .collect::<StoreResult<Vec<String>>>()?,
        )
        .bind(
            attempts
                .iter()
                .map(|a| a.task_id.clone())
                .collect::<Vec<Option<String>>>(),
        )
        // Parameters 21 and 22 came after the others, with the migrations adding them.
        .bind(
            instances
                .iter()
                .map(|i| id_hash_column(&i.instance_id))
                .collect::<Vec<i64>>(),
        );
    Ok(query)
}

impl PostgresStore {
    /// A commit, fenced by a lease grant when `fence` is given.
    async fn commit_with(
        &self,
        changes: &ChangeSet,
        fence: Option<&sluice_engine::Fence>,
    ) -> StoreResult<()> {
        if changes.is_empty() {
            return Ok(());
        }
        let mut plan = Plan::of(changes)?;
        plan.fence = fence;
        self.within("cannot commit to", async {
            retrying!(self.try_commit(&plan))
        })
        .await
    }
}

#[async_trait]
impl Reader for PostgresStore {
    const DIALECT: Dialect = Dialect::Postgres;

    async fn read_instances(
        &self,
        pipeline_id: &str,
        statement: Statement,
    ) -> StoreResult<Vec<InstanceRecord>> {
        let doing = format!("cannot read instances of pipeline {pipeline_id} from");
        let rows = self
            .within(&doing, async {
                statement
                    .query()
                    .fetch_all(&self.pool)
                    .await
                    .map_err(|e| self.error(&doing, &e))
            })
            .await?;
        rows.iter()
            .map(|row| self.decode_instance(row, pipeline_id))
            .collect()
    }
}

#[async_trait]
impl Store for PostgresStore {
    async fn commit(&self, changes: &ChangeSet) -> StoreResult<()> {
        self.commit_with(changes, None).await
    }

    async fn pipeline(&self, pipeline_id: &str) -> StoreResult<Option<PipelineRecord>> {
        let rows = self
            .read_rows(
                &format!("pipeline {pipeline_id}"),
                "SELECT pipeline_id, data FROM pipelines WHERE pipeline_id = $1",
                Some(pipeline_id),
            )
            .await?;
        rows.first()
            .map(|row| self.decode_pipeline(row))
            .transpose()
    }

    async fn pipelines(&self) -> StoreResult<Vec<PipelineRecord>> {
        let rows = self
            .read_rows(
                "pipelines",
                "SELECT pipeline_id, data FROM pipelines ORDER BY pipeline_id",
                None,
            )
            .await?;
        rows.iter().map(|row| self.decode_pipeline(row)).collect()
    }

    async fn instances(&self, pipeline_id: &str) -> StoreResult<Vec<InstanceRecord>> {
        let rows = self
            .read_rows(
                &format!("instances of pipeline {pipeline_id}"),
                "SELECT instance_id, data FROM instances WHERE pipeline_id = $1 \
                 ORDER BY scheduled_start, instance_id",
                Some(pipeline_id),
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
                "SELECT attempt_id, data FROM attempts WHERE pipeline_id = $1 \
                 ORDER BY instance_id, number, attempt_id",
                Some(pipeline_id),
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
        self.within(
            &format!("cannot delete pipeline {pipeline_id} from"),
            async { retrying!(self.try_delete(pipeline_id)) },
        )
        .await
    }
}

/// Maps a database error to the store's error kinds, naming the operation and the database:
/// `cannot open postgres://sluice@db:5432/sluice: Connection refused (os error 111)`.
fn pg_error(location: &str, doing: &str, error: &sqlx::Error) -> StoreError {
    let message = |detail: &dyn Display| format!("{doing} {location}: {detail}");
    match error {
        sqlx::Error::Database(db) => {
            let code = db.code().unwrap_or_default();
            let text = message(&format_args!("{} (SQLSTATE {code})", db.message()));
            match code.as_ref() {
                // Integrity constraints: a record whose pipeline is gone (the foreign keys), or
                // a row another writer created first.
                c if c.starts_with("23") => StoreError::Conflict(text),
                // A table or column missing: not the schema this build migrated.
                "42P01" | "42703" => StoreError::Corrupt(text),
                // data_corrupted, index_corrupted.
                "XX001" | "XX002" => StoreError::Corrupt(text),
                // Everything else may pass: connection and server state (08, 53, 57), lock and
                // statement timeouts (55P03, 57014), deadlocks and serialization failures once
                // retried (40P01, 40001), authentication (28).
                _ => StoreError::Unavailable(text),
            }
        }
        sqlx::Error::PoolTimedOut => StoreError::Unavailable(message(
            &"no database connection in time (the server may be down or every connection busy)",
        )),
        sqlx::Error::PoolClosed => StoreError::Unavailable(message(&"the store has been closed")),
        sqlx::Error::RowNotFound
        | sqlx::Error::TypeNotFound { .. }
        | sqlx::Error::ColumnIndexOutOfBounds { .. }
        | sqlx::Error::ColumnNotFound(_)
        | sqlx::Error::ColumnDecode { .. }
        | sqlx::Error::Decode(_) => StoreError::Corrupt(message(error)),
        // Io, Tls, Protocol, Configuration, WorkerCrashed, …
        _ => StoreError::Unavailable(message(error)),
    }
}

/// Whether a new run of the transaction may succeed where this one was aborted.
fn retryable(error: &sqlx::Error) -> bool {
    matches!(error, sqlx::Error::Database(db)
        if matches!(db.code().as_deref(), Some("40001" | "40P01")))
}

/// `postgres://user@host:port/db`, and the schema: the database without the password.
fn location(options: &PgConnectOptions, schema: Option<&str>) -> String {
    let host = match options.get_socket() {
        Some(socket) => socket.display().to_string(),
        None => format!("{}:{}", options.get_host(), options.get_port()),
    };
    let database = options
        .get_database()
        .map(|db| format!("/{db}"))
        .unwrap_or_default();
    let schema = schema.map(|s| format!(" (schema {s})")).unwrap_or_default();
    format!(
        "postgres://{}@{host}{database}{schema}",
        options.get_username()
    )
}

fn check_schema_name(schema: &str) -> Result<(), String> {
    let valid = !schema.is_empty()
        && schema.len() <= 63
        && !schema.starts_with(|c: char| c.is_ascii_digit())
        && schema
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_');
    if valid {
        Ok(())
    } else {
        Err(format!(
            "schema name {schema:?} must be ASCII letters, digits and _, not start with a digit, \
             and be at most 63 bytes"
        ))
    }
}

/// An identifier quoted for SQL (names are checked to hold no quote).
fn quote(identifier: &str) -> String {
    format!("\"{identifier}\"")
}

/// The URL's password, in every form a message could quote it in (as written and
/// percent-decoded).
fn url_passwords(url: &str) -> Redactor {
    let mut found = Vec::new();
    let rest = url.split_once("://").map_or(url, |(_, rest)| rest);
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    if let Some((userinfo, _)) = authority.rsplit_once('@')
        && let Some((_, password)) = userinfo.split_once(':')
    {
        found.push(password.to_owned());
    }
    if let Some((_, query)) = url.split_once('?') {
        for pair in query.split(['&', '#']) {
            if let Some(password) = pair.strip_prefix("password=") {
                found.push(password.to_owned());
            }
        }
    }
    let decoded: Vec<String> = found.iter().map(|p| percent_decode(p)).collect();
    Redactor::new(found.into_iter().chain(decoded))
}

/// `error` with the password masked in its message.
fn scrub(passwords: &Redactor, error: StoreError) -> StoreError {
    let clean = |message: String| passwords.redact(&message).into_owned();
    match error {
        StoreError::Unavailable(m) => StoreError::Unavailable(clean(m)),
        StoreError::Corrupt(m) => StoreError::Corrupt(clean(m)),
        StoreError::Conflict(m) => StoreError::Conflict(clean(m)),
        other => other,
    }
}

/// `%XX` escapes decoded (as a URL's userinfo and query carry them); anything else kept.
fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| char::from(b).to_digit(16);
        if bytes[i] == b'%'
            && i + 2 < bytes.len()
            && let (Some(h), Some(l)) = (hex(bytes[i + 1]), hex(bytes[i + 2]))
        {
            out.push(u8::try_from(h * 16 + l).unwrap_or(b'?'));
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use sluice_model::secret::MASK;

    use super::*;

    #[test]
    fn the_password_is_found_in_every_place_a_url_holds_it() {
        let masked = |url: &str, text: &str| url_passwords(url).redact(text).into_owned();
        let url = "postgres://sluice:p%40ss-word@db:5432/state?sslmode=prefer";
        assert_eq!(
            masked(url, "p%40ss-word p@ss-word"),
            format!("{MASK} {MASK}")
        );
        let url = "postgres://sluice@db/state?password=hunter22&sslmode=disable";
        assert_eq!(masked(url, "x hunter22"), format!("x {MASK}"));
        assert!(url_passwords("postgres://sluice@db/state").is_empty());
        let scrubbed = scrub(
            &url_passwords("postgres://u:s3cr3t!@h/d"),
            StoreError::Unavailable("cannot open: s3cr3t! and s3cr3t!".into()),
        );
        assert_eq!(
            scrubbed,
            StoreError::Unavailable(format!("cannot open: {MASK} and {MASK}"))
        );
    }

    #[test]
    fn percent_escapes_decode() {
        assert_eq!(percent_decode("a%20b%2Fc%"), "a b/c%");
        assert_eq!(percent_decode("%zz%4"), "%zz%4");
    }

    #[test]
    fn locations_leave_the_password_out() {
        let options =
            PgConnectOptions::from_str("postgres://sluice:secret-pw@db.example:6543/state")
                .unwrap();
        assert_eq!(
            location(&options, Some("tenant_1")),
            "postgres://sluice@db.example:6543/state (schema tenant_1)"
        );
    }

    #[test]
    fn schema_names_are_plain_identifiers() {
        for good in ["sluice", "Tenant_1", "_x"] {
            assert_eq!(check_schema_name(good), Ok(()));
        }
        for bad in ["", "1st", "a-b", "a b", "a\"b", &"x".repeat(64)] {
            assert!(check_schema_name(bad).is_err(), "{bad}");
        }
    }

    fn pipeline(version: u64) -> PipelineRecord {
        sluice_engine::conformance::minimal_pipeline_record("df-1", version)
    }

    #[test]
    fn a_plan_keeps_the_last_copy_of_each_record_in_key_order() {
        let day = sluice_engine::conformance::at((2024, 1, 1), (0, 0, 0), 0);
        let a = sluice_engine::conformance::instance_record("df-1", "A", day);
        let b = sluice_engine::conformance::instance_record("df-1", "B", day);
        let a2 = InstanceRecord {
            attempt_count: 2,
            ..a.clone()
        };
        let orphan = sluice_engine::conformance::instance_record("df-0", "A", day);
        let changes = ChangeSet {
            pipelines: vec![pipeline(3), pipeline(5)],
            instances: vec![b.clone(), a, orphan.clone(), a2.clone()],
            attempts: Vec::new(),
        };
        let plan = Plan::of(&changes).unwrap();
        let (last, first) = plan.pipelines["df-1"];
        assert_eq!((last.version, first), (5, 3));
        assert_eq!(plan.instances, [&orphan, &a2, &b]);
        assert_eq!(
            plan.owners.into_iter().collect::<Vec<_>>(),
            [("df-0", ("instance", orphan.instance_id.as_str()))]
        );

        let stale = ChangeSet {
            pipelines: vec![pipeline(5), pipeline(5)],
            ..ChangeSet::default()
        };
        assert!(matches!(Plan::of(&stale), Err(StoreError::Conflict(m)) if m.contains("df-1")));
    }
}
