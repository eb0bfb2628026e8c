//! Feeds arbitrary bytes to the definition reader. Invariants beyond "no panic": whatever the
//! reader accepts translates back to a file that reads, without warnings, to the same definition
//! with each object's fields grouped by key; the one exception, a field whose key is the file
//! form's own `id` or `name`, is refused when read back; and validation of it completes.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sluice_catalog::Catalog;
use sluice_definition::{Limits, ValidateOptions, validate};
use sluice_model::PipelineDefinition;
use sluice_model::file::{parse_any_definition, parse_definition_file, to_definition_file};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(parsed) = parse_any_definition(text) else {
        return;
    };
    let file = to_definition_file(&parsed.definition).to_string();
    let reread = parse_definition_file(&file);
    match colliding_key(&parsed.definition) {
        // The file form writes such a field into the key that holds the object's own id or
        // name, as the AWS CLI does; the list that makes is not a valid id or name.
        Some(key) => assert!(reread.is_err(), "a field {key:?} read back from {file}"),
        None => {
            let reread = reread.unwrap_or_else(|e| panic!("{file}\ndoes not read back: {e}"));
            assert_eq!(reread.warnings, Vec::<String>::new(), "{file}");
            assert_eq!(
                reread.definition,
                grouped_by_key(&parsed.definition),
                "file round trip changed the definition"
            );
        }
    }
    let options = ValidateOptions {
        now: Some(chrono_epoch()),
    };
    let report = validate(
        &parsed.definition,
        &Catalog::builtin(),
        &Limits::default(),
        &options,
    );
    let json = serde_json::to_value(&report).expect("a report always serialises");
    assert_eq!(json["errored"].as_bool(), Some(report.errored()));
});

/// The key of an object field called `id` or `name`, or of a parameter attribute called `id`:
/// the fields the file form cannot hold beside the element's own.
fn colliding_key(def: &PipelineDefinition) -> Option<&str> {
    let fields = def
        .pipeline_objects
        .iter()
        .flat_map(|o| &o.fields)
        .map(|f| f.key.as_str());
    let attributes = def
        .parameter_objects
        .iter()
        .flat_map(|p| &p.attributes)
        .map(|a| a.key.as_str());
    fields
        .filter(|k| *k == "id" || *k == "name")
        .chain(attributes.filter(|k| *k == "id"))
        .next()
}

/// What the file form gives back: the reader orders fields and attributes by key (a file
/// groups a repeated key into one list, kept in order) and values by the first use of each id.
/// A definition read from a file is already in this form; one in the API form may not be.
fn grouped_by_key(def: &PipelineDefinition) -> PipelineDefinition {
    let mut def = def.clone();
    for object in &mut def.pipeline_objects {
        object.fields.sort_by(|a, b| a.key.cmp(&b.key));
    }
    for parameter in &mut def.parameter_objects {
        parameter.attributes.sort_by(|a, b| a.key.cmp(&b.key));
    }
    let mut ids: Vec<&str> = Vec::new();
    for value in &def.parameter_values {
        if !ids.contains(&value.id.as_str()) {
            ids.push(&value.id);
        }
    }
    let values = ids
        .iter()
        .flat_map(|id| def.parameter_values.iter().filter(move |v| v.id == *id))
        .cloned()
        .collect();
    def.parameter_values = values;
    def
}

fn chrono_epoch() -> chrono::NaiveDateTime {
    sluice_model::time::parse_datetime("2026-01-01T00:00:00").expect("constant datetime")
}
