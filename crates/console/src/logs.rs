//! Where the console reads an attempt's logs (`stdout`, `stderr`, `runner`) from.
//!
//! * **This server's data directory** (`logs/<pipeline>/<attempt>/`, [`attempt_dir`]) when the
//!   attempt ran here: the log's file is there, or the attempt's directory is (its in-process
//!   runner, or a runner it provisioned, ran it and the command has not written that log).
//! * Otherwise **the copy its runner uploads** when the attempt ends, when the attempt has a
//!   `pipelineLogUri`: the value the runner received with its task (the component's own or
//!   the one inherited from `Default`, evaluated for the attempt), read here as DescribeObjects
//!   shows the attempt. The copy is at [`attempt_logs_uri`] plus the file name, the runner's
//!   own layout, and is read through this server's data settings ([`UploadedLogs`]), so an
//!   `s3://` location must be on a store this server reaches too.
//! * Otherwise nothing on this server: a remote runner's own `--log-uri` is not in the
//!   definition, so its copies cannot be found from here.

use std::path::PathBuf;

use chrono::{Duration, NaiveDateTime, Utc};
use sluice_model::PipelineObject;
use sluice_model::ops::DescribeObjectsInput;
use sluice_runner::{
    COMPONENT_PARENT, INSTANCE_PARENT, LogPart, PIPELINE_LOG_URI, RUNNER_LOG, STDERR_LOG,
    STDOUT_LOG, UploadedLogError, UploadedLogs, attempt_dir, attempt_logs_uri, parent_id,
};
use sluice_runtime::accounts::Principal;
use sluice_runtime::{ApiResult, Service};

/// How long after an attempt ended its runner's copy of the logs is waited for: the runner
/// reports the result first and copies after.
pub(crate) const COPY_GRACE: Duration = Duration::minutes(5);

/// The file name of a log the console shows, by the name its URLs use.
pub(crate) fn file_name(log: &str) -> Option<&'static str> {
    match log {
        "stdout" => Some(STDOUT_LOG),
        "stderr" => Some(STDERR_LOG),
        "runner" => Some(RUNNER_LOG),
        _ => None,
    }
}

/// Where one log of an attempt is read from.
#[derive(Debug, Clone)]
pub(crate) enum Source {
    /// A file in this server's data directory (perhaps not written, or never).
    Local(PathBuf),
    /// The runner's copy, which appears once the attempt has ended.
    Copied(Copied),
}

/// A log as its runner copies it to the pipeline's log location.
#[derive(Debug, Clone)]
pub(crate) struct Copied {
    pub(crate) uri: String,
    logs: Result<UploadedLogs, UploadedLogError>,
}

impl Copied {
    /// The last `max` bytes.
    pub(crate) async fn tail(&self, max: u64) -> Result<LogPart, UploadedLogError> {
        self.logs
            .as_ref()
            .map_err(Clone::clone)?
            .read_tail(&self.uri, max)
            .await
    }

    /// At most `max` bytes from `offset`.
    pub(crate) async fn read_from(
        &self,
        offset: u64,
        max: u64,
    ) -> Result<LogPart, UploadedLogError> {
        self.logs
            .as_ref()
            .map_err(Clone::clone)?
            .read_from(&self.uri, offset, max)
            .await
    }
}

/// What the console knows about where one attempt's logs are.
#[derive(Debug, Clone, Default)]
pub(crate) struct AttemptLogs {
    /// The attempt's directory in this server's data directory.
    dir: Option<PathBuf>,
    /// The directory URI its runner copies its logs to, from its `pipelineLogUri`.
    copied_to: Option<String>,
}

impl AttemptLogs {
    /// Where `log` (`stdout`, `stderr` or `runner`) is read from; `None` for another name, or
    /// when this server keeps no data directory and knows no copy.
    pub(crate) fn source(&self, service: &Service, log: &str) -> Option<Source> {
        let name = file_name(log)?;
        let local = self.dir.as_ref().map(|dir| dir.join(name));
        let ran_here = self.dir.as_ref().is_some_and(|dir| dir.is_dir());
        if ran_here || local.as_ref().is_some_and(|file| file.is_file()) {
            return local.map(Source::Local);
        }
        let copied = self.copied_to.as_ref().and_then(|dir| {
            // The embedded object store lives in the data directory.
            let data_dir = service.options().data_dir.as_ref()?;
            Some(Source::Copied(Copied {
                uri: format!("{dir}{name}"),
                logs: UploadedLogs::new(&service.options().data, data_dir),
            }))
        });
        copied.or(local.map(Source::Local))
    }
}

/// Where the logs of each of `attempt_ids` (attempts of `pipeline_id`, in that order) are.
/// DescribeObjects is asked only about the attempts that did not run on this server; when it
/// fails, their copies are not looked for (and the failure is logged).
pub(crate) async fn attempt_logs(
    service: &Service,
    principal: &Principal,
    pipeline_id: &str,
    attempt_ids: &[&str],
) -> Vec<AttemptLogs> {
    let data_dir = service.options().data_dir.as_ref();
    let mut found: Vec<AttemptLogs> = attempt_ids
        .iter()
        .map(|attempt| AttemptLogs {
            dir: data_dir.map(|d| attempt_dir(d, pipeline_id, attempt)),
            ..AttemptLogs::default()
        })
        .collect();
    let elsewhere: Vec<String> = attempt_ids
        .iter()
        .zip(&found)
        .filter(|(_, logs)| !logs.dir.as_ref().is_some_and(|dir| dir.is_dir()))
        .map(|(id, _)| (*id).to_owned())
        .collect();
    if elsewhere.is_empty() {
        return found;
    }
    let described = match describe(service, principal, pipeline_id, elsewhere).await {
        Ok(objects) => objects,
        Err(error) => {
            tracing::warn!(pipeline_id, %error, "cannot describe attempts to find their logs");
            return found;
        }
    };
    for object in described {
        if let Some(i) = attempt_ids.iter().position(|id| *id == object.id) {
            found[i].copied_to = copy_location(pipeline_id, &object);
        }
    }
    found
}

/// The attempts as DescribeObjects shows them, expressions evaluated.
async fn describe(
    service: &Service,
    principal: &Principal,
    pipeline_id: &str,
    object_ids: Vec<String>,
) -> ApiResult<Vec<PipelineObject>> {
    let mut objects = Vec::new();
    let mut marker = None;
    loop {
        let page = service
            .describe_objects(
                principal,
                DescribeObjectsInput {
                    pipeline_id: pipeline_id.to_owned(),
                    object_ids: object_ids.clone(),
                    evaluate_expressions: Some(true),
                    marker,
                },
            )
            .await?;
        objects.extend(page.pipeline_objects);
        match page.marker {
            Some(next) if page.has_more_results == Some(true) => marker = Some(next),
            _ => return Ok(objects),
        }
    }
}

/// The directory URI the runner of `attempt` copies its logs to: under its `pipelineLogUri`,
/// by its component and instance, as the runner lays them out.
fn copy_location(pipeline_id: &str, attempt: &PipelineObject) -> Option<String> {
    let base = attempt
        .string(PIPELINE_LOG_URI)
        .filter(|uri| !uri.trim().is_empty())?;
    Some(attempt_logs_uri(
        base,
        pipeline_id,
        parent_id(attempt, COMPONENT_PARENT)?,
        parent_id(attempt, INSTANCE_PARENT)?,
        &attempt.id,
    ))
}

/// Whether a copy that is not there yet may still come: the attempt ended less than
/// [`COPY_GRACE`] ago.
pub(crate) fn copy_may_come(ended_at: Option<NaiveDateTime>) -> bool {
    ended_at.is_some_and(|at| Utc::now().naive_utc() - at < COPY_GRACE)
}

#[cfg(test)]
mod tests {
    use sluice_model::Field;

    use super::*;

    #[test]
    fn copies_are_where_the_runner_puts_them() {
        let attempt = |extra: Vec<Field>| PipelineObject {
            id: "@Say_2026-01-01T00:00:00_Attempt=1".into(),
            name: "@Say_2026-01-01T00:00:00_Attempt=1".into(),
            fields: [
                vec![
                    Field::reference("@componentParent", "Say"),
                    Field::reference("@instanceParent", "@Say_2026-01-01T00:00:00"),
                ],
                extra,
            ]
            .concat(),
        };
        assert_eq!(copy_location("df-1", &attempt(vec![])), None);
        assert_eq!(
            copy_location(
                "df-1",
                &attempt(vec![Field::string("pipelineLogUri", "s3://logs/p/")])
            )
            .as_deref(),
            Some(
                "s3://logs/p/df-1/Say/@Say_2026-01-01T00:00:00/\
                 @Say_2026-01-01T00:00:00_Attempt=1/"
            )
        );
    }

    #[test]
    fn a_copy_is_waited_for_only_shortly_after_the_end() {
        let now = Utc::now().naive_utc();
        assert!(copy_may_come(Some(now - Duration::seconds(5))));
        assert!(!copy_may_come(Some(
            now - COPY_GRACE - Duration::seconds(1)
        )));
        assert!(!copy_may_come(None));
    }
}
