//! Authentication for `sluice server`: AWS Signature Version 4 verification and the access
//! keys it checks against.
//!
//! ```no_run
//! use sluice_api::auth::{self, CredentialStore, SignedRequest};
//! # fn handle(parts: &axum::http::request::Parts, body: &[u8]) -> Result<(), auth::AuthError> {
//! let store = CredentialStore::from_env_and_file(None).expect("credentials");
//! let headers = auth::header_pairs(&parts.headers);
//! let request = SignedRequest {
//!     method: parts.method.as_str(),
//!     path: parts.uri.path(),
//!     query: parts.uri.query().unwrap_or(""),
//!     headers: &headers,
//!     body,
//! };
//! let principal = auth::verify(&request, &store, chrono::Utc::now())?;
//! // principal.account_id scopes what the caller sees; on Err answer
//! // HTTP e.http_status() with {"__type": e.aws_type(), "message": e.message()}.
//! # Ok(()) }
//! ```
//!
//! # What is checked, in order
//!
//! 1. An `Authorization` header (or, without one, a presigned query string with
//!    `X-Amz-Algorithm`/`X-Amz-Credential`/`X-Amz-Signature`) must be present.
//! 2. Its structure: algorithm `AWS4-HMAC-SHA256`; `Credential`, `SignedHeaders` and `Signature`
//!    parts; a scope `AKID/yyyymmdd/region/service/aws4_request`; a request time in
//!    `X-Amz-Date` (`yyyymmddThhmmssZ`) or, failing that, an HTTP `Date` header; `host` and the
//!    date header among the signed headers.
//! 3. The scope: service `datapipeline`, and the scope date equal to the request date. Any
//!    region is accepted — a local server has no region to be wrong about.
//! 4. The access key is known.
//! 5. The request time is within 15 minutes of the server's clock (a presigned request with
//!    `X-Amz-Expires` is valid from 15 minutes before its time until it expires).
//! 6. `x-amz-content-sha256`, if sent, is the SHA-256 of the body: `UNSIGNED-PAYLOAD` and
//!    streaming payloads are refused, so the signature always covers the body.
//! 7. The signature, recomputed from the key's secret, equals the one sent (compared in
//!    constant time).
//!
//! `X-Amz-Security-Token` is covered by the signature when the client lists it in
//! `SignedHeaders` (botocore and the Rust SDK do), but is not otherwise checked: Sluice issues
//! no session tokens, so a request is authenticated by the access key's secret alone.
//!
//! # Errors
//!
//! [`AuthError`] carries one of four AWS JSON-protocol error types, all HTTP 400:
//!
//! | failure | `__type` | message |
//! |---|---|---|
//! | no signature at all | `MissingAuthenticationTokenException` | `Request is missing Authentication Token` |
//! | malformed signature (step 2) | `IncompleteSignatureException` | names what is missing or wrong |
//! | unknown access key | `UnrecognizedClientException` | `The security token included in the request is invalid.` |
//! | wrong service or scope date, clock skew, body or signature mismatch | `InvalidSignatureException` | AWS's text, e.g. `Signature expired: 20261126T043048Z is now earlier than 20261126T044548Z (20261126T050048Z - 15 min.)` |
//!
//! Why these: Data Pipeline is an AWS JSON 1.1 ("Coral") service like DynamoDB, CloudWatch
//! Logs, Kinesis, SageMaker and EMR, and those answer authentication failures with the
//! `…Exception` names above and status 400 — DynamoDB's error table lists
//! `MissingAuthenticationTokenException`, `IncompleteSignatureException` and
//! `UnrecognizedClientException` under HTTP 400, and SageMaker and EMR answer a wrong scope
//! service with a 400 `InvalidSignatureException` "Credential should be scoped to correct
//! service". The un-suffixed names with 403 (`MissingAuthenticationToken`,
//! `InvalidClientTokenId`) belong to the query-protocol services (STS, IAM, EC2). Nothing in the
//! clients depends on the status: botocore and the Rust SDK take the error code from `__type`
//! (dropping any `namespace#` prefix), and botocore's retry modes retry none of these codes;
//! the JavaScript SDK (v3 `CLOCK_SKEW_ERROR_CODES`) treats `InvalidSignatureException` as a
//! clock-skew error and corrects its clock before retrying, which is what an expired signature
//! needs.
//!
//! The request is judged as received: `path` and `query` exactly as on the request line, and
//! every header, including `Host` (under HTTP/2, where the authority is not a header, the
//! caller must add `host` from the URI's authority).
//!
//! Messages never contain a secret, a session token or a signature, and neither does the
//! `Debug` output of a [`SignedRequest`]. Failures are logged at `debug` with the access key
//! id; a signature mismatch additionally logs the canonical request (session token redacted)
//! and the string to sign at `trace`, to debug clients.
//!
//! # Credentials
//!
//! A [`CredentialStore`] maps access key ids to secrets and 12-digit account ids. Sources:
//!
//! * the root pair in `SLUICE_ROOT_ACCESS_KEY_ID` and `SLUICE_ROOT_SECRET_ACCESS_KEY`
//!   (account `SLUICE_ROOT_ACCOUNT_ID`, default `000000000000`); one without the other is an
//!   error;
//! * a credentials file in JSON (the API's own language, and no new parser dependency; not
//!   the AWS INI shape, which has no place for an account id), unknown fields refused:
//!
//!   ```json
//!   {"accounts": [
//!     {"accountId": "111122223333",
//!      "keys": [{"accessKeyId": "AKIAEXAMPLEKEY000001", "secretAccessKey": "…"}]}
//!   ]}
//!   ```
//!
//!   An account may have several keys; an access key id may appear only once across the file
//!   and the environment. Errors name the file and the entry (`accounts[1].keys[0]`) or the
//!   JSON line and column. A file that other users can read is loaded with a warning;
//! * [`CredentialStore::generate_dev`]: one random `AKIA…` key with a 40-character secret for
//!   `--dev`, read back with [`CredentialStore::keys`] to print it.
//!
//! Secrets live in [`SecretKey`], whose `Debug` and `Display` print `**REDACTED**`.

mod error;
mod sigv4;

pub use error::{
    AuthError, AuthErrorKind, MSG_MISSING_TOKEN, MSG_SIGNATURE_MISMATCH, MSG_UNRECOGNIZED_CLIENT,
};
pub(crate) use sigv4::sign;
pub use sigv4::{
    ALGORITHM, MAX_CLOCK_SKEW, MAX_PRESIGNED_EXPIRES_SECS, SERVICE, SignedRequest, header_pairs,
    precheck, verify,
};
pub use sluice_runtime::accounts::{
    AccessKey, CredentialError, CredentialStore, DEFAULT_ACCOUNT_ID, ENV_ROOT_ACCESS_KEY_ID,
    ENV_ROOT_ACCOUNT_ID, ENV_ROOT_SECRET_ACCESS_KEY, KeyRing, Principal, SecretKey,
};

#[cfg(test)]
mod tests;
