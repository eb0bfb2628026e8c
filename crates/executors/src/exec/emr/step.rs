//! What an `EmrActivity` step string asks for.
//!
//! A step is `jar,arg,arg…` (dp-object-emractivity): commas separate the parts, `\,` is a comma
//! inside one. Whitespace around each part is dropped, because AWS's own samples spread steps
//! over several lines. The jar and the first arguments decide what runs:
//!
//! | step | runs as |
//! |---|---|
//! | `command-runner.jar,spark-submit,…` | `spark-submit` against the cluster's master |
//! | `command-runner.jar,spark-sql,…` | `spark-sql` against the cluster's master |
//! | `command-runner.jar,hadoop-streaming,…` | Hadoop streaming, natively |
//! | `command-runner.jar,<command>,…` | that command |
//! | `…script-runner.jar,<script uri>,…` | the script, fetched, with the arguments |
//! | `…hadoop-streaming*.jar,-input,…` | Hadoop streaming, natively |
//! | `…emr-ddb…jar,org.apache.hadoop.dynamodb.tools.DynamoDbExport,…` (and `DynamoDBExport`, the imports) | DynamoDB export / import, natively |
//! | `<other>.jar,<main class>,…` | `spark-submit --class <main class> <jar> …` |
//! | `<other>.jar,…` (main class in the manifest) | `spark-submit <jar> …` |

/// One parsed step.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    /// `spark-submit` with these arguments (everything after `spark-submit`).
    SparkSubmit(Vec<String>),
    /// `spark-sql` with these arguments.
    SparkSql(Vec<String>),
    /// Hadoop streaming with these arguments (`-input`, `-output`, `-mapper`, …).
    Streaming(Vec<String>),
    /// Any other command of `command-runner.jar`: the program and its arguments.
    Command(Vec<String>),
    /// `script-runner.jar`: the script's URI and its arguments.
    Script { uri: String, args: Vec<String> },
    /// The export tool of AWS's DynamoDB storage handler: `<s3 dir>,<table>,<read ratio>[,…]`.
    DynamoDbExport(Vec<String>),
    /// The import tool: `<s3 dir>,<table>,<write ratio>[,…]`.
    DynamoDbImport(Vec<String>),
    /// A user's jar run on Spark: with the main class given, or read from the manifest.
    Jar {
        jar: String,
        main_class: Option<String>,
        args: Vec<String>,
    },
}

/// The classes of AWS's DynamoDB storage handler tools: `DynamoDb…` in the older `emr-ddb`
/// jars, `DynamoDB…` in `emr-dynamodb-tools`.
const EXPORT_CLASSES: &[&str] = &[
    "org.apache.hadoop.dynamodb.tools.DynamoDbExport",
    "org.apache.hadoop.dynamodb.tools.DynamoDBExport",
];
const IMPORT_CLASSES: &[&str] = &[
    "org.apache.hadoop.dynamodb.tools.DynamoDbImport",
    "org.apache.hadoop.dynamodb.tools.DynamoDBImport",
];

/// Splits a step string into its parts (see the module docs).
pub fn split(step: &str) -> Vec<String> {
    let mut parts = Vec::new();
    let mut current = String::new();
    let mut chars = step.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' if chars.peek() == Some(&',') => {
                current.push(',');
                chars.next();
            }
            ',' => parts.push(std::mem::take(&mut current)),
            c => current.push(c),
        }
    }
    parts.push(current);
    parts.into_iter().map(|p| p.trim().to_string()).collect()
}

/// Parses a step, or says why it cannot run.
pub fn parse(step: &str) -> Result<Step, String> {
    let mut parts = split(step);
    let jar = parts.remove(0);
    if jar.is_empty() {
        return Err(format!("step '{step}' names no jar"));
    }
    let args = parts;
    let name = jar.rsplit('/').next().unwrap_or(&jar).to_ascii_lowercase();
    if name == "command-runner.jar" {
        let Some(command) = args.first() else {
            return Err(format!(
                "step '{step}': command-runner.jar needs a command to run"
            ));
        };
        let rest = args[1..].to_vec();
        return Ok(match command.as_str() {
            "spark-submit" => Step::SparkSubmit(rest),
            "spark-sql" => Step::SparkSql(rest),
            "hadoop-streaming" => Step::Streaming(rest),
            _ => Step::Command(args),
        });
    }
    if name.ends_with("script-runner.jar") {
        let Some(uri) = args.first().filter(|a| !a.is_empty()) else {
            return Err(format!(
                "step '{step}': script-runner.jar needs a script URI"
            ));
        };
        return Ok(Step::Script {
            uri: uri.clone(),
            args: args[1..].to_vec(),
        });
    }
    if name.starts_with("hadoop-streaming") && name.ends_with(".jar") {
        return Ok(Step::Streaming(args));
    }
    if let Some(class) = args.first() {
        if EXPORT_CLASSES.contains(&class.as_str()) {
            return Ok(Step::DynamoDbExport(args[1..].to_vec()));
        }
        if IMPORT_CLASSES.contains(&class.as_str()) {
            return Ok(Step::DynamoDbImport(args[1..].to_vec()));
        }
        if class.starts_with("org.apache.hadoop.dynamodb.tools.") {
            return Err(format!(
                "step '{step}': {class} is not one of the DynamoDB tools Sluice runs \
                 (DynamoDbExport, DynamoDBExport, DynamoDbImport, DynamoDBImport)"
            ));
        }
    }
    if name.ends_with(".jar") {
        let main_class = args.first().filter(|a| looks_like_class(a)).cloned();
        let skip = usize::from(main_class.is_some());
        return Ok(Step::Jar {
            jar,
            main_class,
            args: args[skip..].to_vec(),
        });
    }
    Err(format!(
        "step '{step}' is not a form Sluice runs: the first part must be a jar \
         (command-runner.jar, script-runner.jar, a Hadoop streaming jar, or your own jar); see \
         docs/emr.md"
    ))
}

/// Whether a step argument names a Java class (`com.example.Main`) rather than a path or an
/// option, as EMR decides when a jar step's first argument is its main class.
fn looks_like_class(arg: &str) -> bool {
    !arg.is_empty()
        && arg.contains('.')
        && !arg.contains('/')
        && !arg.contains(':')
        && arg.split('.').all(|segment| {
            let mut chars = segment.chars();
            chars
                .next()
                .is_some_and(|c| c.is_alphabetic() || c == '_' || c == '$')
                && chars.all(|c| c.is_alphanumeric() || c == '_' || c == '$')
        })
}

/// Whether running `step` needs a Spark installation.
pub fn needs_spark(step: &Step) -> bool {
    matches!(
        step,
        Step::SparkSubmit(_) | Step::SparkSql(_) | Step::Jar { .. }
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strings(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn parts_split_on_unescaped_commas_and_lose_surrounding_whitespace() {
        assert_eq!(split("a,b\\,c, d\n"), strings(&["a", "b,c", "d"]));
        assert_eq!(split("only"), strings(&["only"]));
        assert_eq!(split("a,,b"), strings(&["a", "", "b"]));
    }

    #[test]
    fn command_runner_steps() {
        assert_eq!(
            parse("command-runner.jar,spark-submit,--deploy-mode,cluster,s3://b/job.py,s3://b/in")
                .unwrap(),
            Step::SparkSubmit(strings(&[
                "--deploy-mode",
                "cluster",
                "s3://b/job.py",
                "s3://b/in"
            ]))
        );
        assert_eq!(
            parse("command-runner.jar,spark-sql,-e,select 1").unwrap(),
            Step::SparkSql(strings(&["-e", "select 1"]))
        );
        assert_eq!(
            parse("command-runner.jar,hadoop-streaming,-input,s3://b/in").unwrap(),
            Step::Streaming(strings(&["-input", "s3://b/in"]))
        );
        assert_eq!(
            parse("command-runner.jar,bash,-c,echo hi").unwrap(),
            Step::Command(strings(&["bash", "-c", "echo hi"]))
        );
        assert!(
            parse("command-runner.jar")
                .unwrap_err()
                .contains("needs a command")
        );
    }

    #[test]
    fn script_runner_and_streaming_jars() {
        assert_eq!(
            parse("s3://us-east-1.elasticmapreduce/libs/script-runner/script-runner.jar,s3://b/run.sh,x")
                .unwrap(),
            Step::Script {
                uri: "s3://b/run.sh".into(),
                args: strings(&["x"])
            }
        );
        assert_eq!(
            parse("/home/hadoop/contrib/streaming/hadoop-streaming.jar,-input,s3n://b/in,-output,s3://b/out,-mapper,s3n://b/wordSplitter.py,-reducer,aggregate")
                .unwrap(),
            Step::Streaming(strings(&[
                "-input", "s3n://b/in", "-output", "s3://b/out", "-mapper",
                "s3n://b/wordSplitter.py", "-reducer", "aggregate"
            ]))
        );
        assert!(matches!(
            parse("/usr/lib/hadoop-mapreduce/hadoop-streaming-2.8.5.jar,-input,x").unwrap(),
            Step::Streaming(_)
        ));
    }

    #[test]
    fn dynamodb_tools_in_both_jar_generations() {
        let old = "s3://dynamodb-emr-us-east-1/emr-ddb-storage-handler/2.1.0/emr-ddb-2.1.0.jar,\n  org.apache.hadoop.dynamodb.tools.DynamoDbExport,\n  s3://b/out,\n  orders,\n  0.25";
        assert_eq!(
            parse(old).unwrap(),
            Step::DynamoDbExport(strings(&["s3://b/out", "orders", "0.25"]))
        );
        let new = "s3://dynamodb-dpl-us-east-1/emr-ddb-storage-handler/4.11.0/emr-dynamodb-tools-4.11.0-SNAPSHOT-jar-with-dependencies.jar,org.apache.hadoop.dynamodb.tools.DynamoDBImport,s3://b/in,orders,0.5";
        assert_eq!(
            parse(new).unwrap(),
            Step::DynamoDbImport(strings(&["s3://b/in", "orders", "0.5"]))
        );
        assert!(
            parse("s3://x/emr-ddb.jar,org.apache.hadoop.dynamodb.tools.DynamoDbCopy,a")
                .unwrap_err()
                .contains("DynamoDbCopy")
        );
    }

    #[test]
    fn user_jars_with_and_without_a_main_class() {
        assert_eq!(
            parse("s3://b/app.jar,com.example.Main,s3://b/in,5").unwrap(),
            Step::Jar {
                jar: "s3://b/app.jar".into(),
                main_class: Some("com.example.Main".into()),
                args: strings(&["s3://b/in", "5"])
            }
        );
        assert_eq!(
            parse("s3://b/app.jar,s3://b/in,out.txt").unwrap(),
            Step::Jar {
                jar: "s3://b/app.jar".into(),
                main_class: None,
                args: strings(&["s3://b/in", "out.txt"])
            }
        );
    }

    #[test]
    fn other_forms_are_refused_naming_the_step() {
        let err = parse("s3://b/run.sh,arg").unwrap_err();
        assert!(err.contains("s3://b/run.sh,arg"), "{err}");
        assert!(parse(",x").unwrap_err().contains("names no jar"));
    }

    #[test]
    fn only_spark_forms_need_spark() {
        assert!(needs_spark(
            &parse("command-runner.jar,spark-submit,x.py").unwrap()
        ));
        assert!(needs_spark(
            &parse("s3://b/app.jar,com.example.Main").unwrap()
        ));
        assert!(!needs_spark(&parse("command-runner.jar,echo,hi").unwrap()));
        assert!(!needs_spark(
            &parse("x/emr-ddb.jar,org.apache.hadoop.dynamodb.tools.DynamoDbExport,s3://b,t,1")
                .unwrap()
        ));
    }
}
