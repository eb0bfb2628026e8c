//! The context shared by the integration tests: an activity `CopyData` with an input and an
//! output data node, an alarm whose `node` is the activity, and a few parameters.

#![allow(dead_code, unreachable_pub)]

use sluice_expr::{Binding, MapContext, ScalarKind, Value};

/// The reference's example datetime.
pub const MY_DATETIME: &str = "2011-05-24T17:10:00";

pub fn datetime(text: &str) -> Value {
    Value::parse_datetime(text).expect("test datetime")
}

fn strings(values: &[&str]) -> Binding {
    Binding::Value(Value::List(
        values.iter().map(|v| Value::from(*v)).collect(),
    ))
}

pub fn context() -> MapContext {
    MapContext::new("CopyData")
        .value(
            "CopyData",
            "@scheduledStartTime",
            datetime("2012-12-12T00:00:00"),
        )
        .value(
            "CopyData",
            "@id",
            Value::from("@CopyData_2012-12-12T00:00:00"),
        )
        .text("CopyData", "name", "copy")
        .reference("CopyData", "input", "Input")
        .reference("CopyData", "output", "Output")
        .reference("CopyData", "inputs", "Input")
        .reference("CopyData", "inputs", "Other")
        .typed_text("CopyData", "myCount", "#{1 + 1}", ScalarKind::Integer)
        .typed_text("CopyData", "myRatio", "0.25", ScalarKind::Double)
        .typed_text("CopyData", "myStart", MY_DATETIME, ScalarKind::DateTime)
        .value(
            "Input",
            "@scheduledStartTime",
            datetime("2013-01-01T06:00:00"),
        )
        .text("Input", "directoryPath", "s3://in/#{@scheduledStartTime}")
        .text("Input", "name", "input")
        .value(
            "Other",
            "@scheduledStartTime",
            datetime("2014-02-02T00:00:00"),
        )
        .text(
            "Other",
            "directoryPath",
            "s3://other/#{format(@scheduledStartTime, 'YYYY')}",
        )
        .value(
            "Output",
            "@scheduledStartTime",
            datetime("2015-03-03T00:00:00"),
        )
        .text("Output", "name", "out")
        .text(
            "Output",
            "directoryPath",
            "s3://out/#{format(@scheduledStartTime,'YYYY-MM')}/#{name}",
        )
        .reference("Alarm", "node", "CopyData")
        .text(
            "Alarm",
            "subject",
            "#{node.name} failed at #{node.@scheduledStartTime}",
        )
        .parameter("myDateTime", Binding::Value(datetime(MY_DATETIME)))
        .parameter(
            "myParam",
            Binding::Text {
                raw: "value".into(),
                owner: "parameters".into(),
                kind: ScalarKind::String,
            },
        )
        .parameter("*myPassword", Binding::Value(Value::from("hunter2")))
        .parameter("myInt", Binding::Value(Value::Int(5)))
        .parameter("myZone", Binding::Value(Value::from("Europe/Paris")))
        .parameter("myList", strings(&["one", "two"]))
        .parameter("myEmpty", Binding::Value(Value::List(vec![])))
        .parameter(
            "myNums",
            Binding::Value(Value::List(vec![Value::Int(1), Value::Int(2)])),
        )
        .parameter(
            "myDates",
            strings(&["2011-05-01T00:00:00", "2011-05-02T00:00:00"]),
        )
}
