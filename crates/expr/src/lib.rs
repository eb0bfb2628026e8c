//! The `#{...}` expression language (to be written).

pub mod context;
pub use context::{Binding, Context, ScalarKind, Value};
