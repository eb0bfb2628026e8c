//! `SqlDataNode`: a table in a SQL database (dp-object-sqldatanode).
//!
//! The inline `connectionString` / `username` / `*password` fields are not in the field table,
//! but AWS's own examples and samples connect this way instead of through `database`, so
//! rejecting them would reject definitions the service runs.

use crate::common::{self, optional, required};
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
