//! The export and import tools of AWS's DynamoDB storage handler, run natively.

use sluice_model::TaskResult;

use crate::exec::error_id;
use crate::execute::AttemptContext;

/// `DynamoDbExport` / `DynamoDBExport`: `<s3 dir>,<table>,<read ratio>[,…]`.
pub async fn export(_ctx: &AttemptContext, what: &str, _args: &[String]) -> Result<(), TaskResult> {
    Err(TaskResult::failed(
        error_id::UNSUPPORTED,
        format!("{what}: the DynamoDB export tool is not implemented yet"),
    ))
}

/// `DynamoDbImport` / `DynamoDBImport`: `<s3 dir>,<table>,<write ratio>[,…]`.
pub async fn import(_ctx: &AttemptContext, what: &str, _args: &[String]) -> Result<(), TaskResult> {
    Err(TaskResult::failed(
        error_id::UNSUPPORTED,
        format!("{what}: the DynamoDB import tool is not implemented yet"),
    ))
}
