//! `DynamoDBTableExists`: a DynamoDB table exists (dp-dynamodbtableexists); checked by the service.

use sluice_model::TaskResult;

use super::dynamo_db_data_node::{DYNAMODB_REQUEST_FAILED, precondition_target};
use crate::common::{self, required};
use crate::execute::{AttemptContext, ExecFuture, Execute};
use crate::spec::{Category, FieldSpec, ManagedBy, ObjectKind, ValueType};

/// True when a DynamoDB table exists.
pub struct DynamoDBTableExists;

static FIELDS: &[FieldSpec] = &[
    required(
        "role",
        ValueType::String,
        "IAM role the service uses to perform the check.",
    ),
    required("tableName", ValueType::String, "DynamoDB table to check."),
];

impl ObjectKind for DynamoDBTableExists {
    fn type_name(&self) -> &'static str {
        "DynamoDBTableExists"
    }

    fn category(&self) -> Category {
        Category::Precondition
    }

    fn doc(&self) -> &'static str {
        "True when a DynamoDB table exists."
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
