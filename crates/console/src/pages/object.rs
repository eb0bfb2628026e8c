//! One object of the definition (a node of the graph): its fields with secrets masked, and
//! for a component with instances, its recent instances and pause / resume.

use std::fmt::Write as _;

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use chrono::Duration;
use serde::Deserialize;
use sluice_model::time::format_datetime;

use crate::Console;
use crate::auth::Signed;
use crate::data::{self, GRID_COLUMNS, category, runs_instances, shortest_period};
use crate::html::{
    BASE, badge, csrf_field, document, enc, esc, instance_url, notice, object_url, pipeline_url,
    shown_value,
};
use crate::pages::api_error;

#[derive(Debug, Default, Deserialize)]
pub(crate) struct ObjectQuery {
    notice: Option<String>,
}

pub(crate) async fn page(
    State(state): State<Console>,
    signed: Signed,
    Path((id, object_id)): Path<(String, String)>,
    Query(query): Query<ObjectQuery>,
) -> Response {
    let service = &state.service;
    let name = match data::owned(service, signed.principal(), &id).await {
        Ok(name) => name,
        Err(error) => return api_error(&signed, &error),
    };
    let record = match data::record(service, &id).await {
        Ok(record) => record,
        Err(error) => return api_error(&signed, &error),
    };
    let Some(definition) = record
        .active_definition
        .as_ref()
        .or(record.definition.as_ref())
    else {
        return signed.error(
            StatusCode::NOT_FOUND,
            "This pipeline has no definition yet.",
        );
    };
    let Some(object) = definition
        .pipeline_objects
        .iter()
        .find(|o| o.id == object_id)
    else {
        return signed.error(
            StatusCode::NOT_FOUND,
            &format!("The definition of {id} has no object {object_id}."),
        );
    };
    let mut body = format!(
        "<nav class=\"crumbs\" aria-label=\"breadcrumb\"><a href=\"{BASE}/\">Pipelines</a> \u{203a} \
         <a href=\"{graph}\">{name}</a> \u{203a} object</nav>\
         <h1>{oid} <small>{kind}</small></h1>{notice}",
        graph = esc(&pipeline_url(&id, "")),
        name = esc(&name),
        oid = esc(&object.id),
        kind = esc(object.object_type().unwrap_or("")),
        notice = notice(query.notice.as_deref()),
    );
    body.push_str("<h2>Fields</h2><table class=\"fields\" id=\"fields\"><tbody>");
    for field in &object.fields {
        let value = match (field.value.as_str(), field.value.as_ref_id()) {
            (Some(text), _) => esc(shown_value(&field.key, text)).to_string(),
            (None, Some(target)) => format!(
                "<a href=\"{}\">\u{2192} {}</a>",
                esc(&object_url(&id, target)),
                esc(target)
            ),
            _ => String::new(),
        };
        let _ = write!(
            body,
            "<tr><th scope=\"row\">{}</th><td>{value}</td></tr>",
            esc(&field.key)
        );
    }
    body.push_str("</tbody></table>");
    if runs_instances(category(service.catalog(), object)) {
        let back = object_url(&id, &object.id);
        let _ = write!(
            body,
            "<form class=\"toolbar\" method=\"post\" action=\"{action}\">{csrf}\
             <input type=\"hidden\" name=\"ids\" value=\"{oid}\"><input type=\"hidden\" name=\"back\" value=\"{back}\">\
             <button name=\"action\" value=\"PAUSE\" id=\"pause\">Pause</button>\
             <button name=\"action\" value=\"RESUME\" id=\"resume\">Resume</button>\
             <a href=\"{runs}\">in the run grid</a></form>",
            action = esc(&pipeline_url(&id, "/status")),
            csrf = csrf_field(&signed.session.csrf),
            oid = esc(&object.id),
            back = esc(&back),
            runs = esc(&format!(
                "{}?component={}",
                pipeline_url(&id, "/runs"),
                enc(&object.id)
            )),
        );
        let period = shortest_period(definition).unwrap_or_else(|| Duration::days(1));
        let to = chrono::Utc::now().naive_utc() + period;
        let from = to - period * GRID_COLUMNS;
        match data::grid_window(service, &id, std::slice::from_ref(&object.id), from, to).await {
            Ok(window) => {
                let _ = write!(
                    body,
                    "<h2>Instances from {} to {}</h2><ul class=\"instances\" id=\"instances\">",
                    format_datetime(from),
                    format_datetime(to)
                );
                let mut cells: Vec<_> = window.cells.values().collect();
                cells.sort_by_key(|c| std::cmp::Reverse(c.0.scheduled_start));
                if cells.is_empty() {
                    body.push_str("<li>none in this window</li>");
                }
                for (instance, status) in cells {
                    let _ = write!(
                        body,
                        "<li><a href=\"{}\">{}</a> {}</li>",
                        esc(&instance_url(&id, &instance.instance_id)),
                        esc(&instance.instance_id),
                        badge(status.as_str())
                    );
                }
                body.push_str("</ul>");
            }
            Err(error) => return api_error(&signed, &error),
        }
    }
    document(&object.id, Some(&signed.viewer()), None, &body)
}
