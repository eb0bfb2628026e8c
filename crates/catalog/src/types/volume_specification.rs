//! `VolumeSpecification`: one EBS volume's shape (EmrCluster page, EBS example).

use crate::common::{self, optional};
use crate::spec::{Category, FieldSpec, ObjectKind, ValueType};

/// Type, size and IOPS of an EBS volume.
pub struct VolumeSpecification;

static FIELDS: &[FieldSpec] = &[
    optional(
        "iops",
        ValueType::Integer,
        "Provisioned IOPS of the volume.",
    ),
    optional("sizeInGB", ValueType::Integer, "Size of the volume in GiB."),
    optional(
        "volumeType",
        ValueType::String,
        "EBS volume type, e.g. gp2, io1, st1, sc1 or standard.",
    ),
];

impl ObjectKind for VolumeSpecification {
    fn type_name(&self) -> &'static str {
        "VolumeSpecification"
    }

    fn category(&self) -> Category {
        Category::Configuration
    }

    fn doc(&self) -> &'static str {
        "Type, size and IOPS of an EBS volume."
    }

    fn fields(&self) -> Vec<&'static FieldSpec> {
        common::with_common(common::PARENT_ONLY, FIELDS)
    }
}
