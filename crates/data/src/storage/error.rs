//! What can go wrong reaching an object, each message naming the URI.
//!
//! Messages carry the store's own explanation (S3 error codes such as `SignatureDoesNotMatch`)
//! but never a credential: object_store's errors hold request paths and response bodies,
//! neither of which contains the secret key.

use std::io;
use std::path::PathBuf;
use std::sync::Arc;

/// Why an object could not be reached.
#[derive(Debug, thiserror::Error)]
pub enum StorageError {
    #[error("invalid URI '{uri}': {reason}")]
    InvalidUri { uri: String, reason: String },
    #[error("invalid S3 settings: {reason}")]
    Settings { reason: String },
    /// The URI needs a store this build of sluice was compiled without.
    #[error("{uri}: {message}")]
    LeftOut { uri: String, message: String },
    #[error("{uri} does not exist")]
    NotFound { uri: String },
    #[error("bucket '{bucket}' of {uri} does not exist")]
    NoSuchBucket { uri: String, bucket: String },
    #[error(
        "access to {uri} was refused (check the access key, secret key and their permissions): \
         {detail}"
    )]
    AccessDenied { uri: String, detail: String },
    /// The S3 endpoint did not answer (after object_store's retries).
    #[error("cannot {action} {uri}: {source}")]
    Unreachable {
        action: &'static str,
        uri: String,
        source: Unreachable,
    },
    #[error("cannot {action} {uri}: {source}")]
    Store {
        action: &'static str,
        uri: String,
        #[source]
        source: object_store::Error,
    },
    #[error("cannot {action} {uri} (local file {}): {source}", path.display())]
    Io {
        action: &'static str,
        uri: String,
        path: PathBuf,
        #[source]
        source: io::Error,
    },
}

impl StorageError {
    /// Maps an object_store error for `uri`, turning the common cases into their own variants.
    pub fn from_store(action: &'static str, uri: &str, err: object_store::Error) -> Self {
        if let Some(unreachable) = Unreachable::find(&err) {
            return StorageError::Unreachable {
                action,
                uri: uri.to_string(),
                source: unreachable.clone(),
            };
        }
        // Listing errors arrive wrapped as `Generic`; the S3 error code in the response body
        // is the reliable signal (the debug form holds the body, never request headers).
        let text = format!("{err:?}");
        let has = |code: &str| text.contains(&format!("<Code>{code}</Code>"));
        if has("NoSuchBucket") {
            return StorageError::NoSuchBucket {
                uri: uri.to_string(),
                bucket: bucket_of(uri),
            };
        }
        let denied = [
            "AccessDenied",
            "SignatureDoesNotMatch",
            "InvalidAccessKeyId",
        ]
        .into_iter()
        .find(|code| has(code));
        match err {
            object_store::Error::NotFound { .. } => StorageError::NotFound {
                uri: uri.to_string(),
            },
            // A HEAD response carries no error code, so the status is all there is to say.
            object_store::Error::PermissionDenied { .. } => StorageError::AccessDenied {
                uri: uri.to_string(),
                detail: denied.unwrap_or("HTTP 403 Forbidden").to_string(),
            },
            object_store::Error::Unauthenticated { .. } => StorageError::AccessDenied {
                uri: uri.to_string(),
                detail: denied.unwrap_or("HTTP 401 Unauthorized").to_string(),
            },
            _ if denied.is_some() => StorageError::AccessDenied {
                uri: uri.to_string(),
                detail: denied.unwrap_or_default().to_string(),
            },
            source => StorageError::Store {
                action,
                uri: uri.to_string(),
                source,
            },
        }
    }

    pub(crate) fn io(action: &'static str, uri: &str, path: PathBuf, source: io::Error) -> Self {
        StorageError::Io {
            action,
            uri: uri.to_string(),
            path,
            source,
        }
    }

    /// Whether the object (or its bucket) is missing, as opposed to unreachable.
    pub fn is_not_found(&self) -> bool {
        matches!(
            self,
            StorageError::NotFound { .. } | StorageError::NoSuchBucket { .. }
        )
    }
}

fn bucket_of(uri: &str) -> String {
    uri.split_once("://")
        .map(|(_, rest)| rest.split('/').next().unwrap_or(rest))
        .unwrap_or("")
        .to_string()
}

/// An S3 endpoint that did not answer: the connection failed or timed out.
#[derive(Debug, Clone, thiserror::Error)]
#[error("cannot reach the S3 endpoint {endpoint} ({origin}): {reason}")]
pub struct Unreachable {
    /// `scheme://host:port` of the request.
    pub endpoint: String,
    /// Where the endpoint was set ([`S3Settings::endpoint_origin`](super::S3Settings::endpoint_origin)).
    pub origin: Arc<str>,
    /// The innermost cause, e.g. `Connection refused (os error 111)`.
    pub reason: String,
}

impl Unreachable {
    /// The `Unreachable` somewhere in `error`'s chain of sources.
    pub fn find<'a>(error: &'a (dyn std::error::Error + 'static)) -> Option<&'a Unreachable> {
        let mut next = Some(error);
        while let Some(error) = next {
            if let Some(found) = error.downcast_ref::<Unreachable>() {
                return Some(found);
            }
            next = error.source();
        }
        None
    }
}
