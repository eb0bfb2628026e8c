//! `RegEx`: each line is matched whole by `inputRegEx` and its groups are the columns; records
//! are written through `outputFormat`, a Java `Formatter` pattern (`%1$s`, `%s`, `%%`, `%n`).

use std::io::BufRead;

use super::{FinishWrite, FormatError, Record, RecordRead, RecordWrite};

/// Reads lines and splits them with a regular expression.
pub struct RegexReader<R> {
    input: R,
    regex: regex::Regex,
    line: String,
    count: u64,
}

impl<R: BufRead> RegexReader<R> {
    pub fn new(input: R, regex: regex::Regex) -> Self {
        RegexReader {
            input,
            regex,
            line: String::new(),
            count: 0,
        }
    }
}

impl<R: BufRead> RecordRead for RegexReader<R> {
    fn next_record(&mut self) -> Result<Option<Record>, FormatError> {
        loop {
            self.line.clear();
            let n = self.input.read_line(&mut self.line).map_err(|e| {
                if e.kind() == std::io::ErrorKind::InvalidData {
                    FormatError::BadRecord {
                        record: self.count + 1,
                        message: "is not valid UTF-8".into(),
                    }
                } else {
                    FormatError::Io(e)
                }
            })?;
            if n == 0 {
                return Ok(None);
            }
            self.count += 1;
            let line = self.line.trim_end_matches(['\n', '\r']);
            if line.is_empty() {
                continue;
            }
            let caps = self
                .regex
                .captures(line)
                .ok_or_else(|| FormatError::BadRecord {
                    record: self.count,
                    message: format!("does not match inputRegEx {}", self.regex.as_str()),
                })?;
            return Ok(Some(
                caps.iter()
                    .skip(1)
                    .map(|m| m.map(|m| m.as_str()).and_then(super::field_of))
                    .collect(),
            ));
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
enum Piece {
    Text(String),
    /// 0-based column index.
    Column(usize),
}

fn parse_output_format(fmt: &str) -> Result<Vec<Piece>, FormatError> {
    let invalid = |message: String| FormatError::Invalid {
        format: "RegEx".into(),
        message,
    };
    let mut pieces = Vec::new();
    let mut text = String::new();
    let mut next_ordinary = 0usize;
    let mut chars = fmt.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '%' {
            text.push(c);
            continue;
        }
        let mut digits = String::new();
        while let Some(d) = chars.peek().copied().filter(char::is_ascii_digit) {
            digits.push(d);
            chars.next();
        }
        match chars.next() {
            Some('%') if digits.is_empty() => text.push('%'),
            Some('n') if digits.is_empty() => text.push('\n'),
            Some('s') if digits.is_empty() => {
                pieces.push(Piece::Text(std::mem::take(&mut text)));
                pieces.push(Piece::Column(next_ordinary));
                next_ordinary += 1;
            }
            Some('$') if !digits.is_empty() => {
                if chars.next() != Some('s') {
                    return Err(invalid(format!(
                        "outputFormat {fmt:?}: only %s conversions are supported"
                    )));
                }
                let n: usize =
                    digits.parse().ok().filter(|n| *n > 0).ok_or_else(|| {
                        invalid(format!("outputFormat {fmt:?}: bad index {digits}"))
                    })?;
                pieces.push(Piece::Text(std::mem::take(&mut text)));
                pieces.push(Piece::Column(n - 1));
            }
            _ => {
                return Err(invalid(format!(
                    "outputFormat {fmt:?}: only %s, %N$s, %% and %n are supported"
                )));
            }
        }
    }
    pieces.push(Piece::Text(text));
    pieces.retain(|p| !matches!(p, Piece::Text(t) if t.is_empty()));
    Ok(pieces)
}

/// Writes one line per record through the output format.
pub struct RegexWriter<'a> {
    output: Option<Box<dyn FinishWrite + 'a>>,
    pieces: Vec<Piece>,
    line: String,
    count: u64,
}

impl<'a> RegexWriter<'a> {
    pub fn new(output: Box<dyn FinishWrite + 'a>, fmt: &str) -> Result<Self, FormatError> {
        Ok(RegexWriter {
            output: Some(output),
            pieces: parse_output_format(fmt)?,
            line: String::new(),
            count: 0,
        })
    }
}

impl RecordWrite for RegexWriter<'_> {
    fn write_record(&mut self, record: &[Option<String>]) -> Result<(), FormatError> {
        self.count += 1;
        self.line.clear();
        for piece in &self.pieces {
            match piece {
                Piece::Text(t) => self.line.push_str(t),
                Piece::Column(i) => {
                    let value = record.get(*i).ok_or_else(|| FormatError::BadRecord {
                        record: self.count,
                        message: format!(
                            "outputFormat uses column {} but the record has {}",
                            i + 1,
                            record.len()
                        ),
                    })?;
                    // Java prints a null argument as "null".
                    self.line.push_str(value.as_deref().unwrap_or("null"));
                }
            }
        }
        self.line.push('\n');
        self.output
            .as_mut()
            .expect("writer present")
            .write_all(self.line.as_bytes())?;
        Ok(())
    }

    fn finish(mut self: Box<Self>) -> Result<(), FormatError> {
        self.output
            .take()
            .expect("writer present")
            .finish_stream()?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn output_format_parses_positional_and_ordinary() {
        assert_eq!(
            parse_output_format("%2$s-%1$s %s%%").unwrap(),
            vec![
                Piece::Column(1),
                Piece::Text("-".into()),
                Piece::Column(0),
                Piece::Text(" ".into()),
                Piece::Column(0),
                Piece::Text("%".into()),
            ]
        );
        assert!(parse_output_format("%d").is_err());
        assert!(parse_output_format("%0$s").is_err());
    }
}
