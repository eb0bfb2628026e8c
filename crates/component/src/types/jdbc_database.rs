//! `JdbcDatabase`: any JDBC database (dp-object-jdbcdatabase).

use sluice_data::sql::{ConnectTarget, DatabaseFields, SqlSettings};
use sluice_model::{FieldValue, PipelineObject};

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

/// Where a database object connects: `JdbcDatabase` (`connectionString`), `RdsDatabase`
/// (`rdsInstanceId`) or `RedshiftDatabase` (`clusterId` or `connectionString`). A data node
/// with an inline `connectionString` / `username` / `*password` goes through here too.
pub(crate) fn connect_target(
    db: &PipelineObject,
    settings: &SqlSettings,
) -> Result<ConnectTarget, String> {
    let fields = DatabaseFields {
        type_name: db.object_type().unwrap_or("database"),
        id: &db.id,
        connection_string: db.string("connectionString"),
        username: db.string("username"),
        password: db.string("*password"),
        rds_instance_id: db.string("rdsInstanceId"),
        cluster_id: db.string("clusterId"),
        database_name: db.string("databaseName"),
        jdbc_properties: db
            .values("jdbcProperties")
            .filter_map(FieldValue::as_str)
            .collect(),
    };
    fields.resolve(settings).map_err(|e| e.to_string())
}
