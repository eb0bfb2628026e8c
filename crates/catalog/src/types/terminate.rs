//! `Terminate`: cancels a late object (dp-object-terminate).
//!
//! Only meaningful from `onLateAction` on an object that sets `lateAfterTimeout`.

use crate::common;
use crate::spec::{Category, FieldSpec, ObjectKind};

/// Cancels the late object that triggered it (onLateAction).
pub struct Terminate;

impl ObjectKind for Terminate {
    fn type_name(&self) -> &'static str {
        "Terminate"
    }

    fn category(&self) -> Category {
        Category::Action
    }

    fn doc(&self) -> &'static str {
        "Cancels the late object that triggered it (onLateAction)."
    }

    fn fields(&self) -> Vec<&'static FieldSpec> {
        common::with_common(common::PARENT_ONLY, &[])
    }
}
