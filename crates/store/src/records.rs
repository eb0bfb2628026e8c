//! How records are encoded in rows, shared by every store so that a record reads back the same
//! from any of them: the `data` column's JSON, the fixed-width time keys and the version column.
//!
//! The active definition is written only when it differs from the latest one; a flag,
//! `active_is_latest`, says when they are the same. A definition of many thousand objects is
//! most of the record, and the record is written on every change of pipeline state. Rows
//! written before the flag existed carry both definitions, and read back as they were.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::fmt::Display;

use chrono::NaiveDateTime;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use sluice_engine::store::StoreResult;
use sluice_engine::{PipelineRecord, StoreError};
use sluice_model::{PipelineDefinition, PipelineState};

use crate::seal::{Sealer, holds_sealed};

/// A time as an indexed column: fixed-width, so that text order (byte order) is time order
/// (for years 0 to 9999), down to the nanosecond.
pub(crate) fn time_key(time: NaiveDateTime) -> String {
    time.format("%Y-%m-%dT%H:%M:%S%.9f").to_string()
}

/// The version column holds the u64's bits as an i64 (SQLite and PostgreSQL integers are
/// signed); versions are compared after converting back, never in SQL.
pub(crate) fn version_to_column(version: u64) -> i64 {
    i64::from_ne_bytes(version.to_ne_bytes())
}

pub(crate) fn version_from_column(column: i64) -> u64 {
    u64::from_ne_bytes(column.to_ne_bytes())
}

/// The error every store returns when a pipeline record does not advance the stored version.
pub(crate) fn stale_version(pipeline_id: &str, stored: u64, written: u64) -> StoreError {
    StoreError::Conflict(format!(
        "pipeline {pipeline_id}: stored version is {stored}, the write carries version \
         {written}; another writer changed it first (each write must increase the version)"
    ))
}

/// A record's `data` column.
pub(crate) fn encode<T: Serialize>(record: &T, kind: &str, id: &str) -> StoreResult<String> {
    // The records hold only strings, numbers and string-keyed maps, which always serialize;
    // should that ever change, the commit fails rather than storing half a record.
    serde_json::to_string(record)
        .map_err(|e| StoreError::Corrupt(format!("{kind} {id} cannot be encoded as JSON: {e}")))
}

/// Decodes one row from its id column and its `data` column (read only once the id is known,
/// so that an unreadable `data` is reported with the record's name), checking that the record
/// is the one the row is keyed by. `location` names the database in errors.
pub(crate) fn decode_row<T: DeserializeOwned, E: Display>(
    location: &str,
    kind: &str,
    pipeline_id: Option<&str>,
    id: Result<String, E>,
    data: impl FnOnce() -> Result<String, E>,
    ids: impl Fn(&T) -> (&str, &str),
) -> StoreResult<T> {
    let corrupt = |what: String| StoreError::Corrupt(format!("{what} (in {location})"));
    let id = id.map_err(|e| corrupt(format!("a {kind} row has an unreadable id: {e}")))?;
    let owner = match pipeline_id {
        Some(p) => format!("{kind} {id} of pipeline {p}"),
        None => format!("{kind} {id}"),
    };
    let data =
        data().map_err(|e| corrupt(format!("{owner} has an unreadable data column: {e}")))?;
    let record: T = serde_json::from_str(&data)
        .map_err(|e| corrupt(format!("{owner} cannot be decoded: {e}")))?;
    let (record_pipeline, record_id) = ids(&record);
    if record_id != id || pipeline_id.is_some_and(|p| p != record_pipeline) {
        return Err(corrupt(format!(
            "{owner} holds the record of {kind} {record_id} of pipeline {record_pipeline}"
        )));
    }
    Ok(record)
}

/// What a pipeline row's `data` holds, borrowed from the record: encoding copies no definition
/// unless it has secrets to seal.
#[derive(Serialize)]
pub(crate) struct PipelineData<'a> {
    pipeline_id: &'a str,
    name: &'a str,
    unique_id: &'a str,
    account_id: &'a str,
    state: &'a PipelineState,
    created_at: &'a NaiveDateTime,
    definition: Option<Cow<'a, PipelineDefinition>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    active_definition: Option<Cow<'a, PipelineDefinition>>,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    active_is_latest: bool,
    fields: &'a BTreeMap<String, String>,
    version: u64,
}

impl<'a> PipelineData<'a> {
    /// The row of `record`, its secret values sealed by `sealer` (kept as they are without
    /// one: stores in tests and in memory).
    pub(crate) fn of(record: &'a PipelineRecord, sealer: Option<&Sealer>) -> Self {
        let same =
            record.active_definition.is_some() && record.active_definition == record.definition;
        let seal = |definition: &'a PipelineDefinition| match sealer {
            Some(sealer) => sealer.seal_definition(&record.pipeline_id, definition),
            None => Cow::Borrowed(definition),
        };
        PipelineData {
            pipeline_id: &record.pipeline_id,
            name: &record.name,
            unique_id: &record.unique_id,
            account_id: &record.account_id,
            state: &record.state,
            created_at: &record.created_at,
            definition: record.definition.as_ref().map(seal),
            active_definition: if same {
                None
            } else {
                record.active_definition.as_ref().map(seal)
            },
            active_is_latest: same,
            fields: &record.fields,
            version: record.version,
        }
    }
}

/// A pipeline row's `data` as read back, in every form it was ever written in.
#[derive(Deserialize)]
pub(crate) struct StoredPipeline {
    pipeline_id: String,
    name: String,
    unique_id: String,
    account_id: String,
    state: PipelineState,
    created_at: NaiveDateTime,
    definition: Option<PipelineDefinition>,
    #[serde(default)]
    active_definition: Option<PipelineDefinition>,
    #[serde(default)]
    active_is_latest: bool,
    fields: BTreeMap<String, String>,
    version: u64,
}

impl StoredPipeline {
    pub(crate) fn pipeline_id(&self) -> &str {
        &self.pipeline_id
    }

    /// The record, with its sealed values opened by `sealer`; `location` names the database
    /// in errors.
    pub(crate) fn into_record(
        mut self,
        sealer: Option<&Sealer>,
        location: &str,
    ) -> StoreResult<PipelineRecord> {
        let pipeline_id = &self.pipeline_id;
        for definition in [&mut self.definition, &mut self.active_definition]
            .into_iter()
            .flatten()
        {
            let opened = match sealer {
                Some(sealer) => sealer.open_definition(pipeline_id, definition),
                None if holds_sealed(definition) => {
                    Err("its secrets are sealed, and this process has no secret key".to_owned())
                }
                None => Ok(()),
            };
            opened.map_err(|why| {
                StoreError::Corrupt(format!(
                    "pipeline {pipeline_id} cannot be read (in {location}): {why}"
                ))
            })?;
        }
        let active_definition = if self.active_is_latest {
            self.definition.clone()
        } else {
            self.active_definition
        };
        Ok(PipelineRecord {
            pipeline_id: self.pipeline_id,
            name: self.name,
            unique_id: self.unique_id,
            account_id: self.account_id,
            state: self.state,
            created_at: self.created_at,
            definition: self.definition,
            active_definition,
            fields: self.fields,
            version: self.version,
        })
    }
}

#[cfg(test)]
mod tests {
    use serde_json::{Value, json};
    use sluice_model::{Field, PipelineObject};

    use super::*;

    fn definition(command: &str) -> PipelineDefinition {
        PipelineDefinition {
            pipeline_objects: vec![PipelineObject {
                id: "A".into(),
                name: "A".into(),
                fields: vec![Field::string("command", command)],
            }],
            ..PipelineDefinition::default()
        }
    }

    /// `definition(command)` as the model writes it.
    fn definition_json(command: &str) -> Value {
        json!({"pipelineObjects": [
            {"id": "A", "name": "A", "fields": [{"key": "command", "stringValue": command}]}
        ]})
    }

    fn record(
        latest: Option<PipelineDefinition>,
        active: Option<PipelineDefinition>,
    ) -> PipelineRecord {
        let at = chrono::NaiveDate::from_ymd_opt(2026, 1, 1)
            .unwrap()
            .and_hms_opt(0, 0, 0)
            .unwrap();
        let mut record = PipelineRecord::new_local("df-1", at);
        record.definition = latest;
        record.active_definition = active;
        record
    }

    fn decode(data: &str) -> PipelineRecord {
        serde_json::from_str::<StoredPipeline>(data)
            .unwrap_or_else(|e| panic!("{e}: {data}"))
            .into_record(None, "test")
            .unwrap()
    }

    #[test]
    fn time_keys_sort_as_times() {
        let times = [
            sluice_engine::conformance::at((999, 1, 1), (0, 0, 0), 0),
            sluice_engine::conformance::at((2023, 12, 31), (23, 59, 59), 999_999_999),
            sluice_engine::conformance::at((2024, 1, 1), (0, 0, 0), 0),
            sluice_engine::conformance::at((2024, 1, 1), (0, 0, 0), 1),
            sluice_engine::conformance::at((2024, 1, 1), (0, 0, 0), 100_000_000),
            sluice_engine::conformance::at((2024, 1, 1), (0, 0, 1), 0),
        ];
        let keys: Vec<String> = times.iter().map(|t| time_key(*t)).collect();
        let mut sorted = keys.clone();
        sorted.sort();
        assert_eq!(keys, sorted);
        assert_eq!(keys[2], "2024-01-01T00:00:00.000000000");
    }

    #[test]
    fn versions_keep_their_bits_in_the_column() {
        for version in [0, 1, i64::MAX as u64, (1 << 63) + 5, u64::MAX] {
            assert_eq!(version_from_column(version_to_column(version)), version);
        }
    }

    #[test]
    fn an_active_definition_equal_to_the_latest_is_stored_once_and_read_back() {
        let a = || Some(definition("a"));
        let b = || Some(definition("b"));
        // (latest, active, definitions in the row, `active_is_latest` in the row)
        let cases = [
            (None, None, 0, None),
            (a(), None, 1, None),
            (None, a(), 1, None),
            (a(), a(), 1, Some(true)),
            (b(), a(), 2, None),
        ];
        for (latest, active, stored, flag) in cases {
            let record = record(latest, active);
            let data = serde_json::to_string(&PipelineData::of(&record, None)).unwrap();
            assert_eq!(
                data.matches("\"pipelineObjects\"").count(),
                stored,
                "{data}"
            );
            let row: Value = serde_json::from_str(&data).unwrap();
            assert_eq!(row.get("active_is_latest"), flag.map(Value::Bool).as_ref());
            assert_eq!(decode(&data), record, "{data}");
        }
    }

    #[test]
    fn rows_of_every_earlier_form_still_read() {
        let row = |definitions: Value| {
            let mut row = json!({
                "pipeline_id": "df-1", "name": "df-1", "unique_id": "df-1",
                "account_id": "local", "state": "PENDING",
                "created_at": "2026-01-01T00:00:00", "fields": {}, "version": 0,
            });
            row.as_object_mut()
                .unwrap()
                .extend(definitions.as_object().unwrap().clone());
            row.to_string()
        };
        let cases = [
            // Before the flag existed: both definitions, even when equal.
            (
                json!({"definition": definition_json("a"),
                       "active_definition": definition_json("a")}),
                record(Some(definition("a")), Some(definition("a"))),
            ),
            (
                json!({"definition": definition_json("b"),
                       "active_definition": definition_json("a")}),
                record(Some(definition("b")), Some(definition("a"))),
            ),
            (
                json!({"definition": definition_json("a")}),
                record(Some(definition("a")), None),
            ),
            // With the flag.
            (
                json!({"definition": definition_json("a"), "active_is_latest": true}),
                record(Some(definition("a")), Some(definition("a"))),
            ),
        ];
        for (definitions, expected) in cases {
            assert_eq!(decode(&row(definitions)), expected);
        }
    }
}
