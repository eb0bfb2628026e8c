//! What is known before a run about why an attempt would fail on a runner with these
//! settings, although the definition is valid: `sluice validate` and `sluice run` show these
//! as warnings naming the object, so a user learns them before the first attempt does.
//!
//! Design decisions:
//! * Only certain failures are reported: a connector this build leaves out, a database that
//!   names an `rdsInstanceId` or `clusterId` the settings do not resolve, a copy between node
//!   types no executor moves data between, Spark missing for a type that needs it. Whatever
//!   depends on the data itself (a missing table, a refused password) is left to the run.
//! * The definition's own objects are read as written (`type` and references on the object,
//!   not inherited), as validation reports per object.

use sluice_data::DataSettings;
use sluice_model::{FieldValue, PipelineObject};

use crate::exec::emr::spark::missing_spark;

/// Each problem as `(object id, "CODE: message")`.
pub fn preflight(objects: &[PipelineObject], settings: &DataSettings) -> Vec<(String, String)> {
    let by_id = |id: &str| objects.iter().find(|o| o.id == id);
    let type_of = |id: &str| by_id(id).and_then(PipelineObject::object_type);
    let mut out = Vec::new();
    for object in objects {
        let Some(kind) = object.object_type() else {
            continue;
        };
        if let Some(message) = left_out_connector(kind) {
            out.push((object.id.clone(), format!("NOT_IN_THIS_BUILD: {message}")));
        }
        if let Some(message) = unresolved_database(object, kind, settings) {
            out.push((object.id.clone(), format!("SETTING_MISSING: {message}")));
        }
        if kind == "CopyActivity" {
            for role in ["input", "output"] {
                let Some(node) = object.values(role).find_map(FieldValue::as_ref_id) else {
                    continue;
                };
                match type_of(node) {
                    Some(t) if copyable(t) => {}
                    Some(t) => out.push((
                        object.id.clone(),
                        format!(
                            "NOT_SUPPORTED: CopyActivity copies between S3DataNode and SQL data \
                             nodes; its {role} {node} is a {t} (use HiveCopyActivity or \
                             RedshiftCopyActivity for DynamoDB and Redshift)"
                        ),
                    )),
                    None => {}
                }
            }
        }
    }
    for (id, message) in missing_spark(objects, &settings.spark) {
        out.push((id, format!("SPARK_NOT_FOUND: {message}")));
    }
    out
}

fn copyable(node_type: &str) -> bool {
    matches!(
        node_type,
        "S3DataNode" | "SqlDataNode" | "MySqlDataNode" | "RedshiftDataNode"
    )
}

/// The connector a type needs when this build was compiled without it.
fn left_out_connector(kind: &str) -> Option<String> {
    let dynamodb = matches!(
        kind,
        "DynamoDBDataNode"
            | "DynamoDBDataExists"
            | "DynamoDBTableExists"
            | "HiveCopyActivity"
            | "DynamoDBExportDataFormat"
    );
    if dynamodb && !cfg!(feature = "dynamodb") {
        return Some(sluice_data::left_out(kind, "DynamoDB", "dynamodb"));
    }
    if kind == "SnsAlarm" && !cfg!(feature = "sns") {
        return Some(sluice_data::left_out(kind, "SNS", "sns"));
    }
    None
}

/// An `RdsDatabase`, or a `RedshiftDatabase` without a `connectionString`, located by an id
/// the settings do not know.
fn unresolved_database(
    object: &PipelineObject,
    kind: &str,
    settings: &DataSettings,
) -> Option<String> {
    let has = |key: &str| object.values(key).next().is_some();
    let (field, known, setting, alternative) = match kind {
        "RdsDatabase" => (
            "rdsInstanceId",
            &settings.sql.rds_instances,
            "rdsInstances",
            "",
        ),
        "RedshiftDatabase" if !has("connectionString") => (
            "clusterId",
            &settings.sql.redshift_clusters,
            "redshiftClusters",
            ", or give a connectionString",
        ),
        _ => return None,
    };
    let id = object.values(field).find_map(FieldValue::as_str)?;
    if id.contains("#{") || known.contains_key(id) {
        return None;
    }
    Some(format!(
        "{kind} {} names {field} '{id}', which the settings do not resolve; add \
         \"data\": {{\"sql\": {{\"{setting}\": {{\"{id}\": {{\"host\": …}}}}}}}} to the settings \
         file (--settings){alternative}",
        object.id
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use sluice_model::Field;

    fn object(id: &str, fields: &[(&str, &str)]) -> PipelineObject {
        PipelineObject {
            id: id.into(),
            name: id.into(),
            fields: fields
                .iter()
                .map(|(k, v)| match v.strip_prefix("->") {
                    Some(target) => Field::reference(*k, target),
                    None => Field::string(*k, *v),
                })
                .collect(),
        }
    }

    #[test]
    fn names_unresolved_database_ids_and_copies_no_executor_moves() {
        let objects = [
            object(
                "Rds",
                &[("type", "RdsDatabase"), ("rdsInstanceId", "orders")],
            ),
            object(
                "Direct",
                &[
                    ("type", "RedshiftDatabase"),
                    ("clusterId", "elsewhere"),
                    ("connectionString", "jdbc:postgresql://h/db"),
                ],
            ),
            object(
                "Warehouse",
                &[("type", "RedshiftDatabase"), ("clusterId", "wh")],
            ),
            object("Table", &[("type", "DynamoDBDataNode"), ("tableName", "t")]),
            object(
                "Files",
                &[("type", "S3DataNode"), ("directoryPath", "s3://b/")],
            ),
            object(
                "Copy",
                &[
                    ("type", "CopyActivity"),
                    ("input", "->Table"),
                    ("output", "->Files"),
                ],
            ),
        ];
        let mut settings = DataSettings::default();
        let all = preflight(&objects, &settings);
        // A build without DynamoDB also says so about the DynamoDB node.
        let left_out = all
            .iter()
            .any(|(id, m)| id == "Table" && m.starts_with("NOT_IN_THIS_BUILD: "));
        assert_eq!(left_out, !cfg!(feature = "dynamodb"), "{all:?}");
        let found: Vec<(String, String)> = all
            .into_iter()
            .filter(|(_, m)| !m.starts_with("NOT_IN_THIS_BUILD: "))
            .collect();
        let ids: Vec<&str> = found.iter().map(|(id, _)| id.as_str()).collect();
        assert_eq!(ids, ["Rds", "Warehouse", "Copy"], "{found:?}");
        assert!(
            found[0]
                .1
                .starts_with("SETTING_MISSING: RdsDatabase Rds names rdsInstanceId 'orders'")
        );
        assert!(found[0].1.contains("\"rdsInstances\""), "{}", found[0].1);
        assert!(
            found[2].1.contains("its input Table is a DynamoDBDataNode"),
            "{}",
            found[2].1
        );

        let endpoint: sluice_data::sql::SqlEndpoint =
            serde_json::from_str(r#"{"host": "127.0.0.1"}"#).unwrap();
        settings
            .sql
            .rds_instances
            .insert("orders".into(), endpoint.clone());
        settings.sql.redshift_clusters.insert("wh".into(), endpoint);
        let ids: Vec<String> = preflight(&objects, &settings)
            .into_iter()
            .filter(|(_, m)| !m.starts_with("NOT_IN_THIS_BUILD: "))
            .map(|(id, _)| id)
            .collect();
        assert_eq!(ids, ["Copy"]);
    }
}
