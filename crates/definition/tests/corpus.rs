//! Realistic definitions (modelled on the AWS Developer Guide examples), several deliberately
//! broken, validated with the built-in catalog; the reports are snapshots under `snapshots/`.

use std::fs;
use std::path::{Path, PathBuf};

use sluice_catalog::Catalog;
use sluice_definition::{Limits, ValidateOptions, ValidationReport, load, resolve, validate};
use sluice_model::PipelineDefinition;
use sluice_model::file::parse_definition_file;

fn corpus() -> Vec<(String, PipelineDefinition)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/corpus");
    let mut files: Vec<PathBuf> = fs::read_dir(&dir)
        .expect("corpus directory")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    files.sort();
    files
        .into_iter()
        .map(|path| {
            let text = fs::read_to_string(&path).expect("readable");
            let parsed =
                parse_definition_file(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            assert!(
                parsed.warnings.is_empty(),
                "{}: {:?}",
                path.display(),
                parsed.warnings
            );
            let stem = path.file_stem().unwrap().to_string_lossy().into_owned();
            (stem, parsed.definition)
        })
        .collect()
}

fn options() -> ValidateOptions {
    ValidateOptions {
        now: sluice_model::time::parse_datetime("2026-06-01T00:00:00").ok(),
    }
}

fn check(def: &PipelineDefinition, limits: &Limits) -> ValidationReport {
    validate(def, &Catalog::builtin(), limits, &options())
}

#[test]
fn corpus_reports() {
    let corpus = corpus();
    assert!(corpus.len() >= 12, "corpus has {} files", corpus.len());
    for (name, def) in &corpus {
        let report = check(def, &Limits::default());
        insta::assert_json_snapshot!(name.as_str(), report);
        // Broken files are named so; every other file must be loadable.
        assert_eq!(report.errored(), name.contains("broken"), "{name}");
        // Deterministic: the same input gives the same report.
        assert_eq!(check(def, &Limits::default()), report, "{name}");
    }
}

#[test]
fn strict_limits_turn_limit_warnings_into_errors() {
    let corpus = corpus();
    let (_, def) = corpus
        .iter()
        .find(|(n, _)| n.contains("limits"))
        .expect("limits file");
    insta::assert_json_snapshot!("strict_limits", check(def, &Limits::strict()));
}

#[test]
fn secrets_never_appear_in_reports() {
    for (name, def) in corpus() {
        let report = serde_json::to_string(&check(&def, &Limits::default())).unwrap();
        for secret in [
            "correct horse",
            "s3cr3t",
            "not-a-number-secret",
            "p@ss",
            "1111",
            "2222",
        ] {
            assert!(!report.contains(secret), "{name} leaks {secret}: {report}");
        }
    }
}

/// Effective fields of a valid definition, to review inheritance against the real catalog.
#[test]
fn resolved_copy_pipeline() {
    let corpus = corpus();
    let (_, def) = corpus
        .iter()
        .find(|(n, _)| n.contains("copy_s3_csv"))
        .expect("copy file");
    let pipeline = resolve(def, &Catalog::builtin());
    let summary: Vec<serde_json::Value> = pipeline
        .objects
        .iter()
        .map(|o| {
            let fields: Vec<String> = o
                .entries()
                .map(|(f, owner)| {
                    let value = match &f.value {
                        sluice_model::FieldValue::String(s) => s.clone(),
                        sluice_model::FieldValue::Ref(r) => format!("->{r}"),
                    };
                    if owner == o.id {
                        format!("{} = {value}", f.key)
                    } else {
                        format!("{} = {value}  (from {owner})", f.key)
                    }
                })
                .collect();
            serde_json::json!({ "id": o.id, "type": o.type_name, "fields": fields })
        })
        .collect();
    insta::assert_json_snapshot!("resolved_copy_s3_csv", summary);
}

#[test]
fn valid_files_load_with_parameters_applied() {
    let corpus = corpus();
    let (_, def) = corpus
        .iter()
        .find(|(n, _)| n.contains("parameters_arrays"))
        .expect("file");
    let (pipeline, _) =
        load(def, &Catalog::builtin(), &Limits::default(), &options()).expect("valid");
    let values = &pipeline.parameters.values;
    assert_eq!(values["myRegions"], ["us-east-1", "eu-west-1"]);
    assert_eq!(values["myWorkerGroup"], ["green"]);
    assert_eq!(values["myBatchSize"], ["50"]);
    assert_eq!(values["myExtraTag"], ["undeclared values are usable"]);
    assert!(!values.contains_key("myNotes"));
}
