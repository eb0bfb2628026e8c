//! The web console of `sluice server` in a real browser: headless Chromium (Debian's
//! `chromium` and `chromium-driver`) driven over WebDriver against a real server with two
//! accounts, and the main flows (create, fix, activate and watch a pipeline; read a failed
//! attempt and act on instances; tail a running attempt live) again in headless Firefox
//! (Debian's `firefox-esr`, through geckodriver). `.ci/run` installs all of them.
//!
//! Screenshots of each page are taken on the way in Chromium; with `SLUICE_SCREENSHOTS=DIR`
//! they are kept there (`SLUICE_SCREENSHOTS=$PWD/docs/console cargo test -p sluice --test
//! console` refreshes the ones docs/console.md shows), otherwise in the test's directory.

#[path = "clients/harness.rs"]
mod harness;
#[path = "clients/sdk_api.rs"]
mod sdk_api;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::time::Duration;

use harness::{ROOT_ACCESS_KEY, ROOT_ACCOUNT, ROOT_SECRET_KEY, Server, ServerConfig};
use sdk_api::Api;
use serde_json::{Value, json};
use sluice_testsupport::files::sh_quoted;
use sluice_testsupport::poll::wait_for;
use sluice_testsupport::webdriver::{Browser, Engine};

/// How long a page or a run may take to get where a test expects it.
const DEADLINE: Duration = Duration::from_secs(60);

const OTHER_KEY: &str = "AKIACONSOLEOTHER0001";
const OTHER_SECRET: &str = "other/account/secret/for/console/tests0";
const OTHER_ACCOUNT: &str = "222222222222";

/// A server with the root account (in its environment) and a second account (in a
/// credentials file).
fn server() -> Server {
    Server::start_with(ServerConfig {
        credentials: Some(json!({ "accounts": [{
            "accountId": OTHER_ACCOUNT,
            "keys": [{ "accessKeyId": OTHER_KEY, "secretAccessKey": OTHER_SECRET }]
        }]})),
        ..ServerConfig::default()
    })
}

/// Where screenshots go: only Chromium's are taken, so that the ones docs/console.md shows
/// come from one browser whichever test ran last.
fn shots(server: &Server, engine: Engine) -> Option<PathBuf> {
    (engine == Engine::Chromium).then(|| {
        std::env::var_os("SLUICE_SCREENSHOTS")
            .map_or_else(|| server.dir().join("screenshots"), PathBuf::from)
    })
}

fn shoot(browser: &Browser, dir: Option<&Path>, name: &str) {
    let Some(dir) = dir else { return };
    let path = dir.join(format!("{name}.png"));
    browser.screenshot(&path);
    let bytes = std::fs::read(&path).unwrap();
    assert!(
        bytes.starts_with(b"\x89PNG"),
        "{} is not a PNG",
        path.display()
    );
}

/// Signs in through the form; the page it lands on.
fn sign_in(browser: &Browser, server: &Server, key: &str, secret: &str) {
    browser.goto(&format!("{}/console/", server.endpoint));
    let id = browser.wait_find("#access_key_id", DEADLINE);
    browser.fill(&id, key);
    browser.fill(&browser.wait_find("#secret", DEADLINE), secret);
    browser.click(&browser.wait_find("#signin", DEADLINE));
}

/// A browser of `engine` signed in as the root account, on the run grid of `pipeline`.
fn at_runs(engine: Engine, server: &Server, pipeline: &str) -> Browser {
    let browser = Browser::open(engine);
    sign_in(&browser, server, ROOT_ACCESS_KEY, ROOT_SECRET_KEY);
    // Signed in once the pipelines page is shown: going on before that races the form's
    // submission, and the grid would be asked for without a session.
    browser.wait_find("#pipelines", DEADLINE);
    browser.goto(&format!(
        "{}/console/pipelines/{pipeline}/runs",
        server.endpoint
    ));
    browser
}

/// The text of the element matching `css`, once there is one.
#[track_caller]
fn text_of(browser: &Browser, css: &str) -> String {
    wait_for(&format!("the text of {css}"), DEADLINE, || {
        browser
            .text_at(css)
            .ok_or_else(|| format!("no {css} on {}", browser.url()))
    })
}

/// Waits for the element matching `css` to have `attribute` equal to `value`.
#[track_caller]
fn wait_attribute(browser: &Browser, css: &str, attribute: &str, value: &str) {
    wait_for(
        &format!("{css} to have {attribute}={value}"),
        DEADLINE,
        || match browser.attribute_at(css, attribute) {
            Some(found) if found == value => Ok(()),
            other => Err(format!("{attribute} is {other:?}")),
        },
    );
}

/// Waits for the page's text to contain `needle`.
#[track_caller]
fn wait_text(browser: &Browser, needle: &str) {
    wait_for(&format!("the page to say {needle:?}"), DEADLINE, || {
        let text = browser.text_at("body").unwrap_or_default();
        if text.contains(needle) {
            Ok(())
        } else {
            Err(format!(
                "page at {} says: {}",
                browser.url(),
                &text[..text.len().min(2000)]
            ))
        }
    });
}

/// A plain GET; the status code and body.
fn get(server: &Server, path: &str) -> (u16, String) {
    let mut stream = TcpStream::connect(server.addr).unwrap();
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: {}\r\nConnection: close\r\n\r\n",
        server.addr
    )
    .unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).unwrap();
    let status = answer
        .split(' ')
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    (status, answer)
}

#[test]
fn sign_in_takes_the_accounts_keys_and_refuses_a_wrong_secret() {
    let server = server();
    let browser = Browser::start();
    let dir = shots(&server, Engine::Chromium);
    let dir = dir.as_deref();
    browser.goto(&format!("{}/", server.endpoint));
    browser.wait_find("#access_key_id", DEADLINE);
    assert!(
        browser.url().contains("/console/signin"),
        "{}",
        browser.url()
    );
    shoot(&browser, dir, "signin");

    sign_in(&browser, &server, ROOT_ACCESS_KEY, "not-the-secret");
    let error = text_of(&browser, "#signin-error");
    assert!(error.contains("wrong"), "{error}");
    assert!(
        browser.find("#pipelines").is_none(),
        "signed in with a wrong secret"
    );
    assert!(
        !browser.source().contains("not-the-secret"),
        "the secret was echoed back"
    );

    sign_in(&browser, &server, ROOT_ACCESS_KEY, ROOT_SECRET_KEY);
    browser.wait_find("#pipelines", DEADLINE);
    wait_text(&browser, &format!("account {ROOT_ACCOUNT}"));
    // The session cookie is out of the page's reach.
    let cookies = browser.execute("return document.cookie", json!([]));
    assert_eq!(cookies.as_str(), Some(""), "{cookies}");

    browser.click(&browser.wait_find("header form button", DEADLINE));
    browser.wait_find("#access_key_id", DEADLINE);
    browser.goto(&format!("{}/console/", server.endpoint));
    browser.wait_find("#access_key_id", DEADLINE);
}

#[test]
fn another_accounts_pipeline_is_invisible() {
    let server = server();
    let other = Api::with_key(&server.endpoint, OTHER_KEY, OTHER_SECRET);
    let theirs = other.define(
        "their-secret-pipeline",
        json!([{ "id": "Default", "scheduleType": "ondemand", "workerGroup": "wg-clients" },
               { "id": "A", "type": "ShellCommandActivity", "command": "true" }]),
    );
    let browser = Browser::start();
    sign_in(&browser, &server, ROOT_ACCESS_KEY, ROOT_SECRET_KEY);
    browser.wait_find("#pipelines", DEADLINE);
    let list = browser.source();
    assert!(
        !list.contains("their-secret-pipeline") && !list.contains(&theirs),
        "{list}"
    );
    browser.goto(&format!("{}/console/pipelines/{theirs}", server.endpoint));
    wait_text(&browser, "does not exist");
    assert!(!browser.source().contains("their-secret-pipeline"));
    browser.goto(&format!(
        "{}/console/pipelines/{theirs}/runs",
        server.endpoint
    ));
    wait_text(&browser, "does not exist");

    // Their own sign-in shows it (once signed out: going on before the sign-out lands would
    // abandon it).
    browser.click(&browser.wait_find("header form button", DEADLINE));
    browser.wait_find("#access_key_id", DEADLINE);
    sign_in(&browser, &server, OTHER_KEY, OTHER_SECRET);
    browser.wait_find(&format!("tr[data-pipeline=\"{theirs}\"]"), DEADLINE);
}

/// An ondemand pipeline whose `Hello` waits for `go` to exist, then says hello.
fn gated(go: &Path, broken: bool) -> Value {
    let hello = if broken {
        // ShellCommandActivity needs a command or a scriptUri.
        json!({ "id": "Hello", "type": "ShellCommandActivity", "stage": "false" })
    } else {
        json!({ "id": "Hello", "type": "ShellCommandActivity",
                "command": format!("while [ ! -e {} ]; do sleep 0.1; done; echo hello", sh_quoted(go)) })
    };
    json!({ "objects": [
        { "id": "Default", "name": "Default", "scheduleType": "ondemand",
          "workerGroup": "wg-clients", "maximumRetries": "0" },
        hello,
        { "id": "After", "type": "ShellCommandActivity", "command": "true", "dependsOn": { "ref": "Hello" } }
    ]})
}

/// Puts `definition` into the upload form's text area and submits it.
fn upload(browser: &Browser, definition: &Value) {
    let area = browser.wait_find("#upload-definition", DEADLINE);
    browser.set_value(&area, &definition.to_string());
    browser.click(&browser.wait_find("#upload", DEADLINE));
}

#[test]
fn a_pipeline_is_created_fixed_activated_and_watched_to_the_end() {
    created_fixed_activated_and_watched(Engine::Chromium);
}

#[test]
fn a_pipeline_is_created_fixed_activated_and_watched_to_the_end_in_firefox() {
    created_fixed_activated_and_watched(Engine::Firefox);
}

fn created_fixed_activated_and_watched(engine: Engine) {
    let server = server();
    let go = server.dir().join("go");
    let browser = Browser::open(engine);
    let dir = shots(&server, engine);
    let dir = dir.as_deref();
    sign_in(&browser, &server, ROOT_ACCESS_KEY, ROOT_SECRET_KEY);
    browser.fill(
        &browser.wait_find("#create-name", DEADLINE),
        "console-hello",
    );
    browser.fill(
        &browser.wait_find("#create-unique-id", DEADLINE),
        "console-hello-1",
    );
    browser.click(&browser.wait_find("#create", DEADLINE));

    // An invalid version: its error is shown next to the object it concerns.
    upload(&browser, &gated(&go, true));
    let summary = text_of(&browser, "#validation-summary");
    assert!(summary.contains("validation error"), "{summary}");
    let note = text_of(&browser, "ul.errors[data-for=\"Hello\"]");
    assert!(note.contains("command"), "{note}");
    browser.execute(
        "document.querySelector('ul.errors').scrollIntoView({block: 'center'});",
        json!([]),
    );
    shoot(&browser, dir, "definition-errors");
    browser.click(&browser.wait_find("#activate", DEADLINE));
    wait_text(&browser, "Activation refused");

    // Fixed, activated: the run grid, which then follows the run without a reload.
    upload(&browser, &gated(&go, false));
    // Waited for as a whole: the page before the upload says "… validation error(s) …" too.
    wait_text(&browser, "The latest definition is valid.");
    browser.click(&browser.wait_find("#activate", DEADLINE));
    wait_text(&browser, "Pipeline activated.");
    let hello = "td[data-instance^=\"@Hello_\"]";
    wait_attribute(&browser, hello, "data-status", "RUNNING");
    browser.execute("window.sluiceNoReload = 42;", json!([]));
    std::fs::write(&go, "").unwrap();
    wait_attribute(&browser, hello, "data-status", "FINISHED");
    wait_attribute(
        &browser,
        "td[data-instance^=\"@After_\"]",
        "data-status",
        "FINISHED",
    );
    let kept = browser.execute("return window.sluiceNoReload;", json!([]));
    assert_eq!(
        kept,
        json!(42),
        "the page was reloaded instead of updated in place"
    );
    let cell = browser.wait_find(hello, DEADLINE);
    assert!(
        browser.text(&cell).contains("done"),
        "status is also written: {}",
        browser.text(&cell)
    );
    shoot(&browser, dir, "runs");

    // The graph shows each activity's latest status.
    browser.click(&browser.wait_find("nav.tabs a:first-child", DEADLINE));
    wait_attribute(
        &browser,
        "a.node[data-object=\"Hello\"]",
        "data-status",
        "FINISHED",
    );
    shoot(&browser, dir, "graph");
    browser.goto(&format!("{}/ahead?n=3", browser.url()));
    browser.wait_find("#ahead", DEADLINE);
    shoot(&browser, dir, "ahead");
    browser.click(&browser.wait_find("nav.tabs a[href$=\"/definition\"]", DEADLINE));
    browser.wait_find("#diff", DEADLINE);
    shoot(&browser, dir, "definition");
    browser.goto(&format!("{}/console/", server.endpoint));
    browser.wait_find("#pipelines", DEADLINE);
    shoot(&browser, dir, "pipelines");
}

/// An ondemand pipeline: `Fail` fails with a line on stderr, `Second` fails, and `Hold` keeps
/// the run going until `go` exists (a finished pipeline takes no more commands).
/// A secret of the failing pipeline, expanded into its command: never on a page.
const CANARY: &str = "console-canary-5b1f0e";

fn failing(go: &Path) -> Value {
    json!([
        { "id": "Default", "scheduleType": "ondemand", "workerGroup": "wg-clients", "maximumRetries": "0" },
        { "id": "Fail", "type": "ShellCommandActivity",
          "command": "echo oops-on-stderr >&2; echo #{*myToken} > /dev/null; exit 3" },
        { "id": "Second", "type": "ShellCommandActivity", "command": "exit 1" },
        { "id": "Hold", "type": "ShellCommandActivity",
          "command": format!("while [ ! -e {} ]; do sleep 0.2; done", sh_quoted(go)) }
    ])
}

#[test]
fn a_failed_attempts_stderr_is_read_then_rerun_and_another_marked_finished() {
    failed_attempt_read_then_rerun(Engine::Chromium);
}

#[test]
fn a_failed_attempts_stderr_is_read_then_rerun_and_another_marked_finished_in_firefox() {
    failed_attempt_read_then_rerun(Engine::Firefox);
}

fn failed_attempt_read_then_rerun(engine: Engine) {
    let server = server();
    let go = server.dir().join("go");
    let api = Api::new(&server.endpoint);
    let token = json!([{ "id": "*myToken", "type": "String", "default": CANARY }]);
    let pipeline = api.define_with("failing", failing(&go), token);
    api.activate(&pipeline);
    let browser = at_runs(engine, &server, &pipeline);
    let dir = shots(&server, engine);
    let dir = dir.as_deref();
    let fail = "td[data-instance^=\"@Fail_\"]";
    wait_attribute(&browser, fail, "data-status", "FAILED");
    let second = "td[data-instance^=\"@Second_\"]";
    wait_attribute(&browser, second, "data-status", "FAILED");

    // Mark Second finished from the grid.
    browser.click(&browser.wait_find(&format!("{second} input[type=checkbox]"), DEADLINE));
    browser.click(&browser.wait_find("#mark-finished", DEADLINE));
    wait_text(&browser, "MARK_FINISHED applied");
    wait_attribute(&browser, second, "data-status", "FINISHED");

    // Pause and resume a component from the grid.
    browser.click(&browser.wait_find("th input[value=\"Hold\"]", DEADLINE));
    browser.click(&browser.wait_find("#pause", DEADLINE));
    wait_text(&browser, "PAUSE applied to 1 object(s): Hold");
    browser.click(&browser.wait_find("th input[value=\"Hold\"]", DEADLINE));
    browser.click(&browser.wait_find("#resume", DEADLINE));
    wait_text(&browser, "RESUME applied to 1 object(s): Hold");

    // Fail's attempt: its stderr, then a rerun.
    browser.click(&browser.wait_find(&format!("{fail} a"), DEADLINE));
    let stderr = text_of(&browser, "#pre-1-stderr");
    assert!(stderr.contains("oops-on-stderr"), "{stderr}");
    let attempts = text_of(&browser, "#attempts");
    assert!(attempts.contains("FAILED"), "{attempts}");
    // The evaluated command holds the secret: masked, as everywhere the attempt's text goes.
    let fields = text_of(&browser, "#fields");
    assert!(fields.contains("echo **** > /dev/null"), "{fields}");
    assert!(
        !browser.source().contains(CANARY),
        "the secret is on the page"
    );
    shoot(&browser, dir, "instance");
    browser.click(&browser.wait_find("#rerun", DEADLINE));
    wait_text(&browser, "RERUN applied");
    browser.wait_find("#attempt-2", DEADLINE);
    std::fs::write(&go, "").unwrap();
}

#[test]
fn a_form_without_its_csrf_token_is_refused() {
    let server = server();
    let browser = Browser::start();
    // The sign-in form too: another site's page must not sign a browser in to its account.
    browser.goto(&format!("{}/console/signin", server.endpoint));
    browser.fill(
        &browser.wait_find("#access_key_id", DEADLINE),
        ROOT_ACCESS_KEY,
    );
    browser.fill(&browser.wait_find("#secret", DEADLINE), ROOT_SECRET_KEY);
    browser.execute(
        "document.querySelector('form input[name=csrf]').value = 'forged';",
        json!([]),
    );
    browser.click(&browser.wait_find("#signin", DEADLINE));
    wait_text(&browser, "CSRF token");
    browser.goto(&format!("{}/console/", server.endpoint));
    browser.wait_find("#access_key_id", DEADLINE);
    assert!(
        browser.url().contains("/console/signin"),
        "a forged sign-in signed the browser in: {}",
        browser.url()
    );
    sign_in(&browser, &server, ROOT_ACCESS_KEY, ROOT_SECRET_KEY);
    browser.fill(&browser.wait_find("#create-name", DEADLINE), "forged");
    browser.fill(
        &browser.wait_find("#create-unique-id", DEADLINE),
        "forged-1",
    );
    browser.execute(
        "document.querySelector('#create-form input[name=csrf]').remove();",
        json!([]),
    );
    browser.click(&browser.wait_find("#create", DEADLINE));
    wait_text(&browser, "CSRF token");
    wait_text(&browser, "Forbidden");
    assert_eq!(
        Api::new(&server.endpoint).list_pipelines(),
        Ok(0),
        "the forged form created a pipeline"
    );
}

#[test]
fn no_console_turns_it_off() {
    let on = server();
    let (status, body) = get(&on, "/console/signin");
    assert_eq!(status, 200, "{body}");
    assert!(body.contains("Sign in"), "{body}");
    let off = Server::start_with(ServerConfig {
        args: vec!["--no-console".into()],
        ..ServerConfig::default()
    });
    let (status, body) = get(&off, "/console/signin");
    assert_eq!(status, 400, "{body}");
    assert!(body.contains("UnknownOperationException"), "{body}");
}

#[test]
fn a_running_attempts_output_is_tailed_live() {
    tailed_live(Engine::Chromium);
}

#[test]
fn a_running_attempts_output_is_tailed_live_in_firefox() {
    tailed_live(Engine::Firefox);
}

fn tailed_live(engine: Engine) {
    let server = server();
    let (go, end) = (server.dir().join("go"), server.dir().join("end"));
    let api = Api::new(&server.endpoint);
    let wait = |file: &Path| format!("while [ ! -e {} ]; do sleep 0.1; done", sh_quoted(file));
    let command = format!(
        "echo first-line; {}; echo second-line; {}",
        wait(&go),
        wait(&end)
    );
    let pipeline = api.launch(
        "tailed",
        json!([
            { "id": "Default", "scheduleType": "ondemand", "workerGroup": "wg-clients" },
            { "id": "Talk", "type": "ShellCommandActivity", "command": command }
        ]),
    );
    let browser = at_runs(engine, &server, &pipeline);
    let talk = "td[data-instance^=\"@Talk_\"]";
    wait_attribute(&browser, talk, "data-status", "RUNNING");
    browser.click(&browser.wait_find(&format!("{talk} a"), DEADLINE));
    browser.wait_find("#pre-1-stdout[data-tail]", DEADLINE);
    let stdout = || {
        browser
            .execute(
                "const pre = document.getElementById('pre-1-stdout'); \
                 return pre ? pre.textContent : '';",
                json!([]),
            )
            .as_str()
            .unwrap_or_default()
            .to_owned()
    };
    wait_for("the first line in the tail", DEADLINE, || {
        let text = stdout();
        text.contains("first-line").then_some(()).ok_or(text)
    });
    browser.execute("window.sluiceNoReload = 7;", json!([]));
    std::fs::write(&go, "").unwrap();
    wait_for("the second line in the tail", DEADLINE, || {
        let text = stdout();
        text.contains("second-line").then_some(()).ok_or(text)
    });
    let kept = browser.execute("return window.sluiceNoReload;", json!([]));
    assert_eq!(kept, json!(7), "the page was reloaded instead of tailed");
    // Seen while the attempt still runs: tailed, not read once it ended.
    let status = text_of(&browser, "#instance-status");
    assert!(status.contains("RUNNING"), "{status}");
    std::fs::write(&end, "").unwrap();
    wait_text(&browser, "FINISHED");
}
