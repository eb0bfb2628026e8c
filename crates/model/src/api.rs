//! Wire shapes of the `DataPipeline` JSON 1.1 API that describe pipeline definitions.
//!
//! Field order is significant (repeated keys such as `step` keep their order), so objects hold
//! `Vec<Field>` rather than maps. Serde spellings are AWS's.

use serde::{Deserialize, Serialize};

/// One key/value pair of a pipeline object: exactly one of `stringValue` or `refValue`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "RawField", into = "RawField")]
pub struct Field {
    pub key: String,
    pub value: FieldValue,
}

/// The value of a [`Field`]: a literal string (possibly holding `#{...}` expressions) or the id
/// of another object.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum FieldValue {
    String(String),
    Ref(String),
}

impl FieldValue {
    /// Returns the string value, or `None` for a reference.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            FieldValue::String(s) => Some(s),
            FieldValue::Ref(_) => None,
        }
    }

    /// Returns the referenced object id, or `None` for a string.
    pub fn as_ref_id(&self) -> Option<&str> {
        match self {
            FieldValue::Ref(r) => Some(r),
            FieldValue::String(_) => None,
        }
    }
}

impl Field {
    pub fn string(key: impl Into<String>, value: impl Into<String>) -> Self {
        Field {
            key: key.into(),
            value: FieldValue::String(value.into()),
        }
    }

    pub fn reference(key: impl Into<String>, target: impl Into<String>) -> Self {
        Field {
            key: key.into(),
            value: FieldValue::Ref(target.into()),
        }
    }
}

#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawField {
    key: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    string_value: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    ref_value: Option<String>,
}

impl TryFrom<RawField> for Field {
    type Error = String;

    fn try_from(raw: RawField) -> Result<Self, Self::Error> {
        let value = match (raw.string_value, raw.ref_value) {
            (Some(s), None) => FieldValue::String(s),
            (None, Some(r)) => FieldValue::Ref(r),
            (Some(_), Some(_)) => {
                return Err(format!(
                    "field '{}' has both stringValue and refValue",
                    raw.key
                ));
            }
            (None, None) => {
                return Err(format!(
                    "field '{}' has neither stringValue nor refValue",
                    raw.key
                ));
            }
        };
        Ok(Field {
            key: raw.key,
            value,
        })
    }
}

impl From<Field> for RawField {
    fn from(field: Field) -> Self {
        let (string_value, ref_value) = match field.value {
            FieldValue::String(s) => (Some(s), None),
            FieldValue::Ref(r) => (None, Some(r)),
        };
        RawField {
            key: field.key,
            string_value,
            ref_value,
        }
    }
}

/// A component of a pipeline definition (`PipelineObject` in the service model).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PipelineObject {
    pub id: String,
    pub name: String,
    pub fields: Vec<Field>,
}

impl PipelineObject {
    /// Returns every value of `key`, in order.
    pub fn values<'a>(&'a self, key: &str) -> impl Iterator<Item = &'a FieldValue> {
        self.fields
            .iter()
            .filter(move |f| f.key == key)
            .map(|f| &f.value)
    }

    /// Returns the first string value of `key`.
    pub fn string(&self, key: &str) -> Option<&str> {
        self.values(key).find_map(FieldValue::as_str)
    }

    /// Returns the object's own `type` field, if any.
    pub fn object_type(&self) -> Option<&str> {
        self.string("type")
    }
}

/// A declared parameter (`ParameterObject`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ParameterObject {
    pub id: String,
    pub attributes: Vec<ParameterAttribute>,
}

impl ParameterObject {
    /// Returns the first value of attribute `key`.
    pub fn attribute(&self, key: &str) -> Option<&str> {
        self.attributes
            .iter()
            .find(|a| a.key == key)
            .map(|a| a.string_value.as_str())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ParameterAttribute {
    pub key: String,
    pub string_value: String,
}

/// The longest id (of a pipeline, an object, a task runner…) the service model allows, in
/// characters.
pub const MAX_ID_CHARS: usize = 1024;

/// Whether the service model's string pattern allows `c` (the characters XML 1.0 can carry).
pub fn xml_safe(c: char) -> bool {
    matches!(c, '\t' | '\n' | '\r' | '\u{20}'..='\u{D7FF}' | '\u{E000}'..='\u{FFFD}')
        || c >= '\u{10000}'
}

/// Whether every operation taking an id accepts `id`: 1 to [`MAX_ID_CHARS`] characters, all
/// [`xml_safe`].
pub fn is_model_id(id: &str) -> bool {
    let chars = id.chars().count();
    (1..=MAX_ID_CHARS).contains(&chars) && id.chars().all(xml_safe)
}

/// A value for a parameter (`ParameterValue`); an array parameter repeats the id.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ParameterValue {
    pub id: String,
    pub string_value: String,
}

/// A whole definition in API form, as PutPipelineDefinition carries it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PipelineDefinition {
    pub pipeline_objects: Vec<PipelineObject>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub parameter_objects: Vec<ParameterObject>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub parameter_values: Vec<ParameterValue>,
}

/// Problems found in one object, as `CODE: message` strings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ValidationError {
    pub id: String,
    pub errors: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ValidationWarning {
    pub id: String,
    pub warnings: Vec<String>,
}
