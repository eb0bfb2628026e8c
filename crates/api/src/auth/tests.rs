//! Unit tests of the verifier's internals against the AWS SigV4 test suite (`testdata/sigv4`),
//! which signs with service `service`; `tests/auth.rs` covers the public API.

use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use serde::Deserialize;

use super::error::AuthErrorKind;
use super::sigv4::{Settings, SignedRequest, canonical_uri, prepare, signing_key, verify_with};
use super::{AccessKey, CredentialStore, SecretKey};

#[derive(Deserialize)]
struct Context {
    credentials: ContextCredentials,
    normalize: bool,
    region: String,
    service: String,
    timestamp: DateTime<Utc>,
}

#[derive(Deserialize)]
struct ContextCredentials {
    access_key_id: String,
    secret_access_key: String,
}

/// A request parsed from a test-suite `*-signed-request.txt`.
struct RawRequest {
    method: String,
    path: String,
    query: String,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl RawRequest {
    fn parse(text: &str) -> RawRequest {
        let (head, body) = text.split_once("\n\n").unwrap_or((text, ""));
        let mut lines = head.lines();
        let request_line = lines.next().expect("request line");
        let (method, rest) = request_line.split_once(' ').expect("method");
        let target = rest.strip_suffix(" HTTP/1.1").expect("HTTP/1.1");
        let (path, query) = target.split_once('?').unwrap_or((target, ""));
        let mut headers: Vec<(String, String)> = Vec::new();
        for line in lines {
            if line.starts_with([' ', '\t']) {
                // An obsolete folded continuation line.
                let last = headers.last_mut().expect("continuation after a header");
                last.1.push('\n');
                last.1.push_str(line);
            } else {
                let (name, value) = line.split_once(':').expect("header line");
                headers.push((name.to_owned(), value.to_owned()));
            }
        }
        RawRequest {
            method: method.to_owned(),
            path: path.to_owned(),
            query: query.to_owned(),
            headers,
            body: body.trim_end_matches('\n').as_bytes().to_vec(),
        }
    }

    fn signed(&self) -> SignedRequest<'_> {
        SignedRequest {
            method: &self.method,
            path: &self.path,
            query: &self.query,
            headers: &self.headers,
            body: &self.body,
        }
    }
}

fn suite_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src/auth/testdata/sigv4")
}

fn read(dir: &Path, file: &str) -> Option<String> {
    std::fs::read_to_string(dir.join(file)).ok()
}

fn store_for(ctx: &Context) -> CredentialStore {
    let mut store = CredentialStore::new();
    store
        .insert(
            AccessKey {
                access_key_id: ctx.credentials.access_key_id.clone(),
                secret_access_key: SecretKey::new(ctx.credentials.secret_access_key.clone()),
                account_id: "111122223333".into(),
            },
            "test vector",
        )
        .unwrap();
    store
}

/// Every case of the suite, header and query (presigned) forms: the canonical request and the
/// string to sign are byte-for-byte the suite's, and the signature verifies.
#[test]
fn aws_sigv4_test_suite() {
    let mut cases = 0;
    let mut entries: Vec<_> = std::fs::read_dir(suite_dir())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_dir())
        .collect();
    entries.sort();
    assert!(entries.len() >= 30, "test suite missing: {entries:?}");
    for dir in entries {
        let name = dir.file_name().unwrap().to_string_lossy().into_owned();
        let ctx: Context = serde_json::from_str(&read(&dir, "context.json").unwrap()).unwrap();
        let store = store_for(&ctx);
        let settings = Settings {
            service: &ctx.service,
            normalize_path: ctx.normalize,
        };
        for form in ["header", "query"] {
            let Some(text) = read(&dir, &format!("{form}-signed-request.txt")) else {
                continue;
            };
            if name == "post-sts-header-after" && form == "query" {
                // The session token is appended to the query after presigning (the AWS IoT
                // style). Every query parameter is signed in SigV4, so this is refused.
                let raw = RawRequest::parse(&text);
                let err = verify_with(&raw.signed(), &store, ctx.timestamp, &settings).unwrap_err();
                assert_eq!(
                    err.kind(),
                    AuthErrorKind::InvalidSignature,
                    "{name} ({form})"
                );
                continue;
            }
            let raw = RawRequest::parse(&text);
            let req = raw.signed();
            let prepared =
                prepare(&req, &settings).unwrap_or_else(|e| panic!("{name} ({form}): {e}"));
            assert_eq!(prepared.scope.region, ctx.region, "{name} ({form})");
            if let Some(expected) = read(&dir, &format!("{form}-canonical-request.txt")) {
                assert_eq!(
                    prepared.canonical_request, expected,
                    "{name} ({form}): canonical request"
                );
            }
            if let Some(expected) = read(&dir, &format!("{form}-string-to-sign.txt")) {
                assert_eq!(
                    prepared.string_to_sign, expected,
                    "{name} ({form}): string to sign"
                );
            }
            let principal = verify_with(&req, &store, ctx.timestamp, &settings)
                .unwrap_or_else(|e| panic!("{name} ({form}): {e}"));
            assert_eq!(principal.access_key_id, "AKIDEXAMPLE");
            assert_eq!(principal.account_id, "111122223333");
            cases += 1;
        }
    }
    assert!(cases >= 60, "only {cases} cases ran");
}

/// The public entry point pins the service to `datapipeline`, so the suite's `service`
/// signatures are refused there with AWS's wrong-service message.
#[test]
fn suite_requests_are_refused_for_datapipeline() {
    let dir = suite_dir().join("post-vanilla");
    let ctx: Context = serde_json::from_str(&read(&dir, "context.json").unwrap()).unwrap();
    let raw = RawRequest::parse(&read(&dir, "header-signed-request.txt").unwrap());
    let err = super::verify(&raw.signed(), &store_for(&ctx), ctx.timestamp).unwrap_err();
    assert_eq!(err.kind(), AuthErrorKind::InvalidSignature);
    assert_eq!(
        err.message(),
        "Credential should be scoped to correct service: 'datapipeline'."
    );
}

/// A mutated test-suite request fails: one byte of the body, a signed header's value, the
/// path, the query, the method.
#[test]
fn changed_requests_fail() {
    let dir = suite_dir().join("post-x-www-form-urlencoded-parameters");
    let ctx: Context = serde_json::from_str(&read(&dir, "context.json").unwrap()).unwrap();
    let store = store_for(&ctx);
    let settings = Settings {
        service: "service",
        normalize_path: true,
    };
    let original = RawRequest::parse(&read(&dir, "header-signed-request.txt").unwrap());
    assert!(!original.body.is_empty());
    verify_with(&original.signed(), &store, ctx.timestamp, &settings).unwrap();

    type Mutation = Box<dyn Fn(&mut RawRequest)>;
    let mutations: Vec<(&str, Mutation)> = vec![
        ("body byte", Box::new(|r| r.body[0] ^= 1)),
        (
            "signed header value",
            Box::new(|r| {
                let h = r
                    .headers
                    .iter_mut()
                    .find(|(n, _)| n.eq_ignore_ascii_case("host"))
                    .unwrap();
                h.1.push('x');
            }),
        ),
        ("path", Box::new(|r| r.path.push('x'))),
        ("query", Box::new(|r| r.query.push_str("a=b"))),
        ("method", Box::new(|r| r.method = "PUT".into())),
    ];
    for (what, mutate) in mutations {
        let mut raw = RawRequest::parse(&read(&dir, "header-signed-request.txt").unwrap());
        mutate(&mut raw);
        let err = verify_with(&raw.signed(), &store, ctx.timestamp, &settings).unwrap_err();
        assert_eq!(err.kind(), AuthErrorKind::InvalidSignature, "{what}: {err}");
    }
}

/// The signing-key example of the AWS documentation ("Derive a signing key").
#[test]
fn signing_key_matches_aws_example() {
    let key = signing_key(
        "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
        "20120215",
        "us-east-1",
        "iam",
    );
    assert_eq!(
        hex::encode(key),
        "f4780e2d9f65fa895f9c67b32ce1baf0b0d8a43505a000a1a9e090d414db404d"
    );
}

#[test]
fn canonical_uri_normalises_and_encodes_again() {
    assert_eq!(canonical_uri("/", true), "/");
    assert_eq!(canonical_uri("", true), "/");
    assert_eq!(canonical_uri("", false), "/");
    assert_eq!(canonical_uri("//a//b/", true), "/a/b/");
    assert_eq!(canonical_uri("/a/./b/../c", true), "/a/c");
    assert_eq!(canonical_uri("/a/b/..", true), "/a/");
    assert_eq!(canonical_uri("/..", true), "/");
    // Already percent-encoded on the wire, so `%` is encoded once more.
    assert_eq!(canonical_uri("/a%20b", true), "/a%2520b");
    assert_eq!(canonical_uri("/x@y:z", true), "/x%40y%3Az");
    assert_eq!(canonical_uri("//a//", false), "//a//");
}

/// Header values: trimmed, runs of spaces and tabs folded, repeated headers joined with `,`,
/// names matched in any case.
#[test]
fn header_canonicalisation() {
    let headers = vec![
        ("HOST".to_owned(), "  example.com ".to_owned()),
        ("X-AMZ-DATE".to_owned(), "20150830T123600Z".to_owned()),
        ("My-Header".to_owned(), " a  \t b   c ".to_owned()),
        ("my-header".to_owned(), "d".to_owned()),
        (
            "Authorization".to_owned(),
            "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, \
             SignedHeaders=Host;MY-HEADER;x-amz-date, Signature=00"
                .to_owned(),
        ),
    ];
    let req = SignedRequest {
        method: "GET",
        path: "/",
        query: "",
        headers: &headers,
        body: b"",
    };
    let prepared = prepare(
        &req,
        &Settings {
            service: "service",
            normalize_path: true,
        },
    )
    .unwrap();
    assert_eq!(
        prepared.canonical_request,
        "GET\n/\n\nhost:example.com\nmy-header:a b c,d\nx-amz-date:20150830T123600Z\n\n\
         host;my-header;x-amz-date\ne3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    );
}
