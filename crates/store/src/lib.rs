//! Durable state for the engine, behind its [`Store`](sluice_engine::Store) trait:
//! [`SqliteStore`], the embedded default, and `PostgresStore` (cargo feature `postgres`), a
//! database several Sluice processes can share.
//!
//! # Design
//!
//! **Whole records as JSON, plus indexed copies.** Each table (`pipelines`, `instances`,
//! `attempts`) has a `data` column holding the complete record as JSON, and a few ordinary
//! columns copied from it (ids, status, state, times, version) that lookups filter or sort on.
//! Reads decode `data` only, so a field added to a record needs no migration: it simply appears
//! in the JSON written from then on. Rows written before the field existed lack it, so a new
//! field must deserialize when missing (`Option`, or `#[serde(default)]`); otherwise those rows
//! read back as [`StoreError::Corrupt`](sluice_engine::StoreError::Corrupt). A new column (with
//! a migration under `migrations/`) is needed only for a new kind of lookup. Instances and
//! attempts are keyed by `(pipeline_id, id)`, so equal instance ids in two pipelines never mix.
//! A pipeline's JSON is this crate's own (`records.rs`): it holds the active definition only
//! when that differs from the latest one, which would otherwise double a large record written
//! on every change of pipeline state.
//!
//! **Pages of instances from indexes.** QueryObjects reads a page of a pipeline's instances
//! ([`Store::query_instances`](sluice_engine::Store::query_instances)) by status, component
//! and scheduled start; migration 3 indexes `instances` for each, every index ending in the
//! page order (scheduled start, id), so a page is a range read in order whatever the
//! pipeline's size (`query.rs` holds the SQL both stores run). It also adds `id_hash`, the
//! hash of the instance id by which a QueryObjects marker names the page's last instance.
//! The status indexes cost a write on each status change, the price of these reads.
//!
//! **Secrets sealed at rest.** Given a [`Sealer`] (`with_sealer`), a store seals the values of
//! `*` fields and `*` parameters in every pipeline row with AES-256-GCM and opens them as it
//! reads (`seal.rs`): the database, its WAL and its dumps hold no secret in clear text. The
//! `sluice` binary always gives one, from `--secret-key-file` or the data directory's
//! generated `secret.key`. `sluice store rotate-key` reseals them with a new key
//! (`rotate.rs`).
//!
//! **Write rules shared with every store.** A commit is one transaction. A pipeline record must
//! carry a higher `version` than the stored one, or the commit fails with `Conflict`: a writer
//! that read version *n* writes *n + 1*, and of two writers that read the same version only the
//! first succeeds. Instances and attempts need their pipeline to exist (stored, or in the same
//! change set), so a step racing a DeletePipeline fails with `Conflict` instead of leaving
//! orphans. The engine crate's conformance suite checks these rules on every backend.
//!
//! **One writer.** All writes go through a single connection, so commits are serialized inside
//! the process and a transaction never meets a competing writer of its own; reads use a
//! separate small pool and, thanks to WAL, see the last committed state without waiting for a
//! commit in progress. Each commit starts with `BEGIN IMMEDIATE`, taking the write lock before
//! it reads the versions it checks, so even a second process on the same file cannot interleave
//! between the check and the write (it waits up to the busy timeout, then gets `Unavailable`).
//! A database file is nonetheless meant to belong to one Sluice process at a time.
//!
//! **Durability.** The journal is in WAL mode. By default ([`Durability::ProcessCrash`],
//! `synchronous=NORMAL`) a commit returns once its frames are written to the WAL file: it
//! survives the process being killed at any moment (`kill -9`), which is what the engine's
//! write-ahead rule needs — a change is committed before it is acted on (a task handed out, an
//! action fired), so a restarted engine knows of everything that happened. An operating-system
//! crash or power loss can lose the last commits (the WAL is flushed at checkpoints); the
//! restarted engine then runs the attempts those commits finished again, as it does for a lost
//! lease. [`Durability::PowerLoss`] (`synchronous=FULL`, `sluice run --fsync`) flushes the WAL at
//! every commit and survives those too, at the cost of one `fsync` per commit (0.25 ms on the
//! development VM, against 0.03 ms for the rest of a commit).
//!
//! **The write path.** Every write goes through one connection on a thread of its own
//! (`writer.rs`): a commit is one message to that thread, which runs the whole transaction with
//! cached prepared statements. An async driver would make each statement a round trip of its
//! own, which cost ten times what SQLite does; reads, which are rare (restore, the API's
//! object queries), use a small sqlx pool.
//!
//! # PostgreSQL
//!
//! `PostgresStore` (`postgres.rs`, behind the `postgres` cargo feature, which the `sluice`
//! binary's defaults turn on) implements the same trait over the same tables and the same
//! record encoding, and passes the same conformance suite, so several schedulers can keep their
//! state in one database. What differs, and why, is in that module's documentation; in short:
//!
//! - Migrations of their own (`migrations/postgres/`), run under a `pg_advisory_lock`, so
//!   processes starting together on an empty database migrate it once. A schema per store is
//!   an option (`PostgresOptions::schema`), which the tests use to get one each.
//! - `data` is `text` (not `jsonb`) and every id and time key sorts `COLLATE "C"`, so reads
//!   come back in SQLite's byte order.
//! - A commit is one transaction that locks the rows of the pipelines it touches with
//!   `SELECT … FOR UPDATE` (in id order), applies the version rule after converting the column
//!   back to u64, and writes the change set, de-duplicated (the later copy wins, since
//!   `ON CONFLICT … DO UPDATE` refuses to update one row twice in a statement), as
//!   `INSERT … ON CONFLICT … DO UPDATE` over `UNNEST`ed arrays, 1000 records of each table per
//!   statement. Two processes writing one pipeline: exactly one commit lands, the other gets
//!   `Conflict`.
//! - Deadlocks and serialization failures are retried inside the store (then `Unavailable`),
//!   never reported as `Conflict`, which would make a scheduler give its pipeline up.
//!   Connecting, lock waits and each operation have timeouts that end in `Unavailable`.
//!
//! - Servers sharing the database coordinate through it (`sluice_engine::Cluster`, in
//!   `postgres/cluster.rs`): membership rows, one lease per pipeline compared with the
//!   database clock, commits fenced by the lease grant (its epoch) in the commit's own
//!   transaction, and `NOTIFY` on commits that leave work for runners. A task is handed out
//!   only by the scheduler owning its pipeline, so two servers never hand out one attempt
//!   without needing row locks on attempts. `docs/scale-out.md` tells the whole story.

mod copy;
#[cfg(feature = "postgres")]
mod postgres;
mod query;
mod records;
mod rotate;
mod seal;
mod sqlite;
mod writer;

pub use copy::{CopyError, CopyOptions, CopyReport, copy};
#[cfg(feature = "postgres")]
pub use postgres::{PostgresOptions, PostgresStore};
pub use rotate::{RotateError, RotationReport, rotate_sqlite};
pub use seal::Sealer;
pub use sqlite::SqliteStore;

/// What a commit must survive once it has returned.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Durability {
    /// The process being killed at any moment (`synchronous=NORMAL`).
    #[default]
    ProcessCrash,
    /// Also an operating-system crash or power loss (`synchronous=FULL`: one `fsync` per
    /// commit).
    PowerLoss,
}

impl Durability {
    pub(crate) fn pragma(self) -> &'static str {
        match self {
            Durability::ProcessCrash => "NORMAL",
            Durability::PowerLoss => "FULL",
        }
    }
}
