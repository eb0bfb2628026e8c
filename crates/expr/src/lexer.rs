//! Turns the inside of one `#{...}` into tokens.
//!
//! The lexer, not a brace counter, finds the closing `}`: that is what lets a `}` inside a
//! string literal (`#{format(d, '}')}`) stay part of the expression. `*` is always lexed as an
//! operator; whether `*name` is a secret field or a multiplication is the parser's call, since
//! only it knows whether an operand is expected.

use std::ops::Range;

use crate::error::{ErrorKind, ExprError, Result};

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Tok {
    Int(i64),
    Double(f64),
    Str(String),
    /// A plain name: a field, a parameter or a function.
    Ident(String),
    /// `@name`, kept with its `@`.
    AtIdent(String),
    Plus,
    Minus,
    Star,
    Slash,
    Caret,
    LParen,
    RParen,
    Comma,
    Dot,
}

impl Tok {
    /// How the token is named in "expected X, found Y" messages.
    pub(crate) fn describe(&self) -> String {
        match self {
            Tok::Int(n) => format!("number {n}"),
            Tok::Double(x) => format!("number {x:?}"),
            Tok::Str(s) => format!("string '{s}'"),
            Tok::Ident(name) | Tok::AtIdent(name) => format!("name '{name}'"),
            Tok::Plus => "'+'".to_owned(),
            Tok::Minus => "'-'".to_owned(),
            Tok::Star => "'*'".to_owned(),
            Tok::Slash => "'/'".to_owned(),
            Tok::Caret => "'^'".to_owned(),
            Tok::LParen => "'('".to_owned(),
            Tok::RParen => "')'".to_owned(),
            Tok::Comma => "','".to_owned(),
            Tok::Dot => "'.'".to_owned(),
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Token {
    pub(crate) tok: Tok,
    pub(crate) span: Range<usize>,
}

/// The tokens of one expression.
#[derive(Debug)]
pub(crate) struct Lexed {
    pub(crate) tokens: Vec<Token>,
    /// Byte offset of the `}` that ended the expression (template mode), `None` when the text
    /// ran out first.
    pub(crate) close: Option<usize>,
}

/// Lexes `text` from byte `start`. With `stop_at_brace` the first `}` outside a string ends the
/// expression (template mode); otherwise a `}` is an unexpected character.
pub(crate) fn lex(text: &str, start: usize, stop_at_brace: bool) -> Result<Lexed> {
    let bytes = text.as_bytes();
    let mut tokens = Vec::new();
    let mut pos = start;
    while let Some(&byte) = bytes.get(pos) {
        let single = match byte {
            b'+' => Some(Tok::Plus),
            b'-' => Some(Tok::Minus),
            b'*' => Some(Tok::Star),
            b'/' => Some(Tok::Slash),
            b'^' => Some(Tok::Caret),
            b'(' => Some(Tok::LParen),
            b')' => Some(Tok::RParen),
            b',' => Some(Tok::Comma),
            b'.' => Some(Tok::Dot),
            _ => None,
        };
        if let Some(tok) = single {
            tokens.push(Token {
                tok,
                span: pos..pos + 1,
            });
            pos += 1;
            continue;
        }
        match byte {
            b'}' if stop_at_brace => {
                return Ok(Lexed {
                    tokens,
                    close: Some(pos),
                });
            }
            b' ' | b'\t' | b'\n' | b'\r' => pos += 1,
            b'\'' | b'"' => {
                let (token, next) = lex_string(text, pos)?;
                tokens.push(token);
                pos = next;
            }
            b'0'..=b'9' => {
                let (token, next) = lex_number(text, pos)?;
                tokens.push(token);
                pos = next;
            }
            b'@' => {
                let end = name_end(bytes, pos + 1);
                if end == pos + 1 || bytes.get(pos + 1).is_some_and(u8::is_ascii_digit) {
                    return Err(ExprError::new(
                        ErrorKind::UnexpectedCharacter('@'),
                        pos..pos + 1,
                    ));
                }
                let name = text.get(pos..end).unwrap_or_default().to_owned();
                tokens.push(Token {
                    tok: Tok::AtIdent(name),
                    span: pos..end,
                });
                pos = end;
            }
            b'a'..=b'z' | b'A'..=b'Z' | b'_' => {
                let end = name_end(bytes, pos);
                let name = text.get(pos..end).unwrap_or_default().to_owned();
                tokens.push(Token {
                    tok: Tok::Ident(name),
                    span: pos..end,
                });
                pos = end;
            }
            _ => {
                let c = text
                    .get(pos..)
                    .and_then(|rest| rest.chars().next())
                    .unwrap_or('\u{fffd}');
                if c.is_whitespace() {
                    pos += c.len_utf8();
                    continue;
                }
                return Err(ExprError::new(
                    ErrorKind::UnexpectedCharacter(c),
                    pos..pos + c.len_utf8(),
                ));
            }
        }
    }
    Ok(Lexed {
        tokens,
        close: None,
    })
}

fn name_end(bytes: &[u8], from: usize) -> usize {
    let mut end = from;
    while bytes
        .get(end)
        .is_some_and(|b| b.is_ascii_alphanumeric() || *b == b'_')
    {
        end += 1;
    }
    end
}

fn digits_end(bytes: &[u8], from: usize) -> usize {
    let mut end = from;
    while bytes.get(end).is_some_and(u8::is_ascii_digit) {
        end += 1;
    }
    end
}

/// Integers are digits; a double needs digits on both sides of the point (so `1.format(...)`
/// stays a method call on 1) and may carry an exponent.
fn lex_number(text: &str, start: usize) -> Result<(Token, usize)> {
    let bytes = text.as_bytes();
    let mut end = digits_end(bytes, start);
    let mut is_double = false;
    if bytes.get(end) == Some(&b'.') && bytes.get(end + 1).is_some_and(u8::is_ascii_digit) {
        is_double = true;
        end = digits_end(bytes, end + 1);
    }
    if matches!(bytes.get(end), Some(b'e' | b'E')) {
        let sign = usize::from(matches!(bytes.get(end + 1), Some(b'+' | b'-')));
        if bytes.get(end + 1 + sign).is_some_and(u8::is_ascii_digit) {
            is_double = true;
            end = digits_end(bytes, end + 1 + sign);
        }
    }
    let literal = text.get(start..end).unwrap_or_default();
    let out_of_range =
        || ExprError::new(ErrorKind::NumberOutOfRange(literal.to_owned()), start..end);
    let tok = if is_double {
        match literal.parse::<f64>() {
            Ok(x) if x.is_finite() => Tok::Double(x),
            _ => return Err(out_of_range()),
        }
    } else {
        Tok::Int(literal.parse::<i64>().map_err(|_| out_of_range())?)
    };
    Ok((
        Token {
            tok,
            span: start..end,
        },
        end,
    ))
}

/// A string in single or double quotes. A backslash escapes the quote character or another
/// backslash; before anything else it is kept as written, so Windows paths survive.
fn lex_string(text: &str, start: usize) -> Result<(Token, usize)> {
    let mut chars = text.get(start..).unwrap_or_default().char_indices();
    let Some((_, quote)) = chars.next() else {
        return Err(ExprError::new(
            ErrorKind::UnterminatedString,
            start..text.len(),
        ));
    };
    let mut value = String::new();
    while let Some((offset, c)) = chars.next() {
        if c == quote {
            let end = start + offset + c.len_utf8();
            return Ok((
                Token {
                    tok: Tok::Str(value),
                    span: start..end,
                },
                end,
            ));
        }
        if c == '\\' {
            match chars.clone().next() {
                Some((_, next)) if next == quote || next == '\\' => {
                    value.push(next);
                    chars.next();
                }
                _ => value.push('\\'),
            }
        } else {
            value.push(c);
        }
    }
    Err(ExprError::new(
        ErrorKind::UnterminatedString,
        start..text.len(),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn toks(text: &str) -> Vec<Tok> {
        lex(text, 0, false)
            .unwrap()
            .tokens
            .into_iter()
            .map(|t| t.tok)
            .collect()
    }

    #[test]
    fn lexes_every_token_kind() {
        assert_eq!(
            toks("a.@b + *c - 1 * 2.5 / 3e2 ^ ('x', \"y\")"),
            vec![
                Tok::Ident("a".into()),
                Tok::Dot,
                Tok::AtIdent("@b".into()),
                Tok::Plus,
                Tok::Star,
                Tok::Ident("c".into()),
                Tok::Minus,
                Tok::Int(1),
                Tok::Star,
                Tok::Double(2.5),
                Tok::Slash,
                Tok::Double(300.0),
                Tok::Caret,
                Tok::LParen,
                Tok::Str("x".into()),
                Tok::Comma,
                Tok::Str("y".into()),
                Tok::RParen,
            ]
        );
    }

    #[test]
    fn numbers_followed_by_a_method_call() {
        assert_eq!(
            toks("1.f"),
            vec![Tok::Int(1), Tok::Dot, Tok::Ident("f".into())]
        );
        assert_eq!(
            toks("1.5.f"),
            vec![Tok::Double(1.5), Tok::Dot, Tok::Ident("f".into())]
        );
    }

    #[test]
    fn string_escapes() {
        assert_eq!(toks(r"'it\'s'"), vec![Tok::Str("it's".into())]);
        assert_eq!(toks(r#""a\"b""#), vec![Tok::Str("a\"b".into())]);
        assert_eq!(toks(r"'C:\dir\\'"), vec![Tok::Str(r"C:\dir\".into())]);
        assert_eq!(toks(r#"'say "hi"'"#), vec![Tok::Str("say \"hi\"".into())]);
    }

    #[test]
    fn closing_brace_inside_a_string_does_not_end_the_expression() {
        let lexed = lex("#{'}'} tail", 2, true).unwrap();
        assert_eq!(lexed.close, Some(5));
        assert_eq!(lexed.tokens[0].tok, Tok::Str("}".into()));
    }

    #[test]
    fn reports_errors_with_spans() {
        let error = lex("a $ b", 0, false).unwrap_err();
        assert_eq!(
            (*error.kind, error.span),
            (ErrorKind::UnexpectedCharacter('$'), 2..3)
        );
        let error = lex("x 'abc", 0, false).unwrap_err();
        assert_eq!(
            (*error.kind, error.span),
            (ErrorKind::UnterminatedString, 2..6)
        );
        let error = lex("99999999999999999999", 0, false).unwrap_err();
        assert_eq!(error.span, 0..20);
        let error = lex("1e999", 0, false).unwrap_err();
        assert!(matches!(*error.kind, ErrorKind::NumberOutOfRange(_)));
        let error = lex("a } b", 0, false).unwrap_err();
        assert_eq!(*error.kind, ErrorKind::UnexpectedCharacter('}'));
        let error = lex("@ x", 0, false).unwrap_err();
        assert_eq!(error.span, 0..1);
        let error = lex("é", 0, false).unwrap_err();
        assert_eq!(error.span, 0..2);
    }
}
