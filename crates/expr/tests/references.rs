//! Field references: plain, runtime, secret and parameter names, reference chains, text fields
//! evaluated in their owner's context and typed by kind, multi-valued references.

mod common;

use common::{context, datetime};
use sluice_expr::{
    MapContext, ScalarKind, Value, evaluate_expression, evaluate_field, evaluate_string,
};

#[test]
fn names_of_every_kind() {
    let ctx = context();
    for (raw, expected) in [
        ("#{name}", "copy"),
        ("#{@scheduledStartTime}", "2012-12-12T00:00:00"),
        ("#{myParam}", "value"),
        ("#{*myPassword}", "hunter2"),
        ("pw=#{ *myPassword }", "pw=hunter2"),
        ("#{input}", "Input"),
        ("#{input.name}", "input"),
        ("#{input.@scheduledStartTime}", "2013-01-01T06:00:00"),
        ("#{ input . name }", "input"),
    ] {
        assert_eq!(evaluate_string(raw, &ctx).unwrap(), expected, "{raw}");
    }
}

#[test]
fn text_fields_are_evaluated_in_their_owners_context() {
    let ctx = context();
    // Input's own @scheduledStartTime, not CopyData's.
    assert_eq!(
        evaluate_string("#{input.directoryPath}", &ctx).unwrap(),
        "s3://in/2013-01-01T06:00:00"
    );
    // Output's own `name`, not CopyData's.
    assert_eq!(
        evaluate_string("#{output.directoryPath}", &ctx).unwrap(),
        "s3://out/2015-03/out"
    );
}

#[test]
fn chains_through_several_objects() {
    let mut ctx = context();
    ctx.set_current("Alarm");
    assert_eq!(
        evaluate_string("#{node.output.directoryPath}", &ctx).unwrap(),
        "s3://out/2015-03/out"
    );
    assert_eq!(
        evaluate_string("#{node.@scheduledStartTime}", &ctx).unwrap(),
        "2012-12-12T00:00:00"
    );
    assert_eq!(
        evaluate_string("#{subject}", &ctx).unwrap(),
        "copy failed at 2012-12-12T00:00:00"
    );
    assert_eq!(
        evaluate_string("#{format(node.input.@scheduledStartTime, 'YYYY')}", &ctx).unwrap(),
        "2013"
    );
}

#[test]
fn a_multi_valued_reference_maps_the_chain() {
    let ctx = context();
    let value = evaluate_expression("inputs.directoryPath", &ctx).unwrap();
    assert_eq!(
        value.render(),
        r#"["s3://in/2013-01-01T06:00:00","s3://other/2014"]"#
    );
    assert_eq!(
        evaluate_field("#{inputs.directoryPath}/part", &ctx).unwrap(),
        vec!["s3://in/2013-01-01T06:00:00/part", "s3://other/2014/part"]
    );
    assert_eq!(
        evaluate_expression("year(inputs.@scheduledStartTime)", &ctx)
            .unwrap()
            .render(),
        "[2013,2014]"
    );
}

#[test]
fn text_is_typed_by_its_declared_kind() {
    let ctx = context();
    assert_eq!(evaluate_expression("myCount", &ctx).unwrap(), Value::Int(2));
    assert_eq!(
        evaluate_expression("myRatio", &ctx).unwrap(),
        Value::Double(0.25)
    );
    assert_eq!(
        evaluate_expression("myStart", &ctx).unwrap(),
        datetime("2011-05-24T17:10:00")
    );
    assert_eq!(
        evaluate_expression("name", &ctx).unwrap(),
        Value::from("copy")
    );
}

#[test]
fn a_text_field_holding_a_list_yields_each_value() {
    let ctx = MapContext::new("A")
        .text("A", "dirs", "s3://b/#{myList}")
        .parameter(
            "myList",
            sluice_expr::Binding::Value(Value::List(vec!["x".into(), "y".into()])),
        );
    assert_eq!(
        evaluate_expression("dirs", &ctx).unwrap(),
        Value::List(vec!["s3://b/x".into(), "s3://b/y".into()])
    );
    assert_eq!(
        evaluate_string("#{dirs + '/'}", &ctx).unwrap(),
        r#"["s3://b/x/","s3://b/y/"]"#
    );
}

#[test]
fn several_values_of_one_field_form_a_list() {
    let ctx = MapContext::new("A")
        .typed_text("A", "n", "1", ScalarKind::Integer)
        .typed_text("A", "n", "#{1 + 1}", ScalarKind::Integer)
        .value("A", "n", Value::Int(3));
    assert_eq!(
        evaluate_expression("n * 10", &ctx).unwrap().render(),
        "[10,20,30]"
    );
}

#[test]
fn a_field_referenced_many_times_is_evaluated_once() {
    // Each level refers to the next twice: without the per-evaluation cache this would take
    // 2^30 evaluations.
    let mut ctx = MapContext::new("A").value("A", "f30", Value::Int(7));
    for level in 0..30 {
        let raw = format!("#{{f{next} * 2 - f{next}}}", next = level + 1);
        ctx = ctx.typed_text("A", &format!("f{level}"), &raw, ScalarKind::Integer);
    }
    assert_eq!(evaluate_expression("f0", &ctx).unwrap(), Value::Int(7));
}
