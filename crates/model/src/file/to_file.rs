//! API form → file form, as the AWS CLI's `api_to_definition` prints GetPipelineDefinition.

use serde_json::{Map, Value};

use crate::api::{FieldValue, PipelineDefinition};

/// Renders a definition in file form: `objects` (each `id`, `name`, then its fields in stored
/// order), then `parameters` (`id`, then attributes) and `values`, the last two left out when
/// empty.
///
/// A string field becomes a string, a reference `{"ref": id}`. A key that repeats becomes a list
/// at the position of its first occurrence, as in the AWS CLI; for the same reason a field that
/// is itself called `id` or `name` joins the object's id or name into a list, which the file
/// reader then refuses. Parsing the result with
/// [`parse_definition_file`](super::parse_definition_file) gives back the same definition
/// whenever each object's fields are grouped by key, in key order (which that reader always
/// produces).
pub fn to_definition_file(def: &PipelineDefinition) -> Value {
    let mut file = Map::new();
    let objects = def
        .pipeline_objects
        .iter()
        .map(|object| {
            let mut map = Map::new();
            map.insert("id".to_owned(), Value::String(object.id.clone()));
            map.insert("name".to_owned(), Value::String(object.name.clone()));
            for field in &object.fields {
                let value = match &field.value {
                    FieldValue::String(s) => Value::String(s.clone()),
                    FieldValue::Ref(id) => reference(id),
                };
                add_value(&mut map, &field.key, value);
            }
            Value::Object(map)
        })
        .collect();
    file.insert("objects".to_owned(), Value::Array(objects));

    if !def.parameter_objects.is_empty() {
        let parameters = def
            .parameter_objects
            .iter()
            .map(|parameter| {
                let mut map = Map::new();
                map.insert("id".to_owned(), Value::String(parameter.id.clone()));
                for attribute in &parameter.attributes {
                    add_value(
                        &mut map,
                        &attribute.key,
                        Value::String(attribute.string_value.clone()),
                    );
                }
                Value::Object(map)
            })
            .collect();
        file.insert("parameters".to_owned(), Value::Array(parameters));
    }

    if !def.parameter_values.is_empty() {
        let mut values = Map::new();
        for value in &def.parameter_values {
            add_value(
                &mut values,
                &value.id,
                Value::String(value.string_value.clone()),
            );
        }
        file.insert("values".to_owned(), Value::Object(values));
    }
    Value::Object(file)
}

fn reference(id: &str) -> Value {
    let mut map = Map::new();
    map.insert("ref".to_owned(), Value::String(id.to_owned()));
    Value::Object(map)
}

/// The CLI's `_add_value`: first value scalar, second turns it into a list, later ones append.
fn add_value(map: &mut Map<String, Value>, key: &str, value: Value) {
    match map.get_mut(key) {
        None => {
            map.insert(key.to_owned(), value);
        }
        Some(Value::Array(list)) => list.push(value),
        Some(existing) => {
            let first = existing.take();
            *existing = Value::Array(vec![first, value]);
        }
    }
}
