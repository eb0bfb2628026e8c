//! `SqlActivity`: runs SQL on a database (dp-object-sqlactivity).
//!
//! The script (`script`, already evaluated by the engine, or `scriptUri` fetched as-is) is split
//! into statements at top-level semicolons and run in order on one connection, each committing
//! on its own as JDBC's auto-commit does, so scripts may manage their own transactions.
//! `scriptArgument` values fill the script's `?` placeholders in order, bound as parameters;
//! a statement without placeholders runs through the simple protocol (DDL, `SET`, …).

use crate::exec::error_id;
use crate::execute::{AttemptContext, ExecFuture, Execute};
use crate::types::copy_activity::{Failure, run_cancellable};
use sluice_data::format::objects::ObjectFile;
use sluice_data::sql::conn::abbreviate;
use sluice_data::sql::{SqlConn, script};
use sluice_data::storage::ObjectStores;

/// Executes `SqlActivity` attempts.
pub struct SqlActivity;

/// The `errorId` of a script that failed on the database.
pub(crate) const SQL_FAILED: &str = "SqlFailed";

impl Execute for SqlActivity {
    fn execute<'a>(&'a self, ctx: &'a AttemptContext) -> ExecFuture<'a> {
        Box::pin(run_cancellable(ctx, Box::pin(run(ctx))))
    }
}

async fn run(ctx: &AttemptContext) -> Result<String, Failure> {
    let db = crate::types::copy_activity::single_ref(ctx, "database")?;
    let target = crate::types::jdbc_database::connect_target(db, &ctx.settings.data.sql)
        .map_err(Failure::invalid)?;
    let script = match (ctx.field("script"), ctx.field("scriptUri")) {
        (Some(script), _) => script.to_string(),
        (None, Some(uri)) => {
            let stores = ObjectStores::shared(&ctx.settings.data.s3, &ctx.settings.data_dir)
                .map_err(|e| Failure::invalid(e.to_string()))?;
            let file: ObjectFile = stores
                .resolve(uri)
                .map_err(|e| Failure::invalid(format!("scriptUri: {e}")))?
                .into();
            file.read_to_string().await.map_err(|e| Failure {
                id: error_id::SCRIPT_NOT_FOUND,
                message: format!("scriptUri: {e}"),
            })?
        }
        (None, None) => return Err(Failure::invalid("SqlActivity needs script or scriptUri")),
    };
    let args: Vec<Option<String>> = ctx
        .fields("scriptArgument")
        .into_iter()
        .map(|a| Some(a.to_string()))
        .collect();
    let statements = script::split(&script);
    let holes: usize = statements.iter().map(|s| s.placeholders.len()).sum();
    if holes != args.len() {
        return Err(Failure::invalid(format!(
            "the script has {holes} ? placeholders but {} scriptArgument values were given",
            args.len()
        )));
    }
    if ctx.field("queue").is_some() {
        tracing::info!("queue applies to Redshift WLM only; ignored");
    }
    let failed = Failure::with(SQL_FAILED);
    let mut conn = SqlConn::connect(&target)
        .await
        .map_err(|e| failed(format!("{}: {e}", db.id)))?;
    let mut next = 0;
    for (i, statement) in statements.iter().enumerate() {
        let context = |message: String| {
            failed(format!(
                "statement {} ({}): {message}",
                i + 1,
                abbreviate(&statement.sql)
            ))
        };
        if statement.placeholders.is_empty() {
            conn.execute_raw(&statement.sql)
                .await
                .map_err(|e| match e {
                    sluice_data::sql::SqlError::Statement { message, .. } => context(message),
                    other => context(other.to_string()),
                })?;
        } else {
            let n = statement.placeholders.len();
            let values = &args[next..next + n];
            next += n;
            if let Err(e) = conn.execute_bound(statement, values).await {
                return Err(context(conn.describe_error(&e)));
            }
        }
    }
    conn.close().await;
    Ok(format!(
        "ran {} statements on {}",
        statements.len(),
        target.describe()
    ))
}
