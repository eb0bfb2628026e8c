//! Property tests: no input panics, printing a tree and parsing it back gives the same tree,
//! and day arithmetic is reversible.

mod common;

use proptest::prelude::*;
use sluice_expr::{
    BinaryOp, Expr, ExprKind, Value, check_syntax, evaluate_expression, evaluate_field,
    evaluate_string, parse_expression, parse_template,
};

/// Text that looks like expressions often enough to reach deep into the parser.
fn expression_like() -> impl Strategy<Value = String> {
    prop::collection::vec(
        prop_oneof![
            Just("#{".to_owned()),
            Just("}".to_owned()),
            Just("(".to_owned()),
            Just(")".to_owned()),
            Just(",".to_owned()),
            Just(".".to_owned()),
            Just("'".to_owned()),
            Just("\"".to_owned()),
            Just("\\".to_owned()),
            "[-+*/^ ]",
            "[0-9]{1,3}",
            "[0-9]\\.[0-9]",
            Just("@scheduledStartTime".to_owned()),
            Just("*myPassword".to_owned()),
            prop::sample::select(vec![
                "myDateTime",
                "myList",
                "myNums",
                "myEmpty",
                "input",
                "inputs",
                "name",
                "node",
                "format",
                "day",
                "plusDays",
                "minusMonths",
                "inTimeZone",
                "plusPeriod",
                "makeDateTime",
                "sunday",
                "'YYYY-MM-dd z'",
                "'1 day'",
                "'America/Los_Angeles'",
                "myCount",
                "directoryPath",
                "x",
            ])
            .prop_map(str::to_owned),
        ],
        0..24,
    )
    .prop_map(|pieces| pieces.concat())
}

fn leaf() -> impl Strategy<Value = Expr> {
    let kind = prop_oneof![
        (0i64..1_000_000).prop_map(ExprKind::Int),
        prop_oneof![
            (0u32..1_000_000).prop_map(|n| f64::from(n) / 16.0),
            Just(1e300),
            Just(2.5e-7)
        ]
        .prop_map(ExprKind::Double),
        "[a-z '\"\\\\}#{]{0,6}".prop_map(ExprKind::String),
        prop::sample::select(vec!["a", "@b", "*c", "myParam", "e5"])
            .prop_map(|name| ExprKind::Field(name.to_owned())),
    ];
    kind.prop_map(|kind| Expr { kind, span: 0..0 })
}

fn expr() -> impl Strategy<Value = Expr> {
    leaf().prop_recursive(6, 48, 3, |inner| {
        let boxed = |e: Expr| Box::new(e);
        prop_oneof![
            (inner.clone(), prop::sample::select(vec!["x", "@y", "*z"])).prop_map(
                move |(base, name)| ExprKind::Member {
                    base: boxed(base),
                    name: name.to_owned(),
                    name_span: 0..0,
                }
            ),
            (
                prop::sample::select(vec!["f", "format", "plusDays"]),
                prop::collection::vec(inner.clone(), 0..3),
                any::<bool>()
            )
                .prop_map(|(function, args, method)| ExprKind::Call {
                    function: function.to_owned(),
                    function_span: 0..0,
                    method: method && !args.is_empty(),
                    args,
                }),
            inner
                .clone()
                .prop_map(|operand| ExprKind::Neg(Box::new(operand))),
            (
                prop::sample::select(vec![
                    BinaryOp::Add,
                    BinaryOp::Sub,
                    BinaryOp::Mul,
                    BinaryOp::Div,
                    BinaryOp::Pow
                ]),
                inner.clone(),
                inner
            )
                .prop_map(|(op, left, right)| ExprKind::Binary {
                    op,
                    left: Box::new(left),
                    right: Box::new(right),
                }),
        ]
        .prop_map(|kind| Expr { kind, span: 0..0 })
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn arbitrary_text_never_panics(raw in any::<String>()) {
        let ctx = common::context();
        let _ = check_syntax(&raw);
        let _ = evaluate_string(&raw, &ctx);
        let _ = evaluate_expression(&raw, &ctx);
        if let Err(error) = parse_template(&raw) {
            let _ = error.caret();
            prop_assert!(error.span.end <= raw.len());
        }
    }

    #[test]
    fn expression_like_text_never_panics(raw in expression_like()) {
        let ctx = common::context();
        let checked = check_syntax(&raw);
        let evaluated = evaluate_field(&raw, &ctx);
        let _ = evaluate_expression(&raw, &ctx);
        if let Err(error) = &checked {
            prop_assert!(error.span.start <= error.span.end && error.span.end <= raw.len());
            prop_assert!(evaluated.is_err(), "check_syntax rejected what evaluation accepted");
        }
        if let Err(error) = &evaluated {
            prop_assert!(error.span.end <= raw.len(), "{error}");
            let _ = error.report();
        }
    }

    #[test]
    fn printed_trees_parse_back_to_the_same_tree(tree in expr()) {
        let printed = tree.to_string();
        let parsed = parse_expression(&printed)
            .map_err(|e| TestCaseError::fail(format!("{printed}: {e}")))?;
        prop_assert_eq!(parsed.without_spans(), tree.without_spans(), "{}", printed);
        let template = format!("s3://#{{{printed}}}/x}}");
        let parsed = parse_template(&template)
            .map_err(|e| TestCaseError::fail(format!("{template}: {e}")))?;
        prop_assert_eq!(parsed.to_string(), template);
    }

    #[test]
    fn parse_print_parse_is_stable(raw in expression_like()) {
        if let Ok(template) = parse_template(&raw) {
            let printed = template.to_string();
            let reparsed = parse_template(&printed)
                .map_err(|e| TestCaseError::fail(format!("{printed}: {e}")))?;
            prop_assert_eq!(reparsed.without_spans(), template.without_spans());
        }
    }

    #[test]
    fn plus_days_then_minus_days_is_identity(seconds in -2_000_000_000i64..4_000_000_000, n in -50_000i64..50_000) {
        let at = chrono::DateTime::from_timestamp(seconds, 0).expect("in range").naive_utc();
        let ctx = sluice_expr::MapContext::new("A")
            .value("A", "d", Value::utc(at))
            .value("A", "n", Value::Int(n));
        let back = evaluate_expression("minusDays(plusDays(d, n), n)", &ctx).unwrap();
        prop_assert_eq!(back, Value::utc(at));
        let zoned = evaluate_expression("minusDays(d.plusDays(n), n).format('YYYY-MM-dd HH:mm:ss')", &ctx).unwrap();
        prop_assert_eq!(zoned.render(), at.format("%Y-%m-%d %H:%M:%S").to_string());
    }
}
