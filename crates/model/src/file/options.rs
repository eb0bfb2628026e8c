//! Parameter values given on the command line, as `awscli/customizations/datapipeline`
//! handles `--parameter-values` and `--parameter-values-uri`.

use std::collections::HashMap;

use crate::api::ParameterValue;

use super::error::FileError;

/// Parses `--parameter-values id=value ...`.
///
/// Each argument splits on its first `=`, so values may contain `=` and may be empty. A repeated
/// id gives an array parameter: as in the AWS CLI (which collects the arguments in a dict
/// first), all values of one id are emitted together, at the position of the id's first
/// argument, in argument order. `a=1 b=2 a=3` gives `a=1, a=3, b=2`.
///
/// # Errors
///
/// [`FileError::Argument`] for an argument without `=` or with nothing before it.
pub fn parse_parameter_value_args(args: &[String]) -> Result<Vec<ParameterValue>, FileError> {
    let mut groups: Vec<(&str, Vec<&str>)> = Vec::new();
    let mut index: HashMap<&str, usize> = HashMap::new();
    for argument in args {
        let Some((id, value)) = argument.split_once('=') else {
            return Err(FileError::Argument {
                argument: argument.clone(),
                message: "expected id=value".to_owned(),
            });
        };
        // The AWS CLI would send an empty id, which no parameter can have; say so here instead.
        if id.is_empty() {
            return Err(FileError::Argument {
                argument: argument.clone(),
                message: "the parameter id before '=' is empty".to_owned(),
            });
        }
        match index.get(id) {
            Some(&i) => groups[i].1.push(value),
            None => {
                index.insert(id, groups.len());
                groups.push((id, vec![value]));
            }
        }
    }
    Ok(groups
        .into_iter()
        .flat_map(|(id, values)| {
            values.into_iter().map(move |value| ParameterValue {
                id: id.to_owned(),
                string_value: value.to_owned(),
            })
        })
        .collect())
}

/// The parameter values to send: those from `--parameter-values`/`--parameter-values-uri`
/// when given, otherwise those embedded in the definition file.
///
/// The two sources are never combined: the AWS CLI uses the file's `values` only when no value
/// option set them. (Depending on argument order, the AWS CLI can instead fail with "Only
/// parameter-values or parameter-values-uri is allowed"; the option simply wins here.)
pub fn merge_parameter_values(
    embedded: Vec<ParameterValue>,
    from_options: Option<Vec<ParameterValue>>,
) -> Vec<ParameterValue> {
    from_options.unwrap_or(embedded)
}

/// Which of the two parameter value options a command line used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ParameterValuesOption {
    /// `--parameter-values id=value ...`: parse with [`parse_parameter_value_args`].
    Inline(Vec<String>),
    /// `--parameter-values-uri <location>`: read it, then parse the text with
    /// [`parse_parameter_values_file`](super::parse_parameter_values_file).
    Uri(String),
}

impl ParameterValuesOption {
    /// Picks the option given, if any. An empty `inline` counts as absent, since
    /// `--parameter-values` needs at least one argument.
    ///
    /// # Errors
    ///
    /// [`FileError::ConflictingParameterValueOptions`] when both are given.
    pub fn from_options(
        inline: &[String],
        uri: Option<&str>,
    ) -> Result<Option<ParameterValuesOption>, FileError> {
        match (inline, uri) {
            ([], None) => Ok(None),
            ([], Some(uri)) => Ok(Some(ParameterValuesOption::Uri(uri.to_owned()))),
            (args, None) => Ok(Some(ParameterValuesOption::Inline(args.to_vec()))),
            (_, Some(_)) => Err(FileError::ConflictingParameterValueOptions),
        }
    }
}
