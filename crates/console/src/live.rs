//! Server-sent events: a pipeline's `changed` events, which make an open page reload its live
//! part in place, and the live tail of an attempt's log file.
//!
//! Both look every half second (a hash of the instance counts by status, the attempt count
//! and the pipeline's state; the log file's length) rather than subscribing to commits: the
//! cost is a few hash lookups per open page, and nothing in the service has to know about
//! the console. A stream ends when its session does, or when the server stops (so graceful
//! shutdown does not wait for browsers to leave); the browser's EventSource reconnects.

use std::convert::Infallible;
use std::io::{Read, Seek, SeekFrom};
use std::path::PathBuf;
use std::time::Duration;

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use crate::Console;
use crate::auth::{Signed, text_error};
use crate::data;
use crate::pages::instance::owned_log;

const LOOK_EVERY: Duration = Duration::from_millis(500);
/// Most bytes of a log sent in one event.
const CHUNK: u64 = 64 * 1024;

pub(crate) async fn pipeline_events(
    State(state): State<Console>,
    signed: Signed,
    Path(id): Path<String>,
) -> Response {
    if let Err(error) = data::owned(&state.service, signed.principal(), &id).await {
        return text_error(StatusCode::NOT_FOUND, &error.message());
    }
    let session = signed.session_id().to_owned();
    let stream = futures::stream::unfold(None::<u64>, move |last| {
        let (state, id, session) = (state.clone(), id.clone(), session.clone());
        async move {
            loop {
                if state.service.is_stopping() || !state.sessions.alive(&session) {
                    return None;
                }
                let now = data::fingerprint(&state.service, &id).await;
                if last != Some(now) {
                    let event = Event::default().event("changed").data(now.to_string());
                    return Some((Ok::<Event, Infallible>(event), Some(now)));
                }
                tokio::time::sleep(LOOK_EVERY).await;
            }
        }
    });
    Sse::new(stream)
        .keep_alive(KeepAlive::default())
        .into_response()
}

#[derive(Debug, Default, Deserialize)]
pub(crate) struct TailQuery {
    /// Where the page's copy of the file ends.
    #[serde(default)]
    offset: u64,
}

/// New bytes of `path` from `offset`, at most [`CHUNK`].
fn read_from(path: &PathBuf, offset: u64) -> Option<(u64, String)> {
    let mut file = std::fs::File::open(path).ok()?;
    let len = file.metadata().ok()?.len();
    if len <= offset {
        return None;
    }
    file.seek(SeekFrom::Start(offset)).ok()?;
    let mut bytes = Vec::new();
    file.take(CHUNK).read_to_end(&mut bytes).ok()?;
    let end = offset + bytes.len() as u64;
    Some((end, String::from_utf8_lossy(&bytes).into_owned()))
}

/// The log's new bytes as `append` events (JSON: `{"offset", "text"}`) while the attempt
/// may still write to it; `done` once it has ended and everything was sent.
pub(crate) async fn tail_log(
    State(state): State<Console>,
    signed: Signed,
    Path((id, attempt, log)): Path<(String, String, String)>,
    Query(query): Query<TailQuery>,
) -> Response {
    let path = match owned_log(&state, &signed, (&id, &attempt, &log)).await {
        Ok(path) => path,
        Err(refused) => return *refused,
    };
    let session = signed.session_id().to_owned();
    let stream = futures::stream::unfold((query.offset, false), move |(offset, finished)| {
        let (state, id, attempt, path, session) = (
            state.clone(),
            id.clone(),
            attempt.clone(),
            path.clone(),
            session.clone(),
        );
        async move {
            if finished {
                return None;
            }
            loop {
                if state.service.is_stopping() || !state.sessions.alive(&session) {
                    return None;
                }
                // Whether the attempt had ended before the file was read: then what is
                // read is all there will be.
                let ended = attempt_ended(&state, &id, &attempt).await;
                if let Some((end, text)) = read_from(&path, offset) {
                    let data = serde_json::json!({ "offset": end, "text": text }).to_string();
                    let event = Event::default().event("append").data(data);
                    return Some((Ok::<Event, Infallible>(event), (end, false)));
                }
                if ended {
                    let event = Event::default().event("done").data(offset.to_string());
                    return Some((Ok(event), (offset, true)));
                }
                tokio::time::sleep(LOOK_EVERY).await;
            }
        }
    });
    Sse::new(stream)
        .keep_alive(KeepAlive::default())
        .into_response()
}

/// Whether the attempt is over (or unknown to this server's scheduler).
async fn attempt_ended(state: &Console, pipeline_id: &str, attempt_id: &str) -> bool {
    let Some(scheduler) = state.service.scheduler(pipeline_id) else {
        return true;
    };
    let instance_id = attempt_id
        .rsplit_once("_Attempt=")
        .map_or(attempt_id, |(instance, _)| instance)
        .to_owned();
    scheduler
        .inspect(|engine| {
            engine
                .attempts_of(&instance_id)
                .iter()
                .find(|a| a.attempt_id == attempt_id)
                .is_none_or(|a| a.status.is_terminal())
        })
        .await
}
