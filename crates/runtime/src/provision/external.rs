//! [`ExternalProvisioner`]: resources whose runners someone else starts.
//!
//! Nothing is started: the operator runs `sluice taskrunner --worker-group <resource instance
//! id>` (or any runner polling that group) wherever they like. The resource is RUNNING once
//! such a runner polls, and a release ends it at once, since there is no process here to wait
//! for. A runner started with `--taskrunner-id <resource instance id>` also hears
//! `terminate: true` in its next heartbeat once the resource is done.

use async_trait::async_trait;

use super::{
    ProvisionError, ProvisionReport, ProvisionRequest, Provisioner, ReportSink, RunnerKey,
};

#[derive(Debug, Default)]
pub struct ExternalProvisioner {
    sinks: std::sync::Mutex<std::collections::HashMap<RunnerKey, ReportSink>>,
}

#[async_trait]
impl Provisioner for ExternalProvisioner {
    async fn start(
        &self,
        request: ProvisionRequest,
        sink: ReportSink,
    ) -> Result<(), ProvisionError> {
        let key = RunnerKey {
            pipeline_id: request.pipeline_id,
            attempt_id: request.attempt_id,
        };
        tracing::info!(
            worker_group = %request.worker_group,
            "resource {} waits for a task runner polling worker group {}",
            request.resource_instance_id,
            request.worker_group
        );
        crate::service::lock(&self.sinks).insert(key, sink);
        Ok(())
    }

    async fn stop(&self, key: &RunnerKey) {
        if let Some(sink) = crate::service::lock(&self.sinks).remove(key) {
            sink.send(
                key,
                ProvisionReport::Stopped {
                    reason: "released".into(),
                },
            );
        }
    }

    async fn stop_all(&self) {
        crate::service::lock(&self.sinks).clear();
    }
}
