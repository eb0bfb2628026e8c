//! One connection to a database of any supported engine.
//!
//! Reads go through the simple (text) protocol, so every column of every type comes back as its
//! text form without a per-type decoder. Writes bind every value as text: MySQL and SQLite
//! convert on assignment; PostgreSQL does not, so its placeholders are wrapped in a cast to the
//! type the server inferred for them.

use std::collections::HashMap;

use futures::StreamExt;
use futures::stream::BoxStream;
use sqlx::mysql::{MySqlConnectOptions, MySqlConnection};
use sqlx::postgres::{PgConnectOptions, PgConnection};
use sqlx::sqlite::{SqliteConnectOptions, SqliteConnection};
use sqlx::{ConnectOptions, Connection, Executor, Row, Statement as _, TypeInfo};

use super::script::{self, Statement};
use super::{ConnectTarget, Engine, SqlError};
use crate::format::Record;

/// An open connection.
pub struct SqlConn {
    inner: Inner,
    target: ConnectTarget,
    /// PostgreSQL statements with `?` placeholders, rewritten with casts (insert queries repeat).
    pg_rewritten: HashMap<String, String>,
}

enum Inner {
    Pg(PgConnection),
    My(MySqlConnection),
    Lite(SqliteConnection),
}

impl std::fmt::Debug for SqlConn {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "SqlConn({})", self.target.describe())
    }
}

impl SqlConn {
    /// Connects; the error names the target (never the password) and says why.
    pub async fn connect(target: &ConnectTarget) -> Result<Self, SqlError> {
        let fail = |e: sqlx::Error| SqlError::Connect {
            target: target.describe(),
            message: target.redact(&e.to_string()),
        };
        let user = target.username.as_deref();
        let password = target.password.as_ref().map(|p| p.expose());
        let inner = match target.engine {
            Engine::Postgresql => {
                let mut opts = PgConnectOptions::new_without_pgpass()
                    .host(&target.host)
                    .port(target.port.unwrap_or(5432));
                if let Some(u) = user {
                    opts = opts.username(u);
                }
                if let Some(p) = password {
                    opts = opts.password(p);
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
                Inner::Pg(opts.connect().await.map_err(fail)?)
            }
            Engine::Mysql => {
                let mut opts = MySqlConnectOptions::new()
                    .host(&target.host)
                    .port(target.port.unwrap_or(3306));
                if let Some(u) = user {
                    opts = opts.username(u);
                }
                if let Some(p) = password {
                    opts = opts.password(p);
                }
                if let Some(db) = &target.database {
                    opts = opts.database(db);
                }
                Inner::My(opts.connect().await.map_err(fail)?)
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
        let result = match &mut self.inner {
            Inner::Pg(c) => c
                .execute(sqlx::raw_sql(sql))
                .await
                .map(|r| r.rows_affected()),
            Inner::My(c) => c
                .execute(sqlx::raw_sql(sql))
                .await
                .map(|r| r.rows_affected()),
            Inner::Lite(c) => c
                .execute(sqlx::raw_sql(sql))
                .await
                .map(|r| r.rows_affected()),
        };
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
        match &mut self.inner {
            Inner::Pg(c) => c
                .fetch(sqlx::raw_sql(sql))
                .map(|r| r.and_then(text_row))
                .boxed(),
            Inner::My(c) => c
                .fetch(sqlx::raw_sql(sql))
                .map(|r| r.and_then(text_row))
                .boxed(),
            Inner::Lite(c) => c
                .fetch(sqlx::raw_sql(sql))
                .map(|r| r.and_then(text_row))
                .boxed(),
        }
    }

    /// Whether `table` (optionally in `schema`) exists; unquoted names match case-insensitively.
    pub async fn table_exists(
        &mut self,
        schema: Option<&str>,
        table: &str,
    ) -> Result<bool, SqlError> {
        let (schema, table) = split_qualified(schema, table);
        let result = match &mut self.inner {
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
        let (schema, table) = split_qualified(schema, table);
        let qualified = match schema {
            Some(s) => format!("{s}.{table}"),
            None => table.to_string(),
        };
        let result = match &mut self.inner {
            Inner::Pg(c) => {
                let query = sqlx::query(
                    "SELECT a.attname::text FROM pg_index i \
                     JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY(i.indkey) \
                     WHERE i.indrelid = $1::regclass AND i.indisprimary \
                     ORDER BY array_position(i.indkey, a.attnum)",
                )
                .bind(&qualified);
                c.fetch_all(query)
                    .await
                    .and_then(|rows| rows.iter().map(|r| r.try_get::<String, _>(0)).collect())
            }
            _ => Ok(Vec::new()),
        };
        result.map_err(|e| {
            self.statement_error(format!("reading the primary key of {qualified}"), &e)
        })
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
async fn pg_cast_placeholders(
    conn: &mut PgConnection,
    statement: &Statement,
) -> Result<String, sqlx::Error> {
    let numbered = script::number_placeholders(statement, |n| format!("${n}"));
    let prepared = conn.prepare(&numbered).await?;
    let types: Vec<String> = match prepared.parameters() {
        Some(sqlx::Either::Left(types)) => types.iter().map(|t| t.name().to_string()).collect(),
        _ => Vec::new(),
    };
    Ok(script::number_placeholders(statement, |n| {
        match types.get(n - 1) {
            Some(ty) if !ty.eq_ignore_ascii_case("TEXT") => format!("CAST(${n} AS {ty})"),
            _ => format!("${n}"),
        }
    }))
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
        let _ = match self.inner {
            Inner::Pg(c) => c.close().await,
            Inner::My(c) => c.close().await,
            Inner::Lite(c) => c.close().await,
        };
    }
}
