//! `filterSql`: a Hive-style predicate (a WHERE clause without `WHERE`) over item attributes.
//!
//! AWS runs HiveCopyActivity's filter in Hive on EMR; Sluice parses it with `sqlparser` (Hive
//! dialect) and evaluates it itself over each item. Supported: attribute names (`` `name` ``
//! for reserved words, `a.b` for a key inside a map attribute), string, number, boolean and
//! NULL literals (double-quoted text is a string, as in Hive), `=`, `!=`, `<>`, `<`, `<=`, `>`,
//! `>=`, `AND`, `OR`, `NOT`, `+ - * /` on numbers, `IS [NOT] NULL`, `[NOT] IN (…)`,
//! `[NOT] BETWEEN … AND …`, `[NOT] LIKE` (`%`, `_`) and parentheses. Anything else (functions,
//! subqueries) is refused when the filter is parsed, naming the construct.
//!
//! Comparisons follow SQL's three-valued logic: a missing or NULL attribute makes a
//! comparison unknown, and only items for which the whole filter is true pass. Numbers compare
//! as numbers; a number and a string compare as numbers when the string is one, else as text.
//! Set, list, map and binary attributes are compared by their typed JSON.

use std::cmp::Ordering;

use aws_sdk_dynamodb::types::AttributeValue;
use sqlparser::ast::{BinaryOperator, Expr, InTarget, UnaryOperator, Value as SqlValue};
use sqlparser::dialect::HiveDialect;
use sqlparser::parser::Parser;

use super::Item;
use super::item_json::item_to_json;

/// A parsed `filterSql`.
#[derive(Debug, Clone)]
pub struct ItemFilter {
    expr: Expr,
}

#[derive(Debug, Clone, PartialEq)]
enum Val {
    Null,
    Num(f64),
    Str(String),
    Bool(bool),
}

impl ItemFilter {
    /// Parses and checks a filter; the error names what is wrong.
    pub fn parse(text: &str) -> Result<ItemFilter, String> {
        let dialect = HiveDialect {};
        let mut parser = Parser::new(&dialect)
            .try_with_sql(text)
            .map_err(|e| format!("filterSql {text:?}: {e}"))?;
        let expr = parser
            .parse_expr()
            .map_err(|e| format!("filterSql {text:?}: {e}"))?;
        let rest = parser.peek_token();
        if rest.token != sqlparser::tokenizer::Token::EOF {
            return Err(format!(
                "filterSql {text:?}: unexpected {} after the expression",
                rest.token
            ));
        }
        check(&expr).map_err(|e| format!("filterSql {text:?}: {e}"))?;
        Ok(ItemFilter { expr })
    }

    /// Whether the item passes (the filter is true for it, not false or unknown).
    pub fn matches(&self, item: &Item) -> bool {
        truth(&eval(&self.expr, item)) == Some(true)
    }
}

/// Refuses what [`eval`] does not implement, so evaluation never meets it.
fn check(expr: &Expr) -> Result<(), String> {
    match expr {
        Expr::Identifier(_) | Expr::CompoundIdentifier(_) => Ok(()),
        Expr::Value(v) => match &v.value {
            SqlValue::Number(..)
            | SqlValue::SingleQuotedString(_)
            | SqlValue::DoubleQuotedString(_)
            | SqlValue::Boolean(_)
            | SqlValue::Null => Ok(()),
            other => Err(format!("the literal {other} is not supported")),
        },
        Expr::Nested(e)
        | Expr::IsNull(e)
        | Expr::IsNotNull(e)
        | Expr::IsTrue(e)
        | Expr::IsFalse(e) => check(e),
        Expr::UnaryOp { op, expr } => match op {
            UnaryOperator::Not | UnaryOperator::BangNot | UnaryOperator::Minus => check(expr),
            UnaryOperator::Plus => check(expr),
            other => Err(format!("the operator {other} is not supported")),
        },
        Expr::BinaryOp { left, op, right } => match op {
            BinaryOperator::And
            | BinaryOperator::Or
            | BinaryOperator::Eq
            | BinaryOperator::NotEq
            | BinaryOperator::Lt
            | BinaryOperator::LtEq
            | BinaryOperator::Gt
            | BinaryOperator::GtEq
            | BinaryOperator::Plus
            | BinaryOperator::Minus
            | BinaryOperator::Multiply
            | BinaryOperator::Divide => {
                check(left)?;
                check(right)
            }
            other => Err(format!("the operator {other} is not supported")),
        },
        Expr::In {
            expr,
            target: InTarget::List(list),
            ..
        } => {
            check(expr)?;
            list.iter().try_for_each(check)
        }
        Expr::Between {
            expr, low, high, ..
        } => {
            check(expr)?;
            check(low)?;
            check(high)
        }
        Expr::Like {
            any: false,
            expr,
            pattern,
            escape_char: None,
            ..
        } => {
            check(expr)?;
            check(pattern)
        }
        other => Err(format!("{other} is not supported")),
    }
}

fn eval(expr: &Expr, item: &Item) -> Val {
    match expr {
        // In Hive, double quotes make a string, not a name.
        Expr::Identifier(ident) if ident.quote_style == Some('"') => Val::Str(ident.value.clone()),
        Expr::Identifier(ident) => attribute(item.get(&ident.value)),
        Expr::CompoundIdentifier(parts) => {
            let mut current = item.get(&parts[0].value);
            for part in &parts[1..] {
                current = match current {
                    Some(AttributeValue::M(map)) => map.get(&part.value),
                    _ => None,
                };
            }
            attribute(current)
        }
        Expr::Value(v) => match &v.value {
            SqlValue::Number(n, _) => n.parse().map(Val::Num).unwrap_or(Val::Null),
            SqlValue::SingleQuotedString(s) | SqlValue::DoubleQuotedString(s) => {
                Val::Str(s.clone())
            }
            SqlValue::Boolean(b) => Val::Bool(*b),
            _ => Val::Null,
        },
        Expr::Nested(e) => eval(e, item),
        Expr::IsNull(e) => Val::Bool(eval(e, item) == Val::Null),
        Expr::IsNotNull(e) => Val::Bool(eval(e, item) != Val::Null),
        Expr::IsTrue(e) => Val::Bool(truth(&eval(e, item)) == Some(true)),
        Expr::IsFalse(e) => Val::Bool(truth(&eval(e, item)) == Some(false)),
        Expr::UnaryOp { op, expr } => {
            let v = eval(expr, item);
            match op {
                UnaryOperator::Minus => match number(&v) {
                    Some(n) => Val::Num(-n),
                    None => Val::Null,
                },
                UnaryOperator::Plus => v,
                _ => from_truth(truth(&v).map(|b| !b)),
            }
        }
        Expr::BinaryOp { left, op, right } => binary(eval(left, item), op, eval(right, item)),
        Expr::In {
            expr,
            target: InTarget::List(list),
            negated,
            ..
        } => {
            let v = eval(expr, item);
            let mut result = Some(false);
            for candidate in list {
                match compare(&v, &eval(candidate, item)) {
                    Some(Ordering::Equal) => {
                        result = Some(true);
                        break;
                    }
                    None => result = None,
                    Some(_) => {}
                }
            }
            from_truth(result.map(|b| b != *negated))
        }
        Expr::Between {
            expr,
            negated,
            low,
            high,
        } => {
            let v = eval(expr, item);
            let above = compare(&v, &eval(low, item)).map(|o| o != Ordering::Less);
            let below = compare(&v, &eval(high, item)).map(|o| o != Ordering::Greater);
            from_truth(and(above, below).map(|b| b != *negated))
        }
        Expr::Like {
            negated,
            expr,
            pattern,
            ..
        } => match (eval(expr, item), eval(pattern, item)) {
            (Val::Null, _) | (_, Val::Null) => Val::Null,
            (v, p) => {
                let (text, pattern) = (text_of(&v), text_of(&p));
                let chars: Vec<char> = text.chars().collect();
                let pat: Vec<char> = pattern.chars().collect();
                Val::Bool(like(&chars, &pat) != *negated)
            }
        },
        _ => Val::Null,
    }
}

fn attribute(value: Option<&AttributeValue>) -> Val {
    match value {
        None | Some(AttributeValue::Null(_)) => Val::Null,
        Some(AttributeValue::S(s)) => Val::Str(s.clone()),
        Some(AttributeValue::N(n)) => n.parse().map(Val::Num).unwrap_or(Val::Null),
        Some(AttributeValue::Bool(b)) => Val::Bool(*b),
        Some(other) => {
            let single = Item::from([(String::new(), other.clone())]);
            Val::Str(item_to_json(&single)[""].to_string())
        }
    }
}

fn binary(l: Val, op: &BinaryOperator, r: Val) -> Val {
    let ordering = || compare(&l, &r);
    match op {
        BinaryOperator::And => from_truth(and(truth(&l), truth(&r))),
        BinaryOperator::Or => from_truth(match (truth(&l), truth(&r)) {
            (Some(true), _) | (_, Some(true)) => Some(true),
            (Some(false), Some(false)) => Some(false),
            _ => None,
        }),
        BinaryOperator::Eq => from_truth(ordering().map(|o| o == Ordering::Equal)),
        BinaryOperator::NotEq => from_truth(ordering().map(|o| o != Ordering::Equal)),
        BinaryOperator::Lt => from_truth(ordering().map(|o| o == Ordering::Less)),
        BinaryOperator::LtEq => from_truth(ordering().map(|o| o != Ordering::Greater)),
        BinaryOperator::Gt => from_truth(ordering().map(|o| o == Ordering::Greater)),
        BinaryOperator::GtEq => from_truth(ordering().map(|o| o != Ordering::Less)),
        arithmetic => match (number(&l), number(&r)) {
            (Some(a), Some(b)) => match arithmetic {
                BinaryOperator::Plus => Val::Num(a + b),
                BinaryOperator::Minus => Val::Num(a - b),
                BinaryOperator::Multiply => Val::Num(a * b),
                BinaryOperator::Divide if b != 0.0 => Val::Num(a / b),
                _ => Val::Null,
            },
            _ => Val::Null,
        },
    }
}

fn and(a: Option<bool>, b: Option<bool>) -> Option<bool> {
    match (a, b) {
        (Some(false), _) | (_, Some(false)) => Some(false),
        (Some(true), Some(true)) => Some(true),
        _ => None,
    }
}

fn truth(v: &Val) -> Option<bool> {
    match v {
        Val::Bool(b) => Some(*b),
        Val::Str(s) if s.eq_ignore_ascii_case("true") => Some(true),
        Val::Str(s) if s.eq_ignore_ascii_case("false") => Some(false),
        Val::Num(n) => Some(*n != 0.0),
        _ => None,
    }
}

fn from_truth(t: Option<bool>) -> Val {
    t.map_or(Val::Null, Val::Bool)
}

fn number(v: &Val) -> Option<f64> {
    match v {
        Val::Num(n) => Some(*n),
        Val::Str(s) => s.trim().parse().ok(),
        _ => None,
    }
}

fn text_of(v: &Val) -> String {
    match v {
        Val::Num(n) => n.to_string(),
        Val::Str(s) => s.clone(),
        Val::Bool(b) => b.to_string(),
        Val::Null => String::new(),
    }
}

fn compare(a: &Val, b: &Val) -> Option<Ordering> {
    match (a, b) {
        (Val::Null, _) | (_, Val::Null) => None,
        (Val::Num(x), Val::Num(y)) => x.partial_cmp(y),
        (Val::Str(x), Val::Str(y)) => Some(x.cmp(y)),
        (Val::Bool(x), Val::Bool(y)) => Some(x.cmp(y)),
        (Val::Num(_), Val::Str(_)) | (Val::Str(_), Val::Num(_)) => match (number(a), number(b)) {
            (Some(x), Some(y)) => x.partial_cmp(&y),
            _ => Some(text_of(a).cmp(&text_of(b))),
        },
        (Val::Bool(_), _) | (_, Val::Bool(_)) => match (truth(a), truth(b)) {
            (Some(x), Some(y)) => Some(x.cmp(&y)),
            _ => None,
        },
    }
}

/// SQL LIKE: `%` any run of characters, `_` exactly one.
fn like(text: &[char], pattern: &[char]) -> bool {
    // Iterative matching with one backtrack point for the last `%`, linear in practice.
    let (mut t, mut p) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while t < text.len() {
        if p < pattern.len() && (pattern[p] == '_' || pattern[p] == text[t]) {
            t += 1;
            p += 1;
        } else if p < pattern.len() && pattern[p] == '%' {
            star = Some((p, t));
            p += 1;
        } else if let Some((sp, st)) = star {
            p = sp + 1;
            t = st + 1;
            star = Some((sp, st + 1));
        } else {
            return false;
        }
    }
    pattern[p..].iter().all(|&c| c == '%')
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dynamodb::item_json::item;

    fn sample() -> Item {
        item([
            ("id", AttributeValue::S("a-17".into())),
            (
                "lastUpdated",
                AttributeValue::S("2026-03-02T10:00:00".into()),
            ),
            ("count", AttributeValue::N("42".into())),
            ("active", AttributeValue::Bool(true)),
            ("gone", AttributeValue::Null(true)),
            (
                "address",
                AttributeValue::M(item([("city", AttributeValue::S("Lyon".into()))])),
            ),
        ])
    }

    fn passes(filter: &str) -> bool {
        ItemFilter::parse(filter).unwrap().matches(&sample())
    }

    #[test]
    fn comparisons_logic_and_membership() {
        assert!(passes("lastUpdated > '2026-03-01T00:00:00'"));
        assert!(!passes("lastUpdated > '2026-04-01T00:00:00'"));
        assert!(passes("count >= 42 AND count < 100"));
        assert!(passes("count = '42'"), "numeric text compares as a number");
        assert!(passes("count + 8 = 50"));
        assert!(passes(
            "count BETWEEN 40 AND 50 AND NOT count BETWEEN 0 AND 10"
        ));
        assert!(passes("id IN ('x', 'a-17') AND count NOT IN (1, 2)"));
        assert!(passes(
            "id LIKE 'a-%' AND id NOT LIKE 'b%' AND id LIKE 'a-1_'"
        ));
        assert!(passes("active = true AND (count < 0 OR active)"));
        assert!(passes("address.city = \"Lyon\""));
        assert!(passes("`count` <> 41"));
    }

    #[test]
    fn missing_and_null_attributes_are_unknown_not_false() {
        assert!(passes(
            "missing IS NULL AND gone IS NULL AND id IS NOT NULL"
        ));
        assert!(!passes("missing = 1"));
        assert!(!passes("NOT missing = 1"), "NOT unknown is still unknown");
        assert!(passes("missing = 1 OR count = 42"));
        assert!(!passes("missing = 1 AND count = 42"));
        assert!(!passes("count IN (1, missing)"));
    }

    #[test]
    fn unsupported_or_broken_filters_are_refused_with_the_reason() {
        let err = ItemFilter::parse("unix_timestamp(x) > 3").unwrap_err();
        assert!(
            err.contains("unix_timestamp") && err.contains("not supported"),
            "{err}"
        );
        let err = ItemFilter::parse("a > ").unwrap_err();
        assert!(err.starts_with("filterSql \"a > \""), "{err}");
        let err = ItemFilter::parse("a > 1 b").unwrap_err();
        assert!(err.contains("unexpected"), "{err}");
        let err = ItemFilter::parse("a IN (SELECT 1)").unwrap_err();
        assert!(err.contains("not supported"), "{err}");
    }

    #[test]
    fn like_patterns() {
        let m = |t: &str, p: &str| {
            like(
                &t.chars().collect::<Vec<_>>(),
                &p.chars().collect::<Vec<_>>(),
            )
        };
        assert!(m("abc", "a%"));
        assert!(m("abc", "%c"));
        assert!(m("abc", "%b%"));
        assert!(m("abc", "a_c"));
        assert!(!m("abc", "a_"));
        assert!(m("", "%"));
        assert!(m("aXbXc", "a%b%c"));
        assert!(!m("ab", "a%c"));
    }
}
