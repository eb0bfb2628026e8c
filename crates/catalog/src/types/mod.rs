//! One module per AWS object type, and [`ALL`], the list [`Catalog::builtin`] serves.
//!
//! To add a type:
//! 1. write `<snake_case_name>.rs` here: a unit struct named exactly like the AWS `type`,
//!    implementing [`ObjectKind`]; list only the type's own fields and build
//!    [`fields`](ObjectKind::fields) with
//!    [`common::with_common`](crate::common::with_common) over its family's common set;
//! 2. declare the module and re-export the struct below;
//! 3. add one line to [`ALL`];
//! 4. add its line to `tests/reference_types.txt` (category, required fields, required groups),
//!    which the `catalog` integration test compares against this registry.
//!
//! A type AWS documents but Sluice deliberately leaves out goes in [`UNSUPPORTED`] with the
//! reason, so that the same test still accounts for it.
//!
//! [`Catalog::builtin`]: crate::Catalog::builtin

use crate::spec::ObjectKind;

mod copy_activity;
mod csv;
mod custom;
mod default;
mod dynamo_db_data_exists;
pub mod dynamo_db_data_format;
pub mod dynamo_db_data_node;
pub mod dynamo_db_export_data_format;
mod dynamo_db_table_exists;
mod ebs_block_device_config;
mod ebs_configuration;
mod ec2_resource;
mod emr_activity;
mod emr_cluster;
mod emr_configuration;
mod exists;
mod hadoop_activity;
mod hive_activity;
mod hive_copy_activity;
mod http_proxy;
mod jdbc_database;
mod my_sql_data_node;
mod pig_activity;
mod property;
mod rds_database;
mod redshift_copy_activity;
mod redshift_data_node;
mod redshift_database;
mod reg_ex;
mod s3_data_node;
mod s3_key_exists;
mod s3_prefix_not_empty;
pub mod schedule;
mod shell_command_activity;
mod shell_command_precondition;
mod shell_script_config;
pub mod sns_alarm;
mod sql_activity;
mod sql_data_node;
mod terminate;
mod tsv;
mod volume_specification;

pub use copy_activity::CopyActivity;
pub use csv::CSV;
pub use custom::Custom;
pub use default::Default;
pub use dynamo_db_data_exists::DynamoDBDataExists;
pub use dynamo_db_data_format::DynamoDBDataFormat;
pub use dynamo_db_data_node::DynamoDBDataNode;
pub use dynamo_db_export_data_format::DynamoDBExportDataFormat;
pub use dynamo_db_table_exists::DynamoDBTableExists;
pub use ebs_block_device_config::EbsBlockDeviceConfig;
pub use ebs_configuration::EbsConfiguration;
pub use ec2_resource::Ec2Resource;
pub use emr_activity::EmrActivity;
pub use emr_cluster::{EmrCluster, HADOOP_SCHEDULER_TYPE_VALUES};
pub use emr_configuration::EmrConfiguration;
pub use exists::Exists;
pub use hadoop_activity::HadoopActivity;
pub use hive_activity::HiveActivity;
pub use hive_copy_activity::HiveCopyActivity;
pub use http_proxy::HttpProxy;
pub use jdbc_database::JdbcDatabase;
pub use my_sql_data_node::MySqlDataNode;
pub use pig_activity::PigActivity;
pub use property::Property;
pub use rds_database::RdsDatabase;
pub use redshift_copy_activity::{INSERT_MODE_VALUES, RedshiftCopyActivity};
pub use redshift_data_node::RedshiftDataNode;
pub use redshift_database::RedshiftDatabase;
pub use reg_ex::RegEx;
pub use s3_data_node::{COMPRESSION_VALUES, S3_ENCRYPTION_TYPE_VALUES, S3DataNode};
pub use s3_key_exists::S3KeyExists;
pub use s3_prefix_not_empty::S3PrefixNotEmpty;
pub use schedule::Schedule;
pub use shell_command_activity::ShellCommandActivity;
pub use shell_command_precondition::ShellCommandPrecondition;
pub use shell_script_config::ShellScriptConfig;
pub use sns_alarm::SnsAlarm;
pub use sql_activity::SqlActivity;
pub use sql_data_node::SqlDataNode;
pub use terminate::Terminate;
pub use tsv::TSV;
pub use volume_specification::VolumeSpecification;

/// Every built-in type, in the order `sluice` lists them (the families of the AWS reference).
pub const ALL: &[&dyn ObjectKind] = &[
    &Schedule,
    &Default,
    // data nodes
    &S3DataNode,
    &SqlDataNode,
    &MySqlDataNode,
    &DynamoDBDataNode,
    &RedshiftDataNode,
    // databases
    &JdbcDatabase,
    &RdsDatabase,
    &RedshiftDatabase,
    // data formats
    &CSV,
    &TSV,
    &Custom,
    &RegEx,
    &DynamoDBDataFormat,
    &DynamoDBExportDataFormat,
    // activities
    &CopyActivity,
    &EmrActivity,
    &HadoopActivity,
    &HiveActivity,
    &HiveCopyActivity,
    &PigActivity,
    &RedshiftCopyActivity,
    &ShellCommandActivity,
    &SqlActivity,
    // resources and the objects they reference
    &Ec2Resource,
    &EmrCluster,
    &EmrConfiguration,
    &Property,
    &HttpProxy,
    &ShellScriptConfig,
    &EbsConfiguration,
    &EbsBlockDeviceConfig,
    &VolumeSpecification,
    // preconditions
    &DynamoDBDataExists,
    &DynamoDBTableExists,
    &Exists,
    &S3KeyExists,
    &S3PrefixNotEmpty,
    &ShellCommandPrecondition,
    // actions
    &SnsAlarm,
    &Terminate,
];

/// AWS types Sluice does not model, with the reason; empty while every documented type is
/// supported.
pub const UNSUPPORTED: &[(&str, &str)] = &[];
