//! `RedshiftDataNode`: what executors read of a Redshift table node.

use sluice_model::{FieldValue, PipelineObject};

/// The node's `primaryKeys`, in order.
pub(crate) fn primary_keys(node: &PipelineObject) -> Vec<String> {
    node.values("primaryKeys")
        .filter_map(FieldValue::as_str)
        .map(str::to_string)
        .collect()
}
