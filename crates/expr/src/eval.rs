//! Evaluation of parsed templates against a [`Context`].
//!
//! A field whose value is definition text (`Binding::Text`) is itself a template: it is parsed
//! and evaluated in the context of its owner, then typed by its declared kind. Three guards
//! keep this recursion safe: a stack of the fields being evaluated turns a cycle into
//! [`ErrorKind::SelfReference`], a limit on reference nesting bounds long non-cyclic chains,
//! and a budget on total expression nesting bounds stack use. Evaluated fields are cached for
//! the duration of one top-level evaluation, so a field referenced many times costs one
//! evaluation; that also defuses definitions built to blow up exponentially
//! (`a = #{b + b}`, `b = #{c + c}`...), and a size limit on every intermediate value bounds
//! what remains.
//!
//! Lists map: an operator or function applied to a list is applied to each element, and when
//! several operands are lists every combination is produced (row-major, left operand
//! outermost). Results are always flat lists.

use std::collections::HashMap;
use std::ops::Range;

use crate::ast::{BinaryOp, Expr, ExprKind, Part, Template};
use crate::context::{Binding, Context, ScalarKind};
use crate::error::{ErrorKind, ExprError, Result};
use crate::functions::{self, Failure, Function};
use crate::ops;
use crate::parser;
use crate::value::Value;

/// How many field references may nest (`a` refers to `b` which refers to `c`...).
pub const MAX_REFERENCE_DEPTH: usize = 32;
/// The largest value (string bytes, or roughly the sum over a list) an expression may build.
pub const MAX_VALUE_BYTES: usize = 1 << 20;
/// The most elements a mapped list may have.
pub const MAX_LIST_LEN: usize = 1 << 16;
/// How deeply expression evaluation may nest in total, counting through referenced fields: a
/// bound on stack use, since each field may nest up to [`crate::MAX_DEPTH`] levels itself.
pub const MAX_EVAL_DEPTH: usize = 128;

/// A template part after evaluation.
pub(crate) enum Piece {
    Text(String),
    Value(Value),
}

pub(crate) struct Evaluator<'c> {
    ctx: &'c dyn Context,
    /// `(object, field)` pairs being evaluated, outermost first.
    active: Vec<(String, String)>,
    cache: HashMap<(String, String), Value>,
    /// Nesting of [`Evaluator::expr`] calls, across referenced fields.
    depth: usize,
}

impl<'c> Evaluator<'c> {
    pub(crate) fn new(ctx: &'c dyn Context) -> Self {
        Evaluator {
            ctx,
            active: Vec::new(),
            cache: HashMap::new(),
            depth: 0,
        }
    }

    /// Evaluates every part; error spans point into the template's text but carry no source.
    pub(crate) fn template(&mut self, template: &Template, current: &str) -> Result<Vec<Piece>> {
        template
            .parts
            .iter()
            .map(|part| match part {
                Part::Literal { text, .. } => Ok(Piece::Text(text.clone())),
                Part::Expression { expr, .. } => self.expr(expr, current).map(Piece::Value),
            })
            .collect()
    }

    /// Evaluates one node. Each kind of node is handled in its own function so that this
    /// one, which recurses, keeps a small stack frame.
    pub(crate) fn expr(&mut self, expr: &Expr, current: &str) -> Result<Value> {
        if self.depth >= MAX_EVAL_DEPTH {
            let kind = ErrorKind::TooDeep(MAX_EVAL_DEPTH);
            return Err(ExprError::new(kind, expr.span.clone()));
        }
        self.depth += 1;
        let result = match &expr.kind {
            ExprKind::Int(n) => Ok(Value::Int(*n)),
            ExprKind::Double(x) => Ok(Value::Double(*x)),
            ExprKind::String(s) => Ok(Value::String(s.clone())),
            ExprKind::Field(name) => self.field(current, name, &expr.span),
            ExprKind::Member { base, name, .. } => self.member_expr(base, name, expr, current),
            ExprKind::Call {
                function,
                function_span,
                args,
                ..
            } => self.call_expr(function, function_span, args, expr, current),
            ExprKind::Neg(operand) => self.neg_expr(operand, expr, current),
            ExprKind::Binary { op, left, right } => {
                self.binary_expr(*op, left, right, expr, current)
            }
        };
        self.depth -= 1;
        result
    }

    #[inline(never)]
    fn member_expr(
        &mut self,
        base: &Expr,
        name: &str,
        expr: &Expr,
        current: &str,
    ) -> Result<Value> {
        let base = self.expr(base, current)?;
        let value = self.member(base, name, &expr.span)?;
        guard_size(value, &expr.span)
    }

    #[inline(never)]
    fn call_expr(
        &mut self,
        function: &str,
        function_span: &Range<usize>,
        args: &[Expr],
        expr: &Expr,
        current: &str,
    ) -> Result<Value> {
        let Some(function) = functions::lookup(function) else {
            let kind = ErrorKind::UnknownFunction(function.to_owned());
            return Err(ExprError::new(kind, function_span.clone()));
        };
        if args.len() != function.arity() {
            return Err(ExprError::new(
                function.arity_error(args.len()),
                expr.span.clone(),
            ));
        }
        let mut values = Vec::with_capacity(args.len());
        for arg in args {
            values.push(self.expr(arg, current)?);
        }
        let value = call(function, args, &values, &expr.span)?;
        guard_size(value, &expr.span)
    }

    #[inline(never)]
    fn neg_expr(&mut self, operand: &Expr, expr: &Expr, current: &str) -> Result<Value> {
        let operand = self.expr(operand, current)?;
        map_one(operand, ops::negate).map_err(|kind| ExprError::new(kind, expr.span.clone()))
    }

    #[inline(never)]
    fn binary_expr(
        &mut self,
        op: BinaryOp,
        left: &Expr,
        right: &Expr,
        expr: &Expr,
        current: &str,
    ) -> Result<Value> {
        let left = self.expr(left, current)?;
        let right = self.expr(right, current)?;
        let value = map_two(left, right, |l, r| ops::binary(op, l, r))
            .map_err(|kind| ExprError::new(kind, expr.span.clone()))?;
        guard_size(value, &expr.span)
    }

    fn member(&mut self, base: Value, name: &str, span: &Range<usize>) -> Result<Value> {
        let not_a_reference = |found: &Value| {
            let kind = ErrorKind::NotAReference {
                field: name.to_owned(),
                found: found.type_name(),
            };
            ExprError::new(kind, span.clone())
        };
        match base {
            Value::Object(id) => self.field(&id, name, span),
            Value::List(items) => {
                let mut out = Vec::new();
                for item in items {
                    let Value::Object(id) = &item else {
                        return Err(not_a_reference(&item));
                    };
                    push_flat(&mut out, self.field(id, name, span)?);
                }
                Ok(Value::List(out))
            }
            other => Err(not_a_reference(&other)),
        }
    }

    /// The value of field `name` of `object`: one value, or a list when the field has several.
    fn field(&mut self, object: &str, name: &str, span: &Range<usize>) -> Result<Value> {
        let key = (object.to_owned(), name.to_owned());
        if let Some(value) = self.cache.get(&key) {
            return Ok(value.clone());
        }
        if self.active.contains(&key) {
            let kind = ErrorKind::SelfReference {
                field: name.to_owned(),
            };
            return Err(ExprError::new(kind, span.clone()));
        }
        if self.active.len() >= MAX_REFERENCE_DEPTH {
            let kind = ErrorKind::ReferenceTooDeep {
                field: name.to_owned(),
                limit: MAX_REFERENCE_DEPTH,
            };
            return Err(ExprError::new(kind, span.clone()));
        }
        let Some(bindings) = self.ctx.lookup(object, name) else {
            let kind = ErrorKind::UnknownField {
                field: name.to_owned(),
                object: object.to_owned(),
            };
            return Err(ExprError::new(kind, span.clone()));
        };
        self.active.push(key.clone());
        let values = self.bindings(object, name, bindings, span);
        self.active.pop();
        let mut values = values?;
        let value = if values.len() == 1 {
            values.pop().unwrap_or(Value::List(Vec::new()))
        } else {
            Value::List(values)
        };
        let value = guard_size(value, span)?;
        self.cache.insert(key, value.clone());
        Ok(value)
    }

    fn bindings(
        &mut self,
        object: &str,
        name: &str,
        bindings: Vec<Binding>,
        span: &Range<usize>,
    ) -> Result<Vec<Value>> {
        let mut values = Vec::with_capacity(bindings.len());
        for binding in bindings {
            match binding {
                Binding::Value(value) => push_flat(&mut values, value),
                Binding::Object(id) => values.push(Value::Object(id)),
                Binding::Text { raw, owner, kind } => {
                    let texts = self
                        .text(&raw, &owner)
                        .map_err(|error| nested_error(error.in_source(&raw), object, name, span))?;
                    for text in texts {
                        values.push(typed(text, kind, object, name, span)?);
                    }
                }
            }
            if values.len() > MAX_LIST_LEN {
                return Err(ExprError::new(
                    ErrorKind::ValueTooLarge(MAX_VALUE_BYTES),
                    span.clone(),
                ));
            }
        }
        Ok(values)
    }

    /// Evaluates definition text as a field value (see [`crate::evaluate_field`]).
    fn text(&mut self, raw: &str, owner: &str) -> Result<Vec<String>> {
        if !crate::contains_expression(raw) {
            return Ok(vec![raw.to_owned()]);
        }
        let template = parser::parse_template(raw)?;
        check_template(&template)?;
        let pieces = self.template(&template, owner)?;
        Ok(field_strings(pieces))
    }
}

/// Errors from inside another field's text are reported at the reference that led there. Cycle,
/// depth and size errors are re-pointed at the outermost reference instead of being wrapped
/// once per level, which would repeat the same message up to the depth limit.
fn nested_error(error: ExprError, object: &str, name: &str, span: &Range<usize>) -> ExprError {
    match *error.kind {
        ErrorKind::SelfReference { .. }
        | ErrorKind::ReferenceTooDeep { .. }
        | ErrorKind::TooDeep(_)
        | ErrorKind::ValueTooLarge(_) => ExprError {
            kind: error.kind,
            span: span.clone(),
            expression: String::new(),
        },
        _ => ExprError::new(
            ErrorKind::InField {
                object: object.to_owned(),
                field: name.to_owned(),
                inner: Box::new(error),
            },
            span.clone(),
        ),
    }
}

fn typed(
    text: String,
    kind: ScalarKind,
    object: &str,
    name: &str,
    span: &Range<usize>,
) -> Result<Value> {
    let value = match kind {
        ScalarKind::String => Some(Value::String(text.clone())),
        ScalarKind::Integer => text.trim().parse::<i64>().ok().map(Value::Int),
        ScalarKind::Double => text
            .trim()
            .parse::<f64>()
            .ok()
            .filter(|x| x.is_finite())
            .map(Value::Double),
        ScalarKind::DateTime => Value::parse_datetime(text.trim()),
    };
    value.ok_or_else(|| {
        let kind = ErrorKind::BadFieldValue {
            object: object.to_owned(),
            field: name.to_owned(),
            text,
            expected: kind.name(),
        };
        ExprError::new(kind, span.clone())
    })
}

fn guard_size(value: Value, span: &Range<usize>) -> Result<Value> {
    if value.approx_size() > MAX_VALUE_BYTES {
        return Err(ExprError::new(
            ErrorKind::ValueTooLarge(MAX_VALUE_BYTES),
            span.clone(),
        ));
    }
    Ok(value)
}

fn push_flat(out: &mut Vec<Value>, value: Value) {
    match value {
        Value::List(items) => items.into_iter().for_each(|item| push_flat(out, item)),
        scalar => out.push(scalar),
    }
}

fn map_one(
    value: Value,
    apply: impl Fn(&Value) -> std::result::Result<Value, ErrorKind>,
) -> std::result::Result<Value, ErrorKind> {
    match value {
        Value::List(items) => items
            .iter()
            .map(apply)
            .collect::<std::result::Result<_, _>>()
            .map(Value::List),
        scalar => apply(&scalar),
    }
}

fn map_two(
    left: Value,
    right: Value,
    apply: impl Fn(&Value, &Value) -> std::result::Result<Value, ErrorKind>,
) -> std::result::Result<Value, ErrorKind> {
    match (left, right) {
        (Value::List(lefts), Value::List(rights)) => {
            if lefts.len().saturating_mul(rights.len()) > MAX_LIST_LEN {
                return Err(ErrorKind::ValueTooLarge(MAX_VALUE_BYTES));
            }
            let mut out = Vec::with_capacity(lefts.len() * rights.len());
            for l in &lefts {
                for r in &rights {
                    out.push(apply(l, r)?);
                }
            }
            Ok(Value::List(out))
        }
        (Value::List(lefts), right) => lefts
            .iter()
            .map(|l| apply(l, &right))
            .collect::<std::result::Result<_, _>>()
            .map(Value::List),
        (left, Value::List(rights)) => rights
            .iter()
            .map(|r| apply(&left, r))
            .collect::<std::result::Result<_, _>>()
            .map(Value::List),
        (left, right) => apply(&left, &right),
    }
}

/// Calls `function`, mapping over list arguments (every combination when several are lists).
fn call(
    function: &Function,
    args: &[Expr],
    values: &[Value],
    span: &Range<usize>,
) -> Result<Value> {
    let sizes: Vec<usize> = values
        .iter()
        .map(|value| match value {
            Value::List(items) => items.len(),
            _ => 1,
        })
        .collect();
    let total = sizes
        .iter()
        .try_fold(1usize, |acc, size| acc.checked_mul(*size));
    let Some(total) = total.filter(|total| *total <= MAX_LIST_LEN) else {
        return Err(ExprError::new(
            ErrorKind::ValueTooLarge(MAX_VALUE_BYTES),
            span.clone(),
        ));
    };
    let mut results = Vec::with_capacity(total);
    for combination in 0..total {
        // Row-major: the last argument varies fastest.
        let mut rest = combination;
        let mut picks = vec![0; values.len()];
        for (pick, size) in picks.iter_mut().zip(&sizes).rev() {
            let size = (*size).max(1);
            *pick = rest % size;
            rest /= size;
        }
        let mut converted = Vec::with_capacity(values.len());
        for (index, (value, pick)) in values.iter().zip(&picks).enumerate() {
            let scalar = match value {
                Value::List(items) => items.get(*pick).unwrap_or(value),
                _ => value,
            };
            let arg = function
                .convert(index, scalar)
                .map_err(|failure| failure_error(failure, args, span))?;
            converted.push(arg);
        }
        let result = function
            .apply(&converted)
            .map_err(|failure| failure_error(failure, args, span))?;
        results.push(result);
    }
    if values.iter().any(|value| matches!(value, Value::List(_))) {
        Ok(Value::List(results))
    } else {
        Ok(results.pop().unwrap_or(Value::List(Vec::new())))
    }
}

/// Points a function failure at the argument at fault, or at the bad bytes inside a string
/// literal argument when the literal has no escapes (so its text maps byte for byte).
fn failure_error(failure: Failure, args: &[Expr], call_span: &Range<usize>) -> ExprError {
    let arg = failure.arg.and_then(|index| args.get(index));
    let span = match (arg, failure.inner) {
        (
            Some(Expr {
                kind: ExprKind::String(text),
                span,
            }),
            Some(inner),
        ) if span.len() == text.len() + 2 => {
            span.start + 1 + inner.start..span.start + 1 + inner.end
        }
        (Some(arg), _) => arg.span.clone(),
        (None, _) => call_span.clone(),
    };
    ExprError {
        kind: failure.kind,
        span,
        expression: String::new(),
    }
}

/// Checks what can be checked without a context: function names, arity, literal arguments (a
/// pattern, zone or period written in the expression, or a literal of the wrong type), and
/// calls whose arguments are all literals.
pub(crate) fn check_template(template: &Template) -> Result<()> {
    template.expressions().try_for_each(check_expr)
}

pub(crate) fn check_expr(expr: &Expr) -> Result<()> {
    match &expr.kind {
        ExprKind::Int(_) | ExprKind::Double(_) | ExprKind::String(_) | ExprKind::Field(_) => Ok(()),
        ExprKind::Member { base, .. } => check_expr(base),
        ExprKind::Neg(operand) => check_expr(operand),
        ExprKind::Binary { left, right, .. } => {
            check_expr(left)?;
            check_expr(right)
        }
        ExprKind::Call {
            function,
            function_span,
            args,
            ..
        } => {
            let Some(function) = functions::lookup(function) else {
                let kind = ErrorKind::UnknownFunction(function.clone());
                return Err(ExprError::new(kind, function_span.clone()));
            };
            if args.len() != function.arity() {
                return Err(ExprError::new(
                    function.arity_error(args.len()),
                    expr.span.clone(),
                ));
            }
            let mut converted = Vec::with_capacity(args.len());
            for (index, arg) in args.iter().enumerate() {
                check_expr(arg)?;
                let literal = match &arg.kind {
                    ExprKind::Int(n) => Value::Int(*n),
                    ExprKind::Double(x) => Value::Double(*x),
                    ExprKind::String(s) => Value::String(s.clone()),
                    _ => continue,
                };
                let arg = function
                    .convert(index, &literal)
                    .map_err(|failure| failure_error(failure, args, &expr.span))?;
                converted.push(arg);
            }
            // Functions are pure, so a call on literals alone (`makeDate(2011, 13, 1)`) can be
            // tried now.
            if converted.len() == args.len() {
                function
                    .apply(&converted)
                    .map_err(|failure| failure_error(failure, args, &expr.span))?;
            }
            Ok(())
        }
    }
}

/// Splices evaluated pieces into one string; lists render as `["a","b"]`.
///
/// An empty list splices as nothing: it is what an unset optional parameter yields, and
/// `run.sh #{myFlags}` should then read `run.sh `, not `run.sh []`.
pub(crate) fn render_pieces(pieces: &[Piece]) -> String {
    let mut out = String::new();
    for piece in pieces {
        match piece {
            Piece::Text(text) => out.push_str(text),
            Piece::Value(Value::List(items)) if items.is_empty() => {}
            Piece::Value(value) => out.push_str(&value.render()),
        }
    }
    out
}

/// One string per element when the only expression yields a list, else the spliced string.
/// A field that is nothing but an empty list has no value; with text around it, it is the
/// text alone.
pub(crate) fn field_strings(pieces: Vec<Piece>) -> Vec<String> {
    let mut expressions = pieces
        .iter()
        .filter(|piece| matches!(piece, Piece::Value(_)));
    let only_expression = pieces.iter().all(|piece| match piece {
        Piece::Text(text) => text.is_empty(),
        Piece::Value(_) => true,
    });
    let single_list = match (expressions.next(), expressions.next()) {
        (Some(Piece::Value(Value::List(items))), None) if !items.is_empty() || only_expression => {
            Some(items)
        }
        _ => None,
    };
    let Some(items) = single_list else {
        return vec![render_pieces(&pieces)];
    };
    items
        .iter()
        .map(|item| {
            let mut out = String::new();
            for piece in &pieces {
                match piece {
                    Piece::Text(text) => out.push_str(text),
                    Piece::Value(_) => out.push_str(&item.render()),
                }
            }
            out
        })
        .collect()
}
