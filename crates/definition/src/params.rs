//! Parameters: declarations (`parameterObjects`), values (`parameterValues`) and what each id
//! resolves to.
//!
//! Design decisions:
//! * Resolution order is value → `default` → nothing (an error unless `optional`). Values win
//!   over defaults wholesale: an array parameter given one value does not keep its defaults.
//! * Ids without the `my` / `*my` prefix are a warning, not an error: real sample definitions
//!   (awslabs data-pipeline-samples) declare `user` and `host`.
//! * Values for ids nobody declared are accepted and usable, untyped (samples pass
//!   `--parameter-values` for `#{myConnectionString}` without declaring it).
//! * Unknown attributes are kept as-is: the console writes `watermark`, `helpText`, `helpLink`;
//!   anything else gets a warning in case it is a misspelling.
//! * Values and defaults containing `#{` are not type-checked: they are evaluated later.
//! * Secret parameters (`*my…`) never have their values, defaults or allowed values echoed.

use std::collections::BTreeMap;

use serde::Serialize;
use sluice_model::PipelineDefinition;

use crate::expressions::contains_expression;
use crate::report::{Code, Problem};

/// The `type` attribute of a parameter.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum ParameterType {
    String,
    Integer,
    Double,
    /// `AWS::S3::ObjectKey`: an `s3://` URI.
    S3ObjectKey,
}

impl ParameterType {
    pub const ALL: [ParameterType; 4] = [
        ParameterType::String,
        ParameterType::Integer,
        ParameterType::Double,
        ParameterType::S3ObjectKey,
    ];

    /// The spelling used in definitions.
    pub fn name(self) -> &'static str {
        match self {
            ParameterType::String => "String",
            ParameterType::Integer => "Integer",
            ParameterType::Double => "Double",
            ParameterType::S3ObjectKey => "AWS::S3::ObjectKey",
        }
    }

    /// Parses a `type` attribute (exact spelling, as the service documents it).
    pub fn parse(text: &str) -> Option<ParameterType> {
        ParameterType::ALL.into_iter().find(|t| t.name() == text)
    }

    /// Why `value` is not of this type, if it is not.
    pub fn check(self, value: &str) -> Result<(), &'static str> {
        match self {
            ParameterType::String => Ok(()),
            ParameterType::Integer => value
                .trim()
                .parse::<i64>()
                .map(drop)
                .map_err(|_| "must be an Integer"),
            ParameterType::Double => match value.trim().parse::<f64>() {
                Ok(x) if x.is_finite() => Ok(()),
                _ => Err("must be a Double"),
            },
            ParameterType::S3ObjectKey if value.starts_with("s3://") => Ok(()),
            ParameterType::S3ObjectKey => Err("must be an S3 URI starting with 's3://'"),
        }
    }
}

/// Attributes with a meaning; others are kept but warned about.
const KNOWN_ATTRIBUTES: &[&str] = &[
    "type",
    "optional",
    "allowedValues",
    "default",
    "isArray",
    "description",
    "watermark",
    "helpText",
    "helpLink",
];

/// One declared parameter.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ParameterDecl {
    pub id: String,
    pub param_type: ParameterType,
    pub optional: bool,
    pub allowed_values: Vec<String>,
    pub default: Option<String>,
    pub is_array: bool,
    pub description: Option<String>,
    /// Every attribute as declared, including console ones (`watermark`, `helpText`, …).
    pub attributes: Vec<(String, String)>,
}

impl ParameterDecl {
    /// Whether the parameter is secret (`*my…`): masked, never echoed.
    pub fn is_secret(&self) -> bool {
        is_secret(&self.id)
    }
}

/// Declared parameters and the values every id resolves to.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Parameters {
    /// Declarations in definition order (the first of a duplicated id only).
    pub declared: Vec<ParameterDecl>,
    /// Resolved values by id: given values, else the default. Declared optional parameters
    /// without either are absent; undeclared ids with values are present.
    pub values: BTreeMap<String, Vec<String>>,
}

impl Parameters {
    /// The declaration of `id`.
    pub fn decl(&self, id: &str) -> Option<&ParameterDecl> {
        self.declared.iter().find(|d| d.id == id)
    }

    /// The resolved values of `id`.
    pub fn get(&self, id: &str) -> Option<&[String]> {
        self.values.get(id).map(Vec::as_slice)
    }

    /// Whether `id` is declared or has a value (so `#{id}` names a parameter).
    pub fn is_known(&self, id: &str) -> bool {
        self.decl(id).is_some() || self.values.contains_key(id)
    }
}

/// Whether a parameter or field id is secret.
pub fn is_secret(id: &str) -> bool {
    id.starts_with('*')
}

/// Resolves parameters, reporting every problem under the parameter's id.
pub(crate) fn resolve_parameters(def: &PipelineDefinition) -> (Parameters, Vec<Problem>) {
    let mut problems = Vec::new();
    let mut params = Parameters::default();
    for object in &def.parameter_objects {
        if object.id.is_empty() {
            problems.push(Problem::error(
                crate::report::PIPELINE_ID,
                Code::InvalidParameterId,
                "a parameter has an empty id",
            ));
            continue;
        }
        if params.decl(&object.id).is_some() {
            problems.push(Problem::error(
                &object.id,
                Code::DuplicateParameter,
                format!(
                    "parameter '{}' is declared more than once; the first is used",
                    object.id
                ),
            ));
            continue;
        }
        params.declared.push(declare(object, &mut problems));
    }

    let mut given: Vec<(String, Vec<String>)> = Vec::new();
    for value in &def.parameter_values {
        match given.iter_mut().find(|(id, _)| *id == value.id) {
            Some((_, values)) => values.push(value.string_value.clone()),
            None => given.push((value.id.clone(), vec![value.string_value.clone()])),
        }
    }

    let mut consumed = vec![false; given.len()];
    for decl in &params.declared {
        // The exact id first, else the same id with or without its `*`.
        let found = given.iter().position(|(id, _)| *id == decl.id).or_else(|| {
            given
                .iter()
                .position(|(id, _)| same_parameter(&decl.id, id))
        });
        let values = found.map(|i| {
            consumed[i] = true;
            given[i].1.clone()
        });
        let values = match (values, &decl.default) {
            (Some(values), _) => values,
            (None, Some(default)) => vec![default.clone()],
            (None, None) if decl.optional => continue,
            (None, None) => {
                problems.push(Problem::error(
                    &decl.id,
                    Code::MissingParameterValue,
                    format!(
                        "parameter '{}' has no value and no default, and is not optional",
                        decl.id
                    ),
                ));
                continue;
            }
        };
        if values.len() > 1 && !decl.is_array {
            problems.push(Problem::error(
                &decl.id,
                Code::InvalidParameterValue,
                format!(
                    "parameter '{}' has {} values but is not an array (set 'isArray' to true)",
                    decl.id,
                    values.len()
                ),
            ));
        }
        for value in &values {
            if let Some(why) = value_problem(decl, value) {
                problems.push(Problem::error(
                    &decl.id,
                    Code::InvalidParameterValue,
                    format!("{} of parameter '{}' {why}", shown(decl, value), decl.id),
                ));
            }
        }
        params.values.insert(decl.id.clone(), values);
    }
    // A value taken by a declared parameter under its other spelling is not also an
    // undeclared one: `myPassword` must not carry `*myPassword`'s secret unmarked.
    for ((id, values), taken) in given.into_iter().zip(consumed) {
        if !taken {
            params.values.entry(id).or_insert(values);
        }
    }
    (params, problems)
}

/// Whether a value given for `given` is one for the parameter declared as `declared`: the same
/// id, or the same but for a leading `*`. The public AWS samples document commands passing
/// `myRDSPassword=…` for a parameter declared `*myRDSPassword`, which AWS accepts.
fn same_parameter(declared: &str, given: &str) -> bool {
    declared == given
        || declared.strip_prefix('*') == Some(given)
        || given.strip_prefix('*') == Some(declared)
}

fn declare(object: &sluice_model::ParameterObject, problems: &mut Vec<Problem>) -> ParameterDecl {
    let id = object.id.clone();
    let bare = id.strip_prefix('*').unwrap_or(&id);
    if !bare.starts_with("my") {
        problems.push(Problem::warning(
            &id,
            Code::InvalidParameterId,
            format!(
                "parameter id '{id}' does not start with 'my' (or '*my' for a secret); AWS would \
                 reject it"
            ),
        ));
    }
    let mut decl = ParameterDecl {
        id: id.clone(),
        param_type: ParameterType::String,
        optional: false,
        allowed_values: Vec::new(),
        default: None,
        is_array: false,
        description: None,
        attributes: object
            .attributes
            .iter()
            .map(|a| (a.key.clone(), a.string_value.clone()))
            .collect(),
    };
    let mut seen: Vec<&str> = Vec::new();
    for attribute in &object.attributes {
        let (key, value) = (attribute.key.as_str(), attribute.string_value.as_str());
        if key != "allowedValues" && seen.contains(&key) {
            problems.push(Problem::error(
                &id,
                Code::InvalidParameter,
                format!("attribute '{key}' is given more than once; the first is used"),
            ));
            continue;
        }
        seen.push(key);
        match key {
            "type" => match ParameterType::parse(value) {
                Some(t) => decl.param_type = t,
                None => problems.push(Problem::error(
                    &id,
                    Code::InvalidParameter,
                    format!(
                        "'type' value '{value}' must be one of String, Integer, Double, \
                         AWS::S3::ObjectKey"
                    ),
                )),
            },
            "optional" | "isArray" => match parse_bool(value) {
                Some(b) if key == "optional" => decl.optional = b,
                Some(b) => decl.is_array = b,
                None => problems.push(Problem::error(
                    &id,
                    Code::InvalidParameter,
                    format!("'{key}' value '{value}' must be true or false"),
                )),
            },
            "allowedValues" => decl.allowed_values.push(value.to_owned()),
            "default" => decl.default = Some(value.to_owned()),
            "description" => decl.description = Some(value.to_owned()),
            _ if KNOWN_ATTRIBUTES.contains(&key)
                || crate::expressions::is_user_name(key.as_bytes()) => {}
            _ => problems.push(Problem::warning(
                &id,
                Code::UnknownParameterAttribute,
                format!(
                    "attribute '{key}' is not a parameter attribute (type, optional, \
                     allowedValues, default, isArray, description, watermark, helpText, helpLink); \
                     it is kept but has no effect"
                ),
            )),
        }
    }
    if let Some(default) = &decl.default
        && let Some(why) = value_problem(&decl, default)
    {
        problems.push(Problem::error(
            &id,
            Code::InvalidParameter,
            format!("'default' {} {why}", shown(&decl, default)),
        ));
    }
    decl
}

/// Why `value` is not acceptable for `decl`, without echoing it.
fn value_problem(decl: &ParameterDecl, value: &str) -> Option<String> {
    if contains_expression(value) {
        return None;
    }
    if let Err(why) = decl.param_type.check(value) {
        return Some(why.to_owned());
    }
    if !decl.allowed_values.is_empty() && !decl.allowed_values.iter().any(|a| a == value) {
        return Some(if decl.is_secret() {
            "is not one of the allowed values".to_owned()
        } else {
            let allowed: Vec<String> = decl
                .allowed_values
                .iter()
                .map(|a| format!("'{a}'"))
                .collect();
            format!("is not one of the allowed values: {}", allowed.join(", "))
        });
    }
    None
}

fn shown(decl: &ParameterDecl, value: &str) -> String {
    if decl.is_secret() {
        "value".to_owned()
    } else {
        format!("value '{value}'")
    }
}

pub(crate) fn parse_bool(text: &str) -> Option<bool> {
    if text.eq_ignore_ascii_case("true") {
        Some(true)
    } else if text.eq_ignore_ascii_case("false") {
        Some(false)
    } else {
        None
    }
}

#[cfg(test)]
mod tests;
