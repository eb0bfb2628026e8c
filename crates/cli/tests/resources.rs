//! Managed resources and worker-group routing of `sluice server`: real processes on loopback.
//! The server provisions a `sluice taskrunner` child per resource attempt; pipelines are
//! created, activated and inspected with the Rust SDK. Each test has its own directory, a free
//! port and its own pipelines.

#[path = "clients/harness.rs"]
mod harness;
#[path = "clients/sdk_api.rs"]
mod sdk_api;

use std::collections::BTreeMap;
use std::fs;
use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

use harness::{ROOT_ACCESS_KEY, ROOT_SECRET_KEY, ready_url, taskrunner_command, with_root_keys};
use sdk_api::{Api, Described, one};
use serde_json::{Value, json};
use sluice_testsupport::databases::{PgTables, psql, unique_name};
use sluice_testsupport::files::sh_quoted;
use sluice_testsupport::poll::wait_for;
use sluice_testsupport::process::{Proc, is_running};

/// How long a pipeline may take to get where a test expects it.
const DEADLINE: Duration = Duration::from_secs(60);
/// What `sluice server` and `sluice taskrunner` print once ready.
const SERVER_READY: &str = "listening on http://";
const RUNNER_READY: &str = "sluice taskrunner ready";

/// One test's directory.
struct Sandbox {
    dir: tempfile::TempDir,
}

impl Sandbox {
    fn new() -> Sandbox {
        Sandbox {
            dir: tempfile::Builder::new()
                .prefix("sluice-resources")
                .tempdir()
                .unwrap(),
        }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// A path as a single-quoted `sh` word.
    fn sh(&self, name: &str) -> String {
        sh_quoted(&self.path(name))
    }

    /// `sluice server` on a free port with the in-process runner and the local-process
    /// provisioner (the defaults); `env` is added to its environment.
    fn server(&self, env: &[(&str, &str)]) -> (Proc, String) {
        self.server_with(env, &[])
    }

    fn server_with(&self, env: &[(&str, &str)], args: &[&str]) -> (Proc, String) {
        self.server_with_settings(env, args, json!({ "pollWaitSeconds": 2 }))
    }

    fn server_with_settings(
        &self,
        env: &[(&str, &str)],
        args: &[&str],
        settings_json: Value,
    ) -> (Proc, String) {
        let settings = self.path("settings.json");
        fs::write(&settings, settings_json.to_string()).unwrap();
        let mut command = Command::new(env!("CARGO_BIN_EXE_sluice"));
        command
            .arg("server")
            .args(["--listen", "127.0.0.1:0", "--workers", "2"])
            .arg("--data-dir")
            .arg(self.path("data"))
            .arg("--settings")
            .arg(&settings)
            .args(args)
            .current_dir(self.dir.path())
            .env_remove("SLUICE_DATA_DIR")
            .env_remove("SLUICE_ROOT_ACCOUNT_ID")
            .env_remove("SLUICE_TASKRUNNER_EXECUTABLE")
            .env_remove("AWS_ACCESS_KEY_ID")
            .env_remove("AWS_SECRET_ACCESS_KEY")
            .env("SLUICE_ROOT_ACCESS_KEY_ID", ROOT_ACCESS_KEY)
            .env("SLUICE_ROOT_SECRET_ACCESS_KEY", ROOT_SECRET_KEY)
            .env("RUST_LOG", "info");
        for (key, value) in env {
            command.env(key, value);
        }
        // A graceful stop, so that the server stops the runners it provisioned.
        let mut server =
            Proc::spawn("server", command, self.dir.path()).terminate_on_drop(DEADLINE);
        let line = server.wait_line(SERVER_READY, DEADLINE);
        let endpoint = ready_url(&line).unwrap_or_else(|| panic!("no URL in {line:?}"));
        (server, endpoint)
    }

    /// A `sluice taskrunner` for `group` with the root keys.
    fn runner(&self, id: &str, endpoint: &str, group: &str, extra: &[&str]) -> Proc {
        let mut command = taskrunner_command(self.dir.path(), id, endpoint, group);
        with_root_keys(&mut command).args(extra);
        let mut runner = Proc::spawn(id, command, self.dir.path()).terminate_on_drop(DEADLINE);
        runner.wait_line(RUNNER_READY, DEADLINE);
        runner
    }

    /// A stand-in for the `sluice` executable that the server starts for resources: it waits
    /// for the file `start` before running the real `sluice`, and on SIGTERM waits for the file
    /// `stop` before passing the signal on, so a test can see CREATING and SHUTTING_DOWN.
    fn gated_executable(&self) -> PathBuf {
        let path = self.path("gated-sluice.sh");
        let script = format!(
            r#"#!/bin/sh
gates={gates}
until [ -e "$gates/start" ]; do sleep 0.05; done
{sluice} "$@" &
child=$!
echo "$child" > "$gates/runner.pid"
trap 'until [ -e "$gates/stop" ]; do sleep 0.05; done; kill -TERM "$child"; wait "$child"; exit $?' TERM
wait "$child"
"#,
            gates = self.sh(""),
            sluice = env!("CARGO_BIN_EXE_sluice"),
        );
        fs::write(&path, script).unwrap();
        let _ = Command::new("chmod").arg("+x").arg(&path).status();
        path
    }

    fn open(&self, gate: &str) {
        fs::write(self.path(gate), "").unwrap();
    }
}

impl Api {
    /// Waits until the instance of `component` has `status`; its fields.
    fn wait_instance(&self, pipeline: &str, component: &str, status: &str) -> Described {
        wait_for(&format!("{component} to be {status}"), DEADLINE, || {
            let instances = self.objects(pipeline, "INSTANCE")?;
            let found = instances
                .values()
                .find(|f| one(f, "@componentParent") == Some(component))
                .cloned();
            match found {
                Some(fields) if one(&fields, "@status") == Some(status) => Ok(fields),
                other => Err(format!("{:?}", other.map(|f| f.get("@status").cloned()))),
            }
        })
    }
}

/// Fails the test unless `component`'s attempt ran on a runner the server provisioned, not on
/// its in-process one.
#[track_caller]
fn assert_ran_on_a_provisioned_runner(api: &Api, pipeline: &str, component: &str) {
    let attempts = api.attempts_of(pipeline, component);
    let attempt = attempts.values().next().unwrap();
    assert!(
        one(attempt, "@resourceId").is_some_and(|r| r.starts_with("local-process:")),
        "{attempt:?}"
    );
}

/// `Default` and an `Ec2Resource` named `Box` for an on-demand pipeline, plus `box_fields`.
fn resource_objects(box_fields: Value) -> Vec<Value> {
    let mut resource = json!({
        "id": "Box", "type": "Ec2Resource", "instanceType": "t2.micro",
        "imageId": "ami-12345678", "subnetId": "subnet-1"
    });
    for (key, value) in box_fields.as_object().unwrap() {
        resource[key] = value.clone();
    }
    vec![
        json!({
            "id": "Default", "scheduleType": "ondemand", "role": "DataPipelineDefaultRole",
            "resourceRole": "DataPipelineDefaultResourceRole", "maximumRetries": "0",
            "failureAndRerunMode": "CASCADE"
        }),
        resource,
    ]
}

#[test]
fn a_managed_resource_starts_serves_two_activities_and_is_stopped() {
    let sb = Sandbox::new();
    let executable = sb.gated_executable();
    let (server, endpoint) =
        sb.server(&[("SLUICE_TASKRUNNER_EXECUTABLE", executable.to_str().unwrap())]);
    let api = Api::new(&endpoint);
    let mut objects = resource_objects(json!({}));
    for name in ["First", "Second"] {
        // Each records the pid of the runner that runs it, then waits for the test.
        objects.push(json!({
            "id": name, "type": "ShellCommandActivity", "runsOn": {"ref": "Box"},
            "command": format!(
                "echo $PPID >> {}; until [ -e {} ]; do sleep 0.05; done",
                sb.sh("ran-by"),
                sb.sh("finish")
            )
        }));
    }
    let pipeline = api.launch("managed", Value::Array(objects));

    // The runner process exists but is held back: the resource is CREATING.
    let creating = wait_for("Box's process", DEADLINE, || {
        let fields = api.wait_instance(&pipeline, "Box", "CREATING");
        match one(&fields, "@resourceId") {
            Some(_) => Ok(fields),
            None => Err("no @resourceId yet".to_owned()),
        }
    });
    let resource_id = one(&creating, "@resourceId").unwrap().to_owned();
    let wrapper_pid = resource_id
        .strip_prefix("local-process:")
        .unwrap_or_else(|| panic!("@resourceId {resource_id}"))
        .to_owned();
    assert!(is_running(&wrapper_pid));
    assert!(one(&creating, "hostname").is_some_and(|h| !h.is_empty()));
    assert_eq!(one(&creating, "instanceType"), Some("t2.micro"));
    api.wait_instance(&pipeline, "First", "WAITING_FOR_RUNNER");

    sb.open("start");
    let running = api.wait_instance(&pipeline, "Box", "RUNNING");
    api.wait_instance(&pipeline, "First", "RUNNING");
    api.wait_instance(&pipeline, "Second", "RUNNING");
    let runner_pid = wait_for("the runner's pid", DEADLINE, || {
        fs::read_to_string(sb.path("runner.pid"))
            .map(|t| t.trim().to_owned())
            .map_err(|e| e.to_string())
    });
    assert!(is_running(&runner_pid));
    // Its own key, for the pipeline's account, in the environment and not in its arguments.
    let environ = fs::read(format!("/proc/{runner_pid}/environ")).unwrap();
    let env_var = |name: &str| {
        environ
            .split(|b| *b == 0)
            .filter_map(|entry| std::str::from_utf8(entry).ok())
            .find_map(|entry| entry.strip_prefix(&format!("{name}=")).map(str::to_owned))
            .unwrap_or_else(|| panic!("{name} is not set for the runner"))
    };
    let (key_id, secret) = (
        env_var("AWS_ACCESS_KEY_ID"),
        env_var("AWS_SECRET_ACCESS_KEY"),
    );
    assert!(key_id.starts_with("ASIA"), "{key_id}");
    assert_ne!(key_id, ROOT_ACCESS_KEY);
    let cmdline = fs::read_to_string(format!("/proc/{runner_pid}/cmdline")).unwrap();
    assert!(!cmdline.contains(&secret) && !cmdline.contains(&key_id));
    assert!(
        cmdline.contains(&format!(
            "--worker-group\0{}",
            one(&creating, "@id").unwrap()
        )),
        "{cmdline:?}"
    );
    let minted = Api::with_key(&endpoint, &key_id, &secret);
    assert!(minted.list_pipelines().is_ok());
    sb.open("finish");

    // Both ran on the provisioned runner, not in the server's own runner.
    api.wait_instance(&pipeline, "First", "FINISHED");
    api.wait_instance(&pipeline, "Second", "FINISHED");
    let ran_by: Vec<String> = fs::read_to_string(sb.path("ran-by"))
        .unwrap()
        .lines()
        .map(str::to_owned)
        .collect();
    assert_eq!(ran_by, [runner_pid.clone(), runner_pid.clone()]);
    assert_ne!(runner_pid, server.pid().to_string());
    for component in ["First", "Second"] {
        let attempts = api.attempts_of(&pipeline, component);
        let attempt = attempts.values().next().unwrap();
        assert_eq!(one(attempt, "@resourceId"), Some(resource_id.as_str()));
        assert_eq!(one(attempt, "@resource"), one(&running, "@id"));
        assert_eq!(one(attempt, "hostname"), one(&running, "hostname"));
    }

    // Nothing needs it any more: it shuts down, and is FINISHED once the process is gone.
    api.wait_instance(&pipeline, "Box", "SHUTTING_DOWN");
    sb.open("stop");
    api.wait_instance(&pipeline, "Box", "FINISHED");
    assert!(
        !is_running(&runner_pid),
        "the runner {runner_pid} is still running"
    );
    assert!(!is_running(&wrapper_pid));
    let attempts = api.attempts_of(&pipeline, "Box");
    let statuses: Vec<&str> = attempts
        .values()
        .filter_map(|a| one(a, "@status"))
        .collect();
    assert_eq!(statuses, ["FINISHED"]);
    // The runner's key ended with it.
    let refused = minted.list_pipelines().unwrap_err();
    assert!(refused.contains("UnrecognizedClientException"), "{refused}");
}

#[test]
fn a_resource_past_terminate_after_times_out_and_its_attempt_is_canceled() {
    let sb = Sandbox::new();
    let (_server, endpoint) = sb.server(&[]);
    let api = Api::new(&endpoint);
    let mut objects = resource_objects(json!({ "terminateAfter": "5 seconds" }));
    objects.push(json!({
        "id": "Long", "type": "ShellCommandActivity", "runsOn": {"ref": "Box"},
        "command": format!("touch {}; sleep 120", sb.sh("long-started"))
    }));
    let pipeline = api.launch("timeout", Value::Array(objects));
    let running = api.wait_instance(&pipeline, "Long", "RUNNING");
    assert!(one(&running, "@actualStartTime").is_some());
    let timed_out = api.wait_instance(&pipeline, "Box", "TIMEDOUT");
    assert!(
        one(&timed_out, "@failureReason").is_some_and(|r| r.contains("terminateAfter")),
        "{timed_out:?}"
    );
    let pid = one(&timed_out, "@resourceId")
        .and_then(|r| r.strip_prefix("local-process:"))
        .unwrap()
        .to_owned();
    let failed = api.wait_instance(&pipeline, "Long", "FAILED");
    assert_eq!(one(&failed, "errorId"), Some("Service_ResourceTimedOut"));
    let attempts = api.attempts_of(&pipeline, "Long");
    let attempt = attempts.values().next().unwrap();
    assert_eq!(one(attempt, "@status"), Some("CANCELED"));
    assert!(fs::metadata(sb.path("long-started")).is_ok());
    wait_for("the timed-out runner to exit", DEADLINE, || {
        if is_running(&pid) {
            Err(format!("{pid} alive"))
        } else {
            Ok(())
        }
    });
}

#[test]
fn the_server_runner_leaves_named_groups_to_remote_runners() {
    let sb = Sandbox::new();
    let (server, endpoint) = sb.server(&[]);
    let api = Api::new(&endpoint);
    let objects = json!([
        {"id": "Default", "scheduleType": "ondemand", "maximumRetries": "0"},
        {"id": "Named", "type": "ShellCommandActivity", "workerGroup": "team-remote",
         "command": format!("echo $PPID > {}", sb.sh("named-ran-by"))}
    ]);
    let pipeline = api.launch("named", objects);
    api.wait_instance(&pipeline, "Named", "WAITING_FOR_RUNNER");
    // Only a runner of that group takes it; which process ran it is on record.
    let runner = sb.runner("remote", &endpoint, "team-remote", &[]);
    api.wait_instance(&pipeline, "Named", "FINISHED");
    let ran_by = fs::read_to_string(sb.path("named-ran-by")).unwrap();
    assert_eq!(ran_by.trim(), runner.pid().to_string());
    assert_ne!(ran_by.trim(), server.pid().to_string());
}

#[test]
fn service_checks_run_in_the_server_whatever_group_the_checked_object_names() {
    let sb = Sandbox::new();
    let (_server, endpoint) = sb.server(&[]);
    let key = sb.path("data/s3/ready-bucket/flag");
    fs::create_dir_all(key.parent().unwrap()).unwrap();
    fs::write(&key, "ok").unwrap();
    let api = Api::new(&endpoint);
    let objects = json!([
        {"id": "Default", "scheduleType": "ondemand", "maximumRetries": "0"},
        {"id": "Flag", "type": "S3KeyExists", "s3Key": "s3://ready-bucket/flag",
         "role": "DataPipelineDefaultRole"},
        {"id": "Gated", "type": "ShellCommandActivity", "workerGroup": "nobody-polls-this",
         "command": "true", "precondition": {"ref": "Flag"}}
    ]);
    let pipeline = api.launch("service-check", objects);
    // No runner polls `nobody-polls-this`: the check can only have run in the server.
    let check = api.wait_instance(&pipeline, "Flag", "FINISHED");
    assert!(one(&check, "@actualEndTime").is_some());
    api.wait_instance(&pipeline, "Gated", "WAITING_FOR_RUNNER");
}

#[test]
fn sluice_run_takes_resource_work_in_process_through_the_same_statuses() {
    let sb = Sandbox::new();
    let definition = sb.path("p.json");
    let mut objects = resource_objects(json!({}));
    objects.push(json!({"id": "Slow", "type": "Ec2Resource", "terminateAfter": "2 seconds"}));
    objects.push(json!({
        "id": "Quick", "type": "ShellCommandActivity", "runsOn": {"ref": "Box"},
        "command": format!("echo quick > {}", sb.sh("quick"))
    }));
    objects.push(json!({
        "id": "Stuck", "type": "ShellCommandActivity", "runsOn": {"ref": "Slow"},
        "command": "sleep 120"
    }));
    fs::write(&definition, json!({ "objects": objects }).to_string()).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_sluice"))
        .arg("run")
        .arg(&definition)
        .arg("--data-dir")
        .arg(sb.path("data"))
        .args(["--output", "json"])
        .env_remove("SLUICE_DATA_DIR")
        .output()
        .unwrap();
    let report: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "{e}\n{}\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    });
    let statuses: BTreeMap<&str, (&str, u64)> = report["instances"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| {
            (
                i["component"].as_str().unwrap(),
                (
                    i["status"].as_str().unwrap(),
                    i["attempts"].as_u64().unwrap(),
                ),
            )
        })
        .collect();
    assert_eq!(statuses["Box"], ("FINISHED", 1));
    assert_eq!(statuses["Quick"], ("FINISHED", 1));
    assert_eq!(statuses["Slow"], ("TIMEDOUT", 1));
    assert_eq!(statuses["Stuck"], ("FAILED", 1));
    assert_eq!(fs::read_to_string(sb.path("quick")).unwrap(), "quick\n");
    assert_eq!(out.status.code(), Some(1));
}

#[test]
fn a_restarted_server_provisions_a_resource_that_was_running_again() {
    let sb = Sandbox::new();
    let (mut server, endpoint) = sb.server(&[]);
    let api = Api::new(&endpoint);
    let mut objects = resource_objects(json!({}));
    objects.push(json!({
        "id": "Work", "type": "ShellCommandActivity", "runsOn": {"ref": "Box"},
        "maximumRetries": "3", "retryDelay": "1 seconds",
        "command": format!("until [ -e {} ]; do sleep 0.05; done", sb.sh("finish"))
    }));
    let pipeline = api.launch("restart", Value::Array(objects));
    api.wait_instance(&pipeline, "Work", "RUNNING");
    let first = wait_for("Box's process", DEADLINE, || {
        let fields = api.wait_instance(&pipeline, "Box", "RUNNING");
        match one(&fields, "@resourceId") {
            Some(_) => Ok(fields),
            None => Err("no @resourceId yet".to_owned()),
        }
    });
    let first_id = one(&first, "@resourceId").unwrap().to_owned();
    let first_pid = first_id.strip_prefix("local-process:").unwrap().to_owned();

    // A clean stop takes the server's runners with it.
    server.stop(DEADLINE);
    assert!(
        !is_running(&first_pid),
        "runner {first_pid} outlived its server"
    );

    let (_server, endpoint) = sb.server(&[]);
    let api = Api::new(&endpoint);
    let second = wait_for("a new start of Box", DEADLINE, || {
        let fields = api.wait_instance(&pipeline, "Box", "RUNNING");
        match one(&fields, "@resourceId") {
            Some(id) if id != first_id => Ok(fields),
            other => Err(format!("{other:?}")),
        }
    });
    let second_pid = one(&second, "@resourceId")
        .and_then(|r| r.strip_prefix("local-process:"))
        .unwrap()
        .to_owned();
    assert!(is_running(&second_pid));
    sb.open("finish");
    api.wait_instance(&pipeline, "Work", "FINISHED");
    api.wait_instance(&pipeline, "Box", "FINISHED");
    let attempts = api.attempts_of(&pipeline, "Box");
    let statuses: Vec<&str> = attempts
        .values()
        .filter_map(|a| one(a, "@status"))
        .collect();
    assert_eq!(statuses, ["FAILED", "FINISHED"]);
    assert!(!is_running(&second_pid));
}

#[test]
fn an_operator_started_runner_of_a_resource_is_told_to_exit_when_it_is_done() {
    let sb = Sandbox::new();
    let (_server, endpoint) = sb.server_with(&[], &["--provisioner", "external"]);
    let api = Api::new(&endpoint);
    let mut objects = resource_objects(json!({}));
    objects.push(json!({
        "id": "Work", "type": "ShellCommandActivity", "runsOn": {"ref": "Box"},
        "command": format!("echo $PPID > {}", sb.sh("ran-by"))
    }));
    let pipeline = api.launch("external", Value::Array(objects));
    // Nothing is started for it: the resource waits for a runner of its group.
    let creating = api.wait_instance(&pipeline, "Box", "CREATING");
    assert_eq!(one(&creating, "@resourceId"), None);
    let group = one(&creating, "@id").unwrap().to_owned();
    // Named after the resource instance, as the server names the runners it starts.
    let mut runner = sb.runner(
        "box-runner",
        &endpoint,
        &group,
        &["--taskrunner-id", &group, "--heartbeat-interval", "1"],
    );
    api.wait_instance(&pipeline, "Work", "FINISHED");
    api.wait_instance(&pipeline, "Box", "FINISHED");
    let ran_by = fs::read_to_string(sb.path("ran-by")).unwrap();
    assert_eq!(ran_by.trim(), runner.pid().to_string());
    // Its next heartbeat answers terminate: true, and it exits cleanly.
    assert_eq!(runner.wait_exit(DEADLINE).code(), Some(0));
}

#[test]
fn a_resources_runner_reads_the_servers_settings_file() {
    let sb = Sandbox::new();
    let (_server, endpoint) = sb.server_with_settings(
        &[],
        &[],
        json!({
            "pollWaitSeconds": 2,
            "data": { "sql": { "rdsInstances": {
                "orders-db": { "engine": "postgresql", "host": "127.0.0.1", "port": 5432,
                               "database": "test" }
            } } }
        }),
    );
    let api = Api::new(&endpoint);
    let table = unique_name("resource_rds");
    let _drop = PgTables(vec![table.clone()]);
    let mut objects = resource_objects(json!({}));
    objects.push(json!({
        "id": "Shop", "type": "RdsDatabase", "rdsInstanceId": "orders-db",
        "username": "postgres", "*password": "unused"
    }));
    objects.push(json!({
        "id": "Fill", "type": "SqlActivity", "runsOn": {"ref": "Box"},
        "database": {"ref": "Shop"},
        "script": format!("CREATE TABLE {table} (id int); INSERT INTO {table} VALUES (4), (5);")
    }));
    let pipeline = api.launch("resource-settings", Value::Array(objects));
    api.wait_instance(&pipeline, "Fill", "FINISHED");
    assert_eq!(
        psql(&format!("SELECT id FROM {table} ORDER BY id")),
        "4\n5\n"
    );
    assert_ran_on_a_provisioned_runner(&api, &pipeline, "Fill");
}

#[test]
fn an_emr_cluster_gets_the_servers_spark_settings() {
    let sb = Sandbox::new();
    let spark_home = sluice_testsupport::spark::install().expect("PySpark installs");
    let (_server, endpoint) = sb.server_with_settings(
        &[],
        &[],
        json!({
            "pollWaitSeconds": 2,
            "data": { "spark": {
                "sparkHome": spark_home,
                "master": "local[1]",
                "conf": { "spark.ui.enabled": "false" }
            } }
        }),
    );
    let api = Api::new(&endpoint);
    let objects = vec![
        json!({
            "id": "Default", "scheduleType": "ondemand", "role": "DataPipelineDefaultRole",
            "resourceRole": "DataPipelineDefaultResourceRole", "maximumRetries": "0"
        }),
        json!({ "id": "Cluster", "type": "EmrCluster", "releaseLabel": "emr-6.15.0" }),
        json!({
            "id": "Steps", "type": "EmrActivity", "runsOn": {"ref": "Cluster"},
            "step": [
                format!(
                    "command-runner.jar,sh,-c,echo \"$PPID $SPARK_HOME $SLUICE_SPARK_MASTER $SLUICE_SPARK_CONF\" > {}",
                    sb.sh("seen")
                ),
                "command-runner.jar,spark-submit,--version".to_owned()
            ]
        }),
    ];
    let pipeline = api.launch("spark-settings", Value::Array(objects));
    api.wait_instance(&pipeline, "Steps", "FINISHED");
    api.wait_instance(&pipeline, "Cluster", "FINISHED");
    let seen = fs::read_to_string(sb.path("seen")).unwrap();
    let fields: Vec<&str> = seen.split_whitespace().collect();
    assert_eq!(
        fields[1..],
        [
            spark_home.to_str().unwrap(),
            "local[1]",
            r#"{"spark.ui.enabled":"false"}"#
        ],
        "{seen}"
    );
    // The steps ran on the cluster's own runner, not the server's in-process one.
    assert_ran_on_a_provisioned_runner(&api, &pipeline, "Steps");
}

#[test]
fn a_server_keeps_its_state_in_postgres() {
    let db = sluice_testsupport::databases::PgDatabase::create("sluice_server");
    let sb = Sandbox::new();
    let url = db.url();
    let (mut server, endpoint) = sb.server_with(&[], &["--database", &url]);
    let api = Api::new(&endpoint);
    let objects = vec![
        json!({ "id": "Default", "scheduleType": "ondemand", "maximumRetries": "0",
                "workerGroup": "wg" }),
        json!({ "id": "Hello", "type": "ShellCommandActivity",
                "command": format!("echo hello >> {}", sb.sh("hello")) }),
    ];
    let pipeline = api.launch("on-postgres", Value::Array(objects));
    // The task waits for a runner of `wg`: a second server on the same database (another
    // data directory) runs one in-process, and takes the pipeline over once the first leaves.
    let sb2 = Sandbox::new();
    // The first server's key, which sealed the pipeline's secrets in the shared database.
    let key = sb.path("data").join("secret.key").display().to_string();
    let (_server2, endpoint2) = sb2.server_with(
        &[],
        &[
            "--database",
            &url,
            "--local-worker-group",
            "wg",
            "--secret-key-file",
            &key,
        ],
    );
    let api2 = Api::new(&endpoint2);
    server.stop(DEADLINE);
    api2.wait_instance(&pipeline, "Hello", "FINISHED");
    assert_eq!(fs::read_to_string(sb.path("hello")).unwrap(), "hello\n");
    assert!(
        !sb.path("data/sluice.db").exists(),
        "no SQLite state beside PostgreSQL"
    );
    let rows = db.psql(&format!(
        "SELECT count(*) FROM instances WHERE pipeline_id = '{pipeline}'"
    ));
    assert_eq!(rows.trim(), "1", "{rows}");
}
