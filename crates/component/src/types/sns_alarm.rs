//! `SnsAlarm`: sends an SNS notification (dp-object-snsalarm).
//!
//! Actions are fired by the service, not by a task runner: when an instance succeeds, fails or
//! is late, the service evaluates the alarm's fields with `node` bound to that instance
//! (`#{node.@scheduledStartTime}`, `#{node.errorMessage}`) and calls [`publish`]. A failed
//! publish is the caller's to log; it never fails the pipeline.

use sluice_data::DataSettings;
use sluice_model::PipelineObject;

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

/// Publishes an evaluated SnsAlarm object (`topicArn`, `subject`, `message`); returns SNS's
/// message id. The error names the alarm and the topic, never credentials.
pub async fn publish(alarm: &PipelineObject, settings: &DataSettings) -> Result<String, String> {
    let field = |name: &str| {
        alarm
            .string(name)
            .ok_or_else(|| format!("SnsAlarm {} has no {name}", alarm.id))
    };
    let topic = field("topicArn")?;
    let subject = field("subject")?;
    let message = field("message")?;
    sluice_data::sns::publish(&settings.sns, topic, subject, message)
        .await
        .map_err(|e| format!("SnsAlarm {}: {e}", alarm.id))
}
