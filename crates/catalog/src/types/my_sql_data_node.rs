//! `MySqlDataNode`: a table in MySQL (dp-object-mysqldatanode); deprecated.
//!
//! AWS documents exactly the fields of [`SqlDataNode`](super::SqlDataNode), so it shares them.

use crate::common;
use crate::spec::{Category, FieldSpec, ObjectKind};

/// A table in a MySQL database; deprecated in favour of SqlDataNode.
pub struct MySqlDataNode;

impl ObjectKind for MySqlDataNode {
    fn type_name(&self) -> &'static str {
        "MySqlDataNode"
    }

    fn category(&self) -> Category {
        Category::DataNode
    }

    fn doc(&self) -> &'static str {
        "A table in a MySQL database; deprecated in favour of SqlDataNode."
    }

    fn fields(&self) -> Vec<&'static FieldSpec> {
        common::with_common(common::DATA_NODE_FIELDS, super::sql_data_node::FIELDS)
    }

    fn deprecated(&self) -> Option<&'static str> {
        Some("MySqlDataNode is deprecated; use SqlDataNode")
    }
}
