//! Feeds arbitrary requests to what the API server does with one before its operation runs
//! (`sluice_api::fuzzing::decode_request`): method and path, header limits, Content-Type, the
//! SigV4 `Authorization` header or presigned query, the signature over the body, X-Amz-Target,
//! and each operation's JSON decoding with the model's constraints.
//!
//! An input is one control byte, then a request written as text:
//!
//! ```text
//! POST /?query
//! name: value
//! …
//!
//! body
//! ```
//!
//! The control byte's low five bits name the operation (0–18 sets `X-Amz-Target` to it; more
//! keeps the input's own), bits 5–6 how it is signed (0: by the AWS SDK's signer in the
//! `Authorization` header, 1: presigned by it in the query, 2–3: as written, so the fuzzer's
//! own signature text is parsed), bit 7 whether the SDK also sends `x-amz-content-sha256`.
//! Signing with a known key lets nearly every input through authentication to the decoding of
//! its body, which a fuzzer could never reach by guessing signatures.
//!
//! Invariants beyond "no panic": every refusal is the API's JSON error, with a 4xx or 5xx
//! status, and never shows the signing secret unless the request held its text; a request the
//! AWS SDK signed as an AWS client sends it is never refused for its signature; an accepted
//! request is the known key's and the operation the control byte chose.
#![no_main]

use std::sync::OnceLock;
use std::time::{Duration, SystemTime};

use aws_credential_types::Credentials;
use aws_sigv4::http_request::{
    PayloadChecksumKind, SignableBody, SignableRequest, SignatureLocation, SigningSettings, sign,
};
use aws_sigv4::sign::v4;
use aws_smithy_runtime_api::client::identity::Identity;
use chrono::{DateTime, Utc};
use http::{HeaderMap, HeaderName, HeaderValue, Method, Uri};
use libfuzzer_sys::fuzz_target;
use sluice_api::ApiError;
use sluice_api::auth::{AccessKey, CredentialStore, SecretKey};
use sluice_api::fuzzing::StoppedClock;
use sluice_model::ops::Operation;

const KEY_ID: &str = "AKIAFUZZTARGET000001";
const SECRET: &str = "fuzz/target/secret/never/in/any/answer0";
const ACCOUNT: &str = "123456789012";
/// The time of every signature and of the server's clock: fixed, so a crash reproduces.
const NOW_SECS: u64 = 1_795_667_448;

/// The authentication errors' types: a request the SDK signed must meet none of them.
const AUTH_ERRORS: [&str; 4] = [
    "MissingAuthenticationTokenException",
    "IncompleteSignatureException",
    "UnrecognizedClientException",
    "InvalidSignatureException",
];

/// The server's SigV4 verifier over one key, at the fixed time.
fn verifier() -> &'static StoppedClock {
    static VERIFIER: OnceLock<StoppedClock> = OnceLock::new();
    VERIFIER.get_or_init(|| {
        let mut store = CredentialStore::new();
        store
            .insert(
                AccessKey {
                    access_key_id: KEY_ID.into(),
                    secret_access_key: SecretKey::new(SECRET),
                    account_id: ACCOUNT.into(),
                },
                "fuzz target",
            )
            .expect("one key");
        StoppedClock {
            store,
            now: DateTime::<Utc>::from(signing_time()),
        }
    })
}

fn signing_time() -> SystemTime {
    SystemTime::UNIX_EPOCH + Duration::from_secs(NOW_SECS)
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Signer {
    Header,
    Query,
    AsWritten,
}

/// A request as hyper would hand it to the router.
struct Request {
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Vec<u8>,
}

/// The request the text after the control byte writes, or `None` for one the HTTP parser
/// would refuse before the router sees it (a bad method, target, header name or value).
fn parse(text: &[u8]) -> Option<Request> {
    let (head, body) = match text.windows(2).position(|w| w == b"\n\n") {
        Some(at) => (&text[..at], &text[at + 2..]),
        None => (text, &[][..]),
    };
    let mut lines = head.split(|&b| b == b'\n');
    let request_line = lines.next().unwrap_or_default();
    let (method, target) = match request_line.iter().position(|&b| b == b' ') {
        Some(at) => (&request_line[..at], &request_line[at + 1..]),
        None => (&b"POST"[..], &b"/"[..]),
    };
    let method = Method::from_bytes(method).ok()?;
    let uri = Uri::try_from(target).ok()?;
    let mut headers = HeaderMap::new();
    for line in lines {
        let at = line.iter().position(|&b| b == b':')?;
        let name = HeaderName::from_bytes(&line[..at]).ok()?;
        let value = HeaderValue::from_bytes(line[at + 1..].trim_ascii()).ok()?;
        headers.append(name, value);
    }
    Some(Request {
        method,
        uri,
        headers,
        body: body.to_vec(),
    })
}

/// Signs `request` with the AWS SDK's signer, as a client would send it; `false` when the SDK
/// cannot sign it (a header that is not visible ASCII, a target it cannot read).
fn sign_with_sdk(request: &mut Request, location: SignatureLocation, checksum: bool) -> bool {
    // What a client sends fresh for each signature.
    for name in [
        "authorization",
        "x-amz-date",
        "x-amz-content-sha256",
        "x-amz-security-token",
    ] {
        request.headers.remove(name);
    }
    if !request.headers.contains_key("host") {
        request
            .headers
            .insert("host", HeaderValue::from_static("127.0.0.1:8080"));
    }
    let mut settings = SigningSettings::default();
    settings.signature_location = location;
    if location == SignatureLocation::QueryParams {
        settings.expires_in = Some(Duration::from_secs(300));
    }
    if checksum {
        settings.payload_checksum_kind = PayloadChecksumKind::XAmzSha256;
    }
    let identity: Identity = Credentials::new(KEY_ID, SECRET, None, None, "fuzz").into();
    let Ok(params) = v4::SigningParams::builder()
        .identity(&identity)
        .region("us-east-1")
        .name("datapipeline")
        .time(signing_time())
        .settings(settings)
        .build()
    else {
        return false;
    };
    let Ok(headers) = request
        .headers
        .iter()
        .map(|(name, value)| value.to_str().map(|v| (name.as_str(), v)))
        .collect::<Result<Vec<_>, _>>()
    else {
        return false;
    };
    let url = format!("http://127.0.0.1:8080{}", request.uri);
    let Ok(signable) = SignableRequest::new(
        request.method.as_str(),
        url.as_str(),
        headers.into_iter(),
        SignableBody::Bytes(&request.body),
    ) else {
        return false;
    };
    let Ok(output) = sign(signable, &params.into()) else {
        return false;
    };
    let (instructions, _) = output.into_parts();
    // The SDK adds query parameters only to an absolute URL; the server sees the origin form.
    let Ok(mut signed) = http::Request::builder()
        .method(request.method.clone())
        .uri(url.as_str())
        .body(())
    else {
        return false;
    };
    *signed.headers_mut() = std::mem::take(&mut request.headers);
    instructions.apply_to_request_http1x(&mut signed);
    let (parts, ()) = signed.into_parts();
    request.headers = parts.headers;
    match parts
        .uri
        .path_and_query()
        .map(|p| Uri::try_from(p.as_str()))
    {
        Some(Ok(uri)) => request.uri = uri,
        _ => return false,
    }
    true
}

/// Whether the request is shaped as AWS clients send one, so that its SDK signature must
/// verify: the API's one path, each header once (the SDK and the specification join repeated
/// values differently around whitespace), no `Date` header (which the verifier would take as
/// the request time only without `X-Amz-Date`, which the SDK always sends), and no tab in a
/// value. The verifier folds a tab like a space, as botocore (the AWS CLI's signer) and the
/// SigV4 test suite do; the Rust SDK keeps it, so the two cannot both verify such a value.
/// Judged before signing: no `X-Amz-` query parameter of the request's own (nor a name that
/// may decode to one), which a presigned request would then carry twice (the verifier reads
/// the first, the SDK appends its own).
fn client_shaped(request: &Request) -> bool {
    let own_amz_parameter = request
        .uri
        .query()
        .unwrap_or_default()
        .split('&')
        .any(|pair| {
            let name = pair.split('=').next().unwrap_or_default();
            name.contains('%')
                || name
                    .get(..6)
                    .is_some_and(|start| start.eq_ignore_ascii_case("x-amz-"))
        });
    !own_amz_parameter
        && request.uri.path() == "/"
        && request.headers.keys().all(|name| {
            request.headers.get_all(name).iter().count() == 1 && name.as_str() != "date"
        })
        && request
            .headers
            .values()
            .all(|value| !value.as_bytes().contains(&b'\t'))
}

fn check_error(error: &ApiError, echoed: bool) {
    let status = error.http_status();
    assert!(
        (400..600).contains(&status),
        "status {status} for {error:?}"
    );
    let body: serde_json::Value =
        serde_json::from_slice(&error.body()).expect("an error body is JSON");
    assert_eq!(body["__type"].as_str(), Some(error.aws_type()), "{body}");
    assert!(body["message"].is_string(), "{body}");
    assert!(
        echoed || !body.to_string().contains(SECRET),
        "the signing secret in an answer: {body}"
    );
}

fuzz_target!(|data: &[u8]| {
    let Some((&control, text)) = data.split_first() else {
        return;
    };
    let Some(mut request) = parse(text) else {
        return;
    };
    let chosen = Operation::ALL.get(usize::from(control & 0x1f)).copied();
    if let Some(operation) = chosen {
        let target = format!("DataPipeline.{}", operation.name());
        request.headers.insert(
            "x-amz-target",
            HeaderValue::from_str(&target).expect("an operation name is a header value"),
        );
    }
    let signer = match (control >> 5) & 3 {
        0 => Signer::Header,
        1 => Signer::Query,
        _ => Signer::AsWritten,
    };
    let checksum = control & 0x80 != 0;
    let shaped = client_shaped(&request);
    let signed = match signer {
        Signer::Header => sign_with_sdk(&mut request, SignatureLocation::Headers, checksum),
        Signer::Query => sign_with_sdk(&mut request, SignatureLocation::QueryParams, checksum),
        Signer::AsWritten => false,
    };
    let outcome = sluice_api::fuzzing::decode_request(
        &request.method,
        &request.uri,
        &request.headers,
        &request.body,
        verifier(),
    );
    match outcome {
        Ok((principal, operation)) => {
            assert_eq!(principal.account_id, ACCOUNT);
            assert_eq!(principal.access_key_id, KEY_ID);
            if let Some(chosen) = chosen {
                assert_eq!(operation, chosen);
            }
        }
        Err(error) => {
            let echoed = data.windows(SECRET.len()).any(|w| w == SECRET.as_bytes());
            check_error(&error, echoed);
            if signed && shaped && request.method == Method::POST {
                assert!(
                    !AUTH_ERRORS.contains(&error.aws_type()),
                    "a request the AWS SDK signed was refused: {error:?}\n{} {}\n{:?}",
                    request.method,
                    request.uri,
                    request.headers
                );
            }
        }
    }
});
