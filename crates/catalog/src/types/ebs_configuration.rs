//! `EbsConfiguration`: EBS volumes of an EMR instance group (EmrCluster page, EBS example).
//!
//! AWS gives no field table for the EBS objects, only an example, so no field is required;
//! EMR rejects incomplete volume specifications when the cluster is created.

use crate::common::{self, optional, repeated};
use crate::spec::{Category, FieldSpec, ObjectKind, RefTarget, ValueType};

/// EBS volumes attached to the nodes of one EMR instance group.
pub struct EbsConfiguration;

static FIELDS: &[FieldSpec] = &[
    optional(
        "ebsOptimized",
        ValueType::Boolean,
        "Request EBS-optimized instances.",
    ),
    repeated(
        "ebsBlockDeviceConfig",
        ValueType::Reference(&[RefTarget::Type("EbsBlockDeviceConfig")]),
        "Group of identical volumes to attach.",
    ),
];

impl ObjectKind for EbsConfiguration {
    fn type_name(&self) -> &'static str {
        "EbsConfiguration"
    }

    fn category(&self) -> Category {
        Category::Configuration
    }

    fn doc(&self) -> &'static str {
        "EBS volumes attached to the nodes of one EMR instance group."
    }

    fn fields(&self) -> Vec<&'static FieldSpec> {
        common::with_common(common::PARENT_ONLY, FIELDS)
    }
}
