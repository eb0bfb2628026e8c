//! `runner.log`: what the runner did with one attempt, for operators reading the attempt
//! directory without access to the runner's own log stream.

use std::fmt::Write as _;
use std::io::Write as _;
use std::path::PathBuf;

use sluice_model::{FieldValue, PipelineObject};

/// Appends timestamped lines to one attempt's `runner.log`.
pub(crate) struct RunnerLog {
    path: PathBuf,
}

impl RunnerLog {
    pub(crate) fn new(path: PathBuf) -> Self {
        RunnerLog { path }
    }

    /// Appends one event. A failure to write is logged and otherwise ignored: losing a log
    /// line must not fail the task.
    pub(crate) fn event(&self, message: &str) {
        let line = format!(
            "{} {message}\n",
            chrono::Utc::now().format("%Y-%m-%dT%H:%M:%S%.3fZ")
        );
        // Lines are short and rare (receipt, progress, result), so a blocking append is cheaper
        // than handing each one to the blocking pool.
        let written = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.path)
            .and_then(|mut f| f.write_all(line.as_bytes()));
        if let Err(err) = written {
            tracing::warn!(path = %self.path.display(), %err, "cannot write runner.log");
        }
    }
}

/// The object's fields as `key="value"` / `key->id`, with every secret (`*`-prefixed) value
/// masked.
pub(crate) fn describe_fields(object: &PipelineObject) -> String {
    let mut out = String::new();
    for field in &object.fields {
        if !out.is_empty() {
            out.push(' ');
        }
        match &field.value {
            _ if field.key.starts_with('*') => {
                let _ = write!(out, "{}=****", field.key);
            }
            FieldValue::String(value) => {
                let _ = write!(out, "{}={value:?}", field.key);
            }
            FieldValue::Ref(id) => {
                let _ = write!(out, "{}->{id}", field.key);
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use sluice_model::Field;

    use super::*;

    #[test]
    fn secrets_are_masked() {
        let object = PipelineObject {
            id: "A".into(),
            name: "A".into(),
            fields: vec![
                Field::string("command", "echo hi"),
                Field::string("*password", "hunter2"),
                Field::reference("input", "In"),
            ],
        };
        let text = describe_fields(&object);
        assert_eq!(text, r#"command="echo hi" *password=**** input->In"#);
    }
}
