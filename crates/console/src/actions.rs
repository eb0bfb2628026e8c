//! Every change the console makes is one of the service's operations, called with the
//! signed-in principal, so authorisation and account isolation are the API's own. Each call is
//! logged and counted in the API's request metrics under the operation's name, as a call over
//! the API is, marked as coming from the console in the log.
//!
//! In a deployment of several servers on one database, a call about a pipeline another server
//! schedules goes to that server as an API call ([`Relay`]), as the API's own calls are
//! forwarded, so the change is made by the one server allowed to make it.

use std::future::Future;
use std::time::Instant;

use futures::future::BoxFuture;
use serde::Serialize;
use serde::de::DeserializeOwned;
use sluice_model::ops::Operation;
use sluice_runtime::accounts::Principal;
use sluice_runtime::cluster::Placement;
use sluice_runtime::{ApiError, ApiResult};

use crate::Console;

/// Sends an operation to the server that owns the pipeline it names.
pub trait Relay: Send + Sync + 'static {
    /// `operation` with the JSON `input`, called as `principal`, answered by the server at
    /// `url`: the answer's JSON, or the error that server answered.
    fn call<'a>(
        &'a self,
        url: &'a str,
        principal: &'a Principal,
        operation: Operation,
        input: Vec<u8>,
    ) -> BoxFuture<'a, ApiResult<Vec<u8>>>;
}

/// A console that is its deployment's only server relays nothing.
pub struct NoRelay;

impl Relay for NoRelay {
    fn call<'a>(
        &'a self,
        url: &'a str,
        _principal: &'a Principal,
        operation: Operation,
        _input: Vec<u8>,
    ) -> BoxFuture<'a, ApiResult<Vec<u8>>> {
        Box::pin(async move {
            Err(ApiError::internal(format!(
                "{operation} is for the server at {url}, and this console cannot pass calls on"
            )))
        })
    }
}

/// `operation` with `input` about `pipeline` (`None`: about no pipeline yet), answered by `here`
/// on this server, or by the server owning the pipeline.
pub(crate) async fn call<I, O, F>(
    state: &Console,
    principal: &Principal,
    operation: Operation,
    pipeline: Option<&str>,
    input: I,
    here: impl FnOnce(I) -> F,
) -> ApiResult<O>
where
    I: Serialize,
    O: DeserializeOwned,
    F: Future<Output = ApiResult<O>>,
{
    let started = Instant::now();
    let placement = match pipeline {
        Some(id) => state.service.place_pipeline(principal, id).await,
        None => Ok(Placement::Here),
    };
    let (result, owner) = match placement {
        Ok(Placement::Here) => (here(input).await, None),
        Ok(Placement::Elsewhere(url)) => {
            let answer = relay(state, &url, principal, operation, &input).await;
            (answer, Some(url))
        }
        Err(error) => (Err(error), None),
    };
    let elapsed = started.elapsed();
    let elapsed_ms = elapsed.as_millis();
    state.service.metrics().api_request(
        operation.name(),
        result.as_ref().err().map(|e| e.aws_type()),
        elapsed,
    );
    let (error, message) = match &result {
        Ok(_) => (None, "ok".to_owned()),
        Err(error) => (Some(error.aws_type().to_owned()), error.message()),
    };
    tracing::info!(
        via = "console",
        operation = %operation,
        account = %principal.account_id,
        access_key_id = %principal.access_key_id,
        pipeline = pipeline.unwrap_or("-"),
        owner = owner.as_deref().unwrap_or("this server"),
        elapsed_ms,
        error = error.as_deref().unwrap_or("none"),
        "{message}"
    );
    result
}

async fn relay<I: Serialize, O: DeserializeOwned>(
    state: &Console,
    url: &str,
    principal: &Principal,
    operation: Operation,
    input: &I,
) -> ApiResult<O> {
    let body = serde_json::to_vec(input)
        .map_err(|e| ApiError::internal(format!("encoding {operation}'s input: {e}")))?;
    let answer = state.relay.call(url, principal, operation, body).await?;
    serde_json::from_slice(&answer).map_err(|e| {
        ApiError::internal(format!(
            "the server at {url} answered {operation} with what is not its output: {e}"
        ))
    })
}
