//! Record formats: how the bytes of a file become records and back.
//!
//! A [`RecordFormat`] is built from a data format object (`CSV`, `TSV`, `Custom`, `RegEx`) and
//! reads or writes one record at a time over `std::io` streams, so memory stays bounded by the
//! longest record whatever the size of the file. Readers and writers are synchronous on purpose:
//! parsing is CPU work, so copies run it on blocking threads and hand records to async sinks in
//! batches.
//!
//! [`UnloadText`] writes what Redshift's `UNLOAD` writes, with its options; nothing reads it.
//! [`WriteFormat`] is either of the two, for whatever writes objects of records.
//!
//! A record is a list of optional text fields, `None` being SQL `NULL`. How CSV, TSV and Custom
//! tell NULL from the empty string, quote and escape is documented in `format/delimited.rs`.

mod delimited;
pub mod objects;
mod regex_format;
mod unload;

use std::io::{BufRead, Read, Write};

pub use delimited::{DelimitedReader, DelimitedWriter, Dialect};
pub use regex_format::{RegexReader, RegexWriter};
pub use unload::{UnloadText, UnloadWriter};

/// One row: text fields, `None` for NULL.
pub type Record = Vec<Option<String>>;

/// Why a format could not be built, or a record not read or written.
#[derive(Debug, thiserror::Error)]
pub enum FormatError {
    /// The data format object has a field value that cannot be used.
    #[error("data format {format}: {message}")]
    Invalid { format: String, message: String },
    /// A record in the input does not fit the format.
    #[error("record {record}: {message}")]
    BadRecord { record: u64, message: String },
    #[error("{0}")]
    Io(#[from] std::io::Error),
}

/// Whether a file is compressed (S3DataNode `compression`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Compression {
    #[default]
    None,
    Gzip,
}

impl Compression {
    /// Parses the S3DataNode `compression` value (absent means none).
    pub fn parse(value: Option<&str>) -> Result<Self, FormatError> {
        match value.map(str::to_ascii_lowercase).as_deref() {
            None | Some("none") | Some("") => Ok(Compression::None),
            Some("gzip") => Ok(Compression::Gzip),
            Some(other) => Err(FormatError::Invalid {
                format: "compression".into(),
                message: format!("unknown compression {other:?}; expected none or gzip"),
            }),
        }
    }

    /// Wraps a reader so it yields the uncompressed bytes.
    pub fn decode<'a, R: Read + Send + 'a>(self, input: R) -> Box<dyn BufRead + Send + 'a> {
        const BUF: usize = 256 * 1024;
        match self {
            Compression::None => Box::new(std::io::BufReader::with_capacity(BUF, input)),
            Compression::Gzip => Box::new(std::io::BufReader::with_capacity(
                BUF,
                flate2::read::MultiGzDecoder::new(std::io::BufReader::with_capacity(BUF, input)),
            )),
        }
    }

    /// Wraps a writer so what is written to it is compressed.
    pub fn encode<'a, W: Write + Send + 'a>(self, output: W) -> Box<dyn FinishWrite + 'a> {
        match self {
            Compression::None => Box::new(Plain(output)),
            Compression::Gzip => Box::new(flate2::write::GzEncoder::new(
                output,
                flate2::Compression::default(),
            )),
        }
    }
}

/// A writer that must be told when the stream ends (gzip writes its trailer then).
pub trait FinishWrite: Write + Send {
    fn finish_stream(self: Box<Self>) -> std::io::Result<()>;
}

struct Plain<W>(W);

impl<W: Write> Write for Plain<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.write(buf)
    }
    fn flush(&mut self) -> std::io::Result<()> {
        self.0.flush()
    }
}

impl<W: Write + Send> FinishWrite for Plain<W> {
    fn finish_stream(mut self: Box<Self>) -> std::io::Result<()> {
        self.0.flush()
    }
}

impl<W: Write + Send> FinishWrite for flate2::write::GzEncoder<W> {
    fn finish_stream(self: Box<Self>) -> std::io::Result<()> {
        (*self).finish()?.flush()
    }
}

/// A declared column: `"name TYPE"` from a format's `column` field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Column {
    pub name: String,
    /// The declared type as written (`STRING`, `INT`, …); empty when none was given.
    pub ty: String,
}

impl Column {
    fn parse(spec: &str) -> Result<Self, String> {
        let mut parts = spec.split_whitespace();
        let name = parts
            .next()
            .ok_or_else(|| format!("column {spec:?} has no name"))?;
        let ty = parts.collect::<Vec<_>>().join(" ");
        Ok(Column {
            name: name.to_string(),
            ty,
        })
    }
}

/// Which data format type a [`RecordFormat`] implements.
#[derive(Debug, Clone)]
pub enum FormatKind {
    /// Comma-separated values: RFC 4180 quoting, and `escapeChar` escaping anywhere in a field.
    Csv { escape: Option<u8> },
    /// Separated values with single-byte column and record separators (`TSV`, `Custom`).
    Delimited(Delimiters),
    /// Lines split into columns by a regular expression, written with a Java-style format.
    RegEx {
        input: Option<regex::Regex>,
        output: Option<String>,
    },
}

/// Separators of `TSV` and `Custom` formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Delimiters {
    pub column: u8,
    pub record: u8,
    pub escape: Option<u8>,
}

/// A data format ready to read and write records.
#[derive(Debug, Clone)]
pub struct RecordFormat {
    pub kind: FormatKind,
    pub columns: Vec<Column>,
}

/// The fields of a data format object, as the pipeline gives them.
#[derive(Debug, Clone, Default)]
pub struct FormatFields<'a> {
    /// `CSV`, `TSV`, `Custom` or `RegEx`.
    pub type_name: &'a str,
    /// The object's id, for error messages.
    pub id: &'a str,
    pub columns: Vec<&'a str>,
    pub column_separator: Option<&'a str>,
    pub record_separator: Option<&'a str>,
    pub escape_char: Option<&'a str>,
    pub input_regex: Option<&'a str>,
    pub output_format: Option<&'a str>,
}

impl Default for RecordFormat {
    fn default() -> Self {
        RecordFormat::csv()
    }
}

impl PartialEq for FormatKind {
    fn eq(&self, other: &Self) -> bool {
        match (self, other) {
            (FormatKind::Csv { escape: a }, FormatKind::Csv { escape: b }) => a == b,
            (FormatKind::Delimited(a), FormatKind::Delimited(b)) => a == b,
            (
                FormatKind::RegEx {
                    input: ia,
                    output: oa,
                },
                FormatKind::RegEx {
                    input: ib,
                    output: ob,
                },
            ) => {
                ia.as_ref().map(regex::Regex::as_str) == ib.as_ref().map(regex::Regex::as_str)
                    && oa == ob
            }
            _ => false,
        }
    }
}

impl RecordFormat {
    /// Plain CSV: what a node without `dataFormat` holds.
    pub fn csv() -> Self {
        RecordFormat {
            kind: FormatKind::Csv { escape: None },
            columns: Vec::new(),
        }
    }

    /// Builds a format from a data format object's fields.
    pub fn from_fields(fields: &FormatFields<'_>) -> Result<Self, FormatError> {
        let invalid = |message: String| FormatError::Invalid {
            format: fields.id.to_string(),
            message,
        };
        let columns = fields
            .columns
            .iter()
            .map(|c| Column::parse(c))
            .collect::<Result<Vec<_>, _>>()
            .map_err(invalid)?;
        let byte = |field: &str, value: Option<&str>, default: Option<u8>| {
            single_byte(field, value, default).map_err(invalid)
        };
        let kind = match fields.type_name {
            "CSV" => FormatKind::Csv {
                escape: byte("escapeChar", fields.escape_char, None)?,
            },
            "TSV" => FormatKind::Delimited(Delimiters {
                column: byte("columnSeparator", fields.column_separator, Some(b'\t'))?
                    .unwrap_or(b'\t'),
                record: byte("recordSeparator", fields.record_separator, Some(b'\n'))?
                    .unwrap_or(b'\n'),
                escape: byte("escapeChar", fields.escape_char, None)?,
            }),
            "Custom" => FormatKind::Delimited(Delimiters {
                column: byte("columnSeparator", fields.column_separator, None)?
                    .ok_or_else(|| invalid("Custom needs a columnSeparator".to_string()))?,
                record: byte("recordSeparator", fields.record_separator, Some(b'\n'))?
                    .unwrap_or(b'\n'),
                escape: None,
            }),
            "RegEx" => FormatKind::RegEx {
                input: fields
                    .input_regex
                    .map(|re| {
                        // Java's `matches()` semantics: the whole line must match.
                        regex::Regex::new(&format!("^(?:{re})$"))
                            .map_err(|e| invalid(format!("inputRegEx {re:?} is invalid: {e}")))
                    })
                    .transpose()?,
                output: fields.output_format.map(str::to_string),
            },
            other => {
                return Err(invalid(format!(
                    "{other} is not a record format (expected CSV, TSV, Custom or RegEx)"
                )));
            }
        };
        let format = RecordFormat { kind, columns };
        if let Some(dialect) = format.dialect() {
            distinct_bytes(&dialect).map_err(invalid)?;
        }
        Ok(format)
    }

    /// How CSV, TSV and Custom lay out their bytes; `None` for RegEx.
    pub fn dialect(&self) -> Option<Dialect> {
        match &self.kind {
            FormatKind::Csv { escape } => Some(Dialect::csv(*escape)),
            FormatKind::Delimited(d) => Some(Dialect::unquoted(*d)),
            FormatKind::RegEx { .. } => None,
        }
    }

    /// The declared column names, if any.
    pub fn column_names(&self) -> Vec<&str> {
        self.columns.iter().map(|c| c.name.as_str()).collect()
    }

    /// A reader of records from `input` (already decompressed).
    pub fn reader<'a>(
        &self,
        input: Box<dyn BufRead + Send + 'a>,
    ) -> Result<Box<dyn RecordRead + Send + 'a>, FormatError> {
        let expected = (!self.columns.is_empty()).then_some(self.columns.len());
        Ok(match &self.kind {
            FormatKind::Csv { escape } => {
                Box::new(DelimitedReader::new(input, Dialect::csv(*escape), expected))
            }
            FormatKind::Delimited(d) => {
                Box::new(DelimitedReader::new(input, Dialect::unquoted(*d), expected))
            }
            FormatKind::RegEx { input: re, .. } => {
                let re = re.clone().ok_or_else(|| FormatError::Invalid {
                    format: "RegEx".into(),
                    message: "reading needs inputRegEx".into(),
                })?;
                Box::new(RegexReader::new(input, re))
            }
        })
    }

    /// A writer of records into `output`; call [`RecordWrite::finish`] at the end.
    pub fn writer<'a>(
        &self,
        output: Box<dyn FinishWrite + 'a>,
    ) -> Result<Box<dyn RecordWrite + 'a>, FormatError> {
        Ok(match &self.kind {
            FormatKind::Csv { escape } => {
                Box::new(DelimitedWriter::new(output, Dialect::csv(*escape)))
            }
            FormatKind::Delimited(d) => {
                Box::new(DelimitedWriter::new(output, Dialect::unquoted(*d)))
            }
            FormatKind::RegEx { output: fmt, .. } => {
                let fmt = fmt.clone().ok_or_else(|| FormatError::Invalid {
                    format: "RegEx".into(),
                    message: "writing needs outputFormat".into(),
                })?;
                Box::new(RegexWriter::new(output, &fmt)?)
            }
        })
    }
}

fn single_byte(
    field: &str,
    value: Option<&str>,
    default: Option<u8>,
) -> Result<Option<u8>, String> {
    let Some(value) = value else {
        return Ok(default);
    };
    let unescaped = match value {
        "\\t" => "\t",
        "\\n" => "\n",
        "\\r" => "\r",
        "\\\\" => "\\",
        other => other,
    };
    match unescaped.as_bytes() {
        [b] if b.is_ascii() => Ok(Some(*b)),
        _ => Err(format!(
            "{field} must be a single ASCII character, got {value:?}"
        )),
    }
}

/// Refuses a dialect in which one byte has two roles: no file could be read back.
fn distinct_bytes(dialect: &Dialect) -> Result<(), String> {
    let roles = [
        ("the column separator", Some(dialect.column)),
        ("the record separator", Some(dialect.record)),
        ("escapeChar", dialect.escape),
    ];
    for (i, (a, byte_a)) in roles.iter().enumerate() {
        for (b, byte_b) in &roles[i + 1..] {
            if let (Some(x), Some(y)) = (byte_a, byte_b)
                && x == y
            {
                return Err(format!(
                    "{a} and {b} are both {:?}; they must differ",
                    char::from(*x)
                ));
            }
        }
    }
    Ok(())
}

/// Something records can be written in: a [`RecordFormat`], or an [`UnloadText`].
pub trait WriteFormat: Clone + Send + 'static {
    /// A writer of records into `output`; call [`RecordWrite::finish`] at the end.
    fn record_writer<'a>(
        &self,
        output: Box<dyn FinishWrite + 'a>,
    ) -> Result<Box<dyn RecordWrite + 'a>, FormatError>;
}

impl WriteFormat for RecordFormat {
    fn record_writer<'a>(
        &self,
        output: Box<dyn FinishWrite + 'a>,
    ) -> Result<Box<dyn RecordWrite + 'a>, FormatError> {
        self.writer(output)
    }
}

impl WriteFormat for UnloadText {
    fn record_writer<'a>(
        &self,
        output: Box<dyn FinishWrite + 'a>,
    ) -> Result<Box<dyn RecordWrite + 'a>, FormatError> {
        Ok(Box::new(UnloadWriter::new(output, self.clone())))
    }
}

/// Reads records one at a time.
pub trait RecordRead {
    /// The next record, or `None` at the end of the input.
    fn next_record(&mut self) -> Result<Option<Record>, FormatError>;
}

/// Writes records one at a time.
pub trait RecordWrite: Send {
    fn write_record(&mut self, record: &[Option<String>]) -> Result<(), FormatError>;
    /// Flushes everything and ends the stream (writes the gzip trailer).
    fn finish(self: Box<Self>) -> Result<(), FormatError>;
}

fn field_of(text: &str) -> Option<String> {
    (!text.is_empty()).then(|| text.to_string())
}

fn check_width(record: u64, got: usize, expected: Option<usize>) -> Result<(), FormatError> {
    match expected {
        Some(n) if n != got => Err(FormatError::BadRecord {
            record,
            message: format!("has {got} fields, the format declares {n} columns"),
        }),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests;
