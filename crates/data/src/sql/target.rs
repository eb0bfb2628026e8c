//! From a database object to a connection target.

use std::fmt;
use std::path::PathBuf;

use super::tls::{Dialect, EndpointTls, SqlTls};
use super::{Engine, SqlError, SqlSettings};

pub use sluice_model::Secret;
use sluice_model::secret::MASK;

/// The commands that take a settings file, for messages that send the user to one.
const SETTINGS_COMMANDS: &str = "sluice run, sluice server and sluice taskrunner all take one";

/// Where and as whom to connect.
#[derive(Clone, Debug)]
pub struct ConnectTarget {
    pub engine: Engine,
    pub host: String,
    pub port: Option<u16>,
    pub database: Option<String>,
    /// SQLite database file.
    pub path: Option<PathBuf>,
    pub username: Option<String>,
    pub password: Option<Secret>,
    /// `jdbcProperties` and connection-string parameters, as `(name, value)`.
    pub properties: Vec<(String, String)>,
    /// Whose JDBC driver the connection is written for: how its TLS properties read.
    pub dialect: Dialect,
    /// TLS as the settings entry (`rdsInstances`, `redshiftClusters`) says; `properties` win.
    pub endpoint_tls: EndpointTls,
}

impl ConnectTarget {
    /// A description for messages: engine, user, host, port and database, never the password.
    pub fn describe(&self) -> String {
        if self.engine == Engine::Sqlite {
            let path = self.path.as_deref().unwrap_or_else(|| "".as_ref());
            return format!("sqlite:{}", path.display());
        }
        let user = self
            .username
            .as_deref()
            .map(|u| format!("{u}@"))
            .unwrap_or_default();
        let port = self.port.map(|p| format!(":{p}")).unwrap_or_default();
        let db = self.database.as_deref().unwrap_or("");
        format!("{}://{user}{}{port}/{db}", self.engine.name(), self.host)
    }

    /// The connection's TLS settings, from its properties over its settings entry (see
    /// [`super::tls`]); `None` for SQLite, which has no network.
    pub fn tls(&self) -> Result<Option<SqlTls>, String> {
        if self.engine == Engine::Sqlite {
            return Ok(None);
        }
        super::tls::resolve(self.dialect, &self.properties, &self.endpoint_tls).map(Some)
    }

    /// Replaces the password wherever it appears in `text` (drivers may echo connection
    /// parameters in their messages).
    pub fn redact(&self, text: &str) -> String {
        match self.password.as_ref().map(Secret::expose) {
            Some(p) if !p.is_empty() => text.replace(p, MASK),
            _ => text.to_string(),
        }
    }
}

/// The fields of a database object (or of a data node with an inline connection).
#[derive(Clone, Default)]
pub struct DatabaseFields<'a> {
    /// `JdbcDatabase`, `RdsDatabase`, `RedshiftDatabase`, or the data node's type for inline
    /// connections.
    pub type_name: &'a str,
    /// The object's id, for messages.
    pub id: &'a str,
    pub connection_string: Option<&'a str>,
    pub username: Option<&'a str>,
    pub password: Option<&'a str>,
    pub rds_instance_id: Option<&'a str>,
    pub cluster_id: Option<&'a str>,
    pub database_name: Option<&'a str>,
    pub jdbc_properties: Vec<&'a str>,
}

impl fmt::Debug for DatabaseFields<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DatabaseFields")
            .field("type_name", &self.type_name)
            .field("id", &self.id)
            .field("connection_string", &self.connection_string)
            .field("username", &self.username)
            .field("password", &self.password.map(|_| MASK))
            .field("rds_instance_id", &self.rds_instance_id)
            .field("cluster_id", &self.cluster_id)
            .field("database_name", &self.database_name)
            .finish()
    }
}

impl DatabaseFields<'_> {
    /// Where to connect, with `rdsInstanceId` / `clusterId` looked up in `settings`.
    pub fn resolve(&self, settings: &SqlSettings) -> Result<ConnectTarget, SqlError> {
        let err = |message: String| {
            SqlError::Config(format!("{} {}: {message}", self.type_name, self.id))
        };
        let mut target = if let Some(id) = self
            .rds_instance_id
            .filter(|_| self.connection_string.is_none())
        {
            let endpoint = settings.rds_instances.get(id).ok_or_else(|| {
                err(format!(
                    "rdsInstanceId {id:?} is not configured; add it under data.sql.rdsInstances \
                     in a settings file given to --settings ({SETTINGS_COMMANDS})"
                ))
            })?;
            from_endpoint(endpoint, None)
        } else if let Some(id) = self.cluster_id.filter(|_| self.connection_string.is_none()) {
            let endpoint = settings.redshift_clusters.get(id).ok_or_else(|| {
                err(format!(
                    "clusterId {id:?} is not configured; add it under data.sql.redshiftClusters \
                     in a settings file given to --settings ({SETTINGS_COMMANDS})"
                ))
            })?;
            from_endpoint(endpoint, Some(5439))
        } else if let Some(cs) = self.connection_string {
            parse_jdbc(cs).map_err(err)?
        } else {
            return Err(err(
                "needs a connectionString (or rdsInstanceId / clusterId)".to_string(),
            ));
        };
        if let Some(db) = self.database_name {
            target.database = Some(db.to_string());
        }
        target.username = self.username.map(str::to_string).or(target.username);
        // An empty password means none: MySQL otherwise reports "using password: YES".
        if let Some(p) = self.password.filter(|p| !p.is_empty()) {
            target.password = Some(Secret::new(p));
        }
        for prop in &self.jdbc_properties {
            let (k, v) = prop
                .split_once('=')
                .ok_or_else(|| err(format!("jdbcProperties value {prop:?} is not A=B")))?;
            target
                .properties
                .push((k.trim().to_string(), v.trim().to_string()));
        }
        // Refused now, with the object named, rather than when the connection is tried.
        target.tls().map_err(err)?;
        Ok(target)
    }
}

fn from_endpoint(endpoint: &super::SqlEndpoint, default_port: Option<u16>) -> ConnectTarget {
    ConnectTarget {
        dialect: endpoint.dialect(),
        endpoint_tls: endpoint.tls(),
        engine: endpoint.engine,
        host: endpoint.host.clone().unwrap_or_else(|| "127.0.0.1".into()),
        port: endpoint.port.or(default_port),
        database: endpoint.database.clone(),
        path: endpoint.path.clone(),
        username: None,
        password: None,
        properties: Vec::new(),
    }
}

/// Parses `jdbc:postgresql://host[:port]/db[?k=v&…]` (also `jdbc:redshift:`),
/// `jdbc:mysql://…` / `jdbc:mariadb://…` and `jdbc:sqlite:path`.
pub fn parse_jdbc(connection_string: &str) -> Result<ConnectTarget, String> {
    let rest = connection_string.strip_prefix("jdbc:").ok_or_else(|| {
        format!("connectionString {connection_string:?} does not start with jdbc:")
    })?;
    let (scheme, rest) = rest
        .split_once(':')
        .ok_or_else(|| format!("connectionString {connection_string:?} has no database type"))?;
    let (engine, dialect) = match scheme.to_ascii_lowercase().as_str() {
        "postgresql" | "postgres" => (Engine::Postgresql, Dialect::PgJdbc),
        "redshift" => (Engine::Postgresql, Dialect::Redshift),
        "mysql" => (Engine::Mysql, Dialect::MySql),
        "mariadb" => (Engine::Mysql, Dialect::MariaDb),
        "sqlite" => {
            let path = rest.trim_start_matches("//");
            if path.is_empty() {
                return Err(format!(
                    "connectionString {connection_string:?} names no SQLite file"
                ));
            }
            return Ok(ConnectTarget {
                engine: Engine::Sqlite,
                host: String::new(),
                port: None,
                database: None,
                path: Some(PathBuf::from(path)),
                username: None,
                password: None,
                properties: Vec::new(),
                dialect: Dialect::default(),
                endpoint_tls: EndpointTls::default(),
            });
        }
        other => {
            return Err(format!(
                "connectionString {connection_string:?}: database type {other:?} is not supported (postgresql, redshift, mysql, mariadb, sqlite)"
            ));
        }
    };
    let rest = rest.strip_prefix("//").ok_or_else(|| {
        format!("connectionString {connection_string:?} needs //host after the database type")
    })?;
    let (rest, query) = match rest.split_once('?') {
        Some((r, q)) => (r, Some(q)),
        None => (rest, None),
    };
    let (authority, database) = match rest.split_once('/') {
        Some((a, d)) => (a, (!d.is_empty()).then(|| d.to_string())),
        None => (rest, None),
    };
    let (host, port) = match authority.rsplit_once(':') {
        Some((h, p)) if !h.ends_with(']') || authority.starts_with('[') => {
            let port = p.parse::<u16>().map_err(|_| {
                format!("connectionString {connection_string:?}: port {p:?} is not a number")
            })?;
            (h, Some(port))
        }
        _ => (authority, None),
    };
    if host.is_empty() {
        return Err(format!(
            "connectionString {connection_string:?} names no host"
        ));
    }
    let mut properties = Vec::new();
    for pair in query
        .into_iter()
        .flat_map(|q| q.split('&'))
        .filter(|p| !p.is_empty())
    {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        properties.push((k.to_string(), v.to_string()));
    }
    Ok(ConnectTarget {
        engine,
        host: host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .to_string(),
        port: port.or((dialect == Dialect::Redshift).then_some(5439)),
        database,
        path: None,
        username: None,
        password: None,
        properties,
        dialect,
        endpoint_tls: EndpointTls::default(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_postgres_mysql_mariadb_sqlite() {
        let t = parse_jdbc("jdbc:postgresql://db.example:6543/sales?currentSchema=s1").unwrap();
        assert_eq!(
            (t.engine, t.host.as_str(), t.port),
            (Engine::Postgresql, "db.example", Some(6543))
        );
        assert_eq!(t.database.as_deref(), Some("sales"));
        assert_eq!(
            t.properties,
            vec![("currentSchema".to_string(), "s1".to_string())]
        );
        let t = parse_jdbc("jdbc:mariadb://127.0.0.1/test").unwrap();
        assert_eq!((t.engine, t.port), (Engine::Mysql, None));
        let t = parse_jdbc("jdbc:mysql://h:3307").unwrap();
        assert_eq!((t.port, t.database), (Some(3307), None));
        let t = parse_jdbc("jdbc:redshift://wh:5439/dev").unwrap();
        assert_eq!(t.engine, Engine::Postgresql);
        let t = parse_jdbc("jdbc:sqlite:/tmp/x.db").unwrap();
        assert_eq!(t.path.as_deref(), Some(std::path::Path::new("/tmp/x.db")));
    }

    #[test]
    fn bad_connection_strings_say_what_is_wrong() {
        for (cs, needle) in [
            ("postgresql://h/db", "jdbc:"),
            ("jdbc:oracle:thin:@h:1521:x", "not supported"),
            ("jdbc:postgresql://h:port/db", "port"),
            ("jdbc:mysql:h/db", "//host"),
        ] {
            let err = parse_jdbc(cs).unwrap_err();
            assert!(err.contains(needle), "{cs}: {err}");
        }
    }

    #[test]
    fn rds_and_redshift_ids_resolve_through_settings() {
        let settings: SqlSettings = serde_json::from_str(
            r#"{"rdsInstances": {"orders": {"engine": "mariadb", "host": "10.0.0.5", "database": "shop"}},
                "redshiftClusters": {"wh": {"host": "wh.local"}}}"#,
        )
        .unwrap();
        let rds = DatabaseFields {
            type_name: "RdsDatabase",
            id: "Rds",
            rds_instance_id: Some("orders"),
            username: Some("u"),
            password: Some("hunter2"),
            ..Default::default()
        };
        let t = rds.resolve(&settings).unwrap();
        assert_eq!((t.engine, t.host.as_str()), (Engine::Mysql, "10.0.0.5"));
        assert_eq!(t.database.as_deref(), Some("shop"));
        assert_eq!(t.describe(), "mysql://u@10.0.0.5/shop");
        assert!(!format!("{t:?}").contains("hunter2"));
        assert!(!format!("{rds:?}").contains("hunter2"));
        assert_eq!(t.redact("bad hunter2 x"), format!("bad {MASK} x"));

        let wh = DatabaseFields {
            type_name: "RedshiftDatabase",
            id: "Wh",
            cluster_id: Some("wh"),
            database_name: Some("dev"),
            ..Default::default()
        };
        let t = wh.resolve(&settings).unwrap();
        assert_eq!(
            (t.engine, t.port, t.database.as_deref()),
            (Engine::Postgresql, Some(5439), Some("dev"))
        );

        let missing = DatabaseFields {
            type_name: "RdsDatabase",
            id: "Other",
            rds_instance_id: Some("nope"),
            ..Default::default()
        };
        let err = missing.resolve(&settings).unwrap_err().to_string();
        assert!(
            err.contains("\"nope\"")
                && err.contains("data.sql.rdsInstances")
                && err.contains("--settings")
                && err.contains("sluice run")
                && err.contains("Other"),
            "{err}"
        );
    }

    #[test]
    fn settings_refuse_unknown_fields() {
        let err = serde_json::from_str::<SqlSettings>(r#"{"rdsInstances": {"x": {"hots": "h"}}}"#)
            .unwrap_err()
            .to_string();
        assert!(err.contains("hots"), "{err}");
    }
}
