//! `RedshiftCopyActivity`: copies data into or out of Redshift (dp-object-redshiftcopyactivity).
//!
//! Loads an S3DataNode into a RedshiftDataNode over the PostgreSQL protocol, so any
//! PostgreSQL-protocol warehouse works. In one transaction: the input is streamed with
//! `COPY staging FROM STDIN` into a temporary table `staging` shaped like the target, then
//! `transformSql` (if any) turns `staging` into the rows to load, then `insertMode` decides how
//! they meet the target's rows — matched on `primaryKeys` (or the table's primary key):
//!
//! * `KEEP_EXISTING`: only rows whose key is not in the table yet are added;
//! * `OVERWRITE_EXISTING`: rows with a matching key are replaced, the others added;
//! * `TRUNCATE`: every existing row is deleted first;
//! * `APPEND`: every row is added.
//!
//! A failure anywhere rolls everything back. `commandOptions` and `queue` are Redshift-specific
//! and not applied.

use sluice_data::format::objects::CHANNEL_BATCHES;
use sluice_data::sql::table::copy_in;
use sluice_data::sql::{Engine, SqlConn, SqlError};
use tokio::sync::mpsc;

use super::copy_activity::{Failure, produce_files, run_cancellable, s3_node, single_ref};
use crate::common::{self, optional, repeated, required};
use crate::execute::{AttemptContext, ExecFuture, Execute};
use crate::spec::{Category, FieldSpec, ObjectKind, OneOf, ValueType};

/// The `errorId` of a load that failed.
pub(crate) const REDSHIFT_COPY_FAILED: &str = "RedshiftCopyFailed";

/// Loads data from S3 or DynamoDB into Amazon Redshift (or unloads it).
pub struct RedshiftCopyActivity;

/// Values of `insertMode`: how rows overlapping the loaded data are treated.
pub const INSERT_MODE_VALUES: &[&str] =
    &["KEEP_EXISTING", "OVERWRITE_EXISTING", "TRUNCATE", "APPEND"];

static FIELDS: &[FieldSpec] = &[
    required(
        "insertMode",
        ValueType::Enumeration(INSERT_MODE_VALUES),
        "What to do with existing rows that overlap the loaded data.",
    ),
    repeated(
        "commandOptions",
        ValueType::String,
        "Redshift COPY option, e.g. EMPTYASNULL.",
    ),
    optional(
        "queue",
        ValueType::String,
        "Redshift query_group the copy runs in.",
    ),
    optional(
        "transformSql",
        ValueType::String,
        "SELECT over the table named staging that transforms the input before loading.",
    ),
];

static ONE_OF: &[OneOf] = &[common::RUNS_ON_OR_WORKER_GROUP];

impl ObjectKind for RedshiftCopyActivity {
    fn type_name(&self) -> &'static str {
        "RedshiftCopyActivity"
    }

    fn category(&self) -> Category {
        Category::Activity
    }

    fn doc(&self) -> &'static str {
        "Loads data from S3 or DynamoDB into Amazon Redshift (or unloads it)."
    }

    fn fields(&self) -> Vec<&'static FieldSpec> {
        common::with_common(common::ACTIVITY_FIELDS, FIELDS)
    }

    fn one_of(&self) -> &'static [OneOf] {
        ONE_OF
    }

    fn executor(&self) -> Option<&dyn Execute> {
        Some(self)
    }
}

impl Execute for RedshiftCopyActivity {
    fn execute<'a>(&'a self, ctx: &'a AttemptContext) -> ExecFuture<'a> {
        Box::pin(run_cancellable(ctx, Box::pin(run(ctx))))
    }
}

async fn run(ctx: &AttemptContext) -> Result<String, Failure> {
    let mode = ctx.field("insertMode").unwrap_or("");
    if !INSERT_MODE_VALUES.contains(&mode) {
        return Err(Failure::invalid(format!(
            "insertMode {mode:?} is not one of {}",
            INSERT_MODE_VALUES.join(", ")
        )));
    }
    let input = single_ref(ctx, "input")?;
    let output = single_ref(ctx, "output")?;
    if input.object_type() != Some("S3DataNode") {
        return Err(Failure::invalid(format!(
            "RedshiftCopyActivity loads from an S3DataNode; input {} is a {}",
            input.id,
            input.object_type().unwrap_or("node without a type")
        )));
    }
    if output.object_type() != Some("RedshiftDataNode") {
        return Err(Failure::invalid(format!(
            "RedshiftCopyActivity loads into a RedshiftDataNode; output {} is a {}",
            output.id,
            output.object_type().unwrap_or("node without a type")
        )));
    }
    let from = s3_node(ctx, input)?;
    let to = super::sql_data_node::sql_node(ctx, output).map_err(Failure::invalid)?;
    if to.target.engine != Engine::Postgresql {
        return Err(Failure::invalid(format!(
            "RedshiftDataNode {} must be on a PostgreSQL-protocol database, not {}",
            to.id,
            to.target.engine.name()
        )));
    }
    let failed = Failure::with(REDSHIFT_COPY_FAILED);
    let in_node = |e: SqlError| failed(format!("{}: {e}", to.id));
    let files = from.inputs().await?;
    let mut conn = SqlConn::connect(&to.target).await.map_err(in_node)?;
    to.table.ensure(&mut conn).await.map_err(in_node)?;
    let table = to.table.qualified();
    let mut keys = super::redshift_data_node::primary_keys(output);
    if keys.is_empty() {
        keys = conn
            .primary_key(to.table.schema.as_deref(), &to.table.table)
            .await
            .map_err(in_node)?;
    }
    if keys.is_empty() && matches!(mode, "KEEP_EXISTING" | "OVERWRITE_EXISTING") {
        return Err(Failure::invalid(format!(
            "insertMode {mode} matches rows on a key, but table {table} has no primary key and {} sets no primaryKeys",
            to.id
        )));
    }
    conn.begin().await.map_err(in_node)?;
    conn.execute_raw(&format!("CREATE TEMPORARY TABLE staging (LIKE {table})"))
        .await
        .map_err(in_node)?;
    let (tx, rx) = mpsc::channel(CHANNEL_BATCHES);
    let (produced, copied) = futures::future::join(
        produce_files(&from, files, tx),
        copy_in(&mut conn, "COPY staging FROM STDIN", rx),
    )
    .await;
    produced?;
    let records = copied.map_err(|e| failed(format!("loading {} into staging: {e}", from.id)))?;
    let source = match ctx.field("transformSql") {
        Some(sql) => {
            conn.execute_raw(&format!(
                "CREATE TEMPORARY TABLE staging_transformed AS {sql}"
            ))
            .await
            .map_err(|e| failed(format!("transformSql: {e}")))?;
            "staging_transformed"
        }
        None => "staging",
    };
    for sql in merge_statements(mode, &table, source, &keys) {
        conn.execute_raw(&sql).await.map_err(in_node)?;
    }
    conn.commit().await.map_err(in_node)?;
    conn.close().await;
    Ok(format!(
        "loaded {records} records from {} into {} (table {table}, insertMode {mode})",
        from.location.uri, to.id
    ))
}

/// The statements that move `source`'s rows into `table` under `mode`.
fn merge_statements(mode: &str, table: &str, source: &str, keys: &[String]) -> Vec<String> {
    let matches = keys
        .iter()
        .map(|k| format!("t.{k} = s.{k}"))
        .collect::<Vec<_>>()
        .join(" AND ");
    let insert_all = format!("INSERT INTO {table} SELECT * FROM {source}");
    match mode {
        "KEEP_EXISTING" => vec![format!(
            "INSERT INTO {table} SELECT s.* FROM {source} s \
             WHERE NOT EXISTS (SELECT 1 FROM {table} t WHERE {matches})"
        )],
        "OVERWRITE_EXISTING" => vec![
            format!("DELETE FROM {table} t USING {source} s WHERE {matches}"),
            insert_all,
        ],
        "TRUNCATE" => vec![format!("DELETE FROM {table}"), insert_all],
        _ => vec![insert_all],
    }
}

#[cfg(test)]
mod tests {
    use super::merge_statements;

    #[test]
    fn merge_statements_per_mode() {
        let keys = vec!["id".to_string(), "day".to_string()];
        let keep = merge_statements("KEEP_EXISTING", "s.t", "staging", &keys);
        assert_eq!(keep.len(), 1);
        assert!(
            keep[0].contains("NOT EXISTS") && keep[0].contains("t.id = s.id AND t.day = s.day")
        );
        let over = merge_statements("OVERWRITE_EXISTING", "s.t", "staging", &keys);
        assert!(over[0].starts_with("DELETE FROM s.t t USING staging s"));
        assert_eq!(
            merge_statements("TRUNCATE", "t", "staging", &[])[0],
            "DELETE FROM t"
        );
        assert_eq!(
            merge_statements("APPEND", "t", "x", &[]),
            vec!["INSERT INTO t SELECT * FROM x"]
        );
    }
}
