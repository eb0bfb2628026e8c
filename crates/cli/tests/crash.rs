//! `sluice run` killed with SIGKILL and run again: finished work is never redone, the attempt
//! that was running is ended as interrupted and retried at once, and nothing runs more often
//! than the workers that could have been busy at the kill allow.

mod common;

use std::collections::BTreeMap;
use std::time::Duration;

use chrono::Duration as Span;
use serde_json::json;
use sluice_testsupport::files::{lines, read};
use sluice_testsupport::poll::wait_until;
use sluice_testsupport::process::is_running;

use common::{Sandbox, datetime, default_object, now, ondemand_default, shell};

/// Lines of `marker` that are `<id> <event>…`.
fn count(marker: &[String], id: &str, event: &str) -> usize {
    marker
        .iter()
        .filter(|l| {
            let mut words = l.split_whitespace();
            words.next() == Some(id) && words.next() == Some(event)
        })
        .count()
}

#[test]
fn a_killed_chain_resumes_where_it_stopped() {
    let sb = Sandbox::new();
    let marker_path = sb.path("marker");
    let marker = sb.sh("marker");
    let ids = ["S1", "S2", "S3", "S4", "S5", "S6"];
    // Each step writes its pid with its start, so the test can wait for a step orphaned by
    // the kill (it runs in its own process group and survives its runner).
    let step = format!("echo \"$1 start $$\" >> {marker}; sleep 0.4; echo \"$1 end\" >> {marker}");
    let mut objects = vec![ondemand_default(json!({
        "maximumRetries": "2",
        "retryDelay": "1 seconds"
    }))];
    for (k, id) in ids.iter().enumerate() {
        let mut extra = json!({ "scriptArgument": id });
        if k > 0 {
            extra["dependsOn"] = json!({ "ref": ids[k - 1] });
        }
        objects.push(shell(id, &step, extra));
    }
    let def = sb.write_definition("chain.json", json!(objects));

    let mut command = sb.command(&def);
    command.arg("--data-dir").arg(sb.data_dir());
    let mut first = sb.spawn(command);
    wait_until("S3 to start", Duration::from_secs(30), || {
        first.assert_running();
        count(&lines(&marker_path), "S3", "start") == 1
    });
    first.kill();
    let at_kill = lines(&marker_path);
    assert_eq!(
        count(&at_kill, "S3", "end"),
        0,
        "S3 was still running at the kill: {at_kill:?}"
    );
    // The orphaned S3 shell finishes on its own; wait for it so that it cannot be confused
    // with the retry.
    let orphan: u32 = at_kill
        .iter()
        .find(|l| l.starts_with("S3 start "))
        .and_then(|l| l.split_whitespace().nth(2))
        .and_then(|pid| pid.parse().ok())
        .expect("S3 wrote its pid");
    wait_until("the orphaned S3 to end", Duration::from_secs(10), || {
        !is_running(orphan)
    });
    assert_eq!(count(&lines(&marker_path), "S3", "end"), 1);

    let out = sb.run(&def, &["--output", "json"]);
    out.assert_code(0);
    let report = out.report();
    let marker_lines = lines(&marker_path);
    for id in ids {
        let instance = report.one(id);
        assert_eq!(instance.status, "FINISHED", "{id}: {}", out.stdout);
        let (attempts, runs) = if id == "S3" { (2, 2) } else { (1, 1) };
        assert_eq!(instance.attempts, attempts, "{id}: {}", out.stdout);
        assert_eq!(
            count(&marker_lines, id, "start"),
            runs,
            "{id} started {runs} times: {marker_lines:?}"
        );
        assert_eq!(count(&marker_lines, id, "end"), runs, "{marker_lines:?}");
    }
    // Steps after S3 ran after the retry of S3, in order.
    let position = |line: &str| {
        marker_lines
            .iter()
            .rposition(|l| l.starts_with(line))
            .unwrap_or_else(|| panic!("{line} in {marker_lines:?}"))
    };
    for pair in ids[2..].windows(2) {
        assert!(
            position(&format!("{} end", pair[0])) < position(&format!("{} start", pair[1])),
            "{marker_lines:?}"
        );
    }

    // The interrupted attempt says why it was given up on.
    let s3 = report.one("S3");
    let interrupted = format!("{}_Attempt=1", s3.id);
    let resumed: Vec<&str> = report
        .resumed
        .iter()
        .filter(|r| r.retried)
        .map(|r| r.interrupted_attempt.as_str())
        .collect();
    assert_eq!(resumed, [interrupted.as_str()]);
    let events = read(
        &sb.data_dir()
            .join("logs")
            .join(&report.pipeline_id)
            .join("events.log"),
    );
    let interrupted_events: Vec<&str> = events
        .lines()
        .filter(|line| line.contains(&format!(" {interrupted} ")))
        .collect();
    assert!(
        interrupted_events
            .iter()
            .any(|l| l.ends_with(" RUNNING") || l.contains(" RUNNING on "))
            && interrupted_events
                .iter()
                .any(|l| l.contains(" FAILED: interrupted: the process that ran it stopped")),
        "events.log lines of the interrupted attempt:\n{interrupted_events:#?}"
    );
}

#[test]
fn a_killed_backfill_runs_each_instance_once_more_at_most() {
    const INSTANCES: i64 = 200;
    const WORKERS: usize = 2;
    let sb = Sandbox::new();
    let marker_path = sb.path("marker");
    let marker = sb.sh("marker");
    // 200 hourly intervals, the last one starting now.
    let start = now() - Span::hours(INSTANCES - 1);
    let def = sb.write_definition(
        "backfill.json",
        json!([
            default_object(
                json!({
                    "scheduleType": "cron",
                    "schedule": { "ref": "Hourly" },
                    "maximumRetries": "2",
                    "retryDelay": "1 seconds"
                }),
                json!({})
            ),
            {
                "id": "Hourly",
                "type": "Schedule",
                "period": "1 hour",
                "startDateTime": datetime(start)
            },
            shell("Tick", &format!("echo \"$1\" >> {marker}"), json!({
                "scriptArgument": "#{@scheduledStartTime}"
            })),
        ]),
    );
    let workers = WORKERS.to_string();
    let mut command = sb.command(&def);
    command
        .arg("--data-dir")
        .arg(sb.data_dir())
        .args(["--workers", &workers]);
    let mut first = sb.spawn(command);
    wait_until("50 executions", Duration::from_secs(60), || {
        first.assert_running();
        lines(&marker_path).len() >= 50
    });
    first.kill();
    let at_kill = lines(&marker_path).len();
    assert!(
        at_kill < INSTANCES as usize,
        "the kill came before the end ({at_kill} executions)"
    );

    let out = sb.run(&def, &["--workers", &workers, "--output", "json"]);
    out.assert_code(0);
    let report = out.report();
    let ticks = report.of("Tick");
    assert_eq!(ticks.len(), INSTANCES as usize);
    for (k, tick) in ticks.iter().enumerate() {
        assert_eq!(tick.status, "FINISHED", "{tick:?}");
        assert_eq!(tick.scheduled_start, start + Span::hours(k as i64));
    }
    // Only attempts running at the kill were run twice, each once more.
    let retried: Vec<_> = ticks.iter().filter(|t| t.attempts > 1).collect();
    assert!(retried.len() <= WORKERS, "{retried:?}");
    assert!(retried.iter().all(|t| t.attempts == 2), "{retried:?}");

    let executions = lines(&marker_path);
    let mut per_instance: BTreeMap<&str, usize> = BTreeMap::new();
    for line in &executions {
        *per_instance.entry(line.as_str()).or_default() += 1;
    }
    assert_eq!(per_instance.len(), INSTANCES as usize, "every instance ran");
    for tick in &ticks {
        let ran = per_instance
            .get(datetime(tick.scheduled_start).as_str())
            .copied()
            .unwrap_or(0);
        assert!(
            ran as u64 <= tick.attempts,
            "{tick:?} ran {ran} times in {} attempts",
            tick.attempts
        );
    }
    assert!(
        executions.len() <= INSTANCES as usize + WORKERS,
        "{} executions of {INSTANCES} instances with {WORKERS} workers",
        executions.len()
    );
}

#[test]
fn a_kill_during_a_retry_delay_keeps_the_pending_retry() {
    let sb = Sandbox::new();
    let counter = sb.sh("counter");
    // Fails on its first run, succeeds on its second.
    let command = format!(
        "n=$(cat {counter} 2>/dev/null || echo 0); n=$((n + 1)); echo $n > {counter}; [ $n -ge 2 ]"
    );
    let def = sb.write_definition(
        "retry.json",
        json!([
            ondemand_default(json!({})),
            shell(
                "Flaky",
                &command,
                json!({ "maximumRetries": "1", "retryDelay": "3 seconds" })
            ),
        ]),
    );
    let mut command = sb.command(&def);
    command.arg("--data-dir").arg(sb.data_dir());
    let mut first = sb.spawn(command);
    // events.log is written once the store has the failure: the retry is pending from then.
    let logs = sb.data_dir().join("logs");
    let first_failed = || {
        let Ok(pipelines) = std::fs::read_dir(&logs) else {
            return false;
        };
        pipelines.flatten().any(|pipeline| {
            read(&pipeline.path().join("events.log"))
                .lines()
                .any(|line| line.contains("_Attempt=1 FAILED"))
        })
    };
    wait_until("the first attempt to fail", Duration::from_secs(30), || {
        first.assert_running();
        first_failed()
    });
    first.kill();
    assert_eq!(
        read(&sb.path("counter")).trim(),
        "1",
        "the retry had not run yet"
    );

    let out = sb.run(&def, &["--output", "json"]);
    out.assert_code(0);
    let flaky = out.report().one("Flaky").clone();
    assert_eq!((flaky.status.as_str(), flaky.attempts), ("FINISHED", 2));
    assert_eq!(read(&sb.path("counter")).trim(), "2");
}
