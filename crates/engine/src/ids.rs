//! Object ids as AWS spells them, and task ids.
//!
//! Instance ids are `@<componentId>_<scheduledStartTime>` and attempt ids append
//! `_Attempt=<n>` (AWS §8.1). Task ids must be unguessable, since holding one is what lets a
//! runner report for an attempt: they are built from a process-wide random key (the standard
//! library's `RandomState`, seeded from the operating system) hashing a counter and the clock,
//! which needs no extra dependency and never repeats within a process.

use std::collections::hash_map::RandomState;
use std::hash::BuildHasher;
use std::time::{SystemTime, UNIX_EPOCH};

use chrono::NaiveDateTime;
use sluice_model::time::format_datetime;

/// `@<componentId>_<scheduledStartTime>`.
pub fn instance_id(component_id: &str, scheduled_start: NaiveDateTime) -> String {
    format!("@{component_id}_{}", format_datetime(scheduled_start))
}

/// The id of a precondition check: `@<preconditionId>_<time>`, or, when the precondition is
/// shared by several components, `@<preconditionId>_<checkedComponentId>_<time>` so that two
/// checks at the same time stay distinct.
pub fn check_id(
    precondition_id: &str,
    checked_component: Option<&str>,
    scheduled_start: NaiveDateTime,
) -> String {
    match checked_component {
        Some(owner) => format!(
            "@{precondition_id}_{owner}_{}",
            format_datetime(scheduled_start)
        ),
        None => instance_id(precondition_id, scheduled_start),
    }
}

/// `<instanceId>_Attempt=<n>`.
pub fn attempt_id(instance_id: &str, number: u32) -> String {
    format!("{instance_id}_Attempt={number}")
}

/// Generates task ids.
#[derive(Debug)]
pub struct TaskIds {
    keys: [RandomState; 2],
    counter: u64,
    salt: u128,
}

impl Default for TaskIds {
    fn default() -> Self {
        let salt = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or_default();
        TaskIds {
            keys: [RandomState::new(), RandomState::new()],
            counter: 0,
            salt,
        }
    }
}

impl TaskIds {
    /// A fresh id: 128 random-looking bits and the counter, so ids are unique even if the
    /// hash ever collided.
    pub fn next_id(&mut self) -> String {
        self.counter += 1;
        let input = (self.counter, self.salt);
        let a = self.keys[0].hash_one(input);
        let b = self.keys[1].hash_one(input);
        format!("task-{a:016x}{b:016x}-{:x}", self.counter)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sluice_model::time::parse_datetime;

    #[test]
    fn ids_follow_the_aws_forms() {
        let at = parse_datetime("2012-12-12T00:00:00").unwrap();
        let instance = instance_id("SayHello", at);
        assert_eq!(instance, "@SayHello_2012-12-12T00:00:00");
        assert_eq!(
            attempt_id(&instance, 1),
            "@SayHello_2012-12-12T00:00:00_Attempt=1"
        );
        assert_eq!(check_id("Ready", None, at), "@Ready_2012-12-12T00:00:00");
        assert_eq!(
            check_id("Ready", Some("Node"), at),
            "@Ready_Node_2012-12-12T00:00:00"
        );
    }

    #[test]
    fn task_ids_are_distinct_across_generators() {
        let mut a = TaskIds::default();
        let mut b = TaskIds::default();
        let x = a.next_id();
        assert_ne!(x, a.next_id());
        assert_ne!(x, b.next_id());
    }
}
