//! Hadoop streaming steps, run natively: map, sort by key, reduce.

use sluice_model::TaskResult;

use crate::exec::error_id;
use crate::execute::AttemptContext;

/// Runs a Hadoop streaming step with `args` (`-input`, `-output`, `-mapper`, `-reducer`, …).
pub async fn run(_ctx: &AttemptContext, what: &str, _args: &[String]) -> Result<(), TaskResult> {
    Err(TaskResult::failed(
        error_id::UNSUPPORTED,
        format!("{what}: Hadoop streaming is not implemented yet"),
    ))
}
