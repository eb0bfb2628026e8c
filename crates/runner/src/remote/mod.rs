//! A [`TaskSource`] over HTTP: the AWS Data Pipeline task-runner calls, made with the official
//! `aws-sdk-datapipeline` client against `sluice server` or AWS itself.
//!
//! Signing, retries and endpoint resolution are the SDK's. Credentials are the keys in
//! [`RemoteOptions::credentials`] when given, else the standard chain a runner host is expected
//! to have: the environment (`AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`,
//! `AWS_SESSION_TOKEN`), then the shared profile files (`AWS_PROFILE`, `~/.aws/credentials`,
//! `~/.aws/config`, `AWS_SHARED_CREDENTIALS_FILE`, `AWS_CONFIG_FILE`), or only the profile
//! named in [`RemoteOptions::profile`]. The region is the one given, else
//! `AWS_REGION`/`AWS_DEFAULT_REGION`, else the profile's, else `us-east-1`. Nothing else is
//! consulted: a runner quietly picking up instance-metadata credentials would act as another
//! principal than the operator configured.
//!
//! An `https://` endpoint's certificate is verified against the system's roots plus
//! [`RemoteOptions::ca_bundle`], else the PEM file `AWS_CA_BUNDLE` names (as the AWS CLI reads
//! it), for servers whose certificate a private CA issued. A call refused for the certificate
//! says so, and what to trust.
//!
//! [`client`] builds that client for anything else that speaks the API (`sluice import`), and
//! [`convert`] translates definitions between the SDK's shapes and the model's.

pub mod convert;

use std::time::Duration;

use async_trait::async_trait;
use aws_config::environment::{
    EnvironmentVariableCredentialsProvider, EnvironmentVariableRegionProvider,
};
use aws_config::meta::credentials::CredentialsProviderChain;
use aws_config::meta::region::RegionProviderChain;
use aws_config::profile::{ProfileFileCredentialsProvider, ProfileFileRegionProvider};
pub use aws_credential_types::Credentials;
use aws_credential_types::provider::{ProvideCredentials, SharedCredentialsProvider};
use aws_sdk_datapipeline::Client;
use aws_sdk_datapipeline::config::retry::RetryConfig;
use aws_sdk_datapipeline::config::timeout::TimeoutConfig;
use aws_sdk_datapipeline::config::{BehaviorVersion, Region, StalledStreamProtectionConfig};
use aws_sdk_datapipeline::error::{ProvideErrorMetadata, SdkError};
use sluice_model::{Field, TaskObject, TaskResult};

use crate::error_chain;
use crate::source::{SourceError, TaskSource};
use crate::trust::{CaBundle, TrustError};

use convert::{field_to_sdk, result_to_sdk, task_from_sdk};

/// The region used when neither the options, the environment nor a profile name one.
pub const DEFAULT_REGION: &str = "us-east-1";

/// How long the service may hold a PollForTask open by default (AWS: 90 s).
pub const DEFAULT_POLL_WAIT: Duration = Duration::from_secs(90);

/// Added to the long poll for the HTTP read timeout, so a slow but healthy answer still lands.
const READ_MARGIN: Duration = Duration::from_secs(30);

/// The error id reported for a task this runner cannot read.
const INVALID_TASK: &str = "InvalidTask";

/// Where and how to reach the service.
#[derive(Debug, Clone)]
pub struct RemoteOptions {
    /// The service URL (`http://127.0.0.1:8080`); `None`: AWS's endpoint for the region.
    pub endpoint: Option<String>,
    /// The region; `None`: from the environment or profile, else [`DEFAULT_REGION`].
    pub region: Option<String>,
    /// The longest the service may hold a PollForTask before answering (AWS: 90 s). The HTTP
    /// read timeout is this plus a margin.
    pub poll_wait: Duration,
    /// Longest wait for a TCP (and TLS) connection.
    pub connect_timeout: Duration,
    /// Attempts per call, the first included, before the SDK gives up and the runner's own
    /// backoff takes over.
    pub max_attempts: u32,
    /// Keys to use instead of the environment and profile chain (AWS Task Runner's
    /// `--config` file).
    pub credentials: Option<Credentials>,
    /// A profile of the shared files to take credentials from instead of the environment and
    /// `AWS_PROFILE` (ignored when `credentials` are given), and the region when neither
    /// `region` nor the environment names one.
    pub profile: Option<String>,
    /// Certificate authorities trusted besides the system's, for an `https://` endpoint whose
    /// certificate a private CA issued. `None`: those of `AWS_CA_BUNDLE`, if set.
    pub ca_bundle: Option<CaBundle>,
}

impl Default for RemoteOptions {
    fn default() -> Self {
        RemoteOptions {
            endpoint: None,
            region: None,
            poll_wait: DEFAULT_POLL_WAIT,
            connect_timeout: Duration::from_secs(10),
            max_attempts: 3,
            credentials: None,
            profile: None,
            ca_bundle: None,
        }
    }
}

/// Why a [`client`] (and so a [`RemoteTaskSource`]) could not be set up.
#[derive(Debug, thiserror::Error)]
pub enum RemoteError {
    #[error("invalid endpoint '{0}': expected an http:// or https:// URL")]
    Endpoint(String),
    #[error(
        "no AWS credentials: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or AWS_PROFILE \
         naming a profile in ~/.aws/credentials or ~/.aws/config ({0})"
    )]
    Credentials(String),
    #[error(
        "no AWS credentials in profile '{profile}' of ~/.aws/credentials or ~/.aws/config ({reason})"
    )]
    ProfileCredentials { profile: String, reason: String },
    #[error("{0} (named by {CA_BUNDLE_ENV})")]
    CaBundle(TrustError),
}

/// The environment variable naming a CA bundle, as the AWS CLI and boto3 read it.
pub const CA_BUNDLE_ENV: &str = "AWS_CA_BUNDLE";

/// The SDK client for `options`: endpoint, region, credentials, timeouts and retries as the
/// module documentation describes. Fails when no credentials can be found, so a misconfigured
/// caller stops at once instead of failing on every call.
pub async fn client(options: &RemoteOptions) -> Result<Client, RemoteError> {
    if let Some(endpoint) = &options.endpoint
        && !(endpoint.starts_with("http://") || endpoint.starts_with("https://"))
    {
        return Err(RemoteError::Endpoint(endpoint.clone()));
    }
    let profile_region = match &options.profile {
        Some(name) => ProfileFileRegionProvider::builder()
            .profile_name(name)
            .build(),
        None => ProfileFileRegionProvider::builder().build(),
    };
    let region = RegionProviderChain::first_try(options.region.clone().map(Region::new))
        .or_else(EnvironmentVariableRegionProvider::new())
        .or_else(profile_region)
        .or_else(Region::from_static(DEFAULT_REGION))
        .region()
        .await
        .unwrap_or_else(|| Region::from_static(DEFAULT_REGION));
    let credentials = match (&options.credentials, &options.profile) {
        (Some(keys), _) => SharedCredentialsProvider::new(keys.clone()),
        (None, Some(name)) => {
            let provider = ProfileFileCredentialsProvider::builder()
                .profile_name(name)
                .build();
            provider
                .provide_credentials()
                .await
                .map_err(|e| RemoteError::ProfileCredentials {
                    profile: name.clone(),
                    reason: error_chain(&e),
                })?;
            SharedCredentialsProvider::new(provider)
        }
        (None, None) => {
            let chain = CredentialsProviderChain::first_try(
                "Environment",
                EnvironmentVariableCredentialsProvider::new(),
            )
            .or_else("Profile", ProfileFileCredentialsProvider::builder().build());
            // Resolved once up front only to fail fast; the SDK resolves (and refreshes)
            // them itself for every call.
            chain
                .provide_credentials()
                .await
                .map_err(|e| RemoteError::Credentials(error_chain(&e)))?;
            SharedCredentialsProvider::new(chain)
        }
    };

    let timeouts = TimeoutConfig::builder()
        .connect_timeout(options.connect_timeout)
        .read_timeout(options.poll_wait + READ_MARGIN)
        .operation_attempt_timeout(options.poll_wait + READ_MARGIN + options.connect_timeout)
        .build();
    let mut config = aws_sdk_datapipeline::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(region)
        .credentials_provider(credentials)
        .timeout_config(timeouts)
        .retry_config(RetryConfig::standard().with_max_attempts(options.max_attempts.max(1)))
        // A long poll sends nothing for up to 90 s by design; the read timeout bounds it.
        .stalled_stream_protection(StalledStreamProtectionConfig::disabled());
    if let Some(endpoint) = &options.endpoint {
        config = config.endpoint_url(endpoint);
    }
    let from_env = match (&options.ca_bundle, std::env::var_os(CA_BUNDLE_ENV)) {
        (None, Some(path)) if !path.is_empty() => {
            Some(CaBundle::load(std::path::Path::new(&path)).map_err(RemoteError::CaBundle)?)
        }
        _ => None,
    };
    if let Some(bundle) = options.ca_bundle.as_ref().or(from_env.as_ref()) {
        config = config.http_client(https_client(bundle));
    }
    Ok(Client::from_conf(config.build()))
}

/// The SDK's default HTTP client (rustls, aws-lc), trusting `bundle` besides the system's
/// roots. Timeouts still come from the client's configuration.
pub fn https_client(bundle: &CaBundle) -> aws_sdk_datapipeline::config::SharedHttpClient {
    use aws_smithy_http_client::tls::{self, TlsContext, TrustStore, rustls_provider::CryptoMode};
    let trust = TrustStore::default().with_pem_certificate(bundle.pem());
    let context = TlsContext::builder()
        .with_trust_store(trust)
        .build()
        .expect("a TLS context without extra server names always builds");
    aws_smithy_http_client::Builder::new()
        .tls_provider(tls::Provider::Rustls(CryptoMode::AwsLc))
        .tls_context(context)
        .build_https()
}

/// The task-runner calls over HTTP with the AWS SDK.
#[derive(Debug, Clone)]
pub struct RemoteTaskSource {
    client: Client,
    region: String,
}

impl RemoteTaskSource {
    /// Resolves credentials and region and builds the client. Fails when no credentials can
    /// be found, so a misconfigured runner stops at once instead of retrying forever.
    pub async fn connect(options: &RemoteOptions) -> Result<Self, RemoteError> {
        Ok(RemoteTaskSource::from_client(client(options).await?))
    }

    /// A source over an already configured client (tests, custom credential providers).
    pub fn from_client(client: Client) -> Self {
        let region = client
            .config()
            .region()
            .map_or_else(|| DEFAULT_REGION.to_string(), ToString::to_string);
        RemoteTaskSource { client, region }
    }

    /// The region requests are signed for.
    pub fn region(&self) -> &str {
        &self.region
    }

    /// Fails a delivered task this runner cannot read, so the service moves on at once rather
    /// than when the lease lapses.
    async fn refuse(&self, task_id: &str, why: &str) {
        let refused = self
            .client
            .set_task_status()
            .task_id(task_id)
            .task_status(aws_sdk_datapipeline::types::TaskStatus::Failed)
            .error_id(INVALID_TASK)
            .error_message(why)
            .send()
            .await;
        if let Err(err) = refused {
            tracing::warn!(err = %error_chain(&err), "cannot fail an unreadable task");
        }
    }
}

/// The errors with which a service refuses a caller's credentials.
const REJECTED: [&str; 6] = [
    "UnrecognizedClientException",
    "InvalidSignatureException",
    "IncompleteSignatureException",
    "MissingAuthenticationTokenException",
    "InvalidClientTokenId",
    "ExpiredTokenException",
];

/// `TaskNotFoundException` means the lease is gone and a refused key will stay refused;
/// everything else may pass.
fn source_error<E, R>(operation: &str, err: SdkError<E, R>) -> SourceError
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    R: std::fmt::Debug + 'static,
{
    match err.code() {
        Some("TaskNotFoundException") => {
            return SourceError::TaskNotFound(
                err.message().unwrap_or("task not found").to_string(),
            );
        }
        Some(code) if REJECTED.contains(&code) => {
            return SourceError::Rejected(call_error(operation, &err));
        }
        _ => {}
    }
    SourceError::Transient(call_error(operation, &err))
}

/// What a failed call says, for a message: `Operation: Code: message` when the service
/// answered with an error code, else the operation and the chain of causes (a refused
/// connection, a body that is not the API's).
pub fn call_error<E, R>(operation: &str, err: &SdkError<E, R>) -> String
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    R: std::fmt::Debug + 'static,
{
    match err.code() {
        Some(code) => format!(
            "{operation}: {code}: {}",
            err.message().unwrap_or("no message")
        ),
        None => match refused_certificate(err) {
            Some(why) => format!(
                "{operation}: the server's TLS certificate could not be verified ({why}); if a \
                 private CA issued it, trust that CA with --ca-bundle FILE or AWS_CA_BUNDLE"
            ),
            None => format!("{operation}: {}", error_chain(err)),
        },
    }
}

/// Why the server's certificate was refused, when that is why `err` happened: rustls's error,
/// found inside the I/O errors the TLS connector wraps it in (two deep, with hyper-rustls).
fn refused_certificate(err: &(dyn std::error::Error + 'static)) -> Option<String> {
    let mut next = Some(err);
    while let Some(error) = next {
        if let Some(refused @ rustls::Error::InvalidCertificate(_)) =
            error.downcast_ref::<rustls::Error>()
        {
            return Some(refused.to_string());
        }
        // An I/O error's `source` is its payload's source, skipping the payload itself.
        next = match error
            .downcast_ref::<std::io::Error>()
            .and_then(std::io::Error::get_ref)
        {
            Some(payload) => Some(payload),
            None => error.source(),
        };
    }
    None
}

#[async_trait]
impl TaskSource for RemoteTaskSource {
    async fn poll_for_task(
        &self,
        worker_group: Option<&str>,
        hostname: &str,
    ) -> Result<Option<TaskObject>, SourceError> {
        let output = self
            .client
            .poll_for_task()
            .worker_group(worker_group.unwrap_or_default())
            .hostname(hostname)
            .send()
            .await
            .map_err(|e| source_error("PollForTask", e))?;
        let Some(task) = output.task_object else {
            return Ok(None);
        };
        let task_id = task.task_id.clone();
        match task_from_sdk(task) {
            Ok(task) => Ok(Some(task)),
            Err(why) => {
                tracing::error!(%why, "received a task this runner cannot read; failing it");
                if let Some(task_id) = task_id {
                    self.refuse(&task_id, &why).await;
                }
                Err(SourceError::Transient(format!("unreadable task: {why}")))
            }
        }
    }

    async fn report_task_progress(
        &self,
        task_id: &str,
        fields: Vec<Field>,
    ) -> Result<bool, SourceError> {
        let fields = (!fields.is_empty()).then(|| fields.iter().map(field_to_sdk).collect());
        let output = self
            .client
            .report_task_progress()
            .task_id(task_id)
            .set_fields(fields)
            .send()
            .await
            .map_err(|e| source_error("ReportTaskProgress", e))?;
        Ok(output.canceled)
    }

    async fn set_task_status(&self, task_id: &str, result: TaskResult) -> Result<(), SourceError> {
        let (status, error_id, error_message, error_stack_trace) = result_to_sdk(result);
        self.client
            .set_task_status()
            .task_id(task_id)
            .task_status(status)
            .set_error_id(error_id)
            .set_error_message(error_message)
            .set_error_stack_trace(error_stack_trace)
            .send()
            .await
            .map_err(|e| source_error("SetTaskStatus", e))?;
        Ok(())
    }

    async fn report_heartbeat(
        &self,
        taskrunner_id: &str,
        worker_group: Option<&str>,
        hostname: &str,
    ) -> Result<bool, SourceError> {
        let output = self
            .client
            .report_task_runner_heartbeat()
            .taskrunner_id(taskrunner_id)
            .set_worker_group(worker_group.map(str::to_owned))
            .hostname(hostname)
            .send()
            .await
            .map_err(|e| source_error("ReportTaskRunnerHeartbeat", e))?;
        Ok(output.terminate)
    }
}

#[cfg(test)]
mod tests {
    use aws_sdk_datapipeline::error::ErrorMetadata;
    use aws_sdk_datapipeline::operation::report_task_progress::ReportTaskProgressError;
    use aws_sdk_datapipeline::types::error::{InternalServiceError, TaskNotFoundException};

    use super::*;

    /// The SDK's error for a service answer; the raw response plays no part in the mapping.
    fn service_error(error: ReportTaskProgressError) -> SdkError<ReportTaskProgressError, ()> {
        SdkError::service_error(error, ())
    }

    #[test]
    fn task_not_found_is_a_lost_lease_and_the_rest_is_transient() {
        let gone = TaskNotFoundException::builder()
            .message("task t is unknown")
            .meta(
                // Filled in as the SDK's deserializer does.
                ErrorMetadata::builder()
                    .code("TaskNotFoundException")
                    .message("task t is unknown")
                    .build(),
            )
            .build();
        let mapped = source_error(
            "ReportTaskProgress",
            service_error(ReportTaskProgressError::TaskNotFoundException(gone)),
        );
        assert_eq!(
            mapped,
            SourceError::TaskNotFound("task t is unknown".into())
        );

        let internal = InternalServiceError::builder()
            .message("store unavailable")
            .meta(
                // Filled in as the SDK's deserializer does.
                ErrorMetadata::builder()
                    .code("InternalServiceError")
                    .message("store unavailable")
                    .build(),
            )
            .build();
        let SourceError::Transient(text) = source_error(
            "ReportTaskProgress",
            service_error(ReportTaskProgressError::InternalServiceError(internal)),
        ) else {
            panic!("an internal error is worth retrying");
        };
        assert!(text.starts_with("ReportTaskProgress: "), "{text}");
        assert!(text.contains("store unavailable"), "{text}");

        let refused = ReportTaskProgressError::generic(
            ErrorMetadata::builder()
                .code("UnrecognizedClientException")
                .message("The security token included in the request is invalid.")
                .build(),
        );
        assert_eq!(
            source_error("ReportTaskProgress", service_error(refused)),
            SourceError::Rejected(
                "ReportTaskProgress: UnrecognizedClientException: The security token included \
                 in the request is invalid."
                    .into()
            )
        );
    }

    #[test]
    fn a_refused_certificate_is_found_under_nested_io_errors() {
        #[derive(Debug, thiserror::Error)]
        #[error("dispatch failure")]
        struct Dispatch(#[source] std::io::Error);
        let refused = rustls::Error::InvalidCertificate(rustls::CertificateError::UnknownIssuer);
        let nested = std::io::Error::other(std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            refused,
        ));
        assert_eq!(
            refused_certificate(&Dispatch(nested)).as_deref(),
            Some("invalid peer certificate: UnknownIssuer")
        );
        let refused_connection = std::io::Error::from(std::io::ErrorKind::ConnectionRefused);
        assert_eq!(refused_certificate(&Dispatch(refused_connection)), None);
    }

    #[tokio::test]
    async fn endpoints_must_be_urls() {
        let options = RemoteOptions {
            endpoint: Some("localhost:8080".into()),
            ..RemoteOptions::default()
        };
        let err = RemoteTaskSource::connect(&options).await.unwrap_err();
        assert!(err.to_string().contains("'localhost:8080'"), "{err}");
    }
}
