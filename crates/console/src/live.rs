//! Server-sent events: a pipeline's `changed` events, which make an open page reload its live
//! part in place, and the live tail of an attempt's log file.
//!
//! Both look every half second (a hash of the instance counts by status, the attempt count
//! and the pipeline's state; the log file's length) rather than subscribing to commits: the
//! cost is a few hash lookups per open page, and nothing in the service has to know about
//! the console. A stream ends when its session does, or when the server stops (so graceful
//! shutdown does not wait for browsers to leave); the browser's EventSource reconnects.
//!
//! A log a remote runner copies to the pipeline's log location is complete once it is there,
//! and is there only after the attempt ended: its tail waits for the end, then looks for the
//! copy every two seconds (a request to the store each time) until it is found and sent, or
//! until [`COPY_GRACE`](crate::logs::COPY_GRACE) after the end.

use std::convert::Infallible;
use std::future::Future;
use std::io::{Read, Seek, SeekFrom};
use std::path::PathBuf;
use std::time::Duration;

use chrono::NaiveDateTime;

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use crate::Console;
use crate::auth::{Signed, text_error};
use crate::data;
use crate::logs::{Source, copy_may_come};
use crate::pages::instance::owned_log;

const LOOK_EVERY: Duration = Duration::from_millis(500);
/// How often a store is asked whether a runner's copy of a log has appeared.
const COPY_LOOK_EVERY: Duration = Duration::from_secs(2);
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
/// may still write to it (or its runner's copy may still appear); `done` once it has ended and
/// everything was sent.
pub(crate) async fn tail_log(
    State(state): State<Console>,
    signed: Signed,
    Path((id, attempt, log)): Path<(String, String, String)>,
    Query(query): Query<TailQuery>,
) -> Response {
    let source = match owned_log(&state, &signed, (&id, &attempt, &log)).await {
        Ok(source) => source,
        Err(refused) => return *refused,
    };
    let session = signed.session_id().to_owned();
    let stream = futures::stream::unfold((query.offset, false), move |(offset, finished)| {
        let (state, id, attempt, source, session) = (
            state.clone(),
            id.clone(),
            attempt.clone(),
            source.clone(),
            session.clone(),
        );
        async move {
            if finished {
                return None;
            }
            let next = next_bytes(&state, &session, (&id, &attempt), &source, offset).await?;
            let event = match next {
                Next::Append(end, text) => {
                    let data = serde_json::json!({ "offset": end, "text": text }).to_string();
                    return Some((
                        Ok::<Event, Infallible>(Event::default().event("append").data(data)),
                        (end, false),
                    ));
                }
                Next::Done => Event::default().event("done").data(offset.to_string()),
            };
            Some((Ok(event), (offset, true)))
        }
    });
    Sse::new(stream)
        .keep_alive(KeepAlive::default())
        .into_response()
}

/// What a tail sends next: new bytes up to an offset, or that there will be none.
enum Next {
    Append(u64, String),
    Done,
}

/// Asks `step` every `period` until it answers; `None` once the server is stopping or the
/// session has ended.
async fn every<F, Fut>(
    state: &Console,
    session: &str,
    period: Duration,
    mut step: F,
) -> Option<Next>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<Next>>,
{
    loop {
        if state.service.is_stopping() || !state.sessions.alive(session) {
            return None;
        }
        if let Some(next) = step().await {
            return Some(next);
        }
        tokio::time::sleep(period).await;
    }
}

/// The next bytes of the log from `offset`; `None` when the stream ends. A file in this
/// server's data directory is read as it grows; a runner's copy once the attempt has ended
/// and the copy is there.
async fn next_bytes(
    state: &Console,
    session: &str,
    (id, attempt): (&str, &str),
    source: &Source,
    offset: u64,
) -> Option<Next> {
    match source {
        Source::Local(path) => {
            every(state, session, LOOK_EVERY, || async move {
                // Whether the attempt had ended before the file was read: then what is read
                // is all there will be.
                let ended = matches!(progress(state, id, attempt).await, Progress::Ended(_));
                if let Some((end, text)) = read_from(path, offset) {
                    return Some(Next::Append(end, text));
                }
                ended.then_some(Next::Done)
            })
            .await
        }
        Source::Copied(copied) => {
            every(state, session, COPY_LOOK_EVERY, || async move {
                let Progress::Ended(at) = progress(state, id, attempt).await else {
                    return None;
                };
                match copied.read_from(offset, CHUNK).await {
                    Ok(part) if !part.bytes.is_empty() => {
                        let end = part.start + part.bytes.len() as u64;
                        let text = String::from_utf8_lossy(&part.bytes).into_owned();
                        Some(Next::Append(end, text))
                    }
                    Ok(_) => Some(Next::Done),
                    // Not copied yet, or the store did not answer: the page says which.
                    Err(_) if copy_may_come(at) => None,
                    Err(_) => Some(Next::Done),
                }
            })
            .await
        }
    }
}

/// Where an attempt is.
enum Progress {
    Running,
    /// Over, or unknown to this server's scheduler; when it ended, if known.
    Ended(Option<NaiveDateTime>),
}

async fn progress(state: &Console, pipeline_id: &str, attempt_id: &str) -> Progress {
    let Some(scheduler) = state.service.scheduler(pipeline_id) else {
        return Progress::Ended(None);
    };
    let instance_id = attempt_id
        .rsplit_once("_Attempt=")
        .map_or(attempt_id, |(instance, _)| instance)
        .to_owned();
    let attempt_id = attempt_id.to_owned();
    scheduler
        .inspect(move |engine| {
            match engine
                .attempts_of(&instance_id)
                .into_iter()
                .find(|a| a.attempt_id == attempt_id)
            {
                Some(a) if !a.status.is_terminal() => Progress::Running,
                Some(a) => Progress::Ended(a.ended_at),
                None => Progress::Ended(None),
            }
        })
        .await
}
