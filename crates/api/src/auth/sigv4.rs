//! AWS Signature Version 4 verification.
//!
//! [`verify`] recomputes the signature of a request from the secret of the access key it names
//! and compares it, in constant time, with the one the client sent — in the `Authorization`
//! header or, for presigned requests, in the query string. The canonical request follows the
//! SigV4 specification as the AWS SDKs implement it for every service but S3: the path is
//! normalised (dot segments and repeated slashes removed) and URI-encoded once more, query
//! parameters are decoded, re-encoded and sorted, header values are trimmed with inner
//! whitespace runs folded to one space, and the payload hash is the SHA-256 of the body.

use std::borrow::Cow;

use chrono::{DateTime, NaiveDate, NaiveDateTime, NaiveTime, TimeDelta, Utc};
use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use super::error::AuthError;
use sluice_runtime::accounts::{AccessKey, CredentialStore, Principal};

/// The signing name of the Data Pipeline API: the `service` element of the credential scope.
pub const SERVICE: &str = "datapipeline";
/// The only algorithm accepted.
pub const ALGORITHM: &str = "AWS4-HMAC-SHA256";
/// How far the request time may be from the server's clock, either way: 15 minutes, as AWS.
pub const MAX_CLOCK_SKEW: TimeDelta = TimeDelta::minutes(15);
/// The longest `X-Amz-Expires` of a presigned request: 7 days, as AWS.
pub const MAX_PRESIGNED_EXPIRES_SECS: i64 = 604_800;

const SHA256_EMPTY: &str = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
const REDACTED: &str = "**REDACTED**";

/// The parts of an HTTP request that SigV4 covers, as received. Its `Debug` output redacts the
/// `Authorization` and `X-Amz-Security-Token` values and shows only the body's length.
#[derive(Clone, Copy)]
pub struct SignedRequest<'a> {
    /// The method, e.g. `POST`.
    pub method: &'a str,
    /// The path as it appeared on the request line (still percent-encoded), e.g. `/`.
    pub path: &'a str,
    /// The raw query string without the `?`; empty when there is none.
    pub query: &'a str,
    /// Every header, names in any case, in the order received (repeated names allowed). Build
    /// it from an `http::HeaderMap` with [`header_pairs`].
    pub headers: &'a [(String, String)],
    /// The body.
    pub body: &'a [u8],
}

impl std::fmt::Debug for SignedRequest<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let headers: Vec<(&str, &str)> = self
            .headers
            .iter()
            .map(|(name, value)| {
                let secret = name.eq_ignore_ascii_case("authorization")
                    || name.eq_ignore_ascii_case("x-amz-security-token");
                (
                    name.as_str(),
                    if secret { REDACTED } else { value.as_str() },
                )
            })
            .collect();
        let query = if is_presigned(&parse_query(self.query)) {
            REDACTED
        } else {
            self.query
        };
        f.debug_struct("SignedRequest")
            .field("method", &self.method)
            .field("path", &self.path)
            .field("query", &query)
            .field("headers", &headers)
            .field("body_len", &self.body.len())
            .finish()
    }
}

/// The headers of an `axum::http::HeaderMap` as `(name, value)` pairs for [`SignedRequest`].
/// A value that is not UTF-8 is converted lossily (and its signature then does not verify).
pub fn header_pairs(headers: &axum::http::HeaderMap) -> Vec<(String, String)> {
    headers
        .iter()
        .map(|(name, value)| {
            (
                name.as_str().to_owned(),
                String::from_utf8_lossy(value.as_bytes()).into_owned(),
            )
        })
        .collect()
}

/// Verifies the SigV4 signature of a `datapipeline` request against the keys in `store` at
/// time `now`, and returns who signed it. Any region is accepted.
pub fn verify(
    request: &SignedRequest<'_>,
    store: &CredentialStore,
    now: DateTime<Utc>,
) -> Result<Principal, AuthError> {
    verify_with(
        request,
        store,
        now,
        &Settings {
            service: SERVICE,
            normalize_path: true,
        },
    )
}

/// What can be judged before the body is read: the signature's structure, a known access key
/// and the request time. A request failing here is refused without reading its body, so a
/// caller without a key cannot make the server buffer what it announces. `request.body` is
/// not looked at.
pub fn precheck(
    request: &SignedRequest<'_>,
    store: &CredentialStore,
    now: DateTime<Utc>,
) -> Result<(), AuthError> {
    let settings = Settings {
        service: SERVICE,
        normalize_path: true,
    };
    let prepared = prepare(request, &settings)?;
    if store.get(&prepared.scope.access_key_id).is_none() {
        return Err(AuthError::unrecognized());
    }
    check_time(&prepared, now)
}

/// What differs between services: the signing name and (S3 only) path normalisation.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Settings<'s> {
    pub(crate) service: &'s str,
    pub(crate) normalize_path: bool,
}

pub(crate) fn verify_with(
    request: &SignedRequest<'_>,
    store: &CredentialStore,
    now: DateTime<Utc>,
    settings: &Settings<'_>,
) -> Result<Principal, AuthError> {
    let result = check(request, store, now, settings);
    if let Err((error, access_key_id)) = &result {
        tracing::debug!(
            error = error.aws_type(),
            access_key_id = access_key_id.as_deref().unwrap_or("-"),
            "SigV4 authentication failed: {}",
            error.message()
        );
    }
    result.map_err(|(error, _)| error)
}

fn check(
    request: &SignedRequest<'_>,
    store: &CredentialStore,
    now: DateTime<Utc>,
    settings: &Settings<'_>,
) -> Result<Principal, (AuthError, Option<String>)> {
    let prepared = prepare(request, settings).map_err(|e| (e, None))?;
    let with_key = |e: AuthError| (e, Some(prepared.scope.access_key_id.clone()));
    let Some(key) = store.get(&prepared.scope.access_key_id) else {
        return Err(with_key(AuthError::unrecognized()));
    };
    check_time(&prepared, now).map_err(with_key)?;
    if let Some(claimed) = header_value(request.headers, "x-amz-content-sha256")
        && claimed != prepared.payload_hash
    {
        return Err(with_key(AuthError::invalid(
            "The provided 'x-amz-content-sha256' header does not match what was computed.",
        )));
    }
    let signing_key = signing_key(
        key.secret_access_key.expose_secret(),
        &prepared.scope.date,
        &prepared.scope.region,
        &prepared.scope.service,
    );
    let expected = hex::encode(hmac_sha256(
        &signing_key,
        prepared.string_to_sign.as_bytes(),
    ));
    if !bool::from(expected.as_bytes().ct_eq(prepared.signature.as_bytes())) {
        tracing::trace!(
            access_key_id = %prepared.scope.access_key_id,
            canonical_request = prepared.redacted_canonical_request.as_deref().unwrap_or(""),
            string_to_sign = %prepared.string_to_sign,
            "SigV4 signature mismatch"
        );
        return Err(with_key(AuthError::mismatch()));
    }
    Ok(key.principal())
}

/// Signs a `datapipeline` request with `key` at `now`, in the `Authorization` header, over
/// every header in `headers` (which must hold `host`): the `x-amz-date` and `authorization`
/// headers to send with it. It goes through the verifier's own canonicalization, so what it
/// signs verifies wherever the verifier runs (a server passing the console's call to another).
pub(crate) fn sign(
    request: &SignedRequest<'_>,
    key: &AccessKey,
    region: &str,
    now: DateTime<Utc>,
) -> Result<[(&'static str, String); 2], AuthError> {
    let amz_date = format_amz_date(now);
    let mut names: Vec<String> = request
        .headers
        .iter()
        .map(|(name, _)| name.to_ascii_lowercase())
        .chain(["x-amz-date".to_owned()])
        .collect();
    names.sort();
    names.dedup();
    let scope = format!(
        "{}/{}/{region}/{SERVICE}/aws4_request",
        key.access_key_id,
        &amz_date[..8]
    );
    let unsigned = format!(
        "{ALGORITHM} Credential={scope}, SignedHeaders={}, Signature=0",
        names.join(";")
    );
    let mut headers = request.headers.to_vec();
    headers.push(("x-amz-date".to_owned(), amz_date.clone()));
    headers.push(("authorization".to_owned(), unsigned));
    let prepared = prepare(
        &SignedRequest {
            headers: &headers,
            ..*request
        },
        &Settings {
            service: SERVICE,
            normalize_path: true,
        },
    )?;
    let signing_key = signing_key(
        key.secret_access_key.expose_secret(),
        &prepared.scope.date,
        region,
        SERVICE,
    );
    let signature = hex::encode(hmac_sha256(
        &signing_key,
        prepared.string_to_sign.as_bytes(),
    ));
    Ok([
        ("x-amz-date", amz_date),
        (
            "authorization",
            format!(
                "{ALGORITHM} Credential={scope}, SignedHeaders={}, Signature={signature}",
                names.join(";")
            ),
        ),
    ])
}

/// The credential scope: `AKID/yyyymmdd/region/service/aws4_request`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Scope {
    pub(crate) access_key_id: String,
    pub(crate) date: String,
    pub(crate) region: String,
    pub(crate) service: String,
}

/// Everything about a request that does not depend on the secret. (No `Debug`: it holds the
/// signature and, in tests, the session token.)
pub(crate) struct Prepared {
    pub(crate) scope: Scope,
    signature: String,
    /// The request time as written in the string to sign (`yyyymmddThhmmssZ`).
    amz_date: String,
    time: DateTime<Utc>,
    /// `X-Amz-Expires` of a presigned request.
    expires: Option<i64>,
    payload_hash: String,
    #[cfg(test)]
    pub(crate) canonical_request: String,
    /// For the `trace` log of a mismatch, rendered only when that level is enabled.
    redacted_canonical_request: Option<String>,
    pub(crate) string_to_sign: String,
}

/// Where the signature was found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Location {
    Header,
    Query,
}

/// Parses and checks the signature's structure and scope, and builds the canonical request and
/// string to sign.
pub(crate) fn prepare(
    request: &SignedRequest<'_>,
    settings: &Settings<'_>,
) -> Result<Prepared, AuthError> {
    let query = parse_query(request.query);
    let authorization = header_values(request.headers, "authorization");
    let (location, credential, signed_headers, signature, expires) = match authorization.as_slice()
    {
        [] if is_presigned(&query) => {
            let p = parse_presigned(&query)?;
            (
                Location::Query,
                p.credential,
                p.signed_headers,
                p.signature,
                p.expires,
            )
        }
        [] => return Err(AuthError::missing()),
        [value] => {
            let (credential, signed_headers, signature) = parse_authorization(value)?;
            (
                Location::Header,
                credential,
                signed_headers,
                signature,
                None,
            )
        }
        _ => {
            return Err(AuthError::incomplete(
                "The request has more than one Authorization header.",
            ));
        }
    };
    let scope = parse_scope(&credential)?;
    let signed_headers = parse_signed_headers(&signed_headers)?;

    // The request time, and the header it came from (which must be signed).
    let (amz_date, time, date_header) = match location {
        Location::Query => {
            let value = query_param(&query, "X-Amz-Date").unwrap_or_default();
            let time = parse_amz_date(&value)?;
            (value, time, None)
        }
        Location::Header => {
            if let Some(value) = header_value(request.headers, "x-amz-date") {
                let time = parse_amz_date(&value)?;
                (value, time, Some(("x-amz-date", "X-Amz-Date")))
            } else if let Some(value) = header_value(request.headers, "date") {
                let time = DateTime::parse_from_rfc2822(&value)
                    .map_err(|_| {
                        AuthError::incomplete(format!(
                            "Date header '{value}' is not an HTTP date such as 'Sun, 30 Aug 2015 12:36:00 GMT'."
                        ))
                    })?
                    .with_timezone(&Utc);
                (format_amz_date(time), time, Some(("date", "Date")))
            } else {
                return Err(AuthError::incomplete(
                    "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header.",
                ));
            }
        }
    };
    if !signed_headers
        .iter()
        .any(|h| h == "host" || h == ":authority")
    {
        return Err(AuthError::incomplete(
            "'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization.",
        ));
    }
    if let Some((name, display)) = date_header
        && !signed_headers.iter().any(|h| h == name)
    {
        return Err(AuthError::incomplete(format!(
            "'{display}' must be a 'SignedHeader' in the AWS Authorization."
        )));
    }

    if scope.service != settings.service {
        return Err(AuthError::invalid(format!(
            "Credential should be scoped to correct service: '{}'.",
            settings.service
        )));
    }
    if scope.date != amz_date[..8] {
        return Err(AuthError::invalid(format!(
            "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: \
             '{}' != '{}', from '{amz_date}'.",
            scope.date,
            &amz_date[..8]
        )));
    }

    let payload_hash = if request.body.is_empty() {
        SHA256_EMPTY.to_owned()
    } else {
        hex::encode(Sha256::digest(request.body))
    };
    let canonical = CanonicalRequest {
        method: request.method,
        uri: canonical_uri(request.path, settings.normalize_path),
        query: canonical_query(&query, location == Location::Query),
        headers: signed_headers
            .iter()
            .map(|name| (name.as_str(), canonical_header_value(request.headers, name)))
            .collect(),
        signed_headers: signed_headers.join(";"),
        payload_hash: &payload_hash,
    };
    let canonical_request = canonical.render(false);
    let redacted_canonical_request =
        tracing::enabled!(tracing::Level::TRACE).then(|| canonical.render(true));
    let string_to_sign = format!(
        "{ALGORITHM}\n{amz_date}\n{}/{}/{}/aws4_request\n{}",
        scope.date,
        scope.region,
        scope.service,
        hex::encode(Sha256::digest(canonical_request.as_bytes()))
    );
    Ok(Prepared {
        scope,
        signature,
        amz_date,
        time,
        expires,
        payload_hash,
        #[cfg(test)]
        canonical_request,
        redacted_canonical_request,
        string_to_sign,
    })
}

fn check_time(prepared: &Prepared, now: DateTime<Utc>) -> Result<(), AuthError> {
    let earliest = now - MAX_CLOCK_SKEW;
    let latest = now + MAX_CLOCK_SKEW;
    if prepared.time > latest {
        return Err(AuthError::invalid(format!(
            "Signature not yet current: {} is still later than {} ({} + 15 min.)",
            prepared.amz_date,
            format_amz_date(latest),
            format_amz_date(now)
        )));
    }
    match prepared.expires {
        None if prepared.time < earliest => Err(AuthError::invalid(format!(
            "Signature expired: {} is now earlier than {} ({} - 15 min.)",
            prepared.amz_date,
            format_amz_date(earliest),
            format_amz_date(now)
        ))),
        Some(secs) if prepared.time + TimeDelta::seconds(secs) < now => {
            Err(AuthError::invalid(format!(
                "Signature expired: {} is now earlier than {} ({} + {secs} s.)",
                format_amz_date(prepared.time + TimeDelta::seconds(secs)),
                format_amz_date(now),
                prepared.amz_date,
            )))
        }
        _ => Ok(()),
    }
}

/// `Credential=…, SignedHeaders=…, Signature=…` of an `AWS4-HMAC-SHA256` Authorization header.
fn parse_authorization(value: &str) -> Result<(String, String, String), AuthError> {
    let value = value.trim();
    let (algorithm, rest) = value
        .split_once(|c: char| c.is_ascii_whitespace())
        .unwrap_or((value, ""));
    if algorithm != ALGORITHM {
        return Err(if algorithm.starts_with("AWS4-") {
            AuthError::incomplete(format!("Unsupported AWS 'algorithm': '{algorithm}'."))
        } else {
            AuthError::incomplete(format!(
                "Authorization header must use the '{ALGORITHM}' algorithm (AWS Signature Version 4)."
            ))
        });
    }
    let (mut credential, mut signed_headers, mut signature) = (None, None, None);
    for (n, part) in rest.split(',').map(str::trim).enumerate() {
        if part.is_empty() {
            continue;
        }
        let Some((key, val)) = part.split_once('=') else {
            return Err(AuthError::incomplete(format!(
                "Element {} of the Authorization header is not a valid key=value pair (missing equal-sign).",
                n + 1
            )));
        };
        let slot = match key.trim() {
            "Credential" => &mut credential,
            "SignedHeaders" => &mut signed_headers,
            "Signature" => &mut signature,
            _ => continue,
        };
        if slot.is_some() {
            return Err(AuthError::incomplete(format!(
                "Authorization header has more than one '{}' parameter.",
                key.trim()
            )));
        }
        *slot = Some(val.trim().to_owned());
    }
    let mut missing = String::new();
    for (name, slot) in [
        ("Credential", &credential),
        ("Signature", &signature),
        ("SignedHeaders", &signed_headers),
    ] {
        if slot.is_none() {
            if !missing.is_empty() {
                missing.push(' ');
            }
            missing.push_str(&format!(
                "Authorization header requires '{name}' parameter."
            ));
        }
    }
    match (credential, signed_headers, signature) {
        (Some(c), Some(h), Some(s)) => Ok((c, h, s)),
        _ => Err(AuthError::incomplete(missing)),
    }
}

struct Presigned {
    credential: String,
    signed_headers: String,
    signature: String,
    expires: Option<i64>,
}

const PRESIGN_PARAMS: [&str; 5] = [
    "X-Amz-Algorithm",
    "X-Amz-Credential",
    "X-Amz-Signature",
    "X-Amz-SignedHeaders",
    "X-Amz-Date",
];

fn is_presigned(query: &[(Vec<u8>, Vec<u8>)]) -> bool {
    query.iter().any(|(k, _)| {
        PRESIGN_PARAMS[..3]
            .iter()
            .any(|p| k.as_slice() == p.as_bytes())
    })
}

fn parse_presigned(query: &[(Vec<u8>, Vec<u8>)]) -> Result<Presigned, AuthError> {
    let missing: Vec<String> = PRESIGN_PARAMS
        .iter()
        .filter(|p| query_param(query, p).is_none())
        .map(|p| format!("AWS query-string parameters must include '{p}'."))
        .collect();
    if !missing.is_empty() {
        return Err(AuthError::incomplete(format!(
            "{} Re-examine the query-string parameters.",
            missing.join(" ")
        )));
    }
    let algorithm = query_param(query, "X-Amz-Algorithm").unwrap_or_default();
    if algorithm != ALGORITHM {
        return Err(AuthError::incomplete(format!(
            "Unsupported AWS 'algorithm': '{algorithm}'."
        )));
    }
    let expires = match query_param(query, "X-Amz-Expires") {
        None => None,
        Some(v) => match v.parse::<i64>() {
            Ok(secs) if (1..=MAX_PRESIGNED_EXPIRES_SECS).contains(&secs) => Some(secs),
            _ => {
                return Err(AuthError::incomplete(format!(
                    "X-Amz-Expires must be a number of seconds from 1 to {MAX_PRESIGNED_EXPIRES_SECS}, got '{v}'."
                )));
            }
        },
    };
    Ok(Presigned {
        credential: query_param(query, "X-Amz-Credential").unwrap_or_default(),
        signed_headers: query_param(query, "X-Amz-SignedHeaders").unwrap_or_default(),
        signature: query_param(query, "X-Amz-Signature").unwrap_or_default(),
        expires,
    })
}

fn parse_scope(credential: &str) -> Result<Scope, AuthError> {
    let parts: Vec<&str> = credential.split('/').collect();
    let [access_key_id, date, region, service, terminator] = parts.as_slice() else {
        return Err(AuthError::incomplete(format!(
            "Credential must have exactly 5 slash-delimited elements, e.g. keyid/date/region/service/term, got '{credential}'."
        )));
    };
    if access_key_id.is_empty() {
        return Err(AuthError::incomplete(
            "The access key id in the Credential is empty.",
        ));
    }
    if date.len() != 8 || !date.bytes().all(|b| b.is_ascii_digit()) {
        return Err(AuthError::incomplete(format!(
            "The date in the Credential must be in the form YYYYMMDD, got '{date}'."
        )));
    }
    if region.is_empty() || service.is_empty() {
        return Err(AuthError::incomplete(format!(
            "The region and the service in the Credential must not be empty, got '{credential}'."
        )));
    }
    if *terminator != "aws4_request" {
        return Err(AuthError::incomplete(format!(
            "Credential should be scoped with a valid terminator: 'aws4_request', not '{terminator}'."
        )));
    }
    Ok(Scope {
        access_key_id: (*access_key_id).to_owned(),
        date: (*date).to_owned(),
        region: (*region).to_owned(),
        service: (*service).to_owned(),
    })
}

/// Lower-cased, sorted and de-duplicated, so a client that wrote `Host;X-Amz-Date` is judged
/// by the list the specification says it signed.
fn parse_signed_headers(list: &str) -> Result<Vec<String>, AuthError> {
    let mut names = Vec::new();
    for name in list.split(';') {
        let name = name.trim();
        if name.is_empty() {
            return Err(AuthError::incomplete(format!(
                "SignedHeaders '{list}' must be a non-empty list of header names separated by ';'."
            )));
        }
        names.push(name.to_ascii_lowercase());
    }
    names.sort();
    names.dedup();
    Ok(names)
}

/// `yyyymmddThhmmssZ`, strictly.
fn parse_amz_date(value: &str) -> Result<DateTime<Utc>, AuthError> {
    let bad = || {
        AuthError::incomplete(format!(
            "Date must be in ISO-8601 'basic format'. Got '{value}'. See http://en.wikipedia.org/wiki/ISO_8601"
        ))
    };
    let b = value.as_bytes();
    let digits = |r: std::ops::Range<usize>| b[r].iter().all(u8::is_ascii_digit);
    if b.len() != 16 || b[8] != b'T' || b[15] != b'Z' || !digits(0..8) || !digits(9..15) {
        return Err(bad());
    }
    let num = |r: std::ops::Range<usize>| value[r].parse::<u32>().map_err(|_| bad());
    let year = i32::try_from(num(0..4)?).map_err(|_| bad())?;
    let date = NaiveDate::from_ymd_opt(year, num(4..6)?, num(6..8)?).ok_or_else(bad)?;
    let time = NaiveTime::from_hms_opt(num(9..11)?, num(11..13)?, num(13..15)?).ok_or_else(bad)?;
    Ok(NaiveDateTime::new(date, time).and_utc())
}

fn format_amz_date(time: DateTime<Utc>) -> String {
    time.format("%Y%m%dT%H%M%SZ").to_string()
}

/// The canonical request, kept in parts so it can be rendered with the session token redacted
/// for logs.
struct CanonicalRequest<'a> {
    method: &'a str,
    uri: String,
    query: Vec<(String, String)>,
    /// Signed header names (sorted, lower case) and their canonical values.
    headers: Vec<(&'a str, String)>,
    signed_headers: String,
    payload_hash: &'a str,
}

impl CanonicalRequest<'_> {
    fn render(&self, redact: bool) -> String {
        let mut out = String::with_capacity(512);
        out.push_str(self.method);
        out.push('\n');
        out.push_str(&self.uri);
        out.push('\n');
        for (i, (k, v)) in self.query.iter().enumerate() {
            if i > 0 {
                out.push('&');
            }
            out.push_str(k);
            out.push('=');
            out.push_str(if redact && k == "X-Amz-Security-Token" {
                REDACTED
            } else {
                v
            });
        }
        out.push('\n');
        for (name, value) in &self.headers {
            out.push_str(name);
            out.push(':');
            out.push_str(if redact && *name == "x-amz-security-token" {
                REDACTED
            } else {
                value
            });
            out.push('\n');
        }
        out.push('\n');
        out.push_str(&self.signed_headers);
        out.push('\n');
        out.push_str(self.payload_hash);
        out
    }
}

/// The path normalised (unless S3) and URI-encoded: since the path arrives already encoded,
/// this is the "encode twice" of the specification (`%` becomes `%25`).
pub(crate) fn canonical_uri(path: &str, normalize: bool) -> String {
    let path = if normalize {
        normalize_path(path)
    } else if path.is_empty() {
        Cow::Borrowed("/")
    } else {
        Cow::Borrowed(path)
    };
    let mut out = String::with_capacity(path.len() + 8);
    uri_encode(path.as_bytes(), true, &mut out);
    out
}

/// RFC 3986 §5.2.4 dot-segment removal plus empty-segment removal, as the AWS SDKs do.
fn normalize_path(path: &str) -> Cow<'_, str> {
    if path.is_empty() {
        return Cow::Borrowed("/");
    }
    let path: Cow<'_, str> = if path.starts_with('/') {
        Cow::Borrowed(path)
    } else {
        Cow::Owned(format!("/{path}"))
    };
    if !(path.contains('.') || path.contains("//")) {
        return path;
    }
    let mut segments: Vec<&str> = Vec::new();
    for segment in path.split('/') {
        match segment {
            "" | "." => {}
            ".." => {
                segments.pop();
            }
            s => segments.push(s),
        }
    }
    let mut out = String::with_capacity(path.len());
    for s in &segments {
        out.push('/');
        out.push_str(s);
    }
    let ends_with_slash = ["/", "/.", "/./", "/..", "/../"]
        .iter()
        .any(|s| path.ends_with(s));
    if out.is_empty() || (ends_with_slash && !out.ends_with('/')) {
        out.push('/');
    }
    Cow::Owned(out)
}

/// Percent-encodes everything but RFC 3986 unreserved characters (and `/` when `keep_slash`),
/// with upper-case hex.
fn uri_encode(bytes: &[u8], keep_slash: bool, out: &mut String) {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    for &b in bytes {
        if b.is_ascii_alphanumeric()
            || matches!(b, b'-' | b'.' | b'_' | b'~')
            || (keep_slash && b == b'/')
        {
            out.push(char::from(b));
        } else {
            out.push('%');
            out.push(char::from(HEX[usize::from(b >> 4)]));
            out.push(char::from(HEX[usize::from(b & 15)]));
        }
    }
}

/// Decoded `(name, value)` pairs of a query string (`+` is a space, as in forms). Names and
/// values are text: bytes an escape decodes to that are not UTF-8 become U+FFFD, as the AWS
/// SDKs' signers read them, so a query such as `?a=%ed` canonicalizes as its signer's did.
fn parse_query(query: &str) -> Vec<(Vec<u8>, Vec<u8>)> {
    let text = |s: &str| match String::from_utf8(percent_decode(s)) {
        Ok(text) => text.into_bytes(),
        Err(bytes) => String::from_utf8_lossy(bytes.as_bytes())
            .into_owned()
            .into_bytes(),
    };
    query
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|pair| {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            (text(k), text(v))
        })
        .collect()
}

fn percent_decode(s: &str) -> Vec<u8> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let hex = |c: u8| (c as char).to_digit(16).map(|d| d as u8);
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < b.len() => match (hex(b[i + 1]), hex(b[i + 2])) {
                (Some(h), Some(l)) => {
                    out.push(h << 4 | l);
                    i += 2;
                }
                _ => out.push(b'%'),
            },
            c => out.push(c),
        }
        i += 1;
    }
    out
}

fn query_param(query: &[(Vec<u8>, Vec<u8>)], name: &str) -> Option<String> {
    query
        .iter()
        .find(|(k, _)| k.as_slice() == name.as_bytes())
        .map(|(_, v)| String::from_utf8_lossy(v).into_owned())
}

/// Encoded and sorted `(name, value)` pairs; the signature itself is left out of a presigned
/// request's.
fn canonical_query(query: &[(Vec<u8>, Vec<u8>)], presigned: bool) -> Vec<(String, String)> {
    let mut pairs: Vec<(String, String)> = query
        .iter()
        .filter(|(k, _)| !(presigned && k.as_slice() == b"X-Amz-Signature"))
        .map(|(k, v)| {
            let (mut ek, mut ev) = (String::new(), String::new());
            uri_encode(k, false, &mut ek);
            uri_encode(v, false, &mut ev);
            (ek, ev)
        })
        .collect();
    pairs.sort();
    pairs
}

fn header_values<'h>(headers: &'h [(String, String)], name: &str) -> Vec<&'h str> {
    headers
        .iter()
        .filter(|(n, _)| n.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
        .collect()
}

/// The canonical value of a header, `None` when absent.
fn header_value(headers: &[(String, String)], name: &str) -> Option<String> {
    let values = header_values(headers, name);
    (!values.is_empty()).then(|| canonical_values(&values))
}

/// Every value of the header, each trimmed with runs of whitespace folded to one space (this
/// also unfolds obsolete multi-line values), joined with `,`. Empty when absent.
fn canonical_header_value(headers: &[(String, String)], name: &str) -> String {
    canonical_values(&header_values(headers, name))
}

fn canonical_values(values: &[&str]) -> String {
    let mut out = String::new();
    for (i, value) in values.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        for (j, word) in value.split_ascii_whitespace().enumerate() {
            if j > 0 {
                out.push(' ');
            }
            out.push_str(word);
        }
    }
    out
}

fn hmac_sha256(key: &[u8], data: &[u8]) -> [u8; 32] {
    let mut mac = Hmac::<Sha256>::new_from_slice(key).expect("HMAC accepts keys of any length");
    mac.update(data);
    mac.finalize().into_bytes().into()
}

/// `HMAC(HMAC(HMAC(HMAC("AWS4" + secret, date), region), service), "aws4_request")`.
pub(crate) fn signing_key(secret: &str, date: &str, region: &str, service: &str) -> [u8; 32] {
    let k_date = hmac_sha256(format!("AWS4{secret}").as_bytes(), date.as_bytes());
    let k_region = hmac_sha256(&k_date, region.as_bytes());
    let k_service = hmac_sha256(&k_region, service.as_bytes());
    hmac_sha256(&k_service, b"aws4_request")
}
