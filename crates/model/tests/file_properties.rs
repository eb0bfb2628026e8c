//! Properties of the file translation over generated definitions and arbitrary input.

use std::collections::BTreeMap;

use proptest::prelude::*;
use serde_json::{Map, Value, json};
use sluice_model::file::{
    parse_any_definition, parse_api_definition, parse_definition_file, parse_parameter_values_file,
    to_definition_file,
};
use sluice_model::{
    Field, FieldValue, ParameterAttribute, ParameterObject, ParameterValue, PipelineDefinition,
    PipelineObject,
};

/// Mostly identifier-like text, sometimes anything (quotes, control characters, non-ASCII).
fn text() -> impl Strategy<Value = String> {
    prop_oneof![4 => "[a-zA-Z@*_#{}. ]{0,8}", 1 => any::<String>()]
}

fn key(reserved: &'static [&'static str]) -> impl Strategy<Value = String> {
    prop_oneof![4 => "[a-zA-Z*@_]{1,8}", 1 => any::<String>()]
        .prop_filter("reserved key", move |k| !reserved.contains(&k.as_str()))
}

fn file_value() -> impl Strategy<Value = Value> {
    prop_oneof![
        text().prop_map(Value::String),
        text().prop_map(|id| json!({"ref": id}))
    ]
}

/// One key's value in normalised form: a scalar, or a list of at least two (a one-item list
/// comes back as a scalar).
fn normalised_value(item: BoxedStrategy<Value>) -> impl Strategy<Value = Value> {
    prop_oneof![
        item.clone(),
        prop::collection::vec(item, 2..4).prop_map(Value::Array)
    ]
}

fn normalised_file() -> impl Strategy<Value = Value> {
    let object = (
        text(),
        text(),
        prop::collection::btree_map(
            key(&["id", "name"]),
            normalised_value(file_value().boxed()),
            0..5,
        ),
    )
        .prop_map(|(id, name, fields)| {
            let mut map = Map::new();
            map.insert("id".into(), Value::String(id));
            map.insert("name".into(), Value::String(name));
            map.extend(fields);
            Value::Object(map)
        });
    let string = text().prop_map(Value::String).boxed();
    let parameter = (
        text(),
        prop::collection::btree_map(key(&["id"]), normalised_value(string.clone()), 0..4),
    )
        .prop_map(|(id, attributes)| {
            let mut map = Map::new();
            map.insert("id".into(), Value::String(id));
            map.extend(attributes);
            Value::Object(map)
        });
    let values = prop::collection::vec((text(), normalised_value(string)), 0..4);
    (
        prop::collection::vec(object, 0..5),
        prop::collection::vec(parameter, 0..3),
        values,
    )
        .prop_map(|(objects, parameters, values)| {
            let mut file = Map::new();
            file.insert("objects".into(), Value::Array(objects));
            if !parameters.is_empty() {
                file.insert("parameters".into(), Value::Array(parameters));
            }
            // A repeated id would be one key in JSON; keep the first, as a map insert would not.
            let mut value_map = Map::new();
            for (id, value) in values {
                value_map.entry(id).or_insert(value);
            }
            if !value_map.is_empty() {
                file.insert("values".into(), Value::Object(value_map));
            }
            Value::Object(file)
        })
}

/// Keys in any order, `name` sometimes missing, lists of any length (empty ones included).
fn loose_file() -> impl Strategy<Value = Value> {
    let any_value = |item: BoxedStrategy<Value>| {
        prop_oneof![
            item.clone(),
            prop::collection::vec(item, 0..4).prop_map(Value::Array)
        ]
    };
    let object = (
        text(),
        prop::option::of(text()),
        prop::collection::vec(
            (key(&["id", "name"]), any_value(file_value().boxed())),
            0..6,
        ),
        any::<bool>(),
    )
        .prop_map(|(id, name, fields, id_last)| {
            let mut map = Map::new();
            if !id_last {
                map.insert("id".into(), Value::String(id.clone()));
            }
            for (k, v) in fields {
                map.insert(k, v);
            }
            if let Some(name) = name {
                map.insert("name".into(), Value::String(name));
            }
            if id_last {
                map.insert("id".into(), Value::String(id));
            }
            Value::Object(map)
        });
    let string = text().prop_map(Value::String).boxed();
    let parameter = (
        text(),
        prop::collection::vec((key(&["id"]), any_value(string.clone())), 0..4),
    )
        .prop_map(|(id, attributes)| {
            let mut map: Map<String, Value> = attributes.into_iter().collect();
            map.insert("id".into(), Value::String(id));
            Value::Object(map)
        });
    (
        prop::collection::vec(object, 0..5),
        prop::collection::vec(parameter, 0..3),
        prop::collection::vec((text(), any_value(string)), 0..4),
        any::<bool>(),
    )
        .prop_map(|(objects, parameters, values, metadata)| {
            let mut file = Map::new();
            if metadata {
                file.insert("metadata".into(), json!({"templateName": "t"}));
            }
            file.insert("values".into(), Value::Object(values.into_iter().collect()));
            file.insert("parameters".into(), Value::Array(parameters));
            file.insert("objects".into(), Value::Array(objects));
            Value::Object(file)
        })
}

fn field_value() -> impl Strategy<Value = FieldValue> {
    prop_oneof![
        text().prop_map(FieldValue::String),
        text().prop_map(FieldValue::Ref)
    ]
}

/// Keys the file form holds beside an element's own `id` and `name`.
const PLAIN_KEYS: &[&str] = &["a", "b", "step", "type", "é"];
const OWN_KEYS: &[&str] = &["id", "name"];

/// Plain keys, and now and then `id` or `name`, which the file form cannot hold beside the
/// element's own.
fn any_key() -> BoxedStrategy<&'static str> {
    prop_oneof![6 => prop::sample::select(PLAIN_KEYS), 1 => prop::sample::select(OWN_KEYS)].boxed()
}

/// API-form definitions with plain keys repeated and interleaved in any order.
fn api_definition() -> impl Strategy<Value = PipelineDefinition> {
    api_definition_with(|| prop::sample::select(PLAIN_KEYS).boxed())
}

/// API-form definitions with keys from `small_key` repeated and interleaved in any order.
fn api_definition_with(
    small_key: impl Fn() -> BoxedStrategy<&'static str>,
) -> impl Strategy<Value = PipelineDefinition> {
    let object = (
        text(),
        text(),
        prop::collection::vec((small_key(), field_value()), 0..8),
    )
        .prop_map(|(id, name, fields)| PipelineObject {
            id,
            name,
            fields: fields
                .into_iter()
                .map(|(key, value)| Field {
                    key: key.to_owned(),
                    value,
                })
                .collect(),
        });
    let parameter = (text(), prop::collection::vec((small_key(), text()), 0..5)).prop_map(
        |(id, attributes)| ParameterObject {
            id,
            attributes: attributes
                .into_iter()
                .map(|(key, string_value)| ParameterAttribute {
                    key: key.to_owned(),
                    string_value,
                })
                .collect(),
        },
    );
    let value = (small_key(), text()).prop_map(|(id, string_value)| ParameterValue {
        id: id.to_owned(),
        string_value,
    });
    (
        prop::collection::vec(object, 0..4),
        prop::collection::vec(parameter, 0..3),
        prop::collection::vec(value, 0..6),
    )
        .prop_map(|(pipeline_objects, parameter_objects, parameter_values)| {
            PipelineDefinition {
                pipeline_objects,
                parameter_objects,
                parameter_values,
            }
        })
}

fn arbitrary_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<f64>().prop_map(Value::from),
        prop_oneof![
            Just("objects"),
            Just("id"),
            Just("ref"),
            Just("values"),
            Just("x")
        ]
        .prop_map(Value::from),
        any::<String>().prop_map(Value::String),
    ];
    leaf.prop_recursive(5, 48, 6, |inner| {
        let key = prop_oneof![
            Just("objects".to_owned()),
            Just("parameters".to_owned()),
            Just("values".to_owned()),
            Just("pipelineObjects".to_owned()),
            Just("id".to_owned()),
            Just("name".to_owned()),
            Just("ref".to_owned()),
            Just("fields".to_owned()),
            any::<String>(),
        ];
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::vec((key, inner), 0..6)
                .prop_map(|entries| Value::Object(entries.into_iter().collect())),
        ]
    })
}

fn json_token_soup() -> impl Strategy<Value = String> {
    let token = prop_oneof![
        Just("{"),
        Just("}"),
        Just("["),
        Just("]"),
        Just(","),
        Just(":"),
        Just("\"objects\""),
        Just("\"id\""),
        Just("\"ref\""),
        Just("\"values\""),
        Just("\"a\""),
        Just("\"\\u00e9\\n\""),
        Just("1"),
        Just("-2.5e3"),
        Just("true"),
        Just("null"),
        Just(" "),
        Just("\n"),
        Just("\u{feff}"),
        Just("é"),
    ];
    prop::collection::vec(token, 0..48).prop_map(|tokens| tokens.concat())
}

/// What `to_definition_file` then `parse_definition_file` should give for an API definition:
/// fields and attributes grouped by key in key order, each key's values in their order, and
/// values grouped by id at the id's first position.
fn normalise(def: &PipelineDefinition) -> PipelineDefinition {
    let mut def = def.clone();
    for object in &mut def.pipeline_objects {
        object.fields.sort_by(|a, b| a.key.cmp(&b.key));
    }
    for parameter in &mut def.parameter_objects {
        parameter.attributes.sort_by(|a, b| a.key.cmp(&b.key));
    }
    let mut groups: Vec<(String, Vec<ParameterValue>)> = Vec::new();
    for value in def.parameter_values.drain(..) {
        match groups.iter_mut().find(|(id, _)| *id == value.id) {
            Some((_, group)) => group.push(value),
            None => groups.push((value.id.clone(), vec![value])),
        }
    }
    def.parameter_values = groups.into_iter().flat_map(|(_, group)| group).collect();
    def
}

/// The key of an object field called `id` or `name`, or of a parameter attribute called `id`.
fn colliding_key(def: &PipelineDefinition) -> Option<&str> {
    let fields = def.pipeline_objects.iter().flat_map(|o| &o.fields);
    let attributes = def.parameter_objects.iter().flat_map(|p| &p.attributes);
    fields
        .map(|f| f.key.as_str())
        .filter(|k| *k == "id" || *k == "name")
        .chain(attributes.map(|a| a.key.as_str()).filter(|k| *k == "id"))
        .next()
}

fn check_no_panic(text: &str) {
    let _ = parse_definition_file(text);
    let _ = parse_any_definition(text);
    let _ = parse_api_definition(text);
    let _ = parse_parameter_values_file(text);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn normalised_file_prints_back_unchanged(file in normalised_file()) {
        let text = file.to_string();
        let parsed = parse_definition_file(&text).unwrap();
        prop_assert_eq!(parsed.warnings.len(), 0);
        // As text: serde_json's map equality ignores key order.
        prop_assert_eq!(to_definition_file(&parsed.definition).to_string(), text);
    }

    #[test]
    fn put_then_get_gives_back_the_same_objects(file in loose_file()) {
        let first = parse_definition_file(&file.to_string()).unwrap();
        let printed = to_definition_file(&first.definition).to_string();
        let second = parse_definition_file(&printed).unwrap();
        prop_assert_eq!(second.definition, first.definition);
        prop_assert_eq!(second.warnings.len(), 0);
    }

    #[test]
    fn api_definitions_come_back_grouped_by_key(def in api_definition()) {
        let printed = to_definition_file(&def).to_string();
        let parsed = parse_definition_file(&printed).unwrap();
        prop_assert_eq!(parsed.definition, normalise(&def));
        let as_api = serde_json::to_string(&def).unwrap();
        prop_assert_eq!(parse_api_definition(&as_api).unwrap(), def.clone());
        prop_assert_eq!(parse_any_definition(&as_api).unwrap().definition, def);
    }

    /// What the definition_reader fuzz target asserts, over definitions it would take long to
    /// find: an API-form document read, written as a file and read again.
    #[test]
    fn api_documents_read_back_from_the_file_form_unless_a_key_collides(def in api_definition_with(any_key)) {
        let parsed = parse_any_definition(&serde_json::to_string(&def).unwrap()).unwrap();
        prop_assert_eq!(&parsed.definition, &def);
        let printed = to_definition_file(&parsed.definition).to_string();
        let reread = parse_definition_file(&printed);
        if colliding_key(&def).is_some() {
            prop_assert!(reread.is_err(), "{}", printed);
        } else {
            let reread = reread.unwrap();
            prop_assert_eq!(reread.warnings.len(), 0);
            prop_assert_eq!(reread.definition, normalise(&def));
        }
    }

    #[test]
    fn arbitrary_strings_never_panic(text in any::<String>()) {
        check_no_panic(&text);
    }

    #[test]
    fn json_like_strings_never_panic(text in json_token_soup()) {
        check_no_panic(&text);
    }

    #[test]
    fn arbitrary_json_never_panics_and_accepted_input_round_trips(value in arbitrary_json()) {
        let wrapped = json!({"objects": [value.clone()], "parameters": [value.clone()], "values": value.clone()});
        for text in [value.to_string(), serde_json::to_string_pretty(&value).unwrap(), wrapped.to_string()] {
            check_no_panic(&text);
            if let Ok(parsed) = parse_definition_file(&text) {
                let printed = to_definition_file(&parsed.definition).to_string();
                prop_assert_eq!(parse_definition_file(&printed).unwrap().definition, parsed.definition);
            }
        }
    }
}

#[test]
fn deep_nesting_is_an_error_not_a_crash() {
    for open in ["[", "{\"a\":"] {
        let text = format!(
            "{{\"objects\": [{{\"id\": \"A\", \"x\": {}",
            open.repeat(100_000)
        );
        let message = parse_definition_file(&text).unwrap_err().to_string();
        assert!(message.contains("recursion limit exceeded"), "{message}");
    }
}

#[test]
fn large_objects_parse_in_reasonable_time() {
    let fields: BTreeMap<String, Value> = (0..50_000)
        .map(|i| (format!("k{i}"), Value::String(i.to_string())))
        .collect();
    let mut object = Map::new();
    object.insert("id".into(), json!("A"));
    object.extend(fields);
    let text = json!({"objects": [object]}).to_string();
    let parsed = parse_definition_file(&text).unwrap();
    assert_eq!(parsed.definition.pipeline_objects[0].fields.len(), 50_000);
}
