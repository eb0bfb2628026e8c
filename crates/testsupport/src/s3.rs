//! An S3 server per test: `s3s-fs`, which keeps each bucket as a subdirectory of its root and,
//! unlike most local S3 servers, verifies SigV4 signatures (a wrong secret key is refused).

use std::io;
use std::path::{Path, PathBuf};
use std::process::Command;

use tempfile::TempDir;

use crate::tools::{self, STARTUP_TIMEOUT, ServerProcess};

/// The crates.io package and version installed.
pub const S3S_FS_VERSION: &str = "0.14.1";

/// How often starting is retried on a fresh port when another process took the chosen one.
const START_ATTEMPTS: usize = 3;

/// `<tools>/bin/s3s-fs`, installed with `cargo install` if absent.
///
/// The build gets its own target directory under the tools directory, so it never waits on
/// (or invalidates) the workspace's build lock.
pub fn install() -> io::Result<PathBuf> {
    let binary = tools::bin_dir().join("s3s-fs");
    tools::install_once("s3s-fs", &binary, || {
        let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
        tools::run_logged(
            "s3s-fs-install",
            Command::new(cargo)
                .args(["install", "--locked", "--root"])
                .arg(tools::tools_dir())
                .arg(format!("s3s-fs@{S3S_FS_VERSION}"))
                .args(["--features", "binary"])
                .env(
                    "CARGO_TARGET_DIR",
                    tools::tools_dir().join("build").join("s3s-fs"),
                ),
        )
    })
}

/// A running `s3s-fs` on a loopback port with its own root directory and credentials.
/// Dropping it stops the server and removes its data.
#[derive(Debug)]
pub struct S3Server {
    // Declared before `root` so the server stops before its directory is removed.
    process: ServerProcess,
    root: TempDir,
    port: u16,
    access_key: String,
    secret_key: String,
}

impl S3Server {
    /// Installs (if needed) and starts a server. Panics with the reason, since a test cannot
    /// go on without it.
    pub fn start() -> S3Server {
        Self::try_start().unwrap_or_else(|err| panic!("cannot start s3s-fs: {err}"))
    }

    pub fn try_start() -> io::Result<S3Server> {
        let binary = install()?;
        let root = tempfile::Builder::new().prefix("sluice-s3s-").tempdir()?;
        let data = root.path().join("data");
        std::fs::create_dir_all(&data)?;
        // Unique per server, so a test can never pass by reaching another test's server.
        let access_key = format!("AK{}", unique_suffix(&root));
        let secret_key = format!("secret-{}", unique_suffix(&root));
        let mut last_error = None;
        for _ in 0..START_ATTEMPTS {
            let port = tools::free_port();
            let mut process = ServerProcess::spawn(
                "s3s-fs",
                Command::new(&binary)
                    .args(["--host", "127.0.0.1", "--port", &port.to_string()])
                    .args(["--access-key", &access_key, "--secret-key", &secret_key])
                    .arg(&data),
                &root.path().join("s3s-fs.log"),
            )?;
            match process.wait_for_port(port, STARTUP_TIMEOUT) {
                Ok(()) => {
                    return Ok(S3Server {
                        process,
                        root,
                        port,
                        access_key,
                        secret_key,
                    });
                }
                Err(err) => last_error = Some(err),
            }
        }
        Err(last_error.unwrap_or_else(|| io::Error::other("s3s-fs did not start")))
    }

    /// `http://127.0.0.1:<port>`.
    pub fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    pub fn access_key(&self) -> &str {
        &self.access_key
    }

    pub fn secret_key(&self) -> &str {
        &self.secret_key
    }

    /// The directory holding the buckets.
    pub fn data_dir(&self) -> PathBuf {
        self.root.path().join("data")
    }

    /// Creates an empty bucket (a subdirectory of the server's root) and returns its directory.
    pub fn create_bucket(&self, name: &str) -> PathBuf {
        let dir = self.data_dir().join(name);
        std::fs::create_dir_all(&dir).unwrap_or_else(|err| {
            panic!("cannot create bucket directory {}: {err}", dir.display())
        });
        dir
    }

    /// The file behind `s3://bucket/key` on this server, for checking what a test wrote
    /// without going through the S3 API under test.
    pub fn object_file(&self, bucket: &str, key: &str) -> PathBuf {
        key.split('/')
            .fold(self.data_dir().join(bucket), |p, part| p.join(part))
    }

    /// The AWS environment variables that point an SDK-convention client at this server.
    pub fn env(&self) -> Vec<(String, String)> {
        vec![
            ("AWS_ENDPOINT_URL".into(), self.endpoint()),
            ("AWS_ACCESS_KEY_ID".into(), self.access_key.clone()),
            ("AWS_SECRET_ACCESS_KEY".into(), self.secret_key.clone()),
            ("AWS_REGION".into(), "us-east-1".into()),
        ]
    }

    /// The server's log so far.
    pub fn log(&self) -> String {
        self.process.log_text()
    }

    /// Where the server writes its log.
    pub fn log_path(&self) -> &Path {
        self.process.log_path()
    }
}

fn unique_suffix(dir: &TempDir) -> String {
    dir.path()
        .file_name()
        .map(|n| {
            n.to_string_lossy()
                .replace(|c: char| !c.is_ascii_alphanumeric(), "")
        })
        .unwrap_or_default()
}
