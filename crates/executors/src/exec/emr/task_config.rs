//! `preActivityTaskConfig` / `postActivityTaskConfig`: a `ShellScriptConfig` (its `scriptUri`
//! with its `scriptArgument`s) run before or after a Hive, Hadoop or Pig activity's job.

use sluice_model::{FieldValue, TaskResult};

use super::{run, script_process};
use crate::exec::{error_id, shell};
use crate::execute::AttemptContext;

/// Runs the script the reference field `field` names, if it names one.
pub async fn run_config(ctx: &AttemptContext, field: &str) -> Result<(), TaskResult> {
    let Some(config) = ctx.referenced(field).into_iter().next() else {
        return Ok(());
    };
    let Some(uri) = config.string("scriptUri") else {
        return Err(TaskResult::failed(
            error_id::INVALID_TASK,
            format!("{field} {} has no scriptUri", config.id),
        ));
    };
    let what = format!("{field} {}", config.id);
    let script = shell::fetch_script(ctx, &what, uri).await?;
    let args = config
        .values("scriptArgument")
        .filter_map(FieldValue::as_str);
    let spec = script_process(ctx, script, args).await?;
    run(ctx, &what, spec).await
}
