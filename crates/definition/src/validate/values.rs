//! Scalar values by field type, and the limits that apply to particular fields.
//!
//! Two AWS special values are accepted where the DG shows them: `ONDEMAND_PERIOD` for
//! `Schedule.period` and `ONDEMAND_ACTIVATION_TIME` for `Schedule.startAt`.

use sluice_catalog::ValueType;
use sluice_model::time::parse_datetime;
use sluice_model::{Period, PeriodUnit};

use super::{SpecOf, Validator, shown};
use crate::limits::nominal_seconds;
use crate::params::parse_bool;
use crate::report::Code;

pub(crate) const ONDEMAND_PERIOD: &str = "ONDEMAND_PERIOD";
const ONDEMAND_ACTIVATION_TIME: &str = "ONDEMAND_ACTIVATION_TIME";

/// Smallest sensible value of integer fields whose meaning implies one.
const INTEGER_MINIMUMS: &[(&str, i64)] = &[
    ("maximumRetries", 0),
    ("maxActiveInstances", 1),
    ("occurrences", 1),
];

impl Validator<'_> {
    pub(super) fn check_scalar(&mut self, id: &str, key: &str, text: &str, spec: &SpecOf) {
        let value = shown(key, text);
        match spec.spec.value_type {
            ValueType::String if key == "workerGroup" && text.starts_with('@') => {
                self.invalid(
                    id,
                    format!(
                        "'workerGroup' {value} must not start with '@': such names are reserved \
                         for the groups of resource instances and of the service's own checks"
                    ),
                );
            }
            ValueType::String | ValueType::Reference(_) => {}
            ValueType::Integer => match text.parse::<i64>() {
                Ok(n) => self.check_integer(id, key, n),
                Err(_) => self.invalid(id, format!("'{key}' {value} must be an integer")),
            },
            ValueType::Double => {
                let numeric = text
                    .bytes()
                    .all(|b| b.is_ascii_digit() || b".+-eE".contains(&b));
                if !numeric || !text.parse::<f64>().is_ok_and(f64::is_finite) {
                    self.invalid(id, format!("'{key}' {value} must be a number"));
                }
            }
            ValueType::Boolean => {
                if parse_bool(text).is_none() {
                    self.invalid(id, format!("'{key}' {value} must be true or false"));
                }
            }
            ValueType::DateTime => {
                if parse_datetime(text).is_err() {
                    self.invalid(
                        id,
                        format!(
                            "'{key}' value must be a literal datetime value (YYYY-MM-DDTHH:MM:SS)"
                        ),
                    );
                }
            }
            ValueType::Period => {
                if key == "period" && text.eq_ignore_ascii_case(ONDEMAND_PERIOD) {
                    return;
                }
                match text.parse::<Period>() {
                    Ok(period) => self.check_period(id, key, text, &period, spec),
                    Err(_) if crate::params::is_secret(key) => {
                        self.invalid(id, format!("'{key}' value is not a period (\"N unit\")"));
                    }
                    Err(error) => self.invalid(id, format!("'{key}' value {error}")),
                }
            }
            ValueType::Enumeration(allowed) => {
                if key == "startAt" && text.eq_ignore_ascii_case(ONDEMAND_ACTIVATION_TIME) {
                    return;
                }
                if !allowed.iter().any(|a| a.eq_ignore_ascii_case(text)) {
                    self.invalid(
                        id,
                        format!("'{key}' {value} must be one of {}", allowed.join(", ")),
                    );
                }
            }
        }
    }

    fn invalid(&mut self, id: &str, text: String) {
        self.out.error(id, Code::InvalidFieldValue, text);
    }

    fn check_integer(&mut self, id: &str, key: &str, n: i64) {
        if let Some((_, min)) = INTEGER_MINIMUMS.iter().find(|(k, _)| *k == key)
            && n < *min
        {
            self.invalid(id, format!("'{key}' must be at least {min}, not {n}"));
            return;
        }
        let limit = match key {
            "maximumRetries" => Some((self.limits.max_retries, "retries")),
            "maxActiveInstances" => Some((self.limits.max_active_instances, "active instances")),
            _ => None,
        };
        if let Some((max, what)) = limit
            && n > i64::from(max)
        {
            self.limit(
                id,
                format!("'{key}' is {n}; AWS allows at most {max} {what} and would reject it"),
            );
        }
    }

    fn check_period(&mut self, id: &str, key: &str, text: &str, period: &Period, spec: &SpecOf) {
        if period.unit == PeriodUnit::Seconds {
            self.enforced(
                id,
                Code::SluiceExtension,
                format!(
                    "'{key}' is '{text}': periods in seconds are a Sluice extension; AWS would \
                     reject it"
                ),
            );
        }
        let length = nominal_seconds(period);
        if key == "period" && spec.type_name == "Schedule" {
            let min = self.limits.min_schedule_period;
            let max = self.limits.max_schedule_period;
            if length < nominal_seconds(&min) {
                self.limit(
                    id,
                    format!(
                        "'period' '{text}' is shorter than the minimum scheduling interval of \
                         {min}; AWS would reject it"
                    ),
                );
            } else if length > nominal_seconds(&max) {
                self.limit(
                    id,
                    format!(
                        "'period' '{text}' is longer than the maximum of {max}; AWS would reject it"
                    ),
                );
            }
        }
        if key == "retryDelay" {
            let min = self.limits.min_retry_delay;
            if length < nominal_seconds(&min) {
                self.limit(
                    id,
                    format!(
                        "'retryDelay' '{text}' is shorter than the minimum delay between retries \
                         of {min}; AWS would reject it"
                    ),
                );
            }
        }
    }
}
