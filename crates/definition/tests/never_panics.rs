//! Validation, resolution and the expression context never panic, whatever the definition.

use proptest::prelude::*;
use sluice_catalog::Catalog;
use sluice_definition::{DefinitionContext, Limits, ValidateOptions, load, validate};
use sluice_expr::Context;
use sluice_model::{
    Field, FieldValue, ParameterAttribute, ParameterObject, ParameterValue, PipelineDefinition,
    PipelineObject,
};

const IDS: &[&str] = &["Default", "A", "B", "C", "Sched", "", "my_x", "@x"];
const KEYS: &[&str] = &[
    "type",
    "parent",
    "schedule",
    "scheduleType",
    "period",
    "startDateTime",
    "startAt",
    "endDateTime",
    "occurrences",
    "command",
    "scriptUri",
    "runsOn",
    "workerGroup",
    "dependsOn",
    "input",
    "output",
    "maximumRetries",
    "retryDelay",
    "failureAndRerunMode",
    "directoryPath",
    "filePath",
    "myField",
    "*password",
    "@status",
    "",
    "role",
    "stage",
    "onLateAction",
    "lateAfterTimeout",
    "hostname",
    "table",
];
const STRINGS: &[&str] = &[
    "Schedule",
    "ShellCommandActivity",
    "S3DataNode",
    "CSV",
    "Ec2Resource",
    "Terminate",
    "Default",
    "ondemand",
    "cron",
    "CASCADE",
    "1 day",
    "5 minutes",
    "30 seconds",
    "ONDEMAND_PERIOD",
    "2020-01-01T00:00:00",
    "2030-01-01T00:00:00",
    "not a date",
    "-3",
    "7",
    "true",
    "",
    "#{myP}",
    "#{*myS}",
    "#{",
    "#{format(@scheduledStartTime, 'YYYY')}",
    "#{1 +}",
    "\u{0}",
    "ü#{myP + 1}",
];
const PARAM_KEYS: &[&str] = &[
    "type",
    "optional",
    "default",
    "allowedValues",
    "isArray",
    "watermark",
    "x",
];
const PARAM_VALUES: &[&str] = &[
    "Integer",
    "Double",
    "String",
    "AWS::S3::ObjectKey",
    "true",
    "false",
    "1",
    "s3://b",
    "x",
];

fn field() -> impl Strategy<Value = Field> {
    (
        prop::sample::select(KEYS),
        any::<bool>(),
        prop::sample::select(STRINGS),
        prop::sample::select(IDS),
    )
        .prop_map(|(key, is_ref, s, id)| Field {
            key: key.to_owned(),
            value: if is_ref {
                FieldValue::Ref(id.to_owned())
            } else {
                FieldValue::String(s.to_owned())
            },
        })
}

fn object() -> impl Strategy<Value = PipelineObject> {
    (
        prop::sample::select(IDS),
        prop::collection::vec(field(), 0..8),
    )
        .prop_map(|(id, fields)| PipelineObject {
            id: id.to_owned(),
            name: id.to_owned(),
            fields,
        })
}

fn parameter() -> impl Strategy<Value = ParameterObject> {
    (
        prop::sample::select(&["myP", "*myS", "user", ""][..]),
        prop::collection::vec(
            (
                prop::sample::select(PARAM_KEYS),
                prop::sample::select(PARAM_VALUES),
            ),
            0..5,
        ),
    )
        .prop_map(|(id, attrs)| ParameterObject {
            id: id.to_owned(),
            attributes: attrs
                .into_iter()
                .map(|(k, v)| ParameterAttribute {
                    key: k.to_owned(),
                    string_value: v.to_owned(),
                })
                .collect(),
        })
}

fn definition() -> impl Strategy<Value = PipelineDefinition> {
    (
        prop::collection::vec(object(), 0..10),
        prop::collection::vec(parameter(), 0..4),
        prop::collection::vec(
            (
                prop::sample::select(&["myP", "*myS", "myQ"][..]),
                prop::sample::select(PARAM_VALUES),
            ),
            0..4,
        ),
    )
        .prop_map(|(objects, params, values)| PipelineDefinition {
            pipeline_objects: objects,
            parameter_objects: params,
            parameter_values: values
                .into_iter()
                .map(|(id, v)| ParameterValue {
                    id: id.to_owned(),
                    string_value: v.to_owned(),
                })
                .collect(),
        })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn validate_never_panics_and_is_deterministic(def in definition(), strict in any::<bool>()) {
        let catalog = Catalog::builtin();
        let limits = if strict { Limits::strict() } else { Limits::default() };
        let options = ValidateOptions { now: sluice_model::time::parse_datetime("2026-06-01T00:00:00").ok() };
        let report = validate(&def, &catalog, &limits, &options);
        prop_assert_eq!(&validate(&def, &catalog, &limits, &options), &report);
        // Every message has the CODE: text shape.
        for (_, message) in report.error_messages().chain(report.warning_messages()) {
            let code = message.split(':').next().unwrap_or_default();
            prop_assert!(!code.is_empty() && code.chars().all(|c| c.is_ascii_uppercase() || c == '_'), "{}", message);
        }
        match load(&def, &catalog, &limits, &options) {
            Ok((pipeline, loaded)) => {
                prop_assert!(!loaded.errored());
                for object in &pipeline.objects {
                    let ctx = DefinitionContext::new(&pipeline, &catalog, object.id.clone());
                    for key in KEYS {
                        let _ = ctx.lookup(&object.id, key);
                    }
                }
            }
            Err(failed) => prop_assert!(failed.errored()),
        }
    }
}
