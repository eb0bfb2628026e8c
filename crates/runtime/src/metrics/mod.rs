//! The service's metrics, for `GET /metrics` in the Prometheus text format (0.0.4).
//!
//! [`Metrics`] holds what is counted as it happens: API requests and errors by operation,
//! attempts started, finished, failed, canceled and retried by worker group, the time from an
//! attempt being ready to a runner claiming it and how long it ran, long polls waiting, state
//! store commits, resources provisioned. What the schedulers hold (instances by status,
//! pipelines by state, runners provisioned and not yet stopped) is read when scraped
//! ([`Service::render_metrics`]).
//!
//! Design decisions:
//! * **`prometheus-client`**, the Prometheus project's own Rust client: three small crates, a
//!   registry owned by each [`Service`] rather than a process-wide recorder (tests run several
//!   services in one process; the `metrics` facade and its exporter keep one global), classic
//!   histograms with fixed buckets, and an encoder for the text format Prometheus scrapes by
//!   default. Hand-written exposition would have to get escaping and histogram layout right
//!   itself.
//! * **Attempts are counted from committed change sets** (the scheduler's commit observer,
//!   [`attempts`]), so the engine stays a pure state machine without a metrics dependency, and
//!   a count means the change is durable. Lost leases, timeouts and cancellations decided by
//!   the engine are counted like results reported by runners.
//! * **Scrape-time values are computed, not tracked**: counting instances by status walks each
//!   scheduler's instances in memory (about 30 ms per million instances, under that
//!   scheduler's lock), which cannot drift from what DescribeObjects shows and costs nothing
//!   between scrapes.
//! * **Labels stay bounded**: operations are the 19 of the API (`unknown` for anything else),
//!   errors the AWS error types, worker groups those definitions name (a resource's own group,
//!   one per resource instance, becomes `@resource`; no group is `(none)`). No metric carries a
//!   pipeline, instance or task id.
//! * Commit latency is measured around the store the schedulers and the service write through
//!   ([`TimedStore`]), so it covers SQLite and PostgreSQL (and fenced commits of a shared
//!   deployment) alike.

mod attempts;
mod timed_store;

use std::collections::BTreeMap;
use std::time::Duration;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::encoding::prometheus_text::encode;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::{Metric, Registry};
use sluice_engine::StoreError;
use sluice_model::{PipelineState, Status};

pub(crate) use attempts::AttemptTracker;
pub(crate) use timed_store::TimedStore;

/// The `Content-Type` of [`Service::render_metrics`]'s text.
///
/// [`Service::render_metrics`]: crate::Service::render_metrics
pub const CONTENT_TYPE: &str = prometheus_client::encoding::prometheus_text::CONTENT_TYPE;

/// The `operation` label of a request that names no known operation.
pub const UNKNOWN_OPERATION: &str = "unknown";

/// Buckets of API request durations: milliseconds for most calls, up to the 90-second long
/// poll of PollForTask.
const REQUEST_BUCKETS: [f64; 14] = [
    0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 90.0,
];
/// Buckets of the wait from ready to claimed: milliseconds when a runner is idle, up to hours
/// when every runner of a group is busy or a resource is still starting.
const CLAIM_BUCKETS: [f64; 14] = [
    0.01, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 15.0, 60.0, 300.0, 900.0, 3600.0, 14400.0,
];
/// Buckets of attempt durations: from a quick shell command to a day-long copy.
const ATTEMPT_BUCKETS: [f64; 14] = [
    0.1, 0.5, 1.0, 2.5, 5.0, 15.0, 60.0, 300.0, 900.0, 1800.0, 3600.0, 14400.0, 43200.0, 86400.0,
];
/// Buckets of store commits: a fraction of a millisecond for SQLite without fsync, tens of
/// milliseconds for a remote PostgreSQL.
const COMMIT_BUCKETS: [f64; 14] = [
    0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 5.0,
];

/// Every pipeline state, so that each has a series even at zero.
const PIPELINE_STATES: [PipelineState; 6] = [
    PipelineState::Pending,
    PipelineState::Validating,
    PipelineState::Scheduled,
    PipelineState::Finished,
    PipelineState::Deactivating,
    PipelineState::Inactive,
];

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct OperationLabels {
    operation: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ErrorLabels {
    operation: &'static str,
    error: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct GroupLabels {
    worker_group: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct StatusLabels {
    status: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct StateLabels {
    state: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct PollerLabels {
    poller: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct CommitErrorLabels {
    error: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct VersionLabels {
    version: &'static str,
}

type Histograms<L> = Family<L, Histogram, fn() -> Histogram>;

fn request_histogram() -> Histogram {
    Histogram::new(REQUEST_BUCKETS)
}

fn claim_histogram() -> Histogram {
    Histogram::new(CLAIM_BUCKETS)
}

fn attempt_histogram() -> Histogram {
    Histogram::new(ATTEMPT_BUCKETS)
}

/// Who is waiting in a long poll.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Poller {
    /// A PollForTask call of the API.
    Api,
    /// The server's in-process task runner.
    InProcess,
}

impl Poller {
    fn label(self) -> &'static str {
        match self {
            Poller::Api => "api",
            Poller::InProcess => "in_process",
        }
    }
}

/// The metrics of one service, counted as things happen.
pub struct Metrics {
    registry: Registry,
    api_requests: Family<OperationLabels, Counter>,
    api_errors: Family<ErrorLabels, Counter>,
    api_duration: Histograms<OperationLabels>,
    attempts_started: Family<GroupLabels, Counter>,
    attempts_finished: Family<GroupLabels, Counter>,
    attempts_failed: Family<GroupLabels, Counter>,
    attempts_canceled: Family<GroupLabels, Counter>,
    attempts_retried: Family<GroupLabels, Counter>,
    ready_to_claimed: Histograms<GroupLabels>,
    attempt_duration: Histograms<GroupLabels>,
    long_polls: Family<PollerLabels, Gauge>,
    commit_duration: Histogram,
    commit_errors: Family<CommitErrorLabels, Counter>,
    resources_provisioned: Counter,
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Metrics").finish_non_exhaustive()
    }
}

impl Default for Metrics {
    fn default() -> Self {
        Metrics::new()
    }
}

impl Metrics {
    pub fn new() -> Metrics {
        let mut registry = Registry::default();
        let build = Family::<VersionLabels, Gauge>::default();
        build
            .get_or_create(&VersionLabels {
                version: env!("CARGO_PKG_VERSION"),
            })
            .set(1);
        registry.register(
            "sluice_build_info",
            "Always 1; the version label says which Sluice answers",
            build,
        );
        let r = &mut registry;
        let metrics = Metrics {
            api_requests: registered(
                r,
                "sluice_api_requests",
                "API requests answered, by operation (unknown for none)",
                Family::default(),
            ),
            api_errors: registered(
                r,
                "sluice_api_errors",
                "API requests answered with an error, by operation and AWS error type",
                Family::default(),
            ),
            api_duration: registered(
                r,
                "sluice_api_request_duration_seconds",
                "Time to answer an API request, by operation (PollForTask includes its long poll)",
                Family::new_with_constructor(request_histogram),
            ),
            attempts_started: registered(
                r,
                "sluice_attempts_started",
                "Attempts handed to a task runner, by worker group",
                Family::default(),
            ),
            attempts_finished: registered(
                r,
                "sluice_attempts_finished",
                "Attempts that ended FINISHED, by worker group",
                Family::default(),
            ),
            attempts_failed: registered(
                r,
                "sluice_attempts_failed",
                "Attempts that ended FAILED or TIMEDOUT (reported by the runner, lease lost, \
                 attemptTimeout, a field that could not be evaluated), by worker group",
                Family::default(),
            ),
            attempts_canceled: registered(
                r,
                "sluice_attempts_canceled",
                "Attempts that ended CANCELED (deactivation, operator, resource stopped), by \
                 worker group",
                Family::default(),
            ),
            attempts_retried: registered(
                r,
                "sluice_attempts_retried",
                "Attempts after an instance's first (retries, precondition rechecks, reruns), \
                 by worker group",
                Family::default(),
            ),
            ready_to_claimed: registered(
                r,
                "sluice_attempt_ready_to_claimed_seconds",
                "Time from an attempt being ready (WAITING_FOR_RUNNER) to a runner claiming it, \
                 by worker group",
                Family::new_with_constructor(claim_histogram),
            ),
            attempt_duration: registered(
                r,
                "sluice_attempt_duration_seconds",
                "Time from a runner claiming an attempt to its end, by worker group",
                Family::new_with_constructor(attempt_histogram),
            ),
            long_polls: registered(
                r,
                "sluice_long_polls_waiting",
                "PollForTask long polls waiting for a task now: the API's (api) and the \
                 in-process runner's (in_process)",
                Family::default(),
            ),
            commit_duration: registered(
                r,
                "sluice_store_commit_duration_seconds",
                "Time to commit a change set to the state store",
                Histogram::new(COMMIT_BUCKETS),
            ),
            commit_errors: registered(
                r,
                "sluice_store_commit_errors",
                "State store commits that failed, by kind (unavailable, conflict, corrupt)",
                Family::default(),
            ),
            resources_provisioned: registered(
                r,
                "sluice_resources_provisioned",
                "Task runners the provisioner was asked to start for managed resources",
                Counter::default(),
            ),
            registry,
        };
        // Both pollers have a series from the start, zero while nobody waits.
        for poller in [Poller::Api, Poller::InProcess] {
            let _ = metrics.long_polls.get_or_create(&PollerLabels {
                poller: poller.label(),
            });
        }
        metrics
    }

    /// Counts an API request answered after `elapsed`, with the AWS error type it failed
    /// with, if it did.
    pub fn api_request(&self, operation: &'static str, error: Option<&str>, elapsed: Duration) {
        let labels = OperationLabels { operation };
        self.api_requests.get_or_create(&labels).inc();
        self.api_duration
            .get_or_create(&labels)
            .observe(elapsed.as_secs_f64());
        if let Some(error) = error {
            self.api_errors
                .get_or_create(&ErrorLabels {
                    operation,
                    error: error.to_owned(),
                })
                .inc();
        }
    }

    /// Counts a long poll as waiting for as long as the returned guard lives.
    pub(crate) fn long_poll(&self, poller: Poller) -> LongPoll {
        let gauge = self.long_polls.get_or_create_owned(&PollerLabels {
            poller: poller.label(),
        });
        gauge.inc();
        LongPoll(gauge)
    }

    pub(crate) fn store_commit(&self, elapsed: Duration, error: Option<&StoreError>) {
        self.commit_duration.observe(elapsed.as_secs_f64());
        if let Some(error) = error {
            let kind = match error {
                StoreError::Unavailable(_) => "unavailable",
                StoreError::Conflict(_) => "conflict",
                _ => "corrupt",
            };
            self.commit_errors
                .get_or_create(&CommitErrorLabels { error: kind })
                .inc();
        }
    }

    pub(crate) fn resource_provisioned(&self) {
        self.resources_provisioned.inc();
    }

    /// The text exposition of these metrics and of `scraped`'s values.
    pub(crate) fn render(&self, scraped: &Scraped) -> String {
        let mut now = Registry::default();
        now.register(
            "sluice_instances",
            "Instances of the pipelines this server schedules, by status as DescribeObjects \
             shows it",
            counts(
                Status::ALL.map(Status::as_str),
                &scraped.instances,
                |status| StatusLabels { status },
            ),
        );
        now.register(
            "sluice_pipelines",
            "Activated pipelines this server schedules, by pipeline state",
            counts(
                PIPELINE_STATES.map(PipelineState::as_str),
                &scraped.pipelines,
                |state| StateLabels { state },
            ),
        );
        let provisioned = Gauge::<i64>::default();
        provisioned.set(gauge_value(scraped.provisioned));
        now.register(
            "sluice_provisioned_resources",
            "Task runners of managed resources started and not yet stopped",
            provisioned,
        );
        let mut text = String::new();
        // Writing to a String cannot fail.
        let _ = encode(&mut text, &self.registry);
        let _ = encode(&mut text, &now);
        text
    }
}

/// A gauge per name in `names` (zero when `counted` lacks it), labelled by `label`.
fn counts<L, const N: usize>(
    names: [&'static str; N],
    counted: &BTreeMap<&'static str, usize>,
    label: impl Fn(&'static str) -> L,
) -> Family<L, Gauge>
where
    L: Clone + std::hash::Hash + Eq + EncodeLabelSet + std::fmt::Debug + Send + Sync + 'static,
{
    let family = Family::<L, Gauge>::default();
    for name in names {
        let count = counted.get(name).copied().unwrap_or(0);
        family.get_or_create(&label(name)).set(gauge_value(count));
    }
    family
}

/// Registers `metric` (a handle sharing its values) and returns it.
fn registered<M: Metric + Clone>(registry: &mut Registry, name: &str, help: &str, metric: M) -> M {
    registry.register(name, help, metric.clone());
    metric
}

fn gauge_value(count: usize) -> i64 {
    i64::try_from(count).unwrap_or(i64::MAX)
}

/// What a scrape reads from the schedulers and the provisioner.
#[derive(Debug, Default)]
pub(crate) struct Scraped {
    /// By status name.
    pub(crate) instances: BTreeMap<&'static str, usize>,
    /// By state name.
    pub(crate) pipelines: BTreeMap<&'static str, usize>,
    pub(crate) provisioned: usize,
}

/// A long poll counted as waiting until dropped, however the wait ends.
pub(crate) struct LongPoll(Gauge);

impl Drop for LongPoll {
    fn drop(&mut self) {
        self.0.dec();
    }
}

/// The `worker_group` label of an attempt's group: resource instances' own groups (one per
/// instance) become `@resource`, and the empty group (tasks naming none) `(none)`.
fn group_label(worker_group: &str) -> String {
    if worker_group.is_empty() {
        "(none)".to_owned()
    } else if worker_group.starts_with('@') && worker_group != sluice_engine::SERVICE_WORKER_GROUP {
        "@resource".to_owned()
    } else {
        worker_group.to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resource_groups_share_one_label() {
        assert_eq!(group_label(""), "(none)");
        assert_eq!(group_label("wg-1"), "wg-1");
        assert_eq!(group_label("@Box_2026-01-01T00:00:00"), "@resource");
        assert_eq!(
            group_label(sluice_engine::SERVICE_WORKER_GROUP),
            sluice_engine::SERVICE_WORKER_GROUP
        );
    }

    #[test]
    fn every_status_and_state_has_a_series() {
        let text = Metrics::new().render(&Scraped::default());
        for status in Status::ALL {
            let line = format!("sluice_instances{{status=\"{}\"}} 0\n", status.as_str());
            assert!(text.contains(&line), "{line} missing from\n{text}");
        }
        assert!(
            text.contains("sluice_pipelines{state=\"SCHEDULED\"} 0\n"),
            "{text}"
        );
        assert!(
            text.contains("sluice_long_polls_waiting{poller=\"api\"} 0\n"),
            "{text}"
        );
    }
}
