//! The Period grammar used by `Schedule.period`, `retryDelay`, timeouts and `plusPeriod`:
//! `"N unit"`, unit one of minutes, hours, days, weeks, months, years — case-insensitive,
//! singular or plural, as real definitions spell them (`"1 Day"`, `"15 Minutes"`).
//!
//! `seconds` is accepted as a Sluice extension (validation warns that AWS rejects it), because
//! short periods make local testing practical.

use std::fmt;
use std::str::FromStr;

use chrono::{Duration, Months, NaiveDateTime};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum PeriodUnit {
    /// Sluice extension; AWS rejects it.
    Seconds,
    Minutes,
    Hours,
    Days,
    Weeks,
    Months,
    Years,
}

impl PeriodUnit {
    pub const ALL: [PeriodUnit; 7] = [
        PeriodUnit::Seconds,
        PeriodUnit::Minutes,
        PeriodUnit::Hours,
        PeriodUnit::Days,
        PeriodUnit::Weeks,
        PeriodUnit::Months,
        PeriodUnit::Years,
    ];

    /// The plural lowercase spelling used when printing a period.
    pub fn plural(self) -> &'static str {
        match self {
            PeriodUnit::Seconds => "seconds",
            PeriodUnit::Minutes => "minutes",
            PeriodUnit::Hours => "hours",
            PeriodUnit::Days => "days",
            PeriodUnit::Weeks => "weeks",
            PeriodUnit::Months => "months",
            PeriodUnit::Years => "years",
        }
    }

    fn parse(word: &str) -> Option<PeriodUnit> {
        let lower = word.to_ascii_lowercase();
        let singular = lower.strip_suffix('s').unwrap_or(&lower);
        PeriodUnit::ALL
            .into_iter()
            .find(|u| u.plural().strip_suffix('s') == Some(singular))
    }
}

/// A positive count of one calendar unit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Period {
    pub count: u32,
    pub unit: PeriodUnit,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PeriodError {
    #[error("'{0}' is not a period: expected \"N unit\", e.g. \"15 minutes\" or \"1 day\"")]
    Syntax(String),
    #[error("'{0}' is not a period: the count must be a positive integer")]
    Count(String),
    #[error(
        "'{0}' is not a period: unknown unit (use minutes, hours, days, weeks, months or years)"
    )]
    Unit(String),
}

impl Period {
    pub fn new(count: u32, unit: PeriodUnit) -> Self {
        Period { count, unit }
    }

    /// Returns `at` moved forward by `n` of this period, month- and year-aware (a day past the
    /// end of the target month is clamped to its last day, as Joda-Time does).
    /// Returns `None` on overflow.
    pub fn add_times(&self, at: NaiveDateTime, n: i64) -> Option<NaiveDateTime> {
        let total = i64::from(self.count).checked_mul(n)?;
        match self.unit {
            PeriodUnit::Seconds => at.checked_add_signed(Duration::try_seconds(total)?),
            PeriodUnit::Minutes => at.checked_add_signed(Duration::try_minutes(total)?),
            PeriodUnit::Hours => at.checked_add_signed(Duration::try_hours(total)?),
            PeriodUnit::Days => at.checked_add_signed(Duration::try_days(total)?),
            PeriodUnit::Weeks => at.checked_add_signed(Duration::try_weeks(total)?),
            PeriodUnit::Months => add_months(at, total),
            PeriodUnit::Years => add_months(at, total.checked_mul(12)?),
        }
    }

    /// Returns `at` plus one period.
    pub fn add_to(&self, at: NaiveDateTime) -> Option<NaiveDateTime> {
        self.add_times(at, 1)
    }

    /// Returns `at` minus one period.
    pub fn subtract_from(&self, at: NaiveDateTime) -> Option<NaiveDateTime> {
        self.add_times(at, -1)
    }

    /// A lower bound of the period's length in seconds (months count 28 days, years 365), for
    /// comparing against limits such as the 15-minute minimum.
    pub fn min_seconds(&self) -> u64 {
        let unit: u64 = match self.unit {
            PeriodUnit::Seconds => 1,
            PeriodUnit::Minutes => 60,
            PeriodUnit::Hours => 3_600,
            PeriodUnit::Days => 86_400,
            PeriodUnit::Weeks => 7 * 86_400,
            PeriodUnit::Months => 28 * 86_400,
            PeriodUnit::Years => 365 * 86_400,
        };
        u64::from(self.count) * unit
    }

    /// An upper bound of the period's length in seconds (months count 31 days, years 366).
    pub fn max_seconds(&self) -> u64 {
        let unit: u64 = match self.unit {
            PeriodUnit::Months => 31 * 86_400,
            PeriodUnit::Years => 366 * 86_400,
            _ => return self.min_seconds(),
        };
        u64::from(self.count) * unit
    }
}

fn add_months(at: NaiveDateTime, months: i64) -> Option<NaiveDateTime> {
    let magnitude = Months::new(u32::try_from(months.unsigned_abs()).ok()?);
    if months >= 0 {
        at.checked_add_months(magnitude)
    } else {
        at.checked_sub_months(magnitude)
    }
}

impl FromStr for Period {
    type Err = PeriodError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let mut words = text.split_whitespace();
        let (Some(count), Some(unit), None) = (words.next(), words.next(), words.next()) else {
            return Err(PeriodError::Syntax(text.to_owned()));
        };
        let count = match count.parse::<u32>() {
            Ok(n) if n > 0 && count.bytes().all(|b| b.is_ascii_digit()) => n,
            _ => return Err(PeriodError::Count(text.to_owned())),
        };
        let unit = PeriodUnit::parse(unit).ok_or_else(|| PeriodError::Unit(text.to_owned()))?;
        Ok(Period { count, unit })
    }
}

impl fmt::Display for Period {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.count, self.unit.plural())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::time::parse_datetime;

    #[test]
    fn parses_real_world_spellings() {
        for (text, count, unit) in [
            ("15 minutes", 15, PeriodUnit::Minutes),
            ("1 Day", 1, PeriodUnit::Days),
            ("1 Days", 1, PeriodUnit::Days),
            ("2 weeks", 2, PeriodUnit::Weeks),
            ("1 Hour", 1, PeriodUnit::Hours),
            ("15 Minutes", 15, PeriodUnit::Minutes),
            ("1 month", 1, PeriodUnit::Months),
            ("3 YEARS", 3, PeriodUnit::Years),
            ("30 seconds", 30, PeriodUnit::Seconds),
            ("  1   day ", 1, PeriodUnit::Days),
        ] {
            assert_eq!(
                text.parse::<Period>(),
                Ok(Period::new(count, unit)),
                "{text}"
            );
        }
    }

    #[test]
    fn rejects_malformed_periods() {
        assert!(matches!(
            "15 Period".parse::<Period>(),
            Err(PeriodError::Unit(_))
        ));
        assert!(matches!(
            "0 days".parse::<Period>(),
            Err(PeriodError::Count(_))
        ));
        assert!(matches!(
            "-1 days".parse::<Period>(),
            Err(PeriodError::Count(_))
        ));
        assert!(matches!(
            "+1 days".parse::<Period>(),
            Err(PeriodError::Count(_))
        ));
        assert!(matches!(
            "1.5 days".parse::<Period>(),
            Err(PeriodError::Count(_))
        ));
        assert!(matches!(
            "day".parse::<Period>(),
            Err(PeriodError::Syntax(_))
        ));
        assert!(matches!("".parse::<Period>(), Err(PeriodError::Syntax(_))));
        assert!(matches!(
            "1 day 2".parse::<Period>(),
            Err(PeriodError::Syntax(_))
        ));
        assert!(matches!(
            "1 dayss".parse::<Period>(),
            Err(PeriodError::Unit(_))
        ));
    }

    #[test]
    fn month_arithmetic_clamps_to_month_end() {
        let jan31 = parse_datetime("2026-01-31T10:00:00").unwrap();
        let p = Period::new(1, PeriodUnit::Months);
        assert_eq!(p.add_to(jan31), parse_datetime("2026-02-28T10:00:00").ok());
        assert_eq!(
            p.subtract_from(jan31),
            parse_datetime("2025-12-31T10:00:00").ok()
        );
        let leap = parse_datetime("2024-02-29T00:00:00").unwrap();
        assert_eq!(
            Period::new(1, PeriodUnit::Years).add_to(leap),
            parse_datetime("2025-02-28T00:00:00").ok()
        );
    }

    #[test]
    fn display_round_trips() {
        for unit in PeriodUnit::ALL {
            let p = Period::new(7, unit);
            assert_eq!(p.to_string().parse::<Period>(), Ok(p));
        }
    }
}
