//! Expression errors carry a byte span into the text the user wrote (the whole field value, not
//! the inside of one `#{...}`), so a caller can point at the offending bytes in a validation
//! message or under a CLI prompt. Errors are classified by [`ErrorKind`]; messages are derived
//! from the kind and never parsed back.

use std::fmt::Write as _;
use std::ops::Range;

/// Shorthand used throughout the crate.
pub type Result<T, E = ExprError> = std::result::Result<T, E>;

/// A parse or evaluation failure, located in the expression text.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{kind} at bytes {}..{} in '{expression}'", .span.start, .span.end)]
pub struct ExprError {
    /// What went wrong (boxed to keep `Result`s small on the happy path).
    pub kind: Box<ErrorKind>,
    /// Byte range in [`ExprError::expression`] the error is about.
    pub span: Range<usize>,
    /// The text that was parsed or evaluated: a whole field value (with its `#{...}`) or a bare
    /// expression.
    pub expression: String,
}

/// What went wrong, one variant per kind of mistake.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ErrorKind {
    #[error("'#{{' is never closed by '}}'")]
    UnclosedExpression,
    #[error("empty expression")]
    EmptyExpression,
    #[error("string literal is never closed")]
    UnterminatedString,
    #[error("unexpected character '{0}'")]
    UnexpectedCharacter(char),
    #[error("expected {expected}, found {found}")]
    UnexpectedToken {
        expected: &'static str,
        found: String,
    },
    #[error("number '{0}' is out of range")]
    NumberOutOfRange(String),
    #[error("expression nests deeper than {0} levels")]
    TooDeep(usize),
    #[error("unknown function '{0}'")]
    UnknownFunction(String),
    #[error(
        "function '{function}' takes {expected} argument(s) but was given {found}: {signature}"
    )]
    WrongArity {
        function: String,
        expected: usize,
        found: usize,
        signature: String,
    },
    #[error(
        "argument {position} of '{function}' must be {expected}, not {found} '{value}': {signature}"
    )]
    WrongArgumentType {
        function: String,
        /// 1-based, counting the receiver of the method-call form as argument 1.
        position: usize,
        expected: &'static str,
        found: &'static str,
        value: String,
        signature: String,
    },
    #[error("'{function}': {message}")]
    InvalidArgument { function: String, message: String },
    #[error("unknown time zone '{0}'")]
    UnknownTimeZone(String),
    #[error("bad format pattern '{pattern}': {message}")]
    BadFormatPattern { pattern: String, message: String },
    #[error("{0}")]
    BadPeriod(sluice_model::PeriodError),
    #[error("'{field}' is not a field of object '{object}'")]
    UnknownField { field: String, object: String },
    #[error("cannot read field '{field}' from a {found}: only references to objects have fields")]
    NotAReference { field: String, found: &'static str },
    #[error("expression refers to itself through '{field}'")]
    SelfReference { field: String },
    #[error("field references nest deeper than {limit} levels at '{field}'")]
    ReferenceTooDeep { field: String, limit: usize },
    #[error("field '{field}' of object '{object}' is '{text}', which is not a valid {expected}")]
    BadFieldValue {
        object: String,
        field: String,
        text: String,
        expected: &'static str,
    },
    #[error("field '{field}' of object '{object}' cannot be evaluated ({inner})")]
    InField {
        object: String,
        field: String,
        inner: Box<ExprError>,
    },
    #[error("cannot apply '{operator}' to {left} and {right}")]
    TypeMismatch {
        operator: &'static str,
        left: &'static str,
        right: &'static str,
    },
    #[error("cannot negate a {0}")]
    CannotNegate(&'static str),
    #[error("division by zero")]
    DivisionByZero,
    #[error("integer overflow in '{0}'")]
    Overflow(&'static str),
    #[error("result of '{0}' is not a finite number")]
    NotFinite(&'static str),
    #[error("datetime out of range in '{0}'")]
    DateTimeOutOfRange(String),
    #[error("value is larger than {0} bytes")]
    ValueTooLarge(usize),
}

impl ExprError {
    /// An error located at `span`; the expression text is attached by [`ExprError::in_source`]
    /// once the caller knows which text the span refers to.
    pub(crate) fn new(kind: ErrorKind, span: Range<usize>) -> Self {
        ExprError {
            kind: Box::new(kind),
            span,
            expression: String::new(),
        }
    }

    /// Attaches the text the span points into, unless one is already attached.
    pub(crate) fn in_source(mut self, expression: &str) -> Self {
        if self.expression.is_empty() {
            expression.clone_into(&mut self.expression);
        }
        self
    }

    /// The line of the expression holding the error, with a caret line under the offending
    /// bytes, for terminal output:
    ///
    /// ```text
    /// #{fromat(@scheduledStartTime)}
    ///   ^^^^^^
    /// ```
    pub fn caret(&self) -> String {
        let text = self.expression.as_str();
        let start = floor_char_boundary(text, self.span.start);
        let end = floor_char_boundary(text, self.span.end.max(start));
        let line_start = text
            .get(..start)
            .and_then(|before| before.rfind('\n'))
            .map_or(0, |i| i + 1);
        let line_end = text
            .get(start..)
            .and_then(|after| after.find('\n'))
            .map_or(text.len(), |i| start + i);
        let line = text.get(line_start..line_end).unwrap_or_default();
        let mut out = String::with_capacity(line.len() * 2 + 2);
        out.push_str(line);
        out.push('\n');
        for c in text.get(line_start..start).unwrap_or_default().chars() {
            out.push(if c == '\t' { '\t' } else { ' ' });
        }
        let marked = text
            .get(start..end.min(line_end))
            .unwrap_or_default()
            .chars()
            .count();
        for _ in 0..marked.max(1) {
            out.push('^');
        }
        out
    }

    /// The message together with [`ExprError::caret`], as the CLI prints it.
    pub fn report(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(out, "error: {}", self.kind);
        out.push_str(&self.caret());
        out
    }
}

fn floor_char_boundary(text: &str, index: usize) -> usize {
    let mut index = index.min(text.len());
    while index > 0 && !text.is_char_boundary(index) {
        index -= 1;
    }
    index
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_names_expression_and_offsets() {
        let error = ExprError::new(ErrorKind::UnknownFunction("fromat".into()), 2..8)
            .in_source("#{fromat(@scheduledStartTime)}");
        assert_eq!(
            error.to_string(),
            "unknown function 'fromat' at bytes 2..8 in '#{fromat(@scheduledStartTime)}'"
        );
        assert_eq!(error.caret(), "#{fromat(@scheduledStartTime)}\n  ^^^^^^");
    }

    #[test]
    fn caret_handles_lines_multibyte_text_and_bad_spans() {
        let error = ExprError::new(ErrorKind::EmptyExpression, 7..10).in_source("é\n\tab #{}");
        assert_eq!(error.caret(), "\tab #{}\n\t   ^^^");
        let error = ExprError::new(ErrorKind::EmptyExpression, 40..90).in_source("abc");
        assert_eq!(error.caret(), "abc\n   ^");
        let error = ExprError::new(ErrorKind::EmptyExpression, 1..2).in_source("é");
        assert_eq!(error.caret(), "é\n^");
    }
}
