//! `RedshiftDatabase`: an Amazon Redshift database (dp-object-redshiftdatabase).

use crate::common::{self, optional, repeated, required};
use crate::spec::{Category, FieldSpec, ObjectKind, OneOf, ValueType};

/// An Amazon Redshift database, by cluster id or (cross-account) JDBC endpoint.
pub struct RedshiftDatabase;

static FIELDS: &[FieldSpec] = &[
    required("*password", ValueType::String, "Password to connect with."),
    required("username", ValueType::String, "User name to connect with."),
    optional(
        "clusterId",
        ValueType::String,
        "Cluster identifier, e.g. mydb for mydb.example.us-east-1.redshift.amazonaws.com.",
    ),
    optional(
        "connectionString",
        ValueType::String,
        "JDBC endpoint of a cluster owned by another account.",
    ),
    optional(
        "databaseName",
        ValueType::String,
        "Logical database to attach to.",
    ),
    repeated(
        "jdbcProperties",
        ValueType::String,
        "A=B pair set as a property on JDBC connections.",
    ),
    optional(
        "region",
        ValueType::String,
        "Region of the cluster, e.g. us-east-1.",
    ),
];

static ONE_OF: &[OneOf] = &[OneOf {
    fields: &["clusterId", "connectionString"],
    exclusive: true,
}];

impl ObjectKind for RedshiftDatabase {
    fn type_name(&self) -> &'static str {
        "RedshiftDatabase"
    }

    fn category(&self) -> Category {
        Category::Database
    }

    fn doc(&self) -> &'static str {
        "An Amazon Redshift database, by cluster id or (cross-account) JDBC endpoint."
    }

    fn fields(&self) -> Vec<&'static FieldSpec> {
        common::with_common(common::PARENT_ONLY, FIELDS)
    }

    fn one_of(&self) -> &'static [OneOf] {
        ONE_OF
    }
}
