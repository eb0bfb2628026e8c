//! ValidatePipelineDefinition: every check, and [`load`] for the engine.
//!
//! Design decisions:
//! * Checks run against the resolved pipeline, but each problem is reported on the object that
//!   *wrote* the offending value: a bad `scheduleType` on `Default` is one message on `Default`,
//!   not one per inheriting object. Requirements (required fields, one-of groups, `schedule`)
//!   are judged on effective fields and reported on the object that lacks them.
//! * Untyped objects (`Default`, templates) have no field list of their own; their fields are
//!   checked against the specs of the typed objects that inherit them (and, for `Default`,
//!   against the catalog's `Default` type). A field no type of the catalog has is an error there
//!   too (a misspelt `scheduleType` on `Default` would otherwise silently change how the whole
//!   pipeline runs); a field some type has but no inheriting object takes is only a warning.
//! * Values containing `#{` are syntax-checked only; their type is known after evaluation.
//! * Values of secret (`*`) fields and parameters never appear in messages.
//! * "Now" (for the backfill warning) comes from [`ValidateOptions`] so results are
//!   reproducible; without it the wall clock is used.

mod effective;
mod graph;
mod objects;
mod schedule;
mod values;

use std::collections::{HashMap, HashSet};

use chrono::NaiveDateTime;
use sluice_catalog::{Catalog, FieldSpec, ObjectKind};
use sluice_model::{FieldValue, PipelineDefinition};

use crate::limits::{Enforcement, Limits};
use crate::params::resolve_parameters;
use crate::report::{Code, Collector, PIPELINE_ID, Problem, Severity, ValidationReport};
use crate::resolve::{ResolvedPipeline, resolve_with};

/// Inputs to validation other than the definition itself.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ValidateOptions {
    /// The current time (UTC) for time-dependent checks (backfill warnings); `None` reads the
    /// clock.
    pub now: Option<NaiveDateTime>,
}

/// Validates a definition as ValidatePipelineDefinition does.
pub fn validate(
    def: &PipelineDefinition,
    catalog: &Catalog,
    limits: &Limits,
    options: &ValidateOptions,
) -> ValidationReport {
    check(def, catalog, limits, options).1
}

/// Validates a definition and, when it has no errors, returns it resolved (inheritance applied,
/// parameters resolved to their values) together with the report (which may hold warnings).
pub fn load(
    def: &PipelineDefinition,
    catalog: &Catalog,
    limits: &Limits,
    options: &ValidateOptions,
) -> Result<(ResolvedPipeline, ValidationReport), ValidationReport> {
    let (pipeline, report) = check(def, catalog, limits, options);
    if report.errored() {
        Err(report)
    } else {
        Ok((pipeline, report))
    }
}

fn check(
    def: &PipelineDefinition,
    catalog: &Catalog,
    limits: &Limits,
    options: &ValidateOptions,
) -> (ResolvedPipeline, ValidationReport) {
    let (parameters, parameter_problems) = resolve_parameters(def);
    let pipeline = resolve_with(def, catalog, parameters);
    let now = options
        .now
        .unwrap_or_else(|| chrono::Utc::now().naive_utc());
    let mut v = Validator::new(def, catalog, limits, now, &pipeline);
    v.run();
    v.out.extend(parameter_problems);
    let order: Vec<&str> = def
        .pipeline_objects
        .iter()
        .map(|o| o.id.as_str())
        .chain(def.parameter_objects.iter().map(|p| p.id.as_str()))
        .chain(def.parameter_values.iter().map(|p| p.id.as_str()))
        .collect();
    let report = std::mem::take(&mut v.out).finish(order);
    (pipeline, report)
}

/// A field spec together with the type it belongs to.
#[derive(Clone, Copy)]
struct SpecOf {
    type_name: &'static str,
    spec: &'static FieldSpec,
}

struct Validator<'a> {
    def: &'a PipelineDefinition,
    catalog: &'a Catalog,
    limits: &'a Limits,
    now: NaiveDateTime,
    pipeline: &'a ResolvedPipeline,
    out: Collector,
    /// Per object (definition order): the kind it is checked against.
    kinds: Vec<Option<&'static dyn ObjectKind>>,
    /// How many objects use each id.
    id_counts: HashMap<&'a str, usize>,
    /// Ids some object names in `parent`.
    parents_used: HashSet<&'a str>,
    /// (owner id, key) → specs of the typed objects that inherit that value.
    inherited_specs: HashMap<(&'a str, &'a str), Vec<SpecOf>>,
    ondemand: bool,
}

impl<'a> Validator<'a> {
    fn new(
        def: &'a PipelineDefinition,
        catalog: &'a Catalog,
        limits: &'a Limits,
        now: NaiveDateTime,
        pipeline: &'a ResolvedPipeline,
    ) -> Self {
        let kinds: Vec<_> = pipeline.objects.iter().map(|o| o.kind(catalog)).collect();
        let parents_used = def
            .pipeline_objects
            .iter()
            .flat_map(|o| o.values("parent").filter_map(FieldValue::as_ref_id))
            .collect();
        let mut inherited_specs: HashMap<(&str, &str), Vec<SpecOf>> = HashMap::new();
        for (object, kind) in pipeline.objects.iter().zip(&kinds) {
            let Some(kind) = kind else { continue };
            for (field, owner) in object.entries() {
                if owner == object.id {
                    continue;
                }
                if let Some(spec) = kind.field(&field.key) {
                    let specs = inherited_specs
                        .entry((owner, field.key.as_str()))
                        .or_default();
                    if !specs.iter().any(|s| same_rules(s.spec, spec)) {
                        specs.push(SpecOf {
                            type_name: kind.type_name(),
                            spec,
                        });
                    }
                }
            }
        }
        let mut id_counts: HashMap<&str, usize> = HashMap::new();
        for object in &def.pipeline_objects {
            *id_counts.entry(object.id.as_str()).or_default() += 1;
        }
        Validator {
            id_counts,
            def,
            catalog,
            limits,
            now,
            pipeline,
            out: Collector::default(),
            kinds,
            parents_used,
            inherited_specs,
            ondemand: pipeline.is_ondemand(),
        }
    }

    fn run(&mut self) {
        self.check_pipeline_limits();
        for i in 0..self.pipeline.objects.len() {
            self.check_identity(i);
            self.check_type(i);
            self.check_own_fields(i);
        }
        for i in 0..self.pipeline.objects.len() {
            self.check_effective(i);
        }
        self.check_cycles();
        self.check_schedules();
    }

    /// Reports a limit finding with the configured severity.
    fn limit(&mut self, id: &str, text: String) {
        self.enforced(id, Code::LimitExceeded, text);
    }

    fn enforced(&mut self, id: &str, code: Code, text: String) {
        let severity = match self.limits.enforcement {
            Enforcement::Warn => Severity::Warning,
            Enforcement::Error => Severity::Error,
        };
        self.out.push(Problem {
            id: id.to_owned(),
            severity,
            code,
            text,
        });
    }

    fn check_pipeline_limits(&mut self) {
        let count = self.def.pipeline_objects.len();
        if count > self.limits.max_objects {
            self.limit(
                PIPELINE_ID,
                format!(
                    "the definition has {count} objects; AWS allows at most {} objects per \
                     pipeline and would reject it",
                    self.limits.max_objects
                ),
            );
        }
        let count = self.def.parameter_objects.len();
        if count > self.limits.max_parameters {
            self.limit(
                PIPELINE_ID,
                format!(
                    "the definition declares {count} parameters; AWS allows at most {} and would \
                     reject it",
                    self.limits.max_parameters
                ),
            );
        }
        for p in &self.def.parameter_objects {
            if p.id.len() > self.limits.max_name_bytes {
                self.limit(&p.id, self.name_too_long("parameter id", p.id.len()));
            }
        }
        for p in &self.def.parameter_values {
            let len = p.string_value.len();
            if len > self.limits.max_value_bytes {
                self.limit(
                    &p.id,
                    format!(
                        "a value of parameter '{}' is {len} bytes; AWS allows at most {} bytes \
                         per value and would reject it",
                        p.id, self.limits.max_value_bytes
                    ),
                );
            }
        }
    }

    fn name_too_long(&self, what: &str, len: usize) -> String {
        format!(
            "{what} is {len} bytes; AWS allows at most {} bytes per name or identifier and would \
             reject it",
            self.limits.max_name_bytes
        )
    }
}

/// Whether two specs check values the same way (so one message covers both).
fn same_rules(a: &FieldSpec, b: &FieldSpec) -> bool {
    a.value_type == b.value_type && a.repeatable == b.repeatable
}

/// `'a', 'b' and 'c'` style list of field names.
fn quoted_list(names: &[&str]) -> String {
    let quoted: Vec<String> = names.iter().map(|n| format!("'{n}'")).collect();
    quoted.join(", ")
}

/// How a value is shown in a message: quoted, or not at all for secret fields.
fn shown(key: &str, value: &str) -> String {
    if crate::params::is_secret(key) {
        "value".to_owned()
    } else {
        format!("value '{value}'")
    }
}

#[cfg(test)]
mod tests;
