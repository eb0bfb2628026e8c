//! Whole `sluice run` processes: the wall time and peak RSS of the binary a user runs, start-up,
//! validation, the state database, the report and the exit included, against
//! `seq N | xargs -P<workers> -I{} sh -c true` measured in the same run.
//!
//! Design decisions:
//! - Each `sluice run` is started by a fresh copy of this benchmark (`--process-child`), which
//!   reads `getrusage(RUSAGE_CHILDREN)` once `sluice run` has been reaped: in that process it is
//!   the only child, so `ru_maxrss` is its own peak, exactly, with no polling of `/proc`.
//! - The binary is the one Cargo builds beside the benchmark (`CARGO_BIN_EXE_sluice`), so a
//!   `cargo bench` measures the release build and `cargo test --benches` the debug one.

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, Stdio};
use std::time::{Duration, Instant};

use nix::sys::resource::{UsageWho, getrusage};

/// The flag that makes the benchmark run one `sluice run` and print its figures.
pub(crate) const PROCESS_CHILD: &str = "--process-child";
const FIGURES_PREFIX: &str = "sluice_run wall_ns=";

/// What one whole `sluice run` took.
pub(crate) struct ProcessFigures {
    pub(crate) wall: Duration,
    /// Peak resident set size, in bytes.
    pub(crate) peak_rss: u64,
}

/// The `sluice` binary built with this benchmark.
fn sluice_binary() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_sluice"))
}

/// The child: runs `sluice run definition --data-dir dir --workers workers` and prints its wall
/// time and peak RSS on stdout.
pub(crate) fn process_child(definition: &Path, data_dir: &Path, workers: &str) -> ExitCode {
    let started = Instant::now();
    let output = Command::new(sluice_binary())
        .arg("run")
        .arg(definition)
        .arg("--data-dir")
        .arg(data_dir)
        .args(["--workers", workers])
        .stdin(Stdio::null())
        .stderr(Stdio::inherit())
        .output();
    let wall = started.elapsed();
    let output = match output {
        Ok(output) => output,
        Err(err) => {
            eprintln!("cannot start {}: {err}", sluice_binary().display());
            return ExitCode::FAILURE;
        }
    };
    if !output.status.success() {
        eprintln!(
            "sluice run {} ended with {}:\n{}",
            definition.display(),
            output.status,
            String::from_utf8_lossy(&output.stdout)
        );
        return ExitCode::FAILURE;
    }
    match getrusage(UsageWho::RUSAGE_CHILDREN) {
        Ok(usage) => {
            // Linux reports ru_maxrss in KiB.
            let kib = u64::try_from(usage.as_ref().ru_maxrss).unwrap_or(0);
            println!("{FIGURES_PREFIX}{} maxrss_kib={kib}", wall.as_nanos());
            ExitCode::SUCCESS
        }
        Err(err) => {
            eprintln!("getrusage: {err}");
            ExitCode::FAILURE
        }
    }
}

/// Runs a fanout of `n` shell activities with `sluice run` in the fresh data directory
/// `data_dir` (the definition is written beside it), through a child of this benchmark.
pub(crate) fn sluice_run(definition_text: &str, data_dir: &Path, workers: usize) -> ProcessFigures {
    let definition = data_dir.with_extension("json");
    std::fs::write(&definition, definition_text).expect("write the definition");
    let exe = std::env::current_exe().expect("the benchmark's own path");
    let output = Command::new(exe)
        .arg(PROCESS_CHILD)
        .arg(&definition)
        .arg(data_dir)
        .arg(workers.to_string())
        .stderr(Stdio::inherit())
        .output()
        .expect("start the process child");
    assert!(output.status.success(), "process child: {}", output.status);
    let stdout = String::from_utf8_lossy(&output.stdout);
    let line = stdout
        .lines()
        .find_map(|l| l.strip_prefix(FIGURES_PREFIX))
        .unwrap_or_else(|| panic!("process child printed no figures: {stdout}"));
    let mut fields = line.split_whitespace();
    let wall_ns: u64 = fields
        .next()
        .and_then(|n| n.parse().ok())
        .expect("wall time");
    let kib: u64 = fields
        .next()
        .and_then(|f| f.strip_prefix("maxrss_kib="))
        .and_then(|n| n.parse().ok())
        .expect("peak RSS");
    ProcessFigures {
        wall: Duration::from_nanos(wall_ns),
        peak_rss: kib * 1024,
    }
}

/// Wall time of `seq n | xargs -P<workers> -I{} sh -c true`: a shell per item, as
/// ShellCommandActivity starts one per attempt.
pub(crate) fn xargs_sh(n: usize, workers: usize) -> Duration {
    super::time_script(&format!("seq {n} | xargs -P{workers} -I{{}} sh -c true"))
}
