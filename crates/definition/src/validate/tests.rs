//! One or more targeted tests per code and per rule, against the test catalog.

use chrono::NaiveDateTime;
use sluice_model::{PipelineDefinition, PipelineObject};

use super::*;
use crate::report::Code;
use crate::testkit::{baseline, catalog, def, obj, param, value};

fn now() -> NaiveDateTime {
    sluice_model::time::parse_datetime("2026-06-01T00:00:00").unwrap()
}

fn run_def(d: &PipelineDefinition) -> ValidationReport {
    validate(
        d,
        &catalog(),
        &Limits::default(),
        &ValidateOptions { now: Some(now()) },
    )
}

fn run(objects: Vec<PipelineObject>) -> ValidationReport {
    run_def(&def(objects))
}

/// The baseline plus `extra` objects.
fn with(extra: Vec<PipelineObject>) -> ValidationReport {
    let mut objects = baseline();
    objects.extend(extra);
    run(objects)
}

/// Replaces the baseline object with the same id.
fn replacing(replacement: PipelineObject) -> ValidationReport {
    let mut objects = baseline();
    let slot = objects
        .iter_mut()
        .find(|o| o.id == replacement.id)
        .expect("baseline id");
    *slot = replacement;
    run(objects)
}

fn errors(report: &ValidationReport, id: &str) -> Vec<String> {
    report.errors_for(id).to_vec()
}

fn warnings(report: &ValidationReport, id: &str) -> Vec<String> {
    report.warnings_for(id).to_vec()
}

#[test]
fn baseline_is_clean() {
    let report = run(baseline());
    assert!(report.is_clean(), "{report:#?}");
}

// ---- identity ----------------------------------------------------------------------------

#[test]
fn duplicate_ids_are_reported_once() {
    let report = with(vec![obj(
        "Hello",
        &[("type", "ShellCommandActivity"), ("command", "x")],
    )]);
    assert_eq!(
        errors(&report, "Hello"),
        ["DUPLICATE_ID: id 'Hello' is used by 2 objects; ids must be unique"]
    );
}

#[test]
fn empty_id_and_name() {
    let mut nameless = obj("Nameless", &[("type", "CSV")]);
    nameless.name = String::new();
    let mut idless = obj("", &[("type", "CSV")]);
    idless.name = "Anonymous".into();
    let report = with(vec![nameless, idless]);
    assert_eq!(
        errors(&report, "Nameless"),
        ["MISSING_NAME: the object has an empty name"]
    );
    assert_eq!(
        errors(&report, PIPELINE_ID),
        ["MISSING_ID: object 5 (name 'Anonymous') has an empty id"]
    );
}

#[test]
fn ids_other_operations_refuse_are_refused_at_put() {
    let long = "L".repeat(1025);
    let report = with(vec![
        obj(&long, &[("type", "CSV")]),
        obj("Bell\u{7}", &[("type", "CSV")]),
        obj(&"M".repeat(1024), &[("type", "CSV")]),
    ]);
    let rule = "an id has 1 to 1024 characters, none of them control characters other than \
                tab, newline and carriage return";
    assert_eq!(
        errors(&report, PIPELINE_ID),
        [
            format!(
                "INVALID_FIELD_VALUE: object 4 (name '{}…') has an id of 1025 characters: {rule}",
                "L".repeat(40)
            ),
            format!(
                "INVALID_FIELD_VALUE: object 5 (name 'Bell') has an id of 5 characters with a \
                 control character: {rule}"
            ),
        ]
    );
}

// ---- types -------------------------------------------------------------------------------

#[test]
fn unknown_type_suggests_close_names() {
    let report = replacing(obj(
        "Hello",
        &[("type", "ShellComandActivity"), ("command", "x")],
    ));
    assert_eq!(
        errors(&report, "Hello"),
        [
            "UNKNOWN_TYPE: 'type' value 'ShellComandActivity' is not a known object type (did \
             you mean 'ShellCommandActivity'?)"
        ]
    );
    let report = with(vec![obj("F", &[("type", "Spreadsheet")])]);
    assert_eq!(
        errors(&report, "F"),
        ["UNKNOWN_TYPE: 'type' value 'Spreadsheet' is not a known object type"]
    );
}

#[test]
fn untyped_objects_must_be_default_or_parents() {
    let report = with(vec![
        obj("Template", &[("command", "echo from template")]),
        obj(
            "Child",
            &[("type", "ShellCommandActivity"), ("parent", "->Template")],
        ),
        obj("Orphan", &[("myNote", "nobody uses me")]),
    ]);
    assert!(warnings(&report, "Template").is_empty());
    assert!(errors(&report, "Child").is_empty(), "{report:#?}");
    assert_eq!(
        warnings(&report, "Orphan"),
        [
            "MISSING_TYPE: the object has no 'type' and no object inherits from it, so it has no effect"
        ]
    );
    assert!(!report.errored());
}

#[test]
fn deprecated_types_warn() {
    let report = with(vec![obj(
        "Old",
        &[("type", "MySqlDataNode"), ("table", "t")],
    )]);
    assert_eq!(
        warnings(&report, "Old"),
        ["DEPRECATED_TYPE: MySqlDataNode is deprecated; use SqlDataNode"]
    );
    assert!(!report.errored());
}

#[test]
fn type_must_be_a_single_string() {
    let report = with(vec![obj("T", &[("type", "CSV"), ("type", "TSV")])]);
    assert_eq!(
        errors(&report, "T"),
        ["REPEATED_FIELD: 'type' takes a single value but has 2"]
    );
    let report = with(vec![obj("R", &[("type", "->Daily")])]);
    assert_eq!(
        errors(&report, "R"),
        ["INVALID_FIELD_VALUE: 'type' must be a type name, not a reference to 'Daily'"]
    );
}

// ---- fields ------------------------------------------------------------------------------

#[test]
fn unknown_fields_are_errors_with_suggestions() {
    let report = replacing(obj(
        "Hello",
        &[
            ("type", "ShellCommandActivity"),
            ("command", "x"),
            ("comand", "y"),
            ("colour", "z"),
        ],
    ));
    assert_eq!(
        errors(&report, "Hello"),
        [
            "UNKNOWN_FIELD: 'comand' is not a field of ShellCommandActivity (did you mean \
             'command'?)",
            "UNKNOWN_FIELD: 'colour' is not a field of ShellCommandActivity",
        ]
    );
}

#[test]
fn user_fields_are_always_accepted_as_string_or_reference() {
    let report = replacing(obj(
        "Hello",
        &[
            ("type", "ShellCommandActivity"),
            ("command", "x"),
            ("myComment", "hi"),
            ("my_ref", "->Daily"),
            ("*mySecret", "s"),
        ],
    ));
    assert!(report.is_clean(), "{report:#?}");
    let report = replacing(obj(
        "Hello",
        &[
            ("type", "ShellCommandActivity"),
            ("command", "x"),
            ("my_ref", "->Nowhere"),
        ],
    ));
    assert_eq!(
        errors(&report, "Hello"),
        ["INVALID_REFERENCE: 'my_ref' refers to 'Nowhere', which does not exist"]
    );
    // Not user fields: `my` must be followed by an uppercase letter or `_`.
    let report = replacing(obj(
        "Hello",
        &[
            ("type", "ShellCommandActivity"),
            ("command", "x"),
            ("mycomment", "hi"),
        ],
    ));
    assert!(report.has_error("Hello", Code::UnknownField));
}

#[test]
fn runtime_fields_are_read_only() {
    let report = replacing(obj(
        "Hello",
        &[
            ("type", "ShellCommandActivity"),
            ("command", "x"),
            ("@status", "FINISHED"),
        ],
    ));
    assert_eq!(
        errors(&report, "Hello"),
        [
            "READ_ONLY_FIELD: '@status' is a runtime field set by the service; a definition cannot set it"
        ]
    );
    let report = replacing(obj(
        "Default",
        &[
            ("scheduleType", "cron"),
            ("schedule", "->Daily"),
            ("workerGroup", "wg"),
            ("@x", "1"),
        ],
    ));
    assert!(report.has_error("Default", Code::ReadOnlyField));
    // Fields the service writes at run time, without `@`.
    let report = replacing(obj(
        "Hello",
        &[
            ("type", "ShellCommandActivity"),
            ("command", "x"),
            ("hostname", "h"),
            ("errorMessage", "e"),
        ],
    ));
    assert_eq!(
        errors(&report, "Hello"),
        [
            "READ_ONLY_FIELD: 'hostname' is a runtime field set by the service; a definition cannot set it",
            "READ_ONLY_FIELD: 'errorMessage' is a runtime field set by the service; a definition cannot set it",
        ]
    );
}

#[test]
fn empty_field_names_and_values() {
    let report = replacing(obj(
        "Hello",
        &[
            ("type", "ShellCommandActivity"),
            ("command", ""),
            ("", "x"),
            ("stdout", ""),
        ],
    ));
    assert_eq!(
        errors(&report, "Hello"),
        [
            "INVALID_FIELD_VALUE: 'command' value must not be empty",
            "UNKNOWN_FIELD: a field has an empty name",
            "INVALID_FIELD_VALUE: 'stdout' value must not be empty",
        ]
    );
    let report = replacing(obj(
        "Hello",
        &[
            ("type", "ShellCommandActivity"),
            ("command", "x"),
            ("input", "->"),
        ],
    ));
    assert_eq!(
        errors(&report, "Hello"),
        ["INVALID_REFERENCE: 'input' has an empty reference"]
    );
}

#[test]
fn required_fields_after_inheritance() {
    let report = with(vec![obj("Node", &[("type", "SqlDataNode")])]);
    assert_eq!(
        errors(&report, "Node"),
        ["MISSING_REQUIRED_FIELD: 'table' is required for SqlDataNode"]
    );
    let report = with(vec![
        obj("Tables", &[("table", "events")]),
        obj("Node", &[("type", "SqlDataNode"), ("parent", "->Tables")]),
    ]);
    assert!(report.is_clean(), "{report:#?}");
}

#[test]
fn one_of_groups() {
    let report = replacing(obj("Hello", &[("type", "ShellCommandActivity")]));
    assert_eq!(
        errors(&report, "Hello"),
        [
            "MISSING_REQUIRED_FIELD: one of 'command', 'scriptUri' is required for ShellCommandActivity"
        ]
    );
    let report = replacing(obj(
        "Hello",
        &[
            ("type", "ShellCommandActivity"),
            ("command", "x"),
            ("scriptUri", "s3://b/x.sh"),
        ],
    ));
    assert_eq!(
        errors(&report, "Hello"),
        [
            "CONFLICTING_FIELDS: only one of 'command', 'scriptUri' may be set on \
             ShellCommandActivity, but 'command', 'scriptUri' are set"
        ]
    );
    // Non-exclusive group: runsOn and workerGroup together are allowed (with a warning).
    let report = with(vec![obj(
        "Box",
        &[
            ("type", "Ec2Resource"),
            ("role", "r"),
            ("resourceRole", "rr"),
        ],
    )]);
    assert!(report.is_clean(), "{report:#?}");
    let mut objects = baseline();
    objects[0] = obj(
        "Default",
        &[("scheduleType", "cron"), ("schedule", "->Daily")],
    );
    let report = run(objects);
    assert_eq!(
        errors(&report, "Hello"),
        [
            "MISSING_REQUIRED_FIELD: one of 'runsOn', 'workerGroup' is required for \
             ShellCommandActivity"
        ]
    );
}

#[test]
fn repeated_values_for_single_fields() {
    let report = replacing(obj(
        "Hello",
        &[
            ("type", "ShellCommandActivity"),
            ("command", "x"),
            ("stdout", "a"),
            ("stdout", "b"),
            ("scriptArgument", "1"),
            ("scriptArgument", "2"),
        ],
    ));
    assert_eq!(
        errors(&report, "Hello"),
        ["REPEATED_FIELD: 'stdout' takes a single value but has 2"]
    );
    let report = with(vec![
        obj("T", &[]),
        obj("U", &[]),
        obj(
            "C",
            &[("type", "CSV"), ("parent", "->T"), ("parent", "->U")],
        ),
    ]);
    assert_eq!(
        errors(&report, "C"),
        ["REPEATED_FIELD: 'parent' takes a single value but has 2"]
    );
}

#[test]
fn conflict_sets_and_deprecated_fields() {
    let report = with(vec![obj(
        "Box",
        &[
            ("type", "Ec2Resource"),
            ("role", "r"),
            ("resourceRole", "rr"),
            ("securityGroups", "a"),
            ("securityGroupIds", "sg-1"),
            ("instanceCount", "1"),
        ],
    )]);
    assert_eq!(
        errors(&report, "Box"),
        [
            "CONFLICTING_FIELDS: only one of 'securityGroups', 'securityGroupIds' may be set on \
             Ec2Resource, but 'securityGroups', 'securityGroupIds' are set"
        ]
    );
    assert_eq!(
        warnings(&report, "Box"),
        [
            "DEPRECATED_FIELD: 'instanceCount' is deprecated on Ec2Resource: an Ec2Resource \
             launches exactly one instance"
        ]
    );
}

// ---- references --------------------------------------------------------------------------

#[test]
fn references_must_exist() {
    let report = replacing(obj(
        "Hello",
        &[
            ("type", "ShellCommandActivity"),
            ("command", "x"),
            ("schedule", "->Dialy"),
        ],
    ));
    assert_eq!(
        errors(&report, "Hello"),
        [
            "INVALID_REFERENCE: 'schedule' refers to 'Dialy', which does not exist (did you mean 'Daily'?)"
        ]
    );
}

#[test]
fn string_where_reference_expected_and_reverse() {
    let report = replacing(obj(
        "Hello",
        &[
            ("type", "ShellCommandActivity"),
            ("command", "x"),
            ("schedule", "Daily"),
        ],
    ));
    assert_eq!(
        errors(&report, "Hello"),
        [
            "INVALID_REFERENCE: 'schedule' must be a reference to an object, not a string \
             (write {\"ref\": \"Daily\"})"
        ]
    );
    let report = replacing(obj(
        "Hello",
        &[("type", "ShellCommandActivity"), ("command", "->Daily")],
    ));
    assert_eq!(
        errors(&report, "Hello"),
        ["INVALID_REFERENCE: 'command' must be a string value, not a reference to 'Daily'"]
    );
    let report = with(vec![obj("C", &[("type", "CSV"), ("parent", "T")])]);
    assert_eq!(
        errors(&report, "C"),
        ["INVALID_REFERENCE: 'parent' must be a reference to an object, not a string"]
    );
}

#[test]
fn reference_target_types() {
    let report = with(vec![
        obj(
            "Out",
            &[("type", "S3DataNode"), ("directoryPath", "s3://b/out")],
        ),
        obj(
            "Copy",
            &[
                ("type", "ShellCommandActivity"),
                ("command", "x"),
                ("runsOn", "->Out"),
                ("input", "->Daily"),
            ],
        ),
    ]);
    assert_eq!(
        errors(&report, "Copy"),
        [
            "INVALID_REFERENCE: 'runsOn' refers to 'Out' (S3DataNode), but ShellCommandActivity \
             expects Ec2Resource or EmrCluster there",
            "INVALID_REFERENCE: 'input' refers to 'Daily' (Schedule), but ShellCommandActivity \
             expects any DataNode there",
        ]
    );
    let report = with(vec![
        obj("Abstract", &[("myX", "1")]),
        obj(
            "U",
            &[
                ("type", "ShellCommandActivity"),
                ("command", "x"),
                ("input", "->Abstract"),
            ],
        ),
    ]);
    assert_eq!(
        errors(&report, "U"),
        [
            "INVALID_REFERENCE: 'input' refers to 'Abstract', which has no type, but \
             ShellCommandActivity expects any DataNode there"
        ]
    );
}

#[test]
fn references_written_on_default_are_checked_against_inheritors() {
    let mut objects = baseline();
    objects[0] = obj(
        "Default",
        &[
            ("scheduleType", "cron"),
            ("schedule", "->Hello"),
            ("workerGroup", "wg"),
        ],
    );
    let report = run(objects);
    assert_eq!(
        errors(&report, "Default"),
        [
            "INVALID_REFERENCE: 'schedule' refers to 'Hello' (ShellCommandActivity), but \
             ShellCommandActivity expects Schedule there"
        ]
    );
    assert!(errors(&report, "Hello").is_empty());
}

// ---- cycles ------------------------------------------------------------------------------

#[test]
fn parent_cycles() {
    let report = with(vec![
        obj("A", &[("parent", "->B")]),
        obj("B", &[("parent", "->A")]),
        obj("C", &[("type", "CSV"), ("parent", "->A")]),
        obj("Self", &[("type", "CSV"), ("parent", "->Self")]),
    ]);
    assert_eq!(
        errors(&report, "A"),
        ["CIRCULAR_REFERENCE: 'parent' links form a cycle: A -> B -> A"]
    );
    assert_eq!(
        errors(&report, "Self"),
        ["CIRCULAR_REFERENCE: 'parent' links form a cycle: Self -> Self"]
    );
    assert!(errors(&report, "B").is_empty());
}

#[test]
fn default_cannot_have_a_parent() {
    let mut objects = baseline();
    objects[0]
        .fields
        .push(sluice_model::Field::reference("parent", "Base"));
    objects.push(obj("Base", &[("myX", "1")]));
    let report = run(objects);
    assert_eq!(
        errors(&report, "Default"),
        [
            "CIRCULAR_REFERENCE: 'parent' links form a cycle: Default -> Base -> Default \
             (Default is the implicit parent of every object without 'parent', so it cannot \
             inherit from another object)"
        ]
    );
}

#[test]
fn depends_on_cycles() {
    let report = with(vec![
        obj(
            "A",
            &[
                ("type", "ShellCommandActivity"),
                ("command", "a"),
                ("dependsOn", "->B"),
            ],
        ),
        obj(
            "B",
            &[
                ("type", "ShellCommandActivity"),
                ("command", "b"),
                ("dependsOn", "->C"),
            ],
        ),
        obj(
            "C",
            &[
                ("type", "ShellCommandActivity"),
                ("command", "c"),
                ("dependsOn", "->A"),
                ("dependsOn", "->Hello"),
            ],
        ),
    ]);
    assert_eq!(
        errors(&report, "A"),
        ["CIRCULAR_DEPENDENCY: 'dependsOn' links form a cycle: A -> B -> C -> A"]
    );
    assert!(errors(&report, "C").is_empty());
}

// ---- values ------------------------------------------------------------------------------

#[test]
fn scalar_values_by_type() {
    let report = with(vec![obj(
        "A",
        &[
            ("type", "ShellCommandActivity"),
            ("command", "x"),
            ("maximumRetries", "three"),
            ("stage", "yes"),
            ("retryDelay", "15 Period"),
            ("failureAndRerunMode", "sometimes"),
        ],
    )]);
    assert_eq!(
        errors(&report, "A"),
        [
            "INVALID_FIELD_VALUE: 'maximumRetries' value 'three' must be an integer",
            "INVALID_FIELD_VALUE: 'stage' value 'yes' must be true or false",
            "INVALID_FIELD_VALUE: 'retryDelay' value '15 Period' is not a period: unknown unit \
             (use minutes, hours, days, weeks, months or years)",
            "INVALID_FIELD_VALUE: 'failureAndRerunMode' value 'sometimes' must be one of \
             cascade, none",
        ]
    );
}

#[test]
fn doubles() {
    for (text, ok) in [
        ("0.5", true),
        ("20", true),
        ("1e-3", true),
        ("abc", false),
        ("1e400", false),
        ("NaN", false),
        ("0x1", false),
    ] {
        let report = with(vec![obj(
            "Box",
            &[
                ("type", "Ec2Resource"),
                ("role", "r"),
                ("resourceRole", "rr"),
                ("spotBidPrice", text),
            ],
        )]);
        assert_eq!(report.is_clean(), ok, "{text}: {report:#?}");
        if !ok {
            assert_eq!(
                errors(&report, "Box"),
                [format!(
                    "INVALID_FIELD_VALUE: 'spotBidPrice' value '{text}' must be a number"
                )]
            );
        }
    }
}

#[test]
fn enumerations_and_booleans_are_case_insensitive() {
    let report = with(vec![obj(
        "A",
        &[
            ("type", "ShellCommandActivity"),
            ("command", "x"),
            ("stage", "TRUE"),
            ("scheduleType", "CRON"),
            ("failureAndRerunMode", "None"),
        ],
    )]);
    assert!(report.is_clean(), "{report:#?}");
}

#[test]
fn datetimes_must_be_literal() {
    let report = replacing(obj(
        "Daily",
        &[
            ("type", "Schedule"),
            ("period", "1 day"),
            ("startDateTime", "2030-01-01 00:00:00"),
        ],
    ));
    assert_eq!(
        errors(&report, "Daily"),
        [
            "INVALID_FIELD_VALUE: 'startDateTime' value must be a literal datetime value \
             (YYYY-MM-DDTHH:MM:SS)"
        ]
    );
}

#[test]
fn integer_minimums() {
    let report = with(vec![obj(
        "A",
        &[
            ("type", "ShellCommandActivity"),
            ("command", "x"),
            ("maximumRetries", "-1"),
            ("maxActiveInstances", "0"),
        ],
    )]);
    assert_eq!(
        errors(&report, "A"),
        [
            "INVALID_FIELD_VALUE: 'maximumRetries' must be at least 0, not -1",
            "INVALID_FIELD_VALUE: 'maxActiveInstances' must be at least 1, not 0",
        ]
    );
}

#[test]
fn expressions_are_syntax_checked_not_type_checked() {
    let report = with(vec![obj(
        "A",
        &[
            ("type", "ShellCommandActivity"),
            (
                "command",
                "echo #{format(@scheduledStartTime, 'YYYY-MM-dd')}",
            ),
            ("maximumRetries", "#{1 + 1}"),
            ("stdout", "s3://b/#{format(@scheduledStartTime, 'YYYY'}"),
        ],
    )]);
    let errs = errors(&report, "A");
    assert_eq!(errs.len(), 1, "{errs:?}");
    assert!(
        errs[0].starts_with("INVALID_EXPRESSION: 'stdout' value has an invalid expression: "),
        "{errs:?}"
    );
    assert!(errs[0].contains("(at byte "), "{errs:?}");
}

#[test]
fn secret_values_are_never_echoed() {
    let secret = "hunter2-#{oops";
    let report = with(vec![obj(
        "Db",
        &[
            ("type", "RdsDatabase"),
            ("*password", secret),
            ("username", "u"),
            ("rdsInstanceId", "i"),
        ],
    )]);
    assert_eq!(
        errors(&report, "Db"),
        [
            "INVALID_EXPRESSION: '*password' value has an invalid expression (details hidden: the field is secret)"
        ]
    );
    let json = serde_json::to_string(&report).unwrap();
    assert!(!json.contains("hunter2"), "{json}");
    let report = with(vec![obj(
        "N",
        &[
            ("type", "S3DataNode"),
            ("filePath", "s3://b/k"),
            ("*myEncryptedNote", "->Daily"),
        ],
    )]);
    assert!(report.errored());
}

#[test]
fn undefined_parameters_in_expressions() {
    let mut d = def(baseline());
    d.pipeline_objects[2] = obj(
        "Hello",
        &[
            ("type", "ShellCommandActivity"),
            (
                "command",
                "echo #{myGreeting} #{myName} #{myLocal} #{node.myFar} #{*myPassword}",
            ),
            ("myLocal", "ok"),
        ],
    );
    d.parameter_objects
        .push(param("myGreeting", &[("default", "hi")]));
    d.parameter_values.push(value("myName", "world"));
    let report = run_def(&d);
    assert_eq!(
        errors(&report, "Hello"),
        [
            "UNDEFINED_PARAMETER: 'command' uses '*myPassword', which is not a declared \
             parameter, has no parameter value and is not a field of the object"
        ]
    );
}

#[test]
fn undefined_parameters_are_reported_where_written() {
    let mut objects = baseline();
    objects[0].fields.push(sluice_model::Field::string(
        "pipelineLogUri",
        "s3://#{myBucket}/logs",
    ));
    let report = run(objects);
    assert_eq!(
        errors(&report, "Default"),
        [
            "UNDEFINED_PARAMETER: 'pipelineLogUri' uses 'myBucket', which is not a declared \
             parameter, has no parameter value and is not a field of the object"
        ]
    );
}

#[test]
fn worker_groups_starting_with_at_are_reserved() {
    let report = with(vec![obj(
        "A",
        &[
            ("type", "ShellCommandActivity"),
            ("command", "x"),
            ("workerGroup", "@service"),
        ],
    )]);
    assert_eq!(
        errors(&report, "A"),
        [
            "INVALID_FIELD_VALUE: 'workerGroup' value '@service' must not start with '@': such \
             names are reserved for the groups of resource instances and of the service's own \
             checks"
        ]
    );
    let fine = with(vec![obj(
        "B",
        &[
            ("type", "ShellCommandActivity"),
            ("command", "x"),
            ("workerGroup", "team@site"),
        ],
    )]);
    assert!(errors(&fine, "B").is_empty());
}

// ---- fields with no effect ---------------------------------------------------------------

#[test]
fn worker_group_is_ignored_with_runs_on() {
    let report = with(vec![
        obj(
            "Box",
            &[
                ("type", "Ec2Resource"),
                ("role", "r"),
                ("resourceRole", "rr"),
            ],
        ),
        obj(
            "A",
            &[
                ("type", "ShellCommandActivity"),
                ("command", "x"),
                ("runsOn", "->Box"),
                ("workerGroup", "wg2"),
            ],
        ),
        // Inherited from Default: the usual mix, not worth a warning.
        obj(
            "B",
            &[
                ("type", "ShellCommandActivity"),
                ("command", "x"),
                ("runsOn", "->Box"),
            ],
        ),
    ]);
    assert_eq!(
        warnings(&report, "A"),
        ["IGNORED_FIELD: 'workerGroup' is ignored when 'runsOn' is set"]
    );
    assert!(warnings(&report, "B").is_empty());
    assert!(!report.errored());
}

#[test]
fn fields_on_default_that_nobody_uses() {
    let mut objects = baseline();
    objects[0]
        .fields
        .push(sluice_model::Field::string("resourceRole", "r"));
    objects[0]
        .fields
        .push(sluice_model::Field::string("scheduelType", "cron"));
    let report = run(objects);
    // Default is the home of pipeline-wide settings: unused ones are not worth a warning.
    assert!(warnings(&report, "Default").is_empty());
    assert_eq!(
        errors(&report, "Default"),
        [
            "UNKNOWN_FIELD: 'scheduelType' is not a field of any object type (did you mean 'scheduleType'?)"
        ]
    );
}

#[test]
fn fields_on_a_template_that_nobody_uses_warn() {
    let report = with(vec![
        obj("Formats", &[("resourceRole", "r")]),
        obj("Fmt", &[("type", "CSV"), ("parent", "->Formats")]),
    ]);
    assert_eq!(
        warnings(&report, "Formats"),
        [
            "IGNORED_FIELD: 'resourceRole' is not accepted by any object that inherits it, so it has no effect"
        ]
    );
}

#[test]
fn pipeline_level_fields_of_default_are_checked_even_when_nobody_inherits_them() {
    let report = run(vec![
        obj(
            "Default",
            &[
                ("scheduleType", "daily"),
                ("maxActiveInstances", "3"),
                ("role", "r"),
            ],
        ),
        obj("Fmt", &[("type", "CSV")]),
    ]);
    assert_eq!(
        errors(&report, "Default"),
        [
            "INVALID_FIELD_VALUE: 'scheduleType' value 'daily' must be one of cron, timeseries, ondemand"
        ]
    );
    // `role` means nothing for a CSV format, but Default may hold it silently.
    assert!(warnings(&report, "Default").is_empty());
}

#[test]
fn default_fields_do_not_reach_types_that_do_not_take_them() {
    // A CSV format inherits neither `schedule` (so no UNKNOWN_FIELD, no INVALID_REFERENCE) nor
    // `workerGroup`, and is not a scheduled component.
    let report = with(vec![obj("Fmt", &[("type", "CSV"), ("column", "a STRING")])]);
    assert!(report.is_clean(), "{report:#?}");
}

#[test]
fn on_late_action_needs_late_after_timeout() {
    let report = with(vec![
        obj("Stop", &[("type", "Terminate")]),
        obj(
            "A",
            &[
                ("type", "ShellCommandActivity"),
                ("command", "x"),
                ("onLateAction", "->Stop"),
            ],
        ),
        obj(
            "B",
            &[
                ("type", "ShellCommandActivity"),
                ("command", "x"),
                ("onLateAction", "->Stop"),
                ("lateAfterTimeout", "1 hour"),
            ],
        ),
    ]);
    assert_eq!(
        warnings(&report, "A"),
        ["IGNORED_FIELD: 'onLateAction' has no effect without 'lateAfterTimeout'"]
    );
    assert!(warnings(&report, "B").is_empty());
}

// ---- schedules ---------------------------------------------------------------------------

fn ondemand_objects() -> Vec<PipelineObject> {
    vec![
        obj(
            "Default",
            &[("scheduleType", "ondemand"), ("workerGroup", "wg")],
        ),
        obj(
            "Hello",
            &[("type", "ShellCommandActivity"), ("command", "echo hello")],
        ),
    ]
}

#[test]
fn ondemand_pipelines_need_no_schedule() {
    let report = run(ondemand_objects());
    assert!(report.is_clean(), "{report:#?}");
}

#[test]
fn scheduled_components_need_a_schedule() {
    let mut objects = baseline();
    objects[0] = obj(
        "Default",
        &[("scheduleType", "cron"), ("workerGroup", "wg")],
    );
    let report = run(objects);
    assert_eq!(
        errors(&report, "Hello"),
        [
            "MISSING_REQUIRED_FIELD: 'schedule' is required for ShellCommandActivity (set it on \
             the object or on Default) unless the pipeline is ondemand"
        ]
    );
    // Data formats, actions and preconditions are not scheduled.
    assert!(errors(&report, "Daily").is_empty());
}

#[test]
fn ondemand_must_be_on_default_and_alone() {
    let mut objects = ondemand_objects();
    objects.push(obj(
        "Other",
        &[
            ("type", "ShellCommandActivity"),
            ("command", "x"),
            ("scheduleType", "cron"),
        ],
    ));
    let report = run(objects);
    assert_eq!(
        errors(&report, "Other"),
        [
            "INVALID_SCHEDULE_TYPE: 'scheduleType' is 'cron', but the pipeline is ondemand and \
             ondemand must be set on Default and be the only scheduleType"
        ]
    );
    let report = with(vec![obj(
        "Adhoc",
        &[
            ("type", "ShellCommandActivity"),
            ("command", "x"),
            ("scheduleType", "ondemand"),
        ],
    )]);
    assert_eq!(
        errors(&report, "Adhoc"),
        [
            "INVALID_SCHEDULE_TYPE: 'scheduleType' is ondemand here, but ondemand must be set on \
             Default and be the only scheduleType"
        ]
    );
}

#[test]
fn ondemand_pipelines_must_not_use_schedules() {
    let mut objects = ondemand_objects();
    objects.push(obj(
        "Daily",
        &[
            ("type", "Schedule"),
            ("period", "1 day"),
            ("startAt", "FIRST_ACTIVATION_DATE_TIME"),
        ],
    ));
    objects[1]
        .fields
        .push(sluice_model::Field::reference("schedule", "Daily"));
    let report = run(objects);
    assert_eq!(
        errors(&report, "Hello"),
        [
            "INVALID_SCHEDULE_TYPE: 'schedule' refers to Schedule 'Daily', but an ondemand \
             pipeline runs once per activation and must not use a schedule"
        ]
    );
}

#[test]
fn ondemand_schedule_variant() {
    let mut objects = ondemand_objects();
    objects.push(obj(
        "OnDemand",
        &[
            ("type", "Schedule"),
            ("period", "ONDEMAND_PERIOD"),
            ("startAt", "ONDEMAND_ACTIVATION_TIME"),
        ],
    ));
    objects[0]
        .fields
        .push(sluice_model::Field::reference("schedule", "OnDemand"));
    let report = run(objects);
    assert!(report.is_clean(), "{report:#?}");

    let report = replacing(obj(
        "Daily",
        &[
            ("type", "Schedule"),
            ("period", "ONDEMAND_PERIOD"),
            ("startAt", "ONDEMAND_ACTIVATION_TIME"),
        ],
    ));
    assert_eq!(
        errors(&report, "Daily"),
        [
            "INVALID_SCHEDULE_TYPE: 'period' ONDEMAND_PERIOD requires scheduleType ondemand on Default"
        ]
    );
}

#[test]
fn schedule_start_rules() {
    let report = replacing(obj(
        "Daily",
        &[
            ("type", "Schedule"),
            ("period", "1 day"),
            ("startDateTime", "2030-01-01T00:00:00"),
            ("startAt", "FIRST_ACTIVATION_DATE_TIME"),
        ],
    ));
    assert_eq!(
        errors(&report, "Daily"),
        ["CONFLICTING_FIELDS: 'startDateTime' and 'startAt' cannot both be set on Schedule"]
    );
    let report = replacing(obj("Daily", &[("type", "Schedule"), ("period", "1 day")]));
    assert_eq!(
        errors(&report, "Daily"),
        ["MISSING_REQUIRED_FIELD: one of 'startDateTime', 'startAt' is required for Schedule"]
    );
}

#[test]
fn schedule_end_rules() {
    let report = replacing(obj(
        "Daily",
        &[
            ("type", "Schedule"),
            ("period", "1 day"),
            ("startDateTime", "2030-01-01T00:00:00"),
            ("endDateTime", "2029-01-01T00:00:00"),
            ("occurrences", "3"),
        ],
    ));
    assert_eq!(
        errors(&report, "Daily"),
        [
            "CONFLICTING_FIELDS: 'occurrences' and 'endDateTime' cannot both be set on Schedule",
            "INVALID_FIELD_VALUE: 'endDateTime' (2029-01-01T00:00:00) must be after \
             'startDateTime' (2030-01-01T00:00:00)",
        ]
    );
    let report = replacing(obj(
        "Daily",
        &[
            ("type", "Schedule"),
            ("period", "1 day"),
            ("startAt", "FIRST_ACTIVATION_DATE_TIME"),
            ("occurrences", "0"),
        ],
    ));
    assert_eq!(
        errors(&report, "Daily"),
        ["INVALID_FIELD_VALUE: 'occurrences' must be at least 1, not 0"]
    );
}

#[test]
fn cascade_with_backfill_warns_with_the_aws_text() {
    let mut objects = baseline();
    objects[0].fields.push(sluice_model::Field::string(
        "failureAndRerunMode",
        "CASCADE",
    ));
    objects[1] = obj(
        "Daily",
        &[
            ("type", "Schedule"),
            ("period", "1 day"),
            ("startDateTime", "2026-01-01T00:00:00"),
        ],
    );
    let report = run(objects.clone());
    assert_eq!(
        warnings(&report, "Default"),
        [
            "CASCADE_BACKFILL: Default has 'failureAndRerunMode' field set to 'cascade' and you \
             are about to create a backfill with scheduleStartTime 2026-01-01T00:00:00. This can \
             result in rapid creation of pipeline objects in case of failures."
        ]
    );
    assert!(!report.errored());
    // A start in the future is no backfill.
    let later = validate(
        &def(objects),
        &catalog(),
        &Limits::default(),
        &ValidateOptions {
            now: sluice_model::time::parse_datetime("2025-01-01T00:00:00").ok(),
        },
    );
    assert!(later.is_clean(), "{later:#?}");
}

// ---- limits ------------------------------------------------------------------------------

fn over_limits() -> Vec<PipelineObject> {
    let mut objects = baseline();
    objects[1] = obj(
        "Daily",
        &[
            ("type", "Schedule"),
            ("period", "5 minutes"),
            ("startDateTime", "2030-01-01T00:00:00"),
        ],
    );
    objects[2] = obj(
        "Hello",
        &[
            ("type", "ShellCommandActivity"),
            ("command", "echo hello"),
            ("maximumRetries", "6"),
            ("retryDelay", "1 minute"),
            ("maxActiveInstances", "9"),
        ],
    );
    objects
}

#[test]
fn limits_warn_by_default() {
    let report = run(over_limits());
    assert!(!report.errored(), "{report:#?}");
    assert_eq!(
        warnings(&report, "Daily"),
        [
            "LIMIT_EXCEEDED: 'period' '5 minutes' is shorter than the minimum scheduling \
             interval of 15 minutes; AWS would reject it"
        ]
    );
    assert_eq!(
        warnings(&report, "Hello"),
        [
            "LIMIT_EXCEEDED: 'maximumRetries' is 6; AWS allows at most 5 retries and would reject it",
            "LIMIT_EXCEEDED: 'retryDelay' '1 minute' is shorter than the minimum delay between \
             retries of 2 minutes; AWS would reject it",
            "LIMIT_EXCEEDED: 'maxActiveInstances' is 9; AWS allows at most 5 active instances \
             and would reject it",
        ]
    );
}

#[test]
fn limits_error_when_enforced() {
    let d = def(over_limits());
    let report = validate(
        &d,
        &catalog(),
        &Limits::strict(),
        &ValidateOptions { now: Some(now()) },
    );
    assert!(report.errored());
    assert_eq!(report.errors_for("Hello").len(), 3);
    assert_eq!(report.errors_for("Daily").len(), 1);
    assert!(report.warnings.is_empty());
    let relaxed = Limits {
        max_retries: 10,
        ..Limits::default()
    };
    let report = validate(
        &d,
        &catalog(),
        &relaxed,
        &ValidateOptions { now: Some(now()) },
    );
    assert_eq!(report.warnings_for("Hello").len(), 2);
}

#[test]
fn long_schedules_and_seconds() {
    let report = replacing(obj(
        "Daily",
        &[
            ("type", "Schedule"),
            ("period", "4 years"),
            ("startDateTime", "2030-01-01T00:00:00"),
        ],
    ));
    assert_eq!(
        warnings(&report, "Daily"),
        [
            "LIMIT_EXCEEDED: 'period' '4 years' is longer than the maximum of 3 years; AWS would reject it"
        ]
    );
    let report = replacing(obj(
        "Daily",
        &[
            ("type", "Schedule"),
            ("period", "30 seconds"),
            ("startDateTime", "2030-01-01T00:00:00"),
        ],
    ));
    assert_eq!(
        warnings(&report, "Daily"),
        [
            "SLUICE_EXTENSION: 'period' is '30 seconds': periods in seconds are a Sluice \
             extension; AWS would reject it",
            "LIMIT_EXCEEDED: 'period' '30 seconds' is shorter than the minimum scheduling \
             interval of 15 minutes; AWS would reject it",
        ]
    );
    let local = Limits {
        min_schedule_period: "10 seconds".parse().unwrap(),
        ..Limits::default()
    };
    let mut objects = baseline();
    objects[1] = obj(
        "Daily",
        &[
            ("type", "Schedule"),
            ("period", "30 seconds"),
            ("startDateTime", "2030-01-01T00:00:00"),
        ],
    );
    let report = validate(
        &def(objects),
        &catalog(),
        &local,
        &ValidateOptions { now: Some(now()) },
    );
    assert_eq!(report.warnings_for("Daily").len(), 1);
}

#[test]
fn size_and_count_limits() {
    let mut objects = baseline();
    let long = "x".repeat(15_000);
    objects[2]
        .fields
        .push(sluice_model::Field::string("stdout", long.as_str()));
    objects[2]
        .fields
        .push(sluice_model::Field::string("stderr".repeat(60), "x"));
    let report = run(objects);
    let w = warnings(&report, "Hello");
    assert!(
        w.iter().any(|m| m.starts_with(
            "LIMIT_EXCEEDED: 'stdout' value is 15000 bytes; AWS allows at most 10240"
        )),
        "{w:?}"
    );
    assert!(
        w.iter().any(|m| m.contains("field name 'stderrstderr")),
        "{w:?}"
    );
    assert!(w.iter().any(|m| m.contains("bytes per object")), "{w:?}");

    let mut objects = baseline();
    for i in 0..100 {
        objects.push(obj(&format!("F{i}"), &[("type", "CSV")]));
    }
    let report = run(objects);
    assert_eq!(
        warnings(&report, PIPELINE_ID),
        [
            "LIMIT_EXCEEDED: the definition has 103 objects; AWS allows at most 100 objects per pipeline and would reject it"
        ]
    );

    let mut objects = baseline();
    for i in 0..51 {
        objects[2]
            .fields
            .push(sluice_model::Field::string(format!("myField{i}"), "x"));
    }
    let report = run(objects);
    assert!(warnings(&report, "Hello")[0].starts_with("LIMIT_EXCEEDED: the object has 53 fields"));

    let mut d = def(baseline());
    for i in 0..51 {
        d.parameter_objects
            .push(param(&format!("myP{i}"), &[("optional", "true")]));
    }
    let report = run_def(&d);
    assert_eq!(
        warnings(&report, PIPELINE_ID),
        [
            "LIMIT_EXCEEDED: the definition declares 51 parameters; AWS allows at most 50 and would reject it"
        ]
    );
}

// ---- parameters through validate ---------------------------------------------------------

#[test]
fn parameter_problems_are_grouped_under_parameter_ids_after_objects() {
    let mut d = def(baseline());
    d.parameter_objects
        .push(param("myCount", &[("type", "Integer")]));
    d.parameter_objects
        .push(param("host", &[("optional", "true")]));
    d.parameter_values.push(value("myCount", "many"));
    let report = run_def(&d);
    let ids: Vec<&str> = report.errors.iter().map(|e| e.id.as_str()).collect();
    assert_eq!(ids, ["myCount"]);
    assert_eq!(
        errors(&report, "myCount"),
        ["INVALID_PARAMETER_VALUE: value 'many' of parameter 'myCount' must be an Integer"]
    );
    assert!(report.has_warning("host", Code::InvalidParameterId));
}

// ---- report shape ------------------------------------------------------------------------

#[test]
fn report_order_is_definition_order() {
    let report = run(vec![
        obj("Z", &[("type", "Nope")]),
        obj("A", &[("type", "Nope")]),
        obj("M", &[("type", "Nope")]),
    ]);
    let ids: Vec<&str> = report.errors.iter().map(|e| e.id.as_str()).collect();
    assert_eq!(ids, ["Z", "A", "M"]);
}

#[test]
fn load_returns_the_resolved_pipeline_only_without_errors() {
    let mut d = def(baseline());
    d.parameter_objects
        .push(param("myGreeting", &[("default", "hi")]));
    let opts = ValidateOptions { now: Some(now()) };
    let (pipeline, report) = load(&d, &catalog(), &Limits::default(), &opts).expect("valid");
    assert!(report.is_clean());
    assert_eq!(
        pipeline.parameters.get("myGreeting"),
        Some(&["hi".to_owned()][..])
    );
    assert_eq!(
        pipeline.get("Hello").and_then(|o| o.reference("schedule")),
        Some("Daily")
    );

    d.pipeline_objects.push(obj("Broken", &[("type", "Nope")]));
    let report = load(&d, &catalog(), &Limits::default(), &opts).unwrap_err();
    assert!(report.has_error("Broken", Code::UnknownType));
}

#[test]
fn every_code_is_exercised_somewhere() {
    // Guard against adding a code without a check: each code appears in this file's tests.
    let source = [include_str!("tests.rs"), include_str!("../params/tests.rs")].concat();
    for code in Code::ALL {
        assert!(source.contains(code.as_str()), "no test mentions {code}");
    }
}
