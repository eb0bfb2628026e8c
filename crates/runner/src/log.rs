//! `runner.log`: what the runner did with one attempt, for operators reading the attempt
//! directory without access to the runner's own log stream.

use std::fmt::Write as _;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, PoisonError};

use sluice_model::secret::{MASK, is_secret_key};
use sluice_model::{FieldValue, PipelineObject, Redactor};

/// Timestamped lines for one attempt's `runner.log`, with the attempt's secrets masked.
///
/// Lines are kept in memory until [`RunnerLog::write`]: most attempts of a busy pipeline end
/// within a second with nothing to keep, and then [`RunnerLog::discard`] creates no file at
/// all. Once written, later lines are appended to the file as they come.
pub(crate) struct RunnerLog {
    path: PathBuf,
    redactor: Redactor,
    /// The lines not yet in the file; `None` once the file is written.
    pending: Mutex<Option<String>>,
}

impl RunnerLog {
    pub(crate) fn new(path: PathBuf, redactor: Redactor) -> Self {
        RunnerLog {
            path,
            redactor,
            pending: Mutex::new(Some(String::new())),
        }
    }

    /// Records one event. A failure to write is logged and otherwise ignored: losing a log
    /// line must not fail the task.
    pub(crate) fn event(&self, message: &str) {
        let line = format!(
            "{} {}\n",
            chrono::Utc::now().format("%Y-%m-%dT%H:%M:%S%.3fZ"),
            self.redactor.redact(message)
        );
        let mut pending = self.pending.lock().unwrap_or_else(PoisonError::into_inner);
        match pending.as_mut() {
            Some(lines) => lines.push_str(&line),
            None => self.append(&line),
        }
    }

    /// Writes the lines so far to the file, and every later line as it comes.
    pub(crate) fn write(&self) {
        let mut pending = self.pending.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(lines) = pending.take() {
            self.append(&lines);
        }
    }

    /// Drops the lines not yet written: the attempt keeps no files.
    pub(crate) fn discard(&self) {
        let mut pending = self.pending.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(lines) = pending.as_mut() {
            lines.clear();
        }
    }

    fn append(&self, text: &str) {
        if text.is_empty() {
            return;
        }
        // Lines are short and rare once the file exists (progress every minute, the result),
        // so a blocking append is cheaper than handing each one to the blocking pool.
        let written = sluice_data::private_files::open_append(&self.path)
            .and_then(|mut f| f.write_all(text.as_bytes()));
        if let Err(err) = written {
            tracing::warn!(path = %self.path.display(), %err, "cannot write runner.log");
        }
    }
}

/// Masks the secrets in an attempt's log file in place. The file is only read when it holds
/// none (the usual case); otherwise a masked copy replaces it.
pub(crate) async fn mask_file(path: &Path, redactor: &Redactor) -> std::io::Result<()> {
    if redactor.is_empty() {
        return Ok(());
    }
    let path = path.to_path_buf();
    let redactor = redactor.clone();
    tokio::task::spawn_blocking(move || {
        let open = || std::fs::File::open(&path).map(std::io::BufReader::new);
        let found = match open() {
            Ok(file) => redactor.redact_stream(file, std::io::sink())?,
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => return Ok(()),
            Err(err) => return Err(err),
        };
        if found == 0 {
            return Ok(());
        }
        let masked = path.with_extension("masking");
        let mut out = std::io::BufWriter::new(sluice_data::private_files::create(&masked)?);
        redactor.redact_stream(open()?, &mut out)?;
        out.into_inner()
            .map_err(std::io::IntoInnerError::into_error)?
            .sync_all()?;
        std::fs::rename(&masked, &path)
    })
    .await
    .map_err(std::io::Error::other)?
}

/// The object's fields as `key="value"` / `key->id`, with every secret (`*`-prefixed) field
/// masked whole. Secret values expanded into other fields are masked by the log itself.
pub(crate) fn describe_fields(object: &PipelineObject) -> String {
    let mut out = String::new();
    for field in &object.fields {
        if !out.is_empty() {
            out.push(' ');
        }
        match &field.value {
            _ if is_secret_key(&field.key) => {
                let _ = write!(out, "{}={MASK}", field.key);
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

    #[tokio::test]
    async fn attempt_output_is_masked_in_place() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("stdout.log");
        std::fs::write(&path, "user=etl password=hunter2\n").unwrap();
        mask_file(&path, &Redactor::new(["hunter2"])).await.unwrap();
        assert_eq!(
            std::fs::read_to_string(&path).unwrap(),
            "user=etl password=****\n"
        );
        mask_file(&dir.path().join("absent.log"), &Redactor::new(["x"]))
            .await
            .unwrap();
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
    }

    #[test]
    fn expanded_secrets_are_masked_in_every_line() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("runner.log");
        let log = RunnerLog::new(path.clone(), Redactor::new(["hunter2"]));
        log.event(r#"fields: command="echo hunter2 > /dev/null""#);
        assert!(!path.exists(), "lines wait in memory until written");
        log.write();
        let text = std::fs::read_to_string(path).unwrap();
        assert!(
            text.ends_with(" fields: command=\"echo **** > /dev/null\"\n"),
            "{text}"
        );
    }

    #[test]
    fn lines_are_appended_once_written_and_discarded_lines_leave_no_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("runner.log");
        let log = RunnerLog::new(path.clone(), Redactor::default());
        log.event("received");
        log.discard();
        assert!(!path.exists());
        log.event("ended");
        log.write();
        log.event("result reported");
        let text = std::fs::read_to_string(&path).unwrap();
        let events: Vec<&str> = text.lines().map(|l| l.split_once(' ').unwrap().1).collect();
        assert_eq!(events, ["ended", "result reported"]);
    }
}
