//! One module per AWS object type.

use crate::spec::ObjectKind;

/// Every built-in type, in the order `sluice` lists them.
pub const ALL: &[&dyn ObjectKind] = &[];
