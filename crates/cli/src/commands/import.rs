//! `sluice import`: pipelines from AWS Data Pipeline (or any endpoint of its API) onto a Sluice
//! server or into definition files, with a report of what will not run there as it did at the
//! source (docs/import.md).
//!
//! Design decisions:
//! - One client for both sides: source and destination speak the same API, so both are the
//!   SDK client `sluice taskrunner` uses (`sluice_runner::remote::client`). The source signs
//!   with the AWS credential chain (environment, then profile files); the destination with its
//!   own keys (`--to-profile`, else `SLUICE_ACCESS_KEY_ID` / `SLUICE_SECRET_ACCESS_KEY`), so AWS
//!   keys are never sent to, nor needed by, the Sluice server.
//! - The source is only read. Nothing is activated anywhere: the report is there to be read
//!   before anyone activates.
//! - The source's pipelines are listed and described, and the destination's keys checked,
//!   before anything is written: refused credentials, an unreachable endpoint or an unknown
//!   pipeline id stop the import with nothing changed (exit 2). After that a pipeline whose
//!   definition cannot be read or written fails alone and the others go on (exit 1).
//! - Only the latest definition is imported: Sluice makes a definition active only by
//!   activating it, which an import never does. An activated definition that differs is
//!   reported (and written to `<id>.active.json` with `--out`).

mod findings;
mod report;
mod source;
mod target;

use std::process::ExitCode;

use anyhow::{Context as _, Result};
use sluice_definition::Limits;
use sluice_runner::remote::{Credentials, RemoteOptions, client};

use crate::cli::{ImportArgs, OutputFormat};
use crate::commands::{EXIT_INVALID, EXIT_USAGE, validate};
use report::{ImportReport, PipelineReport};
use source::Selection;
use target::{DirectoryTarget, Outcome, ServerTarget};

/// The environment variables holding the destination server's keys.
const TO_ACCESS_KEY_ENV: &str = "SLUICE_ACCESS_KEY_ID";
const TO_SECRET_KEY_ENV: &str = "SLUICE_SECRET_ACCESS_KEY";
const TO_SESSION_TOKEN_ENV: &str = "SLUICE_SESSION_TOKEN";

pub(crate) fn run(args: &ImportArgs) -> Result<ExitCode> {
    let (mut source, mut destination) = match (source_options(args), destination(args)) {
        (Ok(source), Ok(destination)) => (source, destination),
        (Err(message), _) | (_, Err(message)) => {
            eprintln!("sluice: {message}");
            return Ok(ExitCode::from(EXIT_USAGE));
        }
    };
    match args
        .ca_bundle
        .as_deref()
        .map(sluice_runner::trust::CaBundle::load)
        .transpose()
    {
        Ok(bundle) => {
            if let Destination::Server { options, .. } = &mut destination {
                options.ca_bundle = bundle.clone();
            }
            source.ca_bundle = bundle;
        }
        Err(error) => {
            eprintln!("sluice: {error}");
            return Ok(ExitCode::from(EXIT_USAGE));
        }
    }
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    runtime.block_on(import(args, source, destination))
}

/// Where the pipelines go.
enum Destination {
    Report,
    Server { url: String, options: RemoteOptions },
    Directory(std::path::PathBuf),
}

/// `--from-endpoint` as a region (AWS's endpoint there) or a URL, with `--region` for signing.
fn source_options(args: &ImportArgs) -> Result<RemoteOptions, String> {
    let from = args.from_endpoint.trim();
    let (endpoint, region) = if from.starts_with("http://") || from.starts_with("https://") {
        (Some(from.to_owned()), args.region.clone())
    } else if is_region_name(from) {
        match &args.region {
            Some(region) if region != from => {
                return Err(format!(
                    "--from-endpoint {from} is a region; --region {region} contradicts it \
                     (give --region only with a URL)"
                ));
            }
            _ => (None, Some(from.to_owned())),
        }
    } else {
        return Err(format!(
            "--from-endpoint '{from}' is neither an AWS region (such as us-east-1) nor an \
             http:// or https:// URL"
        ));
    };
    if args.pipeline_ids.iter().any(|id| id.trim().is_empty()) {
        return Err("--pipeline-id must not be empty".into());
    }
    Ok(RemoteOptions {
        endpoint,
        region,
        profile: args.from_profile.clone(),
        ..RemoteOptions::default()
    })
}

/// An AWS region name: `us-east-1`, `eu-central-2`, `us-gov-west-1`, `cn-north-1`.
fn is_region_name(text: &str) -> bool {
    let parts: Vec<&str> = text.split('-').collect();
    parts.len() >= 3
        && parts[0].len() == 2
        && parts[..parts.len() - 1]
            .iter()
            .all(|p| !p.is_empty() && p.chars().all(|c| c.is_ascii_lowercase()))
        && parts[parts.len() - 1].chars().all(|c| c.is_ascii_digit())
        && !parts[parts.len() - 1].is_empty()
}

fn destination(args: &ImportArgs) -> Result<Destination, String> {
    if let Some(dir) = &args.out {
        return Ok(Destination::Directory(dir.clone()));
    }
    let Some(url) = &args.to else {
        return Ok(Destination::Report);
    };
    if !(url.starts_with("http://") || url.starts_with("https://")) {
        return Err(format!(
            "--to '{url}' must be the URL of a Sluice server, e.g. http://127.0.0.1:8080"
        ));
    }
    let credentials = match &args.to_profile {
        Some(_) => None,
        None => Some(destination_keys()?),
    };
    Ok(Destination::Server {
        url: url.clone(),
        options: RemoteOptions {
            endpoint: Some(url.clone()),
            credentials,
            profile: args.to_profile.clone(),
            ..RemoteOptions::default()
        },
    })
}

/// The destination's keys from `SLUICE_ACCESS_KEY_ID` and `SLUICE_SECRET_ACCESS_KEY`.
fn destination_keys() -> Result<Credentials, String> {
    let var = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
    match (var(TO_ACCESS_KEY_ENV), var(TO_SECRET_KEY_ENV)) {
        (Some(id), Some(secret)) => Ok(Credentials::new(
            id,
            secret,
            var(TO_SESSION_TOKEN_ENV),
            None,
            "SLUICE_ACCESS_KEY_ID",
        )),
        _ => Err(format!(
            "no keys for the Sluice server: set {TO_ACCESS_KEY_ENV} and {TO_SECRET_KEY_ENV}, or \
             give --to-profile naming a profile that holds them"
        )),
    }
}

/// The import proper: connect both sides, read the source, then one pipeline after another.
async fn import(
    args: &ImportArgs,
    source_options: RemoteOptions,
    destination: Destination,
) -> Result<ExitCode> {
    let from = args.from_endpoint.trim().to_owned();
    let source = match client(&source_options).await {
        Ok(client) => client,
        Err(error) => return usage(format!("source {from}: {error}")),
    };
    let (mut server, mut directory, shown) = match &destination {
        Destination::Report => (None, None, None),
        Destination::Server { url, options } => {
            let connected = match client(options).await {
                Ok(client) => ServerTarget::connect(client).await,
                Err(error) => Err(error.to_string()),
            };
            match connected {
                Ok(target) => (Some(target), None, Some(url.clone())),
                Err(error) => return usage(format!("destination {url}: {error}")),
            }
        }
        Destination::Directory(dir) => match DirectoryTarget::create(dir) {
            Ok(target) => (None, Some(target), Some(dir.display().to_string())),
            Err(error) => return usage(format!("--out {}: {error}", dir.display())),
        },
    };
    let selection = if args.all {
        Selection::All
    } else {
        Selection::Ids(args.pipeline_ids.clone())
    };
    let described = match source::describe(&source, &selection).await {
        Ok(described) => described,
        Err(error) => return usage(format!("source {from}: {error}")),
    };

    let limits = Limits::default();
    let mut report = ImportReport {
        source: from.clone(),
        destination: shown,
        pipelines: Vec::with_capacity(described.len()),
        index: None,
    };
    for pipeline in &described {
        let mut entry = PipelineReport {
            source_id: pipeline.id.clone(),
            name: pipeline.name.clone(),
            unique_id: pipeline.unique_id.clone(),
            source_state: pipeline.state.clone(),
            tags: pipeline.tags.clone(),
            result: "checked",
            target_id: None,
            files: Vec::new(),
            error: None,
            validation: None,
            findings: Vec::new(),
        };
        let definitions = match source::definitions(&source, &pipeline.id).await {
            Ok(definitions) => definitions,
            Err(error) => {
                entry.fail(format!("source {from}: {error}"));
                report.pipelines.push(entry);
                continue;
            }
        };
        let mut validation = validate::check(&definitions.latest, &limits);
        entry.findings = findings::of_source(
            pipeline.state.as_deref(),
            &definitions.latest,
            definitions.active.as_ref(),
        );
        entry
            .findings
            .extend(findings::of_definition(&definitions.latest));
        let written = if let Some(server) = &mut server {
            server
                .write(pipeline, &definitions)
                .await
                .map(|(outcome, server_errors)| {
                    // The server's own limits may differ from the defaults checked here.
                    for (id, message) in server_errors {
                        validation.add_error(id, message);
                    }
                    outcome
                })
        } else if let Some(directory) = &mut directory {
            directory.write(pipeline, &definitions)
        } else {
            Ok(Outcome::Checked)
        };
        entry.validation = Some(validation);
        match written {
            Ok(outcome) => entry.set_outcome(outcome),
            Err(error) => entry.fail(match &report.destination {
                Some(to) => format!("destination {to}: {error}"),
                None => error,
            }),
        }
        report.pipelines.push(entry);
    }
    if let Some(directory) = &directory {
        match directory.finish() {
            Ok(path) => report.index = Some(path.display().to_string()),
            Err(error) => return usage(error),
        }
    }

    match args.output {
        OutputFormat::Json => println!("{}", serde_json::to_string_pretty(&report)?),
        OutputFormat::Text => print!("{}", report.to_text()),
    }
    let problems = report.problems();
    if problems.is_empty() {
        return Ok(ExitCode::SUCCESS);
    }
    eprintln!(
        "sluice: {} of {} not ready to activate on Sluice:",
        problems.len(),
        super::plural(report.pipelines.len(), "pipeline")
    );
    for problem in problems {
        eprintln!("  {problem}");
    }
    Ok(ExitCode::from(EXIT_INVALID))
}

/// Says what stopped the import before anything was written.
fn usage(message: String) -> Result<ExitCode> {
    eprintln!("sluice: {message}");
    Ok(ExitCode::from(EXIT_USAGE))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn regions_and_urls_are_told_apart() {
        for region in ["us-east-1", "eu-central-2", "us-gov-west-1", "cn-north-1"] {
            assert!(is_region_name(region), "{region}");
        }
        for other in [
            "us-east",
            "useast1",
            "US-EAST-1",
            "localhost:8080",
            "e-east-1",
            "",
        ] {
            assert!(!is_region_name(other), "{other}");
        }
    }
}
