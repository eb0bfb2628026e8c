//! The round every server of a shared deployment runs each third of a lease period.

use std::collections::HashMap;
use std::time::Instant;

use sluice_engine::cluster::NOBODY;
use tokio_util::sync::CancellationToken;

use crate::service::{Service, lock};

impl Service {
    /// Runs rounds until `stop`, then leaves the deployment. Returns at once without a shared
    /// database.
    pub async fn run_cluster(&self, stop: CancellationToken) {
        let Some(m) = self.membership() else {
            return;
        };
        let period = m.lease / 3;
        loop {
            self.cluster_round().await;
            tokio::select! {
                () = tokio::time::sleep(period) => {}
                () = stop.cancelled() => break,
            }
        }
    }

    /// One round: heartbeat, renew, drop what was lost, balance.
    pub async fn cluster_round(&self) {
        let Some(m) = self.membership() else {
            return;
        };
        match m.backend.heartbeat(&m.me, m.lease).await {
            Ok(members) => *lock(&m.members) = members,
            Err(error) => tracing::warn!("cannot heartbeat: {error}"),
        }
        let renewed = match m.backend.renew(&m.me.server_id, m.lease).await {
            Ok(renewed) => renewed,
            Err(error) => {
                tracing::warn!("cannot renew the leases: {error}");
                // Past a lease period without a renewal another server may own them: stop
                // scheduling (the fenced commits would fail anyway).
                let last = *lock(&m.renewed);
                if last.is_none_or(|at| at.elapsed() >= m.lease) {
                    let held: Vec<String> = lock(&m.held).keys().cloned().collect();
                    for pipeline_id in held {
                        tracing::warn!(pipeline = %pipeline_id, "stopped scheduling: the leases could not be renewed");
                        self.drop_pipeline(&pipeline_id);
                    }
                }
                return;
            }
        };
        *lock(&m.renewed) = Some(Instant::now());
        let renewed: HashMap<String, i64> = renewed.into_iter().collect();
        let held: Vec<(String, i64)> = lock(&m.held)
            .iter()
            .map(|(id, fence)| (id.clone(), fence.epoch))
            .collect();
        for (pipeline_id, epoch) in held {
            if renewed.get(&pipeline_id) != Some(&epoch) {
                tracing::warn!(pipeline = %pipeline_id, "lost the lease of a pipeline; another server schedules it");
                self.drop_pipeline(&pipeline_id);
                continue;
            }
            if let Some(scheduler) = self.scheduler(&pipeline_id)
                && let Some(why) = scheduler.stepped_down().await
            {
                tracing::warn!(pipeline = %pipeline_id, "reopening a scheduler that stepped down: {why}");
                self.reopen(&pipeline_id).await;
            }
        }
        if let Err(error) = self.balance().await {
            tracing::warn!(
                "cannot balance the pipelines between servers: {}",
                error.message()
            );
        }
    }

    /// Opens a held pipeline's scheduler again from the database.
    async fn reopen(&self, pipeline_id: &str) {
        let Some(m) = self.membership() else {
            return;
        };
        let _moving = m.moving.lock().await;
        let Some(fence) = m.fence(pipeline_id) else {
            return;
        };
        self.drop_pipeline(pipeline_id);
        if let Err(error) = self.adopt(pipeline_id, fence).await {
            tracing::warn!(pipeline = %pipeline_id, "cannot reopen: {}", error.message());
        }
    }

    /// Takes lapsed leases up to this server's share, and gives up those above it.
    async fn balance(&self) -> crate::error::ApiResult<()> {
        let Some(m) = self.membership() else {
            return Ok(());
        };
        m.backend.lease_orphans().await?;
        let leases = m.backend.leases().await?;
        *lock(&m.owners) = leases
            .iter()
            .filter(|l| l.live)
            .map(|l| (l.pipeline_id.clone(), l.owner.clone()))
            .collect();
        let servers = lock(&m.members).len().max(1);
        let total = leases.iter().filter(|l| l.owner != NOBODY).count();
        let share = total.div_ceil(servers);
        let mine = lock(&m.held).len();
        if mine < share {
            let mut free: Vec<&str> = leases
                .iter()
                .filter(|l| !l.live)
                .map(|l| l.pipeline_id.as_str())
                .collect();
            // Servers start their search at different places, so that those taking over
            // together seldom race for the same lease.
            if !free.is_empty() {
                let start = hash(&m.me.server_id) % free.len();
                free.rotate_left(start);
            }
            let mut wanted = share - mine;
            for pipeline_id in free {
                if wanted == 0 {
                    break;
                }
                if self.take(pipeline_id).await? && m.fence(pipeline_id).is_some() {
                    wanted -= 1;
                }
            }
        } else if mine > share {
            let mut held: Vec<String> = lock(&m.held).keys().cloned().collect();
            held.sort();
            for pipeline_id in held.into_iter().rev().take(mine - share) {
                self.release(&pipeline_id).await?;
            }
        }
        Ok(())
    }
}

fn hash(text: &str) -> usize {
    text.bytes().fold(0usize, |h, b| {
        h.wrapping_mul(31).wrapping_add(usize::from(b))
    })
}
