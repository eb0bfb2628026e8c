//! Executors reading and writing `s3://` data, each behaviour run twice: against a real S3
//! server (s3s-fs on loopback, checking signatures) and against the embedded store under the
//! data directory. Objects are put in place and checked through the server's (or the embedded
//! store's) files, never through the code under test.

mod attempt_support;

use std::fs;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use sluice_executors::{AttemptContext, RunnerSettings};

use attempt_support::{Ids, assert_failed, attempt_context, execute, object, objects_by_id, r, s};
use sluice_data::DataSettings;
use sluice_data::storage::{S3Settings, Secret};
use sluice_model::{Field, PipelineObject, TaskResult, TaskStatus};
use sluice_testsupport::s3::S3Server;
use tempfile::TempDir;

const ATTEMPT_ID: &str = "@Job_2024-01-01T00:00:00_Attempt=1";

#[derive(Clone, Copy, Debug)]
enum Backend {
    S3Server,
    Embedded,
}

/// A staged ShellCommandActivity on input `In` whose command touches `marker`: the marker
/// shows whether the command ran.
fn staged_touch(marker: &Path) -> Vec<Field> {
    vec![
        s("stage", "true"),
        r("input", "In"),
        s("command", &format!("touch {}", marker.display())),
    ]
}

struct Env {
    tmp: TempDir,
    server: Option<S3Server>,
    settings: S3Settings,
}

impl Env {
    fn new(backend: Backend) -> Env {
        let server = matches!(backend, Backend::S3Server).then(S3Server::start);
        let settings = match &server {
            Some(server) => S3Settings {
                endpoint: Some(server.endpoint()),
                access_key_id: Some(server.access_key().into()),
                secret_access_key: Some(Secret::new(server.secret_key())),
                ..S3Settings::default()
            },
            None => S3Settings::default(),
        };
        Env {
            tmp: tempfile::tempdir().unwrap(),
            server,
            settings,
        }
    }

    fn data_dir(&self) -> PathBuf {
        self.tmp.path().join("data")
    }

    fn attempt_dir(&self) -> PathBuf {
        self.tmp.path().join("attempt")
    }

    fn bucket(&self, name: &str) {
        if let Some(server) = &self.server {
            server.create_bucket(name);
        }
    }

    /// The file holding `s3://bucket/key` in whichever store is in use.
    fn object_file(&self, bucket: &str, key: &str) -> PathBuf {
        match &self.server {
            Some(server) => server.object_file(bucket, key),
            None => key
                .split('/')
                .fold(self.data_dir().join("s3").join(bucket), |p, k| p.join(k)),
        }
    }

    fn put(&self, bucket: &str, key: &str, text: &str) {
        self.bucket(bucket);
        let file = self.object_file(bucket, key);
        fs::create_dir_all(file.parent().unwrap()).unwrap();
        fs::write(file, text).unwrap();
    }

    fn read(&self, bucket: &str, key: &str) -> Option<String> {
        fs::read_to_string(self.object_file(bucket, key)).ok()
    }

    fn ctx(
        &self,
        type_name: &str,
        fields: Vec<Field>,
        others: Vec<PipelineObject>,
    ) -> AttemptContext {
        self.ctx_with(self.settings.clone(), type_name, fields, others)
    }

    fn ctx_with(
        &self,
        s3: S3Settings,
        type_name: &str,
        fields: Vec<Field>,
        others: Vec<PipelineObject>,
    ) -> AttemptContext {
        let mut attempt_fields = vec![s("type", type_name)];
        attempt_fields.extend(fields);
        attempt_context(
            Ids {
                task: "task-1",
                pipeline: "df-S3TEST",
                attempt: ATTEMPT_ID,
            },
            objects_by_id(object(ATTEMPT_ID, attempt_fields), others),
            self.attempt_dir(),
            RunnerSettings {
                data_dir: self.data_dir(),
                data: Arc::new(DataSettings {
                    s3,
                    ..DataSettings::default()
                }),
            },
        )
    }

    fn stdout(&self) -> String {
        fs::read_to_string(self.attempt_dir().join("stdout.log")).unwrap_or_default()
    }
}

fn s3_node(id: &str, path_field: &str, path: &str) -> PipelineObject {
    object(id, vec![s("type", "S3DataNode"), s(path_field, path)])
}

/// Runs a behaviour against both backends, as two tests.
macro_rules! on_both_backends {
    ($($name:ident),* $(,)?) => {$(
        mod $name {
            #[tokio::test]
            async fn s3_server() {
                super::$name(super::Backend::S3Server).await
            }

            #[tokio::test]
            async fn embedded() {
                super::$name(super::Backend::Embedded).await
            }
        }
    )*};
}

on_both_backends!(
    staging_downloads_inputs_and_uploads_outputs,
    staging_a_missing_input_fails_before_running,
    script_uri_is_downloaded_and_run,
    stdout_and_stderr_go_to_objects_and_accumulate,
    output_objects_are_written_when_the_command_fails,
    s3_key_exists_checks_one_key,
    s3_prefix_not_empty_checks_key_prefixes,
    exists_checks_s3_data_nodes,
);

async fn staging_downloads_inputs_and_uploads_outputs(backend: Backend) {
    let env = Env::new(backend);
    env.put("inputs", "day/a.txt", "A\n");
    env.put("inputs", "day/sub/b.txt", "B\n");
    env.put("inputs", "single.csv", "C\n");
    env.put("inputs", "dayafter/not-staged.txt", "X\n");
    env.bucket("outputs");
    let fields = vec![
        s("stage", "true"),
        r("input", "DirInput"),
        r("input", "FileInput"),
        r("output", "Out"),
        s(
            "command",
            r#"cat "$INPUT1_STAGING_DIR/a.txt" "$INPUT1_STAGING_DIR/sub/b.txt" "$INPUT2_STAGING_DIR/single.csv" > "$OUTPUT1_STAGING_DIR/result.txt"; ls "$INPUT1_STAGING_DIR" > "$OUTPUT1_STAGING_DIR/listing.txt"; mkdir "$OUTPUT1_STAGING_DIR/nested"; echo n > "$OUTPUT1_STAGING_DIR/nested/n.txt""#,
        ),
    ];
    let others = vec![
        s3_node("DirInput", "directoryPath", "s3://inputs/day"),
        s3_node("FileInput", "filePath", "s3://inputs/single.csv"),
        s3_node("Out", "directoryPath", "s3://outputs/result/2024-01-01"),
    ];
    let ctx = env.ctx("ShellCommandActivity", fields, others);
    assert_eq!(execute(&ctx).await, TaskResult::finished(), "{backend:?}");
    assert_eq!(
        env.read("outputs", "result/2024-01-01/result.txt")
            .as_deref(),
        Some("A\nB\nC\n")
    );
    assert_eq!(
        env.read("outputs", "result/2024-01-01/nested/n.txt")
            .as_deref(),
        Some("n\n")
    );
    // Only what is under the directory is staged, not what merely shares its name's prefix.
    assert_eq!(
        env.read("outputs", "result/2024-01-01/listing.txt")
            .as_deref(),
        Some("a.txt\nsub\n")
    );
}

async fn staging_a_missing_input_fails_before_running(backend: Backend) {
    let env = Env::new(backend);
    env.bucket("inputs");
    let marker = env.tmp.path().join("ran");
    let ctx = env.ctx(
        "ShellCommandActivity",
        staged_touch(&marker),
        vec![s3_node("In", "directoryPath", "s3://inputs/nothing/here")],
    );
    assert_failed(
        &execute(&ctx).await,
        "StagingFailed",
        "input In: directory s3://inputs/nothing/here does not exist",
    );

    let ctx = env.ctx(
        "ShellCommandActivity",
        staged_touch(&marker),
        vec![s3_node("In", "filePath", "s3://inputs/missing.csv")],
    );
    assert_failed(
        &execute(&ctx).await,
        "StagingFailed",
        "s3://inputs/missing.csv does not exist",
    );
    assert!(!marker.exists(), "the command must not run");
}

async fn script_uri_is_downloaded_and_run(backend: Backend) {
    let env = Env::new(backend);
    env.put("code", "jobs/run.sh", "echo \"from-store $1|$2\"\n");
    let ctx = env.ctx(
        "ShellCommandActivity",
        vec![
            s("scriptUri", "s3://code/jobs/run.sh"),
            s("scriptArgument", "a b"),
            s("scriptArgument", "c"),
        ],
        vec![],
    );
    assert_eq!(execute(&ctx).await, TaskResult::finished());
    assert_eq!(env.stdout(), "from-store a b|c\n");
    assert!(env.attempt_dir().join("scripts/run.sh").is_file());

    let ctx = env.ctx(
        "ShellCommandActivity",
        vec![s("scriptUri", "s3://code/jobs/missing.sh")],
        vec![],
    );
    assert_failed(
        &execute(&ctx).await,
        "ScriptNotFound",
        "s3://code/jobs/missing.sh does not exist",
    );
}

async fn stdout_and_stderr_go_to_objects_and_accumulate(backend: Backend) {
    let env = Env::new(backend);
    env.bucket("logs");
    let ctx = env.ctx(
        "ShellCommandActivity",
        vec![
            s("command", "echo to-out; echo to-err >&2"),
            s("stdout", "s3://logs/run/out.txt"),
            s("stderr", "s3://logs/run/err.txt"),
        ],
        vec![],
    );
    assert_eq!(execute(&ctx).await, TaskResult::finished());
    assert_eq!(env.read("logs", "run/out.txt").as_deref(), Some("to-out\n"));
    assert_eq!(env.read("logs", "run/err.txt").as_deref(), Some("to-err\n"));
    // A second run (a retry) adds to what the first wrote.
    assert_eq!(execute(&ctx).await, TaskResult::finished());
    assert_eq!(
        env.read("logs", "run/out.txt").as_deref(),
        Some("to-out\nto-out\n")
    );
    assert_eq!(
        env.stdout(),
        "to-out\nto-out\n",
        "the attempt's own log is kept too"
    );

    // Both streams to one object.
    let ctx = env.ctx(
        "ShellCommandActivity",
        vec![
            s("command", "echo one; echo two >&2"),
            s("stdout", "s3://logs/both.txt"),
            s("stderr", "s3://logs/both.txt"),
        ],
        vec![],
    );
    assert_eq!(execute(&ctx).await, TaskResult::finished());
    let both = env.read("logs", "both.txt").unwrap();
    let mut lines: Vec<_> = both.lines().collect();
    lines.sort();
    assert_eq!(lines, ["one", "two"]);
}

async fn output_objects_are_written_when_the_command_fails(backend: Backend) {
    let env = Env::new(backend);
    env.bucket("logs");
    let ctx = env.ctx(
        "ShellCommandActivity",
        vec![
            s("command", "echo why-it-failed >&2; exit 4"),
            s("stderr", "s3://logs/failed/err.txt"),
        ],
        vec![],
    );
    assert_failed(&execute(&ctx).await, "ShellCommandFailed", "status 4");
    assert_eq!(
        env.read("logs", "failed/err.txt").as_deref(),
        Some("why-it-failed\n")
    );
}

async fn s3_key_exists_checks_one_key(backend: Backend) {
    let env = Env::new(backend);
    env.put("bkt", "ready/_SUCCESS", "");
    let check = |key: &str| env.ctx("S3KeyExists", vec![s("role", "r"), s("s3Key", key)], vec![]);
    assert_eq!(
        execute(&check("s3://bkt/ready/_SUCCESS")).await,
        TaskResult::finished()
    );
    assert_eq!(
        execute(&check("s3://bkt/ready/_MISSING")).await,
        TaskResult::condition_false()
    );
    assert_eq!(
        execute(&check("s3://bkt/ready/_SUCC")).await,
        TaskResult::condition_false(),
        "a key is not a prefix"
    );
    assert_failed(
        &execute(&check("ftp://b/x")).await,
        "InvalidTask",
        "unsupported URI scheme 'ftp'",
    );
}

async fn s3_prefix_not_empty_checks_key_prefixes(backend: Backend) {
    let env = Env::new(backend);
    env.put("bkt", "logs/2024-01-01.txt", "x");
    env.bucket("empty");
    let check = |prefix: &str| {
        env.ctx(
            "S3PrefixNotEmpty",
            vec![s("role", "r"), s("s3Prefix", prefix)],
            vec![],
        )
    };
    for (prefix, expected) in [
        ("s3://bkt/logs/", TaskStatus::Finished),
        ("s3://bkt/logs", TaskStatus::Finished),
        ("s3://bkt/logs/2024-", TaskStatus::Finished),
        ("s3://bkt/logs/2025-", TaskStatus::False),
        ("s3://bkt/other/", TaskStatus::False),
        ("s3://empty/", TaskStatus::False),
    ] {
        let result = execute(&check(prefix)).await;
        assert_eq!(result.task_status, expected, "{prefix}: {result:?}");
    }
}

async fn exists_checks_s3_data_nodes(backend: Backend) {
    let env = Env::new(backend);
    env.put("bkt", "present.csv", "x");
    env.put("bkt", "dir/part-0", "x");
    let cases = [
        ("filePath", "s3://bkt/present.csv", TaskStatus::Finished),
        ("filePath", "s3://bkt/absent.csv", TaskStatus::False),
        ("directoryPath", "s3://bkt/dir", TaskStatus::Finished),
        ("directoryPath", "s3://bkt/dir/", TaskStatus::Finished),
        ("directoryPath", "s3://bkt/nodir", TaskStatus::False),
        ("directoryPath", "s3://bkt/present.csv", TaskStatus::False),
    ];
    for (field, path, expected) in cases {
        let ctx = env.ctx(
            "Exists",
            vec![r("node", "Node")],
            vec![s3_node("Node", field, path)],
        );
        let result = execute(&ctx).await;
        assert_eq!(result.task_status, expected, "{field}={path}: {result:?}");
    }
}

// ----- only meaningful against a server -------------------------------------------------------

#[tokio::test]
async fn a_wrong_secret_fails_checks_and_staging_without_revealing_it() {
    let env = Env::new(Backend::S3Server);
    env.put("bkt", "k.txt", "x");
    let wrong = S3Settings {
        secret_access_key: Some(Secret::new("wrong-secret-q7")),
        ..env.settings.clone()
    };
    let ctx = env.ctx_with(
        wrong.clone(),
        "S3KeyExists",
        vec![s("role", "r"), s("s3Key", "s3://bkt/k.txt")],
        vec![],
    );
    let result = execute(&ctx).await;
    assert_failed(
        &result,
        "StorageFailed",
        "access to s3://bkt/k.txt was refused",
    );
    assert!(!format!("{result:?}").contains("wrong-secret-q7"));

    let marker = env.tmp.path().join("ran");
    let ctx = env.ctx_with(
        wrong,
        "ShellCommandActivity",
        staged_touch(&marker),
        vec![s3_node("In", "filePath", "s3://bkt/k.txt")],
    );
    let result = execute(&ctx).await;
    assert_failed(&result, "StagingFailed", "s3://bkt/k.txt");
    assert!(!format!("{result:?}").contains("wrong-secret-q7"));
    assert!(!marker.exists());
}

#[tokio::test]
async fn a_missing_bucket_fails_the_check_naming_it() {
    let env = Env::new(Backend::S3Server);
    let ctx = env.ctx(
        "S3KeyExists",
        vec![s("role", "r"), s("s3Key", "s3://nobucket/k")],
        vec![],
    );
    assert_failed(
        &execute(&ctx).await,
        "StorageFailed",
        "bucket 'nobucket' of s3://nobucket/k does not exist",
    );
    let ctx = env.ctx(
        "S3PrefixNotEmpty",
        vec![s("role", "r"), s("s3Prefix", "s3://nobucket/p/")],
        vec![],
    );
    assert_failed(
        &execute(&ctx).await,
        "StorageFailed",
        "bucket 'nobucket' of s3://nobucket/p/ does not exist",
    );
}

#[tokio::test]
async fn refused_output_objects_fail_before_running() {
    let env = Env::new(Backend::S3Server);
    env.bucket("logs");
    let wrong = S3Settings {
        secret_access_key: Some(Secret::new("wrong-secret-q7")),
        ..env.settings.clone()
    };
    let marker = env.tmp.path().join("ran");
    let ctx = env.ctx_with(
        wrong,
        "ShellCommandActivity",
        vec![
            s("command", &format!("touch {}", marker.display())),
            s("stdout", "s3://logs/out.txt"),
        ],
        vec![],
    );
    assert_failed(
        &execute(&ctx).await,
        "StorageFailed",
        "stdout: access to s3://logs/out.txt was refused",
    );
    assert!(!marker.exists());
}
