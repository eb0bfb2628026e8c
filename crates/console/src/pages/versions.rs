//! The definition: the active and latest versions side by side as a diff, object by object,
//! with the latest version's validation errors next to the objects they concern; uploading a
//! new version; activating it (parameter values, an optional start time) and deactivating
//! (with or without cancelling running work).

use std::collections::{BTreeMap, HashMap};
use std::fmt::Write as _;

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde::Deserialize;
use sluice_model::ops::{
    ActivatePipelineInput, DeactivatePipelineInput, Operation, PutPipelineDefinitionInput,
    Timestamp,
};
use sluice_model::time::parse_datetime;
use sluice_model::{FieldValue, ParameterValue, PipelineDefinition, PipelineObject};

use crate::Console;
use crate::actions::call;
use crate::auth::{Signed, Submitted};
use crate::html::{
    csrf_field, document, esc, notice, object_url, pipeline_url, see_other, shown_value,
    with_notice,
};
use crate::pages::graph::load;
use crate::pages::pipelines::put_definition;
use crate::pages::{Tab, api_error, header};

#[derive(Debug, Default, Deserialize)]
pub(crate) struct VersionsQuery {
    notice: Option<String>,
}

/// An object's fields as `key → values`, secrets masked.
fn fields(object: &PipelineObject) -> BTreeMap<String, Vec<String>> {
    let mut map: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for field in &object.fields {
        let value = match &field.value {
            FieldValue::String(text) => shown_value(&field.key, text).to_owned(),
            FieldValue::Ref(target) => format!("\u{2192} {target}"),
        };
        map.entry(field.key.clone()).or_default().push(value);
    }
    map
}

/// One side of a changed object: every field, the ones that differ from the other side
/// marked (with a sign, not only a colour).
fn side(
    mine: &BTreeMap<String, Vec<String>>,
    other: &BTreeMap<String, Vec<String>>,
    sign: &str,
) -> String {
    let mut html = String::from("<dl class=\"object\">");
    for (key, values) in mine {
        let changed = other.get(key) != Some(values);
        let (class, mark) = if changed {
            (" class=\"changed\"", sign)
        } else {
            ("", "")
        };
        let _ = write!(
            html,
            "<div{class}><dt>{mark}{}</dt><dd>{}</dd></div>",
            esc(key),
            esc(&values.join(", "))
        );
    }
    html.push_str("</dl>");
    html
}

/// The diff of `active` and `latest`, with `errors` and `warnings` of the latest version by
/// object id.
pub(crate) fn diff(
    pipeline_id: &str,
    active: Option<&PipelineDefinition>,
    latest: Option<&PipelineDefinition>,
    errors: &HashMap<String, Vec<String>>,
    warnings: &HashMap<String, Vec<String>>,
) -> String {
    let empty = Vec::new();
    let active_objects = active.map_or(&empty, |d| &d.pipeline_objects);
    let latest_objects = latest.map_or(&empty, |d| &d.pipeline_objects);
    let before: HashMap<&str, &PipelineObject> =
        active_objects.iter().map(|o| (o.id.as_str(), o)).collect();
    let after: HashMap<&str, &PipelineObject> =
        latest_objects.iter().map(|o| (o.id.as_str(), o)).collect();
    let mut ids: Vec<&str> = latest_objects.iter().map(|o| o.id.as_str()).collect();
    ids.extend(
        active_objects
            .iter()
            .map(|o| o.id.as_str())
            .filter(|id| !after.contains_key(id)),
    );
    // Errors about ids that are not objects (the pipeline, a parameter) still get a row.
    let mut orphan: Vec<&str> = errors
        .keys()
        .chain(warnings.keys())
        .map(String::as_str)
        .filter(|id| !after.contains_key(id) && !before.contains_key(id))
        .collect();
    orphan.sort_unstable();
    orphan.dedup();
    let mut changed_rows = String::new();
    let mut same_rows = String::new();
    let mut same = 0;
    let notes = |id: &str| {
        let mut html = String::new();
        for (list, class, label) in [
            (errors, "errors", "error"),
            (warnings, "warnings", "warning"),
        ] {
            if let Some(items) = list.get(id) {
                let _ = write!(html, "<ul class=\"{class}\" data-for=\"{}\">", esc(id));
                for item in items {
                    let _ = write!(html, "<li><b>{label}:</b> {}</li>", esc(item));
                }
                html.push_str("</ul>");
            }
        }
        html
    };
    for id in ids.into_iter().chain(orphan) {
        let old = before.get(id).map(|o| fields(o));
        let new = after.get(id).map(|o| fields(o));
        let (state, left, right) = match (&old, &new) {
            (Some(o), Some(n)) if o == n => ("unchanged", side(o, n, ""), side(n, o, "")),
            (Some(o), Some(n)) => ("changed", side(o, n, "\u{2212} "), side(n, o, "+ ")),
            (Some(o), None) => (
                "removed",
                side(o, &BTreeMap::new(), "\u{2212} "),
                String::new(),
            ),
            (None, Some(n)) => ("added", String::new(), side(n, &BTreeMap::new(), "+ ")),
            (None, None) => ("note", String::new(), String::new()),
        };
        let notes = notes(id);
        let link = if new.is_some() || old.is_some() {
            format!(
                "<a href=\"{}\">{}</a>",
                esc(&object_url(pipeline_id, id)),
                esc(id)
            )
        } else {
            esc(id).to_string()
        };
        let row = format!(
            "<tr class=\"d-{state}\" data-object=\"{id_attr}\"><th scope=\"row\">{link}<br><small>{state}</small></th>\
             <td>{left}</td><td>{notes}{right}</td></tr>",
            id_attr = esc(id)
        );
        if state == "unchanged" && notes.is_empty() {
            same += 1;
            same_rows.push_str(&row);
        } else {
            changed_rows.push_str(&row);
        }
    }
    let mut html = String::from(
        "<table class=\"diff\" id=\"diff\"><thead><tr><th scope=\"col\">Object</th>\
         <th scope=\"col\">Active</th><th scope=\"col\">Latest</th></tr></thead><tbody>",
    );
    html.push_str(&changed_rows);
    html.push_str("</tbody></table>");
    if same > 0 {
        let _ = write!(
            html,
            "<details><summary>{same} unchanged objects</summary><table class=\"diff\"><tbody>{same_rows}</tbody></table></details>"
        );
    }
    html
}

fn by_id(list: Option<Vec<(String, Vec<String>)>>) -> HashMap<String, Vec<String>> {
    let mut map: HashMap<String, Vec<String>> = HashMap::new();
    for (id, items) in list.unwrap_or_default() {
        map.entry(id).or_default().extend(items);
    }
    map
}

pub(crate) async fn page(
    State(state): State<Console>,
    signed: Signed,
    Path(id): Path<String>,
    Query(query): Query<VersionsQuery>,
) -> Response {
    let snapshot = match load(&state, &signed, &id).await {
        Ok((_, snapshot)) => snapshot,
        Err(response) => return response,
    };
    let record = &snapshot.record;
    let principal = signed.principal();
    let (errors, warnings) = match &record.definition {
        Some(latest) => {
            let input = PutPipelineDefinitionInput {
                pipeline_id: id.clone(),
                pipeline_objects: latest.pipeline_objects.clone(),
                parameter_objects: Some(latest.parameter_objects.clone()),
                parameter_values: Some(latest.parameter_values.clone()),
            };
            match state
                .service
                .validate_pipeline_definition(principal, input)
                .await
            {
                Ok(out) => (
                    by_id(
                        out.validation_errors
                            .map(|l| l.into_iter().map(|e| (e.id, e.errors)).collect()),
                    ),
                    by_id(
                        out.validation_warnings
                            .map(|l| l.into_iter().map(|w| (w.id, w.warnings)).collect()),
                    ),
                ),
                Err(error) => return api_error(&signed, &error),
            }
        }
        None => (HashMap::new(), HashMap::new()),
    };
    let csrf = csrf_field(&signed.session.csrf);
    let mut body = header(&id, &snapshot, Tab::Definition);
    body.push_str(&notice(query.notice.as_deref()));
    let error_count: usize = errors.values().map(Vec::len).sum();
    if error_count > 0 {
        let _ = write!(
            body,
            "<p class=\"error\" role=\"alert\" id=\"validation-summary\">The latest definition has {error_count} \
             validation error(s), shown next to their objects below; it cannot be activated until they are fixed.</p>"
        );
    } else if record.definition.is_some() {
        body.push_str(
            "<p class=\"ok\" id=\"validation-summary\">The latest definition is valid.</p>",
        );
    }
    let parameter_values = record
        .definition
        .as_ref()
        .map(|d| {
            d.parameter_values
                .iter()
                .map(|v| format!("{}={}", v.id, shown_value(&v.id, &v.string_value)))
                .collect::<Vec<_>>()
                .join("\n")
        })
        .unwrap_or_default();
    let _ = write!(
        body,
        "<section class=\"controls\"><form method=\"post\" action=\"{activate}\" id=\"activate-form\">{csrf}\
         <h2>Activate the latest definition</h2>\
         <label>Parameter values, one id=value a line <textarea name=\"parameter_values\" rows=\"3\">{values}</textarea></label>\
         <label>Start time (UTC, optional) <input name=\"start\" id=\"activate-start\" placeholder=\"2024-01-01T00:00:00\"></label>\
         <button type=\"submit\" id=\"activate\">Activate</button></form>\
         <form method=\"post\" action=\"{deactivate}\" id=\"deactivate-form\">{csrf}<h2>Deactivate</h2>\
         <label class=\"check\"><input type=\"checkbox\" name=\"cancel_active\" value=\"true\"> also cancel running work</label>\
         <button type=\"submit\" id=\"deactivate\">Deactivate</button></form></section>",
        activate = esc(&pipeline_url(&id, "/activate")),
        deactivate = esc(&pipeline_url(&id, "/deactivate")),
        values = esc(&parameter_values),
    );
    body.push_str("<h2>Active \u{2194} latest</h2>");
    body.push_str(&diff(
        &id,
        record.active_definition.as_ref(),
        record.definition.as_ref(),
        &errors,
        &warnings,
    ));
    let _ = write!(
        body,
        "<section class=\"upload\"><h2>Upload a new version</h2>\
         <form method=\"post\" action=\"{upload}\" id=\"upload-form\">{csrf}\
         <label>Definition file <input type=\"file\" id=\"upload-file\" accept=\".json,application/json\" data-into=\"upload-definition\"></label>\
         <label>Definition <textarea name=\"definition\" id=\"upload-definition\" rows=\"10\" required></textarea></label>\
         <button type=\"submit\" id=\"upload\">Upload</button></form></section>",
        upload = esc(&pipeline_url(&id, "/definition")),
    );
    document(
        &format!("{} definition", record.name),
        Some(&signed.viewer()),
        None,
        &body,
    )
}

pub(crate) async fn upload(
    State(state): State<Console>,
    Path(id): Path<String>,
    Submitted { signed, form }: Submitted,
) -> Response {
    if let Err(error) = crate::data::owned(&state.service, signed.principal(), &id).await {
        return api_error(&signed, &error);
    }
    match form.text("definition") {
        Some(text) => put_definition(&state, &signed, &id, text).await,
        None => signed.error(
            StatusCode::BAD_REQUEST,
            "Choose a definition file or paste one.",
        ),
    }
}

/// `id=value` lines as parameter values.
fn parameter_values(text: &str) -> Result<Vec<ParameterValue>, String> {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(|line| {
            let (id, value) = line
                .split_once('=')
                .ok_or_else(|| format!("'{line}' is not id=value"))?;
            Ok(ParameterValue {
                id: id.trim().to_owned(),
                string_value: value.trim().to_owned(),
            })
        })
        .collect()
}

pub(crate) async fn activate(
    State(state): State<Console>,
    Path(id): Path<String>,
    Submitted { signed, form }: Submitted,
) -> Response {
    let values = match parameter_values(form.get("parameter_values").unwrap_or_default()) {
        Ok(values) => values,
        Err(message) => {
            return signed.error(
                StatusCode::BAD_REQUEST,
                &format!("Parameter values: {message}."),
            );
        }
    };
    let start = match form.text("start").map(parse_datetime) {
        None => None,
        Some(Ok(at)) => Some(Timestamp(at)),
        Some(Err(_)) => {
            return signed.error(
                StatusCode::BAD_REQUEST,
                "The start time must look like 2024-01-01T00:00:00 (UTC).",
            );
        }
    };
    let principal = signed.principal();
    let input = ActivatePipelineInput {
        pipeline_id: id.clone(),
        parameter_values: (!values.is_empty()).then_some(values),
        start_timestamp: start,
    };
    let done = call(
        &state,
        principal,
        Operation::ActivatePipeline,
        Some(id.as_str()),
        input,
        |input| state.service.activate_pipeline(principal, input),
    )
    .await;
    let back = pipeline_url(&id, "/definition");
    match done {
        Ok(_) => see_other(&with_notice(
            &pipeline_url(&id, "/runs"),
            "Pipeline activated.",
        )),
        Err(error) if error.aws_type() == "InvalidRequestException" => see_other(&with_notice(
            &back,
            &format!("Activation refused: {}", error.message()),
        )),
        Err(error) => api_error(&signed, &error),
    }
}

pub(crate) async fn deactivate(
    State(state): State<Console>,
    Path(id): Path<String>,
    Submitted { signed, form }: Submitted,
) -> Response {
    let cancel = form.get("cancel_active") == Some("true");
    let principal = signed.principal();
    let input = DeactivatePipelineInput {
        pipeline_id: id.clone(),
        cancel_active: Some(cancel),
    };
    let done = call(
        &state,
        principal,
        Operation::DeactivatePipeline,
        Some(id.as_str()),
        input,
        |input| state.service.deactivate_pipeline(principal, input),
    )
    .await;
    match done {
        Ok(_) => see_other(&with_notice(
            &pipeline_url(&id, "/definition"),
            if cancel {
                "Pipeline deactivated; running work was cancelled."
            } else {
                "Pipeline deactivated; running work finishes."
            },
        )),
        Err(error) => api_error(&signed, &error),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sluice_model::file::parse_definition_file;

    #[test]
    fn the_diff_marks_changes_and_places_errors_by_object() {
        let active = parse_definition_file(
            r#"{"objects": [{"id": "A", "type": "ShellCommandActivity", "command": "echo 1"},
                            {"id": "Gone", "type": "ShellCommandActivity", "command": "true"},
                            {"id": "Db", "type": "JdbcDatabase", "*password": "hunter2", "connectionString": "x", "jdbcDriverClass": "y"}]}"#,
        )
        .unwrap()
        .definition;
        let latest = parse_definition_file(
            r#"{"objects": [{"id": "A", "type": "ShellCommandActivity", "command": "echo 2"},
                            {"id": "New", "type": "ShellCommandActivity"},
                            {"id": "Db", "type": "JdbcDatabase", "*password": "hunter2", "connectionString": "x", "jdbcDriverClass": "y"}]}"#,
        )
        .unwrap()
        .definition;
        let errors = HashMap::from([("New".to_owned(), vec!["missing command".to_owned()])]);
        let html = diff(
            "df-1",
            Some(&active),
            Some(&latest),
            &errors,
            &HashMap::new(),
        );
        assert!(
            html.contains("class=\"d-changed\" data-object=\"A\""),
            "{html}"
        );
        assert!(html.contains("+ command"), "{html}");
        assert!(
            html.contains("class=\"d-added\" data-object=\"New\""),
            "{html}"
        );
        assert!(
            html.contains("class=\"d-removed\" data-object=\"Gone\""),
            "{html}"
        );
        assert!(
            html.contains(
                "<ul class=\"errors\" data-for=\"New\"><li><b>error:</b> missing command"
            ),
            "{html}"
        );
        assert!(!html.contains("hunter2"), "a secret was shown: {html}");
        assert!(html.contains("1 unchanged objects"), "{html}");
    }

    #[test]
    fn parameter_values_are_lines_of_id_and_value() {
        let values = parameter_values("myA = 1\n\nmyB=x=y\n").unwrap();
        assert_eq!(values.len(), 2);
        assert_eq!(values[1].string_value, "x=y");
        assert!(
            parameter_values("nonsense")
                .unwrap_err()
                .contains("nonsense")
        );
    }
}
