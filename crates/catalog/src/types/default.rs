//! `Default`: the pipeline-wide object with id `Default` (dp-writing-pipeline-definition).
//!
//! It has no `type` and is the implicit parent of every object that sets no `parent`, so it
//! typically carries `schedule`, `scheduleType`, `role`, `resourceRole`, `pipelineLogUri`,
//! `failureAndRerunMode`, `workerGroup`, `onFail`, `maximumRetries`. Rather than list the union
//! of every type's fields here, [`accepts_any_field`](ObjectKind::accepts_any_field) is true:
//! validation checks each field set on `Default` against the fields of all types
//! ([`Catalog::fields_named`](crate::Catalog::fields_named)), and each inheriting object then
//! checks the values it receives against its own specs.

use crate::spec::{Category, FieldSpec, ObjectKind};

/// The `Default` object: inherited by every object without an explicit `parent`.
pub struct Default;

impl ObjectKind for Default {
    fn type_name(&self) -> &'static str {
        "Default"
    }

    fn category(&self) -> Category {
        Category::Default
    }

    fn doc(&self) -> &'static str {
        "The `Default` object: inherited by every object without an explicit `parent`."
    }

    fn fields(&self) -> Vec<&'static FieldSpec> {
        Vec::new()
    }

    fn accepts_any_field(&self) -> bool {
        true
    }
}
