//! The one error type of the service: every failure becomes `{"__type": …, "message": …}` with the
//! HTTP status AWS uses for it.
//!
//! Design decisions (what SDKs expect: botocore and the other SDKs take the error code from
//! `__type`, dropping any `namespace#` prefix, and read `message`; 4xx is never retried, 5xx
//! is):
//! * The five modeled errors keep their model names: `InvalidRequestException`,
//!   `PipelineNotFoundException`, `PipelineDeletedException`, `TaskNotFoundException` (all 400)
//!   and `InternalServiceError` (500).
//! * Request validation (missing required member, a value violating a length, list-size,
//!   pattern or enumeration constraint, an unknown enumeration value) is an
//!   `InvalidRequestException`, the error the model declares for "request not valid", so that
//!   SDK code catching the modeled error catches it too.
//! * A body that is not JSON, or a member of the wrong JSON type, is the protocol's generic
//!   `SerializationException` (400): the bytes cannot become the request shape at all.
//! * A missing or unknown `X-Amz-Target`, another path or method: `UnknownOperationException`
//!   (400). A body over the size limit: `RequestEntityTooLargeException` (413). Headers over
//!   their limits: `RequestHeaderFieldsTooLargeException` (431, the status HTTP gives it).
//! * Authentication failures carry the type and status the auth module chose
//!   (`MissingAuthenticationTokenException` 403, `InvalidSignatureException` 403, …).

use serde::Serialize;
use sluice_engine::EngineError;
use sluice_engine::StoreError;

/// A failed request.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ApiError {
    #[error("{0}")]
    InvalidRequest(String),
    #[error("{0}")]
    PipelineNotFound(String),
    #[error("{0}")]
    PipelineDeleted(String),
    #[error("{0}")]
    TaskNotFound(String),
    #[error("{0}")]
    Internal(String),
    #[error("{0}")]
    UnknownOperation(String),
    #[error("{0}")]
    Serialization(String),
    #[error("{0}")]
    PayloadTooLarge(String),
    #[error("{0}")]
    HeadersTooLarge(String),
    /// Authentication failed; type and status come from the auth module.
    #[error("{message}")]
    Auth {
        aws_type: String,
        status: u16,
        message: String,
    },
}

/// The error body, exactly the two members AWS sends.
#[derive(Serialize)]
struct ErrorBody<'a> {
    #[serde(rename = "__type")]
    aws_type: &'a str,
    message: &'a str,
}

impl ApiError {
    pub fn invalid(message: impl Into<String>) -> Self {
        ApiError::InvalidRequest(message.into())
    }

    pub fn internal(message: impl Into<String>) -> Self {
        ApiError::Internal(message.into())
    }

    /// The error another server of the deployment answered a passed-on call with, its type,
    /// status and message kept as they were.
    pub fn answered(status: u16, aws_type: &str, message: String) -> Self {
        match aws_type {
            "InvalidRequestException" => ApiError::InvalidRequest(message),
            "PipelineNotFoundException" => ApiError::PipelineNotFound(message),
            "PipelineDeletedException" => ApiError::PipelineDeleted(message),
            "TaskNotFoundException" => ApiError::TaskNotFound(message),
            "InternalServiceError" => ApiError::Internal(message),
            "UnknownOperationException" => ApiError::UnknownOperation(message),
            "SerializationException" => ApiError::Serialization(message),
            "RequestEntityTooLargeException" => ApiError::PayloadTooLarge(message),
            "RequestHeaderFieldsTooLargeException" => ApiError::HeadersTooLarge(message),
            // The authentication errors, the only other types a server answers with.
            _ => ApiError::Auth {
                aws_type: aws_type.to_owned(),
                status,
                message,
            },
        }
    }

    /// The error's `__type`.
    pub fn aws_type(&self) -> &str {
        match self {
            ApiError::InvalidRequest(_) => "InvalidRequestException",
            ApiError::PipelineNotFound(_) => "PipelineNotFoundException",
            ApiError::PipelineDeleted(_) => "PipelineDeletedException",
            ApiError::TaskNotFound(_) => "TaskNotFoundException",
            ApiError::Internal(_) => "InternalServiceError",
            ApiError::UnknownOperation(_) => "UnknownOperationException",
            ApiError::Serialization(_) => "SerializationException",
            ApiError::PayloadTooLarge(_) => "RequestEntityTooLargeException",
            ApiError::HeadersTooLarge(_) => "RequestHeaderFieldsTooLargeException",
            ApiError::Auth { aws_type, .. } => aws_type,
        }
    }

    /// The HTTP status AWS answers the error with.
    pub fn http_status(&self) -> u16 {
        match self {
            ApiError::Internal(_) => 500,
            ApiError::PayloadTooLarge(_) => 413,
            ApiError::HeadersTooLarge(_) => 431,
            ApiError::Auth { status, .. } => *status,
            _ => 400,
        }
    }

    pub fn message(&self) -> String {
        self.to_string()
    }

    /// The JSON body: `{"__type": "...", "message": "..."}`.
    pub fn body(&self) -> Vec<u8> {
        let message = self.message();
        serde_json::to_vec(&ErrorBody {
            aws_type: self.aws_type(),
            message: &message,
        })
        .unwrap_or_else(|_| br#"{"__type":"InternalServiceError","message":""}"#.to_vec())
    }
}

impl From<EngineError> for ApiError {
    fn from(error: EngineError) -> Self {
        match error {
            EngineError::TaskNotFound(_) => ApiError::TaskNotFound(error.to_string()),
            EngineError::ObjectNotFound(_)
            | EngineError::InvalidRequest(_)
            | EngineError::Plan(_) => ApiError::InvalidRequest(error.to_string()),
            EngineError::Store(error) => error.into(),
            other => ApiError::Internal(other.to_string()),
        }
    }
}

impl From<StoreError> for ApiError {
    /// Every kind is the service's failure, not the request's, so each is an
    /// InternalServiceError (500), which SDKs retry. That suits an outage; after a conflict or
    /// unreadable data the retry fails again, and the message, which starts with the kind
    /// (`state store unavailable: …`), tells the caller why.
    fn from(error: StoreError) -> Self {
        ApiError::Internal(error.to_string())
    }
}

pub type ApiResult<T> = Result<T, ApiError>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_error_has_its_type_and_status() {
        let cases = [
            (ApiError::invalid("x"), "InvalidRequestException", 400),
            (
                ApiError::PipelineNotFound("x".into()),
                "PipelineNotFoundException",
                400,
            ),
            (
                ApiError::PipelineDeleted("x".into()),
                "PipelineDeletedException",
                400,
            ),
            (
                ApiError::TaskNotFound("x".into()),
                "TaskNotFoundException",
                400,
            ),
            (ApiError::internal("x"), "InternalServiceError", 500),
            (
                ApiError::UnknownOperation("x".into()),
                "UnknownOperationException",
                400,
            ),
            (
                ApiError::Serialization("x".into()),
                "SerializationException",
                400,
            ),
            (
                ApiError::PayloadTooLarge("x".into()),
                "RequestEntityTooLargeException",
                413,
            ),
        ];
        for (error, aws_type, status) in cases {
            assert_eq!(error.aws_type(), aws_type);
            assert_eq!(error.http_status(), status);
            let body: serde_json::Value = serde_json::from_slice(&error.body()).unwrap();
            assert_eq!(
                body,
                serde_json::json!({"__type": aws_type, "message": "x"})
            );
        }
    }

    #[test]
    fn engine_errors_map_onto_modeled_errors() {
        let e: ApiError = EngineError::TaskNotFound("t".into()).into();
        assert_eq!(e.aws_type(), "TaskNotFoundException");
        let e: ApiError = EngineError::ObjectNotFound("o".into()).into();
        assert_eq!(e.aws_type(), "InvalidRequestException");
        let store_errors = [
            (
                StoreError::Unavailable("down".into()),
                "state store unavailable: down",
            ),
            (
                StoreError::Conflict("pipeline df-1 moved on".into()),
                "conflicting write to the state store: pipeline df-1 moved on",
            ),
            (
                StoreError::Corrupt("bad row".into()),
                "state store holds unreadable data: bad row",
            ),
        ];
        for (store_error, message) in store_errors {
            for e in [
                ApiError::from(EngineError::Store(store_error.clone())),
                ApiError::from(store_error.clone()),
            ] {
                assert_eq!(e.aws_type(), "InternalServiceError");
                assert_eq!(e.http_status(), 500);
                assert_eq!(e.message(), message);
            }
        }
    }
}
