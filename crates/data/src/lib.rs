//! Where pipeline data lives and how it is read and written.
//!
//! Executors in `sluice-executors` reach every external system through this crate, so the
//! connection settings, the embedded defaults and the error messages are the same for every
//! activity, data node and precondition:
//!
//! * [`storage`]: S3-compatible object stores, and the local directory that stands in for S3
//!   when none is configured;
//! * [`format`]: record formats (`CSV`, `TSV`, `Custom`, `RegEx`, DynamoDB formats);
//! * [`sql`]: SQL databases (PostgreSQL, MySQL/MariaDB, SQLite, Redshift-protocol);
//! * [`dynamodb`]: DynamoDB tables, and [`sns`]: SNS topics, through the AWS SDK ([`aws`]).

pub mod aws;
pub mod dynamodb;
pub mod format;
pub mod settings;
pub mod sns;
pub mod sql;
pub mod storage;

pub use settings::DataSettings;
