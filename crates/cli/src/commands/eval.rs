//! `sluice eval`: evaluate `#{...}` expressions from the command line, alone or in the context
//! of an object of a definition.

use std::process::ExitCode;

use anyhow::{Context as _, Result, anyhow, bail};
use chrono::NaiveDateTime;
use sluice_catalog::Catalog;
use sluice_definition::{DefinitionContext, Limits, ValidateOptions, load};
use sluice_expr::{Binding, Context, MapContext, Value, evaluate_string};
use sluice_model::ParameterValue;
use sluice_model::time::parse_datetime;

use crate::cli::EvalArgs;
use crate::commands::EXIT_INVALID;
use crate::definition_input::{parameter_values_from_options, read_definition_file};

/// The object id expressions are evaluated for when no definition is given.
const STANDALONE_OBJECT: &str = "Expression";

pub(crate) fn run(args: &EvalArgs) -> Result<ExitCode> {
    let at = match &args.at {
        Some(text) => parse_datetime(text).with_context(|| "--at")?,
        None => now_to_the_second(),
    };
    let outcome = match (&args.definition, &args.object) {
        (Some(path), Some(object)) => {
            let input = read_definition_file(path, &args.parameters)?;
            let catalog = Catalog::builtin();
            let options = ValidateOptions { now: Some(at) };
            let (pipeline, _warnings) =
                load(&input.definition, &catalog, &Limits::default(), &options).map_err(
                    |report| {
                        let problems: Vec<String> = report
                            .error_messages()
                            .map(|(id, message)| format!("{id}: {message}"))
                            .collect();
                        anyhow!(
                            "{} is not a valid definition:\n  {}",
                            path.display(),
                            problems.join("\n  ")
                        )
                    },
                )?;
            if pipeline.get(object).is_none() {
                bail!("{} has no object with id '{object}'", path.display());
            }
            let ctx = DefinitionContext::new(&pipeline, &catalog, object.as_str()).at(at);
            evaluate(&args.expression, &ctx)
        }
        (None, None) => {
            let values = parameter_values_from_options(&args.parameters)?.unwrap_or_default();
            let ctx = standalone_context(at, &values);
            evaluate(&args.expression, &ctx)
        }
        _ => bail!("--definition and --object go together"),
    };
    match outcome {
        Ok(text) => {
            println!("{text}");
            Ok(ExitCode::SUCCESS)
        }
        Err(report) => {
            eprintln!("{}", report.trim_end());
            Ok(ExitCode::from(EXIT_INVALID))
        }
    }
}

fn evaluate(expression: &str, ctx: &dyn Context) -> Result<String, String> {
    evaluate_string(expression, ctx).map_err(|error| error.report())
}

/// A context with only `@scheduledStartTime`, `@id` and the parameter values given as options.
fn standalone_context(at: NaiveDateTime, values: &[ParameterValue]) -> MapContext {
    let mut ctx = MapContext::new(STANDALONE_OBJECT)
        .value(STANDALONE_OBJECT, "@scheduledStartTime", Value::utc(at))
        .value(
            STANDALONE_OBJECT,
            "@id",
            Value::String(STANDALONE_OBJECT.to_owned()),
        );
    let mut ids: Vec<&str> = values.iter().map(|v| v.id.as_str()).collect();
    ids.dedup();
    for id in ids {
        let items: Vec<Value> = values
            .iter()
            .filter(|v| v.id == id)
            .map(|v| Value::String(v.string_value.clone()))
            .collect();
        let value = match <[Value; 1]>::try_from(items) {
            Ok([single]) => single,
            Err(items) => Value::List(items),
        };
        ctx = ctx.parameter(id, Binding::Value(value));
    }
    ctx
}

fn now_to_the_second() -> NaiveDateTime {
    let now = chrono::Utc::now().naive_utc();
    parse_datetime(&sluice_model::time::format_datetime(now)).unwrap_or(now)
}
