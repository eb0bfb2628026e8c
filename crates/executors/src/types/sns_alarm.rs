//! `SnsAlarm`: sends an SNS notification (dp-object-snsalarm).
//!
//! Actions are fired by the service, not by a task runner: when an instance succeeds, fails or
//! is late, the service evaluates the alarm's fields with `node` bound to that instance
//! (`#{node.@scheduledStartTime}`, `#{node.errorMessage}`) and calls [`publish`]. A failed
//! publish is the caller's to log; it never fails the pipeline.

use sluice_data::DataSettings;
use sluice_model::PipelineObject;

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
    #[cfg(feature = "sns")]
    return sluice_data::sns::publish(&settings.sns, topic, subject, message)
        .await
        .map_err(|e| format!("SnsAlarm {}: {e}", alarm.id));
    #[cfg(not(feature = "sns"))]
    {
        let _ = (settings, topic, subject, message);
        Err(sluice_data::left_out(
            format!("SnsAlarm {}", alarm.id),
            "SNS",
            "sns",
        ))
    }
}
