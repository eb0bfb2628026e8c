//! The `#{...}` expression language of pipeline definitions.
//!
//! A string field value is a [`Template`]: literal text with any number of `#{...}`
//! expressions spliced in (`s3://bucket/#{format(@scheduledStartTime, 'YYYY-MM-dd')}/`). The
//! language has numbers, strings, field references (`name`, `@runtime`, `*secret`,
//! `input.directoryPath`), the Data Pipeline date functions in both call forms
//! (`format(d, p)` and `d.format(p)`), and `+ - * / ^`.
//!
//! Design decisions:
//!
//! - **Pure evaluation.** Everything the evaluator knows about the world comes through
//!   [`Context`]: the engine, the API server and the CLI each supply one. A field holding
//!   definition text is evaluated recursively in the context of the object that owns it, and
//!   typed by its declared [`ScalarKind`]. Self-reference is an error naming the field.
//! - **Spans into the original text.** Every error carries a byte range into the whole field
//!   value as the user wrote it (not into the inside of one `#{}`), so validation messages and
//!   the CLI can point at it ([`ExprError::caret`]). An error inside another field's text is
//!   reported at the reference that led there, with the inner error attached.
//! - **Joda-Time semantics, UTC.** Datetimes are UTC unless `inTimeZone` moved them; day and
//!   larger arithmetic works on wall-clock time, month arithmetic clamps to the month's end,
//!   `format` takes Joda patterns. Results are kept within years 1..=9999.
//! - **Text is coerced where a type is expected.** A `YYYY-MM-DDTHH:MM:SS` string is accepted as
//!   a DateTime argument and a numeric string as a number, because parameters and field values
//!   arrive as text. `+` concatenates as soon as either side is a string.
//! - **Integers stay integers** (`1 / 2` is 0), any double makes a double, `^` always gives a
//!   double; overflow, division by zero and non-finite results are errors.
//! - **Lists map.** A multi-valued field is a list; operators and functions apply to each
//!   element (every combination when several operands are lists). Spliced into a string a list
//!   renders as `["a","b"]`; [`evaluate_field`] instead yields one string per element.
//! - **Rendering** matches what the service prints: datetimes `YYYY-MM-DDTHH:MM:SS` in their
//!   zone's local time, doubles as Java's `Double.toString` (`0.5`, `4.0`, `1.0E10`), objects as
//!   their id.
//! - **No panics on input.** Parsing rejects trees deeper than [`MAX_DEPTH`]; reference chains
//!   are bounded by [`MAX_REFERENCE_DEPTH`], total evaluation nesting by [`MAX_EVAL_DEPTH`]
//!   (so evaluation fits a 2 MiB thread stack even in debug builds), intermediate values by
//!   [`MAX_VALUE_BYTES`] and [`MAX_LIST_LEN`]. Property tests check that no input string panics.

mod ast;
mod calendar;
pub mod context;
mod error;
mod eval;
mod functions;
mod joda;
mod lexer;
mod map_context;
mod ops;
mod parser;
mod value;

pub use ast::{BinaryOp, Expr, ExprKind, FieldPath, Part, Template};
pub use context::{Binding, Context, ScalarKind};
pub use error::{ErrorKind, ExprError, Result};
pub use eval::{MAX_EVAL_DEPTH, MAX_LIST_LEN, MAX_REFERENCE_DEPTH, MAX_VALUE_BYTES};
pub use functions::function_names;
pub use joda::{FormatPattern, PatternError};
pub use map_context::MapContext;
pub use parser::MAX_DEPTH;
pub use value::{Value, render_double};

use eval::{Evaluator, check_expr, check_template, field_strings, render_pieces};

/// Parses a field value into literal text and `#{...}` expressions.
///
/// # Errors
/// A `#{` without its `}`, an empty `#{}`, or any syntax error inside an expression.
pub fn parse_template(raw: &str) -> Result<Template> {
    parser::parse_template(raw).map_err(|error| error.in_source(raw))
}

/// Parses a bare expression, written without `#{}`.
///
/// # Errors
/// Any syntax error.
pub fn parse_expression(source: &str) -> Result<Expr> {
    parser::parse_expression(source).map_err(|error| error.in_source(source))
}

/// Checks a field value without evaluating it: syntax of every `#{...}`, function names and
/// argument counts, and literal arguments (format patterns, zone ids, periods, types).
///
/// # Errors
/// The first problem found, located in `raw`.
pub fn check_syntax(raw: &str) -> Result<()> {
    parse_template(raw).and_then(|template| checked(&template, raw))
}

/// Whether the text contains a `#{` and so needs evaluating.
pub fn contains_expression(raw: &str) -> bool {
    raw.contains("#{")
}

/// Evaluates a field value to one string, splicing each expression's rendering into the
/// literal text; a list renders as `["a","b"]`.
///
/// # Errors
/// Syntax errors, unknown fields or functions, type errors, arithmetic errors.
pub fn evaluate_string(raw: &str, ctx: &dyn Context) -> Result<String> {
    let template = parse_template(raw)?;
    checked(&template, raw)?;
    let pieces = Evaluator::new(ctx)
        .template(&template, ctx.current())
        .map_err(|error| error.in_source(raw))?;
    Ok(render_pieces(&pieces))
}

/// Evaluates a field value to its values. When the template holds exactly one `#{...}` and
/// it yields a list, each element gives one string (with the surrounding literal text), so
/// `s3://b/#{myDirs}/` with `myDirs = [x, y]` is `["s3://b/x/", "s3://b/y/"]`; otherwise the
/// result is the single spliced string.
///
/// # Errors
/// As [`evaluate_string`].
pub fn evaluate_field(raw: &str, ctx: &dyn Context) -> Result<Vec<String>> {
    let template = parse_template(raw)?;
    checked(&template, raw)?;
    let pieces = Evaluator::new(ctx)
        .template(&template, ctx.current())
        .map_err(|error| error.in_source(raw))?;
    Ok(field_strings(pieces))
}

/// Evaluates a bare expression (no `#{}`), as `EvaluateExpression`'s inner text or
/// `sluice eval` do.
///
/// # Errors
/// As [`evaluate_string`].
pub fn evaluate_expression(source: &str, ctx: &dyn Context) -> Result<Value> {
    let expr = parse_expression(source)?;
    check_expr(&expr).map_err(|error| error.in_source(source))?;
    Evaluator::new(ctx)
        .expr(&expr, ctx.current())
        .map_err(|error| error.in_source(source))
}

fn checked(template: &Template, raw: &str) -> Result<()> {
    check_template(template).map_err(|error| error.in_source(raw))
}
