//! Rotating the key that seals secrets at rest (`sluice store rotate-key`): the secret values
//! of every pipeline row opened with the current key and sealed again with a new one.
//!
//! Only a row's `data` is rewritten, and in it only the definitions: the record keeps its
//! version, so nothing else about the pipeline changes. A rotation is safe to run again after
//! an interruption: values the new key already sealed are left as they are, so a second run
//! finishes what the first began. A value sealed with a key that is neither stops the
//! rotation, naming the three keys, before it changes anything.
//!
//! A process still running with the current key would go on sealing with it and fail to read
//! what the rotation resealed, so neither backend rotates under a running server:
//!
//! * SQLite ([`rotate_sqlite`]): the rotation takes the database in SQLite's exclusive locking
//!   mode, which fails at once while any other process has it open (a server, `sluice run`),
//!   and keeps everyone else out until it is done. The whole rotation is one transaction.
//! * PostgreSQL (`PostgresStore::rotate_key`): refused while a server's membership row is
//!   live, and checked again at the end. Each pipeline row is resealed in a transaction of its
//!   own, locked `FOR UPDATE`, once a first pass has seen that every row opens.
//!
//! Both then rebuild the pipelines' storage (`VACUUM`; `VACUUM FULL pipelines`), so that the
//! rows' earlier versions, sealed with the old key, do not linger in free space.

use std::path::Path;
use std::time::Duration;

use sluice_engine::StoreError;
use sluice_model::PipelineDefinition;
use sqlx::Connection as _;
use sqlx::sqlite::{SqliteConnectOptions, SqliteConnection, SqliteLockingMode};

use crate::seal::{Resealing, Sealer};
use crate::sqlite::sql_error;

/// How long a rotation waits for SQLite's lock before deciding another process holds it.
const SQLITE_LOCK_WAIT: Duration = Duration::from_millis(500);

/// The definitions a pipeline row's `data` holds (`records.rs`).
const DEFINITIONS: [&str; 2] = ["definition", "active_definition"];

/// What a rotation did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RotationReport {
    /// Pipelines in the database.
    pub pipelines: usize,
    /// Of those, the ones holding secret values.
    pub with_secrets: usize,
    /// Pipelines rewritten: those holding a value the current key sealed, or one not sealed.
    pub resealed: usize,
    /// Secret values sealed with the new key by this run.
    pub values: usize,
}

impl RotationReport {
    pub(crate) fn add(&mut self, found: Resealing) {
        self.pipelines += 1;
        if found.secrets > 0 {
            self.with_secrets += 1;
        }
        if found.resealed > 0 {
            self.resealed += 1;
        }
        self.values += found.resealed;
    }
}

/// Why a rotation stopped.
#[derive(Debug, thiserror::Error)]
pub enum RotateError {
    /// A running process uses the database.
    #[error("{0}")]
    InUse(String),
    /// A pipeline's secrets cannot be resealed (another key sealed them, or they do not open).
    #[error("pipeline {pipeline} (in {location}): {why}")]
    Refused {
        pipeline: String,
        location: String,
        why: String,
    },
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// A pipeline row's `data` with its secret values resealed with `new`; `None` when nothing in
/// it changes.
pub(crate) fn reseal_row(
    pipeline_id: &str,
    data: &str,
    current: &Sealer,
    new: &Sealer,
) -> Result<(Option<String>, Resealing), String> {
    let not_a_record = |e: serde_json::Error| format!("its data is not a pipeline record: {e}");
    let mut row: serde_json::Map<String, serde_json::Value> =
        serde_json::from_str(data).map_err(not_a_record)?;
    let mut found = Resealing::default();
    for key in DEFINITIONS {
        let Some(value) = row.get_mut(key).filter(|v| !v.is_null()) else {
            continue;
        };
        let mut definition: PipelineDefinition =
            serde_json::from_value(value.take()).map_err(not_a_record)?;
        let this = current.reseal_definition(new, pipeline_id, &mut definition)?;
        found.secrets += this.secrets;
        found.resealed += this.resealed;
        *value = serde_json::to_value(&definition).map_err(not_a_record)?;
    }
    if found.resealed == 0 {
        return Ok((None, found));
    }
    let data = serde_json::to_string(&row).map_err(not_a_record)?;
    Ok((Some(data), found))
}

/// Reseals every pipeline of the SQLite database at `path` with `new`, in one transaction;
/// refused while another process has the database open.
pub async fn rotate_sqlite(
    path: &Path,
    current: &Sealer,
    new: &Sealer,
) -> Result<RotationReport, RotateError> {
    let location = path.display().to_string();
    if !path.is_file() {
        return Err(StoreError::Unavailable(format!("{location} does not exist")).into());
    }
    // Exclusive locking mode before the first access: the connection then holds the file's
    // lock from its first transaction until it closes, and cannot get it while another
    // connection has the database open in WAL mode.
    let options = SqliteConnectOptions::new()
        .filename(path)
        .locking_mode(SqliteLockingMode::Exclusive)
        .busy_timeout(SQLITE_LOCK_WAIT);
    let mut connection = SqliteConnection::connect_with(&options)
        .await
        .map_err(|e| sql_error(&location, "cannot open", e))?;
    let rotated = rotate_in(&mut connection, &location, current, new).await;
    let closed = connection
        .close()
        .await
        .map_err(|e| sql_error(&location, "cannot close", e));
    let report = rotated?;
    closed?;
    Ok(report)
}

async fn rotate_in(
    connection: &mut SqliteConnection,
    location: &str,
    current: &Sealer,
    new: &Sealer,
) -> Result<RotationReport, RotateError> {
    let mut tx = match connection.begin_with("BEGIN EXCLUSIVE").await {
        Ok(tx) => tx,
        Err(e) if is_busy(&e) => {
            return Err(RotateError::InUse(format!(
                "{location} is open in another process (a sluice server or sluice run using \
                 this data directory): stop it, then rotate the key"
            )));
        }
        Err(e) => return Err(sql_error(location, "cannot lock", e).into()),
    };
    let rows: Vec<(String, String)> =
        sqlx::query_as("SELECT pipeline_id, data FROM pipelines ORDER BY pipeline_id")
            .fetch_all(&mut *tx)
            .await
            .map_err(|e| sql_error(location, "cannot read pipelines from", e))?;
    let mut report = RotationReport::default();
    for (pipeline_id, data) in rows {
        let (resealed, found) =
            reseal_row(&pipeline_id, &data, current, new).map_err(|why| RotateError::Refused {
                pipeline: pipeline_id.clone(),
                location: location.to_owned(),
                why,
            })?;
        if let Some(data) = resealed {
            sqlx::query("UPDATE pipelines SET data = ? WHERE pipeline_id = ?")
                .bind(data)
                .bind(&pipeline_id)
                .execute(&mut *tx)
                .await
                .map_err(|e| sql_error(location, "cannot write to", e))?;
        }
        report.add(found);
    }
    tx.commit()
        .await
        .map_err(|e| sql_error(location, "cannot commit to", e))?;
    // The rows' earlier versions, sealed with the old key, stay in the file's free space until
    // it is rebuilt; a rotation is often done because that key may have leaked.
    sqlx::query("VACUUM")
        .execute(&mut *connection)
        .await
        .map_err(|e| sql_error(location, "cannot vacuum", e))?;
    Ok(report)
}

/// SQLITE_BUSY, in any of its extended forms.
fn is_busy(error: &sqlx::Error) -> bool {
    const SQLITE_BUSY: i64 = 5;
    error
        .as_database_error()
        .and_then(|db| db.code())
        .and_then(|code| code.parse::<i64>().ok())
        .is_some_and(|code| code & 0xff == SQLITE_BUSY)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_row_keeps_everything_but_its_secrets() {
        let (current, new) = (
            Sealer::new(&[1; 32]).unwrap(),
            Sealer::new(&[2; 32]).unwrap(),
        );
        let definition = PipelineDefinition {
            pipeline_objects: vec![sluice_model::PipelineObject {
                id: "Db".into(),
                name: "Db".into(),
                fields: vec![sluice_model::Field::string("*password", "row-canary")],
            }],
            ..PipelineDefinition::default()
        };
        let sealed = current.seal_definition("df-1", &definition).into_owned();
        let data = serde_json::json!({
            "pipeline_id": "df-1", "name": "n", "version": 7, "definition": sealed,
            "active_definition": null, "fields": {"@pipelineState": "PENDING"},
        })
        .to_string();
        let (rewritten, found) = reseal_row("df-1", &data, &current, &new).unwrap();
        assert_eq!(
            found,
            Resealing {
                secrets: 1,
                resealed: 1
            }
        );
        let rewritten = rewritten.expect("a value to reseal");
        let before: serde_json::Value = serde_json::from_str(&data).unwrap();
        let after: serde_json::Value = serde_json::from_str(&rewritten).unwrap();
        for key in [
            "pipeline_id",
            "name",
            "version",
            "active_definition",
            "fields",
        ] {
            assert_eq!(before[key], after[key], "{key}");
        }
        assert!(rewritten.contains(new.key_id()) && !rewritten.contains(current.key_id()));
        // Rotated already: left as it is.
        let (again, found) = reseal_row("df-1", &rewritten, &current, &new).unwrap();
        assert_eq!(
            (again, found),
            (
                None,
                Resealing {
                    secrets: 1,
                    resealed: 0
                }
            )
        );
        let err = reseal_row("df-1", "[]", &current, &new).unwrap_err();
        assert!(err.contains("not a pipeline record"), "{err}");
    }
}
