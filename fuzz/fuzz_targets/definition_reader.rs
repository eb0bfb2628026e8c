//! Feeds arbitrary bytes to the definition reader. Invariants beyond "no panic": whatever the
//! reader accepts translates back to a file that reads to the same definition, and validation of
//! it completes.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sluice_catalog::Catalog;
use sluice_definition::{Limits, ValidateOptions, validate};
use sluice_model::file::{parse_any_definition, parse_definition_file, to_definition_file};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let Ok(parsed) = parse_any_definition(text) else { return };
    let file = to_definition_file(&parsed.definition);
    // The reverse translation can only fail to read back for field names the CLI itself
    // cannot round-trip (a field called `id` or `name`), which the reader refuses.
    let reread = parse_definition_file(&file.to_string());
    if let Ok(reread) = reread {
        assert_eq!(reread.definition, parsed.definition, "file round trip changed the definition");
    }
    let options = ValidateOptions { now: Some(chrono_epoch()) };
    let report = validate(&parsed.definition, &Catalog::builtin(), &Limits::default(), &options);
    let json = serde_json::to_value(&report).expect("a report always serialises");
    assert_eq!(json["errored"].as_bool(), Some(report.errored()));
});

fn chrono_epoch() -> chrono::NaiveDateTime {
    sluice_model::time::parse_datetime("2026-01-01T00:00:00").expect("constant datetime")
}
