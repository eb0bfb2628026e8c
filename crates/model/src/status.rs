//! `@status` values of components, instances and attempts, and `@pipelineState` of pipelines,
//! spelled as AWS spells them.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// Status of a component, instance or attempt (`@status`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Status {
    Pending,
    Scheduled,
    Activating,
    Creating,
    WaitingOnDependencies,
    WaitingForRunner,
    Running,
    Finished,
    Failed,
    CascadeFailed,
    Canceled,
    #[serde(rename = "TIMEDOUT")]
    TimedOut,
    ShuttingDown,
    Skipped,
    Paused,
}

impl Status {
    pub const ALL: [Status; 15] = [
        Status::Pending,
        Status::Scheduled,
        Status::Activating,
        Status::Creating,
        Status::WaitingOnDependencies,
        Status::WaitingForRunner,
        Status::Running,
        Status::Finished,
        Status::Failed,
        Status::CascadeFailed,
        Status::Canceled,
        Status::TimedOut,
        Status::ShuttingDown,
        Status::Skipped,
        Status::Paused,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Status::Pending => "PENDING",
            Status::Scheduled => "SCHEDULED",
            Status::Activating => "ACTIVATING",
            Status::Creating => "CREATING",
            Status::WaitingOnDependencies => "WAITING_ON_DEPENDENCIES",
            Status::WaitingForRunner => "WAITING_FOR_RUNNER",
            Status::Running => "RUNNING",
            Status::Finished => "FINISHED",
            Status::Failed => "FAILED",
            Status::CascadeFailed => "CASCADE_FAILED",
            Status::Canceled => "CANCELED",
            Status::TimedOut => "TIMEDOUT",
            Status::ShuttingDown => "SHUTTING_DOWN",
            Status::Skipped => "SKIPPED",
            Status::Paused => "PAUSED",
        }
    }

    /// Whether nothing more will happen to the object without an operator's command.
    pub fn is_terminal(self) -> bool {
        matches!(
            self,
            Status::Finished
                | Status::Failed
                | Status::CascadeFailed
                | Status::Canceled
                | Status::TimedOut
                | Status::Skipped
        )
    }

    /// Whether the status counts as success for dependants and health.
    pub fn is_success(self) -> bool {
        matches!(self, Status::Finished | Status::Skipped)
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("'{0}' is not a status")]
pub struct UnknownStatus(pub String);

impl FromStr for Status {
    type Err = UnknownStatus;

    /// Parses case-insensitively, as real clients send mixed case.
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        Status::ALL
            .into_iter()
            .find(|s| s.as_str().eq_ignore_ascii_case(text))
            .ok_or_else(|| UnknownStatus(text.to_owned()))
    }
}

/// `@pipelineState` as DescribePipelines reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum PipelineState {
    Pending,
    Validating,
    Scheduled,
    Finished,
    Deactivating,
    Inactive,
}

impl PipelineState {
    pub fn as_str(self) -> &'static str {
        match self {
            PipelineState::Pending => "PENDING",
            PipelineState::Validating => "VALIDATING",
            PipelineState::Scheduled => "SCHEDULED",
            PipelineState::Finished => "FINISHED",
            PipelineState::Deactivating => "DEACTIVATING",
            PipelineState::Inactive => "INACTIVE",
        }
    }
}

impl fmt::Display for PipelineState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_round_trip_through_text_and_json() {
        for status in Status::ALL {
            assert_eq!(status.as_str().parse::<Status>(), Ok(status));
            assert_eq!(status.as_str().to_lowercase().parse::<Status>(), Ok(status));
            let json = serde_json::to_string(&status).unwrap();
            assert_eq!(json, format!("\"{}\"", status.as_str()));
        }
        assert!("DONE".parse::<Status>().is_err());
    }
}
