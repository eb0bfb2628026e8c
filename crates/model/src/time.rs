//! DateTime values as Data Pipeline writes them: `YYYY-MM-DDTHH:MM:SS`, UTC, second precision,
//! no zone suffix. Field values, runtime fields and instance ids all use this one form.

use chrono::{NaiveDateTime, Timelike};

/// The one format in which Data Pipeline renders and accepts datetimes.
pub const DATETIME_FORMAT: &str = "%Y-%m-%dT%H:%M:%S";

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("'{0}' is not a datetime: expected YYYY-MM-DDTHH:MM:SS (UTC)")]
pub struct DateTimeError(pub String);

/// Parses `YYYY-MM-DDTHH:MM:SS` exactly (four-digit year, no zone, no fraction).
pub fn parse_datetime(text: &str) -> Result<NaiveDateTime, DateTimeError> {
    let bytes = text.as_bytes();
    let shape_ok = bytes.len() == 19
        && bytes.iter().enumerate().all(|(i, b)| match i {
            4 | 7 => *b == b'-',
            10 => *b == b'T',
            13 | 16 => *b == b':',
            _ => b.is_ascii_digit(),
        });
    if !shape_ok {
        return Err(DateTimeError(text.to_owned()));
    }
    NaiveDateTime::parse_from_str(text, DATETIME_FORMAT).map_err(|_| DateTimeError(text.to_owned()))
}

/// Renders a datetime as `YYYY-MM-DDTHH:MM:SS`, dropping any sub-second part.
pub fn format_datetime(at: NaiveDateTime) -> String {
    at.with_nanosecond(0)
        .unwrap_or(at)
        .format(DATETIME_FORMAT)
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_rejects_other_forms() {
        let at = parse_datetime("2012-12-12T00:00:00").unwrap();
        assert_eq!(format_datetime(at), "2012-12-12T00:00:00");
        for bad in [
            "2012-12-12",
            "2012-12-12 00:00:00",
            "2012-12-12T00:00:00Z",
            "2012-12-12T00:00:00.5",
            "2012-13-12T00:00:00",
            "2012-02-30T00:00:00",
            "12-12-12T00:00:00xx",
            "",
        ] {
            assert!(parse_datetime(bad).is_err(), "{bad}");
        }
    }
}
