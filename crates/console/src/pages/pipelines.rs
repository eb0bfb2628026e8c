//! The pipelines of the signed-in account: search and filters, create (with an optional
//! definition file), delete.

use std::fmt::Write as _;

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde::Deserialize;
use sluice_model::ops::{
    CreatePipelineInput, DeletePipelineInput, Operation, PutPipelineDefinitionInput,
};
use sluice_model::time::format_datetime;

use crate::Console;
use crate::actions::call;
use crate::auth::{Signed, Submitted};
use crate::data::{self, Snapshot};
use crate::html::{
    BASE, badge, csrf_field, document, esc, notice, pipeline_url, see_other, with_notice,
};
use crate::pages::{api_error, counts, time};

#[derive(Debug, Default, Deserialize)]
pub(crate) struct Filters {
    #[serde(default)]
    q: String,
    #[serde(default)]
    state: String,
    #[serde(default)]
    health: String,
    #[serde(default)]
    tag: String,
    notice: Option<String>,
}

impl Filters {
    fn keeps(&self, id: &str, snapshot: &Snapshot) -> bool {
        let q = self.q.trim().to_lowercase();
        let name = snapshot.record.name.to_lowercase();
        if !q.is_empty() && !name.contains(&q) && !id.to_lowercase().contains(&q) {
            return false;
        }
        if !self.state.is_empty() && snapshot.record.state.as_str() != self.state {
            return false;
        }
        let health = snapshot.health.as_ref().map_or("NONE", |h| h.status);
        if !self.health.is_empty() && health != self.health {
            return false;
        }
        let tag = self.tag.trim();
        if !tag.is_empty() {
            let (key, value) = match tag.split_once('=') {
                Some((k, v)) => (k.trim(), Some(v.trim())),
                None => (tag, None),
            };
            return snapshot
                .tags()
                .iter()
                .any(|(k, v)| k == key && value.is_none_or(|value| v == value));
        }
        true
    }
}

fn options(name: &str, current: &str, values: &[&str]) -> String {
    let mut html =
        format!("<select name=\"{name}\" id=\"filter-{name}\"><option value=\"\">any</option>");
    for value in values {
        let selected = if *value == current { " selected" } else { "" };
        let _ = write!(html, "<option{selected}>{value}</option>");
    }
    html.push_str("</select>");
    html
}

pub(crate) async fn list(
    State(state): State<Console>,
    signed: Signed,
    Query(filters): Query<Filters>,
) -> Response {
    let principal = signed.principal();
    let all = match data::pipelines(&state.service, principal).await {
        Ok(all) => all,
        Err(error) => return api_error(&signed, &error),
    };
    let mut rows = String::new();
    let mut shown = 0;
    for (id, _) in &all {
        let Ok((_, snapshot)) = state.snapshots.get(&state.service, id).await else {
            continue;
        };
        if !filters.keeps(id, &snapshot) {
            continue;
        }
        shown += 1;
        let tags: String = snapshot
            .tags()
            .iter()
            .map(|(k, v)| format!("<span class=\"tag\">{}={}</span>", esc(k), esc(v)))
            .collect::<Vec<_>>()
            .join(" ");
        let last = snapshot.last_run.as_ref().map_or_else(
            || "\u{2014}".to_owned(),
            |(status, at, _)| {
                format!(
                    "{} <small>{}</small>",
                    badge(status.as_str()),
                    format_datetime(*at)
                )
            },
        );
        let _ = write!(
            rows,
            "<tr data-pipeline=\"{id_attr}\"><td><a href=\"{url}\">{name}</a></td><td><code>{id_attr}</code></td>\
             <td>{state}</td><td>{health}</td><td>{tags}</td><td>{last}</td><td>{next}</td><td>{counts}</td>\
             <td><form method=\"post\" action=\"{delete}\" data-confirm=\"Delete pipeline {id_attr} and all its runs?\">{csrf}\
             <button type=\"submit\" class=\"danger\">Delete</button></form></td></tr>",
            id_attr = esc(id),
            url = esc(&pipeline_url(id, "")),
            name = esc(&snapshot.record.name),
            state = badge(snapshot.record.state.as_str()),
            health = snapshot
                .health
                .as_ref()
                .map_or_else(|| "\u{2014}".to_owned(), |h| badge(h.status)),
            next = time(snapshot.next_run),
            counts = counts(&snapshot.counts),
            delete = esc(&pipeline_url(id, "/delete")),
            csrf = csrf_field(&signed.session.csrf),
        );
    }
    let mut body = notice(filters.notice.as_deref());
    let _ = write!(
        body,
        "<h1>Pipelines</h1>\
         <form class=\"filters\" method=\"get\" action=\"{BASE}/\" role=\"search\">\
         <label>Search <input type=\"search\" name=\"q\" id=\"filter-q\" value=\"{q}\" placeholder=\"name or id\"></label>\
         <label>State {state}</label><label>Health {health}</label>\
         <label>Tag <input name=\"tag\" id=\"filter-tag\" value=\"{tag}\" placeholder=\"key or key=value\"></label>\
         <button type=\"submit\">Filter</button></form>\
         <p class=\"count\">{shown} of {total} pipelines</p>\
         <table class=\"list\" id=\"pipelines\"><thead><tr><th scope=\"col\">Name</th><th scope=\"col\">Id</th>\
         <th scope=\"col\">State</th><th scope=\"col\">Health</th><th scope=\"col\">Tags</th><th scope=\"col\">Last run</th>\
         <th scope=\"col\">Next run</th><th scope=\"col\">Instances</th><th scope=\"col\"><span class=\"sr\">Actions</span></th></tr></thead>\
         <tbody>{rows}</tbody></table>",
        q = esc(&filters.q),
        state = options(
            "state",
            &filters.state,
            &[
                "PENDING",
                "SCHEDULED",
                "INACTIVE",
                "FINISHED",
                "DEACTIVATING"
            ]
        ),
        health = options("health", &filters.health, &["HEALTHY", "ERROR", "NONE"]),
        tag = esc(&filters.tag),
        total = all.len(),
    );
    let _ = write!(
        body,
        "<section class=\"create\"><h2>Create a pipeline</h2>\
         <form method=\"post\" action=\"{BASE}/pipelines\" id=\"create-form\">{csrf}\
         <label>Name <input name=\"name\" id=\"create-name\" required></label>\
         <label>Unique id <input name=\"unique_id\" id=\"create-unique-id\" required \
         title=\"CreatePipeline's idempotency token: creating again with the same one returns the same pipeline\"></label>\
         <label>Definition file (optional) <input type=\"file\" accept=\".json,application/json\" data-into=\"create-definition\"></label>\
         <label>Definition <textarea name=\"definition\" id=\"create-definition\" rows=\"6\" \
         placeholder='{{\"objects\": [...]}}'></textarea></label>\
         <button type=\"submit\" id=\"create\">Create</button></form></section>",
        csrf = csrf_field(&signed.session.csrf)
    );
    document("Pipelines", Some(&signed.viewer()), None, &body)
}

pub(crate) async fn create(
    State(state): State<Console>,
    Submitted { signed, form }: Submitted,
) -> Response {
    let (Some(name), Some(unique_id)) = (form.text("name"), form.text("unique_id")) else {
        return signed.error(
            StatusCode::BAD_REQUEST,
            "A pipeline needs a name and a unique id.",
        );
    };
    let service = &state.service;
    let principal = signed.principal();
    let input = CreatePipelineInput {
        name: name.to_owned(),
        unique_id: unique_id.to_owned(),
        description: None,
        tags: None,
    };
    let created = call(
        &state,
        principal,
        Operation::CreatePipeline,
        None,
        input,
        |input| service.create_pipeline(principal, input),
    )
    .await;
    let id = match created {
        Ok(out) => out.pipeline_id,
        Err(error) => return api_error(&signed, &error),
    };
    match form.text("definition") {
        Some(text) => put_definition(&state, &signed, &id, text).await,
        None => see_other(&with_notice(
            &pipeline_url(&id, "/definition"),
            "Pipeline created.",
        )),
    }
}

/// Parses `text` (file or API form) and puts it as the pipeline's latest definition; then to
/// the definition page, which shows what validation found.
pub(crate) async fn put_definition(
    state: &Console,
    signed: &Signed,
    id: &str,
    text: &str,
) -> Response {
    let parsed = match sluice_model::file::parse_any_definition(text) {
        Ok(parsed) => parsed,
        Err(error) => {
            return signed.error(
                StatusCode::BAD_REQUEST,
                &format!("The definition file cannot be read: {error}"),
            );
        }
    };
    let definition = parsed.definition;
    let input = PutPipelineDefinitionInput {
        pipeline_id: id.to_owned(),
        pipeline_objects: definition.pipeline_objects,
        parameter_objects: Some(definition.parameter_objects),
        parameter_values: Some(definition.parameter_values),
    };
    let principal = signed.principal();
    let put = call(
        state,
        principal,
        Operation::PutPipelineDefinition,
        Some(id),
        input,
        |input| state.service.put_pipeline_definition(principal, input),
    )
    .await;
    match put {
        Ok(out) => {
            let message = if out.errored {
                "The definition was saved with errors: fix them before activating."
            } else {
                "The definition was saved and is valid."
            };
            see_other(&with_notice(&pipeline_url(id, "/definition"), message))
        }
        Err(error) => api_error(signed, &error),
    }
}

pub(crate) async fn delete(
    State(state): State<Console>,
    Path(id): Path<String>,
    Submitted { signed, .. }: Submitted,
) -> Response {
    let principal = signed.principal();
    let input = DeletePipelineInput {
        pipeline_id: id.clone(),
    };
    let deleted = call(
        &state,
        principal,
        Operation::DeletePipeline,
        Some(id.as_str()),
        input,
        |input| state.service.delete_pipeline(principal, input),
    )
    .await;
    match deleted {
        Ok(_) => see_other(&with_notice(
            &format!("{BASE}/"),
            &format!("Pipeline {id} deleted."),
        )),
        Err(error) => api_error(&signed, &error),
    }
}
