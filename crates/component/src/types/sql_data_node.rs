//! `SqlDataNode`: a table in a SQL database (dp-object-sqldatanode).
//!
//! The inline `connectionString` / `username` / `*password` fields are not in the field table,
//! but AWS's own examples and samples connect this way instead of through `database`, so
//! rejecting them would reject definitions the service runs.

use sluice_data::sql::ConnectTarget;
use sluice_data::sql::table::TableSpec;
use sluice_model::{FieldValue, PipelineObject};

use crate::common::{self, optional, required};
use crate::execute::AttemptContext;
use crate::spec::{Category, FieldSpec, ObjectKind, ValueType};

/// A table in a SQL database, read with selectQuery and written with insertQuery.
pub struct SqlDataNode;

pub(super) static FIELDS: &[FieldSpec] = &[
    required(
        "table",
        ValueType::String,
        "Name of the table in the SQL database.",
    ),
    optional(
        "createTableSql",
        ValueType::String,
        "SQL CREATE TABLE statement that creates the table.",
    ),
    optional(
        "database",
        ValueType::Reference(common::DATABASE_REF),
        "Database holding the table.",
    ),
    optional(
        "insertQuery",
        ValueType::String,
        "SQL statement that inserts data into the table.",
    ),
    optional("schemaName", ValueType::String, "Schema holding the table."),
    optional(
        "selectQuery",
        ValueType::String,
        "SQL statement that fetches data from the table.",
    ),
    optional(
        "connectionString",
        ValueType::String,
        "JDBC connection string given inline instead of a database object (legacy form).",
    ),
    optional(
        "username",
        ValueType::String,
        "User name for the inline connectionString (legacy form).",
    ),
    optional(
        "*password",
        ValueType::String,
        "Password for the inline connectionString (legacy form).",
    ),
];

impl ObjectKind for SqlDataNode {
    fn type_name(&self) -> &'static str {
        "SqlDataNode"
    }

    fn category(&self) -> Category {
        Category::DataNode
    }

    fn doc(&self) -> &'static str {
        "A table in a SQL database, read with selectQuery and written with insertQuery."
    }

    fn fields(&self) -> Vec<&'static FieldSpec> {
        common::with_common(common::DATA_NODE_FIELDS, FIELDS)
    }
}

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
            super::jdbc_database::connect_target(db, &ctx.settings.data.sql)?
        }
        None if node.string("connectionString").is_some() => {
            super::jdbc_database::connect_target(node, &ctx.settings.data.sql)?
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
