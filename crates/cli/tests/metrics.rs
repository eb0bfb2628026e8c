//! `GET /metrics` of a real `sluice server`: scraped before and after a pipeline runs, the
//! counters move by what the run did (attempts started, finished, failed and retried, API
//! requests and errors by operation), the histograms count each attempt, the instance gauge
//! agrees with QueryObjects, and every scrape is well-formed Prometheus text. With
//! `--metrics-listen` the metrics move to their own port.
//!
//! The exposition is checked by a parser written here, not by the encoder that wrote it.

#[path = "clients/harness.rs"]
mod harness;
#[path = "clients/sdk_api.rs"]
mod sdk_api;

use std::collections::{BTreeMap, BTreeSet};
use std::net::SocketAddr;
use std::time::Duration;

use aws_sdk_datapipeline::error::ProvideErrorMetadata;
use harness::{Server, ServerConfig, raw_get, raw_post};
use sdk_api::{Api, one};
use serde_json::{Value, json};
use sluice_testsupport::poll::wait_for;

/// How long the pipeline may take to finish.
const DEADLINE: Duration = Duration::from_secs(60);
/// The worker group of the test's activities, served by the in-process runner.
const GROUP: &str = "wg-metrics";

// ---------------------------------------------------------------------------------------------
// The Prometheus text format (0.0.4), parsed strictly
// ---------------------------------------------------------------------------------------------

/// One scrape: every sample by its series (name and labels sorted by name), and each
/// family's declared type.
#[derive(Debug)]
struct Exposition {
    samples: BTreeMap<String, f64>,
    types: BTreeMap<String, String>,
}

fn series(name: &str, labels: &[(&str, &str)]) -> String {
    let mut labels = labels.to_vec();
    labels.sort();
    let inner: Vec<String> = labels.iter().map(|(k, v)| format!("{k}={v:?}")).collect();
    format!("{name}{{{}}}", inner.join(","))
}

fn is_name(text: &str, colons: bool) -> bool {
    let mut chars = text.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_' || (colons && c == ':'))
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || (colons && c == ':'))
}

/// `{a="x",b="y"}` (the braces included) into pairs, undoing the format's escapes.
fn parse_labels(text: &str) -> Result<Vec<(String, String)>, String> {
    let mut rest = text
        .strip_prefix('{')
        .and_then(|t| t.strip_suffix('}'))
        .ok_or_else(|| format!("labels {text:?} are not in braces"))?;
    let mut labels = Vec::new();
    while !rest.is_empty() {
        let (name, after) = rest
            .split_once("=\"")
            .ok_or_else(|| format!("label without =\" in {text:?}"))?;
        if !is_name(name, false) {
            return Err(format!("bad label name {name:?}"));
        }
        let mut value = String::new();
        let mut chars = after.char_indices();
        let end = loop {
            match chars.next() {
                Some((_, '\\')) => match chars.next() {
                    Some((_, 'n')) => value.push('\n'),
                    Some((_, c @ ('\\' | '"'))) => value.push(c),
                    other => return Err(format!("bad escape {other:?} in {text:?}")),
                },
                Some((i, '"')) => break i,
                Some((_, c)) => value.push(c),
                None => return Err(format!("unterminated label value in {text:?}")),
            }
        };
        labels.push((name.to_owned(), value));
        rest = &after[end + 1..];
        rest = match rest.strip_prefix(',') {
            Some(more) => more,
            None if rest.is_empty() => rest,
            None => return Err(format!("junk after a label value in {text:?}")),
        };
    }
    Ok(labels)
}

/// The family a sample belongs to: its own name, or a histogram's `_bucket`, `_sum`, `_count`.
fn family_of<'a>(name: &'a str, types: &BTreeMap<String, String>) -> Option<&'a str> {
    if types.contains_key(name) {
        return Some(name);
    }
    ["_bucket", "_sum", "_count"].iter().find_map(|suffix| {
        let base = name.strip_suffix(suffix)?;
        (types.get(base).map(String::as_str) == Some("histogram")).then_some(base)
    })
}

fn parse(text: &str) -> Result<Exposition, String> {
    let mut types = BTreeMap::new();
    let mut helped = BTreeSet::new();
    let mut samples = BTreeMap::new();
    let mut buckets: BTreeMap<String, Vec<(f64, f64)>> = BTreeMap::new();
    let mut seen_samples_of = BTreeSet::new();
    for line in text.lines() {
        if let Some(comment) = line.strip_prefix("# ") {
            let mut words = comment.splitn(3, ' ');
            let (kind, name) = (words.next().unwrap_or(""), words.next().unwrap_or(""));
            let rest = words.next().unwrap_or("");
            match kind {
                "HELP" if !helped.insert(name.to_owned()) => {
                    return Err(format!("second HELP for {name}"));
                }
                "TYPE" => {
                    if !["counter", "gauge", "histogram", "summary", "untyped"].contains(&rest) {
                        return Err(format!("bad TYPE line {line:?}"));
                    }
                    if seen_samples_of.contains(name) {
                        return Err(format!("TYPE of {name} after its samples"));
                    }
                    if types.insert(name.to_owned(), rest.to_owned()).is_some() {
                        return Err(format!("second TYPE for {name}"));
                    }
                }
                _ => {}
            }
            continue;
        }
        if line.is_empty() {
            continue;
        }
        let (key, value) = line
            .rsplit_once(' ')
            .ok_or_else(|| format!("no value in {line:?}"))?;
        let value: f64 = match value {
            "+Inf" => f64::INFINITY,
            "-Inf" => f64::NEG_INFINITY,
            other => other
                .parse()
                .map_err(|_| format!("bad value {other:?} in {line:?}"))?,
        };
        let (name, labels) = match key.find('{') {
            Some(at) => (&key[..at], parse_labels(&key[at..])?),
            None => (key, Vec::new()),
        };
        if !is_name(name, true) || !name.starts_with("sluice_") {
            return Err(format!("bad metric name {name:?}"));
        }
        let family = family_of(name, &types).ok_or_else(|| format!("{name} has no TYPE"))?;
        seen_samples_of.insert(family.to_owned());
        if types[family] == "counter" && !family.ends_with("_total") {
            return Err(format!("counter {family} does not end in _total"));
        }
        let pairs: Vec<(&str, &str)> = labels
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        if name.ends_with("_bucket") {
            let le = labels
                .iter()
                .find(|(k, _)| k == "le")
                .ok_or_else(|| format!("bucket without le: {line:?}"))?;
            let bound = if le.1 == "+Inf" {
                f64::INFINITY
            } else {
                le.1.parse().map_err(|_| format!("bad le in {line:?}"))?
            };
            let others: Vec<(&str, &str)> =
                pairs.iter().copied().filter(|(k, _)| *k != "le").collect();
            buckets
                .entry(series(family, &others))
                .or_default()
                .push((bound, value));
        }
        if samples.insert(series(name, &pairs), value).is_some() {
            return Err(format!("duplicate series {line:?}"));
        }
    }
    // Buckets rise with their bounds, end at +Inf, and +Inf holds the count.
    for (histogram, list) in &buckets {
        if list.windows(2).any(|w| w[0].0 >= w[1].0 || w[0].1 > w[1].1) {
            return Err(format!("{histogram}: buckets not cumulative: {list:?}"));
        }
        let (last_bound, last_count) = *list.last().unwrap();
        let name = &histogram[..histogram.find('{').unwrap()];
        let count_series = histogram.replacen(name, &format!("{name}_count"), 1);
        if last_bound != f64::INFINITY || samples.get(&count_series) != Some(&last_count) {
            return Err(format!(
                "{histogram}: the +Inf bucket ({last_count}) is not _count ({:?})",
                samples.get(&count_series)
            ));
        }
    }
    Ok(Exposition { samples, types })
}

impl Exposition {
    /// A series' value; 0 when absent (a labelled counter appears with its first event).
    fn value(&self, name: &str, labels: &[(&str, &str)]) -> f64 {
        self.samples
            .get(&series(name, labels))
            .copied()
            .unwrap_or(0.0)
    }

    /// The sum of every series of `name`.
    fn total(&self, name: &str) -> f64 {
        self.samples
            .iter()
            .filter(|(k, _)| k.starts_with(&format!("{name}{{")))
            .map(|(_, v)| v)
            .sum()
    }
}

/// `GET /metrics` at `addr`: must answer 200 in the text format and parse.
fn scrape(addr: SocketAddr) -> Exposition {
    let response = raw_get(addr, "/metrics");
    assert_eq!(response.status, 200, "{response:?}");
    assert_eq!(
        response.header("content-type"),
        Some("text/plain; version=0.0.4; charset=utf-8")
    );
    parse(&response.body).unwrap_or_else(|e| panic!("{e}\n{}", response.body))
}

#[test]
fn the_parser_refuses_what_prometheus_would() {
    let good =
        "# HELP sluice_x_total X.\n# TYPE sluice_x_total counter\nsluice_x_total{a=\"q\\\"\"} 1\n";
    let parsed = parse(good).unwrap();
    assert_eq!(parsed.value("sluice_x_total", &[("a", "q\"")]), 1.0);
    for bad in [
        "sluice_x_total 1\n",
        "# TYPE sluice_x counter\nsluice_x 1\n",
        "# TYPE sluice_x_total counter\nsluice_x_total{a=\"1} 1\n",
        "# TYPE sluice_h histogram\nsluice_h_bucket{le=\"1\"} 2\nsluice_h_bucket{le=\"+Inf\"} 1\nsluice_h_count 1\n",
        "# TYPE sluice_h histogram\nsluice_h_bucket{le=\"+Inf\"} 2\nsluice_h_count 1\n",
        "# TYPE sluice_g gauge\nsluice_g 1\nsluice_g 2\n",
    ] {
        assert!(parse(bad).is_err(), "accepted {bad:?}");
    }
}

// ---------------------------------------------------------------------------------------------
// A run, scraped
// ---------------------------------------------------------------------------------------------

/// An on-demand pipeline of two shell activities of [`GROUP`]: one succeeds, the other fails
/// its first attempt (it leaves a mark) and succeeds on the retry.
fn flaky_pipeline(mark: &std::path::Path) -> Value {
    let mark = sluice_testsupport::files::sh_quoted(mark);
    json!([
        {"id": "Default", "scheduleType": "ondemand", "failureAndRerunMode": "CASCADE",
         "role": "DataPipelineDefaultRole", "resourceRole": "DataPipelineDefaultResourceRole"},
        {"id": "Steady", "type": "ShellCommandActivity", "workerGroup": GROUP,
         "command": "echo steady"},
        {"id": "Flaky", "type": "ShellCommandActivity", "workerGroup": GROUP,
         "maximumRetries": "1", "retryDelay": "1 seconds",
         "command": format!("if [ -e {mark} ]; then exit 0; fi; touch {mark}; exit 3")},
    ])
}

fn metrics_server(extra: &[&str]) -> Server {
    let mut args = vec!["--local-worker-group", GROUP];
    args.extend_from_slice(extra);
    Server::start_with(ServerConfig {
        args: args.into_iter().map(str::to_owned).collect(),
        ..ServerConfig::default()
    })
}

#[test]
fn counters_follow_a_run() {
    let dir = tempfile::tempdir().unwrap();
    let settings = dir.path().join("settings.json");
    std::fs::write(&settings, json!({"pollWaitSeconds": 2}).to_string()).unwrap();
    let server = metrics_server(&["--settings", settings.to_str().unwrap()]);
    let api = Api::new(&server.endpoint);
    // Unsigned, on the API's port.
    let before = scrape(server.addr);

    // Two requests that fail: one the service refuses, one that is not signed.
    let refused = api.rt.block_on(
        api.client
            .describe_pipelines()
            .pipeline_ids("df-00000000000000000000")
            .send(),
    );
    let refused = refused.expect_err("an unknown pipeline is an error");
    assert_eq!(refused.code(), Some("PipelineNotFoundException"));
    let unsigned = raw_post(
        server.addr,
        &[
            ("x-amz-target".into(), "DataPipeline.ListPipelines".into()),
            ("content-type".into(), "application/x-amz-json-1.1".into()),
        ],
        b"{}",
    );
    assert!((400..500).contains(&unsigned.status), "{unsigned:?}");
    let unsigned_error = unsigned
        .header("x-amzn-ErrorType")
        .expect("an error type")
        .to_owned();

    // A long poll of a group nobody feeds waits, and is counted while it does.
    let poller = {
        let endpoint = server.endpoint.clone();
        std::thread::spawn(move || {
            let api = Api::new(&endpoint);
            api.rt
                .block_on(api.client.poll_for_task().worker_group("wg-idle").send())
                .expect("poll_for_task")
                .task_object
                .is_none()
        })
    };
    let waiting = ("poller", "api");
    wait_for("the long poll to be counted", DEADLINE, || {
        let n = scrape(server.addr).value("sluice_long_polls_waiting", &[waiting]);
        if n == 1.0 {
            Ok(())
        } else {
            Err(format!("{n} waiting"))
        }
    });
    assert!(poller.join().unwrap(), "a task for a group with no work");
    assert_eq!(
        scrape(server.addr).value("sluice_long_polls_waiting", &[waiting]),
        0.0
    );

    let pipeline = api.launch("metrics", flaky_pipeline(&dir.path().join("mark")));
    let group = ("worker_group", GROUP);
    let after = wait_for("both activities to finish", DEADLINE, || {
        let now = scrape(server.addr);
        let finished = now.value("sluice_attempts_finished_total", &[group]);
        if finished == 2.0 {
            Ok(now)
        } else {
            Err(format!("{finished} finished"))
        }
    });
    let moved = |name: &str, labels: &[(&str, &str)]| {
        after.value(name, labels) - before.value(name, labels)
    };

    // Attempts: Steady once, Flaky twice (the first failed, the second was its retry).
    assert_eq!(moved("sluice_attempts_started_total", &[group]), 3.0);
    assert_eq!(moved("sluice_attempts_finished_total", &[group]), 2.0);
    assert_eq!(moved("sluice_attempts_failed_total", &[group]), 1.0);
    assert_eq!(moved("sluice_attempts_retried_total", &[group]), 1.0);
    assert_eq!(moved("sluice_attempts_canceled_total", &[group]), 0.0);
    for histogram in [
        "sluice_attempt_ready_to_claimed_seconds",
        "sluice_attempt_duration_seconds",
    ] {
        assert_eq!(
            moved(&format!("{histogram}_count"), &[group]),
            3.0,
            "{histogram}"
        );
        assert_eq!(after.types[histogram], "histogram");
    }
    // The retry became ready after its retryDelay, not at the failure: with a runner idle, no
    // attempt waited long to be claimed.
    assert!(
        moved("sluice_attempt_ready_to_claimed_seconds_sum", &[group]) < 60.0,
        "{:?}",
        after.samples
    );

    // API requests: exactly the calls made, each under its operation, errors by type.
    let op = |name: &'static str| [("operation", name)];
    for (operation, calls) in [
        ("DescribePipelines", 1.0),
        ("ListPipelines", 1.0),
        ("PollForTask", 1.0),
        ("CreatePipeline", 1.0),
        ("PutPipelineDefinition", 1.0),
        ("ActivatePipeline", 1.0),
    ] {
        assert_eq!(
            moved("sluice_api_requests_total", &op(operation)),
            calls,
            "{operation}"
        );
        assert_eq!(
            moved("sluice_api_request_duration_seconds_count", &op(operation)),
            calls,
            "{operation}"
        );
    }
    assert_eq!(
        after.total("sluice_api_requests_total") - before.total("sluice_api_requests_total"),
        6.0
    );
    assert_eq!(
        moved(
            "sluice_api_errors_total",
            &[
                ("operation", "DescribePipelines"),
                ("error", "PipelineNotFoundException")
            ]
        ),
        1.0
    );
    assert_eq!(
        moved(
            "sluice_api_errors_total",
            &[("operation", "ListPipelines"), ("error", &unsigned_error)]
        ),
        1.0
    );
    assert_eq!(
        after.total("sluice_api_errors_total") - before.total("sluice_api_errors_total"),
        2.0
    );
    // PollForTask's long poll shows in its duration.
    assert!(
        moved(
            "sluice_api_request_duration_seconds_sum",
            &op("PollForTask")
        ) >= 1.9,
        "{:?}",
        after.samples
    );

    // The state store committed what the run changed.
    let commits = "sluice_store_commit_duration_seconds_count";
    assert!(moved(commits, &[]) >= 3.0, "{}", moved(commits, &[]));
    assert!(moved("sluice_store_commit_duration_seconds_sum", &[]) > 0.0);
    assert_eq!(after.total("sluice_store_commit_errors_total"), 0.0);

    // No managed resource was involved.
    assert_eq!(after.value("sluice_provisioned_resources", &[]), 0.0);
    assert_eq!(moved("sluice_resources_provisioned_total", &[]), 0.0);

    // The gauges agree with what the API says, asked after the last scrape.
    let by_status = instances_by_status(&api, &pipeline);
    assert_eq!(by_status.get("FINISHED"), Some(&2.0), "{by_status:?}");
    assert_eq!(instance_gauges(&after), by_status);
    let state = api.rt.block_on(async {
        let described = api
            .client
            .describe_pipelines()
            .pipeline_ids(&pipeline)
            .send()
            .await
            .expect("describe_pipelines");
        described.pipeline_description_list[0]
            .fields
            .iter()
            .find(|f| f.key == "@pipelineState")
            .and_then(|f| f.string_value.clone())
            .expect("@pipelineState")
    });
    assert_eq!(after.value("sluice_pipelines", &[("state", &state)]), 1.0);
    assert_eq!(after.total("sluice_pipelines"), 1.0);
}

/// QueryObjects' count of a pipeline's instances by `@status`.
fn instances_by_status(api: &Api, pipeline: &str) -> BTreeMap<String, f64> {
    let mut by_status = BTreeMap::new();
    for fields in api.objects(pipeline, "INSTANCE").unwrap().values() {
        *by_status
            .entry(one(fields, "@status").unwrap().to_owned())
            .or_default() += 1.0;
    }
    by_status
}

/// The non-zero `sluice_instances` gauges by status.
fn instance_gauges(scraped: &Exposition) -> BTreeMap<String, f64> {
    scraped
        .samples
        .iter()
        .filter(|(_, value)| **value != 0.0)
        .filter_map(|(key, value)| {
            let status = key
                .strip_prefix("sluice_instances{status=\"")?
                .strip_suffix("\"}")?;
            Some((status.to_owned(), *value))
        })
        .collect()
}

#[test]
fn a_managed_resource_is_counted_while_its_runner_lives() {
    let dir = tempfile::tempdir().unwrap();
    let server = metrics_server(&[]);
    let api = Api::new(&server.endpoint);
    let release = dir.path().join("release");
    let pipeline = api.launch(
        "metrics-resource",
        json!([
            {"id": "Default", "scheduleType": "ondemand", "failureAndRerunMode": "CASCADE",
             "role": "DataPipelineDefaultRole", "resourceRole": "DataPipelineDefaultResourceRole"},
            {"id": "Box", "type": "Ec2Resource", "instanceType": "t2.micro",
             "imageId": "ami-12345678", "subnetId": "subnet-1"},
            {"id": "Job", "type": "ShellCommandActivity", "runsOn": {"ref": "Box"},
             "command": format!(
                 "until [ -e {} ]; do sleep 0.05; done",
                 sluice_testsupport::files::sh_quoted(&release)
             )},
        ]),
    );
    // Work on a resource counts under one label, whichever resource instance runs it.
    let resource = ("worker_group", "@resource");
    wait_for("the job to run on its resource", DEADLINE, || {
        let now = scrape(server.addr);
        let running = (
            now.value("sluice_provisioned_resources", &[]),
            now.value("sluice_resources_provisioned_total", &[]),
            now.value("sluice_attempts_started_total", &[resource]),
        );
        if running == (1.0, 1.0, 1.0) {
            Ok(())
        } else {
            Err(format!("{running:?}"))
        }
    });
    std::fs::write(&release, "").unwrap();
    let after = wait_for("the resource to be released", DEADLINE, || {
        let now = scrape(server.addr);
        let ended = (
            now.value("sluice_attempts_finished_total", &[resource]),
            now.value("sluice_provisioned_resources", &[]),
            now.value("sluice_instances", &[("status", "FINISHED")]),
        );
        if ended == (1.0, 0.0, 2.0) {
            Ok(now)
        } else {
            Err(format!("{ended:?}"))
        }
    });
    assert_eq!(after.value("sluice_resources_provisioned_total", &[]), 1.0);
    assert_eq!(
        after.value("sluice_attempt_duration_seconds_count", &[resource]),
        1.0
    );
    // The resource's own attempt is not a task: nothing else was started.
    assert_eq!(after.total("sluice_attempts_started_total"), 1.0);
    assert_eq!(
        instance_gauges(&after),
        instances_by_status(&api, &pipeline)
    );
}

#[test]
fn metrics_listen_moves_the_metrics_to_their_own_port() {
    let server = metrics_server(&["--metrics-listen", "127.0.0.1:0"]);
    let output = server.output();
    let url = output
        .lines()
        .find_map(|l| l.strip_prefix("sluice server metrics on "))
        .unwrap_or_else(|| panic!("no metrics address in {output}"));
    let metrics_addr: SocketAddr = url
        .strip_prefix("http://")
        .and_then(|u| u.strip_suffix("/metrics"))
        .unwrap_or_else(|| panic!("metrics URL {url}"))
        .parse()
        .unwrap();
    assert_ne!(metrics_addr, server.addr);

    // The API's port answers /metrics as any other unknown path; the metrics port serves only
    // the metrics.
    let on_api = raw_get(server.addr, "/metrics");
    assert_eq!(
        on_api.header("x-amzn-ErrorType"),
        Some("UnknownOperationException"),
        "{on_api:?}"
    );
    assert_eq!(raw_get(metrics_addr, "/healthz").status, 404);
    assert_eq!(raw_get(server.addr, "/healthz").status, 200);

    let api = Api::new(&server.endpoint);
    assert_eq!(api.list_pipelines(), Ok(0));
    let scraped = scrape(metrics_addr);
    assert_eq!(
        scraped.value(
            "sluice_api_requests_total",
            &[("operation", "ListPipelines")]
        ),
        1.0
    );
    // The GET /metrics the API's port refused, counted as a request naming no operation.
    assert_eq!(
        scraped.value(
            "sluice_api_errors_total",
            &[
                ("operation", "unknown"),
                ("error", "UnknownOperationException")
            ]
        ),
        1.0
    );
    assert_eq!(
        scraped.total("sluice_api_requests_total"),
        2.0,
        "{:?}",
        scraped.samples
    );
}
