//! `sluice taskrunner` against `sluice server --no-local-runner`: real processes on loopback,
//! talking the AWS task-runner protocol over HTTP with SigV4. Pipelines are created, activated
//! and inspected with the Rust SDK. Each test has its own directory, free ports and pipelines.

#[path = "clients/harness.rs"]
mod harness;
#[path = "clients/sdk_api.rs"]
mod sdk_api;

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use harness::{ROOT_ACCESS_KEY, ROOT_SECRET_KEY, ready_url, taskrunner_command, with_root_keys};
use sdk_api::{Api, Described, one};
use serde_json::{Value, json};
use sluice_testsupport::databases::{PgTables, psql, unique_name};
use sluice_testsupport::files::{lines, sh_quoted};
use sluice_testsupport::poll::wait_for;
use sluice_testsupport::process::{Proc, is_running};

/// How long a pipeline may take to get where a test expects it.
const DEADLINE: Duration = Duration::from_secs(60);
/// How long a process may take to print its readiness line or to exit.
const STARTUP: Duration = Duration::from_secs(30);
/// What `sluice taskrunner` prints once it polls.
const RUNNER_READY: &str = "sluice taskrunner ready";
/// What `sluice server` prints once it listens.
const SERVER_READY: &str = "listening on http://";

// ---------------------------------------------------------------------------------------------
// Processes
// ---------------------------------------------------------------------------------------------

/// One test's directory: servers' and runners' data directories, marker files, logs.
struct Sandbox {
    dir: tempfile::TempDir,
}

impl Sandbox {
    fn new() -> Sandbox {
        Sandbox {
            dir: tempfile::Builder::new()
                .prefix("sluice-taskrunner")
                .tempdir()
                .unwrap(),
        }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// `sluice server --no-local-runner` on `port` (0: any free port) with `settings`.
    fn server(&self, name: &str, port: u16, data: &str, settings: Value) -> (Proc, String) {
        let settings_file = self.path(&format!("{name}-settings.json"));
        fs::write(&settings_file, settings.to_string()).unwrap();
        let mut command = Command::new(env!("CARGO_BIN_EXE_sluice"));
        command
            .arg("server")
            .args(["--listen", &format!("127.0.0.1:{port}")])
            .arg("--data-dir")
            .arg(self.path(data))
            .arg("--settings")
            .arg(&settings_file)
            .arg("--no-local-runner")
            .current_dir(self.dir.path())
            .env_remove("SLUICE_DATA_DIR")
            .env_remove("SLUICE_ROOT_ACCOUNT_ID")
            .env("SLUICE_ROOT_ACCESS_KEY_ID", ROOT_ACCESS_KEY)
            .env("SLUICE_ROOT_SECRET_ACCESS_KEY", ROOT_SECRET_KEY)
            .env("RUST_LOG", "info");
        let mut server = Proc::spawn(name, command, self.dir.path());
        let line = server.wait_line(SERVER_READY, STARTUP);
        let endpoint = ready_url(&line).unwrap_or_else(|| panic!("no URL in {line:?}"));
        (server, endpoint)
    }

    /// A `sluice taskrunner` command with an isolated AWS environment holding no keys.
    fn runner_command(&self, id: &str, endpoint: &str, group: &str, extra: &[&str]) -> Command {
        let mut command = taskrunner_command(self.dir.path(), id, endpoint, group);
        command
            .args(["--hostname", id])
            // Fast enough for tests: progress every second, reconnect within 2 s.
            .args(["--report-interval", "1", "--max-backoff", "2"])
            .args(extra);
        command
    }

    /// A started runner with the root keys in its environment.
    fn runner(&self, id: &str, endpoint: &str, group: &str, extra: &[&str]) -> Proc {
        let mut command = self.runner_command(id, endpoint, group, extra);
        with_root_keys(&mut command);
        let mut runner = Proc::spawn(id, command, self.dir.path());
        runner.wait_line(RUNNER_READY, STARTUP);
        runner
    }

    /// The runner's attempt directories for `pipeline` (`<data-dir>/logs/<pipeline>/…`).
    fn attempt_dirs(&self, runner: &str, pipeline: &str) -> Vec<String> {
        let dir = self.path(&format!("{runner}-data/logs/{pipeline}"));
        let mut names: Vec<String> = fs::read_dir(dir)
            .map(|entries| {
                entries
                    .filter_map(Result::ok)
                    .map(|e| e.file_name().to_string_lossy().into_owned())
                    .collect()
            })
            .unwrap_or_default();
        names.sort();
        names
    }

    /// A path inside the sandbox as a single-quoted `sh` word.
    fn sh(&self, name: &str) -> String {
        sh_quoted(&self.path(name))
    }
}

// ---------------------------------------------------------------------------------------------
// The API, through the Rust SDK
// ---------------------------------------------------------------------------------------------

impl Api {
    /// Waits until the instance of `component` has `status`; its id and fields.
    fn wait_instance(&self, pipeline: &str, component: &str, status: &str) -> (String, Described) {
        self.instance_with_status(pipeline, component, status, DEADLINE)
    }
}

/// `Default` for an on-demand pipeline whose tasks go to `group`, with fast retries.
fn defaults(group: &str) -> Value {
    json!({
        "id": "Default",
        "scheduleType": "ondemand",
        "failureAndRerunMode": "CASCADE",
        "workerGroup": group,
        "retryDelay": "1 seconds"
    })
}

/// Server settings for fast tests: short long polls.
fn fast_settings() -> Value {
    json!({ "pollWaitSeconds": 2 })
}

// ---------------------------------------------------------------------------------------------
// Tests
// ---------------------------------------------------------------------------------------------

#[test]
fn each_runner_gets_only_its_worker_groups_tasks() {
    let sb = Sandbox::new();
    let (_server, endpoint) = sb.server("server", 0, "server-data", fast_settings());
    let api = Api::new(&endpoint);
    let mut alpha = sb.runner("alpha", &endpoint, "wg-alpha", &["--tasks", "2"]);
    // The second runner reads its keys from a profile file instead of the environment.
    let home = sb.path("beta-home");
    fs::create_dir_all(&home).unwrap();
    fs::write(
        home.join("creds"),
        format!(
            "[runner]\naws_access_key_id = {ROOT_ACCESS_KEY}\naws_secret_access_key = {ROOT_SECRET_KEY}\n"
        ),
    )
    .unwrap();
    let mut beta_command = sb.runner_command("beta", &endpoint, "wg-beta", &[]);
    beta_command
        .env("AWS_SHARED_CREDENTIALS_FILE", home.join("creds"))
        .env("AWS_PROFILE", "runner");
    let mut beta = Proc::spawn("beta", beta_command, sb.dir.path());
    beta.wait_line(RUNNER_READY, STARTUP);

    let out = sb.sh("ran.txt");
    let activity = |id: &str, group: &str| {
        json!({
            "id": id, "type": "ShellCommandActivity", "workerGroup": group,
            // Printed too, so that each attempt keeps its directory.
            "command": format!("echo \"{id} $(pwd)\" | tee -a {out}")
        })
    };
    let pipeline = api.launch(
        "groups",
        json!([
            defaults("wg-none"),
            activity("A1", "wg-alpha"),
            activity("A2", "wg-alpha"),
            activity("A3", "wg-alpha"),
            activity("B1", "wg-beta"),
            activity("B2", "wg-beta"),
        ]),
    );
    for component in ["A1", "A2", "A3", "B1", "B2"] {
        api.wait_instance(&pipeline, component, "FINISHED");
    }

    // Each command ran once, in an attempt directory of its group's runner.
    let mut ran = lines(&sb.path("ran.txt"));
    ran.sort();
    assert_eq!(ran.len(), 5, "{ran:?}");
    for line in &ran {
        let (id, cwd) = line.split_once(' ').unwrap();
        let runner = if id.starts_with('A') { "alpha" } else { "beta" };
        let data = sb.path(&format!("{runner}-data"));
        assert!(
            Path::new(cwd).starts_with(&data),
            "{id} ran in {cwd}, not under {}",
            data.display()
        );
    }
    let alpha_dirs = sb.attempt_dirs("alpha", &pipeline);
    let beta_dirs = sb.attempt_dirs("beta", &pipeline);
    assert_eq!(alpha_dirs.len(), 3, "{alpha_dirs:?}");
    assert!(
        alpha_dirs.iter().all(|d| d.starts_with("@A")),
        "{alpha_dirs:?}"
    );
    assert_eq!(beta_dirs.len(), 2, "{beta_dirs:?}");
    assert!(
        beta_dirs.iter().all(|d| d.starts_with("@B")),
        "{beta_dirs:?}"
    );
    // The service recorded which host ran each attempt.
    for (id, attempt) in api.objects(&pipeline, "ATTEMPT").unwrap() {
        let expected = if id.starts_with("@A") {
            "alpha"
        } else {
            "beta"
        };
        assert_eq!(
            one(&attempt, "hostname"),
            Some(expected),
            "{id}: {attempt:?}"
        );
    }

    // SIGTERM stops an idle runner cleanly.
    alpha.signal("TERM");
    assert!(alpha.wait_exit(STARTUP).success(), "{}", alpha.output());
    beta.signal("INT");
    assert!(beta.wait_exit(STARTUP).success(), "{}", beta.output());
}

#[test]
fn a_killed_runners_task_is_retried_elsewhere_and_finishes_once() {
    let sb = Sandbox::new();
    let settings = json!({
        "pollWaitSeconds": 2,
        "firstReportTimeoutSeconds": 4,
        "reportProgressTimeoutSeconds": 4
    });
    let (_server, endpoint) = sb.server("server", 0, "server-data", settings);
    let api = Api::new(&endpoint);
    let mut first = sb.runner("first", &endpoint, "wg-lease", &[]);

    let (starts, pgid, done) = (sb.sh("starts.txt"), sb.sh("pgid.txt"), sb.sh("done.txt"));
    let pipeline = api.launch(
        "lease",
        json!([
            defaults("wg-lease"),
            {
                "id": "Work", "type": "ShellCommandActivity", "maximumRetries": "2",
                "command": format!(
                    "echo \"$(pwd)\" >> {starts}; echo $$ > {pgid}; sleep 3; echo done >> {done}"
                )
            }
        ]),
    );
    wait_for(
        "the first runner to start the command",
        DEADLINE,
        || match lines(&sb.path("starts.txt")).as_slice() {
            [one] if !lines(&sb.path("pgid.txt")).is_empty() => Ok(one.clone()),
            other => Err(format!("{other:?}")),
        },
    );
    // The host dies: the runner and everything it started.
    first.kill();
    let group = lines(&sb.path("pgid.txt"))[0].clone();
    let _ = Command::new("kill")
        .args(["-9", "--", &format!("-{group}")])
        .status();
    assert!(lines(&sb.path("done.txt")).is_empty());

    let _second = sb.runner("second", &endpoint, "wg-lease", &[]);
    api.wait_instance(&pipeline, "Work", "FINISHED");
    assert_eq!(lines(&sb.path("done.txt")), ["done"]);
    let starts = lines(&sb.path("starts.txt"));
    assert_eq!(starts.len(), 2, "{starts:?}");
    assert!(
        starts[1].starts_with(sb.path("second-data").to_str().unwrap()),
        "{starts:?}"
    );

    let attempts = api.attempts_of(&pipeline, "Work");
    let statuses: Vec<(&str, Option<&str>, Option<&str>)> = attempts
        .iter()
        .map(|(id, f)| (id.as_str(), one(f, "@status"), one(f, "errorId")))
        .collect();
    assert_eq!(attempts.len(), 2, "{statuses:?}");
    let (first_attempt, second_attempt) = (&statuses[0], &statuses[1]);
    assert!(first_attempt.0.ends_with("_Attempt=1"), "{statuses:?}");
    assert_eq!(first_attempt.1, Some("FAILED"), "{statuses:?}");
    assert_eq!(first_attempt.2, Some("Service_LeaseLost"), "{statuses:?}");
    assert_eq!(second_attempt.1, Some("FINISHED"), "{statuses:?}");
}

#[test]
fn try_cancel_stops_a_running_command_within_a_report_interval() {
    let sb = Sandbox::new();
    let (_server, endpoint) = sb.server("server", 0, "server-data", fast_settings());
    let api = Api::new(&endpoint);
    let _runner = sb.runner("runner", &endpoint, "wg-cancel", &[]);
    let pid_file = sb.sh("pid.txt");
    let pipeline = api.launch(
        "cancel",
        json!([
            defaults("wg-cancel"),
            {
                "id": "Long", "type": "ShellCommandActivity",
                "command": format!("echo $$ > {pid_file}; sleep 300")
            }
        ]),
    );
    let pid = wait_for("the command to start", DEADLINE, || {
        lines(&sb.path("pid.txt"))
            .first()
            .cloned()
            .ok_or_else(|| "no pid yet".to_owned())
    });
    assert!(is_running(&pid), "the command {pid} should be running");
    let (instance, _) = api.wait_instance(&pipeline, "Long", "RUNNING");

    let asked = Instant::now();
    api.set_status(&pipeline, &instance, "TRY_CANCEL");
    wait_for("the command to be stopped", Duration::from_secs(15), || {
        if is_running(&pid) {
            Err(format!("{pid} still running"))
        } else {
            Ok(())
        }
    });
    // One report interval (1 s) plus the time to stop a process group.
    assert!(
        asked.elapsed() < Duration::from_secs(8),
        "took {:?}",
        asked.elapsed()
    );
    api.wait_instance(&pipeline, "Long", "CANCELED");
}

#[test]
fn runners_ride_out_a_server_restart_without_losing_or_repeating_work() {
    let sb = Sandbox::new();
    let (mut server, endpoint) = sb.server("server-1", 0, "server-data", fast_settings());
    let port: u16 = endpoint.rsplit(':').next().unwrap().parse().unwrap();
    let api = Api::new(&endpoint);
    let mut runners = vec![
        sb.runner("one", &endpoint, "wg-restart", &[]),
        sb.runner("two", &endpoint, "wg-restart", &[]),
    ];
    let step = |command: String| {
        json!([
            defaults("wg-restart"),
            { "id": "Step", "type": "ShellCommandActivity", "command": command }
        ])
    };
    let before = api.launch(
        "before",
        step(format!("echo ran >> {}", sb.sh("before.txt"))),
    );
    api.wait_instance(&before, "Step", "FINISHED");

    // A task is running when the server goes away; it waits for `go` before finishing.
    let (pids, go, done) = (sb.sh("pids.txt"), sb.sh("go"), sb.sh("done.txt"));
    let inflight = api.launch(
        "inflight",
        step(format!(
            "echo $$ >> {pids}; while [ ! -f {go} ]; do sleep 0.1; done; echo done >> {done}"
        )),
    );
    let first_pid = wait_for("the in-flight command to start", DEADLINE, || {
        lines(&sb.path("pids.txt"))
            .first()
            .cloned()
            .ok_or_else(|| "not started".to_owned())
    });

    server.kill();
    for runner in &mut runners {
        runner.wait_line("cannot reach the service", STARTUP);
    }
    let (_server, again) = sb.server("server-2", port, "server-data", fast_settings());
    assert_eq!(again, endpoint);
    for runner in &mut runners {
        runner.wait_line("reconnected to the service", STARTUP);
    }
    // The restarted service counts the running attempt as a lost lease; its runner hears
    // TaskNotFound on its next report and stops the command.
    wait_for("the stale command to be stopped", DEADLINE, || {
        if is_running(&first_pid) {
            Err(format!("{first_pid} still running"))
        } else {
            Ok(())
        }
    });
    fs::write(sb.path("go"), "").unwrap();
    // A new client: the old one's pooled connections died with the first server.
    let api = Api::new(&endpoint);
    api.wait_instance(&inflight, "Step", "FINISHED");
    assert_eq!(lines(&sb.path("done.txt")), ["done"]);
    let attempts = api.attempts_of(&inflight, "Step");
    let statuses: Vec<(Option<&str>, Option<&str>)> = attempts
        .values()
        .map(|f| (one(f, "@status"), one(f, "errorId")))
        .collect();
    assert_eq!(
        statuses,
        [
            (Some("FAILED"), Some("Service_LeaseLost")),
            (Some("FINISHED"), None)
        ]
    );

    let after = api.launch("after", step(format!("echo ran >> {}", sb.sh("after.txt"))));
    api.wait_instance(&after, "Step", "FINISHED");
    assert_eq!(lines(&sb.path("before.txt")), ["ran"]);
    assert_eq!(lines(&sb.path("after.txt")), ["ran"]);
    for runner in &runners {
        let log = runner.stderr();
        // One line per outage, however many retries it took.
        assert_eq!(
            log.matches("cannot reach the service").count(),
            1,
            "{}",
            runner.output()
        );
        assert_eq!(log.matches("reconnected to the service").count(), 1);
        // The runner of the in-flight task failed several reports in a row, and said so once.
        assert!(
            log.matches("ReportTaskProgress failed").count() <= 1,
            "{log}"
        );
    }
}

#[test]
fn runner_managed_preconditions_run_on_the_remote_runner() {
    let sb = Sandbox::new();
    let (_server, endpoint) = sb.server("server", 0, "server-data", fast_settings());
    let api = Api::new(&endpoint);
    let _runner = sb.runner("checker", &endpoint, "wg-pre", &[]);
    let (flag, out) = (sb.sh("flag"), sb.sh("out.txt"));
    let pipeline = api.launch(
        "precondition",
        json!([
            defaults("wg-pre"),
            {
                "id": "Ready", "type": "ShellCommandPrecondition",
                "command": format!("test -f {flag}"), "retryDelay": "1 seconds"
            },
            {
                "id": "Gated", "type": "ShellCommandActivity",
                "precondition": {"ref": "Ready"},
                "command": format!("echo gated >> {out}")
            },
            // `Exists` on a data node, in the runner's embedded object store: the AWS keys in
            // the runner's environment are for the service, not for S3.
            { "id": "InputExists", "type": "Exists", "retryDelay": "1 seconds" },
            {
                "id": "Input", "type": "S3DataNode", "filePath": "s3://inbox/ready.txt",
                "precondition": {"ref": "InputExists"}
            },
            {
                "id": "Consume", "type": "ShellCommandActivity", "input": {"ref": "Input"},
                "command": format!("echo consumed >> {out}")
            }
        ]),
    );
    let reported = |prefix: &str, status: &str| {
        sb.attempt_dirs("checker", &pipeline).into_iter().find(|d| {
            d.starts_with(prefix)
                && fs::read_to_string(
                    sb.path(&format!("checker-data/logs/{pipeline}/{d}/runner.log")),
                )
                .is_ok_and(|log| log.contains(&format!("result reported: {status}")))
        })
    };
    // The checks run on the runner and report FALSE while what they look for is missing.
    for check in ["@Ready", "@InputExists"] {
        wait_for(&format!("a FALSE {check} check"), DEADLINE, || {
            reported(check, "FALSE")
                .ok_or_else(|| format!("{:?}", sb.attempt_dirs("checker", &pipeline)))
        });
    }
    assert!(
        !sb.path("out.txt").exists(),
        "ran before its precondition held"
    );

    fs::write(sb.path("flag"), "").unwrap();
    api.wait_instance(&pipeline, "Gated", "FINISHED");
    assert_eq!(lines(&sb.path("out.txt")), ["gated"]);
    fs::create_dir_all(sb.path("checker-data/s3/inbox")).unwrap();
    fs::write(sb.path("checker-data/s3/inbox/ready.txt"), "").unwrap();
    api.wait_instance(&pipeline, "Consume", "FINISHED");
    assert_eq!(lines(&sb.path("out.txt")), ["gated", "consumed"]);
    // A check that held printed nothing and FINISHED: it keeps no attempt directory, while
    // those that reported FALSE keep theirs.
    for check in ["@Ready", "@InputExists"] {
        wait_for(
            &format!("no directory for a FINISHED {check}"),
            DEADLINE,
            || match reported(check, "FINISHED") {
                Some(dir) => Err(dir),
                None => Ok(()),
            },
        );
        assert!(
            reported(check, "FALSE").is_some(),
            "{check}: {:?}",
            sb.attempt_dirs("checker", &pipeline)
        );
    }
}

#[test]
fn attempt_logs_are_copied_to_the_log_uri() {
    let sb = Sandbox::new();
    let (_server, endpoint) = sb.server("server", 0, "server-data", fast_settings());
    let api = Api::new(&endpoint);
    let file_logs = sb.path("file-logs");
    let file_uri = format!("file://{}", file_logs.display());
    let _s3 = sb.runner(
        "s3runner",
        &endpoint,
        "wg-s3",
        &["--log-uri", "s3://runner-logs/prod/"],
    );
    // This runner has its keys and log location from an AWS Task Runner config file only.
    let config = sb.path("filerunner.json");
    fs::write(
        &config,
        json!({
            "access-id": ROOT_ACCESS_KEY,
            "private-key": ROOT_SECRET_KEY,
            "log-uri": file_uri,
        })
        .to_string(),
    )
    .unwrap();
    let mut file_command = sb.runner_command("filerunner", &endpoint, "wg-file", &[]);
    file_command.arg("--config").arg(&config);
    let mut file_runner = Proc::spawn("filerunner", file_command, sb.dir.path());
    file_runner.wait_line(RUNNER_READY, STARTUP);
    let pipeline = api.launch(
        "logs",
        json!([
            defaults("wg-s3"),
            { "id": "Talk", "type": "ShellCommandActivity",
              "command": "echo to-stdout; echo to-stderr >&2" },
            { "id": "Local", "type": "ShellCommandActivity", "workerGroup": "wg-file",
              "command": "echo local" }
        ]),
    );
    let (instance, _) = api.wait_instance(&pipeline, "Talk", "FINISHED");
    let attempt = format!("{instance}_Attempt=1");
    // s3:// maps to the runner's local object store.
    let s3_dir = sb.path(&format!(
        "s3runner-data/s3/runner-logs/prod/{pipeline}/Talk/{instance}/{attempt}"
    ));
    let runner_log = wait_for("the uploaded runner.log", DEADLINE, || {
        fs::read_to_string(s3_dir.join("runner.log"))
            .ok()
            .filter(|log| log.contains("result reported: FINISHED"))
            .ok_or_else(|| format!("nothing in {}", s3_dir.display()))
    });
    assert!(runner_log.contains(&format!(
        "copying logs to s3://runner-logs/prod/{pipeline}/"
    )));
    assert_eq!(
        fs::read_to_string(s3_dir.join("stdout.log")).unwrap(),
        "to-stdout\n"
    );
    assert_eq!(
        fs::read_to_string(s3_dir.join("stderr.log")).unwrap(),
        "to-stderr\n"
    );

    // A pipeline's own pipelineLogUri wins over the runner's --log-uri.
    let mut own_default = defaults("wg-s3");
    own_default["pipelineLogUri"] = json!("s3://pipeline-logs/mine");
    let own = api.launch(
        "own-logs",
        json!([own_default, { "id": "Mine", "type": "ShellCommandActivity", "command": "echo mine" }]),
    );
    let (mine, _) = api.wait_instance(&own, "Mine", "FINISHED");
    let own_dir = sb.path(&format!(
        "s3runner-data/s3/pipeline-logs/mine/{own}/Mine/{mine}/{mine}_Attempt=1"
    ));
    wait_for("the pipelineLogUri upload", DEADLINE, || {
        fs::read_to_string(own_dir.join("stdout.log"))
            .ok()
            .filter(|s| s == "mine\n")
            .ok_or_else(|| format!("nothing in {}", own_dir.display()))
    });
    assert!(
        !sb.path(&format!("s3runner-data/s3/runner-logs/prod/{own}"))
            .exists()
    );

    let (local, _) = api.wait_instance(&pipeline, "Local", "FINISHED");
    let file_dir = file_logs.join(format!("{pipeline}/Local/{local}/{local}_Attempt=1"));
    wait_for("the file:// upload", DEADLINE, || {
        fs::read_to_string(file_dir.join("stdout.log"))
            .ok()
            .filter(|s| s == "local\n")
            .ok_or_else(|| format!("nothing in {}", file_dir.display()))
    });
}

#[test]
fn a_settings_file_tells_the_runner_where_an_rds_instance_is() {
    let sb = Sandbox::new();
    let (_server, endpoint) = sb.server("server", 0, "server-data", fast_settings());
    let api = Api::new(&endpoint);
    // The server's kind of file, keys it alone uses included.
    let settings = sb.path("runner-settings.json");
    fs::write(
        &settings,
        json!({
            "pollWaitSeconds": 2,
            "data": { "sql": { "rdsInstances": {
                "orders-db": { "engine": "postgresql", "host": "127.0.0.1", "port": 5432,
                               "database": "test" }
            } } }
        })
        .to_string(),
    )
    .unwrap();
    let _runner = sb.runner(
        "sql",
        &endpoint,
        "wg-sql",
        &["--settings", settings.to_str().unwrap()],
    );
    let table = unique_name("runner_rds");
    let _drop = PgTables(vec![table.clone()]);
    let pipeline = api.launch(
        "rds",
        json!([
            defaults("wg-sql"),
            { "id": "Shop", "type": "RdsDatabase", "rdsInstanceId": "orders-db",
              "username": "postgres", "*password": "unused" },
            { "id": "Fill", "type": "SqlActivity", "database": { "ref": "Shop" },
              "script": format!(
                  "CREATE TABLE {table} (id int); INSERT INTO {table} VALUES (7), (8);"
              ) }
        ]),
    );
    api.wait_instance(&pipeline, "Fill", "FINISHED");
    assert_eq!(
        psql(&format!("SELECT id FROM {table} ORDER BY id")),
        "7\n8\n"
    );
}

#[test]
fn bad_options_and_missing_credentials_are_refused_clearly() {
    let sb = Sandbox::new();
    let run = |mut command: Command| {
        let output = command.output().expect("run sluice taskrunner");
        (
            output.status.code(),
            String::from_utf8_lossy(&output.stderr).into_owned(),
        )
    };
    // No credentials anywhere: exit 2 at once, naming what to set.
    let (code, err) = run(sb.runner_command("nokeys", "http://127.0.0.1:9", "wg", &[]));
    assert_eq!(code, Some(2), "{err}");
    assert!(
        err.contains("no AWS credentials") && err.contains("AWS_ACCESS_KEY_ID"),
        "{err}"
    );

    let mut bad_endpoint = sb.runner_command("badurl", "127.0.0.1:9", "wg", &[]);
    bad_endpoint
        .env("AWS_ACCESS_KEY_ID", ROOT_ACCESS_KEY)
        .env("AWS_SECRET_ACCESS_KEY", ROOT_SECRET_KEY);
    let (code, err) = run(bad_endpoint);
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("invalid endpoint '127.0.0.1:9'"), "{err}");
    assert!(!err.contains(ROOT_SECRET_KEY));

    let (code, err) = run(sb.runner_command("zero", "http://127.0.0.1:9", "wg", &["--tasks", "0"]));
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("--tasks must be at least 1"), "{err}");

    let (code, err) = run(sb.runner_command(
        "slow",
        "http://127.0.0.1:9",
        "wg",
        &["--report-interval", "300"],
    ));
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("--report-interval 300 is too long"), "{err}");

    let typo = sb.path("typo-settings.json");
    fs::write(&typo, r#"{"data": {"sql": {"rdsInstance": {}}}}"#).unwrap();
    let (code, err) = run(sb.runner_command(
        "typo",
        "http://127.0.0.1:9",
        "wg",
        &["--settings", typo.to_str().unwrap()],
    ));
    assert_eq!(code, Some(2), "{err}");
    assert!(
        err.contains("typo-settings.json") && err.contains("rdsInstance"),
        "{err}"
    );
}

/// The `X-Amz-Target` and body of each request a fake service received.
type Requests = std::sync::Arc<std::sync::Mutex<Vec<(String, String)>>>;

/// A stand-in for a service that retires its runners. `sluice server` never answers
/// `terminate` (it manages no runner's lifetime), so this is the one place a fake service is
/// used: a loopback HTTP server that answers every PollForTask with no task and every
/// ReportTaskRunnerHeartbeat with `{"terminate": true}`, recording the requests it saw. It does
/// not check signatures.
fn retiring_service() -> (String, Requests) {
    use std::io::{BufRead, BufReader, Read, Write};
    use std::sync::Arc;

    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let endpoint = format!("http://{}", listener.local_addr().unwrap());
    let seen: Requests = Arc::default();
    let log = Arc::clone(&seen);
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(stream) = stream else { return };
            let log = Arc::clone(&log);
            std::thread::spawn(move || {
                let mut reader = BufReader::new(stream.try_clone().unwrap());
                let mut writer = stream;
                // Keep-alive: several requests may arrive on one connection.
                loop {
                    let (mut target, mut length) = (String::new(), 0usize);
                    let mut line = String::new();
                    loop {
                        line.clear();
                        if reader.read_line(&mut line).unwrap_or(0) == 0 {
                            return;
                        }
                        let trimmed = line.trim_end();
                        if trimmed.is_empty() {
                            break;
                        }
                        if let Some((name, value)) = trimmed.split_once(':') {
                            match name.to_ascii_lowercase().as_str() {
                                "x-amz-target" => target = value.trim().to_owned(),
                                "content-length" => length = value.trim().parse().unwrap_or(0),
                                _ => {}
                            }
                        }
                    }
                    let mut body = vec![0; length];
                    if reader.read_exact(&mut body).is_err() {
                        return;
                    }
                    log.lock()
                        .unwrap()
                        .push((target.clone(), String::from_utf8_lossy(&body).into_owned()));
                    let answer = if target.ends_with("ReportTaskRunnerHeartbeat") {
                        r#"{"terminate":true}"#
                    } else {
                        "{}"
                    };
                    let response = format!(
                        "HTTP/1.1 200 OK\r\ncontent-type: application/x-amz-json-1.1\r\n\
                         content-length: {}\r\n\r\n{answer}",
                        answer.len()
                    );
                    if writer.write_all(response.as_bytes()).is_err() {
                        return;
                    }
                }
            });
        }
    });
    (endpoint, seen)
}

#[test]
fn a_heartbeat_answered_terminate_ends_the_runner() {
    let sb = Sandbox::new();
    let (endpoint, seen) = retiring_service();
    let mut command = sb.runner_command(
        "retired",
        &endpoint,
        "wg-retire",
        &["--heartbeat-interval", "1"],
    );
    command
        .env("AWS_ACCESS_KEY_ID", ROOT_ACCESS_KEY)
        .env("AWS_SECRET_ACCESS_KEY", ROOT_SECRET_KEY);
    let mut runner = Proc::spawn("retired", command, sb.dir.path());
    let status = runner.wait_exit(STARTUP);
    assert!(status.success(), "{status}\n{}", runner.output());
    assert!(runner.stderr().contains("heartbeat answered terminate"));
    let seen = seen.lock().unwrap();
    let (_, heartbeat) = seen
        .iter()
        .find(|(target, _)| target == "DataPipeline.ReportTaskRunnerHeartbeat")
        .unwrap_or_else(|| panic!("no heartbeat among {seen:?}"));
    let heartbeat: Value = serde_json::from_str(heartbeat).unwrap();
    assert_eq!(
        heartbeat,
        json!({"taskrunnerId": "retired", "workerGroup": "wg-retire", "hostname": "retired"})
    );
}

#[test]
fn a_runner_whose_keys_are_refused_stops() {
    let sb = Sandbox::new();
    let (_server, endpoint) = sb.server("server", 0, "server-data", fast_settings());
    let wrong_secret = "not/the/secret/of/this/key/at/all/000000";
    let mut command = sb.runner_command("refused", &endpoint, "wg-refused", &[]);
    command
        .env("AWS_ACCESS_KEY_ID", ROOT_ACCESS_KEY)
        .env("AWS_SECRET_ACCESS_KEY", wrong_secret);
    let mut runner = Proc::spawn("refused", command, sb.dir.path());
    let status = runner.wait_exit(STARTUP);
    assert_eq!(status.code(), Some(2), "{}", runner.output());
    let err = runner.stderr();
    assert!(
        err.contains("the service refused this runner's credentials")
            && err.contains("InvalidSignatureException"),
        "{err}"
    );
    assert!(!err.contains(wrong_secret) && !runner.stdout().contains(wrong_secret));
}
