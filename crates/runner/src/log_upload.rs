//! Copying an attempt's logs to the pipeline's log location once the attempt is over.
//!
//! Layout: `<log uri>/<pipelineId>/<componentId>/<instanceId>/<attemptId>/` holding
//! `stdout.log`, `stderr.log` and `runner.log` (each one only if the attempt wrote it). Every
//! path segment is an id made safe by [`file_name_for`], the same names the attempt
//! directories use. The destination is the task's `pipelineLogUri` when the service delivers
//! one, otherwise the runner's own `--log-uri`.

use std::path::Path;

use sluice_executors::RunnerSettings;
use sluice_model::{FieldValue, PipelineObject, TaskObject};

use crate::layout::{RUNNER_LOG, STDERR_LOG, STDOUT_LOG, file_name_for};

/// The field naming where an attempt's logs go (usually set on `Default`).
pub const PIPELINE_LOG_URI: &str = "pipelineLogUri";

/// Where this attempt's logs go: [`attempt_logs_uri`] under the task's `pipelineLogUri`, else
/// under `runner_log_uri`; `None` when neither names a log location.
pub(crate) fn log_destination(task: &TaskObject, runner_log_uri: Option<&str>) -> Option<String> {
    let attempt = task.attempt();
    let base = attempt
        .and_then(|a| a.string(PIPELINE_LOG_URI))
        .or(runner_log_uri)
        .filter(|uri| !uri.trim().is_empty())?;
    let parent = |key: &str| attempt.and_then(|a| parent_id(a, key));
    // A task always names both; the fallbacks keep logs of an odd task findable rather than
    // dropping them.
    let component = parent(COMPONENT_PARENT).unwrap_or("_unknown_component");
    let instance = parent(INSTANCE_PARENT).unwrap_or("_unknown_instance");
    Some(attempt_logs_uri(
        base,
        &task.pipeline_id,
        component,
        instance,
        &task.attempt_id,
    ))
}

/// The attempt object's fields naming its component and its instance.
pub const COMPONENT_PARENT: &str = "@componentParent";
pub const INSTANCE_PARENT: &str = "@instanceParent";

/// The id an attempt object's `key` ([`COMPONENT_PARENT`], [`INSTANCE_PARENT`]) names, whether
/// written as a reference (as the service sends it) or as a string.
pub fn parent_id<'a>(attempt: &'a PipelineObject, key: &str) -> Option<&'a str> {
    attempt.values(key).next().map(|v| match v {
        FieldValue::Ref(id) | FieldValue::String(id) => id.as_str(),
    })
}

/// The directory URI, ending in `/`, that holds an attempt's copied logs under the log
/// location `base`: `<base>/<pipelineId>/<componentId>/<instanceId>/<attemptId>/`, each id
/// made safe by [`file_name_for`]. Readers of the copies (the console) find them here too.
pub fn attempt_logs_uri(
    base: &str,
    pipeline_id: &str,
    component_id: &str,
    instance_id: &str,
    attempt_id: &str,
) -> String {
    let mut uri = base.trim_end_matches('/').to_string();
    for segment in [pipeline_id, component_id, instance_id, attempt_id] {
        uri.push('/');
        uri.push_str(&file_name_for(segment));
    }
    uri.push('/');
    uri
}

/// Copies the attempt directory's log files under `destination` (a directory URI ending in
/// `/`). Returns how many files were copied.
pub(crate) async fn upload_attempt_logs(
    attempt_dir: &Path,
    destination: &str,
    settings: &RunnerSettings,
) -> Result<usize, String> {
    let mut copied = 0;
    for name in [STDOUT_LOG, STDERR_LOG, RUNNER_LOG] {
        let source = attempt_dir.join(name);
        if !tokio::fs::try_exists(&source).await.unwrap_or(false) {
            continue;
        }
        put_file(&format!("{destination}{name}"), &source, settings).await?;
        copied += 1;
    }
    Ok(copied)
}

/// Stores one local file at `uri`. The only place that knows how log URIs are written, so
/// that real object stores replace the local mapping here alone.
async fn put_file(uri: &str, source: &Path, settings: &RunnerSettings) -> Result<(), String> {
    let stores = settings
        .object_stores()
        .map_err(|e| format!("log location: {e}"))?;
    stores
        .put_file(source, uri)
        .await
        .map_err(|e| format!("cannot copy {} to {uri}: {e}", source.display()))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;
    use std::sync::Arc;

    use sluice_model::{Field, PipelineObject};

    use super::*;

    fn task(extra: Vec<Field>) -> TaskObject {
        let attempt = "@Say_2026-01-01T00:00:00_Attempt=2";
        let mut fields = vec![
            Field::string("type", "ShellCommandActivity"),
            Field::reference("@componentParent", "Say"),
            Field::reference("@instanceParent", "@Say_2026-01-01T00:00:00"),
        ];
        fields.extend(extra);
        TaskObject {
            task_id: "t".into(),
            pipeline_id: "df-1".into(),
            attempt_id: attempt.into(),
            objects: BTreeMap::from([(
                attempt.to_string(),
                PipelineObject {
                    id: attempt.into(),
                    name: attempt.into(),
                    fields,
                },
            )]),
        }
    }

    #[test]
    fn destination_follows_the_documented_layout() {
        assert_eq!(log_destination(&task(vec![]), None), None);
        assert_eq!(
            log_destination(&task(vec![]), Some("s3://logs/runners/")).as_deref(),
            Some(
                "s3://logs/runners/df-1/Say/@Say_2026-01-01T00:00:00/\
                 @Say_2026-01-01T00:00:00_Attempt=2/"
            )
        );
        // The pipeline's own setting wins over the runner's.
        let own = task(vec![Field::string("pipelineLogUri", "file:///srv/p")]);
        assert!(
            log_destination(&own, Some("s3://logs"))
                .unwrap()
                .starts_with("file:///srv/p/df-1/Say/")
        );
    }

    #[tokio::test]
    async fn upload_copies_the_logs_that_exist() {
        let dir = tempfile::tempdir().unwrap();
        let attempt = dir.path().join("attempt");
        std::fs::create_dir_all(&attempt).unwrap();
        std::fs::write(attempt.join(STDOUT_LOG), "hello\n").unwrap();
        std::fs::write(attempt.join(RUNNER_LOG), "events\n").unwrap();
        let settings = RunnerSettings {
            data_dir: dir.path().join("data"),
            data: Arc::default(),
        };
        let n = upload_attempt_logs(&attempt, "s3://bucket/a/b/", &settings)
            .await
            .unwrap();
        assert_eq!(n, 2);
        let stored = dir.path().join("data/s3/bucket/a/b");
        assert_eq!(
            std::fs::read_to_string(stored.join(STDOUT_LOG)).unwrap(),
            "hello\n"
        );
        assert!(stored.join(RUNNER_LOG).is_file());
        assert!(!stored.join(STDERR_LOG).exists());
        let bad = upload_attempt_logs(&attempt, "ftp://x/", &settings).await;
        assert!(bad.unwrap_err().contains("ftp"));
    }
}
