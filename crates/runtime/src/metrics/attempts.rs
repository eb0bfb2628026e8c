//! Attempt events read from one scheduler's committed change sets.
//!
//! Design decisions:
//! * Only task attempts count: an attempt is one when first seen WAITING_FOR_RUNNER, or
//!   RUNNING with a task id. A resource's own attempts (CREATING, then RUNNING without a task)
//!   never are.
//! * Each task attempt is remembered from its first sight until it ends, so a RUNNING record
//!   committed again (every progress report re-commits it) is not a second start, and an end is
//!   counted once. Ended attempts are forgotten: what is held is bounded by the attempts
//!   waiting or running.
//! * Times are taken from the server's monotonic clock when the commits are observed, so
//!   sub-second waits and runs are measured; the records' own times have whole seconds. An
//!   attempt first seen already RUNNING (ready and claimed in one step, or queued before the
//!   server started) waited for what its records say.
//! * Commits carry every step's records in order (a group commit may hold an attempt's
//!   WAITING_FOR_RUNNER, RUNNING and FINISHED records together), and each is applied in turn.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use sluice_engine::{AttemptRecord, ChangeSet};
use sluice_model::Status;

use super::{GroupLabels, Metrics, group_label};

/// What is known of a task attempt that has not ended.
struct Live {
    running: bool,
    /// When it was seen ready, or claimed once `running`.
    since: Instant,
}

/// Counts one scheduler's attempt transitions into the service's [`Metrics`].
pub(crate) struct AttemptTracker {
    metrics: Arc<Metrics>,
    live: Mutex<HashMap<String, Live>>,
}

impl AttemptTracker {
    pub(crate) fn new(metrics: Arc<Metrics>) -> AttemptTracker {
        AttemptTracker {
            metrics,
            live: Mutex::new(HashMap::new()),
        }
    }

    /// Counts what a committed change set did to attempts.
    pub(crate) fn observe(&self, changes: &ChangeSet) {
        if changes.attempts.is_empty() {
            return;
        }
        let now = Instant::now();
        let mut live = crate::service::lock(&self.live);
        for attempt in &changes.attempts {
            self.apply(&mut live, attempt, now);
        }
    }

    fn apply(&self, live: &mut HashMap<String, Live>, attempt: &AttemptRecord, now: Instant) {
        let m = &self.metrics;
        let labels = || GroupLabels {
            worker_group: group_label(&attempt.worker_group),
        };
        let known = live.get(&attempt.attempt_id);
        match attempt.status {
            Status::WaitingForRunner if known.is_none() => {
                if attempt.number > 1 {
                    m.attempts_retried.get_or_create(&labels()).inc();
                }
                live.insert(
                    attempt.attempt_id.clone(),
                    Live {
                        running: false,
                        since: now,
                    },
                );
            }
            Status::Running if attempt.task_id.is_some() && !known.is_some_and(|l| l.running) => {
                let waited = match known {
                    Some(ready) => now.saturating_duration_since(ready.since),
                    None => {
                        if attempt.number > 1 {
                            m.attempts_retried.get_or_create(&labels()).inc();
                        }
                        recorded_wait(attempt)
                    }
                };
                let labels = labels();
                m.attempts_started.get_or_create(&labels).inc();
                m.ready_to_claimed
                    .get_or_create(&labels)
                    .observe(waited.as_secs_f64());
                live.insert(
                    attempt.attempt_id.clone(),
                    Live {
                        running: true,
                        since: now,
                    },
                );
            }
            status if status.is_terminal() => {
                let Some(ended) = live.remove(&attempt.attempt_id) else {
                    return;
                };
                let labels = labels();
                let counter = match status {
                    Status::Finished => &m.attempts_finished,
                    Status::Failed | Status::TimedOut => &m.attempts_failed,
                    _ => &m.attempts_canceled,
                };
                counter.get_or_create(&labels).inc();
                if ended.running {
                    m.attempt_duration
                        .get_or_create(&labels)
                        .observe(now.saturating_duration_since(ended.since).as_secs_f64());
                }
            }
            _ => {}
        }
    }
}

/// From the attempt's creation to its start, as its records say (whole seconds).
fn recorded_wait(attempt: &AttemptRecord) -> Duration {
    attempt
        .started_at
        .and_then(|started| (started - attempt.created_at).to_std().ok())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::NaiveDateTime;

    fn at(text: &str) -> NaiveDateTime {
        NaiveDateTime::parse_from_str(text, "%Y-%m-%dT%H:%M:%S").unwrap()
    }

    fn attempt(id: &str, number: u32, status: Status, group: &str) -> AttemptRecord {
        let running = !matches!(status, Status::WaitingForRunner | Status::Creating);
        AttemptRecord {
            pipeline_id: "df-1".into(),
            attempt_id: id.into(),
            instance_id: "@A_2026-01-01T00:00:00".into(),
            number,
            status,
            worker_group: group.into(),
            task_id: running.then(|| format!("task-{id}")),
            hostname: None,
            taskrunner_id: None,
            created_at: at("2026-01-01T00:00:00"),
            started_at: running.then(|| at("2026-01-01T00:00:07")),
            ended_at: None,
            lease_expires_at: None,
            result: None,
            fields: Default::default(),
        }
    }

    fn commit(tracker: &AttemptTracker, attempts: Vec<AttemptRecord>) {
        tracker.observe(&ChangeSet {
            attempts,
            ..ChangeSet::default()
        });
    }

    fn count(
        family: &prometheus_client::metrics::family::Family<
            GroupLabels,
            prometheus_client::metrics::counter::Counter,
        >,
        group: &str,
    ) -> u64 {
        family
            .get(&GroupLabels {
                worker_group: group.into(),
            })
            .map_or(0, |c| c.get())
    }

    #[test]
    fn each_transition_counts_once() {
        let metrics = Arc::new(Metrics::new());
        let tracker = AttemptTracker::new(Arc::clone(&metrics));
        commit(
            &tracker,
            vec![attempt("a1", 1, Status::WaitingForRunner, "wg")],
        );
        commit(&tracker, vec![attempt("a1", 1, Status::Running, "wg")]);
        // A progress report commits the RUNNING record again.
        commit(&tracker, vec![attempt("a1", 1, Status::Running, "wg")]);
        // The failure and its retry, then the retry claimed and finished, in one group commit.
        commit(
            &tracker,
            vec![
                attempt("a1", 1, Status::Failed, "wg"),
                attempt("a2", 2, Status::WaitingForRunner, "wg"),
                attempt("a2", 2, Status::Running, "wg"),
                attempt("a2", 2, Status::Finished, "wg"),
            ],
        );
        // An ended attempt committed again is not a second end.
        commit(&tracker, vec![attempt("a2", 2, Status::Finished, "wg")]);
        assert_eq!(count(&metrics.attempts_started, "wg"), 2);
        assert_eq!(count(&metrics.attempts_failed, "wg"), 1);
        assert_eq!(count(&metrics.attempts_finished, "wg"), 1);
        assert_eq!(count(&metrics.attempts_retried, "wg"), 1);
        assert!(crate::service::lock(&tracker.live).is_empty());
    }

    #[test]
    fn an_attempt_claimed_in_the_step_that_made_it_waited_what_its_records_say() {
        let metrics = Arc::new(Metrics::new());
        let tracker = AttemptTracker::new(Arc::clone(&metrics));
        commit(&tracker, vec![attempt("a3", 3, Status::Running, "")]);
        assert_eq!(count(&metrics.attempts_started, "(none)"), 1);
        assert_eq!(count(&metrics.attempts_retried, "(none)"), 1);
        let text = metrics.render(&super::super::Scraped::default());
        assert!(
            text.contains(
                "sluice_attempt_ready_to_claimed_seconds_sum{worker_group=\"(none)\"} 7.0\n"
            ),
            "{text}"
        );
    }

    #[test]
    fn resource_attempts_are_not_tasks() {
        let metrics = Arc::new(Metrics::new());
        let tracker = AttemptTracker::new(Arc::clone(&metrics));
        let mut creating = attempt("r1", 1, Status::Creating, "");
        creating.task_id = None;
        let mut running = attempt("r1", 1, Status::Running, "");
        running.task_id = None;
        let mut ended = attempt("r1", 1, Status::Finished, "");
        ended.task_id = None;
        commit(&tracker, vec![creating, running, ended]);
        assert_eq!(count(&metrics.attempts_started, "(none)"), 0);
        assert_eq!(count(&metrics.attempts_finished, "(none)"), 0);
    }

    #[test]
    fn an_attempt_canceled_while_waiting_never_ran() {
        let metrics = Arc::new(Metrics::new());
        let tracker = AttemptTracker::new(Arc::clone(&metrics));
        commit(
            &tracker,
            vec![attempt("w1", 1, Status::WaitingForRunner, "wg")],
        );
        commit(&tracker, vec![attempt("w1", 1, Status::Canceled, "wg")]);
        assert_eq!(count(&metrics.attempts_canceled, "wg"), 1);
        assert_eq!(count(&metrics.attempts_started, "wg"), 0);
        let text = metrics.render(&super::super::Scraped::default());
        assert!(
            !text.contains("sluice_attempt_duration_seconds_count{worker_group=\"wg\"}"),
            "{text}"
        );
    }
}
