//! Requests signed with SigV4 by the AWS SDK's own signer (`aws-sigv4`), shaped as botocore
//! sends the Data Pipeline JSON 1.1 API. Signing with AWS's code rather than the server's makes
//! these requests an independent check on the server's verifier.
//!
//! A request the SDK would never sign (a `Date` header instead of `X-Amz-Date`, a tampered
//! signature) is built by hand in the test that needs it.

use std::time::SystemTime;

pub use aws_sigv4::http_request::{PayloadChecksumKind, SignatureLocation, SigningSettings};

use aws_credential_types::Credentials;
use aws_sigv4::http_request::{SignableBody, SignableRequest, sign as sign_with};
use aws_sigv4::sign::v4;
use aws_smithy_runtime_api::client::identity::Identity;

/// The content type of the JSON 1.1 protocol.
pub const JSON_1_1: &str = "application/x-amz-json-1.1";

/// Who signs, for which region and service, when, and how.
#[derive(Debug, Clone)]
pub struct Signing<'a> {
    pub access_key_id: &'a str,
    pub secret: &'a str,
    pub session_token: Option<&'a str>,
    pub region: &'a str,
    pub service: &'a str,
    pub time: SystemTime,
    /// Where the signature goes (header or query), whether `x-amz-content-sha256` is sent, …
    pub settings: SigningSettings,
}

impl<'a> Signing<'a> {
    /// The key pair signing now for `datapipeline` in `us-east-1`, in the `Authorization`
    /// header, as the AWS CLI does.
    pub fn new(access_key_id: &'a str, secret: &'a str) -> Signing<'a> {
        Signing {
            access_key_id,
            secret,
            session_token: None,
            region: "us-east-1",
            service: "datapipeline",
            time: SystemTime::now(),
            settings: SigningSettings::default(),
        }
    }
}

/// An unsigned call as botocore sends it: `POST url` with `Host` (from `url`), `Content-Type`
/// and `X-Amz-Target` (`target`, e.g. `DataPipeline.ListPipelines`).
pub fn request(url: &str, target: &str, body: &[u8]) -> http::Request<Vec<u8>> {
    let uri: http::Uri = url.parse().unwrap_or_else(|e| panic!("{url}: {e}"));
    let host = uri
        .authority()
        .unwrap_or_else(|| panic!("{url} names no host"))
        .to_string();
    http::Request::builder()
        .method("POST")
        .uri(uri)
        .header("host", host)
        .header("content-type", JSON_1_1)
        .header("x-amz-target", target)
        .body(body.to_vec())
        .expect("a valid request")
}

/// Signs `request` as it stands, every header included: adds `X-Amz-Date`, the signature
/// (the `Authorization` header, or query parameters) and the session token if there is one.
pub fn sign<B: AsRef<[u8]>>(request: &mut http::Request<B>, signing: &Signing<'_>) {
    let identity: Identity = Credentials::new(
        signing.access_key_id,
        signing.secret,
        signing.session_token.map(str::to_owned),
        None,
        "tests",
    )
    .into();
    let params = v4::SigningParams::builder()
        .identity(&identity)
        .region(signing.region)
        .name(signing.service)
        .time(signing.time)
        .settings(signing.settings.clone())
        .build()
        .expect("complete signing parameters")
        .into();
    let headers: Vec<(&str, &str)> = request
        .headers()
        .iter()
        .map(|(name, value)| {
            (
                name.as_str(),
                value.to_str().expect("a visible-ASCII header"),
            )
        })
        .collect();
    let signable = SignableRequest::new(
        request.method().as_str(),
        request.uri().to_string(),
        headers.into_iter(),
        SignableBody::Bytes(request.body().as_ref()),
    )
    .expect("a signable request");
    let (instructions, _signature) = sign_with(signable, &params)
        .expect("the SDK signs it")
        .into_parts();
    instructions.apply_to_request_http1x(request);
}

/// [`request`], signed.
pub fn signed_request(
    url: &str,
    target: &str,
    body: &[u8],
    signing: &Signing<'_>,
) -> http::Request<Vec<u8>> {
    let mut request = request(url, target, body);
    sign(&mut request, signing);
    request
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signs_the_headers_botocore_sends() {
        let signing = Signing {
            time: SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(1_795_667_448),
            ..Signing::new("AKIDEXAMPLE", "secret")
        };
        let request = signed_request(
            "http://127.0.0.1:8080/",
            "DataPipeline.ListPipelines",
            b"{}",
            &signing,
        );
        let header = |name: &str| request.headers()[name].to_str().unwrap().to_owned();
        assert_eq!(header("host"), "127.0.0.1:8080");
        assert_eq!(header("x-amz-date"), "20261126T043048Z");
        assert!(
            header("authorization").starts_with(
                "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20261126/us-east-1/datapipeline/aws4_request, \
                 SignedHeaders=content-type;host;x-amz-date;x-amz-target, Signature="
            ),
            "{}",
            header("authorization")
        );
    }
}
