//! Noticing worker groups nobody serves: tasks wait for a runner that never polls.
//!
//! Design decisions:
//! * Every PollForTask (remote runners, forwarded polls, the server's own runner) records the
//!   groups it asked for. After each tick, a group whose oldest ready task has waited longer
//!   than [`NO_POLLER_AFTER`] while no poll named it for as long is logged once as a warning,
//!   naming the group and the two ways to serve it; it is logged again only after a poll for
//!   it came and went.
//! * Groups of managed resources (`@…`) are left out: their runners are the provisioner's, and
//!   a resource that cannot start fails on its own terms.
//! * Time is the service clock's, so tests run it in virtual time.

use std::collections::{HashMap, HashSet};
use std::sync::Mutex;

use chrono::{Duration, NaiveDateTime};
use sluice_engine::GroupFilter;

use crate::service::Service;

/// How long ready tasks of a group wait, unpolled, before the warning.
pub(crate) const NO_POLLER_AFTER: Duration = Duration::minutes(1);

/// Polls seen per worker group, and the groups already warned about.
#[derive(Debug, Default)]
pub(crate) struct Pollers {
    inner: Mutex<PollersInner>,
}

#[derive(Debug, Default)]
struct PollersInner {
    last_poll: HashMap<String, NaiveDateTime>,
    /// The last poll for every group at once (`sluice run`'s runner).
    any_poll: Option<NaiveDateTime>,
    warned: HashSet<String>,
}

impl Pollers {
    /// Records a poll for the groups `filter` selects.
    pub(crate) fn polled(&self, filter: GroupFilter<'_>, now: NaiveDateTime) {
        let mut inner = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        let mut mark = |group: &str| {
            inner.last_poll.insert(group.to_owned(), now);
            inner.warned.remove(group);
        };
        match filter {
            GroupFilter::Exactly(group) => mark(group),
            GroupFilter::Local { extra } => {
                mark("");
                mark(sluice_engine::SERVICE_WORKER_GROUP);
                extra.iter().for_each(|g| mark(g));
            }
            GroupFilter::Any => {
                inner.any_poll = Some(now);
                inner.warned.clear();
            }
        }
    }

    /// The groups to warn about now, given each group's oldest ready task; each is then
    /// counted as warned.
    fn unserved(
        &self,
        ready: impl IntoIterator<Item = (String, NaiveDateTime)>,
        now: NaiveDateTime,
    ) -> Vec<(String, Duration)> {
        let mut inner = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        let mut out = Vec::new();
        for (group, since) in ready {
            if group.starts_with('@') || inner.warned.contains(&group) {
                continue;
            }
            let waited = now - since;
            let polled_recently = inner
                .last_poll
                .get(&group)
                .into_iter()
                .chain(inner.any_poll.as_ref())
                .any(|at| now - *at < NO_POLLER_AFTER);
            if waited >= NO_POLLER_AFTER && !polled_recently {
                inner.warned.insert(group.clone());
                out.push((group, waited));
            }
        }
        out
    }
}

impl Service {
    /// Logs a warning for each worker group with tasks nobody has polled for (see the module
    /// doc); returns the groups warned about.
    pub async fn warn_unserved_groups(&self) -> Vec<String> {
        let now = self.clock.now();
        let mut ready: HashMap<String, NaiveDateTime> = HashMap::new();
        for (_, scheduler) in self.schedulers() {
            for (group, since) in scheduler.inspect(|e| e.ready_groups()).await {
                ready
                    .entry(group)
                    .and_modify(|t| *t = (*t).min(since))
                    .or_insert(since);
            }
        }
        let unserved = self.pollers.unserved(ready, now);
        for (group, waited) in &unserved {
            let shown = if group.is_empty() { "(none)" } else { group };
            tracing::warn!(
                worker_group = %shown,
                waited_seconds = waited.num_seconds(),
                "tasks of worker group {shown} have waited {}s and no runner polls for them: \
                 start `sluice taskrunner --worker-group {shown}` against this server, or \
                 restart it with `--local-worker-group {shown}` to run them in process",
                waited.num_seconds()
            );
        }
        unserved.into_iter().map(|(group, _)| group).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sluice_model::time::parse_datetime;

    #[test]
    fn a_group_is_unserved_after_a_minute_without_polls_and_warned_once() {
        let at = |t: &str| parse_datetime(t).unwrap();
        let pollers = Pollers::default();
        let ready = || vec![("etl".to_owned(), at("2026-01-01T00:00:00"))];
        assert!(
            pollers
                .unserved(ready(), at("2026-01-01T00:00:59"))
                .is_empty()
        );
        let warned = pollers.unserved(ready(), at("2026-01-01T00:01:00"));
        assert_eq!(warned, [("etl".to_owned(), Duration::minutes(1))]);
        assert!(
            pollers
                .unserved(ready(), at("2026-01-01T00:05:00"))
                .is_empty()
        );
        // A poll came: served again; once it stops for a minute, warned again.
        pollers.polled(GroupFilter::Exactly("etl"), at("2026-01-01T00:05:00"));
        assert!(
            pollers
                .unserved(ready(), at("2026-01-01T00:05:30"))
                .is_empty()
        );
        assert_eq!(
            pollers.unserved(ready(), at("2026-01-01T00:06:00")).len(),
            1
        );
        let resource = vec![(
            "@Box_2026-01-01T00:00:00".to_owned(),
            at("2026-01-01T00:00:00"),
        )];
        assert!(
            pollers
                .unserved(resource, at("2026-01-01T01:00:00"))
                .is_empty()
        );
        // A runner taking every group serves them all.
        pollers.polled(GroupFilter::Any, at("2026-01-01T01:00:00"));
        let other = vec![("other".to_owned(), at("2026-01-01T00:00:00"))];
        assert!(
            pollers
                .unserved(other, at("2026-01-01T01:00:30"))
                .is_empty()
        );
    }
}
