//! What Redshift's `UNLOAD` writes (r_UNLOAD): delimited text, or CSV.
//!
//! Text: fields joined by the delimiter (`|` by default), one record per line. `ADDQUOTES`
//! puts double quotes around every field; `ESCAPE` puts a backslash before every line feed,
//! carriage return, delimiter and backslash in a value (and before `"` and `'` together with
//! `ADDQUOTES`). Without `ESCAPE`, values are written as they are, delimiters and line breaks
//! included, as Redshift does. CSV (`FORMAT CSV`): a field holding the delimiter (`,` by
//! default), a double quote or a line break is quoted, inner quotes doubled. In both, NULL is
//! written as `NULL AS` (empty by default) and is never escaped.
//!
//! Written only, through [`WriteFormat`](super::WriteFormat): nothing in Sluice reads files
//! by UNLOAD options, so this is no [`RecordFormat`](super::RecordFormat).

use super::{FinishWrite, FormatError, RecordWrite};

/// The record-format options of an `UNLOAD`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnloadText {
    /// `FORMAT CSV` rather than delimited text.
    pub csv: bool,
    pub delimiter: u8,
    /// `ADDQUOTES` (text only).
    pub add_quotes: bool,
    /// `ESCAPE` (text only).
    pub escape: bool,
    /// `NULL AS`; `None` writes NULL as an empty field.
    pub null_as: Option<String>,
}

impl UnloadText {
    /// Redshift's defaults: `|`-delimited text, no quotes, no escapes, NULL as empty.
    pub fn text() -> Self {
        UnloadText {
            csv: false,
            delimiter: b'|',
            add_quotes: false,
            escape: false,
            null_as: None,
        }
    }

    /// `FORMAT CSV` with its default delimiter.
    pub fn csv() -> Self {
        UnloadText {
            csv: true,
            delimiter: b',',
            ..UnloadText::text()
        }
    }

    /// The bytes `record` takes once written, line end included.
    pub fn encoded_len(&self, record: &[Option<String>]) -> usize {
        let mut len = record.len().max(1);
        for field in record {
            len += match field {
                None => self.null_as.as_deref().map_or(0, str::len) + self.quotes(),
                Some(value) => self.value_len(value),
            };
        }
        len
    }

    /// Appends `record` and its line end to `out`.
    pub fn encode(&self, record: &[Option<String>], out: &mut Vec<u8>) {
        for (i, field) in record.iter().enumerate() {
            if i > 0 {
                out.push(self.delimiter);
            }
            match field {
                None => self.push_quoted(out, self.null_as.as_deref().unwrap_or("").as_bytes()),
                Some(value) if self.csv => self.push_csv(out, value.as_bytes()),
                Some(value) => self.push_text(out, value.as_bytes()),
            }
        }
        out.push(b'\n');
    }

    fn quotes(&self) -> usize {
        if self.add_quotes && !self.csv { 2 } else { 0 }
    }

    fn value_len(&self, value: &str) -> usize {
        let bytes = value.as_bytes();
        if self.csv {
            if self.csv_needs_quotes(bytes) {
                bytes.len() + 2 + bytes.iter().filter(|&&b| b == b'"').count()
            } else {
                bytes.len()
            }
        } else {
            let escaped = bytes.iter().filter(|&&b| self.text_escaped(b)).count();
            bytes.len() + escaped + self.quotes()
        }
    }

    fn text_escaped(&self, b: u8) -> bool {
        self.escape
            && (matches!(b, b'\n' | b'\r' | b'\\')
                || b == self.delimiter
                || (self.add_quotes && matches!(b, b'"' | b'\'')))
    }

    fn csv_needs_quotes(&self, bytes: &[u8]) -> bool {
        bytes
            .iter()
            .any(|&b| matches!(b, b'"' | b'\n' | b'\r') || b == self.delimiter)
    }

    /// A NULL: its marker as is, inside quotes with `ADDQUOTES`.
    fn push_quoted(&self, out: &mut Vec<u8>, bytes: &[u8]) {
        let quoted = self.quotes() > 0;
        if quoted {
            out.push(b'"');
        }
        out.extend_from_slice(bytes);
        if quoted {
            out.push(b'"');
        }
    }

    fn push_text(&self, out: &mut Vec<u8>, bytes: &[u8]) {
        if self.add_quotes {
            out.push(b'"');
        }
        for &b in bytes {
            if self.text_escaped(b) {
                out.push(b'\\');
            }
            out.push(b);
        }
        if self.add_quotes {
            out.push(b'"');
        }
    }

    fn push_csv(&self, out: &mut Vec<u8>, bytes: &[u8]) {
        if !self.csv_needs_quotes(bytes) {
            out.extend_from_slice(bytes);
            return;
        }
        out.push(b'"');
        for &b in bytes {
            if b == b'"' {
                out.push(b'"');
            }
            out.push(b);
        }
        out.push(b'"');
    }
}

/// Writes records as [`UnloadText`] says.
pub struct UnloadWriter<'a> {
    output: std::io::BufWriter<Box<dyn FinishWrite + 'a>>,
    options: UnloadText,
    line: Vec<u8>,
}

impl<'a> UnloadWriter<'a> {
    pub fn new(output: Box<dyn FinishWrite + 'a>, options: UnloadText) -> Self {
        UnloadWriter {
            output: std::io::BufWriter::with_capacity(64 * 1024, output),
            options,
            line: Vec::new(),
        }
    }
}

impl RecordWrite for UnloadWriter<'_> {
    fn write_record(&mut self, record: &[Option<String>]) -> Result<(), FormatError> {
        use std::io::Write;
        self.line.clear();
        self.options.encode(record, &mut self.line);
        self.output.write_all(&self.line)?;
        Ok(())
    }

    fn finish(self: Box<Self>) -> Result<(), FormatError> {
        let output = self.output.into_inner().map_err(|e| e.into_error())?;
        output.finish_stream()?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::UnloadText;

    fn encoded(options: &UnloadText, records: &[Vec<Option<&str>>]) -> String {
        let mut out = Vec::new();
        for record in records {
            let record: Vec<Option<String>> =
                record.iter().map(|f| f.map(str::to_string)).collect();
            let before = out.len();
            options.encode(&record, &mut out);
            assert_eq!(
                out.len() - before,
                options.encoded_len(&record),
                "{record:?}"
            );
        }
        String::from_utf8(out).unwrap()
    }

    fn awkward() -> Vec<Vec<Option<&'static str>>> {
        vec![
            vec![Some("1"), Some("a|b,c"), None],
            vec![Some("2"), Some("say \"hi\" it's\nnew\rline\\"), Some("")],
            vec![],
        ]
    }

    #[test]
    fn text_defaults_write_values_as_they_are() {
        assert_eq!(
            encoded(&UnloadText::text(), &awkward()),
            "1|a|b,c|\n2|say \"hi\" it's\nnew\rline\\|\n\n"
        );
    }

    #[test]
    fn escape_and_addquotes_follow_unload() {
        let options = UnloadText {
            delimiter: b',',
            add_quotes: true,
            escape: true,
            null_as: Some("\\N".into()),
            ..UnloadText::text()
        };
        assert_eq!(
            encoded(&options, &awkward()),
            "\"1\",\"a|b\\,c\",\"\\N\"\n\"2\",\"say \\\"hi\\\" it\\'s\\\nnew\\\rline\\\\\",\"\"\n\n"
        );
        let escape_only = UnloadText {
            escape: true,
            ..UnloadText::text()
        };
        // Quotes are escaped only together with ADDQUOTES.
        assert_eq!(encoded(&escape_only, &awkward()[..1]), "1|a\\|b,c|\n");
    }

    #[test]
    fn csv_quotes_what_needs_it() {
        let options = UnloadText {
            null_as: Some("NULL".into()),
            ..UnloadText::csv()
        };
        assert_eq!(
            encoded(&options, &awkward()),
            "1,\"a|b,c\",NULL\n2,\"say \"\"hi\"\" it's\nnew\rline\\\",\n\n"
        );
        let piped = UnloadText {
            delimiter: b'|',
            ..UnloadText::csv()
        };
        assert_eq!(encoded(&piped, &awkward()[..1]), "1|\"a|b,c\"|\n");
    }
}
