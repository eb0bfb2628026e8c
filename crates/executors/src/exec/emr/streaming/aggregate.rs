//! Hadoop's built-in `aggregate` reducer (`ValueAggregatorReducer`), which AWS's word-count
//! tutorial uses.
//!
//! The mapper prints `Type:id<TAB>value`; the reducer groups the sorted lines by their whole
//! key, aggregates the values of each group with the aggregator `Type` names (matched without
//! regard to case, as Hadoop does), and prints `id<TAB>report`. Reports are written the way
//! Hadoop's Java code writes them (`3.0` for a double, `1.0E10` beyond 10⁷). String
//! comparisons are by bytes, which orders UTF-8 text as Java orders it except around
//! characters outside the Basic Multilingual Plane.

use std::collections::{BTreeMap, BTreeSet};
use std::io::{BufRead, Write};

use tokio_util::sync::CancellationToken;

use super::shuffle::{CANCEL_EVERY, LineReader, Stop};

/// The aggregator types, as the mapper spells them.
const TYPES: &str = "LongValueSum, DoubleValueSum, LongValueMax, LongValueMin, StringValueMax, \
                     StringValueMin, UniqValueCount, ValueHistogram";

/// One group's running aggregate.
#[derive(Debug)]
enum Aggregator {
    LongSum(i64),
    DoubleSum(f64),
    LongMax(i64),
    LongMin(i64),
    StringMax(Option<Vec<u8>>),
    StringMin(Option<Vec<u8>>),
    UniqCount(BTreeSet<Vec<u8>>),
    Histogram(BTreeMap<Vec<u8>, i64>),
}

impl Aggregator {
    fn new(kind: &str) -> Option<Self> {
        Some(match kind.to_ascii_lowercase().as_str() {
            "longvaluesum" => Aggregator::LongSum(0),
            "doublevaluesum" => Aggregator::DoubleSum(0.0),
            "longvaluemax" => Aggregator::LongMax(i64::MIN),
            "longvaluemin" => Aggregator::LongMin(i64::MAX),
            "stringvaluemax" => Aggregator::StringMax(None),
            "stringvaluemin" => Aggregator::StringMin(None),
            "uniqvaluecount" => Aggregator::UniqCount(BTreeSet::new()),
            "valuehistogram" => Aggregator::Histogram(BTreeMap::new()),
            _ => return None,
        })
    }

    fn add(&mut self, value: &[u8]) -> Result<(), String> {
        match self {
            // Java's long arithmetic wraps; so does this.
            Aggregator::LongSum(sum) => *sum = sum.wrapping_add(long(value)?),
            Aggregator::DoubleSum(sum) => *sum += double(value)?,
            Aggregator::LongMax(max) => *max = (*max).max(long(value)?),
            Aggregator::LongMin(min) => *min = (*min).min(long(value)?),
            Aggregator::StringMax(max) => {
                if max.as_deref().is_none_or(|m| m < value) {
                    *max = Some(value.to_vec());
                }
            }
            Aggregator::StringMin(min) => {
                if min.as_deref().is_none_or(|m| m > value) {
                    *min = Some(value.to_vec());
                }
            }
            Aggregator::UniqCount(items) => {
                items.insert(value.to_vec());
            }
            Aggregator::Histogram(items) => {
                // `value<TAB>count`, or a value seen once.
                let (item, count) = match value.iter().rposition(|&b| b == b'\t') {
                    Some(at) => (&value[..at], long(&value[at + 1..])?),
                    None => (value, 1),
                };
                let total = items.entry(item.to_vec()).or_insert(0);
                *total = total.wrapping_add(count);
            }
        }
        Ok(())
    }

    fn report(&self) -> Vec<u8> {
        match self {
            Aggregator::LongSum(n) | Aggregator::LongMax(n) | Aggregator::LongMin(n) => {
                n.to_string().into_bytes()
            }
            Aggregator::DoubleSum(x) => java_double(*x).into_bytes(),
            Aggregator::StringMax(s) | Aggregator::StringMin(s) => s.clone().unwrap_or_default(),
            Aggregator::UniqCount(items) => items.len().to_string().into_bytes(),
            Aggregator::Histogram(items) => histogram(items).into_bytes(),
        }
    }
}

/// `ValueHistogram`'s report: the number of distinct values, then the minimum, median and
/// maximum of their counts, their average and standard deviation.
fn histogram(items: &BTreeMap<Vec<u8>, i64>) -> String {
    let mut counts: Vec<i64> = items.values().copied().collect();
    counts.sort_unstable();
    let mut report = counts.len().to_string();
    if let (Some(first), Some(last)) = (counts.first(), counts.last()) {
        let n = counts.len() as f64;
        let total = counts.iter().fold(0i64, |acc, &c| acc.wrapping_add(c));
        let average = total as f64 / n;
        let variance = counts
            .iter()
            .map(|&c| (c as f64 - average).powi(2))
            .sum::<f64>()
            / n;
        report = format!(
            "{report}\t{first}\t{}\t{last}\t{}\t{}",
            counts[counts.len() / 2],
            java_double(average),
            java_double(variance.sqrt())
        );
    }
    report
}

fn long(value: &[u8]) -> Result<i64, String> {
    std::str::from_utf8(value)
        .ok()
        .and_then(|v| v.trim().parse().ok())
        .ok_or_else(|| format!("'{}' is not a whole number", String::from_utf8_lossy(value)))
}

fn double(value: &[u8]) -> Result<f64, String> {
    std::str::from_utf8(value)
        .ok()
        .and_then(|v| v.trim().parse().ok())
        .ok_or_else(|| format!("'{}' is not a number", String::from_utf8_lossy(value)))
}

/// A double as Java's `Double.toString` writes it: plain between 10⁻³ and 10⁷, with at least
/// one decimal (`3.0`); in computerized scientific notation otherwise (`1.0E-5`).
pub(crate) fn java_double(x: f64) -> String {
    if x.is_nan() {
        return "NaN".into();
    }
    if x.is_infinite() {
        return if x > 0.0 { "Infinity" } else { "-Infinity" }.into();
    }
    let magnitude = x.abs();
    if magnitude == 0.0 || (1e-3..1e7).contains(&magnitude) {
        let plain = x.to_string();
        return if plain.contains('.') {
            plain
        } else {
            format!("{plain}.0")
        };
    }
    let scientific = format!("{x:e}");
    let (mantissa, exponent) = scientific.split_once('e').unwrap_or((&scientific, "0"));
    if mantissa.contains('.') {
        format!("{mantissa}E{exponent}")
    } else {
        format!("{mantissa}.0E{exponent}")
    }
}

/// Aggregates the sorted `Type:id<TAB>value` lines of `input` into `id<TAB>report` lines.
pub(crate) fn reduce(
    input: &mut dyn BufRead,
    output: &mut dyn Write,
    cancel: &CancellationToken,
) -> Result<(), Stop> {
    let mut lines = LineReader::new(input);
    let mut group: Option<(Vec<u8>, usize, Aggregator)> = None;
    let mut count = 0u64;
    while let Some(line) = lines.next_line().map_err(|e| Stop::io("reading", e))? {
        count += 1;
        if count.is_multiple_of(CANCEL_EVERY) && cancel.is_cancelled() {
            return Err(Stop::Canceled);
        }
        let (key, value) = match line.iter().position(|&b| b == b'\t') {
            Some(at) => (&line[..at], &line[at + 1..]),
            None => (line, &[][..]),
        };
        let same = group.as_ref().is_some_and(|(k, _, _)| k == key);
        if !same {
            if let Some(done) = group.take() {
                emit(output, done)?;
            }
            let text = String::from_utf8_lossy(key);
            let Some(colon) = key.iter().position(|&b| b == b':') else {
                return Err(Stop::Data(format!(
                    "aggregate: key '{text}' names no aggregator: the mapper must print \
                     Type:id<TAB>value, with Type one of {TYPES}"
                )));
            };
            let kind = String::from_utf8_lossy(&key[..colon]);
            let Some(aggregator) = Aggregator::new(&kind) else {
                return Err(Stop::Data(format!(
                    "aggregate: key '{text}': unknown aggregator '{kind}' (expected one of \
                     {TYPES})"
                )));
            };
            group = Some((key.to_vec(), colon + 1, aggregator));
        }
        if let Some((key, _, aggregator)) = group.as_mut() {
            aggregator.add(value).map_err(|err| {
                Stop::Data(format!(
                    "aggregate: key '{}': {err}",
                    String::from_utf8_lossy(key)
                ))
            })?;
        }
    }
    if let Some(done) = group {
        emit(output, done)?;
    }
    Ok(())
}

fn emit(
    output: &mut dyn Write,
    (key, id_at, aggregator): (Vec<u8>, usize, Aggregator),
) -> Result<(), Stop> {
    let mut write = || -> std::io::Result<()> {
        output.write_all(&key[id_at..])?;
        output.write_all(b"\t")?;
        output.write_all(&aggregator.report())?;
        output.write_all(b"\n")
    };
    write().map_err(|e| Stop::io("writing", e))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn aggregate(input: &str) -> Result<String, Stop> {
        let mut out = Vec::new();
        reduce(&mut input.as_bytes(), &mut out, &CancellationToken::new())?;
        Ok(String::from_utf8(out).unwrap())
    }

    fn data_error(input: &str) -> String {
        match aggregate(input) {
            Err(Stop::Data(message)) => message,
            other => panic!("expected a data error, got {other:?}"),
        }
    }

    #[test]
    fn word_count_sums() {
        let input = "LongValueSum:a\t1\nLongValueSum:a\t1\nLongValueSum:b\t3\nLongValueSum:c\t-2\n";
        assert_eq!(aggregate(input).unwrap(), "a\t2\nb\t3\nc\t-2\n");
        assert_eq!(aggregate("").unwrap(), "");
    }

    #[test]
    fn every_aggregator() {
        let input = "\
DoubleValueSum:d\t1.5\nDoubleValueSum:d\t1.5\n\
LongValueMax:hi\t3\nLongValueMax:hi\t10\nLongValueMax:hi\t-4\n\
LongValueMin:lo\t3\nLongValueMin:lo\t-4\n\
StringValueMax:s\tpear\nStringValueMax:s\tapple\n\
StringValueMin:t\tpear\nStringValueMin:t\tapple\n\
UniqValueCount:u\tx\nUniqValueCount:u\ty\nUniqValueCount:u\tx\n\
ValueHistogram:v\tx\nValueHistogram:v\ty\t3\nValueHistogram:v\tx\nValueHistogram:v\tz\t4\n";
        assert_eq!(
            aggregate(input).unwrap(),
            "d\t3.0\nhi\t10\nlo\t-4\ns\tpear\nt\tapple\nu\t2\nv\t3\t2\t3\t4\t3.0\t0.816496580927726\n"
        );
    }

    #[test]
    fn types_ignore_case_and_groups_are_whole_keys() {
        // The same id under two aggregators is two groups, as in Hadoop.
        let input = "longvaluesum:w\t2\nLongValueSum:w\t5\n";
        assert_eq!(aggregate(input).unwrap(), "w\t2\nw\t5\n");
    }

    #[test]
    fn bad_lines_are_reported_with_their_key() {
        assert!(data_error("plain\t1\n").contains("key 'plain' names no aggregator"));
        assert!(data_error("Median:x\t1\n").contains("unknown aggregator 'Median'"));
        assert_eq!(
            data_error("LongValueSum:x\tone\n"),
            "aggregate: key 'LongValueSum:x': 'one' is not a whole number"
        );
        assert!(data_error("DoubleValueSum:x\t\n").contains("is not a number"));
    }

    #[test]
    fn doubles_print_as_java_does() {
        assert_eq!(java_double(3.0), "3.0");
        assert_eq!(java_double(0.1 + 0.2), "0.30000000000000004");
        assert_eq!(java_double(-0.0), "-0.0");
        assert_eq!(java_double(1e7), "1.0E7");
        assert_eq!(java_double(12345678.9), "1.23456789E7");
        assert_eq!(java_double(0.0001), "1.0E-4");
        assert_eq!(java_double(0.001), "0.001");
        assert_eq!(java_double(f64::NAN), "NaN");
        assert_eq!(java_double(f64::NEG_INFINITY), "-Infinity");
    }
}
