//! Runtime values and how they turn into text.
//!
//! A DateTime carries its zone because `inTimeZone` changes what later functions see (`hour`,
//! `format`, `plusDays` all work on local time, as Joda-Time's `DateTime` does); everything else
//! is UTC. Rendering follows what Data Pipeline writes: datetimes as `YYYY-MM-DDTHH:MM:SS` in
//! their own zone's local time, doubles the way Java's `Double.toString` prints them, lists as
//! JSON-like arrays.

use chrono::{DateTime, NaiveDateTime, TimeZone};
use chrono_tz::Tz;

/// A value produced by evaluating an expression.
///
/// Lists produced by the evaluator are flat: a list element is never itself a list.
#[derive(Debug, Clone)]
pub enum Value {
    Int(i64),
    Double(f64),
    String(String),
    /// An instant together with the zone it is viewed in (UTC unless `inTimeZone` was applied).
    DateTime(DateTime<Tz>),
    /// The id of another object (a reference field used as a value renders as the id).
    Object(String),
    List(Vec<Value>),
}

impl PartialEq for Value {
    /// Datetimes are equal when both the instant and the zone agree, so a value moved into
    /// another zone with `inTimeZone` is distinguishable from the original.
    fn eq(&self, other: &Self) -> bool {
        match (self, other) {
            (Value::Int(a), Value::Int(b)) => a == b,
            (Value::Double(a), Value::Double(b)) => a == b,
            (Value::String(a), Value::String(b)) => a == b,
            (Value::DateTime(a), Value::DateTime(b)) => a == b && a.timezone() == b.timezone(),
            (Value::Object(a), Value::Object(b)) => a == b,
            (Value::List(a), Value::List(b)) => a == b,
            _ => false,
        }
    }
}

impl Value {
    /// A UTC datetime, the form every runtime field and datetime-typed field has.
    pub fn utc(at: NaiveDateTime) -> Value {
        Value::DateTime(Tz::UTC.from_utc_datetime(&at))
    }

    /// Parses `YYYY-MM-DDTHH:MM:SS` as a UTC datetime value.
    pub fn parse_datetime(text: &str) -> Option<Value> {
        sluice_model::time::parse_datetime(text)
            .ok()
            .map(Value::utc)
    }

    /// The name of the value's type as error messages and signatures spell it.
    pub fn type_name(&self) -> &'static str {
        match self {
            Value::Int(_) => "Int",
            Value::Double(_) => "Double",
            Value::String(_) => "String",
            Value::DateTime(_) => "DateTime",
            Value::Object(_) => "Object",
            Value::List(_) => "List",
        }
    }

    /// The text a value is spliced into a string as.
    pub fn render(&self) -> String {
        match self {
            Value::Int(n) => n.to_string(),
            Value::Double(x) => render_double(*x),
            Value::String(s) | Value::Object(s) => s.clone(),
            Value::DateTime(at) => sluice_model::time::format_datetime(crate::calendar::local(at)),
            Value::List(items) => {
                let mut out = String::from("[");
                for (index, item) in items.iter().enumerate() {
                    if index > 0 {
                        out.push(',');
                    }
                    match item {
                        Value::Int(_) | Value::Double(_) | Value::List(_) => {
                            out.push_str(&item.render());
                        }
                        _ => push_json_string(&mut out, &item.render()),
                    }
                }
                out.push(']');
                out
            }
        }
    }

    /// A rough byte count used to stop expressions whose results grow without bound.
    pub(crate) fn approx_size(&self) -> usize {
        match self {
            Value::String(s) | Value::Object(s) => s.len(),
            Value::List(items) => items
                .iter()
                .map(|item| item.approx_size().saturating_add(8))
                .sum(),
            _ => 8,
        }
    }
}

impl From<NaiveDateTime> for Value {
    fn from(at: NaiveDateTime) -> Self {
        Value::utc(at)
    }
}

impl From<DateTime<Tz>> for Value {
    fn from(at: DateTime<Tz>) -> Self {
        Value::DateTime(at)
    }
}

impl From<i64> for Value {
    fn from(n: i64) -> Self {
        Value::Int(n)
    }
}

impl From<f64> for Value {
    fn from(x: f64) -> Self {
        Value::Double(x)
    }
}

impl From<&str> for Value {
    fn from(s: &str) -> Self {
        Value::String(s.to_owned())
    }
}

impl From<String> for Value {
    fn from(s: String) -> Self {
        Value::String(s)
    }
}

/// Renders a double as Java's `Double.toString` does, since that is what the service prints:
/// plain decimal with at least one fractional digit between 10^-3 and 10^7, computerized
/// scientific notation (`1.0E10`) outside it.
pub fn render_double(x: f64) -> String {
    if x.is_nan() {
        return "NaN".to_owned();
    }
    if x.is_infinite() {
        return if x > 0.0 { "Infinity" } else { "-Infinity" }.to_owned();
    }
    if x == 0.0 {
        return if x.is_sign_negative() { "-0.0" } else { "0.0" }.to_owned();
    }
    let magnitude = x.abs();
    if (1e-3..1e7).contains(&magnitude) {
        let plain = format!("{x}");
        if plain.contains('.') {
            plain
        } else {
            format!("{plain}.0")
        }
    } else {
        let scientific = format!("{x:e}");
        let (mantissa, exponent) = scientific.split_once('e').unwrap_or((&scientific, "0"));
        if mantissa.contains('.') {
            format!("{mantissa}E{exponent}")
        } else {
            format!("{mantissa}.0E{exponent}")
        }
    }
}

fn push_json_string(out: &mut String, text: &str) {
    out.push('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if u32::from(c) < 0x20 => out.push_str(&format!("\\u{:04x}", u32::from(c))),
            c => out.push(c),
        }
    }
    out.push('"');
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn doubles_render_like_java() {
        for (x, text) in [
            (0.5, "0.5"),
            (4.0, "4.0"),
            (-4.0, "-4.0"),
            (0.0, "0.0"),
            (1234567.5, "1234567.5"),
            (1e7, "1.0E7"),
            (1e10, "1.0E10"),
            (1.5e-4, "1.5E-4"),
            (0.001, "0.001"),
            (1.0 / 3.0, "0.3333333333333333"),
        ] {
            assert_eq!(render_double(x), text, "{x}");
        }
    }

    #[test]
    fn values_render_for_splicing() {
        let at = sluice_model::time::parse_datetime("2012-12-12T00:00:00").unwrap();
        assert_eq!(Value::utc(at).render(), "2012-12-12T00:00:00");
        assert_eq!(Value::Int(-3).render(), "-3");
        assert_eq!(Value::Object("Input".into()).render(), "Input");
        let list = Value::List(vec![
            Value::from("a"),
            Value::from("b\"c"),
            Value::Int(1),
            Value::Double(2.0),
            Value::utc(at),
        ]);
        assert_eq!(list.render(), r#"["a","b\"c",1,2.0,"2012-12-12T00:00:00"]"#);
        assert_eq!(Value::List(vec![]).render(), "[]");
    }

    #[test]
    fn datetime_equality_includes_the_zone() {
        let at = sluice_model::time::parse_datetime("2012-12-12T00:00:00").unwrap();
        let utc = Value::utc(at);
        let Value::DateTime(instant) = &utc else {
            unreachable!()
        };
        let la = Value::DateTime(instant.with_timezone(&chrono_tz::America::Los_Angeles));
        assert_ne!(utc, la);
        assert_eq!(la.render(), "2012-12-11T16:00:00");
    }
}
