//! The machine's own PostgreSQL (127.0.0.1:5432, user `postgres`, trust auth) and MariaDB
//! (127.0.0.1:3306, user `root`, no password), both with a `test` database, reached through
//! their command-line clients: what the client prints is the oracle tests compare against.

use std::process::Command;
use std::sync::atomic::{AtomicU32, Ordering};

/// JDBC URL of the local PostgreSQL `test` database.
pub const POSTGRES_URL: &str = "jdbc:postgresql://127.0.0.1:5432/test";
/// JDBC URL of the local MariaDB `test` database.
pub const MARIADB_URL: &str = "jdbc:mariadb://127.0.0.1:3306/test";

/// `psql` flags that reach the local PostgreSQL `test` database.
pub const PSQL_CONNECT: [&str; 6] = ["-h", "127.0.0.1", "-U", "postgres", "-d", "test"];
/// `mariadb` flags that reach the local MariaDB as root (the database name goes last).
pub const MARIADB_CONNECT: [&str; 4] = ["-h", "127.0.0.1", "-u", "root"];

/// A name no other test (or earlier run) uses: tables and buckets per test. The counter keeps
/// two calls within one clock tick of one process apart.
pub fn unique_name(prefix: &str) -> String {
    static NEXT: AtomicU32 = AtomicU32::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock after 1970")
        .subsec_nanos();
    format!(
        "{prefix}_{}_{}_{nanos}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    )
}

/// `psql` on the `test` database, quiet, unaligned, tuples only, stopping at the first error;
/// `extra` flags come before `-c sql`.
fn psql_command(extra: &[&str], sql: &str) -> Command {
    let mut cmd = Command::new("psql");
    cmd.args(PSQL_CONNECT)
        .args(["-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1"])
        .args(extra)
        .args(["-c", sql]);
    cmd
}

/// `mariadb` on the `test` database in batch mode without column names; `extra` flags come
/// before the database name.
fn mariadb_command(extra: &[&str], sql: &str) -> Command {
    let mut cmd = Command::new("mariadb");
    cmd.args(MARIADB_CONNECT)
        .args(["-N", "-B"])
        .args(extra)
        .args(["test", "-e", sql]);
    cmd
}

/// Runs `cmd` for `sql`; its stdout, or an error naming the SQL and carrying the client's stderr.
fn output(mut cmd: Command, sql: &str) -> Result<String, String> {
    let program = cmd.get_program().to_string_lossy().into_owned();
    let out = cmd.output().map_err(|e| format!("{program}: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "{program} {sql}: {}",
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    String::from_utf8(out.stdout).map_err(|e| format!("{program} {sql}: output: {e}"))
}

/// Runs SQL on the local PostgreSQL; rows come back as `a|b` lines.
pub fn try_psql(sql: &str) -> Result<String, String> {
    output(psql_command(&[], sql), sql)
}

/// [`try_psql`], failing the test on error.
pub fn psql(sql: &str) -> String {
    psql_with(&[], sql)
}

/// [`psql`] with `extra` output flags (e.g. `-F`, `-P`).
pub fn psql_with(extra: &[&str], sql: &str) -> String {
    output(psql_command(extra, sql), sql).unwrap_or_else(|e| panic!("{e}"))
}

/// Runs SQL on the local MariaDB; rows come back tab-separated. Fails the test on error.
pub fn mariadb(sql: &str) -> String {
    mariadb_with(&[], sql)
}

/// [`mariadb`] with `extra` output flags (e.g. `-r`).
pub fn mariadb_with(extra: &[&str], sql: &str) -> String {
    output(mariadb_command(extra, sql), sql).unwrap_or_else(|e| panic!("{e}"))
}

/// Drops the PostgreSQL tables when the test ends, pass or fail.
pub struct PgTables(pub Vec<String>);

impl Drop for PgTables {
    fn drop(&mut self) {
        for t in &self.0 {
            // Best effort: a failed drop must not turn a passing test into a panic in drop.
            let _ = try_psql(&format!("DROP TABLE IF EXISTS {t}"));
        }
    }
}

/// Drops the MariaDB tables when the test ends, pass or fail.
pub struct MariaDbTables(pub Vec<String>);

impl Drop for MariaDbTables {
    fn drop(&mut self) {
        for t in &self.0 {
            let sql = format!("DROP TABLE IF EXISTS {t}");
            let _ = output(mariadb_command(&[], &sql), &sql);
        }
    }
}

/// A schema name of its own in the `test` database, dropped (with everything in it) when this
/// is; the store creates the schema itself.
pub struct PgSchema(pub String);

impl PgSchema {
    pub fn fresh(prefix: &str) -> PgSchema {
        PgSchema(unique_name(prefix))
    }
}

impl Drop for PgSchema {
    fn drop(&mut self) {
        // Best effort, and never waiting long on a lock a failed test left behind.
        let _ = try_psql(&format!(
            "SET lock_timeout = '5s'; DROP SCHEMA IF EXISTS \"{}\" CASCADE",
            self.0
        ));
    }
}

/// A database of its own on the local PostgreSQL (for a state store), dropped when this is.
pub struct PgDatabase {
    name: String,
}

impl PgDatabase {
    /// Creates a fresh, empty database named after `prefix`.
    pub fn create(prefix: &str) -> PgDatabase {
        let name = unique_name(prefix).to_ascii_lowercase();
        psql(&format!("CREATE DATABASE {name}"));
        PgDatabase { name }
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    /// `postgres://postgres@127.0.0.1:5432/<name>` (trust authentication, no password); the
    /// port is `$PGPORT` when set, as for `psql` (scripts/soak.sh runs a cluster of its own).
    pub fn url(&self) -> String {
        let port = std::env::var("PGPORT").unwrap_or_else(|_| "5432".to_owned());
        format!("postgres://postgres@127.0.0.1:{port}/{}", self.name)
    }

    /// Runs SQL in this database; rows come back as `a|b` lines. Fails the test on error.
    pub fn psql(&self, sql: &str) -> String {
        psql_with(&["-d", &self.name], sql)
    }
}

impl Drop for PgDatabase {
    fn drop(&mut self) {
        // Best effort, as for tables; FORCE ends sessions a killed server left behind.
        let _ = try_psql(&format!(
            "DROP DATABASE IF EXISTS {} WITH (FORCE)",
            self.name
        ));
    }
}
