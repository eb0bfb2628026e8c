//! `sluice plan` end to end, and `--parameter-objects` on `validate`, `run` and `plan`: the
//! real binary on definitions written to temporary directories. Expected instances are
//! computed here from each definition's schedule.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use chrono::{Duration, NaiveDateTime};
use serde_json::{Value, json};
use sluice_testsupport::files::lines;

use common::{
    RunOutput, Sandbox, datetime, default_object, now, ondemand_default, shell, sluice_bin,
};

/// `sluice plan FILE ARGS…` in the sandbox.
fn plan(sb: &Sandbox, definition: &Path, args: &[&str]) -> RunOutput {
    plan_in(sb, sb.root(), definition, args)
}

/// `sluice plan FILE ARGS…` with the working directory `dir` and the data directory pointed
/// into it, so that anything written there would show.
fn plan_in(sb: &Sandbox, dir: &Path, definition: &Path, args: &[&str]) -> RunOutput {
    let mut command = Command::new(sluice_bin());
    command
        .arg("plan")
        .arg(definition)
        .args(args)
        .current_dir(dir)
        .env("SLUICE_DATA_DIR", dir.join("data"))
        .stdin(std::process::Stdio::null());
    sb.run_command(command)
}

/// `sluice validate FILE ARGS…`.
fn validate(sb: &Sandbox, definition: &Path, args: &[&str]) -> RunOutput {
    let mut command = Command::new(sluice_bin());
    command
        .arg("validate")
        .arg(definition)
        .args(args)
        .current_dir(sb.root());
    sb.run_command(command)
}

fn at(text: &str) -> NaiveDateTime {
    NaiveDateTime::parse_from_str(text, "%Y-%m-%dT%H:%M:%S").expect(text)
}

fn id(component: &str, start: NaiveDateTime) -> String {
    format!("@{component}_{}", datetime(start))
}

/// The `--output json` document, checked for its exact keys.
#[track_caller]
fn plan_json(out: &RunOutput) -> Value {
    out.assert_code(0);
    let value: Value = serde_json::from_str(&out.stdout)
        .unwrap_or_else(|e| panic!("stdout is not JSON ({e}):\n{}", out.stdout));
    let sorted_keys = |object: &Value| {
        let mut keys: Vec<String> = object
            .as_object()
            .unwrap_or_else(|| panic!("{object} is an object"))
            .keys()
            .cloned()
            .collect();
        keys.sort_unstable();
        keys
    };
    assert_eq!(
        sorted_keys(&value),
        ["activationTime", "from", "instances", "ondemand", "to"]
    );
    for instance in value["instances"].as_array().expect("instances") {
        assert_eq!(
            sorted_keys(instance),
            [
                "checks",
                "component",
                "dependsOn",
                "dueTime",
                "id",
                "preconditions",
                "runsOn",
                "scheduledEndTime",
                "scheduledStartTime",
                "type"
            ],
            "{instance}"
        );
    }
    value
}

/// One planned instance, as the JSON output gives it.
#[allow(clippy::too_many_arguments)]
fn instance(
    component: &str,
    type_name: &str,
    start: NaiveDateTime,
    end: NaiveDateTime,
    due: NaiveDateTime,
    depends_on: &[String],
    preconditions: &[String],
    checks: Option<String>,
) -> Value {
    json!({
        "id": id(component, start),
        "component": component,
        "type": type_name,
        "scheduledStartTime": datetime(start),
        "scheduledEndTime": datetime(end),
        "dueTime": datetime(due),
        "dependsOn": depends_on,
        "preconditions": preconditions,
        "runsOn": null,
        "checks": checks,
    })
}

const START: &str = "2026-03-01T06:00:00";

/// The `Default` object: `schedule_type`, and the schedule everything uses when given.
fn default_with(schedule_type: &str, schedule: Option<&str>) -> Value {
    let mut fields = json!({ "scheduleType": schedule_type });
    if let Some(schedule) = schedule {
        fields["schedule"] = json!({ "ref": schedule });
    }
    default_object(fields, json!({}))
}

/// A Schedule object; `start` is a datetime or an expression.
fn schedule(id: &str, period: &str, start: &str) -> Value {
    json!({ "id": id, "type": "Schedule", "period": period, "startDateTime": start })
}

/// Hourly cron from START: Extract (checked by Ready) → Transform → Load.
fn hourly_chain(sb: &Sandbox) -> PathBuf {
    sb.write_definition(
        "chain.json",
        json!([
            default_with("cron", Some("Hourly")),
            schedule("Hourly", "1 hour", START),
            { "id": "Ready", "type": "ShellCommandPrecondition", "command": "true" },
            shell("Extract", "true", json!({ "precondition": { "ref": "Ready" } })),
            shell("Transform", "true", json!({ "dependsOn": { "ref": "Extract" } })),
            shell("Load", "true", json!({ "dependsOn": { "ref": "Transform" } })),
        ]),
    )
}

/// The instances of interval `k` of the hourly chain, in the order `sluice plan` lists them.
fn chain_interval(k: i64) -> Vec<Value> {
    let s = at(START) + Duration::hours(k);
    let e = s + Duration::hours(1);
    let activity = |name: &str, depends_on: &[String], preconditions: &[String]| {
        instance(
            name,
            "ShellCommandActivity",
            s,
            e,
            s,
            depends_on,
            preconditions,
            None,
        )
    };
    vec![
        instance(
            "Ready",
            "ShellCommandPrecondition",
            s,
            e,
            s,
            &[],
            &[],
            Some(id("Extract", s)),
        ),
        activity("Extract", &[], &[id("Ready", s)]),
        activity("Transform", &[id("Extract", s)], &[]),
        activity("Load", &[id("Transform", s)], &[]),
    ]
}

#[test]
fn count_lists_each_interval_with_its_ids_times_and_dependencies() {
    let sb = Sandbox::new();
    let def = hourly_chain(&sb);
    let activation = at(START) + Duration::minutes(90);
    let args = ["--activate-at", &datetime(activation), "--count", "3"];

    let mut json_args = args.to_vec();
    json_args.extend(["--output", "json"]);
    let value = plan_json(&plan(&sb, &def, &json_args));
    let expected: Vec<Value> = (0..3).flat_map(chain_interval).collect();
    assert_eq!(value["instances"], json!(expected), "{:#}", value);
    assert_eq!(value["activationTime"], json!(datetime(activation)));
    assert_eq!(value["ondemand"], json!(false));
    assert_eq!(value["from"], json!(START));
    assert_eq!(value["to"], json!(datetime(at(START) + Duration::hours(3))));

    // The text table: a line per interval start, the instances under it, then a summary.
    let out = plan(&sb, &def, &args);
    out.assert_code(0);
    let text = &out.stdout;
    let mut lines = text.lines();
    let header: Vec<&str> = lines
        .next()
        .expect("header")
        .split("  ")
        .filter(|c| !c.is_empty())
        .map(str::trim)
        .collect();
    assert_eq!(
        header,
        ["INSTANCE", "TYPE", "SCHEDULED END", "DUE", "WAITS FOR"],
        "{text}"
    );
    let mut groups: Vec<(String, Vec<Vec<String>>)> = Vec::new();
    for line in lines.by_ref().take_while(|l| !l.is_empty()) {
        match line.strip_prefix("  ") {
            None => groups.push((line.to_owned(), Vec::new())),
            Some(row) => {
                // Four single-word cells, then what the instance waits for.
                let words: Vec<&str> = row.split_whitespace().collect();
                let mut cells: Vec<String> = words[..4].iter().map(|w| (*w).to_owned()).collect();
                cells.push(words[4..].join(" "));
                groups.last_mut().expect("a group line first").1.push(cells);
            }
        }
    }
    let expected_groups: Vec<(String, Vec<Vec<String>>)> = (0..3)
        .map(|k| {
            let s = at(START) + Duration::hours(k);
            let e = datetime(s + Duration::hours(1));
            let row = |component: &str, type_name: &str, waits: String| {
                vec![
                    id(component, s),
                    type_name.to_owned(),
                    e.clone(),
                    datetime(s),
                    waits,
                ]
            };
            (
                datetime(s),
                vec![
                    row(
                        "Ready",
                        "ShellCommandPrecondition",
                        format!("checks {}", id("Extract", s)),
                    ),
                    row(
                        "Extract",
                        "ShellCommandActivity",
                        format!("check {}", id("Ready", s)),
                    ),
                    row("Transform", "ShellCommandActivity", id("Extract", s)),
                    row("Load", "ShellCommandActivity", id("Transform", s)),
                ],
            )
        })
        .collect();
    assert_eq!(groups, expected_groups, "{text}");
    // Intervals 0 and 1 are due by the activation (06:00 and 07:00 before 07:30).
    let summary = lines.next().expect("summary");
    assert_eq!(
        summary,
        format!(
            "12 instances in 3 intervals from {START} to {}; activated at {}, 8 due at once",
            datetime(at(START) + Duration::hours(3)),
            datetime(activation)
        )
    );
}

#[test]
fn timeseries_instances_are_due_at_the_end_of_their_interval_and_cron_at_the_start() {
    let sb = Sandbox::new();
    let start = at("2026-03-01T00:00:00");
    let def = sb.write_definition(
        "daily.json",
        json!([
            default_with("timeseries", Some("Daily")),
            schedule("Daily", "1 day", &datetime(start)),
            shell("Rollup", "true", json!({})),
            shell("Notify", "true", json!({ "scheduleType": "cron" })),
        ]),
    );
    let out = plan(
        &sb,
        &def,
        &[
            "--activate-at",
            "2026-03-01T12:00:00",
            "--count",
            "2",
            "--output",
            "json",
        ],
    );
    let value = plan_json(&out);
    let got: Vec<(String, String, String)> = value["instances"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| {
            let text = |k: &str| i[k].as_str().unwrap().to_owned();
            (text("id"), text("scheduledEndTime"), text("dueTime"))
        })
        .collect();
    let mut expected = Vec::new();
    for k in 0..2 {
        let s = start + Duration::days(k);
        let e = s + Duration::days(1);
        expected.push((id("Notify", s), datetime(e), datetime(s)));
        expected.push((id("Rollup", s), datetime(e), datetime(e)));
    }
    assert_eq!(got, expected);
}

#[test]
fn an_ondemand_pipeline_is_one_run_at_the_activation() {
    let sb = Sandbox::new();
    let def = sb.write_definition(
        "ondemand.json",
        json!([
            ondemand_default(json!({})),
            shell("First", "true", json!({})),
            shell("Second", "true", json!({ "dependsOn": { "ref": "First" } })),
        ]),
    );
    let before = now();
    let value = plan_json(&plan(&sb, &def, &["--output", "json"]));
    let after = now();
    assert_eq!(value["ondemand"], json!(true));
    assert_eq!((&value["from"], &value["to"]), (&Value::Null, &Value::Null));
    let activation = at(value["activationTime"].as_str().unwrap());
    assert!((before..=after).contains(&activation), "{value:#}");
    let run = |component: &str, depends_on: &[String]| {
        instance(
            component,
            "ShellCommandActivity",
            activation,
            activation,
            activation,
            depends_on,
            &[],
            None,
        )
    };
    assert_eq!(
        value["instances"],
        json!([run("First", &[]), run("Second", &[id("First", activation)])])
    );

    // A window means nothing to an ondemand pipeline.
    let out = plan(&sb, &def, &["--count", "2"]);
    out.assert_code(2);
    assert!(out.stderr.contains("ondemand"), "{}", out.stderr);
    assert!(out.stdout.is_empty(), "{}", out.stdout);
}

#[test]
fn from_and_to_choose_the_window_and_dependencies_outside_it_are_named() {
    let sb = Sandbox::new();
    let midnight = at("2026-03-01T00:00:00");
    // Hourly Report depends on the daily Extract of its day.
    let def = sb.write_definition(
        "window.json",
        json!([
            default_with("cron", None),
            schedule("Hourly", "1 hour", &datetime(midnight)),
            schedule("Daily", "1 day", &datetime(midnight)),
            shell("Extract", "true", json!({ "schedule": { "ref": "Daily" } })),
            shell(
                "Report",
                "true",
                json!({ "schedule": { "ref": "Hourly" }, "dependsOn": { "ref": "Extract" } })
            ),
        ]),
    );
    let (from, to) = (midnight + Duration::hours(5), midnight + Duration::hours(7));
    let value = plan_json(&plan(
        &sb,
        &def,
        &[
            "--activate-at",
            "2026-03-01T00:00:00",
            "--from",
            &datetime(from),
            "--to",
            &datetime(to),
            "--output",
            "json",
        ],
    ));
    let got: Vec<(&str, &Value)> = value["instances"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| (i["id"].as_str().unwrap(), &i["dependsOn"]))
        .collect();
    let producer = json!([id("Extract", midnight)]);
    let (first, second) = (id("Report", from), id("Report", from + Duration::hours(1)));
    assert_eq!(
        got,
        [(first.as_str(), &producer), (second.as_str(), &producer)]
    );
    assert_eq!(
        (&value["from"], &value["to"]),
        (&json!(datetime(from)), &json!(datetime(to)))
    );

    let out = plan(
        &sb,
        &def,
        &["--from", &datetime(to), "--to", &datetime(from)],
    );
    out.assert_code(2);
    assert!(out.stderr.contains("--to"), "{}", out.stderr);
    let out = plan(&sb, &def, &["--to", &datetime(to), "--count", "2"]);
    out.assert_code(2);
}

#[test]
fn by_default_the_window_runs_from_the_first_interval_to_a_day_after_now() {
    let sb = Sandbox::new();
    let def = sb.write_definition(
        "first.json",
        json!([
            default_with("cron", Some("Hourly")),
            { "id": "Hourly", "type": "Schedule", "period": "1 hour",
              "startAt": "FIRST_ACTIVATION_DATE_TIME" },
            shell("Tick", "true", json!({})),
        ]),
    );
    let before = now();
    let value = plan_json(&plan(&sb, &def, &["--output", "json"]));
    let after = now();
    let activation = at(value["activationTime"].as_str().unwrap());
    assert!((before..=after).contains(&activation), "{value:#}");
    assert_eq!(value["from"], json!(datetime(activation)));
    assert_eq!(value["to"], json!(datetime(activation + Duration::days(1))));
    let got: Vec<&str> = value["instances"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["id"].as_str().unwrap())
        .collect();
    let expected: Vec<String> = (0..24)
        .map(|k| id("Tick", activation + Duration::hours(k)))
        .collect();
    assert_eq!(got, expected);
}

#[test]
fn an_invalid_definition_exits_2_naming_its_errors() {
    let sb = Sandbox::new();
    let def = sb.write_definition(
        "broken.json",
        json!([
            default_with("cron", None),
            schedule("Hourly", "1 hour", START),
            shell(
                "Orphan",
                "true",
                json!({ "schedule": { "ref": "Hourlyy" } })
            ),
        ]),
    );
    let out = plan(&sb, &def, &[]);
    out.assert_code(2);
    assert!(out.stdout.is_empty(), "{}", out.stdout);
    assert!(
        out.stderr.contains("is not a valid definition"),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr.contains("Orphan") && out.stderr.contains("Hourlyy"),
        "{}",
        out.stderr
    );
}

#[test]
fn planning_writes_nothing() {
    let sb = Sandbox::new();
    let def = hourly_chain(&sb);
    // The sandbox keeps each process's output beside the definition; plan runs elsewhere.
    let work = sb.path("work");
    std::fs::create_dir(&work).expect("work dir");
    for args in [&["--count", "2"][..], &["--output", "json"]] {
        plan_in(&sb, &work, &def, args).assert_code(0);
    }
    // Neither SLUICE_DATA_DIR nor ./.sluice was created, nor anything else.
    let left: Vec<_> = std::fs::read_dir(&work).expect("work dir").collect();
    assert!(left.is_empty(), "{left:?}");
}

/// The command and output shown in the README's "Planning a run" section, run as written.
#[test]
fn the_readme_plan_example_prints_what_the_readme_shows() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let readme = std::fs::read_to_string(root.join("README.md")).expect("README.md");
    let block = readme
        .split("```text\n")
        .find(|b| b.starts_with("$ sluice plan "))
        .expect("the README shows a sluice plan example");
    let block = &block[..block.find("```").expect("the block ends")];
    let (command, shown) = block.split_once('\n').expect("a command and its output");
    let args: Vec<&str> = command
        .strip_prefix("$ sluice ")
        .unwrap()
        .split_whitespace()
        .collect();
    let out = Command::new(sluice_bin())
        .args(&args)
        .current_dir(&root)
        .output()
        .expect("sluice runs");
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    assert_eq!(String::from_utf8_lossy(&out.stdout), shown);
}

// --parameter-objects

/// A definition declaring no parameters that echoes `#{myGreeting}` into `marker`.
fn greeting_without_parameters(sb: &Sandbox) -> PathBuf {
    let marker = sb.sh("marker");
    sb.write_definition(
        "greet.json",
        json!([
            ondemand_default(json!({})),
            shell(
                "Greet",
                &format!("echo '#{{myGreeting}}' >> {marker}"),
                json!({})
            ),
        ]),
    )
}

fn write(sb: &Sandbox, name: &str, text: &str) -> PathBuf {
    let path = sb.path(name);
    std::fs::write(&path, text).expect("write");
    path
}

const GREETING_OBJECTS: &str =
    r#"{"parameters": [{"id": "myGreeting", "type": "String", "default": "hello"}]}"#;

#[test]
fn parameter_objects_declare_what_validate_and_run_use() {
    let sb = Sandbox::new();
    let def = greeting_without_parameters(&sb);
    let objects = write(&sb, "objects.json", GREETING_OBJECTS);
    let uri = format!("file://{}", objects.display());
    let plain = objects.display().to_string();

    // Without a declaration or a value the parameter is undefined.
    let out = validate(&sb, &def, &[]);
    out.assert_code(1);
    assert!(out.stdout.contains("myGreeting"), "{}", out.stdout);
    for location in [&uri, &plain] {
        let out = validate(&sb, &def, &["--parameter-objects", location]);
        out.assert_code(0);
    }

    // The declared default, then a value given beside it.
    sb.run(&def, &["--parameter-objects", &uri]).assert_code(0);
    sb.run_in(
        &def,
        &sb.path("data2"),
        &[
            "--parameter-objects",
            &plain,
            "--parameter-values",
            "myGreeting=bonjour",
        ],
    )
    .assert_code(0);
    assert_eq!(lines(&sb.path("marker")), ["hello", "bonjour"]);

    // A value that breaks the declaration is refused.
    let typed = write(
        &sb,
        "typed.json",
        r#"[{"id": "myGreeting", "type": "Integer"}]"#,
    );
    let typed = typed.display().to_string();
    let out = validate(
        &sb,
        &def,
        &[
            "--parameter-objects",
            &typed,
            "--parameter-values",
            "myGreeting=hi",
        ],
    );
    out.assert_code(1);
    assert!(
        out.stdout.contains("INVALID_PARAMETER_VALUE"),
        "{}",
        out.stdout
    );
}

#[test]
fn parameter_objects_replace_the_definitions_own_and_work_with_plan() {
    let sb = Sandbox::new();
    let start = at("2026-03-01T00:00:00");
    let def = sb.write_definition_with(
        "dated.json",
        json!([
            default_with("cron", Some("Daily")),
            schedule("Daily", "1 day", "#{myStart}"),
            shell("Job", "echo #{myLabel}", json!({})),
        ]),
        json!({ "parameters": [
            { "id": "myStart", "type": "String", "default": "2020-01-01T00:00:00" },
            { "id": "myLabel", "type": "String", "default": "from the definition" }
        ]}),
    );
    // The file declares myStart with another default and leaves myLabel out.
    let objects = write(
        &sb,
        "objects.json",
        &format!(
            r#"[{{"id": "myStart", "type": "String", "default": "{}"}}]"#,
            datetime(start)
        ),
    );
    let objects = format!("file://{}", objects.display());
    let out = plan(
        &sb,
        &def,
        &["--parameter-objects", &objects, "--count", "1"],
    );
    out.assert_code(2);
    assert!(out.stderr.contains("myLabel"), "{}", out.stderr);

    let value = plan_json(&plan(
        &sb,
        &def,
        &[
            "--parameter-objects",
            &objects,
            "--parameter-values",
            "myLabel=x",
            "--count",
            "1",
            "--output",
            "json",
        ],
    ));
    assert_eq!(value["from"], json!(datetime(start)));
    assert_eq!(value["instances"][0]["id"], json!(id("Job", start)));

    let out = validate(
        &sb,
        &def,
        &["--parameter-objects", "file:///no/such/objects.json"],
    );
    out.assert_code(2);
    assert!(
        out.stderr
            .contains("cannot read parameter objects file /no/such/objects.json"),
        "{}",
        out.stderr
    );
}
