//! Who is calling: the seam between the protocol layer and the SigV4 verifier of
//! [`crate::auth`]. The router authenticates every request before dispatching it; the
//! principal's account scopes everything the request can see or touch.

use chrono::Utc;
use subtle::ConstantTimeEq;

use sluice_runtime::ApiError;
use sluice_runtime::accounts::KeyRing;

use crate::auth::{
    self, AccessKey, AuthError, AuthErrorKind, CredentialStore, Principal, SignedRequest,
};

/// Authenticates a request as received. The production implementation is the SigV4 verifier
/// over a [`CredentialStore`]; the trait lets embedders put another scheme in front.
pub trait Authenticator: Send + Sync + 'static {
    fn authenticate(&self, request: &SignedRequest<'_>) -> Result<Principal, AuthError>;

    /// Refuses, before its body is read, a request that cannot be authentic whatever its body
    /// holds (`request.body` is empty here). The default lets every request through to
    /// [`Authenticator::authenticate`].
    fn precheck(&self, request: &SignedRequest<'_>) -> Result<(), AuthError> {
        let _ = request;
        Ok(())
    }

    /// The principal of a long-term access key whose secret is `secret` (the console's
    /// sign-in form). The default knows no keys, so an embedder's scheme signs nobody in.
    fn check_secret(&self, access_key_id: &str, secret: &str) -> Option<Principal> {
        let _ = (access_key_id, secret);
        None
    }

    /// The long-term key `access_key_id` names, for a call this server signs as its account
    /// (the console acting on a pipeline another server owns). The default knows no keys.
    fn signing_key(&self, access_key_id: &str) -> Option<AccessKey> {
        let _ = access_key_id;
        None
    }
}

/// The key's principal when `secret` is its secret, compared in constant time.
fn secret_matches(store: &CredentialStore, access_key_id: &str, secret: &str) -> Option<Principal> {
    let key = store.get(access_key_id)?;
    let expected = key.secret_access_key.expose_secret().as_bytes();
    bool::from(expected.ct_eq(secret.as_bytes())).then(|| key.principal())
}

impl Authenticator for CredentialStore {
    fn authenticate(&self, request: &SignedRequest<'_>) -> Result<Principal, AuthError> {
        // Signatures are judged against the wall clock, whatever clock drives the engine.
        auth::verify(request, self, Utc::now())
    }

    fn precheck(&self, request: &SignedRequest<'_>) -> Result<(), AuthError> {
        auth::precheck(request, self, Utc::now())
    }

    fn check_secret(&self, access_key_id: &str, secret: &str) -> Option<Principal> {
        secret_matches(self, access_key_id, secret)
    }

    fn signing_key(&self, access_key_id: &str) -> Option<AccessKey> {
        self.get(access_key_id).cloned()
    }
}

/// Long-term keys first; a key they do not know may be one minted for a provisioned runner.
impl Authenticator for KeyRing {
    fn authenticate(&self, request: &SignedRequest<'_>) -> Result<Principal, AuthError> {
        let now = Utc::now();
        match auth::verify(request, self.permanent(), now) {
            Err(error) if error.kind() == AuthErrorKind::UnrecognizedClient => {
                auth::verify(request, &self.ephemeral(), now)
            }
            other => other,
        }
    }

    fn precheck(&self, request: &SignedRequest<'_>) -> Result<(), AuthError> {
        let now = Utc::now();
        match auth::precheck(request, self.permanent(), now) {
            Err(error) if error.kind() == AuthErrorKind::UnrecognizedClient => {
                auth::precheck(request, &self.ephemeral(), now)
            }
            other => other,
        }
    }

    /// Long-term keys only: the keys minted for provisioned runners do not sign people in.
    fn check_secret(&self, access_key_id: &str, secret: &str) -> Option<Principal> {
        secret_matches(self.permanent(), access_key_id, secret)
    }

    fn signing_key(&self, access_key_id: &str) -> Option<AccessKey> {
        self.permanent().get(access_key_id).cloned()
    }
}

impl From<AuthError> for ApiError {
    fn from(error: AuthError) -> Self {
        ApiError::Auth {
            aws_type: error.aws_type().to_owned(),
            status: error.http_status(),
            message: error.message().to_owned(),
        }
    }
}
