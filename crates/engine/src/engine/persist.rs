//! Records for the store and for introspection.
//!
//! Mutations push an instance or attempt onto a dirty list the first time they touch it;
//! [`Engine::take_changes`] turns exactly those into records, so the cost of a step's change
//! set is proportional to what the step changed. The pipeline record's `version` goes up by
//! one each time it is part of a change set.

use chrono::NaiveDateTime;
use sluice_model::Status;

use super::Engine;
use super::state::{AttIdx, InstIdx, keys};
use crate::store::{AttemptRecord, ChangeSet, InstanceRecord, PipelineRecord};

impl Engine {
    /// Every record changed since the previous call. The driver commits the result before
    /// handing out tasks or delivering actions produced by the same calls (write-ahead).
    pub fn take_changes(&mut self) -> ChangeSet {
        let mut changes = ChangeSet::default();
        if self.pipeline_dirty {
            self.pipeline_dirty = false;
            self.record.version += 1;
            changes.pipelines.push(self.record.clone());
        }
        let dirty_insts = std::mem::take(&mut self.dirty_insts);
        changes.instances.reserve(dirty_insts.len());
        for i in dirty_insts {
            self.insts[i].dirty = false;
            changes.instances.push(self.instance_record(i));
        }
        let dirty_atts = std::mem::take(&mut self.dirty_atts);
        changes.attempts.reserve(dirty_atts.len());
        for a in dirty_atts {
            self.atts[a].dirty = false;
            changes.attempts.push(self.attempt_record(a));
        }
        changes
    }

    /// Changes the pipeline record the engine holds (a new latest definition, tags, …) and
    /// marks it for the next change set, whose commit bumps `version` as for any engine write.
    /// The API server writes an active pipeline's record only this way, because the engine's
    /// copy is the one that reaches the store. `pipeline_id` and `version` stay the engine's;
    /// `f` must leave the engine-owned parts (`state`, `@firstActivationTime`,
    /// `@pausedComponents`, …) alone.
    pub fn update_pipeline_record(&mut self, f: impl FnOnce(&mut PipelineRecord)) {
        let (pipeline_id, version) = (self.record.pipeline_id.clone(), self.record.version);
        f(&mut self.record);
        self.record.pipeline_id = pipeline_id;
        self.record.version = version;
        self.mark_pipeline();
    }

    /// The runtime fields a new instance or attempt starts with: the pipeline's current
    /// `@version`, when it has one, so that the object keeps naming the definition version it
    /// was created under after later activations change the definition.
    pub(super) fn version_fields(&self) -> std::collections::BTreeMap<String, Vec<String>> {
        self.record
            .fields
            .get(keys::VERSION)
            .map(|v| (keys::VERSION.to_owned(), vec![v.clone()]))
            .into_iter()
            .collect()
    }

    /// Whether [`take_changes`](Self::take_changes) would return anything.
    pub fn has_changes(&self) -> bool {
        self.pipeline_dirty || !self.dirty_insts.is_empty() || !self.dirty_atts.is_empty()
    }

    pub(super) fn instance_record(&self, i: InstIdx) -> InstanceRecord {
        let inst = &self.insts[i];
        let status = self.displayed_status(i);
        let mut fields = inst.fields.clone();
        let made = inst.attempts.len() as u32 - inst.rerun_from;
        let tries = self.plan.components[inst.comp].policy.maximum_retries + 1;
        fields.insert(
            keys::TRIES_LEFT.to_owned(),
            vec![tries.saturating_sub(made).to_string()],
        );
        // Recomputed from the live state, never carried over from a restored record.
        fields.remove(keys::WAITING_ON);
        let waiting_on = self.waiting_on(i);
        if !waiting_on.is_empty() {
            fields.insert(keys::WAITING_ON.to_owned(), waiting_on);
        }
        if status != inst.status {
            fields.insert(
                keys::PAUSED_FROM.to_owned(),
                vec![inst.status.as_str().to_owned()],
            );
        }
        InstanceRecord {
            pipeline_id: self.record.pipeline_id.clone(),
            instance_id: inst.id.clone(),
            component_id: self.plan.components[inst.comp].id.clone(),
            status,
            scheduled_start: inst.start,
            scheduled_end: inst.end,
            actual_start: inst.actual_start,
            actual_end: inst.actual_end,
            attempt_count: inst.attempts.len() as u32,
            fields,
        }
    }

    /// `@waitingOn` of a waiting instance: the dependencies not yet FINISHED or SKIPPED, the
    /// precondition checks not yet met, and the resource instance it runs on while that is
    /// not up.
    fn waiting_on(&self, i: InstIdx) -> Vec<String> {
        let inst = &self.insts[i];
        if !matches!(
            inst.status,
            Status::WaitingOnDependencies | Status::WaitingForRunner
        ) {
            return Vec::new();
        }
        let id = |j: &InstIdx| self.insts[*j].id.clone();
        let mut out: Vec<String> = Vec::new();
        if inst.status == Status::WaitingOnDependencies {
            out.extend(
                inst.deps
                    .iter()
                    .filter(|&&d| {
                        !matches!(self.insts[d].status, Status::Finished | Status::Skipped)
                    })
                    .map(id),
            );
            out.extend(
                inst.checks
                    .iter()
                    .filter(|&&k| self.insts[k].status != Status::Finished)
                    .map(id),
            );
        }
        if let Some(r) = inst.resource
            && self.insts[r].status != Status::Running
        {
            out.push(id(&r));
        }
        out
    }

    pub(super) fn attempt_record(&self, a: AttIdx) -> AttemptRecord {
        let att = &self.atts[a];
        AttemptRecord {
            pipeline_id: self.record.pipeline_id.clone(),
            attempt_id: att.id.clone(),
            instance_id: self.insts[att.inst].id.clone(),
            number: att.number,
            status: att.status,
            worker_group: att.worker_group.to_string(),
            task_id: att.task_id.clone(),
            hostname: att.hostname.clone(),
            taskrunner_id: att.taskrunner_id.clone(),
            created_at: att.created_at,
            started_at: att.started_at,
            ended_at: att.ended_at,
            lease_expires_at: att.lease_expires_at,
            result: att.result.clone(),
            fields: att.fields.clone(),
        }
    }

    /// Every instance, ordered by (scheduled start, id), as the store lists them.
    pub fn instances(&self) -> Vec<InstanceRecord> {
        let mut order: Vec<InstIdx> = (0..self.insts.len()).collect();
        order.sort_by(|&a, &b| {
            let (x, y) = (&self.insts[a], &self.insts[b]);
            (x.start, &x.id).cmp(&(y.start, &y.id))
        });
        order.into_iter().map(|i| self.instance_record(i)).collect()
    }

    /// One instance by id.
    pub fn instance(&self, instance_id: &str) -> Option<InstanceRecord> {
        self.by_id
            .get(instance_id)
            .map(|&i| self.instance_record(i))
    }

    /// The displayed status of one instance.
    /// When the instance's next attempt is due, while it waits out its `retryDelay`.
    pub fn retry_at(&self, instance_id: &str) -> Option<NaiveDateTime> {
        self.by_id
            .get(instance_id)
            .and_then(|&i| self.insts[i].retry_at)
    }

    pub fn instance_status(&self, instance_id: &str) -> Option<Status> {
        self.by_id
            .get(instance_id)
            .map(|&i| self.displayed_status(i))
    }

    /// Every attempt, ordered by (instance id, number), as the store lists them.
    pub fn attempts(&self) -> Vec<AttemptRecord> {
        self.attempts_where(|_| true)
    }

    /// The attempts whose status passes `keep`, in the order of [`Engine::attempts`], without
    /// building a record for the others (a whole run's attempts can be most of its memory).
    pub fn attempts_where(&self, keep: impl Fn(Status) -> bool) -> Vec<AttemptRecord> {
        let mut order: Vec<AttIdx> = (0..self.atts.len())
            .filter(|&a| keep(self.atts[a].status))
            .collect();
        order.sort_by(|&a, &b| {
            let (x, y) = (&self.atts[a], &self.atts[b]);
            (&self.insts[x.inst].id, x.number).cmp(&(&self.insts[y.inst].id, y.number))
        });
        order.into_iter().map(|a| self.attempt_record(a)).collect()
    }

    /// The attempts of one instance, in number order.
    pub fn attempts_of(&self, instance_id: &str) -> Vec<AttemptRecord> {
        self.by_id
            .get(instance_id)
            .map(|&i| {
                self.insts[i]
                    .attempts
                    .iter()
                    .map(|&a| self.attempt_record(a))
                    .collect()
            })
            .unwrap_or_default()
    }

    /// Reads the pipeline-level fields the engine keeps (first activation, paused components).
    pub(super) fn load_pipeline_fields(&mut self) {
        self.first_activation = self
            .record
            .fields
            .get(keys::FIRST_ACTIVATION_TIME)
            .and_then(|t| sluice_model::time::parse_datetime(t).ok());
        let paused: Vec<String> = self
            .record
            .fields
            .get(keys::PAUSED_COMPONENTS)
            .and_then(|text| serde_json::from_str(text).ok())
            .unwrap_or_default();
        for id in paused {
            if let Some(c) = self.plan.get(&id) {
                self.comps[c].paused = true;
            }
        }
    }

    pub(super) fn save_paused_components(&mut self) {
        let paused: Vec<&str> = self
            .plan
            .components
            .iter()
            .zip(&self.comps)
            .filter(|(_, s)| s.paused)
            .map(|(c, _)| c.id.as_str())
            .collect();
        if paused.is_empty() {
            self.record.fields.remove(keys::PAUSED_COMPONENTS);
        } else {
            let text = serde_json::to_string(&paused).unwrap_or_default();
            self.record
                .fields
                .insert(keys::PAUSED_COMPONENTS.to_owned(), text);
        }
        self.mark_pipeline();
    }
}
