//! `sluice run` end to end: the real binary on definitions written to temporary directories,
//! each test with its own data directory. Commands leave marker files behind; the tests wait
//! for conditions with deadlines, never for fixed times.

mod common;

use std::collections::BTreeSet;
use std::time::Duration;

use chrono::Duration as Span;
use serde_json::json;
use sluice_testsupport::files::{lines, read};
use sluice_testsupport::poll::wait_until;
use sluice_testsupport::process::{is_running, send_signal};

use common::{Sandbox, datetime, default_object, now, ondemand_default, shell};

/// A command that counts its runs in `counter` and fails (after writing to stderr) until
/// it has run `succeed_on` times.
fn counting_command(counter: &str, succeed_on: u32) -> String {
    format!(
        "n=$(cat {counter} 2>/dev/null || echo 0); n=$((n + 1)); echo $n > {counter}; \
         if [ $n -lt {succeed_on} ]; then echo \"run $n fails\" >&2; exit 1; fi"
    )
}

// 1. Everything finishes: exit 0, the text table and summary, the exact JSON shape.

#[test]
fn a_pipeline_that_finishes_exits_0_and_reports_every_instance() {
    let sb = Sandbox::new();
    let marker = sb.sh("marker");
    let def = sb.write_definition(
        "p.json",
        json!([
            ondemand_default(json!({})),
            shell("Extract", &format!("echo Extract >> {marker}"), json!({})),
            shell(
                "Load",
                &format!("echo Load >> {marker}"),
                json!({ "dependsOn": { "ref": "Extract" } })
            ),
            shell("Audit", &format!("echo Audit >> {marker}"), json!({})),
        ]),
    );

    let before = now();
    let out = sb.run(&def, &[]);
    out.assert_code(0);
    let text = &out.stdout;
    let rows: Vec<Vec<&str>> = text
        .lines()
        .skip(1)
        .take_while(|l| !l.is_empty())
        .map(|l| l.split_whitespace().collect())
        .collect();
    assert_eq!(
        text.lines().next().map(|l| l.split_whitespace().collect()),
        Some(vec!["INSTANCE", "STATUS", "ATTEMPTS"]),
        "{text}"
    );
    assert_eq!(rows.len(), 3, "{text}");
    let mut seen = BTreeSet::new();
    for row in &rows {
        let [id, status, attempts] = row[..] else {
            panic!("row {row:?} in\n{text}");
        };
        let component = id
            .strip_prefix('@')
            .and_then(|rest| rest.split_once('_'))
            .map(|(component, _)| component)
            .unwrap_or_else(|| panic!("instance id {id}"));
        seen.insert(component.to_owned());
        assert_eq!(status, "FINISHED", "{text}");
        assert_eq!(attempts, "1", "{text}");
    }
    assert_eq!(
        seen,
        BTreeSet::from(["Audit".to_owned(), "Extract".to_owned(), "Load".to_owned()])
    );
    let summary = text
        .lines()
        .find(|l| l.starts_with("pipeline df-"))
        .unwrap_or_else(|| panic!("no summary line in\n{text}"));
    assert!(
        summary.ends_with(": 3 instances (3 FINISHED)"),
        "summary: {summary}"
    );
    let mut ran = lines(&sb.path("marker"));
    ran.sort();
    assert_eq!(ran, ["Audit", "Extract", "Load"]);

    // The same file on another data directory, as JSON.
    let out = sb.run_in(&def, &sb.path("data-json"), &["--output", "json"]);
    out.assert_code(0);
    let after = now();
    let report = out.report();
    assert!(
        summary.contains(&report.pipeline_id),
        "the pipeline id is the file's: {summary} vs {}",
        report.pipeline_id
    );
    assert_eq!(report.instances.len(), 3, "{}", out.stdout);
    for component in ["Extract", "Load", "Audit"] {
        let instance = report.one(component);
        assert_eq!(instance.status, "FINISHED");
        assert_eq!(instance.attempts, 1);
        assert!(
            (before..=after + Span::seconds(1)).contains(&instance.scheduled_start),
            "{instance:?} runs now"
        );
        assert_eq!(
            instance.id,
            format!("@{component}_{}", datetime(instance.scheduled_start))
        );
    }
    assert!(
        out.stderr.is_empty(),
        "JSON runs keep stderr quiet: {}",
        out.stderr
    );
}

// 2. A failing command: exit 1, the failed attempt with its message and log directory.

#[test]
fn a_failing_command_exits_1_and_points_at_its_logs() {
    let sb = Sandbox::new();
    let def = sb.write_definition(
        "p.json",
        json!([
            ondemand_default(json!({})),
            shell(
                "Fail",
                "echo 'about to fail'; echo 'disk full: /var/x' >&2; exit 3",
                json!({ "maximumRetries": "0" })
            ),
        ]),
    );
    let out = sb.run(&def, &[]);
    out.assert_code(1);
    let text = &out.stdout;
    let row = text
        .lines()
        .find(|l| l.starts_with("@Fail_"))
        .unwrap_or_else(|| panic!("no row for Fail in\n{text}"));
    assert_eq!(
        row.split_whitespace().skip(1).collect::<Vec<_>>(),
        ["FAILED", "1"]
    );
    assert!(text.contains(": 1 instance (1 FAILED)"), "{text}");
    assert!(text.contains("\nhealth: ERROR (from @Fail_"), "{text}");

    let failed = text
        .lines()
        .find(|l| l.contains("_Attempt=1 failed: "))
        .unwrap_or_else(|| panic!("no failed attempt in\n{text}"));
    let attempt_id = failed.split(" failed: ").next().expect("attempt id");
    assert!(attempt_id.starts_with("@Fail_"), "{failed}");
    assert!(
        failed.contains("command exited with status 3"),
        "message: {failed}"
    );
    assert!(text.contains("disk full: /var/x"), "stderr tail in\n{text}");

    let logs = text
        .lines()
        .find_map(|l| l.trim().strip_prefix("logs: "))
        .unwrap_or_else(|| panic!("no log directory in\n{text}"));
    let logs = std::path::Path::new(logs);
    assert!(
        logs.starts_with(sb.data_dir().join("logs")),
        "{} is under the data directory",
        logs.display()
    );
    assert!(logs.ends_with(attempt_id), "{}", logs.display());
    assert_eq!(read(&logs.join("stdout.log")), "about to fail\n");
    assert_eq!(read(&logs.join("stderr.log")), "disk full: /var/x\n");
    let runner_log = read(&logs.join("runner.log"));
    let events = read(&logs.parent().unwrap().join("events.log"));
    let attempt_events: Vec<&str> = events
        .lines()
        .filter(|line| line.contains(&format!(" {attempt_id} ")))
        .collect();
    assert!(
        attempt_events.iter().any(|l| l.contains(" RUNNING"))
            && attempt_events
                .iter()
                .any(|l| l.contains(" FAILED: command exited with status 3")),
        "events.log:\n{events}"
    );
    for expected in [
        "received attempt",
        "type ShellCommandActivity",
        "FAILED [ShellCommandFailed] command exited with status 3",
        "result reported",
    ] {
        assert!(
            runner_log.contains(expected),
            "{expected:?} in\n{runner_log}"
        );
    }
}

#[test]
fn only_attempts_with_something_to_keep_keep_their_directory() {
    let sb = Sandbox::new();
    let def = sb.write_definition(
        "p.json",
        json!([
            ondemand_default(json!({})),
            shell("Quiet", "true", json!({})),
            shell("Talks", "echo hello", json!({})),
            shell("Writes", "touch made-here", json!({})),
            shell("Fails", "exit 2", json!({ "maximumRetries": "0" })),
        ]),
    );
    let out = sb.run(&def, &["--output", "json"]);
    out.assert_code(1);
    let report = out.report();
    let quiet = report.one("Quiet");
    assert_eq!(quiet.status, "FINISHED");
    assert_eq!(quiet.logs, None, "{quiet:?}");

    let pipeline_logs = sb.data_dir().join("logs").join(&report.pipeline_id);
    let mut kept: Vec<String> = std::fs::read_dir(&pipeline_logs)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|name| name != "events.log")
        .collect();
    kept.sort();
    let components: Vec<&str> = kept
        .iter()
        .map(|name| name.trim_start_matches('@').split('_').next().unwrap())
        .collect();
    assert_eq!(components, ["Fails", "Talks", "Writes"], "{kept:?}");
    for (component, files) in [
        ("Fails", &["runner.log"][..]),
        ("Talks", &["runner.log", "stdout.log"][..]),
        ("Writes", &["made-here", "runner.log"][..]),
    ] {
        let instance = report.one(component);
        let logs = std::path::Path::new(instance.logs.as_deref().expect("logs"));
        let mut names: Vec<String> = std::fs::read_dir(logs)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        assert_eq!(names, files, "{}", logs.display());
        let runner_log = read(&logs.join("runner.log"));
        assert!(
            runner_log.contains("received attempt") && runner_log.contains("result reported"),
            "{runner_log}"
        );
    }
}

// 3. Retries.

#[test]
fn a_command_that_fails_once_is_retried_and_finishes() {
    let sb = Sandbox::new();
    let counter = sb.sh("counter");
    let def = sb.write_definition(
        "p.json",
        json!([
            ondemand_default(json!({})),
            shell(
                "Flaky",
                &counting_command(&counter, 2),
                json!({ "maximumRetries": "1", "retryDelay": "1 seconds" })
            ),
        ]),
    );
    let out = sb.run(&def, &["--output", "json"]);
    out.assert_code(0);
    let report = out.report();
    let flaky = report.one("Flaky");
    assert_eq!((flaky.status.as_str(), flaky.attempts), ("FINISHED", 2));
    assert_eq!(read(&sb.path("counter")).trim(), "2");
    let first = sb
        .data_dir()
        .join("logs")
        .join(&report.pipeline_id)
        .join(format!("{}_Attempt=1", flaky.id));
    assert_eq!(read(&first.join("stderr.log")), "run 1 fails\n");

    // In text mode each failure is told as it happens, with when the next attempt comes.
    std::fs::remove_file(sb.path("counter")).unwrap();
    let text = sb.run_in(&def, &sb.path("data-text"), &[]);
    text.assert_code(0);
    let told = text
        .stderr
        .lines()
        .find(|l| l.contains("_Attempt=1 FAILED: "))
        .unwrap_or_else(|| panic!("the failure is told:\n{}", text.stderr));
    assert!(told.contains("; next attempt at 20"), "{told}");
    assert!(
        text.stderr.contains(&format!(
            "  logs: {}",
            sb.path("data-text").join("logs").display()
        )),
        "{}",
        text.stderr
    );
}

#[test]
fn a_command_that_keeps_failing_fails_after_its_retries() {
    let sb = Sandbox::new();
    let counter = sb.sh("counter");
    let def = sb.write_definition(
        "p.json",
        json!([
            ondemand_default(json!({})),
            shell(
                "Broken",
                &counting_command(&counter, 99),
                json!({ "maximumRetries": "1", "retryDelay": "1 seconds" })
            ),
        ]),
    );
    let out = sb.run(&def, &["--output", "json"]);
    out.assert_code(1);
    let broken = out.report().one("Broken").clone();
    assert_eq!((broken.status.as_str(), broken.attempts), ("FAILED", 2));
    assert_eq!(read(&sb.path("counter")).trim(), "2");
}

#[test]
fn a_timed_out_attempt_is_stopped_before_its_retry_starts() {
    let sb = Sandbox::new();
    let marker_path = sb.path("marker");
    let marker = sb.sh("marker");
    // Each attempt would run for 8 s; it records its start, and its stop when signalled.
    let command = format!(
        "trap 'echo \"stopped $SLUICE_ATTEMPT_ID\" >> {marker}; exit 143' TERM; \
         echo \"start $SLUICE_ATTEMPT_ID\" >> {marker}; \
         sleep 8 & wait $!; echo \"end $SLUICE_ATTEMPT_ID\" >> {marker}"
    );
    let def = sb.write_definition(
        "p.json",
        json!([
            ondemand_default(json!({})),
            shell(
                "Slow",
                &command,
                json!({
                    "attemptTimeout": "2 seconds",
                    "maximumRetries": "1",
                    "retryDelay": "2 seconds"
                })
            ),
        ]),
    );
    let out = sb.run(&def, &["--output", "json"]);
    out.assert_code(1);
    let slow = out.report().one("Slow").clone();
    assert_eq!((slow.status.as_str(), slow.attempts), ("FAILED", 2));
    let written = lines(&marker_path);
    let events: Vec<(&str, &str)> = written
        .iter()
        .map(|l| {
            let (event, attempt) = l.split_once(' ').expect("event and attempt");
            (event, attempt.rsplit_once('=').map_or(attempt, |(_, n)| n))
        })
        .collect();
    assert_eq!(
        events,
        [
            ("start", "1"),
            ("stopped", "1"),
            ("start", "2"),
            ("stopped", "2")
        ],
        "each attempt is stopped at its timeout, the first before the second starts"
    );
}

// 4. Dependencies and failure modes.

#[test]
fn a_dependency_chain_runs_in_order() {
    let sb = Sandbox::new();
    let marker = sb.sh("marker");
    let def = sb.write_definition(
        "p.json",
        json!([
            ondemand_default(json!({})),
            // Declared last-first, and the first is the slowest: only dependsOn orders them.
            shell(
                "Third",
                &format!("echo Third >> {marker}"),
                json!({ "dependsOn": { "ref": "Second" } })
            ),
            shell(
                "Second",
                &format!("echo Second >> {marker}"),
                json!({ "dependsOn": { "ref": "First" } })
            ),
            shell(
                "First",
                &format!("sleep 0.3; echo First >> {marker}"),
                json!({})
            ),
        ]),
    );
    let out = sb.run(&def, &["--output", "json", "--workers", "3"]);
    out.assert_code(0);
    assert_eq!(lines(&sb.path("marker")), ["First", "Second", "Third"]);
    assert_eq!(out.report().count_with_status("FINISHED"), 3);
}

#[test]
fn cascade_fails_the_dependants_of_a_failed_activity() {
    let sb = Sandbox::new();
    let marker = sb.sh("marker");
    let def = sb.write_definition(
        "p.json",
        json!([
            default_object(
                json!({ "scheduleType": "ondemand", "failureAndRerunMode": "cascade" }),
                json!({})
            ),
            shell("Upstream", "exit 1", json!({ "maximumRetries": "0" })),
            shell(
                "Middle",
                &format!("echo Middle >> {marker}"),
                json!({ "dependsOn": { "ref": "Upstream" } })
            ),
            shell(
                "Downstream",
                &format!("echo Downstream >> {marker}"),
                json!({ "dependsOn": { "ref": "Middle" } })
            ),
        ]),
    );
    let out = sb.run(&def, &["--output", "json"]);
    out.assert_code(1);
    let report = out.report();
    assert_eq!(report.one("Upstream").status, "FAILED");
    for component in ["Middle", "Downstream"] {
        let instance = report.one(component);
        assert_eq!(
            (instance.status.as_str(), instance.attempts),
            ("CASCADE_FAILED", 0)
        );
    }
    assert!(!sb.path("marker").exists(), "no dependant ran");
}

#[test]
fn without_cascade_the_dependants_wait_and_the_run_still_ends() {
    let sb = Sandbox::new();
    let marker = sb.sh("marker");
    let def = sb.write_definition(
        "p.json",
        json!([
            default_object(
                json!({ "scheduleType": "ondemand", "failureAndRerunMode": "none" }),
                json!({})
            ),
            shell("Upstream", "exit 1", json!({ "maximumRetries": "0" })),
            shell(
                "Downstream",
                &format!("echo Downstream >> {marker}"),
                json!({ "dependsOn": { "ref": "Upstream" } })
            ),
            shell(
                "Unrelated",
                &format!("echo Unrelated >> {marker}"),
                json!({})
            ),
        ]),
    );
    let out = sb.run(&def, &["--output", "json"]);
    out.assert_code(1);
    let report = out.report();
    assert_eq!(report.health.as_deref(), Some("ERROR"));
    let upstream = report.one("Upstream");
    assert_eq!(upstream.status, "FAILED");
    // A failed instance carries its error and where its logs are.
    assert!(
        upstream
            .error
            .as_deref()
            .is_some_and(|e| e.contains("exited with status 1")),
        "{upstream:?}"
    );
    let logs = std::path::Path::new(upstream.logs.as_deref().expect("logs"));
    assert!(logs.join("runner.log").is_file(), "{}", logs.display());
    let downstream = report.one("Downstream");
    assert_eq!(
        (downstream.status.as_str(), downstream.attempts),
        ("WAITING_ON_DEPENDENCIES", 0)
    );
    assert_eq!(downstream.waiting_on, std::slice::from_ref(&upstream.id));
    assert_eq!(downstream.logs, None);
    assert_eq!(report.one("Unrelated").status, "FINISHED");
    assert_eq!(lines(&sb.path("marker")), ["Unrelated"]);
    let text = sb.run_in(&def, &sb.path("data-text"), &[]);
    assert!(
        text.stdout
            .lines()
            .any(|l| l.trim_start().starts_with("waiting on @Upstream_")),
        "{}",
        text.stdout
    );
}

// 5. Backfill.

#[test]
fn past_intervals_are_backfilled_one_instance_each() {
    // cron runs an interval at its start, timeseries at its end. Started exactly three days
    // ago, cron's interval starting now is due too: 4 instances; started three days less an
    // hour ago, the fourth interval is an hour away: 3. timeseries from three days ago: the
    // third interval ends now, the fourth a day later: 3.
    for (schedule_type, offset, expected) in [
        ("cron", Span::zero(), 4usize),
        ("cron", Span::hours(1), 3),
        ("timeseries", Span::zero(), 3),
    ] {
        let sb = Sandbox::new();
        let marker = sb.sh("marker");
        let start = now() - Span::days(3) + offset;
        let lag = i64::from(schedule_type == "timeseries");
        // Daily intervals start at start + k days and are due at their start (cron) or end.
        let due = (0..10)
            .take_while(|k| start + Span::days(*k + lag) <= now())
            .count();
        assert_eq!(due, expected, "the test's own arithmetic");
        let def = sb.write_definition(
            "p.json",
            json!([
                default_object(
                    json!({
                        "scheduleType": schedule_type,
                        "schedule": { "ref": "Daily" },
                        "failureAndRerunMode": "cascade"
                    }),
                    json!({})
                ),
                {
                    "id": "Daily",
                    "type": "Schedule",
                    "period": "1 day",
                    "startDateTime": datetime(start)
                },
                shell(
                    "Day",
                    &format!("echo \"$1\" >> {marker}"),
                    json!({ "scriptArgument": "#{format(@scheduledStartTime,'YYYY-MM-dd')}" })
                ),
            ]),
        );
        let out = sb.run(&def, &["--output", "json"]);
        out.assert_code(0);
        let report = out.report();
        let days = report.of("Day");
        assert_eq!(days.len(), expected, "{schedule_type}: {}", out.stdout);
        assert_eq!(report.instances.len(), expected);
        for (k, instance) in days.iter().enumerate() {
            assert_eq!(instance.status, "FINISHED");
            assert_eq!(instance.attempts, 1);
            assert_eq!(
                instance.scheduled_start,
                start + Span::days(k as i64),
                "{instance:?}"
            );
        }
        let mut written = lines(&sb.path("marker"));
        written.sort();
        let wanted: Vec<String> = days
            .iter()
            .map(|i| i.scheduled_start.format("%Y-%m-%d").to_string())
            .collect();
        assert_eq!(written, wanted);
    }
}

// 6. Preconditions.

#[test]
fn a_false_precondition_delays_the_activity_until_it_holds() {
    let sb = Sandbox::new();
    let counter = sb.sh("counter");
    let marker = sb.sh("marker");
    let def = sb.write_definition(
        "p.json",
        json!([
            ondemand_default(json!({})),
            {
                "id": "Ready",
                "type": "ShellCommandPrecondition",
                "command": format!(
                    "n=$(cat {counter} 2>/dev/null || echo 0); n=$((n + 1)); echo $n > {counter}; [ $n -ge 3 ]"
                ),
                "retryDelay": "1 seconds"
            },
            shell(
                "Work",
                &format!("echo \"ran after $(cat {counter}) checks\" >> {marker}"),
                json!({ "precondition": { "ref": "Ready" } })
            ),
        ]),
    );
    let out = sb.run(&def, &["--output", "json"]);
    out.assert_code(0);
    assert_eq!(lines(&sb.path("marker")), ["ran after 3 checks"]);
    let report = out.report();
    let work = report.one("Work");
    assert_eq!((work.status.as_str(), work.attempts), ("FINISHED", 1));
    let check = report.one("Ready");
    assert_eq!((check.status.as_str(), check.attempts), ("FINISHED", 3));
}

#[test]
fn exists_gates_a_staged_activity_on_a_local_directory() {
    let sb = Sandbox::new();
    let input = sb.path("in");
    let output = sb.path("out");
    std::fs::create_dir(&input).expect("input dir");
    std::fs::write(input.join("orders.csv"), "1,apples\n2,pears\n").expect("input file");
    let def = sb.write_definition(
        "p.json",
        json!([
            ondemand_default(json!({})),
            { "id": "InputThere", "type": "Exists" },
            {
                "id": "Orders",
                "type": "S3DataNode",
                "directoryPath": input.to_str().expect("utf-8"),
                "precondition": { "ref": "InputThere" }
            },
            {
                "id": "Report",
                "type": "S3DataNode",
                "directoryPath": output.to_str().expect("utf-8")
            },
            shell(
                "Count",
                "test -n \"$INPUT1_STAGING_DIR\" && ls \"$INPUT1_STAGING_DIR\" > \"$OUTPUT1_STAGING_DIR/listing\" \
                 && wc -l < \"$INPUT1_STAGING_DIR/orders.csv\" > \"$OUTPUT1_STAGING_DIR/count\"",
                json!({
                    "input": { "ref": "Orders" },
                    "output": { "ref": "Report" },
                    "stage": "true",
                    "maximumRetries": "0"
                })
            ),
        ]),
    );
    let out = sb.run(&def, &["--output", "json"]);
    out.assert_code(0);
    assert_eq!(read(&output.join("listing")), "orders.csv\n");
    assert_eq!(read(&output.join("count")).trim(), "2");
    let report = out.report();
    assert_eq!(report.one("InputThere").status, "FINISHED");
    assert_eq!(report.one("Orders").status, "FINISHED");
    assert_eq!(report.one("Count").status, "FINISHED");
}

#[test]
fn exists_on_a_missing_directory_fails_the_input_and_its_consumer() {
    let sb = Sandbox::new();
    let marker = sb.sh("marker");
    let def = sb.write_definition(
        "p.json",
        json!([
            ondemand_default(json!({})),
            { "id": "InputThere", "type": "Exists", "maximumRetries": "0" },
            {
                "id": "Orders",
                "type": "S3DataNode",
                "directoryPath": sb.path("missing").to_str().expect("utf-8"),
                "precondition": { "ref": "InputThere" }
            },
            shell(
                "Count",
                &format!("echo ran >> {marker}"),
                json!({ "input": { "ref": "Orders" } })
            ),
        ]),
    );
    let out = sb.run(&def, &["--output", "json"]);
    out.assert_code(1);
    let report = out.report();
    assert_eq!(report.one("Count").status, "CASCADE_FAILED");
    assert!(!sb.path("marker").exists());
}

#[test]
fn a_relative_data_directory_works_for_staging_and_scripts() {
    // No --data-dir and no SLUICE_DATA_DIR: the default ./.sluice, relative to where sluice
    // runs, while commands run in their attempt directory.
    let sb = Sandbox::new();
    let input = sb.path("in");
    std::fs::create_dir(&input).expect("input dir");
    std::fs::write(input.join("a.txt"), "staged\n").expect("input file");
    let scripts = sb.path(".sluice/s3/bucket/scripts");
    std::fs::create_dir_all(&scripts).expect("object store dir");
    std::fs::write(
        scripts.join("copy.sh"),
        "cp \"$INPUT1_STAGING_DIR/a.txt\" \"$OUTPUT1_STAGING_DIR/b.txt\"\n",
    )
    .expect("script");
    let def = sb.write_definition(
        "p.json",
        json!([
            ondemand_default(json!({ "maximumRetries": "0" })),
            { "id": "In", "type": "S3DataNode", "directoryPath": input.to_str().expect("utf-8") },
            { "id": "Out", "type": "S3DataNode", "directoryPath": "s3://bucket/out" },
            {
                "id": "Copy",
                "type": "ShellCommandActivity",
                "scriptUri": "s3://bucket/scripts/copy.sh",
                "stage": "true",
                "input": { "ref": "In" },
                "output": { "ref": "Out" }
            },
        ]),
    );
    let out = sb.run_command(sb.command(&def));
    out.assert_code(0);
    assert_eq!(read(&sb.path(".sluice/s3/bucket/out/b.txt")), "staged\n");
}

// 7. Parameters and invalid input.

#[test]
fn parameter_values_reach_the_command() {
    let sb = Sandbox::new();
    let marker = sb.sh("marker");
    let def = sb.write_definition_with(
        "p.json",
        json!([
            ondemand_default(json!({})),
            shell(
                "Greet",
                &format!("echo \"hello #{{myName}} and $1\" >> {marker}"),
                json!({ "scriptArgument": "#{myGreeting}" })
            ),
        ]),
        json!({
            "parameters": [
                { "id": "myName", "type": "String" },
                { "id": "myGreeting", "type": "String", "default": "welcome" }
            ]
        }),
    );
    let out = sb.run(
        &def,
        &["--parameter-values", "myName=x", "myGreeting=bonjour"],
    );
    out.assert_code(0);
    assert_eq!(lines(&sb.path("marker")), ["hello x and bonjour"]);

    // The same from a file of values.
    let values = sb.path("values.json");
    std::fs::write(&values, r#"{"values": {"myName": "y"}}"#).expect("values file");
    let uri = format!("file://{}", values.display());
    let out = sb.run_in(
        &def,
        &sb.path("data-uri"),
        &["--parameter-values-uri", &uri],
    );
    out.assert_code(0);
    assert_eq!(lines(&sb.path("marker"))[1], "hello y and welcome");

    // Without a value for myName the definition is invalid: nothing runs.
    let out = sb.run_in(&def, &sb.path("data2"), &[]);
    out.assert_code(2);
    assert!(out.stderr.contains("myName"), "{}", out.stderr);
    assert_eq!(lines(&sb.path("marker")).len(), 2);
}

#[test]
fn an_unset_optional_parameter_leaves_its_fields_unset_instead_of_failing_the_run() {
    let sb = Sandbox::new();
    let marker = sb.sh("marker");
    let def = sb.write_definition_with(
        "p.json",
        json!([
            ondemand_default(json!({})),
            {
                "id": "Box", "type": "Ec2Resource", "role": "r", "resourceRole": "rr",
                "securityGroups": "#{mySecurityGroups}", "keyPair": "#{myKeyPair}"
            },
            shell(
                "Greet",
                &format!("echo \"[#{{myFlag}}] args=$#\" >> {marker}"),
                json!({ "runsOn": {"ref": "Box"}, "scriptArgument": "#{myFlag}" })
            ),
        ]),
        json!({
            "parameters": [
                { "id": "mySecurityGroups", "type": "String", "optional": "true", "isArray": "true" },
                { "id": "myKeyPair", "type": "String", "optional": "true" },
                { "id": "myFlag", "type": "String", "optional": "true" }
            ]
        }),
    );
    let out = sb.run(&def, &[]);
    out.assert_code(0);
    // Alone in a field, the parameter leaves it unset (no argument); spliced, it is empty.
    assert_eq!(lines(&sb.path("marker")), ["[] args=0"]);

    let out = sb.run_in(
        &def,
        &sb.path("data-set"),
        &["--parameter-values", "myFlag=on"],
    );
    out.assert_code(0);
    assert_eq!(lines(&sb.path("marker"))[1], "[on] args=1");
}

#[test]
fn a_state_database_that_cannot_be_used_exits_3_naming_it() {
    let sb = Sandbox::new();
    let def = sb.write_definition(
        "p.json",
        json!([
            ondemand_default(json!({})),
            shell("Greet", "true", json!({}))
        ]),
    );
    sb.run(&def, &[]).assert_code(0);
    let db = sb.data_dir().join("sluice.db");

    // Another process holds the database: the run waits its busy timeout, then says so.
    let mut holder = std::process::Command::new("python3")
        .args([
            "-c",
            "import sqlite3, sys\n\
             c = sqlite3.connect(sys.argv[1], isolation_level=None)\n\
             c.execute('BEGIN EXCLUSIVE')\n\
             print('locked', flush=True)\n\
             sys.stdin.read()",
        ])
        .arg(&db)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("python3 runs");
    let mut line = String::new();
    std::io::BufRead::read_line(
        &mut std::io::BufReader::new(holder.stdout.take().unwrap()),
        &mut line,
    )
    .unwrap();
    assert_eq!(line.trim(), "locked");
    let out = sb.run(&def, &[]);
    drop(holder.stdin.take());
    let _ = holder.wait();
    out.assert_code(3);
    assert!(
        out.stderr
            .contains(&format!("the state database {}", db.display())),
        "{}",
        out.stderr
    );
    assert!(out.stderr.contains("database is locked"), "{}", out.stderr);

    // A file that is not a database at all.
    let other = sb.path("other-data");
    std::fs::create_dir_all(&other).unwrap();
    std::fs::write(other.join("sluice.db"), "not a database").unwrap();
    let out = sb.run_in(&def, &other, &[]);
    out.assert_code(3);
    assert!(
        out.stderr.contains("not a Sluice database"),
        "{}",
        out.stderr
    );
}

#[test]
fn an_invalid_definition_exits_2_with_the_error_on_stderr() {
    let sb = Sandbox::new();
    let def = sb.write_definition(
        "p.json",
        json!([
            ondemand_default(json!({})),
            { "id": "Greet", "type": "ShellComandActivity", "command": "true" },
        ]),
    );
    let out = sb.run(&def, &["--output", "json"]);
    out.assert_code(2);
    assert!(out.stdout.is_empty(), "{}", out.stdout);
    assert!(
        out.stderr.contains("UNKNOWN_TYPE") && out.stderr.contains("Greet"),
        "{}",
        out.stderr
    );
}

#[test]
fn a_missing_or_unparsable_file_exits_2() {
    let sb = Sandbox::new();
    let out = sb.run(&sb.path("nope.json"), &[]);
    out.assert_code(2);
    assert!(out.stderr.contains("nope.json"), "{}", out.stderr);

    let broken = sb.path("broken.json");
    std::fs::write(&broken, "{\"objects\": [\n  {\"id\": \"A\",}\n]}").expect("write");
    let out = sb.run(&broken, &[]);
    out.assert_code(2);
    assert!(out.stderr.contains("line 2"), "{}", out.stderr);
}

// 8. Resuming.

/// A daily pipeline started a day ago: two instances, each appending to `marker`.
fn daily_definition(sb: &Sandbox, name: &str, command: &str) -> std::path::PathBuf {
    sb.write_definition(
        name,
        json!([
            default_object(
                json!({ "scheduleType": "cron", "schedule": { "ref": "Daily" } }),
                json!({})
            ),
            {
                "id": "Daily",
                "type": "Schedule",
                "period": "1 day",
                "startDateTime": datetime(now() - Span::days(1))
            },
            shell("Job", command, json!({})),
        ]),
    )
}

#[test]
fn a_second_run_resumes_instead_of_rerunning() {
    let sb = Sandbox::new();
    let marker = sb.sh("marker");
    let command = format!("echo \"#{{@scheduledStartTime}}\" >> {marker}");
    let def = daily_definition(&sb, "p.json", &command);

    let first = sb.run(&def, &["--output", "json"]);
    first.assert_code(0);
    assert_eq!(first.report().count_with_status("FINISHED"), 2);
    assert_eq!(lines(&sb.path("marker")).len(), 2);

    let second = sb.run(&def, &["--output", "json"]);
    second.assert_code(0);
    assert_eq!(lines(&sb.path("marker")).len(), 2, "nothing ran again");
    let (a, b) = (first.report(), second.report());
    assert_eq!(a.pipeline_id, b.pipeline_id);
    assert_eq!(a.instances, b.instances);

    let fresh = sb.run(&def, &["--output", "json", "--fresh"]);
    fresh.assert_code(0);
    assert_eq!(
        lines(&sb.path("marker")).len(),
        4,
        "--fresh runs everything again"
    );
    let report = fresh.report();
    assert_eq!(report.instances.len(), 2);
    assert!(report.instances.iter().all(|i| i.attempts == 1));

    // An edited definition is not silently mixed with the old run's state.
    let edited = format!("echo edited >> {marker}");
    daily_definition(&sb, "p.json", &edited);
    let out = sb.run(&def, &[]);
    out.assert_code(2);
    assert!(out.stderr.contains("--fresh"), "{}", out.stderr);
    assert_eq!(lines(&sb.path("marker")).len(), 4);
    sb.run(&def, &["--fresh"]).assert_code(0);
    assert_eq!(
        lines(&sb.path("marker"))[4..],
        ["edited".to_owned(), "edited".to_owned()]
    );
}

#[test]
fn a_second_concurrent_run_of_the_same_pipeline_is_refused() {
    let sb = Sandbox::new();
    let marker_path = sb.path("marker");
    let marker = sb.sh("marker");
    let gate = sb.sh("gate");
    let wait_for_gate = format!(
        "echo start >> {marker}; i=0; \
         while [ ! -e {gate} ]; do i=$((i + 1)); if [ $i -gt 200 ]; then exit 1; fi; sleep 0.1; done"
    );
    let def = daily_definition(&sb, "p.json", &wait_for_gate);
    let mut command = sb.command(&def);
    command
        .arg("--data-dir")
        .arg(sb.data_dir())
        .args(["--output", "json"]);
    let mut first = sb.spawn(command);
    wait_until("the first run's tasks", Duration::from_secs(30), || {
        first.assert_running();
        !lines(&marker_path).is_empty()
    });

    // Another process on the same data directory would take over the running attempts as
    // lost leases and run them a second time.
    let second = sb.run(&def, &[]);
    second.assert_code(2);
    assert!(
        second.stderr.contains("already running")
            && second.stderr.contains(&first.pid().to_string()),
        "{}",
        second.stderr
    );
    // Another pipeline in the same data directory is not held up.
    let other = sb.write_definition(
        "other.json",
        json!([
            ondemand_default(json!({})),
            shell("Quick", "true", json!({}))
        ]),
    );
    sb.run(&other, &[]).assert_code(0);

    std::fs::write(sb.path("gate"), "").expect("open the gate");
    let status = first.wait_for_exit(Duration::from_secs(30));
    let out = first.output(status);
    out.assert_code(0);
    let report = out.report();
    assert_eq!(report.count_with_status("FINISHED"), 2);
    assert!(
        report.instances.iter().all(|i| i.attempts == 1),
        "{}",
        out.stdout
    );
    assert_eq!(lines(&marker_path).len(), 2, "each instance ran once");
}

#[test]
fn the_data_directory_comes_from_sluice_data_dir() {
    let sb = Sandbox::new();
    let marker = sb.sh("marker");
    let def = daily_definition(&sb, "p.json", &format!("echo run >> {marker}"));
    let data = sb.path("from-env");
    let mut command = sb.command(&def);
    command.env("SLUICE_DATA_DIR", &data);
    sb.run_command(command).assert_code(0);
    assert!(
        data.join("sluice.db").is_file(),
        "state went to $SLUICE_DATA_DIR"
    );
    assert!(!sb.path(".sluice").exists(), "not to the default");
    assert_eq!(lines(&sb.path("marker")).len(), 2);
    // The same directory given explicitly resumes that state.
    sb.run_in(&def, &data, &[]).assert_code(0);
    assert_eq!(lines(&sb.path("marker")).len(), 2);
    // --data-dir wins over the variable.
    let mut command = sb.command(&def);
    command
        .env("SLUICE_DATA_DIR", &data)
        .arg("--data-dir")
        .arg(sb.path("explicit"));
    sb.run_command(command).assert_code(0);
    assert!(sb.path("explicit").join("sluice.db").is_file());
    assert_eq!(lines(&sb.path("marker")).len(), 4);
}

#[test]
fn an_ondemand_pipeline_runs_again_each_time() {
    let sb = Sandbox::new();
    let marker = sb.sh("marker");
    let def = sb.write_definition(
        "p.json",
        json!([
            ondemand_default(json!({})),
            shell(
                "Job",
                &format!("echo \"#{{@scheduledStartTime}}\" >> {marker}"),
                json!({})
            ),
        ]),
    );
    sb.run(&def, &[]).assert_code(0);
    let out = sb.run(&def, &["--output", "json"]);
    out.assert_code(0);
    let report = out.report();
    let runs = report.of("Job");
    assert_eq!(runs.len(), 2, "{}", out.stdout);
    assert!(
        runs.iter()
            .all(|i| i.status == "FINISHED" && i.attempts == 1)
    );
    assert!(runs[0].scheduled_start < runs[1].scheduled_start);
    let written = lines(&sb.path("marker"));
    assert_eq!(
        written,
        runs.iter()
            .map(|i| datetime(i.scheduled_start))
            .collect::<Vec<_>>()
    );
}

// 9. --follow.

#[test]
fn follow_keeps_scheduling_until_terminated() {
    let sb = Sandbox::new();
    let marker = sb.sh("marker");
    let def = sb.write_definition(
        "p.json",
        json!([
            default_object(
                json!({
                    "scheduleType": "cron",
                    "schedule": { "ref": "Often" },
                    "retryDelay": "1 seconds"
                }),
                json!({})
            ),
            {
                "id": "Often",
                "type": "Schedule",
                "period": "2 seconds",
                "startDateTime": datetime(now())
            },
            shell(
                "Tick",
                &format!("echo \"#{{@scheduledStartTime}} $(date -u +%Y-%m-%dT%H:%M:%S)\" >> {marker}"),
                json!({})
            ),
        ]),
    );
    let mut command = sb.command(&def);
    command
        .arg("--data-dir")
        .arg(sb.data_dir())
        .args(["--follow", "--output", "json"]);
    let mut follow = sb.spawn(command);
    wait_until("three ticks", Duration::from_secs(30), || {
        follow.assert_running();
        lines(&sb.path("marker")).len() >= 3
    });
    send_signal(follow.pid(), "TERM");
    let status = follow.wait_for_exit(Duration::from_secs(15));
    let out = follow.output(status);
    out.assert_code(0);
    let report = out.report();
    assert!(report.count_with_status("FINISHED") >= 3, "{}", out.stdout);
    let ticks = report.of("Tick");
    for pair in ticks.windows(2) {
        assert_eq!(
            pair[1].scheduled_start - pair[0].scheduled_start,
            Span::seconds(2)
        );
    }

    // What it recorded is there for the next run, which resumes and stops by itself.
    let again = sb.run(&def, &["--output", "json"]);
    again.assert_code(0);
    let report = again.report();
    assert!(
        report.count_with_status("FINISHED") >= 3,
        "{}",
        again.stdout
    );
    assert_eq!(
        report.count_with_status("FINISHED"),
        report.instances.len(),
        "{}",
        again.stdout
    );
    let written = lines(&sb.path("marker"));
    for tick in report.of("Tick") {
        let at = datetime(tick.scheduled_start);
        assert!(
            written.iter().any(|l| l.starts_with(&at)),
            "{at} ran: {written:?}"
        );
    }
    // No interval ran before its time came (both are UTC seconds, so they compare as text).
    for line in &written {
        let (scheduled, ran) = line.split_once(' ').expect("two times");
        assert!(scheduled <= ran, "ran early: {line}");
    }
}

/// A command that records `start <pid>` in `marker`, then runs until `gate` exists (at most
/// `seconds`), then records `end`.
fn gated_command(marker: &str, gate: &str, seconds: u32) -> String {
    format!(
        "echo \"start $$\" >> {marker}; i=0; \
         while [ ! -e {gate} ]; do i=$((i + 1)); if [ $i -gt {} ]; then exit 1; fi; sleep 0.1; done; \
         echo end >> {marker}",
        seconds * 10
    )
}

/// A sandbox with `p.json`: one ondemand activity `component` running [`gated_command`] for
/// at most `seconds`, with `defaults` on `Default`; the sandbox, the definition and the path
/// of the marker.
fn gated_pipeline(
    component: &str,
    seconds: u32,
    defaults: serde_json::Value,
) -> (Sandbox, std::path::PathBuf, std::path::PathBuf) {
    let sb = Sandbox::new();
    let command = gated_command(&sb.sh("marker"), &sb.sh("gate"), seconds);
    let def = sb.write_definition(
        "p.json",
        json!([
            ondemand_default(defaults),
            shell(component, &command, json!({})),
        ]),
    );
    let marker = sb.path("marker");
    (sb, def, marker)
}

/// `sluice run` of `def` on the sandbox's data directory, once `marker` holds `starts` lines
/// (within 30 s, far below the default retryDelay of 10 minutes).
fn started_run(
    sb: &Sandbox,
    def: &std::path::Path,
    marker: &std::path::Path,
    starts: usize,
) -> common::Spawned {
    let mut command = sb.command(def);
    command.arg("--data-dir").arg(sb.data_dir());
    let mut run = sb.spawn(command);
    wait_until(
        &format!("{starts} starts of the task"),
        Duration::from_secs(30),
        || {
            run.assert_running();
            lines(marker).len() >= starts
        },
    );
    run
}

#[test]
fn an_interrupted_run_stops_its_tasks_says_so_and_resumes_later() {
    // The default retryDelay (10 minutes): the next run must not wait for it.
    let (sb, def, marker_path) = gated_pipeline("Gated", 20, json!({ "maximumRetries": "1" }));
    let mut run = started_run(&sb, &def, &marker_path, 1);
    send_signal(run.pid(), "TERM");
    let status = run.wait_for_exit(Duration::from_secs(15));
    let out = run.output(status);
    out.assert_code(128 + 15);
    assert!(
        out.stderr.contains("interrupted") && out.stderr.contains("resume"),
        "{}",
        out.stderr
    );
    // Left running for the next run to resume, not failed.
    assert!(out.stdout.contains("RUNNING"), "{}", out.stdout);
    let pid: u32 = lines(&marker_path)[0]
        .strip_prefix("start ")
        .and_then(|pid| pid.parse().ok())
        .expect("the task wrote its pid");
    assert!(
        !is_running(pid),
        "the task's process was stopped with the run"
    );
    assert_eq!(
        lines(&marker_path).len(),
        1,
        "the task did not get to its end"
    );

    std::fs::write(sb.path("gate"), "").expect("open the gate");
    let out = sb.run(&def, &["--output", "json"]);
    out.assert_code(0);
    let report = out.report();
    let gated = report.one("Gated").clone();
    assert_eq!((gated.status.as_str(), gated.attempts), ("FINISHED", 2));
    assert_eq!(
        report.resumed,
        [common::Resumed {
            instance: gated.id.clone(),
            interrupted_attempt: format!("{}_Attempt=1", gated.id),
            retried: true,
        }]
    );
    let written = lines(&marker_path);
    assert_eq!(written.len(), 3, "{written:?}");
    assert_eq!(written[2], "end");
}

#[test]
fn a_killed_run_s_running_activity_runs_again_as_soon_as_the_run_is_back() {
    // The default retryDelay (10 minutes) and maximumRetries (2).
    let (sb, def, marker_path) = gated_pipeline("Long", 120, json!({}));
    started_run(&sb, &def, &marker_path, 1).kill();
    let orphan: u32 = lines(&marker_path)[0]
        .strip_prefix("start ")
        .and_then(|pid| pid.parse().ok())
        .expect("the activity wrote its pid");

    // It runs again as soon as the run is back.
    let mut again = started_run(&sb, &def, &marker_path, 2);
    let retry: u32 = lines(&marker_path)[1]
        .strip_prefix("start ")
        .and_then(|pid| pid.parse().ok())
        .expect("the retry wrote its pid");
    assert_ne!(retry, orphan);
    // The killed run's command outlived it (its own process group); the gate ends both.
    std::fs::write(sb.path("gate"), "").expect("open the gate");
    let status = again.wait_for_exit(Duration::from_secs(30));
    let out = again.output(status);
    out.assert_code(0);
    let attempt = out
        .stdout
        .lines()
        .find_map(|l| {
            l.split_whitespace()
                .next()
                .filter(|id| id.starts_with("@Long_"))
        })
        .map(|instance| format!("{instance}_Attempt=1"))
        .unwrap_or_else(|| panic!("no Long instance in\n{}", out.stdout));
    let said = format!("resumed 1 attempt interrupted when the previous run stopped: {attempt}");
    assert!(out.stdout.contains(&said), "{}", out.stdout);
    assert!(
        out.stderr.contains(&format!("sluice: {said}")),
        "{}",
        out.stderr
    );
    assert!(
        !out.stdout.contains(&format!("{attempt} failed")),
        "the interrupted attempt is not listed as a failure:\n{}",
        out.stdout
    );
    wait_until(
        "the orphaned command to end",
        Duration::from_secs(10),
        || !is_running(orphan),
    );
}

// 10. Workers.

#[test]
fn four_workers_run_four_activities_at_once() {
    let sb = Sandbox::new();
    let starts = sb.sh("starts");
    // Each activity announces itself and waits (up to 10 s) for all four to have started.
    let barrier = format!(
        "echo \"$1\" >> {starts}; i=0; \
         while [ $(wc -l < {starts}) -lt 4 ]; do \
           i=$((i + 1)); if [ $i -gt 100 ]; then exit 1; fi; sleep 0.1; \
         done"
    );
    let mut objects = vec![ondemand_default(json!({ "maximumRetries": "0" }))];
    for id in ["A", "B", "C", "D"] {
        objects.push(shell(id, &barrier, json!({ "scriptArgument": id })));
    }
    let def = sb.write_definition("p.json", json!(objects));
    let out = sb.run(&def, &["--workers", "4", "--output", "json"]);
    out.assert_code(0);
    assert_eq!(out.report().count_with_status("FINISHED"), 4);
    assert_eq!(lines(&sb.path("starts")).len(), 4);
}

#[test]
fn one_worker_runs_one_activity_at_a_time() {
    let sb = Sandbox::new();
    let lock = sb.sh("lock");
    let marker = sb.sh("marker");
    // mkdir is atomic: it fails when another activity holds the lock.
    let exclusive =
        format!("mkdir {lock} || exit 7; echo \"$1\" >> {marker}; sleep 0.2; rmdir {lock}");
    let mut objects = vec![ondemand_default(json!({ "maximumRetries": "0" }))];
    for id in ["A", "B", "C", "D"] {
        objects.push(shell(id, &exclusive, json!({ "scriptArgument": id })));
    }
    let def = sb.write_definition("p.json", json!(objects));
    let out = sb.run(&def, &["--workers", "1", "--output", "json"]);
    out.assert_code(0);
    assert_eq!(out.report().count_with_status("FINISHED"), 4);
    let mut ran = lines(&sb.path("marker"));
    ran.sort();
    assert_eq!(ran, ["A", "B", "C", "D"]);
}

#[test]
fn the_summary_says_where_output_went_and_what_is_scheduled_next() {
    let sb = Sandbox::new();
    let start = now() - Span::minutes(30);
    let def = sb.write_definition(
        "p.json",
        json!([
            default_object(
                json!({ "scheduleType": "cron", "schedule": { "ref": "Hourly" } }),
                json!({})
            ),
            {
                "id": "Hourly", "type": "Schedule", "period": "1 hour",
                "startDateTime": datetime(start), "occurrences": "3"
            },
            shell("Sum", "seq 1 100 | awk '{ s += $1 } END { print s }'", json!({})),
            shell("Quiet", "true", json!({})),
        ]),
    );
    let out = sb.run(&def, &[]);
    out.assert_code(0);
    let listed: Vec<&str> = out
        .stdout
        .lines()
        .filter_map(|l| l.trim().strip_prefix("@Sum_"))
        .filter_map(|l| l.split_once(": ").map(|(_, path)| path))
        .filter(|path| path.ends_with("stdout.log"))
        .collect();
    assert_eq!(listed.len(), 1, "{}", out.stdout);
    assert_eq!(read(std::path::Path::new(listed[0])), "5050\n");
    assert!(
        !out.stdout
            .lines()
            .any(|l| l.contains("@Quiet_") && l.contains("stdout.log")),
        "only what wrote output: {}",
        out.stdout
    );
    let next = datetime(start + Span::hours(1));
    assert!(
        out.stdout.contains(&format!("next: Quiet, Sum at {next}")),
        "{}",
        out.stdout
    );
}

#[test]
fn every_file_sluice_keeps_is_its_users_alone() {
    use std::os::unix::fs::PermissionsExt as _;
    let mode = |path: &std::path::Path| {
        std::fs::metadata(path)
            .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
            .permissions()
            .mode()
            & 0o777
    };
    let sb = Sandbox::new();
    // A data directory that already exists, open to everyone: it keeps its mode, so what is
    // inside must protect itself.
    let data = sb.data_dir();
    std::fs::create_dir_all(&data).unwrap();
    std::fs::set_permissions(&data, std::fs::Permissions::from_mode(0o755)).unwrap();
    let elsewhere = sb.path("report.txt");
    let reference = sb.path("reference.txt");
    std::fs::File::create(&reference).unwrap();
    let def = sb.write_definition(
        "p.json",
        json!([
            ondemand_default(json!({ "maximumRetries": "0" })),
            { "id": "Staged", "type": "S3DataNode", "directoryPath": "s3://bucket/staged" },
            shell(
                "Write",
                &format!("echo out; echo err >&2; echo report > {}; echo x > \"$OUTPUT1_STAGING_DIR/part\"",
                         sb.sh("report.txt")),
                json!({ "output": { "ref": "Staged" }, "stage": "true" })
            ),
            shell("Fail", "echo kept >&2; exit 1", json!({ "dependsOn": { "ref": "Write" } })),
        ]),
    );
    sb.run(&def, &[]).assert_code(1);

    // What the command wrote elsewhere has the umask the user ran sluice with.
    assert_eq!(mode(&elsewhere), mode(&reference));
    assert_eq!(mode(&data), 0o755);
    for dir in ["logs", "locks", "s3"] {
        assert_eq!(mode(&data.join(dir)), 0o700, "{dir}");
    }
    let mut kept = BTreeSet::new();
    let mut stack = vec![data.clone()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            if path.is_dir() {
                stack.push(path.clone());
            }
            // Sluice's own files are 0600; every path is inside a directory no one else may
            // enter (a top-level directory of the data directory is 0700).
            if [
                "runner.log",
                "stdout.log",
                "stderr.log",
                "events.log",
                "sluice.db",
                "secret.key",
            ]
            .contains(&name.as_str())
                || name.ends_with(".lock")
            {
                assert_eq!(mode(&path), 0o600, "{}", path.display());
                kept.insert(name.clone());
            }
            let top = path
                .strip_prefix(&data)
                .unwrap()
                .components()
                .next()
                .unwrap();
            let top = data.join(top);
            if top.is_dir() {
                assert_eq!(
                    mode(&top),
                    0o700,
                    "{} under {}",
                    path.display(),
                    top.display()
                );
            }
        }
    }
    for name in ["runner.log", "stderr.log", "events.log", "sluice.db"] {
        assert!(kept.contains(name), "{name} among {kept:?}");
    }
}
