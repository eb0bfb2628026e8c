//! The function table: every function Data Pipeline documents, plus `inTimeZone`,
//! `plusPeriod` and `minusPeriod`.
//!
//! Each function is described by a [`Body`] from which its parameter types follow, so the table
//! cannot disagree with the implementations. Arguments are converted before a function runs:
//! a `'YYYY-MM-DDTHH:MM:SS'` string is accepted as a DateTime and a numeric string as an Int,
//! because field values reach expressions as text. Patterns, zones and periods are compiled
//! during that conversion, which lets [`crate::check_syntax`] reject a bad literal pattern
//! (`format(d, 'YYYY-qq')`) without a context.

use std::ops::Range;

use chrono::{DateTime, Datelike, NaiveDate, NaiveDateTime, TimeZone, Timelike};
use chrono_tz::Tz;
use sluice_model::{Period, PeriodUnit};

use crate::calendar;
use crate::error::ErrorKind;
use crate::joda::FormatPattern;
use crate::value::Value;

/// A parameter type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Param {
    DateTime,
    Int,
    /// A string holding a Joda format pattern.
    Pattern,
    /// A string holding a time zone id.
    Zone,
    /// A string holding a period such as `1 day`.
    Period,
}

impl Param {
    fn name(self) -> &'static str {
        match self {
            Param::DateTime => "DateTime",
            Param::Int => "Int",
            Param::Pattern | Param::Zone | Param::Period => "String",
        }
    }
}

/// An argument converted to its parameter type.
#[derive(Debug, Clone)]
pub(crate) enum Arg {
    DateTime(DateTime<Tz>),
    Int(i64),
    Pattern(FormatPattern),
    Zone(Tz),
    Period(Period),
}

#[derive(Debug, Clone, Copy)]
enum Body {
    /// `int f(DateTime)`: a component of the wall-clock time.
    Component(fn(&NaiveDateTime) -> u32),
    /// `DateTime f(DateTime)`: a change of wall-clock time.
    Adjust(fn(NaiveDateTime) -> Option<NaiveDateTime>),
    /// `DateTime f(DateTime, int)`: move by n units, `sign` = -1 for the `minus` family.
    Shift(PeriodUnit, i64),
    /// `DateTime f(DateTime, String period)`.
    ShiftPeriod(i64),
    Format,
    InTimeZone,
    MakeDate,
    MakeDateTime,
}

impl Body {
    fn params(self) -> &'static [Param] {
        match self {
            Body::Component(_) | Body::Adjust(_) => &[Param::DateTime],
            Body::Shift(..) => &[Param::DateTime, Param::Int],
            Body::ShiftPeriod(_) => &[Param::DateTime, Param::Period],
            Body::Format => &[Param::DateTime, Param::Pattern],
            Body::InTimeZone => &[Param::DateTime, Param::Zone],
            Body::MakeDate => &[Param::Int, Param::Int, Param::Int],
            Body::MakeDateTime => &[Param::Int, Param::Int, Param::Int, Param::Int, Param::Int],
        }
    }

    fn returns(self) -> &'static str {
        match self {
            Body::Component(_) => "Int",
            Body::Format => "String",
            _ => "DateTime",
        }
    }
}

/// One entry of the function table.
#[derive(Debug)]
pub(crate) struct Function {
    pub(crate) name: &'static str,
    body: Body,
}

const fn function(name: &'static str, body: Body) -> Function {
    Function { name, body }
}

static FUNCTIONS: &[Function] = &[
    function("day", Body::Component(|t| t.day())),
    function("dayOfYear", Body::Component(|t| t.ordinal())),
    function("firstOfMonth", Body::Adjust(|t| t.with_day(1))),
    function("format", Body::Format),
    function("hour", Body::Component(|t| t.hour())),
    function("inTimeZone", Body::InTimeZone),
    function("makeDate", Body::MakeDate),
    function("makeDateTime", Body::MakeDateTime),
    function("midnight", Body::Adjust(|t| t.date().and_hms_opt(0, 0, 0))),
    function("minusDays", Body::Shift(PeriodUnit::Days, -1)),
    function("minusHours", Body::Shift(PeriodUnit::Hours, -1)),
    function("minusMinutes", Body::Shift(PeriodUnit::Minutes, -1)),
    function("minusMonths", Body::Shift(PeriodUnit::Months, -1)),
    function("minusPeriod", Body::ShiftPeriod(-1)),
    function("minusWeeks", Body::Shift(PeriodUnit::Weeks, -1)),
    function("minusYears", Body::Shift(PeriodUnit::Years, -1)),
    function("minute", Body::Component(|t| t.minute())),
    function("month", Body::Component(|t| t.month())),
    function("plusDays", Body::Shift(PeriodUnit::Days, 1)),
    function("plusHours", Body::Shift(PeriodUnit::Hours, 1)),
    function("plusMinutes", Body::Shift(PeriodUnit::Minutes, 1)),
    function("plusMonths", Body::Shift(PeriodUnit::Months, 1)),
    function("plusPeriod", Body::ShiftPeriod(1)),
    function("plusWeeks", Body::Shift(PeriodUnit::Weeks, 1)),
    function("plusYears", Body::Shift(PeriodUnit::Years, 1)),
    function("sunday", Body::Adjust(previous_sunday)),
    function("year", Body::Component(|t| t.year().unsigned_abs())),
    function(
        "yesterday",
        Body::Adjust(|t| t.checked_sub_days(chrono::Days::new(1))),
    ),
];

fn previous_sunday(wall: NaiveDateTime) -> Option<NaiveDateTime> {
    let back = wall.weekday().num_days_from_sunday();
    wall.checked_sub_days(chrono::Days::new(u64::from(back)))
}

/// The names of every function, in alphabetical order.
pub fn function_names() -> impl Iterator<Item = &'static str> {
    FUNCTIONS.iter().map(|f| f.name)
}

/// Finds a function by its exact (case-sensitive) name.
pub(crate) fn lookup(name: &str) -> Option<&'static Function> {
    FUNCTIONS.iter().find(|f| f.name == name)
}

/// Why a conversion or a call failed; `inner` narrows the span to bytes inside a string
/// argument (the bad letter of a pattern).
#[derive(Debug)]
pub(crate) struct Failure {
    pub(crate) kind: Box<ErrorKind>,
    /// Index of the argument at fault, `None` for the call as a whole.
    pub(crate) arg: Option<usize>,
    pub(crate) inner: Option<Range<usize>>,
}

impl Function {
    pub(crate) fn arity(&self) -> usize {
        self.body.params().len()
    }

    /// `format(DateTime, String) -> String`.
    pub(crate) fn signature(&self) -> String {
        let params: Vec<&str> = self.body.params().iter().map(|p| p.name()).collect();
        format!(
            "{}({}) -> {}",
            self.name,
            params.join(", "),
            self.body.returns()
        )
    }

    pub(crate) fn arity_error(&self, found: usize) -> ErrorKind {
        ErrorKind::WrongArity {
            function: self.name.to_owned(),
            expected: self.arity(),
            found,
            signature: self.signature(),
        }
    }

    /// Converts argument `index` (never a list) to the parameter's type.
    pub(crate) fn convert(&self, index: usize, value: &Value) -> Result<Arg, Failure> {
        let Some(&param) = self.body.params().get(index) else {
            return Err(self.failure(None, self.arity_error(index + 1)));
        };
        let wrong_type = || {
            let mut shown = value.render();
            if shown.chars().count() > 40 {
                shown = shown.chars().take(37).chain("...".chars()).collect();
            }
            self.failure(
                Some(index),
                ErrorKind::WrongArgumentType {
                    function: self.name.to_owned(),
                    position: index + 1,
                    expected: param.name(),
                    found: value.type_name(),
                    value: shown,
                    signature: self.signature(),
                },
            )
        };
        match (param, value) {
            (Param::DateTime, Value::DateTime(at)) => Ok(Arg::DateTime(*at)),
            (Param::DateTime, Value::String(text)) => match Value::parse_datetime(text) {
                Some(Value::DateTime(at)) => Ok(Arg::DateTime(at)),
                _ => Err(wrong_type()),
            },
            (Param::Int, Value::Int(n)) => Ok(Arg::Int(*n)),
            (Param::Int, Value::String(text)) => text
                .trim()
                .parse::<i64>()
                .map(Arg::Int)
                .map_err(|_| wrong_type()),
            (Param::Pattern, Value::String(text)) => match FormatPattern::compile(text) {
                Ok(pattern) => Ok(Arg::Pattern(pattern)),
                Err(error) => Err(Failure {
                    kind: Box::new(ErrorKind::BadFormatPattern {
                        pattern: text.clone(),
                        message: error.message,
                    }),
                    arg: Some(index),
                    inner: Some(error.span),
                }),
            },
            (Param::Zone, Value::String(text)) => match text.parse::<Tz>() {
                Ok(zone) => Ok(Arg::Zone(zone)),
                Err(_) => Err(self.failure(Some(index), ErrorKind::UnknownTimeZone(text.clone()))),
            },
            (Param::Period, Value::String(text)) => match text.parse::<Period>() {
                Ok(period) => Ok(Arg::Period(period)),
                Err(error) => Err(self.failure(Some(index), ErrorKind::BadPeriod(error))),
            },
            _ => Err(wrong_type()),
        }
    }

    fn failure(&self, arg: Option<usize>, kind: ErrorKind) -> Failure {
        Failure {
            kind: Box::new(kind),
            arg,
            inner: None,
        }
    }

    fn out_of_range(&self) -> Failure {
        self.failure(None, ErrorKind::DateTimeOutOfRange(self.name.to_owned()))
    }

    /// Runs the function on converted arguments.
    pub(crate) fn apply(&self, args: &[Arg]) -> Result<Value, Failure> {
        let datetime =
            |at: Option<DateTime<Tz>>| at.map(Value::DateTime).ok_or_else(|| self.out_of_range());
        match (self.body, args) {
            (Body::Component(component), [Arg::DateTime(at)]) => {
                Ok(Value::Int(i64::from(component(&calendar::local(at)))))
            }
            (Body::Adjust(adjust), [Arg::DateTime(at)]) => {
                datetime(calendar::with_local(at, adjust))
            }
            (Body::Shift(unit, sign), [Arg::DateTime(at), Arg::Int(n)]) => {
                let times = n.checked_mul(sign).ok_or_else(|| self.out_of_range())?;
                datetime(calendar::shift(at, Period::new(1, unit), times))
            }
            (Body::ShiftPeriod(sign), [Arg::DateTime(at), Arg::Period(period)]) => {
                datetime(calendar::shift(at, *period, sign))
            }
            (Body::Format, [Arg::DateTime(at), Arg::Pattern(pattern)]) => {
                Ok(Value::String(pattern.format(at)))
            }
            (Body::InTimeZone, [Arg::DateTime(at), Arg::Zone(zone)]) => {
                let moved = at.with_timezone(zone);
                if calendar::in_range(&moved) {
                    Ok(Value::DateTime(moved))
                } else {
                    Err(self.out_of_range())
                }
            }
            (Body::MakeDate, [Arg::Int(y), Arg::Int(m), Arg::Int(d)]) => {
                self.make(*y, *m, *d, 0, 0)
            }
            (
                Body::MakeDateTime,
                [
                    Arg::Int(y),
                    Arg::Int(m),
                    Arg::Int(d),
                    Arg::Int(h),
                    Arg::Int(min),
                ],
            ) => self.make(*y, *m, *d, *h, *min),
            _ => Err(self.failure(None, self.arity_error(args.len()))),
        }
    }

    fn make(
        &self,
        year: i64,
        month: i64,
        day: i64,
        hour: i64,
        minute: i64,
    ) -> Result<Value, Failure> {
        let wall = (|| {
            let date = NaiveDate::from_ymd_opt(
                i32::try_from(year).ok()?,
                u32::try_from(month).ok()?,
                u32::try_from(day).ok()?,
            )?;
            date.and_hms_opt(u32::try_from(hour).ok()?, u32::try_from(minute).ok()?, 0)
        })();
        let at = wall
            .map(|wall| Tz::UTC.from_utc_datetime(&wall))
            .filter(calendar::in_range);
        at.map(Value::DateTime).ok_or_else(|| {
            let shown = if self.body.params().len() == 3 {
                format!("{year}-{month}-{day}")
            } else {
                format!("{year}-{month}-{day} {hour}:{minute}")
            };
            self.failure(
                None,
                ErrorKind::InvalidArgument {
                    function: self.name.to_owned(),
                    message: format!("{shown} is not a valid date and time"),
                },
            )
        })
    }
}
