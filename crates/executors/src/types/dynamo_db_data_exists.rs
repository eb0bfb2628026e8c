//! `DynamoDBDataExists`: a DynamoDB table has data (dp-dynamodbdataexists); checked by the service.

use crate::execute::{AttemptContext, ExecFuture, Execute};
use crate::types::dynamo_db_data_node::{DYNAMODB_REQUEST_FAILED, precondition_target};
use sluice_model::TaskResult;

/// Executes `DynamoDBDataExists` attempts.
pub struct DynamoDBDataExists;

impl Execute for DynamoDBDataExists {
    fn execute<'a>(&'a self, ctx: &'a AttemptContext) -> ExecFuture<'a> {
        Box::pin(check(ctx))
    }
}

async fn check(ctx: &AttemptContext) -> TaskResult {
    let (client, table) = match precondition_target(ctx) {
        Ok(target) => target,
        Err(result) => return result,
    };
    let found = tokio::select! {
        found = client.has_items(&table) => found,
        () = ctx.cancel.cancelled() => return crate::exec::shell::canceled(),
    };
    match found {
        Ok(Some(true)) => TaskResult::finished(),
        // A missing table has no data either: the check is false, not broken.
        Ok(Some(false) | None) => TaskResult::condition_false(),
        Err(err) => TaskResult::failed(DYNAMODB_REQUEST_FAILED, err.to_string()),
    }
}
