//! The engine's store conformance suite against the machine's PostgreSQL (127.0.0.1:5432,
//! database `test`, each test in a schema of its own, dropped afterwards), and what only a
//! shared server can get wrong: concurrent first starts, two processes writing one pipeline,
//! a server that is down or stops answering, and passwords in messages and logs.

use std::io::Write;
use std::ops::Deref;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use sluice_engine::conformance::{
    at, attempt_record, instance_record, minimal_pipeline_record, pipeline_record,
};
use sluice_engine::{AttemptRecord, ChangeSet, InstanceRecord, PipelineRecord, Store, StoreError};
use sluice_model::Status;
use sluice_store::{PostgresOptions, PostgresStore};
use sluice_testsupport::databases::{PgSchema, psql, unique_name};
use sluice_testsupport::pg_ssl::SslPostgres;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tokio::task::JoinSet;

/// The `test` database; trust authentication, so any password is accepted (and none needed).
const URL: &str = "postgres://postgres@127.0.0.1:5432/test";

/// Dropped when the test ends, pass or fail.
type Schema = PgSchema;

fn fresh_schema() -> Schema {
    PgSchema::fresh("sluice_store")
}

fn options(schema: &Schema) -> PostgresOptions {
    PostgresOptions {
        schema: Some(schema.0.clone()),
        max_connections: 4,
        ..PostgresOptions::default()
    }
}

/// A store in a schema of its own.
struct PgStore {
    store: PostgresStore,
    _schema: Schema,
}

impl Deref for PgStore {
    type Target = PostgresStore;

    fn deref(&self) -> &PostgresStore {
        &self.store
    }
}

async fn pg_store() -> PgStore {
    let schema = fresh_schema();
    let store = PostgresStore::connect_with(URL, options(&schema))
        .await
        .expect("connect to the local PostgreSQL");
    PgStore {
        store,
        _schema: schema,
    }
}

mod postgres {
    use super::*;

    sluice_engine::store_conformance_suite!(pg_store().await);
}

fn unavailable<T: std::fmt::Debug>(result: Result<T, StoreError>) -> String {
    match result {
        Err(StoreError::Unavailable(message)) => message,
        other => panic!("expected Unavailable, got {other:?}"),
    }
}

fn corrupt<T: std::fmt::Debug>(result: Result<T, StoreError>) -> String {
    match result {
        Err(StoreError::Corrupt(message)) => message,
        other => panic!("expected Corrupt, got {other:?}"),
    }
}

fn only(pipeline: PipelineRecord) -> ChangeSet {
    ChangeSet {
        pipelines: vec![pipeline],
        ..ChangeSet::default()
    }
}

fn day(n: u32) -> chrono::NaiveDateTime {
    at((2024, 1, n), (0, 0, 0), 0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn processes_starting_together_migrate_an_empty_schema_once() {
    const STARTS: usize = 8;
    let schema = fresh_schema();
    let start = Arc::new(tokio::sync::Barrier::new(STARTS));
    let mut starts = JoinSet::new();
    for _ in 0..STARTS {
        let (options, start) = (options(&schema), start.clone());
        starts.spawn(async move {
            start.wait().await;
            PostgresStore::connect_with(URL, options).await
        });
    }
    let stores: Vec<PostgresStore> = starts
        .join_all()
        .await
        .into_iter()
        .map(|r| r.expect("every start succeeds"))
        .collect();

    // One record per migration, each applied once and completely.
    let versions = migration_versions();
    let applied = psql(&format!(
        "SELECT version, success FROM \"{}\"._sqlx_migrations ORDER BY version",
        schema.0
    ));
    let expected: Vec<String> = versions.iter().map(|v| format!("{v}|t")).collect();
    assert_eq!(applied.trim(), expected.join("\n"));
    // What one migration created, it created in one transaction (tables later migrations
    // alter are left out: altering rewrites their catalog rows).
    let creators = psql(&format!(
        "SELECT count(DISTINCT c.xmin::text) FROM pg_class c \
         JOIN pg_namespace n ON n.oid = c.relnamespace \
         WHERE n.nspname = '{}' \
         AND c.relname IN ('servers', 'pipeline_leases', 'pipeline_unique_ids')",
        schema.0
    ));
    assert_eq!(creators.trim(), "1");

    // They all work on the same tables.
    stores[0]
        .commit(&only(pipeline_record("df-1", 1)))
        .await
        .unwrap();
    for store in &stores {
        assert_eq!(store.pipelines().await.unwrap().len(), 1);
    }
    // A later start finds nothing to do.
    PostgresStore::connect_with(URL, options(&schema))
        .await
        .unwrap();
    let applied = psql(&format!(
        "SELECT count(*) FROM \"{}\"._sqlx_migrations",
        schema.0
    ));
    assert_eq!(applied.trim(), versions.len().to_string());
}

/// The versions of the PostgreSQL migrations this build holds, ascending.
fn migration_versions() -> Vec<u64> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("migrations/postgres");
    let mut versions: Vec<u64> = std::fs::read_dir(&dir)
        .unwrap()
        .filter_map(|entry| {
            let name = entry.unwrap().file_name().into_string().unwrap();
            name.split('_').next()?.parse().ok()
        })
        .collect();
    versions.sort_unstable();
    versions
}

/// What two schedulers in two processes do when both believe they own a pipeline.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_stores_on_one_schema_are_fenced_by_the_version() {
    let schema = fresh_schema();
    let a = PostgresStore::connect_with(URL, options(&schema))
        .await
        .unwrap();
    let b = PostgresStore::connect_with(URL, options(&schema))
        .await
        .unwrap();
    let write = |pipeline_id: &str, writer: &str, version: u64| {
        let instance = InstanceRecord {
            fields: [("writer".to_owned(), vec![writer.to_owned()])].into(),
            ..instance_record(pipeline_id, "A", day(1))
        };
        let attempt = AttemptRecord {
            worker_group: writer.to_owned(),
            ..attempt_record(&instance, u32::try_from(version).unwrap())
        };
        ChangeSet {
            pipelines: vec![PipelineRecord {
                name: writer.to_owned(),
                ..pipeline_record(pipeline_id, version)
            }],
            attempts: vec![attempt],
            instances: vec![instance],
        }
    };
    let race = async |pipeline_id: &str, version: u64| {
        let (from_a, from_b) = (
            write(pipeline_id, "a", version),
            write(pipeline_id, "b", version),
        );
        let (ra, rb) = tokio::join!(a.commit(&from_a), b.commit(&from_b));
        let winner = match (ra, rb) {
            (Ok(()), Err(StoreError::Conflict(m))) | (Err(StoreError::Conflict(m)), Ok(())) => {
                assert!(m.contains(pipeline_id), "{m}");
                if a.pipeline(pipeline_id).await.unwrap().unwrap().name == "a" {
                    from_a
                } else {
                    from_b
                }
            }
            other => panic!("{pipeline_id} v{version}: expected exactly one conflict: {other:?}"),
        };
        // Only the winner's records landed, as both stores see.
        for store in [&a, &b] {
            assert_eq!(
                store.pipeline(pipeline_id).await.unwrap().as_ref(),
                Some(&winner.pipelines[0])
            );
            assert_eq!(
                store.instances(pipeline_id).await.unwrap(),
                winner.instances
            );
            let attempts = store.attempts(pipeline_id).await.unwrap();
            assert_eq!(attempts.last(), winner.attempts.last());
        }
    };

    // Both creating the same new pipeline.
    for n in 0..5 {
        race(&format!("df-new-{n}"), 1).await;
    }
    // Both moving an existing pipeline from the same version to the next.
    for version in 2..12 {
        race("df-new-0", version).await;
    }
}

#[tokio::test]
async fn an_unreachable_database_fails_fast_as_unavailable() {
    let port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    let started = Instant::now();
    let message = unavailable(
        PostgresStore::connect(&format!(
            "postgres://sluice:pw-Kq7Zs9@127.0.0.1:{port}/state"
        ))
        .await,
    );
    assert!(started.elapsed() < Duration::from_secs(2), "{message}");
    assert!(
        message.starts_with(&format!(
            "cannot open postgres://sluice@127.0.0.1:{port}/state:"
        )),
        "{message}"
    );
    assert!(message.to_lowercase().contains("refused"), "{message}");
    assert!(!message.contains("pw-Kq7Zs9"), "{message}");
}

#[tokio::test]
async fn a_server_that_never_answers_is_unavailable_after_the_connect_timeout() {
    // Accepts connections and never says a word.
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let held = tokio::spawn(async move {
        let mut sockets = Vec::new();
        while let Ok((socket, _)) = listener.accept().await {
            sockets.push(socket);
        }
    });
    let started = Instant::now();
    let message = unavailable(
        PostgresStore::connect_with(
            &format!("postgres://postgres@127.0.0.1:{port}/test"),
            PostgresOptions {
                connect_timeout: Duration::from_millis(500),
                ..PostgresOptions::default()
            },
        )
        .await,
    );
    let waited = started.elapsed();
    assert!(
        waited >= Duration::from_millis(500) && waited < Duration::from_secs(3),
        "{waited:?}: {message}"
    );
    assert!(
        message.contains(&format!("127.0.0.1:{port}/test")),
        "{message}"
    );
    held.abort();
}

/// A TCP relay to the local PostgreSQL that the test can take down, bring back, or freeze.
struct Relay {
    port: u16,
    state: watch::Sender<RelayState>,
    task: Option<tokio::task::JoinHandle<()>>,
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum RelayState {
    Forwarding,
    /// Connections stay open but nothing passes: a server or network that stopped answering.
    Frozen,
}

impl Relay {
    async fn start(port: u16) -> Relay {
        let listener = TcpListener::bind(("127.0.0.1", port)).await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let (state, watch) = watch::channel(RelayState::Forwarding);
        let task = tokio::spawn(async move {
            let mut connections = JoinSet::new();
            while let Ok((mut client, _)) = listener.accept().await {
                let mut watch = watch.clone();
                connections.spawn(async move {
                    let mut server = TcpStream::connect("127.0.0.1:5432").await.unwrap();
                    tokio::select! {
                        _ = tokio::io::copy_bidirectional(&mut client, &mut server) => {}
                        _ = async { drop(watch.wait_for(|s| *s == RelayState::Frozen).await) } => {
                            // Keep both sockets open, and silent.
                            std::future::pending::<()>().await;
                        }
                    }
                });
            }
        });
        Relay {
            port,
            state,
            task: Some(task),
        }
    }

    /// Closes the listener and every connection: the server is down.
    async fn stop(&mut self) {
        if let Some(task) = self.task.take() {
            task.abort();
            let _ = task.await;
        }
    }

    fn freeze(&self) {
        self.state.send_replace(RelayState::Frozen);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn operations_while_the_server_is_down_or_silent_are_unavailable_not_stuck() {
    let schema = fresh_schema();
    let mut relay = Relay::start(0).await;
    let timeouts = PostgresOptions {
        connect_timeout: Duration::from_millis(500),
        operation_timeout: Duration::from_secs(2),
        ..options(&schema)
    };
    let url = format!(
        "postgres://postgres:pw-Kq7Zs9@127.0.0.1:{}/test",
        relay.port
    );
    let store = PostgresStore::connect_with(&url, timeouts).await.unwrap();
    store
        .commit(&only(pipeline_record("df-1", 1)))
        .await
        .unwrap();

    // Down: the pooled connections are cut and new ones refused.
    relay.stop().await;
    for version in [2, 3] {
        let started = Instant::now();
        let message = unavailable(store.commit(&only(pipeline_record("df-1", version))).await);
        assert!(started.elapsed() < Duration::from_secs(3), "{message}");
        assert!(message.contains("127.0.0.1"), "{message}");
        assert!(!message.contains("pw-Kq7Zs9"), "{message}");
    }
    unavailable(store.pipelines().await);

    // Back: the store recovers without being reopened.
    relay = Relay::start(relay.port).await;
    store
        .commit(&only(pipeline_record("df-1", 2)))
        .await
        .unwrap();
    assert_eq!(
        store.pipeline("df-1").await.unwrap().map(|p| p.version),
        Some(2)
    );

    // Silent: the connection stays open and nothing comes back. (First the pool gets back the
    // connection the read used, which it pings on return: frozen before that, the commit would
    // open another connection and fail on the connect timeout instead.)
    tokio::time::sleep(Duration::from_millis(300)).await;
    relay.freeze();
    let started = Instant::now();
    let message = unavailable(store.commit(&only(pipeline_record("df-1", 3))).await);
    let waited = started.elapsed();
    assert!(
        waited >= Duration::from_secs(2) && waited < Duration::from_secs(5),
        "{waited:?}: {message}"
    );
    assert!(message.contains("no answer within 2 s"), "{message}");
    relay.stop().await;
    // Whatever the cut left half done never landed.
    let direct = PostgresStore::connect_with(URL, options(&schema))
        .await
        .unwrap();
    assert_eq!(
        direct.pipeline("df-1").await.unwrap().map(|p| p.version),
        Some(2)
    );
}

/// Log lines written by anything while the test runs.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for Captured {
    type Writer = Captured;

    fn make_writer(&'a self) -> Captured {
        self.clone()
    }
}

#[tokio::test]
async fn passwords_appear_in_no_message_and_no_log() {
    const PASSWORD: &str = "pw-Kq7Zs9";
    const ENCODED: &str = "p%40ss-Zq81"; // p@ss-Zq81
    let logs = Captured::default();
    let _logging = tracing_subscriber::util::SubscriberInitExt::set_default(
        tracing_subscriber::fmt()
            .with_writer(logs.clone())
            .with_ansi(false)
            .with_max_level(tracing_subscriber::filter::LevelFilter::TRACE)
            .finish(),
    );
    let leaks = |text: &str| {
        [PASSWORD, ENCODED, "p@ss-Zq81"]
            .iter()
            .any(|p| text.contains(p))
    };

    // A store that works (trust authentication ignores the password).
    let schema = fresh_schema();
    for url in [
        format!("postgres://postgres:{PASSWORD}@127.0.0.1:5432/test"),
        format!("postgres://postgres:{ENCODED}@127.0.0.1:5432/test?sslmode=prefer"),
        format!("postgres://postgres@127.0.0.1:5432/test?password={PASSWORD}"),
    ] {
        let store = PostgresStore::connect_with(&url, options(&schema))
            .await
            .unwrap();
        assert!(!leaks(&format!("{store:?}")), "{store:?}");
        assert!(!leaks(store.location()), "{}", store.location());
        let pipeline_id = unique_name("df");
        store
            .commit(&only(minimal_pipeline_record(&pipeline_id, 1)))
            .await
            .unwrap();
        store.pipelines().await.unwrap();
        // A stale write: a conflict, which names the pipeline, not the database's password.
        let stale = store
            .commit(&only(minimal_pipeline_record(&pipeline_id, 1)))
            .await;
        let Err(StoreError::Conflict(message)) = stale else {
            panic!("expected a conflict, got {stale:?}");
        };
        assert!(!leaks(&message), "{message}");
        store.close().await;
        let message = unavailable(store.pipelines().await);
        assert!(message.contains("closed"), "{message}");
        assert!(!leaks(&message), "{message}");
    }

    // Every way of failing to open.
    let closed = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    for (url, expected) in [
        (
            format!("postgres://sluice:{PASSWORD}@127.0.0.1:{closed}/state"),
            "refused",
        ),
        (
            format!("postgres://sluice:{ENCODED}@127.0.0.1:{closed}/state"),
            "refused",
        ),
        (
            format!("postgres://postgres:{PASSWORD}@127.0.0.1:5432/no_such_database_here"),
            "does not exist",
        ),
        (
            format!("postgres://postgres:{PASSWORD}@127.0.0.1:notaport/test"),
            "invalid URL",
        ),
        (
            format!("postgres://postgres:{PASSWORD}@127.0.0.1:5432/test?sslmode=bogus"),
            "invalid URL",
        ),
    ] {
        let message = unavailable(PostgresStore::connect(&url).await);
        assert!(message.contains(expected), "{url}: {message}");
        assert!(!leaks(&message), "{message}");
    }
    let logged = String::from_utf8(logs.0.lock().unwrap().clone()).unwrap();
    assert!(logged.contains("sqlx"), "nothing was logged: {logged}");
    assert!(!leaks(&logged), "{logged}");
}

#[tokio::test]
async fn sslmode_is_honoured_against_a_tls_only_server() {
    let server = SslPostgres::start().expect("a TLS-only PostgreSQL cluster starts");
    // `require`: encrypted, the certificate not checked.
    let store = PostgresStore::connect(&server.url("127.0.0.1", "sslmode=require"))
        .await
        .unwrap();
    assert!(store.pipelines().await.unwrap().is_empty());
    store.close().await;
    // `verify-full`: the server's name checked against a certificate the URL says to trust.
    let trusted = format!(
        "sslmode=verify-full&sslrootcert={}",
        server.certificate().display()
    );
    let store = PostgresStore::connect(&server.url("localhost", &trusted))
        .await
        .unwrap();
    assert!(store.pipelines().await.unwrap().is_empty());
    store.close().await;
    // `verify-full` without trusting the test's CA is refused.
    let message =
        unavailable(PostgresStore::connect(&server.url("localhost", "sslmode=verify-full")).await);
    assert!(
        message.starts_with("cannot open postgres://postgres@localhost:"),
        "{message}"
    );
    // `disable`: this server takes encrypted connections only.
    let message =
        unavailable(PostgresStore::connect(&server.url("127.0.0.1", "sslmode=disable")).await);
    assert!(
        message.starts_with("cannot open postgres://postgres@127.0.0.1:"),
        "{message}"
    );
}

#[tokio::test]
async fn a_locked_pipeline_makes_commits_unavailable_not_stuck() {
    let schema = fresh_schema();
    let store = PostgresStore::connect_with(
        URL,
        PostgresOptions {
            lock_timeout: Duration::from_millis(300),
            ..options(&schema)
        },
    )
    .await
    .unwrap();
    store
        .commit(&only(pipeline_record("df-1", 1)))
        .await
        .unwrap();

    // Another session holding the pipeline's row.
    use sqlx::Connection;
    let mut other = sqlx::PgConnection::connect(URL).await.unwrap();
    sqlx::query("BEGIN").execute(&mut other).await.unwrap();
    sqlx::query(&format!(
        "SELECT 1 FROM \"{}\".pipelines WHERE pipeline_id = 'df-1' FOR UPDATE",
        schema.0
    ))
    .execute(&mut other)
    .await
    .unwrap();

    let started = Instant::now();
    let message = unavailable(store.commit(&only(pipeline_record("df-1", 2))).await);
    assert!(started.elapsed() < Duration::from_secs(3), "{message}");
    assert!(message.contains("lock timeout"), "{message}");
    assert!(message.contains("55P03"), "{message}");
    // Records of the pipeline wait for the same lock.
    let instance = instance_record("df-1", "A", day(1));
    unavailable(
        store
            .commit(&ChangeSet {
                instances: vec![instance.clone()],
                ..ChangeSet::default()
            })
            .await,
    );
    // Readers do not wait for writers.
    assert_eq!(store.pipelines().await.unwrap().len(), 1);

    sqlx::query("ROLLBACK").execute(&mut other).await.unwrap();
    store
        .commit(&only(pipeline_record("df-1", 2)))
        .await
        .unwrap();
    assert_eq!(
        store.pipeline("df-1").await.unwrap().map(|p| p.version),
        Some(2)
    );
}

#[tokio::test]
async fn undecodable_data_is_corrupt_and_names_the_record() {
    let store = pg_store().await;
    let instance = instance_record("df-1", "A", day(1));
    store
        .commit(&ChangeSet {
            pipelines: vec![pipeline_record("df-1", 1), pipeline_record("df-2", 1)],
            instances: vec![instance.clone()],
            attempts: vec![attempt_record(&instance, 1)],
        })
        .await
        .unwrap();
    let schema = &store._schema.0;
    psql(&format!(
        "UPDATE \"{schema}\".instances SET data = '{{not json' WHERE pipeline_id = 'df-1'; \
         UPDATE \"{schema}\".attempts SET data = '{{\"pipeline_id\": \"df-1\"}}'; \
         UPDATE \"{schema}\".pipelines SET data = '[]' WHERE pipeline_id = 'df-1'"
    ));
    let message = corrupt(store.instances("df-1").await);
    assert!(
        message.contains("instance @A_2024-01-01T00:00:00 of pipeline df-1"),
        "{message}"
    );
    assert!(message.contains(&format!("(schema {schema})")), "{message}");
    let message = corrupt(store.attempts("df-1").await);
    assert!(message.contains("missing field"), "{message}");
    corrupt(store.pipeline("df-1").await);
    corrupt(store.pipelines().await);
    assert_eq!(
        store.pipeline("df-2").await.unwrap().unwrap().pipeline_id,
        "df-2"
    );
    // Replacing a damaged record repairs it.
    let repaired = InstanceRecord {
        status: Status::Running,
        ..instance
    };
    store
        .commit(&ChangeSet {
            instances: vec![repaired.clone()],
            ..ChangeSet::default()
        })
        .await
        .unwrap();
    assert_eq!(store.instances("df-1").await.unwrap(), vec![repaired]);
}

#[tokio::test]
async fn a_schema_from_a_newer_sluice_is_refused() {
    let store = pg_store().await;
    psql(&format!(
        "INSERT INTO \"{}\"._sqlx_migrations \
         (version, description, success, checksum, execution_time) \
         VALUES (9999, 'from the future', TRUE, '\\x00', 0)",
        store._schema.0
    ));
    let message = corrupt(PostgresStore::connect_with(URL, options(&store._schema)).await);
    assert!(message.contains("newer Sluice"), "{message}");
    assert!(message.contains("9999"), "{message}");
}

/// A commit refused by a check must not leave its transaction, and its row and table locks, to
/// be cleaned up later: the writer it lost to, or a DeletePipeline, may come next.
#[tokio::test]
async fn a_refused_commit_holds_no_lock_once_it_returns() {
    let store = pg_store().await;
    let schema = store._schema.0.clone();
    store
        .commit(&only(pipeline_record("df-1", 2)))
        .await
        .unwrap();
    let orphan = instance_record("df-gone", "A", day(1));
    let refused = [
        only(pipeline_record("df-1", 1)),
        ChangeSet {
            instances: vec![orphan],
            ..ChangeSet::default()
        },
    ];
    for changes in refused {
        let result = store.commit(&changes).await;
        assert!(matches!(result, Err(StoreError::Conflict(_))), "{result:?}");
        // psql blocks this thread, so nothing else of this test's runtime runs meanwhile.
        psql(&format!(
            "BEGIN; LOCK TABLE \"{schema}\".pipelines IN ACCESS EXCLUSIVE MODE NOWAIT; COMMIT"
        ));
    }
}

/// A deadlock is not a conflict between writers: the store runs the transaction again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_commit_chosen_as_a_deadlock_victim_is_run_again() {
    use sqlx::Connection;
    let store = Arc::new(pg_store().await);
    let schema = store._schema.0.clone();
    let instance = instance_record("df-1", "A", day(1));
    store
        .commit(&ChangeSet {
            pipelines: vec![pipeline_record("df-1", 1)],
            instances: vec![instance.clone()],
            ..ChangeSet::default()
        })
        .await
        .unwrap();

    // Another session holds the instance's row, and checks for deadlocks only long after the
    // store's session does, so the store's transaction is the one PostgreSQL aborts.
    let mut other = sqlx::PgConnection::connect(URL).await.unwrap();
    for sql in [
        "SET deadlock_timeout = '20s'".to_owned(),
        "BEGIN".to_owned(),
        format!(
            "SELECT 1 FROM \"{schema}\".instances \
             WHERE pipeline_id = 'df-1' AND instance_id = '{}' FOR UPDATE",
            instance.instance_id
        ),
    ] {
        sqlx::query(&sql).execute(&mut other).await.unwrap();
    }
    let changed = InstanceRecord {
        status: Status::Running,
        ..instance
    };
    let started = Instant::now();
    let commit = tokio::spawn({
        let (store, changed) = (store.clone(), changed.clone());
        async move {
            store
                .commit(&ChangeSet {
                    instances: vec![changed],
                    ..ChangeSet::default()
                })
                .await
        }
    });
    // The commit now holds the pipeline's row and waits for the instance's; asking for the
    // pipeline's row closes the cycle. It is granted once the store's transaction is aborted.
    tokio::time::sleep(Duration::from_millis(300)).await;
    sqlx::query(&format!(
        "SELECT 1 FROM \"{schema}\".pipelines WHERE pipeline_id = 'df-1' FOR UPDATE"
    ))
    .execute(&mut other)
    .await
    .unwrap();
    sqlx::query("COMMIT").execute(&mut other).await.unwrap();

    commit.await.unwrap().expect("the commit is run again");
    assert!(started.elapsed() >= Duration::from_millis(900));
    assert_eq!(store.instances("df-1").await.unwrap(), vec![changed]);
}

/// Rows of a schema migrated before the id hash existed get it when a store next connects.
#[tokio::test]
async fn instances_written_before_the_id_hash_existed_get_it_on_connect() {
    let store = pg_store().await;
    let schema = store._schema.0.clone();
    let instances: Vec<InstanceRecord> = (0..25_000)
        .map(|n| instance_record("df-1", "A", at((2024, 1, 1), (0, 0, 0), n)))
        .collect();
    store
        .commit(&ChangeSet {
            pipelines: vec![pipeline_record("df-1", 1)],
            instances: instances.clone(),
            ..ChangeSet::default()
        })
        .await
        .unwrap();
    psql(&format!("UPDATE \"{schema}\".instances SET id_hash = NULL"));
    let reconnected = PostgresStore::connect_with(URL, options(&store._schema))
        .await
        .unwrap();
    for instance in [&instances[0], &instances[17_000], &instances[24_999]] {
        assert_eq!(
            reconnected
                .instances_with_id_hash("df-1", sluice_engine::id_hash(&instance.instance_id))
                .await
                .unwrap(),
            vec![instance.clone()]
        );
    }
    let missing = psql(&format!(
        "SELECT count(*) FROM \"{schema}\".instances WHERE id_hash IS NULL"
    ));
    assert_eq!(missing.trim(), "0");
}
