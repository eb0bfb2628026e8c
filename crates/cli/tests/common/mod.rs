//! Helpers for the end-to-end tests of `sluice run`: a sandbox directory per test holding the
//! definition, the data directory and marker files; running the real binary with a deadline.

#![allow(dead_code)]

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Stdio};
use std::time::Duration;

use chrono::{NaiveDateTime, Utc};
use serde_json::{Value, json};
use sluice_testsupport::files::sh_quoted;
use sluice_testsupport::process::Proc;

/// How long one `sluice run` may take before the test gives up on it.
pub(crate) const RUN_DEADLINE: Duration = Duration::from_secs(60);

pub(crate) fn sluice_bin() -> &'static str {
    env!("CARGO_BIN_EXE_sluice")
}

/// A temporary directory for one test: definitions, data directories and marker files.
pub(crate) struct Sandbox {
    dir: tempfile::TempDir,
    runs: std::cell::Cell<u32>,
}

impl Default for Sandbox {
    fn default() -> Self {
        Self::new()
    }
}

impl Sandbox {
    pub(crate) fn new() -> Self {
        Sandbox {
            dir: tempfile::Builder::new()
                .prefix("sluice-run-test")
                .tempdir()
                .expect("temp dir"),
            runs: std::cell::Cell::new(0),
        }
    }

    pub(crate) fn root(&self) -> &Path {
        self.dir.path()
    }

    /// A path inside the sandbox.
    pub(crate) fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// A path inside the sandbox as a string, single-quoted for `sh`.
    pub(crate) fn sh(&self, name: &str) -> String {
        sh_quoted(&self.path(name))
    }

    /// The default data directory of this sandbox.
    pub(crate) fn data_dir(&self) -> PathBuf {
        self.path("data")
    }

    /// Writes `{"objects": objects}` (plus anything in `extra`, e.g. `parameters`) to `name`.
    pub(crate) fn write_definition(&self, name: &str, objects: Value) -> PathBuf {
        self.write_definition_with(name, objects, json!({}))
    }

    pub(crate) fn write_definition_with(
        &self,
        name: &str,
        objects: Value,
        extra: Value,
    ) -> PathBuf {
        let mut body = json!({ "objects": objects });
        if let (Some(body), Some(extra)) = (body.as_object_mut(), extra.as_object()) {
            for (key, value) in extra {
                body.insert(key.clone(), value.clone());
            }
        }
        let path = self.path(name);
        fs::write(&path, serde_json::to_string_pretty(&body).expect("json"))
            .expect("write definition");
        path
    }

    /// `sluice run FILE --data-dir <sandbox>/data ARGS…`, run to completion.
    pub(crate) fn run(&self, definition: &Path, args: &[&str]) -> RunOutput {
        self.run_in(definition, &self.data_dir(), args)
    }

    /// `sluice run FILE --data-dir DATA ARGS…`, run to completion.
    pub(crate) fn run_in(&self, definition: &Path, data_dir: &Path, args: &[&str]) -> RunOutput {
        let mut command = self.command(definition);
        command.arg("--data-dir").arg(data_dir).args(args);
        self.finish(command)
    }

    /// `sluice run FILE ARGS…` without `--data-dir` (the caller sets the environment).
    pub(crate) fn run_command(&self, command: Command) -> RunOutput {
        self.finish(command)
    }

    /// `sluice run FILE` with the working directory in the sandbox and no SLUICE_DATA_DIR
    /// inherited from whoever runs the tests.
    pub(crate) fn command(&self, definition: &Path) -> Command {
        let mut command = Command::new(sluice_bin());
        command
            .arg("run")
            .arg(definition)
            .current_dir(self.root())
            .env_remove("SLUICE_DATA_DIR")
            .stdin(Stdio::null());
        command
    }

    /// Starts `command` with its output going to files in the sandbox, so that it can be
    /// left running (and killed) without pipes filling up.
    pub(crate) fn spawn(&self, command: Command) -> Spawned {
        let n = self.runs.get() + 1;
        self.runs.set(n);
        Spawned {
            process: Proc::spawn(&format!("run{n}"), command, self.root()),
        }
    }

    fn finish(&self, command: Command) -> RunOutput {
        let mut spawned = self.spawn(command);
        let status = spawned.wait_for_exit(RUN_DEADLINE);
        spawned.output(status)
    }
}

/// A running `sluice` process, killed when dropped.
pub(crate) struct Spawned {
    process: Proc,
}

impl Spawned {
    pub(crate) fn pid(&self) -> u32 {
        self.process.pid()
    }

    /// Waits for the process to exit; fails the test after `deadline`.
    #[track_caller]
    pub(crate) fn wait_for_exit(&mut self, deadline: Duration) -> ExitStatus {
        self.process.wait_exit(deadline)
    }

    /// Fails the test if the process has exited already.
    #[track_caller]
    pub(crate) fn assert_running(&mut self) {
        if let Some(status) = self.process.try_exit() {
            panic!("sluice exited early ({status})");
        }
    }

    /// SIGKILL, as a crash would stop it.
    pub(crate) fn kill(&mut self) {
        self.process.kill();
    }

    pub(crate) fn output(&self, status: ExitStatus) -> RunOutput {
        RunOutput {
            status,
            stdout: self.process.stdout(),
            stderr: self.process.stderr(),
        }
    }
}

/// What a finished `sluice run` printed.
#[derive(Debug)]
pub(crate) struct RunOutput {
    pub(crate) status: ExitStatus,
    pub(crate) stdout: String,
    pub(crate) stderr: String,
}

impl RunOutput {
    pub(crate) fn code(&self) -> Option<i32> {
        self.status.code()
    }

    /// Fails the test unless the exit status is `code`, showing both streams.
    #[track_caller]
    pub(crate) fn assert_code(&self, code: i32) -> &Self {
        assert_eq!(
            self.status.code(),
            Some(code),
            "unexpected exit status\nstdout:\n{}\nstderr:\n{}",
            self.stdout,
            self.stderr
        );
        self
    }

    /// The `--output json` report.
    #[track_caller]
    pub(crate) fn report(&self) -> Report {
        let value: Value = serde_json::from_str(&self.stdout).unwrap_or_else(|err| {
            panic!(
                "stdout is not JSON ({err})\nstdout:\n{}\nstderr:\n{}",
                self.stdout, self.stderr
            )
        });
        Report::from_json(&value)
    }
}

/// One instance of the JSON report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Instance {
    pub(crate) id: String,
    pub(crate) component: String,
    pub(crate) scheduled_start: NaiveDateTime,
    pub(crate) status: String,
    pub(crate) attempts: u64,
    /// `waitingOn`: the instances it waits on.
    pub(crate) waiting_on: Vec<String>,
    /// `error.errorMessage`, for an instance that failed.
    pub(crate) error: Option<String>,
    /// `logs`: the latest attempt's log directory.
    pub(crate) logs: Option<String>,
}

/// An attempt a stopped run left running, as the JSON report's `resumed` lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Resumed {
    pub(crate) instance: String,
    pub(crate) interrupted_attempt: String,
    pub(crate) retried: bool,
}

/// The JSON report, checked for its exact shape while parsing.
#[derive(Debug, Clone)]
pub(crate) struct Report {
    pub(crate) pipeline_id: String,
    pub(crate) instances: Vec<Instance>,
    pub(crate) resumed: Vec<Resumed>,
    /// `healthStatus`, once something completed.
    pub(crate) health: Option<String>,
}

impl Report {
    #[track_caller]
    pub(crate) fn from_json(value: &Value) -> Report {
        let object = value.as_object().expect("the report is an object");
        let mut keys: Vec<&str> = object.keys().map(String::as_str).collect();
        keys.sort_unstable();
        let required = ["instances", "pipelineId", "resumed"];
        let health = ["healthStatus", "healthStatusFromInstanceId"];
        assert!(
            required.iter().all(|k| keys.contains(k))
                && keys
                    .iter()
                    .all(|k| required.contains(k) || health.contains(k)),
            "report keys: {value}"
        );
        // Health comes once something has completed, with the instance that decided it.
        assert_eq!(
            object.contains_key("healthStatus"),
            object.contains_key("healthStatusFromInstanceId"),
            "{value}"
        );
        let pipeline_id = object["pipelineId"]
            .as_str()
            .expect("pipelineId is a string")
            .to_owned();
        assert!(is_pipeline_id(&pipeline_id), "pipeline id {pipeline_id}");
        let instances = object["instances"]
            .as_array()
            .expect("instances is an array")
            .iter()
            .map(|i| {
                let fields = object_with_keys(
                    i,
                    &[
                        "attempts",
                        "component",
                        "id",
                        "scheduledStartTime",
                        "status",
                    ],
                    &["error", "logs", "waitingOn"],
                );
                let text = |key: &str| string_field(fields, key, i);
                let scheduled = text("scheduledStartTime");
                Instance {
                    id: text("id"),
                    component: text("component"),
                    scheduled_start: NaiveDateTime::parse_from_str(&scheduled, "%Y-%m-%dT%H:%M:%S")
                        .unwrap_or_else(|err| panic!("scheduledStartTime {scheduled}: {err}")),
                    status: text("status"),
                    attempts: fields["attempts"]
                        .as_u64()
                        .unwrap_or_else(|| panic!("attempts is a number in {i}")),
                    waiting_on: fields
                        .get("waitingOn")
                        .and_then(Value::as_array)
                        .map(|ids| {
                            ids.iter()
                                .filter_map(|v| v.as_str().map(str::to_owned))
                                .collect()
                        })
                        .unwrap_or_default(),
                    error: fields
                        .get("error")
                        .and_then(|e| e["errorMessage"].as_str())
                        .map(str::to_owned),
                    logs: fields
                        .get("logs")
                        .and_then(Value::as_str)
                        .map(str::to_owned),
                }
            })
            .collect();
        let resumed = object["resumed"]
            .as_array()
            .expect("resumed is an array")
            .iter()
            .map(|r| {
                let fields =
                    object_with_keys(r, &["instance", "interruptedAttempt", "retried"], &[]);
                let text = |key: &str| string_field(fields, key, r);
                Resumed {
                    instance: text("instance"),
                    interrupted_attempt: text("interruptedAttempt"),
                    retried: fields["retried"]
                        .as_bool()
                        .unwrap_or_else(|| panic!("retried is a boolean in {r}")),
                }
            })
            .collect();
        Report {
            pipeline_id,
            instances,
            resumed,
            health: object
                .get("healthStatus")
                .and_then(Value::as_str)
                .map(str::to_owned),
        }
    }

    /// The instances of one component, in scheduled order.
    pub(crate) fn of(&self, component: &str) -> Vec<&Instance> {
        let mut found: Vec<&Instance> = self
            .instances
            .iter()
            .filter(|i| i.component == component)
            .collect();
        found.sort_by_key(|i| i.scheduled_start);
        found
    }

    /// Each instance of one component as (scheduled start, status), in scheduled order.
    pub(crate) fn statuses(&self, component: &str) -> Vec<(NaiveDateTime, &str)> {
        self.of(component)
            .into_iter()
            .map(|i| (i.scheduled_start, i.status.as_str()))
            .collect()
    }

    /// The only instance of `component`.
    #[track_caller]
    pub(crate) fn one(&self, component: &str) -> &Instance {
        match self.of(component)[..] {
            [only] => only,
            ref other => panic!("{component}: expected one instance, found {other:?}"),
        }
    }

    pub(crate) fn count_with_status(&self, status: &str) -> usize {
        self.instances.iter().filter(|i| i.status == status).count()
    }
}

/// `value` as an object, which must have every key of `required` and no key outside
/// `required` and `optional`.
#[track_caller]
fn object_with_keys<'v>(
    value: &'v Value,
    required: &[&str],
    optional: &[&str],
) -> &'v serde_json::Map<String, Value> {
    let fields = value
        .as_object()
        .unwrap_or_else(|| panic!("not an object: {value}"));
    let keys: Vec<&str> = fields.keys().map(String::as_str).collect();
    assert!(
        required.iter().all(|k| keys.contains(k))
            && keys
                .iter()
                .all(|k| required.contains(k) || optional.contains(k)),
        "keys of {value}: {required:?} and any of {optional:?}"
    );
    fields
}

/// The string `key` of `fields`, the object `whole` (shown when it is not one).
#[track_caller]
fn string_field(fields: &serde_json::Map<String, Value>, key: &str, whole: &Value) -> String {
    fields[key]
        .as_str()
        .unwrap_or_else(|| panic!("{key} is a string in {whole}"))
        .to_owned()
}

/// `df-` and 19 upper-case letters or digits.
pub(crate) fn is_pipeline_id(id: &str) -> bool {
    id.len() == 22
        && id.starts_with("df-")
        && id[3..]
            .bytes()
            .all(|b| b.is_ascii_digit() || b.is_ascii_uppercase())
}

/// Now in UTC, to the second, as the engine sees time.
pub(crate) fn now() -> NaiveDateTime {
    let now = Utc::now().naive_utc();
    now - chrono::Duration::nanoseconds(i64::from(now.and_utc().timestamp_subsec_nanos()))
}

/// A datetime as definitions write it.
pub(crate) fn datetime(at: NaiveDateTime) -> String {
    at.format("%Y-%m-%dT%H:%M:%S").to_string()
}

/// The `Default` object of an ondemand pipeline, with extra fields.
pub(crate) fn ondemand_default(extra: Value) -> Value {
    default_object(
        json!({ "scheduleType": "ondemand", "failureAndRerunMode": "cascade" }),
        extra,
    )
}

/// A `Default` object running on the local worker group with `fields` and `extra`.
pub(crate) fn default_object(fields: Value, extra: Value) -> Value {
    let mut object = json!({ "id": "Default", "name": "Default", "workerGroup": "local" });
    for source in [fields, extra] {
        if let (Some(object), Some(source)) = (object.as_object_mut(), source.as_object()) {
            for (key, value) in source {
                object.insert(key.clone(), value.clone());
            }
        }
    }
    object
}

/// A ShellCommandActivity running `command`, with extra fields.
pub(crate) fn shell(id: &str, command: &str, extra: Value) -> Value {
    let mut object = json!({ "id": id, "type": "ShellCommandActivity", "command": command });
    if let (Some(object), Some(extra)) = (object.as_object_mut(), extra.as_object()) {
        for (key, value) in extra {
            object.insert(key.clone(), value.clone());
        }
    }
    object
}
