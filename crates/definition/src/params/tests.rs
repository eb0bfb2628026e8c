use super::*;
use crate::report::{Code, Severity};
use crate::testkit::{param, value};

fn run(
    params: Vec<sluice_model::ParameterObject>,
    values: Vec<sluice_model::ParameterValue>,
) -> (Parameters, Vec<Problem>) {
    let def = PipelineDefinition {
        pipeline_objects: vec![],
        parameter_objects: params,
        parameter_values: values,
    };
    resolve_parameters(&def)
}

fn messages(problems: &[Problem]) -> Vec<String> {
    problems
        .iter()
        .map(|p| format!("{}: {}", p.id, p.message()))
        .collect()
}

#[test]
fn values_win_over_defaults_and_defaults_fill_in() {
    let (params, problems) = run(
        vec![
            param("myA", &[("default", "fallback")]),
            param("myB", &[("default", "fallback")]),
            param("myC", &[("optional", "true")]),
        ],
        vec![value("myA", "given")],
    );
    assert!(problems.is_empty(), "{problems:?}");
    assert_eq!(params.get("myA"), Some(&["given".to_owned()][..]));
    assert_eq!(params.get("myB"), Some(&["fallback".to_owned()][..]));
    assert_eq!(params.get("myC"), None);
    assert!(params.is_known("myC"));
    assert!(!params.is_known("myD"));
}

#[test]
fn a_secret_parameter_takes_its_value_with_or_without_the_star() {
    let (params, problems) = run(
        vec![
            param("*myRDSPassword", &[]),
            param("myUser", &[]),
            param("*myToken", &[]),
        ],
        vec![
            value("myRDSPassword", "hunter2"),
            value("*myUser", "etl"),
            value("*myToken", "exact"),
            value("myToken", "other spelling"),
        ],
    );
    assert!(problems.is_empty(), "{problems:?}");
    assert_eq!(
        params.get("*myRDSPassword"),
        Some(&["hunter2".to_owned()][..])
    );
    assert_eq!(params.get("myUser"), Some(&["etl".to_owned()][..]));
    // The exact spelling wins; the other stays an undeclared value of its own.
    assert_eq!(params.get("*myToken"), Some(&["exact".to_owned()][..]));
    assert_eq!(
        params.get("myToken"),
        Some(&["other spelling".to_owned()][..])
    );
    // A value taken under its other spelling is not also an undeclared (unmasked) one.
    assert_eq!(params.get("myRDSPassword"), None);
    assert_eq!(params.get("*myUser"), None);
}

#[test]
fn required_parameters_need_a_value() {
    let (params, problems) = run(vec![param("myA", &[("description", "needed")])], vec![]);
    assert_eq!(
        messages(&problems),
        [
            "myA: MISSING_PARAMETER_VALUE: parameter 'myA' has no value and no default, and is not optional"
        ]
    );
    assert_eq!(params.get("myA"), None);
    assert_eq!(
        params.decl("myA").unwrap().description.as_deref(),
        Some("needed")
    );
}

#[test]
fn type_checks() {
    let (_, problems) = run(
        vec![
            param("myInt", &[("type", "Integer")]),
            param("myDouble", &[("type", "Double")]),
            param("myKey", &[("type", "AWS::S3::ObjectKey")]),
            param("myOk", &[("type", "Integer"), ("default", "-3")]),
            param("myExpr", &[("type", "Integer"), ("default", "#{1 + 1}")]),
        ],
        vec![
            value("myInt", "1.5"),
            value("myDouble", "NaN"),
            value("myKey", "/local/path"),
        ],
    );
    assert_eq!(
        messages(&problems),
        [
            "myInt: INVALID_PARAMETER_VALUE: value '1.5' of parameter 'myInt' must be an Integer",
            "myDouble: INVALID_PARAMETER_VALUE: value 'NaN' of parameter 'myDouble' must be a Double",
            "myKey: INVALID_PARAMETER_VALUE: value '/local/path' of parameter 'myKey' must be an \
             S3 URI starting with 's3://'",
        ]
    );
    for (t, ok, bad) in [
        (ParameterType::Integer, "42", "4 2"),
        (ParameterType::Double, "1e3", "inf"),
        (ParameterType::S3ObjectKey, "s3://b/k", "S3://b/k"),
    ] {
        assert!(t.check(ok).is_ok(), "{t:?} {ok}");
        assert!(t.check(bad).is_err(), "{t:?} {bad}");
    }
}

#[test]
fn allowed_values() {
    let (_, problems) = run(
        vec![param(
            "mySize",
            &[
                ("allowedValues", "small"),
                ("allowedValues", "large"),
                ("default", "medium"),
            ],
        )],
        vec![value("mySize", "huge")],
    );
    assert_eq!(
        messages(&problems),
        [
            "mySize: INVALID_PARAMETER: 'default' value 'medium' is not one of the allowed values: \
             'small', 'large'",
            "mySize: INVALID_PARAMETER_VALUE: value 'huge' of parameter 'mySize' is not one of the \
             allowed values: 'small', 'large'",
        ]
    );
}

#[test]
fn arrays() {
    let (params, problems) = run(
        vec![param("myList", &[("isArray", "true")]), param("myOne", &[])],
        vec![
            value("myList", "a"),
            value("myOne", "x"),
            value("myList", "b"),
            value("myOne", "y"),
        ],
    );
    assert_eq!(
        params.get("myList"),
        Some(&["a".to_owned(), "b".to_owned()][..])
    );
    assert_eq!(
        messages(&problems),
        [
            "myOne: INVALID_PARAMETER_VALUE: parameter 'myOne' has 2 values but is not an array (set 'isArray' to true)"
        ]
    );
}

#[test]
fn undeclared_values_are_accepted() {
    let (params, problems) = run(
        vec![],
        vec![value("myConnectionString", "jdbc:x"), value("other", "1")],
    );
    assert!(problems.is_empty());
    assert_eq!(
        params.get("myConnectionString"),
        Some(&["jdbc:x".to_owned()][..])
    );
    assert!(params.is_known("other"));
    assert!(params.declared.is_empty());
}

#[test]
fn ids_without_my_prefix_warn() {
    let (params, problems) = run(
        vec![
            param("user", &[("optional", "true")]),
            param("*myPassword", &[("optional", "true")]),
            param("", &[]),
        ],
        vec![],
    );
    assert_eq!(problems.len(), 2);
    assert_eq!(problems[0].severity, Severity::Warning);
    assert_eq!(problems[0].code, Code::InvalidParameterId);
    assert_eq!(problems[0].id, "user");
    assert_eq!(
        messages(&problems[1..]),
        ["PipelineDefinition: INVALID_PARAMETER_ID: a parameter has an empty id"]
    );
    assert_eq!(params.declared.len(), 2);
    assert!(params.decl("*myPassword").unwrap().is_secret());
}

#[test]
fn malformed_attributes() {
    let (params, problems) = run(
        vec![
            param(
                "myA",
                &[
                    ("type", "Number"),
                    ("optional", "maybe"),
                    ("isArray", "yes"),
                    ("type", "String"),
                ],
            ),
            param("myA", &[]),
            param(
                "myB",
                &[
                    ("optional", "TRUE"),
                    ("watermark", "w"),
                    ("helpText", "h"),
                    ("helpLink", "l"),
                    ("myComment", "c"),
                    ("defualt", "x"),
                ],
            ),
        ],
        vec![],
    );
    assert_eq!(
        messages(&problems),
        [
            "myA: INVALID_PARAMETER: 'type' value 'Number' must be one of String, Integer, Double, AWS::S3::ObjectKey",
            "myA: INVALID_PARAMETER: 'optional' value 'maybe' must be true or false",
            "myA: INVALID_PARAMETER: 'isArray' value 'yes' must be true or false",
            "myA: INVALID_PARAMETER: attribute 'type' is given more than once; the first is used",
            "myA: DUPLICATE_PARAMETER: parameter 'myA' is declared more than once; the first is used",
            "myB: UNKNOWN_PARAMETER_ATTRIBUTE: attribute 'defualt' is not a parameter attribute (type, \
             optional, allowedValues, default, isArray, description, watermark, helpText, helpLink); \
             it is kept but has no effect",
            "myA: MISSING_PARAMETER_VALUE: parameter 'myA' has no value and no default, and is not optional",
        ]
    );
    let b = params.decl("myB").unwrap();
    assert!(b.optional);
    assert_eq!(b.attributes.len(), 6);
    assert_eq!(b.attributes[1], ("watermark".to_owned(), "w".to_owned()));
}

#[test]
fn secret_values_never_appear_in_messages() {
    let (params, problems) = run(
        vec![param(
            "*myPin",
            &[
                ("type", "Integer"),
                ("allowedValues", "1234"),
                ("default", "s3cr3t-default"),
            ],
        )],
        vec![
            value("*myPin", "s3cr3t-value"),
            value("*myPin", "s3cr3t-two"),
        ],
    );
    let all = messages(&problems).join("\n");
    assert!(!all.contains("s3cr3t"), "{all}");
    assert!(!all.contains("1234"), "{all}");
    assert_eq!(
        messages(&problems),
        [
            "*myPin: INVALID_PARAMETER: 'default' value must be an Integer",
            "*myPin: INVALID_PARAMETER_VALUE: parameter '*myPin' has 2 values but is not an array (set 'isArray' to true)",
            "*myPin: INVALID_PARAMETER_VALUE: value of parameter '*myPin' must be an Integer",
            "*myPin: INVALID_PARAMETER_VALUE: value of parameter '*myPin' must be an Integer",
        ]
    );
    assert_eq!(params.get("*myPin").map(<[String]>::len), Some(2));
}
