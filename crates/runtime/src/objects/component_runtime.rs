//! The runtime fields of a component (DescribeObjects, COMPONENT sphere), derived from its
//! instances.
//!
//! Design decisions (AWS's field tables give one line per field; the rules are ours):
//! * `@healthStatus`, `@healthStatusFromInstanceId`: see [`super::health`];
//!   `@healthStatusUpdatedTime` is when the deciding instance ended.
//! * `@latestRunTime`: the scheduled start of the latest instance that started running;
//!   `@latestCompletedRunTime`: the scheduled start of the latest instance that completed
//!   (any terminal status but SKIPPED).
//! * `@nextRunTime`: when the component's next schedule interval becomes due, from the live
//!   scheduler; absent for ondemand pipelines (nothing is scheduled ahead) and for pipelines
//!   that are not scheduled. Retries and lease timers are not runs.
//! * `@activeInstances`: references to every instance not yet in a terminal status.
//! * `@finishedTime`: once the pipeline is FINISHED, when the component's last instance ended.

use std::collections::HashMap;

use chrono::NaiveDateTime;
use sluice_engine::InstanceRecord;
use sluice_model::time::format_datetime;
use sluice_model::{Field, Status};

use super::health::{Health, component_health};

/// What a component's instances say about it.
#[derive(Debug, Default)]
pub(crate) struct ComponentRuntime {
    health: Option<(Health, Option<NaiveDateTime>)>,
    latest_run: Option<NaiveDateTime>,
    latest_completed_run: Option<NaiveDateTime>,
    next_run: Option<NaiveDateTime>,
    active: Vec<String>,
    last_end: Option<NaiveDateTime>,
}

impl ComponentRuntime {
    /// The fields, in the order DescribeObjects shows them.
    pub(crate) fn fields(&self, pipeline_finished: bool) -> Vec<Field> {
        let mut out = Vec::new();
        let time = |key: &str, at: NaiveDateTime| Field::string(key, format_datetime(at));
        if let Some((health, updated)) = &self.health {
            out.push(Field::string("@healthStatus", health.status));
            out.push(Field::string(
                "@healthStatusFromInstanceId",
                health.from.clone(),
            ));
            if let Some(at) = updated {
                out.push(time("@healthStatusUpdatedTime", *at));
            }
        }
        if let Some(at) = self.latest_run {
            out.push(time("@latestRunTime", at));
        }
        if let Some(at) = self.latest_completed_run {
            out.push(time("@latestCompletedRunTime", at));
        }
        if let Some(at) = self.next_run {
            out.push(time("@nextRunTime", at));
        }
        for id in &self.active {
            out.push(Field::reference("@activeInstances", id.clone()));
        }
        if pipeline_finished && let Some(at) = self.last_end {
            out.push(time("@finishedTime", at));
        }
        out
    }
}

/// The runtime of every component that has instances or a next run.
pub(crate) fn component_runtime(
    instances: &[InstanceRecord],
    next_runs: HashMap<String, NaiveDateTime>,
) -> HashMap<String, ComponentRuntime> {
    let mut out: HashMap<String, ComponentRuntime> = HashMap::new();
    let ends: HashMap<&str, Option<NaiveDateTime>> = instances
        .iter()
        .map(|i| (i.instance_id.as_str(), i.actual_end))
        .collect();
    for (component, health) in component_health(instances) {
        let updated = ends.get(health.from.as_str()).copied().flatten();
        out.entry(component).or_default().health = Some((health, updated));
    }
    for instance in instances {
        let entry = out.entry(instance.component_id.clone()).or_default();
        let start = Some(instance.scheduled_start);
        if instance.actual_start.is_some() {
            entry.latest_run = entry.latest_run.max(start);
        }
        if instance.status.is_terminal() {
            if instance.status != Status::Skipped {
                entry.latest_completed_run = entry.latest_completed_run.max(start);
            }
            entry.last_end = entry.last_end.max(instance.actual_end);
        } else {
            entry.active.push(instance.instance_id.clone());
        }
    }
    for (component, at) in next_runs {
        out.entry(component).or_default().next_run = Some(at);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use sluice_model::FieldValue;
    use sluice_model::time::parse_datetime;

    fn instance(start: &str, status: Status, ran: bool) -> InstanceRecord {
        let at = parse_datetime(start).unwrap();
        InstanceRecord {
            pipeline_id: "df-1".into(),
            instance_id: format!("@A_{start}"),
            component_id: "A".into(),
            status,
            scheduled_start: at,
            scheduled_end: at,
            actual_start: ran.then_some(at),
            actual_end: status
                .is_terminal()
                .then(|| at + chrono::Duration::minutes(5)),
            attempt_count: u32::from(ran),
            fields: Default::default(),
        }
    }

    fn value<'a>(fields: &'a [Field], key: &str) -> Vec<&'a str> {
        fields
            .iter()
            .filter(|f| f.key == key)
            .map(|f| match &f.value {
                FieldValue::String(text) | FieldValue::Ref(text) => text.as_str(),
            })
            .collect()
    }

    #[test]
    fn runs_health_and_active_instances_come_from_the_instances() {
        let instances = [
            instance("2026-01-01T00:00:00", Status::Finished, true),
            instance("2026-01-02T00:00:00", Status::Failed, true),
            instance("2026-01-03T00:00:00", Status::Running, true),
            instance("2026-01-04T00:00:00", Status::WaitingOnDependencies, false),
        ];
        let next = parse_datetime("2026-01-05T00:00:00").unwrap();
        let runtime = component_runtime(&instances, HashMap::from([("A".to_owned(), next)]));
        let fields = runtime["A"].fields(false);
        assert_eq!(value(&fields, "@healthStatus"), ["ERROR"]);
        assert_eq!(
            value(&fields, "@healthStatusFromInstanceId"),
            ["@A_2026-01-02T00:00:00"]
        );
        assert_eq!(
            value(&fields, "@healthStatusUpdatedTime"),
            ["2026-01-02T00:05:00"]
        );
        assert_eq!(value(&fields, "@latestRunTime"), ["2026-01-03T00:00:00"]);
        assert_eq!(
            value(&fields, "@latestCompletedRunTime"),
            ["2026-01-02T00:00:00"]
        );
        assert_eq!(value(&fields, "@nextRunTime"), ["2026-01-05T00:00:00"]);
        assert_eq!(
            value(&fields, "@activeInstances"),
            ["@A_2026-01-03T00:00:00", "@A_2026-01-04T00:00:00"]
        );
        assert!(value(&fields, "@finishedTime").is_empty());
        assert_eq!(
            value(&runtime["A"].fields(true), "@finishedTime"),
            ["2026-01-02T00:05:00"]
        );
    }

    #[test]
    fn a_component_without_instances_or_schedule_has_no_runtime_fields() {
        assert!(component_runtime(&[], HashMap::new()).is_empty());
    }
}
