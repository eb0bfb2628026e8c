//! A PostgreSQL cluster of its own that accepts only TLS connections, for tests of `sslmode`.
//!
//! Made with Debian's `initdb` and `pg_ctl` (PostgreSQL 15) in a temporary directory, with a
//! certificate for `localhost` / `127.0.0.1` signed by a [`TestCa`], on a free
//! port;
//! `pg_hba.conf` trusts `hostssl` connections and rejects the rest. PostgreSQL refuses to run
//! as root, so as root the commands run as the `postgres` user. Dropping it stops the cluster.

use std::io;
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::test_ca::{TestCa, run};
use crate::tools;

/// Debian's PostgreSQL 15 programs.
const BIN: &str = "/usr/lib/postgresql/15/bin";

/// A running TLS-only cluster, stopped on drop.
#[derive(Debug)]
pub struct SslPostgres {
    port: u16,
    dir: tempfile::TempDir,
}

impl SslPostgres {
    /// Creates and starts the cluster.
    pub fn start() -> io::Result<SslPostgres> {
        let dir = tempfile::Builder::new().prefix("sluice-pg-ssl").tempdir()?;
        let root = dir.path();
        let port = tools::free_port();
        let issued = TestCa::create(root)?.issue("server")?;
        if as_root()? {
            run(Command::new("chown")
                .args(["-R", "postgres:postgres"])
                .arg(root))?;
        }
        run(Command::new("chmod").arg("600").arg(&issued.key))?;
        let data = root.join("data");
        run_as_postgres(&format!(
            "{BIN}/initdb -D {} -U postgres -A trust",
            quoted(&data)
        ))?;
        let conf = format!(
            "port = {port}\nlisten_addresses = '127.0.0.1'\nunix_socket_directories = '{root}'\n\
             ssl = on\nssl_cert_file = '{cert}'\nssl_key_file = '{key}'\n",
            root = root.display(),
            cert = issued.certificate.display(),
            key = issued.key.display()
        );
        append(&data.join("postgresql.conf"), &conf)?;
        std::fs::write(
            data.join("pg_hba.conf"),
            "local all all trust\nhostssl all all 127.0.0.1/32 trust\n\
             hostnossl all all 127.0.0.1/32 reject\n",
        )?;
        run_as_postgres(&format!(
            "{BIN}/pg_ctl -D {} -l {} -w start",
            quoted(&data),
            quoted(&root.join("postgres.log"))
        ))?;
        Ok(SslPostgres { port, dir })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// The certificate of the CA that signed the server's: the root a client must trust.
    pub fn certificate(&self) -> PathBuf {
        self.dir.path().join("ca.crt")
    }

    /// `postgres://postgres@<host>:<port>/postgres?<params>`.
    pub fn url(&self, host: &str, params: &str) -> String {
        format!("postgres://postgres@{host}:{}/postgres?{params}", self.port)
    }
}

impl Drop for SslPostgres {
    fn drop(&mut self) {
        let data = self.dir.path().join("data");
        let _ = run_as_postgres(&format!(
            "{BIN}/pg_ctl -D {} -m immediate -w stop",
            quoted(&data)
        ));
    }
}

fn as_root() -> io::Result<bool> {
    let out = Command::new("id").arg("-u").output()?;
    Ok(String::from_utf8_lossy(&out.stdout).trim() == "0")
}

/// Runs `script` with `sh`, as the `postgres` user when this process is root.
fn run_as_postgres(script: &str) -> io::Result<()> {
    if as_root()? {
        run(Command::new("su").args(["postgres", "-s", "/bin/sh", "-c", script]))
    } else {
        run(Command::new("sh").args(["-c", script]))
    }
}

fn append(path: &Path, text: &str) -> io::Result<()> {
    use std::io::Write as _;
    std::fs::OpenOptions::new()
        .append(true)
        .open(path)?
        .write_all(text.as_bytes())
}

fn quoted(path: &Path) -> String {
    format!("'{}'", path.display().to_string().replace('\'', "'\\''"))
}
