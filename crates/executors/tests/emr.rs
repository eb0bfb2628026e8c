//! `EmrActivity`, `HadoopActivity` and `PigActivity` on real processes: Spark from the PySpark
//! install in `local[2]` (a PySpark script, a user jar, a MapReduce job), shell steps,
//! bootstrap actions, and a stand-in `pig` that records what it is given (Pig itself cannot be
//! installed from the registries this project uses).

mod attempt_support;

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;

use attempt_support::{Ids, assert_failed, attempt_context, execute, object, objects_by_id, r, s};
use sluice_data::DataSettings;
use sluice_data::compute::{PigSettings, SparkSettings};
use sluice_executors::{AttemptContext, RunnerSettings};
use sluice_model::{PipelineObject, TaskStatus};
use tempfile::TempDir;

const ATTEMPT: &str = "@Job_2024-01-01T00:00:00_Attempt=1";

struct Env {
    tmp: TempDir,
    spark: SparkSettings,
    pig: PigSettings,
}

impl Env {
    /// An environment whose Spark is the tests' PySpark install.
    fn with_spark() -> Env {
        let home = sluice_testsupport::spark::install().expect("PySpark installs");
        Env::new(SparkSettings {
            spark_home: Some(home),
            master: Some("local[2]".into()),
            ..SparkSettings::default()
        })
    }

    /// An environment whose Spark home is an empty directory: Spark is absent.
    fn without_spark() -> Env {
        let mut env = Env::new(SparkSettings::default());
        env.spark.spark_home = Some(env.path("no-spark"));
        fs::create_dir_all(env.path("no-spark")).unwrap();
        env
    }

    fn new(spark: SparkSettings) -> Env {
        Env {
            tmp: tempfile::tempdir().unwrap(),
            spark,
            pig: PigSettings::default(),
        }
    }

    fn path(&self, rel: &str) -> PathBuf {
        self.tmp.path().join(rel)
    }

    /// The embedded store's file for `s3://bucket/key`.
    fn s3(&self, bucket_key: &str) -> PathBuf {
        self.path("data/s3").join(bucket_key)
    }

    fn put(&self, bucket_key: &str, text: &str) {
        let path = self.s3(bucket_key);
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::write(path, text).unwrap();
    }

    fn ctx(
        &self,
        attempt_no: u32,
        attempt: PipelineObject,
        others: Vec<PipelineObject>,
    ) -> AttemptContext {
        let settings = RunnerSettings {
            data_dir: self.path("data"),
            data: Arc::new(DataSettings {
                spark: self.spark.clone(),
                pig: self.pig.clone(),
                ..DataSettings::default()
            }),
        };
        attempt_context(
            Ids {
                task: "task",
                pipeline: "df-emr",
                attempt: &attempt.id.clone(),
            },
            objects_by_id(attempt, others),
            self.path(&format!("attempt-{attempt_no}")),
            settings,
        )
    }

    fn stdout(&self, attempt_no: u32) -> String {
        fs::read_to_string(self.path(&format!("attempt-{attempt_no}/stdout.log")))
            .unwrap_or_default()
    }
}

fn typed(id: &str, ty: &str, mut fields: Vec<sluice_model::Field>) -> PipelineObject {
    fields.insert(0, s("type", ty));
    let mut o = object(id, fields);
    o.id = id.to_string();
    o
}

fn activity(ty: &str, fields: Vec<sluice_model::Field>) -> PipelineObject {
    let mut fields = fields;
    fields.push(r("runsOn", "Cluster"));
    typed(ATTEMPT, ty, fields)
}

fn cluster(fields: Vec<sluice_model::Field>) -> PipelineObject {
    typed("Cluster", "EmrCluster", fields)
}

/// Every line of every `part-*` file under `dir`, sorted.
fn part_lines(dir: &Path) -> Vec<String> {
    let mut lines: Vec<String> = fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .filter(|p| {
            p.file_name()
                .unwrap()
                .to_string_lossy()
                .starts_with("part-")
        })
        .flat_map(|p| {
            fs::read_to_string(p)
                .unwrap()
                .lines()
                .map(str::to_string)
                .collect::<Vec<_>>()
        })
        .collect();
    lines.sort();
    lines
}

/// Counts of each whitespace-separated word, as `word<TAB>n` lines sorted.
fn word_counts(text: &str) -> Vec<String> {
    let mut counts = std::collections::BTreeMap::<&str, u32>::new();
    for word in text.split_whitespace() {
        *counts.entry(word).or_default() += 1;
    }
    let mut lines: Vec<String> = counts.iter().map(|(w, n)| format!("{w}\t{n}")).collect();
    lines.sort();
    lines
}

const TEXT: &str = "the quick brown fox\njumps over the lazy dog\nthe end\n";

#[tokio::test]
async fn a_spark_submit_step_runs_a_pyspark_script_on_embedded_s3_paths() {
    let env = Env::with_spark();
    env.put("bucket/in/a.txt", TEXT);
    env.put("bucket/in/b.txt", "fox dog\n");
    env.put(
        "bucket/jobs/count.py",
        "import sys\nfrom pyspark.sql import SparkSession\n\
         spark = SparkSession.builder.getOrCreate()\n\
         words = spark.sparkContext.textFile(sys.argv[1]).flatMap(lambda l: l.split())\n\
         counts = words.map(lambda w: (w, 1)).reduceByKey(lambda a, b: a + b)\n\
         counts.map(lambda kv: kv[0] + '\\t' + str(kv[1])).saveAsTextFile(sys.argv[2])\n\
         spark.stop()\n",
    );
    let step = "command-runner.jar,spark-submit,--master,yarn,--deploy-mode,cluster,\
                --conf,spark.ui.enabled=false,s3://bucket/jobs/count.py,s3://bucket/in/,s3://bucket/out/";
    let ctx = env.ctx(
        1,
        activity(
            "EmrActivity",
            vec![
                s("step", step),
                // A managed table lands in the attempt's Spark warehouse, whose path Hadoop
                // can use (the attempt directory's name has a ':').
                s(
                    "step",
                    "command-runner.jar,spark-sql,--conf,spark.ui.enabled=false,-e,\
                     CREATE TABLE counted AS SELECT 41 AS x; SELECT x + 1 FROM counted",
                ),
                s("preStepCommand", "echo before > pre.txt"),
                s("postStepCommand", "test -f pre.txt && echo after"),
            ],
        ),
        vec![cluster(vec![
            s("releaseLabel", "emr-6.15.0"),
            s("masterInstanceType", "m5.xlarge"),
        ])],
    );
    let result = execute(&ctx).await;
    assert_eq!(
        result.task_status,
        TaskStatus::Finished,
        "{result:?}\n{}",
        env.stdout(1)
    );
    assert_eq!(
        part_lines(&env.s3("bucket/out")),
        word_counts(&format!("{TEXT}fox dog\n"))
    );
    assert!(env.s3("bucket/out/_SUCCESS").exists());
    let stdout = env.stdout(1);
    assert!(
        stdout.contains("masterInstanceType, releaseLabel kept but not acted on"),
        "{stdout}"
    );
    assert!(
        stdout.contains("spark-submit --master yarn ignored"),
        "{stdout}"
    );
    assert!(
        stdout.contains("spark-submit --deploy-mode cluster ignored"),
        "{stdout}"
    );
    assert!(stdout.lines().any(|l| l.trim() == "42"), "{stdout}");
    assert!(stdout.lines().last().unwrap().contains("after"), "{stdout}");
}

/// Compiles the MapReduce word count against the Spark installation's jars into
/// `s3://bucket/jars/wc.jar`, its manifest naming the main class.
fn build_word_count_jar(env: &Env) {
    let home = env.spark.spark_home.clone().unwrap();
    let src = env.path("java/WordCount.java");
    fs::create_dir_all(src.parent().unwrap()).unwrap();
    fs::write(&src, WORD_COUNT_JAVA).unwrap();
    let classes = env.path("java/classes");
    let javac = Command::new("javac")
        .arg("-cp")
        .arg(format!("{}/jars/*", home.display()))
        .arg("-d")
        .arg(&classes)
        .arg(&src)
        .status()
        .expect("javac (a JDK) is installed");
    assert!(javac.success());
    fs::write(env.path("java/manifest.txt"), "Main-Class: WordCount\n").unwrap();
    let jar = env.s3("bucket/jars/wc.jar");
    fs::create_dir_all(jar.parent().unwrap()).unwrap();
    let status = Command::new("jar")
        .arg("cfm")
        .arg(&jar)
        .arg(env.path("java/manifest.txt"))
        .arg("-C")
        .arg(&classes)
        .arg(".")
        .status()
        .unwrap();
    assert!(status.success());
}

const WORD_COUNT_JAVA: &str = r#"
import java.io.IOException;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.Path;
import org.apache.hadoop.io.IntWritable;
import org.apache.hadoop.io.Text;
import org.apache.hadoop.mapreduce.Job;
import org.apache.hadoop.mapreduce.Mapper;
import org.apache.hadoop.mapreduce.Reducer;
import org.apache.hadoop.mapreduce.lib.input.FileInputFormat;
import org.apache.hadoop.mapreduce.lib.output.FileOutputFormat;

public class WordCount {
  public static class M extends Mapper<Object, Text, Text, IntWritable> {
    private static final IntWritable ONE = new IntWritable(1);
    public void map(Object key, Text value, Context ctx) throws IOException, InterruptedException {
      for (String w : value.toString().split("\\s+")) if (!w.isEmpty()) ctx.write(new Text(w), ONE);
    }
  }
  public static class R extends Reducer<Text, IntWritable, Text, IntWritable> {
    public void reduce(Text key, Iterable<IntWritable> values, Context ctx) throws IOException, InterruptedException {
      int sum = 0;
      for (IntWritable v : values) sum += v.get();
      ctx.write(key, new IntWritable(sum));
    }
  }
  public static void main(String[] args) throws Exception {
    Job job = Job.getInstance(new Configuration(), "word count");
    job.setJarByClass(WordCount.class);
    job.setMapperClass(M.class);
    job.setReducerClass(R.class);
    job.setOutputKeyClass(Text.class);
    job.setOutputValueClass(IntWritable.class);
    FileInputFormat.addInputPath(job, new Path(args[0]));
    FileOutputFormat.setOutputPath(job, new Path(args[1]));
    System.exit(job.waitForCompletion(true) ? 0 : 1);
  }
}
"#;

#[tokio::test]
async fn user_jars_run_as_emr_steps_and_as_hadoop_activities() {
    let env = Env::with_spark();
    build_word_count_jar(&env);
    env.put("bucket/in/a.txt", TEXT);

    // An EmrActivity step whose jar's manifest names the main class.
    let ctx = env.ctx(
        1,
        activity(
            "EmrActivity",
            vec![s(
                "step",
                "s3://bucket/jars/wc.jar,s3://bucket/in,s3://bucket/step-out",
            )],
        ),
        vec![cluster(vec![])],
    );
    let result = execute(&ctx).await;
    assert_eq!(result.task_status, TaskStatus::Finished, "{result:?}");
    assert_eq!(part_lines(&env.s3("bucket/step-out")), word_counts(TEXT));

    // The same job as a HadoopActivity naming its main class, with a queue.
    let ctx = env.ctx(
        2,
        activity(
            "HadoopActivity",
            vec![
                s("jarUri", "s3://bucket/jars/wc.jar"),
                s("mainClass", "WordCount"),
                s("argument", "s3://bucket/in"),
                s("argument", "s3://bucket/hadoop-out"),
                s("hadoopQueue", "default"),
            ],
        ),
        vec![cluster(vec![])],
    );
    let result = execute(&ctx).await;
    assert_eq!(result.task_status, TaskStatus::Finished, "{result:?}");
    assert_eq!(part_lines(&env.s3("bucket/hadoop-out")), word_counts(TEXT));
    assert!(env.s3("bucket/hadoop-out/_SUCCESS").exists());

    // A main class the classpath lacks is named.
    let ctx = env.ctx(
        3,
        activity(
            "HadoopActivity",
            vec![
                s("jarUri", "s3://bucket/jars/wc.jar"),
                s("mainClass", "com.example.Missing"),
            ],
        ),
        vec![cluster(vec![])],
    );
    let result = execute(&ctx).await;
    assert_failed(&result, "StepFailed", "com.example.Missing");
}

#[tokio::test]
async fn without_spark_spark_steps_fail_at_once_naming_what_to_install() {
    let env = Env::without_spark();
    let ctx = env.ctx(
        1,
        activity(
            "EmrActivity",
            vec![
                s("preStepCommand", "touch ran"),
                s("step", "command-runner.jar,echo,first"),
                s("step", "command-runner.jar,spark-submit,s3://bucket/job.py"),
            ],
        ),
        vec![cluster(vec![])],
    );
    let result = execute(&ctx).await;
    assert_failed(&result, "SparkNotFound", "step 2 needs Apache Spark");
    assert_failed(&result, "SparkNotFound", "pip install pyspark");
    assert!(
        !env.path("attempt-1/ran").exists(),
        "nothing runs before the check"
    );

    let ctx = env.ctx(
        2,
        activity("HadoopActivity", vec![s("jarUri", "/x.jar")]),
        vec![cluster(vec![])],
    );
    assert_failed(
        &execute(&ctx).await,
        "SparkNotFound",
        "HadoopActivity needs Apache Spark",
    );
}

#[tokio::test]
async fn shell_steps_scripts_and_bootstrap_actions_need_no_spark() {
    let env = Env::without_spark();
    env.put("bucket/data/in.txt", "hello\n");
    env.put(
        "bucket/scripts/report.sh",
        "#!/bin/sh\nset -e\ncat \"$1\" > \"$2\"\necho \"script args: $*\"\n",
    );
    env.put("bucket/scripts/bootstrap.sh", "echo \"$1\" >> \"$2\"\n");
    let counter = env.path("bootstrapped.txt");
    let cluster = cluster(vec![
        s(
            "bootstrapAction",
            "s3://elasticmapreduce/bootstrap-actions/configure-hadoop,-m,mapred.tasktracker.map.tasks.maximum=2",
        ),
        s(
            "bootstrapAction",
            &format!("s3://bucket/scripts/bootstrap.sh,ran,{}", counter.display()),
        ),
        s("@scheduledStartTime", "2024-01-01T00:00:00"),
    ]);
    let steps = vec![
        s(
            "step",
            "s3://us-east-1.elasticmapreduce/libs/script-runner/script-runner.jar,\
             s3://bucket/scripts/report.sh,s3://bucket/data/in.txt,copy.txt",
        ),
        s("step", "command-runner.jar,sh,-c,cat copy.txt"),
    ];
    for attempt in 1..=2 {
        let ctx = env.ctx(
            attempt,
            activity("EmrActivity", steps.clone()),
            vec![cluster.clone()],
        );
        let result = execute(&ctx).await;
        assert_eq!(result.task_status, TaskStatus::Finished, "{result:?}");
        let stdout = env.stdout(attempt);
        assert!(stdout.contains("hello"), "{stdout}");
        assert!(
            stdout.contains(&format!(
                "script args: {} copy.txt",
                env.s3("bucket/data/in.txt").display()
            )),
            "{stdout}"
        );
    }
    // Bootstrap actions ran once for the cluster instance, before the first attempt.
    assert_eq!(fs::read_to_string(&counter).unwrap(), "ran\n");
    let first = env.stdout(1);
    assert!(
        first.contains("configure-hadoop configures AWS EMR itself; not applicable"),
        "{first}"
    );
    assert!(
        !env.stdout(2).contains("bootstrapAction"),
        "{}",
        env.stdout(2)
    );
}

#[tokio::test]
async fn a_failing_step_stops_the_activity_and_bad_steps_run_nothing() {
    let env = Env::without_spark();
    let ctx = env.ctx(
        1,
        activity(
            "EmrActivity",
            vec![
                s("step", "command-runner.jar,sh,-c,echo oops >&2; exit 3"),
                s("step", "command-runner.jar,touch,second"),
                s("postStepCommand", "touch post"),
            ],
        ),
        vec![cluster(vec![])],
    );
    let result = execute(&ctx).await;
    assert_failed(
        &result,
        "StepFailed",
        "step 1: command exited with status 3",
    );
    assert_failed(&result, "StepFailed", "oops");
    assert!(!env.path("attempt-1/second").exists());
    assert!(!env.path("attempt-1/post").exists());

    let ctx = env.ctx(
        2,
        activity(
            "EmrActivity",
            vec![
                s("step", "command-runner.jar,touch,first"),
                s("step", "s3://bucket/run.sh,x"),
            ],
        ),
        vec![cluster(vec![])],
    );
    let result = execute(&ctx).await;
    assert_failed(
        &result,
        "InvalidTask",
        "step 2: step 's3://bucket/run.sh,x' is not a form",
    );
    assert!(!env.path("attempt-2/first").exists());

    // The DynamoDB tools' command lines are checked up front too.
    let ctx = env.ctx(
        3,
        activity(
            "EmrActivity",
            vec![
                s("step", "command-runner.jar,touch,first"),
                s(
                    "step",
                    "s3://dynamodb-dpl-us-east-1/emr-ddb-storage-handler/4.11.0/emr-dynamodb-tools-4.11.0-SNAPSHOT-jar-with-dependencies.jar,org.apache.hadoop.dynamodb.tools.DynamoDBExport,s3://bucket/out",
                ),
            ],
        ),
        vec![cluster(vec![])],
    );
    let result = execute(&ctx).await;
    assert_failed(
        &result,
        "InvalidTask",
        "step 2: DynamoDBExport: not enough arguments",
    );
    assert!(!env.path("attempt-3/first").exists());
}

/// A stand-in `pig` that records its arguments and the script it was given.
fn stand_in_pig(env: &Env) -> PathBuf {
    let home = env.path("pig");
    fs::create_dir_all(home.join("bin")).unwrap();
    let pig = home.join("bin/pig");
    fs::write(
        &pig,
        format!(
            "#!/bin/sh\necho \"$@\" > {args}\nwhile [ $# -gt 0 ]; do [ \"$1\" = -f ] && cp \"$2\" {script}; shift; done\n",
            args = env.path("pig-args.txt").display(),
            script = env.path("pig-script.pig").display()
        ),
    )
    .unwrap();
    use std::os::unix::fs::PermissionsExt as _;
    fs::set_permissions(&pig, fs::Permissions::from_mode(0o755)).unwrap();
    home
}

#[tokio::test]
async fn pig_runs_only_where_configured_with_staged_relations() {
    let mut env = Env::without_spark();
    let attempt = activity(
        "PigActivity",
        vec![
            s(
                "script",
                "B = FILTER ${input1} BY amount > ${MIN};\n${output1} = FOREACH B GENERATE region;",
            ),
            s("scriptVariable", "MIN=10"),
            r("input", "In"),
            r("output", "Out"),
        ],
    );
    let others = vec![
        cluster(vec![]),
        typed(
            "In",
            "S3DataNode",
            vec![
                s("directoryPath", "s3://bucket/sales"),
                r("dataFormat", "Csv"),
            ],
        ),
        typed(
            "Out",
            "S3DataNode",
            vec![
                s("directoryPath", "s3://bucket/regions"),
                r("dataFormat", "Tsv"),
            ],
        ),
        typed(
            "Csv",
            "CSV",
            vec![s("column", "region STRING"), s("column", "amount INT")],
        ),
        typed("Tsv", "TSV", vec![]),
    ];
    env.pig.home = Some(env.path("nowhere"));
    let ctx = env.ctx(1, attempt.clone(), others.clone());
    assert_failed(
        &execute(&ctx).await,
        "PigNotFound",
        "Sluice cannot install for you",
    );

    env.pig.home = Some(stand_in_pig(&env));
    let ctx = env.ctx(2, attempt, others);
    let result = execute(&ctx).await;
    assert_eq!(result.task_status, TaskStatus::Finished, "{result:?}");
    let args = fs::read_to_string(env.path("pig-args.txt")).unwrap();
    assert!(args.starts_with("-x local -param MIN=10 -f "), "{args}");
    let script = fs::read_to_string(env.path("pig-script.pig")).unwrap();
    let sales = env.s3("bucket/sales");
    let regions = env.s3("bucket/regions");
    assert_eq!(
        script,
        format!(
            "input1 = LOAD '{}' USING PigStorage(',') AS (region:chararray, amount:int);\n\
             B = FILTER input1 BY amount > ${{MIN}};\noutput1 = FOREACH B GENERATE region;\n\
             STORE output1 INTO '{}' USING PigStorage('\\t');\n",
            sales.display(),
            regions.display()
        )
    );
}
