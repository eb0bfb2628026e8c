//! Components, instances and attempts as DescribeObjects returns them.
//!
//! Design decisions:
//! * **Components** carry their effective fields (own, then inherited, as resolution orders
//!   them) and the runtime fields `@id`, `@sphere` = COMPONENT, `@status` (the pipeline's
//!   state, or PAUSED), `@pipelineId`, `@version`, and what their instances say about them
//!   (`@healthStatus`, `@latestRunTime`, `@nextRunTime`, `@activeInstances`, …; see
//!   [`super::component_runtime`]).
//! * **Instances and attempts** carry their component's effective fields except `parent`,
//!   which becomes a reference to the component beside `@componentParent` (as in AWS's
//!   PollForTask example), then the runtime fields: `@id`, `@sphere`, `@status`,
//!   `@pipelineId`, `@version`, scheduled and actual times, `@attemptCount` and `@headAttempt`
//!   and `@triesLeft` (instances), `@instanceParent`, `hostname` (attempts), `@finishedTime`
//!   once they ended, and every field the engine
//!   recorded (`errorId`, `errorMessage`, `errorStackTrace`, `@cascadeFailedOn`,
//!   `reportProgressTime`, fields runners reported, …). Task ids are never shown: holding one
//!   is what lets a caller report for an attempt.
//! * The definition shown is the active one once the pipeline has been activated (it is what
//!   runs), the latest one before — for components. **Instances and attempts are shown with
//!   the definition they were created under**: the engine records on each the pipeline's
//!   `@version` at its creation, and activation keeps every replaced definition that objects
//!   still name (pipeline field `@definition:<version>`, JSON of the definition with its
//!   parameter values). Their `@version`, effective fields, evaluated expressions and
//!   EvaluateExpression all use that definition; it is parsed and resolved only when such an
//!   object is asked for. Objects without a recorded version (from before versions were
//!   recorded) and objects of the current version use the current definition. Storing only
//!   the definition, rather than each attempt's evaluated fields, keeps records small and
//!   also answers instances and arbitrary EvaluateExpression calls exactly.
//! * With `evaluateExpressions`, string values holding `#{…}` are evaluated for the object: a
//!   component with the definition's fields and parameters, an instance or attempt also with
//!   its scheduled and actual times and ids. A value that cannot be evaluated is shown as
//!   written rather than failing the whole call.

use std::cell::OnceCell;
use std::collections::{BTreeMap, HashMap};

use chrono::NaiveDateTime;
use sluice_catalog::Catalog;
use sluice_definition::{DefinitionContext, ResolvedObject, ResolvedPipeline, resolve};
use sluice_engine::{AttemptRecord, Engine, InstanceRecord, PipelineRecord};
use sluice_expr::{Value, evaluate_field};
use sluice_model::time::format_datetime;
use sluice_model::{Field, FieldValue, PipelineDefinition, PipelineObject, PipelineState, Status};

use super::component_runtime::{ComponentRuntime, component_runtime};
use crate::service::{DEFINITION_PREFIX, VERSION};

/// Record fields whose values are ids of other objects.
const REFERENCE_FIELDS: [&str; 4] = ["@cascadeFailedOn", "node", "@resource", "@waitingOn"];
/// The engine's pipeline field listing paused components (JSON array).
const PAUSED_COMPONENTS: &str = "@pausedComponents";

/// Instances and attempts, from a live engine or from the store.
pub(crate) trait Runs {
    fn instance(&self, instance_id: &str) -> Option<InstanceRecord>;
    fn attempts_of(&self, instance_id: &str) -> Vec<AttemptRecord>;
    fn all_instances(&self) -> Vec<InstanceRecord>;
    fn all_attempts(&self) -> Vec<AttemptRecord>;
    /// `@nextRunTime` by component (only a live scheduler knows it).
    fn next_run_times(&self) -> HashMap<String, NaiveDateTime> {
        HashMap::new()
    }
}

impl Runs for Engine {
    fn instance(&self, instance_id: &str) -> Option<InstanceRecord> {
        Engine::instance(self, instance_id)
    }

    fn attempts_of(&self, instance_id: &str) -> Vec<AttemptRecord> {
        Engine::attempts_of(self, instance_id)
    }

    fn all_instances(&self) -> Vec<InstanceRecord> {
        self.instances()
    }

    fn all_attempts(&self) -> Vec<AttemptRecord> {
        self.attempts()
    }

    fn next_run_times(&self) -> HashMap<String, NaiveDateTime> {
        Engine::next_run_times(self)
    }
}

/// Records read from the store, for pipelines without a scheduler.
#[derive(Default)]
pub(crate) struct StoredRuns {
    pub(crate) instances: Vec<InstanceRecord>,
    pub(crate) attempts: Vec<AttemptRecord>,
}

impl Runs for StoredRuns {
    fn instance(&self, instance_id: &str) -> Option<InstanceRecord> {
        self.instances
            .iter()
            .find(|i| i.instance_id == instance_id)
            .cloned()
    }

    fn attempts_of(&self, instance_id: &str) -> Vec<AttemptRecord> {
        self.attempts
            .iter()
            .filter(|a| a.instance_id == instance_id)
            .cloned()
            .collect()
    }

    fn all_instances(&self) -> Vec<InstanceRecord> {
        self.instances.clone()
    }

    fn all_attempts(&self) -> Vec<AttemptRecord> {
        self.attempts.clone()
    }
}

/// The definition version an instance or attempt record names, if recorded.
pub(crate) fn record_version(fields: &BTreeMap<String, Vec<String>>) -> Option<&str> {
    fields.get(VERSION)?.first().map(String::as_str)
}

/// Earlier definitions kept in the pipeline record, by version, each resolved on first use.
pub(crate) struct Versions<'a> {
    catalog: &'a Catalog,
    kept: HashMap<&'a str, (&'a str, OnceCell<Option<ResolvedPipeline>>)>,
}

impl<'a> Versions<'a> {
    pub(crate) fn new(record: &'a PipelineRecord, catalog: &'a Catalog) -> Versions<'a> {
        let kept = record
            .fields
            .iter()
            .filter_map(|(key, text)| {
                let version = key.strip_prefix(DEFINITION_PREFIX)?;
                Some((version, (text.as_str(), OnceCell::new())))
            })
            .collect();
        Versions { catalog, kept }
    }

    /// The resolved definition of an earlier version; `None` for the current version, an
    /// unknown one or one that cannot be read.
    fn get(&self, version: &str) -> Option<&ResolvedPipeline> {
        let (text, cell) = self.kept.get(version)?;
        cell.get_or_init(|| {
            let definition: PipelineDefinition = serde_json::from_str(text).ok()?;
            Some(resolve(&definition, self.catalog))
        })
        .as_ref()
    }
}

/// Everything needed to show a pipeline's objects.
pub(crate) struct PipelineView<'a> {
    pub(crate) record: &'a PipelineRecord,
    /// The current definition.
    pub(crate) resolved: &'a ResolvedPipeline,
    /// Earlier definitions that instances and attempts still belong to.
    pub(crate) versions: &'a Versions<'a>,
    pub(crate) catalog: &'a Catalog,
    pub(crate) runs: &'a dyn Runs,
}

/// One object of any sphere. Values live for one request and are not stored in bulk, so the
/// size difference between variants does not matter.
#[allow(clippy::large_enum_variant)]
pub(crate) enum Found<'a> {
    Component(&'a ResolvedObject),
    Instance(&'a ResolvedObject, InstanceRecord),
    Attempt(&'a ResolvedObject, InstanceRecord, AttemptRecord),
}

impl<'a> PipelineView<'a> {
    pub(crate) fn pipeline_id(&self) -> &str {
        &self.record.pipeline_id
    }

    fn version(&self) -> String {
        self.record
            .fields
            .get(VERSION)
            .cloned()
            .unwrap_or_else(|| "1".into())
    }

    /// The version an instance or attempt belongs to: its recorded one, else the current one.
    fn version_of(&self, fields: &BTreeMap<String, Vec<String>>) -> String {
        record_version(fields).map_or_else(|| self.version(), str::to_owned)
    }

    /// The definition an instance or attempt with these record fields belongs to.
    pub(crate) fn pipeline_for(
        &self,
        fields: &BTreeMap<String, Vec<String>>,
    ) -> &'a ResolvedPipeline {
        let versions: &'a Versions<'a> = self.versions;
        record_version(fields)
            .and_then(|v| versions.get(v))
            .unwrap_or(self.resolved)
    }

    fn paused(&self) -> Vec<String> {
        self.record
            .fields
            .get(PAUSED_COMPONENTS)
            .and_then(|text| serde_json::from_str(text).ok())
            .unwrap_or_default()
    }

    /// The object with this id: a component, an instance or an attempt.
    pub(crate) fn find(&self, id: &str) -> Option<Found<'a>> {
        if let Some(component) = self.resolved.get(id) {
            return Some(Found::Component(component));
        }
        if let Some(instance) = self.runs.instance(id) {
            let component = self
                .pipeline_for(&instance.fields)
                .get(&instance.component_id)?;
            return Some(Found::Instance(component, instance));
        }
        let (instance_id, number) = id.rsplit_once("_Attempt=")?;
        let number: u32 = number.parse().ok()?;
        let instance = self.runs.instance(instance_id)?;
        let attempt = self
            .runs
            .attempts_of(instance_id)
            .into_iter()
            .find(|a| a.number == number)?;
        let component = self
            .pipeline_for(&attempt.fields)
            .get(&instance.component_id)?;
        Some(Found::Attempt(component, instance, attempt))
    }

    /// An expression context for a found object (see the module docs).
    pub(crate) fn context(&self, found: &Found<'_>) -> DefinitionContext<'a> {
        let (component, times, resolved) = match found {
            Found::Component(c) => (*c, None, self.resolved),
            Found::Instance(c, i) => (*c, Some((i, None)), self.pipeline_for(&i.fields)),
            Found::Attempt(c, i, a) => (*c, Some((i, Some(a))), self.pipeline_for(&a.fields)),
        };
        let mut ctx = DefinitionContext::new(resolved, self.catalog, component.id.as_str())
            .with_global("@pipelineId", Value::String(self.pipeline_id().to_owned()));
        if let Some((instance, attempt)) = times {
            // Referenced objects run in the same interval, so they see the same times.
            ctx = ctx
                .with_global("@scheduledStartTime", Value::utc(instance.scheduled_start))
                .with_global("@scheduledEndTime", Value::utc(instance.scheduled_end));
            let own = component.id.as_str();
            let mut set = |name: &str, value: Value| ctx.set_runtime(own, name, value);
            set("@scheduledStartTime", Value::utc(instance.scheduled_start));
            set("@scheduledEndTime", Value::utc(instance.scheduled_end));
            set("@componentParent", Value::Object(component.id.clone()));
            let (id, status, sphere, start, end) = match attempt {
                Some(a) => (&a.attempt_id, a.status, "ATTEMPT", a.started_at, a.ended_at),
                None => (
                    &instance.instance_id,
                    instance.status,
                    "INSTANCE",
                    instance.actual_start,
                    instance.actual_end,
                ),
            };
            set("@id", Value::String(id.clone()));
            set("@status", Value::String(status.as_str().into()));
            set("@sphere", Value::String(sphere.into()));
            if attempt.is_some() {
                set(
                    "@instanceParent",
                    Value::String(instance.instance_id.clone()),
                );
            }
            if let Some(at) = start {
                set("@actualStartTime", Value::utc(at));
            }
            if let Some(at) = end {
                set("@actualEndTime", Value::utc(at));
            }
        }
        ctx
    }

    /// The object as DescribeObjects returns it.
    pub(crate) fn object(
        &self,
        found: &Found<'_>,
        evaluate: bool,
        runtime: &HashMap<String, ComponentRuntime>,
    ) -> PipelineObject {
        let ctx = evaluate.then(|| self.context(found));
        let pipeline_id = self.pipeline_id();
        match found {
            Found::Component(component) => {
                let mut fields = component_fields(component, ctx.as_ref(), true);
                let status = if self.paused().contains(&component.id) {
                    "PAUSED"
                } else {
                    self.record.state.as_str()
                };
                fields.extend([
                    Field::string("@id", component.id.clone()),
                    Field::string("@sphere", "COMPONENT"),
                    Field::string("@status", status),
                    Field::string("@pipelineId", pipeline_id),
                    Field::string("@version", self.version()),
                ]);
                if let Some(r) = runtime.get(&component.id) {
                    fields.extend(r.fields(self.record.state == PipelineState::Finished));
                }
                PipelineObject {
                    id: component.id.clone(),
                    name: component.name.clone(),
                    fields,
                }
            }
            Found::Instance(component, instance) => {
                let mut fields = component_fields(component, ctx.as_ref(), false);
                fields.extend([
                    Field::reference("@componentParent", component.id.clone()),
                    Field::reference("parent", component.id.clone()),
                    Field::string("@id", instance.instance_id.clone()),
                    Field::string("@sphere", "INSTANCE"),
                    Field::string("@status", instance.status.as_str()),
                    Field::string("@pipelineId", pipeline_id),
                    Field::string("@version", self.version_of(&instance.fields)),
                ]);
                push_times(
                    &mut fields,
                    instance,
                    instance.actual_start,
                    instance.actual_end,
                );
                push_finished(&mut fields, instance.status, instance.actual_end);
                fields.push(Field::string(
                    "@attemptCount",
                    instance.attempt_count.to_string(),
                ));
                if instance.attempt_count > 0 {
                    fields.push(Field::reference(
                        "@headAttempt",
                        sluice_engine::ids::attempt_id(
                            &instance.instance_id,
                            instance.attempt_count,
                        ),
                    ));
                }
                push_record_fields(&mut fields, &instance.fields);
                PipelineObject {
                    id: instance.instance_id.clone(),
                    name: instance.instance_id.clone(),
                    fields,
                }
            }
            Found::Attempt(component, instance, attempt) => {
                let mut fields = component_fields(component, ctx.as_ref(), false);
                fields.extend([
                    Field::reference("@componentParent", component.id.clone()),
                    Field::reference("parent", component.id.clone()),
                    Field::reference("@instanceParent", instance.instance_id.clone()),
                    Field::string("@id", attempt.attempt_id.clone()),
                    Field::string("@sphere", "ATTEMPT"),
                    Field::string("@status", attempt.status.as_str()),
                    Field::string("@pipelineId", pipeline_id),
                    Field::string("@version", self.version_of(&attempt.fields)),
                ]);
                push_times(&mut fields, instance, attempt.started_at, attempt.ended_at);
                push_finished(&mut fields, attempt.status, attempt.ended_at);
                if let Some(host) = &attempt.hostname {
                    fields.push(Field::string("hostname", host.clone()));
                }
                push_record_fields(&mut fields, &attempt.fields);
                PipelineObject {
                    id: attempt.attempt_id.clone(),
                    name: attempt.attempt_id.clone(),
                    fields,
                }
            }
        }
    }

    /// Component runtime fields, computed only when some component is asked for.
    pub(crate) fn runtime_if(&self, needed: bool) -> HashMap<String, ComponentRuntime> {
        if needed {
            component_runtime(&self.runs.all_instances(), self.runs.next_run_times())
        } else {
            HashMap::new()
        }
    }
}

/// The component's effective fields (without `parent` for instances and attempts), evaluated
/// when a context is given.
fn component_fields(
    component: &ResolvedObject,
    ctx: Option<&DefinitionContext<'_>>,
    keep_parent: bool,
) -> Vec<Field> {
    let mut out = Vec::with_capacity(component.fields.len() + 16);
    for field in &component.fields {
        if !keep_parent && field.key == "parent" {
            continue;
        }
        match (&field.value, ctx) {
            (FieldValue::String(raw), Some(ctx)) if raw.contains("#{") => {
                match evaluate_field(raw, ctx) {
                    Ok(values) => out.extend(
                        values
                            .into_iter()
                            .map(|v| Field::string(field.key.clone(), v)),
                    ),
                    Err(_) => out.push(field.clone()),
                }
            }
            _ => out.push(field.clone()),
        }
    }
    out
}

fn push_times(
    fields: &mut Vec<Field>,
    instance: &InstanceRecord,
    actual_start: Option<NaiveDateTime>,
    actual_end: Option<NaiveDateTime>,
) {
    fields.push(Field::string(
        "@scheduledStartTime",
        format_datetime(instance.scheduled_start),
    ));
    fields.push(Field::string(
        "@scheduledEndTime",
        format_datetime(instance.scheduled_end),
    ));
    if let Some(at) = actual_start {
        fields.push(Field::string("@actualStartTime", format_datetime(at)));
    }
    if let Some(at) = actual_end {
        fields.push(Field::string("@actualEndTime", format_datetime(at)));
    }
}

/// `@finishedTime`: when an instance or attempt that ended did so.
fn push_finished(fields: &mut Vec<Field>, status: Status, ended: Option<NaiveDateTime>) {
    if status.is_terminal()
        && let Some(at) = ended
    {
        fields.push(Field::string("@finishedTime", format_datetime(at)));
    }
}

/// The engine's record fields, except `@version` (shown with the other runtime fields).
fn push_record_fields(fields: &mut Vec<Field>, record: &BTreeMap<String, Vec<String>>) {
    for (key, values) in record.iter().filter(|(key, _)| *key != VERSION) {
        for value in values {
            fields.push(if REFERENCE_FIELDS.contains(&key.as_str()) {
                Field::reference(key.clone(), value.clone())
            } else {
                Field::string(key.clone(), value.clone())
            });
        }
    }
}
