//! Every change the console makes is one of the service's operations, called with the
//! signed-in principal, so authorisation and account isolation are the API's own. Each call is
//! logged and counted in the API's request metrics under the operation's name, as a call over
//! the API is, marked as coming from the console in the log.

use std::future::Future;
use std::time::Instant;

use sluice_model::ops::Operation;
use sluice_runtime::accounts::Principal;
use sluice_runtime::{ApiResult, Service};

pub(crate) async fn call<O>(
    service: &Service,
    principal: &Principal,
    operation: Operation,
    pipeline_id: &str,
    work: impl Future<Output = ApiResult<O>>,
) -> ApiResult<O> {
    let started = Instant::now();
    let result = work.await;
    let elapsed = started.elapsed();
    let elapsed_ms = elapsed.as_millis();
    service.metrics().api_request(
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
        pipeline = pipeline_id,
        elapsed_ms,
        error = error.as_deref().unwrap_or("none"),
        "{message}"
    );
    result
}
