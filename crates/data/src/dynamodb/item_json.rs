//! Items as DynamoDB's typed JSON, the form of `DynamoDBExportDataFormat` files.
//!
//! An export file holds one item per line, each attribute tagged with its type as in the
//! DynamoDB API: `{"id":{"S":"a1"},"n":{"N":"3"},"tags":{"SS":["x","y"]}}`. Binary values are
//! base64. Writing always uses these API names. Reading also accepts what other exporters
//! wrote: the lower-case names of Data Pipeline's EMR export (`{"s":…}`, `{"n":…}`,
//! `{"bOOL":…}`, `{"nULLValue":…}`, `{"sS":…}`) and the `{"Item":{…}}` wrapper of DynamoDB's
//! own export to S3.

use std::collections::HashMap;

use aws_sdk_dynamodb::primitives::Blob;
use aws_sdk_dynamodb::types::AttributeValue;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use serde_json::{Map, Value};

use super::Item;

/// One item as a typed JSON object.
pub fn item_to_json(item: &Item) -> Value {
    let mut names: Vec<&String> = item.keys().collect();
    // Sorted names make export files reproducible (a HashMap has no stable order).
    names.sort();
    let map: Map<String, Value> = names
        .into_iter()
        .map(|name| (name.clone(), value_to_json(&item[name])))
        .collect();
    Value::Object(map)
}

/// One line of an export file (without the newline).
pub fn item_to_line(item: &Item) -> String {
    item_to_json(item).to_string()
}

/// Reads one line of an export file. Blank lines are not items; the caller skips them.
pub fn item_from_line(line: &str) -> Result<Item, String> {
    let value: Value = serde_json::from_str(line).map_err(|e| format!("not a JSON object: {e}"))?;
    item_from_json(&value)
}

/// Reads one typed JSON object.
pub fn item_from_json(value: &Value) -> Result<Item, String> {
    let Value::Object(map) = value else {
        return Err("an item must be a JSON object".to_owned());
    };
    let map = match map.get("Item") {
        Some(Value::Object(inner)) if map.len() == 1 => inner,
        _ => map,
    };
    map.iter()
        .map(|(name, v)| {
            value_from_json(v)
                .map(|v| (name.clone(), v))
                .map_err(|e| format!("attribute {name:?}: {e}"))
        })
        .collect()
}

fn value_to_json(value: &AttributeValue) -> Value {
    let (tag, v) = match value {
        AttributeValue::S(s) => ("S", Value::String(s.clone())),
        AttributeValue::N(n) => ("N", Value::String(n.clone())),
        AttributeValue::B(b) => ("B", Value::String(BASE64.encode(b.as_ref()))),
        AttributeValue::Bool(b) => ("BOOL", Value::Bool(*b)),
        AttributeValue::Null(b) => ("NULL", Value::Bool(*b)),
        AttributeValue::Ss(v) => ("SS", strings(v)),
        AttributeValue::Ns(v) => ("NS", strings(v)),
        AttributeValue::Bs(v) => (
            "BS",
            Value::Array(
                v.iter()
                    .map(|b| Value::String(BASE64.encode(b.as_ref())))
                    .collect(),
            ),
        ),
        AttributeValue::L(v) => ("L", Value::Array(v.iter().map(value_to_json).collect())),
        AttributeValue::M(m) => ("M", item_to_json(m)),
        // A type newer than this SDK: kept visible rather than silently dropped.
        _ => ("NULL", Value::Bool(true)),
    };
    let mut map = Map::with_capacity(1);
    map.insert(tag.to_owned(), v);
    Value::Object(map)
}

fn strings(v: &[String]) -> Value {
    Value::Array(v.iter().cloned().map(Value::String).collect())
}

fn value_from_json(value: &Value) -> Result<AttributeValue, String> {
    let Value::Object(map) = value else {
        return Err(format!("expected {{\"<type>\": value}}, found {value}"));
    };
    let mut entries = map.iter();
    let (Some((tag, v)), None) = (entries.next(), entries.next()) else {
        return Err(format!(
            "expected exactly one type tag, found {} keys",
            map.len()
        ));
    };
    let text = |v: &Value| -> Result<String, String> {
        match v {
            Value::String(s) => Ok(s.clone()),
            // Some exporters write numbers bare.
            Value::Number(n) => Ok(n.to_string()),
            other => Err(format!("{tag} needs a string, found {other}")),
        }
    };
    let list = |v: &Value| -> Result<Vec<String>, String> {
        match v {
            Value::Array(items) => items.iter().map(text).collect(),
            other => Err(format!("{tag} needs a list, found {other}")),
        }
    };
    let blob = |s: String| -> Result<Blob, String> {
        BASE64
            .decode(s.as_bytes())
            .map(Blob::new)
            .map_err(|e| format!("{tag} is not base64: {e}"))
    };
    let boolean = |v: &Value| -> Result<bool, String> {
        match v {
            Value::Bool(b) => Ok(*b),
            Value::String(s) if s.eq_ignore_ascii_case("true") => Ok(true),
            Value::String(s) if s.eq_ignore_ascii_case("false") => Ok(false),
            other => Err(format!("{tag} needs true or false, found {other}")),
        }
    };
    Ok(match tag.to_ascii_uppercase().as_str() {
        "S" => AttributeValue::S(text(v)?),
        "N" => AttributeValue::N(number(&text(v)?)?),
        "B" => AttributeValue::B(blob(text(v)?)?),
        "BOOL" => AttributeValue::Bool(boolean(v)?),
        "NULL" | "NULLVALUE" => AttributeValue::Null(boolean(v)?),
        "SS" => AttributeValue::Ss(list(v)?),
        "NS" => AttributeValue::Ns(
            list(v)?
                .iter()
                .map(|n| number(n))
                .collect::<Result<_, _>>()?,
        ),
        "BS" => AttributeValue::Bs(list(v)?.into_iter().map(blob).collect::<Result<_, _>>()?),
        "L" => match v {
            Value::Array(items) => AttributeValue::L(
                items
                    .iter()
                    .map(value_from_json)
                    .collect::<Result<_, _>>()?,
            ),
            other => return Err(format!("L needs a list, found {other}")),
        },
        "M" => AttributeValue::M(item_from_json(v)?),
        _ => return Err(format!("unknown type tag {tag:?}")),
    })
}

/// Checks a DynamoDB number: decimal digits with an optional sign, fraction and exponent.
pub(crate) fn number(text: &str) -> Result<String, String> {
    let t = text.trim();
    let mantissa_end = t.find(['e', 'E']).unwrap_or(t.len());
    let (mantissa, exponent) = t.split_at(mantissa_end);
    let mantissa = mantissa.strip_prefix(['-', '+']).unwrap_or(mantissa);
    let mut parts = mantissa.splitn(2, '.');
    let int = parts.next().unwrap_or("");
    let frac = parts.next().unwrap_or("");
    let digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    let exponent_ok = exponent.is_empty() || {
        let e = &exponent[1..];
        let e = e.strip_prefix(['-', '+']).unwrap_or(e);
        !e.is_empty() && digits(e)
    };
    if (int.is_empty() && frac.is_empty()) || !digits(int) || !digits(frac) || !exponent_ok {
        return Err(format!("{text:?} is not a number"));
    }
    Ok(t.to_owned())
}

/// An item from plain attribute values, handy for tests and small tools.
pub fn item<const N: usize>(attributes: [(&str, AttributeValue); N]) -> Item {
    attributes
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v))
        .collect::<HashMap<_, _>>()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_type_round_trips_through_an_export_line() {
        let original = item([
            ("id", AttributeValue::S("a1".into())),
            ("n", AttributeValue::N("-1.5e3".into())),
            ("bin", AttributeValue::B(Blob::new(vec![0, 159, 255]))),
            ("ok", AttributeValue::Bool(true)),
            ("none", AttributeValue::Null(true)),
            ("ss", AttributeValue::Ss(vec!["x".into(), "y".into()])),
            ("ns", AttributeValue::Ns(vec!["1".into(), "2.5".into()])),
            ("bs", AttributeValue::Bs(vec![Blob::new(b"hi".to_vec())])),
            (
                "l",
                AttributeValue::L(vec![
                    AttributeValue::S("z".into()),
                    AttributeValue::N("7".into()),
                ]),
            ),
            (
                "m",
                AttributeValue::M(item([("inner", AttributeValue::Bool(false))])),
            ),
        ]);
        let line = item_to_line(&original);
        assert!(!line.contains('\n'));
        assert!(line.starts_with(r#"{"bin":{"B":"AJ//"}"#), "{line}");
        assert_eq!(item_from_line(&line).unwrap(), original);
    }

    #[test]
    fn legacy_and_native_export_spellings_are_read() {
        let legacy = r#"{"name":{"s":"n1"},"count":{"n":"3"},"on":{"bOOL":true},"gone":{"nULLValue":true},"tags":{"sS":["a"]}}"#;
        let item = item_from_line(legacy).unwrap();
        assert_eq!(item["name"], AttributeValue::S("n1".into()));
        assert_eq!(item["count"], AttributeValue::N("3".into()));
        assert_eq!(item["on"], AttributeValue::Bool(true));
        assert_eq!(item["gone"], AttributeValue::Null(true));
        assert_eq!(item["tags"], AttributeValue::Ss(vec!["a".into()]));
        let native = r#"{"Item":{"id":{"S":"x"}}}"#;
        assert_eq!(
            item_from_line(native).unwrap()["id"],
            AttributeValue::S("x".into())
        );
    }

    #[test]
    fn bad_lines_say_which_attribute_is_wrong() {
        let err = item_from_line(r#"{"a":{"N":"12x"}}"#).unwrap_err();
        assert!(
            err.contains("attribute \"a\"") && err.contains("not a number"),
            "{err}"
        );
        let err = item_from_line(r#"{"a":{"Q":"1"}}"#).unwrap_err();
        assert!(err.contains("unknown type tag"), "{err}");
        let err = item_from_line("[1]").unwrap_err();
        assert!(err.contains("JSON object"), "{err}");
        let err = item_from_line(r#"{"a":{"S":"1","N":"1"}}"#).unwrap_err();
        assert!(err.contains("exactly one type tag"), "{err}");
    }
}
