//! Model-based test: random sequences of (advance time, poll, finish, fail, report) applied to
//! the engine and to a small reference model of one chain of activities (each `dependsOn`
//! the previous one, one hourly cron schedule), comparing every instance's status after
//! every step.

mod common;

use chrono::{Duration, NaiveDateTime};
use common::*;
use proptest::prelude::*;
use sluice_engine::{Engine, EngineError};
use sluice_model::{Status, TaskResult};

#[derive(Debug, Clone)]
enum Op {
    Advance(i64),
    Poll,
    Finish(usize),
    Fail(usize),
    Report(usize),
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        3 => (1i64..=40).prop_map(Op::Advance),
        4 => Just(Op::Poll),
        3 => any::<usize>().prop_map(Op::Finish),
        2 => any::<usize>().prop_map(Op::Fail),
        2 => any::<usize>().prop_map(Op::Report),
    ]
}

#[derive(Debug, Clone)]
struct MInst {
    status: Status,
    attempts: u32,
    retry_at: Option<NaiveDateTime>,
    /// The task a runner holds, with its lease.
    task: Option<(String, NaiveDateTime)>,
}

struct Model {
    t: NaiveDateTime,
    start: NaiveDateTime,
    chain: usize,
    occurrences: usize,
    retries: u32,
    cascade: bool,
    rows: Vec<Vec<MInst>>,
}

const RETRY: i64 = 2;

impl Model {
    fn due(&self, k: usize) -> NaiveDateTime {
        self.start + Duration::hours(k as i64)
    }

    fn advance(&mut self, to: NaiveDateTime) {
        loop {
            let mut next: Option<NaiveDateTime> = None;
            let mut consider =
                |t: NaiveDateTime| next = Some(next.map_or(t, |n: NaiveDateTime| n.min(t)));
            if self.rows.len() < self.occurrences {
                consider(self.due(self.rows.len()));
            }
            for inst in self.rows.iter().flatten() {
                if let Some((_, lease)) = &inst.task {
                    consider(*lease);
                }
                if let Some(r) = inst.retry_at {
                    consider(r);
                }
            }
            let Some(e) = next.filter(|&e| e <= to) else {
                break;
            };
            while self.rows.len() < self.occurrences && self.due(self.rows.len()) == e {
                let row = vec![
                    MInst {
                        status: Status::WaitingOnDependencies,
                        attempts: 0,
                        retry_at: None,
                        task: None
                    };
                    self.chain
                ];
                self.rows.push(row);
                self.settle(self.rows.len() - 1);
            }
            for k in 0..self.rows.len() {
                for j in 0..self.chain {
                    if self.rows[k][j]
                        .task
                        .as_ref()
                        .is_some_and(|(_, lease)| *lease == e)
                    {
                        self.rows[k][j].task = None;
                        self.failed(k, j, e);
                    }
                    if self.rows[k][j].retry_at == Some(e) {
                        self.rows[k][j].retry_at = None;
                        self.rows[k][j].attempts += 1;
                    }
                }
            }
        }
        self.t = to;
    }

    /// Readiness and cascade along the chain of interval `k`.
    fn settle(&mut self, k: usize) {
        for j in 0..self.chain {
            if self.rows[k][j].status != Status::WaitingOnDependencies {
                continue;
            }
            let before = if j == 0 {
                Status::Finished
            } else {
                self.rows[k][j - 1].status
            };
            if before == Status::Finished {
                self.rows[k][j].status = Status::WaitingForRunner;
                self.rows[k][j].attempts += 1;
            } else if self.cascade && matches!(before, Status::Failed | Status::CascadeFailed) {
                self.rows[k][j].status = Status::CascadeFailed;
            }
        }
    }

    fn failed(&mut self, k: usize, j: usize, at: NaiveDateTime) {
        let inst = &mut self.rows[k][j];
        if inst.attempts <= self.retries {
            inst.status = Status::WaitingForRunner;
            inst.retry_at = Some(at + Duration::minutes(RETRY));
        } else {
            inst.status = Status::Failed;
            self.settle(k);
        }
    }

    fn pollable(&self) -> bool {
        self.rows.iter().flatten().any(|i| {
            i.status == Status::WaitingForRunner && i.retry_at.is_none() && i.task.is_none()
        })
    }

    fn holder(&self, task_id: &str) -> Option<(usize, usize)> {
        for (k, row) in self.rows.iter().enumerate() {
            for (j, inst) in row.iter().enumerate() {
                if inst.task.as_ref().is_some_and(|(id, _)| id == task_id) {
                    return Some((k, j));
                }
            }
        }
        None
    }
}

fn definition(chain: usize, occurrences: usize, retries: u32, cascade: bool) -> String {
    let mode = if cascade { "cascade" } else { "none" };
    let mut objects = vec![
        format!(
            r#"{{"id": "Default", "scheduleType": "cron", "workerGroup": "wg",
                "maximumRetries": "{retries}", "retryDelay": "{RETRY} minutes",
                "failureAndRerunMode": "{mode}"}}"#
        ),
        format!(
            r#"{{"id": "S", "type": "Schedule", "period": "1 hour",
                "startDateTime": "2026-01-01T00:00:00", "occurrences": "{occurrences}"}}"#
        ),
    ];
    for j in 0..chain {
        let depends = if j == 0 {
            String::new()
        } else {
            format!(r#", "dependsOn": {{"ref": "A{}"}}"#, j - 1)
        };
        objects.push(format!(
            r#"{{"id": "A{j}", "type": "ShellCommandActivity", "schedule": {{"ref": "S"}},
                "command": "step {j}"{depends}}}"#
        ));
    }
    format!(r#"{{"objects": [{}]}}"#, objects.join(","))
}

fn instance_id(model: &Model, k: usize, j: usize) -> String {
    format!(
        "@A{j}_{}",
        sluice_model::time::format_datetime(model.due(k))
    )
}

fn compare(engine: &Engine, model: &Model) -> Result<(), TestCaseError> {
    prop_assert_eq!(engine.instance_count(), model.rows.len() * model.chain);
    for (k, row) in model.rows.iter().enumerate() {
        for (j, inst) in row.iter().enumerate() {
            let id = instance_id(model, k, j);
            prop_assert_eq!(
                engine.instance_status(&id),
                Some(inst.status),
                "{} at {}",
                id,
                model.t
            );
        }
    }
    Ok(())
}

fn run(
    chain: usize,
    occurrences: usize,
    retries: u32,
    cascade: bool,
    ops: Vec<Op>,
) -> Result<(), TestCaseError> {
    let start = at("2026-01-01T00:00:00");
    let mut engine = engine(
        &definition(chain, occurrences, retries, cascade),
        "2026-01-01T00:00:00",
    );
    let mut model = Model {
        t: start,
        start,
        chain,
        occurrences,
        retries,
        cascade,
        rows: Vec::new(),
    };
    engine.activate(start, None).unwrap();
    model.advance(start);
    compare(&engine, &model)?;
    let mut handed: Vec<String> = Vec::new();
    for op in ops {
        let t = model.t;
        match op {
            Op::Advance(minutes) => {
                let to = t + Duration::minutes(minutes);
                engine.advance(to);
                model.advance(to);
            }
            Op::Poll => match engine.poll_task(Some("wg"), "h", t) {
                Some(task) => {
                    let (k, j, number) = (0..model.rows.len())
                        .flat_map(|k| (0..chain).map(move |j| (k, j)))
                        .find_map(|(k, j)| {
                            let prefix = format!("{}_Attempt=", instance_id(&model, k, j));
                            task.attempt_id
                                .strip_prefix(&prefix)
                                .map(|n| (k, j, n.parse::<u32>().unwrap()))
                        })
                        .expect("the task belongs to a known instance");
                    let inst = &mut model.rows[k][j];
                    prop_assert_eq!(inst.status, Status::WaitingForRunner);
                    prop_assert!(inst.retry_at.is_none() && inst.task.is_none());
                    prop_assert_eq!(number, inst.attempts);
                    inst.status = Status::Running;
                    inst.task = Some((task.task_id.clone(), t + Duration::minutes(2)));
                    handed.push(task.task_id);
                }
                None => prop_assert!(!model.pollable(), "engine handed out nothing at {}", t),
            },
            Op::Finish(n) | Op::Fail(n) | Op::Report(n) if handed.is_empty() => {
                let _ = n;
            }
            Op::Finish(n) => {
                let task_id = handed[n % handed.len()].clone();
                let result = engine.set_task_status(&task_id, TaskResult::finished(), t);
                match model.holder(&task_id) {
                    Some((k, j)) => {
                        prop_assert_eq!(result, Ok(()));
                        model.rows[k][j].task = None;
                        model.rows[k][j].status = Status::Finished;
                        model.settle(k);
                    }
                    None => prop_assert_eq!(result, Err(EngineError::TaskNotFound(task_id))),
                }
            }
            Op::Fail(n) => {
                let task_id = handed[n % handed.len()].clone();
                let result = engine.set_task_status(&task_id, TaskResult::failed("E", "x"), t);
                match model.holder(&task_id) {
                    Some((k, j)) => {
                        prop_assert_eq!(result, Ok(()));
                        model.rows[k][j].task = None;
                        model.failed(k, j, t);
                    }
                    None => prop_assert_eq!(result, Err(EngineError::TaskNotFound(task_id))),
                }
            }
            Op::Report(n) => {
                let task_id = handed[n % handed.len()].clone();
                let result = engine.report_progress(&task_id, &[], t);
                match model.holder(&task_id) {
                    Some((k, j)) => {
                        prop_assert_eq!(result, Ok(false));
                        model.rows[k][j].task = Some((task_id, t + Duration::minutes(15)));
                    }
                    None => prop_assert_eq!(result, Err(EngineError::TaskNotFound(task_id))),
                }
            }
        }
        compare(&engine, &model)?;
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 200, ..ProptestConfig::default() })]

    #[test]
    fn engine_agrees_with_the_reference_model(
        chain in 1usize..=3,
        occurrences in 1usize..=3,
        retries in 0u32..=2,
        cascade in any::<bool>(),
        ops in proptest::collection::vec(op(), 1..60),
    ) {
        run(chain, occurrences, retries, cascade, ops)?;
    }
}
