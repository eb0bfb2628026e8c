//! A certificate authority of a test's own, made with the `openssl` command, and the server
//! certificates it signs (for `localhost` and `127.0.0.1`).
//!
//! A client that trusts [`TestCa::certificate`] (a PEM file) accepts every certificate
//! [`TestCa::issue`] makes; webpki refuses a self-signed CA certificate presented as a
//! server's, hence the two levels.

use std::io;
use std::path::{Path, PathBuf};
use std::process::Command;

/// A CA whose files live in `dir` (kept by the caller).
#[derive(Debug, Clone)]
pub struct TestCa {
    dir: PathBuf,
}

/// A server certificate and its unencrypted private key, both PEM files.
#[derive(Debug, Clone)]
pub struct Issued {
    pub certificate: PathBuf,
    pub key: PathBuf,
}

impl TestCa {
    /// Creates the CA's key and certificate in `dir` (`ca.key`, `ca.crt`).
    pub fn create(dir: &Path) -> io::Result<TestCa> {
        std::fs::create_dir_all(dir)?;
        run(Command::new("openssl")
            .args([
                "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
            ])
            .args(["-subj", "/CN=sluice test CA"])
            .arg("-keyout")
            .arg(dir.join("ca.key"))
            .arg("-out")
            .arg(dir.join("ca.crt")))?;
        Ok(TestCa {
            dir: dir.to_path_buf(),
        })
    }

    /// The CA's certificate: the root a client must trust.
    pub fn certificate(&self) -> PathBuf {
        self.dir.join("ca.crt")
    }

    /// Issues `<name>.crt` and `<name>.key` for `localhost` and `127.0.0.1`.
    pub fn issue(&self, name: &str) -> io::Result<Issued> {
        let key = self.dir.join(format!("{name}.key"));
        let csr = self.dir.join(format!("{name}.csr"));
        let certificate = self.dir.join(format!("{name}.crt"));
        run(Command::new("openssl")
            .args([
                "req",
                "-newkey",
                "rsa:2048",
                "-nodes",
                "-subj",
                "/CN=localhost",
            ])
            .arg("-keyout")
            .arg(&key)
            .arg("-out")
            .arg(&csr))?;
        let ext = self.dir.join(format!("{name}.ext"));
        std::fs::write(
            &ext,
            "basicConstraints=CA:FALSE\nsubjectAltName=DNS:localhost,IP:127.0.0.1\n",
        )?;
        run(Command::new("openssl")
            .args(["x509", "-req", "-days", "2", "-CAcreateserial"])
            .arg("-in")
            .arg(&csr)
            .arg("-CA")
            .arg(self.certificate())
            .arg("-CAkey")
            .arg(self.dir.join("ca.key"))
            .arg("-extfile")
            .arg(&ext)
            .arg("-out")
            .arg(&certificate))?;
        Ok(Issued { certificate, key })
    }
}

pub(crate) fn run(command: &mut Command) -> io::Result<()> {
    let out = command.output()?;
    if out.status.success() {
        Ok(())
    } else {
        Err(io::Error::other(format!(
            "{command:?} failed: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )))
    }
}
