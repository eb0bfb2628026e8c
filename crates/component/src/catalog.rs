//! The one place where object types are registered.
//!
//! To add a type: write `types/<snake_name>.rs` with a unit struct implementing
//! [`ObjectKind`](crate::ObjectKind), declare the module in `types/mod.rs`, and add one line to
//! `types::ALL`. The `catalog` tests check names are unique and match the AWS reference.

use crate::spec::ObjectKind;
use crate::types;

/// A lookup table of object types by AWS `type` name.
#[derive(Clone)]
pub struct Catalog {
    kinds: Vec<&'static dyn ObjectKind>,
}

impl Catalog {
    /// Every built-in type.
    pub fn builtin() -> Self {
        Catalog { kinds: types::ALL.to_vec() }
    }

    /// A catalog of exactly `kinds` (for tests and embedders).
    pub fn from_kinds(kinds: Vec<&'static dyn ObjectKind>) -> Self {
        Catalog { kinds }
    }

    /// Looks up a type by its exact AWS name (type names are case-sensitive).
    pub fn get(&self, type_name: &str) -> Option<&'static dyn ObjectKind> {
        self.kinds.iter().copied().find(|k| k.type_name() == type_name)
    }

    /// Every registered type, in registration order.
    pub fn kinds(&self) -> impl Iterator<Item = &'static dyn ObjectKind> + '_ {
        self.kinds.iter().copied()
    }

    /// Every registered type name, in registration order.
    pub fn type_names(&self) -> Vec<&'static str> {
        self.kinds.iter().map(|k| k.type_name()).collect()
    }
}

impl Default for Catalog {
    fn default() -> Self {
        Catalog::builtin()
    }
}
