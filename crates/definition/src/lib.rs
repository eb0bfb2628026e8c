//! Turns a pipeline definition (API form, as PutPipelineDefinition carries it) into what the
//! rest of Sluice needs:
//!
//! * [`resolve`]: the effective fields of every object after `parent` / `Default` inheritance;
//! * [`params`]: declared parameters and the values they resolve to;
//! * [`validate()`]: the answer ValidatePipelineDefinition gives, as a [`ValidationReport`];
//! * [`load`]: a validated [`ResolvedPipeline`] ready for the engine;
//! * [`DefinitionContext`]: an expression context over a resolved definition.
//!
//! Nothing here knows individual object types: every type-specific fact comes from a
//! [`sluice_catalog::Catalog`], so validation behaves the same for built-in and test catalogs.
//! Service limits live in [`Limits`] rather than constants because AWS made several of them
//! adjustable and a self-hosted service should let operators do the same.

pub mod context;
mod expressions;
pub mod limits;
pub mod params;
pub mod report;
pub mod resolve;
mod suggest;
pub mod validate;

#[cfg(test)]
mod testkit;

pub use context::DefinitionContext;
pub use limits::{Enforcement, Limits};
pub use params::{ParameterDecl, ParameterType, Parameters};
pub use report::{Code, PIPELINE_ID, ValidationReport};
pub use resolve::{ResolvedObject, ResolvedPipeline, resolve};
pub use validate::{ValidateOptions, load, validate};
