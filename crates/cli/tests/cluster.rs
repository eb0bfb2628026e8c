//! Several `sluice server`s sharing one PostgreSQL database (a database of its own per test):
//! every server answers every call, pipelines spread across the live servers under leases,
//! a killed or cut-off server's pipelines go on elsewhere, and remote task runners talk to any
//! server. Real processes on loopback; the Rust SDK as the client.

#[path = "clients/console_http.rs"]
mod console_http;
#[path = "clients/deployment.rs"]
mod deployment;
#[path = "clients/harness.rs"]
mod harness;
#[path = "clients/sdk_api.rs"]
mod sdk_api;

use std::collections::BTreeMap;
use std::fs;
use std::time::{Duration, Instant};

use console_http::Console;
use deployment::{DEADLINE, Deployment, LEASE_SECONDS, Server};
use sdk_api::{Api, one};
use serde_json::{Value, json};
use sluice_testsupport::files::sh_quoted;
use sluice_testsupport::poll::wait_for;
use sluice_testsupport::relay::Relay;

/// An on-demand pipeline whose one activity waits for a runner of a group nobody serves, so
/// it stays scheduled.
fn idle_objects() -> Value {
    json!([
        { "id": "Default", "scheduleType": "ondemand", "workerGroup": "nobody",
          "maximumRetries": "0" },
        { "id": "Wait", "type": "ShellCommandActivity", "command": "true" },
    ])
}

/// Three chained activities of worker group `wg` appending their names to `lines`; the second
/// runs until `release` exists, so that the test can act while it is running.
/// A chain First → Second → Third appending to `lines`; Second records in `started` that its
/// runner has it, then waits for `release` to exist.
fn held_chain(
    lines: &std::path::Path,
    started: &std::path::Path,
    release: &std::path::Path,
) -> Value {
    let append = |word: &str| format!("echo {word} >> {}", sh_quoted(lines));
    json!([
        { "id": "Default", "scheduleType": "ondemand", "workerGroup": "wg",
          "maximumRetries": "0" },
        { "id": "First", "type": "ShellCommandActivity", "command": append("first") },
        { "id": "Second", "type": "ShellCommandActivity", "dependsOn": { "ref": "First" },
          "command": format!("touch {}; while [ ! -e {} ]; do sleep 0.1; done; {}",
                             sh_quoted(started), sh_quoted(release), append("second")) },
        { "id": "Third", "type": "ShellCommandActivity", "dependsOn": { "ref": "Second" },
          "command": append("third") },
    ])
}

fn status_of(api: &Api, pipeline: &str, component: &str) -> Result<String, String> {
    let instances = api.objects(pipeline, "INSTANCE")?;
    instances
        .values()
        .find(|f| one(f, "@componentParent") == Some(component))
        .and_then(|f| one(f, "@status").map(str::to_owned))
        .ok_or_else(|| format!("no instance of {component} yet"))
}

/// Waits until a runner has started Second of a [`held_chain`]: RUNNING alone only says the
/// owner handed it out, and an answer still on its way dies with a server killed or cut off.
fn wait_started(started: &std::path::Path) {
    wait_for("a runner to start Second", DEADLINE, || {
        started
            .exists()
            .then_some(())
            .ok_or_else(|| "not yet".to_owned())
    });
}

fn wait_status(api: &Api, pipeline: &str, component: &str, status: &str) {
    wait_for(
        &format!("{component} to be {status}"),
        DEADLINE,
        || match status_of(api, pipeline, component)? {
            now if now == status => Ok(()),
            now => Err(now),
        },
    );
}

fn describe_names(api: &Api, ids: &[String]) -> Result<Vec<String>, String> {
    api.rt.block_on(async {
        let out = api
            .client
            .describe_pipelines()
            .set_pipeline_ids(Some(ids.to_vec()))
            .send()
            .await
            .map_err(|e| format!("{e:?}"))?;
        Ok(out
            .pipeline_description_list
            .into_iter()
            .map(|d| d.name)
            .collect())
    })
}

fn create(api: &Api, name: &str, unique_id: &str) -> String {
    api.rt.block_on(async {
        api.client
            .create_pipeline()
            .name(name)
            .unique_id(unique_id)
            .send()
            .await
            .expect("create_pipeline")
            .pipeline_id
    })
}

#[test]
fn every_server_answers_every_call_from_one_state() {
    let deployment = Deployment::new("sluice_cluster_state");
    let one_server = deployment.server();
    let two = deployment.server();
    let (a, b) = (Api::new(&one_server.endpoint), Api::new(&two.endpoint));
    // Created on one, seen at once on the other.
    let id = create(&a, "nightly", "token-1");
    assert_eq!(
        describe_names(&b, std::slice::from_ref(&id)).unwrap(),
        ["nightly"]
    );
    assert_eq!(b.list_pipelines().unwrap(), 1);
    // CreatePipeline's idempotency holds across servers, and under a race.
    assert_eq!(create(&b, "nightly", "token-1"), id);
    let (left, right) = std::thread::scope(|s| {
        let left = s.spawn(|| create(&a, "weekly", "token-2"));
        let right = s.spawn(|| create(&b, "weekly", "token-2"));
        (left.join().unwrap(), right.join().unwrap())
    });
    assert_eq!(left, right);
    assert_eq!(a.list_pipelines().unwrap(), 2);
    // A definition put through one server runs, scheduled by whichever server owns it, and
    // its objects read the same through both.
    let pipeline = b.launch("greets", idle_objects());
    wait_status(&a, &pipeline, "Wait", "WAITING_FOR_RUNNER");
    assert_eq!(
        status_of(&b, &pipeline, "Wait").unwrap(),
        "WAITING_FOR_RUNNER"
    );
    assert!(deployment.owner_of(&pipeline).is_some());
    // Deleted through one server, gone from both; its uniqueId is free again.
    b.rt.block_on(b.client.delete_pipeline().pipeline_id(&id).send())
        .expect("delete_pipeline");
    let gone = describe_names(&a, std::slice::from_ref(&id)).unwrap_err();
    assert!(gone.contains("PipelineDeletedException"), "{gone}");
    assert_ne!(create(&a, "nightly", "token-1"), id);
}

#[test]
fn pipelines_spread_across_servers_and_move_back_when_one_joins() {
    let deployment = Deployment::new("sluice_cluster_spread");
    let servers: Vec<Server> = (0..2).map(|_| deployment.server()).collect();
    let apis: Vec<Api> = servers.iter().map(|s| Api::new(&s.endpoint)).collect();
    for n in 0..10 {
        apis[n % 2].launch(&format!("idle-{n}"), idle_objects());
    }
    let balanced = |servers: usize, most: usize| {
        move |owners: &BTreeMap<String, usize>| {
            owners.values().sum::<usize>() == 10
                && owners.len() == servers
                && owners.values().all(|n| *n <= most)
        }
    };
    wait_for("10 pipelines on 2 servers, 5 each", DEADLINE, || {
        let owners = deployment.owners();
        if balanced(2, 5)(&owners) {
            Ok(())
        } else {
            Err(format!("{owners:?}"))
        }
    });
    // A third server joins: it gets its share, and nobody keeps more than 4.
    let third = deployment.server();
    wait_for(
        "10 pipelines on 3 servers, at most 4 each",
        DEADLINE,
        || {
            let owners = deployment.owners();
            if balanced(3, 4)(&owners) {
                Ok(())
            } else {
                Err(format!("{owners:?}"))
            }
        },
    );
    // A server that stops cleanly hands its pipelines over at once.
    let mut third = third;
    third.process.stop(DEADLINE);
    wait_for("10 pipelines back on 2 servers", DEADLINE, || {
        let owners = deployment.owners();
        if balanced(2, 5)(&owners) && !owners.contains_key(&third.endpoint) {
            Ok(())
        } else {
            Err(format!("{owners:?}"))
        }
    });
}

#[test]
fn a_killed_servers_pipeline_goes_on_elsewhere_with_its_running_task() {
    let deployment = Deployment::new("sluice_cluster_kill");
    let mut owner = deployment.server();
    let other = deployment.server();
    let lines = deployment.path("lines");
    let started = deployment.path("started");
    let release = deployment.path("release");
    let objects = held_chain(&lines, &started, &release);
    let a = Api::new(&owner.endpoint);
    let b = Api::new(&other.endpoint);
    let pipeline = a.launch("chain", objects);
    assert_eq!(
        deployment.owner_of(&pipeline).as_deref(),
        Some(owner.endpoint.as_str())
    );
    // The runner talks to the other server only: its polls and reports reach the owner
    // through it.
    let _runner = deployment.runner("r1", &other.endpoint, "wg", &[]);
    wait_status(&b, &pipeline, "Second", "RUNNING");
    wait_started(&started);
    owner.process.kill();
    let killed = Instant::now();
    let took_over = wait_for(
        "the other server to take the pipeline over",
        DEADLINE,
        || match deployment.owner_of(&pipeline) {
            Some(url) if url == other.endpoint => Ok(killed.elapsed()),
            now => Err(format!("{now:?}")),
        },
    );
    assert!(
        took_over < Duration::from_secs(2 * LEASE_SECONDS),
        "taken over after {took_over:?}, more than 2 lease periods"
    );
    fs::write(&release, "").unwrap();
    wait_status(&b, &pipeline, "Third", "FINISHED");
    // Every activity ran once: the running one was adopted, not run again.
    assert_eq!(
        fs::read_to_string(&lines).unwrap(),
        "first\nsecond\nthird\n"
    );
    let attempts = b.attempts_of(&pipeline, "Second");
    assert_eq!(attempts.len(), 1, "{attempts:?}");
}

#[test]
fn a_killed_servers_in_process_task_runs_again_at_once_on_the_server_that_takes_over() {
    let deployment = Deployment::new("sluice_cluster_in_process");
    let mut servers = [
        deployment.server_running("wg-local"),
        deployment.server_running("wg-local"),
    ];
    let marker = deployment.path("marker");
    let gate = deployment.path("gate");
    // Runs until the gate opens (at most two minutes), recording its start.
    let command = format!(
        "echo start >> {marker}; i=0; \
         while [ ! -e {gate} ]; do i=$((i + 1)); if [ $i -gt 1200 ]; then exit 1; fi; sleep 0.1; done",
        marker = sh_quoted(&marker),
        gate = sh_quoted(&gate),
    );
    // The default retryDelay (10 minutes), one retry; run by its owner's in-process runner.
    let objects = json!([
        { "id": "Default", "scheduleType": "ondemand", "workerGroup": "wg-local",
          "maximumRetries": "1" },
        { "id": "Long", "type": "ShellCommandActivity", "command": command },
    ]);
    let starts = |n: usize| {
        let marker = &marker;
        move || {
            let started = fs::read_to_string(marker).unwrap_or_default();
            (started.lines().count() == n)
                .then_some(())
                .ok_or_else(|| format!("{started:?}"))
        }
    };
    let pipeline = Api::new(&servers[0].endpoint).launch("in-process", objects);
    wait_for("the task to start", DEADLINE, starts(1));
    let owner = deployment.owner_of(&pipeline).expect("an owner");
    let victim = servers
        .iter()
        .position(|s| s.endpoint == owner)
        .expect("the owner is one of the servers");
    servers[victim].process.kill();
    let killed = Instant::now();
    let other = Api::new(&servers[1 - victim].endpoint);
    // The other server takes the pipeline over within a lease period or two, and runs the
    // task again then, not after retryDelay.
    wait_for("the task to run again", DEADLINE, starts(2));
    assert!(
        killed.elapsed() < Duration::from_secs(2 * LEASE_SECONDS + 15),
        "ran again after {:?}",
        killed.elapsed()
    );
    fs::write(&gate, "").unwrap();
    wait_status(&other, &pipeline, "Long", "FINISHED");
    let attempts = other.attempts_of(&pipeline, "Long");
    let errors: Vec<Option<&str>> = attempts.values().map(|f| one(f, "errorId")).collect();
    assert_eq!(errors, [Some("Service_Interrupted"), None], "{attempts:?}");
}

#[test]
fn a_server_cut_off_from_the_database_stops_scheduling_and_fails_fast() {
    let deployment = Deployment::new("sluice_cluster_cut");
    let relay = Relay::start("127.0.0.1:5432".parse().unwrap());
    let through_relay = deployment
        .db
        .url()
        .replace(":5432/", &format!(":{}/", relay.port()));
    let mut cut = deployment.server_on(&through_relay, &[]);
    let other = deployment.server();
    let a = Api::new(&cut.endpoint);
    let b = Api::new(&other.endpoint);
    let first = a.launch("first", idle_objects());
    let second = a.launch("second", idle_objects());
    wait_for("both servers to hold one pipeline", DEADLINE, || {
        let owners = deployment.owners();
        if owners.len() == 2 {
            Ok(())
        } else {
            Err(format!("{owners:?}"))
        }
    });
    relay.cut();
    // The cut-off server answers with an error, not a hang.
    let asked = Instant::now();
    let refused = a.list_pipelines().unwrap_err();
    assert!(refused.starts_with("InternalServiceError"), "{refused}");
    let waited = asked.elapsed();
    assert!(
        waited < Duration::from_secs(40),
        "answered after {waited:?}"
    );
    // The other server takes both pipelines; the cut-off one says it stopped.
    wait_for("the other server to hold both pipelines", DEADLINE, || {
        let owners = deployment.owners();
        if owners.get(&other.endpoint) == Some(&2) {
            Ok(())
        } else {
            Err(format!("{owners:?}"))
        }
    });
    wait_for("the cut-off server to stop scheduling", DEADLINE, || {
        let output = cut.process.output();
        if output.contains("stopped scheduling") {
            Ok(())
        } else {
            Err("not yet".to_owned())
        }
    });
    assert_eq!(status_of(&b, &first, "Wait").unwrap(), "WAITING_FOR_RUNNER");
    // Reconnected, it carries on without a restart and gets its share back.
    relay.restore();
    wait_for("the reconnected server to answer", DEADLINE, || {
        a.list_pipelines()
    });
    wait_for("the pipelines to spread again", DEADLINE, || {
        let owners = deployment.owners();
        if owners.len() == 2 {
            Ok(())
        } else {
            Err(format!("{owners:?}"))
        }
    });
    assert_eq!(
        status_of(&a, &second, "Wait").unwrap(),
        "WAITING_FOR_RUNNER"
    );
    cut.process.stop(DEADLINE);
}

#[test]
fn a_database_outage_answers_internal_errors_and_everything_carries_on() {
    let deployment = Deployment::new("sluice_cluster_outage");
    let relay = Relay::start("127.0.0.1:5432".parse().unwrap());
    let through_relay = deployment
        .db
        .url()
        .replace(":5432/", &format!(":{}/", relay.port()));
    let mut servers = [
        deployment.server_on(&through_relay, &[]),
        deployment.server_on(&through_relay, &[]),
    ];
    let lines = deployment.path("lines");
    let started = deployment.path("started");
    let release = deployment.path("release");
    let objects = held_chain(&lines, &started, &release);
    let apis = [
        Api::new(&servers[0].endpoint),
        Api::new(&servers[1].endpoint),
    ];
    let pipeline = apis[0].launch("outage", objects);
    let _runner = deployment.runner("r1", &servers[1].endpoint, "wg", &[]);
    wait_status(&apis[1], &pipeline, "Second", "RUNNING");
    wait_started(&started);
    let owner = deployment.owner_of(&pipeline);

    relay.cut();
    // Every server answers, with an error, while the database is away.
    for api in &apis {
        let asked = Instant::now();
        let refused = api.list_pipelines().unwrap_err();
        assert!(refused.starts_with("InternalServiceError"), "{refused}");
        assert!(
            asked.elapsed() < Duration::from_secs(40),
            "{:?}",
            asked.elapsed()
        );
    }
    // The pipeline's owner stops scheduling it.
    let owner = servers
        .iter_mut()
        .find(|s| Some(&s.endpoint) == owner.as_ref())
        .expect("the pipeline had an owner");
    wait_for("the owner to stop scheduling", DEADLINE, || {
        if owner.process.output().contains("stopped scheduling") {
            Ok(())
        } else {
            Err("not yet".to_owned())
        }
    });

    // Back without a restart: the running attempt is adopted and its result lands.
    relay.restore();
    wait_for("the servers to answer again", DEADLINE, || {
        apis[0].list_pipelines()?;
        apis[1].list_pipelines()
    });
    fs::write(&release, "").unwrap();
    wait_status(&apis[0], &pipeline, "Third", "FINISHED");
    assert_eq!(
        fs::read_to_string(&lines).unwrap(),
        "first\nsecond\nthird\n"
    );
    assert_eq!(apis[1].attempts_of(&pipeline, "Second").len(), 1);
}

#[test]
fn a_managed_resource_of_a_pipeline_that_moves_is_provisioned_again_by_its_new_owner() {
    let deployment = Deployment::new("sluice_cluster_resource");
    let mut owner = deployment.server();
    let other = deployment.server();
    let ran_by = deployment.path("ran-by");
    let finish = deployment.path("finish");
    let objects = json!([
        { "id": "Default", "scheduleType": "ondemand", "role": "DataPipelineDefaultRole",
          "resourceRole": "DataPipelineDefaultResourceRole", "maximumRetries": "2",
          "retryDelay": "1 seconds" },
        { "id": "Box", "type": "Ec2Resource", "instanceType": "t2.micro",
          "imageId": "ami-12345678", "subnetId": "subnet-1" },
        // Records the runner that runs it, then waits for the test.
        { "id": "Work", "type": "ShellCommandActivity", "runsOn": { "ref": "Box" },
          "command": format!("echo $PPID >> {}; until [ -e {} ]; do sleep 0.05; done",
                             sh_quoted(&ran_by), sh_quoted(&finish)) },
    ]);
    let a = Api::new(&owner.endpoint);
    let b = Api::new(&other.endpoint);
    let pipeline = a.launch("resource", objects);
    assert_eq!(
        deployment.owner_of(&pipeline).as_deref(),
        Some(owner.endpoint.as_str())
    );
    wait_status(&a, &pipeline, "Work", "RUNNING");
    let first_runner = wait_for("Work to start", DEADLINE, || {
        match fs::read_to_string(&ran_by).map(|t| t.trim().to_owned()) {
            Ok(pid) if !pid.is_empty() => Ok(pid),
            other => Err(format!("{other:?}")),
        }
    });

    owner.process.kill();
    // The new owner provisions the resource again and the activity runs on it.
    let runners = wait_for("Work to run on a new runner", DEADLINE, || {
        let pids: Vec<String> = fs::read_to_string(&ran_by)
            .unwrap_or_default()
            .lines()
            .map(str::to_owned)
            .collect();
        if pids.len() >= 2 {
            Ok(pids)
        } else {
            Err(format!("{pids:?}"))
        }
    });
    assert_eq!(
        deployment.owner_of(&pipeline).as_deref(),
        Some(other.endpoint.as_str())
    );
    assert_ne!(runners[1], first_runner);
    fs::write(&finish, "").unwrap();
    wait_status(&b, &pipeline, "Work", "FINISHED");
    assert!(
        other
            .process
            .output()
            .contains("took over the scheduling of a pipeline"),
        "{}",
        other.process.output()
    );
    // The killed server's runner stopped on its own once its server was gone.
    wait_for("the orphaned runner to stop", DEADLINE, || {
        if sluice_testsupport::process::is_running(&first_runner) {
            Err(format!("{first_runner} still runs"))
        } else {
            Ok(())
        }
    });
}

#[test]
fn accounts_stay_apart_across_servers() {
    let deployment = Deployment::new("sluice_cluster_accounts");
    let credentials = deployment.path("credentials.json");
    let (key_a, key_b) = (
        (
            "AKIACLUSTERACCOUNTA1",
            "secret/of/account/a/for/the/cluster/tes",
        ),
        (
            "AKIACLUSTERACCOUNTB1",
            "secret/of/account/b/for/the/cluster/tes",
        ),
    );
    fs::write(
        &credentials,
        json!({ "accounts": [
            { "accountId": "111122223333",
              "keys": [{ "accessKeyId": key_a.0, "secretAccessKey": key_a.1 }] },
            { "accountId": "444455556666",
              "keys": [{ "accessKeyId": key_b.0, "secretAccessKey": key_b.1 }] },
        ]})
        .to_string(),
    )
    .unwrap();
    let file = credentials.to_str().unwrap();
    let one_server = deployment.server_on(&deployment.db.url(), &["--credentials", file]);
    let two = deployment.server_on(&deployment.db.url(), &["--credentials", file]);
    let a = Api::with_key(&one_server.endpoint, key_a.0, key_a.1);
    let b = Api::with_key(&two.endpoint, key_b.0, key_b.1);
    let mine = create(&a, "nightly", "same-token");
    // The same name and uniqueId in another account is another pipeline.
    let theirs = create(&b, "nightly", "same-token");
    assert_ne!(mine, theirs);
    assert_eq!(b.list_pipelines().unwrap(), 1);
    let refused = describe_names(&b, std::slice::from_ref(&mine)).unwrap_err();
    assert!(refused.contains("PipelineNotFoundException"), "{refused}");
    // Account A through the other server: still its own pipeline only.
    let a_elsewhere = Api::with_key(&two.endpoint, key_a.0, key_a.1);
    assert_eq!(
        describe_names(&a_elsewhere, std::slice::from_ref(&mine)).unwrap(),
        ["nightly"]
    );
    assert_eq!(a_elsewhere.list_pipelines().unwrap(), 1);
}

/// The console of a server that does not own a pipeline acts on it all the same: its calls go
/// to the owner, signed as the signed-in key, as the API forwards its own.
#[test]
fn the_console_of_any_server_acts_on_a_pipeline_another_owns() {
    let deployment = Deployment::new("sluice_cluster_console");
    let servers = [deployment.server(), deployment.server()];
    let api = Api::new(&servers[0].endpoint);
    let pipeline = api.launch("held", idle_objects());
    wait_status(&api, &pipeline, "Wait", "WAITING_FOR_RUNNER");
    let owner = deployment.owner_of(&pipeline).expect("an owner");
    let other = servers
        .iter()
        .find(|s| s.endpoint.trim_end_matches('/') != owner.trim_end_matches('/'))
        .expect("a server that does not own the pipeline");

    let addr = other.addr();
    let console = Console::sign_in(addr, harness::ROOT_ACCESS_KEY, harness::ROOT_SECRET_KEY);
    let runs = format!("/console/pipelines/{pipeline}/runs");
    let csrf = console.csrf(&runs);
    let instances = api.objects(&pipeline, "INSTANCE").unwrap();
    let wait = instances
        .iter()
        .find(|(_, f)| one(f, "@componentParent") == Some("Wait"))
        .map(|(id, _)| id.clone())
        .expect("Wait's instance");

    let act = |path: &str, form: &[(&str, &str)]| {
        let answer = console.post(path, form);
        assert_eq!(answer.status, 303, "{path}: {answer:?}");
    };
    act(
        &format!("/console/pipelines/{pipeline}/status"),
        &[
            ("csrf", &csrf),
            ("action", "MARK_FINISHED"),
            ("ids", &wait),
            ("back", &runs),
        ],
    );
    wait_status(&api, &pipeline, "Wait", "FINISHED");
    act(
        &format!("/console/pipelines/{pipeline}/deactivate"),
        &[("csrf", &csrf)],
    );
    wait_for("the pipeline to be deactivated", DEADLINE, || {
        let state = api.rt.block_on(async {
            api.client
                .describe_pipelines()
                .pipeline_ids(&pipeline)
                .send()
                .await
                .map_err(|e| format!("{e:?}"))
        })?;
        let fields = &state.pipeline_description_list[0].fields;
        match fields.iter().find(|f| f.key == "@pipelineState") {
            Some(f) if f.string_value.as_deref() == Some("INACTIVE") => Ok(()),
            other => Err(format!("{other:?}")),
        }
    });
    // The owner made both changes: the other server passed them on.
    let log = other.process.output();
    let owner = owner.trim_end_matches('/');
    for operation in ["SetStatus", "DeactivatePipeline"] {
        assert!(
            log.lines()
                .any(|l| l.contains("console") && l.contains(operation) && l.contains(owner)),
            "the console's {operation} was not passed to {owner}:\n{log}"
        );
    }
}

/// A runner's reports name their pipeline in the task id, so any server passes them to the
/// owner; a server sent a report it does not own (by a server whose view of the owners was a
/// round old) passes it on once more, and a report that already made two hops is refused.
#[test]
fn task_reports_reach_the_owner_from_any_server_in_at_most_two_hops() {
    let deployment = Deployment::new("sluice_cluster_hops");
    let owner = deployment.server();
    let other = deployment.server();
    let a = Api::new(&owner.endpoint);
    let pipeline = a.launch(
        "hops",
        json!([
            { "id": "Default", "scheduleType": "ondemand", "workerGroup": "hops",
              "maximumRetries": "0" },
            { "id": "Only", "type": "ShellCommandActivity", "command": "true" },
        ]),
    );
    assert_eq!(
        deployment.owner_of(&pipeline).as_deref(),
        Some(owner.endpoint.as_str())
    );
    let addr = other.addr();
    let call = |target: &str, body: Value, hops: Option<&str>| {
        let body = body.to_string();
        let mut headers = harness::signed_headers(
            addr,
            target,
            body.as_bytes(),
            (harness::ROOT_ACCESS_KEY, harness::ROOT_SECRET_KEY),
            std::time::SystemTime::now(),
        );
        // Servers add this header after the client signed; so does this test.
        if let Some(hops) = hops {
            headers.push(("x-sluice-forwarded".into(), hops.into()));
        }
        harness::raw_post(addr, &headers, body.as_bytes())
    };
    let polled = wait_for(
        "the other server to hand out the owner's task",
        DEADLINE,
        || {
            let answer = call(
                "PollForTask",
                json!({ "workerGroup": "hops", "hostname": "h" }),
                None,
            );
            let value: Value = serde_json::from_str(&answer.body).map_err(|e| e.to_string())?;
            match value["taskObject"]["taskId"].as_str() {
                Some(task_id) => Ok(task_id.to_owned()),
                None => Err(answer.body),
            }
        },
    );
    assert!(polled.ends_with(&pipeline), "{polled} names no pipeline");

    let progress = call("ReportTaskProgress", json!({ "taskId": polled }), Some("1"));
    assert_eq!(progress.status, 200, "{progress:?}");
    assert_eq!(
        serde_json::from_str::<Value>(&progress.body).unwrap()["canceled"],
        json!(false)
    );
    let refused = call("ReportTaskProgress", json!({ "taskId": polled }), Some("2"));
    assert_eq!(refused.status, 500, "{refused:?}");
    assert!(
        refused.body.contains("InternalServiceError") && refused.body.contains("changing hands"),
        "{refused:?}"
    );
    let finished = call(
        "SetTaskStatus",
        json!({ "taskId": polled, "taskStatus": "FINISHED" }),
        None,
    );
    assert_eq!(finished.status, 200, "{finished:?}");
    wait_status(&a, &pipeline, "Only", "FINISHED");
}
