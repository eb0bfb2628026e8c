//! `Ec2Resource`: an EC2 instance that runs activities (dp-object-ec2resource).
//!
//! `role` and `resourceRole` are common resource fields made required here.

use crate::common::{self, optional, repeated, required};
use crate::spec::{Category, FieldSpec, ObjectKind, ValueType};

/// An EC2 instance launched to run activities.
pub struct Ec2Resource;

static FIELDS: &[FieldSpec] = &[
    required(
        "role",
        ValueType::String,
        "IAM role the service uses to launch the instance.",
    ),
    required(
        "resourceRole",
        ValueType::String,
        "IAM role (instance profile) that controls what the instance can access.",
    ),
    optional(
        "associatePublicIpAddress",
        ValueType::Boolean,
        "Give the instance a public IP address.",
    ),
    optional(
        "imageId",
        ValueType::String,
        "AMI to launch; by default an HVM Amazon Linux AMI for the region.",
    ),
    optional(
        "instanceCount",
        ValueType::Integer,
        "Deprecated; an Ec2Resource has a single instance.",
    ),
    optional(
        "instanceType",
        ValueType::String,
        "EC2 instance type, e.g. m1.small or t2.small depending on the region.",
    ),
    optional(
        "minInstanceCount",
        ValueType::Integer,
        "Deprecated; an Ec2Resource has a single instance.",
    ),
    optional(
        "runAsUser",
        ValueType::String,
        "User that runs Task Runner on the instance.",
    ),
    repeated(
        "securityGroupIds",
        ValueType::String,
        "ID of an EC2 security group for the instance (VPC).",
    ),
    repeated(
        "securityGroups",
        ValueType::String,
        "Name of an EC2 security group for the instance (EC2-Classic or default VPC).",
    ),
    optional(
        "spotBidPrice",
        ValueType::Double,
        "Maximum hourly Spot price in USD, between 0 and 20.00 exclusive.",
    ),
    optional(
        "logUri",
        ValueType::String,
        "S3 location for Task Runner logs (legacy field used in AWS examples, not in the field table).",
    ),
];

/// What describes the EC2 instance AWS would launch; Sluice runs a local task runner instead.
static INERT: &[&str] = &[
    "associatePublicIpAddress",
    "availabilityZone",
    "httpProxy",
    "imageId",
    "instanceCount",
    "instanceType",
    "keyPair",
    "minInstanceCount",
    "runAsUser",
    "securityGroupIds",
    "securityGroups",
    "spotBidPrice",
    "subnetId",
    "useOnDemandOnLastAttempt",
];

impl ObjectKind for Ec2Resource {
    fn inert_fields(&self) -> &'static [&'static str] {
        INERT
    }

    fn type_name(&self) -> &'static str {
        "Ec2Resource"
    }

    fn category(&self) -> Category {
        Category::Resource
    }

    fn doc(&self) -> &'static str {
        "An EC2 instance launched to run activities."
    }

    fn fields(&self) -> Vec<&'static FieldSpec> {
        common::with_common(common::RESOURCE_FIELDS, FIELDS)
    }

    fn deprecated_fields(&self) -> &'static [(&'static str, &'static str)] {
        &[
            (
                "instanceCount",
                "an Ec2Resource launches exactly one instance",
            ),
            (
                "minInstanceCount",
                "an Ec2Resource launches exactly one instance",
            ),
        ]
    }
}
