//! `SnsAlarm`: sends an SNS notification (dp-object-snsalarm).
//!
//! What it does on a runner: `sluice_executors::types::sns_alarm`.

use crate::common::{self, required};
use crate::spec::{Category, FieldSpec, ObjectKind, ValueType};

/// Publishes an Amazon SNS notification when an object succeeds, fails or is late.
pub struct SnsAlarm;

static FIELDS: &[FieldSpec] = &[
    required(
        "message",
        ValueType::String,
        "Body of the notification; #{node.*} reaches the triggering object.",
    ),
    required(
        "role",
        ValueType::String,
        "IAM role used to publish the notification.",
    ),
    required(
        "subject",
        ValueType::String,
        "Subject line of the notification.",
    ),
    required(
        "topicArn",
        ValueType::String,
        "ARN of the destination SNS topic.",
    ),
];

impl ObjectKind for SnsAlarm {
    fn type_name(&self) -> &'static str {
        "SnsAlarm"
    }

    fn category(&self) -> Category {
        Category::Action
    }

    fn doc(&self) -> &'static str {
        "Publishes an Amazon SNS notification when an object succeeds, fails or is late."
    }

    fn fields(&self) -> Vec<&'static FieldSpec> {
        common::with_common(common::PARENT_ONLY, FIELDS)
    }
}
