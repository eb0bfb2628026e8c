//! The server's handling of an untrusted request without a running service, for the fuzz
//! targets in `fuzz/` (cargo feature `fuzzing`): the functions `sluice server` runs on every
//! request, in its order. Left out are what needs a connection or a service: reading the body
//! within its limit and time, forwarding to the server owning a pipeline, and the operation.

use axum::http::{HeaderMap, Method, Uri};
use chrono::{DateTime, Utc};
use sluice_model::ops::Operation;
use sluice_runtime::ApiError;

use crate::auth::{self, AuthError, CredentialStore, Principal, SignedRequest};
use crate::authn::Authenticator;
use crate::input::decode_input;
use crate::router::{admit, authenticate, target};

/// Judges a request as the server does before running its operation: the method and path, the
/// headers' size, the content type, the signature's structure, key and time (before the body),
/// the signature over the body, `X-Amz-Target`, and the body decoded as the operation's input
/// and checked against the model's constraints. Returns who signed it and the operation, or
/// the error the server would answer.
pub fn decode_request(
    method: &Method,
    uri: &Uri,
    headers: &HeaderMap,
    body: &[u8],
    authenticator: &dyn Authenticator,
) -> Result<(Principal, Operation), ApiError> {
    let header_pairs = admit(method, uri, headers, authenticator)?;
    let principal = authenticate(method, uri, &header_pairs, body, authenticator)?;
    let operation = target(headers)?;
    let input = decode_input(operation, body)?;
    Ok((principal, input.operation()))
}

/// The server's SigV4 verifier over `store`, its clock stopped at `now`, so that an input is
/// judged the same on every run.
pub struct StoppedClock {
    pub store: CredentialStore,
    pub now: DateTime<Utc>,
}

impl Authenticator for StoppedClock {
    fn authenticate(&self, request: &SignedRequest<'_>) -> Result<Principal, AuthError> {
        auth::verify(request, &self.store, self.now)
    }

    fn precheck(&self, request: &SignedRequest<'_>) -> Result<(), AuthError> {
        auth::precheck(request, &self.store, self.now)
    }
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, SystemTime};

    use sluice_testsupport::sigv4::{Signing, signed_request};

    use super::*;

    const KEY_ID: &str = "AKIDFUZZINGEXAMPLE01";
    const SECRET: &str = "fuzzing/secret/key/for/unit/tests/00000";
    const SIGNED_AT: u64 = 1_795_667_448;

    fn authenticator() -> StoppedClock {
        let root = |var: &str| match var {
            auth::ENV_ROOT_ACCESS_KEY_ID => Some(KEY_ID.into()),
            auth::ENV_ROOT_SECRET_ACCESS_KEY => Some(SECRET.into()),
            auth::ENV_ROOT_ACCOUNT_ID => Some("123456789012".into()),
            _ => None,
        };
        let store = CredentialStore::from_lookup_and_file(root, None).unwrap();
        let now = DateTime::<Utc>::from(SystemTime::UNIX_EPOCH + Duration::from_secs(SIGNED_AT));
        StoppedClock { store, now }
    }

    fn request(target: &str, body: &[u8]) -> axum::http::Request<Vec<u8>> {
        let signing = Signing {
            time: SystemTime::UNIX_EPOCH + Duration::from_secs(SIGNED_AT),
            ..Signing::new(KEY_ID, SECRET)
        };
        signed_request("http://127.0.0.1:8080/", target, body, &signing)
    }

    fn decode(request: &axum::http::Request<Vec<u8>>) -> Result<(Principal, Operation), ApiError> {
        decode_request(
            request.method(),
            request.uri(),
            request.headers(),
            request.body(),
            &authenticator(),
        )
    }

    #[test]
    fn a_signed_request_decodes_to_its_operation_and_signer() {
        let body = br#"{"pipelineId": "df-1", "objectIds": ["a"], "status": "PAUSE"}"#;
        let (principal, operation) = decode(&request("DataPipeline.SetStatus", body)).unwrap();
        assert_eq!(operation, Operation::SetStatus);
        assert_eq!(principal.account_id, "123456789012");
    }

    #[test]
    fn each_step_refuses_in_the_servers_order() {
        let kind = |request: &axum::http::Request<Vec<u8>>| {
            decode(request).unwrap_err().aws_type().to_owned()
        };
        // Signed, but not an object: the body is judged last.
        assert_eq!(
            kind(&request("DataPipeline.ListPipelines", b"[]")),
            "SerializationException"
        );
        assert_eq!(
            kind(&request("DataPipeline.Nope", b"{}")),
            "UnknownOperationException"
        );
        let mut tampered = request("DataPipeline.ListPipelines", b"{}");
        *tampered.body_mut() = br#"{"marker": "x"}"#.to_vec();
        assert_eq!(kind(&tampered), "InvalidSignatureException");
        let mut unsigned = request("DataPipeline.ListPipelines", b"{}");
        unsigned.headers_mut().remove("authorization");
        assert_eq!(kind(&unsigned), "MissingAuthenticationTokenException");
        unsigned
            .headers_mut()
            .insert("content-type", "text/plain".parse().unwrap());
        assert_eq!(kind(&unsigned), "SerializationException");
    }
}
