//! Hadoop streaming steps, run natively: map, sort by key, reduce, without Hadoop or Spark.
//!
//! | Hadoop streaming | here |
//! |---|---|
//! | `-input` (repeatable, `a,b`, globs) | every visible object under the path, or the object (`inputs.rs`); `.gz` files are read decompressed |
//! | `-output` | `part-00000`… then an empty `_SUCCESS`, written through the object stores only once the job has succeeded; the job fails first if objects already exist under it |
//! | `-mapper`, `-reducer` command | `/bin/sh -c` in the task's own working directory, its input as standard input |
//! | `-mapper`, `-reducer` URI (`s3n://b/wordSplitter.py`) | fetched, then run like a shipped file |
//! | a command naming a shipped file | that file, by its `#!` line (or by `/bin/sh` without one) |
//! | `-reducer aggregate` | Hadoop's aggregate reducer, built in (`aggregate.rs`) |
//! | `-reducer NONE`, `-numReduceTasks 0` | map-only: one part per map task |
//! | no `-reducer`, `IdentityReducer` | the sorted map output |
//! | `-numReduceTasks N`, `-D mapreduce.job.reduces=N` (or `mapred.reduce.tasks`) | N reduce tasks and parts, keys spread as Hadoop's `HashPartitioner` spreads them |
//! | `-file`, `-files a,b`, `-cacheFile uri#name` | fetched once, linked into every task's working directory, executable |
//! | `-cmdenv K=V` | the tasks' environment, over everything else |
//! | `-D k=v` (other keys) | noted as not acted on; in the tasks' environment as `k` with `.` turned to `_`, as Hadoop exports job settings |
//! | `-combiner`, `-verbose`, `-libjars`, … | noted, not acted on |
//! | `-lazyOutput` | empty parts are not written |
//! | `-inputformat`, `-outputformat`, `-partitioner`, `-io` | only the text defaults; anything else is refused naming the option |
//! | `-archives`, `-cacheArchive`, `-inputreader`, Java classes as mapper/reducer | refused: they need Hadoop's Java side |
//!
//! One map task runs per input file, as many at once as the machine has cores, with
//! `mapreduce_map_input_file` (and the older `map_input_file`) naming the file. Lines are text
//! records as Hadoop makes them: the key is the text before the first tab, the value the rest,
//! and a line without a tab gains one at its end in the reducers' input and in the output
//! files, exactly as Hadoop's `TextOutputFormat` writes it. Map output is shuffled on local
//! disk under the attempt directory, holding a bounded amount in memory and spilling sorted
//! runs beyond that (`shuffle.rs`); the attempt's scratch files are removed when the step ends.
//!
//! A mapper or reducer that exits non-zero fails the step (`StepFailed`) naming it, its task
//! and input, with the last lines of its standard error; every task's standard error also goes
//! to the attempt's stderr log. Cancellation stops every running task's process group.
//!
//! Not supported, because they belong to Hadoop's Java side or its cluster: record readers
//! other than text lines, the `stream.*` separator settings (keys always end at the first tab),
//! secondary sort, custom partitioners and compressed output. A mapper sees each input file's
//! bytes as stored (Hadoop would hand it `\r\n` lines as `\n` lines). When uploading the output
//! to an S3 server fails half-way, the parts already written stay, without `_SUCCESS`; in the
//! embedded store they are removed.

mod aggregate;
mod inputs;
mod options;
mod programs;
mod shuffle;

use std::ffi::OsString;
use std::path::{Path, PathBuf};

use futures::{StreamExt, TryStreamExt};
use sluice_data::storage::{Location, ObjectStores};
use sluice_model::TaskResult;
use tokio_util::sync::CancellationToken;

use self::inputs::Input;
use self::options::{Job, Reducer};
use self::shuffle::Stop;
use super::note;
use crate::exec::process::{ProcessError, ProcessOutcome, ProcessSpec, run_process};
use crate::exec::{error_id, shell, storage};
use crate::execute::AttemptContext;

/// How many objects of the output are uploaded at once.
const UPLOADS_AT_ONCE: usize = 8;

/// Runs a Hadoop streaming step with `args` (`-input`, `-output`, `-mapper`, `-reducer`, …).
pub async fn run(ctx: &AttemptContext, what: &str, args: &[String]) -> Result<(), TaskResult> {
    if ctx.cancel.is_cancelled() {
        return Err(shell::canceled());
    }
    let job = options::parse(args)?;
    for line in &job.ignored {
        note(ctx, &format!("{what}: {line}"))?;
    }
    let stores = storage::stores(ctx)?;
    let output = inputs::store_uri(&job.output);
    let target = stores
        .resolve(&output)
        .map_err(|e| storage::failed(&format!("-output {}", job.output), &e))?;
    ensure_absent(&stores, &output, &job.output).await?;
    let inputs = inputs::list(&stores, &job.inputs).await?;
    let dir = ctx.attempt_dir.join("streaming").join(slug(what));
    let result = async {
        let _ = tokio::fs::remove_dir_all(&dir).await;
        make_dir(&dir.join("output")).await?;
        let plan = Plan::new(ctx, &stores, &job, &dir).await?;
        note(
            ctx,
            &format!(
                "{what}: Hadoop streaming: {} input file(s), mapper `{}`, {}, {} reduce task(s), \
                 output {}",
                inputs.len(),
                job.mapper,
                match &job.reducer {
                    Reducer::Command(c) => format!("reducer `{c}`"),
                    Reducer::Aggregate => "reducer aggregate".into(),
                    Reducer::Identity => "no reducer (sorted map output)".into(),
                    Reducer::None => "no reducer (map-only)".into(),
                },
                plan.reduces,
                job.output
            ),
        )?;
        let parts = plan.execute(&inputs).await?;
        if ctx.cancel.is_cancelled() {
            return Err(shell::canceled());
        }
        publish(&stores, &target, &job.output, &parts).await?;
        note(
            ctx,
            &format!(
                "{what}: wrote {} part(s) and _SUCCESS to {}",
                parts.len(),
                job.output
            ),
        )
    }
    .await;
    // Intermediate data can be as large as the input; the logs keep what happened.
    let _ = tokio::fs::remove_dir_all(&dir).await;
    result
}

/// What the tasks of one job run, and where.
struct Plan<'a> {
    ctx: &'a AttemptContext,
    /// The job's scratch directory.
    dir: PathBuf,
    /// The names of the shipped files in `<dir>/files`.
    shipped: Vec<String>,
    /// The mapper as it runs, and as the user wrote it (for messages).
    mapper: String,
    mapper_text: String,
    reducer: Reducer,
    reducer_text: String,
    reduces: usize,
    lazy_output: bool,
    /// The environment every task gets before its own variables.
    env: Vec<(OsString, OsString)>,
    /// `-cmdenv`, applied last.
    cmdenv: Vec<(OsString, OsString)>,
    parallel: usize,
}

impl<'a> Plan<'a> {
    async fn new(
        ctx: &'a AttemptContext,
        stores: &ObjectStores,
        job: &Job,
        dir: &Path,
    ) -> Result<Plan<'a>, TaskResult> {
        let files = dir.join("files");
        make_dir(&files).await?;
        let mut shipped = Vec::new();
        for spec in &job.files {
            shipped.push(programs::ship(stores, &format!("-files {spec}"), spec, &files).await?);
        }
        let mapper =
            programs::command(stores, "-mapper", &job.mapper, &files, &mut shipped).await?;
        let (reducer, reducer_text) = match &job.reducer {
            Reducer::Command(c) => {
                let run = programs::command(stores, "-reducer", c, &files, &mut shipped).await?;
                (Reducer::Command(run), c.clone())
            }
            other => (other.clone(), String::new()),
        };
        let mut env: Vec<(OsString, OsString)> = vec![
            (
                "SLUICE_ATTEMPT_ID".into(),
                ctx.task.attempt_id.clone().into(),
            ),
            (
                "SLUICE_PIPELINE_ID".into(),
                ctx.task.pipeline_id.clone().into(),
            ),
        ];
        env.extend(
            job.conf
                .iter()
                .map(|(k, v)| (options::env_name(k).into(), v.into())),
        );
        Ok(Plan {
            ctx,
            dir: dir.to_path_buf(),
            shipped,
            mapper,
            mapper_text: job.mapper.clone(),
            reducer,
            reducer_text,
            reduces: job.reduces,
            lazy_output: job.lazy_output,
            env,
            cmdenv: job
                .cmdenv
                .iter()
                .map(|(k, v)| (k.into(), v.into()))
                .collect(),
            parallel: std::thread::available_parallelism().map_or(1, |n| n.get()),
        })
    }

    /// Runs the map and reduce tasks; the parts to publish, by name, in order.
    async fn execute(&self, inputs: &[Input]) -> Result<Vec<(String, PathBuf)>, TaskResult> {
        // In input order, so that map task numbers and parts follow the inputs. The futures
        // are built before they are streamed: a stream mapping borrowed items through a
        // closure would not be `Send`, which the executor's boxed future must be.
        let maps: Vec<_> = inputs
            .iter()
            .enumerate()
            .map(|(index, input)| self.map_task(index, input))
            .collect();
        let map_outputs: Vec<PathBuf> = futures::stream::iter(maps)
            .buffered(self.parallel)
            .try_collect()
            .await?;
        let parts = if self.reduces == 0 {
            inputs.len()
        } else {
            let (dir, scratch, reduces) = (
                self.dir.join("reduce-in"),
                self.dir.join("spill"),
                self.reduces,
            );
            let outputs = map_outputs.clone();
            let reduce_inputs = self
                .blocking(move |cancel| {
                    shuffle::sort(
                        &outputs,
                        reduces,
                        &dir,
                        &scratch,
                        shuffle::SPILL_BYTES,
                        cancel,
                    )
                })
                .await?;
            for output in &map_outputs {
                let _ = tokio::fs::remove_file(output).await;
            }
            let reduces: Vec<_> = reduce_inputs
                .into_iter()
                .enumerate()
                .map(|(index, input)| self.reduce_task(index, input))
                .collect();
            futures::stream::iter(reduces)
                .buffered(self.parallel)
                .try_collect::<Vec<()>>()
                .await?;
            self.reduces
        };
        let mut published = Vec::with_capacity(parts);
        for index in 0..parts {
            let name = format!("part-{index:05}");
            let path = self.dir.join("output").join(&name);
            let empty = tokio::fs::metadata(&path)
                .await
                .map_err(|e| staging(&path, e))?
                .len()
                == 0;
            if !(self.lazy_output && empty) {
                published.push((name, path));
            }
        }
        Ok(published)
    }

    async fn map_task(&self, index: usize, input: &Input) -> Result<PathBuf, TaskResult> {
        let (source, temporary) = self.input_file(index, input).await?;
        let cwd = self.task_dir(&format!("m-{index:05}")).await?;
        let raw = self.dir.join("map-out").join(format!("{index:05}"));
        let env = vec![
            ("mapreduce_map_input_file".into(), input.uri.clone().into()),
            ("map_input_file".into(), input.uri.clone().into()),
            ("mapreduce_task_partition".into(), index.to_string().into()),
            ("mapreduce_task_ismap".into(), "true".into()),
        ];
        let role = format!(
            "mapper `{}` (map task {index}, input {})",
            self.mapper_text, input.uri
        );
        let ran = self
            .run_program(&role, &self.mapper, &cwd, &source, &raw, env)
            .await;
        if temporary {
            let _ = tokio::fs::remove_file(&source).await;
        }
        ran?;
        if self.reduces == 0 {
            let part = self.dir.join("output").join(format!("part-{index:05}"));
            let from = raw.clone();
            self.blocking(move |cancel| shuffle::normalize(&from, &part, cancel))
                .await?;
            let _ = tokio::fs::remove_file(&raw).await;
        }
        Ok(raw)
    }

    /// The file the mapper reads for `input`, and whether it is a temporary copy: the object
    /// itself when it is on this machine, else a download; decompressed when gzipped.
    async fn input_file(&self, index: usize, input: &Input) -> Result<(PathBuf, bool), TaskResult> {
        let what = format!("-input {}", input.uri);
        let (path, temporary) = match &input.local {
            Some(path) => (path.clone(), false),
            None => {
                let target = self.dir.join("input").join(format!("{index:05}.download"));
                input
                    .location
                    .get_to_file(&target)
                    .await
                    .map_err(|e| storage::failed(&what, &e))?;
                (target, true)
            }
        };
        if !input.gzip {
            return Ok((path, temporary));
        }
        let target = self.dir.join("input").join(format!("{index:05}"));
        make_dir(&self.dir.join("input")).await?;
        let (from, to) = (path.clone(), target.clone());
        let unpacked = self
            .blocking(move |cancel| shuffle::gunzip(&from, &to, cancel))
            .await;
        if temporary {
            let _ = tokio::fs::remove_file(&path).await;
        }
        unpacked.map_err(|r| prefixed(&what, r))?;
        Ok((target, true))
    }

    async fn reduce_task(&self, index: usize, input: PathBuf) -> Result<(), TaskResult> {
        let part = self.dir.join("output").join(format!("part-{index:05}"));
        match &self.reducer {
            Reducer::Identity | Reducer::None => {
                return tokio::fs::rename(&input, &part)
                    .await
                    .map_err(|e| staging(&part, e));
            }
            Reducer::Aggregate => {
                let (from, to) = (input.clone(), part);
                self.blocking(move |cancel| {
                    let reader = std::fs::File::open(&from)
                        .map_err(|e| Stop::io(&format!("cannot read {}", from.display()), e))?;
                    let file = std::fs::File::create(&to)
                        .map_err(|e| Stop::io(&format!("cannot create {}", to.display()), e))?;
                    let mut out = std::io::BufWriter::new(file);
                    aggregate::reduce(&mut std::io::BufReader::new(reader), &mut out, cancel)?;
                    std::io::Write::flush(&mut out)
                        .map_err(|e| Stop::io(&format!("cannot write {}", to.display()), e))
                })
                .await
                .map_err(|r| prefixed(&format!("reduce task {index}"), r))?;
            }
            Reducer::Command(run) => {
                let cwd = self.task_dir(&format!("r-{index:05}")).await?;
                let raw = self.dir.join("reduce-out").join(format!("{index:05}"));
                let env = vec![
                    ("mapreduce_task_partition".into(), index.to_string().into()),
                    ("mapreduce_task_ismap".into(), "false".into()),
                ];
                let role = format!("reducer `{}` (reduce task {index})", self.reducer_text);
                self.run_program(&role, run, &cwd, &input, &raw, env)
                    .await?;
                let from = raw.clone();
                self.blocking(move |cancel| shuffle::normalize(&from, &part, cancel))
                    .await?;
                let _ = tokio::fs::remove_file(&raw).await;
            }
        }
        let _ = tokio::fs::remove_file(&input).await;
        Ok(())
    }

    /// A task's own working directory, with the shipped files linked into it, as Hadoop gives
    /// every task one.
    async fn task_dir(&self, name: &str) -> Result<PathBuf, TaskResult> {
        let cwd = self.dir.join("tasks").join(name);
        make_dir(&cwd).await?;
        for file in &self.shipped {
            let link = cwd.join(file);
            if tokio::fs::symlink_metadata(&link).await.is_err() {
                tokio::fs::symlink(self.dir.join("files").join(file), &link)
                    .await
                    .map_err(|e| staging(&link, e))?;
            }
        }
        Ok(cwd)
    }

    /// Runs `command` in a shell in `cwd`, reading `stdin`, its output to `stdout`.
    async fn run_program(
        &self,
        role: &str,
        command: &str,
        cwd: &Path,
        stdin: &Path,
        stdout: &Path,
        task_env: Vec<(OsString, OsString)>,
    ) -> Result<(), TaskResult> {
        if let Some(parent) = stdout.parent() {
            make_dir(parent).await?;
        }
        let mut spec = ProcessSpec::new("/bin/sh", cwd);
        // The process runner gives children no standard input, so the shell opens it; the
        // path is an argument, never part of the script.
        spec.args = vec![
            "-c".into(),
            format!("exec <\"$1\" || exit 1\nshift\n{command}").into(),
            "sh".into(),
            stdin.into(),
        ];
        spec.env = self.env.clone();
        spec.env.extend(task_env);
        spec.env.extend(self.cmdenv.iter().cloned());
        spec.stdout = vec![stdout.to_path_buf()];
        spec.stderr = vec![self.ctx.stderr_log.clone()];
        spec.lazy_outputs = vec![self.ctx.stderr_log.clone()];
        let report = run_process(spec, &self.ctx.cancel).await.map_err(|err| {
            let id = match err {
                ProcessError::Output { .. } => error_id::OUTPUT_FAILED,
                ProcessError::Spawn { .. } => error_id::SPAWN_FAILED,
            };
            TaskResult::failed(id, format!("{role}: {err}"))
        })?;
        match (report.outcome, &report.capture_error) {
            (ProcessOutcome::Canceled, _) => Err(shell::canceled()),
            (ProcessOutcome::Exited(0), None) => Ok(()),
            (ProcessOutcome::Exited(0), Some(err)) => Err(TaskResult::failed(
                error_id::OUTPUT_FAILED,
                format!("{role} succeeded but its output was not fully saved: {err}"),
            )),
            _ => {
                let failure = shell::exit_failure(&report);
                let message = failure.error_message.clone().unwrap_or_default();
                Err(TaskResult {
                    error_id: Some(error_id::STEP_FAILED.into()),
                    error_message: Some(format!("{role} failed: {message}")),
                    ..failure
                })
            }
        }
    }

    /// Runs local file work on a blocking thread; it watches the attempt's cancellation.
    async fn blocking<T: Send + 'static>(
        &self,
        work: impl FnOnce(&CancellationToken) -> Result<T, Stop> + Send + 'static,
    ) -> Result<T, TaskResult> {
        let cancel = self.ctx.cancel.clone();
        match tokio::task::spawn_blocking(move || work(&cancel)).await {
            Ok(Ok(value)) => Ok(value),
            Ok(Err(Stop::Canceled)) => Err(shell::canceled()),
            Ok(Err(Stop::Io(message))) => {
                Err(TaskResult::failed(error_id::STAGING_FAILED, message))
            }
            Ok(Err(Stop::Data(message))) => Err(TaskResult::failed(error_id::STEP_FAILED, message)),
            Err(join) => Err(TaskResult::failed(
                error_id::STAGING_FAILED,
                format!("local work stopped: {join}"),
            )),
        }
    }
}

/// Fails as Hadoop does when the output directory exists: here, when any object is at or
/// under it (an object store has no empty directories).
async fn ensure_absent(stores: &ObjectStores, uri: &str, shown: &str) -> Result<(), TaskResult> {
    let what = format!("-output {shown}");
    let base = uri.trim_end_matches('/');
    let taken = stores
        .prefix_not_empty(&format!("{base}/"))
        .await
        .map_err(|e| storage::failed(&what, &e))?
        || stores
            .exists(base)
            .await
            .map_err(|e| storage::failed(&what, &e))?;
    if taken {
        return Err(TaskResult::failed(
            error_id::STEP_FAILED,
            format!(
                "Output directory {shown} already exists: a streaming job writes only to a new \
                 directory; remove it or choose another -output"
            ),
        ));
    }
    Ok(())
}

/// Uploads the parts, then `_SUCCESS`, under `target`.
async fn publish(
    stores: &ObjectStores,
    target: &Location,
    shown: &str,
    parts: &[(String, PathBuf)],
) -> Result<(), TaskResult> {
    ensure_absent(stores, &target.uri, shown).await?;
    let uploads: Vec<_> = parts
        .iter()
        .map(|(name, path)| async move { target.child(name)?.put_file(path).await })
        .collect();
    let uploaded = futures::stream::iter(uploads)
        .buffer_unordered(UPLOADS_AT_ONCE)
        .try_collect::<Vec<u64>>()
        .await;
    let done = match uploaded {
        Ok(_) => match target.child("_SUCCESS") {
            Ok(success) => success.put_bytes(Vec::new()).await,
            Err(err) => Err(err),
        },
        Err(err) => Err(err),
    };
    if let Err(err) = done {
        if let Ok(Some(dir)) = stores.local_path(&target.uri) {
            for (name, _) in parts {
                let _ = tokio::fs::remove_file(dir.join(name)).await;
            }
        }
        return Err(storage::failed(&format!("-output {shown}"), &err));
    }
    Ok(())
}

fn prefixed(what: &str, result: TaskResult) -> TaskResult {
    match result.error_message.as_deref() {
        Some(message) if result.error_id.as_deref() != Some(error_id::CANCELED) => TaskResult {
            error_message: Some(format!("{what}: {message}")),
            ..result
        },
        _ => result,
    }
}

fn staging(path: &Path, err: std::io::Error) -> TaskResult {
    TaskResult::failed(
        error_id::STAGING_FAILED,
        format!("{}: {err}", path.display()),
    )
}

async fn make_dir(dir: &Path) -> Result<(), TaskResult> {
    tokio::fs::create_dir_all(dir)
        .await
        .map_err(|e| staging(dir, e))
}

/// `step 2` as a directory name.
fn slug(what: &str) -> String {
    what.chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect()
}
