//! Data node tables: `table`, `schemaName`, `selectQuery`, `insertQuery`, `createTableSql`.
//!
//! A load runs in one transaction that commits only when the copy as a whole succeeded, so a
//! failed attempt leaves no rows behind and its retry cannot duplicate any. On PostgreSQL a load
//! without `insertQuery` streams through `COPY … FROM STDIN`.

use std::collections::HashMap;

use futures::StreamExt;
use tokio::sync::mpsc;

use super::conn::abbreviate;
use super::script::{self, Statement};
use super::{Engine, SqlConn, SqlError};
use crate::format::Record;
use crate::format::objects::{BATCH_RECORDS, Chunk};

/// A table as a data node describes it.
#[derive(Debug, Clone, Default)]
pub struct TableSpec {
    pub table: String,
    pub schema: Option<String>,
    pub select_query: Option<String>,
    pub insert_query: Option<String>,
    pub create_table_sql: Option<String>,
}

impl TableSpec {
    /// `schema.table`, or the table as written when it is already qualified.
    pub fn qualified(&self) -> String {
        match &self.schema {
            Some(s) if !self.table.contains('.') => format!("{s}.{}", self.table),
            _ => self.table.clone(),
        }
    }

    /// The query reading the node: `selectQuery`, else every row of the table.
    pub fn select_sql(&self) -> String {
        self.select_query
            .clone()
            .unwrap_or_else(|| format!("SELECT * FROM {}", self.qualified()))
    }

    /// Makes sure the table exists, running `createTableSql` when it does not.
    pub async fn ensure(&self, conn: &mut SqlConn) -> Result<(), SqlError> {
        if conn
            .table_exists(self.schema.as_deref(), &self.table)
            .await?
        {
            return Ok(());
        }
        match &self.create_table_sql {
            Some(sql) => match conn.execute_raw(sql).await {
                Ok(_) => Ok(()),
                // Loads of several intervals into one table start together, and PostgreSQL's
                // `CREATE TABLE IF NOT EXISTS` can still fail when another session creates the
                // table at the same moment: the table the statement wanted is there.
                Err(error) => {
                    if conn
                        .table_exists(self.schema.as_deref(), &self.table)
                        .await?
                    {
                        Ok(())
                    } else {
                        Err(error)
                    }
                }
            },
            None => Err(SqlError::MissingTable {
                table: self.qualified(),
                target: conn.target().describe(),
            }),
        }
    }

    /// Reads the node's rows and sends them in batches; stops quietly if the receiver goes.
    pub async fn read(&self, conn: &mut SqlConn, tx: mpsc::Sender<Chunk>) -> Result<u64, SqlError> {
        if self.select_query.is_none()
            && !conn
                .table_exists(self.schema.as_deref(), &self.table)
                .await?
        {
            return Err(SqlError::MissingTable {
                table: self.qualified(),
                target: conn.target().describe(),
            });
        }
        let sql = self.select_sql();
        let mut count = 0;
        let mut batch = Vec::with_capacity(BATCH_RECORDS);
        let failure = {
            let mut rows = conn.fetch_text(&sql);
            let mut failure = None;
            while let Some(row) = rows.next().await {
                match row {
                    Ok(record) => {
                        batch.push(record);
                        count += 1;
                        if batch.len() == BATCH_RECORDS {
                            let full =
                                std::mem::replace(&mut batch, Vec::with_capacity(BATCH_RECORDS));
                            if tx.send(Chunk::Records(full)).await.is_err() {
                                return Ok(count);
                            }
                        }
                    }
                    Err(e) => {
                        failure = Some(e);
                        break;
                    }
                }
            }
            failure
        };
        if let Some(e) = failure {
            return Err(SqlError::Statement {
                context: format!("selectQuery {}", abbreviate(&sql)),
                message: conn.describe_error(&e),
            });
        }
        if !batch.is_empty() {
            let _ = tx.send(Chunk::Records(batch)).await;
        }
        Ok(count)
    }

    /// Loads the records received on `rx` in one transaction, committed when `Commit` arrives.
    /// The connection is consumed: after a failure it is dropped, which makes the server roll
    /// back whatever the transaction held.
    pub async fn load(
        &self,
        mut conn: SqlConn,
        rx: mpsc::Receiver<Chunk>,
    ) -> Result<u64, SqlError> {
        self.ensure(&mut conn).await?;
        conn.begin().await?;
        let loaded = if conn.engine() == Engine::Postgresql && self.insert_query.is_none() {
            copy_in(
                &mut conn,
                &format!("COPY {} FROM STDIN", self.qualified()),
                rx,
            )
            .await?
        } else {
            self.insert_each(&mut conn, rx).await?
        };
        conn.commit().await?;
        conn.close().await;
        Ok(loaded)
    }

    async fn insert_each(
        &self,
        conn: &mut SqlConn,
        mut rx: mpsc::Receiver<Chunk>,
    ) -> Result<u64, SqlError> {
        let fixed = match &self.insert_query {
            Some(q) => {
                let mut parts = script::split(q);
                if parts.len() != 1 {
                    return Err(SqlError::Config(format!(
                        "insertQuery must be one statement, found {}",
                        parts.len()
                    )));
                }
                Some(parts.remove(0))
            }
            None => None,
        };
        let table = self.qualified();
        let mut statements: HashMap<(usize, usize), Statement> = HashMap::new();
        let mut count = 0u64;
        loop {
            let batch = match rx.recv().await {
                Some(Chunk::Records(batch)) => batch,
                Some(Chunk::Commit) => return Ok(count),
                None => return Err(stopped()),
            };
            if let Some(statement) = &fixed {
                for record in &batch {
                    count += 1;
                    insert_one(conn, statement, record, count, &table).await?;
                }
                continue;
            }
            // Without insertQuery, runs of records of one width go in multi-row INSERTs (one
            // round trip per run); a failed run is retried row by row inside the transaction
            // to name the record at fault (each statement fails as a whole, so none of the
            // run's rows stayed).
            let mut start = 0;
            while start < batch.len() {
                let width = batch[start].len();
                let most = (MAX_PARAMETERS / width.max(1)).clamp(1, MAX_ROWS_PER_INSERT);
                let end = batch[start..]
                    .iter()
                    .take(most)
                    .take_while(|r| r.len() == width)
                    .count()
                    + start;
                let rows = &batch[start..end];
                let statement = statements
                    .entry((width, rows.len()))
                    .or_insert_with(|| default_insert(&table, width, rows.len()));
                let args: Vec<Option<String>> = rows.iter().flatten().cloned().collect();
                if conn.execute_bound(statement, &args).await.is_err() {
                    let single = default_insert(&table, width, 1);
                    for (i, record) in rows.iter().enumerate() {
                        insert_one(conn, &single, record, count + i as u64 + 1, &table).await?;
                    }
                }
                count += rows.len() as u64;
                start = end;
            }
        }
    }
}

/// Rows per multi-row INSERT, and the bound parameters one statement may carry (SQLite's
/// default limit is 32766, MySQL's 65535).
const MAX_ROWS_PER_INSERT: usize = 500;
const MAX_PARAMETERS: usize = 30_000;

async fn insert_one(
    conn: &mut SqlConn,
    statement: &Statement,
    record: &Record,
    number: u64,
    table: &str,
) -> Result<(), SqlError> {
    match conn.execute_bound(statement, record).await {
        Ok(_) => Ok(()),
        Err(e) => Err(SqlError::Statement {
            context: format!("record {number} into {table}"),
            message: conn.describe_error(&e),
        }),
    }
}

fn stopped() -> SqlError {
    SqlError::Statement {
        context: "load".into(),
        message: "the copy stopped before the end; nothing was committed".into(),
    }
}

fn default_insert(table: &str, width: usize, rows: usize) -> Statement {
    let row = format!("({})", vec!["?"; width].join(", "));
    let values = vec![row.as_str(); rows].join(", ");
    script::split(&format!("INSERT INTO {table} VALUES {values}")).remove(0)
}

/// Streams records into a PostgreSQL `COPY … FROM STDIN` (text format) until `Commit`; the
/// caller owns the surrounding transaction.
#[cfg(feature = "postgres")]
pub async fn copy_in(
    conn: &mut SqlConn,
    statement: &str,
    mut rx: mpsc::Receiver<Chunk>,
) -> Result<u64, SqlError> {
    let outcome: Result<u64, Result<sqlx::Error, SqlError>> = async {
        let pg = conn.as_pg().ok_or_else(|| {
            Err(SqlError::Config(
                "COPY needs a PostgreSQL-protocol database".into(),
            ))
        })?;
        let mut copy = pg.copy_in_raw(statement).await.map_err(Ok)?;
        let mut buf = Vec::with_capacity(1 << 20);
        loop {
            match rx.recv().await {
                Some(Chunk::Records(batch)) => {
                    for record in &batch {
                        encode_copy_text(record, &mut buf);
                    }
                    if buf.len() >= 512 * 1024 {
                        copy.send(std::mem::replace(&mut buf, Vec::with_capacity(1 << 20)))
                            .await
                            .map_err(Ok)?;
                    }
                }
                Some(Chunk::Commit) => break,
                None => {
                    let _ = copy.abort("the copy stopped before the end").await;
                    return Err(Err(stopped()));
                }
            }
        }
        if !buf.is_empty() {
            copy.send(buf).await.map_err(Ok)?;
        }
        copy.finish().await.map_err(Ok)
    }
    .await;
    outcome.map_err(|e| match e {
        Ok(db) => SqlError::Statement {
            context: abbreviate(statement),
            message: conn.describe_error(&db),
        },
        Err(e) => e,
    })
}

/// Without the PostgreSQL driver no connection can take a `COPY`.
#[cfg(not(feature = "postgres"))]
pub async fn copy_in(
    _conn: &mut SqlConn,
    statement: &str,
    _rx: mpsc::Receiver<Chunk>,
) -> Result<u64, SqlError> {
    Err(SqlError::Config(crate::left_out(
        abbreviate(statement),
        "PostgreSQL",
        "postgres",
    )))
}

/// Appends a record in PostgreSQL's COPY text format: tab-separated, `\N` for NULL,
/// backslash escapes for the characters that would break the framing.
pub fn encode_copy_text(record: &Record, out: &mut Vec<u8>) {
    for (i, field) in record.iter().enumerate() {
        if i > 0 {
            out.push(b'\t');
        }
        match field {
            None => out.extend_from_slice(b"\\N"),
            Some(text) => {
                for &b in text.as_bytes() {
                    match b {
                        b'\\' => out.extend_from_slice(b"\\\\"),
                        b'\t' => out.extend_from_slice(b"\\t"),
                        b'\n' => out.extend_from_slice(b"\\n"),
                        b'\r' => out.extend_from_slice(b"\\r"),
                        _ => out.push(b),
                    }
                }
            }
        }
    }
    out.push(b'\n');
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn copy_text_escapes_framing_characters() {
        let mut out = Vec::new();
        encode_copy_text(
            &vec![Some("a\tb\\c\nd".into()), None, Some("".into())],
            &mut out,
        );
        assert_eq!(out, b"a\\tb\\\\c\\nd\t\\N\t\n");
    }

    #[test]
    fn qualified_names() {
        let mut spec = TableSpec {
            table: "t".into(),
            ..Default::default()
        };
        assert_eq!(spec.qualified(), "t");
        spec.schema = Some("s".into());
        assert_eq!(spec.qualified(), "s.t");
        assert_eq!(spec.select_sql(), "SELECT * FROM s.t");
        assert_eq!(default_insert("s.t", 2, 3).placeholders.len(), 6);
        assert_eq!(
            default_insert("t", 1, 2).sql,
            "INSERT INTO t VALUES (?), (?)"
        );
    }
}
