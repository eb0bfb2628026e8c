//! One module per subcommand.

pub(crate) mod eval;
#[cfg(feature = "import")]
pub(crate) mod import;
pub(crate) mod plan;
pub(crate) mod run;
pub(crate) mod server;
pub(crate) mod store;
#[cfg(feature = "taskrunner")]
pub(crate) mod taskrunner;
pub(crate) mod validate;

/// `sluice taskrunner` in a build without it: says so instead of running.
#[cfg(not(feature = "taskrunner"))]
pub(crate) mod taskrunner {
    use std::process::ExitCode;

    pub(crate) fn run(_args: &crate::cli::TaskRunnerArgs) -> anyhow::Result<ExitCode> {
        eprintln!("sluice: {}", super::no_taskrunner());
        Ok(ExitCode::from(super::EXIT_USAGE))
    }
}

/// Why `sluice taskrunner` is missing from a build without the `taskrunner` feature.
#[cfg(not(feature = "taskrunner"))]
pub(crate) fn no_taskrunner() -> String {
    sluice_data::left_out(
        "sluice taskrunner",
        "remote task runner (AWS API client)",
        "taskrunner",
    )
}

/// `sluice import` in a build without it: says so instead of running.
#[cfg(not(feature = "import"))]
pub(crate) mod import {
    use std::process::ExitCode;

    pub(crate) fn run(_args: &crate::cli::ImportArgs) -> anyhow::Result<ExitCode> {
        eprintln!(
            "sluice: {}",
            sluice_data::left_out("sluice import", "AWS Data Pipeline API client", "import")
        );
        Ok(ExitCode::from(super::EXIT_USAGE))
    }
}

/// Exit status for a definition that was read but is invalid, or a run that failed.
pub(crate) const EXIT_INVALID: u8 = 1;
/// Exit status for usage errors and unreadable input.
pub(crate) const EXIT_USAGE: u8 = 2;
/// Exit status for a state store that cannot be opened or written (a full disk, a read-only
/// or locked database, a damaged file): nothing is wrong with the command or the definition.
pub(crate) const EXIT_STATE: u8 = 3;

/// The worker group that names this machine: what `sluice run`'s definitions use, and a
/// group `sluice server`'s in-process runner always takes.
pub(crate) const LOCAL_WORKER_GROUP: &str = "local";

/// The state database inside the data directory, shared by `sluice run` and `sluice server`.
pub(crate) const STATE_FILE: &str = "sluice.db";

/// Creates the data directory (and its parents) readable by its owner only, and, when the
/// state lives there (`with_state`), the SQLite database file likewise (SQLite gives its WAL
/// and shared-memory files the database file's permissions). What exists is left as it is.
pub(crate) fn create_data_dir(data_dir: &std::path::Path, with_state: bool) -> anyhow::Result<()> {
    use anyhow::Context as _;
    let mut dirs = std::fs::DirBuilder::new();
    dirs.recursive(true);
    let mut file = std::fs::OpenOptions::new();
    file.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::{DirBuilderExt as _, OpenOptionsExt as _};
        dirs.mode(0o700);
        file.mode(0o600);
    }
    dirs.create(data_dir)
        .with_context(|| format!("cannot create {}", data_dir.display()))?;
    if !with_state {
        return Ok(());
    }
    let state = data_dir.join(STATE_FILE);
    match file.open(&state) {
        Ok(_) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
        Err(e) => Err(e).with_context(|| format!("cannot create {}", state.display())),
    }
}

/// Logs go to stderr, as text (coloured on a terminal) or one JSON object per line;
/// `RUST_LOG` filters them (default `info`).
pub(crate) fn init_logging(format: crate::cli::LogFormat) {
    use std::io::IsTerminal as _;
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    let _ = match format {
        crate::cli::LogFormat::Text => builder
            .with_ansi(std::io::stderr().is_terminal())
            .try_init(),
        crate::cli::LogFormat::Json => builder.json().with_ansi(false).try_init(),
    };
}

/// `1 noun`, `n nouns`.
pub(crate) fn plural(n: usize, noun: &str) -> String {
    if n == 1 {
        format!("1 {noun}")
    } else {
        format!("{n} {noun}s")
    }
}

/// SIGINT's number, the conventional exit status of an interrupted command being 128 + it.
pub(crate) const SIGINT: u8 = 2;
/// SIGTERM's number.
pub(crate) const SIGTERM: u8 = 15;

/// Waits for Ctrl-C or SIGTERM and returns which one arrived (its signal number).
pub(crate) async fn stop_signal() -> u8 {
    let interrupt = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => tokio::select! {
                _ = interrupt => SIGINT,
                _ = term.recv() => SIGTERM,
            },
            Err(_) => {
                let _ = interrupt.await;
                SIGINT
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = interrupt.await;
        SIGINT
    }
}

/// What the state database's commits must survive (`--fsync`).
pub(crate) fn durability(fsync: bool) -> sluice_store::Durability {
    if fsync {
        sluice_store::Durability::PowerLoss
    } else {
        sluice_store::Durability::ProcessCrash
    }
}
