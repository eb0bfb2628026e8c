//! The in-process task runner of `sluice server`, through the Rust SDK: a cancellation
//! (TRY_CANCEL, DeactivatePipeline with cancelActive, attemptTimeout) stops its command at
//! once rather than at the runner's next progress report (every 60 s), and after a `kill -9`
//! the restarted server runs the interrupted task again at once rather than after
//! `retryDelay`. Each test starts its own server; commands leave their pids in files.

#[path = "clients/harness.rs"]
mod harness;
#[path = "clients/sdk_api.rs"]
mod sdk_api;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use harness::Server;
use sdk_api::{Api, one};
use serde_json::{Value, json};
use sluice_testsupport::files::{lines, sh_quoted};
use sluice_testsupport::poll::wait_for;
use sluice_testsupport::process::is_running;

/// How long a pipeline may take to get where a test expects it.
const DEADLINE: Duration = Duration::from_secs(60);
/// How soon a canceled command must be gone: far below the runner's 60 s report interval,
/// above the time to signal a process group.
const STOPPED_WITHIN: Duration = Duration::from_secs(5);

/// An ondemand pipeline of one activity `Long` running `command` in a group the test server's
/// in-process runner takes, with `extra` fields on `Default`.
fn long_pipeline(command: &str, extra: Value) -> Value {
    let mut defaults = json!({
        "id": "Default",
        "scheduleType": "ondemand",
        "workerGroup": "wg-clients",
        "maximumRetries": "0"
    });
    if let (Some(to), Some(from)) = (defaults.as_object_mut(), extra.as_object()) {
        to.extend(from.clone());
    }
    json!([
        defaults,
        { "id": "Long", "type": "ShellCommandActivity", "command": command }
    ])
}

/// A command that writes its shell's pid to `pid_file` and sleeps five minutes.
fn sleeper(pid_file: &Path) -> String {
    format!("echo $$ > {}; sleep 300", sh_quoted(pid_file))
}

/// Waits for the pid a command wrote to `pid_file`, and for it to be running.
fn started(pid_file: &Path) -> u32 {
    wait_for("the command to start", DEADLINE, || {
        lines(pid_file)
            .first()
            .and_then(|pid| pid.parse().ok())
            .filter(|pid| is_running(*pid))
            .ok_or_else(|| "no running pid yet".to_owned())
    })
}

/// Waits for `pid` to be gone; how long that took from `since`.
fn stopped(pid: u32, since: Instant) -> Duration {
    wait_for("the command to be stopped", DEADLINE, || {
        if is_running(pid) {
            Err(format!("{pid} still running"))
        } else {
            Ok(since.elapsed())
        }
    })
}

/// A server with a pipeline whose `Long` command is running; the API, the pipeline, the
/// instance and the command's pid.
fn running_sleeper(server: &Server, extra: Value) -> (Api, String, String, u32) {
    let pid_file: PathBuf = server.dir().join("pid");
    let api = Api::new(&server.endpoint);
    let pipeline = api.launch("long", long_pipeline(&sleeper(&pid_file), extra));
    let pid = started(&pid_file);
    let (instance, _) = api.instance_with_status(&pipeline, "Long", "RUNNING", DEADLINE);
    (api, pipeline, instance, pid)
}

#[test]
fn try_cancel_stops_an_in_process_command_at_once() {
    let server = Server::start();
    let (api, pipeline, instance, pid) = running_sleeper(&server, json!({}));
    let asked = Instant::now();
    api.set_status(&pipeline, &instance, "TRY_CANCEL");
    let took = stopped(pid, asked);
    assert!(took < STOPPED_WITHIN, "stopped after {took:?}");
    api.instance_with_status(&pipeline, "Long", "CANCELED", DEADLINE);
    let attempts = api.attempts_of(&pipeline, "Long");
    assert_eq!(attempts.len(), 1, "{attempts:?}");
    let attempt = attempts.values().next().unwrap();
    assert_eq!(one(attempt, "@status"), Some("CANCELED"), "{attempt:?}");
}

#[test]
fn deactivating_with_cancel_active_stops_an_in_process_command_at_once() {
    let server = Server::start();
    let (api, pipeline, _, pid) = running_sleeper(&server, json!({}));
    let asked = Instant::now();
    api.deactivate(&pipeline, true);
    let took = stopped(pid, asked);
    assert!(took < STOPPED_WITHIN, "stopped after {took:?}");
    api.instance_with_status(&pipeline, "Long", "CANCELED", DEADLINE);
}

#[test]
fn an_attempt_timeout_stops_an_in_process_command_at_once() {
    const TIMEOUT: Duration = Duration::from_secs(3);
    let server = Server::start();
    let (api, pipeline, _, pid) = running_sleeper(
        &server,
        json!({ "attemptTimeout": format!("{} seconds", TIMEOUT.as_secs()) }),
    );
    // Seen running, so at most TIMEOUT is left of it.
    let seen = Instant::now();
    let took = stopped(pid, seen);
    assert!(took < TIMEOUT + STOPPED_WITHIN, "stopped after {took:?}");
    api.instance_with_status(&pipeline, "Long", "FAILED", DEADLINE);
    let attempts = api.attempts_of(&pipeline, "Long");
    let attempt = attempts.values().next().unwrap();
    assert_eq!(
        one(attempt, "errorId"),
        Some("Service_AttemptTimeout"),
        "{attempt:?}"
    );
}

#[test]
fn a_killed_server_runs_its_interrupted_task_again_as_soon_as_it_is_back() {
    let mut server = Server::start();
    let marker = server.dir().join("marker");
    let gate = server.dir().join("gate");
    // Runs until the gate opens (at most two minutes), recording its start with its pid.
    let command = format!(
        "echo \"start $$\" >> {marker}; i=0; \
         while [ ! -e {gate} ]; do i=$((i + 1)); if [ $i -gt 1200 ]; then exit 1; fi; sleep 0.1; done",
        marker = sh_quoted(&marker),
        gate = sh_quoted(&gate),
    );
    // The default retryDelay (10 minutes), one retry.
    let api = Api::new(&server.endpoint);
    let pipeline = api.launch(
        "interrupted",
        long_pipeline(&command, json!({ "maximumRetries": "1" })),
    );
    wait_for("the task to start", DEADLINE, || {
        (lines(&marker).len() == 1)
            .then_some(())
            .ok_or_else(|| format!("{:?}", lines(&marker)))
    });

    server.restart_after_kill();
    let api = Api::new(&server.endpoint);
    // Well below retryDelay: at once.
    wait_for("the task to run again", Duration::from_secs(30), || {
        (lines(&marker).len() == 2)
            .then_some(())
            .ok_or_else(|| format!("{:?}", lines(&marker)))
    });
    std::fs::write(&gate, "").unwrap();
    let (instance, _) = api.instance_with_status(&pipeline, "Long", "FINISHED", DEADLINE);
    let attempts = api.attempts_of(&pipeline, "Long");
    let first = &attempts[&format!("{instance}_Attempt=1")];
    assert_eq!(one(first, "@status"), Some("FAILED"), "{first:?}");
    assert_eq!(
        one(first, "errorId"),
        Some("Service_Interrupted"),
        "{first:?}"
    );
    let second = &attempts[&format!("{instance}_Attempt=2")];
    assert_eq!(one(second, "@status"), Some("FINISHED"), "{second:?}");
    // The killed server's command outlived it; the open gate ends it too.
    let orphan: u32 = lines(&marker)[0]
        .strip_prefix("start ")
        .and_then(|pid| pid.parse().ok())
        .expect("the first run wrote its pid");
    wait_for("the orphaned command to end", DEADLINE, || {
        (!is_running(orphan))
            .then_some(())
            .ok_or_else(|| format!("{orphan} still running"))
    });
}
