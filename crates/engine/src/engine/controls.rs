//! Operator controls: ActivatePipeline, DeactivatePipeline and SetStatus.
//!
//! Design decisions:
//! * SetStatus takes either component ids (PAUSE, RESUME) or instance ids (TRY_CANCEL and its
//!   legacy spelling CANCEL, RERUN, MARK_FINISHED); a mix, the wrong kind, an unknown status
//!   or a FINISHED pipeline is an invalid request, as in AWS. Statuses are case-insensitive.
//! * PAUSE stops new work of the component: queued attempts are set aside when polled and
//!   data nodes do not finish; running attempts run to completion. Its waiting instances show
//!   PAUSED (records carry the real status in `@pausedFrom`). Instances keep being created.
//! * TRY_CANCEL cancels a non-terminal instance (a running task hears `canceled: true`);
//!   terminal instances are left alone.
//! * RERUN applies to terminal instances: the instance goes back to WAITING_ON_DEPENDENCIES
//!   with its errors cleared and new attempts numbered after the old ones; its resource runs
//!   again; a resource's rerun reruns the instances that ran on it; and consumers that are
//!   CASCADE_FAILED under `cascade` are rerun too when none of their dependencies is still
//!   failed (otherwise they stay CASCADE_FAILED). Rerun instances do not count against
//!   maxActiveInstances. Precondition checks are rerun through the instance they check.
//! * MARK_FINISHED makes an instance FINISHED (stopping any work in progress) without firing
//!   onSuccess, so its dependants proceed.
//! * Activation with a start timestamp SKIPs every interval that starts before it and has not
//!   started running, including intervals never materialised. Without one, a reactivated
//!   pipeline catches up on every interval it missed. Each activation of an ondemand
//!   pipeline starts one run; its instance ids carry the activation time.
//! * Deactivation stops materialising and handing out tasks; with `cancel_active` every
//!   instance with an attempt queued, running or awaiting retry is CANCELED.

use std::collections::VecDeque;

use chrono::NaiveDateTime;
use sluice_model::time::format_datetime;
use sluice_model::{PipelineState, Status};

use super::state::{InstIdx, keys};
use super::{Engine, is_failure};
use crate::error::EngineError;
use crate::plan::{ComponentIdx, FailureMode};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Command {
    Pause,
    Resume,
    TryCancel,
    Rerun,
    MarkFinished,
}

impl Command {
    fn parse(text: &str) -> Option<Command> {
        let text = text.trim();
        [
            ("PAUSE", Command::Pause),
            ("RESUME", Command::Resume),
            ("TRY_CANCEL", Command::TryCancel),
            ("CANCEL", Command::TryCancel),
            ("RERUN", Command::Rerun),
            ("MARK_FINISHED", Command::MarkFinished),
        ]
        .into_iter()
        .find(|(name, _)| name.eq_ignore_ascii_case(text))
        .map(|(_, c)| c)
    }

    fn on_components(self) -> bool {
        matches!(self, Command::Pause | Command::Resume)
    }
}

impl Engine {
    /// ActivatePipeline. The first activation fixes `@firstActivationTime` (the start of
    /// `FIRST_ACTIVATION_DATE_TIME` schedules). With `start_timestamp`, intervals starting
    /// before it are SKIPPED. Ondemand pipelines start one new run per call.
    pub fn activate(
        &mut self,
        now: NaiveDateTime,
        start_timestamp: Option<NaiveDateTime>,
    ) -> Result<(), EngineError> {
        self.activate_from(now, start_timestamp, None)
    }

    /// [`activate`](Self::activate) for a preview of the intervals starting at or after
    /// `window_start`: earlier intervals are not materialised in turn, only when an instance
    /// from `window_start` on depends on them or runs on them, so a window late in a long
    /// schedule costs what the window holds. The window's instances are the same either way.
    pub(crate) fn activate_from(
        &mut self,
        now: NaiveDateTime,
        start_timestamp: Option<NaiveDateTime>,
        window_start: Option<NaiveDateTime>,
    ) -> Result<(), EngineError> {
        self.advance(now);
        let now = self.now;
        if self.first_activation.is_none() {
            self.first_activation = Some(now);
            self.record
                .fields
                .insert(keys::FIRST_ACTIVATION_TIME.into(), format_datetime(now));
        }
        self.record
            .fields
            .insert(keys::LAST_ACTIVATION_TIME.into(), format_datetime(now));
        self.init_timelines();
        self.record.state = PipelineState::Scheduled;
        self.mark_pipeline();
        if self.plan.ondemand {
            self.start_run(now);
        } else {
            if let Some(until) = start_timestamp {
                self.skip_until(until, now);
            }
            if let Some(from) = window_start {
                self.begin_materialising_at(from);
            }
            self.rebuild_due_heap();
        }
        self.drain_wake(now);
        self.advance(now);
        Ok(())
    }

    /// DeactivatePipeline. With `cancel_active`, work in progress is CANCELED; otherwise
    /// running tasks may finish, but nothing new is handed out until reactivation.
    pub fn deactivate(
        &mut self,
        now: NaiveDateTime,
        cancel_active: bool,
    ) -> Result<(), EngineError> {
        self.advance(now);
        let now = self.now;
        if !matches!(
            self.record.state,
            PipelineState::Scheduled | PipelineState::Deactivating
        ) {
            return Ok(());
        }
        // Tasks left running stay the runners' until they end: DEACTIVATING until then.
        self.record.state = PipelineState::Deactivating;
        self.record
            .fields
            .insert(keys::LAST_DEACTIVATED_TIME.into(), format_datetime(now));
        self.mark_pipeline();
        self.due_heap.clear();
        if cancel_active {
            for i in 0..self.insts.len() {
                let status = self.insts[i].status;
                if matches!(
                    status,
                    Status::WaitingForRunner | Status::Running | Status::Creating
                ) && self.insts[i].owner().is_none()
                {
                    self.cancel_instance(i, now, "the pipeline was deactivated");
                }
            }
            for i in 0..self.insts.len() {
                if self.insts[i].checks_started && !self.insts[i].status.is_terminal() {
                    self.cancel_instance(i, now, "the pipeline was deactivated");
                }
            }
        }
        self.drain_wake(now);
        self.purge_stale_timers();
        self.maybe_finish_pipeline();
        Ok(())
    }

    /// SetStatus on components (PAUSE, RESUME) or instances (TRY_CANCEL, CANCEL, RERUN,
    /// MARK_FINISHED).
    pub fn set_status(
        &mut self,
        object_ids: &[String],
        status: &str,
        now: NaiveDateTime,
    ) -> Result<(), EngineError> {
        self.advance(now);
        let now = self.now;
        if self.record.state == PipelineState::Finished {
            return Err(EngineError::InvalidRequest(
                "the pipeline is FINISHED; SetStatus is not allowed".into(),
            ));
        }
        let command = Command::parse(status).ok_or_else(|| {
            EngineError::InvalidRequest(format!(
                "'{status}' is not a SetStatus status (PAUSE, RESUME, TRY_CANCEL, RERUN, MARK_FINISHED)"
            ))
        })?;
        if object_ids.is_empty() {
            return Err(EngineError::InvalidRequest(
                "objectIds must not be empty".into(),
            ));
        }
        let mut components = Vec::new();
        let mut instances = Vec::new();
        for id in object_ids {
            if let Some(c) = self.plan.get(id) {
                components.push(c);
            } else if let Some(&i) = self.by_id.get(id) {
                instances.push(i);
            } else {
                return Err(EngineError::ObjectNotFound(id.clone()));
            }
        }
        if !components.is_empty() && !instances.is_empty() {
            return Err(EngineError::InvalidRequest(
                "objectIds mix components and instances".into(),
            ));
        }
        if command.on_components() && !instances.is_empty() {
            return Err(EngineError::InvalidRequest(format!(
                "{status} applies to components, not instances"
            )));
        }
        if !command.on_components() && !components.is_empty() {
            return Err(EngineError::InvalidRequest(format!(
                "{status} applies to instances, not components"
            )));
        }
        if command == Command::Rerun
            && let Some(&i) = instances.iter().find(|&&i| self.insts[i].owner().is_some())
        {
            return Err(EngineError::InvalidRequest(format!(
                "'{}' is a precondition check; rerun the object it checks",
                self.insts[i].id
            )));
        }
        match command {
            Command::Pause => components.into_iter().for_each(|c| self.pause(c, true)),
            Command::Resume => components.into_iter().for_each(|c| self.pause(c, false)),
            Command::TryCancel => {
                for i in instances {
                    self.cancel_instance(i, now, "canceled by SetStatus TRY_CANCEL");
                }
            }
            Command::MarkFinished => {
                for i in instances {
                    if self.insts[i].status != Status::Finished {
                        self.release_work(i, now);
                        self.transition(i, Status::Finished, now);
                    }
                }
            }
            Command::Rerun => self.rerun(instances, now),
        }
        self.drain_wake(now);
        self.purge_stale_timers();
        self.maybe_finish_pipeline();
        Ok(())
    }

    fn pause(&mut self, c: ComponentIdx, pause: bool) {
        if self.comps[c].paused == pause {
            return;
        }
        self.comps[c].paused = pause;
        self.save_paused_components();
        for n in 0..self.comps[c].instances.len() {
            let i = self.comps[c].instances[n];
            if !self.insts[i].status.is_terminal() {
                self.mark_inst(i);
                for m in 0..self.insts[i].checks.len() {
                    let k = self.insts[i].checks[m];
                    self.mark_inst(k);
                }
            }
        }
        if pause {
            return;
        }
        for a in std::mem::take(&mut self.comps[c].parked) {
            if self.atts[a].status == Status::WaitingForRunner && self.atts[a].queue_seq.is_none() {
                self.enqueue(a);
            }
        }
        for i in std::mem::take(&mut self.comps[c].held) {
            self.wake(i);
        }
    }

    fn rerun(&mut self, roots: Vec<InstIdx>, at: NaiveDateTime) {
        let mut work: VecDeque<InstIdx> = roots.into();
        while let Some(i) = work.pop_front() {
            if !self.insts[i].status.is_terminal() {
                continue;
            }
            self.reset(i, at);
            let comp = &self.plan.components[self.insts[i].comp];
            if comp.is_resource() {
                work.extend(
                    self.insts[i]
                        .served
                        .iter()
                        .copied()
                        .filter(|&s| self.insts[s].status.is_terminal()),
                );
            }
            for n in 0..self.insts[i].dependants.len() {
                let d = self.insts[i].dependants[n];
                let consumer = &self.insts[d];
                if consumer.status == Status::CascadeFailed
                    && self.plan.components[consumer.comp].failure_mode == FailureMode::Cascade
                    && !consumer
                        .deps
                        .iter()
                        .any(|&p| is_failure(self.insts[p].status))
                {
                    work.push_back(d);
                }
            }
        }
    }

    /// Puts a terminal instance back to WAITING_ON_DEPENDENCIES for a new run.
    fn reset(&mut self, i: InstIdx, at: NaiveDateTime) {
        let inst = &mut self.insts[i];
        let base = inst.attempts.len() as u32;
        inst.rerun_from = base;
        inst.rerun = true;
        inst.admitted = false;
        inst.counted_active = false;
        inst.checks_started = false;
        inst.retry_at = None;
        inst.deadline = None;
        inst.actual_start = None;
        for key in [
            keys::ERROR_ID,
            keys::ERROR_MESSAGE,
            keys::ERROR_STACK_TRACE,
            keys::CASCADE_FAILED_ON,
            keys::CANCELLATION_REASON,
        ] {
            inst.fields.remove(key);
        }
        inst.set_field(keys::RERUN_FROM, base.to_string());
        for n in 0..self.insts[i].checks.len() {
            let k = self.insts[i].checks[n];
            let check = &mut self.insts[k];
            check.rerun_from = check.attempts.len() as u32;
            check.retry_at = None;
            check.deadline = None;
            check.actual_start = None;
            let from = check.rerun_from.to_string();
            for key in [keys::ERROR_ID, keys::ERROR_MESSAGE, keys::ERROR_STACK_TRACE] {
                check.fields.remove(key);
            }
            check.set_field(keys::RERUN_FROM, from);
            self.transition(k, Status::WaitingOnDependencies, at);
        }
        self.transition(i, Status::WaitingOnDependencies, at);
        self.wake(i);
    }
}
