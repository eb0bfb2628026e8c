//! `TSV` and `Custom`: fields split by single-byte separators, with an optional escape character
//! that makes the next byte literal (so a separator can appear inside a field).

use std::io::BufRead;

use super::{Delimiters, FinishWrite, FormatError, Record, RecordRead, RecordWrite, check_width};

/// Reads delimited records.
pub struct DelimitedReader<R> {
    input: R,
    delimiters: Delimiters,
    expected: Option<usize>,
    line: Vec<u8>,
    field: Vec<u8>,
    count: u64,
}

impl<R: BufRead> DelimitedReader<R> {
    pub fn new(input: R, delimiters: Delimiters, expected: Option<usize>) -> Self {
        DelimitedReader {
            input,
            delimiters,
            expected,
            line: Vec::new(),
            field: Vec::new(),
            count: 0,
        }
    }

    /// Reads up to the next unescaped record separator into `self.line` (separator removed).
    fn read_line(&mut self) -> Result<bool, FormatError> {
        self.line.clear();
        loop {
            let n = self
                .input
                .read_until(self.delimiters.record, &mut self.line)?;
            if n == 0 {
                return Ok(!self.line.is_empty());
            }
            if self.line.last() != Some(&self.delimiters.record) {
                return Ok(true);
            }
            if !ends_escaped(&self.line[..self.line.len() - 1], self.delimiters.escape) {
                self.line.pop();
                if self.delimiters.record == b'\n'
                    && self.line.last() == Some(&b'\r')
                    && !ends_escaped(&self.line[..self.line.len() - 1], self.delimiters.escape)
                {
                    self.line.pop();
                }
                return Ok(true);
            }
        }
    }
}

/// Whether the byte after `bytes` is escaped: an odd run of escape characters ends `bytes`.
fn ends_escaped(bytes: &[u8], escape: Option<u8>) -> bool {
    let Some(escape) = escape else {
        return false;
    };
    bytes.iter().rev().take_while(|b| **b == escape).count() % 2 == 1
}

impl<R: BufRead> RecordRead for DelimitedReader<R> {
    fn next_record(&mut self) -> Result<Option<Record>, FormatError> {
        loop {
            if !self.read_line()? {
                return Ok(None);
            }
            self.count += 1;
            if !self.line.is_empty() {
                break;
            }
        }
        let mut record = Vec::with_capacity(self.expected.unwrap_or(8));
        self.field.clear();
        let mut bytes = self.line.iter();
        while let Some(&b) = bytes.next() {
            if Some(b) == self.delimiters.escape {
                match bytes.next() {
                    Some(&next) => self.field.push(next),
                    None => self.field.push(b),
                }
            } else if b == self.delimiters.column {
                record.push(take_field(&mut self.field, self.count)?);
            } else {
                self.field.push(b);
            }
        }
        record.push(take_field(&mut self.field, self.count)?);
        check_width(self.count, record.len(), self.expected)?;
        Ok(Some(record))
    }
}

fn take_field(field: &mut Vec<u8>, record: u64) -> Result<Option<String>, FormatError> {
    if field.is_empty() {
        return Ok(None);
    }
    let text = String::from_utf8(std::mem::take(field)).map_err(|_| FormatError::BadRecord {
        record,
        message: "is not valid UTF-8".into(),
    })?;
    Ok(Some(text))
}

/// Writes delimited records, escaping separators when an escape character is set.
pub struct DelimitedWriter<'a> {
    output: Option<Box<dyn FinishWrite + 'a>>,
    delimiters: Delimiters,
    buf: Vec<u8>,
    count: u64,
}

impl<'a> DelimitedWriter<'a> {
    pub fn new(output: Box<dyn FinishWrite + 'a>, delimiters: Delimiters) -> Self {
        DelimitedWriter {
            output: Some(output),
            delimiters,
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
}

impl RecordWrite for DelimitedWriter<'_> {
    fn write_record(&mut self, record: &[Option<String>]) -> Result<(), FormatError> {
        self.count += 1;
        let d = self.delimiters;
        for (i, field) in record.iter().enumerate() {
            if i > 0 {
                self.buf.push(d.column);
            }
            for &b in field.as_deref().unwrap_or("").as_bytes() {
                let special = b == d.column || b == d.record || Some(b) == d.escape;
                if special {
                    let Some(escape) = d.escape else {
                        return Err(FormatError::BadRecord {
                            record: self.count,
                            message: format!(
                                "field {} contains a separator ({:?}) and the format has no escapeChar",
                                i + 1,
                                b as char
                            ),
                        });
                    };
                    self.buf.push(escape);
                }
                self.buf.push(b);
            }
        }
        self.buf.push(d.record);
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
