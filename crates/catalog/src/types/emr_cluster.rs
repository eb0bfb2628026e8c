//! `EmrCluster`: an EMR cluster that runs activities (dp-object-emrcluster).
//!
//! Bid prices are Strings, not Doubles, because `OnDemandPrice` is a valid value.
//!
//! The field table also lists `EbsBlockDeviceConfig` and `VolumeSpecification`; AWS's example
//! uses those only as object *types* reached through `*EbsConfiguration`, which is how they
//! are modelled ([`EbsConfiguration`](super::EbsConfiguration)). The instance-group
//! configurations are repeatable like `configuration`, since all map to an EMR
//! Configurations list.
//!
//! `hadoopVersion`, `emrLogUri` and `installHive` are not in the field table but appear in
//! AWS's own examples and console templates, so definitions using them must not be rejected.

use crate::common::{self, optional, repeated};
use crate::spec::{Category, FieldSpec, ObjectKind, RefTarget, ValueType};

/// An EMR cluster launched to run EMR-based activities.
pub struct EmrCluster;

/// Values of `hadoopSchedulerType`.
pub const HADOOP_SCHEDULER_TYPE_VALUES: &[&str] = &[
    "PARALLEL_FAIR_SCHEDULING",
    "PARALLEL_CAPACITY_SCHEDULING",
    "DEFAULT_SCHEDULER",
];

const EBS_CONFIGURATION_REF: &[RefTarget] = &[RefTarget::Type("EbsConfiguration")];

static FIELDS: &[FieldSpec] = &[
    repeated(
        "additionalMasterSecurityGroupIds",
        ValueType::String,
        "Additional security group (sg-...) for the master node.",
    ),
    repeated(
        "additionalSlaveSecurityGroupIds",
        ValueType::String,
        "Additional security group (sg-...) for the core and task nodes.",
    ),
    optional(
        "amiVersion",
        ValueType::String,
        "EMR AMI version, for clusters before release labels (EMR 2.x/3.x).",
    ),
    repeated(
        "applications",
        ValueType::String,
        "Application to install (EMR 4.0 and later); Hive and Pig by default.",
    ),
    repeated(
        "bootstrapAction",
        ValueType::String,
        "Bootstrap action run at cluster start: script followed by comma-separated arguments (up to 255).",
    ),
    repeated(
        "configuration",
        ValueType::Reference(common::EMR_CONFIGURATION_REF),
        "EMR configuration of the cluster (EMR 4.0 and later).",
    ),
    optional(
        "coreInstanceBidPrice",
        ValueType::String,
        "Maximum Spot price in USD for core nodes, or OnDemandPrice; enables Spot for them.",
    ),
    optional(
        "coreInstanceCount",
        ValueType::Integer,
        "Number of core nodes.",
    ),
    optional(
        "coreInstanceType",
        ValueType::String,
        "EC2 instance type of the core nodes.",
    ),
    repeated(
        "coreGroupConfiguration",
        ValueType::Reference(common::EMR_CONFIGURATION_REF),
        "EMR configuration of the core instance group (EMR 4.0 and later).",
    ),
    optional(
        "coreEbsConfiguration",
        ValueType::Reference(EBS_CONFIGURATION_REF),
        "EBS volumes attached to each core node.",
    ),
    optional(
        "emrManagedMasterSecurityGroupId",
        ValueType::String,
        "EMR-managed security group (sg-...) of the master node.",
    ),
    optional(
        "emrManagedSlaveSecurityGroupId",
        ValueType::String,
        "EMR-managed security group (sg-...) of the core and task nodes.",
    ),
    optional(
        "enableDebugging",
        ValueType::Boolean,
        "Enable EMR debugging on the cluster.",
    ),
    optional(
        "hadoopSchedulerType",
        ValueType::Enumeration(HADOOP_SCHEDULER_TYPE_VALUES),
        "Hadoop scheduler of the cluster.",
    ),
    optional(
        "masterInstanceBidPrice",
        ValueType::String,
        "Maximum Spot price in USD for master nodes, or OnDemandPrice; enables Spot for them.",
    ),
    optional(
        "masterInstanceType",
        ValueType::String,
        "EC2 instance type of the master node.",
    ),
    repeated(
        "masterGroupConfiguration",
        ValueType::Reference(common::EMR_CONFIGURATION_REF),
        "EMR configuration of the master instance group (EMR 4.0 and later).",
    ),
    optional(
        "masterEbsConfiguration",
        ValueType::Reference(EBS_CONFIGURATION_REF),
        "EBS volumes attached to each master node.",
    ),
    optional(
        "releaseLabel",
        ValueType::String,
        "EMR release label, e.g. emr-5.30.0 (EMR 4.0 and later; use amiVersion before).",
    ),
    optional(
        "serviceAccessSecurityGroupId",
        ValueType::String,
        "Service access security group (sg-...) of the cluster.",
    ),
    optional(
        "supportedProducts",
        ValueType::String,
        "Third-party software to install, e.g. a Hadoop distribution.",
    ),
    optional(
        "taskInstanceBidPrice",
        ValueType::String,
        "Maximum Spot price in USD for task nodes, or OnDemandPrice; enables Spot for them.",
    ),
    optional(
        "taskInstanceCount",
        ValueType::Integer,
        "Number of task nodes.",
    ),
    optional(
        "taskInstanceType",
        ValueType::String,
        "EC2 instance type of the task nodes.",
    ),
    repeated(
        "taskGroupConfiguration",
        ValueType::Reference(common::EMR_CONFIGURATION_REF),
        "EMR configuration of the task instance group (EMR 4.0 and later).",
    ),
    optional(
        "taskEbsConfiguration",
        ValueType::Reference(EBS_CONFIGURATION_REF),
        "EBS volumes attached to each task node.",
    ),
    optional(
        "hadoopVersion",
        ValueType::String,
        "Hadoop version for AMI-based clusters (legacy field used in AWS examples).",
    ),
    optional(
        "emrLogUri",
        ValueType::String,
        "S3 location for EMR logs (legacy field used in AWS templates).",
    ),
    optional(
        "installHive",
        ValueType::String,
        "Hive version to install on AMI-based clusters (legacy field used in AWS templates).",
    ),
];

/// What describes AWS's machines and services; Sluice keeps it but runs EMR work on its Spark
/// environment instead.
static INERT: &[&str] = &[
    "additionalMasterSecurityGroupIds",
    "additionalSlaveSecurityGroupIds",
    "amiVersion",
    "applications",
    "availabilityZone",
    "configuration",
    "coreEbsConfiguration",
    "coreGroupConfiguration",
    "coreInstanceBidPrice",
    "coreInstanceCount",
    "coreInstanceType",
    "emrLogUri",
    "emrManagedMasterSecurityGroupId",
    "emrManagedSlaveSecurityGroupId",
    "enableDebugging",
    "hadoopSchedulerType",
    "hadoopVersion",
    "httpProxy",
    "installHive",
    "keyPair",
    "masterEbsConfiguration",
    "masterGroupConfiguration",
    "masterInstanceBidPrice",
    "masterInstanceType",
    "releaseLabel",
    "serviceAccessSecurityGroupId",
    "subnetId",
    "supportedProducts",
    "taskEbsConfiguration",
    "taskGroupConfiguration",
    "taskInstanceBidPrice",
    "taskInstanceCount",
    "taskInstanceType",
    "useOnDemandOnLastAttempt",
];

impl ObjectKind for EmrCluster {
    fn inert_fields(&self) -> &'static [&'static str] {
        INERT
    }

    fn type_name(&self) -> &'static str {
        "EmrCluster"
    }

    fn category(&self) -> Category {
        Category::Resource
    }

    fn doc(&self) -> &'static str {
        "An EMR cluster launched to run EMR-based activities."
    }

    fn fields(&self) -> Vec<&'static FieldSpec> {
        common::with_common(common::RESOURCE_FIELDS, FIELDS)
    }
}
