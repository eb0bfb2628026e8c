//! SNS over HTTPS whose certificate a private CA signed: moto behind a TLS relay with a CA of
//! the test's own. With the CA bundle the message is published; without it the error names the
//! endpoint, the certificate and where a bundle goes.

#![cfg(feature = "sns")]

use std::net::SocketAddr;

use sluice_data::aws::{Secret, SnsSettings};
use sluice_data::sns::publish;
use sluice_testsupport::sns::Moto;
use sluice_testsupport::tls_relay::TlsRelay;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sns_publishes_over_https_with_the_ca_bundle_only() {
    let moto = Moto::start().unwrap();
    let topic = moto.create_topic("alarms").unwrap();
    let port: u16 = moto
        .endpoint()
        .rsplit(':')
        .next()
        .and_then(|p| p.parse().ok())
        .expect("moto's endpoint ends in its port");
    let relay = TlsRelay::start(SocketAddr::from(([127, 0, 0, 1], port))).unwrap();
    let trusted = SnsSettings {
        endpoint: Some(relay.endpoint()),
        access_key_id: Some("test".into()),
        secret_access_key: Some(Secret::new("moto-secret")),
        ca_bundle: Some(relay.ca_certificate()),
        ..SnsSettings::default()
    };
    let id = publish(&trusted, &topic, "disk full", "the disk is full")
        .await
        .unwrap();
    assert!(!id.is_empty());

    let untrusted = SnsSettings {
        ca_bundle: None,
        ..trusted
    };
    let err = publish(&untrusted, &topic, "disk full", "the disk is full")
        .await
        .unwrap_err()
        .to_string();
    // With AWS_CA_BUNDLE in the environment (CI machines often name the system's bundle
    // there), the message says that bundle lacks the CA; without it, where one goes.
    let remedy = match std::env::var("AWS_CA_BUNDLE") {
        Ok(bundle) if !bundle.trim().is_empty() => {
            format!("the CA bundle {bundle} (AWS_CA_BUNDLE) does not hold the CA that signed it")
        }
        _ => "data.sns.caBundle or AWS_CA_BUNDLE".to_string(),
    };
    for part in [
        relay.endpoint().as_str(),
        "invalid peer certificate",
        remedy.as_str(),
    ] {
        assert!(err.contains(part), "expected {part:?} in {err}");
    }
    assert!(!err.contains("moto-secret"), "{err}");
}
