//! Errors the engine reports to its callers (API handlers, the CLI, task runners).
//!
//! Each variant maps onto one AWS error: [`EngineError::TaskNotFound`] is
//! TaskNotFoundException, [`EngineError::InvalidRequest`] and [`EngineError::ObjectNotFound`]
//! are InvalidRequestException, [`EngineError::Store`] is an internal service error. A store
//! error keeps its kind ([`StoreError`]), so the scheduler and its callers tell an outage, a
//! competing writer and unreadable data apart without reading messages.

use crate::plan::PlanError;
use crate::store::StoreError;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum EngineError {
    /// The task id is unknown, finished, or its lease was lost.
    #[error("task '{0}' not found: it is unknown, already finished, or its lease expired")]
    TaskNotFound(String),
    /// An object id names neither a component nor an instance of the pipeline.
    #[error("object '{0}' not found in the pipeline")]
    ObjectNotFound(String),
    /// The request is malformed or not allowed in the pipeline's state.
    #[error("{0}")]
    InvalidRequest(String),
    /// The definition cannot be run.
    #[error(transparent)]
    Plan(#[from] PlanError),
    /// The state store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

pub type EngineResult<T> = Result<T, EngineError>;
