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
//! * `dynamodb`: DynamoDB tables, and `sns`: SNS topics, through the AWS SDK ([`aws`]);
//! * [`tls`]: the CA certificates every TLS client trusts besides the system's.
//!
//! # Cargo features
//!
//! The heavy connectors are features, all on by default: `s3` (S3 servers; without it `s3://`
//! URIs live only in the embedded store), `postgres` and `mysql` (the database drivers; SQLite
//! is always there), `dynamodb` (the `dynamodb` module) and `sns` (the `sns` module). Settings
//! parse the same in every build; what a build leaves out fails when used, with a message from
//! [`left_out`] naming the feature.

pub mod aws;
pub mod compute;
#[cfg(feature = "dynamodb")]
pub mod dynamodb;
pub mod format;
pub mod private_files;
pub mod settings;
#[cfg(feature = "sns")]
pub mod sns;
pub mod sql;
pub mod storage;
pub mod tls;

pub use settings::DataSettings;

/// The message for `what` needing `support` (e.g. "DynamoDB") that this build was compiled
/// without: the same words everywhere, naming the cargo `feature` that brings it back.
pub fn left_out(what: impl std::fmt::Display, support: &str, feature: &str) -> String {
    format!(
        "{what} needs {support} support, which this build of sluice leaves out (cargo feature \
         `{feature}`)"
    )
}
