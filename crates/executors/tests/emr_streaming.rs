//! Hadoop streaming steps of `EmrActivity`, run natively: real mapper and reducer processes
//! reading and writing the embedded object store of a temporary data directory, and an S3
//! server for the word-count tutorial.

mod attempt_support;

use std::collections::BTreeMap;
use std::fs;
use std::io::Write as _;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use attempt_support::{Ids, assert_failed, attempt_context, execute, object, objects_by_id, s};
use sluice_data::DataSettings;
use sluice_data::storage::{S3Settings, Secret};
use sluice_executors::{AttemptContext, RunnerSettings};
use sluice_model::TaskResult;
use sluice_testsupport::poll::eventually;
use sluice_testsupport::process::{is_running, read_pid};
use sluice_testsupport::s3::S3Server;
use tempfile::TempDir;

const ATTEMPT_ID: &str = "@WordCount_2024-01-01T00:00:00_Attempt=1";

/// AWS's word-count tutorial mapper (`wordSplitter.py`), in Python 3.
const WORD_SPLITTER: &str = r#"#!/usr/bin/env python3
import re
import sys

pattern = re.compile("[a-zA-Z][a-zA-Z0-9]*")
for line in sys.stdin:
    for word in pattern.findall(line):
        print("LongValueSum:" + word.lower() + "\t" + "1")
"#;

struct Env {
    tmp: TempDir,
    /// When set, `s3://` is this server instead of the embedded store.
    server: Option<S3Server>,
}

impl Env {
    fn new() -> Self {
        Env {
            tmp: tempfile::tempdir().unwrap(),
            server: None,
        }
    }

    fn with_server() -> Self {
        let server = S3Server::start();
        server.create_bucket("bucket");
        Env {
            server: Some(server),
            ..Env::new()
        }
    }

    fn data_dir(&self) -> PathBuf {
        self.tmp.path().join("data")
    }

    fn attempt_dir(&self) -> PathBuf {
        self.tmp.path().join("attempt")
    }

    /// The file behind `s3://<bucket_key>` in whichever store is in use.
    fn object(&self, bucket_key: &str) -> PathBuf {
        match &self.server {
            Some(server) => {
                let (bucket, key) = bucket_key.split_once('/').unwrap();
                server.object_file(bucket, key)
            }
            None => self.data_dir().join("s3").join(bucket_key),
        }
    }

    fn put(&self, bucket_key: &str, bytes: impl AsRef<[u8]>) {
        let path = self.object(bucket_key);
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::write(path, bytes).unwrap();
    }

    fn read(&self, bucket_key: &str) -> String {
        fs::read_to_string(self.object(bucket_key))
            .unwrap_or_else(|err| panic!("s3://{bucket_key}: {err}"))
    }

    /// The names under an output directory, sorted.
    fn listing(&self, bucket_key: &str) -> Vec<String> {
        let Ok(entries) = fs::read_dir(self.object(bucket_key)) else {
            return Vec::new();
        };
        let mut names: Vec<String> = entries
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    }

    fn ctx(&self, steps: &[&str]) -> AttemptContext {
        let mut fields = vec![s("type", "EmrActivity")];
        fields.extend(steps.iter().map(|step| s("step", step)));
        attempt_context(
            Ids {
                task: "task-1",
                pipeline: "df-STREAMING",
                attempt: ATTEMPT_ID,
            },
            objects_by_id(object(ATTEMPT_ID, fields), Vec::new()),
            self.attempt_dir(),
            RunnerSettings {
                data_dir: self.data_dir(),
                data: Arc::new(DataSettings {
                    s3: self.s3_settings(),
                    ..DataSettings::default()
                }),
            },
        )
    }

    fn s3_settings(&self) -> S3Settings {
        match &self.server {
            Some(server) => S3Settings {
                endpoint: Some(server.endpoint()),
                access_key_id: Some(server.access_key().into()),
                secret_access_key: Some(Secret::new(server.secret_key())),
                ..S3Settings::default()
            },
            None => S3Settings::default(),
        }
    }

    async fn run(&self, step: &str) -> TaskResult {
        execute(&self.ctx(&[step])).await
    }

    fn log(&self, name: &str) -> String {
        fs::read_to_string(self.attempt_dir().join(name)).unwrap_or_default()
    }
}

/// The words of `text` as the tutorial's mapper finds them, counted.
fn word_counts(text: &str) -> BTreeMap<String, u64> {
    let mut counts = BTreeMap::new();
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if !c.is_ascii_alphabetic() {
            continue;
        }
        let mut word = c.to_ascii_lowercase().to_string();
        while let Some(&next) = chars.peek().filter(|n| n.is_ascii_alphanumeric()) {
            word.push(next.to_ascii_lowercase());
            chars.next();
        }
        *counts.entry(word).or_insert(0) += 1;
    }
    counts
}

fn gzip(text: &str) -> Vec<u8> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    encoder.write_all(text.as_bytes()).unwrap();
    encoder.finish().unwrap()
}

/// Hadoop's `HashPartitioner` for a `Text` key, written out independently of the executor.
fn hadoop_partition(key: &str, partitions: i32) -> usize {
    let mut hash: i32 = 1;
    for &byte in key.as_bytes() {
        hash = hash.wrapping_mul(31).wrapping_add(byte as i8 as i32);
    }
    ((hash & i32::MAX) % partitions) as usize
}

#[tokio::test]
async fn the_word_count_tutorial_counts_every_word() {
    word_count(Env::new()).await;
}

#[tokio::test]
async fn the_word_count_tutorial_on_an_s3_server() {
    word_count(Env::with_server()).await;
}

async fn word_count(env: Env) {
    let a = "The quick brown fox jumps over the lazy dog.\nThe dog sleeps; the FOX runs!\n";
    let b =
        "Quick, quick: 42 foxes and 7dogs ran over abc123 and x1y2.\n\nlast line without newline";
    let c = "the end of the gzipped file\nThe End";
    env.put("bucket/scripts/wordSplitter.py", WORD_SPLITTER);
    env.put("bucket/input/a.txt", a);
    env.put("bucket/input/more/b.txt", b);
    env.put("bucket/input/c.txt.gz", gzip(c));
    // Hidden from Hadoop's input listing, so never counted.
    env.put("bucket/input/_SUCCESS", "hidden words");
    env.put("bucket/input/.a.txt.crc", "hidden words");
    env.put("bucket/input/_logs/history", "hidden words");

    let step = "/home/hadoop/contrib/streaming/hadoop-streaming.jar,-input,s3n://bucket/input,\
                -output,s3://bucket/output,-mapper,s3n://bucket/scripts/wordSplitter.py,\
                -reducer,aggregate";
    let result = env.run(step).await;
    assert_eq!(
        result,
        TaskResult::finished(),
        "stderr: {}",
        env.log("stderr.log")
    );

    let expected: String = word_counts(&format!("{a}\n{b}\n{c}"))
        .iter()
        .map(|(word, count)| format!("{word}\t{count}\n"))
        .collect();
    assert!(
        expected.contains("the\t7\n") && !expected.contains("hidden"),
        "{expected}"
    );
    assert_eq!(env.read("bucket/output/part-00000"), expected);
    assert_eq!(env.listing("bucket/output"), ["_SUCCESS", "part-00000"]);
    assert_eq!(env.read("bucket/output/_SUCCESS"), "");
    let stdout = env.log("stdout.log");
    assert!(stdout.contains("3 input file(s)"), "{stdout}");
    assert!(
        stdout.contains("wrote 1 part(s) and _SUCCESS to s3://bucket/output"),
        "{stdout}"
    );
    // The scratch space of the shuffle is gone; the logs stay.
    assert!(!env.attempt_dir().join("streaming").join("step-1").exists());

    // Run again, the output now exists: Hadoop refuses, and so does the step.
    assert_failed(
        &env.run(step).await,
        "StepFailed",
        "Output directory s3://bucket/output already exists",
    );
    assert_eq!(env.read("bucket/output/part-00000"), expected);
}

#[tokio::test]
async fn command_runner_with_shell_commands_and_shipped_files() {
    let env = Env::new();
    env.put("bucket/in/words.txt", "b a\nc a\nb a\n");
    // No `#!` line: it runs under /bin/sh. Named as a plain command, found among -files.
    env.put("bucket/lib/shout.sh", "tr a-z A-Z | sed \"s/^/$PREFIX/\"\n");
    let result = env
        .run(
            "command-runner.jar,hadoop-streaming,-files,s3://bucket/lib/shout.sh,\
             -cmdenv,PREFIX=w:,-input,s3://bucket/in/words.txt,-output,s3://bucket/out,\
             -mapper,shout.sh,-reducer,uniq -c",
        )
        .await;
    assert_eq!(
        result,
        TaskResult::finished(),
        "stderr: {}",
        env.log("stderr.log")
    );
    // Lines without a tab reach the reducer with one appended, as Hadoop feeds them.
    let counted: Vec<(u32, String)> = env
        .read("bucket/out/part-00000")
        .lines()
        .map(|line| {
            let (count, rest) = line.trim_start().split_once(' ').unwrap();
            (count.parse().unwrap(), rest.to_string())
        })
        .collect();
    assert_eq!(
        counted,
        [(2, "w:B A\t".to_string()), (1, "w:C A\t".to_string())]
    );
    assert_eq!(env.listing("bucket/out"), ["_SUCCESS", "part-00000"]);
}

#[tokio::test]
async fn a_map_only_job_writes_one_part_per_input_file() {
    let env = Env::new();
    env.put("bucket/in/1.txt", "k1\tv1\nno tab here\n");
    env.put("bucket/in/2.txt", "k2\tv2\n");
    let result = env
        .run(
            "command-runner.jar,hadoop-streaming,-input,s3://bucket/in,-output,s3://bucket/out,\
             -mapper,echo \"$mapreduce_map_input_file\"; cat,-reducer,uniq -c,-numReduceTasks,0",
        )
        .await;
    assert_eq!(
        result,
        TaskResult::finished(),
        "stderr: {}",
        env.log("stderr.log")
    );
    assert_eq!(
        env.read("bucket/out/part-00000"),
        "s3://bucket/in/1.txt\t\nk1\tv1\nno tab here\t\n"
    );
    assert_eq!(
        env.read("bucket/out/part-00001"),
        "s3://bucket/in/2.txt\t\nk2\tv2\n"
    );
    assert_eq!(
        env.listing("bucket/out"),
        ["_SUCCESS", "part-00000", "part-00001"]
    );
    assert!(env.log("stdout.log").contains("the reducer is not run"));
}

#[tokio::test]
async fn several_reducers_split_keys_as_hadoop_does() {
    let env = Env::new();
    let mut records = Vec::new();
    for i in 0..200 {
        records.push(format!("key{}\t{i}", i % 37));
    }
    let (first, second) = records.split_at(120);
    env.put("bucket/in/a", first.join("\n") + "\n");
    env.put("bucket/in/b", second.join("\n") + "\n");
    let result = env
        .run(
            "command-runner.jar,hadoop-streaming,-D,mapreduce.job.reduces=3,-input,s3://bucket/in,\
             -output,s3://bucket/out,-mapper,cat,-reducer,cat",
        )
        .await;
    assert_eq!(
        result,
        TaskResult::finished(),
        "stderr: {}",
        env.log("stderr.log")
    );
    assert_eq!(
        env.listing("bucket/out"),
        ["_SUCCESS", "part-00000", "part-00001", "part-00002"]
    );
    for part in 0..3 {
        let expected: Vec<&String> = {
            let mut mine: Vec<&String> = records
                .iter()
                .filter(|r| hadoop_partition(r.split('\t').next().unwrap(), 3) == part)
                .collect();
            // Sorted by key; equal keys keep the order the mappers printed them in.
            mine.sort_by_key(|r| r.split('\t').next().unwrap().to_string());
            mine
        };
        let text = env.read(&format!("bucket/out/part-{part:05}"));
        let got: Vec<&str> = text.lines().collect();
        assert_eq!(got, expected, "part {part}");
        assert!(!got.is_empty(), "part {part} is empty");
    }
    assert!(env.log("stdout.log").contains("3 reduce task(s)"));
}

#[tokio::test]
async fn an_existing_output_directory_fails_the_step_and_is_left_alone() {
    let env = Env::new();
    env.put("bucket/in/a.txt", "x\n");
    env.put("bucket/out/previous.txt", "keep me");
    let result = env
        .run(
            "command-runner.jar,hadoop-streaming,-input,s3://bucket/in,-output,s3://bucket/out,\
             -mapper,cat",
        )
        .await;
    assert_failed(
        &result,
        "StepFailed",
        "step 1: Output directory s3://bucket/out already exists",
    );
    assert_eq!(env.listing("bucket/out"), ["previous.txt"]);
    assert_eq!(env.read("bucket/out/previous.txt"), "keep me");
}

#[tokio::test]
async fn a_failing_mapper_fails_the_step_with_its_stderr_and_writes_nothing() {
    let env = Env::new();
    env.put("bucket/in/a.txt", "x\n");
    let result = env
        .run(
            "command-runner.jar,hadoop-streaming,-input,s3://bucket/in,-output,s3://bucket/out,\
             -mapper,echo 'bad record 17' >&2; exit 3,-reducer,aggregate",
        )
        .await;
    assert_failed(
        &result,
        "StepFailed",
        "step 1: mapper `echo 'bad record 17' >&2; exit 3` (map task 0, input \
         s3://bucket/in/a.txt) failed: command exited with status 3",
    );
    let message = result.error_message.unwrap();
    assert!(
        message.ends_with("last lines of stderr:\nbad record 17"),
        "{message}"
    );
    assert!(env.log("stderr.log").contains("bad record 17"));
    assert!(!env.object("bucket/out").exists());
}

#[tokio::test]
async fn a_failing_reducer_or_aggregate_writes_nothing() {
    let env = Env::new();
    env.put("bucket/in/a.txt", "x\n");
    let result = env
        .run(
            "command-runner.jar,hadoop-streaming,-input,s3://bucket/in,-output,s3://bucket/out,\
             -mapper,cat,-reducer,cat >/dev/null; echo reducer broke >&2; false",
        )
        .await;
    assert_failed(
        &result,
        "StepFailed",
        "reducer `cat >/dev/null; echo reducer broke >&2; false` (reduce task 0) failed",
    );
    assert!(result.error_message.unwrap().contains("reducer broke"));
    assert!(!env.object("bucket/out").exists());

    let result = env
        .run(
            "command-runner.jar,hadoop-streaming,-input,s3://bucket/in,-output,s3://bucket/out,\
             -mapper,cat,-reducer,aggregate",
        )
        .await;
    assert_failed(
        &result,
        "StepFailed",
        "aggregate: key 'x' names no aggregator",
    );
    assert!(!env.object("bucket/out").exists());
}

#[tokio::test]
async fn missing_inputs_and_unsupported_options_are_named() {
    let env = Env::new();
    env.put("bucket/in/a.txt", "x\n");
    let step = |input: &str, extra: &str| {
        format!(
            "command-runner.jar,hadoop-streaming,-input,{input},-output,s3://bucket/out,\
             -mapper,cat{extra}"
        )
    };
    assert_failed(
        &env.run(&step("s3n://bucket/nothing-here", "")).await,
        "StepFailed",
        "Input path does not exist: s3n://bucket/nothing-here",
    );
    assert_failed(
        &env.run(&step("s3://bucket/in/*.csv", "")).await,
        "StepFailed",
        "Input Pattern s3://bucket/in/*.csv matches 0 files",
    );
    assert_failed(
        &env.run(&step(
            "s3://bucket/in",
            ",-inputformat,org.apache.hadoop.mapred.SequenceFileInputFormat",
        ))
        .await,
        "Unsupported",
        "-inputformat org.apache.hadoop.mapred.SequenceFileInputFormat: only the text default",
    );
    assert_failed(
        &env.run(&step("s3://bucket/in", ",-files,s3://bucket/missing.py"))
            .await,
        "ScriptNotFound",
        "-files s3://bucket/missing.py",
    );
    assert!(!env.object("bucket/out").exists());
    // A glob that matches runs.
    assert_eq!(
        env.run(&step("s3://bucket/{in\\,other}/*.txt", "")).await,
        TaskResult::finished()
    );
    assert_eq!(env.read("bucket/out/part-00000"), "x\t\n");
}

#[tokio::test]
async fn cancellation_stops_running_mappers_and_writes_nothing() {
    let env = Env::new();
    env.put("bucket/in/a.txt", "x\n");
    env.put("bucket/in/b.txt", "y\n");
    let pids = env.tmp.path().join("pids");
    fs::create_dir_all(&pids).unwrap();
    let ctx = env.ctx(&[&format!(
        "command-runner.jar,hadoop-streaming,-input,s3://bucket/in,-output,s3://bucket/out,\
         -mapper,echo $$ > {}/$mapreduce_task_partition; exec sleep 1000",
        pids.display()
    )]);
    let cancel = ctx.cancel.clone();
    let running = tokio::spawn(async move { execute(&ctx).await });
    let first = pids.join("0");
    assert!(
        eventually(Duration::from_secs(10), || read_pid(&first).is_some()).await,
        "the first mapper never started"
    );
    let pid = read_pid(&first).unwrap();
    assert!(is_running(pid));

    cancel.cancel();
    let result = tokio::time::timeout(Duration::from_secs(30), running)
        .await
        .expect("the step stops after cancellation")
        .unwrap();
    assert_failed(&result, "Canceled", "canceled");
    assert!(
        eventually(Duration::from_secs(10), || !is_running(pid)).await,
        "mapper {pid} still runs"
    );
    assert!(!env.object("bucket/out").exists());
}
