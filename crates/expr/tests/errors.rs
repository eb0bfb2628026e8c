//! Every kind of error, with the byte span it reports in the original text.

mod common;

use std::ops::Range;

use common::context;
use sluice_expr::{
    ErrorKind, ExprError, MapContext, ScalarKind, check_syntax, evaluate_expression,
    evaluate_string,
};

/// An input, the span its error must report, and a test of the error's kind.
type Case = (&'static str, Range<usize>, fn(&ErrorKind) -> bool);

fn eval_error(raw: &str, ctx: &MapContext) -> ExprError {
    match evaluate_string(raw, ctx) {
        Ok(text) => panic!("{raw} evaluated to {text}"),
        Err(error) => error,
    }
}

fn assert_span(error: &ExprError, raw: &str, span: Range<usize>) {
    assert_eq!(error.span, span, "{raw}: {error}");
    assert_eq!(error.expression, raw);
}

/// Errors `check_syntax` finds without a context; evaluation reports the same ones.
#[test]
fn static_errors() {
    let ctx = context();
    let cases: Vec<Case> = vec![
        ("abc #{x", 4..6, |k| *k == ErrorKind::UnclosedExpression),
        ("#{'}'", 0..2, |k| *k == ErrorKind::UnclosedExpression),
        ("a #{} b", 2..5, |k| *k == ErrorKind::EmptyExpression),
        ("#{'abc}", 2..7, |k| *k == ErrorKind::UnterminatedString),
        ("#{1 $ 2}", 4..5, |k| {
            *k == ErrorKind::UnexpectedCharacter('$')
        }),
        ("#{1 +}", 5..5, |k| {
            matches!(k, ErrorKind::UnexpectedToken { .. })
        }),
        ("#{f(1,)}", 6..7, |k| {
            matches!(k, ErrorKind::UnexpectedToken { .. })
        }),
        ("#{1 2}", 4..5, |k| {
            matches!(k, ErrorKind::UnexpectedToken { .. })
        }),
        ("#{99999999999999999999}", 2..22, |k| {
            matches!(k, ErrorKind::NumberOutOfRange(_))
        }),
        ("#{fromat(@scheduledStartTime)}", 2..8, |k| {
            *k == ErrorKind::UnknownFunction("fromat".into())
        }),
        ("#{x.fromat()}", 4..10, |k| {
            matches!(k, ErrorKind::UnknownFunction(_))
        }),
        ("#{day(myDateTime, 1)}", 2..20, |k| {
            matches!(
                k,
                ErrorKind::WrongArity {
                    expected: 1,
                    found: 2,
                    ..
                }
            )
        }),
        ("#{myDateTime.plusDays()}", 2..23, |k| {
            matches!(
                k,
                ErrorKind::WrongArity {
                    expected: 2,
                    found: 1,
                    ..
                }
            )
        }),
        ("#{day(5)}", 6..7, |k| {
            matches!(
                k,
                ErrorKind::WrongArgumentType {
                    position: 1,
                    expected: "DateTime",
                    ..
                }
            )
        }),
        ("#{day('tuesday')}", 6..15, |k| {
            matches!(k, ErrorKind::WrongArgumentType { .. })
        }),
        ("#{plusDays(d, 'two')}", 14..19, |k| {
            matches!(
                k,
                ErrorKind::WrongArgumentType {
                    position: 2,
                    expected: "Int",
                    ..
                }
            )
        }),
        ("#{plusDays(d, 1.5)}", 14..17, |k| {
            matches!(k, ErrorKind::WrongArgumentType { .. })
        }),
        ("#{format(d, 5)}", 12..13, |k| {
            matches!(
                k,
                ErrorKind::WrongArgumentType {
                    expected: "String",
                    ..
                }
            )
        }),
        ("#{inTimeZone(myDateTime, 'Mars/Base')}", 25..36, |k| {
            *k == ErrorKind::UnknownTimeZone("Mars/Base".into())
        }),
        ("#{format(myDateTime, 'YYYY-qq')}", 27..29, |k| {
            matches!(k, ErrorKind::BadFormatPattern { .. })
        }),
        // With an escape in the literal the span falls back to the whole argument.
        (r"#{format(myDateTime, 'YY\\YY-qq')}", 21..32, |k| {
            matches!(k, ErrorKind::BadFormatPattern { .. })
        }),
        ("#{plusPeriod(myDateTime, '1 fortnight')}", 25..38, |k| {
            matches!(k, ErrorKind::BadPeriod(_))
        }),
        ("#{makeDate(2011, 13, 1)}", 2..23, |k| {
            matches!(k, ErrorKind::InvalidArgument { .. })
        }),
    ];
    for (raw, span, is_kind) in cases {
        let error = check_syntax(raw).expect_err(raw);
        assert_span(&error, raw, span.clone());
        assert!(is_kind(&error.kind), "{raw}: {error:?}");
        let error = eval_error(raw, &ctx);
        assert_span(&error, raw, span);
        assert!(is_kind(&error.kind), "{raw}: {error:?}");
    }
}

#[test]
fn messages_name_the_expression_and_the_signature() {
    let raw = "#{fromat(@scheduledStartTime)}";
    assert_eq!(
        check_syntax(raw).unwrap_err().to_string(),
        "unknown function 'fromat' at bytes 2..8 in '#{fromat(@scheduledStartTime)}'"
    );
    let error = check_syntax("#{day(myDateTime, 1)}").unwrap_err();
    assert!(
        error.to_string().contains("day(DateTime) -> Int"),
        "{error}"
    );
    let error = check_syntax("#{format(5, 'YYYY')}").unwrap_err();
    assert!(
        error
            .to_string()
            .contains("format(DateTime, String) -> String"),
        "{error}"
    );
    assert_eq!(
        check_syntax(raw).unwrap_err().report(),
        "error: unknown function 'fromat'\n#{fromat(@scheduledStartTime)}\n  ^^^^^^"
    );
}

/// Errors only evaluation can find.
#[test]
fn evaluation_errors() {
    let mut ctx = context()
        .text("CopyData", "x", "#{x}")
        .text("CopyData", "a", "pre #{b}")
        .text("CopyData", "b", "#{a}")
        .text("Input", "bad", "#{fromat(1)}")
        .typed_text("CopyData", "myNumber", "abc", ScalarKind::Integer)
        .text("CopyData", "myZoneText", "Mars/Base")
        .text("CopyData", "myPattern", "YYYY-qq");
    for level in 0..40 {
        ctx = ctx.text(
            "CopyData",
            &format!("deep{level}"),
            &format!("#{{deep{}}}", level + 1),
        );
    }
    let cases: Vec<Case> = vec![
        ("x#{1 / 0}", 3..8, |k| *k == ErrorKind::DivisionByZero),
        ("#{1.0 / 0}", 2..9, |k| *k == ErrorKind::DivisionByZero),
        ("#{9223372036854775807 + 1}", 2..25, |k| {
            *k == ErrorKind::Overflow("+")
        }),
        ("#{-9223372036854775807 - 2}", 2..26, |k| {
            *k == ErrorKind::Overflow("-")
        }),
        ("#{3037000500 * 3037000500}", 2..25, |k| {
            *k == ErrorKind::Overflow("*")
        }),
        ("#{2 ^ 2000}", 2..10, |k| *k == ErrorKind::NotFinite("^")),
        ("#{myDateTime - 1}", 2..16, |k| {
            *k == ErrorKind::TypeMismatch {
                operator: "-",
                left: "DateTime",
                right: "Int",
            }
        }),
        ("#{'a' * 2}", 2..9, |k| {
            matches!(k, ErrorKind::TypeMismatch { .. })
        }),
        ("#{-'a'}", 2..6, |k| *k == ErrorKind::CannotNegate("String")),
        ("#{myFoo}", 2..7, |k| {
            *k == ErrorKind::UnknownField {
                field: "myFoo".into(),
                object: "CopyData".into(),
            }
        }),
        ("#{input.nope}", 2..12, |k| {
            *k == ErrorKind::UnknownField {
                field: "nope".into(),
                object: "Input".into(),
            }
        }),
        ("#{name.foo}", 2..10, |k| {
            *k == ErrorKind::NotAReference {
                field: "foo".into(),
                found: "String",
            }
        }),
        ("#{x}", 2..3, |k| {
            *k == ErrorKind::SelfReference { field: "x".into() }
        }),
        ("s3://#{a}", 7..8, |k| {
            *k == ErrorKind::SelfReference { field: "a".into() }
        }),
        ("#{deep0}", 2..7, |k| {
            matches!(k, ErrorKind::ReferenceTooDeep { limit: 32, .. })
        }),
        ("#{myNumber}", 2..10, |k| {
            matches!(
                k,
                ErrorKind::BadFieldValue {
                    expected: "Integer",
                    ..
                }
            )
        }),
        ("#{inTimeZone(myDateTime, myZoneText)}", 25..35, |k| {
            *k == ErrorKind::UnknownTimeZone("Mars/Base".into())
        }),
        ("#{format(myDateTime, myPattern)}", 21..30, |k| {
            matches!(k, ErrorKind::BadFormatPattern { .. })
        }),
        ("#{day(myInt)}", 6..11, |k| {
            matches!(k, ErrorKind::WrongArgumentType { .. })
        }),
        ("#{plusYears(myDateTime, 100000)}", 2..31, |k| {
            matches!(k, ErrorKind::DateTimeOutOfRange(_))
        }),
        ("#{minusYears(myDateTime, 2011)}", 2..30, |k| {
            matches!(k, ErrorKind::DateTimeOutOfRange(_))
        }),
        ("#{plusDays(myDateTime, 9223372036854775807)}", 2..43, |k| {
            matches!(k, ErrorKind::DateTimeOutOfRange(_))
        }),
    ];
    for (raw, span, is_kind) in cases {
        assert!(
            check_syntax(raw).is_ok(),
            "{raw} should pass the static check"
        );
        let error = eval_error(raw, &ctx);
        assert_span(&error, raw, span);
        assert!(is_kind(&error.kind), "{raw}: {error:?}");
    }
    assert_eq!(
        eval_error("#{myFoo}", &ctx).to_string(),
        "'myFoo' is not a field of object 'CopyData' at bytes 2..7 in '#{myFoo}'"
    );
    assert_eq!(
        eval_error("#{x}", &ctx).to_string(),
        "expression refers to itself through 'x' at bytes 2..3 in '#{x}'"
    );
}

#[test]
fn an_error_inside_another_field_points_at_both() {
    let ctx = context().text("Input", "bad", "#{fromat(1)}");
    let error = eval_error("path=#{input.bad}", &ctx);
    assert_span(&error, "path=#{input.bad}", 7..16);
    let ErrorKind::InField {
        object,
        field,
        inner,
    } = &*error.kind
    else {
        panic!("{error:?}")
    };
    assert_eq!((object.as_str(), field.as_str()), ("Input", "bad"));
    assert_eq!(
        (inner.span.clone(), inner.expression.as_str()),
        (2..8, "#{fromat(1)}")
    );
    assert_eq!(
        error.to_string(),
        "field 'bad' of object 'Input' cannot be evaluated (unknown function 'fromat' at bytes \
         2..8 in '#{fromat(1)}') at bytes 7..16 in 'path=#{input.bad}'"
    );
}

#[test]
fn runaway_values_are_stopped() {
    // Each level doubles the string; the size guard stops it long before memory runs out.
    let mut ctx = MapContext::new("A").text("A", "f25", "xxxxxxxx");
    for level in 0..25 {
        ctx = ctx.text(
            "A",
            &format!("f{level}"),
            &format!("#{{f{next} + f{next}}}", next = level + 1),
        );
    }
    let error = evaluate_expression("f0", &ctx).unwrap_err();
    assert_eq!(
        (*error.kind, error.span),
        (ErrorKind::ValueTooLarge(1 << 20), 0..2)
    );
}

/// Builds the text of field `f{n - 1}`, which refers to `f{n}`.
type FieldText = fn(usize) -> String;

#[test]
fn deepest_accepted_nesting_through_fields_fits_on_a_test_thread_stack() {
    // Every level is as deep as the parser allows and refers to the next field, up to the
    // reference limit; evaluation must stop with a depth error rather than overflow the 2 MiB
    // stack test threads (and tokio workers) get.
    let levels = 40;
    let shapes: [(FieldText, ScalarKind); 2] = [
        (
            |next| format!("#{{{}f{next}}}", "-".repeat(62)),
            ScalarKind::Integer,
        ),
        (
            |next| {
                format!(
                    "#{{{}f{next}{}}}",
                    "plusDays(".repeat(62),
                    ", 1)".repeat(62)
                )
            },
            ScalarKind::DateTime,
        ),
    ];
    for (shape, kind) in shapes {
        let mut ctx = MapContext::new("A");
        for level in 0..levels {
            ctx = ctx.typed_text("A", &format!("f{level}"), &shape(level + 1), kind);
        }
        assert!(
            check_syntax(&shape(1)).is_ok(),
            "one level is within the parser's limit"
        );
        let error = evaluate_expression("f0", &ctx).unwrap_err();
        assert_eq!(
            *error.kind,
            ErrorKind::TooDeep(sluice_expr::MAX_EVAL_DEPTH),
            "{error}"
        );
        assert_eq!(error.span, 0..2);
    }
    // Within the budget the same shape evaluates.
    let ctx = MapContext::new("A")
        .text("A", "f0", "#{-f1}")
        .typed_text("A", "f1", "#{--------f2}", ScalarKind::Integer)
        .value("A", "f2", sluice_expr::Value::Int(1));
    assert_eq!(evaluate_string("#{f0}", &ctx).unwrap(), "-1");
}
