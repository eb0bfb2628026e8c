//! Joda-Time `DateTimeFormat` patterns, which is what `format(d, 'YYYY-MM-dd')` means in Data
//! Pipeline. A pattern is compiled once (so a literal pattern is checked at validation time,
//! before any datetime exists) and then applied.
//!
//! As in Joda, the number of repeated letters is the minimum number of digits for numeric
//! fields, selects short or long text for months, weekdays and zone names, and `yy` means the
//! two-digit year. `Y` is Joda's year-of-era, which for every year since 1 AD is the plain year
//! (it is *not* the week-based year of Java's `SimpleDateFormat`). Any other ASCII letter is
//! rejected rather than copied, since a typo such as `YYYY-MM-dd hh:MM` should not silently
//! print something else; other characters are literal, as is text in single quotes.

use std::ops::Range;

use chrono::{DateTime, Datelike, Offset, Timelike};
use chrono_tz::{OffsetName, Tz};

/// A compiled format pattern.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FormatPattern {
    items: Vec<Item>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Item {
    Literal(String),
    Field { letter: char, count: usize },
}

/// Why a pattern was rejected, with the byte range inside the pattern.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PatternError {
    pub message: String,
    pub span: Range<usize>,
}

const PATTERN_LETTERS: &str = "GCYxweEyDMdaKhHkmsSzZ";

const MONTHS: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];

const WEEKDAYS: [&str; 7] = [
    "Monday",
    "Tuesday",
    "Wednesday",
    "Thursday",
    "Friday",
    "Saturday",
    "Sunday",
];

impl FormatPattern {
    /// Compiles a Joda-Time pattern.
    pub fn compile(pattern: &str) -> Result<FormatPattern, PatternError> {
        let mut items: Vec<Item> = Vec::new();
        let mut chars = pattern.char_indices().peekable();
        while let Some((start, c)) = chars.next() {
            if c == '\'' {
                let mut text = String::new();
                if chars.next_if(|&(_, next)| next == '\'').is_some() {
                    text.push('\'');
                } else {
                    loop {
                        match chars.next() {
                            Some((_, '\'')) => {
                                if chars.next_if(|&(_, next)| next == '\'').is_some() {
                                    text.push('\'');
                                } else {
                                    break;
                                }
                            }
                            Some((_, inner)) => text.push(inner),
                            None => {
                                return Err(PatternError {
                                    message: "quoted text is never closed".to_owned(),
                                    span: start..pattern.len(),
                                });
                            }
                        }
                    }
                }
                push_literal(&mut items, &text);
            } else if c.is_ascii_alphabetic() {
                let mut count = 1;
                while chars.next_if(|&(_, next)| next == c).is_some() {
                    count += 1;
                }
                if !PATTERN_LETTERS.contains(c) {
                    return Err(PatternError {
                        message: format!("'{c}' is not a pattern letter (quote literal text)"),
                        span: start..start + count,
                    });
                }
                items.push(Item::Field { letter: c, count });
            } else {
                push_literal(&mut items, c.encode_utf8(&mut [0; 4]));
            }
        }
        Ok(FormatPattern { items })
    }

    /// Renders `at` in its own zone.
    pub fn format(&self, at: &DateTime<Tz>) -> String {
        let mut out = String::new();
        for item in &self.items {
            match item {
                Item::Literal(text) => out.push_str(text),
                Item::Field { letter, count } => format_field(&mut out, at, *letter, *count),
            }
        }
        out
    }
}

fn push_literal(items: &mut Vec<Item>, text: &str) {
    if let Some(Item::Literal(last)) = items.last_mut() {
        last.push_str(text);
    } else if !text.is_empty() {
        items.push(Item::Literal(text.to_owned()));
    }
}

fn format_field(out: &mut String, at: &DateTime<Tz>, letter: char, count: usize) {
    let local = crate::calendar::local(at);
    let year = i64::from(local.year());
    let year_of_era = if year > 0 { year } else { 1 - year };
    let hour = i64::from(local.hour());
    match letter {
        'G' => out.push_str(if year > 0 { "AD" } else { "BC" }),
        'C' => pad(out, year_of_era / 100, count),
        'Y' if count == 2 => pad(out, year_of_era % 100, 2),
        'Y' => pad(out, year_of_era, count),
        'y' if count == 2 => pad(out, year.abs() % 100, 2),
        'y' => pad(out, year, count),
        'x' if count == 2 => pad(out, i64::from(local.iso_week().year()).abs() % 100, 2),
        'x' => pad(out, i64::from(local.iso_week().year()), count),
        'w' => pad(out, i64::from(local.iso_week().week()), count),
        'e' => pad(out, i64::from(local.weekday().number_from_monday()), count),
        'E' => {
            let name = WEEKDAYS.get(local.weekday().num_days_from_monday() as usize);
            out.push_str(text_form(name.copied().unwrap_or_default(), count));
        }
        'D' => pad(out, i64::from(local.ordinal()), count),
        'M' if count >= 3 => {
            let name = MONTHS.get(local.month0() as usize);
            out.push_str(text_form(name.copied().unwrap_or_default(), count));
        }
        'M' => pad(out, i64::from(local.month()), count),
        'd' => pad(out, i64::from(local.day()), count),
        'a' => out.push_str(if hour < 12 { "AM" } else { "PM" }),
        'K' => pad(out, hour % 12, count),
        'h' => pad(out, if hour % 12 == 0 { 12 } else { hour % 12 }, count),
        'H' => pad(out, hour, count),
        'k' => pad(out, if hour == 0 { 24 } else { hour }, count),
        'm' => pad(out, i64::from(local.minute()), count),
        's' => pad(out, i64::from(local.second()), count),
        'S' => {
            // A leap second shows as nanos >= 10^9; it still prints as a fraction.
            let digits = format!("{:09}", local.nanosecond().min(999_999_999));
            out.push_str(digits.get(..count.min(9)).unwrap_or_default());
            out.extend(std::iter::repeat_n('0', count.saturating_sub(9)));
        }
        'z' if count >= 4 => out.push_str(long_zone_name(at)),
        'z' => match at.offset().abbreviation() {
            Some(name) => out.push_str(name),
            None => push_offset(out, at, true),
        },
        'Z' if count == 1 => push_offset(out, at, false),
        'Z' if count == 2 => push_offset(out, at, true),
        'Z' => out.push_str(at.timezone().name()),
        _ => {}
    }
}

/// Three letters or fewer select the short text (`Jan`, `Mon`), four or more the full word.
fn text_form(name: &str, count: usize) -> &str {
    if count >= 4 {
        name
    } else {
        name.get(..3).unwrap_or(name)
    }
}

/// Joda's long zone names come from the JDK's locale data, which is not available here; UTC
/// gets its proper name and other zones fall back to their id.
fn long_zone_name(at: &DateTime<Tz>) -> &'static str {
    match at.timezone() {
        Tz::UTC | Tz::Etc__UTC | Tz::Etc__Universal | Tz::Etc__Zulu | Tz::UCT | Tz::Zulu => {
            "Coordinated Universal Time"
        }
        zone => zone.name(),
    }
}

fn push_offset(out: &mut String, at: &DateTime<Tz>, with_colon: bool) {
    let seconds = at.offset().fix().local_minus_utc();
    out.push(if seconds < 0 { '-' } else { '+' });
    let minutes = seconds.unsigned_abs() / 60;
    let separator = if with_colon { ":" } else { "" };
    out.push_str(&format!(
        "{:02}{separator}{:02}",
        minutes / 60,
        minutes % 60
    ));
}

/// Zero-pads to `width` digits, after the sign as Joda does (`-005`).
fn pad(out: &mut String, value: i64, width: usize) {
    if value < 0 {
        out.push('-');
    }
    out.push_str(&format!("{:0width$}", value.unsigned_abs()));
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn at(text: &str) -> DateTime<Tz> {
        Tz::UTC.from_utc_datetime(&sluice_model::time::parse_datetime(text).unwrap())
    }

    fn fmt(pattern: &str, when: &DateTime<Tz>) -> String {
        FormatPattern::compile(pattern).unwrap().format(when)
    }

    #[test]
    fn every_pattern_letter() {
        let d = at("2011-05-24T17:10:05");
        let cases = [
            ("YYYY-MM-dd HH:mm:ss z", "2011-05-24 17:10:05 UTC"),
            ("yyyy y Y yy YY yyyyy", "2011 2011 2011 11 11 02011"),
            ("M MM MMM MMMM", "5 05 May May"),
            ("d dd ddd D DDD DDDD", "24 24 024 144 144 0144"),
            ("H HH h hh k K a", "17 17 5 05 17 5 PM"),
            ("m mm s ss", "10 10 5 05"),
            ("S SS SSS SSSSSSSSSSS", "0 00 000 00000000000"),
            ("E EEE EEEE e ee", "Tue Tue Tuesday 2 02"),
            (
                "z zzzz Z ZZ ZZZ",
                "UTC Coordinated Universal Time +0000 +00:00 UTC",
            ),
            ("G C CC x xx w ww", "AD 20 20 2011 11 21 21"),
            ("YYYY-MM-dd-HH-mm-ss", "2011-05-24-17-10-05"),
            ("YYYY-MM-dd_hh.mm", "2011-05-24_05.10"),
        ];
        for (pattern, expected) in cases {
            assert_eq!(fmt(pattern, &d), expected, "{pattern}");
        }
        let d = at("2011-01-02T00:05:00");
        assert_eq!(
            fmt("h K k H a MMMM EEEE", &d),
            "12 0 24 0 AM January Sunday"
        );
        assert_eq!(fmt("x-ww e", &d), "2010-52 7");
    }

    #[test]
    fn quotes_and_literals() {
        let d = at("2011-05-24T17:10:05");
        assert_eq!(fmt("'Year' yyyy 'o''clock' ''", &d), "Year 2011 o'clock '");
        assert_eq!(fmt("yyyy/MM/dd'T'HH", &d), "2011/05/24T17");
        assert_eq!(fmt("''", &d), "'");
        assert_eq!(fmt("« d »", &d), "« 24 »");
        assert_eq!(fmt("", &d), "");
    }

    #[test]
    fn other_zones() {
        let d = at("2011-05-24T17:10:05").with_timezone(&chrono_tz::America::Los_Angeles);
        assert_eq!(
            fmt("yyyy-MM-dd HH:mm z Z ZZ ZZZ", &d),
            "2011-05-24 10:10 PDT -0700 -07:00 America/Los_Angeles"
        );
        let d = at("2011-01-24T17:10:05").with_timezone(&chrono_tz::Asia::Kolkata);
        assert_eq!(fmt("HH:mm Z zzzz", &d), "22:40 +0530 Asia/Kolkata");
    }

    #[test]
    fn rejects_unknown_letters_and_open_quotes() {
        let error = FormatPattern::compile("YYYY-qq-dd").unwrap_err();
        assert_eq!(error.span, 5..7);
        assert!(error.message.contains("'q'"));
        let error = FormatPattern::compile("yyyy 'open").unwrap_err();
        assert_eq!(error.span, 5..10);
        for letter in "ABFIJLNOPQRTUVWXbcfgijlnopqrtuv".chars() {
            assert!(
                FormatPattern::compile(&letter.to_string()).is_err(),
                "{letter}"
            );
        }
    }
}
