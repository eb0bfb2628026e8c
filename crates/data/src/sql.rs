//! SQL databases reached through sqlx: PostgreSQL (and every PostgreSQL-protocol warehouse,
//! Redshift included), MySQL/MariaDB and SQLite.
//!
//! * [`target`]: from a database object (`JdbcDatabase`, `RdsDatabase`, `RedshiftDatabase`, or a
//!   data node's inline `connectionString`) to a [`ConnectTarget`], resolving `rdsInstanceId` and
//!   `clusterId` through [`SqlSettings`];
//! * [`conn`]: one connection of any engine, reading any column as text and writing through
//!   bound parameters (or `COPY` on PostgreSQL);
//! * [`script`]: splitting scripts into statements and finding their `?` placeholders;
//! * [`table`]: data node tables: existence, `createTableSql`, transactional loads;
//! * [`tls`]: TLS, as each engine's JDBC driver spells it (`sslmode`, `ssl`, `sslMode`,
//!   `useSSL`, `sslrootcert`, `serverSslCert`, …).
//!
//! Passwords never appear in `Debug` output, logs or error messages.

pub mod conn;
pub mod script;
pub mod table;
pub mod target;
pub mod tls;

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde::Deserialize;

pub use conn::SqlConn;
pub use target::{ConnectTarget, DatabaseFields, Secret};

/// How database objects map to connection targets: `rdsInstanceId` and `clusterId` name
/// instances that exist only in AWS, so each runner says where they live here.
///
/// ```json
/// { "rdsInstances": { "orders-db": { "engine": "postgresql", "host": "db1", "port": 5432,
///                                   "sslMode": "verify-full", "sslRootCert": "/etc/rds-ca.pem" } },
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
    /// TLS mode, in the engine's JDBC words: `disable` … `verify-full` for `postgresql`,
    /// `DISABLED` … `VERIFY_IDENTITY` (or MariaDB's `disable` … `verify-full`) for `mysql`.
    /// `prefer` / `PREFERRED` when omitted; a connection's own properties override it.
    #[serde(default)]
    pub ssl_mode: Option<String>,
    /// PEM file of the CA certificate(s) that sign the server's, trusted besides the system's.
    #[serde(default)]
    pub ssl_root_cert: Option<PathBuf>,
}

impl SqlEndpoint {
    /// What this entry says about TLS.
    pub fn tls(&self) -> tls::EndpointTls {
        tls::EndpointTls {
            ssl_mode: self.ssl_mode.clone(),
            ssl_root_cert: self.ssl_root_cert.clone(),
        }
    }

    pub(crate) fn dialect(&self) -> tls::Dialect {
        match self.engine {
            Engine::Mysql => tls::Dialect::MySql,
            _ => tls::Dialect::PgJdbc,
        }
    }
}

impl SqlSettings {
    /// What is wrong with the entries' TLS settings, naming the entry: checked when the settings
    /// are loaded, rather than when a pipeline first connects.
    pub fn check(&self) -> Result<(), String> {
        let entries = [
            ("rdsInstances", &self.rds_instances),
            ("redshiftClusters", &self.redshift_clusters),
        ];
        for (kind, entries) in entries {
            for (id, endpoint) in entries {
                if endpoint.engine != Engine::Sqlite {
                    tls::resolve(endpoint.dialect(), &[], &endpoint.tls())
                        .map_err(|e| format!("data.sql.{kind}.{id}: {e}"))?;
                }
            }
        }
        Ok(())
    }
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
