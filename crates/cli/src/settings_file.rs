//! `--settings FILE` of `sluice server`, `sluice run` and `sluice taskrunner`: how runners
//! reach data (`data`) and the service limits AWS fixed and a self-hosted service may choose —
//! one JSON object, every key optional, unknown keys refused so a typo is not silently ignored.
//!
//! Design decisions:
//! * One file for the three commands, so a pipeline reaches its data the same way wherever it
//!   runs. `sluice run` takes `data` and `limits` (it validates the definition as the server
//!   does); `sluice taskrunner` takes `data`. Keys that only a server uses are accepted and
//!   ignored by the other two, so the server's own file can be passed to them unchanged.
//! * `data` is checked as written (`DataSettings::check`) before the environment fills in what
//!   it leaves out, field by field: values in the file win.

use std::path::Path;
use std::time::Duration;

use anyhow::{Context as _, Result, bail};
use serde::Deserialize;
use sluice_api::{ApiConfig, ServiceOptions};
use sluice_definition::Limits;

/// The settings file. Omitted keys keep their defaults (AWS's values where AWS has one).
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(crate) struct SettingsFile {
    /// Definition limits, as for `sluice validate --limits` (`max_objects`, `enforcement`, …).
    limits: Option<Limits>,
    /// Longest PollForTask long poll, in seconds (AWS: 90).
    poll_wait_seconds: Option<u64>,
    /// ListPipelines page size (default 50).
    list_page_size: Option<usize>,
    /// DescribeObjects page size (default and minimum 100: `aws datapipeline list-runs` reads
    /// one page per 100 ids).
    describe_page_size: Option<usize>,
    /// Largest QueryObjects `limit` honoured (default 1000).
    query_max_limit: Option<usize>,
    /// Most live pipelines per account (AWS: 100; default: no limit).
    max_pipelines_per_account: Option<usize>,
    /// Largest request body in bytes (default 32 MiB).
    body_limit_bytes: Option<usize>,
    /// Most bytes of not-yet-verified request bodies buffered at once, across all
    /// connections (default 64 MiB).
    unverified_body_bytes: Option<usize>,
    /// Seconds a request's body may take to arrive (default 60).
    body_timeout_seconds: Option<u64>,
    /// Seconds a client has to send a request's headers; also how long an idle kept-alive
    /// connection stays open (default 30).
    header_timeout_seconds: Option<u64>,
    /// Most connections served at once (default 1024).
    max_connections: Option<usize>,
    /// Seconds a runner has to acknowledge a task (AWS: 120).
    first_report_timeout_seconds: Option<i64>,
    /// Seconds between progress reports before a lease lapses, unless the object sets
    /// `reportProgressTimeout` (AWS: 900).
    report_progress_timeout_seconds: Option<i64>,
    /// How runners reach data (`s3`, `sql`, `dynamodb`, `sns`, `spark`, `pig`); values left
    /// unset come from the environment variables.
    data: Option<sluice_data::DataSettings>,
}

impl SettingsFile {
    pub(crate) fn load(path: &Path) -> Result<SettingsFile> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read settings file {}", path.display()))?;
        let settings: SettingsFile = serde_json::from_str(&text)
            .with_context(|| format!("settings file {}", path.display()))?;
        settings
            .check()
            .with_context(|| format!("settings file {}", path.display()))?;
        Ok(settings)
    }

    /// The file at `path`, or an empty one (every default) when there is none.
    pub(crate) fn load_optional(path: Option<&Path>) -> Result<SettingsFile> {
        Ok(path
            .map(SettingsFile::load)
            .transpose()?
            .unwrap_or_default())
    }

    /// How runners reach data: the file's `data`, with what it leaves out taken from the
    /// environment.
    pub(crate) fn data_settings(&self) -> sluice_data::DataSettings {
        self.file_data().with_env()
    }

    /// The file's own `data`, before the environment fills anything in.
    pub(crate) fn file_data(&self) -> sluice_data::DataSettings {
        self.data.clone().unwrap_or_default()
    }

    /// The definition limits, for commands that validate definitions.
    pub(crate) fn limits(&self) -> Limits {
        self.limits.clone().unwrap_or_default()
    }

    fn check(&self) -> Result<()> {
        if let Some(data) = &self.data {
            data.check().map_err(anyhow::Error::msg)?;
        }
        if self.describe_page_size.is_some_and(|n| n < 100) {
            bail!("describePageSize must be at least 100");
        }
        for (name, value) in [
            ("listPageSize", self.list_page_size),
            ("queryMaxLimit", self.query_max_limit),
            ("bodyLimitBytes", self.body_limit_bytes),
            ("unverifiedBodyBytes", self.unverified_body_bytes),
            ("maxConnections", self.max_connections),
            (
                "bodyTimeoutSeconds",
                self.body_timeout_seconds
                    .and_then(|s| usize::try_from(s).ok()),
            ),
            (
                "headerTimeoutSeconds",
                self.header_timeout_seconds
                    .and_then(|s| usize::try_from(s).ok()),
            ),
        ] {
            if value == Some(0) {
                bail!("{name} must be positive");
            }
        }
        for (name, value) in [
            (
                "firstReportTimeoutSeconds",
                self.first_report_timeout_seconds,
            ),
            (
                "reportProgressTimeoutSeconds",
                self.report_progress_timeout_seconds,
            ),
        ] {
            if value.is_some_and(|s| s <= 0) {
                bail!("{name} must be positive");
            }
        }
        Ok(())
    }

    /// Applies the settings over `options` and `api`.
    pub(crate) fn apply(self, options: &mut ServiceOptions, api: &mut ApiConfig) {
        options.data = std::sync::Arc::new(self.data_settings());
        if let Some(limits) = self.limits {
            options.limits = limits;
        }
        if let Some(seconds) = self.poll_wait_seconds {
            options.poll_wait = Duration::from_secs(seconds);
        }
        if let Some(n) = self.list_page_size {
            options.list_page_size = n;
        }
        if let Some(n) = self.describe_page_size {
            options.describe_page_size = n;
        }
        if let Some(n) = self.query_max_limit {
            options.query_max_limit = n;
        }
        if self.max_pipelines_per_account.is_some() {
            options.max_pipelines_per_account = self.max_pipelines_per_account;
        }
        if let Some(bytes) = self.body_limit_bytes {
            api.body_limit = bytes;
        }
        if let Some(bytes) = self.unverified_body_bytes {
            api.unverified_bytes = bytes;
        }
        if let Some(seconds) = self.body_timeout_seconds {
            api.body_timeout = Duration::from_secs(seconds);
        }
        if let Some(seconds) = self.header_timeout_seconds {
            api.header_timeout = Duration::from_secs(seconds);
        }
        if let Some(n) = self.max_connections {
            api.max_connections = n;
        }
        if let Some(seconds) = self.first_report_timeout_seconds {
            options.engine.first_report_timeout = chrono::Duration::seconds(seconds);
        }
        if let Some(seconds) = self.report_progress_timeout_seconds {
            options.engine.report_progress_timeout = chrono::Duration::seconds(seconds);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settings_override_only_what_they_name() {
        let settings: SettingsFile = serde_json::from_str(
            r#"{"pollWaitSeconds": 5, "maxPipelinesPerAccount": 100,
                "limits": {"max_objects": 500, "enforcement": "error"}, "bodyLimitBytes": 1024}"#,
        )
        .unwrap();
        settings.check().unwrap();
        let mut options = ServiceOptions::default();
        let mut api = ApiConfig::default();
        settings.apply(&mut options, &mut api);
        assert_eq!(options.poll_wait, Duration::from_secs(5));
        assert_eq!(options.max_pipelines_per_account, Some(100));
        assert_eq!(options.limits.max_objects, 500);
        assert_eq!(api.body_limit, 1024);
        assert_eq!(
            options.list_page_size,
            ServiceOptions::default().list_page_size
        );
    }

    #[test]
    fn typos_and_bad_values_are_refused() {
        assert!(serde_json::from_str::<SettingsFile>(r#"{"pollWait": 5}"#).is_err());
        let small: SettingsFile = serde_json::from_str(r#"{"describePageSize": 10}"#).unwrap();
        assert!(small.check().is_err());
        let zero: SettingsFile =
            serde_json::from_str(r#"{"reportProgressTimeoutSeconds": 0}"#).unwrap();
        assert!(zero.check().is_err());
        let both: SettingsFile =
            serde_json::from_str(r#"{"data": {"s3": {"embedded": true, "pathStyle": true}}}"#)
                .unwrap();
        let err = both.check().unwrap_err().to_string();
        assert!(err.contains("data.s3.pathStyle"), "{err}");
    }
}
