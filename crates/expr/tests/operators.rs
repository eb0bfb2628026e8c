//! Operators: precedence, integer versus double arithmetic, `^`, unary minus, concatenation
//! with numbers and datetimes, numeric strings, and mapping over lists.

mod common;

use common::context;
use sluice_expr::{evaluate_expression, evaluate_field, evaluate_string};

/// (expression, expected type, expected rendering)
const VECTORS: &[(&str, &str, &str)] = &[
    ("1 + 2", "Int", "3"),
    ("1 + 2 * 3", "Int", "7"),
    ("(1 + 2) * 3", "Int", "9"),
    ("10 - 2 - 3", "Int", "5"),
    ("10 - (2 - 3)", "Int", "11"),
    ("12 / 2 / 3", "Int", "2"),
    ("2 * 3 + 4 * 5", "Int", "26"),
    ("1 / 2", "Int", "0"),
    ("7 / 2", "Int", "3"),
    ("-7 / 2", "Int", "-3"),
    ("1.0 / 2", "Double", "0.5"),
    ("1 / 2.0", "Double", "0.5"),
    ("1.5 + 1", "Double", "2.5"),
    ("3 * 1.5", "Double", "4.5"),
    ("0.1 * 3", "Double", "0.30000000000000004"),
    ("2 ^ 2", "Double", "4.0"),
    ("2 ^ 3 ^ 2", "Double", "512.0"),
    ("(2 ^ 3) ^ 2", "Double", "64.0"),
    ("2 * 3 ^ 2", "Double", "18.0"),
    ("-2 ^ 2", "Double", "-4.0"),
    ("(-2) ^ 2", "Double", "4.0"),
    ("2 ^ -1", "Double", "0.5"),
    ("10 ^ 10", "Double", "1.0E10"),
    ("-(1 + 2)", "Int", "-3"),
    ("--1", "Int", "1"),
    ("2 * -3", "Int", "-6"),
    ("1 - -1", "Int", "2"),
    ("-1.5", "Double", "-1.5"),
    ("'a' + 'b'", "String", "ab"),
    ("\"hel\" + \"lo\"", "String", "hello"),
    ("'n=' + 1", "String", "n=1"),
    ("1 + 'x'", "String", "1x"),
    ("'x' + 1.5", "String", "x1.5"),
    ("'x' + 2 ^ 2", "String", "x4.0"),
    ("1 + 2 + 'x'", "String", "3x"),
    ("'x' + 1 + 2", "String", "x12"),
    ("'at ' + myDateTime", "String", "at 2011-05-24T17:10:00"),
    ("myDateTime + '!'", "String", "2011-05-24T17:10:00!"),
    ("'in ' + input", "String", "in Input"),
    ("'1' + 1", "String", "11"),
    ("'3' * 2", "Int", "6"),
    ("'3' - 1.5", "Double", "1.5"),
    ("-'4'", "Int", "-4"),
    ("myInt * 2", "Int", "10"),
    ("myCount * 2", "Int", "4"),
    ("myRatio * 2", "Double", "0.5"),
    (
        "'this is ' + myList",
        "List",
        r#"["this is one","this is two"]"#,
    ),
    ("myList + '!'", "List", r#"["one!","two!"]"#),
    ("myNums + 10", "List", "[11,12]"),
    ("-myNums", "List", "[-1,-2]"),
    ("myNums * myNums", "List", "[1,2,2,4]"),
    ("myEmpty + 1", "List", "[]"),
    ("9223372036854775807 - 1", "Int", "9223372036854775806"),
];

#[test]
fn operator_vectors() {
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
fn lists_splice_as_json_or_expand_per_value() {
    let ctx = context();
    assert_eq!(
        evaluate_string("#{'this is ' + myList}", &ctx).unwrap(),
        r#"["this is one","this is two"]"#
    );
    assert_eq!(
        evaluate_field("s3://b/#{myList}/", &ctx).unwrap(),
        vec!["s3://b/one/", "s3://b/two/"]
    );
    assert_eq!(
        evaluate_field("#{myNums + 1}", &ctx).unwrap(),
        vec!["2", "3"]
    );
    assert_eq!(
        evaluate_field("#{myList}-#{myList}", &ctx).unwrap(),
        vec![r#"["one","two"]-["one","two"]"#]
    );
    assert_eq!(
        evaluate_field("#{myEmpty}", &ctx).unwrap(),
        Vec::<String>::new()
    );
    // An empty list (an unset optional parameter) splices as nothing; alone, it is no value.
    assert_eq!(evaluate_string("x#{myEmpty}", &ctx).unwrap(), "x");
    assert_eq!(evaluate_field("x#{myEmpty}", &ctx).unwrap(), vec!["x"]);

    assert_eq!(evaluate_field("plain", &ctx).unwrap(), vec!["plain"]);
    assert_eq!(evaluate_field("", &ctx).unwrap(), vec![""]);
}
