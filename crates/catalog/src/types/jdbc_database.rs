//! `JdbcDatabase`: any JDBC database (dp-object-jdbcdatabase).

use crate::common::{self, optional, repeated, required};
use crate::spec::{Category, FieldSpec, ObjectKind, ValueType};

/// A database reached through a JDBC connection string and driver.
pub struct JdbcDatabase;

static FIELDS: &[FieldSpec] = &[
    required(
        "connectionString",
        ValueType::String,
        "JDBC connection string.",
    ),
    required(
        "jdbcDriverClass",
        ValueType::String,
        "Driver class to load before connecting.",
    ),
    required("*password", ValueType::String, "Password to connect with."),
    required("username", ValueType::String, "User name to connect with."),
    optional(
        "databaseName",
        ValueType::String,
        "Logical database to attach to.",
    ),
    optional(
        "jdbcDriverJarUri",
        ValueType::String,
        "S3 location of the JDBC driver JAR.",
    ),
    repeated(
        "jdbcProperties",
        ValueType::String,
        "A=B pair set as a property on JDBC connections.",
    ),
];

impl ObjectKind for JdbcDatabase {
    fn type_name(&self) -> &'static str {
        "JdbcDatabase"
    }

    fn category(&self) -> Category {
        Category::Database
    }

    fn doc(&self) -> &'static str {
        "A database reached through a JDBC connection string and driver."
    }

    fn fields(&self) -> Vec<&'static FieldSpec> {
        common::with_common(common::PARENT_ONLY, FIELDS)
    }
}
