//! Running one child process for an attempt: output captured to files, the whole process group
//! stopped on cancellation.
//!
//! The child leads a new process group, so a command's own children (pipelines, `&` jobs,
//! scripts calling scripts) can be signalled together. An attempt's processes never outlive it:
//! once the child exits, anything left in its group is killed, and dropping the future kills
//! the group too. Output streams to the sink files as it arrives; only a bounded tail of
//! standard error is kept in memory, for the failure message.

use std::collections::VecDeque;
use std::ffi::OsString;
use std::io;
use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::{ExitStatus, Stdio};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use nix::sys::signal::{Signal, killpg};
use nix::unistd::Pid;
use tokio::fs::File;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWriteExt};
use tokio::process::Command;
use tokio_util::sync::CancellationToken;

/// How long a canceled process group gets between SIGTERM and SIGKILL.
pub const DEFAULT_KILL_GRACE: Duration = Duration::from_secs(5);

/// At most this many bytes of standard error are kept for [`ProcessReport::stderr_tail`].
pub const STDERR_TAIL_BYTES: usize = 4096;

/// At most this many lines of standard error are kept for [`ProcessReport::stderr_tail`].
pub const STDERR_TAIL_LINES: usize = 20;

/// How long output pipes may stay open after the process group is gone. Only a process that
/// left the group (`setsid`) while holding them can keep them open that long.
const DRAIN_TIMEOUT: Duration = Duration::from_secs(5);

/// What to run and where its output goes.
#[derive(Debug, Clone)]
pub struct ProcessSpec {
    pub program: OsString,
    pub args: Vec<OsString>,
    /// Working directory.
    pub cwd: PathBuf,
    /// Added to (or overriding) the runner's own environment.
    pub env: Vec<(OsString, OsString)>,
    /// Files standard output is appended to (parent directories are created).
    pub stdout: Vec<PathBuf>,
    /// Files standard error is appended to (parent directories are created).
    pub stderr: Vec<PathBuf>,
    /// Those of the output files that are created only when the first byte for them arrives
    /// (the attempt's own logs: most commands of a busy pipeline print nothing, and two empty
    /// files per attempt would cost more than running them). The others are opened before the
    /// process starts, so a path that cannot be written fails the attempt without running it.
    pub lazy_outputs: Vec<PathBuf>,
    /// Time between SIGTERM and SIGKILL on cancellation.
    pub kill_grace: Duration,
}

impl ProcessSpec {
    pub fn new(program: impl Into<OsString>, cwd: impl Into<PathBuf>) -> Self {
        ProcessSpec {
            program: program.into(),
            args: Vec::new(),
            cwd: cwd.into(),
            env: Vec::new(),
            stdout: Vec::new(),
            stderr: Vec::new(),
            lazy_outputs: Vec::new(),
            kill_grace: DEFAULT_KILL_GRACE,
        }
    }
}

/// How the process ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProcessOutcome {
    Exited(i32),
    /// Killed by this signal number without being canceled.
    Signaled(i32),
    /// The cancellation token fired; the process group has been killed.
    Canceled,
}

/// The result of [`run_process`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProcessReport {
    pub outcome: ProcessOutcome,
    /// The last lines of standard error (at most [`STDERR_TAIL_LINES`] lines and
    /// [`STDERR_TAIL_BYTES`] bytes), lossily decoded.
    pub stderr_tail: String,
    /// The first error writing captured output, if any: the output files are incomplete.
    pub capture_error: Option<String>,
}

/// Why a process could not be started.
#[derive(Debug, thiserror::Error)]
pub enum ProcessError {
    #[error("cannot open output file {}: {source}", path.display())]
    Output { path: PathBuf, source: io::Error },
    #[error("cannot start {}: {source}", program.to_string_lossy())]
    Spawn {
        program: OsString,
        source: io::Error,
    },
}

/// Runs `spec` to completion or until `cancel` fires.
///
/// On cancellation the process group gets SIGTERM, then SIGKILL after `spec.kill_grace` if the
/// child is still running, and the outcome is [`ProcessOutcome::Canceled`] whatever status the
/// child ended with.
pub async fn run_process(
    spec: ProcessSpec,
    cancel: &CancellationToken,
) -> Result<ProcessReport, ProcessError> {
    let stdout_sinks = sinks(&spec.stdout, &spec.lazy_outputs).await?;
    let stderr_sinks = sinks(&spec.stderr, &spec.lazy_outputs).await?;

    let mut command = Command::new(&spec.program);
    command
        .args(&spec.args)
        .current_dir(&spec.cwd)
        .envs(spec.env.iter().map(|(k, v)| (k, v)))
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .process_group(0)
        .kill_on_drop(true);
    let mut child = command.spawn().map_err(|source| ProcessError::Spawn {
        program: spec.program.clone(),
        source,
    })?;
    let group = ProcessGroup(
        child
            .id()
            .and_then(|id| i32::try_from(id).ok())
            .map(Pid::from_raw),
    );

    let tail = Arc::new(Mutex::new(Tail::default()));
    let stdout_pump = child
        .stdout
        .take()
        .map(|out| tokio::spawn(pump(out, stdout_sinks, None)));
    let stderr_pump = child
        .stderr
        .take()
        .map(|err| tokio::spawn(pump(err, stderr_sinks, Some(Arc::clone(&tail)))));

    let status = tokio::select! {
        biased;
        status = child.wait() => Some(status),
        () = cancel.cancelled() => None,
    };
    let outcome = match status {
        Some(status) => outcome_of(status),
        None => {
            group.signal(Signal::SIGTERM);
            if tokio::time::timeout(spec.kill_grace, child.wait())
                .await
                .is_err()
            {
                group.signal(Signal::SIGKILL);
                let _ = child.wait().await;
            }
            ProcessOutcome::Canceled
        }
    };
    // Whatever is still in the group (background jobs, grandchildren that ignored SIGTERM)
    // belongs to this attempt and must not outlive it.
    drop(group);

    let mut capture_error = None;
    for pump in [stdout_pump, stderr_pump].into_iter().flatten() {
        let abort = pump.abort_handle();
        match tokio::time::timeout(DRAIN_TIMEOUT, pump).await {
            Ok(Ok(Some(err))) => {
                capture_error.get_or_insert(err);
            }
            Ok(Ok(None)) => {}
            Ok(Err(join)) => {
                capture_error.get_or_insert(format!("output capture stopped: {join}"));
            }
            Err(_) => {
                abort.abort();
                capture_error.get_or_insert(
                    "output capture stopped: a process that left the attempt's process group \
                     still holds its output open"
                        .to_string(),
                );
            }
        }
    }
    let stderr_tail = tail.lock().unwrap_or_else(PoisonError::into_inner).render();
    Ok(ProcessReport {
        outcome,
        stderr_tail,
        capture_error,
    })
}

/// A human-readable name for a signal number, e.g. `SIGKILL`.
pub fn signal_name(signal: i32) -> String {
    Signal::try_from(signal)
        .map(|s| s.as_str().to_string())
        .unwrap_or_else(|_| format!("signal {signal}"))
}

fn outcome_of(status: io::Result<ExitStatus>) -> ProcessOutcome {
    match status {
        Ok(status) => match (status.code(), status.signal()) {
            (Some(code), _) => ProcessOutcome::Exited(code),
            (None, Some(signal)) => ProcessOutcome::Signaled(signal),
            // Neither is only possible for stopped/continued states, which `wait` never reports.
            (None, None) => ProcessOutcome::Exited(-1),
        },
        // The child was spawned, so waiting can only fail if it was already reaped elsewhere.
        Err(_) => ProcessOutcome::Exited(-1),
    }
}

/// A process group that is sent SIGKILL when dropped, so that no exit path (including the
/// caller dropping the future) leaves the attempt's processes behind.
struct ProcessGroup(Option<Pid>);

impl ProcessGroup {
    fn signal(&self, signal: Signal) {
        if let Some(pgid) = self.0 {
            // ESRCH means the group is already empty, which is the goal.
            let _ = killpg(pgid, signal);
        }
    }
}

impl Drop for ProcessGroup {
    fn drop(&mut self) {
        self.signal(Signal::SIGKILL);
    }
}

async fn sinks(paths: &[PathBuf], lazy: &[PathBuf]) -> Result<Vec<Sink>, ProcessError> {
    let mut sinks = Vec::with_capacity(paths.len());
    for path in paths {
        let state = if lazy.contains(path) {
            SinkState::Unopened
        } else {
            let file = open_append(path)
                .await
                .map_err(|source| ProcessError::Output {
                    path: path.clone(),
                    source,
                })?;
            SinkState::Open(file)
        };
        sinks.push(Sink {
            path: path.clone(),
            state,
        });
    }
    Ok(sinks)
}

async fn open_append(path: &Path) -> io::Result<File> {
    let path = path.to_path_buf();
    let file = tokio::task::spawn_blocking(move || sluice_data::private_files::open_append(&path))
        .await
        .map_err(io::Error::other)??;
    Ok(File::from_std(file))
}

/// An output file, opened before the process starts or when the first byte for it arrives
/// (see [`ProcessSpec::lazy_outputs`]).
struct Sink {
    path: PathBuf,
    state: SinkState,
}

enum SinkState {
    Unopened,
    Open(File),
    /// Opening or writing failed: the pipe is still drained so the child never blocks.
    Failed,
}

impl Sink {
    async fn write(&mut self, chunk: &[u8]) -> Result<(), String> {
        if let SinkState::Unopened = self.state {
            self.state = match open_append(&self.path).await {
                Ok(file) => SinkState::Open(file),
                Err(err) => {
                    self.state = SinkState::Failed;
                    return Err(format!("cannot open {}: {err}", self.path.display()));
                }
            };
        }
        if let SinkState::Open(file) = &mut self.state
            && let Err(err) = file.write_all(chunk).await
        {
            self.state = SinkState::Failed;
            return Err(format!("writing {}: {err}", self.path.display()));
        }
        Ok(())
    }

    async fn flush(&mut self) -> Result<(), String> {
        if let SinkState::Open(file) = &mut self.state {
            file.flush()
                .await
                .map_err(|err| format!("writing {}: {err}", self.path.display()))?;
        }
        Ok(())
    }
}

/// Copies `source` to every sink until end of file; returns the first write error.
async fn pump(
    mut source: impl AsyncRead + Unpin,
    mut sinks: Vec<Sink>,
    tail: Option<Arc<Mutex<Tail>>>,
) -> Option<String> {
    let mut error = None;
    let mut buf = vec![0u8; 16 * 1024];
    loop {
        let n = match source.read(&mut buf).await {
            Ok(0) => break,
            Ok(n) => n,
            Err(err) if err.kind() == io::ErrorKind::Interrupted => continue,
            Err(err) => {
                error.get_or_insert(format!("reading process output: {err}"));
                break;
            }
        };
        let chunk = &buf[..n];
        if let Some(tail) = &tail {
            tail.lock()
                .unwrap_or_else(PoisonError::into_inner)
                .push(chunk);
        }
        for sink in &mut sinks {
            if let Err(err) = sink.write(chunk).await {
                error.get_or_insert(err);
            }
        }
    }
    for sink in &mut sinks {
        if let Err(err) = sink.flush().await {
            error.get_or_insert(err);
        }
    }
    error
}

/// The last [`STDERR_TAIL_BYTES`] bytes of a stream.
#[derive(Default)]
struct Tail {
    bytes: VecDeque<u8>,
    truncated: bool,
}

impl Tail {
    fn push(&mut self, chunk: &[u8]) {
        let chunk = if chunk.len() > STDERR_TAIL_BYTES {
            self.truncated = true;
            &chunk[chunk.len() - STDERR_TAIL_BYTES..]
        } else {
            chunk
        };
        let overflow = (self.bytes.len() + chunk.len()).saturating_sub(STDERR_TAIL_BYTES);
        if overflow > 0 {
            self.truncated = true;
            self.bytes.drain(..overflow);
        }
        self.bytes.extend(chunk);
    }

    fn render(&self) -> String {
        let (a, b) = self.bytes.as_slices();
        let text = String::from_utf8_lossy(&[a, b].concat()).into_owned();
        let mut lines: Vec<&str> = text.lines().collect();
        // A cut buffer starts mid-line; a partial line only confuses the reader.
        if self.truncated && lines.len() > 1 {
            lines.remove(0);
        }
        let start = lines.len().saturating_sub(STDERR_TAIL_LINES);
        lines[start..].join("\n")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tail_keeps_the_last_lines_within_the_byte_bound() {
        let mut tail = Tail::default();
        for i in 0..100 {
            tail.push(format!("line {i}\n").as_bytes());
        }
        let text = tail.render();
        let lines: Vec<_> = text.lines().collect();
        assert_eq!(lines.len(), STDERR_TAIL_LINES);
        assert_eq!(lines.last(), Some(&"line 99"));
        assert_eq!(lines[0], "line 80");

        let mut tail = Tail::default();
        tail.push(&vec![b'x'; 10_000]);
        tail.push(b"\nend\n");
        assert!(tail.render().len() <= STDERR_TAIL_BYTES);
        assert_eq!(tail.render(), "end");
    }

    #[test]
    fn signal_names_are_readable() {
        assert_eq!(signal_name(9), "SIGKILL");
        assert_eq!(signal_name(15), "SIGTERM");
    }
}
