//! Shared helpers for the real-client tests of `sluice server` (`tests/api_clients.rs`):
//! starting a server per test, finding (or creating) the Python venv with the AWS CLI and
//! boto3, running the CLI in an isolated environment, and sending hand-signed requests.

#![allow(dead_code)]

use std::fs;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use serde_json::Value;
use sluice_testsupport::poll::holds_within;
use sluice_testsupport::process::Proc;
use sluice_testsupport::sigv4::{self, Signing};

/// The root key pair every test server is started with (account 000000000000).
pub(crate) const ROOT_ACCESS_KEY: &str = "AKIASLUICETESTROOT01";
pub(crate) const ROOT_SECRET_KEY: &str = "sluice/root/secret/key/for/tests/0000000";
/// The account of the root pair when `SLUICE_ROOT_ACCOUNT_ID` is unset.
pub(crate) const ROOT_ACCOUNT: &str = "000000000000";

/// How long a server may take to print its readiness line.
const STARTUP_DEADLINE: Duration = Duration::from_secs(30);
/// How long one AWS CLI or Python process may take.
const PROCESS_DEADLINE: Duration = Duration::from_secs(120);

/// What the readiness line says before the URL.
const READY_MARKER: &str = "listening on ";

// ---------------------------------------------------------------------------------------------
// The server
// ---------------------------------------------------------------------------------------------

/// How to start a server.
#[derive(Debug, Clone)]
pub(crate) struct ServerConfig {
    /// Run the in-process task runner (the default) or leave tasks to remote runners.
    pub(crate) local_runner: bool,
    /// Give the root pair through `SLUICE_ROOT_*` (the default).
    pub(crate) root_env: bool,
    /// A credentials file (`--credentials`), written into the server's directory.
    pub(crate) credentials: Option<Value>,
    /// Further arguments of `sluice server` (`--database …`).
    pub(crate) args: Vec<String>,
    /// Further environment variables of `sluice server`.
    pub(crate) env: Vec<(String, String)>,
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            local_runner: true,
            root_env: true,
            credentials: None,
            args: Vec::new(),
            env: Vec::new(),
        }
    }
}

/// A running `sluice server` with its own data directory, killed when dropped. When the test
/// panics, the server's output is printed.
pub(crate) struct Server {
    /// `http://127.0.0.1:PORT` (`https://` with `--tls-cert`)
    pub(crate) endpoint: String,
    pub(crate) addr: SocketAddr,
    // Dropped before the directory it writes its output to.
    process: Proc,
    config: ServerConfig,
    dir: tempfile::TempDir,
}

impl Server {
    /// A server with the root pair in its environment and the in-process runner.
    pub(crate) fn start() -> Server {
        Server::start_with(ServerConfig::default())
    }

    pub(crate) fn start_with(config: ServerConfig) -> Server {
        let dir = tempfile::Builder::new()
            .prefix("sluice-api-clients")
            .tempdir()
            .expect("temp dir");
        let (process, endpoint, addr) = Server::launch("server", dir.path(), &config);
        Server {
            endpoint,
            addr,
            process,
            config,
            dir,
        }
    }

    /// Kills the server (SIGKILL, as a crash would) and starts it again on the same data
    /// directory, on another port.
    pub(crate) fn restart_after_kill(&mut self) {
        self.process.kill();
        let (process, endpoint, addr) =
            Server::launch("server-restarted", self.dir.path(), &self.config);
        self.process = process;
        self.endpoint = endpoint;
        self.addr = addr;
    }

    fn launch(name: &str, dir: &Path, config: &ServerConfig) -> (Proc, String, SocketAddr) {
        let credentials_file = config.credentials.as_ref().map(|credentials| {
            let path = dir.join("credentials.json");
            fs::write(&path, serde_json::to_vec_pretty(credentials).unwrap()).unwrap();
            path
        });
        let mut command = Command::new(env!("CARGO_BIN_EXE_sluice"));
        command
            .arg("server")
            // Port 0: the server binds a free port and prints the address it got.
            .args(["--listen", "127.0.0.1:0"])
            .arg("--data-dir")
            .arg(dir.join("data"))
            .args(["--workers", "2"])
            // The worker groups the clients' definitions name (greet.json, the Rust SDK
            // test): the in-process runner takes them as a remote runner would.
            .args([
                "--local-worker-group",
                "wg-clients",
                "--local-worker-group",
                "wg-rust",
            ])
            .current_dir(dir)
            .env_remove("SLUICE_ROOT_ACCESS_KEY_ID")
            .env_remove("SLUICE_ROOT_SECRET_ACCESS_KEY")
            .env_remove("SLUICE_ROOT_ACCOUNT_ID")
            .env_remove("SLUICE_DATA_DIR")
            .env_remove("AWS_CA_BUNDLE")
            .env("RUST_LOG", "info,sluice_api=debug");
        if config.root_env {
            command
                .env("SLUICE_ROOT_ACCESS_KEY_ID", ROOT_ACCESS_KEY)
                .env("SLUICE_ROOT_SECRET_ACCESS_KEY", ROOT_SECRET_KEY);
        }
        if let Some(path) = &credentials_file {
            command.arg("--credentials").arg(path);
        }
        if !config.local_runner {
            command.arg("--no-local-runner");
        }
        command.args(&config.args);
        command.envs(config.env.iter().map(|(k, v)| (k, v)));
        let mut process = Proc::spawn(name, command, dir);
        let line = process.wait_line(READY_MARKER, STARTUP_DEADLINE);
        let endpoint = ready_url(&line).unwrap_or_else(|| panic!("no URL in {line:?}"));
        let addr = endpoint
            .split_once("://")
            .map_or(endpoint.as_str(), |(_, address)| address)
            .parse()
            .unwrap_or_else(|e| panic!("readiness line URL {endpoint}: {e}"));
        (process, endpoint, addr)
    }

    /// The server's process id.
    pub(crate) fn pid(&self) -> u32 {
        self.process.pid()
    }

    /// The server's directory (its data directory is `data/` inside).
    pub(crate) fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// What the server wrote to stderr so far (its log).
    pub(crate) fn stderr(&self) -> String {
        self.process.stderr()
    }

    /// Everything the server printed so far.
    pub(crate) fn output(&self) -> String {
        self.process.output()
    }
}

/// The URL of a readiness line (`… listening on http://127.0.0.1:PORT`, or `https://`) in
/// `text`.
pub(crate) fn ready_url(text: &str) -> Option<String> {
    let line = text.lines().find(|l| l.contains(READY_MARKER))?;
    let rest = &line[line.find(READY_MARKER)? + READY_MARKER.len()..];
    let url: String = rest
        .chars()
        .take_while(|c| !c.is_whitespace() && *c != ',' && *c != ')')
        .collect();
    let url = url.trim_end_matches('/').to_owned();
    (url.starts_with("http://") || url.starts_with("https://")).then_some(url)
}

// ---------------------------------------------------------------------------------------------
// The Python tools: AWS CLI v1 and boto3
// ---------------------------------------------------------------------------------------------

/// The venv holding `awscli` and `boto3`: `$SLUICE_VENV`, else `venv` in the tools directory
/// (`$SLUICE_TOOLS`, default `/var/tmp/sluice-tools`).
/// Created (`python3 -m venv` + `pip install awscli boto3`) when missing, once per test binary
/// and under a file lock so that concurrent test binaries do not build it twice.
pub(crate) fn venv() -> &'static Path {
    static VENV: OnceLock<PathBuf> = OnceLock::new();
    VENV.get_or_init(|| {
        let dir = std::env::var_os("SLUICE_VENV")
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
            .unwrap_or_else(|| sluice_testsupport::tools::tools_dir().join("venv"));
        if !venv_ready(&dir) {
            create_venv(&dir);
        }
        dir
    })
}

fn venv_ready(dir: &Path) -> bool {
    dir.join("bin/aws").is_file()
        && Command::new(dir.join("bin/python"))
            .args(["-c", "import awscli, boto3"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
}

fn create_venv(dir: &Path) {
    let parent = dir.parent().expect("venv has a parent directory");
    fs::create_dir_all(parent).expect("create the venv's parent directory");
    let lock_path = parent.join(format!(
        "{}.lock",
        dir.file_name().unwrap().to_string_lossy()
    ));
    let lock = fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&lock_path)
        .expect("open the venv lock file");
    lock.lock().expect("lock the venv lock file");
    // Someone else may have built it while we waited for the lock.
    if venv_ready(dir) {
        return;
    }
    // Printed past the test harness's capture: this takes a minute or two.
    let note = format!(
        "sluice tests: installing awscli and boto3 into {} (once per machine, a minute or two)\n",
        dir.display()
    );
    let _ = std::io::Write::write_all(&mut std::io::stderr(), note.as_bytes());
    let run = |program: &Path, args: &[&str]| {
        let output = Command::new(program)
            .args(args)
            .output()
            .unwrap_or_else(|e| panic!("run {}: {e}", program.display()));
        assert!(
            output.status.success(),
            "{} {args:?} failed:\n{}{}",
            program.display(),
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
    };
    let dir_text = dir.to_str().expect("utf-8 venv path");
    run(Path::new("python3"), &["-m", "venv", "--clear", dir_text]);
    run(
        &dir.join("bin/pip"),
        &[
            "install",
            "--quiet",
            "--disable-pip-version-check",
            "awscli",
            "boto3",
        ],
    );
    assert!(
        venv_ready(dir),
        "{} still lacks awscli or boto3",
        dir.display()
    );
}

/// Runs a program with a deadline, killing it when the deadline passes.
fn run_with_deadline(mut command: Command, what: &str) -> Output {
    let mut child = command
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("start {what}: {e}"));
    // Read both pipes on threads so a chatty child cannot block on a full pipe.
    let mut stdout = child.stdout.take().unwrap();
    let mut stderr = child.stderr.take().unwrap();
    let out = std::thread::spawn(move || {
        let mut buf = Vec::new();
        let _ = stdout.read_to_end(&mut buf);
        buf
    });
    let err = std::thread::spawn(move || {
        let mut buf = Vec::new();
        let _ = stderr.read_to_end(&mut buf);
        buf
    });
    let mut status = None;
    let finished = holds_within(PROCESS_DEADLINE, || {
        status = child.try_wait().expect("wait");
        status.is_some()
    });
    if !finished {
        let _ = child.kill();
        let _ = child.wait();
        panic!("{what} did not finish within {PROCESS_DEADLINE:?}");
    }
    Output {
        status: status.expect("finished"),
        stdout: out.join().unwrap(),
        stderr: err.join().unwrap(),
    }
}

/// An environment for the Python clients: nothing from the caller's AWS configuration, a
/// private HOME, the given keys and region us-east-1, no retries (so a server error shows at
/// once instead of being retried away).
fn isolated(command: &mut Command, home: &Path, keys: Option<(&str, &str)>) {
    command
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", home)
        .env("LANG", "C.UTF-8")
        .env("AWS_CONFIG_FILE", home.join("no-aws-config"))
        .env(
            "AWS_SHARED_CREDENTIALS_FILE",
            home.join("no-aws-credentials"),
        )
        .env("AWS_DEFAULT_REGION", "us-east-1")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("AWS_MAX_ATTEMPTS", "1")
        .env("AWS_RETRY_MODE", "standard")
        .env("PYTHONDONTWRITEBYTECODE", "1");
    if let Some((access_key, secret)) = keys {
        command
            .env("AWS_ACCESS_KEY_ID", access_key)
            .env("AWS_SECRET_ACCESS_KEY", secret);
    }
}

/// The first `sh` block after `heading` in the repository's markdown file `doc` (a path from
/// the repository root): what a test runs as the document writes it.
pub(crate) fn doc_shell_block(doc: &str, heading: &str) -> String {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let text = fs::read_to_string(root.join(doc)).unwrap_or_else(|e| panic!("{doc}: {e}"));
    let section = &text[text
        .find(heading)
        .unwrap_or_else(|| panic!("{doc} has no {heading:?}"))..];
    section
        .split("```sh\n")
        .nth(1)
        .and_then(|rest| rest.split("```").next())
        .unwrap_or_else(|| panic!("{doc}: no shell block after {heading:?}"))
        .to_owned()
}

/// Runs `script` with `bash -e` in `dir`, with the venv's `aws` first on the `PATH` and no AWS
/// configuration but what the script sets itself.
pub(crate) fn run_shell(script: &str, dir: &Path) -> Run {
    let home = tempfile::tempdir().unwrap();
    let mut command = Command::new("bash");
    isolated(&mut command, home.path(), None);
    let path = std::env::var_os("PATH").unwrap_or_default();
    let mut paths = vec![venv().join("bin")];
    paths.extend(std::env::split_paths(&path));
    command
        .env("PATH", std::env::join_paths(paths).unwrap())
        .env_remove("AWS_DEFAULT_REGION")
        .args(["-e", "-c", script])
        .current_dir(dir);
    Run::from(
        "bash -e -c <script>".to_owned(),
        run_with_deadline(command, "bash"),
    )
}

/// Runs `program ARGS…` in `dir` with the isolated environment of the Python clients (no AWS
/// configuration but `env`, a private HOME, region us-east-1) and a deadline.
pub(crate) fn run_isolated(program: &Path, args: &[&str], env: &[(&str, &str)], dir: &Path) -> Run {
    let home = tempfile::tempdir().unwrap();
    let mut command = Command::new(program);
    isolated(&mut command, home.path(), None);
    command.args(args).current_dir(dir);
    for (key, value) in env {
        command.env(key, value);
    }
    let name = program.file_name().unwrap_or_default().to_string_lossy();
    Run::from(
        format!("{name} {}", args.join(" ")),
        run_with_deadline(command, &name),
    )
}

/// What a CLI or script run printed, with its exit code.
#[derive(Debug)]
pub(crate) struct Run {
    pub(crate) code: i32,
    pub(crate) stdout: String,
    pub(crate) stderr: String,
    pub(crate) shown: String,
}

impl Run {
    fn from(shown: String, output: Output) -> Run {
        Run {
            code: output.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
            shown,
        }
    }

    /// Panics unless the exit code is 0; the stdout parsed as JSON (`null` when empty).
    pub(crate) fn json(&self) -> Value {
        assert_eq!(self.code, 0, "{self}");
        if self.stdout.trim().is_empty() {
            return Value::Null;
        }
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|e| panic!("{}: stdout is not JSON ({e}):\n{self}", self.shown))
    }

    /// Panics unless the exit code is `code` and stderr names `error`.
    pub(crate) fn fails_with(&self, code: i32, error: &str) {
        assert_eq!(
            self.code, code,
            "expected exit {code} with {error}:\n{self}"
        );
        assert!(
            self.stderr.contains(error),
            "expected {error} in stderr:\n{self}"
        );
    }
}

impl std::fmt::Display for Run {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "$ {}\nexit {}\n--- stdout ---\n{}--- stderr ---\n{}",
            self.shown, self.code, self.stdout, self.stderr
        )
    }
}

/// The AWS CLI pointed at one server (or taking several in turn, one per command) with one key
/// pair.
pub(crate) struct AwsCli {
    endpoints: Vec<String>,
    calls: std::cell::Cell<usize>,
    keys: Option<(String, String)>,
    home: tempfile::TempDir,
    /// Further environment variables, e.g. `AWS_SESSION_TOKEN`.
    pub(crate) env: Vec<(String, String)>,
}

impl AwsCli {
    pub(crate) fn new(server: &Server, access_key: &str, secret: &str) -> AwsCli {
        AwsCli {
            endpoints: vec![server.endpoint.clone()],
            calls: std::cell::Cell::new(0),
            keys: Some((access_key.to_owned(), secret.to_owned())),
            home: tempfile::tempdir().unwrap(),
            env: Vec::new(),
        }
    }

    /// The CLI with the root pair.
    pub(crate) fn root(server: &Server) -> AwsCli {
        AwsCli::new(server, ROOT_ACCESS_KEY, ROOT_SECRET_KEY)
    }

    /// The CLI with the root pair, sending each command to the next of `servers` in turn.
    pub(crate) fn alternating(servers: &[&Server]) -> AwsCli {
        AwsCli {
            endpoints: servers.iter().map(|s| s.endpoint.clone()).collect(),
            ..AwsCli::root(servers[0])
        }
    }

    /// The CLI with no credentials at all.
    pub(crate) fn anonymous(server: &Server) -> AwsCli {
        AwsCli {
            keys: None,
            ..AwsCli::root(server)
        }
    }

    /// A scratch directory for files the commands read (`file://…`).
    pub(crate) fn scratch(&self) -> &Path {
        self.home.path()
    }

    /// `aws datapipeline ARGS… --endpoint-url … --output json`
    pub(crate) fn run(&self, args: &[&str]) -> Run {
        self.run_with(args, true)
    }

    /// `aws datapipeline ARGS… --endpoint-url …`, the command's own output format.
    pub(crate) fn run_plain(&self, args: &[&str]) -> Run {
        self.run_with(args, false)
    }

    fn run_with(&self, args: &[&str], json: bool) -> Run {
        let mut command = Command::new(venv().join("bin/aws"));
        isolated(
            &mut command,
            self.home.path(),
            self.keys.as_ref().map(|(a, s)| (a.as_str(), s.as_str())),
        );
        command.envs(self.env.iter().map(|(k, v)| (k, v)));
        let call = self.calls.get();
        self.calls.set(call + 1);
        let endpoint = &self.endpoints[call % self.endpoints.len()];
        command
            .arg("datapipeline")
            .args(args)
            .args(["--endpoint-url", endpoint])
            .current_dir(self.home.path());
        if json {
            command.args(["--output", "json"]);
        }
        let shown = format!("aws datapipeline {}", args.join(" "));
        let started = Instant::now();
        let run = Run::from(shown, run_with_deadline(command, "aws"));
        eprintln!(
            "{} at {endpoint} -> exit {} ({} ms)",
            run.shown,
            run.code,
            started.elapsed().as_millis()
        );
        run
    }

    /// Runs and parses the JSON output, panicking on failure.
    pub(crate) fn json(&self, args: &[&str]) -> Value {
        self.run(args).json()
    }
}

/// Runs `script` (a file in `tests/clients/`) with the venv's Python, the endpoint in
/// `SLUICE_ENDPOINT` and the given keys in the standard AWS variables, plus `extra_env`.
pub(crate) fn run_python(
    server: &Server,
    script: &str,
    keys: (&str, &str),
    extra_env: &[(&str, &str)],
) -> Run {
    let home = tempfile::tempdir().unwrap();
    let path = clients_dir().join(script);
    let mut command = Command::new(venv().join("bin/python"));
    isolated(&mut command, home.path(), Some(keys));
    command
        .arg("-u")
        .arg(&path)
        .env("SLUICE_ENDPOINT", &server.endpoint)
        .current_dir(home.path());
    for (key, value) in extra_env {
        command.env(key, value);
    }
    Run::from(
        format!("python {script}"),
        run_with_deadline(command, script),
    )
}

/// Runs `clients/boto3_lifecycle.py` against `server` with the root keys and `extra_env`, and
/// fails the test unless every check of it passed.
pub(crate) fn assert_boto3_lifecycle(server: &Server, extra_env: &[(&str, &str)]) {
    let run = run_python(
        server,
        "boto3_lifecycle.py",
        (ROOT_ACCESS_KEY, ROOT_SECRET_KEY),
        extra_env,
    );
    eprintln!("{run}");
    assert_eq!(run.code, 0, "the boto3 script failed (its output is above)");
    assert!(run.stdout.contains("all checks passed"), "{run}");
}

/// `sluice taskrunner` for worker group `group` at `endpoint`, run in `dir` with an AWS
/// environment of its own (`<dir>/<id>-home` as HOME, no profile files, no keys: the caller
/// adds those it wants) and `<dir>/<id>-data` as its data directory.
pub(crate) fn taskrunner_command(dir: &Path, id: &str, endpoint: &str, group: &str) -> Command {
    let home = dir.join(format!("{id}-home"));
    fs::create_dir_all(&home).unwrap();
    let mut command = Command::new(env!("CARGO_BIN_EXE_sluice"));
    command
        .arg("taskrunner")
        .args(["--endpoint", endpoint, "--worker-group", group])
        .args(["--taskrunner-id", id])
        .arg("--data-dir")
        .arg(dir.join(format!("{id}-data")))
        .current_dir(dir)
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", &home)
        .env("AWS_CONFIG_FILE", home.join("no-config"))
        .env("AWS_SHARED_CREDENTIALS_FILE", home.join("no-credentials"))
        .env("RUST_LOG", "info");
    command
}

/// Gives `command` the root key pair in the standard AWS variables.
pub(crate) fn with_root_keys(command: &mut Command) -> &mut Command {
    command
        .env("AWS_ACCESS_KEY_ID", ROOT_ACCESS_KEY)
        .env("AWS_SECRET_ACCESS_KEY", ROOT_SECRET_KEY)
}

/// `crates/cli/tests/clients/`
pub(crate) fn clients_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/clients")
}

// ---------------------------------------------------------------------------------------------
// Definitions
// ---------------------------------------------------------------------------------------------

/// The fixture `greet.json` (file form) with its output file set to `out_file`.
pub(crate) fn greet_definition(out_file: &Path) -> Value {
    let text = fs::read_to_string(clients_dir().join("greet.json")).expect("greet.json");
    let mut definition: Value = serde_json::from_str(&text).expect("greet.json is JSON");
    definition["values"]["myOutFile"] = Value::String(out_file.to_str().unwrap().to_owned());
    definition
}

/// The file form normalised for comparison: objects sorted by id, `name` defaulted to the id,
/// a one-element list the same as its element (the CLI's translation cannot tell them apart).
pub(crate) fn normalise_definition(definition: &Value) -> Value {
    fn scalarise(value: &Value) -> Value {
        match value {
            Value::Array(items) if items.len() == 1 => items[0].clone(),
            other => other.clone(),
        }
    }
    fn entries(list: Option<&Value>, default_name: bool) -> Value {
        let mut out: Vec<Value> = list
            .and_then(Value::as_array)
            .map(|items| {
                items
                    .iter()
                    .map(|item| {
                        let mut object: serde_json::Map<String, Value> = item
                            .as_object()
                            .expect("definition entries are objects")
                            .iter()
                            .map(|(k, v)| (k.clone(), scalarise(v)))
                            .collect();
                        if default_name && !object.contains_key("name") {
                            let id = object["id"].clone();
                            object.insert("name".into(), id);
                        }
                        object.sort_keys();
                        Value::Object(object)
                    })
                    .collect()
            })
            .unwrap_or_default();
        out.sort_by_key(|o| o["id"].as_str().unwrap_or_default().to_owned());
        Value::Array(out)
    }
    let mut values: serde_json::Map<String, Value> = definition
        .get("values")
        .and_then(Value::as_object)
        .map(|m| m.iter().map(|(k, v)| (k.clone(), scalarise(v))).collect())
        .unwrap_or_default();
    values.sort_keys();
    serde_json::json!({
        "objects": entries(definition.get("objects"), true),
        "parameters": entries(definition.get("parameters"), false),
        "values": values,
    })
}

/// The fields of an API-form object (`{"id", "name", "fields": [{"key", "stringValue" |
/// "refValue"}]}`) as `(key, value)` pairs; references as `ref:ID`.
pub(crate) fn fields_of(object: &Value) -> Vec<(String, String)> {
    object["fields"]
        .as_array()
        .map(|fields| {
            fields
                .iter()
                .map(|f| {
                    let key = f["key"].as_str().unwrap_or_default().to_owned();
                    let value = match (f.get("stringValue"), f.get("refValue")) {
                        (Some(Value::String(s)), _) => s.clone(),
                        (_, Some(Value::String(r))) => format!("ref:{r}"),
                        _ => String::new(),
                    };
                    (key, value)
                })
                .collect()
        })
        .unwrap_or_default()
}

/// The single value of field `key` of an API-form object.
pub(crate) fn field(object: &Value, key: &str) -> Option<String> {
    fields_of(object)
        .into_iter()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v)
}

// ---------------------------------------------------------------------------------------------
// Hand-signed requests
// ---------------------------------------------------------------------------------------------

/// A raw HTTP answer.
#[derive(Debug)]
pub(crate) struct RawResponse {
    pub(crate) status: u16,
    pub(crate) headers: Vec<(String, String)>,
    pub(crate) body: String,
}

impl RawResponse {
    pub(crate) fn json(&self) -> Value {
        serde_json::from_str(&self.body)
            .unwrap_or_else(|e| panic!("response body is not JSON ({e}): {self:?}"))
    }

    pub(crate) fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// Sends `POST /` with exactly these headers and body over HTTP/1.1 (`Connection: close`).
pub(crate) fn raw_post(addr: SocketAddr, headers: &[(String, String)], body: &[u8]) -> RawResponse {
    raw_request(addr, "POST", "/", headers, body)
}

/// Sends `GET path` (`/healthz`, `/metrics`) over HTTP/1.1 (`Connection: close`).
pub(crate) fn raw_get(addr: SocketAddr, path: &str) -> RawResponse {
    raw_request(addr, "GET", path, &[("host".into(), addr.to_string())], b"")
}

/// Sends `method path` with exactly these headers (and a content length when there is a
/// body) over HTTP/1.1 (`Connection: close`).
pub(crate) fn raw_request(
    addr: SocketAddr,
    method: &str,
    path: &str,
    headers: &[(String, String)],
    body: &[u8],
) -> RawResponse {
    let mut stream = connect(addr);
    let mut request = format!("{method} {path} HTTP/1.1\r\n");
    for (name, value) in headers {
        request.push_str(&format!("{name}: {value}\r\n"));
    }
    if !body.is_empty() || method == "POST" {
        request.push_str(&format!("content-length: {}\r\n", body.len()));
    }
    request.push_str("connection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).unwrap();
    stream.write_all(body).unwrap();
    read_response(stream)
}

fn connect(addr: SocketAddr) -> TcpStream {
    let stream = TcpStream::connect(addr).expect("connect to the server");
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .unwrap();
    stream
}

fn read_response(mut stream: TcpStream) -> RawResponse {
    let mut response = Vec::new();
    stream
        .read_to_end(&mut response)
        .expect("read the response");
    let text = String::from_utf8_lossy(&response).into_owned();
    let (head, rest) = text
        .split_once("\r\n\r\n")
        .unwrap_or_else(|| panic!("no header end in {text:?}"));
    let mut lines = head.split("\r\n");
    let status = lines
        .next()
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("no status line in {text:?}"));
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_owned(), v.trim().to_owned()))
        .collect();
    let chunked = headers
        .iter()
        .any(|(k, v)| k.eq_ignore_ascii_case("transfer-encoding") && v.contains("chunked"));
    let body = if chunked {
        dechunk(rest)
    } else {
        rest.to_owned()
    };
    RawResponse {
        status,
        headers,
        body,
    }
}

fn dechunk(mut text: &str) -> String {
    let mut out = String::new();
    while let Some((size, rest)) = text.split_once("\r\n") {
        let size = usize::from_str_radix(size.trim(), 16).unwrap_or(0);
        if size == 0 {
            break;
        }
        out.push_str(&rest[..size]);
        text = rest[size..].trim_start_matches("\r\n");
    }
    out
}

/// The headers of a `POST /` to `target` (e.g. `ListPipelines`) signed with SigV4 at `time`:
/// host, content type, target, `x-amz-date` and `authorization`.
pub(crate) fn signed_headers(
    addr: SocketAddr,
    target: &str,
    body: &[u8],
    (access_key, secret): (&str, &str),
    time: std::time::SystemTime,
) -> Vec<(String, String)> {
    let signing = Signing {
        time,
        ..Signing::new(access_key, secret)
    };
    let request = sigv4::signed_request(
        &format!("http://{addr}/"),
        &format!("DataPipeline.{target}"),
        body,
        &signing,
    );
    request
        .headers()
        .iter()
        .map(|(name, value)| (name.to_string(), value.to_str().unwrap().to_owned()))
        .collect()
}

// ---------------------------------------------------------------------------------------------
// The Rust SDK
// ---------------------------------------------------------------------------------------------

/// A clock `behind` the real one, for the SDK's signer.
#[derive(Debug)]
pub(crate) struct SlowClock {
    pub(crate) behind: Duration,
}

impl aws_smithy_async::time::TimeSource for SlowClock {
    fn now(&self) -> std::time::SystemTime {
        std::time::SystemTime::now() - self.behind
    }
}

/// The SDK's configuration for `server` with static keys, region us-east-1 and no retries (a
/// server error shows at once instead of being retried away).
pub(crate) fn sdk_config(
    server: &Server,
    access_key: &str,
    secret: &str,
) -> aws_sdk_datapipeline::config::Builder {
    use aws_sdk_datapipeline::config::{BehaviorVersion, Credentials, Region, retry::RetryConfig};
    aws_sdk_datapipeline::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .endpoint_url(&server.endpoint)
        .credentials_provider(Credentials::new(access_key, secret, None, None, "tests"))
        .retry_config(RetryConfig::disabled())
}

/// An SDK pipeline object named like its id.
pub(crate) fn sdk_object(
    id: &str,
    fields: Vec<aws_sdk_datapipeline::types::Field>,
) -> aws_sdk_datapipeline::types::PipelineObject {
    aws_sdk_datapipeline::types::PipelineObject::builder()
        .id(id)
        .name(id)
        .set_fields(Some(fields))
        .build()
        .unwrap()
}

pub(crate) fn sdk_client(
    server: &Server,
    access_key: &str,
    secret: &str,
) -> aws_sdk_datapipeline::Client {
    aws_sdk_datapipeline::Client::from_conf(sdk_config(server, access_key, secret).build())
}

/// The file form's `objects`, `parameters` and `values` in the API form, translated the way the
/// AWS CLI translates `--pipeline-definition` (fields in sorted key order, a list as repeated
/// fields, `{"ref": …}` as a `refValue`, `name` defaulting to the id).
pub(crate) fn api_form(definition: &Value) -> (Value, Value, Value) {
    fn field_list(entry: &Value, skip: &[&str], attribute: bool) -> Vec<Value> {
        let object = entry.as_object().expect("entries are objects");
        let mut keys: Vec<&String> = object
            .keys()
            .filter(|k| !skip.contains(&k.as_str()))
            .collect();
        keys.sort();
        let mut out = Vec::new();
        for key in keys {
            let values = match &object[key] {
                Value::Array(items) => items.clone(),
                other => vec![other.clone()],
            };
            for value in values {
                out.push(match value.get("ref") {
                    Some(target) if !attribute => {
                        serde_json::json!({"key": key, "refValue": target})
                    }
                    _ => serde_json::json!({"key": key, "stringValue": value}),
                });
            }
        }
        out
    }
    let entries = |name: &str| definition[name].as_array().cloned().unwrap_or_default();
    let objects: Vec<Value> = entries("objects")
        .iter()
        .map(|o| {
            serde_json::json!({
                "id": o["id"],
                "name": o.get("name").unwrap_or(&o["id"]),
                "fields": field_list(o, &["id", "name"], false),
            })
        })
        .collect();
    let parameters: Vec<Value> = entries("parameters")
        .iter()
        .map(|p| serde_json::json!({"id": p["id"], "attributes": field_list(p, &["id"], true)}))
        .collect();
    let mut values = Vec::new();
    if let Some(map) = definition["values"].as_object() {
        for (id, value) in map {
            match value {
                Value::Array(items) => values.extend(
                    items
                        .iter()
                        .map(|v| serde_json::json!({"id": id, "stringValue": v})),
                ),
                v => values.push(serde_json::json!({"id": id, "stringValue": v})),
            }
        }
    }
    (
        Value::Array(objects),
        Value::Array(parameters),
        Value::Array(values),
    )
}
