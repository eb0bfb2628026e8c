//! `CSV`, `TSV` and `Custom`: fields split by single-byte separators. One reader and one writer
//! serve the three formats; a [`Dialect`] says which byte separates columns and records, whether
//! `"` quotes a field (CSV only) and which byte, if any, escapes the next one.
//!
//! Reading:
//!
//! - The escape character (`escapeChar`) makes the next byte literal wherever it appears, inside
//!   quotes or not, so `1,Bob\, Jr.,20` is three fields; an escaped record separator continues
//!   the field on the next line, and the escape character escapes itself. At the very end of
//!   the input, with nothing left to escape, it is kept as it is.
//! - CSV: a field that starts with `"` is quoted: separators and line breaks inside it are data,
//!   `""` is one quote, and the field ends at the closing quote (anything after it up to the
//!   next separator is kept). A `"` elsewhere is an ordinary character. A quoted field left
//!   open at the end of the input is an error. `TSV` and `Custom` have no quoting.
//! - A `\r` before a `\n` record separator, outside quotes and not escaped, ends the record with
//!   it (CRLF files). Blank lines between records are skipped.
//! - NULL: an empty field and a field that is exactly `\N` (as written, before escapes) are
//!   NULL; a quoted empty field `""` is the empty string. With `escapeChar` `\`, `\\N` is the
//!   text `\N`.
//!
//! Writing gives back what reading takes: NULL is an empty field; the empty string is `""` in
//! CSV, while TSV and Custom, which have no quoting, write it as an empty field that reads back
//! as NULL. A record whose only field is NULL is `\N`, since an empty line would be skipped.
//! CSV without `escapeChar` quotes a field that holds a separator, a quote, a line break or
//! is `\N`, doubling its quotes (RFC 4180). With `escapeChar`, nothing is quoted but the empty
//! string: the escape character goes before each separator, quote, `\r`, and escape character,
//! and before a value `\N`. TSV and Custom without `escapeChar` cannot hold such a value: the
//! record is an error naming the field.
//!
//! # Design decisions
//!
//! - Hand-written rather than the `csv` crate: the crate honours an escape only inside quotes,
//!   reports `""` and an empty field alike (so an empty string could not be told from NULL),
//!   and decides quoting itself (so it cannot write `""` or a quoted `\N`).
//! - A record is read a line at a time (`read_until` the record separator, which `memchr`s)
//!   and continued on the next line only while a quote is open or the separator was escaped,
//!   so memory stays bounded by the longest record.
//! - `\N` as NULL is the convention of PostgreSQL's text format, MySQL's `INTO OUTFILE` and
//!   Hive, and what AWS's CopyActivity page gives as the NULL of PostgreSQL exported to TSV
//!   (printed there as `\n`).
//!   Reading it as NULL in every format keeps such files loadable; an empty field stays NULL
//!   as before, because loading it into a number or date column otherwise fails.

use std::io::BufRead;

use super::{Delimiters, FinishWrite, FormatError, Record, RecordRead, RecordWrite, check_width};

/// The field that reads as NULL in every format, as written in the file.
const NULL_MARKER: &[u8] = b"\\N";

/// How the bytes of a delimited format are laid out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Dialect {
    pub column: u8,
    pub record: u8,
    /// The quote character (CSV's `"`), or `None` when quotes are ordinary characters.
    pub quote: Option<u8>,
    pub escape: Option<u8>,
}

impl Dialect {
    /// CSV: comma, newline, `"` quoting. An `escapeChar` of `"` means RFC 4180's doubled
    /// quotes, which CSV has anyway.
    pub fn csv(escape: Option<u8>) -> Self {
        Dialect {
            column: b',',
            record: b'\n',
            quote: Some(b'"'),
            escape: escape.filter(|e| *e != b'"'),
        }
    }

    /// TSV and Custom: no quoting.
    pub fn unquoted(delimiters: Delimiters) -> Self {
        Dialect {
            column: delimiters.column,
            record: delimiters.record,
            quote: None,
            escape: delimiters.escape,
        }
    }

    /// Whether `\r\n` ends a record as `\n` does.
    fn crlf(&self) -> bool {
        self.record == b'\n'
    }
}

/// Reads delimited records.
pub struct DelimitedReader<R> {
    input: R,
    expected: Option<usize>,
    line: Vec<u8>,
    /// Whether `line` ended with the record separator (not so only at the end of the input).
    terminated: bool,
    count: u64,
    split: Splitter,
}

impl<R: BufRead> DelimitedReader<R> {
    pub fn new(input: R, dialect: Dialect, expected: Option<usize>) -> Self {
        DelimitedReader {
            input,
            expected,
            line: Vec::new(),
            terminated: false,
            count: 0,
            split: Splitter::new(dialect),
        }
    }

    /// Reads up to the next record separator into `self.line` (separator removed).
    fn read_line(&mut self) -> Result<bool, FormatError> {
        let record = self.split.dialect.record;
        self.line.clear();
        if self.input.read_until(record, &mut self.line)? == 0 {
            return Ok(false);
        }
        self.terminated = self.line.last() == Some(&record);
        if self.terminated {
            self.line.pop();
        }
        Ok(true)
    }

    fn is_blank(&self) -> bool {
        self.line.is_empty() || (self.split.dialect.crlf() && self.line == b"\r")
    }
}

impl<R: BufRead> RecordRead for DelimitedReader<R> {
    fn next_record(&mut self) -> Result<Option<Record>, FormatError> {
        loop {
            if !self.read_line()? {
                return Ok(None);
            }
            if !self.is_blank() {
                break;
            }
        }
        self.count += 1;
        self.split.start(self.count);
        while self.split.line(&self.line, self.terminated)? {
            if !self.read_line()? {
                self.split.end_of_input()?;
                break;
            }
        }
        let record = self.split.take_record()?;
        check_width(self.count, record.len(), self.expected)?;
        Ok(Some(record))
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// Nothing of the field read yet.
    Start,
    Unquoted,
    Quoted,
    /// Just after a quote inside a quoted field: the closing quote, or the first of `""`.
    AfterQuote,
}

/// A set of bytes to look for: a table, because fields are short and a lookup per byte beats
/// setting up a vectorised search for each of them.
#[derive(Debug, Clone)]
struct Stops([bool; 256]);

impl Stops {
    fn of(bytes: &[Option<u8>]) -> Self {
        let mut table = [false; 256];
        for byte in bytes.iter().flatten() {
            table[usize::from(*byte)] = true;
        }
        Stops(table)
    }

    fn find(&self, haystack: &[u8]) -> Option<usize> {
        haystack.iter().position(|b| self.0[usize::from(*b)])
    }
}

/// Splits the lines of a record into fields.
struct Splitter {
    dialect: Dialect,
    /// The bytes that end a run of ordinary bytes outside quotes: the column separator, `\r`
    /// and the escape character. Runs of other bytes are copied whole.
    stops_unquoted: Stops,
    /// Inside quotes: the quote and the escape character.
    stops_quoted: Stops,
    record: u64,
    /// The record's field bytes, one after another, escapes and quotes removed.
    bytes: Vec<u8>,
    /// Each finished field's range in `bytes`, or `None` for NULL.
    fields: Vec<Option<(usize, usize)>>,
    /// Where the current field starts in `bytes`.
    field_start: usize,
    state: State,
    quoted: bool,
    /// Where the current field starts in the current line; `None` once it spans lines (then it
    /// cannot be the NULL marker).
    raw_start: Option<usize>,
}

impl Splitter {
    fn new(dialect: Dialect) -> Self {
        Splitter {
            dialect,
            stops_unquoted: Stops::of(&[Some(dialect.column), Some(b'\r'), dialect.escape]),
            stops_quoted: Stops::of(&[dialect.quote, dialect.escape]),
            record: 0,
            bytes: Vec::new(),
            fields: Vec::new(),
            field_start: 0,
            state: State::Start,
            quoted: false,
            raw_start: Some(0),
        }
    }

    fn start(&mut self, record: u64) {
        self.record = record;
        self.bytes.clear();
        self.fields.clear();
        self.field_start = 0;
        self.state = State::Start;
        self.quoted = false;
        self.raw_start = Some(0);
    }

    /// Splits one line (without its separator); `true` when the record goes on to the next
    /// line because the separator was quoted or escaped.
    fn line(&mut self, line: &[u8], terminated: bool) -> Result<bool, FormatError> {
        let d = self.dialect;
        let n = line.len();
        let mut i = 0;
        while i < n {
            let stops = if self.state == State::Quoted {
                &self.stops_quoted
            } else {
                &self.stops_unquoted
            };
            let starts_quote = self.state == State::Start && Some(line[i]) == d.quote;
            if !starts_quote && self.state != State::AfterQuote {
                let run = stops.find(&line[i..]).unwrap_or(n - i);
                if run > 0 {
                    self.bytes.extend_from_slice(&line[i..i + run]);
                    if self.state == State::Start {
                        self.state = State::Unquoted;
                    }
                    i += run;
                    continue;
                }
            }
            let b = line[i];
            let escapes = Some(b) == d.escape;
            if escapes && i + 1 == n {
                return self.escape_at_end_of_line(line, terminated);
            }
            match self.state {
                State::Quoted if escapes => {
                    self.bytes.push(line[i + 1]);
                    i += 1;
                }
                State::Quoted => self.state = State::AfterQuote,
                State::AfterQuote if Some(b) == d.quote => {
                    self.bytes.push(b);
                    self.state = State::Quoted;
                }
                State::Start if starts_quote => {
                    self.quoted = true;
                    self.state = State::Quoted;
                }
                _ if b == d.column => self.end_field(line, i, i + 1),
                _ if escapes => {
                    self.bytes.push(line[i + 1]);
                    self.state = State::Unquoted;
                    i += 1;
                }
                _ if b == b'\r' && i + 1 == n && terminated && d.crlf() => {
                    self.end_field(line, i, n);
                    return Ok(false);
                }
                _ => {
                    self.bytes.push(b);
                    self.state = State::Unquoted;
                }
            }
            i += 1;
        }
        if self.state == State::Quoted {
            if !terminated {
                return Err(self.unclosed_quote());
            }
            self.continue_on_next_line();
            return Ok(true);
        }
        self.end_field(line, n, n);
        Ok(false)
    }

    /// The escape character is the last byte of a line: it escapes the record separator, or,
    /// at the end of the input, nothing, and is then kept as it is.
    fn escape_at_end_of_line(
        &mut self,
        line: &[u8],
        terminated: bool,
    ) -> Result<bool, FormatError> {
        if self.state != State::Quoted {
            self.state = State::Unquoted;
        }
        if terminated {
            self.continue_on_next_line();
            return Ok(true);
        }
        self.bytes.push(line[line.len() - 1]);
        if self.state == State::Quoted {
            return Err(self.unclosed_quote());
        }
        self.end_field(line, line.len(), line.len());
        Ok(false)
    }

    fn continue_on_next_line(&mut self) {
        self.bytes.push(self.dialect.record);
        self.raw_start = None;
    }

    /// The input ended right after a record separator that belonged to a field.
    fn end_of_input(&mut self) -> Result<(), FormatError> {
        if self.state == State::Quoted {
            return Err(self.unclosed_quote());
        }
        self.end_field(&[], 0, 0);
        Ok(())
    }

    /// Ends the field whose raw bytes end at `end` in `line`; the next one starts at `next`.
    fn end_field(&mut self, line: &[u8], end: usize, next: usize) {
        let null_marker = self
            .raw_start
            .is_some_and(|start| line.get(start..end) == Some(NULL_MARKER));
        let empty = self.bytes.len() == self.field_start;
        if !self.quoted && (null_marker || empty) {
            self.bytes.truncate(self.field_start);
            self.fields.push(None);
        } else {
            self.fields.push(Some((self.field_start, self.bytes.len())));
        }
        self.field_start = self.bytes.len();
        self.state = State::Start;
        self.quoted = false;
        self.raw_start = Some(next);
    }

    /// The finished record as text, checked for UTF-8 once for all its fields.
    fn take_record(&mut self) -> Result<Record, FormatError> {
        let bad = || FormatError::BadRecord {
            record: self.record,
            message: "is not valid UTF-8".into(),
        };
        let text = std::str::from_utf8(&self.bytes).map_err(|_| bad())?;
        let mut record = Vec::with_capacity(self.fields.len());
        for range in &self.fields {
            record.push(match *range {
                // A field boundary inside a character means a field alone is not UTF-8.
                Some((start, end)) => Some(text.get(start..end).ok_or_else(bad)?.to_owned()),
                None => None,
            });
        }
        Ok(record)
    }

    fn unclosed_quote(&self) -> FormatError {
        FormatError::BadRecord {
            record: self.record,
            message: format!(
                "field {} opens a quote that is never closed",
                self.fields.len() + 1
            ),
        }
    }
}

/// How a writer keeps a special byte in a field from ending the field or the record.
#[derive(Debug, Clone, Copy)]
enum Protection {
    /// Quote the field and double the quotes inside (CSV without `escapeChar`).
    Quote(u8),
    /// Put the escape character before the byte.
    Escape(u8),
    /// Nothing can: the record is refused (TSV and Custom without `escapeChar`).
    Refuse,
}

/// Writes delimited records so that they read back the same with the same dialect.
pub struct DelimitedWriter<'a> {
    output: Option<Box<dyn FinishWrite + 'a>>,
    dialect: Dialect,
    protection: Protection,
    buf: Vec<u8>,
    count: u64,
}

impl<'a> DelimitedWriter<'a> {
    pub fn new(output: Box<dyn FinishWrite + 'a>, dialect: Dialect) -> Self {
        let protection = match (dialect.escape, dialect.quote) {
            (Some(escape), _) => Protection::Escape(escape),
            (None, Some(quote)) => Protection::Quote(quote),
            (None, None) => Protection::Refuse,
        };
        DelimitedWriter {
            output: Some(output),
            dialect,
            protection,
            buf: Vec::with_capacity(64 * 1024),
            count: 0,
        }
    }

    fn flush_buf(&mut self) -> Result<(), FormatError> {
        if let Some(out) = self.output.as_mut() {
            out.write_all(&self.buf)?;
        }
        self.buf.clear();
        Ok(())
    }

    /// Whether `b` would end the field or the record if written as it is.
    fn is_special(&self, b: u8) -> bool {
        let d = &self.dialect;
        b == d.column
            || b == d.record
            || Some(b) == d.quote
            || Some(b) == d.escape
            || (b == b'\r' && d.crlf())
    }

    fn write_text(&mut self, text: &[u8], field: usize, last: bool) -> Result<(), FormatError> {
        let marker = text == NULL_MARKER;
        match self.protection {
            Protection::Escape(escape) => {
                for (i, &b) in text.iter().enumerate() {
                    if self.is_special(b) || (marker && i == 0) {
                        self.buf.push(escape);
                    }
                    self.buf.push(b);
                }
            }
            Protection::Quote(quote) => {
                if !marker && !text.iter().any(|&b| self.is_special(b)) {
                    self.buf.extend_from_slice(text);
                    return Ok(());
                }
                self.buf.push(quote);
                for &b in text {
                    if b == quote {
                        self.buf.push(quote);
                    }
                    self.buf.push(b);
                }
                self.buf.push(quote);
            }
            Protection::Refuse => {
                let d = self.dialect;
                let problem = if let Some(&b) =
                    text.iter().find(|&&b| b == d.column || b == d.record)
                {
                    Some(format!("contains a separator ({:?})", char::from(b)))
                } else if marker {
                    Some("is \\N, which reads as NULL,".to_string())
                } else if last && d.crlf() && text.last() == Some(&b'\r') {
                    Some("ends the record with \\r, which reads as part of the line end,".into())
                } else {
                    None
                };
                if let Some(problem) = problem {
                    return Err(FormatError::BadRecord {
                        record: self.count,
                        message: format!(
                            "field {} {problem} and the format has no escapeChar",
                            field + 1
                        ),
                    });
                }
                self.buf.extend_from_slice(text);
            }
        }
        Ok(())
    }
}

impl RecordWrite for DelimitedWriter<'_> {
    fn write_record(&mut self, record: &[Option<String>]) -> Result<(), FormatError> {
        self.count += 1;
        let lone = record.len() == 1;
        for (i, field) in record.iter().enumerate() {
            if i > 0 {
                self.buf.push(self.dialect.column);
            }
            match field.as_deref() {
                Some("") => match self.dialect.quote {
                    Some(quote) => self.buf.extend_from_slice(&[quote, quote]),
                    None if lone => self.buf.extend_from_slice(NULL_MARKER),
                    None => {}
                },
                Some(text) => self.write_text(text.as_bytes(), i, i + 1 == record.len())?,
                None if lone => self.buf.extend_from_slice(NULL_MARKER),
                None => {}
            }
        }
        self.buf.push(self.dialect.record);
        if self.buf.len() >= 60 * 1024 {
            self.flush_buf()?;
        }
        Ok(())
    }

    fn finish(mut self: Box<Self>) -> Result<(), FormatError> {
        self.flush_buf()?;
        self.output
            .take()
            .expect("writer present")
            .finish_stream()?;
        Ok(())
    }
}
