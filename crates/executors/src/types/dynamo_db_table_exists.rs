//! `DynamoDBTableExists`: a DynamoDB table exists (dp-dynamodbtableexists); checked by the service.

use crate::execute::{AttemptContext, ExecFuture, Execute};
use crate::types::dynamo_db_data_node::{DYNAMODB_REQUEST_FAILED, precondition_target};
use sluice_model::TaskResult;

/// Executes `DynamoDBTableExists` attempts.
pub struct DynamoDBTableExists;

impl Execute for DynamoDBTableExists {
    fn execute<'a>(&'a self, ctx: &'a AttemptContext) -> ExecFuture<'a> {
        Box::pin(check(ctx))
    }
}

async fn check(ctx: &AttemptContext) -> TaskResult {
    let (client, table) = match precondition_target(ctx) {
        Ok(target) => target,
        Err(result) => return result,
    };
    let described = tokio::select! {
        described = client.describe_table(&table) => described,
        () = ctx.cancel.cancelled() => return crate::exec::shell::canceled(),
    };
    match described {
        // A table being deleted is on its way out; anything else can be used or soon can.
        Ok(Some(info)) if info.status != "DELETING" => TaskResult::finished(),
        Ok(_) => TaskResult::condition_false(),
        Err(err) => TaskResult::failed(DYNAMODB_REQUEST_FAILED, err.to_string()),
    }
}
