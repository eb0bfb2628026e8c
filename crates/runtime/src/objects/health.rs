//! `@healthStatus` (Developer Guide "Interpreting Pipeline and Component Health State"): a
//! component is HEALTHY when its most recently completed instance FINISHED, ERROR when it
//! FAILED, CASCADE_FAILED, TIMEDOUT or was CANCELED; a pipeline is ERROR when any component is,
//! else HEALTHY when any component has completed instances. Without completed instances there
//! is no health to report. SKIPPED instances never ran and do not count. "Most recent" is by
//! end time, then scheduled start.

use std::collections::HashMap;

use sluice_engine::InstanceRecord;
use sluice_model::Status;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Health {
    /// `HEALTHY` or `ERROR`.
    pub status: &'static str,
    /// The instance whose status decided it (`@healthStatusFromInstanceId`).
    pub from: String,
}

fn completed(instance: &InstanceRecord) -> bool {
    instance.status.is_terminal() && instance.status != Status::Skipped
}

fn latest<'a>(instances: impl Iterator<Item = &'a InstanceRecord>) -> Option<&'a InstanceRecord> {
    instances.filter(|i| completed(i)).max_by(|a, b| {
        (a.actual_end, a.scheduled_start, &a.instance_id).cmp(&(
            b.actual_end,
            b.scheduled_start,
            &b.instance_id,
        ))
    })
}

fn health_of(instance: &InstanceRecord) -> Health {
    Health {
        status: if instance.status == Status::Finished {
            "HEALTHY"
        } else {
            "ERROR"
        },
        from: instance.instance_id.clone(),
    }
}

/// The health of each component with completed instances.
pub(crate) fn component_health(instances: &[InstanceRecord]) -> HashMap<String, Health> {
    let mut by_component: HashMap<&str, Vec<&InstanceRecord>> = HashMap::new();
    for instance in instances {
        by_component
            .entry(instance.component_id.as_str())
            .or_default()
            .push(instance);
    }
    by_component
        .into_iter()
        .filter_map(|(component, list)| {
            latest(list.into_iter()).map(|i| (component.to_owned(), health_of(i)))
        })
        .collect()
}

/// The pipeline's health: ERROR if any component is in error (the most recent such instance
/// is named), else HEALTHY if anything completed.
pub fn pipeline_health(instances: &[InstanceRecord]) -> Option<Health> {
    let components = component_health(instances);
    let mut worst: Option<&Health> = None;
    let by_id: HashMap<&str, &InstanceRecord> = instances
        .iter()
        .map(|i| (i.instance_id.as_str(), i))
        .collect();
    let recency = |h: &Health| {
        by_id
            .get(h.from.as_str())
            .map(|i| (i.actual_end, i.scheduled_start))
    };
    for health in components.values() {
        worst = match worst {
            None => Some(health),
            Some(current) => {
                let rank = |h: &Health| (h.status == "ERROR", recency(h), h.from.clone());
                if rank(health) > rank(current) {
                    Some(health)
                } else {
                    Some(current)
                }
            }
        };
    }
    worst.cloned()
}

#[cfg(test)]
mod tests {
    use super::*;
    use sluice_model::time::parse_datetime;

    fn instance(component: &str, start: &str, status: Status) -> InstanceRecord {
        let at = parse_datetime(start).unwrap();
        InstanceRecord {
            pipeline_id: "df-1".into(),
            instance_id: format!("@{component}_{start}"),
            component_id: component.into(),
            status,
            scheduled_start: at,
            scheduled_end: at,
            actual_start: Some(at),
            actual_end: status.is_terminal().then_some(at),
            attempt_count: 1,
            fields: Default::default(),
        }
    }

    #[test]
    fn the_latest_completed_instance_decides_and_error_wins() {
        assert_eq!(pipeline_health(&[]), None);
        let ok = [
            instance("A", "2026-01-01T00:00:00", Status::Failed),
            instance("A", "2026-01-02T00:00:00", Status::Finished),
            instance("A", "2026-01-03T00:00:00", Status::Running),
        ];
        let health = pipeline_health(&ok).unwrap();
        assert_eq!(health.status, "HEALTHY");
        assert_eq!(health.from, "@A_2026-01-02T00:00:00");
        let mut bad = ok.to_vec();
        bad.push(instance("B", "2026-01-01T00:00:00", Status::Canceled));
        assert_eq!(pipeline_health(&bad).unwrap().status, "ERROR");
        assert_eq!(component_health(&bad)["A"].status, "HEALTHY");
    }
}
