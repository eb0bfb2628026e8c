//! The `sluice` binary as a user meets it: exit statuses, text and JSON output of `validate`,
//! and `eval` with and without a definition.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use insta::assert_snapshot;

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn sluice(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_sluice"))
        .args(args)
        .current_dir(repo_root())
        .output()
        .expect("the sluice binary runs")
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

fn write_temp(contents: &str) -> tempfile::NamedTempFile {
    let file = tempfile::NamedTempFile::new().expect("temp file");
    std::fs::write(file.path(), contents).expect("write temp file");
    file
}

#[test]
fn every_shipped_example_is_valid() {
    for entry in std::fs::read_dir(repo_root().join("examples")).expect("examples/ exists") {
        let path = entry.expect("dir entry").path();
        if path.extension().is_some_and(|e| e == "json") {
            let out = sluice(&["validate", path.to_str().expect("utf-8 path")]);
            assert_eq!(
                out.status.code(),
                Some(0),
                "{}: {}",
                path.display(),
                stdout(&out)
            );
        }
    }
}

#[test]
fn a_broken_definition_exits_1_and_names_every_problem() {
    let out = sluice(&[
        "validate",
        "crates/definition/tests/corpus/09_broken_typos.json",
    ]);
    assert_eq!(out.status.code(), Some(1));
    assert_snapshot!(stdout(&out), @r#"
    crates/definition/tests/corpus/09_broken_typos.json: invalid (11 errors in 6 objects, 0 warnings)
      Default
        error: UNKNOWN_FIELD: 'scheduelType' is not a field of any object type (did you mean 'scheduleType'?)
      Daily
        error: INVALID_FIELD_VALUE: 'period' value '15 Period' is not a period: unknown unit (use minutes, hours, days, weeks, months or years)
        error: INVALID_FIELD_VALUE: 'startDateTime' value must be a literal datetime value (YYYY-MM-DDTHH:MM:SS)
      Greet
        error: UNKNOWN_TYPE: 'type' value 'ShellComandActivity' is not a known object type (did you mean 'ShellCommandActivity'?)
      Report
        error: READ_ONLY_FIELD: '@status' is a runtime field set by the service; a definition cannot set it
        error: UNKNOWN_FIELD: 'comand' is not a field of ShellCommandActivity (did you mean 'command'?)
        error: INVALID_REFERENCE: 'onFail' must be a reference to an object, not a string (write {"ref": "Alarm"})
        error: INVALID_REFERENCE: 'output' refers to 'Reprots', which does not exist (did you mean 'Reports'?)
        error: INVALID_FIELD_VALUE: 'stage' value 'yes' must be true or false
      Reports
        error: UNKNOWN_TYPE: 'type' value 's3DataNode' is not a known object type (did you mean 'S3DataNode' or 'SqlDataNode'?)
      Alarm
        error: INVALID_EXPRESSION: 'message' value has an invalid expression: expected an operator or the end of the expression, found name 'failed' (at byte 12)
    "#);
}

#[test]
fn json_output_is_the_validate_pipeline_definition_response() {
    let out = sluice(&[
        "validate",
        "crates/definition/tests/corpus/10_broken_schedules.json",
        "--output",
        "json",
    ]);
    assert_eq!(out.status.code(), Some(1));
    let body: serde_json::Value = serde_json::from_slice(&out.stdout).expect("valid JSON");
    assert_eq!(body["errored"], true);
    assert!(body["validationErrors"].is_array() && body["validationWarnings"].is_array());
    assert_snapshot!(stdout(&out), @r#"
    {
      "errored": true,
      "validationErrors": [
        {
          "id": "Default",
          "errors": [
            "INVALID_SCHEDULE_TYPE: 'schedule' refers to Schedule 'Weekly', but an ondemand pipeline runs once per activation and must not use a schedule"
          ]
        },
        {
          "id": "Weekly",
          "errors": [
            "CONFLICTING_FIELDS: only one of 'startDateTime', 'startAt' may be set on Schedule, but 'startDateTime', 'startAt' are set",
            "CONFLICTING_FIELDS: only one of 'endDateTime', 'occurrences' may be set on Schedule, but 'endDateTime', 'occurrences' are set",
            "INVALID_FIELD_VALUE: 'endDateTime' (2026-06-01T00:00:00) must be after 'startDateTime' (2026-07-01T00:00:00)"
          ]
        },
        {
          "id": "Nightly",
          "errors": [
            "INVALID_SCHEDULE_TYPE: 'scheduleType' is 'cron', but the pipeline is ondemand and ondemand must be set on Default and be the only scheduleType"
          ]
        }
      ],
      "validationWarnings": [
        {
          "id": "Weekly",
          "warnings": [
            "DEPRECATED_FIELD: 'startAt' is deprecated on Schedule: FIRST_ACTIVATION_DATE_TIME is deprecated in favour of an on-demand pipeline"
          ]
        },
        {
          "id": "Nightly",
          "warnings": [
            "IGNORED_FIELD: 'lateAfterTimeout' is ignored in ondemand pipelines"
          ]
        }
      ]
    }
    "#);
}

#[test]
fn malformed_json_exits_2_with_line_and_column() {
    let file = write_temp("{\n  \"objects\": [\n    {\"id\": \"A\",}\n  ]\n}\n");
    let out = sluice(&["validate", file.path().to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("line 3, column"), "{}", stderr(&out));
}

#[test]
fn a_missing_file_exits_2() {
    let out = sluice(&["validate", "no/such/definition.json"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("no/such/definition.json"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn non_string_scalars_name_the_object_and_field() {
    let file = write_temp(
        r#"{"objects": [{"id": "Copy", "type": "ShellCommandActivity", "maximumRetries": 3}]}"#,
    );
    let out = sluice(&["validate", file.path().to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(
        err.contains("'Copy'") && err.contains("'maximumRetries'"),
        "{err}"
    );
}

#[test]
fn parameter_values_options_feed_validation() {
    let def = "examples/on-demand-report.json";
    let ok = sluice(&["validate", def, "--parameter-values", "myRegions=eu-west-1"]);
    assert_eq!(ok.status.code(), Some(0), "{}", stdout(&ok));
    let bad = sluice(&[
        "validate",
        def,
        "--parameter-values",
        "myRegions=mars-north-1",
    ]);
    assert_eq!(bad.status.code(), Some(1));
    assert!(stdout(&bad).contains("mars-north-1") || stdout(&bad).contains("myRegions"));

    let values = write_temp(r#"{"values": {"myRegions": ["us-east-1", "ap-southeast-2"]}}"#);
    let from_file = sluice(&[
        "validate",
        def,
        "--parameter-values-uri",
        values.path().to_str().unwrap(),
    ]);
    assert_eq!(from_file.status.code(), Some(0), "{}", stdout(&from_file));

    let both = sluice(&[
        "validate",
        def,
        "--parameter-values",
        "myDay=2026-01-01",
        "--parameter-values-uri",
        values.path().to_str().unwrap(),
    ]);
    assert_eq!(both.status.code(), Some(2));
    assert!(stderr(&both).contains("only one of --parameter-values or --parameter-values-uri"));
}

#[test]
fn eval_without_a_definition_uses_at_as_scheduled_start() {
    let out = sluice(&[
        "eval",
        "#{format(plusDays(@scheduledStartTime, 1), 'YYYY-MM-dd')} #{2 ^ 3} #{7 / 2}",
        "--at",
        "2026-03-01T00:00:00",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(stdout(&out), "2026-03-02 8.0 3\n");
}

#[test]
fn eval_in_the_context_of_an_object_follows_references_and_parameters() {
    let out = sluice(&[
        "eval",
        "#{input.filePath} #{myInputBucket}",
        "--definition",
        "examples/daily-s3-to-postgres.json",
        "--object",
        "LoadOrders",
        "--at",
        "2026-03-01T00:00:00",
        "--parameter-values",
        "myInputBucket=landing",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(
        stdout(&out),
        "s3://landing/orders/2026-03-01/orders.csv landing\n"
    );
}

#[test]
fn eval_errors_point_at_the_expression() {
    let out = sluice(&["eval", "#{fromat(@scheduledStartTime)}"]);
    assert_eq!(out.status.code(), Some(1));
    assert_snapshot!(stderr(&out), @"
    error: unknown function 'fromat'
    #{fromat(@scheduledStartTime)}
      ^^^^^^
    ");
}

#[test]
fn eval_of_an_unknown_object_is_a_usage_error() {
    let out = sluice(&[
        "eval",
        "#{name}",
        "--definition",
        "examples/on-demand-report.json",
        "--object",
        "Nope",
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("no object with id 'Nope'"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn service_limits_warn_by_default_and_fail_when_strict() {
    let def = write_temp(
        r#"{"objects": [
            {"id": "Default", "scheduleType": "cron", "schedule": {"ref": "Often"}, "workerGroup": "wg"},
            {"id": "Often", "type": "Schedule", "period": "5 minutes", "startDateTime": "2026-01-01T00:00:00"},
            {"id": "Tick", "type": "ShellCommandActivity", "command": "true"}
        ]}"#,
    );
    let path = def.path().to_str().unwrap();
    let lenient = sluice(&["validate", path]);
    assert_eq!(lenient.status.code(), Some(0), "{}", stdout(&lenient));
    assert!(
        stdout(&lenient).contains("warning: LIMIT_EXCEEDED"),
        "{}",
        stdout(&lenient)
    );

    let strict = sluice(&["validate", path, "--strict-limits"]);
    assert_eq!(strict.status.code(), Some(1), "{}", stdout(&strict));
    assert!(
        stdout(&strict).contains("error: LIMIT_EXCEEDED"),
        "{}",
        stdout(&strict)
    );

    let limits = write_temp(r#"{"min_schedule_period": "1 minute", "enforcement": "error"}"#);
    let custom = sluice(&[
        "validate",
        path,
        "--limits",
        limits.path().to_str().unwrap(),
    ]);
    assert_eq!(custom.status.code(), Some(0), "{}", stdout(&custom));

    let typo = write_temp(r#"{"min_schedule_periodd": "1 minute"}"#);
    let bad = sluice(&["validate", path, "--limits", typo.path().to_str().unwrap()]);
    assert_eq!(bad.status.code(), Some(2));
    assert!(
        stderr(&bad).contains("min_schedule_periodd"),
        "{}",
        stderr(&bad)
    );
}

#[test]
fn validate_warns_about_what_a_run_would_fail_on() {
    let file = write_temp(
        r#"{"objects": [
          {"id": "Default", "name": "Default", "scheduleType": "ondemand", "workerGroup": "local"},
          {"id": "Orders", "name": "Orders", "type": "RdsDatabase", "rdsInstanceId": "orders-db",
           "username": "app", "*password": "secret"},
          {"id": "Table", "name": "Table", "type": "SqlDataNode", "database": {"ref": "Orders"},
           "table": "orders", "selectQuery": "select * from orders"},
          {"id": "Items", "name": "Items", "type": "DynamoDBDataNode", "tableName": "items"},
          {"id": "Copy", "name": "Copy", "type": "CopyActivity", "input": {"ref": "Items"},
           "output": {"ref": "Table"}}
        ]}"#,
    );
    let out = sluice(&["validate", file.path().to_str().unwrap()]);
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(0), "{text}");
    assert!(text.contains("valid (2 warnings)"), "{text}");
    assert!(
        text.contains(
            "  Orders\n    warning: SETTING_MISSING: RdsDatabase Orders names rdsInstanceId 'orders-db'"
        ),
        "{text}"
    );
    assert!(
        text.contains("  Copy\n    warning: NOT_SUPPORTED: CopyActivity copies between S3DataNode and SQL data nodes; its input Items is a DynamoDBDataNode"),
        "{text}"
    );
    assert!(!text.contains("secret"), "{text}");
}
