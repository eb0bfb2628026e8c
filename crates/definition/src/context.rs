//! An expression context over a resolved definition, for `sluice eval`, EvaluateExpression and
//! the engine.
//!
//! Lookup order for `lookup(object, name)`: runtime fields the caller supplied for that object,
//! then pipeline-wide runtime fields (`@pipelineId`), then built-ins (`@id` = the object id,
//! `name`), then the object's effective fields, then parameters. Fields come before parameters
//! because user fields and parameter ids share the `my…` namespace and the nearer definition
//! should win.
//!
//! Field values are returned raw ([`Binding::Text`]) with the looked-up object as owner, so an
//! inherited `s3://b/#{@scheduledStartTime}` is evaluated with the inheriting object's runtime
//! fields. Parameter values are already final ([`Binding::Value`], typed by the declared
//! `type`) unless they themselves hold `#{...}`.
//!
//! A declared optional parameter with neither a value nor a default is an empty list, not an
//! unknown name: a field whose one expression is `#{myParam}` then has no value (as if it were
//! not set), and spliced beside other expressions it renders empty. AWS documents no rule; an
//! unset optional parameter failing the run that validation let through is the one outcome a
//! user cannot want.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex, PoisonError};

use chrono::NaiveDateTime;
use sluice_catalog::{Catalog, ValueType};
use sluice_expr::{Binding, Context, ScalarKind, Value};
use sluice_model::{FieldValue, Period};

use crate::expressions::contains_expression;
use crate::params::ParameterType;
use crate::resolve::ResolvedPipeline;

/// A [`Context`] over a resolved pipeline plus caller-supplied runtime fields.
#[derive(Clone)]
pub struct DefinitionContext<'a> {
    pipeline: &'a ResolvedPipeline,
    catalog: &'a Catalog,
    current: String,
    runtime: HashMap<String, HashMap<String, Value>>,
    global: HashMap<String, Value>,
    /// The secret (`*`) parameters evaluation has looked up, with their values: whoever
    /// receives the evaluated text needs them to mask it. Shared by clones.
    revealed: Arc<Mutex<BTreeMap<String, Vec<String>>>>,
}

impl<'a> DefinitionContext<'a> {
    /// A context evaluating for object `current`.
    pub fn new(
        pipeline: &'a ResolvedPipeline,
        catalog: &'a Catalog,
        current: impl Into<String>,
    ) -> Self {
        DefinitionContext {
            pipeline,
            catalog,
            current: current.into(),
            runtime: HashMap::new(),
            global: HashMap::new(),
            revealed: Arc::default(),
        }
    }

    /// The secret parameters looked up so far, by id (`*myPassword`), with their values.
    pub fn revealed_secrets(&self) -> BTreeMap<String, Vec<String>> {
        self.revealed
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Sets runtime field `name` (e.g. `@scheduledStartTime`) of `object`.
    pub fn set_runtime(&mut self, object: &str, name: &str, value: Value) {
        self.runtime
            .entry(object.to_owned())
            .or_default()
            .insert(name.to_owned(), value);
    }

    /// Builder form of [`set_runtime`](Self::set_runtime).
    pub fn with_runtime(mut self, object: &str, name: &str, value: Value) -> Self {
        self.set_runtime(object, name, value);
        self
    }

    /// Sets a runtime field visible on every object (e.g. `@pipelineId`).
    pub fn with_global(mut self, name: &str, value: Value) -> Self {
        self.global.insert(name.to_owned(), value);
        self
    }

    /// Evaluates as the instance of the current object scheduled at `start`: sets
    /// `@scheduledStartTime` (for every object), and `@scheduledEndTime` of the current object
    /// when its schedule has a period.
    pub fn at(mut self, start: NaiveDateTime) -> Self {
        let current = self.current.clone();
        self.set_runtime(&current, "@scheduledStartTime", Value::utc(start));
        // Objects reached through references (`#{input.filePath}`) run in the same interval,
        // so they see the same start time unless a caller sets their own.
        self.global
            .insert("@scheduledStartTime".to_owned(), Value::utc(start));
        let end = self
            .pipeline
            .get(&current)
            .and_then(|o| o.reference("schedule"))
            .and_then(|s| self.pipeline.get(s))
            .and_then(|s| s.string("period"))
            .and_then(|p| p.parse::<Period>().ok())
            .and_then(|p| p.add_to(start));
        if let Some(end) = end {
            self.set_runtime(&current, "@scheduledEndTime", Value::utc(end));
        }
        self
    }

    pub fn pipeline(&self) -> &ResolvedPipeline {
        self.pipeline
    }

    fn field_kind(&self, object: &str, name: &str) -> ScalarKind {
        let spec = self
            .pipeline
            .get(object)
            .and_then(|o| o.kind(self.catalog))
            .and_then(|k| k.field(name));
        match spec.map(|s| s.value_type) {
            Some(ValueType::Integer) => ScalarKind::Integer,
            Some(ValueType::Double) => ScalarKind::Double,
            Some(ValueType::DateTime) => ScalarKind::DateTime,
            _ => ScalarKind::String,
        }
    }

    fn parameter(&self, object: &str, name: &str) -> Option<Vec<Binding>> {
        let Some(values) = self.pipeline.parameters.get(name) else {
            return self.pipeline.parameters.decl(name).map(|_| Vec::new());
        };
        if crate::params::is_secret(name) {
            self.revealed
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .insert(name.to_owned(), values.to_vec());
        }
        let declared = self.pipeline.parameters.decl(name).map(|d| d.param_type);
        let kind = match declared {
            Some(ParameterType::Integer) => ScalarKind::Integer,
            Some(ParameterType::Double) => ScalarKind::Double,
            _ => ScalarKind::String,
        };
        Some(
            values
                .iter()
                .map(|raw| {
                    if contains_expression(raw) {
                        return Binding::Text {
                            raw: raw.clone(),
                            owner: object.to_owned(),
                            kind,
                        };
                    }
                    let value = match declared {
                        Some(ParameterType::Integer) => raw.trim().parse().ok().map(Value::Int),
                        Some(ParameterType::Double) => raw.trim().parse().ok().map(Value::Double),
                        _ => None,
                    };
                    Binding::Value(value.unwrap_or_else(|| Value::String(raw.clone())))
                })
                .collect(),
        )
    }
}

impl std::fmt::Debug for DefinitionContext<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DefinitionContext")
            .field("current", &self.current)
            .field("runtime", &self.runtime)
            .field("global", &self.global)
            .finish_non_exhaustive()
    }
}

fn bind(value: &Value) -> Binding {
    match value {
        Value::Object(id) => Binding::Object(id.clone()),
        other => Binding::Value(other.clone()),
    }
}

impl Context for DefinitionContext<'_> {
    fn current(&self) -> &str {
        &self.current
    }

    fn lookup(&self, object: &str, name: &str) -> Option<Vec<Binding>> {
        if let Some(value) = self.runtime.get(object).and_then(|fields| fields.get(name)) {
            return Some(vec![bind(value)]);
        }
        let resolved = self.pipeline.get(object);
        let known = resolved.is_some() || self.runtime.contains_key(object);
        if known && let Some(value) = self.global.get(name) {
            return Some(vec![bind(value)]);
        }
        if known && name == "@id" {
            return Some(vec![Binding::Value(Value::String(object.to_owned()))]);
        }
        if let Some(resolved) = resolved {
            if name == "name" {
                return Some(vec![Binding::Value(Value::String(resolved.name.clone()))]);
            }
            let values: Vec<&FieldValue> = resolved.values(name).collect();
            if !values.is_empty() {
                let kind = self.field_kind(object, name);
                return Some(
                    values
                        .into_iter()
                        .map(|v| match v {
                            FieldValue::String(raw) => Binding::Text {
                                raw: raw.clone(),
                                owner: object.to_owned(),
                                kind,
                            },
                            FieldValue::Ref(id) => Binding::Object(id.clone()),
                        })
                        .collect(),
                );
            }
        }
        if known {
            return self.parameter(object, name);
        }
        None
    }
}

#[cfg(test)]
mod tests;
