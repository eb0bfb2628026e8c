//! The AWS Data Pipeline web API (JSON 1.1 protocol, SigV4) over [`sluice_runtime::Service`]:
//! what `sluice server` serves.
//!
//! * [`router`] is the protocol: `POST /`, `X-Amz-Target`, authentication of every request,
//!   decoding and the model's constraints, `{"__type", "message"}` errors, then the operation
//!   on the service with the caller's principal.
//! * `forward` passes a call on to the server owning its pipeline (several servers on one
//!   database).
//! * [`auth`] verifies SigV4 signatures against the accounts' keys
//!   ([`sluice_runtime::accounts`]).
//! * [`server::serve`] runs it all: the listener, the service's background ticker and the
//!   in-process task runner, with a clean shutdown; [`server::serve_metrics`] serves
//!   `GET /metrics` on a listener of its own.
//! * [`tls`] loads the certificate and key of `sluice server --tls-cert/--tls-key`.
//! * [`fuzzing`] (cargo feature `fuzzing`) judges a request as the router does, without a
//!   service, for the fuzz targets.
//! * Unsigned on the API's port: `GET /healthz`, `GET /readyz` and, unless it has its own
//!   listener, `GET /metrics`.
//! * The web console (`sluice_console`) under `/console/`, its routes merged into the same
//!   router unless [`ApiConfig::console`] is off; it signs people in with the keys the
//!   authenticator verifies signatures against ([`Authenticator::check_secret`]).

pub mod auth;
mod authn;
mod forward;
#[cfg(any(test, feature = "fuzzing"))]
pub mod fuzzing;
mod input;
mod router;
pub mod server;
pub mod tls;
mod validate;

pub use authn::Authenticator;
pub use router::{ApiConfig, CONTENT_TYPE, REQUEST_ID_HEADER, router};
pub use sluice_runtime::{ApiError, ApiResult, Service, ServiceOptions};
