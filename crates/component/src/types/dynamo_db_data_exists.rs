//! `DynamoDBDataExists`: a DynamoDB table has data (dp-dynamodbdataexists); checked by the service.

use sluice_model::TaskResult;

use super::dynamo_db_data_node::{DYNAMODB_REQUEST_FAILED, precondition_target};
use crate::common::{self, required};
use crate::execute::{AttemptContext, ExecFuture, Execute};
use crate::spec::{Category, FieldSpec, ManagedBy, ObjectKind, ValueType};

/// True when a DynamoDB table contains data.
pub struct DynamoDBDataExists;

static FIELDS: &[FieldSpec] = &[
    required(
        "role",
        ValueType::String,
        "IAM role the service uses to perform the check.",
    ),
    required("tableName", ValueType::String, "DynamoDB table to check."),
];

impl ObjectKind for DynamoDBDataExists {
    fn type_name(&self) -> &'static str {
        "DynamoDBDataExists"
    }

    fn category(&self) -> Category {
        Category::Precondition
    }

    fn doc(&self) -> &'static str {
        "True when a DynamoDB table contains data."
    }

    fn fields(&self) -> Vec<&'static FieldSpec> {
        common::with_common(common::PRECONDITION_FIELDS, FIELDS)
    }

    fn managed_by(&self) -> Option<ManagedBy> {
        Some(ManagedBy::Service)
    }

    fn executor(&self) -> Option<&dyn Execute> {
        Some(self)
    }
}

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
