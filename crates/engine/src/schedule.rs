//! Schedules: which intervals a scheduled component runs for, and when each is due.
//!
//! Design decisions:
//! * Interval `k` is `[start + k·period, start + (k+1)·period)`, always computed from `start`
//!   with [`Period::add_times`] rather than by repeated addition, so month periods starting on
//!   the 31st land on the 31st again after a short month instead of drifting to the 28th.
//!   Consecutive intervals therefore share their boundary by construction (contiguous).
//! * An `endDateTime` keeps an interval only when the interval's end is at or before it
//!   (AWS: "exclusive end of last interval ≤ endDateTime"); `occurrences: n` keeps intervals
//!   `0..n`. Without either the schedule never ends.
//! * `scheduleType` is parsed case-insensitively (`cron`, `CRON`, …). When a component sets
//!   none the default is `timeseries`: no AWS source states the default, timeseries is what
//!   the reference assumes, and real definitions almost always set `cron` on `Default`, so the
//!   choice rarely matters.
//! * An instance is *due* — may start running — at its interval start for `cron` and at its
//!   interval end for `timeseries`. Resources ignore the schedule type and are due at the
//!   interval start (that is where [`ScheduleType::due`] is not used for them; see the plan).
//! * `startAt: FIRST_ACTIVATION_DATE_TIME` leaves the start open until the pipeline is first
//!   activated; [`ScheduleSpec::timeline`] then takes that time.

use chrono::{Datelike, NaiveDateTime};
use sluice_definition::ResolvedObject;
use sluice_model::time::parse_datetime;
use sluice_model::{Period, PeriodUnit};

/// `startAt` value that starts a schedule at the pipeline's first activation.
pub const FIRST_ACTIVATION_DATE_TIME: &str = "FIRST_ACTIVATION_DATE_TIME";
/// `period` of AWS's on-demand Schedule variant.
pub const ONDEMAND_PERIOD: &str = "ONDEMAND_PERIOD";

/// How a component's instances relate to their interval (`scheduleType`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum ScheduleType {
    /// Runs at the start of each interval.
    Cron,
    /// Runs at the end of each interval (the default when unset).
    #[default]
    Timeseries,
    /// Runs once per activation; no schedule.
    Ondemand,
}

impl ScheduleType {
    /// Parses a `scheduleType` value case-insensitively.
    pub fn parse(text: &str) -> Option<ScheduleType> {
        let text = text.trim();
        [
            ("cron", ScheduleType::Cron),
            ("timeseries", ScheduleType::Timeseries),
            ("ondemand", ScheduleType::Ondemand),
        ]
        .into_iter()
        .find(|(name, _)| name.eq_ignore_ascii_case(text))
        .map(|(_, ty)| ty)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            ScheduleType::Cron => "cron",
            ScheduleType::Timeseries => "timeseries",
            ScheduleType::Ondemand => "ondemand",
        }
    }

    /// When an instance of `interval` may start: its start for cron, its end for timeseries.
    /// Ondemand instances have an empty interval, so both ends agree.
    pub fn due(self, interval: &Interval) -> NaiveDateTime {
        match self {
            ScheduleType::Cron | ScheduleType::Ondemand => interval.start,
            ScheduleType::Timeseries => interval.end,
        }
    }
}

/// Where a schedule's first interval starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Start {
    Fixed(NaiveDateTime),
    /// `startAt: FIRST_ACTIVATION_DATE_TIME`.
    FirstActivation,
}

/// Where a schedule stops.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum End {
    Never,
    /// `endDateTime`: the last interval ends at or before this time.
    At(NaiveDateTime),
    /// `occurrences`: this many intervals.
    Occurrences(u64),
}

/// A `Schedule` object in engine terms.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ScheduleSpec {
    pub period: Period,
    pub start: Start,
    pub end: End,
}

/// Why a Schedule object cannot drive a component.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ScheduleError {
    #[error("Schedule '{0}' has no usable 'period'")]
    Period(String),
    #[error("Schedule '{0}' has neither a literal 'startDateTime' nor 'startAt'")]
    Start(String),
    #[error("Schedule '{0}' has an unusable '{1}'")]
    Field(String, &'static str),
    #[error("Schedule '{0}' is the on-demand variant; it has no intervals")]
    Ondemand(String),
}

impl ScheduleSpec {
    /// Reads a resolved `Schedule` object. Validation has already checked the values; this
    /// only refuses what the engine cannot run.
    pub fn from_object(schedule: &ResolvedObject) -> Result<ScheduleSpec, ScheduleError> {
        let id = || schedule.id.clone();
        let period_text = schedule
            .string("period")
            .ok_or_else(|| ScheduleError::Period(id()))?;
        if period_text.trim().eq_ignore_ascii_case(ONDEMAND_PERIOD) {
            return Err(ScheduleError::Ondemand(id()));
        }
        let period = period_text
            .parse::<Period>()
            .map_err(|_| ScheduleError::Period(id()))?;
        let start = match (schedule.string("startDateTime"), schedule.string("startAt")) {
            (Some(text), _) => Start::Fixed(
                parse_datetime(text.trim())
                    .map_err(|_| ScheduleError::Field(id(), "startDateTime"))?,
            ),
            (None, Some(at)) if at.trim().eq_ignore_ascii_case(FIRST_ACTIVATION_DATE_TIME) => {
                Start::FirstActivation
            }
            _ => return Err(ScheduleError::Start(id())),
        };
        let end = match (
            schedule.string("endDateTime"),
            schedule.string("occurrences"),
        ) {
            (Some(text), _) => End::At(
                parse_datetime(text.trim())
                    .map_err(|_| ScheduleError::Field(id(), "endDateTime"))?,
            ),
            (None, Some(text)) => match text.trim().parse::<u64>() {
                Ok(n) => End::Occurrences(n),
                Err(_) => return Err(ScheduleError::Field(id(), "occurrences")),
            },
            (None, None) => End::Never,
        };
        Ok(ScheduleSpec { period, start, end })
    }

    /// The concrete timeline once the first activation time is known (`None` before it, for
    /// `startAt: FIRST_ACTIVATION_DATE_TIME`).
    pub fn timeline(&self, first_activation: Option<NaiveDateTime>) -> Option<Timeline> {
        let start = match self.start {
            Start::Fixed(at) => at,
            Start::FirstActivation => first_activation?,
        };
        Some(Timeline {
            period: self.period,
            start,
            end: self.end,
        })
    }
}

/// One interval of a schedule.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Interval {
    pub index: u64,
    pub start: NaiveDateTime,
    pub end: NaiveDateTime,
}

/// A schedule with a known start: the intervals themselves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timeline {
    pub period: Period,
    pub start: NaiveDateTime,
    pub end: End,
}

impl Timeline {
    fn boundary(&self, k: u64) -> Option<NaiveDateTime> {
        self.period.add_times(self.start, i64::try_from(k).ok()?)
    }

    /// Interval `k`, or `None` past the schedule's end (or beyond representable time).
    pub fn interval(&self, k: u64) -> Option<Interval> {
        if let End::Occurrences(n) = self.end
            && k >= n
        {
            return None;
        }
        let start = self.boundary(k)?;
        let end = self.boundary(k + 1)?;
        if let End::At(limit) = self.end
            && end > limit
        {
            return None;
        }
        Some(Interval {
            index: k,
            start,
            end,
        })
    }

    /// The index of the interval whose span contains `at`, ignoring the schedule's end
    /// (callers decide what a time past the end means); `None` before the start.
    pub fn index_containing(&self, at: NaiveDateTime) -> Option<u64> {
        if at < self.start {
            return None;
        }
        let estimate = self.estimate(at);
        let mut k = estimate;
        while k > 0 && self.boundary(k).is_none_or(|s| s > at) {
            k -= 1;
        }
        while self.boundary(k + 1).is_some_and(|next| next <= at) {
            k += 1;
        }
        Some(k)
    }

    fn estimate(&self, at: NaiveDateTime) -> u64 {
        let count = u64::from(self.period.count.max(1));
        match self.period.unit {
            PeriodUnit::Months | PeriodUnit::Years => {
                let months = |t: NaiveDateTime| i64::from(t.year()) * 12 + i64::from(t.month0());
                let per = if self.period.unit == PeriodUnit::Years {
                    12
                } else {
                    1
                } * count;
                u64::try_from(months(at) - months(self.start)).unwrap_or(0) / per
            }
            _ => {
                let secs = u64::try_from((at - self.start).num_seconds()).unwrap_or(0);
                secs / self.period.min_seconds().max(1)
            }
        }
    }

    /// The number of intervals, or `None` for a schedule without end.
    pub fn len(&self) -> Option<u64> {
        match self.end {
            End::Never => None,
            End::Occurrences(n) => Some(n),
            End::At(limit) => {
                let Some(last) = self.index_containing(limit) else {
                    return Some(0);
                };
                // `last` contains `limit`; it counts only when it ends exactly there.
                Some(last + u64::from(self.boundary(last + 1).is_some_and(|e| e <= limit)))
            }
        }
    }

    /// Whether the schedule has no intervals at all.
    pub fn is_empty(&self) -> bool {
        self.len() == Some(0)
    }

    /// The interval that should serve a consumer starting at `at`: the one containing it,
    /// clamped to the first interval before the start and to the last one past the end.
    /// `None` only for an empty schedule.
    pub fn aligned(&self, at: NaiveDateTime) -> Option<Interval> {
        let k = self.index_containing(at).unwrap_or(0);
        match self.len() {
            Some(0) => None,
            Some(n) if k >= n => self.interval(n - 1),
            _ => self.interval(k),
        }
    }

    /// Iterates intervals from index `from`.
    pub fn intervals(&self, from: u64) -> impl Iterator<Item = Interval> + '_ {
        (from..).map_while(|k| self.interval(k))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn at(text: &str) -> NaiveDateTime {
        parse_datetime(text).unwrap()
    }

    fn timeline(period: &str, start: &str, end: End) -> Timeline {
        Timeline {
            period: period.parse().unwrap(),
            start: at(start),
            end,
        }
    }

    #[test]
    fn parses_schedule_types_case_insensitively() {
        assert_eq!(ScheduleType::parse("CRON"), Some(ScheduleType::Cron));
        assert_eq!(
            ScheduleType::parse("TimeSeries"),
            Some(ScheduleType::Timeseries)
        );
        assert_eq!(
            ScheduleType::parse("ondemand"),
            Some(ScheduleType::Ondemand)
        );
        assert_eq!(ScheduleType::parse("daily"), None);
        assert_eq!(ScheduleType::default(), ScheduleType::Timeseries);
    }

    #[test]
    fn cron_runs_at_interval_start_and_timeseries_at_its_end() {
        let t = timeline("30 minutes", "2012-09-01T22:00:00", End::Never);
        let first = t.interval(0).unwrap();
        assert_eq!(ScheduleType::Cron.due(&first), at("2012-09-01T22:00:00"));
        assert_eq!(
            ScheduleType::Timeseries.due(&first),
            at("2012-09-01T22:30:00")
        );
    }

    #[test]
    fn end_date_time_keeps_intervals_ending_at_or_before_it() {
        let t = timeline(
            "1 hour",
            "2012-09-01T00:00:00",
            End::At(at("2012-10-01T00:00:00")),
        );
        assert_eq!(t.len(), Some(720));
        assert_eq!(t.interval(0).unwrap().end, at("2012-09-01T01:00:00"));
        assert!(t.interval(720).is_none());
        let ragged = timeline(
            "1 hour",
            "2012-09-01T00:00:00",
            End::At(at("2012-09-01T02:30:00")),
        );
        assert_eq!(ragged.len(), Some(2));
        assert_eq!(ragged.intervals(0).count(), 2);
    }

    #[test]
    fn months_stay_anchored_to_the_start_day() {
        let t = timeline("1 month", "2026-01-31T00:00:00", End::Occurrences(3));
        let starts: Vec<_> = t.intervals(0).map(|i| i.start).collect();
        assert_eq!(
            starts,
            vec![
                at("2026-01-31T00:00:00"),
                at("2026-02-28T00:00:00"),
                at("2026-03-31T00:00:00")
            ]
        );
        assert_eq!(t.index_containing(at("2026-03-30T23:59:59")), Some(1));
        assert_eq!(t.index_containing(at("2026-03-31T00:00:00")), Some(2));
    }

    #[test]
    fn alignment_clamps_to_the_schedule() {
        let t = timeline("1 day", "2026-01-02T00:00:00", End::Occurrences(2));
        assert_eq!(t.aligned(at("2026-01-01T05:00:00")).unwrap().index, 0);
        assert_eq!(t.aligned(at("2026-01-02T05:00:00")).unwrap().index, 0);
        assert_eq!(t.aligned(at("2026-01-03T05:00:00")).unwrap().index, 1);
        assert_eq!(t.aligned(at("2026-02-03T05:00:00")).unwrap().index, 1);
    }

    fn arb_period() -> impl Strategy<Value = Period> {
        (1u32..5, 0usize..7).prop_map(|(count, unit)| Period::new(count, PeriodUnit::ALL[unit]))
    }

    fn arb_start() -> impl Strategy<Value = NaiveDateTime> {
        (0i64..4_000_000).prop_map(|minutes| {
            at("2020-01-01T00:00:00")
                + chrono::Duration::minutes(minutes)
                + chrono::Duration::seconds(minutes % 60)
        })
    }

    fn arb_end() -> impl Strategy<Value = (Option<u64>, Option<i64>)> {
        prop_oneof![
            Just((None, None)),
            (0u64..40).prop_map(|n| (Some(n), None)),
            (0i64..5_000_000).prop_map(|m| (None, Some(m))),
        ]
    }

    proptest! {
        #[test]
        fn intervals_are_contiguous_increasing_and_bounded(
            period in arb_period(),
            start in arb_start(),
            end in arb_end(),
        ) {
            let end = match end {
                (Some(n), _) => End::Occurrences(n),
                (_, Some(m)) => End::At(start + chrono::Duration::minutes(m)),
                _ => End::Never,
            };
            let t = Timeline { period, start, end };
            let intervals: Vec<_> = t.intervals(0).take(60).collect();
            if let Some(first) = intervals.first() {
                prop_assert_eq!(first.start, start);
            }
            for pair in intervals.windows(2) {
                prop_assert_eq!(pair[0].end, pair[1].start);
                prop_assert!(pair[0].start < pair[1].start);
            }
            for (k, interval) in intervals.iter().enumerate() {
                prop_assert_eq!(interval.index, k as u64);
                prop_assert!(interval.start < interval.end);
                prop_assert_eq!(t.index_containing(interval.start), Some(k as u64));
                let inner = interval.end - chrono::Duration::seconds(1);
                prop_assert_eq!(t.index_containing(inner), Some(k as u64));
                prop_assert_eq!(ScheduleType::Cron.due(interval), interval.start);
                prop_assert_eq!(ScheduleType::Timeseries.due(interval), interval.end);
            }
            match end {
                End::Occurrences(n) => {
                    prop_assert_eq!(t.len(), Some(n));
                    if n <= 60 {
                        prop_assert_eq!(intervals.len() as u64, n);
                    }
                }
                End::At(limit) => {
                    let n = t.len().unwrap();
                    if n <= 60 {
                        prop_assert_eq!(intervals.len() as u64, n);
                    }
                    for interval in &intervals {
                        prop_assert!(interval.end <= limit);
                    }
                    if (n as usize) < 60 && let Some(next) = t.boundary(n + 1) {
                        prop_assert!(next > limit);
                    }
                }
                End::Never => prop_assert_eq!(intervals.len(), 60),
            }
        }
    }
}
