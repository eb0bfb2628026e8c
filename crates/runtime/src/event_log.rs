//! The engine's side of the story, next to the runner's per-attempt `runner.log`: one line per
//! status an attempt passes through as committed, with the error that ended it, in
//! `<data-dir>/logs/<pipeline>/events.log`. One file per pipeline, kept open: a file per
//! attempt would cost more than running a short command.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use sluice_model::Status;
use sluice_runner::file_name_for;

/// The file name of a pipeline's event log (see [`events_log_path`]).
pub const EVENTS_LOG: &str = "events.log";

/// A commit observer that appends every attempt's committed status changes to its pipeline's
/// event log.
pub fn attempt_event_log(data_dir: PathBuf) -> sluice_engine::CommitObserver {
    let state = Mutex::new(EventLog {
        data_dir,
        file: None,
        last_status: HashMap::new(),
    });
    Box::new(move |changes| {
        let mut log = state.lock().unwrap_or_else(|e| e.into_inner());
        log.record(changes);
    })
}

struct EventLog {
    data_dir: PathBuf,
    file: Option<std::fs::File>,
    last_status: HashMap<String, Status>,
}

impl EventLog {
    fn record(&mut self, changes: &sluice_engine::ChangeSet) {
        use std::fmt::Write as _;
        let mut text = String::new();
        let mut pipeline = None;
        for attempt in &changes.attempts {
            if self.last_status.get(&attempt.attempt_id) == Some(&attempt.status) {
                continue;
            }
            self.last_status
                .insert(attempt.attempt_id.clone(), attempt.status);
            pipeline.get_or_insert(attempt.pipeline_id.as_str());
            let _ = write!(
                text,
                "{} {} {}",
                chrono::Utc::now().format("%Y-%m-%dT%H:%M:%S%.3fZ"),
                attempt.attempt_id,
                attempt.status
            );
            if let Some(host) = &attempt.hostname
                && attempt.status == Status::Running
            {
                let _ = write!(text, " on {host}");
            }
            if let Some(message) = attempt.fields.get("errorMessage").and_then(|v| v.first()) {
                let _ = write!(text, ": {}", message.lines().next().unwrap_or_default());
            }
            text.push('\n');
        }
        let Some(pipeline) = pipeline else {
            return;
        };
        // Logging must never stop the pipeline: a log that cannot be written is skipped.
        if self.file.is_none() {
            self.file = open_event_log(&events_log_path(&self.data_dir, pipeline)).ok();
        }
        if let Some(file) = &mut self.file {
            use std::io::Write as _;
            if file.write_all(text.as_bytes()).is_err() {
                self.file = None;
            }
        }
    }
}

fn open_event_log(path: &Path) -> std::io::Result<std::fs::File> {
    sluice_data::private_files::open_append(path)
}

/// `<data-dir>/logs/<pipeline>/events.log`: every attempt's committed status changes.
pub fn events_log_path(data_dir: &Path, pipeline_id: &str) -> PathBuf {
    data_dir
        .join("logs")
        .join(file_name_for(pipeline_id))
        .join(EVENTS_LOG)
}
