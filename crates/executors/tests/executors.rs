//! The runner-side executors against real `sh` processes and a temporary data directory.

mod attempt_support;

use std::fs;
use std::path::{Path, PathBuf};
use std::time::Duration;

use sluice_executors::exec::process::{ProcessError, ProcessOutcome, ProcessSpec, run_process};
use sluice_executors::{AttemptContext, RunnerSettings};

use attempt_support::{Ids, assert_failed, attempt_context, execute, object, objects_by_id, r, s};
use sluice_model::{Field, PipelineObject, TaskResult, TaskStatus};
use sluice_testsupport::poll::eventually;
use sluice_testsupport::process::{is_running, read_pid};
use tempfile::TempDir;
use tokio_util::sync::CancellationToken;

const ATTEMPT_ID: &str = "@Job_2024-01-01T00:00:00_Attempt=1";
const PIPELINE_ID: &str = "df-TEST";

struct Env {
    tmp: TempDir,
}

impl Env {
    fn new() -> Self {
        Env {
            tmp: tempfile::tempdir().unwrap(),
        }
    }

    fn path(&self, rel: &str) -> PathBuf {
        self.tmp.path().join(rel)
    }

    fn data_dir(&self) -> PathBuf {
        self.path("data")
    }

    fn attempt_dir(&self) -> PathBuf {
        self.path("attempt")
    }

    /// A context for an attempt of `type_name` with `fields`, plus `others` as the objects the
    /// attempt references.
    fn ctx(
        &self,
        type_name: &str,
        fields: Vec<Field>,
        others: Vec<PipelineObject>,
    ) -> AttemptContext {
        let mut attempt_fields = vec![s("type", type_name)];
        attempt_fields.extend(fields);
        attempt_context(
            Ids {
                task: "task-1",
                pipeline: PIPELINE_ID,
                attempt: ATTEMPT_ID,
            },
            objects_by_id(object(ATTEMPT_ID, attempt_fields), others),
            self.attempt_dir(),
            RunnerSettings {
                data_dir: self.data_dir(),
                ..RunnerSettings::default()
            },
        )
    }

    fn stdout(&self) -> String {
        fs::read_to_string(self.attempt_dir().join("stdout.log")).unwrap_or_default()
    }
}

fn write(path: &Path, text: &str) {
    fs::create_dir_all(path.parent().unwrap()).unwrap();
    fs::write(path, text).unwrap();
}

// ----- ShellCommandActivity -------------------------------------------------------------------

#[tokio::test]
async fn script_arguments_are_positional_parameters_verbatim() {
    let env = Env::new();
    let ctx = env.ctx(
        "ShellCommandActivity",
        vec![
            s("command", r#"printf '<%s>' "$@"; echo " $#""#),
            s("scriptArgument", "two words"),
            s("scriptArgument", "it's"),
            s("scriptArgument", r#""quoted" $HOME"#),
            s("scriptArgument", ""),
        ],
        vec![],
    );
    let result = execute(&ctx).await;
    assert_eq!(result, TaskResult::finished());
    assert_eq!(env.stdout(), "<two words><it's><\"quoted\" $HOME><> 4\n");
}

#[tokio::test]
async fn runs_in_the_attempt_directory_with_sluice_variables() {
    let env = Env::new();
    let ctx = env.ctx(
        "ShellCommandActivity",
        vec![s(
            "command",
            r#"echo "$SLUICE_ATTEMPT_ID|$SLUICE_PIPELINE_ID|$(pwd -P)""#,
        )],
        vec![],
    );
    assert_eq!(execute(&ctx).await, TaskResult::finished());
    let cwd = fs::canonicalize(env.attempt_dir()).unwrap();
    assert_eq!(
        env.stdout(),
        format!("{ATTEMPT_ID}|{PIPELINE_ID}|{}\n", cwd.display())
    );
}

#[tokio::test]
async fn non_zero_exit_fails_with_the_tail_of_stderr() {
    let env = Env::new();
    let ctx = env.ctx(
        "ShellCommandActivity",
        vec![s(
            "command",
            r#"i=1; while [ $i -le 30 ]; do echo "problem $i" >&2; i=$((i+1)); done; exit 3"#,
        )],
        vec![],
    );
    let result = execute(&ctx).await;
    assert_failed(
        &result,
        "ShellCommandFailed",
        "command exited with status 3",
    );
    let message = result.error_message.unwrap();
    assert!(message.contains("problem 30"), "{message}");
    assert!(message.contains("problem 11\n"), "{message}");
    assert!(
        !message.contains("problem 10\n"),
        "only the last 20 lines: {message}"
    );
    let stderr = fs::read_to_string(env.attempt_dir().join("stderr.log")).unwrap();
    assert_eq!(stderr.lines().count(), 30, "the log keeps everything");
}

#[tokio::test]
async fn death_by_signal_is_reported_as_such() {
    let env = Env::new();
    let ctx = env.ctx(
        "ShellCommandActivity",
        vec![s("command", "kill -KILL $$")],
        vec![],
    );
    assert_failed(
        &execute(&ctx).await,
        "ShellCommandFailed",
        "killed by signal 9 (SIGKILL)",
    );
}

#[tokio::test]
async fn stdout_and_stderr_fields_also_receive_the_output() {
    let env = Env::new();
    let out = env.path("elsewhere/deep/out.txt");
    let fields = vec![
        s("command", "echo to-out; echo to-err >&2"),
        s("stdout", out.to_str().unwrap()),
        s("stderr", "s3://logs/run/err.txt"),
    ];
    let ctx = env.ctx("ShellCommandActivity", fields, vec![]);
    assert_eq!(execute(&ctx).await, TaskResult::finished());
    // A second run appends rather than replaces.
    assert_eq!(execute(&ctx).await, TaskResult::finished());
    assert_eq!(fs::read_to_string(&out).unwrap(), "to-out\nto-out\n");
    let err = env.data_dir().join("s3/logs/run/err.txt");
    assert_eq!(fs::read_to_string(err).unwrap(), "to-err\nto-err\n");
    assert_eq!(env.stdout(), "to-out\nto-out\n");
    assert_eq!(
        fs::read_to_string(env.attempt_dir().join("stderr.log")).unwrap(),
        "to-err\nto-err\n"
    );
}

#[tokio::test]
async fn script_uri_from_a_local_file_runs_under_sh_with_arguments() {
    let env = Env::new();
    let script = env.path("scripts/hello.sh");
    write(&script, "echo \"hello $1|$2\"\n");
    for uri in [
        script.to_str().unwrap().to_string(),
        format!("file://{}", script.display()),
    ] {
        let _ = fs::remove_file(env.attempt_dir().join("stdout.log"));
        let ctx = env.ctx(
            "ShellCommandActivity",
            vec![
                s("scriptUri", &uri),
                s("scriptArgument", "a b"),
                s("scriptArgument", "c"),
            ],
            vec![],
        );
        assert_eq!(execute(&ctx).await, TaskResult::finished(), "{uri}");
        assert_eq!(env.stdout(), "hello a b|c\n", "{uri}");
        assert!(env.attempt_dir().join("scripts/hello.sh").is_file());
    }
}

#[tokio::test]
async fn script_uri_in_s3_reads_the_embedded_object_store() {
    let env = Env::new();
    write(
        &env.data_dir().join("s3/bucket/jobs/run.sh"),
        "echo from-store; exit 0\n",
    );
    let ctx = env.ctx(
        "ShellCommandActivity",
        vec![s("scriptUri", "s3://bucket/jobs/run.sh")],
        vec![],
    );
    assert_eq!(execute(&ctx).await, TaskResult::finished());
    assert_eq!(env.stdout(), "from-store\n");
}

#[tokio::test]
async fn bad_script_uris_fail_clearly() {
    let env = Env::new();
    let ctx = env.ctx(
        "ShellCommandActivity",
        vec![s("scriptUri", "s3://bucket/missing.sh")],
        vec![],
    );
    assert_failed(
        &execute(&ctx).await,
        "ScriptNotFound",
        "s3://bucket/missing.sh",
    );

    let ctx = env.ctx(
        "ShellCommandActivity",
        vec![s("scriptUri", "https://example.com/x.sh")],
        vec![],
    );
    assert_failed(
        &execute(&ctx).await,
        "InvalidTask",
        "unsupported URI scheme 'https'",
    );

    let ctx = env.ctx("ShellCommandActivity", vec![], vec![]);
    assert_failed(
        &execute(&ctx).await,
        "InvalidTask",
        "set command or scriptUri",
    );
}

fn s3_node(id: &str, path_field: &str, path: &str) -> PipelineObject {
    object(id, vec![s("type", "S3DataNode"), s(path_field, path)])
}

#[tokio::test]
async fn staging_copies_inputs_in_and_outputs_out() {
    let env = Env::new();
    write(&env.data_dir().join("s3/in/day/a.txt"), "A\n");
    write(&env.data_dir().join("s3/in/day/sub/b.txt"), "B\n");
    let single = env.path("local/single.csv");
    write(&single, "C\n");
    let out_dir = env.path("results");
    let fields = vec![
        s("stage", "true"),
        r("input", "DirInput"),
        r("input", "FileInput"),
        r("output", "Out"),
        s(
            "command",
            r#"cat "$INPUT1_STAGING_DIR/a.txt" "$INPUT1_STAGING_DIR/sub/b.txt" "$INPUT2_STAGING_DIR/single.csv" > "$OUTPUT1_STAGING_DIR/result.txt"; mkdir "$OUTPUT1_STAGING_DIR/nested"; echo n > "$OUTPUT1_STAGING_DIR/nested/n.txt""#,
        ),
    ];
    let others = vec![
        s3_node("DirInput", "directoryPath", "s3://in/day"),
        s3_node("FileInput", "filePath", single.to_str().unwrap()),
        s3_node("Out", "directoryPath", out_dir.to_str().unwrap()),
    ];
    let ctx = env.ctx("ShellCommandActivity", fields, others);
    assert_eq!(execute(&ctx).await, TaskResult::finished());
    assert_eq!(
        fs::read_to_string(out_dir.join("result.txt")).unwrap(),
        "A\nB\nC\n"
    );
    assert_eq!(
        fs::read_to_string(out_dir.join("nested/n.txt")).unwrap(),
        "n\n"
    );
    assert!(env.attempt_dir().join("staging/input1/sub/b.txt").is_file());
}

#[tokio::test]
async fn staged_outputs_are_not_published_when_the_command_fails() {
    let env = Env::new();
    let out_dir = env.path("results");
    let ctx = env.ctx(
        "ShellCommandActivity",
        vec![
            s("stage", "true"),
            r("output", "Out"),
            s(
                "command",
                r#"echo partial > "$OUTPUT1_STAGING_DIR/r.txt"; exit 1"#,
            ),
        ],
        vec![s3_node("Out", "directoryPath", "s3://out/x")],
    );
    assert_failed(&execute(&ctx).await, "ShellCommandFailed", "status 1");
    assert!(!out_dir.join("r.txt").exists());
    assert!(!env.data_dir().join("s3/out/x/r.txt").exists());
}

#[tokio::test]
async fn output_staging_requires_a_directory_path() {
    let env = Env::new();
    let marker = env.path("ran");
    let ctx = env.ctx(
        "ShellCommandActivity",
        vec![
            s("stage", "true"),
            r("output", "OutFile"),
            s("command", &format!("touch {}", marker.display())),
        ],
        vec![s3_node("OutFile", "filePath", "s3://out/file.csv")],
    );
    assert_failed(
        &execute(&ctx).await,
        "InvalidTask",
        "output staging requires directoryPath on OutFile",
    );
    assert!(!marker.exists(), "the command must not run");
}

#[tokio::test]
async fn missing_staged_input_fails_before_running() {
    let env = Env::new();
    let ctx = env.ctx(
        "ShellCommandActivity",
        vec![s("stage", "true"), r("input", "In"), s("command", "true")],
        vec![s3_node("In", "directoryPath", "s3://nowhere/dir")],
    );
    assert_failed(&execute(&ctx).await, "StagingFailed", "does not exist");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cancellation_kills_the_command_and_everything_it_started() {
    let env = Env::new();
    let command = "sleep 1000 & echo $! > bg.pid; \
                   (trap '' TERM; exec sleep 1000) & echo $! > stubborn.pid; \
                   echo $$ > sh.pid; \
                   wait";
    let ctx = env.ctx("ShellCommandActivity", vec![s("command", command)], vec![]);
    let cancel = ctx.cancel.clone();
    let dir = env.attempt_dir();
    let running = tokio::spawn(async move { execute(&ctx).await });

    let pid_files = ["bg.pid", "stubborn.pid", "sh.pid"].map(|f| dir.join(f));
    assert!(
        eventually(Duration::from_secs(10), || pid_files
            .iter()
            .all(|p| read_pid(p).is_some()))
        .await,
        "the command never started its children"
    );
    let pids: Vec<u32> = pid_files.iter().map(|p| read_pid(p).unwrap()).collect();
    assert!(pids.iter().all(|&pid| is_running(pid)));

    cancel.cancel();
    let result = tokio::time::timeout(Duration::from_secs(30), running)
        .await
        .expect("the executor stops after cancellation")
        .unwrap();
    assert_failed(&result, "Canceled", "canceled");
    assert!(
        eventually(Duration::from_secs(10), || pids
            .iter()
            .all(|&pid| !is_running(pid)))
        .await,
        "processes still alive: {:?}",
        pids.iter()
            .filter(|&&pid| is_running(pid))
            .collect::<Vec<_>>()
    );
}

#[tokio::test]
async fn an_already_canceled_attempt_runs_nothing() {
    let env = Env::new();
    let marker = env.path("ran");
    let ctx = env.ctx(
        "ShellCommandActivity",
        vec![s("command", &format!("touch {}", marker.display()))],
        vec![],
    );
    ctx.cancel.cancel();
    assert_failed(&execute(&ctx).await, "Canceled", "canceled");
    assert!(!marker.exists());
}

// ----- process helper -------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_process_ignoring_sigterm_is_killed_after_the_grace_period() {
    let env = Env::new();
    let pid_file = env.path("pid");
    let mut spec = ProcessSpec::new("sh", env.tmp.path());
    spec.args = vec![
        "-c".into(),
        format!(
            "trap '' TERM; echo $$ > {}; while :; do sleep 1; done",
            pid_file.display()
        )
        .into(),
    ];
    spec.kill_grace = Duration::from_millis(200);
    let cancel = CancellationToken::new();
    let running = tokio::spawn({
        let cancel = cancel.clone();
        async move { run_process(spec, &cancel).await }
    });
    assert!(eventually(Duration::from_secs(10), || read_pid(&pid_file).is_some()).await);
    let pid = read_pid(&pid_file).unwrap();
    cancel.cancel();
    let report = tokio::time::timeout(Duration::from_secs(30), running)
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    assert_eq!(report.outcome, ProcessOutcome::Canceled);
    assert!(eventually(Duration::from_secs(10), || !is_running(pid)).await);
}

#[tokio::test]
async fn spawn_failures_are_errors_not_outcomes() {
    let env = Env::new();
    let spec = ProcessSpec::new("/nonexistent/program", env.tmp.path());
    let err = run_process(spec, &CancellationToken::new())
        .await
        .unwrap_err();
    assert!(matches!(err, ProcessError::Spawn { .. }), "{err}");
    assert!(err.to_string().contains("/nonexistent/program"), "{err}");
}

#[tokio::test]
async fn unwritable_output_files_fail_before_spawning() {
    let env = Env::new();
    let blocker = env.path("file");
    write(&blocker, "x");
    let ctx = env.ctx(
        "ShellCommandActivity",
        vec![
            s("command", "echo hi"),
            s("stdout", &format!("{}/below/out.txt", blocker.display())),
        ],
        vec![],
    );
    assert_failed(
        &execute(&ctx).await,
        "OutputCaptureFailed",
        "cannot open output file",
    );
}

// ----- ShellCommandPrecondition ---------------------------------------------------------------

#[tokio::test]
async fn precondition_exit_status_decides_true_or_false() {
    let env = Env::new();
    let ctx = env.ctx(
        "ShellCommandPrecondition",
        vec![
            s("command", r#"[ "$1" = yes ]"#),
            s("scriptArgument", "yes"),
        ],
        vec![],
    );
    assert_eq!(execute(&ctx).await, TaskResult::finished());

    let ctx = env.ctx(
        "ShellCommandPrecondition",
        vec![s("command", r#"[ "$1" = yes ]"#), s("scriptArgument", "no")],
        vec![],
    );
    assert_eq!(execute(&ctx).await, TaskResult::condition_false());

    let ctx = env.ctx(
        "ShellCommandPrecondition",
        vec![s("command", "kill -KILL $$")],
        vec![],
    );
    assert_failed(&execute(&ctx).await, "ShellCommandFailed", "SIGKILL");

    let ctx = env.ctx("ShellCommandPrecondition", vec![], vec![]);
    assert_failed(&execute(&ctx).await, "InvalidTask", "command or scriptUri");
}

#[tokio::test]
async fn precondition_scripts_and_output_files_work_like_the_activity() {
    let env = Env::new();
    write(
        &env.data_dir().join("s3/b/check.sh"),
        "echo checked \"$1\"; exit 2\n",
    );
    let ctx = env.ctx(
        "ShellCommandPrecondition",
        vec![
            s("scriptUri", "s3://b/check.sh"),
            s("scriptArgument", "x y"),
            s("stdout", "s3://b/out.log"),
        ],
        vec![],
    );
    assert_eq!(execute(&ctx).await, TaskResult::condition_false());
    assert_eq!(
        fs::read_to_string(env.data_dir().join("s3/b/out.log")).unwrap(),
        "checked x y\n"
    );
}

// ----- Exists ---------------------------------------------------------------------------------

#[tokio::test]
async fn exists_checks_the_node_it_is_evaluated_for() {
    let env = Env::new();
    write(&env.data_dir().join("s3/b/present.csv"), "x");
    fs::create_dir_all(env.data_dir().join("s3/b/dir")).unwrap();
    let local = env.path("local.txt");
    write(&local, "x");

    let cases = [
        (
            "filePath",
            "s3://b/present.csv".to_string(),
            TaskStatus::Finished,
        ),
        (
            "filePath",
            "s3://b/absent.csv".to_string(),
            TaskStatus::False,
        ),
        (
            "filePath",
            local.to_str().unwrap().to_string(),
            TaskStatus::Finished,
        ),
        ("filePath", "s3://b/dir".to_string(), TaskStatus::False),
        (
            "filePath",
            "s3://b/present.csv/below".to_string(),
            TaskStatus::False,
        ),
        (
            "directoryPath",
            "s3://b/dir".to_string(),
            TaskStatus::Finished,
        ),
        (
            "directoryPath",
            "s3://b/nodir".to_string(),
            TaskStatus::False,
        ),
        (
            "directoryPath",
            "s3://b/present.csv".to_string(),
            TaskStatus::False,
        ),
    ];
    for (field, path, expected) in cases {
        let ctx = env.ctx(
            "Exists",
            vec![r("node", "Node")],
            vec![s3_node("Node", field, &path)],
        );
        let result = execute(&ctx).await;
        assert_eq!(result.task_status, expected, "{field}={path}: {result:?}");
    }
}

#[tokio::test]
async fn exists_fails_for_nodes_it_cannot_check() {
    let env = Env::new();
    let ctx = env.ctx(
        "Exists",
        vec![r("node", "Table")],
        vec![object(
            "Table",
            vec![s("type", "SqlDataNode"), s("table", "t")],
        )],
    );
    assert_failed(
        &execute(&ctx).await,
        "Unsupported",
        "Exists cannot check SqlDataNode nodes yet",
    );

    let ctx = env.ctx("Exists", vec![], vec![]);
    assert_failed(&execute(&ctx).await, "InvalidTask", "node");
}
