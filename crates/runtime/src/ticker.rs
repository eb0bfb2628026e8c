//! The background loop that moves time forward for every scheduler.
//!
//! Engines act on time only when called. The ticker sleeps until the earliest `next_wakeup`
//! of all schedulers (an interval falling due, a retry delay, a lease or timeout, the retry of
//! a commit the store refused as unavailable; never for a scheduler that stepped down), at most
//! one second so a clock jump or a missed signal costs little, or until some scheduler commits
//! (its observer signals the service's `changed`), then ticks the schedulers that are due and
//! hands their action events on. Actions are logged and delivered (SnsAlarm publishes, see `actions`).
//! Resource events go to the provisioner, and what it reports back (a runner started, a
//! runner stopped) is applied to the pipeline's scheduler at the start of each round.

use std::time::Duration;

use sluice_engine::{ActionTrigger, ResourceAction, Scheduler};
use tokio_util::sync::CancellationToken;

use crate::provision::ProvisionReport;
use crate::service::Service;

/// Longest sleep between two rounds.
const MAX_SLEEP: Duration = Duration::from_secs(1);
/// How often the ticker looks for worker groups nobody polls for (`crate::pollers`).
const POLLERS_EVERY: chrono::Duration = chrono::Duration::seconds(10);
/// Shortest sleep, so a wakeup that stays due (a store refusing every commit) cannot spin.
const MIN_SLEEP: Duration = Duration::from_millis(10);

impl Service {
    /// Ticks every scheduler whose next wakeup has come, and drains action and resource
    /// events. Returns the earliest next wakeup of any scheduler.
    pub async fn tick_due(&self) -> Option<chrono::NaiveDateTime> {
        let mut earliest: Option<chrono::NaiveDateTime> = None;
        for (pipeline_id, scheduler) in self.schedulers() {
            let now = self.clock.now();
            let due = scheduler.next_wakeup().await.is_some_and(|at| at <= now);
            if due && let Err(error) = scheduler.tick().await {
                tracing::warn!(pipeline = %pipeline_id, "tick failed: {error}");
            }
            for event in scheduler.take_action_events().await {
                let trigger = match event.event {
                    ActionTrigger::Success => "onSuccess",
                    ActionTrigger::Fail => "onFail",
                    ActionTrigger::Late => "onLateAction",
                };
                tracing::info!(
                    pipeline = %pipeline_id,
                    action = %event.action_id,
                    action_type = %event.action_type,
                    instance = %event.node_instance_id,
                    trigger,
                    "action fired"
                );
                crate::actions::deliver(&scheduler, &event, &self.options.data).await;
            }
            self.handle_resource_events(&pipeline_id, &scheduler).await;
            if let Some(at) = scheduler.next_wakeup().await {
                earliest = Some(earliest.map_or(at, |e| e.min(at)));
            }
        }
        earliest
    }

    /// Hands a scheduler's committed resource events to the provisioner.
    async fn handle_resource_events(&self, pipeline_id: &str, scheduler: &Scheduler) {
        let events = scheduler.take_resource_events().await;
        if events.is_empty() {
            return;
        }
        let Some(hub) = self.provisioning.get() else {
            for event in events {
                let action = match event.action {
                    ResourceAction::Provision => "provision",
                    ResourceAction::Release => "release",
                };
                tracing::debug!(pipeline = %pipeline_id, resource = %event.attempt_id, action, "resource event (no provisioner)");
            }
            return;
        };
        let account = self
            .registry()
            .pipelines
            .get(pipeline_id)
            .map(|m| m.account_id.clone())
            .unwrap_or_default();
        for event in events {
            if matches!(event.action, ResourceAction::Provision) {
                self.metrics.resource_provisioned();
            }
            hub.handle(pipeline_id, &account, &event).await;
        }
    }

    /// Applies what provisioners reported to the schedulers of the pipelines concerned.
    pub(crate) async fn apply_provision_reports(&self) {
        let Some(hub) = self.provisioning.get() else {
            return;
        };
        hub.stop_orphans(|pipeline_id| self.scheduler(pipeline_id).is_some())
            .await;
        for (key, report) in hub.drain() {
            let Some(scheduler) = self.scheduler(&key.pipeline_id) else {
                continue;
            };
            let applied = match &report {
                ProvisionReport::Started {
                    resource_id,
                    hostname,
                } => {
                    scheduler
                        .resource_provisioned(&key.attempt_id, resource_id, hostname)
                        .await
                }
                ProvisionReport::Running => scheduler.resource_running(&key.attempt_id).await,
                ProvisionReport::Stopped { reason } => {
                    scheduler.resource_stopped(&key.attempt_id, reason).await
                }
            };
            if let Err(error) = applied {
                tracing::warn!(pipeline = %key.pipeline_id, resource = %key.attempt_id, "applying a provisioner report: {error}");
            }
        }
    }

    /// Runs the ticker until `shutdown`.
    pub async fn run_ticker(&self, shutdown: CancellationToken) {
        let mut checked_pollers = self.clock.now();
        loop {
            let notified = self.changed.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            self.apply_provision_reports().await;
            let next = self.tick_due().await;
            self.prune_task_routes();
            if self.clock.now() - checked_pollers >= POLLERS_EVERY {
                checked_pollers = self.clock.now();
                self.warn_unserved_groups().await;
            }
            let wait = next
                .map(|at| (at - self.clock.now()).to_std().unwrap_or(Duration::ZERO))
                .unwrap_or(MAX_SLEEP)
                .clamp(MIN_SLEEP, MAX_SLEEP);
            tokio::select! {
                () = tokio::time::sleep(wait) => {}
                () = &mut notified => {}
                () = shutdown.cancelled() => return,
            }
        }
    }
}
