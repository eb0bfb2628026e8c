//! Service limits (Developer Guide "AWS Data Pipeline Limits") as configuration.
//!
//! Design decisions:
//! * Every limit is a field with the AWS value as its default, so an operator can raise the
//!   adjustable ones (objects per pipeline, active instances) for a self-hosted service.
//! * By default a definition that exceeds a limit is still accepted with a warning saying AWS
//!   would reject it ([`Enforcement::Warn`]): Sluice runs locally, where a 1-minute schedule is
//!   useful. [`Enforcement::Error`] turns the same findings into errors, for checking that a
//!   definition will be accepted by AWS.
//! * Periods are written as in definitions (`"15 minutes"`) in configuration files.

use serde::{Deserialize, Serialize};
use sluice_model::{Period, PeriodUnit};

/// Whether exceeding a limit (or using a Sluice-only extension) is a warning or an error.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Enforcement {
    /// Report a warning saying AWS would reject the definition, and accept it.
    #[default]
    Warn,
    /// Report an error: the definition is rejected as AWS would reject it.
    Error,
}

/// The limits validation checks against. Deserializes from a partial table; missing fields take
/// the AWS values.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Limits {
    /// Shortest `Schedule.period` (AWS: 15 minutes, "minimum scheduling interval").
    #[serde(with = "period_text")]
    pub min_schedule_period: Period,
    /// Longest `Schedule.period` (AWS: 3 years).
    #[serde(with = "period_text")]
    pub max_schedule_period: Period,
    /// Shortest `retryDelay` (AWS: 2 minutes between retries).
    #[serde(with = "period_text")]
    pub min_retry_delay: Period,
    /// Largest `maximumRetries` (AWS: 5 retries per task).
    pub max_retries: u32,
    /// Objects per pipeline (AWS: 100, adjustable).
    pub max_objects: usize,
    /// Fields per object (AWS: 50).
    pub max_fields_per_object: usize,
    /// UTF-8 bytes per field name or identifier (AWS: 256).
    pub max_name_bytes: usize,
    /// UTF-8 bytes per field value (AWS: 10,240).
    pub max_value_bytes: usize,
    /// UTF-8 bytes per object, names included (AWS: 15,360).
    pub max_object_bytes: usize,
    /// Parameters declared per definition (AWS: 50).
    pub max_parameters: usize,
    /// Largest `maxActiveInstances` (AWS: 5 active instances per object, adjustable).
    pub max_active_instances: u32,
    /// What exceeding a limit produces.
    pub enforcement: Enforcement,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            min_schedule_period: Period::new(15, PeriodUnit::Minutes),
            max_schedule_period: Period::new(3, PeriodUnit::Years),
            min_retry_delay: Period::new(2, PeriodUnit::Minutes),
            max_retries: 5,
            max_objects: 100,
            max_fields_per_object: 50,
            max_name_bytes: 256,
            max_value_bytes: 10_240,
            max_object_bytes: 15_360,
            max_parameters: 50,
            max_active_instances: 5,
            enforcement: Enforcement::Warn,
        }
    }
}

impl Limits {
    /// The AWS limits, enforced as errors.
    pub fn strict() -> Self {
        Limits {
            enforcement: Enforcement::Error,
            ..Limits::default()
        }
    }
}

/// A period's length for comparisons against limits, counting a month as 30 days and a year as
/// 365 days. Exact between periods of the same unit, which is how limits are normally written.
pub(crate) fn nominal_seconds(period: &Period) -> u64 {
    let unit: u64 = match period.unit {
        PeriodUnit::Seconds => 1,
        PeriodUnit::Minutes => 60,
        PeriodUnit::Hours => 3_600,
        PeriodUnit::Days => 86_400,
        PeriodUnit::Weeks => 7 * 86_400,
        PeriodUnit::Months => 30 * 86_400,
        PeriodUnit::Years => 365 * 86_400,
    };
    u64::from(period.count) * unit
}

mod period_text {
    use serde::{Deserialize, Deserializer, Serializer, de::Error as _};
    use sluice_model::Period;

    pub(super) fn serialize<S: Serializer>(period: &Period, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(period)
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Period, D::Error> {
        let text = String::deserialize(d)?;
        text.parse().map_err(D::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_the_aws_limits() {
        let limits = Limits::default();
        assert_eq!(limits.min_schedule_period.to_string(), "15 minutes");
        assert_eq!(limits.max_schedule_period.to_string(), "3 years");
        assert_eq!(limits.min_retry_delay.to_string(), "2 minutes");
        assert_eq!(limits.max_retries, 5);
        assert_eq!(limits.max_objects, 100);
        assert_eq!(limits.max_fields_per_object, 50);
        assert_eq!(limits.max_name_bytes, 256);
        assert_eq!(limits.max_value_bytes, 10_240);
        assert_eq!(limits.max_object_bytes, 15_360);
        assert_eq!(limits.max_parameters, 50);
        assert_eq!(limits.max_active_instances, 5);
        assert_eq!(limits.enforcement, Enforcement::Warn);
        assert_eq!(Limits::strict().enforcement, Enforcement::Error);
    }

    #[test]
    fn deserializes_partial_tables() {
        let limits: Limits = serde_json::from_str(
            r#"{"min_schedule_period": "1 minute", "max_objects": 500, "enforcement": "error"}"#,
        )
        .unwrap();
        assert_eq!(
            limits.min_schedule_period,
            Period::new(1, PeriodUnit::Minutes)
        );
        assert_eq!(limits.max_objects, 500);
        assert_eq!(limits.enforcement, Enforcement::Error);
        assert_eq!(limits.max_retries, 5);
        let empty: Limits = serde_json::from_str("{}").unwrap();
        assert_eq!(empty, Limits::default());
    }

    #[test]
    fn rejects_bad_periods_and_unknown_keys() {
        assert!(serde_json::from_str::<Limits>(r#"{"min_retry_delay": "soon"}"#).is_err());
        assert!(serde_json::from_str::<Limits>(r#"{"max_object": 5}"#).is_err());
    }

    #[test]
    fn serializes_periods_as_text() {
        let json = serde_json::to_value(Limits::default()).unwrap();
        assert_eq!(json["min_schedule_period"], "15 minutes");
        let back: Limits = serde_json::from_value(json).unwrap();
        assert_eq!(back, Limits::default());
    }

    #[test]
    fn nominal_lengths_compare_like_units() {
        let p = |s: &str| s.parse::<Period>().unwrap();
        assert_eq!(nominal_seconds(&p("36 months")), 36 * 30 * 86_400);
        assert!(nominal_seconds(&p("37 months")) > nominal_seconds(&p("3 years")));
        assert!(nominal_seconds(&p("14 minutes")) < nominal_seconds(&p("15 minutes")));
        assert_eq!(
            nominal_seconds(&p("1 hour")),
            nominal_seconds(&p("60 minutes"))
        );
    }
}
