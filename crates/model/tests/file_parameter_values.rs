//! `--parameter-values`, `--parameter-values-uri` and `--parameter-objects`, as the AWS CLI
//! reads them.

use sluice_model::ParameterValue;
use sluice_model::file::{
    FileError, ParameterValuesOption, merge_parameter_values, parse_parameter_objects_file,
    parse_parameter_value_args, parse_parameter_values_file,
};

fn args(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| (*s).to_owned()).collect()
}

fn pairs(values: &[ParameterValue]) -> Vec<(&str, &str)> {
    values
        .iter()
        .map(|v| (v.id.as_str(), v.string_value.as_str()))
        .collect()
}

fn value(id: &str, string_value: &str) -> ParameterValue {
    ParameterValue {
        id: id.to_owned(),
        string_value: string_value.to_owned(),
    }
}

#[test]
fn inline_values_split_on_the_first_equals_sign() {
    let values = parse_parameter_value_args(&args(&[
        "myQuery=select * from t where a=1",
        "myEmpty=",
        "myPath=s3://bucket/key",
    ]))
    .unwrap();
    assert_eq!(
        pairs(&values),
        [
            ("myQuery", "select * from t where a=1"),
            ("myEmpty", ""),
            ("myPath", "s3://bucket/key")
        ]
    );
}

#[test]
fn repeated_inline_ids_become_a_list_at_the_first_position() {
    let values = parse_parameter_value_args(&args(&["myA=1", "myB=2", "myA=3", "myA=4"])).unwrap();
    assert_eq!(
        pairs(&values),
        [("myA", "1"), ("myA", "3"), ("myA", "4"), ("myB", "2")]
    );
}

#[test]
fn no_inline_arguments_give_no_values() {
    assert_eq!(parse_parameter_value_args(&[]).unwrap(), []);
}

#[test]
fn bad_inline_arguments_are_named() {
    let cases = [
        (
            "myA",
            "--parameter-values: argument 'myA': expected id=value",
        ),
        (
            "=x",
            "--parameter-values: argument '=x': the parameter id before '=' is empty",
        ),
    ];
    for (argument, expected) in cases {
        let err = parse_parameter_value_args(&args(&["myOk=1", argument])).unwrap_err();
        assert_eq!(err.to_string(), expected);
        assert!(matches!(err, FileError::Argument { argument: a, .. } if a == argument));
    }
}

#[test]
fn values_file_reads_top_level_values_in_file_order() {
    let text = r#"{"values": {"myZ": "z", "myList": ["1", "2"], "myA": "a"}, "other": 1}"#;
    let values = parse_parameter_values_file(text).unwrap();
    assert_eq!(
        pairs(&values),
        [("myZ", "z"), ("myList", "1"), ("myList", "2"), ("myA", "a")]
    );
}

#[test]
fn values_file_errors_name_the_file_and_entry() {
    let cases = [
        (
            "{\"values\": {\"myA\": 1}}",
            "parameter values file: line 1, column 13: values entry 'myA': expected a string, got the number 1 (write \"1\")",
        ),
        (
            "{\"objects\": []}",
            "parameter values file: missing \"values\" key",
        ),
        (
            "{\"values\": [\"a\"]}",
            "parameter values file: line 1, column 2: \"values\" must be a JSON object mapping parameter ids to values, got a list",
        ),
        (
            "{\"values\": {\n  \"myA\": \"1\",\n}}",
            "parameter values file: line 3, column 1: trailing comma",
        ),
        (
            "\"values\"",
            "parameter values file: line 1, column 1: the top level must be a JSON object with key \"values\", got a string",
        ),
    ];
    for (text, expected) in cases {
        assert_eq!(
            parse_parameter_values_file(text).unwrap_err().to_string(),
            expected,
            "{text}"
        );
    }
}

#[test]
fn parameter_objects_file_reads_top_level_parameters() {
    let text = r#"{"parameters": [{"id": "myA", "type": "Integer", "allowedValues": ["1", "2"]}]}"#;
    let parameters = parse_parameter_objects_file(text).unwrap();
    assert_eq!(parameters.len(), 1);
    let keys: Vec<_> = parameters[0]
        .attributes
        .iter()
        .map(|a| a.key.as_str())
        .collect();
    assert_eq!(keys, ["allowedValues", "allowedValues", "type"]);
    assert_eq!(
        parse_parameter_objects_file("{}").unwrap_err().to_string(),
        "parameter objects file: missing \"parameters\" key"
    );
}

#[test]
fn parameter_objects_file_may_be_the_bare_list() {
    let list = r#" [{"id": "myA", "type": "Integer", "default": "3"}, {"id": "myB"}]"#;
    let wrapped = format!(r#"{{"parameters": {list}}}"#);
    let parameters = parse_parameter_objects_file(list).unwrap();
    assert_eq!(parameters, parse_parameter_objects_file(&wrapped).unwrap());
    let ids: Vec<_> = parameters.iter().map(|p| p.id.as_str()).collect();
    assert_eq!(ids, ["myA", "myB"]);
    assert_eq!(
        parse_parameter_objects_file(r#"[{"type": "String"}]"#)
            .unwrap_err()
            .to_string(),
        "parameter objects file: line 1, column 2: missing \"id\" key of element \
         parameters[0]: {\"type\":\"String\"}"
    );
    assert_eq!(
        parse_parameter_objects_file(r#"[{"id": "myA", "default": 3}]"#)
            .unwrap_err()
            .to_string(),
        "parameter objects file: line 1, column 16: parameter 'myA' attribute 'default': \
         expected a string, got the number 3 (write \"3\")"
    );
}

#[test]
fn option_values_replace_embedded_values_entirely() {
    let embedded = vec![value("myA", "file"), value("myB", "file")];
    assert_eq!(merge_parameter_values(embedded.clone(), None), embedded);
    assert_eq!(
        merge_parameter_values(embedded.clone(), Some(vec![value("myA", "cli")])),
        [value("myA", "cli")]
    );
    assert_eq!(merge_parameter_values(embedded, Some(vec![])), []);
}

#[test]
fn only_one_value_option_is_allowed() {
    let inline = args(&["myA=1"]);
    assert_eq!(
        ParameterValuesOption::from_options(&[], None).unwrap(),
        None
    );
    assert_eq!(
        ParameterValuesOption::from_options(&inline, None).unwrap(),
        Some(ParameterValuesOption::Inline(inline.clone()))
    );
    assert_eq!(
        ParameterValuesOption::from_options(&[], Some("file://values.json")).unwrap(),
        Some(ParameterValuesOption::Uri("file://values.json".to_owned()))
    );
    let err = ParameterValuesOption::from_options(&inline, Some("file://values.json")).unwrap_err();
    assert_eq!(err, FileError::ConflictingParameterValueOptions);
    assert_eq!(
        err.to_string(),
        "only one of --parameter-values or --parameter-values-uri is allowed"
    );
}
