//! A deployment of several `sluice server`s on one PostgreSQL database of its own, with remote
//! task runners, for the scale-out tests (tests/cluster.rs, tests/chaos.rs).

#![allow(dead_code)]

use std::collections::BTreeMap;
use std::fs;
use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

use serde_json::{Value, json};
use sluice_testsupport::databases::PgDatabase;
use sluice_testsupport::process::Proc;

use crate::harness::{ROOT_ACCESS_KEY, ROOT_SECRET_KEY, ready_url};

/// How long anything a test waits for may take.
pub(crate) const DEADLINE: Duration = Duration::from_secs(90);
/// The lease the servers hold pipelines under (the smallest allowed), so that takeovers
/// happen within seconds.
pub(crate) const LEASE_SECONDS: u64 = 3;
const SERVER_READY: &str = "listening on http://";
const RUNNER_READY: &str = "sluice taskrunner ready";

/// A database and a directory for the servers and runners of one test.
pub(crate) struct Deployment {
    pub(crate) db: PgDatabase,
    dir: tempfile::TempDir,
    settings: PathBuf,
    started: std::cell::Cell<u32>,
    /// `--lease-seconds` of its servers ([`LEASE_SECONDS`] unless changed).
    pub(crate) lease_seconds: u64,
}

/// A running server and where it answers.
pub(crate) struct Server {
    pub(crate) process: Proc,
    pub(crate) endpoint: String,
}

impl Server {
    /// The address of its `http://` endpoint, for raw HTTP.
    pub(crate) fn addr(&self) -> std::net::SocketAddr {
        self.endpoint
            .trim_start_matches("http://")
            .trim_end_matches('/')
            .parse()
            .unwrap_or_else(|e| panic!("{}: {e}", self.endpoint))
    }
}

impl Deployment {
    pub(crate) fn new(name: &str) -> Deployment {
        Deployment::with_settings(name, json!({ "pollWaitSeconds": 2 }))
    }

    /// A deployment whose servers take `settings` (`--settings`).
    pub(crate) fn with_settings(name: &str, settings: Value) -> Deployment {
        let dir = tempfile::Builder::new()
            .prefix("sluice-cluster")
            .tempdir()
            .expect("temp dir");
        let path = dir.path().join("settings.json");
        fs::write(&path, settings.to_string()).unwrap();
        Deployment {
            db: PgDatabase::create(name),
            dir,
            settings: path,
            started: std::cell::Cell::new(0),
            lease_seconds: LEASE_SECONDS,
        }
    }

    pub(crate) fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// A new server on a free port.
    pub(crate) fn server(&self) -> Server {
        self.server_on(&self.db.url(), &[])
    }

    /// A new server on a free port, reaching the database at `database` (the deployment's, or
    /// a relay to it).
    pub(crate) fn server_on(&self, database: &str, extra: &[&str]) -> Server {
        let n = self.started.get() + 1;
        self.started.set(n);
        self.start(&format!("server-{n}"), "127.0.0.1:0", database, extra)
    }

    /// A new server on a free port whose in-process runner takes the tasks of worker group
    /// `group` of the pipelines it owns.
    pub(crate) fn server_running(&self, group: &str) -> Server {
        let n = self.started.get() + 1;
        self.started.set(n);
        self.launch(
            &format!("server-{n}"),
            "127.0.0.1:0",
            &self.db.url(),
            &["--local-worker-group", group],
        )
    }

    /// A server named `slot` (its data directory) listening on `listen`: a server restarted
    /// in the same slot and on the same address takes up where the previous one stopped.
    pub(crate) fn start(&self, slot: &str, listen: &str, database: &str, extra: &[&str]) -> Server {
        let mut args = vec!["--no-local-runner"];
        args.extend_from_slice(extra);
        self.launch(slot, listen, database, &args)
    }

    fn launch(&self, slot: &str, listen: &str, database: &str, extra: &[&str]) -> Server {
        let mut command = Command::new(env!("CARGO_BIN_EXE_sluice"));
        command
            .arg("server")
            .args(["--listen", listen])
            .args(["--database", database])
            .args(["--lease-seconds", &self.lease_seconds.to_string()])
            .arg("--data-dir")
            .arg(self.path(slot))
            .arg("--settings")
            .arg(&self.settings)
            // Servers sharing a database share the key that seals its secrets.
            .arg("--secret-key-file")
            .arg(self.path("secret.key"))
            .args(extra)
            .current_dir(self.dir.path())
            .env_remove("SLUICE_DATA_DIR")
            .env_remove("SLUICE_DATABASE_URL")
            .env_remove("SLUICE_SECRET_KEY_FILE")
            .env_remove("SLUICE_ROOT_ACCOUNT_ID")
            .env_remove("AWS_ACCESS_KEY_ID")
            .env_remove("AWS_SECRET_ACCESS_KEY")
            .env("SLUICE_ROOT_ACCESS_KEY_ID", ROOT_ACCESS_KEY)
            .env("SLUICE_ROOT_SECRET_ACCESS_KEY", ROOT_SECRET_KEY)
            .env("RUST_LOG", "info");
        let mut process = Proc::spawn(slot, command, self.dir.path()).terminate_on_drop(DEADLINE);
        let line = process.wait_line(SERVER_READY, DEADLINE);
        let endpoint = ready_url(&line).unwrap_or_else(|| panic!("no URL in {line:?}"));
        Server { process, endpoint }
    }

    /// A remote `sluice taskrunner` of `group` polling the server at `endpoint`.
    pub(crate) fn runner(&self, id: &str, endpoint: &str, group: &str, extra: &[&str]) -> Proc {
        let mut command = Command::new(env!("CARGO_BIN_EXE_sluice"));
        command
            .arg("taskrunner")
            .args(["--endpoint", endpoint, "--worker-group", group])
            .args(["--taskrunner-id", id])
            .arg("--data-dir")
            .arg(self.path(&format!("runner-{id}")))
            .args(extra)
            .current_dir(self.dir.path())
            .env_remove("SLUICE_DATA_DIR")
            .env("AWS_ACCESS_KEY_ID", ROOT_ACCESS_KEY)
            .env("AWS_SECRET_ACCESS_KEY", ROOT_SECRET_KEY)
            .env("RUST_LOG", "info");
        let mut runner = Proc::spawn(&format!("runner-{id}"), command, self.dir.path())
            .terminate_on_drop(DEADLINE);
        runner.wait_line(RUNNER_READY, DEADLINE);
        runner
    }

    /// How many pipelines each live server holds a live lease of, by the server's URL.
    pub(crate) fn owners(&self) -> BTreeMap<String, usize> {
        self.db
            .psql(
                "SELECT s.url, count(*) FROM pipeline_leases l JOIN servers s \
                 ON s.server_id = l.owner WHERE l.expires_at > clock_timestamp() \
                 AND s.expires_at > clock_timestamp() GROUP BY s.url",
            )
            .lines()
            .filter_map(|line| {
                let (url, count) = line.split_once('|')?;
                Some((url.to_owned(), count.trim().parse().ok()?))
            })
            .collect()
    }

    /// The URL of the server holding `pipeline`'s lease, if one holds it.
    pub(crate) fn owner_of(&self, pipeline: &str) -> Option<String> {
        let url = self.db.psql(&format!(
            "SELECT s.url FROM pipeline_leases l JOIN servers s ON s.server_id = l.owner \
             WHERE l.pipeline_id = '{pipeline}' AND l.expires_at > clock_timestamp()"
        ));
        let url = url.trim();
        (!url.is_empty()).then(|| url.to_owned())
    }
}
