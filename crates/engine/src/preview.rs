//! What a pipeline would create, before it runs: the instances of a window of its schedule,
//! with their ids, times and the instances each one waits for (`sluice plan`).
//!
//! Design decisions:
//! * **The real engine, in virtual time.** A fresh [`Engine`] is activated with the given
//!   first activation time and advanced, without a task runner, until every interval of the
//!   window has been materialised; the instances, their times and their links are read back from it. So the
//!   preview names exactly the instances a run would create (ids, alignment across schedules,
//!   producers created early, resources), and cannot drift from the scheduler. Nothing is
//!   stored: the engine's change sets are dropped with it.
//! * **Precondition checks are derived, not observed.** The engine creates a check only when
//!   the instance it checks is ready, which without a runner may never happen; the preview
//!   lists one check per precondition of each instance, named by the same function the engine
//!   names them with ([`Plan::check_instance_id`]).
//! * **Windows are over scheduled start times.** An instance is listed when its
//!   `@scheduledStartTime` lies in `[from, to)`; a count of intervals counts distinct
//!   scheduled start times across all schedules. `from` defaults to the first interval of the
//!   earliest schedule — where a run activated at the same time would begin, backfill included.
//!   Dependencies outside the window are still named.
//! * **Only the window is walked.** Which instances exist and how they are linked depends on
//!   the first activation time, not on when the engine materialises them. So the engine is
//!   given the first activation time up front, starts materialising at the window (earlier
//!   instances are created only where the window's instances are wired to them) and stops
//!   once the window is complete, rather than walking every interval due by the activation:
//!   a window late in a long schedule costs what the window holds.
//! * **Ondemand pipelines** have no window: the preview is the one run an activation starts.
//! * **Reading order.** Within one scheduled start, instances follow the flow of the pipeline
//!   (each after what it waits for, its checks just before it), so a listing reads top down.

use std::collections::{BTreeSet, HashMap};

use chrono::NaiveDateTime;

use sluice_model::time::format_datetime;

use crate::engine::{Engine, EngineOptions, keys};
use crate::error::EngineError;
use crate::plan::Plan;
use crate::schedule::{Start, Timeline};
use crate::store::PipelineRecord;

/// The pipeline id the previewing engine runs under; it appears in no output.
const PREVIEW_PIPELINE_ID: &str = "df-PREVIEW";

/// Which instances a preview lists.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PreviewOptions {
    /// When the pipeline is taken to be activated for the first time: the start of
    /// `FIRST_ACTIVATION_DATE_TIME` schedules and the time of an ondemand run.
    pub activation: NaiveDateTime,
    /// The earliest scheduled start listed; `None` for the first interval of any schedule.
    pub from: Option<NaiveDateTime>,
    /// Where the window ends.
    pub until: Until,
}

/// The end of a preview window.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Until {
    /// Instances scheduled to start before this time.
    Time(NaiveDateTime),
    /// The first `n` distinct scheduled start times at or after `from`.
    Starts(usize),
}

/// What [`preview`] found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Preview {
    pub activation: NaiveDateTime,
    pub ondemand: bool,
    /// The window's first scheduled start (`None` for ondemand pipelines, and for schedules
    /// without a single interval when no start was asked for).
    pub from: Option<NaiveDateTime>,
    /// The window's exclusive end (`None` for ondemand pipelines, and when the schedules end
    /// before the requested number of start times).
    pub to: Option<NaiveDateTime>,
    /// Ordered by scheduled start; within one start, each instance after those it waits for
    /// and right after its own precondition checks, otherwise by id.
    pub instances: Vec<PlannedInstance>,
}

/// One instance a run would create.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlannedInstance {
    /// `@<componentId>_<scheduledStartTime>` (checks: see [`Plan::check_instance_id`]).
    pub id: String,
    pub component_id: String,
    pub type_name: String,
    pub scheduled_start: NaiveDateTime,
    pub scheduled_end: NaiveDateTime,
    /// When it may start: the interval's start for `cron` and for resources, its end for
    /// `timeseries`; a check's is that of the instance it checks.
    pub due: NaiveDateTime,
    /// Producer instances that must finish first (`input`, `dependsOn`, and for a data node
    /// the activities that output it).
    pub depends_on: Vec<String>,
    /// The precondition checks that must succeed before it runs.
    pub preconditions: Vec<String>,
    /// The resource instance it runs on.
    pub runs_on: Option<String>,
    /// For a precondition check: the instance it checks (its `node`).
    pub checks: Option<String>,
}

/// Lists the instances a pipeline would create in a window of its schedule, activated at
/// `options.activation`, without running anything.
///
/// # Errors
///
/// What [`Engine::activate`] refuses; a compiled plan is always accepted.
pub fn preview(plan: Plan, options: &PreviewOptions) -> Result<Preview, EngineError> {
    let activation = options.activation;
    let ondemand = plan.ondemand;
    // A scheduled pipeline's instances do not depend on when the engine materialises them,
    // only on the first activation time, so the engine starts no later than the earliest
    // interval and stops once the window is complete, instead of walking every interval
    // due by the activation. An ondemand run happens at the activation itself.
    let engine_start = if ondemand {
        activation
    } else {
        plan.components
            .iter()
            .filter_map(|c| match c.schedule?.start {
                Start::Fixed(at) => Some(at),
                Start::FirstActivation => None,
            })
            .chain(options.from)
            .fold(activation, NaiveDateTime::min)
    };
    let mut record = PipelineRecord::new_local(PREVIEW_PIPELINE_ID, engine_start);
    record.fields.insert(
        keys::FIRST_ACTIVATION_TIME.to_owned(),
        format_datetime(activation),
    );
    let mut engine = Engine::new(record, plan, EngineOptions::default());
    engine.activate_from(engine_start, None, options.from)?;
    let (from, to) = if ondemand {
        (None, None)
    } else {
        let timelines: Vec<Timeline> = (0..engine.plan().components.len())
            .filter(|&c| engine.plan().components[c].is_scheduled())
            .filter_map(|c| engine.timeline(c))
            .collect();
        let from = options.from.or_else(|| first_start(&timelines));
        let to = match (options.until, from) {
            (Until::Time(to), _) => Some(to),
            (Until::Starts(n), Some(from)) => start_after(&timelines, from, n),
            (Until::Starts(_), None) => None,
        };
        if let Some(horizon) = materialisation_horizon(&timelines, to) {
            engine.advance(horizon);
        }
        (from, to)
    };
    let in_window = |start: NaiveDateTime| {
        ondemand || (from.is_some_and(|from| start >= from) && to.is_none_or(|to| start < to))
    };
    let plan = engine.plan();
    let mut instances = Vec::new();
    let mut checks = Vec::new();
    for linked in engine.linked_instances().filter(|l| in_window(l.start)) {
        let component = plan.component(linked.component);
        let preconditions: Vec<String> = component
            .preconditions
            .iter()
            .map(|&p| plan.check_instance_id(linked.component, p, linked.start))
            .collect();
        for (&p, id) in component.preconditions.iter().zip(&preconditions) {
            let precondition = plan.component(p);
            checks.push(PlannedInstance {
                id: id.clone(),
                component_id: precondition.id.clone(),
                type_name: precondition.type_name.clone(),
                scheduled_start: linked.start,
                scheduled_end: linked.end,
                due: linked.due,
                depends_on: Vec::new(),
                preconditions: Vec::new(),
                runs_on: None,
                checks: Some(linked.id.to_owned()),
            });
        }
        instances.push(PlannedInstance {
            id: linked.id.to_owned(),
            component_id: component.id.clone(),
            type_name: component.type_name.clone(),
            scheduled_start: linked.start,
            scheduled_end: linked.end,
            due: linked.due,
            depends_on: linked.depends_on.iter().map(|d| (*d).to_owned()).collect(),
            preconditions,
            runs_on: linked.runs_on.map(str::to_owned),
            checks: None,
        });
    }
    Ok(Preview {
        activation,
        ondemand,
        from,
        to,
        instances: in_dependency_order(instances, checks),
    })
}

/// Orders instances by scheduled start; within one start, each after the instances of that
/// start it waits for (its resource included) and right after its own checks, otherwise by
/// id. Validation refuses dependency cycles; should one remain, the smallest id waiting
/// goes next.
fn in_dependency_order(
    mut instances: Vec<PlannedInstance>,
    checks: Vec<PlannedInstance>,
) -> Vec<PlannedInstance> {
    let mut checks_of: HashMap<String, Vec<PlannedInstance>> = HashMap::new();
    for check in checks {
        let owner = check.checks.clone().unwrap_or_default();
        checks_of.entry(owner).or_default().push(check);
    }
    instances.sort_by(|a, b| (a.scheduled_start, &a.id).cmp(&(b.scheduled_start, &b.id)));
    let mut ordered = Vec::with_capacity(instances.len());
    let mut rest = instances.into_iter().peekable();
    while let Some(first) = rest.next() {
        let start = first.scheduled_start;
        let mut group = vec![first];
        while let Some(next) = rest.next_if(|i| i.scheduled_start == start) {
            group.push(next);
        }
        for instance in topological(group) {
            ordered.extend(checks_of.remove(&instance.id).unwrap_or_default());
            ordered.push(instance);
        }
    }
    ordered
}

/// Kahn's algorithm over the links inside one group sorted by id, smallest id first.
fn topological(group: Vec<PlannedInstance>) -> Vec<PlannedInstance> {
    let index: HashMap<&str, usize> = group
        .iter()
        .enumerate()
        .map(|(n, i)| (i.id.as_str(), n))
        .collect();
    let mut waiting = vec![0usize; group.len()];
    let mut dependants = vec![Vec::new(); group.len()];
    for (n, instance) in group.iter().enumerate() {
        let upstream: BTreeSet<usize> = instance
            .depends_on
            .iter()
            .chain(&instance.runs_on)
            .filter_map(|id| index.get(id.as_str()).copied())
            .filter(|&u| u != n)
            .collect();
        waiting[n] = upstream.len();
        for u in upstream {
            dependants[u].push(n);
        }
    }
    let mut ready: BTreeSet<usize> = (0..group.len()).filter(|&n| waiting[n] == 0).collect();
    let mut order = Vec::with_capacity(group.len());
    let mut placed = vec![false; group.len()];
    while order.len() < group.len() {
        let next = match ready.pop_first() {
            Some(n) => n,
            None => (0..group.len()).find(|&n| !placed[n]).unwrap_or_default(),
        };
        if std::mem::replace(&mut placed[next], true) {
            continue;
        }
        order.push(next);
        for &d in &dependants[next] {
            waiting[d] = waiting[d].saturating_sub(1);
            if waiting[d] == 0 && !placed[d] {
                ready.insert(d);
            }
        }
    }
    let mut slots: Vec<Option<PlannedInstance>> = group.into_iter().map(Some).collect();
    order.into_iter().filter_map(|n| slots[n].take()).collect()
}

/// The start of the earliest first interval.
fn first_start(timelines: &[Timeline]) -> Option<NaiveDateTime> {
    timelines
        .iter()
        .filter_map(|t| t.interval(0))
        .map(|interval| interval.start)
        .min()
}

/// The `n`-th distinct interval start after the first one at or after `from` (counting from
/// zero: `n` starts precede it), or `None` when the schedules end before.
fn start_after(timelines: &[Timeline], from: NaiveDateTime, n: usize) -> Option<NaiveDateTime> {
    let mut starts = BTreeSet::new();
    for timeline in timelines {
        let first = timeline.index_containing(from).unwrap_or(0);
        starts.extend(
            timeline
                .intervals(first)
                .map(|interval| interval.start)
                .filter(|&start| start >= from)
                .take(n + 1),
        );
    }
    starts.into_iter().nth(n)
}

/// A time by which every interval starting before `to` (every interval, without `to`) is
/// due, whatever its schedule type: the latest end among those intervals. `None` when there
/// is no such interval, or when the schedules never end and no `to` bounds them.
fn materialisation_horizon(
    timelines: &[Timeline],
    to: Option<NaiveDateTime>,
) -> Option<NaiveDateTime> {
    let last = |timeline: &Timeline| match to {
        Some(to) => timeline.aligned(to - chrono::Duration::nanoseconds(1)),
        None => timeline
            .len()
            .and_then(|n| n.checked_sub(1))
            .and_then(|k| timeline.interval(k)),
    };
    timelines
        .iter()
        .filter_map(last)
        .map(|interval| interval.end)
        .max()
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Duration;
    use sluice_catalog::Catalog;
    use sluice_definition::{Limits, ValidateOptions, load};
    use sluice_model::time::parse_datetime;
    use sluice_model::{TaskResult, parse_definition_file};

    fn at(text: &str) -> NaiveDateTime {
        parse_datetime(text).unwrap()
    }

    fn plan(json: &str) -> Plan {
        let parsed = parse_definition_file(json).unwrap();
        let catalog = Catalog::builtin();
        let options = ValidateOptions {
            now: Some(at("2030-01-01T00:00:00")),
        };
        let (pipeline, _) = load(&parsed.definition, &catalog, &Limits::default(), &options)
            .unwrap_or_else(|report| panic!("invalid: {report:?}"));
        Plan::compile(pipeline, &catalog).unwrap()
    }

    fn listed(
        json: &str,
        activation: NaiveDateTime,
        from: Option<NaiveDateTime>,
        until: Until,
    ) -> Preview {
        let options = PreviewOptions {
            activation,
            from,
            until,
        };
        preview(plan(json), &options).unwrap()
    }

    /// An engine for `json` activated at `activation`, as a run would start it.
    fn activated(json: &str, activation: NaiveDateTime) -> Engine {
        let record = PipelineRecord::new_local("df-RUN", activation);
        let mut engine = Engine::new(record, plan(json), EngineOptions::default());
        engine.activate(activation, None).unwrap();
        engine
    }

    fn id(component: &str, start: NaiveDateTime) -> String {
        format!("@{component}_{}", format_datetime(start))
    }

    fn find<'a>(preview: &'a Preview, id: &str) -> &'a PlannedInstance {
        preview
            .instances
            .iter()
            .find(|i| i.id == id)
            .unwrap_or_else(|| panic!("no {id} in {:#?}", preview.instances))
    }

    /// Hourly cron: Extract → Staged (its output) → Load (input, precondition Ready, runs on
    /// Box, a daily resource).
    const CHAIN: &str = r#"{"objects": [
        {"id": "Default", "scheduleType": "cron", "schedule": {"ref": "Hourly"},
         "failureAndRerunMode": "cascade", "role": "r", "resourceRole": "r"},
        {"id": "Hourly", "type": "Schedule", "period": "1 hour",
         "startDateTime": "2026-03-01T00:00:00"},
        {"id": "Daily", "type": "Schedule", "period": "1 day",
         "startDateTime": "2026-03-01T00:00:00"},
        {"id": "Box", "type": "Ec2Resource", "schedule": {"ref": "Daily"}},
        {"id": "Ready", "type": "ShellCommandPrecondition", "command": "true"},
        {"id": "Staged", "type": "S3DataNode", "directoryPath": "s3://b/staged"},
        {"id": "Extract", "type": "ShellCommandActivity", "command": "x", "workerGroup": "wg",
         "output": {"ref": "Staged"}},
        {"id": "Load", "type": "ShellCommandActivity", "command": "y", "input": {"ref": "Staged"},
         "precondition": {"ref": "Ready"}, "runsOn": {"ref": "Box"}}
    ]}"#;

    #[test]
    fn a_cron_chain_lists_each_interval_with_its_links() {
        let start = at("2026-03-01T00:00:00");
        let preview = listed(CHAIN, at("2026-03-01T10:30:00"), None, Until::Starts(3));
        assert_eq!(preview.from, Some(start));
        assert_eq!(preview.to, Some(start + Duration::hours(3)));
        let mut expected = Vec::new();
        for k in 0..3 {
            let s = start + Duration::hours(k);
            if k == 0 {
                expected.push(id("Box", s));
            }
            // Producers first; the check right before the instance it checks.
            expected.extend([
                id("Extract", s),
                id("Staged", s),
                id("Ready", s),
                id("Load", s),
            ]);
        }
        let got: Vec<&str> = preview.instances.iter().map(|i| i.id.as_str()).collect();
        assert_eq!(got, expected);
        for k in 0..3 {
            let s = start + Duration::hours(k);
            let load = find(&preview, &id("Load", s));
            assert_eq!(load.type_name, "ShellCommandActivity");
            assert_eq!((load.scheduled_start, load.due), (s, s));
            assert_eq!(load.scheduled_end, s + Duration::hours(1));
            assert_eq!(load.depends_on, [id("Staged", s)]);
            assert_eq!(load.preconditions, [id("Ready", s)]);
            assert_eq!(load.runs_on, Some(id("Box", start)));
            let staged = find(&preview, &id("Staged", s));
            assert_eq!(staged.depends_on, [id("Extract", s)]);
            let check = find(&preview, &id("Ready", s));
            assert_eq!(check.checks, Some(id("Load", s)));
            assert_eq!(check.component_id, "Ready");
            assert_eq!(check.type_name, "ShellCommandPrecondition");
            assert!(find(&preview, &id("Extract", s)).depends_on.is_empty());
        }
        let resource = find(&preview, &id("Box", start));
        assert_eq!(resource.scheduled_end, start + Duration::days(1));
        assert_eq!(resource.due, start);
    }

    #[test]
    fn predicted_check_ids_are_the_ones_a_run_creates() {
        // Ready is shared by two components, so its checks also name the checked one.
        let json = r#"{"objects": [
            {"id": "Default", "scheduleType": "cron", "schedule": {"ref": "Hourly"},
             "workerGroup": "wg"},
            {"id": "Hourly", "type": "Schedule", "period": "1 hour",
             "startDateTime": "2026-03-01T00:00:00", "occurrences": "2"},
            {"id": "Ready", "type": "ShellCommandPrecondition", "command": "true"},
            {"id": "A", "type": "ShellCommandActivity", "command": "a",
             "precondition": {"ref": "Ready"}},
            {"id": "B", "type": "ShellCommandActivity", "command": "b", "dependsOn": {"ref": "A"},
             "precondition": {"ref": "Ready"}}
        ]}"#;
        let activation = at("2026-03-01T05:00:00");
        let until = Until::Time(at("2026-03-02T00:00:00"));
        let predicted: BTreeSet<String> = listed(json, activation, None, until)
            .instances
            .into_iter()
            .map(|i| i.id)
            .collect();
        let mut engine = activated(json, activation);
        while let Some(task) = engine.poll_task(None, "host", activation) {
            engine
                .set_task_status(&task.task_id, TaskResult::finished(), activation)
                .unwrap();
        }
        let created: BTreeSet<String> = engine
            .instances()
            .into_iter()
            .map(|r| r.instance_id)
            .collect();
        assert_eq!(predicted, created);
        assert!(
            created.contains("@Ready_B_2026-03-01T01:00:00"),
            "{created:?}"
        );
    }

    #[test]
    fn timeseries_instances_are_due_at_the_end_of_their_interval() {
        let json = r#"{"objects": [
            {"id": "Default", "scheduleType": "timeseries", "schedule": {"ref": "Daily"},
             "workerGroup": "wg"},
            {"id": "Daily", "type": "Schedule", "period": "1 day", "startAt": "FIRST_ACTIVATION_DATE_TIME"},
            {"id": "Job", "type": "ShellCommandActivity", "command": "x"}
        ]}"#;
        let activation = at("2026-03-01T10:30:00");
        let preview = listed(json, activation, None, Until::Starts(2));
        let got: Vec<(String, NaiveDateTime)> = preview
            .instances
            .iter()
            .map(|i| (i.id.clone(), i.due))
            .collect();
        let next = activation + Duration::days(1);
        assert_eq!(
            got,
            [
                (id("Job", activation), next),
                (id("Job", next), next + Duration::days(1))
            ]
        );
    }

    #[test]
    fn a_time_window_keeps_its_starts_and_names_producers_outside_it() {
        // Hourly Report reads the daily Extract's output: its producer starts at midnight.
        let json = r#"{"objects": [
            {"id": "Default", "scheduleType": "cron", "workerGroup": "wg"},
            {"id": "Hourly", "type": "Schedule", "period": "1 hour",
             "startDateTime": "2026-03-01T00:00:00"},
            {"id": "Daily", "type": "Schedule", "period": "1 day",
             "startDateTime": "2026-03-01T00:00:00"},
            {"id": "Extract", "type": "ShellCommandActivity", "command": "x",
             "schedule": {"ref": "Daily"}},
            {"id": "Report", "type": "ShellCommandActivity", "command": "y",
             "schedule": {"ref": "Hourly"}, "dependsOn": {"ref": "Extract"}}
        ]}"#;
        let (from, to) = (at("2026-03-01T05:00:00"), at("2026-03-01T07:00:00"));
        let preview = listed(json, at("2026-02-01T00:00:00"), Some(from), Until::Time(to));
        let midnight = at("2026-03-01T00:00:00");
        let got: Vec<(&str, &[String])> = preview
            .instances
            .iter()
            .map(|i| (i.id.as_str(), i.depends_on.as_slice()))
            .collect();
        let producer = [id("Extract", midnight)];
        assert_eq!(
            got,
            [
                (id("Report", from).as_str(), &producer[..]),
                (
                    id("Report", from + Duration::hours(1)).as_str(),
                    &producer[..]
                ),
            ]
        );
        assert_eq!((preview.from, preview.to), (Some(from), Some(to)));
    }

    #[test]
    fn a_window_late_in_the_schedule_is_the_same_without_walking_up_to_it() {
        let from = at("2026-03-03T05:00:00");
        let to = at("2026-03-03T09:00:00");
        let activation = at("2026-03-05T00:00:00");
        let skipping = listed(CHAIN, activation, Some(from), Until::Time(to));
        let mut walked = listed(CHAIN, activation, None, Until::Time(to));
        walked.instances.retain(|i| i.scheduled_start >= from);
        assert_eq!(skipping.instances, walked.instances);
        assert_eq!(skipping.instances.len(), 4 * 4, "{:#?}", skipping.instances);
        let load = find(&skipping, &id("Load", from));
        assert_eq!(load.runs_on, Some(id("Box", at("2026-03-03T00:00:00"))));

        // A real activation at the same time, left to run up to the window's end, creates
        // the same instances there (all but the checks, which wait for a runner).
        let engine = activated(CHAIN, activation);
        let times = |id: &str, start, end| (id.to_owned(), start, end);
        let mut created: Vec<_> = engine
            .instances()
            .into_iter()
            .filter(|r| (from..to).contains(&r.scheduled_start))
            .map(|r| times(&r.instance_id, r.scheduled_start, r.scheduled_end))
            .collect();
        let mut planned: Vec<_> = skipping
            .instances
            .iter()
            .filter(|i| i.checks.is_none())
            .map(|i| times(&i.id, i.scheduled_start, i.scheduled_end))
            .collect();
        planned.sort();
        created.sort();
        assert_eq!(planned, created);
    }

    #[test]
    fn a_count_beyond_a_finite_schedule_lists_all_of_it() {
        let json = r#"{"objects": [
            {"id": "Default", "scheduleType": "cron", "schedule": {"ref": "S"}, "workerGroup": "wg"},
            {"id": "S", "type": "Schedule", "period": "1 day",
             "startDateTime": "2026-03-01T00:00:00", "endDateTime": "2026-03-03T00:00:00"},
            {"id": "Job", "type": "ShellCommandActivity", "command": "x"}
        ]}"#;
        let preview = listed(json, at("2026-01-01T00:00:00"), None, Until::Starts(10));
        let got: Vec<&str> = preview.instances.iter().map(|i| i.id.as_str()).collect();
        assert_eq!(
            got,
            ["@Job_2026-03-01T00:00:00", "@Job_2026-03-02T00:00:00"]
        );
        assert_eq!(preview.to, None);
    }

    #[test]
    fn an_ondemand_pipeline_is_one_run_at_activation() {
        let json = r#"{"objects": [
            {"id": "Default", "scheduleType": "ondemand", "workerGroup": "wg"},
            {"id": "A", "type": "ShellCommandActivity", "command": "a"},
            {"id": "B", "type": "ShellCommandActivity", "command": "b", "dependsOn": {"ref": "A"}}
        ]}"#;
        let activation = at("2026-03-01T10:30:00");
        let preview = listed(json, activation, None, Until::Starts(5));
        assert!(preview.ondemand);
        assert_eq!((preview.from, preview.to), (None, None));
        let got: Vec<(&str, NaiveDateTime, &[String])> = preview
            .instances
            .iter()
            .map(|i| (i.id.as_str(), i.due, i.depends_on.as_slice()))
            .collect();
        let a = [id("A", activation)];
        assert_eq!(
            got,
            [
                (a[0].as_str(), activation, &[][..]),
                (id("B", activation).as_str(), activation, &a[..]),
            ]
        );
    }
}
