//! The command line of `hadoop-streaming.jar`: streaming options and Hadoop's generic options
//! (`-D`, `-files`, …), in any order.

use sluice_model::TaskResult;

use crate::exec::error_id;

/// The reducer of a job.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Reducer {
    /// A command run in a shell.
    Command(String),
    /// Hadoop's `aggregate` (`ValueAggregatorReducer`).
    Aggregate,
    /// No `-reducer`, or `IdentityReducer`: the sorted map output is the result.
    Identity,
    /// `-reducer NONE`: a map-only job.
    None,
}

/// A parsed streaming command line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Job {
    pub(crate) inputs: Vec<String>,
    pub(crate) output: String,
    pub(crate) mapper: String,
    pub(crate) reducer: Reducer,
    /// How many reduce tasks; 0 for a map-only job.
    pub(crate) reduces: usize,
    /// `-file`, `-files` and `-cacheFile` URIs, each with an optional `#name`.
    pub(crate) files: Vec<String>,
    /// `-cmdenv` variables, then nothing else: they win over everything the tasks inherit.
    pub(crate) cmdenv: Vec<(String, String)>,
    /// `-D` settings, in order.
    pub(crate) conf: Vec<(String, String)>,
    /// `-lazyOutput`: empty parts are not written.
    pub(crate) lazy_output: bool,
    /// What was accepted but is not acted on, one line each, for the attempt's output.
    pub(crate) ignored: Vec<String>,
}

/// The `-D` keys that set the number of reduce tasks (current and deprecated names).
const REDUCES_KEYS: &[&str] = &["mapreduce.job.reduces", "mapred.reduce.tasks"];

/// Options that only tune Hadoop itself; accepted and reported as not acted on.
const IGNORED_WITH_VALUE: &[&str] = &[
    "-libjars",
    "-conf",
    "-fs",
    "-jt",
    "-dfs",
    "-mapdebug",
    "-reducedebug",
    "-additionalconfspec",
];
const IGNORED_FLAGS: &[&str] = &["-verbose", "-info", "-debug", "-background"];

/// The values of format-like options that mean the text defaults.
const DEFAULTS: &[(&str, &[&str])] = &[
    (
        "-inputformat",
        &[
            "TextInputFormat",
            "org.apache.hadoop.mapred.TextInputFormat",
        ],
    ),
    (
        "-outputformat",
        &[
            "TextOutputFormat",
            "org.apache.hadoop.mapred.TextOutputFormat",
        ],
    ),
    (
        "-partitioner",
        &[
            "HashPartitioner",
            "org.apache.hadoop.mapred.lib.HashPartitioner",
        ],
    ),
    ("-io", &["text"]),
];

fn invalid(message: impl Into<String>) -> TaskResult {
    TaskResult::failed(error_id::INVALID_TASK, message)
}

fn unsupported(message: impl Into<String>) -> TaskResult {
    TaskResult::failed(error_id::UNSUPPORTED, message)
}

/// Parses the arguments after the streaming jar (or `hadoop-streaming`).
pub(crate) fn parse(args: &[String]) -> Result<Job, TaskResult> {
    let mut inputs = Vec::new();
    let (mut output, mut mapper, mut reducer) = (None, None, None);
    let mut num_reduce_tasks = None;
    let mut conf_reduces = None;
    let mut files = Vec::new();
    let mut cmdenv = Vec::new();
    let mut conf = Vec::new();
    let mut lazy_output = false;
    let mut ignored = Vec::new();
    let mut args = args.iter().map(String::as_str);
    while let Some(option) = args.next() {
        if let Some(setting) = option.strip_prefix("-D").filter(|s| !s.is_empty()) {
            let (key, value) = setting_of(option, setting)?;
            conf.push((key, value));
            continue;
        }
        if IGNORED_FLAGS.contains(&option) {
            ignored.push(format!("{option}: not acted on"));
            continue;
        }
        if option == "-lazyOutput" {
            lazy_output = true;
            continue;
        }
        if !option.starts_with('-') || option == "-" {
            return Err(invalid(format!(
                "unexpected argument '{option}': streaming options are '-name value' pairs"
            )));
        }
        let Some(value) = args.next() else {
            return Err(invalid(format!("option {option} needs a value")));
        };
        match option {
            "-input" => inputs.extend(split_paths(value)),
            "-output" => output = Some(value.to_string()),
            "-mapper" => mapper = Some(value.trim().to_string()),
            "-reducer" => reducer = Some(reducer_of(value.trim())?),
            "-combiner" => ignored.push(format!(
                "-combiner {value}: not run (Hadoop may run a combiner any number of times, \
                 so the job's output does not depend on it)"
            )),
            "-file" | "-cacheFile" => files.push(value.to_string()),
            "-files" => files.extend(value.split(',').map(str::trim).map(String::from)),
            "-cmdenv" => {
                let Some((k, v)) = value.split_once('=') else {
                    return Err(invalid(format!("-cmdenv {value}: expected NAME=VALUE")));
                };
                cmdenv.push((k.to_string(), v.to_string()));
            }
            "-numReduceTasks" => num_reduce_tasks = Some(count_of(option, value)?),
            "-D" => {
                let (key, value) = setting_of(option, value)?;
                conf.push((key, value));
            }
            "-archives" | "-cacheArchive" | "-inputreader" => {
                return Err(unsupported(format!(
                    "{option} {value}: not supported (Sluice ships plain files only: use -files)"
                )));
            }
            _ if IGNORED_WITH_VALUE.contains(&option) => {
                ignored.push(format!("{option} {value}: not acted on"));
            }
            _ => match DEFAULTS.iter().find(|(name, _)| *name == option) {
                Some((_, accepted)) if accepted.contains(&value) => {}
                Some((_, accepted)) => {
                    return Err(unsupported(format!(
                        "{option} {value}: only the text default ({}) is supported; Sluice \
                         runs streaming without Hadoop's Java classes",
                        accepted.last().unwrap_or(&"")
                    )));
                }
                None => return Err(invalid(format!("unknown streaming option {option}"))),
            },
        }
    }
    for (key, value) in &conf {
        if REDUCES_KEYS.contains(&key.as_str()) {
            conf_reduces = Some(count_of(&format!("-D {key}"), value)?);
        } else {
            ignored.push(format!(
                "-D {key}={value}: not acted on (passed to the tasks' environment as {})",
                env_name(key)
            ));
        }
    }
    if inputs.is_empty() {
        return Err(invalid("missing required option -input"));
    }
    let Some(output) = output else {
        return Err(invalid("missing required option -output"));
    };
    let Some(mapper) = mapper.filter(|m| !m.is_empty()) else {
        return Err(invalid("missing required option -mapper"));
    };
    if looks_like_class(&mapper) {
        return Err(unsupported(format!(
            "-mapper {mapper} names a Java class; Sluice runs streaming commands natively, \
             without a JVM"
        )));
    }
    let reducer = reducer.unwrap_or(Reducer::Identity);
    // As in Hadoop, -numReduceTasks wins over -D, and NONE means no reduce phase at all.
    let reduces = match reducer {
        Reducer::None => 0,
        _ => num_reduce_tasks.or(conf_reduces).unwrap_or(1),
    };
    if reduces == 0 && !matches!(reducer, Reducer::None | Reducer::Identity) {
        ignored.push("the reducer is not run: the job has 0 reduce tasks".to_string());
    }
    Ok(Job {
        inputs,
        output,
        mapper,
        reducer,
        reduces,
        files,
        cmdenv,
        conf,
        lazy_output,
        ignored,
    })
}

fn reducer_of(value: &str) -> Result<Reducer, TaskResult> {
    Ok(match value {
        "NONE" => Reducer::None,
        "aggregate" | "org.apache.hadoop.mapred.lib.aggregate.ValueAggregatorReducer" => {
            Reducer::Aggregate
        }
        "org.apache.hadoop.mapred.lib.IdentityReducer" => Reducer::Identity,
        "" => return Err(invalid("-reducer needs a command")),
        _ if looks_like_class(value) => {
            return Err(unsupported(format!(
                "-reducer {value} names a Java class; Sluice runs streaming commands natively, \
                 without a JVM (aggregate, NONE and IdentityReducer are built in)"
            )));
        }
        command => Reducer::Command(command.to_string()),
    })
}

fn setting_of(option: &str, setting: &str) -> Result<(String, String), TaskResult> {
    match setting.split_once('=') {
        Some((key, value)) if !key.trim().is_empty() => {
            Ok((key.trim().to_string(), value.trim().to_string()))
        }
        _ => Err(invalid(format!("{option} {setting}: expected key=value"))),
    }
}

fn count_of(option: &str, value: &str) -> Result<usize, TaskResult> {
    value.trim().parse().map_err(|_| {
        invalid(format!(
            "{option} {value}: expected a number of reduce tasks (0 or more)"
        ))
    })
}

/// `-input a,b` names two paths, as Hadoop's `addInputPaths` reads it: commas inside a glob's
/// `{…}` do not separate.
fn split_paths(value: &str) -> Vec<String> {
    let mut paths = Vec::new();
    let (mut depth, mut start) = (0usize, 0);
    for (at, c) in value.char_indices() {
        match c {
            '{' => depth += 1,
            '}' => depth = depth.saturating_sub(1),
            ',' if depth == 0 => {
                paths.push(value[start..at].trim().to_string());
                start = at + 1;
            }
            _ => {}
        }
    }
    paths.push(value[start..].trim().to_string());
    paths.retain(|p| !p.is_empty());
    paths
}

/// A job setting as Hadoop exports it to streaming tasks: every character that is not a
/// letter, digit or `_` becomes `_`.
pub(crate) fn env_name(key: &str) -> String {
    key.chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect()
}

/// Whether a mapper or reducer names a Java class (`com.example.WordMapper`): lower-case
/// package segments, a capitalized class. Script names such as `wordSplitter.py` do not.
fn looks_like_class(command: &str) -> bool {
    let segments: Vec<&str> = command.split('.').collect();
    let ident = |s: &str| {
        !s.is_empty()
            && s.chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '$')
    };
    segments.len() >= 2
        && segments.iter().all(|s| ident(s))
        && segments[..segments.len() - 1]
            .iter()
            .all(|s| s.starts_with(|c: char| c.is_ascii_lowercase()))
        && segments[segments.len() - 1].starts_with(|c: char| c.is_ascii_uppercase())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn job(args: &[&str]) -> Result<Job, TaskResult> {
        parse(&args.iter().map(|a| a.to_string()).collect::<Vec<_>>())
    }

    fn error(args: &[&str]) -> (String, String) {
        let result = job(args).unwrap_err();
        (
            result.error_id.unwrap_or_default(),
            result.error_message.unwrap_or_default(),
        )
    }

    const BASE: &[&str] = &[
        "-input",
        "s3://b/in",
        "-output",
        "s3://b/out",
        "-mapper",
        "cat",
    ];

    fn with<'a>(extra: &[&'a str]) -> Vec<&'a str> {
        BASE.iter().chain(extra).copied().collect()
    }

    #[test]
    fn the_word_count_tutorial() {
        let job = job(&[
            "-input",
            "s3n://b/in",
            "-output",
            "s3://b/out",
            "-mapper",
            "s3n://b/wordSplitter.py",
            "-reducer",
            "aggregate",
        ])
        .unwrap();
        assert_eq!(job.inputs, ["s3n://b/in"]);
        assert_eq!(job.output, "s3://b/out");
        assert_eq!(job.mapper, "s3n://b/wordSplitter.py");
        assert_eq!(job.reducer, Reducer::Aggregate);
        assert_eq!(job.reduces, 1);
        assert!(job.ignored.is_empty());
    }

    #[test]
    fn reducers_and_their_counts() {
        assert_eq!(job(BASE).unwrap().reducer, Reducer::Identity);
        assert_eq!(job(BASE).unwrap().reduces, 1);
        let none = job(&with(&["-reducer", "NONE", "-numReduceTasks", "4"])).unwrap();
        assert_eq!((none.reducer, none.reduces), (Reducer::None, 0));
        let map_only = job(&with(&["-reducer", "uniq -c", "-numReduceTasks", "0"])).unwrap();
        assert_eq!(map_only.reduces, 0);
        assert!(
            map_only.ignored[0].contains("not run"),
            "{:?}",
            map_only.ignored
        );
        // -numReduceTasks wins over -D whatever the order; -D alone sets it, either spelling.
        let both = job(&with(&[
            "-numReduceTasks",
            "3",
            "-D",
            "mapreduce.job.reduces=5",
        ]))
        .unwrap();
        assert_eq!(both.reduces, 3);
        assert_eq!(job(&with(&["-Dmapred.reduce.tasks=7"])).unwrap().reduces, 7);
        assert_eq!(
            error(&with(&["-numReduceTasks", "-1"])).1,
            "-numReduceTasks -1: expected a number of reduce tasks (0 or more)"
        );
    }

    #[test]
    fn files_environment_and_settings() {
        let job = job(&with(&[
            "-file",
            "s3://b/a.py",
            "-files",
            "s3://b/b.py, s3://b/c.txt#dict",
            "-cacheFile",
            "s3://b/d#d",
            "-cmdenv",
            "MODE=a=b",
            "-D",
            "stream.non.zero.exit.is.failure=true",
            "-lazyOutput",
            "-input",
            "s3://b/x,s3://b/{y,z}",
        ]))
        .unwrap();
        assert_eq!(
            job.files,
            [
                "s3://b/a.py",
                "s3://b/b.py",
                "s3://b/c.txt#dict",
                "s3://b/d#d"
            ]
        );
        assert_eq!(job.cmdenv, [("MODE".to_string(), "a=b".to_string())]);
        assert_eq!(job.inputs, ["s3://b/in", "s3://b/x", "s3://b/{y,z}"]);
        assert!(job.lazy_output);
        assert_eq!(
            job.ignored,
            [
                "-D stream.non.zero.exit.is.failure=true: not acted on (passed to the tasks' \
              environment as stream_non_zero_exit_is_failure)"
            ]
        );
    }

    #[test]
    fn hadoop_only_options_are_noted_formats_refused_by_name() {
        let job = job(&with(&[
            "-verbose",
            "-libjars",
            "x.jar",
            "-combiner",
            "cat",
        ]))
        .unwrap();
        assert_eq!(job.ignored.len(), 3, "{:?}", job.ignored);
        assert!(job.ignored[2].starts_with("-combiner cat: not run"));
        assert!(
            self::job(&with(&[
                "-inputformat",
                "org.apache.hadoop.mapred.TextInputFormat"
            ]))
            .is_ok()
        );
        let (id, message) = error(&with(&["-inputformat", "SequenceFileAsTextInputFormat"]));
        assert_eq!(id, error_id::UNSUPPORTED);
        assert!(
            message.starts_with("-inputformat SequenceFileAsTextInputFormat:"),
            "{message}"
        );
        let (_, message) = error(&with(&["-outputformat", "org.x.JsonOutputFormat"]));
        assert!(
            message.starts_with("-outputformat org.x.JsonOutputFormat:"),
            "{message}"
        );
        assert!(
            error(&with(&["-archives", "s3://b/a.tgz"]))
                .1
                .contains("-archives")
        );
    }

    #[test]
    fn malformed_command_lines() {
        assert_eq!(
            error(&["-output", "o", "-mapper", "cat"]),
            (
                error_id::INVALID_TASK.to_string(),
                "missing required option -input".to_string()
            )
        );
        assert_eq!(
            error(&["-input", "i", "-mapper", "cat"]).1,
            "missing required option -output"
        );
        assert_eq!(
            error(&["-input", "i", "-output", "o"]).1,
            "missing required option -mapper"
        );
        assert_eq!(
            error(&with(&["-reducer"])).1,
            "option -reducer needs a value"
        );
        assert_eq!(
            error(&with(&["-bogus", "1"])).1,
            "unknown streaming option -bogus"
        );
        assert!(
            error(&with(&["stray"]))
                .1
                .contains("unexpected argument 'stray'")
        );
        assert!(
            error(&with(&["-D", "novalue"]))
                .1
                .contains("expected key=value")
        );
        assert!(error(&with(&["-cmdenv", "X"])).1.contains("NAME=VALUE"));
    }

    #[test]
    fn java_classes_are_told_apart_from_scripts() {
        assert!(looks_like_class("com.example.WordMapper"));
        assert!(looks_like_class(
            "org.apache.hadoop.mapred.lib.IdentityMapper"
        ));
        assert!(!looks_like_class("wordSplitter.py"));
        assert!(!looks_like_class("python3 mapper.py"));
        assert!(!looks_like_class("/bin/cat"));
        assert_eq!(
            reducer_of("org.apache.hadoop.mapred.lib.IdentityReducer").unwrap(),
            Reducer::Identity
        );
        assert_eq!(
            error(&with(&["-reducer", "com.x.Sum"])).0,
            error_id::UNSUPPORTED
        );
        let (id, message) = error(&["-input", "i", "-output", "o", "-mapper", "com.x.Map"]);
        assert_eq!(id, error_id::UNSUPPORTED);
        assert!(message.contains("Java class"));
    }
}
