//! `sluice validate`: what ValidatePipelineDefinition would answer, on the command line.

use std::process::ExitCode;

use anyhow::{Context as _, Result};
use sluice_catalog::Catalog;
use sluice_definition::{Limits, PIPELINE_ID, ValidateOptions, ValidationReport, validate};
use sluice_model::PipelineDefinition;

use sluice_executors::preflight::preflight;

use crate::cli::{LimitArgs, OutputFormat, ValidateArgs};
use crate::commands::{EXIT_INVALID, EXIT_USAGE, plural};
use crate::definition_input::read_definition;

pub(crate) fn run(args: &ValidateArgs) -> Result<ExitCode> {
    let input = match read_definition(&args.definition) {
        Ok(input) => input,
        Err(error) => {
            eprintln!("sluice: {error:#}");
            return Ok(ExitCode::from(EXIT_USAGE));
        }
    };
    let limits = match limits_from_options(&args.limits) {
        Ok(limits) => limits,
        Err(error) => {
            eprintln!("sluice: {error:#}");
            return Ok(ExitCode::from(EXIT_USAGE));
        }
    };
    let mut report = check(&input.definition, &limits);
    for warning in &input.warnings {
        report.add_warning(PIPELINE_ID, format!("DUPLICATE_KEY: {warning}"));
    }
    match args.output {
        OutputFormat::Json => println!("{}", serde_json::to_string_pretty(&report)?),
        OutputFormat::Text => print_text(&args.definition.file.display().to_string(), &report),
    }
    Ok(if report.errored() {
        ExitCode::from(EXIT_INVALID)
    } else {
        ExitCode::SUCCESS
    })
}

/// What ValidatePipelineDefinition would answer now, plus a warning for each object a runner
/// with this machine's data settings would fail for a reason known in advance.
pub(crate) fn check(definition: &PipelineDefinition, limits: &Limits) -> ValidationReport {
    let options = ValidateOptions {
        now: Some(chrono::Utc::now().naive_utc()),
    };
    let mut report = validate(definition, &Catalog::builtin(), limits, &options);
    // The definition is valid either way; a runner on this machine just could not run it.
    let data = sluice_data::DataSettings::from_env();
    for (id, message) in preflight(&definition.pipeline_objects, &data) {
        report.add_warning(&id, message);
    }
    report
}

fn limits_from_options(args: &LimitArgs) -> Result<Limits> {
    if args.strict_limits {
        return Ok(Limits::strict());
    }
    let Some(path) = &args.limits else {
        return Ok(Limits::default());
    };
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read limits file {}", path.display()))?;
    serde_json::from_str(&text).with_context(|| format!("limits file {}", path.display()))
}

fn print_text(file: &str, report: &ValidationReport) {
    let error_count: usize = report.errors.iter().map(|e| e.errors.len()).sum();
    let warning_count: usize = report.warnings.iter().map(|w| w.warnings.len()).sum();
    if error_count == 0 {
        println!("{file}: valid ({})", plural(warning_count, "warning"));
    } else {
        println!(
            "{file}: invalid ({} in {}, {})",
            plural(error_count, "error"),
            plural(report.errors.len(), "object"),
            plural(warning_count, "warning"),
        );
    }
    for object in &report.errors {
        println!("  {}", object.id);
        for message in &object.errors {
            println!("    error: {message}");
        }
    }
    for object in &report.warnings {
        println!("  {}", object.id);
        for message in &object.warnings {
            println!("    warning: {message}");
        }
    }
}
