//! SQL databases reached through sqlx: PostgreSQL (and every PostgreSQL-protocol warehouse,
//! Redshift included), MySQL/MariaDB and SQLite.
//!
//! * [`target`]: from a database object (`JdbcDatabase`, `RdsDatabase`, `RedshiftDatabase`, or a
//!   data node's inline `connectionString`) to a [`ConnectTarget`], resolving `rdsInstanceId` and
//!   `clusterId` through [`SqlSettings`];
//! * [`conn`]: one connection of any engine, reading any column as text and writing through
//!   bound parameters (or `COPY` on PostgreSQL);
//! * [`script`]: splitting scripts into statements and finding their `?` placeholders;
//! * [`table`]: data node tables: existence, `createTableSql`, transactional loads.
//!
//! Passwords never appear in `Debug` output, logs or error messages.

pub mod conn;
pub mod script;
pub mod table;
pub mod target;

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde::Deserialize;

pub use conn::SqlConn;
pub use target::{ConnectTarget, DatabaseFields, Secret};

/// How database objects map to connection targets: `rdsInstanceId` and `clusterId` name
/// instances that exist only in AWS, so each runner says where they live here.
///
/// ```json
/// { "rdsInstances": { "orders-db": { "engine": "postgresql", "host": "db1", "port": 5432 } },
///   "redshiftClusters": { "warehouse": { "host": "wh1", "port": 5439 } } }
/// ```
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, deny_unknown_fields, rename_all = "camelCase")]
pub struct SqlSettings {
    /// `RdsDatabase.rdsInstanceId` → where the instance is.
    pub rds_instances: BTreeMap<String, SqlEndpoint>,
    /// `RedshiftDatabase.clusterId` → where the cluster is (PostgreSQL protocol by default).
    pub redshift_clusters: BTreeMap<String, SqlEndpoint>,
}

/// Where one database server is.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct SqlEndpoint {
    /// Wire protocol; `postgresql` when omitted.
    #[serde(default)]
    pub engine: Engine,
    /// Host name or address (not used by `sqlite`).
    #[serde(default)]
    pub host: Option<String>,
    /// Port; the engine's default when omitted (5432, 3306; 5439 for Redshift clusters).
    #[serde(default)]
    pub port: Option<u16>,
    /// Database file (only `sqlite`).
    #[serde(default)]
    pub path: Option<PathBuf>,
    /// Database used when the database object gives no `databaseName`.
    #[serde(default)]
    pub database: Option<String>,
}

/// The wire protocol of a database.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Engine {
    /// PostgreSQL and PostgreSQL-protocol warehouses (Redshift).
    #[default]
    #[serde(alias = "postgres", alias = "redshift")]
    Postgresql,
    /// MySQL and MariaDB.
    #[serde(alias = "mariadb")]
    Mysql,
    /// SQLite database files.
    Sqlite,
}

impl Engine {
    pub fn name(self) -> &'static str {
        match self {
            Engine::Postgresql => "postgresql",
            Engine::Mysql => "mysql",
            Engine::Sqlite => "sqlite",
        }
    }
}

/// Why a database could not be reached or used.
#[derive(Debug, thiserror::Error)]
pub enum SqlError {
    /// The database object or data node cannot be used as given.
    #[error("{0}")]
    Config(String),
    /// The connection failed (wrong host, password, database, …).
    #[error("cannot connect to {target}: {message}")]
    Connect { target: String, message: String },
    /// A data node's table is not there and it has no `createTableSql`.
    #[error("table {table} does not exist in {target}")]
    MissingTable { table: String, target: String },
    /// A statement failed.
    #[error("{context}: {message}")]
    Statement { context: String, message: String },
}
