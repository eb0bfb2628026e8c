//! What the AWS service clients (DynamoDB, SNS) share: where to send requests, with which
//! credentials, and how failures read.
//!
//! Each service has its own settings ([`DynamoSettings`], [`SnsSettings`]), so DynamoDB can
//! live on one server and SNS on another. Anything a setting leaves open comes from the environment variables the AWS
//! tools use (`AWS_REGION`, `AWS_ENDPOINT_URL_<SERVICE>`, `AWS_ENDPOINT_URL`,
//! `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`, `AWS_SESSION_TOKEN`), plus Sluice's
//! per-region `SLUICE_ENDPOINT_URL_<SERVICE>_<REGION>`. Secrets are held in
//! [`Secret`], whose `Debug` and `Display` print a placeholder, and no error message ever carries them.

use std::collections::BTreeMap;
use std::fmt;
use std::path::PathBuf;

use serde::Deserialize;

/// `AWS_CA_BUNDLE`, read for every AWS service as for S3.
pub use crate::storage::CA_BUNDLE_ENV;
/// The same secret type as the S3 settings: usable, never printed.
pub use crate::storage::Secret;

/// The region used when neither the object, the settings nor `AWS_REGION` names one.
pub const DEFAULT_REGION: &str = "us-east-1";

/// How one AWS service is reached.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, deny_unknown_fields, rename_all = "camelCase")]
pub struct AwsServiceSettings {
    /// Region used when the object names none (then `AWS_REGION`, `AWS_DEFAULT_REGION`,
    /// `us-east-1`).
    pub region: Option<String>,
    /// Endpoint URL per region, e.g. two local servers standing for `us-east-1` and
    /// `eu-west-1`.
    pub endpoints: BTreeMap<String, String>,
    /// Endpoint URL for every region not in `endpoints` (then
    /// `SLUICE_ENDPOINT_URL_<SERVICE>_<REGION>`, `AWS_ENDPOINT_URL_<SERVICE>`,
    /// `AWS_ENDPOINT_URL`, then the real AWS endpoint).
    pub endpoint: Option<String>,
    /// Access key id (else `AWS_ACCESS_KEY_ID`).
    pub access_key_id: Option<String>,
    /// Secret access key (else `AWS_SECRET_ACCESS_KEY`).
    pub secret_access_key: Option<Secret>,
    /// Session token for temporary credentials (else `AWS_SESSION_TOKEN`).
    pub session_token: Option<Secret>,
    /// A PEM file of CA certificates trusted for `https://` endpoints besides the system's
    /// roots (else `AWS_CA_BUNDLE`).
    pub ca_bundle: Option<PathBuf>,
}

/// How DynamoDB is reached: the client part, plus how much of a table's throughput to use.
///
/// Here rather than in [`dynamodb`](crate::dynamodb) so that settings files parse the same in
/// builds without DynamoDB support.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields, rename_all = "camelCase")]
pub struct DynamoSettings {
    /// Region used when a data node or precondition names none (then `AWS_REGION`,
    /// `AWS_DEFAULT_REGION`, `us-east-1`).
    pub region: Option<String>,
    /// Endpoint URL per region, e.g. two local servers standing for two regions.
    pub endpoints: BTreeMap<String, String>,
    /// Endpoint URL for every other region (then `AWS_ENDPOINT_URL_DYNAMODB`,
    /// `AWS_ENDPOINT_URL`, then AWS itself).
    pub endpoint: Option<String>,
    /// Access key id (else `AWS_ACCESS_KEY_ID`).
    pub access_key_id: Option<String>,
    /// Secret access key (else `AWS_SECRET_ACCESS_KEY`); never logged.
    pub secret_access_key: Option<Secret>,
    /// Session token (else `AWS_SESSION_TOKEN`); never logged.
    pub session_token: Option<Secret>,
    /// A PEM file of CA certificates trusted for `https://` endpoints besides the system's
    /// roots (else `AWS_CA_BUNDLE`).
    pub ca_bundle: Option<PathBuf>,
    /// Capacity units per second assumed for on-demand tables when applying a throughput
    /// percent.
    pub on_demand_units: f64,
    /// Segments of a parallel scan (1 to 64).
    pub scan_segments: u32,
}

impl Default for DynamoSettings {
    fn default() -> Self {
        DynamoSettings {
            region: None,
            endpoints: BTreeMap::new(),
            endpoint: None,
            access_key_id: None,
            secret_access_key: None,
            session_token: None,
            ca_bundle: None,
            on_demand_units: 40_000.0,
            scan_segments: 4,
        }
    }
}

impl DynamoSettings {
    /// The client part of the settings.
    pub fn client(&self) -> AwsServiceSettings {
        AwsServiceSettings {
            region: self.region.clone(),
            endpoints: self.endpoints.clone(),
            endpoint: self.endpoint.clone(),
            access_key_id: self.access_key_id.clone(),
            secret_access_key: self.secret_access_key.clone(),
            session_token: self.session_token.clone(),
            ca_bundle: self.ca_bundle.clone(),
        }
    }
}

/// How SNS is reached.
pub type SnsSettings = AwsServiceSettings;

/// Static credentials, resolved from settings or the environment.
#[derive(Clone)]
pub struct Credentials {
    pub access_key_id: String,
    pub secret_access_key: Secret,
    pub session_token: Option<Secret>,
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Credentials")
            .field("access_key_id", &self.access_key_id)
            .finish_non_exhaustive()
    }
}

/// Everything a client needs, after settings and environment are merged.
#[derive(Debug, Clone)]
pub struct ClientTarget {
    pub region: String,
    /// `None` means the real AWS endpoint of the region.
    pub endpoint: Option<String>,
    pub credentials: Credentials,
    /// The CA bundle to trust besides the system's roots, and the setting that named it.
    pub ca_bundle: Option<(PathBuf, String)>,
}

/// A failure talking to an AWS service.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AwsError {
    /// The settings or the environment do not say how to reach the service.
    #[error("{service}: {message}")]
    Config {
        service: &'static str,
        message: String,
    },
    /// The service (or the connection to it) failed an operation.
    #[error("{service} {operation} failed: {message}")]
    Service {
        service: &'static str,
        operation: &'static str,
        message: String,
    },
    /// An answer or an input could not be understood.
    #[error("{0}")]
    Invalid(String),
}

impl AwsServiceSettings {
    /// Merges settings, `region` (the object's own, when it names one) and the environment.
    /// `service` is the name used in `AWS_ENDPOINT_URL_<SERVICE>` (`DYNAMODB`, `SNS`).
    pub fn target(
        &self,
        service: &'static str,
        region: Option<&str>,
    ) -> Result<ClientTarget, AwsError> {
        self.target_with(service, region, &|name| std::env::var(name).ok())
    }

    /// [`target`](Self::target) with the environment given as a lookup function.
    pub fn target_with(
        &self,
        service: &'static str,
        region: Option<&str>,
        env: &dyn Fn(&str) -> Option<String>,
    ) -> Result<ClientTarget, AwsError> {
        let env = |name: &str| env(name).filter(|v| !v.trim().is_empty());
        let region = region
            .map(str::to_owned)
            .filter(|r| !r.trim().is_empty())
            .or_else(|| self.region.clone())
            .or_else(|| env("AWS_REGION"))
            .or_else(|| env("AWS_DEFAULT_REGION"))
            .unwrap_or_else(|| DEFAULT_REGION.to_owned());
        let endpoint = self
            .endpoints
            .get(&region)
            .cloned()
            .or_else(|| self.endpoint.clone())
            .or_else(|| env(&region_endpoint_var(service, &region)))
            .or_else(|| env(&format!("AWS_ENDPOINT_URL_{service}")))
            .or_else(|| env("AWS_ENDPOINT_URL"));
        if let Some(url) = &endpoint
            && !(url.starts_with("http://") || url.starts_with("https://"))
        {
            return Err(AwsError::Config {
                service,
                message: format!(
                    "endpoint {url:?} for region {region} is not an http:// or https:// URL"
                ),
            });
        }
        let access_key_id = self
            .access_key_id
            .clone()
            .or_else(|| env("AWS_ACCESS_KEY_ID"));
        let secret_access_key = self
            .secret_access_key
            .clone()
            .or_else(|| env("AWS_SECRET_ACCESS_KEY").map(Secret::new));
        let (Some(access_key_id), Some(secret_access_key)) = (access_key_id, secret_access_key)
        else {
            return Err(AwsError::Config {
                service,
                message: "no credentials: set accessKeyId and secretAccessKey in the settings, \
                          or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY"
                    .to_owned(),
            });
        };
        let session_token = self
            .session_token
            .clone()
            .or_else(|| env("AWS_SESSION_TOKEN").map(Secret::new));
        let ca_bundle = match &self.ca_bundle {
            Some(path) => Some((path.clone(), ca_bundle_key(service))),
            None => env(CA_BUNDLE_ENV).map(|path| (path.into(), CA_BUNDLE_ENV.to_owned())),
        };
        Ok(ClientTarget {
            region,
            endpoint,
            credentials: Credentials {
                access_key_id,
                secret_access_key,
                session_token,
            },
            ca_bundle,
        })
    }
}

/// The settings key of a service's CA bundle: `data.dynamodb.caBundle`.
fn ca_bundle_key(service: &str) -> String {
    format!("data.{}.caBundle", service.to_ascii_lowercase())
}

/// The environment variable that sends one region's requests to their own endpoint, e.g.
/// `SLUICE_ENDPOINT_URL_DYNAMODB_EU_WEST_1`: the AWS variables have no per-region form, and
/// a run without a settings file must still let two local servers stand for two
/// regions.
pub fn region_endpoint_var(service: &str, region: &str) -> String {
    let region: String = region
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_uppercase()
            } else {
                '_'
            }
        })
        .collect();
    format!("SLUICE_ENDPOINT_URL_{service}_{region}")
}

impl ClientTarget {
    #[cfg(any(feature = "dynamodb", feature = "sns"))]
    pub(crate) fn sdk_credentials(&self) -> aws_credential_types::Credentials {
        aws_credential_types::Credentials::new(
            self.credentials.access_key_id.clone(),
            self.credentials.secret_access_key.expose().to_owned(),
            self.credentials
                .session_token
                .as_ref()
                .map(|t| t.expose().to_owned()),
            None,
            "sluice-settings",
        )
    }

    /// Where requests go, for messages: the endpoint, or the region's AWS endpoint.
    pub fn describe(&self) -> String {
        match &self.endpoint {
            Some(url) => format!("{url} (region {})", self.region),
            None => format!("region {}", self.region),
        }
    }

    /// The SDK's HTTPS client trusting the CA bundle besides the system's roots, or `None` for
    /// the SDK's own client when no bundle is set. The bundle is checked here: the SDK's client
    /// would panic on a certificate it cannot parse.
    #[cfg(any(feature = "dynamodb", feature = "sns"))]
    pub(crate) fn http_client(
        &self,
        service: &'static str,
    ) -> Result<Option<aws_smithy_runtime_api::client::http::SharedHttpClient>, AwsError> {
        use aws_smithy_http_client::tls;
        let Some((path, setting)) = &self.ca_bundle else {
            return Ok(None);
        };
        let pem = crate::tls::read_ca_bundle(path, setting)
            .map_err(|message| AwsError::Config { service, message })?;
        let context = tls::TlsContext::builder()
            .with_trust_store(tls::TrustStore::default().with_pem_certificate(pem))
            .build()
            .map_err(|err| AwsError::Config {
                service,
                message: format!("{setting} {}: {err}", path.display()),
            })?;
        Ok(Some(
            aws_smithy_http_client::Builder::new()
                .tls_provider(tls::Provider::Rustls(
                    tls::rustls_provider::CryptoMode::AwsLc,
                ))
                .tls_context(context)
                .build_https(),
        ))
    }

    /// A failed request's message, with what to do when the endpoint's certificate was refused.
    /// `service` as for [`AwsServiceSettings::target`].
    pub fn explain(&self, service: &str, message: String) -> String {
        let remedy = match &self.ca_bundle {
            Some((path, setting)) => format!(
                "the CA bundle {} ({setting}) does not hold the CA that signed it",
                path.display()
            ),
            None => format!(
                "trust the CA that signed it with a PEM bundle in {} or {CA_BUNDLE_ENV}",
                ca_bundle_key(service)
            ),
        };
        match crate::tls::untrusted_hint(&message, &remedy) {
            Some(hint) => format!("{message}; {hint}"),
            None => message,
        }
    }
}

/// Connect and operation timeouts shared by the clients (both SDKs re-export this type).
#[cfg(any(feature = "dynamodb", feature = "sns"))]
pub(crate) fn timeouts() -> aws_smithy_types::timeout::TimeoutConfig {
    use std::time::Duration;
    // How long a connection attempt may take before the request fails.
    const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
    // How long one operation, retries included, may take.
    const OPERATION_TIMEOUT: Duration = Duration::from_secs(60);
    aws_smithy_types::timeout::TimeoutConfig::builder()
        .connect_timeout(CONNECT_TIMEOUT)
        .operation_timeout(OPERATION_TIMEOUT)
        .build()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(vars: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let vars: BTreeMap<String, String> = vars
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        move |name| vars.get(name).cloned()
    }

    #[test]
    fn settings_win_over_the_environment_and_regions_pick_their_endpoint() {
        let settings = AwsServiceSettings {
            region: Some("eu-west-1".into()),
            endpoints: BTreeMap::from([("us-west-2".into(), "http://127.0.0.1:2".into())]),
            endpoint: Some("http://127.0.0.1:1".into()),
            access_key_id: Some("AKSET".into()),
            secret_access_key: Some(Secret::new("from-settings")),
            session_token: None,
            ca_bundle: None,
        };
        let env = env(&[
            ("AWS_ACCESS_KEY_ID", "AKENV"),
            ("AWS_SECRET_ACCESS_KEY", "from-env"),
            ("AWS_ENDPOINT_URL_DYNAMODB", "http://127.0.0.1:3"),
        ]);
        let t = settings.target_with("DYNAMODB", None, &env).unwrap();
        assert_eq!(t.region, "eu-west-1");
        assert_eq!(t.endpoint.as_deref(), Some("http://127.0.0.1:1"));
        assert_eq!(t.credentials.access_key_id, "AKSET");
        assert_eq!(t.credentials.secret_access_key.expose(), "from-settings");
        let t = settings
            .target_with("DYNAMODB", Some("us-west-2"), &env)
            .unwrap();
        assert_eq!(t.endpoint.as_deref(), Some("http://127.0.0.1:2"));
    }

    #[test]
    fn the_environment_fills_what_settings_leave_open() {
        let env = env(&[
            ("AWS_ACCESS_KEY_ID", "AKENV"),
            ("AWS_SECRET_ACCESS_KEY", "from-env"),
            ("AWS_ENDPOINT_URL", "http://127.0.0.1:9"),
            ("AWS_ENDPOINT_URL_SNS", "http://127.0.0.1:4"),
        ]);
        let settings = AwsServiceSettings::default();
        let sns = settings.target_with("SNS", None, &env).unwrap();
        assert_eq!(sns.endpoint.as_deref(), Some("http://127.0.0.1:4"));
        assert_eq!(sns.region, DEFAULT_REGION);
        let ddb = settings.target_with("DYNAMODB", None, &env).unwrap();
        assert_eq!(ddb.endpoint.as_deref(), Some("http://127.0.0.1:9"));
    }

    #[test]
    fn a_region_variable_sends_that_region_to_its_own_endpoint() {
        let env = env(&[
            ("AWS_ACCESS_KEY_ID", "AKENV"),
            ("AWS_SECRET_ACCESS_KEY", "from-env"),
            ("AWS_ENDPOINT_URL_DYNAMODB", "http://127.0.0.1:5"),
            (
                "SLUICE_ENDPOINT_URL_DYNAMODB_EU_WEST_1",
                "http://127.0.0.1:6",
            ),
        ]);
        let settings = AwsServiceSettings::default();
        let eu = settings
            .target_with("DYNAMODB", Some("eu-west-1"), &env)
            .unwrap();
        assert_eq!(eu.endpoint.as_deref(), Some("http://127.0.0.1:6"));
        let us = settings
            .target_with("DYNAMODB", Some("us-east-1"), &env)
            .unwrap();
        assert_eq!(us.endpoint.as_deref(), Some("http://127.0.0.1:5"));
        let configured = AwsServiceSettings {
            endpoint: Some("http://127.0.0.1:7".into()),
            ..AwsServiceSettings::default()
        };
        let eu = configured
            .target_with("DYNAMODB", Some("eu-west-1"), &env)
            .unwrap();
        assert_eq!(eu.endpoint.as_deref(), Some("http://127.0.0.1:7"));
    }

    #[test]
    fn the_ca_bundle_comes_from_the_settings_else_aws_ca_bundle() {
        let with_bundle = env(&[
            ("AWS_ACCESS_KEY_ID", "AKENV"),
            ("AWS_SECRET_ACCESS_KEY", "from-env"),
            ("AWS_CA_BUNDLE", "/env/ca.pem"),
        ]);
        let from_env = AwsServiceSettings::default()
            .target_with("SNS", None, &with_bundle)
            .unwrap();
        assert_eq!(
            from_env.ca_bundle,
            Some(("/env/ca.pem".into(), "AWS_CA_BUNDLE".into()))
        );
        let settings = AwsServiceSettings {
            ca_bundle: Some("/file/ca.pem".into()),
            ..AwsServiceSettings::default()
        };
        let from_file = settings
            .target_with("DYNAMODB", None, &with_bundle)
            .unwrap();
        assert_eq!(
            from_file.ca_bundle,
            Some(("/file/ca.pem".into(), "data.dynamodb.caBundle".into()))
        );
        let refused = "dispatch failure: invalid peer certificate: UnknownIssuer".to_string();
        let explained = from_file.explain("DYNAMODB", refused.clone());
        assert!(
            explained.contains("/file/ca.pem (data.dynamodb.caBundle) does not hold"),
            "{explained}"
        );
        let explained = AwsServiceSettings::default()
            .target_with(
                "DYNAMODB",
                None,
                &env(&[("AWS_ACCESS_KEY_ID", "A"), ("AWS_SECRET_ACCESS_KEY", "B")]),
            )
            .unwrap()
            .explain("DYNAMODB", refused);
        assert!(
            explained.contains("data.dynamodb.caBundle or AWS_CA_BUNDLE"),
            "{explained}"
        );
    }

    #[test]
    fn missing_credentials_and_bad_endpoints_are_named_and_secrets_never_printed() {
        let err = AwsServiceSettings::default()
            .target_with("SNS", None, &env(&[]))
            .unwrap_err();
        assert!(err.to_string().contains("AWS_SECRET_ACCESS_KEY"), "{err}");
        let settings = AwsServiceSettings {
            endpoint: Some("127.0.0.1:8000".into()),
            access_key_id: Some("AK".into()),
            secret_access_key: Some(Secret::new("hunter2")),
            ..Default::default()
        };
        let err = settings.target_with("SNS", None, &env(&[])).unwrap_err();
        assert!(err.to_string().contains("127.0.0.1:8000"), "{err}");
        let shown = format!("{settings:?}");
        assert!(!shown.contains("hunter2"), "{shown}");
        let target = AwsServiceSettings {
            endpoint: None,
            ..settings
        }
        .target_with("SNS", None, &env(&[]))
        .unwrap();
        assert!(!format!("{target:?}").contains("hunter2"));
    }
}
