//! Feeds arbitrary text to the expression parser and evaluator. Invariants beyond "no panic":
//! a template that parses prints back to text that parses to the same tree, and whatever
//! `check_syntax` rejects, evaluation rejects too.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sluice_expr::{MapContext, Value, check_syntax, evaluate_string, parse_template};

fuzz_target!(|data: &[u8]| {
    let Ok(raw) = std::str::from_utf8(data) else { return };
    let syntax = check_syntax(raw);
    if let Ok(template) = parse_template(raw) {
        let printed = template.to_string();
        let reparsed = parse_template(&printed).expect("a printed template parses");
        assert_eq!(reparsed.without_spans(), template.without_spans(), "print/parse changed {raw:?}");
    }
    let start = sluice_model::time::parse_datetime("2011-05-24T17:10:00").expect("constant");
    let ctx = MapContext::new("Activity")
        .value("Activity", "@scheduledStartTime", Value::utc(start))
        .text("Activity", "myText", "hello #{@scheduledStartTime}")
        .reference("Activity", "input", "Node")
        .text("Node", "directoryPath", "s3://bucket/#{format(@scheduledStartTime, 'YYYY')}")
        .value("Node", "@scheduledStartTime", Value::utc(start));
    let evaluated = evaluate_string(raw, &ctx);
    if syntax.is_err() {
        assert!(evaluated.is_err(), "check_syntax rejected {raw:?} but evaluation accepted it");
    }
});
