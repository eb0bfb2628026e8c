//! How a pipeline record is encoded in the `data` column of its row.
//!
//! The active definition is written only when it differs from the latest one; a flag,
//! `active_is_latest`, says when they are the same. A definition of many thousand objects is
//! most of the record, and the record is written on every change of pipeline state. Rows
//! written before the flag existed carry both definitions, and read back as they were.

use std::collections::BTreeMap;

use chrono::NaiveDateTime;
use serde::{Deserialize, Serialize};
use sluice_engine::PipelineRecord;
use sluice_model::{PipelineDefinition, PipelineState};

/// What a pipeline row's `data` holds, borrowed from the record: encoding copies no definition.
#[derive(Serialize)]
pub(crate) struct PipelineData<'a> {
    pipeline_id: &'a str,
    name: &'a str,
    unique_id: &'a str,
    account_id: &'a str,
    state: &'a PipelineState,
    created_at: &'a NaiveDateTime,
    definition: &'a Option<PipelineDefinition>,
    #[serde(skip_serializing_if = "Option::is_none")]
    active_definition: Option<&'a PipelineDefinition>,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    active_is_latest: bool,
    fields: &'a BTreeMap<String, String>,
    version: u64,
}

impl<'a> PipelineData<'a> {
    pub(crate) fn of(record: &'a PipelineRecord) -> Self {
        let same =
            record.active_definition.is_some() && record.active_definition == record.definition;
        PipelineData {
            pipeline_id: &record.pipeline_id,
            name: &record.name,
            unique_id: &record.unique_id,
            account_id: &record.account_id,
            state: &record.state,
            created_at: &record.created_at,
            definition: &record.definition,
            active_definition: if same {
                None
            } else {
                record.active_definition.as_ref()
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

    pub(crate) fn into_record(self) -> PipelineRecord {
        let active_definition = if self.active_is_latest {
            self.definition.clone()
        } else {
            self.active_definition
        };
        PipelineRecord {
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
        }
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
            .into_record()
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
            let data = serde_json::to_string(&PipelineData::of(&record)).unwrap();
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
