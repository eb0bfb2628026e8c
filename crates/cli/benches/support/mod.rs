//! What the benchmarks share: timing a whole process with its peak memory, and `main`. Each
//! benchmark uses what it needs of it.
#![allow(dead_code)]

use std::process::Command;
use std::time::{Duration, Instant};

/// One measured process: wall time and peak resident set.
pub(crate) struct Measured {
    pub(crate) wall: Duration,
    pub(crate) max_rss_kb: u64,
}

/// Runs `command` under `/usr/bin/time -v`; fails on a non-zero exit.
pub(crate) fn measure(command: Command) -> Result<Measured, String> {
    let program = command.get_program().to_string_lossy().into_owned();
    let mut timed = Command::new("/usr/bin/time");
    timed
        .arg("-v")
        .arg(command.get_program())
        .args(command.get_args());
    if let Some(dir) = command.get_current_dir() {
        timed.current_dir(dir);
    }
    for (key, value) in command.get_envs() {
        match value {
            Some(value) => timed.env(key, value),
            None => timed.env_remove(key),
        };
    }
    let started = Instant::now();
    let out = timed
        .output()
        .map_err(|e| format!("/usr/bin/time {program}: {e}"))?;
    let wall = started.elapsed();
    let stderr = String::from_utf8_lossy(&out.stderr);
    if !out.status.success() {
        return Err(format!(
            "{program} failed:\n{}\n{stderr}",
            String::from_utf8_lossy(&out.stdout)
        ));
    }
    let max_rss_kb = stderr
        .lines()
        .find_map(|l| {
            l.trim()
                .strip_prefix("Maximum resident set size (kbytes): ")
        })
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(0);
    Ok(Measured { wall, max_rss_kb })
}

/// A benchmark's `main`: parses the arguments (an empty error asks for the usage), runs, and
/// turns the outcome into the exit code.
pub(crate) fn main<O>(
    name: &str,
    usage: &str,
    parse: impl FnOnce(&[String]) -> Result<O, String>,
    run: impl FnOnce(&O) -> Result<(), String>,
) -> std::process::ExitCode {
    use std::process::ExitCode;
    let args: Vec<String> = std::env::args().skip(1).collect();
    let options = match parse(&args) {
        Ok(options) => options,
        Err(message) if message.is_empty() => {
            println!("{usage}");
            return ExitCode::SUCCESS;
        }
        Err(message) => {
            eprintln!("{message}\n{usage}");
            return ExitCode::from(2);
        }
    };
    match run(&options) {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("{name} benchmark failed: {message}");
            ExitCode::FAILURE
        }
    }
}
