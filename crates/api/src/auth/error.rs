//! Authentication failures and the AWS JSON-protocol errors they become.

use std::fmt;

/// The four ways authentication fails, each an AWS JSON-protocol error type. See the module
/// docs of [`crate::auth`] for why these names and statuses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AuthErrorKind {
    /// No `Authorization` header and no presigned query string.
    MissingAuthenticationToken,
    /// The signature's structure is wrong: a missing or malformed Authorization part, an
    /// unsupported algorithm, a missing or unparseable date, `host` or the date header not
    /// signed.
    IncompleteSignature,
    /// The access key id is not in the credential store.
    UnrecognizedClient,
    /// The signature does not verify: wrong secret, changed request or body, wrong service or
    /// date in the credential scope, or a request time more than 15 minutes off.
    InvalidSignature,
}

impl AuthErrorKind {
    /// The `__type` of the JSON error body (and the `x-amzn-ErrorType` header).
    pub fn aws_type(self) -> &'static str {
        match self {
            AuthErrorKind::MissingAuthenticationToken => "MissingAuthenticationTokenException",
            AuthErrorKind::IncompleteSignature => "IncompleteSignatureException",
            AuthErrorKind::UnrecognizedClient => "UnrecognizedClientException",
            AuthErrorKind::InvalidSignature => "InvalidSignatureException",
        }
    }

    /// The HTTP status: 400 for all four, as AWS JSON-protocol services answer.
    pub fn http_status(self) -> u16 {
        400
    }
}

/// Why a request was not authenticated: a kind and a message for the client. Messages never
/// contain a secret, a session token or a full signature.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthError {
    kind: AuthErrorKind,
    message: String,
}

/// AWS's message for an unknown access key.
pub const MSG_UNRECOGNIZED_CLIENT: &str = "The security token included in the request is invalid.";
/// AWS's message for a request without authentication.
pub const MSG_MISSING_TOKEN: &str = "Request is missing Authentication Token";
/// AWS's message for a signature that does not match.
pub const MSG_SIGNATURE_MISMATCH: &str = "The request signature we calculated does not match the signature you provided. \
     Check your AWS Secret Access Key and signing method. Consult the service documentation for details.";

impl AuthError {
    pub(crate) fn new(kind: AuthErrorKind, message: impl Into<String>) -> Self {
        AuthError {
            kind,
            message: message.into(),
        }
    }

    pub(crate) fn missing() -> Self {
        Self::new(AuthErrorKind::MissingAuthenticationToken, MSG_MISSING_TOKEN)
    }

    pub(crate) fn incomplete(message: impl Into<String>) -> Self {
        Self::new(AuthErrorKind::IncompleteSignature, message)
    }

    pub(crate) fn unrecognized() -> Self {
        Self::new(AuthErrorKind::UnrecognizedClient, MSG_UNRECOGNIZED_CLIENT)
    }

    pub(crate) fn invalid(message: impl Into<String>) -> Self {
        Self::new(AuthErrorKind::InvalidSignature, message)
    }

    pub(crate) fn mismatch() -> Self {
        Self::invalid(MSG_SIGNATURE_MISMATCH)
    }

    /// Which failure this is.
    pub fn kind(&self) -> AuthErrorKind {
        self.kind
    }

    /// The `__type` of the JSON error body, e.g. `InvalidSignatureException`.
    pub fn aws_type(&self) -> &'static str {
        self.kind.aws_type()
    }

    /// The HTTP status of the error response (400).
    pub fn http_status(&self) -> u16 {
        self.kind.http_status()
    }

    /// The `message` of the JSON error body.
    pub fn message(&self) -> &str {
        &self.message
    }
}

impl fmt::Display for AuthError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.aws_type(), self.message)
    }
}

impl std::error::Error for AuthError {}
