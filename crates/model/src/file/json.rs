//! A JSON tree that keeps what `serde_json::Value` throws away: where each object, key and list
//! item starts, and which keys an object repeated.
//!
//! Python's `json` module (and so the AWS CLI) keeps the last of two equal keys, at the position
//! of the first. The tree does the same, but records the repetition so the translator can warn.
//! Positions come from counting the bytes serde_json pulls from its reader: the deserializer
//! offers no position API while a visitor runs, and the count is exact because serde_json reads
//! an `io::Read` one byte at a time and peeks at most one byte ahead.

use std::cell::Cell;
use std::collections::HashMap;
use std::fmt;
use std::io;

use serde::de::{self, DeserializeSeed, MapAccess, SeqAccess, Visitor};

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Node {
    Null,
    Bool(bool),
    Number(serde_json::Number),
    String(String),
    Array(Vec<Item>),
    Object(ObjectNode),
}

/// A list element and the byte offset where it starts.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Item {
    pub(crate) offset: usize,
    pub(crate) node: Node,
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) struct ObjectNode {
    /// Byte offset of the opening `{`.
    pub(crate) offset: usize,
    /// One entry per distinct key, in order of first appearance, holding the last value given.
    pub(crate) entries: Vec<Entry>,
    pub(crate) duplicates: Vec<Duplicate>,
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Entry {
    pub(crate) key: String,
    /// Byte offset of the key's opening quote; for a repeated key, of the occurrence whose value
    /// was kept, so errors about the value point at it.
    pub(crate) offset: usize,
    pub(crate) value: Node,
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Duplicate {
    pub(crate) key: String,
    pub(crate) first_offset: usize,
    pub(crate) offset: usize,
}

impl ObjectNode {
    pub(crate) fn get(&self, key: &str) -> Option<&Entry> {
        self.entries.iter().find(|e| e.key == key)
    }
}

/// Parses `text` as one strict JSON document.
pub(crate) fn parse(text: &str) -> Result<Node, serde_json::Error> {
    let consumed = Cell::new(0);
    let reader = CountingReader {
        rest: text.as_bytes(),
        consumed: &consumed,
    };
    let mut deserializer = serde_json::Deserializer::from_reader(reader);
    let seed = NodeSeed {
        text: text.as_bytes(),
        consumed: &consumed,
    };
    let node = seed.deserialize(&mut deserializer)?;
    deserializer.end()?;
    Ok(node)
}

/// 1-based line and column of a byte offset, columns counted in bytes as serde_json does.
pub(crate) fn line_column(text: &str, offset: usize) -> (usize, usize) {
    let before = text.as_bytes().get(..offset).unwrap_or(text.as_bytes());
    let line = 1 + before.iter().filter(|b| **b == b'\n').count();
    let line_start = before
        .iter()
        .rposition(|b| *b == b'\n')
        .map_or(0, |i| i + 1);
    (line, before.len() - line_start + 1)
}

struct CountingReader<'a> {
    rest: &'a [u8],
    consumed: &'a Cell<usize>,
}

impl io::Read for CountingReader<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.rest.read(buf)?;
        self.consumed.set(self.consumed.get() + n);
        Ok(n)
    }
}

#[derive(Clone, Copy)]
struct NodeSeed<'a> {
    text: &'a [u8],
    consumed: &'a Cell<usize>,
}

impl NodeSeed<'_> {
    /// Where the next key or element starts, given the reader position before it was parsed:
    /// only whitespace and a separating comma can lie in between.
    fn next_token_offset(&self) -> usize {
        let from = self.consumed.get();
        self.text
            .get(from..)
            .and_then(|rest| {
                rest.iter()
                    .position(|b| !matches!(b, b' ' | b'\t' | b'\n' | b'\r' | b','))
            })
            .map_or(from, |skipped| from + skipped)
    }
}

impl<'de> DeserializeSeed<'de> for NodeSeed<'_> {
    type Value = Node;

    fn deserialize<D: de::Deserializer<'de>>(self, deserializer: D) -> Result<Node, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for NodeSeed<'_> {
    type Value = Node;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_unit<E>(self) -> Result<Node, E> {
        Ok(Node::Null)
    }

    fn visit_bool<E>(self, v: bool) -> Result<Node, E> {
        Ok(Node::Bool(v))
    }

    fn visit_i64<E>(self, v: i64) -> Result<Node, E> {
        Ok(Node::Number(v.into()))
    }

    fn visit_u64<E>(self, v: u64) -> Result<Node, E> {
        Ok(Node::Number(v.into()))
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Node, E> {
        serde_json::Number::from_f64(v)
            .map(Node::Number)
            .ok_or_else(|| E::custom("number is not finite"))
    }

    fn visit_str<E>(self, v: &str) -> Result<Node, E> {
        Ok(Node::String(v.to_owned()))
    }

    fn visit_string<E>(self, v: String) -> Result<Node, E> {
        Ok(Node::String(v))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Node, A::Error> {
        let mut items = Vec::new();
        loop {
            let offset = self.next_token_offset();
            match seq.next_element_seed(self)? {
                Some(node) => items.push(Item { offset, node }),
                None => return Ok(Node::Array(items)),
            }
        }
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Node, A::Error> {
        // serde_json has consumed the `{` and nothing after it when it calls visit_map.
        let object_offset = self.consumed.get().saturating_sub(1);
        let mut entries: Vec<Entry> = Vec::new();
        let mut duplicates = Vec::new();
        let mut index: HashMap<String, usize> = HashMap::new();
        loop {
            let offset = self.next_token_offset();
            let Some(key) = map.next_key::<String>()? else {
                break;
            };
            let value = map.next_value_seed(self)?;
            match index.get(&key) {
                Some(&i) => {
                    let entry = &mut entries[i];
                    duplicates.push(Duplicate {
                        key,
                        first_offset: entry.offset,
                        offset,
                    });
                    entry.offset = offset;
                    entry.value = value;
                }
                None => {
                    index.insert(key.clone(), entries.len());
                    entries.push(Entry { key, offset, value });
                }
            }
        }
        Ok(Node::Object(ObjectNode {
            offset: object_offset,
            entries,
            duplicates,
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn object(node: &Node) -> &ObjectNode {
        match node {
            Node::Object(o) => o,
            other => panic!("not an object: {other:?}"),
        }
    }

    #[test]
    fn offsets_point_at_keys_items_and_braces() {
        let text = "{\"a\": [1, \"x\"],\n  \"b\" : {\"c\": null}}";
        let root = parse(text).unwrap();
        let top = object(&root);
        assert_eq!(top.offset, 0);
        assert_eq!(&text[top.entries[0].offset..][..3], "\"a\"");
        assert_eq!(&text[top.entries[1].offset..][..3], "\"b\"");
        let Node::Array(items) = &top.entries[0].value else {
            panic!()
        };
        assert_eq!(&text[items[0].offset..][..1], "1");
        assert_eq!(&text[items[1].offset..][..3], "\"x\"");
        let inner = object(&top.entries[1].value);
        assert_eq!(&text[inner.offset..][..1], "{");
        assert_eq!(&text[inner.entries[0].offset..][..3], "\"c\"");
        assert_eq!(line_column(text, top.entries[1].offset), (2, 3));
    }

    #[test]
    fn repeated_key_keeps_first_position_and_last_value() {
        let text = r#"{"a": "1", "b": "2", "a": "3"}"#;
        let root = parse(text).unwrap();
        let top = object(&root);
        let keys: Vec<_> = top.entries.iter().map(|e| e.key.as_str()).collect();
        assert_eq!(keys, ["a", "b"]);
        assert_eq!(top.entries[0].value, Node::String("3".into()));
        assert_eq!(top.duplicates.len(), 1);
        assert_eq!(top.duplicates[0].first_offset, 1);
        assert_eq!(top.duplicates[0].offset, 21);
    }

    #[test]
    fn trailing_content_is_rejected() {
        let err = parse("{} x").unwrap_err();
        assert_eq!((err.line(), err.column()), (1, 4));
    }
}
