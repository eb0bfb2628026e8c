//! `SqlDataNode`: a table in a SQL database (dp-object-sqldatanode).
//!
//! The inline `connectionString` / `username` / `*password` fields are not in the field table,
//! but AWS's own examples and samples connect this way instead of through `database`, so
//! rejecting them would reject definitions the service runs.

use crate::execute::AttemptContext;
use sluice_data::sql::ConnectTarget;
use sluice_data::sql::table::TableSpec;
use sluice_model::{FieldValue, PipelineObject};

/// A SQL table node ready to use: where it lives and how it is read and written.
#[derive(Debug)]
pub(crate) struct SqlNode {
    pub id: String,
    pub target: ConnectTarget,
    pub table: TableSpec,
}

/// Resolves a `SqlDataNode`, `MySqlDataNode` or `RedshiftDataNode`: its `database` reference
/// (or inline `connectionString`), and its table fields.
pub(crate) fn sql_node(ctx: &AttemptContext, node: &PipelineObject) -> Result<SqlNode, String> {
    let node_type = node.object_type().unwrap_or("");
    let table_field = if node_type == "RedshiftDataNode" {
        "tableName"
    } else {
        "table"
    };
    let table = node
        .string(table_field)
        .ok_or_else(|| format!("{node_type} {} has no {table_field}", node.id))?;
    let database = node.values("database").find_map(FieldValue::as_ref_id);
    let target = match database {
        Some(id) => {
            let db = ctx.task.objects.get(id).ok_or_else(|| {
                format!("{node_type} {}: database {id} is not in the task", node.id)
            })?;
            crate::types::jdbc_database::connect_target(db, &ctx.settings.data.sql)?
        }
        None if node.string("connectionString").is_some() => {
            crate::types::jdbc_database::connect_target(node, &ctx.settings.data.sql)?
        }
        None => {
            return Err(format!(
                "{node_type} {} needs a database (or an inline connectionString)",
                node.id
            ));
        }
    };
    Ok(SqlNode {
        id: node.id.clone(),
        target,
        table: TableSpec {
            table: table.to_string(),
            schema: node.string("schemaName").map(str::to_string),
            select_query: node.string("selectQuery").map(str::to_string),
            insert_query: node.string("insertQuery").map(str::to_string),
            create_table_sql: node.string("createTableSql").map(str::to_string),
        },
    })
}
