//! The registry a runner looks executors up in.

use std::collections::HashMap;
use std::sync::Arc;

use crate::execute::Execute;

/// Executors by AWS type name.
#[derive(Clone)]
pub struct Executors {
    by_type: Arc<HashMap<&'static str, &'static dyn Execute>>,
}

impl Executors {
    /// Every built-in executor ([`types::ALL`](crate::types::ALL)).
    pub fn builtin() -> Self {
        Self::from_entries(crate::types::ALL.iter().copied())
    }

    /// A registry of exactly these `(type name, executor)` pairs; a later pair for the same
    /// type replaces an earlier one.
    pub fn from_entries(
        entries: impl IntoIterator<Item = (&'static str, &'static dyn Execute)>,
    ) -> Self {
        Executors {
            by_type: Arc::new(entries.into_iter().collect()),
        }
    }

    /// The executor of `type_name`, if the type does work on a runner.
    pub fn get(&self, type_name: &str) -> Option<&'static dyn Execute> {
        self.by_type.get(type_name).copied()
    }

    /// The registered type names, sorted.
    pub fn type_names(&self) -> Vec<&'static str> {
        let mut names: Vec<_> = self.by_type.keys().copied().collect();
        names.sort_unstable();
        names
    }
}

impl std::fmt::Debug for Executors {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_set().entries(self.type_names()).finish()
    }
}
