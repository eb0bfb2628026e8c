//! The ValidatePipelineDefinition answer and the codes its messages use.
//!
//! Design decisions:
//! * Messages are `CODE: text` strings grouped by object id, the shape AWS returns
//!   (`INVALID_FIELD_VALUE: 'startDateTime' value must be ...`). AWS never published its code
//!   list, so [`Code`] is Sluice's own catalogue in the same style.
//! * Problems that belong to no object (object count, empty ids, parameter count) are grouped
//!   under the pseudo-id [`PIPELINE_ID`] (`PipelineDefinition`, after the API's noun); problems of
//!   a parameter under the parameter id.
//! * Order is deterministic: [`PIPELINE_ID`] first, then objects in definition order, then
//!   parameters in declaration order, then anything else in the order first reported. Within an
//!   id, messages keep the order the checks produced them in; exact duplicates are dropped, which
//!   lets checks that see the same inherited value from several objects report it once.
//! * Both lists are always serialized, even when empty, as the AWS CLI example shows.

use std::collections::HashMap;
use std::fmt;

use serde::{Deserialize, Serialize};
use sluice_model::{ValidationError, ValidationWarning};

/// The id under which pipeline-wide problems are reported.
pub const PIPELINE_ID: &str = "PipelineDefinition";

/// Every code a validation message can start with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Code {
    /// Two objects share an id.
    DuplicateId,
    /// An object has an empty id.
    MissingId,
    /// An object has an empty name.
    MissingName,
    /// An untyped object that is neither `Default` nor anyone's parent (warning).
    MissingType,
    /// `type` names no type of the catalog.
    UnknownType,
    /// The type is deprecated (warning).
    DeprecatedType,
    /// The field is deprecated (warning).
    DeprecatedField,
    /// A field the object's type does not accept, or, on untyped objects, that no type accepts.
    UnknownField,
    /// A runtime field (`@…`, or one the service writes such as `hostname`) set in a definition.
    ReadOnlyField,
    /// A required field, or every field of a required group, is missing.
    MissingRequiredField,
    /// Fields that exclude each other are both set.
    ConflictingFields,
    /// Several values for a field that takes one.
    RepeatedField,
    /// A value of the wrong form or outside the allowed set.
    InvalidFieldValue,
    /// A `#{...}` expression that does not parse.
    InvalidExpression,
    /// A dangling reference, a string where a reference is needed (or the reverse), or a
    /// reference to an object of the wrong type.
    InvalidReference,
    /// `parent` links form a cycle.
    CircularReference,
    /// `dependsOn` links form a cycle.
    CircularDependency,
    /// `scheduleType` / `Schedule` combinations the service rejects.
    InvalidScheduleType,
    /// A field that has no effect where it is set (warning).
    IgnoredField,
    /// Failure cascading combined with a backfill (warning, AWS text).
    CascadeBackfill,
    /// An expression names a `my…` parameter nobody declared or gave a value.
    UndefinedParameter,
    /// A parameter id declared twice.
    DuplicateParameter,
    /// A parameter id without the `my` prefix (warning).
    InvalidParameterId,
    /// A malformed parameter attribute (`type`, `optional`, `isArray`, `default`).
    InvalidParameter,
    /// An attribute Sluice does not know (warning).
    UnknownParameterAttribute,
    /// A required parameter with neither value nor default.
    MissingParameterValue,
    /// A parameter value of the wrong type, not allowed, or repeated for a non-array.
    InvalidParameterValue,
    /// A service limit is exceeded (warning or error per [`crate::Enforcement`]).
    LimitExceeded,
    /// A Sluice extension AWS would reject, e.g. periods in seconds (warning or error per
    /// [`crate::Enforcement`]).
    SluiceExtension,
}

impl Code {
    pub const ALL: [Code; 29] = [
        Code::DuplicateId,
        Code::MissingId,
        Code::MissingName,
        Code::MissingType,
        Code::UnknownType,
        Code::DeprecatedType,
        Code::DeprecatedField,
        Code::UnknownField,
        Code::ReadOnlyField,
        Code::MissingRequiredField,
        Code::ConflictingFields,
        Code::RepeatedField,
        Code::InvalidFieldValue,
        Code::InvalidExpression,
        Code::InvalidReference,
        Code::CircularReference,
        Code::CircularDependency,
        Code::InvalidScheduleType,
        Code::IgnoredField,
        Code::CascadeBackfill,
        Code::UndefinedParameter,
        Code::DuplicateParameter,
        Code::InvalidParameterId,
        Code::InvalidParameter,
        Code::UnknownParameterAttribute,
        Code::MissingParameterValue,
        Code::InvalidParameterValue,
        Code::LimitExceeded,
        Code::SluiceExtension,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Code::DuplicateId => "DUPLICATE_ID",
            Code::MissingId => "MISSING_ID",
            Code::MissingName => "MISSING_NAME",
            Code::MissingType => "MISSING_TYPE",
            Code::UnknownType => "UNKNOWN_TYPE",
            Code::DeprecatedType => "DEPRECATED_TYPE",
            Code::DeprecatedField => "DEPRECATED_FIELD",
            Code::UnknownField => "UNKNOWN_FIELD",
            Code::ReadOnlyField => "READ_ONLY_FIELD",
            Code::MissingRequiredField => "MISSING_REQUIRED_FIELD",
            Code::ConflictingFields => "CONFLICTING_FIELDS",
            Code::RepeatedField => "REPEATED_FIELD",
            Code::InvalidFieldValue => "INVALID_FIELD_VALUE",
            Code::InvalidExpression => "INVALID_EXPRESSION",
            Code::InvalidReference => "INVALID_REFERENCE",
            Code::CircularReference => "CIRCULAR_REFERENCE",
            Code::CircularDependency => "CIRCULAR_DEPENDENCY",
            Code::InvalidScheduleType => "INVALID_SCHEDULE_TYPE",
            Code::IgnoredField => "IGNORED_FIELD",
            Code::CascadeBackfill => "CASCADE_BACKFILL",
            Code::UndefinedParameter => "UNDEFINED_PARAMETER",
            Code::DuplicateParameter => "DUPLICATE_PARAMETER",
            Code::InvalidParameterId => "INVALID_PARAMETER_ID",
            Code::InvalidParameter => "INVALID_PARAMETER",
            Code::UnknownParameterAttribute => "UNKNOWN_PARAMETER_ATTRIBUTE",
            Code::MissingParameterValue => "MISSING_PARAMETER_VALUE",
            Code::InvalidParameterValue => "INVALID_PARAMETER_VALUE",
            Code::LimitExceeded => "LIMIT_EXCEEDED",
            Code::SluiceExtension => "SLUICE_EXTENSION",
        }
    }
}

impl fmt::Display for Code {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Errors block activation; warnings do not.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Severity {
    Error,
    Warning,
}

/// One finding before grouping.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Problem {
    pub(crate) id: String,
    pub(crate) severity: Severity,
    pub(crate) code: Code,
    pub(crate) text: String,
}

impl Problem {
    pub(crate) fn error(id: impl Into<String>, code: Code, text: impl Into<String>) -> Self {
        Problem {
            id: id.into(),
            severity: Severity::Error,
            code,
            text: text.into(),
        }
    }

    pub(crate) fn warning(id: impl Into<String>, code: Code, text: impl Into<String>) -> Self {
        Problem {
            id: id.into(),
            severity: Severity::Warning,
            code,
            text: text.into(),
        }
    }

    pub(crate) fn message(&self) -> String {
        format!("{}: {}", self.code, self.text)
    }
}

/// Collects problems and groups them into a report.
#[derive(Debug, Default)]
pub(crate) struct Collector {
    problems: Vec<Problem>,
}

impl Collector {
    pub(crate) fn push(&mut self, problem: Problem) {
        self.problems.push(problem);
    }

    pub(crate) fn error(&mut self, id: &str, code: Code, text: impl Into<String>) {
        self.push(Problem::error(id, code, text));
    }

    pub(crate) fn warning(&mut self, id: &str, code: Code, text: impl Into<String>) {
        self.push(Problem::warning(id, code, text));
    }

    pub(crate) fn extend(&mut self, problems: impl IntoIterator<Item = Problem>) {
        self.problems.extend(problems);
    }

    /// Groups the problems; `order` lists the ids whose position is known (objects, then
    /// parameters), anything else follows in the order reported.
    pub(crate) fn finish<'a>(self, order: impl IntoIterator<Item = &'a str>) -> ValidationReport {
        let mut rank: HashMap<&str, usize> = HashMap::new();
        rank.insert(PIPELINE_ID, 0);
        for id in order {
            let next = rank.len();
            rank.entry(id).or_insert(next);
        }
        let known = rank.len();
        let mut first_seen: HashMap<&str, usize> = HashMap::new();
        for (i, p) in self.problems.iter().enumerate() {
            first_seen.entry(p.id.as_str()).or_insert(i);
        }
        let key = |id: &str| rank.get(id).copied().unwrap_or(known + first_seen[id]);
        let mut report = ValidationReport::default();
        let mut problems: Vec<&Problem> = self.problems.iter().collect();
        // Stable: within an id the production order is kept.
        problems.sort_by_key(|p| key(&p.id));
        for p in problems {
            match p.severity {
                Severity::Error => report.add_error(p.id.clone(), p.message()),
                Severity::Warning => report.add_warning(p.id.clone(), p.message()),
            }
        }
        report
    }
}

/// What ValidatePipelineDefinition (and PutPipelineDefinition) answer.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ValidationReport {
    pub errors: Vec<ValidationError>,
    pub warnings: Vec<ValidationWarning>,
}

impl ValidationReport {
    /// True when there is at least one error: the definition cannot be activated.
    pub fn errored(&self) -> bool {
        self.errors.iter().any(|e| !e.errors.is_empty())
    }

    /// True when there are neither errors nor warnings.
    pub fn is_clean(&self) -> bool {
        !self.errored() && self.warnings.iter().all(|w| w.warnings.is_empty())
    }

    /// Appends an error message to `id`'s group (created at the end if absent). Exact
    /// duplicates within a group are dropped.
    pub fn add_error(&mut self, id: impl Into<String>, message: impl Into<String>) {
        let id = id.into();
        let message = message.into();
        match self.errors.iter_mut().find(|e| e.id == id) {
            Some(group) if group.errors.contains(&message) => {}
            Some(group) => group.errors.push(message),
            None => self.errors.push(ValidationError {
                id,
                errors: vec![message],
            }),
        }
    }

    /// Appends a warning message to `id`'s group (created at the end if absent). Exact
    /// duplicates within a group are dropped.
    pub fn add_warning(&mut self, id: impl Into<String>, message: impl Into<String>) {
        let id = id.into();
        let message = message.into();
        match self.warnings.iter_mut().find(|w| w.id == id) {
            Some(group) if group.warnings.contains(&message) => {}
            Some(group) => group.warnings.push(message),
            None => self.warnings.push(ValidationWarning {
                id,
                warnings: vec![message],
            }),
        }
    }

    /// The error messages of one id.
    pub fn errors_for(&self, id: &str) -> &[String] {
        self.errors
            .iter()
            .find(|e| e.id == id)
            .map_or(&[], |e| &e.errors)
    }

    /// The warning messages of one id.
    pub fn warnings_for(&self, id: &str) -> &[String] {
        self.warnings
            .iter()
            .find(|w| w.id == id)
            .map_or(&[], |w| &w.warnings)
    }

    /// Every error as `(id, message)`, in report order.
    pub fn error_messages(&self) -> impl Iterator<Item = (&str, &str)> {
        self.errors
            .iter()
            .flat_map(|e| e.errors.iter().map(|m| (e.id.as_str(), m.as_str())))
    }

    /// Every warning as `(id, message)`, in report order.
    pub fn warning_messages(&self) -> impl Iterator<Item = (&str, &str)> {
        self.warnings
            .iter()
            .flat_map(|w| w.warnings.iter().map(|m| (w.id.as_str(), m.as_str())))
    }

    /// Whether any error of `id` starts with `code`.
    pub fn has_error(&self, id: &str, code: Code) -> bool {
        self.errors_for(id).iter().any(|m| has_code(m, code))
    }

    /// Whether any warning of `id` starts with `code`.
    pub fn has_warning(&self, id: &str, code: Code) -> bool {
        self.warnings_for(id).iter().any(|m| has_code(m, code))
    }
}

fn has_code(message: &str, code: Code) -> bool {
    message
        .strip_prefix(code.as_str())
        .is_some_and(|rest| rest.starts_with(':'))
}

/// The response shape of ValidatePipelineDefinition.
#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Wire {
    #[serde(default)]
    errored: bool,
    #[serde(default)]
    validation_errors: Vec<ValidationError>,
    #[serde(default)]
    validation_warnings: Vec<ValidationWarning>,
}

impl Serialize for ValidationReport {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        Wire {
            errored: self.errored(),
            validation_errors: self.errors.clone(),
            validation_warnings: self.warnings.clone(),
        }
        .serialize(s)
    }
}

impl<'de> Deserialize<'de> for ValidationReport {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        // `errored` is derived from the errors rather than trusted.
        let wire = Wire::deserialize(d)?;
        Ok(ValidationReport {
            errors: wire.validation_errors,
            warnings: wire.validation_warnings,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_unique_screaming_snake_case() {
        let mut seen = std::collections::HashSet::new();
        for code in Code::ALL {
            let s = code.as_str();
            assert!(seen.insert(s), "{s}");
            assert!(s.chars().all(|c| c.is_ascii_uppercase() || c == '_'), "{s}");
        }
    }

    #[test]
    fn serializes_as_the_api_response_with_both_lists() {
        let empty = ValidationReport::default();
        assert_eq!(
            serde_json::to_string(&empty).unwrap(),
            r#"{"errored":false,"validationErrors":[],"validationWarnings":[]}"#
        );
        let mut report = ValidationReport::default();
        report.add_error("A", "UNKNOWN_TYPE: x");
        report.add_warning("B", "MISSING_TYPE: y");
        let json = serde_json::to_value(&report).unwrap();
        assert_eq!(json["errored"], true);
        assert_eq!(json["validationErrors"][0]["id"], "A");
        assert_eq!(json["validationErrors"][0]["errors"][0], "UNKNOWN_TYPE: x");
        assert_eq!(
            json["validationWarnings"][0]["warnings"][0],
            "MISSING_TYPE: y"
        );
        let back: ValidationReport = serde_json::from_value(json).unwrap();
        assert_eq!(back, report);
        let minimal: ValidationReport = serde_json::from_str(r#"{"errored": false}"#).unwrap();
        assert_eq!(minimal, ValidationReport::default());
    }

    #[test]
    fn collector_orders_by_rank_then_production_and_drops_duplicates() {
        let mut c = Collector::default();
        c.warning("zzz", Code::MissingType, "late");
        c.error("B", Code::UnknownType, "b1");
        c.error("A", Code::UnknownType, "a1");
        c.error(PIPELINE_ID, Code::LimitExceeded, "p");
        c.error("B", Code::UnknownField, "b2");
        c.error("B", Code::UnknownType, "b1");
        c.warning("A", Code::IgnoredField, "w");
        let report = c.finish(["A", "B"]);
        let ids: Vec<_> = report.errors.iter().map(|e| e.id.as_str()).collect();
        assert_eq!(ids, [PIPELINE_ID, "A", "B"]);
        assert_eq!(
            report.errors_for("B"),
            ["UNKNOWN_TYPE: b1", "UNKNOWN_FIELD: b2"]
        );
        let wids: Vec<_> = report.warnings.iter().map(|w| w.id.as_str()).collect();
        assert_eq!(wids, ["A", "zzz"]);
        assert!(report.has_error("B", Code::UnknownField));
        assert!(!report.has_error("B", Code::ReadOnlyField));
        assert!(!has_code("UNKNOWN_FIELDS: x", Code::UnknownField));
        assert!(report.errored());
        assert!(!report.is_clean());
    }
}
