//! One connection to a database of any supported engine.
//!
//! Reads go through the simple (text) protocol, so every column of every type comes back as its
//! text form without a per-type decoder. Writes bind every value as text: MySQL and SQLite
//! convert on assignment; PostgreSQL does not, so its placeholders are wrapped in a cast to the
//! type the server inferred for them.

use std::collections::HashMap;

use futures::StreamExt;
use futures::stream::BoxStream;
#[cfg(feature = "mysql")]
use sqlx::mysql::{MySqlConnectOptions, MySqlConnection};
#[cfg(feature = "postgres")]
use sqlx::postgres::{PgConnectOptions, PgConnection};
use sqlx::sqlite::{SqliteConnectOptions, SqliteConnection};
use sqlx::{ConnectOptions, Connection, Executor, Row};

use super::script::Statement;
#[cfg(any(feature = "postgres", feature = "mysql"))]
use super::tls::{SqlTls, TlsMode};
use super::{ConnectTarget, Engine, SqlError};
use crate::format::Record;

/// An open connection.
pub struct SqlConn {
    inner: Inner,
    target: ConnectTarget,
    /// PostgreSQL statements with `?` placeholders, rewritten with casts (insert queries repeat).
    #[cfg_attr(not(feature = "postgres"), allow(dead_code))]
    pg_rewritten: HashMap<String, String>,
}

/// The drivers are cargo features (SQLite always, the state store needs it); a target whose
/// driver this build leaves out fails in [`SqlConn::connect`], so no `Inner` exists for it.
enum Inner {
    #[cfg(feature = "postgres")]
    Pg(PgConnection),
    #[cfg(feature = "mysql")]
    My(MySqlConnection),
    Lite(SqliteConnection),
}

/// `$body` on the connection of whichever driver `$inner` holds, for code that reads the same
/// on every driver.
macro_rules! on_driver {
    ($inner:expr, $c:ident => $body:expr) => {
        match $inner {
            #[cfg(feature = "postgres")]
            Inner::Pg($c) => $body,
            #[cfg(feature = "mysql")]
            Inner::My($c) => $body,
            Inner::Lite($c) => $body,
        }
    };
}

impl std::fmt::Debug for SqlConn {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "SqlConn({})", self.target.describe())
    }
}

impl SqlConn {
    /// Connects; the error names the target (never the password), the TLS mode asked for,
    /// and says why.
    pub async fn connect(target: &ConnectTarget) -> Result<Self, SqlError> {
        let fail = |e: sqlx::Error| SqlError::Connect {
            target: target.describe(),
            message: target.redact(&e.to_string()),
        };
        let inner = match target.engine {
            #[cfg(feature = "postgres")]
            Engine::Postgresql => {
                let tls = network_tls(target)?;
                let mut opts = PgConnectOptions::new_without_pgpass()
                    .host(&target.host)
                    .port(target.port.unwrap_or(5432));
                if let Some(u) = &target.username {
                    opts = opts.username(u);
                }
                if let Some(p) = &target.password {
                    opts = opts.password(p.expose());
                }
                if let Some(db) = &target.database {
                    opts = opts.database(db);
                }
                for (k, v) in &target.properties {
                    match k.as_str() {
                        "currentSchema" => opts = opts.options([("search_path", v.as_str())]),
                        "ApplicationName" | "applicationName" => opts = opts.application_name(v),
                        other => tracing::debug!(property = other, "JDBC property not used"),
                    }
                }
                if let Some(pem) = root_pem(&tls)? {
                    opts = opts.ssl_root_cert_from_pem(pem);
                }
                Inner::Pg(
                    pg_connect(opts, &tls)
                        .await
                        .map_err(|e| tls_failure(target, &tls, e))?,
                )
            }
            #[cfg(feature = "mysql")]
            Engine::Mysql => {
                use sqlx::mysql::MySqlSslMode;
                let tls = network_tls(target)?;
                let mut opts = MySqlConnectOptions::new()
                    .host(&target.host)
                    .port(target.port.unwrap_or(3306))
                    .ssl_mode(match tls.mode {
                        TlsMode::Disable => MySqlSslMode::Disabled,
                        // `allow` is PostgreSQL's alone; MySQL dialects never resolve to it.
                        TlsMode::Allow | TlsMode::Prefer => MySqlSslMode::Preferred,
                        TlsMode::Require => MySqlSslMode::Required,
                        TlsMode::VerifyCa => MySqlSslMode::VerifyCa,
                        TlsMode::VerifyFull => MySqlSslMode::VerifyIdentity,
                    });
                if let Some(u) = &target.username {
                    opts = opts.username(u);
                }
                if let Some(p) = &target.password {
                    opts = opts.password(p.expose());
                }
                if let Some(db) = &target.database {
                    opts = opts.database(db);
                }
                if let Some(pem) = root_pem(&tls)? {
                    opts = opts.ssl_ca_from_pem(pem);
                }
                Inner::My(
                    opts.connect()
                        .await
                        .map_err(|e| tls_failure(target, &tls, e))?,
                )
            }
            Engine::Sqlite => {
                let path = target.path.as_ref().ok_or_else(|| {
                    SqlError::Config("a SQLite database needs a file path".into())
                })?;
                let opts = SqliteConnectOptions::new()
                    .filename(path)
                    .create_if_missing(true);
                Inner::Lite(opts.connect().await.map_err(fail)?)
            }
            #[allow(unreachable_patterns)]
            engine => return Err(left_out(target, engine)),
        };
        Ok(SqlConn {
            inner,
            target: target.clone(),
            pg_rewritten: HashMap::new(),
        })
    }

    pub fn engine(&self) -> Engine {
        self.target.engine
    }

    pub fn target(&self) -> &ConnectTarget {
        &self.target
    }

    /// The PostgreSQL connection, for `COPY`.
    #[cfg(feature = "postgres")]
    pub fn as_pg(&mut self) -> Option<&mut PgConnection> {
        match &mut self.inner {
            Inner::Pg(c) => Some(c),
            _ => None,
        }
    }

    /// Turns a driver error into a message with the database's own detail (PostgreSQL's
    /// `CONTEXT` names the COPY line and column), the password redacted.
    pub fn describe_error(&self, err: &sqlx::Error) -> String {
        let mut message = err.to_string();
        if let sqlx::Error::Database(db) = err {
            message = db.message().to_string();
            #[cfg(feature = "postgres")]
            if let Some(pg) = db.try_downcast_ref::<sqlx::postgres::PgDatabaseError>() {
                if let Some(detail) = pg.detail() {
                    message.push_str(&format!(" ({detail})"));
                }
                if let Some(context) = pg.r#where() {
                    message.push_str(&format!(" [{context}]"));
                }
            }
        }
        self.target.redact(&message)
    }

    fn statement_error(&self, context: impl Into<String>, err: &sqlx::Error) -> SqlError {
        SqlError::Statement {
            context: context.into(),
            message: self.describe_error(err),
        }
    }

    /// Runs SQL without parameters through the simple protocol (DDL, `SET`, several statements).
    pub async fn execute_raw(&mut self, sql: &str) -> Result<u64, SqlError> {
        let result = on_driver!(&mut self.inner, c => c
            .execute(sqlx::raw_sql(sql))
            .await
            .map(|r| r.rows_affected()));
        result.map_err(|e| self.statement_error(abbreviate(sql), &e))
    }

    /// Runs one statement whose `?` placeholders take `args` (bound as text; `None` is NULL).
    pub async fn execute_bound(
        &mut self,
        statement: &Statement,
        args: &[Option<String>],
    ) -> Result<u64, sqlx::Error> {
        if statement.placeholders.len() != args.len() {
            return Err(sqlx::Error::Protocol(format!(
                "the statement has {} ? placeholders but {} values were given",
                statement.placeholders.len(),
                args.len()
            )));
        }
        match &mut self.inner {
            #[cfg(feature = "postgres")]
            Inner::Pg(c) => {
                let sql = match self.pg_rewritten.get(&statement.sql) {
                    Some(sql) => sql.clone(),
                    None => {
                        let sql = pg_cast_placeholders(c, statement).await?;
                        self.pg_rewritten.insert(statement.sql.clone(), sql.clone());
                        sql
                    }
                };
                let mut query = sqlx::query(&sql);
                for a in args {
                    query = query.bind(a.as_deref());
                }
                c.execute(query).await.map(|r| r.rows_affected())
            }
            #[cfg(feature = "mysql")]
            Inner::My(c) => {
                let mut query = sqlx::query(&statement.sql);
                for a in args {
                    query = query.bind(a.as_deref());
                }
                c.execute(query).await.map(|r| r.rows_affected())
            }
            Inner::Lite(c) => {
                let mut query = sqlx::query(&statement.sql);
                for a in args {
                    query = query.bind(a.as_deref());
                }
                c.execute(query).await.map(|r| r.rows_affected())
            }
        }
    }

    /// Streams the rows of a query, every column as text (`None` for NULL).
    pub fn fetch_text<'a>(
        &'a mut self,
        sql: &'a str,
    ) -> BoxStream<'a, Result<Record, sqlx::Error>> {
        fn text_row<R: Row>(row: R) -> Result<Record, sqlx::Error>
        where
            for<'r> Option<String>: sqlx::Decode<'r, R::Database>,
            usize: sqlx::ColumnIndex<R>,
        {
            (0..row.len())
                .map(|i| row.try_get_unchecked::<Option<String>, _>(i))
                .collect()
        }
        on_driver!(&mut self.inner, c => c
            .fetch(sqlx::raw_sql(sql))
            .map(|r| r.and_then(text_row))
            .boxed())
    }

    /// The names of the columns a query returns, in order, without running it (the server
    /// prepares it), so they are known even when it returns no rows.
    pub async fn column_names(&mut self, sql: &str) -> Result<Vec<String>, SqlError> {
        fn names<'q>(statement: &impl sqlx::Statement<'q>) -> Vec<String> {
            use sqlx::Column;
            statement
                .columns()
                .iter()
                .map(|column| column.name().to_string())
                .collect()
        }
        let prepared = on_driver!(&mut self.inner, c => c.prepare(sql).await.map(|s| names(&s)));
        prepared.map_err(|e| self.statement_error(abbreviate(sql), &e))
    }

    /// Whether `table` (optionally in `schema`) exists; unquoted names match case-insensitively.
    pub async fn table_exists(
        &mut self,
        schema: Option<&str>,
        table: &str,
    ) -> Result<bool, SqlError> {
        let (schema, table) = split_qualified(schema, table);
        let result = match &mut self.inner {
            #[cfg(feature = "postgres")]
            Inner::Pg(c) => {
                let query = sqlx::query(
                    "SELECT EXISTS (SELECT 1 FROM information_schema.tables \
                     WHERE lower(table_name) = lower($1) \
                     AND lower(table_schema) = lower(coalesce($2, current_schema())))",
                )
                .bind(table)
                .bind(schema);
                c.fetch_one(query)
                    .await
                    .and_then(|row| row.try_get::<bool, _>(0))
            }
            #[cfg(feature = "mysql")]
            Inner::My(c) => {
                let query = sqlx::query(
                    "SELECT COUNT(*) FROM information_schema.tables \
                     WHERE lower(table_name) = lower(?) AND table_schema = coalesce(?, database())",
                )
                .bind(table)
                .bind(schema);
                c.fetch_one(query)
                    .await
                    .and_then(|row| row.try_get::<i64, _>(0))
                    .map(|n| n > 0)
            }
            Inner::Lite(c) => {
                // SQLite has no schemas (an attached database would be one; data nodes name
                // none).
                let _ = schema;
                let query = sqlx::query(
                    "SELECT COUNT(*) FROM sqlite_master WHERE type IN ('table', 'view') \
                     AND name = ? COLLATE NOCASE",
                )
                .bind(table);
                c.fetch_one(query)
                    .await
                    .and_then(|row| row.try_get::<i64, _>(0))
                    .map(|n| n > 0)
            }
        };
        result
            .map_err(|e| self.statement_error(format!("checking whether table {table} exists"), &e))
    }

    /// The primary key columns of a PostgreSQL table, in key order.
    pub async fn primary_key(
        &mut self,
        schema: Option<&str>,
        table: &str,
    ) -> Result<Vec<String>, SqlError> {
        #[cfg(feature = "postgres")]
        if let Inner::Pg(c) = &mut self.inner {
            let (schema, table) = split_qualified(schema, table);
            let qualified = match schema {
                Some(s) => format!("{s}.{table}"),
                None => table.to_string(),
            };
            let query = sqlx::query(
                "SELECT a.attname::text FROM pg_index i \
                 JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY(i.indkey) \
                 WHERE i.indrelid = $1::regclass AND i.indisprimary \
                 ORDER BY array_position(i.indkey, a.attnum)",
            )
            .bind(&qualified);
            return c
                .fetch_all(query)
                .await
                .and_then(|rows| rows.iter().map(|r| r.try_get::<String, _>(0)).collect())
                .map_err(|e| {
                    self.statement_error(format!("reading the primary key of {qualified}"), &e)
                });
        }
        let _ = (schema, table);
        Ok(Vec::new())
    }
}

/// The error for a target whose driver this build leaves out.
fn left_out(target: &ConnectTarget, engine: Engine) -> SqlError {
    let (support, feature) = match engine {
        Engine::Postgresql => ("PostgreSQL-protocol (PostgreSQL, Redshift)", "postgres"),
        Engine::Mysql => ("MySQL/MariaDB", "mysql"),
        // Always built; listed for the match only.
        Engine::Sqlite => ("SQLite", "sqlite"),
    };
    SqlError::Config(crate::left_out(
        format!("connecting to {}", target.describe()),
        support,
        feature,
    ))
}

/// The TLS settings of a network database (resolved when the target was built, so an error here
/// is a target built by hand).
#[cfg(any(feature = "postgres", feature = "mysql"))]
fn network_tls(target: &ConnectTarget) -> Result<SqlTls, SqlError> {
    crate::tls::install_crypto_provider();
    match target.tls() {
        Ok(Some(tls)) => Ok(tls),
        Ok(None) => Err(SqlError::Config(format!(
            "{} has no network connection to secure",
            target.describe()
        ))),
        Err(message) => Err(SqlError::Config(format!(
            "{}: {message}",
            target.describe()
        ))),
    }
}

/// The root certificate(s) to trust, read and checked, when the mode verifies the server.
#[cfg(any(feature = "postgres", feature = "mysql"))]
fn root_pem(tls: &SqlTls) -> Result<Option<Vec<u8>>, SqlError> {
    match &tls.root_cert {
        Some(root) if tls.mode.verifies() => root.pem().map(Some).map_err(SqlError::Config),
        _ => Ok(None),
    }
}

/// Connects with `tls.mode`; `allow` (which sqlx reads as `disable`) is libpq's: without TLS
/// first, then with TLS (unverified) when that fails.
#[cfg(feature = "postgres")]
async fn pg_connect(opts: PgConnectOptions, tls: &SqlTls) -> Result<PgConnection, sqlx::Error> {
    use sqlx::postgres::PgSslMode;
    let mode = match tls.mode {
        TlsMode::Disable => PgSslMode::Disable,
        TlsMode::Allow => {
            let plain = match opts.clone().ssl_mode(PgSslMode::Disable).connect().await {
                Ok(conn) => return Ok(conn),
                Err(plain) => plain,
            };
            return opts
                .ssl_mode(PgSslMode::Require)
                .connect()
                .await
                .map_err(|encrypted| {
                    sqlx::Error::Protocol(format!("without TLS: {plain}; with TLS: {encrypted}"))
                });
        }
        TlsMode::Prefer => PgSslMode::Prefer,
        TlsMode::Require => PgSslMode::Require,
        TlsMode::VerifyCa => PgSslMode::VerifyCa,
        TlsMode::VerifyFull => PgSslMode::VerifyFull,
    };
    opts.ssl_mode(mode).connect().await
}

/// A connection failure, saying which TLS mode was asked for and, when TLS is why it failed,
/// what to change.
#[cfg(any(feature = "postgres", feature = "mysql"))]
fn tls_failure(target: &ConnectTarget, tls: &SqlTls, err: sqlx::Error) -> SqlError {
    let text = err.to_string();
    let mysql = target.engine == Engine::Mysql;
    let hint = crate::tls::untrusted_hint(&text, SqlTls::trust_remedy(target.dialect))
        .or_else(|| {
            // PostgreSQL's pg_hba.conf rejecting a connection without TLS.
            text.contains("no encryption").then(|| {
                "the server accepts only TLS connections from this host: use sslmode=require                  or a verify mode"
                    .to_string()
            })
        })
        .or_else(|| {
            // MySQL and MariaDB with `require_secure_transport`.
            text.contains("insecure transport").then(|| {
                "the server requires TLS: use sslMode=REQUIRED or a verify mode".to_string()
            })
        })
        .or_else(|| {
            text.contains("does not support TLS").then(|| {
                let without = if mysql {
                    "sslMode=DISABLED or PREFERRED"
                } else {
                    "sslmode=disable or prefer"
                };
                format!("the server does not offer TLS; {without} connects without it")
            })
        });
    let message = match hint {
        Some(hint) => format!("{text} [{}]; {hint}", tls.describe()),
        None => format!("{text} [{}]", tls.describe()),
    };
    SqlError::Connect {
        target: target.describe(),
        message: target.redact(&message),
    }
}

/// `schema.table` written in the table name wins over `schemaName`.
fn split_qualified<'a>(schema: Option<&'a str>, table: &'a str) -> (Option<&'a str>, &'a str) {
    match table.rsplit_once('.') {
        Some((s, t)) => (Some(s), t),
        None => (schema, table),
    }
}

/// Asks the server which types it infers for the placeholders and casts text into them.
#[cfg(feature = "postgres")]
async fn pg_cast_placeholders(
    conn: &mut PgConnection,
    statement: &Statement,
) -> Result<String, sqlx::Error> {
    let numbered = super::script::number_placeholders(statement, |n| format!("${n}"));
    use sqlx::{Statement as _, TypeInfo};
    let prepared = conn.prepare(&numbered).await?;
    let types: Vec<String> = match prepared.parameters() {
        Some(sqlx::Either::Left(types)) => types.iter().map(|t| t.name().to_string()).collect(),
        _ => Vec::new(),
    };
    Ok(super::script::number_placeholders(
        statement,
        |n| match types.get(n - 1) {
            Some(ty) if !ty.eq_ignore_ascii_case("TEXT") => format!("CAST(${n} AS {ty})"),
            _ => format!("${n}"),
        },
    ))
}

/// The first line of a statement, shortened, for messages.
pub fn abbreviate(sql: &str) -> String {
    let line = sql.trim().lines().next().unwrap_or("");
    if line.chars().count() > 80 {
        format!("{}…", line.chars().take(80).collect::<String>())
    } else {
        line.to_string()
    }
}

// Re-exported so callers begin and end transactions the same way on every engine.
impl SqlConn {
    pub async fn begin(&mut self) -> Result<(), SqlError> {
        self.execute_raw("BEGIN").await.map(|_| ())
    }

    pub async fn commit(&mut self) -> Result<(), SqlError> {
        self.execute_raw("COMMIT").await.map(|_| ())
    }

    pub async fn rollback(&mut self) {
        let _ = self.execute_raw("ROLLBACK").await;
    }

    /// Closes the connection politely.
    pub async fn close(self) {
        let _ = on_driver!(self.inner, c => c.close().await);
    }
}

#[cfg(all(test, not(all(feature = "postgres", feature = "mysql"))))]
mod tests {
    use super::*;

    /// A connection string for a driver this build leaves out fails before any network I/O,
    /// naming the feature (and never the password).
    #[tokio::test]
    async fn a_left_out_driver_is_named_with_its_feature() {
        let left_out = [
            (
                !cfg!(feature = "postgres"),
                "jdbc:postgresql://127.0.0.1:9/db",
                "postgres",
            ),
            (
                !cfg!(feature = "mysql"),
                "jdbc:mysql://127.0.0.1:9/db",
                "mysql",
            ),
        ];
        for (_, jdbc, feature) in left_out.into_iter().filter(|(out, _, _)| *out) {
            let mut target = super::super::target::parse_jdbc(jdbc).unwrap();
            target.password = Some(super::super::Secret::new("pw-never-shown"));
            let err = SqlConn::connect(&target).await.unwrap_err().to_string();
            assert!(err.contains(&format!("cargo feature `{feature}`")), "{err}");
            assert!(
                err.contains("127.0.0.1:9") && !err.contains("pw-never-shown"),
                "{err}"
            );
        }
    }
}
