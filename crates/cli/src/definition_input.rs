//! Reading a definition file and the parameter options that go with it, as
//! `aws datapipeline put-pipeline-definition` combines them.
//!
//! Design decisions:
//! * `--parameter-objects` replaces the definition's own `parameters` as a whole, as the AWS
//!   CLI's does (it sends the file's declarations as the definition's `parameterObjects`); the
//!   definition's `values` still apply unless a value option replaces them too.
//! * Every option naming a file takes `file://PATH` (the AWS CLI's spelling) or a plain path.

use std::fs;
use std::path::Path;

use anyhow::{Context as _, Result, bail};
use chrono::NaiveDateTime;
use sluice_catalog::Catalog;
use sluice_definition::{Limits, ResolvedPipeline, ValidateOptions, ValidationReport, load};
use sluice_model::PipelineDefinition;
use sluice_model::file::{
    merge_parameter_values, parse_any_definition, parse_parameter_objects_file,
    parse_parameter_value_args, parse_parameter_values_file,
};

use crate::cli::{DefinitionArgs, ParameterValueArgs};

/// A definition read from disk, with parameter options from the command line applied.
pub(crate) struct DefinitionInput {
    pub(crate) definition: PipelineDefinition,
    /// Problems the reader tolerated (e.g. duplicate JSON keys: the last one wins, as in AWS).
    pub(crate) warnings: Vec<String>,
}

/// The definition `validate`, `run` and `plan` were given, with `--parameter-objects` and the
/// value options applied.
pub(crate) fn read_definition(args: &DefinitionArgs) -> Result<DefinitionInput> {
    let mut input = read_definition_file(&args.file, &args.parameters)?;
    if let Some(location) = &args.parameter_objects {
        let (path, text) = read_option_file(location, "parameter objects file")?;
        input.definition.parameter_objects =
            parse_parameter_objects_file(&text).with_context(|| path.to_owned())?;
    }
    Ok(input)
}

/// A definition file with the value options applied.
pub(crate) fn read_definition_file(
    path: &Path,
    params: &ParameterValueArgs,
) -> Result<DefinitionInput> {
    let text = fs::read_to_string(path)
        .with_context(|| format!("cannot read definition file {}", path.display()))?;
    let parsed = parse_any_definition(&text).with_context(|| path.display().to_string())?;
    let mut definition = parsed.definition;
    if let Some(values) = parameter_values_from_options(params)? {
        let embedded = std::mem::take(&mut definition.parameter_values);
        definition.parameter_values = merge_parameter_values(embedded, Some(values));
    }
    Ok(DefinitionInput {
        definition,
        warnings: parsed.warnings,
    })
}

/// Values given with `--parameter-values` or `--parameter-values-uri`, if any.
pub(crate) fn parameter_values_from_options(
    params: &ParameterValueArgs,
) -> Result<Option<Vec<sluice_model::ParameterValue>>> {
    match (&params.parameter_values[..], &params.parameter_values_uri) {
        ([], None) => Ok(None),
        ([_, ..], Some(_)) => {
            bail!("only one of --parameter-values or --parameter-values-uri is allowed")
        }
        (args, None) => Ok(Some(parse_parameter_value_args(args)?)),
        ([], Some(uri)) => {
            let (path, text) = read_option_file(uri, "parameter values file")?;
            let values = parse_parameter_values_file(&text).with_context(|| path.to_owned())?;
            Ok(Some(values))
        }
    }
}

/// The path and text of a file an option names as `file://PATH` or `PATH`.
fn read_option_file<'a>(location: &'a str, what: &str) -> Result<(&'a str, String)> {
    let path = location.strip_prefix("file://").unwrap_or(location);
    let text = fs::read_to_string(path).with_context(|| format!("cannot read {what} {path}"))?;
    Ok((path, text))
}

/// Validates and resolves a definition for running or planning it at `now`. An invalid one
/// is reported on stderr, naming `file` and every error, and gives `None`.
pub(crate) fn load_runnable(
    definition: &PipelineDefinition,
    catalog: &Catalog,
    limits: &Limits,
    file: &Path,
    now: NaiveDateTime,
) -> Option<(ResolvedPipeline, ValidationReport)> {
    let options = ValidateOptions { now: Some(now) };
    match load(definition, catalog, limits, &options) {
        Ok(loaded) => Some(loaded),
        Err(report) => {
            eprintln!("sluice: {} is not a valid definition:", file.display());
            for (id, message) in report.error_messages() {
                eprintln!("  {id}: {message}");
            }
            None
        }
    }
}
