//! One module per page, and what pipeline pages share: the header with the pipeline's state,
//! health, tags and instance counts, and the tabs between its views.

use std::fmt::Write as _;

use axum::http::StatusCode;
use axum::response::Response;
use chrono::NaiveDateTime;
use sluice_model::time::format_datetime;
use sluice_runtime::ApiError;

use crate::auth::Signed;
use crate::data::Snapshot;
use crate::html::{badge, esc, pipeline_url};

pub(crate) mod ahead;
pub(crate) mod graph;
pub(crate) mod grid;
pub(crate) mod instance;
pub(crate) mod object;
pub(crate) mod pipelines;
pub(crate) mod versions;

/// An operation's error as a page: the API's status code and message.
pub(crate) fn api_error(signed: &Signed, error: &ApiError) -> Response {
    let status = StatusCode::from_u16(error.http_status()).unwrap_or(StatusCode::BAD_REQUEST);
    // The API answers a missing pipeline with 400; a page that does not exist is a 404.
    let status = match error.aws_type() {
        "PipelineNotFoundException" | "PipelineDeletedException" => StatusCode::NOT_FOUND,
        _ => status,
    };
    signed.error(status, &error.message())
}

pub(crate) fn time(at: Option<NaiveDateTime>) -> String {
    at.map_or_else(|| "\u{2014}".to_owned(), format_datetime)
}

/// The views of a pipeline, for the tabs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Tab {
    Graph,
    Runs,
    Definition,
    Ahead,
}

/// The header of every pipeline page.
pub(crate) fn header(pipeline_id: &str, snapshot: &Snapshot, tab: Tab) -> String {
    let record = &snapshot.record;
    let mut html = String::new();
    let _ = write!(
        html,
        "<nav class=\"crumbs\" aria-label=\"breadcrumb\"><a href=\"{}/\">Pipelines</a> \u{203a} {}</nav>\
         <h1>{} <code class=\"id\">{}</code></h1><dl class=\"facts\" id=\"facts\" data-live-part>\
         <div><dt>State</dt><dd id=\"pipeline-state\">{}</dd></div>\
         <div><dt>Health</dt><dd>{}</dd></div>",
        crate::html::BASE,
        esc(&record.name),
        esc(&record.name),
        esc(pipeline_id),
        badge(record.state.as_str()),
        snapshot
            .health
            .as_ref()
            .map_or_else(|| "\u{2014}".to_owned(), |h| badge(h.status)),
    );
    let _ = write!(
        html,
        "<div><dt>Last run</dt><dd>{}</dd></div><div><dt>Next run</dt><dd>{}</dd></div>",
        snapshot.last_run.as_ref().map_or_else(
            || "\u{2014}".to_owned(),
            |(status, at, _)| format!("{} {}", badge(status.as_str()), format_datetime(*at))
        ),
        time(snapshot.next_run),
    );
    let tags = snapshot.tags();
    if !tags.is_empty() {
        html.push_str("<div><dt>Tags</dt><dd>");
        for (key, value) in &tags {
            let _ = write!(
                html,
                "<span class=\"tag\">{}={}</span> ",
                esc(key),
                esc(value)
            );
        }
        html.push_str("</dd></div>");
    }
    html.push_str("<div><dt>Instances</dt><dd>");
    html.push_str(&counts(&snapshot.counts));
    html.push_str("</dd></div></dl>");
    html.push_str("<nav class=\"tabs\" aria-label=\"pipeline views\">");
    for (t, label, rest) in [
        (Tab::Graph, "Graph", ""),
        (Tab::Runs, "Runs", "/runs"),
        (Tab::Definition, "Definition", "/definition"),
        (Tab::Ahead, "Schedule ahead", "/ahead"),
    ] {
        let current = if t == tab {
            " aria-current=\"page\""
        } else {
            ""
        };
        let _ = write!(
            html,
            "<a href=\"{}\"{current}>{label}</a>",
            esc(&pipeline_url(pipeline_id, rest))
        );
    }
    html.push_str("</nav>");
    html
}

/// Instance counts by status as badges with numbers.
pub(crate) fn counts(counts: &[(&'static str, usize)]) -> String {
    if counts.is_empty() {
        return "none".to_owned();
    }
    counts
        .iter()
        .map(|(status, n)| format!("{} <b>{n}</b>", badge(status)))
        .collect::<Vec<_>>()
        .join(" ")
}
