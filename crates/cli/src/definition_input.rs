//! Reading a definition file and the parameter-value options that go with it.

use std::fs;
use std::path::Path;

use anyhow::{Context as _, Result, bail};
use sluice_model::PipelineDefinition;
use sluice_model::file::{
    merge_parameter_values, parse_any_definition, parse_parameter_value_args,
    parse_parameter_values_file,
};

use crate::cli::ParameterValueArgs;

/// A definition read from disk, with parameter values from the command line applied.
pub(crate) struct DefinitionInput {
    pub(crate) definition: PipelineDefinition,
    /// Problems the reader tolerated (e.g. duplicate JSON keys: the last one wins, as in AWS).
    pub(crate) warnings: Vec<String>,
}

pub(crate) fn read_definition(path: &Path, params: &ParameterValueArgs) -> Result<DefinitionInput> {
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
            let path = uri.strip_prefix("file://").unwrap_or(uri);
            let text = fs::read_to_string(path)
                .with_context(|| format!("cannot read parameter values file {path}"))?;
            let values = parse_parameter_values_file(&text).with_context(|| path.to_owned())?;
            Ok(Some(values))
        }
    }
}
