//! Recursive-descent parser for field values and bare expressions.
//!
//! Grammar, weakest binding first (all binary operators left-associative except `^`):
//!
//! ```text
//! additive       := multiplicative (('+' | '-') multiplicative)*
//! multiplicative := unary (('*' | '/') unary)*
//! unary          := '-' unary | power
//! power          := postfix ('^' unary)?
//! postfix        := primary ('.' member)*
//! member         := NAME '(' args ')' | NAME | '@'NAME | '*'NAME
//! primary        := INT | DOUBLE | STRING | NAME '(' args ')' | NAME | '@'NAME | '*'NAME
//!                 | '(' additive ')'
//! ```
//!
//! `*name` is a secret field only where an operand is expected and the name follows the star
//! without a space; elsewhere `*` multiplies. Trees deeper than [`MAX_DEPTH`] are rejected, so
//! neither parsing nor evaluating nor printing a hostile input can exhaust the stack.

use std::ops::Range;

use crate::ast::{BinaryOp, Expr, ExprKind, Part, Template};
use crate::error::{ErrorKind, ExprError, Result};
use crate::lexer::{Tok, Token, lex};

/// The deepest expression tree accepted.
pub const MAX_DEPTH: usize = 64;

/// Splits a field value into literal text and parsed `#{...}` expressions.
pub(crate) fn parse_template(raw: &str) -> Result<Template> {
    let mut parts = Vec::new();
    let mut literal_start = 0;
    let mut search_from = 0;
    while let Some(found) = raw.get(search_from..).and_then(|rest| rest.find("#{")) {
        let open = search_from + found;
        let lexed = lex(raw, open + 2, true)?;
        let Some(close) = lexed.close else {
            return Err(ExprError::new(
                ErrorKind::UnclosedExpression,
                open..open + 2,
            ));
        };
        if literal_start < open {
            parts.push(Part::Literal {
                text: raw.get(literal_start..open).unwrap_or_default().to_owned(),
                span: literal_start..open,
            });
        }
        if lexed.tokens.is_empty() {
            return Err(ExprError::new(ErrorKind::EmptyExpression, open..close + 1));
        }
        let expr = Parser::new(&lexed.tokens, close).parse_all()?;
        parts.push(Part::Expression {
            expr,
            span: open..close + 1,
        });
        literal_start = close + 1;
        search_from = close + 1;
    }
    if literal_start < raw.len() {
        parts.push(Part::Literal {
            text: raw.get(literal_start..).unwrap_or_default().to_owned(),
            span: literal_start..raw.len(),
        });
    }
    Ok(Template { parts })
}

/// Parses a bare expression (no `#{}` around it).
pub(crate) fn parse_expression(source: &str) -> Result<Expr> {
    let lexed = lex(source, 0, false)?;
    if lexed.tokens.is_empty() {
        return Err(ExprError::new(ErrorKind::EmptyExpression, 0..source.len()));
    }
    Parser::new(&lexed.tokens, source.len()).parse_all()
}

struct Parser<'t> {
    tokens: &'t [Token],
    pos: usize,
    /// Byte offset just past the expression, where "found end of expression" errors point.
    end: usize,
    depth: usize,
}

impl<'t> Parser<'t> {
    fn new(tokens: &'t [Token], end: usize) -> Self {
        Parser {
            tokens,
            pos: 0,
            end,
            depth: 0,
        }
    }

    fn parse_all(mut self) -> Result<Expr> {
        let expr = self.additive()?;
        match self.tokens.get(self.pos) {
            None => Ok(expr),
            Some(token) => Err(self.unexpected(token, "an operator or the end of the expression")),
        }
    }

    fn peek(&self) -> Option<&'t Tok> {
        self.tokens.get(self.pos).map(|token| &token.tok)
    }

    fn next(&mut self) -> Option<&'t Token> {
        let token = self.tokens.get(self.pos)?;
        self.pos += 1;
        Some(token)
    }

    fn unexpected(&self, token: &Token, expected: &'static str) -> ExprError {
        ExprError::new(
            ErrorKind::UnexpectedToken {
                expected,
                found: token.tok.describe(),
            },
            token.span.clone(),
        )
    }

    fn unexpected_end(&self, expected: &'static str) -> ExprError {
        ExprError::new(
            ErrorKind::UnexpectedToken {
                expected,
                found: "end of expression".to_owned(),
            },
            self.end..self.end,
        )
    }

    /// Builds a node, refusing trees deeper than [`MAX_DEPTH`].
    fn node(&self, kind: ExprKind, span: Range<usize>) -> Result<Expr> {
        let expr = Expr { kind, span };
        if expr.height() > MAX_DEPTH {
            return Err(ExprError::new(ErrorKind::TooDeep(MAX_DEPTH), expr.span));
        }
        Ok(expr)
    }

    /// Guards the recursive rules themselves, which can nest before any node is built
    /// (`((((...` or `----...`).
    fn descend(&mut self, at: Range<usize>) -> Result<()> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(ExprError::new(ErrorKind::TooDeep(MAX_DEPTH), at));
        }
        Ok(())
    }

    fn additive(&mut self) -> Result<Expr> {
        let mut left = self.multiplicative()?;
        loop {
            let op = match self.peek() {
                Some(Tok::Plus) => BinaryOp::Add,
                Some(Tok::Minus) => BinaryOp::Sub,
                _ => return Ok(left),
            };
            self.pos += 1;
            let right = self.multiplicative()?;
            left = self.binary(op, left, right)?;
        }
    }

    fn multiplicative(&mut self) -> Result<Expr> {
        let mut left = self.unary()?;
        loop {
            let op = match self.peek() {
                Some(Tok::Star) => BinaryOp::Mul,
                Some(Tok::Slash) => BinaryOp::Div,
                _ => return Ok(left),
            };
            self.pos += 1;
            let right = self.unary()?;
            left = self.binary(op, left, right)?;
        }
    }

    fn binary(&self, op: BinaryOp, left: Expr, right: Expr) -> Result<Expr> {
        let span = left.span.start..right.span.end;
        self.node(
            ExprKind::Binary {
                op,
                left: Box::new(left),
                right: Box::new(right),
            },
            span,
        )
    }

    fn unary(&mut self) -> Result<Expr> {
        let Some(Token {
            tok: Tok::Minus,
            span: minus,
        }) = self.tokens.get(self.pos)
        else {
            return self.power();
        };
        self.descend(minus.clone())?;
        self.pos += 1;
        let operand = self.unary()?;
        self.depth -= 1;
        let span = minus.start..operand.span.end;
        self.node(ExprKind::Neg(Box::new(operand)), span)
    }

    fn power(&mut self) -> Result<Expr> {
        let base = self.postfix()?;
        let Some(Token {
            tok: Tok::Caret,
            span: caret,
        }) = self.tokens.get(self.pos)
        else {
            return Ok(base);
        };
        self.descend(caret.clone())?;
        self.pos += 1;
        let exponent = self.unary()?;
        self.depth -= 1;
        self.binary(BinaryOp::Pow, base, exponent)
    }

    fn postfix(&mut self) -> Result<Expr> {
        let mut expr = self.primary()?;
        while let Some(Tok::Dot) = self.peek() {
            self.pos += 1;
            let (name, name_span) = self.member_name()?;
            let start = expr.span.start;
            if name.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_')
                && let Some(Tok::LParen) = self.peek()
            {
                let (mut args, close) = self.arguments()?;
                args.insert(0, expr);
                let kind = ExprKind::Call {
                    function: name,
                    function_span: name_span,
                    args,
                    method: true,
                };
                expr = self.node(kind, start..close)?;
            } else {
                let end = name_span.end;
                let kind = ExprKind::Member {
                    base: Box::new(expr),
                    name,
                    name_span,
                };
                expr = self.node(kind, start..end)?;
            }
        }
        Ok(expr)
    }

    /// The name after a `.`: plain, `@runtime` or `*secret`.
    fn member_name(&mut self) -> Result<(String, Range<usize>)> {
        const EXPECTED: &str = "a field or function name after '.'";
        let Some(token) = self.next() else {
            return Err(self.unexpected_end(EXPECTED));
        };
        match &token.tok {
            Tok::Ident(name) | Tok::AtIdent(name) => Ok((name.clone(), token.span.clone())),
            Tok::Star => self
                .secret_name(token)
                .ok_or_else(|| self.unexpected(token, EXPECTED)),
            _ => Err(self.unexpected(token, EXPECTED)),
        }
    }

    /// Completes `*name` when the name touches the star.
    fn secret_name(&mut self, star: &Token) -> Option<(String, Range<usize>)> {
        let name = self.tokens.get(self.pos)?;
        match &name.tok {
            Tok::Ident(id) if name.span.start == star.span.end => {
                self.pos += 1;
                Some((format!("*{id}"), star.span.start..name.span.end))
            }
            _ => None,
        }
    }

    fn primary(&mut self) -> Result<Expr> {
        const EXPECTED: &str = "a value, a field name, a function call or '('";
        let Some(token) = self.next() else {
            return Err(self.unexpected_end(EXPECTED));
        };
        let span = token.span.clone();
        match &token.tok {
            Tok::Int(n) => self.node(ExprKind::Int(*n), span),
            Tok::Double(x) => self.node(ExprKind::Double(*x), span),
            Tok::Str(s) => self.node(ExprKind::String(s.clone()), span),
            Tok::Ident(name) => {
                if let Some(Tok::LParen) = self.peek() {
                    let (args, close) = self.arguments()?;
                    let kind = ExprKind::Call {
                        function: name.clone(),
                        function_span: span.clone(),
                        args,
                        method: false,
                    };
                    return self.node(kind, span.start..close);
                }
                self.node(ExprKind::Field(name.clone()), span)
            }
            Tok::AtIdent(name) => self.node(ExprKind::Field(name.clone()), span),
            Tok::Star => match self.secret_name(token) {
                Some((name, span)) => self.node(ExprKind::Field(name), span),
                None => Err(self.unexpected(token, EXPECTED)),
            },
            Tok::LParen => {
                self.descend(span.clone())?;
                let inner = self.additive()?;
                self.depth -= 1;
                match self.next() {
                    Some(Token {
                        tok: Tok::RParen, ..
                    }) => Ok(inner),
                    Some(other) => Err(self.unexpected(other, "')'")),
                    None => Err(self.unexpected_end("')'")),
                }
            }
            _ => Err(self.unexpected(token, EXPECTED)),
        }
    }

    /// Parses `( arg, ... )` after a function name; returns the arguments and the byte just past
    /// the `)`.
    fn arguments(&mut self) -> Result<(Vec<Expr>, usize)> {
        let open = self
            .next()
            .map_or(self.end..self.end, |token| token.span.clone());
        self.descend(open)?;
        let mut args = Vec::new();
        if let Some(Token {
            tok: Tok::RParen,
            span,
        }) = self.tokens.get(self.pos)
        {
            self.pos += 1;
            self.depth -= 1;
            return Ok((args, span.end));
        }
        loop {
            args.push(self.additive()?);
            match self.next() {
                Some(Token {
                    tok: Tok::Comma, ..
                }) => {}
                Some(Token {
                    tok: Tok::RParen,
                    span,
                }) => {
                    self.depth -= 1;
                    return Ok((args, span.end));
                }
                Some(other) => return Err(self.unexpected(other, "',' or ')'")),
                None => return Err(self.unexpected_end("',' or ')'")),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shape(source: &str) -> String {
        format!("{}", parse_expression(source).unwrap())
    }

    #[test]
    fn precedence_and_associativity() {
        let cases = [
            ("1 + 2 * 3", "1 + 2 * 3"),
            ("(1 + 2) * 3", "(1 + 2) * 3"),
            ("1 - 2 - 3", "1 - 2 - 3"),
            ("1 - (2 - 3)", "1 - (2 - 3)"),
            ("2 ^ 3 ^ 2", "2 ^ 3 ^ 2"),
            ("(2 ^ 3) ^ 2", "(2 ^ 3) ^ 2"),
            ("-2 ^ 2", "-2 ^ 2"),
            ("(-2) ^ 2", "(-2) ^ 2"),
            ("2 ^ -1", "2 ^ -1"),
            ("a*-b", "a * -b"),
            ("--1", "--1"),
            ("-(1 + 2)", "-(1 + 2)"),
        ];
        for (source, printed) in cases {
            assert_eq!(shape(source), printed, "{source}");
        }
        let ExprKind::Binary {
            op: BinaryOp::Add,
            right,
            ..
        } = parse_expression("1 + 2 * 3").unwrap().kind
        else {
            panic!("+ must be at the root")
        };
        assert!(matches!(
            right.kind,
            ExprKind::Binary {
                op: BinaryOp::Mul,
                ..
            }
        ));
        let ExprKind::Neg(inner) = parse_expression("-2 ^ 2").unwrap().kind else {
            panic!("unary minus must be at the root")
        };
        assert!(matches!(
            inner.kind,
            ExprKind::Binary {
                op: BinaryOp::Pow,
                ..
            }
        ));
    }

    #[test]
    fn identifiers_chains_and_calls() {
        assert_eq!(
            shape("node . output.directoryPath"),
            "node.output.directoryPath"
        );
        assert_eq!(
            shape("node.@scheduledStartTime"),
            "node.@scheduledStartTime"
        );
        assert_eq!(shape("*myPassword + x"), "*myPassword + x");
        assert_eq!(shape("a * *b"), "a * *b");
        assert_eq!(shape("a*b"), "a * b");
        assert_eq!(shape("input.*password"), "input.*password");
        assert_eq!(
            shape("@scheduledStartTime.format('YYYY-MM-dd')"),
            "@scheduledStartTime.format('YYYY-MM-dd')"
        );
        assert_eq!(
            shape("format(minusMinutes(@scheduledStartTime,30),'YYYY-MM-dd hh:mm:ss')"),
            "format(minusMinutes(@scheduledStartTime, 30), 'YYYY-MM-dd hh:mm:ss')"
        );
        assert_eq!(shape("(a + b).format('x')"), "(a + b).format('x')");
        assert_eq!(shape("f()"), "f()");
    }

    #[test]
    fn method_call_is_a_call_with_the_receiver_first() {
        let expr = parse_expression("@s.format('Y')").unwrap();
        let ExprKind::Call {
            function,
            function_span,
            args,
            method,
        } = expr.kind
        else {
            panic!("expected a call")
        };
        assert_eq!(
            (function.as_str(), function_span, method),
            ("format", 3..9, true)
        );
        assert_eq!(args[0].kind, ExprKind::Field("@s".into()));
        assert_eq!(args[1].kind, ExprKind::String("Y".into()));
        assert_eq!(expr.span, 0..14);
    }

    #[test]
    fn template_parts_and_spans() {
        let template = parse_template("s3://b/#{a}/x#{ 'y}' }").unwrap();
        assert_eq!(template.parts.len(), 4);
        assert_eq!(
            template.parts[0],
            Part::Literal {
                text: "s3://b/".into(),
                span: 0..7
            }
        );
        let Part::Expression { expr, span } = &template.parts[1] else {
            panic!()
        };
        assert_eq!((span.clone(), expr.span.clone()), (7..11, 9..10));
        let Part::Expression { expr, span } = &template.parts[3] else {
            panic!()
        };
        assert_eq!((span.clone(), expr.span.clone()), (13..22, 16..20));
        assert!(parse_template("plain } text #").unwrap().is_literal());
        assert_eq!(parse_template("").unwrap().parts, vec![]);
    }

    #[test]
    fn syntax_errors_point_at_the_culprit() {
        let cases: [(&str, Range<usize>); 10] = [
            ("x #{a", 2..4),
            ("#{}", 0..3),
            ("#{1 +}", 5..5),
            ("#{(1}", 4..4),
            ("#{1 2}", 4..5),
            ("#{f(1 2)}", 6..7),
            ("#{a.}", 4..4),
            ("#{a.1}", 4..5),
            ("#{* b}", 2..3),
            ("#{#}", 2..3),
        ];
        for (raw, span) in cases {
            let error = parse_template(raw).unwrap_err();
            assert_eq!(error.span, span, "{raw}: {error:?}");
        }
    }

    #[test]
    fn deep_nesting_is_an_error_not_a_crash() {
        for raw in [
            format!("#{{{}1{}}}", "(".repeat(10_000), ")".repeat(10_000)),
            format!("#{{{}1}}", "-".repeat(10_000)),
            format!("#{{1{}}}", "+1".repeat(10_000)),
            format!("#{{2{}}}", "^2".repeat(10_000)),
            format!("#{{a{}}}", ".b".repeat(10_000)),
            format!("#{{{}1{}}}", "f(".repeat(10_000), ")".repeat(10_000)),
        ] {
            let error = parse_template(&raw).unwrap_err();
            assert_eq!(*error.kind, ErrorKind::TooDeep(MAX_DEPTH));
        }
        let ok = format!("#{{1{}}}", "+1".repeat(MAX_DEPTH - 2));
        assert!(parse_template(&ok).is_ok());
    }
}
