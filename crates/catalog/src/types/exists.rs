//! `Exists`: the referencing data node exists (dp-object-exists); checked by a task runner.
//!
//! AWS recommends the system-managed preconditions instead.
//!
//! What it does on a runner: `sluice_executors::types::exists`.

use crate::common;
use crate::spec::{Category, FieldSpec, ObjectKind};

/// True when the data node it is evaluated for exists.
pub struct Exists;

impl ObjectKind for Exists {
    fn type_name(&self) -> &'static str {
        "Exists"
    }

    fn category(&self) -> Category {
        Category::Precondition
    }

    fn doc(&self) -> &'static str {
        "True when the data node it is evaluated for exists."
    }

    fn fields(&self) -> Vec<&'static FieldSpec> {
        common::with_common(common::PRECONDITION_FIELDS, &[])
    }
}
