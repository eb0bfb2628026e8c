//! What an export folder holds, as the storage handler's tools write and read it.
//!
//! * Data files named by a random UUID (`0b8f…-…`), each at most [`MAX_ITEMS_PER_FILE`] items,
//!   one item per line in the connector's JSON (below); `.gz` added when they are gzipped.
//! * `manifest`: `{"name":"DynamoDB-export","version":3,` then a line `"entries": [`, one
//!   `{"url":"<folder>/<file>","mandatory":true}` per data file (`,` + newline between them,
//!   ordered by the reversed file name as the tool's single reducer sorts them), and `]}` on
//!   the last line.
//! * `_SUCCESS`, empty, written last: Hadoop's mark of a completed job.
//!
//! The item JSON is what the connector's `DynamoDBItemWritable` writes with the AWS SDK for
//! Java 1 (the tools' 4.x jars that the templates use): each value tagged by the SDK's field
//! name, `{"s":…}`, `{"n":…}`, `{"b":<base64>}`, `{"bOOL":…}`, `{"nULLValue":true}`, `{"sS":…}`,
//! `{"nS":…}`, `{"bS":…}`, `{"l":[…]}`, `{"m":{…}}`. Reading accepts that, the SDK 2 spelling of
//! the 5.x connector (`{"bool":…}`, `{"null":…}`, `{"ss":…}`), DynamoDB's own (`{"S":…}`), and
//! the `^B`/`^C`-separated lines of Data Pipeline's first export format.

use std::hash::{BuildHasher, RandomState};
use std::sync::atomic::{AtomicU64, Ordering};

use serde_json::{Map, Value};
use sluice_data::dynamodb::{Item, item_json};

/// The manifest's file name.
pub(super) const MANIFEST: &str = "manifest";
/// Hadoop's success marker.
pub(super) const SUCCESS: &str = "_SUCCESS";
/// The export tool starts a new file after this many items.
pub(super) const MAX_ITEMS_PER_FILE: u64 = 100_000;
/// The manifest format the tools write and accept.
pub(super) const FORMAT_VERSION: i64 = 3;

/// A fresh data file name: a random (version 4) UUID.
pub(super) fn data_file_name() -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let seed = (
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or_default(),
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed),
    );
    // `RandomState` is seeded from the operating system's randomness.
    let high = RandomState::new().hash_one(seed);
    let low = RandomState::new().hash_one((seed, high));
    let mut bits = (u128::from(high) << 64) | u128::from(low);
    bits = (bits & !(0xf << 76)) | (0x4 << 76);
    bits = (bits & !(0x3 << 62)) | (0x2 << 62);
    let hex = format!("{bits:032x}");
    format!(
        "{}-{}-{}-{}-{}",
        &hex[..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..]
    )
}

/// The manifest for the data files `names` in `folder` (a URI without a trailing `/`).
pub(super) fn manifest(folder: &str, names: &[String]) -> String {
    let mut names: Vec<&String> = names.iter().collect();
    names.sort_by_key(|n| n.chars().rev().collect::<String>());
    let entries: Vec<String> = names
        .iter()
        .map(|name| {
            // By hand: `url` comes first, as the tool writes it.
            let url = Value::String(format!("{folder}/{name}"));
            format!("{{\"url\":{url},\"mandatory\":true}}")
        })
        .collect();
    format!(
        "{{\"name\":\"DynamoDB-export\",\"version\":{FORMAT_VERSION},\n\"entries\": [\n{}\n]}}",
        entries.join(",\n")
    )
}

/// One manifest entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Entry {
    pub url: String,
    pub mandatory: bool,
}

/// Reads a manifest: its `version` must be 3 and `entries` lists the data files (no entries
/// is an empty export); other keys are skipped, as the tool does.
pub(super) fn parse_manifest(text: &str) -> Result<Vec<Entry>, String> {
    let value: Value =
        serde_json::from_str(text).map_err(|e| format!("the manifest is not JSON: {e}"))?;
    let Value::Object(map) = value else {
        return Err("the manifest is not a JSON object".into());
    };
    match map.get("version").and_then(Value::as_i64) {
        Some(FORMAT_VERSION) => {}
        other => {
            return Err(format!(
                "unknown manifest version {}; the tools read version {FORMAT_VERSION}",
                other.map_or_else(|| "(none)".to_owned(), |v| v.to_string())
            ));
        }
    }
    let entries = match map.get("entries") {
        None | Some(Value::Null) => return Ok(Vec::new()),
        Some(Value::Array(entries)) => entries,
        Some(other) => return Err(format!("the manifest's entries are not a list: {other}")),
    };
    entries
        .iter()
        .enumerate()
        .map(|(k, entry)| {
            let url = entry
                .get("url")
                .and_then(Value::as_str)
                .filter(|u| !u.is_empty())
                .ok_or_else(|| format!("manifest entry {} has no url: {entry}", k + 1))?;
            Ok(Entry {
                url: url.to_owned(),
                mandatory: entry
                    .get("mandatory")
                    .and_then(Value::as_bool)
                    .unwrap_or(false),
            })
        })
        .collect()
}

/// One item as the export tool writes it (without the newline).
pub(super) fn item_line(item: &Item) -> String {
    connector_spelling(item_json::item_to_json(item)).to_string()
}

/// Renames DynamoDB's type tags (`S`, `BOOL`, …) in a typed item to the connector's.
fn connector_spelling(item: Value) -> Value {
    let Value::Object(attributes) = item else {
        return item;
    };
    Value::Object(
        attributes
            .into_iter()
            .map(|(name, value)| (name, connector_value(value)))
            .collect(),
    )
}

fn connector_value(value: Value) -> Value {
    let Value::Object(tagged) = value else {
        return value;
    };
    tagged
        .into_iter()
        .map(|(tag, inner)| {
            let (tag, inner) = match tag.as_str() {
                "S" => ("s", inner),
                "N" => ("n", inner),
                "B" => ("b", inner),
                "BOOL" => ("bOOL", inner),
                "NULL" => ("nULLValue", inner),
                "SS" => ("sS", inner),
                "NS" => ("nS", inner),
                "BS" => ("bS", inner),
                "L" => (
                    "l",
                    match inner {
                        Value::Array(values) => {
                            Value::Array(values.into_iter().map(connector_value).collect())
                        }
                        other => other,
                    },
                ),
                "M" => ("m", connector_spelling(inner)),
                _ => return (tag, inner),
            };
            (tag.to_owned(), inner)
        })
        .collect::<Map<_, _>>()
        .into()
}

/// Reads one line of a data file. Lines of Data Pipeline's first export format
/// (`name^C{"s":"v"}^Bname2^C…`: bare names, the control characters STX between attributes
/// and ETX after each name) are turned into JSON first, as the connector does.
pub(super) fn parse_line(line: &str) -> Result<Item, String> {
    let line = line.trim();
    if line.starts_with('{') {
        return item_json::item_from_line(line);
    }
    // The connector turns the separators into `,` and `:` and lets a lenient JSON reader take
    // the bare attribute names; here each name is quoted instead.
    let mut json = String::from("{");
    for (k, pair) in line.split('\u{2}').enumerate() {
        let (name, value) = pair
            .split_once('\u{3}')
            .ok_or_else(|| format!("attribute {} has no ^C after its name", k + 1))?;
        if k > 0 {
            json.push(',');
        }
        if name.len() >= 2 && name.starts_with('"') && name.ends_with('"') {
            json.push_str(name);
        } else {
            json.push_str(&Value::String(name.to_owned()).to_string());
        }
        json.push(':');
        json.push_str(value);
    }
    json.push('}');
    item_json::item_from_line(&json)
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_sdk_dynamodb::primitives::Blob;
    use aws_sdk_dynamodb::types::AttributeValue;

    #[test]
    fn names_are_distinct_version_4_uuids() {
        let a = data_file_name();
        let b = data_file_name();
        assert_ne!(a, b);
        for name in [&a, &b] {
            let parts: Vec<&str> = name.split('-').collect();
            assert_eq!(
                parts.iter().map(|p| p.len()).collect::<Vec<_>>(),
                [8, 4, 4, 4, 12],
                "{name}"
            );
            assert!(parts[2].starts_with('4'), "{name}");
            assert!(
                matches!(parts[3].as_bytes()[0], b'8' | b'9' | b'a' | b'b'),
                "{name}"
            );
        }
    }

    #[test]
    fn the_manifest_is_the_tools_text_and_reads_back() {
        let names = ["ab".to_owned(), "ba".to_owned(), "cc".to_owned()];
        let text = manifest("s3://b/out", &names);
        // Ordered by the reversed name: "ab" (from "ba"), "ba" (from "ab"), "cc".
        assert_eq!(
            text,
            "{\"name\":\"DynamoDB-export\",\"version\":3,\n\"entries\": [\n\
             {\"url\":\"s3://b/out/ba\",\"mandatory\":true},\n\
             {\"url\":\"s3://b/out/ab\",\"mandatory\":true},\n\
             {\"url\":\"s3://b/out/cc\",\"mandatory\":true}\n]}"
        );
        let entries = parse_manifest(&text).unwrap();
        assert_eq!(
            entries.iter().map(|e| e.url.as_str()).collect::<Vec<_>>(),
            ["s3://b/out/ba", "s3://b/out/ab", "s3://b/out/cc"]
        );
        assert!(entries.iter().all(|e| e.mandatory));
        assert_eq!(parse_manifest(&manifest("s3://b/out", &[])).unwrap(), []);
        let err = parse_manifest("{\"version\":2,\"entries\":[]}").unwrap_err();
        assert!(err.contains("version 2"), "{err}");
        let err = parse_manifest("{\"entries\":[]}").unwrap_err();
        assert!(err.contains("(none)"), "{err}");
    }

    #[test]
    fn items_are_written_in_the_connectors_spelling_and_read_back() {
        let item = item_json::item([
            ("s", AttributeValue::S("x".into())),
            ("n", AttributeValue::N("1.5".into())),
            ("b", AttributeValue::B(Blob::new(vec![0, 255]))),
            ("t", AttributeValue::Bool(true)),
            ("z", AttributeValue::Null(true)),
            ("ss", AttributeValue::Ss(vec!["a".into()])),
            ("ns", AttributeValue::Ns(vec!["2".into()])),
            ("bs", AttributeValue::Bs(vec![Blob::new(vec![1])])),
            (
                "l",
                AttributeValue::L(vec![AttributeValue::M(item_json::item([(
                    "k",
                    AttributeValue::Null(true),
                )]))]),
            ),
        ]);
        let line = item_line(&item);
        assert_eq!(
            line,
            r#"{"b":{"b":"AP8="},"bs":{"bS":["AQ=="]},"l":{"l":[{"m":{"k":{"nULLValue":true}}}]},"n":{"n":"1.5"},"ns":{"nS":["2"]},"s":{"s":"x"},"ss":{"sS":["a"]},"t":{"bOOL":true},"z":{"nULLValue":true}}"#
        );
        assert_eq!(parse_line(&line).unwrap(), item);
    }

    #[test]
    fn the_first_export_formats_lines_are_read() {
        let line = "Id\u{3}{\"n\":\"101\"}\u{2}Title\u{3}{\"s\":\"Book 101\"}\u{2}Tags\u{3}{\"sS\":[\"a\",\"b\"]}";
        let item = parse_line(line).unwrap();
        assert_eq!(item["Id"], AttributeValue::N("101".into()));
        assert_eq!(item["Title"], AttributeValue::S("Book 101".into()));
        assert_eq!(
            item["Tags"],
            AttributeValue::Ss(vec!["a".into(), "b".into()])
        );
        let v2 = r#"{"a":{"bool":false},"b":{"null":true},"c":{"ss":["x"]}}"#;
        let item = parse_line(v2).unwrap();
        assert_eq!(item["a"], AttributeValue::Bool(false));
        assert_eq!(item["b"], AttributeValue::Null(true));
        assert!(
            parse_line("{\"a\":{\"q\":1}}")
                .unwrap_err()
                .contains("\"a\"")
        );
        let quoted = parse_line("\"x\"\u{3}{\"n\":\"1\"}").unwrap();
        assert_eq!(quoted["x"], AttributeValue::N("1".into()));
        assert!(parse_line("x{\"n\":\"1\"}").unwrap_err().contains("^C"));
    }
}
