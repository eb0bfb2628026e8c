//! Shared helpers for the engine's integration tests: definitions from inline JSON, times,
//! and a few drivers of the task protocol.
#![allow(dead_code, unreachable_pub)]

use chrono::NaiveDateTime;
use sluice_catalog::Catalog;
use sluice_definition::{Limits, ValidateOptions, load};
use sluice_engine::{Engine, EngineOptions, PipelineRecord, Plan, PlanDefaults};
use sluice_model::time::parse_datetime;
use sluice_model::{Status, TaskObject, TaskResult, parse_definition_file};

pub fn at(text: &str) -> NaiveDateTime {
    parse_datetime(text).unwrap_or_else(|e| panic!("{e}"))
}

pub fn minutes(n: i64) -> chrono::Duration {
    chrono::Duration::minutes(n)
}

/// Compiles a definition file (JSON text) with the built-in catalog.
pub fn plan(json: &str) -> Plan {
    plan_with(json, &PlanDefaults::default())
}

pub fn plan_with(json: &str, defaults: &PlanDefaults) -> Plan {
    let parsed = parse_definition_file(json).unwrap_or_else(|e| panic!("{e}"));
    let catalog = Catalog::builtin();
    let options = ValidateOptions {
        now: Some(at("2030-01-01T00:00:00")),
    };
    let (pipeline, _) = load(&parsed.definition, &catalog, &Limits::default(), &options)
        .unwrap_or_else(|report| panic!("definition does not validate: {report:?}"));
    Plan::compile_with(pipeline, &catalog, defaults).unwrap_or_else(|e| panic!("{e}"))
}

/// A fresh engine for `json`, created at `created`.
pub fn engine(json: &str, created: &str) -> Engine {
    Engine::new(
        PipelineRecord::new_local("df-TEST", at(created)),
        plan(json),
        EngineOptions::default(),
    )
}

/// Status of an instance, panicking when it does not exist.
pub fn status(engine: &Engine, id: &str) -> Status {
    engine
        .instance_status(id)
        .unwrap_or_else(|| panic!("no instance {id}; have {:?}", ids(engine)))
}

pub fn ids(engine: &Engine) -> Vec<String> {
    engine
        .instances()
        .into_iter()
        .map(|r| r.instance_id)
        .collect()
}

/// Polls one task of any group.
pub fn poll(engine: &mut Engine, now: NaiveDateTime) -> Option<TaskObject> {
    engine.poll_task(None, "test-host", now)
}

/// Polls and finishes every ready task at `now`, returning their attempt ids.
pub fn finish_all(engine: &mut Engine, now: NaiveDateTime) -> Vec<String> {
    let mut done = Vec::new();
    while let Some(task) = poll(engine, now) {
        engine
            .set_task_status(&task.task_id, TaskResult::finished(), now)
            .unwrap();
        done.push(task.attempt_id);
    }
    done
}

/// A string field of the task's attempt object.
pub fn field<'a>(task: &'a TaskObject, key: &str) -> Option<&'a str> {
    task.attempt()?.string(key)
}

/// Steps through time, finishing every task as soon as it is ready, until `until`.
pub fn run_until(engine: &mut Engine, until: NaiveDateTime) {
    let mut now = engine.now();
    loop {
        engine.advance(now);
        finish_all(engine, now);
        match engine.next_wakeup() {
            Some(next) if next <= until => now = next.max(now),
            _ => break,
        }
    }
    engine.advance(until);
    finish_all(engine, until);
}

pub const HEADER: &str = r#""Default": {}"#;
