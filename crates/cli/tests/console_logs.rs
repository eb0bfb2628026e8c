//! The console shows the logs of attempts a remote `sluice taskrunner` ran: a real server
//! (`--no-local-runner`) and a runner with its own data directory, the logs reaching the
//! console only through the pipeline's `pipelineLogUri` (a `file://` directory, then an S3
//! server, s3s-fs). The console is read over plain HTTP after signing in through its form.

#[path = "clients/console_http.rs"]
mod console_http;
#[path = "clients/harness.rs"]
mod harness;
#[path = "clients/sdk_api.rs"]
mod sdk_api;

use std::fs;
use std::path::Path;
use std::time::Duration;

use console_http::{Console, encode};
use harness::{
    ROOT_ACCESS_KEY, ROOT_SECRET_KEY, Server, ServerConfig, taskrunner_command, with_root_keys,
};
use sdk_api::Api;
use serde_json::{Value, json};
use sluice_testsupport::files::sh_quoted;
use sluice_testsupport::poll::wait_for;
use sluice_testsupport::process::Proc;
use sluice_testsupport::s3::S3Server;

/// How long a pipeline or a copy of its logs may take to get where a test expects it.
const DEADLINE: Duration = Duration::from_secs(60);
/// How long the runner may take to print its readiness line.
const STARTUP: Duration = Duration::from_secs(30);
/// What `sluice taskrunner` prints once it polls.
const RUNNER_READY: &str = "sluice taskrunner ready";
/// The remote runner's worker group and the host name it reports.
const GROUP: &str = "wg-far";
const HOST: &str = "far-runner-host";
/// A runner whose `s3://` is its own embedded store, out of the server's reach.
const EMBEDDED_GROUP: &str = "wg-embedded";

/// Asserts that `text` holds `needle`, showing the text when it does not.
#[track_caller]
fn says(text: &str, needle: &str) {
    assert!(text.contains(needle), "no {needle:?} in {text}");
}

// ---------------------------------------------------------------------------------------------
// A server and a remote runner
// ---------------------------------------------------------------------------------------------

/// The `data.s3` settings of the server and the runner: both reach the same S3 server.
fn s3_settings(s3: &S3Server) -> Value {
    json!({
        "endpoint": s3.endpoint(),
        "accessKeyId": s3.access_key(),
        "secretAccessKey": s3.secret_key(),
    })
}

/// A server leaving every task to remote runners, with short long polls.
fn server(dir: &Path, s3: &S3Server) -> Server {
    let settings = dir.join("server-settings.json");
    let text = json!({ "pollWaitSeconds": 2, "data": { "s3": s3_settings(s3) } });
    fs::write(&settings, text.to_string()).unwrap();
    Server::start_with(ServerConfig {
        local_runner: false,
        args: vec!["--settings".into(), settings.display().to_string()],
        ..ServerConfig::default()
    })
}

/// A `sluice taskrunner` named `id` for `group`, reporting `host`, with its own data
/// directory (`<id>-data`) and `s3` settings.
fn remote_runner(
    dir: &Path,
    endpoint: &str,
    (id, group, host): (&str, &str, &str),
    s3: Value,
) -> Proc {
    let settings = dir.join(format!("{id}-settings.json"));
    fs::write(&settings, json!({ "data": { "s3": s3 } }).to_string()).unwrap();
    let mut command = taskrunner_command(dir, id, endpoint, group);
    with_root_keys(&mut command)
        .args(["--hostname", host])
        .args(["--report-interval", "1", "--max-backoff", "2"])
        .arg("--settings")
        .arg(&settings);
    let mut runner = Proc::spawn(id, command, dir);
    runner.wait_line(RUNNER_READY, STARTUP);
    runner
}

/// An on-demand pipeline of one `ShellCommandActivity` running `command` on the runner of
/// `group`, its logs copied under `log_uri`.
fn pipeline(group: &str, component: &str, command: &str, log_uri: &str) -> Value {
    json!([
        { "id": "Default", "scheduleType": "ondemand", "workerGroup": group,
          "maximumRetries": "0", "pipelineLogUri": log_uri },
        { "id": component, "type": "ShellCommandActivity", "command": command }
    ])
}

/// Where the runner copies a log of the first attempt of `instance`.
fn copy_uri(log_uri: &str, pipeline: &str, component: &str, instance: &str, log: &str) -> String {
    format!(
        "{}/{pipeline}/{component}/{instance}/{instance}_Attempt=1/{log}.log",
        log_uri.trim_end_matches('/')
    )
}

// ---------------------------------------------------------------------------------------------
// Tests
// ---------------------------------------------------------------------------------------------

#[test]
fn the_console_reads_a_remote_runners_logs_where_the_pipeline_log_uri_sends_them() {
    let s3 = S3Server::start();
    s3.create_bucket("runner-logs");
    let dir = tempfile::Builder::new()
        .prefix("sluice-console-logs")
        .tempdir()
        .unwrap();
    let dir = dir.path();
    let server = server(dir, &s3);
    let _far = remote_runner(
        dir,
        &server.endpoint,
        ("far", GROUP, HOST),
        s3_settings(&s3),
    );
    let _embedded = remote_runner(
        dir,
        &server.endpoint,
        ("embedded", EMBEDDED_GROUP, "embedded-host"),
        json!({ "embedded": true }),
    );
    let api = Api::new(&server.endpoint);
    let console = Console::sign_in(server.addr, ROOT_ACCESS_KEY, ROOT_SECRET_KEY);
    let server_logs = server.dir().join("data/logs");

    // A file:// location, and an attempt that waits for a gate after printing. (The quotes
    // keep the command, which the page shows too, from holding the text it prints.)
    let file_uri = format!("file://{}/file-logs/", dir.display());
    let gate = dir.join("gate");
    let gated = format!(
        "echo out-to-file-'7'; echo err-to-file-'7' >&2; i=0; \
         while [ ! -e {gate} ]; do i=$((i + 1)); if [ $i -gt 1200 ]; then exit 1; fi; sleep 0.1; done",
        gate = sh_quoted(&gate)
    );
    let talk = api.launch("talk", pipeline(GROUP, "Talk", &gated, &file_uri));
    let (instance, _) = api.instance_with_status(&talk, "Talk", "RUNNING", DEADLINE);
    let attempt = format!("{instance}_Attempt=1");
    let stdout_uri = copy_uri(&file_uri, &talk, "Talk", &instance, "stdout");

    // While it runs, the page says where its logs will be, not an empty tail.
    let page = console.wait_page(
        &talk,
        &instance,
        &[&format!(
            "This attempt runs on <b class=\"host\">{HOST}</b>. Its runner copies this log to \
             <code class=\"uri\">{stdout_uri}</code> when the attempt ends"
        )],
    );
    assert!(!page.contains("out-to-file-7"), "{page}");
    assert!(
        !server_logs.join(&talk).exists(),
        "the server keeps no logs of a remote attempt"
    );
    let (status, text) = console.log(&talk, &attempt, "stdout");
    assert_eq!(status, 404, "{text}");
    says(&text, &stdout_uri);

    // A page's live tail of the log, opened while the attempt runs, gets the copy once it is
    // there, then ends.
    let tail = {
        let (console, path) = (
            console.clone(),
            format!(
                "/console/pipelines/{talk}/attempts/{}/tail/stdout?offset=0",
                encode(&attempt)
            ),
        );
        std::thread::spawn(move || console.get(&path))
    };
    fs::write(&gate, "").unwrap();
    api.instance_with_status(&talk, "Talk", "FINISHED", DEADLINE);
    let tail = tail.join().unwrap();
    assert_eq!(tail.status, 200, "{tail:?}");
    for event in [
        "event: append\ndata: {\"offset\":14,\"text\":\"out-to-file-7\\n\"}",
        "event: done\ndata: 14",
    ] {
        assert!(tail.body.contains(event), "{tail:?}");
    }
    let page = console.wait_page(
        &talk,
        &instance,
        &[
            "out-to-file-7",
            "err-to-file-7",
            "result reported: FINISHED",
        ],
    );
    says(
        &page,
        &format!(
            "Copied by the runner on <b class=\"host\">{HOST}</b> to <code class=\"uri\">{stdout_uri}</code>"
        ),
    );
    assert_eq!(
        console.log(&talk, &attempt, "stdout"),
        (200, "out-to-file-7\n".to_owned())
    );
    assert_eq!(
        console.log(&talk, &attempt, "stderr"),
        (200, "err-to-file-7\n".to_owned())
    );
    let (status, runner_log) = console.log(&talk, &attempt, "runner");
    assert_eq!(status, 200, "{runner_log}");
    says(&runner_log, &format!("on {HOST}"));
    assert!(!server_logs.join(&talk).exists());

    // An s3:// location on the S3 server both reach; the command writes no stderr.
    let s3_uri = "s3://runner-logs/console/";
    let say = api.launch("say", pipeline(GROUP, "Say", "echo out-to-s3-'9'", s3_uri));
    let (instance, _) = api.instance_with_status(&say, "Say", "FINISHED", DEADLINE);
    let attempt = format!("{instance}_Attempt=1");
    let (status, stdout) = wait_for("the copy of stdout on S3", DEADLINE, || {
        match console.log(&say, &attempt, "stdout") {
            (200, text) => Ok((200, text)),
            other => Err(format!("{other:?}")),
        }
    });
    assert_eq!((status, stdout.as_str()), (200, "out-to-s3-9\n"));
    let stdout_uri = copy_uri(s3_uri, &say, "Say", &instance, "stdout");
    let stderr_uri = copy_uri(s3_uri, &say, "Say", &instance, "stderr");
    let page = console.wait_page(&say, &instance, &["out-to-s3-9", "result reported"]);
    says(
        &page,
        &format!("to <code class=\"uri\">{stdout_uri}</code>"),
    );
    // No stderr was written, so none was copied; shortly after the end it may still come.
    says(
        &page,
        &format!("Not at <code class=\"uri\">{stderr_uri}</code> yet"),
    );
    let (status, text) = console.log(&say, &attempt, "stderr");
    assert_eq!(status, 404, "{text}");
    says(&text, &stderr_uri);
    assert!(
        !server.dir().join("data/s3").exists(),
        "s3:// was read from the S3 server, not the server's embedded store"
    );

    // A runner that copies into its own embedded store, in a bucket the S3 server the
    // console reads does not have: the page says so, naming the URI, with the secret
    // parameter the location is built from masked.
    let prefix = "log-prefix-canary-77";
    let lost = api.define_with(
        "lost",
        pipeline(
            EMBEDDED_GROUP,
            "Lost",
            "echo lost",
            "s3://no-such-log-bucket/#{*myLogPrefix}/",
        ),
        json!([{ "id": "*myLogPrefix", "type": "String", "default": prefix }]),
    );
    api.activate(&lost);
    let (lost_instance, _) = api.instance_with_status(&lost, "Lost", "FINISHED", DEADLINE);
    let lost_stdout = copy_uri(
        "s3://no-such-log-bucket/****/",
        &lost,
        "Lost",
        &lost_instance,
        "stdout",
    );
    let page = console.wait_page(
        &lost,
        &lost_instance,
        &[&format!(
            "<p class=\"error\">bucket &#39;no-such-log-bucket&#39; of {lost_stdout} does not exist</p>"
        )],
    );
    assert!(!page.contains(s3.secret_key()), "{page}");
    assert!(
        !page.contains(prefix),
        "the secret log prefix is on the page: {page}"
    );

    // The S3 server gone: an error naming the URI and the endpoint, never the secret.
    let endpoint = s3.endpoint();
    let secret = s3.secret_key().to_owned();
    drop(s3);
    let page = console.instance_page(&say, &instance);
    says(
        &page,
        &format!(
            "<p class=\"error\">cannot read {stdout_uri}: cannot reach the S3 endpoint {endpoint}"
        ),
    );
    let (status, text) = console.log(&say, &attempt, "stdout");
    assert_eq!(status, 502, "{text}");
    says(&text, &stdout_uri);
    for text in [&page, &text, &server.output()] {
        assert!(!text.contains(&secret), "{text}");
    }
}
