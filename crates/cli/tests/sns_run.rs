//! `SnsAlarm` end to end: `sluice run` of a failing activity whose `onFail` alarm publishes to
//! a real SNS server (moto), which delivers the notification to an HTTP listener in the test.

mod common;

use std::time::Duration;

use serde_json::{Value, json};
use sluice_testsupport::sns::{Moto, NotificationListener};

use common::{Sandbox, ondemand_default, shell};

/// How long moto gets to deliver a notification after the run has ended.
const DELIVERY_DEADLINE: Duration = Duration::from_secs(30);

fn alarm(id: &str, topic: &str, subject: &str, message: &str) -> Value {
    json!({
        "id": id,
        "type": "SnsAlarm",
        "topicArn": topic,
        "subject": subject,
        "message": message,
        "role": "DataPipelineDefaultRole",
    })
}

#[test]
fn a_failed_activity_publishes_its_on_fail_alarm_with_evaluated_fields() {
    let moto = Moto::start().unwrap();
    let listener = NotificationListener::start().unwrap();
    let topic = moto.create_topic("sluice-alarms").unwrap();
    moto.subscribe_http(&topic, &listener.url()).unwrap();

    let sb = Sandbox::new();
    let def = sb.write_definition(
        "p.json",
        json!([
            ondemand_default(json!({})),
            shell(
                "Load",
                "echo 'disk full' >&2; exit 4",
                json!({
                    "maximumRetries": "0",
                    "onFail": { "ref": "FailureAlarm" },
                    "onSuccess": { "ref": "SuccessAlarm" },
                })
            ),
            alarm(
                "FailureAlarm",
                &topic,
                "#{node.name} failed (#{node.@status})",
                "Run scheduled at #{node.@scheduledStartTime}: #{node.errorMessage}",
            ),
            alarm(
                "SuccessAlarm",
                &topic,
                "unexpected success",
                "should not be sent"
            ),
        ]),
    );
    let mut command = sb.command(&def);
    command
        .arg("--data-dir")
        .arg(sb.data_dir())
        .env("AWS_ENDPOINT_URL_SNS", moto.endpoint())
        .env("AWS_ACCESS_KEY_ID", "test")
        .env("AWS_SECRET_ACCESS_KEY", "moto-secret-key");
    let out = sb.run_command(command);
    out.assert_code(1);
    assert!(
        !out.stdout.contains("moto-secret-key") && !out.stderr.contains("moto-secret-key"),
        "the secret key was printed"
    );

    let body = listener.next(DELIVERY_DEADLINE).unwrap_or_else(|| {
        panic!(
            "no notification arrived\nstdout:\n{}\nstderr:\n{}",
            out.stdout, out.stderr
        )
    });
    let note: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(note["Type"], "Notification", "{note}");
    assert_eq!(note["TopicArn"], topic.as_str(), "{note}");
    assert_eq!(note["Subject"], "Load failed (FAILED)", "{note}");
    let message = note["Message"].as_str().unwrap();
    let scheduled = message
        .strip_prefix("Run scheduled at ")
        .and_then(|rest| rest.split(": ").next())
        .unwrap_or_else(|| panic!("unexpected message {message:?}"));
    assert!(
        chrono::NaiveDateTime::parse_from_str(scheduled, "%Y-%m-%dT%H:%M:%S").is_ok(),
        "{scheduled:?} in {message:?}"
    );
    assert!(
        out.stdout.contains(&format!("@Load_{scheduled}")),
        "the alarm names the failed instance's start {scheduled}:\n{}",
        out.stdout
    );
    assert!(
        message.contains("command exited with status 4"),
        "{message:?}"
    );
    // Only the failure alarm fired.
    assert_eq!(listener.next(Duration::from_millis(500)), None);
}

#[test]
fn an_unreachable_sns_endpoint_does_not_change_the_run() {
    let closed = sluice_testsupport::tools::free_port();
    let sb = Sandbox::new();
    let def = sb.write_definition(
        "p.json",
        json!([
            ondemand_default(json!({})),
            shell("Ok", "true", json!({ "onSuccess": { "ref": "Done" } })),
            alarm(
                "Done",
                "arn:aws:sns:us-east-1:123456789012:nowhere",
                "done",
                "#{node.name} finished",
            ),
        ]),
    );
    let mut command = sb.command(&def);
    command
        .arg("--data-dir")
        .arg(sb.data_dir())
        .env("AWS_ENDPOINT_URL_SNS", format!("http://127.0.0.1:{closed}"))
        .env("AWS_ACCESS_KEY_ID", "test")
        .env("AWS_SECRET_ACCESS_KEY", "closed-secret-key")
        .args(["--output", "json"]);
    let out = sb.run_command(command);
    out.assert_code(0);
    let report = out.report();
    assert_eq!(report.one("Ok").status, "FINISHED", "{}", out.stdout);
    let printed = format!("{}{}", out.stdout, out.stderr);
    assert!(!printed.contains("closed-secret-key"), "{printed}");
}
