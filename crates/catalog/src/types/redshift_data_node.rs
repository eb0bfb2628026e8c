//! `RedshiftDataNode`: a table in Amazon Redshift (dp-object-redshiftdatanode).
//!
//! `selectQuery` is not in AWS's field table. Sluice takes it as SqlDataNode does, so that an
//! unload (RedshiftCopyActivity into S3) or a CopyActivity can read chosen rows rather than
//! the whole table.

use crate::common::{self, optional, repeated, required};
use crate::spec::{Category, FieldSpec, ObjectKind, RefTarget, ValueType};

/// A table in an Amazon Redshift database.
pub struct RedshiftDataNode;

static FIELDS: &[FieldSpec] = &[
    required(
        "database",
        ValueType::Reference(&[RefTarget::Type("RedshiftDatabase")]),
        "Redshift database holding the table.",
    ),
    required(
        "tableName",
        ValueType::String,
        "Name of the table; created when absent if createTableSql is given.",
    ),
    optional(
        "createTableSql",
        ValueType::String,
        "SQL run to create the table when it does not exist in schemaName.",
    ),
    repeated(
        "primaryKeys",
        ValueType::String,
        "Columns RedshiftCopyActivity uses as the merge key when the table defines none.",
    ),
    optional(
        "selectQuery",
        ValueType::String,
        "SELECT whose rows reading the node returns (RedshiftCopyActivity unloading to S3, CopyActivity); default the whole table.",
    ),
    optional(
        "schemaName",
        ValueType::String,
        "Schema of the table; default PUBLIC.",
    ),
];

impl ObjectKind for RedshiftDataNode {
    fn type_name(&self) -> &'static str {
        "RedshiftDataNode"
    }

    fn category(&self) -> Category {
        Category::DataNode
    }

    fn doc(&self) -> &'static str {
        "A table in an Amazon Redshift database."
    }

    fn fields(&self) -> Vec<&'static FieldSpec> {
        common::with_common(common::DATA_NODE_FIELDS, FIELDS)
    }
}
