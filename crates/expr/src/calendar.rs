//! Datetime arithmetic with Joda-Time's rules: hours and smaller move the instant; days, weeks,
//! months and years move the local wall-clock time of the value's zone (so `plusDays` keeps
//! 09:00 across a daylight-saving change), months clamp to the end of the target month.
//!
//! A local time that falls in a daylight-saving gap is moved forward by the gap, as Joda does;
//! an ambiguous one takes the earlier offset. Results are kept within years 1..=9999, the range
//! `YYYY-MM-DDTHH:MM:SS` can express, which also keeps chrono's conversions away from the
//! edges where they would panic.

use chrono::{DateTime, Datelike, Days, MappedLocalTime, NaiveDateTime, Offset, TimeZone};
use chrono_tz::Tz;
use sluice_model::{Period, PeriodUnit};

/// The wall-clock time of `at` in its zone.
pub(crate) fn local(at: &DateTime<Tz>) -> NaiveDateTime {
    at.naive_utc()
        .checked_add_offset(at.offset().fix())
        .unwrap_or_else(|| at.naive_utc())
}

/// The instant whose wall-clock time in `zone` is `wall`.
pub(crate) fn resolve_local(zone: Tz, wall: NaiveDateTime) -> Option<DateTime<Tz>> {
    let resolved = match zone.from_local_datetime(&wall) {
        MappedLocalTime::Single(at) | MappedLocalTime::Ambiguous(at, _) => at,
        MappedLocalTime::None => {
            // In a gap: read the wall time with the offset in force before the transition,
            // which lands the same distance past the gap's end.
            let before = wall.checked_sub_days(Days::new(1))?;
            let offset = zone.offset_from_utc_datetime(&before).fix();
            zone.from_utc_datetime(&wall.checked_sub_offset(offset)?)
        }
    };
    in_range(&resolved).then_some(resolved)
}

/// Whether both the instant and its wall-clock time lie within years 1..=9999.
pub(crate) fn in_range(at: &DateTime<Tz>) -> bool {
    let year_ok = |wall: NaiveDateTime| (1..=9999).contains(&wall.year());
    year_ok(at.naive_utc())
        && at
            .naive_utc()
            .checked_add_offset(at.offset().fix())
            .is_some_and(year_ok)
}

/// Moves `at` by `times` repetitions of `period`; `None` when the result leaves the range.
pub(crate) fn shift(at: &DateTime<Tz>, period: Period, times: i64) -> Option<DateTime<Tz>> {
    let zone = at.timezone();
    match period.unit {
        PeriodUnit::Seconds | PeriodUnit::Minutes | PeriodUnit::Hours => {
            let moved = zone.from_utc_datetime(&period.add_times(at.naive_utc(), times)?);
            in_range(&moved).then_some(moved)
        }
        PeriodUnit::Days | PeriodUnit::Weeks | PeriodUnit::Months | PeriodUnit::Years => {
            resolve_local(zone, period.add_times(local(at), times)?)
        }
    }
}

/// Replaces the wall-clock time of `at` with `change(wall)`, keeping the zone.
pub(crate) fn with_local(
    at: &DateTime<Tz>,
    change: impl FnOnce(NaiveDateTime) -> Option<NaiveDateTime>,
) -> Option<DateTime<Tz>> {
    resolve_local(at.timezone(), change(local(at))?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono_tz::America::Los_Angeles;

    fn wall(text: &str) -> NaiveDateTime {
        sluice_model::time::parse_datetime(text).unwrap()
    }

    #[test]
    fn days_keep_wall_time_across_dst_and_hours_keep_elapsed_time() {
        let before = resolve_local(Los_Angeles, wall("2011-03-12T09:00:00")).unwrap();
        let day = Period::new(1, PeriodUnit::Days);
        let hours = Period::new(24, PeriodUnit::Hours);
        assert_eq!(
            local(&shift(&before, day, 1).unwrap()),
            wall("2011-03-13T09:00:00")
        );
        assert_eq!(
            local(&shift(&before, hours, 1).unwrap()),
            wall("2011-03-13T10:00:00")
        );
    }

    #[test]
    fn gaps_move_forward_and_overlaps_take_the_earlier_offset() {
        let in_gap = resolve_local(Los_Angeles, wall("2011-03-13T02:30:00")).unwrap();
        assert_eq!(local(&in_gap), wall("2011-03-13T03:30:00"));
        let overlap = resolve_local(Los_Angeles, wall("2011-11-06T01:30:00")).unwrap();
        assert_eq!(overlap.naive_utc(), wall("2011-11-06T08:30:00"));
    }

    #[test]
    fn results_stay_in_four_digit_years() {
        let at = resolve_local(Tz::UTC, wall("9999-12-31T23:00:00")).unwrap();
        assert!(shift(&at, Period::new(1, PeriodUnit::Days), 1).is_none());
        assert!(shift(&at, Period::new(1, PeriodUnit::Hours), 1).is_none());
        assert!(shift(&at, Period::new(1, PeriodUnit::Years), i64::MAX).is_none());
        assert!(shift(&at, Period::new(1, PeriodUnit::Minutes), i64::MIN).is_none());
        let at = resolve_local(Tz::UTC, wall("0001-01-01T03:00:00")).unwrap();
        assert!(!in_range(&at.with_timezone(&Los_Angeles)));
    }
}
