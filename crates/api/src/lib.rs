//! The AWS Data Pipeline web API (JSON 1.1 protocol, SigV4) over the engine and the store:
//! what `sluice server` serves.
//!
//! * [`Service`] implements the 19 operations on typed requests ([`sluice_model::ops`]),
//!   scoped by the caller's account; one [`sluice_engine::Scheduler`] per activated pipeline.
//! * [`router`] is the protocol: `POST /`, `X-Amz-Target`, authentication of every request,
//!   decoding and the model's constraints, `{"__type", "message"}` errors ([`ApiError`]).
//! * [`auth`] verifies SigV4 signatures against a [`auth::CredentialStore`].
//! * [`provision`] starts and stops the task runners of managed resources.
//! * [`server::serve`] runs it all: the listener, the background ticker and the in-process
//!   task runner ([`LocalTaskSource`]), with a clean shutdown.

pub mod actions;
pub mod auth;
mod authn;
mod edits;
mod error;
mod ids;
mod local_runner;
mod objects;
mod ops;
mod paging;
pub mod provision;
mod router;
pub mod server;
mod service;
mod ticker;
mod validate;

pub use authn::Authenticator;
pub use error::{ApiError, ApiResult};
pub use local_runner::LocalTaskSource;
pub use router::{ApiConfig, CONTENT_TYPE, REQUEST_ID_HEADER, router};
pub use service::{RunnerInfo, Service, ServiceOptions};
