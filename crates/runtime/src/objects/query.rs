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
//! * [`instance_query`] turns the selectors on an instance's indexed columns into a store
//!   query that selects the same instances; the objects are still checked with [`matches`],
//!   so the store only has to find them, never to judge them.

use chrono::TimeDelta;
use sluice_engine::InstanceQuery;
use sluice_model::ops::{OperatorType, Selector};
use sluice_model::time::{format_datetime, parse_datetime};
use sluice_model::{FieldValue, PipelineObject, Status};

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

/// The store query selecting the instances `conditions` select, when every condition is on a
/// column the stores index: `@status`, `@componentParent` or `@sphere` with EQ or REF_EQ, and
/// `@scheduledStartTime` with LE, GE, BETWEEN or an EQ of one value, its values in the
/// `YYYY-MM-DDTHH:MM:SS` form text comparison assumes. `None` otherwise.
pub(crate) fn instance_query(conditions: &[Condition]) -> Option<InstanceQuery> {
    let mut query = InstanceQuery::default();
    for condition in conditions {
        match (condition.field.as_str(), &condition.test) {
            ("@status", Test::OneOf(wanted)) => {
                let statuses = Status::ALL
                    .into_iter()
                    .filter(|s| wanted.iter().any(|w| status_matches(s.as_str(), w)))
                    .collect();
                narrow(&mut query.statuses, statuses);
            }
            ("@componentParent", Test::OneOf(wanted)) => {
                narrow(&mut query.components, wanted.clone());
            }
            // An instance's `@sphere` is INSTANCE; another value selects nothing.
            ("@sphere", Test::OneOf(wanted)) => {
                if !wanted.iter().any(|w| w == "INSTANCE") {
                    query.statuses = Some(Vec::new());
                }
            }
            ("@scheduledStartTime", test) => {
                let (from, before) = start_range(test)?;
                query.start_from = query.start_from.max(from);
                query.start_before = match (query.start_before, before) {
                    (Some(a), Some(b)) => Some(a.min(b)),
                    (a, b) => a.or(b),
                };
            }
            _ => return None,
        }
    }
    Some(query)
}

/// Keeps in `selected` only what `wanted` also holds.
fn narrow<T: PartialEq>(selected: &mut Option<Vec<T>>, wanted: Vec<T>) {
    *selected = Some(match selected.take() {
        None => wanted,
        Some(mut kept) => {
            kept.retain(|k| wanted.contains(k));
            kept
        }
    });
}

/// The scheduled starts a test on `@scheduledStartTime` passes, as `[from, before)`. The field
/// shows the start to the second, so `LE t` passes starts before `t` plus one second.
fn start_range(
    test: &Test,
) -> Option<(Option<chrono::NaiveDateTime>, Option<chrono::NaiveDateTime>)> {
    let at = |text: &str| {
        parse_datetime(text)
            .ok()
            .filter(|t| format_datetime(*t) == text)
    };
    let after = |text: &str| at(text)?.checked_add_signed(TimeDelta::seconds(1));
    match test {
        Test::AtLeast(low) => Some((Some(at(low)?), None)),
        Test::AtMost(high) => Some((None, Some(after(high)?))),
        Test::Between(low, high) => Some((Some(at(low)?), Some(after(high)?))),
        Test::OneOf(values) => match values.as_slice() {
            [only] => Some((Some(at(only)?), Some(after(only)?))),
            _ => None,
        },
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
    fn selectors_on_indexed_columns_become_store_queries() {
        use OperatorType::*;
        let at = |text: &str| parse_datetime(text).unwrap();
        let query = |selectors: &[Selector]| instance_query(&conditions(selectors).unwrap());
        assert_eq!(query(&[]), Some(InstanceQuery::default()));
        let q = query(&[
            selector("@status", Eq, &["waiting", "Cancelled", "NOPE"]),
            selector("@status", RefEq, &["WAITING_FOR_RUNNER", "CANCELED"]),
            selector("@componentParent", RefEq, &["A", "B"]),
            selector("@componentParent", Eq, &["B", "C"]),
            selector("@scheduledStartTime", Ge, &["2026-01-01T00:00:00"]),
            selector(
                "@scheduledStartTime",
                Between,
                &["2025-12-01T00:00:00", "2026-01-31T23:59:59"],
            ),
            selector("@sphere", Eq, &["INSTANCE"]),
        ])
        .unwrap();
        assert_eq!(
            q.statuses,
            Some(vec![Status::WaitingForRunner, Status::Canceled])
        );
        assert_eq!(q.components, Some(vec!["B".to_owned()]));
        // The field shows whole seconds: at most 23:59:59 is anything before midnight.
        assert_eq!(q.start_from, Some(at("2026-01-01T00:00:00")));
        assert_eq!(q.start_before, Some(at("2026-02-01T00:00:00")));
        let one = query(&[selector(
            "@scheduledStartTime",
            Eq,
            &["2026-01-01T10:00:00"],
        )])
        .unwrap();
        assert_eq!(
            (one.start_from, one.start_before),
            (
                Some(at("2026-01-01T10:00:00")),
                Some(at("2026-01-01T10:00:01"))
            )
        );
        let other_sphere = query(&[selector("@sphere", Eq, &["ATTEMPT"])]).unwrap();
        assert!(other_sphere.selects_nothing());

        // Anything else is left to the in-memory path.
        for selectors in [
            vec![selector("@scheduledEndTime", Ge, &["2026-01-01T00:00:00"])],
            vec![selector("@status", Le, &["RUNNING"])],
            vec![selector("@componentParent", Ge, &["A"])],
            vec![selector("errorMessage", Eq, &["boom"])],
            vec![selector(
                "@scheduledStartTime",
                Eq,
                &["2026-01-01T00:00:00", "2026-01-02T00:00:00"],
            )],
            vec![
                selector("@status", Eq, &["FINISHED"]),
                selector("name", Eq, &["x"]),
            ],
        ] {
            assert_eq!(query(&selectors), None, "{selectors:?}");
        }
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
