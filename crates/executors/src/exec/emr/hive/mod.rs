//! Staging for `HiveActivity`: its inputs and outputs as Hive tables named `input1`,
//! `output1`, … (dp-concepts-staging), over files Spark SQL can read and write.
//!
//! * [`slots`]: which input or output becomes which table, and what happens to it before and
//!   after the script.
//! * [`ddl`]: the table definitions, one row format per data format.
//! * [`s3`]: `S3DataNode`s: the directory a table reads, and publishing an output's files.
//! * `dynamodb`: `DynamoDBDataNode`s with a `DynamoDBDataFormat`, scanned into files before
//!   the script and written back as items after it; `rows`, the text layout of those files
//!   (both with the `dynamodb` feature).

pub mod ddl;
#[cfg(feature = "dynamodb")]
pub mod dynamodb;
#[cfg(feature = "dynamodb")]
pub mod rows;
pub mod s3;
pub mod slots;

/// The activity staging is for, at the start of its messages.
pub const ACTIVITY: &str = "HiveActivity";
