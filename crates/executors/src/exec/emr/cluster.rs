//! The `EmrCluster` an EMR-family attempt runs on: what of it Sluice acts on.
//!
//! * Its lifecycle (CREATING → RUNNING → SHUTTING_DOWN → FINISHED, `terminateAfter`) is the
//!   engine's, as for every resource.
//! * `bootstrapAction` scripts run once per cluster instance, before the first EMR-family
//!   attempt on it that this runner executes: a provisioned cluster has one runner of its
//!   own, so that is once when the cluster comes up. AWS's own bootstrap actions (under
//!   `s3://elasticmapreduce/bootstrap-actions/` or a regional `…elasticmapreduce/` bucket)
//!   configure EMR's Hadoop and are reported as not applicable instead of being fetched.
//! * The fields that describe EMR's machines and services (`releaseLabel`, instance types and
//!   counts, `applications`, security groups, …) are kept on the object and listed in the
//!   attempt's output as not acted on.

use std::collections::HashSet;
use std::sync::LazyLock;

use sluice_model::{PipelineObject, TaskResult};
use tokio::sync::Mutex;

use super::{note, run, script_process, step};
use crate::exec::{error_id, shell};
use crate::execute::AttemptContext;

/// Cluster instances whose bootstrap actions this process has run. The lock is held while
/// they run, so a second attempt on the same cluster waits for them.
static BOOTSTRAPPED: LazyLock<Mutex<HashSet<String>>> =
    LazyLock::new(|| Mutex::new(HashSet::new()));

/// The `EmrCluster` the attempt runs on, if it runs on one (it may use a worker group).
pub fn cluster(ctx: &AttemptContext) -> Option<&PipelineObject> {
    ctx.referenced("runsOn")
        .into_iter()
        .find(|o| o.object_type() == Some("EmrCluster"))
}

/// Readies the attempt's cluster: reports the fields not acted on and runs the bootstrap
/// actions if this cluster instance has not had them yet.
pub async fn prepare(ctx: &AttemptContext) -> Result<(), TaskResult> {
    let Some(cluster) = cluster(ctx) else {
        return Ok(());
    };
    let kept: Vec<&str> =
        sluice_catalog::ObjectKind::inert_fields(&sluice_catalog::types::EmrCluster)
            .iter()
            .copied()
            .filter(|field| cluster.values(field).next().is_some())
            .collect();
    if !kept.is_empty() {
        note(
            ctx,
            &format!(
                "EmrCluster {}: {} kept but not acted on (Sluice runs EMR work on Spark, see \
                 docs/emr.md)",
                cluster.id,
                kept.join(", ")
            ),
        )?;
    }
    let actions = ctx_values(cluster, "bootstrapAction");
    if actions.is_empty() {
        return Ok(());
    }
    let key = format!(
        "{}/{}@{}",
        ctx.task.pipeline_id,
        cluster.id,
        cluster.string("@scheduledStartTime").unwrap_or("")
    );
    let mut done = BOOTSTRAPPED.lock().await;
    if done.contains(&key) {
        return Ok(());
    }
    for (k, action) in actions.iter().enumerate() {
        run_bootstrap_action(ctx, &format!("bootstrapAction {}", k + 1), action).await?;
    }
    done.insert(key);
    Ok(())
}

fn ctx_values(object: &PipelineObject, field: &str) -> Vec<String> {
    object
        .values(field)
        .filter_map(sluice_model::FieldValue::as_str)
        .map(str::to_string)
        .collect()
}

/// Whether a bootstrap script is one of AWS's own, which configure EMR itself.
pub fn is_aws_bootstrap_action(uri: &str) -> bool {
    let Some(rest) = uri.strip_prefix("s3://") else {
        return false;
    };
    let bucket = rest.split('/').next().unwrap_or("");
    bucket == "elasticmapreduce" || bucket.ends_with(".elasticmapreduce")
}

async fn run_bootstrap_action(
    ctx: &AttemptContext,
    what: &str,
    action: &str,
) -> Result<(), TaskResult> {
    let mut parts = step::split(action);
    let uri = parts.remove(0);
    if uri.is_empty() {
        return Err(TaskResult::failed(
            error_id::INVALID_TASK,
            format!("{what} '{action}' names no script"),
        ));
    }
    if is_aws_bootstrap_action(&uri) {
        return note(
            ctx,
            &format!("{what}: {uri} configures AWS EMR itself; not applicable on Sluice, skipped"),
        );
    }
    note(ctx, &format!("{what}: running {uri}"))?;
    let script = shell::fetch_script(ctx, what, &uri).await?;
    let spec = script_process(ctx, script, parts.iter().map(String::as_str)).await?;
    run(ctx, what, spec).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aws_bootstrap_actions_are_recognised() {
        assert!(is_aws_bootstrap_action(
            "s3://elasticmapreduce/bootstrap-actions/configure-hadoop"
        ));
        assert!(is_aws_bootstrap_action(
            "s3://us-west-2.elasticmapreduce/bootstrap-actions/run-if"
        ));
        assert!(!is_aws_bootstrap_action("s3://my-bucket/bootstrap.sh"));
        assert!(!is_aws_bootstrap_action("/opt/setup.sh"));
    }
}
