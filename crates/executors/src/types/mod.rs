//! One module per object type that does work on a runner, or whose data an executor reaches,
//! named like the type's catalog file; [`ALL`] registers the executors.
//!
//! To make a catalog type runnable: write `<snake_case_name>.rs` here with a unit struct named
//! exactly like the AWS `type` implementing [`Execute`], declare the module below and add one
//! line to [`ALL`]. The `registry` test checks every entry against the catalog.
//!
//! Types that need a connector this build was compiled without (cargo features) are still in
//! [`ALL`], as stand-ins from `left_out` whose attempts fail naming the feature.

use crate::execute::Execute;

pub mod copy_activity;
pub mod csv;
#[cfg(feature = "dynamodb")]
mod dynamo_db_data_exists;
#[cfg(feature = "dynamodb")]
pub mod dynamo_db_data_format;
#[cfg(feature = "dynamodb")]
pub mod dynamo_db_data_node;
#[cfg(feature = "dynamodb")]
pub mod dynamo_db_export_data_format;
#[cfg(feature = "dynamodb")]
mod dynamo_db_table_exists;
mod emr_activity;
mod exists;
mod hadoop_activity;
mod hive_activity;
#[cfg(feature = "dynamodb")]
mod hive_copy_activity;
pub mod jdbc_database;
mod pig_activity;
mod redshift_copy_activity;
mod redshift_data_node;
mod s3_key_exists;
mod s3_prefix_not_empty;
mod shell_command_activity;
mod shell_command_precondition;
pub mod sns_alarm;
mod sql_activity;
pub mod sql_data_node;

#[cfg(not(feature = "dynamodb"))]
pub use crate::left_out::{DynamoDBDataExists, DynamoDBTableExists, HiveCopyActivity};
pub use copy_activity::CopyActivity;
#[cfg(feature = "dynamodb")]
pub use dynamo_db_data_exists::DynamoDBDataExists;
#[cfg(feature = "dynamodb")]
pub use dynamo_db_table_exists::DynamoDBTableExists;
pub use emr_activity::EmrActivity;
pub use exists::Exists;
pub use hadoop_activity::HadoopActivity;
pub use hive_activity::HiveActivity;
#[cfg(feature = "dynamodb")]
pub use hive_copy_activity::HiveCopyActivity;
pub use pig_activity::PigActivity;
pub use redshift_copy_activity::RedshiftCopyActivity;
pub use s3_key_exists::S3KeyExists;
pub use s3_prefix_not_empty::S3PrefixNotEmpty;
pub use shell_command_activity::ShellCommandActivity;
pub use shell_command_precondition::ShellCommandPrecondition;
pub use sql_activity::SqlActivity;

/// Every built-in executor, by the AWS type it runs.
pub const ALL: &[(&str, &dyn Execute)] = &[
    // activities
    ("CopyActivity", &CopyActivity),
    ("EmrActivity", &EmrActivity),
    ("HadoopActivity", &HadoopActivity),
    ("HiveActivity", &HiveActivity),
    ("HiveCopyActivity", &HiveCopyActivity),
    ("PigActivity", &PigActivity),
    ("RedshiftCopyActivity", &RedshiftCopyActivity),
    ("ShellCommandActivity", &ShellCommandActivity),
    ("SqlActivity", &SqlActivity),
    // preconditions
    ("DynamoDBDataExists", &DynamoDBDataExists),
    ("DynamoDBTableExists", &DynamoDBTableExists),
    ("Exists", &Exists),
    ("S3KeyExists", &S3KeyExists),
    ("S3PrefixNotEmpty", &S3PrefixNotEmpty),
    ("ShellCommandPrecondition", &ShellCommandPrecondition),
];
