use sluice_expr::{Binding, Context, ScalarKind, Value, evaluate_string};
use sluice_model::time::parse_datetime;

use super::DefinitionContext;
use crate::resolve::resolve;
use crate::testkit::{catalog, def, obj, param, value};

fn pipeline() -> crate::ResolvedPipeline {
    let mut d = def(vec![
        obj(
            "Default",
            &[
                ("scheduleType", "cron"),
                ("schedule", "->Hourly"),
                ("workerGroup", "wg"),
                ("maximumRetries", "2"),
            ],
        ),
        obj(
            "Hourly",
            &[
                ("type", "Schedule"),
                ("period", "1 hour"),
                ("startDateTime", "2030-01-01T00:00:00"),
            ],
        ),
        obj(
            "In",
            &[
                ("type", "S3DataNode"),
                (
                    "directoryPath",
                    "s3://bucket/#{format(@scheduledStartTime, 'YYYY-MM-dd')}",
                ),
            ],
        ),
        obj(
            "Copy",
            &[
                ("type", "ShellCommandActivity"),
                (
                    "command",
                    "cp #{input.directoryPath} #{myTarget} x#{myCount + 1}",
                ),
                ("input", "->In"),
                ("myTarget", "/tmp/out"),
            ],
        ),
    ]);
    d.parameter_objects
        .push(param("myCount", &[("type", "Integer"), ("default", "41")]));
    d.parameter_objects
        .push(param("myRate", &[("type", "Double"), ("default", "0.5")]));
    d.parameter_objects
        .push(param("myList", &[("isArray", "true")]));
    d.parameter_values.push(value("myList", "a"));
    d.parameter_values.push(value("myList", "b"));
    d.parameter_values.push(value("myUndeclared", "free"));
    d.parameter_objects.push(param(
        "myDated",
        &[("default", "day-#{@scheduledStartTime}")],
    ));
    resolve(&d, &catalog())
}

#[test]
fn fields_are_raw_text_owned_by_the_looked_up_object() {
    let p = pipeline();
    let cat = catalog();
    let ctx = DefinitionContext::new(&p, &cat, "Copy");
    assert_eq!(ctx.current(), "Copy");
    assert_eq!(
        ctx.lookup("Copy", "myTarget"),
        Some(vec![Binding::Text {
            raw: "/tmp/out".into(),
            owner: "Copy".into(),
            kind: ScalarKind::String
        }])
    );
    // Inherited from Default, typed by the activity's spec, owned by the activity.
    assert_eq!(
        ctx.lookup("Copy", "maximumRetries"),
        Some(vec![Binding::Text {
            raw: "2".into(),
            owner: "Copy".into(),
            kind: ScalarKind::Integer
        }])
    );
    assert_eq!(
        ctx.lookup("Copy", "input"),
        Some(vec![Binding::Object("In".into())])
    );
    assert_eq!(ctx.lookup("Copy", "nothing"), None);
    assert_eq!(ctx.lookup("Nobody", "myTarget"), None);
    assert_eq!(
        ctx.lookup("Hourly", "startDateTime").map(|b| match &b[0] {
            Binding::Text { kind, .. } => *kind,
            _ => ScalarKind::String,
        }),
        Some(ScalarKind::DateTime)
    );
}

#[test]
fn builtins_parameters_and_runtime_fields() {
    let p = pipeline();
    let cat = catalog();
    let at = parse_datetime("2030-01-02T03:00:00").unwrap();
    let ctx = DefinitionContext::new(&p, &cat, "Copy")
        .at(at)
        .with_global("@pipelineId", Value::String("df-LOCAL".into()));
    assert_eq!(
        ctx.lookup("Copy", "@id"),
        Some(vec![Binding::Value(Value::String("Copy".into()))])
    );
    assert_eq!(
        ctx.lookup("In", "name"),
        Some(vec![Binding::Value(Value::String("In".into()))])
    );
    assert_eq!(
        ctx.lookup("In", "@pipelineId"),
        Some(vec![Binding::Value(Value::String("df-LOCAL".into()))])
    );
    assert_eq!(
        ctx.lookup("Copy", "@scheduledStartTime"),
        Some(vec![Binding::Value(Value::utc(at))])
    );
    assert_eq!(
        ctx.lookup("Copy", "@scheduledEndTime"),
        Some(vec![Binding::Value(Value::utc(
            parse_datetime("2030-01-02T04:00:00").unwrap()
        ))])
    );
    assert_eq!(
        ctx.lookup("In", "myCount"),
        Some(vec![Binding::Value(Value::Int(41))])
    );
    assert_eq!(
        ctx.lookup("In", "myRate"),
        Some(vec![Binding::Value(Value::Double(0.5))])
    );
    assert_eq!(
        ctx.lookup("Copy", "myList"),
        Some(vec![
            Binding::Value(Value::String("a".into())),
            Binding::Value(Value::String("b".into()))
        ])
    );
    assert_eq!(
        ctx.lookup("Copy", "myUndeclared"),
        Some(vec![Binding::Value(Value::String("free".into()))])
    );
    assert_eq!(
        ctx.lookup("In", "myDated"),
        Some(vec![Binding::Text {
            raw: "day-#{@scheduledStartTime}".into(),
            owner: "In".into(),
            kind: ScalarKind::String
        }])
    );
    let runtime = ctx
        .clone()
        .with_runtime("Copy", "node", Value::Object("In".into()));
    assert_eq!(
        runtime.lookup("Copy", "node"),
        Some(vec![Binding::Object("In".into())])
    );
}

#[test]
fn evaluates_through_references_with_the_referenced_objects_runtime_fields() {
    let p = pipeline();
    let cat = catalog();
    let at = parse_datetime("2030-01-02T03:00:00").unwrap();
    let ctx = DefinitionContext::new(&p, &cat, "Copy")
        .at(at)
        .with_runtime("In", "@scheduledStartTime", Value::utc(at));
    let command = p.get("Copy").unwrap().string("command").unwrap();
    assert_eq!(
        evaluate_string(command, &ctx).unwrap(),
        "cp s3://bucket/2030-01-02 /tmp/out x42"
    );
}

#[test]
fn an_unset_optional_parameter_is_an_empty_list() {
    let mut d = def(vec![obj(
        "Launch",
        &[
            ("type", "Ec2Resource"),
            ("securityGroups", "#{myGroups}"),
            ("keyPair", "key-#{myGroups}-#{myName}"),
            ("myName", "x"),
        ],
    )]);
    d.parameter_objects
        .push(param("myGroups", &[("optional", "true")]));
    let p = resolve(&d, &catalog());
    let cat = catalog();
    let ctx = DefinitionContext::new(&p, &cat, "Launch");
    assert_eq!(ctx.lookup("Launch", "myGroups"), Some(Vec::new()));
    assert_eq!(ctx.lookup("Launch", "myUnknown"), None);
    let fields = |raw: &str| sluice_expr::evaluate_field(raw, &ctx).unwrap();
    assert_eq!(fields("#{myGroups}"), Vec::<String>::new());
    assert_eq!(
        fields("key-#{myGroups}-#{myName}"),
        vec!["key--x".to_owned()]
    );
}
