//! An instance: its attempts (times, host, worker group, error id, message and stack trace),
//! each attempt's stdout, stderr and runner log (tailing while it runs), the evaluated
//! fields, and links to the instances it depends on and those that depend on it.
//!
//! Logs are read from this server's data directory when the attempt ran here, else from the
//! copy a remote runner makes under the attempt's `pipelineLogUri` once the attempt ends (see
//! [`crate::logs`]); while such an attempt runs, the page says where its logs will appear.

use std::fmt::Write as _;
use std::io::{Read, Seek, SeekFrom};
use std::path::PathBuf;

use axum::extract::{Path, Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use sluice_engine::{AttemptRecord, PipelineRecord};
use sluice_model::ops::DescribeObjectsInput;
use sluice_model::secret::Redactor;
use sluice_model::time::format_datetime;
use sluice_model::{PipelineDefinition, Status};
use sluice_runner::UploadedLogError;
use sluice_runtime::Service;

use crate::Console;
use crate::auth::{Signed, text_error};
use crate::data;
use crate::html::{
    BASE, badge, csrf_field, document, esc, instance_url, notice, object_url, pipeline_url,
    shown_value,
};
use crate::logs::{AttemptLogs, Copied, Source, attempt_logs, copy_may_come, file_name};
use crate::pages::{api_error, time};

/// Most bytes of a log shown on the page; the rest is a link away.
const SHOWN_LOG: u64 = 256 * 1024;

/// References that make one instance wait for another's instance of the same interval.
const NEEDS: [&str; 4] = ["input", "dependsOn", "precondition", "runsOn"];

#[derive(Debug, Default, Deserialize)]
pub(crate) struct InstanceQuery {
    notice: Option<String>,
}

/// The last [`SHOWN_LOG`] bytes of a file, where they start, and its length.
fn tail_of(path: &PathBuf) -> Option<(u64, u64, String)> {
    let mut file = std::fs::File::open(path).ok()?;
    let len = file.metadata().ok()?.len();
    let start = len.saturating_sub(SHOWN_LOG);
    file.seek(SeekFrom::Start(start)).ok()?;
    let mut bytes = Vec::new();
    file.take(len - start).read_to_end(&mut bytes).ok()?;
    Some((start, len, String::from_utf8_lossy(&bytes).into_owned()))
}

/// The instance ids of the same interval that `component` waits for, and that wait for it.
fn neighbours(
    definition: &PipelineDefinition,
    component: &str,
    start: &str,
) -> (Vec<String>, Vec<String>) {
    let id = |c: &str| format!("@{c}_{start}");
    let mut needs = Vec::new();
    let mut needed_by = Vec::new();
    for object in &definition.pipeline_objects {
        for field in &object.fields {
            let Some(target) = field.value.as_ref_id() else {
                continue;
            };
            let waits = NEEDS.contains(&field.key.as_str());
            if object.id == component && waits {
                needs.push(id(target));
            } else if object.id == component && field.key == "output" {
                needed_by.push(id(target));
            } else if target == component && waits {
                needed_by.push(id(&object.id));
            } else if target == component && field.key == "output" {
                needs.push(id(&object.id));
            }
        }
    }
    needs.sort();
    needs.dedup();
    needed_by.sort();
    needed_by.dedup();
    (needs, needed_by)
}

fn attempt_row(attempt: &AttemptRecord, secrets: &Redactor) -> String {
    let result = attempt.result.as_ref();
    let field = |key: &str| attempt.fields.get(key).and_then(|v| v.first()).cloned();
    let error_id = result
        .and_then(|r| r.error_id.clone())
        .or_else(|| field("errorId"));
    let message = result
        .and_then(|r| r.error_message.clone())
        .or_else(|| field("errorMessage"));
    let trace = result
        .and_then(|r| r.error_stack_trace.clone())
        .or_else(|| field("errorStackTrace"));
    let mut html = format!(
        "<tr id=\"attempt-{n}\"><td>{n}</td><td>{status}</td><td>{started}</td><td>{ended}</td>\
         <td>{host}</td><td>{group}</td><td>{error_id}</td><td class=\"message\">{message}",
        n = attempt.number,
        status = badge(attempt.status.as_str()),
        started = time(attempt.started_at),
        ended = time(attempt.ended_at),
        host = esc(attempt.hostname.as_deref().unwrap_or("\u{2014}")),
        group = esc(if attempt.worker_group.is_empty() {
            "(this server)"
        } else {
            attempt.worker_group.as_str()
        }),
        error_id = esc(error_id.as_deref().unwrap_or("")),
        message = esc(&secrets.redact(message.as_deref().unwrap_or(""))),
    );
    if let Some(trace) = trace {
        let _ = write!(
            html,
            "<details><summary>stack trace</summary><pre>{}</pre></details>",
            esc(&secrets.redact(&trace))
        );
    }
    html.push_str("</td></tr>");
    html
}

/// One log as the page shows it.
struct Shown {
    /// The log's length.
    len: u64,
    text: String,
    /// Whether the page follows it (from `len` on) while it may still grow or appear.
    follow: bool,
    /// Said above the text: where the log is, or why it is not shown.
    note: String,
    /// Said after the log's name.
    label: &'static str,
    /// Whether what is shown grows as the attempt writes (a file on this server).
    live: bool,
}

fn cut_note(start: u64) -> String {
    if start > 0 {
        format!("<p class=\"hint\">The first {start} bytes are left out here.</p>")
    } else {
        String::new()
    }
}

/// The pipeline's secret values: evaluated fields, messages and log locations hold them
/// wherever an expression expanded one.
fn secrets_of(record: &PipelineRecord) -> Redactor {
    record
        .active_definition
        .as_ref()
        .or(record.definition.as_ref())
        .map(Redactor::for_definition)
        .unwrap_or_default()
}

fn local_log(path: &PathBuf, running: bool) -> Shown {
    let (start, len, text) = tail_of(path).unwrap_or((0, 0, String::new()));
    Shown {
        len,
        text,
        follow: running,
        note: cut_note(start),
        label: if len == 0 && !running { " (empty)" } else { "" },
        live: running,
    }
}

/// A log its runner copies to the pipeline's log location: where it will appear while the
/// attempt runs, then the copy, or why there is none.
async fn copied_log(
    copied: &Copied,
    attempt: &AttemptRecord,
    log: &str,
    secrets: &Redactor,
) -> Shown {
    let on_host = attempt
        .hostname
        .as_deref()
        .map(|host| format!(" on <b class=\"host\">{}</b>", esc(host)))
        .unwrap_or_default();
    // A log location may be built from a secret parameter.
    let uri = format!(
        "<code class=\"uri\">{}</code>",
        esc(&secrets.redact(&copied.uri))
    );
    let nothing = |follow, note, label| Shown {
        len: 0,
        text: String::new(),
        follow,
        note,
        label,
        live: false,
    };
    if !attempt.status.is_terminal() {
        return nothing(
            true,
            format!(
                "<p class=\"hint where\">This attempt runs{on_host}. Its runner copies this log to \
                 {uri} when the attempt ends; it appears here then.</p>"
            ),
            " (copied when the attempt ends)",
        );
    }
    match copied.tail(SHOWN_LOG).await {
        Ok(part) => Shown {
            len: part.len,
            text: String::from_utf8_lossy(&part.bytes).into_owned(),
            follow: false,
            note: format!(
                "<p class=\"hint where\">Copied by the runner{on_host} to {uri}.</p>{}",
                cut_note(part.start)
            ),
            label: if part.len == 0 { " (empty)" } else { "" },
            live: false,
        },
        Err(UploadedLogError::Missing { .. }) if copy_may_come(attempt.ended_at) => nothing(
            true,
            format!(
                "<p class=\"hint where\">Not at {uri} yet: the runner{on_host} copies it once the \
                 attempt has ended.</p>"
            ),
            "",
        ),
        Err(UploadedLogError::Missing { .. }) => nothing(
            false,
            format!(
                "<p class=\"hint where\">No copy at {uri}: the attempt wrote no {log} log, or \
                 its runner{on_host} did not copy it.</p>"
            ),
            " (none)",
        ),
        Err(error) => nothing(
            false,
            format!(
                "<p class=\"error\">{}</p>",
                esc(&secrets.redact(&error.to_string()))
            ),
            " (unreadable)",
        ),
    }
}

async fn logs(
    service: &Service,
    pipeline_id: &str,
    attempt: &AttemptRecord,
    place: &AttemptLogs,
    secrets: &Redactor,
) -> String {
    let running = !attempt.status.is_terminal();
    let mut html = format!(
        "<section class=\"logs\" aria-label=\"logs of attempt {n}\"><h3>Attempt {n} logs</h3>",
        n = attempt.number
    );
    for log in ["stderr", "stdout", "runner"] {
        let shown = match place.source(service, log) {
            None => continue,
            Some(Source::Local(path)) => local_log(&path, running),
            Some(Source::Copied(copied)) => copied_log(&copied, attempt, log, secrets).await,
        };
        let base = pipeline_url(
            pipeline_id,
            &format!("/attempts/{}", crate::html::enc(&attempt.attempt_id)),
        );
        let tail = if shown.follow {
            format!(
                " data-tail=\"{}\" data-offset=\"{}\"",
                esc(&format!("{base}/tail/{log}")),
                shown.len
            )
        } else {
            String::new()
        };
        let _ = write!(
            html,
            "<details id=\"log-{n}-{log}\"{open}><summary>{log}{label}{live}</summary>{note}\
             <pre class=\"log\" id=\"pre-{n}-{log}\"{tail}>{text}</pre>\
             <a href=\"{raw}\">raw {log}</a></details>",
            n = attempt.number,
            open = if log == "stderr" && attempt.status == Status::Failed {
                " open"
            } else {
                ""
            },
            label = shown.label,
            live = if shown.live { " \u{25cf} live" } else { "" },
            note = shown.note,
            text = esc(&shown.text),
            raw = esc(&format!("{base}/logs/{log}")),
        );
    }
    html.push_str("</section>");
    html
}

pub(crate) async fn page(
    State(state): State<Console>,
    signed: Signed,
    Path((id, instance_id)): Path<(String, String)>,
    Query(query): Query<InstanceQuery>,
) -> Response {
    let service = &state.service;
    let principal = signed.principal();
    let name = match data::owned(service, principal, &id).await {
        Ok(name) => name,
        Err(error) => return api_error(&signed, &error),
    };
    // Before reading: a change after it makes the page reload.
    let seen = data::fingerprint(service, &id).await;
    let detail = match data::instance(service, &id, &instance_id).await {
        Ok(Some(detail)) => detail,
        Ok(None) => {
            return signed.error(
                StatusCode::NOT_FOUND,
                &format!("Pipeline {id} has no instance {instance_id}."),
            );
        }
        Err(error) => return api_error(&signed, &error),
    };
    let instance = &detail.instance;
    let evaluated = service
        .describe_objects(
            principal,
            DescribeObjectsInput {
                pipeline_id: id.clone(),
                object_ids: vec![instance_id.clone()],
                evaluate_expressions: Some(true),
                marker: None,
            },
        )
        .await
        .ok()
        .and_then(|out| out.pipeline_objects.into_iter().next());
    let record = match data::record(service, &id).await {
        Ok(record) => record,
        Err(error) => return api_error(&signed, &error),
    };
    let secrets = secrets_of(&record);
    let start = format_datetime(instance.scheduled_start);
    let (needs, needed_by) = record
        .active_definition
        .as_ref()
        .map(|d| neighbours(d, &instance.component_id, &start))
        .unwrap_or_default();
    let needs = data::existing_instances(service, &id, needs).await;
    let needed_by = data::existing_instances(service, &id, needed_by).await;

    let mut live = String::new();
    let _ = write!(
        live,
        "<dl class=\"facts\"><div><dt>Status</dt><dd id=\"instance-status\">{status}</dd></div>\
         <div><dt>Component</dt><dd><a href=\"{component_url}\">{component}</a></dd></div>\
         <div><dt>Scheduled</dt><dd>{start} \u{2192} {end}</dd></div>\
         <div><dt>Ran</dt><dd>{actual_start} \u{2192} {actual_end}</dd></div>\
         <div><dt>Attempts</dt><dd>{attempts}</dd></div>",
        status = badge(detail.status.as_str()),
        component_url = esc(&object_url(&id, &instance.component_id)),
        component = esc(&instance.component_id),
        end = format_datetime(instance.scheduled_end),
        actual_start = time(instance.actual_start),
        actual_end = time(instance.actual_end),
        attempts = instance.attempt_count,
    );
    if let Some(left) = instance.fields.get("@triesLeft").and_then(|v| v.first()) {
        let _ = write!(live, "<div><dt>Tries left</dt><dd>{}</dd></div>", esc(left));
    }
    if let Some(at) = detail.retry_at {
        let _ = write!(
            live,
            "<div><dt>Next try</dt><dd>{}</dd></div>",
            format_datetime(at)
        );
    }
    if let Some(waiting) = instance.fields.get("@waitingOn").filter(|w| !w.is_empty()) {
        let _ = write!(
            live,
            "<div><dt>Waiting on</dt><dd>{}</dd></div>",
            esc(&waiting.join(", "))
        );
    }
    live.push_str("</dl>");
    for (title, list) in [("Depends on", &needs), ("Needed by", &needed_by)] {
        let _ = write!(live, "<p class=\"links\"><b>{title}:</b> ");
        if list.is_empty() {
            live.push_str("nothing");
        }
        for (other, status) in list {
            let _ = write!(
                live,
                "<a href=\"{}\">{}</a> {} ",
                esc(&instance_url(&id, other)),
                esc(other),
                badge(status.as_str())
            );
        }
        live.push_str("</p>");
    }
    live.push_str(
        "<h2>Attempts</h2><table class=\"list\" id=\"attempts\"><thead><tr><th scope=\"col\">#</th>\
         <th scope=\"col\">Status</th><th scope=\"col\">Started</th><th scope=\"col\">Ended</th>\
         <th scope=\"col\">Host</th><th scope=\"col\">Worker group</th><th scope=\"col\">Error id</th>\
         <th scope=\"col\">Message</th></tr></thead><tbody>",
    );
    for attempt in detail.attempts.iter().rev() {
        live.push_str(&attempt_row(attempt, &secrets));
    }
    live.push_str("</tbody></table>");
    let attempt_ids: Vec<&str> = detail
        .attempts
        .iter()
        .map(|a| a.attempt_id.as_str())
        .collect();
    let places = attempt_logs(service, principal, &id, &attempt_ids).await;
    // Copies on a remote store are read at once rather than attempt after attempt.
    let sections = futures::future::join_all(
        detail
            .attempts
            .iter()
            .zip(&places)
            .rev()
            .map(|(attempt, place)| logs(service, &id, attempt, place, &secrets)),
    )
    .await;
    for section in sections {
        live.push_str(&section);
    }
    if let Some(object) = &evaluated {
        live.push_str("<h2>Fields (evaluated)</h2><table class=\"fields\" id=\"fields\"><tbody>");
        for field in &object.fields {
            let value = match (field.value.as_str(), field.value.as_ref_id()) {
                (Some(text), _) => esc(&secrets.redact(shown_value(&field.key, text))).to_string(),
                (None, Some(target)) => format!("\u{2192} {}", esc(target)),
                _ => String::new(),
            };
            let _ = write!(
                live,
                "<tr><th scope=\"row\">{}</th><td>{value}</td></tr>",
                esc(&field.key)
            );
        }
        live.push_str("</tbody></table>");
    }
    let here = instance_url(&id, &instance_id);
    let mut body = format!(
        "<nav class=\"crumbs\" aria-label=\"breadcrumb\"><a href=\"{BASE}/\">Pipelines</a> \u{203a} \
         <a href=\"{runs}\">{name}</a> \u{203a} instance</nav><h1>Instance <code class=\"id\">{iid}</code></h1>{notice}\
         <form class=\"toolbar\" method=\"post\" action=\"{action}\">{csrf}\
         <input type=\"hidden\" name=\"ids\" value=\"{iid}\"><input type=\"hidden\" name=\"back\" value=\"{back}\">\
         <button name=\"action\" value=\"RERUN\" id=\"rerun\">Rerun</button>\
         <button name=\"action\" value=\"TRY_CANCEL\" id=\"cancel\">Cancel</button>\
         <button name=\"action\" value=\"MARK_FINISHED\" id=\"mark-finished\">Mark finished</button></form>",
        runs = esc(&pipeline_url(&id, "/runs")),
        name = esc(&name),
        iid = esc(&instance_id),
        notice = notice(query.notice.as_deref()),
        action = esc(&pipeline_url(&id, "/status")),
        csrf = csrf_field(&signed.session.csrf),
        back = esc(&here),
    );
    let _ = write!(body, "<div id=\"live\" data-live-part>{live}</div>");
    document(
        &format!("Instance {instance_id}"),
        Some(&signed.viewer()),
        Some((&pipeline_url(&id, "/events"), seen)),
        &body,
    )
}

/// Where a log of one of the caller's pipelines is read from, or the refusal to send it.
pub(crate) async fn owned_log(
    state: &Console,
    signed: &Signed,
    (id, attempt, log): (&str, &str, &str),
) -> Result<Source, Box<Response>> {
    if let Err(error) = data::owned(&state.service, signed.principal(), id).await {
        return Err(Box::new(text_error(
            StatusCode::NOT_FOUND,
            &error.message(),
        )));
    }
    if file_name(log).is_none() {
        return Err(Box::new(text_error(
            StatusCode::NOT_FOUND,
            "No such log: stdout, stderr or runner.",
        )));
    }
    let place = attempt_logs(&state.service, signed.principal(), id, &[attempt])
        .await
        .pop()
        .unwrap_or_default();
    place.source(&state.service, log).ok_or_else(|| {
        Box::new(text_error(
            StatusCode::NOT_FOUND,
            &format!("Attempt {attempt} left no {log} log on this server."),
        ))
    })
}

fn plain_text(bytes: Vec<u8>) -> Response {
    let mut response = bytes.into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    crate::html::secure_headers(headers);
    response
}

/// One log of an attempt as plain text.
pub(crate) async fn log_text(
    State(state): State<Console>,
    signed: Signed,
    Path((id, attempt, log)): Path<(String, String, String)>,
) -> Response {
    let source = match owned_log(&state, &signed, (&id, &attempt, &log)).await {
        Ok(source) => source,
        Err(refused) => return *refused,
    };
    match source {
        Source::Local(path) => match tokio::fs::read(&path).await {
            Ok(bytes) => plain_text(bytes),
            Err(_) => text_error(
                StatusCode::NOT_FOUND,
                &format!("Attempt {attempt} left no {log} log on this server."),
            ),
        },
        Source::Copied(copied) => {
            let secrets = match data::record(&state.service, &id).await {
                Ok(record) => secrets_of(&record),
                Err(error) => return text_error(StatusCode::NOT_FOUND, &error.message()),
            };
            match copied.read_from(0, u64::MAX).await {
                Ok(part) => plain_text(part.bytes),
                Err(UploadedLogError::Missing { uri }) => text_error(
                    StatusCode::NOT_FOUND,
                    &format!(
                        "No copy of the {log} log of attempt {attempt} at {} (yet): its runner \
                         copies it once the attempt has ended.",
                        secrets.redact(&uri)
                    ),
                ),
                Err(error) => {
                    text_error(StatusCode::BAD_GATEWAY, &secrets.redact(&error.to_string()))
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sluice_model::file::parse_definition_file;

    #[test]
    fn neighbours_follow_references_both_ways() {
        let definition = parse_definition_file(
            r#"{"objects": [
                {"id": "In", "type": "S3DataNode", "directoryPath": "s3://b/in"},
                {"id": "Copy", "type": "CopyActivity", "input": {"ref": "In"}, "output": {"ref": "Out"}},
                {"id": "Out", "type": "S3DataNode", "directoryPath": "s3://b/out"},
                {"id": "After", "type": "ShellCommandActivity", "command": "true", "dependsOn": {"ref": "Copy"}}
            ]}"#,
        )
        .unwrap()
        .definition;
        let t = "2024-01-01T00:00:00";
        let (needs, needed_by) = neighbours(&definition, "Copy", t);
        assert_eq!(needs, vec![format!("@In_{t}")]);
        assert_eq!(needed_by, vec![format!("@After_{t}"), format!("@Out_{t}")]);
        let (needs, _) = neighbours(&definition, "Out", t);
        assert_eq!(needs, vec![format!("@Copy_{t}")]);
    }
}
