//! Every function, against the reference's example `myDateTime = 2011-05-24T17:10:00` (a
//! Tuesday), in both call forms, with string coercion and list mapping.

mod common;

use common::context;
use sluice_expr::{Value, evaluate_expression, evaluate_string};

/// (expression, expected type, expected rendering)
const VECTORS: &[(&str, &str, &str)] = &[
    ("day(myDateTime)", "Int", "24"),
    ("dayOfYear(myDateTime)", "Int", "144"),
    (
        "firstOfMonth(myDateTime)",
        "DateTime",
        "2011-05-01T17:10:00",
    ),
    (
        "format(myDateTime, 'YYYY-MM-dd HH:mm:ss z')",
        "String",
        "2011-05-24 17:10:00 UTC",
    ),
    (
        "format(myDateTime, 'YYYY-MM-dd-HH-mm-ss')",
        "String",
        "2011-05-24-17-10-00",
    ),
    (
        "format(myDateTime,'YYYY-MM-dd_hh.mm')",
        "String",
        "2011-05-24_05.10",
    ),
    ("format(myDateTime, 'YYYY-MM')", "String", "2011-05"),
    (
        "format(myDateTime, 'EEEE, MMMM d yyyy h:mm a')",
        "String",
        "Tuesday, May 24 2011 5:10 PM",
    ),
    ("hour(myDateTime)", "Int", "17"),
    ("makeDate(2011, 5, 24)", "DateTime", "2011-05-24T00:00:00"),
    (
        "makeDateTime(2011,5,24,14,21)",
        "DateTime",
        "2011-05-24T14:21:00",
    ),
    ("midnight(myDateTime)", "DateTime", "2011-05-24T00:00:00"),
    (
        "minusDays(myDateTime, 1)",
        "DateTime",
        "2011-05-23T17:10:00",
    ),
    (
        "minusDays(myDateTime, -1)",
        "DateTime",
        "2011-05-25T17:10:00",
    ),
    (
        "minusHours(myDateTime, 18)",
        "DateTime",
        "2011-05-23T23:10:00",
    ),
    (
        "minusMinutes(myDateTime, 30)",
        "DateTime",
        "2011-05-24T16:40:00",
    ),
    (
        "minusMonths(myDateTime, 5)",
        "DateTime",
        "2010-12-24T17:10:00",
    ),
    (
        "minusWeeks(myDateTime, 1)",
        "DateTime",
        "2011-05-17T17:10:00",
    ),
    (
        "minusYears(myDateTime, 1)",
        "DateTime",
        "2010-05-24T17:10:00",
    ),
    ("plusDays(myDateTime, 8)", "DateTime", "2011-06-01T17:10:00"),
    (
        "plusHours(myDateTime, 7)",
        "DateTime",
        "2011-05-25T00:10:00",
    ),
    (
        "plusMinutes(myDateTime, 50)",
        "DateTime",
        "2011-05-24T18:00:00",
    ),
    (
        "plusMonths(myDateTime, 8)",
        "DateTime",
        "2012-01-24T17:10:00",
    ),
    (
        "plusWeeks(myDateTime, 2)",
        "DateTime",
        "2011-06-07T17:10:00",
    ),
    (
        "plusYears(myDateTime, 1)",
        "DateTime",
        "2012-05-24T17:10:00",
    ),
    ("minute(myDateTime)", "Int", "10"),
    ("month(myDateTime)", "Int", "5"),
    ("sunday(myDateTime)", "DateTime", "2011-05-22T17:10:00"),
    ("year(myDateTime)", "Int", "2011"),
    ("yesterday(myDateTime)", "DateTime", "2011-05-23T17:10:00"),
    (
        "inTimeZone(myDateTime, 'America/Los_Angeles')",
        "DateTime",
        "2011-05-24T10:10:00",
    ),
    (
        "inTimeZone(myDateTime, 'UTC')",
        "DateTime",
        "2011-05-24T17:10:00",
    ),
    (
        "plusPeriod(myDateTime, '1 day')",
        "DateTime",
        "2011-05-25T17:10:00",
    ),
    (
        "plusPeriod(myDateTime, \"15 Minutes\")",
        "DateTime",
        "2011-05-24T17:25:00",
    ),
    (
        "plusPeriod(myDateTime, '1 month')",
        "DateTime",
        "2011-06-24T17:10:00",
    ),
    (
        "minusPeriod(myDateTime, '1 day')",
        "DateTime",
        "2011-05-23T17:10:00",
    ),
    (
        "minusPeriod(myDateTime, '2 hours')",
        "DateTime",
        "2011-05-24T15:10:00",
    ),
    (
        "minusPeriod(myDateTime, '1 year')",
        "DateTime",
        "2010-05-24T17:10:00",
    ),
    // Calendar-aware month arithmetic clamps to the end of the month.
    (
        "plusMonths('2011-01-31T10:00:00', 1)",
        "DateTime",
        "2011-02-28T10:00:00",
    ),
    (
        "plusMonths('2012-01-31T10:00:00', 1)",
        "DateTime",
        "2012-02-29T10:00:00",
    ),
    (
        "minusMonths('2011-03-31T10:00:00', 1)",
        "DateTime",
        "2011-02-28T10:00:00",
    ),
    (
        "plusYears('2012-02-29T00:00:00', 1)",
        "DateTime",
        "2013-02-28T00:00:00",
    ),
    (
        "plusPeriod('2011-01-31T00:00:00', '1 month')",
        "DateTime",
        "2011-02-28T00:00:00",
    ),
    // sunday keeps a Sunday and goes back from a Saturday.
    (
        "sunday('2011-05-22T08:00:00')",
        "DateTime",
        "2011-05-22T08:00:00",
    ),
    (
        "sunday('2011-05-28T08:00:00')",
        "DateTime",
        "2011-05-22T08:00:00",
    ),
    (
        "sunday('2011-06-01T00:00:00')",
        "DateTime",
        "2011-05-29T00:00:00",
    ),
    ("dayOfYear('2012-12-31T00:00:00')", "Int", "366"),
    (
        "yesterday('2012-03-01T00:00:00')",
        "DateTime",
        "2012-02-29T00:00:00",
    ),
    (
        "firstOfMonth('2012-03-01T00:00:00')",
        "DateTime",
        "2012-03-01T00:00:00",
    ),
    // Method-call form.
    ("myDateTime.format('YYYY-MM-dd')", "String", "2011-05-24"),
    (
        "myDateTime.minusMinutes(30).format('YYYY-MM-dd hh:mm:ss')",
        "String",
        "2011-05-24 04:40:00",
    ),
    ("myDateTime.day()", "Int", "24"),
    (
        "@scheduledStartTime.format('YYYY-MM-dd-hh:mm')",
        "String",
        "2012-12-12-12:00",
    ),
    // Nested calls.
    (
        "format(minusMinutes(@scheduledStartTime,30),'YYYY-MM-dd hh:mm:ss')",
        "String",
        "2012-12-11 11:30:00",
    ),
    ("day(plusDays(makeDate(2011, 2, 27), 2))", "Int", "1"),
    // Text is accepted where a DateTime or an Int is expected.
    ("day('2011-05-24T17:10:00')", "Int", "24"),
    (
        "plusDays(myDateTime, '2')",
        "DateTime",
        "2011-05-26T17:10:00",
    ),
    (
        "plusDays(myStart, myCount)",
        "DateTime",
        "2011-05-26T17:10:00",
    ),
    ("makeDate('2011', 5, 24)", "DateTime", "2011-05-24T00:00:00"),
    // Functions after inTimeZone see local time.
    (
        "hour(inTimeZone(myDateTime, 'America/Los_Angeles'))",
        "Int",
        "10",
    ),
    (
        "format(inTimeZone(myDateTime, 'America/Los_Angeles'), 'HH:mm z Z ZZ ZZZ')",
        "String",
        "10:10 PDT -0700 -07:00 America/Los_Angeles",
    ),
    (
        "format(inTimeZone(myDateTime, myZone), 'HH:mm z')",
        "String",
        "19:10 CEST",
    ),
    (
        "midnight(inTimeZone(myDateTime, 'Asia/Tokyo'))",
        "DateTime",
        "2011-05-25T00:00:00",
    ),
    (
        "format(plusDays(inTimeZone('2011-03-12T17:00:00', 'America/Los_Angeles'), 1), 'dd HH z')",
        "String",
        "13 09 PDT",
    ),
    (
        "format(plusHours(inTimeZone('2011-03-12T17:00:00', 'America/Los_Angeles'), 24), 'dd HH z')",
        "String",
        "13 10 PDT",
    ),
    // List arguments map.
    ("format(myDates, 'dd')", "List", r#"["01","02"]"#),
    (
        "plusDays(myDateTime, myNums)",
        "List",
        r#"["2011-05-25T17:10:00","2011-05-26T17:10:00"]"#,
    ),
    ("day(plusDays(myDates, myNums))", "List", "[2,3,3,4]"),
    ("day(myEmpty)", "List", "[]"),
];

#[test]
fn function_vectors() {
    let ctx = context();
    for (source, type_name, rendered) in VECTORS {
        let value = evaluate_expression(source, &ctx).unwrap_or_else(|e| panic!("{source}: {e}"));
        assert_eq!(
            (value.type_name(), value.render().as_str()),
            (*type_name, *rendered),
            "{source}"
        );
    }
}

#[test]
fn every_function_has_a_vector() {
    for name in sluice_expr::function_names() {
        assert!(
            VECTORS
                .iter()
                .any(|(source, ..)| source.contains(&format!("{name}("))),
            "no vector for {name}"
        );
    }
    assert_eq!(sluice_expr::function_names().count(), 28);
}

#[test]
fn method_form_equals_call_form() {
    let ctx = context();
    for (method, call) in [
        (
            "@scheduledStartTime.format('YYYY-MM-dd')",
            "format(@scheduledStartTime, 'YYYY-MM-dd')",
        ),
        ("myDateTime.plusDays(3)", "plusDays(myDateTime, 3)"),
        (
            "input.@scheduledStartTime.year()",
            "year(input.@scheduledStartTime)",
        ),
    ] {
        assert_eq!(
            evaluate_expression(method, &ctx),
            evaluate_expression(call, &ctx)
        );
    }
}

#[test]
fn in_time_zone_keeps_the_zone_and_the_instant() {
    let ctx = context();
    let utc = evaluate_expression("myDateTime", &ctx).unwrap();
    let la = evaluate_expression("inTimeZone(myDateTime, 'America/Los_Angeles')", &ctx).unwrap();
    assert_ne!(utc, la);
    let back = evaluate_expression(
        "inTimeZone(inTimeZone(myDateTime, 'Asia/Tokyo'), 'UTC')",
        &ctx,
    );
    assert_eq!(back.unwrap(), utc);
    let (Value::DateTime(a), Value::DateTime(b)) = (&utc, &la) else {
        panic!("datetimes")
    };
    assert_eq!(a.timestamp(), b.timestamp());
}

#[test]
fn sample_pipeline_expressions() {
    let ctx = context();
    for (raw, expected) in [
        (
            "s3://myBucket/#{@scheduledStartTime}.csv",
            "s3://myBucket/2012-12-12T00:00:00.csv",
        ),
        (
            "#{format(@scheduledStartTime, 'YYYY-MM-dd-HH-mm-ss')}",
            "2012-12-12-00-00-00",
        ),
        ("#{day(@scheduledStartTime)}", "12"),
        (
            "dt=#{format(@scheduledStartTime,'YYYY-MM-dd')}/h=#{hour(@scheduledStartTime)}",
            "dt=2012-12-12/h=0",
        ),
        ("#{@id}", "@CopyData_2012-12-12T00:00:00"),
    ] {
        assert_eq!(evaluate_string(raw, &ctx).unwrap(), expected, "{raw}");
    }
}
