//! QueryObjects' selector language (service model `Query`, `Selector`, `Operator`).
//!
//! Design decisions:
//! * Every selector must hold (AND); an object without the field fails the selector.
//! * `EQ` is "the field has one of `values`" (the AWS CLI's `list-runs --status a,b` sends
//!   several values in one EQ selector). `EQ` and `REF_EQ` both compare against string and
//!   reference values alike, so `@componentParent EQ X` and `REF_EQ X` agree.
//! * On `@status`, values compare case-insensitively and the AWS CLI's spellings are accepted:
//!   `CANCELLED` means CANCELED, `WAITING` either WAITING_ON_DEPENDENCIES or
//!   WAITING_FOR_RUNNER.
//! * `LE`, `GE` and `BETWEEN` (inclusive, `[low, high]`) compare text; on the four time
//!   fields the values must be `YYYY-MM-DDTHH:MM:SS`, whose text order is time order.
//! * `name` and `@id` may be selected although they are object members rather than fields.

use sluice_model::ops::{OperatorType, Selector};
use sluice_model::time::parse_datetime;
use sluice_model::{FieldValue, PipelineObject};

use crate::error::{ApiError, ApiResult};

const TIME_FIELDS: [&str; 4] = [
    "@scheduledStartTime",
    "@scheduledEndTime",
    "@actualStartTime",
    "@actualEndTime",
];

/// A checked selector.
#[derive(Debug, Clone)]
pub(crate) struct Condition {
    field: String,
    test: Test,
}

#[derive(Debug, Clone)]
enum Test {
    OneOf(Vec<String>),
    AtMost(String),
    AtLeast(String),
    Between(String, String),
}

/// Checks the selectors of a query.
pub(crate) fn conditions(selectors: &[Selector]) -> ApiResult<Vec<Condition>> {
    selectors
        .iter()
        .enumerate()
        .map(|(i, s)| condition(i + 1, s))
        .collect()
}

fn condition(n: usize, selector: &Selector) -> ApiResult<Condition> {
    let bad = |text: &str| Err(ApiError::invalid(format!("query selector {n}: {text}")));
    let Some(field) = selector.field_name.as_deref().filter(|f| !f.is_empty()) else {
        return bad("fieldName is required");
    };
    let Some(operator) = &selector.operator else {
        return bad("operator is required");
    };
    let Some(kind) = operator.operator_type else {
        return bad("operator type is required (EQ, REF_EQ, LE, GE or BETWEEN)");
    };
    let values = operator.values.clone().unwrap_or_default();
    if matches!(
        kind,
        OperatorType::Le | OperatorType::Ge | OperatorType::Between
    ) {
        let wanted = if kind == OperatorType::Between { 2 } else { 1 };
        if values.len() != wanted {
            return bad(&format!(
                "{} takes {wanted} value{}",
                type_name(kind),
                if wanted == 1 { "" } else { "s" }
            ));
        }
        if TIME_FIELDS.contains(&field) {
            for value in &values {
                if parse_datetime(value).is_err() {
                    return bad(&format!(
                        "'{value}' is not a datetime: expected YYYY-MM-DDTHH:MM:SS"
                    ));
                }
            }
        }
    }
    let test = match kind {
        OperatorType::Eq | OperatorType::RefEq => Test::OneOf(values),
        OperatorType::Le => Test::AtMost(values[0].clone()),
        OperatorType::Ge => Test::AtLeast(values[0].clone()),
        OperatorType::Between => Test::Between(values[0].clone(), values[1].clone()),
    };
    Ok(Condition {
        field: field.to_owned(),
        test,
    })
}

fn type_name(kind: OperatorType) -> &'static str {
    match kind {
        OperatorType::Eq => "EQ",
        OperatorType::RefEq => "REF_EQ",
        OperatorType::Le => "LE",
        OperatorType::Ge => "GE",
        OperatorType::Between => "BETWEEN",
    }
}

/// Whether `object` satisfies every condition.
pub(crate) fn matches(object: &PipelineObject, conditions: &[Condition]) -> bool {
    conditions.iter().all(|c| c.holds(object))
}

impl Condition {
    fn holds(&self, object: &PipelineObject) -> bool {
        let mut values: Vec<&str> = object
            .values(&self.field)
            .map(|v| match v {
                FieldValue::String(s) | FieldValue::Ref(s) => s.as_str(),
            })
            .collect();
        if values.is_empty() {
            match self.field.as_str() {
                "name" => values.push(&object.name),
                "@id" => values.push(&object.id),
                _ => return false,
            }
        }
        values.into_iter().any(|value| self.test_value(value))
    }

    fn test_value(&self, value: &str) -> bool {
        match &self.test {
            Test::OneOf(wanted) if self.field == "@status" => {
                wanted.iter().any(|w| status_matches(value, w))
            }
            Test::OneOf(wanted) => wanted.iter().any(|w| w == value),
            Test::AtMost(high) => value <= high.as_str(),
            Test::AtLeast(low) => value >= low.as_str(),
            Test::Between(low, high) => low.as_str() <= value && value <= high.as_str(),
        }
    }
}

fn status_matches(actual: &str, wanted: &str) -> bool {
    if wanted.eq_ignore_ascii_case("CANCELLED") {
        return actual == "CANCELED";
    }
    if wanted.eq_ignore_ascii_case("WAITING") {
        return actual == "WAITING_ON_DEPENDENCIES" || actual == "WAITING_FOR_RUNNER";
    }
    actual.eq_ignore_ascii_case(wanted)
}

#[cfg(test)]
mod tests {
    use super::*;
    use sluice_model::Field;
    use sluice_model::ops::Operator;

    fn selector(field: &str, kind: OperatorType, values: &[&str]) -> Selector {
        Selector {
            field_name: Some(field.into()),
            operator: Some(Operator {
                operator_type: Some(kind),
                values: Some(values.iter().map(|v| v.to_string()).collect()),
            }),
        }
    }

    fn object() -> PipelineObject {
        PipelineObject {
            id: "@A_2026-01-01T00:00:00".into(),
            name: "@A_2026-01-01T00:00:00".into(),
            fields: vec![
                Field::reference("@componentParent", "A"),
                Field::string("@status", "WAITING_FOR_RUNNER"),
                Field::string("@scheduledStartTime", "2026-01-01T00:00:00"),
            ],
        }
    }

    fn check(selectors: &[Selector]) -> bool {
        matches(&object(), &conditions(selectors).unwrap())
    }

    #[test]
    fn operators_match_as_documented() {
        use OperatorType::*;
        assert!(check(&[]));
        assert!(check(&[selector("@status", Eq, &["FINISHED", "waiting"])]));
        assert!(!check(&[selector("@status", Eq, &["FINISHED"])]));
        assert!(check(&[selector("@componentParent", RefEq, &["A"])]));
        assert!(check(&[selector("@componentParent", Eq, &["A"])]));
        assert!(check(&[selector(
            "@scheduledStartTime",
            Between,
            &["2026-01-01T00:00:00", "2026-01-02T00:00:00"]
        )]));
        assert!(check(&[selector(
            "@scheduledStartTime",
            Le,
            &["2026-01-01T00:00:00"]
        )]));
        assert!(!check(&[selector(
            "@scheduledStartTime",
            Ge,
            &["2026-01-01T00:00:01"]
        )]));
        assert!(!check(&[selector(
            "@actualStartTime",
            Ge,
            &["2000-01-01T00:00:00"]
        )]));
        assert!(check(&[selector("name", Eq, &["@A_2026-01-01T00:00:00"])]));
        assert!(!check(&[
            selector("@componentParent", RefEq, &["A"]),
            selector("@status", Eq, &["RUNNING"])
        ]));
    }

    #[test]
    fn malformed_selectors_are_invalid_requests() {
        use OperatorType::*;
        for bad in [
            selector("@scheduledStartTime", Between, &["2026-01-01T00:00:00"]),
            selector("@scheduledStartTime", Le, &["yesterday"]),
            Selector {
                field_name: Some("@status".into()),
                operator: None,
            },
            Selector::default(),
        ] {
            let error = conditions(&[bad]).unwrap_err();
            assert_eq!(error.aws_type(), "InvalidRequestException");
        }
    }
}
