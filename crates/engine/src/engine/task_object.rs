//! Building the `TaskObject` PollForTask returns.
//!
//! Design decisions:
//! * The attempt object carries every effective field of its component (except `parent`,
//!   which becomes a reference to the component, as in AWS's example), with `#{...}`
//!   evaluated for this attempt, followed by the runtime fields of AWS's PollForTask example
//!   (`@componentParent`, `@instanceParent`, `@scheduledStartTime`, `@scheduledEndTime`,
//!   `@status`, `@sphere` = ATTEMPT, `@pipelineId`, `@actualStartTime`, `@version` (the
//!   definition version the attempt was created under, 1 when not recorded),
//!   `@activeInstances` — the attempt's own instance, as in that example), `@id` (as
//!   DescribeObjects shows the attempt), `@resource` when it runs on a resource, and
//!   `hostname`. A precondition check also has `node`, a reference to
//!   the instance it checks, whose object is included under that instance id.
//! * Every object reachable by reference (inputs, outputs, their formats and databases,
//!   preconditions, the resource, the schedule) is included under its component id and
//!   evaluated for the instance of it that lines up with this attempt, so
//!   `#{input.directoryPath}` and the input object's own `directoryPath` agree.
//! * In expressions `@id` is the attempt id and `node` (for checks) the checked component,
//!   seen with the checked instance's runtime fields.
//! * The secret parameters (`*myPassword`) that evaluating these fields looked up are added
//!   to the attempt object as fields of the same name, so a runner knows every secret value
//!   the evaluated fields may hold and masks it in what it logs and reports.
//! * Evaluation happens only when some involved field contains `#{` (decided once per
//!   component by the plan); otherwise fields are copied.

use std::collections::BTreeMap;

use chrono::NaiveDateTime;
use sluice_definition::DefinitionContext;
use sluice_expr::{Binding, Context, Value, evaluate_field};
use sluice_model::time::format_datetime;
use sluice_model::{Field, FieldValue, PipelineObject, TaskObject};

use super::Engine;
use super::state::{AttIdx, InstIdx, Slot, keys};
use crate::plan::{Component, ComponentIdx};

/// A view of a [`DefinitionContext`] evaluating for another object.
struct Scoped<'c, 'a> {
    inner: &'c DefinitionContext<'a>,
    current: &'c str,
}

impl Context for Scoped<'_, '_> {
    fn current(&self) -> &str {
        self.current
    }

    fn lookup(&self, object: &str, name: &str) -> Option<Vec<Binding>> {
        self.inner.lookup(object, name)
    }
}

impl Engine {
    pub(super) fn build_task(
        &self,
        a: AttIdx,
        task_id: &str,
        hostname: &str,
        now: NaiveDateTime,
    ) -> Result<TaskObject, String> {
        let att = &self.atts[a];
        let i = att.inst;
        let inst = &self.insts[i];
        let comp = &self.plan.components[inst.comp];
        let owner = inst.owner();
        let owner_comp = owner.map(|o| &self.plan.components[self.insts[o].comp]);
        let mut refs: Vec<ComponentIdx> = comp.task_refs.clone();
        if let Some(oc) = owner_comp {
            for &r in &oc.task_refs {
                if !refs.contains(&r) && r != inst.comp {
                    refs.push(r);
                }
            }
        }
        let needs = comp.needs_evaluation || owner_comp.is_some_and(|oc| oc.needs_evaluation);
        let ctx = needs.then(|| self.context(a, &refs, now));
        let ctx = ctx.as_ref();
        let pipeline_id = self.record.pipeline_id.as_str();
        let version = self.atts[a]
            .fields
            .get(keys::VERSION)
            .and_then(|v| v.first())
            .map_or("1", String::as_str);

        let mut objects = BTreeMap::new();
        let mut fields = Vec::with_capacity(comp.fields.len() + 14);
        push_fields(&mut fields, comp, self.inert(comp), ctx)?;
        fields.extend([
            Field::reference("@componentParent", comp.id.clone()),
            Field::reference("parent", comp.id.clone()),
            Field::reference("@instanceParent", inst.id.clone()),
            Field::reference("@activeInstances", inst.id.clone()),
            Field::string("@scheduledStartTime", format_datetime(inst.start)),
            Field::string("@scheduledEndTime", format_datetime(inst.end)),
            Field::string("@actualStartTime", format_datetime(now)),
            Field::string("@status", "RUNNING"),
            Field::string("@sphere", "ATTEMPT"),
            Field::string("@version", version),
            Field::string("@pipelineId", pipeline_id),
            Field::string("@id", att.id.clone()),
            Field::string("hostname", hostname),
        ]);
        if let Some(r) = self.resource_of(i) {
            fields.push(Field::reference(keys::RESOURCE, self.insts[r].id.clone()));
        }
        if let (Some(o), Some(oc)) = (owner, owner_comp) {
            let checked = &self.insts[o];
            fields.push(Field::reference("node", checked.id.clone()));
            let mut node_fields = Vec::with_capacity(oc.fields.len() + 6);
            push_fields(&mut node_fields, oc, self.inert(oc), ctx)?;
            node_fields.extend(self.instance_fields(o));
            node_fields.push(Field::string("@sphere", "INSTANCE"));
            node_fields.push(Field::string("@pipelineId", pipeline_id));
            objects.insert(checked.id.clone(), object(checked.id.clone(), node_fields));
        }
        objects.insert(att.id.clone(), object(att.id.clone(), fields));
        for r in refs {
            let target = &self.plan.components[r];
            if objects.contains_key(&target.id) {
                continue;
            }
            let mut ref_fields = Vec::with_capacity(target.fields.len() + 3);
            push_fields(&mut ref_fields, target, self.inert(target), ctx)?;
            if let Some(j) = self.aligned_instance(r, i) {
                ref_fields.extend(self.instance_fields(j));
            }
            objects.insert(target.id.clone(), object(target.id.clone(), ref_fields));
        }
        // The secret parameters the fields were evaluated with travel as `*` fields of the
        // attempt, so that the runner can mask them wherever the evaluated text goes.
        if let Some(ctx) = ctx
            && let Some(attempt) = objects.get_mut(&att.id)
        {
            for (name, values) in ctx.revealed_secrets() {
                if attempt.fields.iter().all(|f| f.key != name) {
                    attempt
                        .fields
                        .extend(values.into_iter().map(|v| Field::string(name.clone(), v)));
                }
            }
        }
        Ok(TaskObject {
            task_id: task_id.to_owned(),
            pipeline_id: pipeline_id.to_owned(),
            attempt_id: att.id.clone(),
            objects,
        })
    }

    /// The instance of scheduled component `r` that lines up with instance `i` (for a check,
    /// with the checked instance).
    fn aligned_instance(&self, r: ComponentIdx, i: InstIdx) -> Option<InstIdx> {
        let subject = self.insts[i].owner().unwrap_or(i);
        let inst = &self.insts[subject];
        if !self.plan.components[r].is_scheduled() {
            return None;
        }
        let Slot::Run(run) = inst.slot else {
            return None;
        };
        if self.plan.components[inst.comp].runs_on == Some(r) {
            return inst.resource;
        }
        let k = self.aligned_slot(r, inst.start, run)?;
        self.comps[r].slots.get(&k).copied()
    }

    fn instance_fields(&self, j: InstIdx) -> [Field; 3] {
        let inst = &self.insts[j];
        [
            Field::string("@scheduledStartTime", format_datetime(inst.start)),
            Field::string("@scheduledEndTime", format_datetime(inst.end)),
            Field::string("@status", self.displayed_status(j).as_str()),
        ]
    }

    /// The fields of `comp`'s type that Sluice never reads (see `ObjectKind::inert_fields`).
    fn inert(&self, comp: &Component) -> &'static [&'static str] {
        self.plan
            .catalog()
            .get(&comp.type_name)
            .map_or(&[], |kind| kind.inert_fields())
    }

    fn context(
        &self,
        a: AttIdx,
        refs: &[ComponentIdx],
        now: NaiveDateTime,
    ) -> DefinitionContext<'_> {
        let att = &self.atts[a];
        let inst = &self.insts[att.inst];
        let comp = &self.plan.components[inst.comp];
        let mut ctx =
            DefinitionContext::new(self.plan.pipeline(), self.plan.catalog(), comp.id.as_str())
                .with_global(
                    "@pipelineId",
                    Value::String(self.record.pipeline_id.clone()),
                )
                .with_global("@scheduledStartTime", Value::utc(inst.start))
                .with_global("@scheduledEndTime", Value::utc(inst.end));
        let own = comp.id.as_str();
        ctx.set_runtime(own, "@scheduledStartTime", Value::utc(inst.start));
        ctx.set_runtime(own, "@scheduledEndTime", Value::utc(inst.end));
        ctx.set_runtime(own, "@actualStartTime", Value::utc(now));
        ctx.set_runtime(own, "@id", Value::String(att.id.clone()));
        ctx.set_runtime(own, "@componentParent", Value::Object(comp.id.clone()));
        ctx.set_runtime(own, "@instanceParent", Value::String(inst.id.clone()));
        ctx.set_runtime(own, "@status", Value::String("RUNNING".into()));
        ctx.set_runtime(own, "@sphere", Value::String("ATTEMPT".into()));
        if let Some(o) = inst.owner() {
            let checked = &self.insts[o];
            let oc = &self.plan.components[checked.comp];
            ctx.set_runtime(own, "node", Value::Object(oc.id.clone()));
            self.set_instance_runtime(&mut ctx, &oc.id, o);
        }
        let subject = inst
            .owner()
            .map_or(comp, |o| &self.plan.components[self.insts[o].comp]);
        for &r in refs {
            let target = &self.plan.components[r];
            if let Some(j) = self.aligned_instance(r, att.inst) {
                self.set_instance_runtime(&mut ctx, &target.id, j);
            }
            if target.is_precondition() && r != inst.comp {
                // A referenced precondition is seen as checking the object that uses it.
                ctx.set_runtime(&target.id, "node", Value::Object(subject.id.clone()));
            }
        }
        ctx
    }

    fn set_instance_runtime(&self, ctx: &mut DefinitionContext<'_>, object: &str, j: InstIdx) {
        let inst = &self.insts[j];
        ctx.set_runtime(object, "@scheduledStartTime", Value::utc(inst.start));
        ctx.set_runtime(object, "@scheduledEndTime", Value::utc(inst.end));
        ctx.set_runtime(
            object,
            "@status",
            Value::String(self.displayed_status(j).as_str().into()),
        );
        if let Some(at) = inst.actual_start {
            ctx.set_runtime(object, "@actualStartTime", Value::utc(at));
        }
    }
}

fn object(id: String, fields: Vec<Field>) -> PipelineObject {
    PipelineObject {
        name: id.clone(),
        id,
        fields,
    }
}

/// Appends a component's fields, evaluating the ones holding expressions. A field in `inert`
/// (one Sluice never reads) that cannot be evaluated goes on as written: it must not fail the
/// attempt.
fn push_fields(
    out: &mut Vec<Field>,
    comp: &Component,
    inert: &[&str],
    ctx: Option<&DefinitionContext<'_>>,
) -> Result<(), String> {
    for field in &comp.fields {
        match &field.value {
            FieldValue::Ref(target) => {
                out.push(Field::reference(field.key.clone(), target.clone()))
            }
            FieldValue::String(raw) => match ctx.filter(|_| field.has_expr) {
                Some(inner) => {
                    let scoped = Scoped {
                        inner,
                        current: &comp.id,
                    };
                    let values = match evaluate_field(raw, &scoped) {
                        Ok(values) => values,
                        Err(_) if inert.contains(&field.key.as_str()) => vec![raw.clone()],
                        Err(e) => {
                            return Err(format!(
                                "cannot evaluate field '{}' of '{}': {e}",
                                field.key, comp.id
                            ));
                        }
                    };
                    out.extend(
                        values
                            .into_iter()
                            .map(|v| Field::string(field.key.clone(), v)),
                    );
                }
                None => out.push(Field::string(field.key.clone(), raw.clone())),
            },
        }
    }
    Ok(())
}
