//! The arithmetic and concatenation operators on scalar values (lists are mapped over by the
//! evaluator before these run).
//!
//! Integer arithmetic stays integral and is checked: overflow and division by zero are errors,
//! not wrap-around or a panic. Doubles that would become infinite or NaN are errors too, since
//! no field can usefully hold `Infinity`. `+` concatenates as soon as either side is a string;
//! the other operators read numeric strings as numbers, because parameter and field values
//! arrive as text.

use crate::ast::BinaryOp;
use crate::error::ErrorKind;
use crate::value::Value;

#[derive(Debug, Clone, Copy)]
enum Num {
    Int(i64),
    Double(f64),
}

impl Num {
    fn as_f64(self) -> f64 {
        match self {
            Num::Int(n) => n as f64,
            Num::Double(x) => x,
        }
    }

    fn into_value(self) -> Value {
        match self {
            Num::Int(n) => Value::Int(n),
            Num::Double(x) => Value::Double(x),
        }
    }
}

fn number(value: &Value) -> Option<Num> {
    match value {
        Value::Int(n) => Some(Num::Int(*n)),
        Value::Double(x) => Some(Num::Double(*x)),
        Value::String(text) => parse_number(text),
        _ => None,
    }
}

/// Reads `42`, `-3`, `0.5` or `1e3`; rejects `inf`, `NaN` and anything else Rust would accept.
fn parse_number(text: &str) -> Option<Num> {
    let text = text.trim();
    if let Ok(n) = text.parse::<i64>() {
        return Some(Num::Int(n));
    }
    let numeric_chars = text
        .bytes()
        .all(|b| b.is_ascii_digit() || b".eE+-".contains(&b));
    if !numeric_chars || !text.bytes().any(|b| b.is_ascii_digit()) {
        return None;
    }
    text.parse::<f64>()
        .ok()
        .filter(|x| x.is_finite())
        .map(Num::Double)
}

/// Applies a binary operator to two scalars.
pub(crate) fn binary(op: BinaryOp, left: &Value, right: &Value) -> Result<Value, ErrorKind> {
    if op == BinaryOp::Add
        && (matches!(left, Value::String(_)) || matches!(right, Value::String(_)))
    {
        return Ok(Value::String(left.render() + &right.render()));
    }
    let (Some(a), Some(b)) = (number(left), number(right)) else {
        return Err(ErrorKind::TypeMismatch {
            operator: op.symbol(),
            left: left.type_name(),
            right: right.type_name(),
        });
    };
    match (a, b) {
        (Num::Int(a), Num::Int(b)) if op != BinaryOp::Pow => integer(op, a, b),
        _ => double(op, a.as_f64(), b.as_f64()),
    }
}

fn integer(op: BinaryOp, a: i64, b: i64) -> Result<Value, ErrorKind> {
    let result = match op {
        BinaryOp::Add => a.checked_add(b),
        BinaryOp::Sub => a.checked_sub(b),
        BinaryOp::Mul => a.checked_mul(b),
        BinaryOp::Div if b == 0 => return Err(ErrorKind::DivisionByZero),
        // Truncates toward zero, like Java's integer division.
        BinaryOp::Div => a.checked_div(b),
        BinaryOp::Pow => return double(op, a as f64, b as f64),
    };
    result
        .map(Value::Int)
        .ok_or(ErrorKind::Overflow(op.symbol()))
}

fn double(op: BinaryOp, a: f64, b: f64) -> Result<Value, ErrorKind> {
    let result = match op {
        BinaryOp::Add => a + b,
        BinaryOp::Sub => a - b,
        BinaryOp::Mul => a * b,
        BinaryOp::Div if b == 0.0 => return Err(ErrorKind::DivisionByZero),
        BinaryOp::Div => a / b,
        BinaryOp::Pow => a.powf(b),
    };
    if result.is_finite() {
        Ok(Value::Double(result))
    } else {
        Err(ErrorKind::NotFinite(op.symbol()))
    }
}

/// Unary minus on a scalar.
pub(crate) fn negate(value: &Value) -> Result<Value, ErrorKind> {
    match number(value) {
        Some(Num::Int(n)) => n
            .checked_neg()
            .map(Value::Int)
            .ok_or(ErrorKind::Overflow("-")),
        Some(Num::Double(x)) => Ok(Num::Double(-x).into_value()),
        None => Err(ErrorKind::CannotNegate(value.type_name())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numeric_strings() {
        assert!(matches!(parse_number(" 42 "), Some(Num::Int(42))));
        assert!(matches!(parse_number("0.5"), Some(Num::Double(x)) if x == 0.5));
        assert!(matches!(parse_number("1e3"), Some(Num::Double(x)) if x == 1000.0));
        for text in [
            "inf", "NaN", "infinity", "", "-", "e", "1e999", "1,5", "abc",
        ] {
            assert!(parse_number(text).is_none(), "{text}");
        }
    }
}
