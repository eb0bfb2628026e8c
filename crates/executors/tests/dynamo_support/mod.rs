//! Shared by the DynamoDB tests: tables on a dynalite server.

use std::time::Duration;

use sluice_data::DataSettings;
use sluice_data::aws::Secret;
use sluice_data::dynamodb::{DynamoClient, DynamoSettings};
use sluice_testsupport::dynamodb::{Dynalite, create_id_table};
use sluice_testsupport::poll::wait_for_async;

/// Creates a table keyed by string `id` and waits (polling) until it is ACTIVE.
pub(crate) async fn create_table(
    client: &DynamoClient,
    name: &str,
    read_units: i64,
    write_units: i64,
) {
    create_id_table(client.sdk(), name, read_units, write_units).await;
    let what = format!("{name} to become ACTIVE");
    wait_for_async(&what, Duration::from_secs(30), || async {
        let info = client.describe_table(name).await.unwrap();
        match &info {
            Some(i) if i.status == "ACTIVE" => Ok(()),
            _ => Err(format!("{info:?}")),
        }
    })
    .await;
}

/// Data settings that reach each `(region, server)` of `endpoints`, the first region being the
/// default, signing with key id `test` and `secret`.
pub(crate) fn dynamo_settings(endpoints: &[(&str, &Dynalite)], secret: &str) -> DataSettings {
    DataSettings {
        dynamodb: DynamoSettings {
            region: Some(endpoints[0].0.to_owned()),
            endpoints: endpoints
                .iter()
                .map(|(region, server)| ((*region).to_owned(), server.endpoint()))
                .collect(),
            access_key_id: Some("test".into()),
            secret_access_key: Some(Secret::new(secret)),
            ..DynamoSettings::default()
        },
        ..DataSettings::default()
    }
}
