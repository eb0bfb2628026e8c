//! Secrets and their masking: the one place that decides how a secret is shown.
//!
//! AWS marks a secret by its name: a field or parameter whose id starts with `*`
//! (`*password`, `*myRDSPassword`). Its value may still travel inside other text once an
//! expression has been evaluated (`command: "psql … #{*myPassword}"`), so hiding the field is
//! not enough: a [`Redactor`] replaces every occurrence of every secret value in any text on
//! its way to a log, an event or an error message.

use std::borrow::Cow;
use std::fmt;
use std::io::{self, Read, Write};

use crate::{FieldValue, PipelineDefinition, PipelineObject, TaskObject};

/// What a masked secret is shown as.
pub const MASK: &str = "****";

/// Whether a field or parameter id names a secret (AWS: a leading `*`).
pub fn is_secret_key(key: &str) -> bool {
    key.starts_with('*')
}

/// A value that must never be printed: `Debug` and `Display` show [`MASK`].
#[derive(Clone, Default, PartialEq, Eq, Hash, serde::Deserialize)]
#[serde(transparent)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Secret(value.into())
    }

    /// The secret itself, for handing to a client or a child process; never for messages.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "\"{MASK}\"")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(MASK)
    }
}

/// The values of an object's `*` fields.
fn secret_fields(object: &PipelineObject) -> impl Iterator<Item = String> + '_ {
    object
        .fields
        .iter()
        .filter(|f| is_secret_key(&f.key))
        .filter_map(|f| match &f.value {
            FieldValue::String(value) => Some(value.clone()),
            FieldValue::Ref(_) => None,
        })
}

/// Every secret value one piece of work knows, to mask wherever its text goes.
///
/// Values are matched longest first, so a secret that contains another is masked whole.
/// Every non-empty value is masked, however short: a garbled log line is a nuisance, a leaked
/// password is an incident.
#[derive(Clone, Default)]
pub struct Redactor {
    /// Longest first, without duplicates or empty strings.
    values: Vec<String>,
}

impl Redactor {
    pub fn new<I, S>(values: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        let mut redactor = Redactor::default();
        redactor.extend(values);
        redactor
    }

    /// The values of every `*` field of every object the task carries: the attempt's own
    /// secrets, those of the objects it references (a database's `*password`), and the
    /// secret parameters its fields were evaluated with (the service adds those to the
    /// attempt object as `*` fields for this purpose).
    pub fn for_task(task: &TaskObject) -> Self {
        Redactor::new(task.objects.values().flat_map(secret_fields))
    }

    /// Every secret value a definition holds: its objects' `*` fields, and the defaults and
    /// values of its `*` parameters (a value may name its parameter with or without the `*`,
    /// as `--parameter-values myPassword=…` does). For text evaluated from the definition
    /// outside an attempt, such as the fields a console shows.
    pub fn for_definition(definition: &PipelineDefinition) -> Self {
        let fields = definition.pipeline_objects.iter().flat_map(secret_fields);
        let secret_parameters: Vec<&str> = definition
            .parameter_objects
            .iter()
            .filter(|p| is_secret_key(&p.id))
            .map(|p| p.id.as_str())
            .collect();
        let defaults = definition
            .parameter_objects
            .iter()
            .filter(|p| is_secret_key(&p.id))
            .flat_map(|p| &p.attributes)
            .filter(|a| a.key == "default")
            .map(|a| a.string_value.clone());
        let values = definition
            .parameter_values
            .iter()
            .filter(|v| {
                is_secret_key(&v.id)
                    || secret_parameters
                        .iter()
                        .any(|p| p.strip_prefix('*') == Some(v.id.as_str()))
            })
            .map(|v| v.string_value.clone());
        Redactor::new(fields.chain(defaults).chain(values))
    }

    pub fn extend<I, S>(&mut self, values: I)
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.values.extend(
            values
                .into_iter()
                .map(Into::into)
                .filter(|v: &String| !v.is_empty()),
        );
        self.values
            .sort_by(|a, b| b.len().cmp(&a.len()).then_with(|| a.cmp(b)));
        self.values.dedup();
    }

    pub fn is_empty(&self) -> bool {
        self.values.is_empty()
    }

    /// The length in bytes of the longest secret (0 when there is none): how much text a
    /// streaming masker has to hold back so a secret split across two chunks is still found.
    pub fn longest(&self) -> usize {
        self.values.first().map_or(0, String::len)
    }

    /// `text` with every secret value replaced by [`MASK`].
    pub fn redact<'t>(&self, text: &'t str) -> Cow<'t, str> {
        if !self.values.iter().any(|v| text.contains(v.as_str())) {
            return Cow::Borrowed(text);
        }
        let mut out = text.to_owned();
        for value in &self.values {
            if out.contains(value.as_str()) {
                out = out.replace(value.as_str(), MASK);
            }
        }
        Cow::Owned(out)
    }

    /// The length of the secret that starts `bytes`, if one does (longest first).
    fn match_at(&self, bytes: &[u8]) -> Option<usize> {
        self.values
            .iter()
            .map(|v| v.as_bytes())
            .find(|v| bytes.starts_with(v))
            .map(<[u8]>::len)
    }

    /// Copies `reader` to `writer` with every secret masked, holding back only as much as a
    /// secret split between two reads needs; returns how many secrets were masked. Suits
    /// logs of any size, and secrets that span lines (a private key).
    pub fn redact_stream(
        &self,
        mut reader: impl Read,
        mut writer: impl Write,
    ) -> io::Result<usize> {
        const CHUNK: usize = 64 * 1024;
        let keep = self.longest().saturating_sub(1);
        let mut pending: Vec<u8> = Vec::with_capacity(CHUNK + keep);
        let mut out: Vec<u8> = Vec::with_capacity(CHUNK);
        let mut masked = 0;
        let mut chunk = vec![0u8; CHUNK];
        loop {
            let read = reader.read(&mut chunk)?;
            pending.extend_from_slice(&chunk[..read]);
            let end = read == 0;
            // Positions before `cut` have every secret's full length available after them.
            let cut = if end {
                pending.len()
            } else {
                pending.len().saturating_sub(keep)
            };
            let mut i = 0;
            while i < cut {
                if let Some(len) = self.match_at(&pending[i..]) {
                    out.extend_from_slice(MASK.as_bytes());
                    masked += 1;
                    i += len;
                } else {
                    out.push(pending[i]);
                    i += 1;
                }
            }
            writer.write_all(&out)?;
            out.clear();
            pending.drain(..i.min(pending.len()));
            if end {
                writer.flush()?;
                return Ok(masked);
            }
        }
    }
}

impl fmt::Debug for Redactor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Redactor({} secrets)", self.values.len())
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;
    use crate::{Field, PipelineObject};

    #[test]
    fn a_definitions_secrets_are_its_star_fields_and_parameters() {
        let definition = crate::file::parse_definition_file(
            r#"{"objects": [
                {"id": "Db", "type": "JdbcDatabase", "*password": "pw-field"},
                {"id": "Run", "type": "ShellCommandActivity", "command": "echo #{*myA} #{*myB} #{myC}"}
              ],
              "parameters": [
                {"id": "*myA", "type": "String", "default": "pw-default"},
                {"id": "*myB", "type": "String"},
                {"id": "myC", "type": "String", "default": "not-secret"}
              ],
              "values": {"myB": "pw-value", "myC": "plain"}}"#,
        )
        .unwrap();
        let redactor = Redactor::for_definition(&definition.definition);
        assert_eq!(
            redactor.redact("pw-field pw-default pw-value not-secret plain"),
            "**** **** **** not-secret plain"
        );
    }

    #[test]
    fn secrets_never_print() {
        let secret = Secret::new("hunter2");
        assert_eq!(format!("{secret}"), MASK);
        assert_eq!(format!("{secret:?}"), format!("\"{MASK}\""));
        assert_eq!(secret.expose(), "hunter2");
    }

    #[test]
    fn every_occurrence_is_masked_longest_first() {
        let redactor = Redactor::new(["abc", "abcdef", ""]);
        assert_eq!(
            redactor.redact("x abcdef y abc z abcabc"),
            format!("x {MASK} y {MASK} z {MASK}{MASK}")
        );
        assert!(matches!(redactor.redact("nothing here"), Cow::Borrowed(_)));
        assert_eq!(redactor.longest(), 6);
        assert!(Redactor::default().is_empty());
    }

    #[test]
    fn streams_are_masked_across_reads() {
        /// Hands out one byte per read, the worst case for a secret split between reads.
        struct Trickle<'a>(&'a [u8]);
        impl Read for Trickle<'_> {
            fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
                let Some((first, rest)) = self.0.split_first() else {
                    return Ok(0);
                };
                buf[0] = *first;
                self.0 = rest;
                Ok(1)
            }
        }
        let redactor = Redactor::new(["-----BEGIN KEY-----\nabc\n-----END KEY-----", "pw1"]);
        let text = "a pw1 b\n-----BEGIN KEY-----\nabc\n-----END KEY-----\nc pw";
        let mut out = Vec::new();
        let masked = redactor
            .redact_stream(Trickle(text.as_bytes()), &mut out)
            .unwrap();
        assert_eq!(masked, 2);
        assert_eq!(
            String::from_utf8(out).unwrap(),
            format!("a {MASK} b\n{MASK}\nc pw")
        );
        let mut out = Vec::new();
        let big = "x".repeat(200_000) + "pw1";
        assert_eq!(redactor.redact_stream(big.as_bytes(), &mut out).unwrap(), 1);
        assert_eq!(out.len(), 200_000 + MASK.len());
    }

    #[test]
    fn a_task_reveals_the_values_of_its_star_fields() {
        let object = |id: &str, fields| PipelineObject {
            id: id.into(),
            name: id.into(),
            fields,
        };
        let task = TaskObject {
            task_id: "t".into(),
            pipeline_id: "df-1".into(),
            attempt_id: "A".into(),
            objects: BTreeMap::from([
                (
                    "A".to_owned(),
                    object(
                        "A",
                        vec![
                            Field::string("command", "psql -c 'select 1' s3cret-param"),
                            Field::string("*myPassword", "s3cret-param"),
                            Field::reference("database", "Db"),
                        ],
                    ),
                ),
                (
                    "Db".to_owned(),
                    object("Db", vec![Field::string("*password", "db-pass")]),
                ),
            ]),
        };
        let redactor = Redactor::for_task(&task);
        assert_eq!(
            redactor.redact("failed: s3cret-param / db-pass / Db"),
            format!("failed: {MASK} / {MASK} / Db")
        );
    }
}
