//! The catalog of pipeline object types.
//!
//! Each AWS `type` (`ShellCommandActivity`, `S3DataNode`, `Exists`, `SnsAlarm`, …) is a unit
//! struct in its own file under `types/` implementing [`ObjectKind`]: its name, its category and
//! its field specs. Fields every type of a family shares (AWS "common fields") are in
//! [`common`]. [`types::ALL`] is the one place that registers them. Validation
//! (`sluice-definition`) only ever consults a [`Catalog`], so tests and embedders can supply
//! their own.

pub mod spec;

pub use spec::{Category, FieldSpec, ManagedBy, ObjectKind, OneOf, RefTarget, ValueType};
pub mod catalog;
pub mod common;
pub mod types;

pub use catalog::Catalog;
