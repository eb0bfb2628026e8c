//! Object ids as AWS spells them, and task ids.
//!
//! Object ids as AWS spells them, and task ids.
//!
//! Instance ids are `@<componentId>_<scheduledStartTime>` and attempt ids append
//! `_Attempt=<n>` (AWS §8.1). Task ids are bearer tokens: holding one is what lets a runner
//! report for an attempt, so they carry 128 bits from the operating system's random number
//! generator, never anything derived from a counter or the clock. They end with the id of
//! their pipeline, so a server of a shared deployment knows where to send a runner's report
//! without asking the database; the pipeline id is no secret (the task object names it).

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

/// Generates the task ids of one pipeline: `task-<random>-<counter>-<pipelineId>`.
#[derive(Debug)]
pub struct TaskIds {
    counter: u64,
    pipeline_id: String,
}

/// The pipeline a task id names, for ids [`TaskIds`] made (`None` for other strings, such as
/// the ids of earlier versions, which did not name it).
pub fn task_pipeline(task_id: &str) -> Option<&str> {
    let mut parts = task_id.strip_prefix("task-")?.splitn(3, '-');
    let random = parts.next()?;
    let counter = parts.next()?;
    let pipeline_id = parts.next()?;
    let hex = |s: &str| !s.is_empty() && s.chars().all(|c| c.is_ascii_hexdigit());
    (random.len() == 32 && hex(random) && hex(counter) && !pipeline_id.is_empty())
        .then_some(pipeline_id)
}

impl TaskIds {
    /// The generator of `pipeline_id`'s task ids.
    pub fn for_pipeline(pipeline_id: &str) -> TaskIds {
        TaskIds {
            counter: 0,
            pipeline_id: pipeline_id.to_owned(),
        }
    }

    /// A fresh id: 128 bits from the OS random number generator, then the counter, so ids
    /// stay unique within a process even if the generator ever repeated itself, then the
    /// pipeline's id.
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
            "task-{:032x}-{:x}-{}",
            u128::from_be_bytes(bytes),
            self.counter,
            self.pipeline_id
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
    fn only_task_ids_of_this_form_name_a_pipeline() {
        for id in [
            "task-0123456789abcdef0123456789abcdef-1f",
            "task-0123456789abcdef0123456789abcdef-1f-",
            "task-0123456789abcdef-1f-df-X",
            "task-0123456789abcdef0123456789abcdeg-1f-df-X",
            "task-0123456789abcdef0123456789abcdef--df-X",
            "0123456789abcdef0123456789abcdef-1f-df-X",
            "",
        ] {
            assert_eq!(task_pipeline(id), None, "{id}");
        }
        assert_eq!(
            task_pipeline("task-0123456789abcdef0123456789abcdef-1f-df-X-Y"),
            Some("df-X-Y")
        );
    }

    #[test]
    fn task_ids_are_distinct_across_generators() {
        let mut a = TaskIds::for_pipeline("df-1");
        let mut b = TaskIds::for_pipeline("df-1");
        let x = a.next_id();
        assert_ne!(x, a.next_id());
        assert_ne!(x, b.next_id());
    }

    #[test]
    fn task_ids_keep_their_shape_and_do_not_follow_a_pattern() {
        let mut ids = TaskIds::for_pipeline("df-0123456789ABCDEFGHI");
        let a = ids.next_id();
        let b = ids.next_id();
        for (id, n) in [(&a, "1"), (&b, "2")] {
            let rest = id.strip_prefix("task-").expect(id);
            let (random, rest) = rest.split_once('-').expect(id);
            let (counter, pipeline) = rest.split_once('-').expect(id);
            assert_eq!(random.len(), 32, "{id}");
            assert!(random.chars().all(|c| c.is_ascii_hexdigit()), "{id}");
            assert_eq!(counter, n, "{id}");
            assert_eq!(pipeline, "df-0123456789ABCDEFGHI", "{id}");
            assert_eq!(task_pipeline(id), Some("df-0123456789ABCDEFGHI"), "{id}");
        }
        // Consecutive ids share no long run of their random part.
        let (ra, rb) = (&a[5..37], &b[5..37]);
        let same = ra.chars().zip(rb.chars()).filter(|(x, y)| x == y).count();
        assert!(same < 16, "{a} and {b} look related");
    }
}
