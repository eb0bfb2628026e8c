//! `EbsBlockDeviceConfig`: identical EBS volumes per instance (EmrCluster page, EBS example).

use crate::common::{self, optional};
use crate::spec::{Category, FieldSpec, ObjectKind, RefTarget, ValueType};

/// A number of identical EBS volumes attached to every instance of a group.
pub struct EbsBlockDeviceConfig;

static FIELDS: &[FieldSpec] = &[
    optional(
        "volumeSpecification",
        ValueType::Reference(&[RefTarget::Type("VolumeSpecification")]),
        "Type, size and IOPS of each volume.",
    ),
    optional(
        "volumesPerInstance",
        ValueType::Integer,
        "Number of such volumes on each instance.",
    ),
];

impl ObjectKind for EbsBlockDeviceConfig {
    fn type_name(&self) -> &'static str {
        "EbsBlockDeviceConfig"
    }

    fn category(&self) -> Category {
        Category::Configuration
    }

    fn doc(&self) -> &'static str {
        "A number of identical EBS volumes attached to every instance of a group."
    }

    fn fields(&self) -> Vec<&'static FieldSpec> {
        common::with_common(common::PARENT_ONLY, FIELDS)
    }
}
