//! What each object type does on a task runner.
//!
//! The catalog (`sluice-catalog`) says what a type *is*: its fields and how they are checked.
//! This crate says what it *does*: every type that runs on a task runner (activities and
//! runner-managed preconditions) implements [`Execute`] in its own file under `types/`, named
//! like its catalog file, and [`types::ALL`] registers it once by its AWS type name. The files
//! of data nodes, databases and data formats here hold how an executor reaches what they
//! describe (a SQL table, a DynamoDB table, a record format), over `sluice-data`.
//!
//! A runner looks executors up in an [`Executors`] registry: [`Executors::builtin`] in
//! production, any set of its own in tests.
//!
//! The connectors are cargo features passed on to `sluice-data` (`s3`, `postgres`, `mysql`,
//! `dynamodb`, `sns`; all on by default). Without `dynamodb`, the DynamoDB preconditions and
//! HiveCopyActivity are stand-ins that fail naming the feature, as is a RedshiftCopyActivity from
//! a DynamoDBDataNode; without `sns`, SnsAlarm publishing fails the same way. The others fail
//! in `sluice-data` when a URI or connection string needs them.

pub mod exec;
pub mod execute;
// Only DynamoDB's types stand in for left-out executors so far.
#[cfg(not(feature = "dynamodb"))]
mod left_out;
pub mod preflight;
mod registry;
pub mod types;

pub use execute::{AttemptContext, ExecFuture, Execute, RunnerSettings};
pub use registry::Executors;
