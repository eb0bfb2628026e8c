//! A MariaDB server of the test's own that accepts only TLS connections, with a certificate for
//! `localhost` / `127.0.0.1` signed by a [`TestCa`]: Debian's `mariadb-install-db` and
//! `mariadbd` in a temporary directory, on a free port, `root` without a password. The
//! machine's own MariaDB has TLS turned off, so the verifying modes need this one. Dropping it
//! stops the server.

use std::io;
use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

use sluice_testsupport::test_ca::TestCa;
use sluice_testsupport::tools::{self, ServerProcess};

pub(crate) struct TlsMariaDb {
    // Declared first, so the server stops before its directory is removed.
    _process: ServerProcess,
    ca: TestCa,
    port: u16,
    _dir: tempfile::TempDir,
}

impl TlsMariaDb {
    pub(crate) fn start() -> io::Result<TlsMariaDb> {
        let dir = tempfile::Builder::new()
            .prefix("sluice-mariadb-tls")
            .tempdir()?;
        let root = dir.path();
        let ca = TestCa::create(&root.join("ca"))?;
        let issued = ca.issue("server")?;
        let data = root.join("data");
        // `--user=root` lets both run as root (they refuse otherwise); as another user it is
        // ignored with a warning.
        let out = Command::new("mariadb-install-db")
            .args(["--no-defaults", "--user=root", "--skip-test-db"])
            .arg("--auth-root-authentication-method=normal")
            .arg(format!("--datadir={}", data.display()))
            .output()?;
        if !out.status.success() {
            return Err(io::Error::other(format!(
                "mariadb-install-db failed: {}{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            )));
        }
        let port = tools::free_port();
        let mut process = ServerProcess::spawn(
            "mariadbd",
            Command::new("mariadbd")
                .args(["--no-defaults", "--user=root", "--bind-address=127.0.0.1"])
                .arg(format!("--port={port}"))
                .arg(format!("--datadir={}", data.display()))
                .arg(format!("--socket={}", root.join("mariadb.sock").display()))
                .arg(format!("--pid-file={}", root.join("mariadb.pid").display()))
                .arg(format!("--ssl-cert={}", issued.certificate.display()))
                .arg(format!("--ssl-key={}", issued.key.display()))
                .args(["--require-secure-transport=ON", "--skip-log-bin"])
                .arg("--innodb-buffer-pool-size=16M"),
            &root.join("mariadbd.log"),
        )?;
        process.wait_for_port(port, Duration::from_secs(60))?;
        let server = TlsMariaDb {
            _process: process,
            ca,
            port,
            _dir: dir,
        };
        server.client("CREATE DATABASE test")?;
        Ok(server)
    }

    pub(crate) fn port(&self) -> u16 {
        self.port
    }

    /// The CA certificate that signed the server's.
    pub(crate) fn ca_certificate(&self) -> PathBuf {
        self.ca.certificate()
    }

    /// Runs SQL on `test` (or at server level before it exists) with the `mariadb` client over
    /// TLS; rows come back tab-separated, without column names.
    pub(crate) fn client(&self, sql: &str) -> io::Result<String> {
        let out = Command::new("mariadb")
            .args(["-h", "127.0.0.1", "-u", "root", "--ssl", "-N", "-B"])
            .arg(format!("--port={}", self.port))
            .args(["-e", sql])
            .output()?;
        if !out.status.success() {
            return Err(io::Error::other(format!(
                "mariadb {sql}: {}",
                String::from_utf8_lossy(&out.stderr)
            )));
        }
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    }
}
