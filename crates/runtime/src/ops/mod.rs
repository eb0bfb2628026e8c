//! The 19 operations, one file per group, each an `impl Service` block taking the caller's
//! principal and the decoded request.

mod activation;
mod control;
mod definitions;
mod objects;
mod pipelines;
pub(crate) mod tags;
mod tasks;
