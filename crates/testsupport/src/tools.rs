//! What every test server shares: the tools directory, the install lock, free ports, waiting
//! for a port, and a child-process guard.
//!
//! Installs are idempotent and serialised across processes: test binaries run in parallel, and
//! two `cargo install`s (or `pip install`s) into the same directory would corrupt each other.
//! [`install_once`] takes an exclusive lock on `<tools>/locks/<name>.lock`, re-checks whether
//! the tool appeared while it waited, and only then installs.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Seek, SeekFrom};
use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use crate::poll::holds_within;

/// The environment variable naming the tools directory.
pub const TOOLS_ENV: &str = "SLUICE_TOOLS";

/// The tools directory when [`TOOLS_ENV`] is unset: outside any work tree, so it survives
/// `cargo clean` and is shared by every checkout on the machine.
pub const DEFAULT_TOOLS_DIR: &str = "/var/tmp/sluice-tools";

/// How long a freshly started server gets to accept connections.
pub const STARTUP_TIMEOUT: Duration = Duration::from_secs(30);

/// The tools directory: `$SLUICE_TOOLS`, or [`DEFAULT_TOOLS_DIR`].
pub fn tools_dir() -> PathBuf {
    std::env::var_os(TOOLS_ENV)
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(DEFAULT_TOOLS_DIR))
}

/// `<tools>/bin`, where installed executables live.
pub fn bin_dir() -> PathBuf {
    tools_dir().join("bin")
}

/// `<tools>/logs`, where install logs are kept.
pub fn logs_dir() -> PathBuf {
    tools_dir().join("logs")
}

/// An exclusive lock on `<tools>/locks/<name>.lock`, released on drop.
#[derive(Debug)]
pub struct InstallLock {
    _file: File,
}

/// Blocks until this process holds the install lock for `name`.
pub fn lock(name: &str) -> io::Result<InstallLock> {
    let dir = tools_dir().join("locks");
    fs::create_dir_all(&dir)?;
    let file = OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(dir.join(format!("{name}.lock")))?;
    file.lock()?;
    Ok(InstallLock { _file: file })
}

/// Returns `target` once it exists, running `install` first (under the lock for `name`) if it
/// does not. `install` is called at most once per machine, however many processes ask at once.
pub fn install_once(
    name: &str,
    target: &Path,
    install: impl FnOnce() -> io::Result<()>,
) -> io::Result<PathBuf> {
    if target.exists() {
        return Ok(target.to_path_buf());
    }
    let _lock = lock(name)?;
    if !target.exists() {
        // Past the test harness's capture, so a wait of minutes is explained as it starts.
        let note = format!(
            "sluice tests: installing {name} into {} (once per machine; log in {})\n",
            tools_dir().display(),
            logs_dir().join(format!("{name}.log")).display()
        );
        let _ = io::Write::write_all(&mut io::stderr(), note.as_bytes());
        install()?;
    }
    if target.exists() {
        Ok(target.to_path_buf())
    } else {
        Err(io::Error::other(format!(
            "installing {name} finished but {} does not exist",
            target.display()
        )))
    }
}

/// Runs an install command with its output in `<tools>/logs/<name>.log`; a failure's error
/// carries the end of that log so the reason is visible in the test output.
pub fn run_logged(name: &str, command: &mut Command) -> io::Result<()> {
    fs::create_dir_all(logs_dir())?;
    let log_path = logs_dir().join(format!("{name}.log"));
    let log = File::create(&log_path)?;
    let status = command
        .stdin(Stdio::null())
        .stdout(log.try_clone()?)
        .stderr(log)
        .status()
        .map_err(|err| io::Error::other(format!("cannot start {command:?}: {err}")))?;
    if status.success() {
        return Ok(());
    }
    Err(io::Error::other(format!(
        "{command:?} failed ({status}); end of {}:\n{}",
        log_path.display(),
        tail(&log_path, 4000)
    )))
}

/// A loopback port that was free a moment ago. Another process may take it before the caller
/// binds it; servers started on it should be retried on a new port if they fail to start.
pub fn free_port() -> u16 {
    TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("binding a loopback port")
}

/// Polls until something accepts TCP connections on `127.0.0.1:port`, or `timeout` passes.
pub fn wait_for_port(port: u16, timeout: Duration) -> io::Result<()> {
    if holds_within(timeout, || port_open(port)) {
        Ok(())
    } else {
        Err(io::Error::new(
            io::ErrorKind::TimedOut,
            format!("nothing accepted connections on 127.0.0.1:{port} within {timeout:?}"),
        ))
    }
}

/// Whether something accepts connections on `127.0.0.1:port` right now.
pub fn port_open(port: u16) -> bool {
    let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
    TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_ok()
}

/// A running server process: killed when dropped, and its log printed if the drop happens
/// while a test is panicking, so a failing test shows what the server said.
#[derive(Debug)]
pub struct ServerProcess {
    name: String,
    child: Child,
    log: PathBuf,
}

impl ServerProcess {
    /// Starts `command` with standard output and error appended to `log`.
    pub fn spawn(name: &str, command: &mut Command, log: &Path) -> io::Result<Self> {
        if let Some(parent) = log.parent() {
            fs::create_dir_all(parent)?;
        }
        let file = OpenOptions::new().create(true).append(true).open(log)?;
        let child = command
            .stdin(Stdio::null())
            .stdout(file.try_clone()?)
            .stderr(file)
            .spawn()
            .map_err(|err| io::Error::other(format!("cannot start {name} ({command:?}): {err}")))?;
        Ok(ServerProcess {
            name: name.to_string(),
            child,
            log: log.to_path_buf(),
        })
    }

    /// Waits until the server accepts connections on `port`. Fails early, with the server's
    /// log, if the process exits first.
    pub fn wait_for_port(&mut self, port: u16, timeout: Duration) -> io::Result<()> {
        let mut exited = None;
        let ready = holds_within(timeout, || {
            if let Ok(Some(status)) = self.child.try_wait() {
                exited = Some(status);
                return true;
            }
            port_open(port)
        });
        match (ready, exited) {
            (true, None) => Ok(()),
            (_, Some(status)) => Err(io::Error::other(format!(
                "{} exited ({status}) before accepting connections on port {port}; its log:\n{}",
                self.name,
                self.log_text()
            ))),
            (false, None) => Err(io::Error::new(
                io::ErrorKind::TimedOut,
                format!(
                    "{} did not accept connections on port {port} within {timeout:?}; its log:\n{}",
                    self.name,
                    self.log_text()
                ),
            )),
        }
    }

    /// The process id.
    pub fn id(&self) -> u32 {
        self.child.id()
    }

    /// Where the server's output goes.
    pub fn log_path(&self) -> &Path {
        &self.log
    }

    /// The end of the server's log.
    pub fn log_text(&self) -> String {
        tail(&self.log, 8000)
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        if std::thread::panicking() {
            eprintln!(
                "---- {} log ({}) ----\n{}\n---- end of {} log ----",
                self.name,
                self.log.display(),
                self.log_text(),
                self.name
            );
        }
    }
}

/// The last `max` bytes of a file, lossily decoded; a note instead if it cannot be read.
pub fn tail(path: &Path, max: u64) -> String {
    let read = || -> io::Result<String> {
        let mut file = File::open(path)?;
        let len = file.metadata()?.len();
        file.seek(SeekFrom::Start(len.saturating_sub(max)))?;
        let mut bytes = Vec::new();
        file.read_to_end(&mut bytes)?;
        Ok(String::from_utf8_lossy(&bytes).into_owned())
    };
    read().unwrap_or_else(|err| format!("(cannot read {}: {err})", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wait_for_port_sees_a_listener_and_times_out_without_one() {
        let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).unwrap();
        let port = listener.local_addr().unwrap().port();
        wait_for_port(port, Duration::from_secs(5)).unwrap();
        drop(listener);
        let err = wait_for_port(port, Duration::from_millis(50)).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::TimedOut);
    }

    #[test]
    fn a_server_that_exits_early_reports_its_log() {
        let dir = tempfile::tempdir().unwrap();
        let log = dir.path().join("s.log");
        let mut server = ServerProcess::spawn(
            "fake",
            Command::new("sh").args(["-c", "echo listening failed >&2; exit 3"]),
            &log,
        )
        .unwrap();
        let err = server
            .wait_for_port(free_port(), Duration::from_secs(10))
            .unwrap_err();
        let text = err.to_string();
        assert!(text.contains("fake exited"), "{text}");
        assert!(text.contains("listening failed"), "{text}");
    }

    #[test]
    fn install_once_runs_the_installer_only_when_the_target_is_missing() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("tool");
        let mut calls = 0;
        let name = format!("test-{}", std::process::id());
        install_once(&name, &target, || {
            calls += 1;
            fs::write(&target, "x")
        })
        .unwrap();
        install_once(&name, &target, || {
            calls += 1;
            Ok(())
        })
        .unwrap();
        assert_eq!(calls, 1);
        let missing = dir.path().join("never");
        let err = install_once(&name, &missing, || Ok(())).unwrap_err();
        assert!(err.to_string().contains("does not exist"), "{err}");
    }
}
