//! The run grid: schedule intervals across, components down, each cell an instance in its
//! status (icon, short name and colour; retries and waiting reasons on hover), and the
//! operator's controls on the selected cells: rerun, cancel, mark finished, and pause or
//! resume on the selected components.
//!
//! The grid is a window: [`GRID_ROWS`] components at a time and a span of
//! [`data::GRID_COLUMNS`] of the shortest schedule period, which `earlier` and `later` move.
//! Each window is one indexed read per shown component, so a pipeline with a long history
//! opens as fast as a new one.

use std::fmt::Write as _;

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use chrono::{Duration, NaiveDateTime};
use serde::Deserialize;
use sluice_model::ops::{Operation, SetStatusInput};
use sluice_model::time::{format_datetime, parse_datetime};

use crate::Console;
use crate::actions::call;
use crate::auth::{Signed, Submitted};
use crate::data::{self, GRID_COLUMNS, GRID_ROWS, category, runs_instances, shortest_period};
use crate::html::{
    BASE, badge, csrf_field, document, enc, esc, instance_url, notice, object_url, pipeline_url,
    see_other, status_icon, with_notice,
};
use crate::pages::graph::load;
use crate::pages::{Tab, api_error, header};

#[derive(Debug, Default, Deserialize)]
pub(crate) struct GridQuery {
    /// The window's exclusive end (`YYYY-MM-DDTHH:MM:SS`); by default just past now.
    to: Option<String>,
    /// The first component shown (an offset into the filtered components).
    #[serde(default)]
    rows: usize,
    /// Only components whose id contains this.
    #[serde(default)]
    component: String,
    notice: Option<String>,
}

/// A status in four letters, beside its icon, for cells too narrow for the whole name.
fn short(status: &str) -> &'static str {
    match status {
        "FINISHED" => "done",
        "FAILED" => "fail",
        "CASCADE_FAILED" => "casc",
        "CANCELED" => "canc",
        "TIMEDOUT" => "tout",
        "RUNNING" => "run",
        "WAITING_ON_DEPENDENCIES" => "deps",
        "WAITING_FOR_RUNNER" => "wait",
        "PAUSED" => "paus",
        "SKIPPED" => "skip",
        "SHUTTING_DOWN" => "shut",
        "CREATING" => "crea",
        _ => "sch",
    }
}

fn query_url(pipeline_id: &str, to: NaiveDateTime, rows: usize, component: &str) -> String {
    let mut url = pipeline_url(pipeline_id, "/runs");
    let _ = write!(url, "?to={}&rows={rows}", enc(&format_datetime(to)));
    if !component.is_empty() {
        let _ = write!(url, "&component={}", enc(component));
    }
    url
}

pub(crate) async fn page(
    State(state): State<Console>,
    signed: Signed,
    Path(id): Path<String>,
    Query(query): Query<GridQuery>,
) -> Response {
    let service = &state.service;
    let (seen, snapshot) = match load(&state, &signed, &id).await {
        Ok(loaded) => loaded,
        Err(response) => return response,
    };
    let Some(definition) = snapshot.definition() else {
        return signed.error(
            StatusCode::NOT_FOUND,
            "This pipeline has no definition yet.",
        );
    };
    let catalog = service.catalog();
    let filter = query.component.trim();
    let components: Vec<String> = definition
        .pipeline_objects
        .iter()
        .filter(|o| runs_instances(category(catalog, o)))
        .filter(|o| filter.is_empty() || o.id.contains(filter))
        .map(|o| o.id.clone())
        .collect();
    let first = query.rows.min(components.len().saturating_sub(1));
    let shown: Vec<String> = components
        .iter()
        .skip(first)
        .take(GRID_ROWS)
        .cloned()
        .collect();
    let period = shortest_period(definition).unwrap_or_else(|| Duration::days(1));
    let span = period * GRID_COLUMNS;
    let now = chrono::Utc::now().naive_utc();
    let to = match query.to.as_deref().map(parse_datetime) {
        Some(Ok(to)) => to,
        Some(Err(_)) => {
            return signed.error(
                StatusCode::BAD_REQUEST,
                "The window end `to` must be a time like 2024-01-31T00:00:00.",
            );
        }
        None => now + period,
    };
    let from = to - span;
    let window = match data::grid_window(service, &id, &shown, from, to).await {
        Ok(window) => window,
        Err(error) => return api_error(&signed, &error),
    };

    let mut live = String::new();
    let _ = write!(
        live,
        "<nav class=\"window\" aria-label=\"grid window\">\
         <a href=\"{earlier}\" id=\"earlier\">\u{2039} earlier</a> \
         <span>scheduled starts from {from} to {to}</span> \
         <a href=\"{later}\" id=\"later\">later \u{203a}</a> \
         <span class=\"rows\">components {a}\u{2013}{b} of {n}</span>",
        earlier = esc(&query_url(&id, from, first, filter)),
        later = esc(&query_url(&id, to + span, first, filter)),
        from = format_datetime(window.from),
        to = format_datetime(window.to),
        a = if shown.is_empty() { 0 } else { first + 1 },
        b = first + shown.len(),
        n = components.len(),
    );
    if first > 0 {
        let _ = write!(
            live,
            " <a href=\"{}\">\u{2191} previous components</a>",
            esc(&query_url(&id, to, first.saturating_sub(GRID_ROWS), filter))
        );
    }
    if first + shown.len() < components.len() {
        let _ = write!(
            live,
            " <a href=\"{}\" id=\"next-rows\">next components \u{2193}</a>",
            esc(&query_url(&id, to, first + GRID_ROWS, filter))
        );
    }
    live.push_str("</nav>");
    if window.starts.is_empty() {
        live.push_str("<p class=\"empty\">No instances scheduled in this window.</p>");
    }
    live.push_str("<div class=\"scroll\"><table class=\"grid\" id=\"grid\"><thead><tr><th scope=\"col\">Component</th>");
    for start in &window.starts {
        let text = format_datetime(*start);
        let _ = write!(
            live,
            "<th scope=\"col\" title=\"{text}\"><span>{}</span><span>{}</span></th>",
            &text[..10],
            &text[11..16]
        );
    }
    live.push_str("</tr></thead><tbody>");
    for component in &shown {
        let _ = write!(
            live,
            "<tr><th scope=\"row\"><label><input type=\"checkbox\" form=\"actions\" name=\"ids\" value=\"{c}\" \
             aria-label=\"select component {c}\"> </label><a href=\"{url}\">{c}</a></th>",
            c = esc(component),
            url = esc(&object_url(&id, component)),
        );
        for start in &window.starts {
            match window.cells.get(&(component.clone(), *start)) {
                Some((instance, status)) => {
                    let status = status.as_str();
                    let (icon, class) = status_icon(status);
                    let mut title = format!(
                        "{} \u{2014} {status}, attempt {}",
                        instance.instance_id, instance.attempt_count
                    );
                    if let Some(left) = instance.fields.get("@triesLeft").and_then(|v| v.first()) {
                        let _ = write!(title, ", tries left {left}");
                    }
                    if let Some(waiting) = instance.fields.get("@waitingOn")
                        && !waiting.is_empty()
                    {
                        let _ = write!(title, ", waiting on {}", waiting.join(", "));
                    }
                    if let Some(message) =
                        instance.fields.get("errorMessage").and_then(|v| v.first())
                    {
                        let _ = write!(title, ", error: {message}");
                    }
                    let _ = write!(
                        live,
                        "<td class=\"cell s-{class}\" data-instance=\"{iid}\" data-status=\"{status}\" title=\"{title}\">\
                         <input type=\"checkbox\" form=\"actions\" name=\"ids\" value=\"{iid}\" aria-label=\"select {iid}\">\
                         <a href=\"{url}\"><span aria-hidden=\"true\">{icon}</span>{retry}<span class=\"abbr\">{abbr}</span></a></td>",
                        iid = esc(&instance.instance_id),
                        title = esc(&title),
                        url = esc(&instance_url(&id, &instance.instance_id)),
                        retry = if instance.attempt_count > 1 {
                            format!("<sup title=\"attempts\">{}</sup>", instance.attempt_count)
                        } else {
                            String::new()
                        },
                        abbr = short(status),
                    );
                }
                None => live.push_str("<td class=\"cell none\"></td>"),
            }
        }
        live.push_str("</tr>");
    }
    live.push_str("</tbody></table></div>");
    let back = query_url(&id, to, first, filter);
    let mut body = header(&id, &snapshot, Tab::Runs);
    body.push_str(&notice(query.notice.as_deref()));
    let _ = write!(
        body,
        "<form class=\"filters\" method=\"get\" action=\"{runs}\"><label>Component \
         <input name=\"component\" id=\"filter-component\" value=\"{filter}\" placeholder=\"id contains\"></label>\
         <button type=\"submit\">Show</button></form>\
         <form id=\"actions\" class=\"toolbar\" method=\"post\" action=\"{action}\">{csrf}\
         <input type=\"hidden\" name=\"back\" value=\"{back}\">\
         <span>Selected instances:</span>\
         <button name=\"action\" value=\"RERUN\" id=\"rerun\">Rerun</button>\
         <button name=\"action\" value=\"TRY_CANCEL\" id=\"cancel\">Cancel</button>\
         <button name=\"action\" value=\"MARK_FINISHED\" id=\"mark-finished\">Mark finished</button>\
         <span>Selected components:</span>\
         <button name=\"action\" value=\"PAUSE\" id=\"pause\">Pause</button>\
         <button name=\"action\" value=\"RESUME\" id=\"resume\">Resume</button></form>\
         <p class=\"hint\">Legend: {legend}</p>\
         <div id=\"live\" data-live-part>{live}</div>",
        runs = esc(&pipeline_url(&id, "/runs")),
        filter = esc(filter),
        action = esc(&pipeline_url(&id, "/status")),
        csrf = csrf_field(&signed.session.csrf),
        back = esc(&back),
        legend = [
            "FINISHED",
            "RUNNING",
            "WAITING_ON_DEPENDENCIES",
            "FAILED",
            "CANCELED",
            "SKIPPED",
            "SCHEDULED"
        ]
        .iter()
        .map(|s| badge(s))
        .collect::<Vec<_>>()
        .join(" "),
    );
    document(
        &format!("{} runs", snapshot.record.name),
        Some(&signed.viewer()),
        Some((&pipeline_url(&id, "/events"), seen)),
        &body,
    )
}

/// SetStatus on the selected objects.
pub(crate) async fn set_status(
    State(state): State<Console>,
    Path(id): Path<String>,
    Submitted { signed, form }: Submitted,
) -> Response {
    let back = form
        .get("back")
        .filter(|b| b.starts_with(BASE) && !b.starts_with("//"))
        .map_or_else(|| pipeline_url(&id, "/runs"), str::to_owned);
    let action = form.get("action").unwrap_or_default().to_owned();
    if !["RERUN", "TRY_CANCEL", "MARK_FINISHED", "PAUSE", "RESUME"].contains(&action.as_str()) {
        return signed.error(
            StatusCode::BAD_REQUEST,
            "Choose rerun, cancel, mark finished, pause or resume.",
        );
    }
    let ids = form.all("ids");
    if ids.is_empty() {
        return see_other(&with_notice(
            &back,
            "Select at least one cell or component first.",
        ));
    }
    let principal = signed.principal();
    let input = SetStatusInput {
        pipeline_id: id.clone(),
        object_ids: ids.clone(),
        status: action.clone(),
    };
    let done = call(
        &state,
        principal,
        Operation::SetStatus,
        Some(id.as_str()),
        input,
        |input| state.service.set_status(principal, input),
    )
    .await;
    match done {
        Ok(_) => see_other(&with_notice(
            &back,
            &format!(
                "{action} applied to {} object(s): {}",
                ids.len(),
                ids.join(", ")
            ),
        )),
        Err(error)
            if error.http_status() < 500 && error.aws_type() != "PipelineNotFoundException" =>
        {
            see_other(&with_notice(
                &back,
                &format!("{action} refused: {}", error.message()),
            ))
        }
        Err(error) => api_error(&signed, &error),
    }
}
