//! The schedule ahead: the instances the active definition will create over the next N
//! scheduled starts, from the scheduler's own preview (`sluice plan` reads the same), run in
//! virtual time on a copy of the pipeline's plan.

use std::fmt::Write as _;

use axum::extract::{Path, Query, State};
use axum::response::Response;
use serde::Deserialize;
use sluice_engine::{PreviewOptions, Until, preview};
use sluice_model::time::{format_datetime, parse_datetime};

use crate::Console;
use crate::auth::Signed;
use crate::html::{document, esc, instance_url, pipeline_url};
use crate::pages::graph::load;
use crate::pages::{Tab, header};

/// Scheduled starts listed unless the page asks for another number.
const DEFAULT_STARTS: usize = 10;
/// Most scheduled starts one page lists.
const MAX_STARTS: usize = 200;

#[derive(Debug, Default, Deserialize)]
pub(crate) struct AheadQuery {
    n: Option<usize>,
}

pub(crate) async fn page(
    State(state): State<Console>,
    signed: Signed,
    Path(id): Path<String>,
    Query(query): Query<AheadQuery>,
) -> Response {
    let snapshot = match load(&state, &signed, &id).await {
        Ok((_, snapshot)) => snapshot,
        Err(response) => return response,
    };
    let n = query.n.unwrap_or(DEFAULT_STARTS).clamp(1, MAX_STARTS);
    let mut body = header(&id, &snapshot, Tab::Ahead);
    let _ = write!(
        body,
        "<form class=\"filters\" method=\"get\" action=\"{}\"><label>Next \
         <input type=\"number\" name=\"n\" id=\"ahead-n\" min=\"1\" max=\"{MAX_STARTS}\" value=\"{n}\"> scheduled starts</label>\
         <button type=\"submit\">Show</button></form>",
        esc(&pipeline_url(&id, "/ahead"))
    );
    let Some(scheduler) = state.service.scheduler(&id) else {
        body.push_str(
            "<p>The pipeline has not been activated: activate it to see what it will run, or \
             preview a definition file with <code>sluice plan FILE</code>.</p>",
        );
        return document(&snapshot.record.name, Some(&signed.viewer()), None, &body);
    };
    let plan = scheduler.inspect(|engine| engine.plan().clone()).await;
    // Scheduled pipelines keep the intervals of their first activation; an ondemand one runs
    // when it is next activated.
    let activation = snapshot
        .record
        .fields
        .get("@firstActivationTime")
        .and_then(|t| parse_datetime(t).ok())
        .filter(|_| !plan.ondemand)
        .unwrap_or(snapshot.now);
    let options = PreviewOptions {
        activation,
        from: Some(snapshot.now),
        until: Until::Starts(n),
    };
    // The preview runs an engine in virtual time: off the async workers.
    let previewed = tokio::task::spawn_blocking(move || preview(plan, &options)).await;
    let preview = match previewed {
        Ok(Ok(preview)) => preview,
        Ok(Err(error)) => {
            let _ = write!(
                body,
                "<p class=\"error\" role=\"alert\">The preview failed: {}</p>",
                esc(&error.to_string())
            );
            return document(&snapshot.record.name, Some(&signed.viewer()), None, &body);
        }
        Err(error) => {
            let _ = write!(
                body,
                "<p class=\"error\" role=\"alert\">The preview failed: {}</p>",
                esc(&error.to_string())
            );
            return document(&snapshot.record.name, Some(&signed.viewer()), None, &body);
        }
    };
    if preview.ondemand {
        body.push_str("<p>An ondemand pipeline runs once per activation; this is what the next activation runs.</p>");
    }
    let _ = write!(
        body,
        "<p id=\"ahead-summary\">{} instances from {} to {}.</p>\
         <table class=\"list\" id=\"ahead\"><thead><tr><th scope=\"col\">Scheduled start</th><th scope=\"col\">Instance</th>\
         <th scope=\"col\">Type</th><th scope=\"col\">Due</th><th scope=\"col\">Waits for</th></tr></thead><tbody>",
        preview.instances.len(),
        preview
            .from
            .map_or_else(|| "now".to_owned(), format_datetime),
        preview
            .to
            .map_or_else(|| "\u{2014}".to_owned(), format_datetime),
    );
    for planned in &preview.instances {
        let waits: Vec<String> = planned
            .depends_on
            .iter()
            .chain(&planned.preconditions)
            .chain(planned.runs_on.iter())
            .map(|other| {
                format!(
                    "<a href=\"{}\">{}</a>",
                    esc(&instance_url(&id, other)),
                    esc(other)
                )
            })
            .collect();
        let _ = write!(
            body,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            format_datetime(planned.scheduled_start),
            esc(&planned.id),
            esc(&planned.type_name),
            format_datetime(planned.due),
            waits.join(" ")
        );
    }
    body.push_str("</tbody></table>");
    document(
        &format!("{} schedule ahead", snapshot.record.name),
        Some(&signed.viewer()),
        None,
        &body,
    )
}
