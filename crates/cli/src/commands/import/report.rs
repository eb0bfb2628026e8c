//! The import's report: per pipeline what happened to it, what Sluice's validator says and what
//! will not run as it did at the source; printed as text or as one JSON document.

use std::fmt::Write as _;

use serde::Serialize;
use sluice_definition::ValidationReport;
use sluice_model::ops::Tag;

use super::findings::Finding;
use super::target::Outcome;
use crate::commands::plural;

/// Everything one import did.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct ImportReport {
    /// The source as given: a region or a URL.
    pub(super) source: String,
    /// The server URL or directory, `None` when only reporting.
    pub(super) destination: Option<String>,
    pub(super) pipelines: Vec<PipelineReport>,
    /// The index file written beside definition files.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) index: Option<String>,
}

/// One pipeline.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct PipelineReport {
    pub(super) source_id: String,
    pub(super) name: String,
    pub(super) unique_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) source_state: Option<String>,
    pub(super) tags: Vec<Tag>,
    /// `checked`, `created`, `updated`, `unchanged`, `kept`, `written` or `failed`.
    pub(super) result: &'static str,
    /// The pipeline's id on the Sluice server.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) target_id: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub(super) files: Vec<String>,
    /// Why it failed, or why it was kept.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) error: Option<String>,
    /// Sluice's validation of the imported (latest) definition; absent when it was not read.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) validation: Option<ValidationReport>,
    pub(super) findings: Vec<Finding>,
}

impl PipelineReport {
    /// Applies what the destination did.
    pub(super) fn set_outcome(&mut self, outcome: Outcome) {
        let (result, target_id) = match outcome {
            Outcome::Checked => ("checked", None),
            Outcome::Created { id } => ("created", Some(id)),
            Outcome::Updated { id } => ("updated", Some(id)),
            Outcome::Unchanged { id } => ("unchanged", Some(id)),
            Outcome::Kept { id, state } => {
                self.error = Some(format!(
                    "already {state} on the server with another definition, which was left in \
                     place: deactivate or delete it there to import this one"
                ));
                ("kept", Some(id))
            }
            Outcome::Written { files } => {
                self.files = files.iter().map(|f| f.display().to_string()).collect();
                ("written", None)
            }
        };
        self.result = result;
        self.target_id = target_id;
    }

    pub(super) fn fail(&mut self, error: String) {
        self.result = "failed";
        self.error = Some(error);
    }

    /// Whether the pipeline is where it should be with a definition Sluice can activate.
    pub(super) fn succeeded(&self) -> bool {
        !matches!(self.result, "failed" | "kept")
            && self.validation.as_ref().is_some_and(|v| !v.errored())
    }
}

impl ImportReport {
    /// The pipelines that did not succeed, with why, for the closing message.
    pub(super) fn problems(&self) -> Vec<String> {
        self.pipelines
            .iter()
            .filter(|p| !p.succeeded())
            .map(|p| {
                let why = match (&p.error, &p.validation) {
                    (Some(error), _) => error.clone(),
                    (None, Some(v)) if v.errored() => {
                        "its definition has validation errors: it cannot be activated on Sluice \
                         until they are corrected"
                            .to_owned()
                    }
                    _ => "not imported".to_owned(),
                };
                format!("{} ({}): {why}", p.source_id, p.name)
            })
            .collect()
    }

    pub(super) fn to_text(&self) -> String {
        let mut out = String::new();
        for p in &self.pipelines {
            let _ = write!(
                out,
                "{} {:?} (uniqueId {:?})",
                p.source_id, p.name, p.unique_id
            );
            if let Some(state) = &p.source_state {
                let _ = write!(out, ", {state} at the source");
            }
            let _ = write!(out, ": {}", p.result);
            if let Some(id) = &p.target_id {
                let _ = write!(out, " as {id}");
            }
            out.push('\n');
            if let Some(error) = &p.error {
                let _ = writeln!(out, "  error: {error}");
            }
            for file in &p.files {
                let _ = writeln!(out, "  wrote {file}");
            }
            if let Some(validation) = &p.validation {
                write_validation(&mut out, validation);
            }
            if !p.findings.is_empty() {
                let _ = writeln!(
                    out,
                    "  will not run as at the source ({}):",
                    plural(p.findings.len(), "finding")
                );
                for f in &p.findings {
                    let _ = writeln!(out, "    {}: {}: {}", f.id, f.code, f.message);
                }
            }
        }
        let count = |result: &str| self.pipelines.iter().filter(|p| p.result == result).count();
        let mut parts = Vec::new();
        for result in [
            "created",
            "updated",
            "unchanged",
            "kept",
            "written",
            "checked",
            "failed",
        ] {
            let n = count(result);
            if n > 0 {
                parts.push(format!("{n} {result}"));
            }
        }
        let _ = write!(out, "{}", plural(self.pipelines.len(), "pipeline"));
        if !parts.is_empty() {
            let _ = write!(out, ": {}", parts.join(", "));
        }
        if let Some(index) = &self.index {
            let _ = write!(out, "; index in {index}");
        }
        out.push_str(". Nothing was activated and nothing changed at the source.\n");
        out
    }
}

fn write_validation(out: &mut String, report: &ValidationReport) {
    let errors: usize = report.errors.iter().map(|e| e.errors.len()).sum();
    let warnings: usize = report.warnings.iter().map(|w| w.warnings.len()).sum();
    let verdict = if errors == 0 { "valid" } else { "invalid" };
    let _ = writeln!(
        out,
        "  validation: {verdict} ({}, {})",
        plural(errors, "error"),
        plural(warnings, "warning")
    );
    for (id, message) in report.error_messages() {
        let _ = writeln!(out, "    {id}: error: {message}");
    }
    for (id, message) in report.warning_messages() {
        let _ = writeln!(out, "    {id}: warning: {message}");
    }
}
