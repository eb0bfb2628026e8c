//! `ShellCommandPrecondition`: a command exits 0 (dp-object-shellcommandprecondition); run by a task runner.
//!
//! Runs like ShellCommandActivity without staging ([`exec::shell`](crate::exec::shell)). Exit 0
//! is true (FINISHED), any other exit status is false (FALSE). A process killed by a signal it
//! did not ask for, a spawn failure or a cancellation is an error (FAILED), not a false
//! condition: none of them says anything about the condition.

use crate::exec::process::ProcessOutcome;
use crate::exec::shell;
use crate::execute::{AttemptContext, ExecFuture, Execute};
use sluice_model::TaskResult;

/// Executes `ShellCommandPrecondition` attempts.
pub struct ShellCommandPrecondition;

impl Execute for ShellCommandPrecondition {
    fn execute<'a>(&'a self, ctx: &'a AttemptContext) -> ExecFuture<'a> {
        Box::pin(async move {
            match shell::run_shell(ctx, Vec::new()).await {
                Ok(report) => match report.outcome {
                    ProcessOutcome::Exited(0) => TaskResult::finished(),
                    ProcessOutcome::Exited(_) => TaskResult::condition_false(),
                    _ => shell::exit_failure(&report),
                },
                Err(result) => result,
            }
        })
    }
}
