//! `JdbcDatabase`: any JDBC database (dp-object-jdbcdatabase).

use sluice_data::sql::{ConnectTarget, DatabaseFields, SqlSettings};
use sluice_model::{FieldValue, PipelineObject};

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
