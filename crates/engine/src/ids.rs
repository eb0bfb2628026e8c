//! Object ids as AWS spells them, and task ids.
//!
//! Object ids as AWS spells them, and task ids.
//!
//! Instance ids are `@<componentId>_<scheduledStartTime>` and attempt ids append
//! `_Attempt=<n>` (AWS §8.1). Task ids are bearer tokens: holding one is what lets a runner
//! report for an attempt, so they carry 128 bits from the operating system's random number
//! generator, never anything derived from a counter or the clock.

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
#[derive(Debug, Default)]
pub struct TaskIds {
    counter: u64,
}

impl TaskIds {
    /// A fresh id: 128 bits from the OS random number generator, then the counter, so ids
    /// stay unique within a process even if the generator ever repeated itself.
    ///
    /// # Panics
    ///
    /// When the operating system cannot supply random bytes: handing out a guessable task id
    /// would let anyone report for the attempt, so there is no fallback.
    pub fn next_id(&mut self) -> String {
        self.counter += 1;
        let mut bytes = [0u8; 16];
        getrandom::fill(&mut bytes).expect("the operating system's random number generator failed");
        format!(
            "task-{:032x}-{:x}",
            u128::from_be_bytes(bytes),
            self.counter
        )
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

    #[test]
    fn task_ids_keep_their_shape_and_do_not_follow_a_pattern() {
        let mut ids = TaskIds::default();
        let a = ids.next_id();
        let b = ids.next_id();
        for (id, n) in [(&a, "1"), (&b, "2")] {
            let rest = id.strip_prefix("task-").expect(id);
            let (random, counter) = rest.split_once('-').expect(id);
            assert_eq!(random.len(), 32, "{id}");
            assert!(random.chars().all(|c| c.is_ascii_hexdigit()), "{id}");
            assert_eq!(counter, n, "{id}");
        }
        // Consecutive ids share no long run of their random part.
        let (ra, rb) = (&a[5..37], &b[5..37]);
        let same = ra.chars().zip(rb.chars()).filter(|(x, y)| x == y).count();
        assert!(same < 16, "{a} and {b} look related");
    }
}
