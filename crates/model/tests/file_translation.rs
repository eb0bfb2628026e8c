//! File form ↔ API form, case by case against what the AWS CLI's translator produces.

use serde_json::{Value, json};
use sluice_model::file::{
    Document, FileError, Position, Section, parse_any_definition, parse_api_definition,
    parse_definition_file, to_definition_file,
};
use sluice_model::{Field, PipelineDefinition, PipelineObject};

fn api_json(text: &str) -> Value {
    let parsed = parse_definition_file(text).unwrap_or_else(|e| panic!("{e}\n{text}"));
    assert_eq!(parsed.warnings, Vec::<String>::new(), "{text}");
    serde_json::to_value(parsed.definition).unwrap()
}

fn error(text: &str) -> String {
    match parse_definition_file(text) {
        Ok(parsed) => panic!("accepted: {text}\n{parsed:?}"),
        Err(e) => e.to_string(),
    }
}

#[test]
fn translates_like_the_aws_cli() {
    let cases: &[(&str, Value, Value)] = &[
        (
            "name defaults to the id",
            json!({"objects": [{"id": "A"}]}),
            json!({"pipelineObjects": [{"id": "A", "name": "A", "fields": []}]}),
        ),
        (
            "an explicit name is kept and is not a field",
            json!({"objects": [{"name": "Nice name", "id": "A"}]}),
            json!({"pipelineObjects": [{"id": "A", "name": "Nice name", "fields": []}]}),
        ),
        (
            "remaining keys are fields in sorted key order; type is an ordinary field",
            json!({"objects": [{"id": "A", "type": "ShellCommandActivity", "command": "echo hi",
                                "Zeta": "z", "a": "1"}]}),
            json!({"pipelineObjects": [{"id": "A", "name": "A", "fields": [
                {"key": "Zeta", "stringValue": "z"},
                {"key": "a", "stringValue": "1"},
                {"key": "command", "stringValue": "echo hi"},
                {"key": "type", "stringValue": "ShellCommandActivity"},
            ]}]}),
        ),
        (
            "sorting is by code point, as Python's sorted on str",
            json!({"objects": [{"id": "A", "é": "3", "a": "2", "_": "1", "Z": "0", "*password": "p"}]}),
            json!({"pipelineObjects": [{"id": "A", "name": "A", "fields": [
                {"key": "*password", "stringValue": "p"},
                {"key": "Z", "stringValue": "0"},
                {"key": "_", "stringValue": "1"},
                {"key": "a", "stringValue": "2"},
                {"key": "é", "stringValue": "3"},
            ]}]}),
        ),
        (
            "a dict whose only key is ref is a reference",
            json!({"objects": [{"id": "A", "schedule": {"ref": "S"}, "parent": {"ref": "Default"}}]}),
            json!({"pipelineObjects": [{"id": "A", "name": "A", "fields": [
                {"key": "parent", "refValue": "Default"},
                {"key": "schedule", "refValue": "S"},
            ]}]}),
        ),
        (
            "a list gives one field per item under the same key, in list order",
            json!({"objects": [{"id": "A", "scriptArgument": ["b", "a"],
                                "dependsOn": [{"ref": "Y"}, {"ref": "X"}],
                                "onFail": [{"ref": "Alarm"}, "odd but allowed"]}]}),
            json!({"pipelineObjects": [{"id": "A", "name": "A", "fields": [
                {"key": "dependsOn", "refValue": "Y"},
                {"key": "dependsOn", "refValue": "X"},
                {"key": "onFail", "refValue": "Alarm"},
                {"key": "onFail", "stringValue": "odd but allowed"},
                {"key": "scriptArgument", "stringValue": "b"},
                {"key": "scriptArgument", "stringValue": "a"},
            ]}]}),
        ),
        (
            "objects keep file order; strings pass through untouched",
            json!({"objects": [{"id": "Z", "command": "echo #{myX} \"q\" \\n"}, {"id": "A"}]}),
            json!({"pipelineObjects": [
                {"id": "Z", "name": "Z", "fields": [
                    {"key": "command", "stringValue": "echo #{myX} \"q\" \\n"}]},
                {"id": "A", "name": "A", "fields": []},
            ]}),
        ),
        (
            "parameters: id popped, attributes sorted, allowedValues repeated",
            json!({"objects": [], "parameters": [{"id": "myMode", "type": "String",
                "allowedValues": ["fast", "slow"], "default": "fast", "description": "Mode"}]}),
            json!({"pipelineObjects": [], "parameterObjects": [{"id": "myMode", "attributes": [
                {"key": "allowedValues", "stringValue": "fast"},
                {"key": "allowedValues", "stringValue": "slow"},
                {"key": "default", "stringValue": "fast"},
                {"key": "description", "stringValue": "Mode"},
                {"key": "type", "stringValue": "String"},
            ]}]}),
        ),
        (
            "values keep file order; a list repeats the id",
            json!({"objects": [], "values": {"myZ": "1", "myList": ["b", "a"], "myA": ""}}),
            json!({"pipelineObjects": [], "parameterValues": [
                {"id": "myZ", "stringValue": "1"},
                {"id": "myList", "stringValue": "b"},
                {"id": "myList", "stringValue": "a"},
                {"id": "myA", "stringValue": ""},
            ]}),
        ),
        (
            "metadata is ignored",
            json!({"metadata": {"templateName": "T", "templateDescription": "D"},
                   "objects": [{"id": "A"}]}),
            json!({"pipelineObjects": [{"id": "A", "name": "A", "fields": []}]}),
        ),
        (
            "empty parameters and values give nothing",
            json!({"objects": [], "parameters": [], "values": {}}),
            json!({"pipelineObjects": []}),
        ),
    ];
    for (name, file, expected) in cases {
        let text = serde_json::to_string_pretty(file).unwrap();
        assert_eq!(&api_json(&text), expected, "{name}");
    }
}

#[test]
fn repeated_keys_keep_the_last_value_and_warn() {
    let text = r#"{
  "objects": [
    {
      "id": "Step",
      "type": "EmrActivity",
      "step": "first",
      "step": "second",
      "input": {"ref": "A", "ref": "B"}
    }
  ],
  "parameters": [{"id": "myP", "type": "String", "type": "Integer"}],
  "values": {"myP": "1", "myQ": "x", "myP": "2"},
  "values": {"myP": "3", "myQ": "y", "myP": "4"}
}"#;
    let parsed = parse_definition_file(text).unwrap();
    let object = &parsed.definition.pipeline_objects[0];
    assert_eq!(
        object.fields,
        [
            Field::reference("input", "B"),
            Field::string("step", "second"),
            Field::string("type", "EmrActivity"),
        ]
    );
    assert_eq!(
        parsed.definition.parameter_objects[0].attribute("type"),
        Some("Integer")
    );
    let values: Vec<_> = parsed
        .definition
        .parameter_values
        .iter()
        .map(|v| (v.id.as_str(), v.string_value.as_str()))
        .collect();
    // Python's dict keeps a repeated key where it first appeared.
    assert_eq!(values, [("myP", "4"), ("myQ", "y")]);
    let tail = "; the last value is used, as the AWS CLI does (give a list to keep several values)";
    let expected: Vec<String> = [
        "line 13, column 3: top level: duplicate key 'values' (first at line 12)",
        "line 7, column 7: object 'Step': duplicate key 'step' (first at line 6)",
        "line 8, column 29: object 'Step' field 'input': duplicate key 'ref' (first at line 8)",
        "line 11, column 50: parameter 'myP': duplicate key 'type' (first at line 11)",
        "line 13, column 38: values: duplicate key 'myP' (first at line 13)",
    ]
    .iter()
    .map(|w| format!("{w}{tail}"))
    .collect();
    assert_eq!(parsed.warnings, expected);
}

#[test]
fn tolerated_oddities_warn() {
    let text = r#"{
  "objects": [{"id": "A", "scriptArgument": []}],
  "paramters": [],
  "metadata": {},
  "values": {"myEmpty": []}
}"#;
    let parsed = parse_definition_file(text).unwrap();
    assert_eq!(parsed.definition.pipeline_objects[0].fields, []);
    assert_eq!(parsed.definition.parameter_values, []);
    assert_eq!(
        parsed.warnings,
        [
            "line 3, column 3: unknown top-level key 'paramters' is ignored (expected objects, \
             parameters or values)",
            "line 2, column 27: object 'A' field 'scriptArgument': the list is empty, so it gives \
             no value (as in the AWS CLI)",
            "line 5, column 14: values entry 'myEmpty': the list is empty, so it gives no value \
             (as in the AWS CLI)",
        ]
    );
}

#[test]
fn byte_order_mark_is_skipped() {
    let parsed = parse_definition_file("\u{feff}{\"objects\": [{\"id\": \"A\"}]}").unwrap();
    assert_eq!(parsed.definition.pipeline_objects[0].id, "A");
}

#[test]
fn json_syntax_errors_give_line_and_column() {
    let cases = [
        (
            "{\n  \"objects\": [\n    {\"id\": \"A\"}\n    {\"id\": \"B\"}\n  ]\n}",
            "pipeline definition: line 4, column 5: expected `,` or `]`",
        ),
        (
            "{\"objects\": [],}",
            "pipeline definition: line 1, column 16: trailing comma",
        ),
        (
            "",
            "pipeline definition: line 1, column 0: EOF while parsing a value",
        ),
        (
            "{\"objects\": []} {}",
            "pipeline definition: line 1, column 17: trailing characters",
        ),
        (
            "{\n  \"objects\": [\n    {\"id\": 'A'}\n  ]\n}",
            "pipeline definition: line 3, column 12: expected value",
        ),
        (
            "{\"objects\": [{\"id\": \"A\", \"command\": \"a\tb\"}]}",
            "pipeline definition: line 1, column 39: control character (\\u0000-\\u001F) found \
             while parsing a string",
        ),
    ];
    for (text, expected) in cases {
        assert_eq!(error(text), expected, "{text}");
    }
    let Err(FileError::Json {
        document,
        line,
        column,
        ..
    }) = parse_definition_file("{\n\n  x")
    else {
        panic!("expected a JSON error");
    };
    assert_eq!(
        (document, line, column),
        (Document::PipelineDefinition, 3, 3)
    );
}

#[test]
fn structure_errors_name_the_element() {
    let cases = [
        (
            "[]",
            "pipeline definition: line 1, column 1: the top level must be a JSON object with key \
             \"objects\", got a list",
        ),
        (
            "{\"values\": {}}",
            "pipeline definition: missing \"objects\" key",
        ),
        (
            "{\"objects\": {\"id\": \"A\"}}",
            "pipeline definition: line 1, column 2: \"objects\" must be a list, got an object \
             with key \"id\"",
        ),
        (
            "{\"objects\": [\"A\"]}",
            "pipeline definition: line 1, column 14: objects[0] must be a JSON object, got a \
             string",
        ),
        (
            "{\"objects\": [\n  {\"id\": \"A\"},\n  {\"name\": \"B\", \"type\": \"Schedule\"}\n]}",
            "pipeline definition: line 3, column 3: missing \"id\" key of element objects[1]: \
             {\"name\":\"B\",\"type\":\"Schedule\"}",
        ),
        (
            "{\"objects\": [{\"id\": 7}]}",
            "pipeline definition: line 1, column 15: objects[0]: \"id\" must be a string, got the \
             number 7 (write \"7\")",
        ),
        (
            "{\"objects\": [], \"parameters\": {\"id\": \"myP\"}}",
            "pipeline definition: line 1, column 17: \"parameters\" must be a list, got an object \
             with key \"id\"",
        ),
        (
            "{\"objects\": [], \"parameters\": [{\"type\": \"String\"}]}",
            "pipeline definition: line 1, column 32: missing \"id\" key of element parameters[0]: \
             {\"type\":\"String\"}",
        ),
        (
            "{\"objects\": [], \"values\": [\"a\"]}",
            "pipeline definition: line 1, column 17: \"values\" must be a JSON object mapping \
             parameter ids to values, got a list",
        ),
    ];
    for (text, expected) in cases {
        assert_eq!(error(text), expected, "{text}");
    }
}

#[test]
fn a_long_element_is_cut_short_in_the_missing_id_error() {
    let sql = "x".repeat(500);
    let text = format!("{{\"objects\": [{{\"type\": \"SqlActivity\", \"script\": \"{sql}\"}}]}}");
    let message = error(&text);
    assert!(message.ends_with("xxx..."), "{message}");
    assert!(message.len() < 250, "{message}");
}

#[test]
fn wrong_value_types_name_the_object_and_field() {
    let object = |field: &str| format!("{{\"objects\": [{{\"id\": \"CopyData\",\n  {field}}}]}}");
    let cases = [
        (
            object("\"maximumRetries\": 3"),
            "pipeline definition: line 2, column 3: object 'CopyData' field 'maximumRetries': \
             expected a string, got the number 3 (write \"3\")",
        ),
        (
            object("\"ratio\": 1.5"),
            "pipeline definition: line 2, column 3: object 'CopyData' field 'ratio': expected a \
             string, got the number 1.5 (write \"1.5\")",
        ),
        (
            object("\"enabled\": true"),
            "pipeline definition: line 2, column 3: object 'CopyData' field 'enabled': expected \
             a string, got the boolean true (write \"true\")",
        ),
        (
            object("\"input\": null"),
            "pipeline definition: line 2, column 3: object 'CopyData' field 'input': expected a \
             string, got null",
        ),
        (
            object("\"name\": 5"),
            "pipeline definition: line 2, column 3: object 'CopyData' field 'name': expected a \
             string, got the number 5 (write \"5\")",
        ),
        (
            object("\"input\": {\"id\": \"X\"}"),
            "pipeline definition: line 2, column 3: object 'CopyData' field 'input': expected a \
             string or a {\"ref\": \"<id>\"} reference, got an object with key \"id\"",
        ),
        (
            object("\"input\": {}"),
            "pipeline definition: line 2, column 3: object 'CopyData' field 'input': expected a \
             string or a {\"ref\": \"<id>\"} reference, got an empty object",
        ),
        (
            object("\"input\": {\"ref\": \"X\", \"note\": \"y\"}"),
            "pipeline definition: line 2, column 3: object 'CopyData' field 'input': a reference \
             must have \"ref\" as its only key, got an object with keys \"ref\", \"note\"",
        ),
        (
            object("\"input\": {\"ref\": 12}"),
            "pipeline definition: line 2, column 13: object 'CopyData' field 'input': \"ref\" \
             must be a string object id, got the number 12 (write \"12\")",
        ),
        (
            object("\"input\": {\"ref\": [\"X\"]}"),
            "pipeline definition: line 2, column 13: object 'CopyData' field 'input': \"ref\" \
             must be a string object id, got a list",
        ),
        (
            object("\"scriptArgument\": [\"a\", 2, \"c\"]"),
            "pipeline definition: line 2, column 27: object 'CopyData' field 'scriptArgument': \
             item 2 of 3: expected a string, got the number 2 (write \"2\")",
        ),
        (
            object("\"scriptArgument\": [[\"a\"]]"),
            "pipeline definition: line 2, column 22: object 'CopyData' field 'scriptArgument': \
             item 1 of 1: expected a string or a {\"ref\": \"<id>\"} reference, got a list \
             (lists do not nest)",
        ),
        (
            object("\"dependsOn\": [{\"ref\": \"A\"}, {\"ref\": false}]"),
            "pipeline definition: line 2, column 32: object 'CopyData' field 'dependsOn': item 2 \
             of 2: \"ref\" must be a string object id, got the boolean false (write \"false\")",
        ),
    ];
    for (text, expected) in &cases {
        assert_eq!(&error(text), expected, "{text}");
    }
}

#[test]
fn wrong_parameter_and_value_types_name_the_parameter() {
    let cases = [
        (
            "{\"objects\": [], \"parameters\": [{\"id\": \"myP\", \"optional\": true}]}",
            "pipeline definition: line 1, column 46: parameter 'myP' attribute 'optional': \
             expected a string, got the boolean true (write \"true\")",
        ),
        (
            "{\"objects\": [], \"parameters\": [{\"id\": \"myP\", \"default\": {\"ref\": \"A\"}}]}",
            "pipeline definition: line 1, column 46: parameter 'myP' attribute 'default': \
             expected a string, got an object with key \"ref\" (parameter attributes hold only \
             strings)",
        ),
        (
            "{\"objects\": [], \"parameters\": [{\"id\": \"myP\", \"allowedValues\": [\"1\", 2]}]}",
            "pipeline definition: line 1, column 69: parameter 'myP' attribute 'allowedValues': \
             item 2 of 2: expected a string, got the number 2 (write \"2\")",
        ),
        (
            "{\"objects\": [], \"values\": {\"myP\": 10}}",
            "pipeline definition: line 1, column 28: values entry 'myP': expected a string, got \
             the number 10 (write \"10\")",
        ),
        (
            "{\"objects\": [], \"values\": {\"myP\": {\"a\": \"b\"}}}",
            "pipeline definition: line 1, column 28: values entry 'myP': expected a string or a \
             list of strings, got an object with key \"a\"",
        ),
        (
            "{\"objects\": [], \"values\": {\"myP\": [\"a\", [\"b\"]]}}",
            "pipeline definition: line 1, column 41: values entry 'myP': item 2 of 2: expected a \
             string, got a list (lists do not nest)",
        ),
    ];
    for (text, expected) in cases {
        assert_eq!(error(text), expected, "{text}");
    }
}

#[test]
fn value_errors_carry_their_parts() {
    let err = parse_definition_file("{\"objects\": [{\"id\": \"A\", \"x\": 1}]}").unwrap_err();
    assert_eq!(
        err,
        FileError::Value {
            document: Document::PipelineDefinition,
            section: Section::Objects,
            object: "A".into(),
            field: "x".into(),
            position: Some(Position {
                line: 1,
                column: 26
            }),
            message: "expected a string, got the number 1 (write \"1\")".into(),
        }
    );
}

const DAILY_COPY: &str = r##"{
  "objects": [
    {
      "id": "Default",
      "name": "Default",
      "failureAndRerunMode": "CASCADE",
      "pipelineLogUri": "s3://my-logs/copy/",
      "resourceRole": "DataPipelineDefaultResourceRole",
      "role": "DataPipelineDefaultRole",
      "schedule": {"ref": "DailySchedule"},
      "scheduleType": "cron"
    },
    {
      "id": "DailySchedule",
      "name": "Every day",
      "period": "1 day",
      "startAt": "FIRST_ACTIVATION_DATE_TIME",
      "type": "Schedule"
    },
    {
      "id": "InputFormat",
      "name": "InputFormat",
      "column": ["id INT", "amount DOUBLE"],
      "type": "CSV"
    },
    {
      "id": "Input",
      "name": "Input",
      "dataFormat": {"ref": "InputFormat"},
      "directoryPath": "#{myInputS3Loc}/#{format(@scheduledStartTime, 'YYYY-MM-dd')}",
      "type": "S3DataNode"
    },
    {
      "id": "Warehouse",
      "name": "Warehouse",
      "*password": "#{*myDbPassword}",
      "connectionString": "jdbc:postgresql://db.example.com:5432/sales",
      "jdbcDriverClass": "org.postgresql.Driver",
      "type": "JdbcDatabase",
      "username": "loader"
    },
    {
      "id": "Output",
      "name": "Output",
      "database": {"ref": "Warehouse"},
      "insertQuery": "INSERT INTO orders (id, amount) VALUES (?, ?)",
      "table": "orders",
      "type": "SqlDataNode"
    },
    {
      "id": "CopyData",
      "name": "CopyData",
      "input": {"ref": "Input"},
      "maximumRetries": "2",
      "onFail": {"ref": "FailureAlarm"},
      "output": {"ref": "Output"},
      "runsOn": {"ref": "Ec2Instance"},
      "type": "CopyActivity"
    },
    {
      "id": "Ec2Instance",
      "name": "Ec2Instance",
      "instanceType": "t1.micro",
      "terminateAfter": "1 Hour",
      "type": "Ec2Resource"
    },
    {
      "id": "FailureAlarm",
      "name": "FailureAlarm",
      "message": "Copy #{node.@scheduledStartTime} failed: #{node.errorMessage}",
      "role": "DataPipelineDefaultRole",
      "subject": "Daily copy failed",
      "topicArn": "#{mySnsTopic}",
      "type": "SnsAlarm"
    }
  ],
  "parameters": [
    {
      "id": "myInputS3Loc",
      "description": "Input S3 folder",
      "type": "AWS::S3::ObjectKey"
    },
    {
      "id": "*myDbPassword",
      "description": "Database password",
      "type": "String"
    },
    {
      "id": "mySnsTopic",
      "allowedValues": ["arn:aws:sns:us-east-1:123456789012:ops", "arn:aws:sns:us-east-1:123456789012:dev"],
      "default": "arn:aws:sns:us-east-1:123456789012:ops",
      "description": "Where failures go",
      "optional": "true"
    }
  ],
  "values": {
    "myInputS3Loc": "s3://my-bucket/orders",
    "*myDbPassword": "hunter2"
  }
}"##;

#[test]
fn realistic_definition_api_form() {
    let parsed = parse_definition_file(DAILY_COPY).unwrap();
    assert_eq!(parsed.warnings, Vec::<String>::new());
    insta::assert_json_snapshot!(parsed.definition, @r##"
    {
      "pipelineObjects": [
        {
          "id": "Default",
          "name": "Default",
          "fields": [
            {
              "key": "failureAndRerunMode",
              "stringValue": "CASCADE"
            },
            {
              "key": "pipelineLogUri",
              "stringValue": "s3://my-logs/copy/"
            },
            {
              "key": "resourceRole",
              "stringValue": "DataPipelineDefaultResourceRole"
            },
            {
              "key": "role",
              "stringValue": "DataPipelineDefaultRole"
            },
            {
              "key": "schedule",
              "refValue": "DailySchedule"
            },
            {
              "key": "scheduleType",
              "stringValue": "cron"
            }
          ]
        },
        {
          "id": "DailySchedule",
          "name": "Every day",
          "fields": [
            {
              "key": "period",
              "stringValue": "1 day"
            },
            {
              "key": "startAt",
              "stringValue": "FIRST_ACTIVATION_DATE_TIME"
            },
            {
              "key": "type",
              "stringValue": "Schedule"
            }
          ]
        },
        {
          "id": "InputFormat",
          "name": "InputFormat",
          "fields": [
            {
              "key": "column",
              "stringValue": "id INT"
            },
            {
              "key": "column",
              "stringValue": "amount DOUBLE"
            },
            {
              "key": "type",
              "stringValue": "CSV"
            }
          ]
        },
        {
          "id": "Input",
          "name": "Input",
          "fields": [
            {
              "key": "dataFormat",
              "refValue": "InputFormat"
            },
            {
              "key": "directoryPath",
              "stringValue": "#{myInputS3Loc}/#{format(@scheduledStartTime, 'YYYY-MM-dd')}"
            },
            {
              "key": "type",
              "stringValue": "S3DataNode"
            }
          ]
        },
        {
          "id": "Warehouse",
          "name": "Warehouse",
          "fields": [
            {
              "key": "*password",
              "stringValue": "#{*myDbPassword}"
            },
            {
              "key": "connectionString",
              "stringValue": "jdbc:postgresql://db.example.com:5432/sales"
            },
            {
              "key": "jdbcDriverClass",
              "stringValue": "org.postgresql.Driver"
            },
            {
              "key": "type",
              "stringValue": "JdbcDatabase"
            },
            {
              "key": "username",
              "stringValue": "loader"
            }
          ]
        },
        {
          "id": "Output",
          "name": "Output",
          "fields": [
            {
              "key": "database",
              "refValue": "Warehouse"
            },
            {
              "key": "insertQuery",
              "stringValue": "INSERT INTO orders (id, amount) VALUES (?, ?)"
            },
            {
              "key": "table",
              "stringValue": "orders"
            },
            {
              "key": "type",
              "stringValue": "SqlDataNode"
            }
          ]
        },
        {
          "id": "CopyData",
          "name": "CopyData",
          "fields": [
            {
              "key": "input",
              "refValue": "Input"
            },
            {
              "key": "maximumRetries",
              "stringValue": "2"
            },
            {
              "key": "onFail",
              "refValue": "FailureAlarm"
            },
            {
              "key": "output",
              "refValue": "Output"
            },
            {
              "key": "runsOn",
              "refValue": "Ec2Instance"
            },
            {
              "key": "type",
              "stringValue": "CopyActivity"
            }
          ]
        },
        {
          "id": "Ec2Instance",
          "name": "Ec2Instance",
          "fields": [
            {
              "key": "instanceType",
              "stringValue": "t1.micro"
            },
            {
              "key": "terminateAfter",
              "stringValue": "1 Hour"
            },
            {
              "key": "type",
              "stringValue": "Ec2Resource"
            }
          ]
        },
        {
          "id": "FailureAlarm",
          "name": "FailureAlarm",
          "fields": [
            {
              "key": "message",
              "stringValue": "Copy #{node.@scheduledStartTime} failed: #{node.errorMessage}"
            },
            {
              "key": "role",
              "stringValue": "DataPipelineDefaultRole"
            },
            {
              "key": "subject",
              "stringValue": "Daily copy failed"
            },
            {
              "key": "topicArn",
              "stringValue": "#{mySnsTopic}"
            },
            {
              "key": "type",
              "stringValue": "SnsAlarm"
            }
          ]
        }
      ],
      "parameterObjects": [
        {
          "id": "myInputS3Loc",
          "attributes": [
            {
              "key": "description",
              "stringValue": "Input S3 folder"
            },
            {
              "key": "type",
              "stringValue": "AWS::S3::ObjectKey"
            }
          ]
        },
        {
          "id": "*myDbPassword",
          "attributes": [
            {
              "key": "description",
              "stringValue": "Database password"
            },
            {
              "key": "type",
              "stringValue": "String"
            }
          ]
        },
        {
          "id": "mySnsTopic",
          "attributes": [
            {
              "key": "allowedValues",
              "stringValue": "arn:aws:sns:us-east-1:123456789012:ops"
            },
            {
              "key": "allowedValues",
              "stringValue": "arn:aws:sns:us-east-1:123456789012:dev"
            },
            {
              "key": "default",
              "stringValue": "arn:aws:sns:us-east-1:123456789012:ops"
            },
            {
              "key": "description",
              "stringValue": "Where failures go"
            },
            {
              "key": "optional",
              "stringValue": "true"
            }
          ]
        }
      ],
      "parameterValues": [
        {
          "id": "myInputS3Loc",
          "stringValue": "s3://my-bucket/orders"
        },
        {
          "id": "*myDbPassword",
          "stringValue": "hunter2"
        }
      ]
    }
    "##);
}

#[test]
fn realistic_definition_round_trips_to_the_same_text() {
    let parsed = parse_definition_file(DAILY_COPY).unwrap();
    let file = to_definition_file(&parsed.definition);
    let original: Value = serde_json::from_str(DAILY_COPY).unwrap();
    // Compared as text: serde_json's map equality ignores key order, which matters here.
    assert_eq!(file.to_string(), original.to_string());
    assert_eq!(parse_definition_file(&file.to_string()).unwrap(), parsed);
}

#[test]
fn to_file_aggregates_repeated_keys_at_their_first_position() {
    let def = PipelineDefinition {
        pipeline_objects: vec![PipelineObject {
            id: "A".into(),
            name: "Step runner".into(),
            fields: vec![
                Field::string("step", "one"),
                Field::reference("dependsOn", "X"),
                Field::string("step", "two"),
                Field::string("step", "three"),
                Field::reference("dependsOn", "Y"),
            ],
        }],
        parameter_objects: serde_json::from_value(json!([{"id": "myP", "attributes": [
            {"key": "allowedValues", "stringValue": "a"},
            {"key": "type", "stringValue": "String"},
            {"key": "allowedValues", "stringValue": "b"},
        ]}]))
        .unwrap(),
        parameter_values: serde_json::from_value(json!([
            {"id": "myList", "stringValue": "1"},
            {"id": "myP", "stringValue": "a"},
            {"id": "myList", "stringValue": "2"},
        ]))
        .unwrap(),
    };
    let expected = json!({
        "objects": [{"id": "A", "name": "Step runner",
                     "step": ["one", "two", "three"],
                     "dependsOn": [{"ref": "X"}, {"ref": "Y"}]}],
        "parameters": [{"id": "myP", "allowedValues": ["a", "b"], "type": "String"}],
        "values": {"myList": ["1", "2"], "myP": "a"},
    });
    assert_eq!(to_definition_file(&def).to_string(), expected.to_string());
}

#[test]
fn to_file_leaves_out_empty_parameters_and_values() {
    let def = PipelineDefinition {
        pipeline_objects: vec![PipelineObject {
            id: "A".into(),
            name: "A".into(),
            fields: vec![],
        }],
        ..PipelineDefinition::default()
    };
    assert_eq!(
        to_definition_file(&def),
        json!({"objects": [{"id": "A", "name": "A"}]})
    );
}

#[test]
fn to_file_follows_the_cli_when_a_field_is_called_name() {
    let def = PipelineDefinition {
        pipeline_objects: vec![PipelineObject {
            id: "A".into(),
            name: "A".into(),
            fields: vec![Field::string("name", "B")],
        }],
        ..PipelineDefinition::default()
    };
    assert_eq!(
        to_definition_file(&def),
        json!({"objects": [{"id": "A", "name": ["A", "B"]}]})
    );
}

const API_FORM: &str = r#"{
  "pipelineObjects": [
    {"id": "Default", "name": "Default", "fields": [
      {"key": "scheduleType", "stringValue": "ondemand"},
      {"key": "role", "stringValue": "DataPipelineDefaultRole"}
    ]},
    {"id": "Hello", "name": "Hello", "fields": [
      {"key": "type", "stringValue": "ShellCommandActivity"},
      {"key": "command", "stringValue": "echo #{myGreeting}"},
      {"key": "runsOn", "refValue": "Box"}
    ]}
  ],
  "parameterObjects": [{"id": "myGreeting", "attributes": [{"key": "type", "stringValue": "String"}]}],
  "parameterValues": [{"id": "myGreeting", "stringValue": "hi"}]
}"#;

#[test]
fn api_form_is_read_as_is() {
    let def = parse_api_definition(API_FORM).unwrap();
    assert_eq!(def.pipeline_objects.len(), 2);
    // The API form keeps field order; nothing is sorted.
    assert_eq!(
        def.pipeline_objects[1].fields[2],
        Field::reference("runsOn", "Box")
    );
    assert_eq!(def.parameter_values[0].string_value, "hi");
}

#[test]
fn api_form_errors_give_line_and_column() {
    let text = "{\"pipelineObjects\": [\n  {\"id\": \"A\", \"name\": \"A\", \"fields\": [{\"key\": \"k\"}]}\n]}";
    assert_eq!(
        parse_api_definition(text).unwrap_err().to_string(),
        "pipeline definition: line 2, column 51: field 'k' has neither stringValue nor refValue"
    );
    assert_eq!(
        parse_api_definition("{\"pipelineObjects\": [{\"id\": \"A\"}]}")
            .unwrap_err()
            .to_string(),
        "pipeline definition: line 1, column 32: missing field `name`"
    );
}

#[test]
fn any_form_is_told_apart_by_its_top_level_key() {
    let from_api = parse_any_definition(API_FORM).unwrap();
    assert_eq!(from_api.definition, parse_api_definition(API_FORM).unwrap());
    assert_eq!(from_api.warnings, Vec::<String>::new());

    let file = to_definition_file(&from_api.definition).to_string();
    let from_file = parse_any_definition(&file).unwrap();
    assert_eq!(from_file, parse_definition_file(&file).unwrap());

    let both = r#"{"objects": [], "pipelineObjects": []}"#;
    assert_eq!(
        parse_any_definition(both).unwrap_err().to_string(),
        "pipeline definition: line 1, column 17: the document has both \"objects\" (file form) \
         and \"pipelineObjects\" (API form); keep one"
    );
    assert_eq!(
        parse_any_definition("{}").unwrap_err().to_string(),
        "pipeline definition: missing \"objects\" key"
    );
}

#[test]
fn any_form_warns_about_repeated_keys_in_the_api_form() {
    let text = r#"{"pipelineObjects": [{"id": "A", "name": "A", "name": "B", "fields": []}]}"#;
    let parsed = parse_any_definition(text).unwrap();
    assert_eq!(parsed.definition.pipeline_objects[0].name, "B");
    assert_eq!(
        parsed.warnings,
        [
            "line 1, column 47: JSON object: duplicate key 'name' (first at line 1); the last value \
          is used, as the AWS CLI does (give a list to keep several values)"
        ]
    );
}

#[test]
fn api_form_with_repeated_keys_keeps_the_last_and_still_checks_shapes() {
    let text = r#"{"pipelineObjects": [{"id": "A", "id": "B", "name": "A", "fields": []}]}"#;
    assert_eq!(
        parse_api_definition(text).unwrap().pipeline_objects[0].id,
        "B"
    );
    let text = r#"{"pipelineObjects": [{"id": "A", "id": "B", "fields": []}]}"#;
    assert_eq!(
        parse_api_definition(text).unwrap_err().to_string(),
        "pipeline definition: missing field `name`"
    );
}

#[test]
fn positions_skip_leading_whitespace_and_long_key_lists_are_cut() {
    assert_eq!(
        error("\n\n  [1]"),
        "pipeline definition: line 3, column 3: the top level must be a JSON object with key \
         \"objects\", got a list"
    );
    let text = r#"{"objects": [{"id": "A", "x": {"a": "", "b": "", "c": "", "d": "", "e": "", "f": ""}}]}"#;
    assert_eq!(
        error(text),
        "pipeline definition: line 1, column 26: object 'A' field 'x': expected a string or a \
         {\"ref\": \"<id>\"} reference, got an object with keys \"a\", \"b\", \"c\", \"d\", \"e\", ..."
    );
}
