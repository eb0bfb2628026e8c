//! Publishing notifications to SNS topics, for `SnsAlarm`.
//!
//! The region comes from the topic ARN (`arn:aws:sns:<region>:<account>:<name>`), so a topic
//! in another region is reached there; endpoints and credentials come from
//! [`SnsSettings`] and then `AWS_ENDPOINT_URL_SNS`, `AWS_ENDPOINT_URL`, `AWS_ACCESS_KEY_ID`,
//! `AWS_SECRET_ACCESS_KEY`.

use aws_sdk_sns::error::DisplayErrorContext;

use crate::aws::AwsError;
pub use crate::aws::SnsSettings;

const SERVICE: &str = "SNS";

/// SNS's limit on a subject line.
const MAX_SUBJECT: usize = 100;

/// The region named by a topic ARN, if it is one.
pub fn topic_region(topic_arn: &str) -> Option<&str> {
    let mut parts = topic_arn.split(':');
    match (parts.next(), parts.next(), parts.next(), parts.next()) {
        (Some("arn"), Some(_partition), Some("sns"), Some(region)) if !region.is_empty() => {
            Some(region)
        }
        _ => None,
    }
}

/// Publishes `message` with `subject` to `topic_arn`; returns the message id.
///
/// SNS refuses subjects over 100 characters or with line breaks; Sluice shortens and flattens
/// the subject instead, since an alarm that arrives with a clipped subject beats one that is
/// refused.
pub async fn publish(
    settings: &SnsSettings,
    topic_arn: &str,
    subject: &str,
    message: &str,
) -> Result<String, AwsError> {
    if !topic_arn.starts_with("arn:") {
        return Err(AwsError::Invalid(format!(
            "topicArn {topic_arn:?} is not an ARN (arn:aws:sns:<region>:<account>:<topic>)"
        )));
    }
    if message.is_empty() {
        return Err(AwsError::Invalid(format!(
            "the message for {topic_arn} is empty; SNS refuses empty messages"
        )));
    }
    let target = settings.target(SERVICE, topic_region(topic_arn))?;
    let mut config = aws_sdk_sns::Config::builder()
        .behavior_version(aws_sdk_sns::config::BehaviorVersion::latest())
        .region(aws_sdk_sns::config::Region::new(target.region.clone()))
        .credentials_provider(target.sdk_credentials())
        .timeout_config(crate::aws::timeouts());
    if let Some(url) = &target.endpoint {
        config = config.endpoint_url(url);
    }
    if let Some(client) = target.http_client(SERVICE)? {
        config = config.http_client(client);
    }
    let client = aws_sdk_sns::Client::from_conf(config.build());
    let mut request = client.publish().topic_arn(topic_arn).message(message);
    let subject = clean_subject(subject);
    if !subject.is_empty() {
        request = request.subject(subject);
    }
    let out = request.send().await.map_err(|err| AwsError::Service {
        service: "SNS",
        operation: "Publish",
        message: target.explain(
            SERVICE,
            format!(
                "topic {topic_arn} at {}: {}",
                target.describe(),
                DisplayErrorContext(&err)
            ),
        ),
    })?;
    Ok(out.message_id().unwrap_or_default().to_owned())
}

fn clean_subject(subject: &str) -> String {
    let flat: String = subject
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    let flat = flat.trim();
    match flat.char_indices().nth(MAX_SUBJECT) {
        Some((cut, _)) => flat[..cut].to_owned(),
        None => flat.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_region_comes_from_the_topic_arn() {
        assert_eq!(
            topic_region("arn:aws:sns:eu-west-1:123456789012:alerts"),
            Some("eu-west-1")
        );
        assert_eq!(topic_region("alerts"), None);
        assert_eq!(topic_region("arn:aws:s3:::bucket"), None);
    }

    #[test]
    fn subjects_are_flattened_and_clipped_to_what_sns_accepts() {
        assert_eq!(clean_subject(" Failed:\nCopy\t1 "), "Failed: Copy 1");
        let long = "é".repeat(150);
        assert_eq!(clean_subject(&long).chars().count(), 100);
    }

    #[tokio::test]
    async fn bad_topics_and_empty_messages_are_refused_before_any_request() {
        let settings = SnsSettings::default();
        let err = publish(&settings, "alerts", "s", "m").await.unwrap_err();
        assert!(err.to_string().contains("is not an ARN"), "{err}");
        let err = publish(&settings, "arn:aws:sns:us-east-1:1:t", "s", "")
            .await
            .unwrap_err();
        assert!(err.to_string().contains("empty"), "{err}");
    }
}
