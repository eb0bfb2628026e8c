//! SigV4 verification and credentials, through the public API: requests signed by the AWS SDK's
//! own signer (`aws-sigv4`) must verify, every failure kind is produced with AWS's type and
//! message, and credentials load from the environment, a file and `--dev` generation.

use std::ffi::OsString;
use std::path::Path;
use std::time::Duration;

use axum::http;
use chrono::{DateTime, TimeDelta, Utc};
use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};
use sluice_api::auth::{
    self, AccessKey, AuthError, AuthErrorKind, CredentialError, CredentialStore,
    DEFAULT_ACCOUNT_ID, SecretKey, SignedRequest,
};
use sluice_testsupport::sigv4::{
    self, PayloadChecksumKind, SignatureLocation, Signing, SigningSettings,
};

const AK: &str = "AKIAIOSFODNN7EXAMPLE";
const SECRET: &str = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";
const ACCOUNT: &str = "111122223333";
const HOST: &str = "datapipeline.us-east-1.amazonaws.com";
const BODY: &[u8] = br#"{"pipelineIds": ["df-0123456789ABCDEFGHIJ"]}"#;

fn at(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
}

/// The signing time used throughout: the example of the brief's expired-signature message.
fn t0() -> DateTime<Utc> {
    at("2026-11-26T04:30:48Z")
}

fn store() -> CredentialStore {
    let mut store = CredentialStore::new();
    store
        .insert(
            AccessKey {
                access_key_id: AK.into(),
                secret_access_key: SecretKey::new(SECRET),
                account_id: ACCOUNT.into(),
            },
            "test",
        )
        .unwrap();
    store
}

/// A request as the server sees it.
#[derive(Debug, Clone)]
struct Req {
    method: String,
    path: String,
    query: String,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Req {
    fn signed(&self) -> SignedRequest<'_> {
        SignedRequest {
            method: &self.method,
            path: &self.path,
            query: &self.query,
            headers: &self.headers,
            body: &self.body,
        }
    }

    fn verify(&self, now: DateTime<Utc>) -> Result<auth::Principal, AuthError> {
        auth::verify(&self.signed(), &store(), now)
    }

    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    fn set_header(&mut self, name: &str, value: &str) {
        self.headers.retain(|(n, _)| !n.eq_ignore_ascii_case(name));
        self.headers.push((name.to_owned(), value.to_owned()));
    }

    fn remove_header(&mut self, name: &str) {
        self.headers.retain(|(n, _)| !n.eq_ignore_ascii_case(name));
    }

    fn authorization(&self) -> String {
        self.header("authorization").unwrap().to_owned()
    }
}

/// How the tests sign unless they say otherwise: `AK` at [`t0`].
fn signing() -> Signing<'static> {
    Signing {
        time: t0().into(),
        ..Signing::new(AK, SECRET)
    }
}

/// What a server reads from `request`.
fn received(request: &http::Request<Vec<u8>>) -> Req {
    Req {
        method: request.method().as_str().to_owned(),
        path: request.uri().path().to_owned(),
        query: request.uri().query().unwrap_or("").to_owned(),
        headers: auth::header_pairs(request.headers()),
        body: request.body().clone(),
    }
}

/// A Data Pipeline call as botocore sends it (`POST /`, `Content-Type`, `Host`,
/// `X-Amz-Target`), signed with `aws-sigv4`, as a server reads it — with botocore's unsigned
/// extra headers added after signing.
fn sdk_request(target: &str, body: &[u8], signing: Signing<'_>) -> Req {
    let mut request = sigv4::signed_request(
        &format!("https://{HOST}/"),
        &format!("DataPipeline.{target}"),
        body,
        &signing,
    );
    request.headers_mut().insert(
        "user-agent",
        "aws-cli/1.45.11 botocore/1.43.11".parse().unwrap(),
    );
    request.headers_mut().insert(
        "amz-sdk-invocation-id",
        "2f7c1f4e-1111-2222-3333-444455556666".parse().unwrap(),
    );
    received(&request)
}

fn list_pipelines() -> Req {
    sdk_request("ListPipelines", b"{}", signing())
}

fn describe_pipelines() -> Req {
    sdk_request("DescribePipelines", BODY, signing())
}

#[track_caller]
fn assert_fails(
    result: Result<auth::Principal, AuthError>,
    kind: AuthErrorKind,
    message: &str,
) -> AuthError {
    let err = result.expect_err("verification should fail");
    assert_eq!(err.kind(), kind, "{err}");
    assert_eq!(err.http_status(), 400);
    assert!(
        err.message().contains(message),
        "message {:?} should contain {message:?}",
        err.message()
    );
    assert!(!err.message().contains(SECRET), "secret in {err}");
    err
}

// ---------------------------------------------------------------------------------------------
// Requests signed by the SDK verify.

#[test]
fn sdk_signed_request_verifies() {
    let req = list_pipelines();
    let auth = req.authorization();
    assert!(
        auth.starts_with(
            "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20261126/us-east-1/datapipeline/aws4_request, \
             SignedHeaders=content-type;host;x-amz-date;x-amz-target, Signature="
        ),
        "{auth}"
    );
    assert_eq!(req.header("x-amz-date"), Some("20261126T043048Z"));
    let principal = req.verify(t0()).unwrap();
    assert_eq!(principal.access_key_id, AK);
    assert_eq!(principal.account_id, ACCOUNT);
    describe_pipelines().verify(t0()).unwrap();
}

#[test]
fn sdk_signed_request_with_session_token_verifies() {
    let token = "IQoJb3JpZ2luX2VjEJr//////////wEaCXVzLWVhc3QtMSJHMEUCIQD+example/token==";
    let req = sdk_request(
        "DescribePipelines",
        BODY,
        Signing {
            session_token: Some(token),
            ..signing()
        },
    );
    assert_eq!(req.header("x-amz-security-token"), Some(token));
    assert!(
        req.authorization().contains(
            "SignedHeaders=content-type;host;x-amz-date;x-amz-security-token;x-amz-target,"
        ),
        "{}",
        req.authorization()
    );
    assert_eq!(req.verify(t0()).unwrap().account_id, ACCOUNT);

    // The token is signed: changing it breaks the signature.
    let mut changed = req.clone();
    changed.set_header("X-Amz-Security-Token", &format!("{token}x"));
    let err = assert_fails(
        changed.verify(t0()),
        AuthErrorKind::InvalidSignature,
        "does not match",
    );
    assert!(!err.message().contains(token));
}

#[test]
fn any_region_is_accepted() {
    for region in ["us-east-1", "eu-west-3", "ap-southeast-2", "local"] {
        let req = sdk_request(
            "ListPipelines",
            b"{}",
            Signing {
                region,
                ..signing()
            },
        );
        req.verify(t0()).unwrap_or_else(|e| panic!("{region}: {e}"));
    }
}

#[test]
fn sdk_signed_x_amz_content_sha256_verifies_and_must_match_the_body() {
    let mut settings = SigningSettings::default();
    settings.payload_checksum_kind = PayloadChecksumKind::XAmzSha256;
    let req = sdk_request(
        "DescribePipelines",
        BODY,
        Signing {
            settings,
            ..signing()
        },
    );
    assert_eq!(
        req.header("x-amz-content-sha256").map(str::to_owned),
        Some(hex::encode(Sha256::digest(BODY)))
    );
    req.verify(t0()).unwrap();

    let mut changed = req.clone();
    changed.body[5] ^= 0x20;
    assert_fails(
        changed.verify(t0()),
        AuthErrorKind::InvalidSignature,
        "The provided 'x-amz-content-sha256' header does not match what was computed.",
    );

    // An unsigned payload is refused: the signature must cover the body.
    let mut unsigned = req.clone();
    unsigned.set_header("x-amz-content-sha256", "UNSIGNED-PAYLOAD");
    assert_fails(
        unsigned.verify(t0()),
        AuthErrorKind::InvalidSignature,
        "x-amz-content-sha256",
    );
}

#[test]
fn sdk_presigned_request_verifies_until_it_expires() {
    let mut settings = SigningSettings::default();
    settings.signature_location = SignatureLocation::QueryParams;
    settings.expires_in = Some(Duration::from_secs(3600));
    let req = sdk_request(
        "ListPipelines",
        b"{}",
        Signing {
            settings,
            ..signing()
        },
    );
    assert!(req.header("authorization").is_none());
    assert!(req.query.contains("X-Amz-Signature="), "{}", req.query);
    assert!(req.query.contains("X-Amz-Expires=3600"), "{}", req.query);
    req.verify(t0()).unwrap();
    req.verify(t0() + TimeDelta::seconds(3600)).unwrap();
    req.verify(t0() - TimeDelta::minutes(15)).unwrap();
    assert_fails(
        req.verify(t0() + TimeDelta::seconds(3601)),
        AuthErrorKind::InvalidSignature,
        "Signature expired: 20261126T053048Z is now earlier than 20261126T053049Z (20261126T043048Z + 3600 s.)",
    );
    assert_fails(
        req.verify(t0() - TimeDelta::minutes(16)),
        AuthErrorKind::InvalidSignature,
        "Signature not yet current",
    );

    let mut changed = req.clone();
    changed.query = changed
        .query
        .replace("X-Amz-Expires=3600", "X-Amz-Expires=7200");
    assert_fails(
        changed.verify(t0()),
        AuthErrorKind::InvalidSignature,
        "does not match",
    );

    let mut incomplete = req.clone();
    incomplete.query = incomplete
        .query
        .split('&')
        .filter(|p| !p.starts_with("X-Amz-Credential=") && !p.starts_with("X-Amz-Date="))
        .collect::<Vec<_>>()
        .join("&");
    assert_fails(
        incomplete.verify(t0()),
        AuthErrorKind::IncompleteSignature,
        "AWS query-string parameters must include 'X-Amz-Credential'. \
         AWS query-string parameters must include 'X-Amz-Date'. Re-examine the query-string parameters.",
    );
}

/// Queries no client builds but a signer still signs: names without values, repeated and empty
/// pairs, `+`, `%` not followed by two hex digits, and escapes that decode to bytes that are not
/// UTF-8 (`%ed`). The SDK reads each as text, so the verifier must too (a fuzzer's finding).
#[test]
fn sdk_signed_requests_with_malformed_query_strings_verify() {
    let queries = [
        "a&b=%ed&c=%e&d=+x&a=1&%zz",
        "X-Amzz-Al-amz-tamget&3Bx-amz=2hm=AWS4-HMcontent-1%edential=AKIA&x-Amzq",
        "k=%ff%fe%c3&k=%C3%A9&&=&%=%%",
        "q=a?b/c:d,e;f@g",
    ];
    for query in queries {
        for presigned in [false, true] {
            let mut signing = signing();
            if presigned {
                signing.settings.signature_location = SignatureLocation::QueryParams;
                signing.settings.expires_in = Some(Duration::from_secs(300));
            }
            let request = sigv4::signed_request(
                &format!("https://{HOST}/?{query}"),
                "DataPipeline.ListPipelines",
                b"{}",
                &signing,
            );
            let req = received(&request);
            assert_eq!(req.header("authorization").is_none(), presigned);
            if let Err(err) = req.verify(t0()) {
                panic!("?{query} (presigned: {presigned}) refused: {err}");
            }
        }
    }
}

#[test]
fn header_names_in_any_case() {
    let req = describe_pipelines();
    for case in [str::to_ascii_uppercase, str::to_ascii_lowercase] {
        let mut changed = req.clone();
        changed.headers = changed
            .headers
            .into_iter()
            .map(|(n, v)| (case(&n), v))
            .collect();
        changed.verify(t0()).unwrap();
    }
    // Mixed case, as botocore writes them on the wire.
    let mut mixed = req.clone();
    mixed.headers = mixed
        .headers
        .into_iter()
        .map(|(n, v)| {
            let n = match n.as_str() {
                "host" => "Host".to_owned(),
                "x-amz-date" => "X-Amz-Date".to_owned(),
                "x-amz-target" => "X-Amz-Target".to_owned(),
                "content-type" => "Content-Type".to_owned(),
                _ => n,
            };
            (n, v)
        })
        .collect();
    mixed.verify(t0()).unwrap();
}

#[test]
fn header_values_are_trimmed_and_whitespace_folded() {
    let req = describe_pipelines();
    let mut spaced = req.clone();
    spaced.set_header("x-amz-target", "   DataPipeline.DescribePipelines \t ");
    spaced.set_header("content-type", "application/x-amz-json-1.1");
    spaced.verify(t0()).unwrap();

    // A value with inner runs of spaces, signed folded by the SDK, arrives with its spaces.
    let mut request = sdk_request("ListPipelines", b"{}", signing());
    request.verify(t0()).unwrap();
    let folded = sdk_request_with_header("x-custom", "a  b   c");
    folded.verify(t0()).unwrap();
    request = folded.clone();
    request.set_header("x-custom", "  a b \t c  ");
    request.verify(t0()).unwrap();
    request.set_header("x-custom", "a bc");
    assert_fails(
        request.verify(t0()),
        AuthErrorKind::InvalidSignature,
        "does not match",
    );
}

/// An SDK-signed request with one more (signed) header.
fn sdk_request_with_header(name: &'static str, value: &str) -> Req {
    let mut request = sigv4::request(
        &format!("https://{HOST}/"),
        "DataPipeline.ListPipelines",
        b"{}",
    );
    request
        .headers_mut()
        .insert(name, http::HeaderValue::from_str(value).unwrap());
    sigv4::sign(&mut request, &signing());
    assert!(
        request.headers()["authorization"]
            .to_str()
            .unwrap()
            .contains(name),
        "the extra header is signed"
    );
    received(&request)
}

#[test]
fn unsigned_extra_headers_do_not_matter() {
    let mut req = describe_pipelines();
    req.set_header("Accept-Encoding", "identity");
    req.set_header("Content-Length", &BODY.len().to_string());
    req.set_header("X-Forwarded-For", "10.0.0.1");
    req.verify(t0()).unwrap();
}

// ---------------------------------------------------------------------------------------------
// Failures.

#[test]
fn missing_authentication() {
    let mut req = describe_pipelines();
    req.remove_header("authorization");
    let err = assert_fails(
        req.verify(t0()),
        AuthErrorKind::MissingAuthenticationToken,
        "Request is missing Authentication Token",
    );
    assert_eq!(err.aws_type(), "MissingAuthenticationTokenException");
    assert_eq!(err.message(), auth::MSG_MISSING_TOKEN);
    assert_eq!(
        err.to_string(),
        "MissingAuthenticationTokenException: Request is missing Authentication Token"
    );
    // A query string without signing parameters is not a presigned request.
    req.query = "foo=bar".into();
    assert_fails(
        req.verify(t0()),
        AuthErrorKind::MissingAuthenticationToken,
        "Request is missing Authentication Token",
    );
}

#[test]
fn malformed_authorization_headers() {
    let req = describe_pipelines();
    let auth = req.authorization();
    let signature = auth.rsplit_once("Signature=").unwrap().1.to_owned();
    let cases: Vec<(String, &str)> = vec![
        (
            auth.replace(&format!(", Signature={signature}"), ""),
            "Authorization header requires 'Signature' parameter.",
        ),
        (
            format!("AWS4-HMAC-SHA256 Signature={signature}"),
            "Authorization header requires 'Credential' parameter. \
             Authorization header requires 'SignedHeaders' parameter.",
        ),
        (
            "AWS4-HMAC-SHA256".into(),
            "Authorization header requires 'Credential' parameter.",
        ),
        (
            auth.replace("AWS4-HMAC-SHA256", "AWS4-HMAC-SHA512"),
            "Unsupported AWS 'algorithm': 'AWS4-HMAC-SHA512'.",
        ),
        (
            "Bearer eyJhbGciOiJIUzI1NiJ9.e30.x".into(),
            "must use the 'AWS4-HMAC-SHA256' algorithm",
        ),
        (
            auth.replace("/us-east-1/", "/"),
            "Credential must have exactly 5 slash-delimited elements, e.g. keyid/date/region/service/term, \
             got 'AKIAIOSFODNN7EXAMPLE/20261126/datapipeline/aws4_request'.",
        ),
        (
            auth.replace("aws4_request", "aws5_request"),
            "Credential should be scoped with a valid terminator: 'aws4_request', not 'aws5_request'.",
        ),
        (
            auth.replace("/20261126/", "/2026-11-26/"),
            "The date in the Credential must be in the form YYYYMMDD, got '2026-11-26'.",
        ),
        (
            auth.replace(
                "SignedHeaders=content-type;host;",
                "SignedHeaders=content-type;",
            ),
            "'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization.",
        ),
        (
            auth.replace(";x-amz-date;", ";"),
            "'X-Amz-Date' must be a 'SignedHeader' in the AWS Authorization.",
        ),
        (
            auth.replace(
                "SignedHeaders=content-type;",
                "SignedHeaders=content-type;;",
            ),
            "must be a non-empty list of header names",
        ),
        (
            // Parts separated by "," without a space are accepted (success expected).
            auth.replace(", ", ","),
            "",
        ),
        (
            format!(
                "{auth}, Credential=AKIAIOSFODNN7EXAMPLE/20261126/us-east-1/datapipeline/aws4_request"
            ),
            "Authorization header has more than one 'Credential' parameter.",
        ),
        (
            auth.replace("Credential=", "Credential "),
            "Element 1 of the Authorization header is not a valid key=value pair (missing equal-sign).",
        ),
    ];
    for (header, message) in cases {
        let mut changed = req.clone();
        changed.set_header("Authorization", &header);
        if message.is_empty() {
            changed.verify(t0()).unwrap();
            continue;
        }
        let err = assert_fails(
            changed.verify(t0()),
            AuthErrorKind::IncompleteSignature,
            message,
        );
        assert_eq!(err.aws_type(), "IncompleteSignatureException");
        assert!(
            !err.message().contains(&signature),
            "signature echoed: {err}"
        );
    }

    let mut twice = req.clone();
    twice.headers.push(("authorization".into(), auth.clone()));
    assert_fails(
        twice.verify(t0()),
        AuthErrorKind::IncompleteSignature,
        "more than one Authorization header",
    );
}

#[test]
fn missing_or_unparseable_date() {
    let req = describe_pipelines();
    let mut missing = req.clone();
    missing.remove_header("x-amz-date");
    assert_fails(
        missing.verify(t0()),
        AuthErrorKind::IncompleteSignature,
        "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header.",
    );
    for bad in [
        "2026-11-26T04:30:48Z",
        "20261126T043048",
        "20261326T043048Z",
        "20261126T256048Z",
        "",
    ] {
        let mut changed = req.clone();
        changed.set_header("X-Amz-Date", bad);
        assert_fails(
            changed.verify(t0()),
            AuthErrorKind::IncompleteSignature,
            &format!("Date must be in ISO-8601 'basic format'. Got '{bad}'."),
        );
    }
    let mut bad_http_date = req.clone();
    bad_http_date.remove_header("x-amz-date");
    bad_http_date.set_header("Date", "yesterday");
    assert_fails(
        bad_http_date.verify(t0()),
        AuthErrorKind::IncompleteSignature,
        "Date header 'yesterday' is not an HTTP date",
    );
}

#[test]
fn wrong_service_or_scope_date() {
    let dynamodb = sdk_request(
        "ListPipelines",
        b"{}",
        Signing {
            service: "dynamodb",
            ..signing()
        },
    );
    let err = assert_fails(
        dynamodb.verify(t0()),
        AuthErrorKind::InvalidSignature,
        "Credential should be scoped to correct service: 'datapipeline'.",
    );
    assert_eq!(err.aws_type(), "InvalidSignatureException");

    let mut other_day = describe_pipelines();
    let auth = other_day
        .authorization()
        .replace("/20261126/", "/20261125/");
    other_day.set_header("Authorization", &auth);
    assert_fails(
        other_day.verify(t0()),
        AuthErrorKind::InvalidSignature,
        "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: \
         '20261125' != '20261126', from '20261126T043048Z'.",
    );
}

#[test]
fn unknown_access_key() {
    let req = sdk_request(
        "ListPipelines",
        b"{}",
        Signing {
            access_key_id: "AKIAUNKNOWNKEY000000",
            ..signing()
        },
    );
    let err = assert_fails(
        req.verify(t0()),
        AuthErrorKind::UnrecognizedClient,
        "The security token included in the request is invalid.",
    );
    assert_eq!(err.aws_type(), "UnrecognizedClientException");
    assert_eq!(err.message(), auth::MSG_UNRECOGNIZED_CLIENT);
}

#[test]
fn wrong_secret() {
    let req = sdk_request(
        "ListPipelines",
        b"{}",
        Signing {
            secret: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYWRONGKEY",
            ..signing()
        },
    );
    let err = assert_fails(
        req.verify(t0()),
        AuthErrorKind::InvalidSignature,
        "The request signature we calculated does not match the signature you provided. \
         Check your AWS Secret Access Key and signing method.",
    );
    assert_eq!(err.message(), auth::MSG_SIGNATURE_MISMATCH);
    assert_eq!(err.aws_type(), "InvalidSignatureException");
}

#[test]
fn one_byte_body_change_fails() {
    let req = describe_pipelines();
    req.verify(t0()).unwrap();
    for i in [0, BODY.len() / 2, BODY.len() - 1] {
        let mut changed = req.clone();
        changed.body[i] ^= 0x01;
        assert_fails(
            changed.verify(t0()),
            AuthErrorKind::InvalidSignature,
            "does not match",
        );
    }
    let mut longer = req.clone();
    longer.body.push(b' ');
    assert_fails(
        longer.verify(t0()),
        AuthErrorKind::InvalidSignature,
        "does not match",
    );
}

#[test]
fn changed_signed_header_or_signature_fails() {
    let req = describe_pipelines();
    let mut target = req.clone();
    target.set_header("X-Amz-Target", "DataPipeline.DeletePipeline");
    assert_fails(
        target.verify(t0()),
        AuthErrorKind::InvalidSignature,
        "does not match",
    );

    let auth = req.authorization();
    let (head, signature) = auth.rsplit_once("Signature=").unwrap();
    let mut flipped = signature.to_owned().into_bytes();
    flipped[63] = if flipped[63] == b'0' { b'1' } else { b'0' };
    for bad in [
        String::from_utf8(flipped).unwrap(),
        signature.to_ascii_uppercase(),
        signature[..63].to_owned(),
        String::new(),
    ] {
        if bad == signature {
            continue;
        }
        let mut changed = req.clone();
        changed.set_header("Authorization", &format!("{head}Signature={bad}"));
        assert_fails(
            changed.verify(t0()),
            AuthErrorKind::InvalidSignature,
            "does not match",
        );
    }
}

#[test]
fn clock_skew() {
    let req = describe_pipelines();
    req.verify(t0() + TimeDelta::minutes(15)).unwrap();
    req.verify(t0() - TimeDelta::minutes(15)).unwrap();
    let err = assert_fails(
        req.verify(at("2026-11-26T05:00:48Z")),
        AuthErrorKind::InvalidSignature,
        "",
    );
    assert_eq!(
        err.message(),
        "Signature expired: 20261126T043048Z is now earlier than 20261126T044548Z (20261126T050048Z - 15 min.)"
    );
    let err = assert_fails(
        req.verify(at("2026-11-26T04:14:47Z")),
        AuthErrorKind::InvalidSignature,
        "",
    );
    assert_eq!(
        err.message(),
        "Signature not yet current: 20261126T043048Z is still later than 20261126T042947Z (20261126T041447Z + 15 min.)"
    );
}

/// Signs by hand, from the specification, with the HTTP `Date` header instead of `X-Amz-Date`
/// (the SDKs always send `X-Amz-Date`).
#[test]
fn http_date_header_is_accepted_as_the_request_time() {
    fn hmac(key: &[u8], data: &str) -> Vec<u8> {
        let mut mac = Hmac::<Sha256>::new_from_slice(key).unwrap();
        mac.update(data.as_bytes());
        mac.finalize().into_bytes().to_vec()
    }
    let date = "Thu, 26 Nov 2026 04:30:48 GMT";
    let canonical = format!(
        "POST\n/\n\ndate:{date}\nhost:{HOST}\nx-amz-target:DataPipeline.ListPipelines\n\n\
         date;host;x-amz-target\n{}",
        hex::encode(Sha256::digest(b"{}"))
    );
    let string_to_sign = format!(
        "AWS4-HMAC-SHA256\n20261126T043048Z\n20261126/us-east-1/datapipeline/aws4_request\n{}",
        hex::encode(Sha256::digest(canonical.as_bytes()))
    );
    let key = ["20261126", "us-east-1", "datapipeline", "aws4_request"]
        .iter()
        .fold(format!("AWS4{SECRET}").into_bytes(), |k, part| {
            hmac(&k, part)
        });
    let signature = hex::encode(hmac(&key, &string_to_sign));
    let req = Req {
        method: "POST".into(),
        path: "/".into(),
        query: String::new(),
        headers: vec![
            ("Host".into(), HOST.into()),
            ("Date".into(), date.into()),
            ("X-Amz-Target".into(), "DataPipeline.ListPipelines".into()),
            (
                "Authorization".into(),
                format!(
                    "AWS4-HMAC-SHA256 Credential={AK}/20261126/us-east-1/datapipeline/aws4_request, \
                     SignedHeaders=date;host;x-amz-target, Signature={signature}"
                ),
            ),
        ],
        body: b"{}".to_vec(),
    };
    assert_eq!(req.verify(t0()).unwrap().account_id, ACCOUNT);
    assert_fails(
        req.verify(t0() + TimeDelta::minutes(16)),
        AuthErrorKind::InvalidSignature,
        "Signature expired: 20261126T043048Z is now earlier than",
    );

    // The Date header must be signed when it supplies the time.
    let mut unsigned = req.clone();
    let auth = unsigned
        .authorization()
        .replace("SignedHeaders=date;", "SignedHeaders=");
    unsigned.set_header("Authorization", &auth);
    assert_fails(
        unsigned.verify(t0()),
        AuthErrorKind::IncompleteSignature,
        "'Date' must be a 'SignedHeader' in the AWS Authorization.",
    );
}

#[test]
fn error_kinds_map_to_aws_json_errors() {
    let expected = [
        (
            AuthErrorKind::MissingAuthenticationToken,
            "MissingAuthenticationTokenException",
        ),
        (
            AuthErrorKind::IncompleteSignature,
            "IncompleteSignatureException",
        ),
        (
            AuthErrorKind::UnrecognizedClient,
            "UnrecognizedClientException",
        ),
        (AuthErrorKind::InvalidSignature, "InvalidSignatureException"),
    ];
    for (kind, aws_type) in expected {
        assert_eq!(kind.aws_type(), aws_type);
        assert_eq!(kind.http_status(), 400);
    }
}

// ---------------------------------------------------------------------------------------------
// Credentials.

fn env(vars: &[(&str, &str)]) -> impl Fn(&str) -> Option<OsString> {
    let vars: Vec<(String, String)> = vars
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    move |name| {
        vars.iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| OsString::from(v))
    }
}

#[test]
fn root_pair_from_the_environment() {
    let store = CredentialStore::from_lookup_and_file(
        env(&[
            ("SLUICE_ROOT_ACCESS_KEY_ID", AK),
            ("SLUICE_ROOT_SECRET_ACCESS_KEY", SECRET),
        ]),
        None,
    )
    .unwrap();
    assert_eq!(store.len(), 1);
    let key = store.get(AK).unwrap();
    assert_eq!(key.account_id, DEFAULT_ACCOUNT_ID);
    assert_eq!(key.secret_access_key.expose_secret(), SECRET);
    let principal = auth::verify(&list_pipelines().signed(), &store, t0()).unwrap();
    assert_eq!(principal.account_id, "000000000000");

    let store = CredentialStore::from_lookup_and_file(
        env(&[
            ("SLUICE_ROOT_ACCESS_KEY_ID", AK),
            ("SLUICE_ROOT_SECRET_ACCESS_KEY", SECRET),
            ("SLUICE_ROOT_ACCOUNT_ID", ACCOUNT),
        ]),
        None,
    )
    .unwrap();
    assert_eq!(store.get(AK).unwrap().account_id, ACCOUNT);

    let empty = CredentialStore::from_lookup_and_file(env(&[]), None).unwrap();
    assert!(empty.is_empty());
    assert_eq!(empty.len(), 0);
    assert_fails(
        auth::verify(&list_pipelines().signed(), &empty, t0()),
        AuthErrorKind::UnrecognizedClient,
        "security token",
    );
}

#[test]
fn environment_errors_name_the_variable() {
    let err =
        CredentialStore::from_lookup_and_file(env(&[("SLUICE_ROOT_ACCESS_KEY_ID", AK)]), None)
            .unwrap_err();
    assert_eq!(
        err.to_string(),
        "SLUICE_ROOT_ACCESS_KEY_ID is set but SLUICE_ROOT_SECRET_ACCESS_KEY is not: set both or neither"
    );
    let err = CredentialStore::from_lookup_and_file(
        env(&[("SLUICE_ROOT_SECRET_ACCESS_KEY", SECRET)]),
        None,
    )
    .unwrap_err();
    assert_eq!(
        err.to_string(),
        "SLUICE_ROOT_SECRET_ACCESS_KEY is set but SLUICE_ROOT_ACCESS_KEY_ID is not: set both or neither"
    );
    let err = CredentialStore::from_lookup_and_file(
        env(&[
            ("SLUICE_ROOT_ACCESS_KEY_ID", AK),
            ("SLUICE_ROOT_SECRET_ACCESS_KEY", SECRET),
            ("SLUICE_ROOT_ACCOUNT_ID", "1234"),
        ]),
        None,
    )
    .unwrap_err();
    assert_eq!(
        err.to_string(),
        "environment variable SLUICE_ROOT_ACCOUNT_ID: the account id \"1234\" is not 12 digits"
    );
    let err = CredentialStore::from_lookup_and_file(
        env(&[
            ("SLUICE_ROOT_ACCESS_KEY_ID", "AKIA/BAD"),
            ("SLUICE_ROOT_SECRET_ACCESS_KEY", SECRET),
        ]),
        None,
    )
    .unwrap_err();
    assert!(
        err.to_string()
            .starts_with("environment variable SLUICE_ROOT_ACCESS_KEY_ID: "),
        "{err}"
    );
    assert!(!err.to_string().contains(SECRET));
    #[cfg(unix)]
    {
        use std::os::unix::ffi::OsStringExt;
        let err = CredentialStore::from_lookup_and_file(
            |name| {
                (name == "SLUICE_ROOT_ACCESS_KEY_ID").then(|| OsString::from_vec(vec![b'A', 0xff]))
            },
            None,
        )
        .unwrap_err();
        assert_eq!(
            err.to_string(),
            "environment variable SLUICE_ROOT_ACCESS_KEY_ID: not valid UTF-8"
        );
    }
}

/// `from_env_and_file` reads the real process environment: checked in a child process, since
/// tests may not change their own environment.
#[test]
fn from_env_and_file_reads_the_process_environment() {
    if std::env::var_os("SLUICE_AUTH_TEST_CHILD").is_some() {
        let store = CredentialStore::from_env_and_file(None).unwrap();
        assert_eq!(store.len(), 1);
        assert_eq!(
            store.get("AKIACHILDPROCESS0001").unwrap().account_id,
            "444455556666"
        );
        return;
    }
    let output = std::process::Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "from_env_and_file_reads_the_process_environment",
            "--test-threads=1",
        ])
        .env("SLUICE_AUTH_TEST_CHILD", "1")
        .env("SLUICE_ROOT_ACCESS_KEY_ID", "AKIACHILDPROCESS0001")
        .env("SLUICE_ROOT_SECRET_ACCESS_KEY", "child-secret")
        .env("SLUICE_ROOT_ACCOUNT_ID", "444455556666")
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "child failed:\n{}\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(String::from_utf8_lossy(&output.stdout).contains("1 passed"));
}

fn write(dir: &Path, name: &str, text: &str) -> std::path::PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

#[test]
fn credentials_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = write(
        dir.path(),
        "credentials.json",
        r#"{
          "accounts": [
            {"accountId": "111122223333",
             "keys": [{"accessKeyId": "AKIAIOSFODNN7EXAMPLE", "secretAccessKey": "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"},
                      {"accessKeyId": "AKIASECONDKEY0000001", "secretAccessKey": "second-secret"}]},
            {"accountId": "999988887777",
             "keys": [{"accessKeyId": "AKIAOTHERACCOUNT0001", "secretAccessKey": "other-secret"}]}
          ]
        }"#,
    );
    let store = CredentialStore::from_lookup_and_file(env(&[]), Some(&path)).unwrap();
    assert_eq!(store.len(), 3);
    assert_eq!(
        store.get("AKIASECONDKEY0000001").unwrap().account_id,
        ACCOUNT
    );
    assert_eq!(
        store.get("AKIAOTHERACCOUNT0001").unwrap().account_id,
        "999988887777"
    );
    let principal = auth::verify(&describe_pipelines().signed(), &store, t0()).unwrap();
    assert_eq!(principal.account_id, ACCOUNT);

    let other = sdk_request(
        "ListPipelines",
        b"{}",
        Signing {
            access_key_id: "AKIAOTHERACCOUNT0001",
            secret: "other-secret",
            ..signing()
        },
    );
    let principal = auth::verify(&other.signed(), &store, t0()).unwrap();
    assert_eq!(principal.access_key_id, "AKIAOTHERACCOUNT0001");
    assert_eq!(principal.account_id, "999988887777");

    // Environment and file together.
    let store = CredentialStore::from_lookup_and_file(
        env(&[
            ("SLUICE_ROOT_ACCESS_KEY_ID", "AKIAROOTKEY000000001"),
            ("SLUICE_ROOT_SECRET_ACCESS_KEY", "root-secret"),
        ]),
        Some(&path),
    )
    .unwrap();
    assert_eq!(store.len(), 4);
    assert_eq!(store.keys().count(), 4);
}

#[test]
fn credentials_file_errors_name_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("absent.json");
    let err = CredentialStore::from_lookup_and_file(env(&[]), Some(&missing)).unwrap_err();
    let text = err.to_string();
    assert!(
        text.starts_with(&format!(
            "credentials file {}: cannot read: ",
            missing.display()
        )),
        "{text}"
    );
    assert!(matches!(err, CredentialError::File { ref path, .. } if path == &missing));

    let cases: &[(&str, &str)] = &[
        (
            "{\"accounts\": [",
            "EOF while parsing a list at line 1 column 14",
        ),
        ("{\"accounts\": []}", "\"accounts\" is empty"),
        (
            "\"x\"",
            "invalid type: string \"x\", expected an object {\"accounts\": [{\"accountId\": …, \"keys\": […]}]}",
        ),
        (
            r#"{"accounts": [{"accountId": "111122223333", "keys": [{"accessKeyId": "AKIA1", "secretAccesKey": "s"}]}]}"#,
            "unknown field `secretAccesKey`",
        ),
        (
            r#"{"accounts": [{"accountId": "1111-2222-3333", "keys": [{"accessKeyId": "AKIA1", "secretAccessKey": "s"}]}]}"#,
            "accounts[0].accountId: the account id \"1111-2222-3333\" is not 12 digits",
        ),
        (
            r#"{"accounts": [{"accountId": "111122223333", "keys": []}]}"#,
            "accounts[0].keys is empty: account 111122223333 needs at least one key",
        ),
        (
            r#"{"accounts": [{"accountId": "111122223333", "keys": [{"accessKeyId": "AKIA1", "secretAccessKey": ""}]}]}"#,
            "accounts[0].keys[0].secretAccessKey is empty",
        ),
        (
            r#"{"accounts": [{"accountId": "111122223333", "keys": [{"accessKeyId": "AKIA 1", "secretAccessKey": "s"}]}]}"#,
            "accounts[0].keys[0].accessKeyId: the access key id \"AKIA 1\" contains ' '",
        ),
        (
            r#"{"accounts": [{"accountId": "111122223333", "keys": [{"accessKeyId": "AKIA1", "secretAccessKey": "s"}]},
                             {"accountId": "111122223333", "keys": [{"accessKeyId": "AKIA2", "secretAccessKey": "s"}]}]}"#,
            "accounts[1]: account 111122223333 is already listed as accounts[0]",
        ),
    ];
    for (i, (json, message)) in cases.iter().enumerate() {
        let path = write(dir.path(), &format!("case{i}.json"), json);
        let err = CredentialStore::from_lookup_and_file(env(&[]), Some(&path)).unwrap_err();
        let text = err.to_string();
        assert!(
            text.starts_with(&format!("credentials file {}: ", path.display())),
            "case {i}: {text}"
        );
        assert!(
            text.contains(message),
            "case {i}: {text:?} should contain {message:?}"
        );
    }

    // The same key twice, in the file or across the environment and the file.
    let path = write(
        dir.path(),
        "dup.json",
        r#"{"accounts": [{"accountId": "111122223333", "keys": [
             {"accessKeyId": "AKIADUP", "secretAccessKey": "secret-one"},
             {"accessKeyId": "AKIADUP", "secretAccessKey": "secret-two"}]}]}"#,
    );
    let err = CredentialStore::from_lookup_and_file(env(&[]), Some(&path)).unwrap_err();
    let text = err.to_string();
    assert_eq!(
        text,
        format!(
            "access key id AKIADUP is defined twice: in credentials file {0} accounts[0].keys[0] \
             and in credentials file {0} accounts[0].keys[1]",
            path.display()
        )
    );
    assert!(!text.contains("secret-one") && !text.contains("secret-two"));

    let path = write(
        dir.path(),
        "root.json",
        r#"{"accounts": [{"accountId": "111122223333", "keys": [{"accessKeyId": "AKIAROOT", "secretAccessKey": "s"}]}]}"#,
    );
    let err = CredentialStore::from_lookup_and_file(
        env(&[
            ("SLUICE_ROOT_ACCESS_KEY_ID", "AKIAROOT"),
            ("SLUICE_ROOT_SECRET_ACCESS_KEY", "root-secret"),
        ]),
        Some(&path),
    )
    .unwrap_err();
    assert_eq!(
        err.to_string(),
        format!(
            "access key id AKIAROOT is defined twice: in environment variable SLUICE_ROOT_ACCESS_KEY_ID \
             and in credentials file {} accounts[0].keys[0]",
            path.display()
        )
    );
}

#[test]
fn dev_credentials_are_random_and_aws_shaped() {
    let store = CredentialStore::generate_dev().unwrap();
    assert_eq!(store.len(), 1);
    let key = store.keys().next().unwrap().clone();
    assert_eq!(key.account_id, DEFAULT_ACCOUNT_ID);
    let id = &key.access_key_id;
    assert_eq!(id.len(), 20, "{id}");
    assert!(id.starts_with("AKIA"), "{id}");
    assert!(
        id.bytes()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit()),
        "{id}"
    );
    let secret = key.secret_access_key.expose_secret();
    assert_eq!(secret.len(), 40);
    assert!(
        secret
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'+' || b == b'/')
    );
    assert!(!format!("{key:?}").contains(secret));
    assert!(!format!("{store:?}").contains(secret));

    let other = CredentialStore::generate_dev().unwrap();
    let other_key = other.keys().next().unwrap();
    assert_ne!(&other_key.access_key_id, id);
    assert_ne!(other_key.secret_access_key.expose_secret(), secret);

    // The generated pair signs requests the store verifies.
    let req = sdk_request(
        "ListPipelines",
        b"{}",
        Signing {
            access_key_id: id,
            secret,
            ..signing()
        },
    );
    let principal = auth::verify(&req.signed(), &store, t0()).unwrap();
    assert_eq!(principal, key.principal());
}

#[test]
fn secrets_never_print() {
    let key = SecretKey::new(SECRET);
    assert_eq!(format!("{key}"), "**REDACTED**");
    assert_eq!(format!("{key:?}"), "**REDACTED**");
    let store = store();
    assert!(!format!("{store:?}").contains(SECRET));
    assert!(!format!("{:?}", store.get(AK).unwrap()).contains(SECRET));
}

#[test]
fn signed_request_debug_redacts_signature_and_token() {
    let token = "IQoJb3JpZ2luX2VjEJr//////////wEaCXVzLWVhc3QtMSJHMEUCIQD+example/token==";
    let req = sdk_request(
        "ListPipelines",
        b"{}",
        Signing {
            session_token: Some(token),
            ..signing()
        },
    );
    let auth = req.authorization();
    let signature = auth.rsplit_once("Signature=").unwrap().1;
    let debug = format!("{:?}", req.signed());
    assert!(!debug.contains(signature), "{debug}");
    assert!(!debug.contains(token), "{debug}");
    assert!(debug.contains("DataPipeline.ListPipelines"), "{debug}");

    let mut settings = SigningSettings::default();
    settings.signature_location = SignatureLocation::QueryParams;
    settings.expires_in = Some(Duration::from_secs(60));
    let presigned = sdk_request(
        "ListPipelines",
        b"{}",
        Signing {
            settings,
            ..signing()
        },
    );
    let debug = format!("{:?}", presigned.signed());
    assert!(!debug.contains("X-Amz-Signature"), "{debug}");
}
