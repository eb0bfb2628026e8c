//! Engine-only throughput: poll every ready task and finish it at once, no runner, no store.
//! Run with `cargo test -p sluice-engine --release --test throughput -- --ignored --nocapture`.

mod common;

use std::time::Instant;

use common::*;
use sluice_model::{Status, TaskResult};

fn definition(occurrences: u32) -> String {
    format!(
        r#"{{
  "objects": [
    {{"id": "Default", "scheduleType": "cron", "workerGroup": "wg"}},
    {{"id": "Every15", "type": "Schedule", "period": "15 minutes",
      "startDateTime": "2020-01-01T00:00:00", "occurrences": "{occurrences}"}},
    {{"id": "Input", "type": "S3DataNode", "schedule": {{"ref": "Every15"}},
      "directoryPath": "s3://bucket/in/#{{format(@scheduledStartTime, 'YYYY-MM-dd-HH-mm')}}"}},
    {{"id": "Work", "type": "ShellCommandActivity", "schedule": {{"ref": "Every15"}},
      "input": {{"ref": "Input"}}, "command": "echo #{{@scheduledStartTime}}"}}
  ]
}}"#
    )
}

fn resident_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    status
        .lines()
        .find(|l| l.starts_with("VmRSS:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|n| n.parse().ok())
}

#[test]
#[ignore = "benchmark; run in release"]
fn engine_throughput() {
    let count = 20_000;
    let before = resident_kib();
    let mut e = engine(&definition(count), "2026-01-01T00:00:00");
    let now = at("2026-01-01T00:00:00");
    let started = Instant::now();
    e.activate(now, None).unwrap();
    let materialised = started.elapsed();
    let mut finished = 0;
    while let Some(task) = e.poll_task(None, "bench", now) {
        e.set_task_status(&task.task_id, TaskResult::finished(), now)
            .unwrap();
        finished += 1;
        if finished % 1000 == 0 {
            let _ = e.take_changes();
        }
    }
    let changes = e.take_changes();
    let elapsed = started.elapsed();
    let after = resident_kib();
    assert_eq!(finished, count as usize);
    assert_eq!(e.summary().get(Status::Finished), 2 * count as usize);
    println!(
        "{count} activity instances (+{count} data nodes): materialised in {materialised:?}, \
         all finished in {elapsed:?} = {:.0} activity instances/s; last change set {} \
         instances; RSS {:?} KiB -> {:?} KiB",
        f64::from(count) / elapsed.as_secs_f64(),
        changes.instances.len(),
        before,
        after
    );
}
