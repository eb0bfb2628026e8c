//! Durable state for the engine: [`SqliteStore`], the embedded default behind the engine's
//! [`Store`](sluice_engine::Store) trait.
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
//! **Durability.** The journal is in WAL mode with `synchronous=FULL`: a commit returns only
//! after its WAL frames are flushed to stable storage, so it survives a process crash
//! (`kill -9`) and also an OS crash or power loss. The engine writes a change before acting on
//! it (dispatching a task, firing an action), so losing an acknowledged commit would mean an
//! action the restarted engine knows nothing about. `synchronous=NORMAL` would skip that flush
//! (the WAL is then flushed only at checkpoints) and still survive process crashes, but power
//! loss could drop the last commits. The flush is one `fsync` per commit whatever its size,
//! cheap next to the engine's pace of one commit per step (a one-instance commit took 0.5 ms
//! with FULL and 0.4 ms with NORMAL on the development machine; slow disks widen the gap).
//!
//! **Batched writes.** Instances and attempts go into multi-row
//! `INSERT … ON CONFLICT DO UPDATE` statements of 500 rows; the statement is prepared once per
//! connection and reused for every full batch, so a 10 000-instance commit costs 20 statement
//! executions instead of 10 000 (about 70 ms in a release build, against 530 ms row by row).
//!
//! # PostgreSQL (planned)
//!
//! A PostgreSQL store will implement the same trait over the same tables (`jsonb` for `data`,
//! `timestamp` columns) and pass the same conformance suite, so several schedulers and task
//! runners can share one database:
//!
//! - **Scheduler ownership.** Each pipeline is driven by one scheduler at a time, holding a
//!   lease row (`pipeline_leases(pipeline_id, owner, expires_at)`) that it renews; another
//!   scheduler takes the pipeline over only after the lease lapses. The version check in
//!   `commit` (`SELECT … FOR UPDATE` of the pipeline row, then the same comparison as here)
//!   stops a scheduler that lost its lease without noticing from overwriting the new owner's
//!   state.
//! - **Task claiming.** Runners poll with
//!   `SELECT … FROM attempts WHERE status = 'WAITING_FOR_RUNNER' AND worker_group = $1
//!   ORDER BY created_at LIMIT 1 FOR UPDATE SKIP LOCKED`, then set `task_id` and
//!   `lease_expires_at` in the same transaction, so two runners never receive the same task and
//!   neither waits on the other's row lock.
//! - Upserts become `INSERT … ON CONFLICT … DO UPDATE`; since PostgreSQL refuses to update one
//!   row twice in a statement, a change set is de-duplicated first (the later copy wins, as the
//!   suite requires).

mod sqlite;

pub use sqlite::SqliteStore;
