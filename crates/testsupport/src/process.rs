//! Child processes of a test (servers, task runners, the binary under test) and checks on
//! processes by id, through `/proc` and kill(1) as an operator would look.

use std::fmt::Display;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::Duration;

use crate::files::read;
use crate::poll::{holds_within, wait_for};

/// What dropping a [`Proc`] that still runs does to it.
#[derive(Debug, Clone, Copy)]
enum OnDrop {
    Kill,
    Terminate(Duration),
}

/// A child process whose output goes to `NAME.out` and `NAME.err` in a test's directory, so
/// that it can run for long without filling a pipe. Killed when dropped (see
/// [`terminate_on_drop`](Proc::terminate_on_drop)), and its output printed when the test fails.
#[derive(Debug)]
pub struct Proc {
    name: String,
    pid: u32,
    child: Option<Child>,
    out: PathBuf,
    err: PathBuf,
    on_drop: OnDrop,
}

impl Proc {
    /// Starts `command` with no standard input, its output in files of `dir`.
    pub fn spawn(name: &str, mut command: Command, dir: &Path) -> Proc {
        let out = dir.join(format!("{name}.out"));
        let err = dir.join(format!("{name}.err"));
        let child = command
            .stdin(Stdio::null())
            .stdout(fs::File::create(&out).unwrap_or_else(|e| panic!("{}: {e}", out.display())))
            .stderr(fs::File::create(&err).unwrap_or_else(|e| panic!("{}: {e}", err.display())))
            .spawn()
            .unwrap_or_else(|e| panic!("start {name}: {e}"));
        Proc {
            name: name.to_owned(),
            pid: child.id(),
            child: Some(child),
            out,
            err,
            on_drop: OnDrop::Kill,
        }
    }

    /// When dropped, [`stop`](Proc::stop) it with `grace` instead of killing it: a server
    /// stops the processes it started only when it stops cleanly.
    pub fn terminate_on_drop(mut self, grace: Duration) -> Proc {
        self.on_drop = OnDrop::Terminate(grace);
        self
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    /// The process id, also once it has exited (to look for it in what others printed).
    pub fn pid(&self) -> u32 {
        self.pid
    }

    /// Everything it printed on standard output so far.
    pub fn stdout(&self) -> String {
        read(&self.out)
    }

    pub fn stderr(&self) -> String {
        read(&self.err)
    }

    /// Both outputs, headed by the process's name, to show in a failure message.
    pub fn output(&self) -> String {
        format!(
            "--- {0} stdout ---\n{1}--- {0} stderr ---\n{2}",
            self.name,
            self.stdout(),
            self.stderr()
        )
    }

    /// Its exit status if it has exited, without waiting.
    pub fn try_exit(&mut self) -> Option<ExitStatus> {
        let child = self.child.as_mut()?;
        let status = child
            .try_wait()
            .unwrap_or_else(|e| panic!("wait for {}: {e}", self.name))?;
        self.child = None;
        Some(status)
    }

    /// Waits for a line containing `marker` on standard output or error, and returns it. Fails
    /// the test, showing the output, if the process exits first or `limit` passes.
    #[track_caller]
    pub fn wait_line(&mut self, marker: &str, limit: Duration) -> String {
        let what = format!("{} to print {marker:?}", self.name);
        wait_for(&what, limit, || {
            let text = self.stdout() + &self.stderr();
            if let Some(line) = text.lines().find(|l| l.contains(marker)) {
                return Ok(line.to_owned());
            }
            let child = self.child.as_mut().expect("the process runs");
            if let Some(status) = child.try_wait().expect("wait for the process") {
                panic!(
                    "{} exited with {status} before printing {marker:?}",
                    self.name
                );
            }
            // The output is printed as the failing test drops the process.
            Err("no such line yet".to_owned())
        })
    }

    /// Waits for the process to exit on its own, and returns how. Fails the test after `limit`.
    #[track_caller]
    pub fn wait_exit(&mut self, limit: Duration) -> ExitStatus {
        let what = format!("{} to exit", self.name);
        let status = wait_for(&what, limit, || {
            let child = self.child.as_mut().expect("the process runs");
            match child.try_wait().expect("wait for the process") {
                Some(status) => Ok(status),
                None => Err("still running".to_owned()),
            }
        });
        self.child = None;
        status
    }

    /// Sends `signal` (`TERM`, `INT`, …) without waiting.
    #[track_caller]
    pub fn signal(&self, signal: &str) {
        assert!(self.child.is_some(), "{} has exited", self.name);
        send_signal(self.pid, signal);
    }

    /// SIGKILL, and waits for it.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// SIGTERM, then waits up to `grace` for it to exit before SIGKILL.
    pub fn stop(&mut self, grace: Duration) {
        let Some(child) = self.child.as_mut() else {
            return;
        };
        if matches!(child.try_wait(), Ok(None)) {
            let _ = Command::new("kill")
                .args(["-TERM", &child.id().to_string()])
                .status();
            holds_within(grace, || !matches!(child.try_wait(), Ok(None)));
        }
        self.kill();
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        match self.on_drop {
            OnDrop::Kill => self.kill(),
            OnDrop::Terminate(grace) => self.stop(grace),
        }
        if std::thread::panicking() {
            eprintln!("{}", self.output());
        }
    }
}

/// Sends `signal` (`TERM`, `INT`, …) to process `pid` with kill(1); fails the test if kill
/// does.
#[track_caller]
pub fn send_signal(pid: u32, signal: &str) {
    let status = Command::new("kill")
        .arg(format!("-{signal}"))
        .arg(pid.to_string())
        .status()
        .expect("run kill(1)");
    assert!(status.success(), "kill -{signal} {pid} failed");
}

/// Whether process `pid` (a number, or the text of one as a test read it from a file) still
/// runs. A zombie counts as gone: it has exited and only waits for a parent (in a container,
/// possibly a PID 1 that never reaps) to collect its status.
pub fn is_running(pid: impl Display) -> bool {
    match fs::read_to_string(format!("/proc/{pid}/stat")) {
        // The state follows the parenthesised command name, which may itself hold `)`.
        Ok(stat) => stat
            .rsplit_once(')')
            .and_then(|(_, rest)| rest.split_whitespace().next())
            .is_some_and(|state| state != "Z" && state != "X"),
        Err(_) => false,
    }
}

/// The process id written to `path` (by `echo $$ > path`), once it is there.
pub fn read_pid(path: &Path) -> Option<u32> {
    fs::read_to_string(path).ok()?.trim().parse().ok()
}
