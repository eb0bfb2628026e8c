//! The vocabulary every other Sluice crate speaks: the API shapes of the AWS Data Pipeline
//! `2012-10-29` service model, the definition-file form the AWS CLI reads, and the scalar
//! grammars (periods, datetimes) that field values use.
//!
//! Nothing here performs I/O or knows about object types: the catalog of types lives in
//! `sluice-catalog`, validation in `sluice-definition`. Keeping this crate free of policy
//! lets the API server, the engine and the CLI share one spelling of every AWS name.

pub mod api;
pub mod file;
pub mod ops;
pub mod period;
pub mod secret;
pub mod time;

pub use api::{
    Field, FieldValue, ParameterAttribute, ParameterObject, ParameterValue, PipelineDefinition,
    PipelineObject, ValidationError, ValidationWarning,
};
pub use file::{
    FileError, ParsedFile, parse_any_definition, parse_definition_file, to_definition_file,
};
pub use period::{Period, PeriodError, PeriodUnit};
pub use secret::{Redactor, Secret};
pub mod task;

pub use task::{TaskObject, TaskResult, TaskStatus};
pub mod status;

pub use status::{PipelineState, Status};
