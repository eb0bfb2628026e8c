//! `RdsDatabase`: an Amazon RDS instance (dp-object-rdsdatabase).

use crate::common::{self, optional, repeated, required};
use crate::spec::{Category, FieldSpec, ObjectKind, ValueType};

/// An Amazon RDS database instance.
pub struct RdsDatabase;

static FIELDS: &[FieldSpec] = &[
    required("*password", ValueType::String, "Password to connect with."),
    required(
        "rdsInstanceId",
        ValueType::String,
        "Identifier of the RDS DB instance.",
    ),
    required("username", ValueType::String, "User name to connect with."),
    optional(
        "databaseName",
        ValueType::String,
        "Logical database to attach to.",
    ),
    optional(
        "jdbcDriverJarUri",
        ValueType::String,
        "S3 location of the JDBC driver JAR; needed for Oracle and SQL Server, MySQL and PostgreSQL have defaults.",
    ),
    repeated(
        "jdbcProperties",
        ValueType::String,
        "A=B pair set as a property on JDBC connections.",
    ),
    optional(
        "region",
        ValueType::String,
        "Region of the DB instance, e.g. us-east-1.",
    ),
];

impl ObjectKind for RdsDatabase {
    fn type_name(&self) -> &'static str {
        "RdsDatabase"
    }

    fn category(&self) -> Category {
        Category::Database
    }

    fn doc(&self) -> &'static str {
        "An Amazon RDS database instance."
    }

    fn fields(&self) -> Vec<&'static FieldSpec> {
        common::with_common(common::PARENT_ONLY, FIELDS)
    }
}
