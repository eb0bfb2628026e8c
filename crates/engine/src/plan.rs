//! The plan: a validated pipeline compiled into what the engine runs — components with their
//! schedules, dependencies, where they run, and their retry and failure policies.
//!
//! Design decisions:
//! * Components are indexed by position ([`ComponentIdx`]) so the engine never hashes ids on
//!   hot paths. Every typed object is a component; only activities, data nodes and resources
//!   get instances per interval, preconditions get instances per object they check, actions
//!   fire events, and the rest (schedules, databases, data formats, configuration objects) are
//!   kept for evaluating task objects.
//! * Dependencies of an instance are its `input` data nodes, its `dependsOn` objects and, for a
//!   data node, the activities that name it in their `output`. That last rule is explicit: an
//!   output node instance finishes only when the producing activity instance has finished, so
//!   a consumer of the node waits for the producer without naming it.
//! * Where a component runs: `runsOn` wins over `workerGroup` (AWS: "if both, workerGroup is
//!   ignored"); with `runsOn` the task goes to the resource *instance's* own worker group,
//!   whose name is the resource instance id. Data nodes and preconditions run their checks
//!   where the object they belong to says — except the checks the service performs itself
//!   (S3KeyExists, DynamoDBTableExists, …: `ManagedBy::Service`), which always go to
//!   [`SERVICE_WORKER_GROUP`], the group the service's own runner polls.
//! * Defaults (AWS documents none of them precisely): `maximumRetries` 2, i.e. three attempts,
//!   the behaviour reported for the service (configurable through [`PlanDefaults`]);
//!   `retryDelay` 10 minutes; no `attemptTimeout`, `lateAfterTimeout` or
//!   `preconditionTimeout`; `reportProgressTimeout` comes from the engine options (15 min);
//!   `maxActiveInstances` unlimited for scheduled components and 1 for ondemand ones (AWS's
//!   documented ondemand default); `failureAndRerunMode` none.
//! * Numeric and period fields may hold `#{...}` (usually a parameter): they are evaluated once,
//!   here, without runtime fields. A value that does not evaluate to something usable is a
//!   [`PlanError`], because validation has already accepted the definition.
//! * Effective fields are cached per component with a flag saying whether they contain `#{`,
//!   so building a task evaluates only what needs evaluating.

use std::collections::{HashMap, HashSet, VecDeque};

use chrono::NaiveDateTime;
use sluice_catalog::{Catalog, Category, ManagedBy};
use sluice_definition::{DefinitionContext, ResolvedObject, ResolvedPipeline};
use sluice_expr::{contains_expression, evaluate_string};
use sluice_model::{FieldValue, Period, PeriodUnit};

use crate::schedule::{ScheduleError, ScheduleSpec, ScheduleType};

/// The worker group of checks the service performs itself (S3KeyExists, DynamoDBTableExists,
/// …). Only the service's own runner polls it; names starting with `@` are refused as a
/// `workerGroup` (they are also the ids of resource instances, whose groups they name).
pub const SERVICE_WORKER_GROUP: &str = "@service";

/// Position of a component in [`Plan::components`].
pub type ComponentIdx = usize;

/// `failureAndRerunMode`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum FailureMode {
    /// Consumers of a failed object keep waiting (the AWS default).
    #[default]
    None,
    /// Consumers of a failed object become CASCADE_FAILED; RERUN propagates to them.
    Cascade,
}

/// Retry and timeout settings of a component.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Policy {
    /// Retries after the first attempt (`maximumRetries`).
    pub maximum_retries: u32,
    /// Whether `maximumRetries` was set: a precondition that merely evaluates false is
    /// rechecked without limit (until `preconditionTimeout`) unless it was.
    pub retries_explicit: bool,
    pub retry_delay: Period,
    pub attempt_timeout: Option<Period>,
    pub report_progress_timeout: Option<Period>,
    pub late_after_timeout: Option<Period>,
    pub precondition_timeout: Option<Period>,
}

/// `actionOnResourceFailure`: what a resource failure (its runner died while needed) does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ResourceFailureAction {
    /// Start the resource again (up to its `maximumRetries`) and retry the attempts it was
    /// running per their own retry policy (the AWS default).
    #[default]
    RetryAll,
    /// The resource and the attempts it was running fail.
    RetryNone,
}

/// `actionOnTaskFailure`: what a failed task does to the resource it ran on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum TaskFailureAction {
    /// The resource keeps serving (the AWS default).
    #[default]
    Continue,
    /// The resource is shut down.
    Terminate,
}

/// How a resource (`Ec2Resource`, `EmrCluster`) is run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ResourcePolicy {
    /// `terminateAfter`: the longest a resource attempt may live, counted from its creation.
    pub terminate_after: Option<Period>,
    pub on_resource_failure: ResourceFailureAction,
    pub on_task_failure: TaskFailureAction,
}

/// Defaults for fields a component leaves unset.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PlanDefaults {
    pub maximum_retries: u32,
    pub retry_delay: Period,
    /// `maxActiveInstances` of ondemand components.
    pub ondemand_max_active_instances: u32,
}

impl Default for PlanDefaults {
    fn default() -> Self {
        PlanDefaults {
            maximum_retries: 2,
            retry_delay: Period::new(10, PeriodUnit::Minutes),
            ondemand_max_active_instances: 1,
        }
    }
}

/// A field as the component effectively has it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlannedField {
    pub key: String,
    pub value: FieldValue,
    /// Whether the value is a string containing `#{`, i.e. needs evaluating per attempt.
    pub has_expr: bool,
}

/// One object of the definition as the engine uses it.
#[derive(Debug, Clone)]
pub struct Component {
    pub id: String,
    pub type_name: String,
    pub category: Category,
    /// The Schedule object's id, for scheduled components of a scheduled pipeline.
    pub schedule_id: Option<String>,
    pub schedule: Option<ScheduleSpec>,
    pub schedule_type: ScheduleType,
    pub inputs: Vec<ComponentIdx>,
    pub outputs: Vec<ComponentIdx>,
    pub depends_on: Vec<ComponentIdx>,
    pub preconditions: Vec<ComponentIdx>,
    pub runs_on: Option<ComponentIdx>,
    /// `workerGroup` (ignored when `runs_on` is set).
    pub worker_group: Option<String>,
    /// The service itself does the work of this type (`ObjectKind::managed_by`): its checks
    /// go to [`SERVICE_WORKER_GROUP`] wherever the checked object runs.
    pub service_managed: bool,
    pub policy: Policy,
    /// For a resource: how it is run.
    pub resource: ResourcePolicy,
    pub failure_mode: FailureMode,
    pub on_success: Vec<ComponentIdx>,
    pub on_fail: Vec<ComponentIdx>,
    pub on_late: Vec<ComponentIdx>,
    /// `None` = unlimited.
    pub max_active_instances: Option<u32>,
    /// Components whose aligned instance must finish first: inputs, `dependsOn`, and for a
    /// data node the activities that output it. Deduplicated, never the component itself.
    pub producers: Vec<ComponentIdx>,
    /// For a resource: the components that run on it.
    pub served: Vec<ComponentIdx>,
    /// For a precondition: whether several components use it, so its instance ids also name
    /// the checked component (otherwise two checks at the same time would share an id).
    pub shared_precondition: bool,
    /// Effective fields except `parent`.
    pub fields: Vec<PlannedField>,
    /// Components reachable by reference from this one for task objects (inputs, outputs, their
    /// formats and databases, preconditions, the resource, the schedule, …), excluding actions
    /// and `dependsOn`, which a task runner never needs.
    pub task_refs: Vec<ComponentIdx>,
    /// Whether this component or any of `task_refs` has a field containing `#{`.
    pub needs_evaluation: bool,
}

impl Component {
    /// Whether the component gets an instance per interval (or per ondemand run).
    pub fn is_scheduled(&self) -> bool {
        self.category.is_scheduled()
    }

    pub fn is_activity(&self) -> bool {
        self.category == Category::Activity
    }

    pub fn is_data_node(&self) -> bool {
        self.category == Category::DataNode
    }

    pub fn is_resource(&self) -> bool {
        self.category == Category::Resource
    }

    pub fn is_precondition(&self) -> bool {
        self.category == Category::Precondition
    }

    /// Whether an action of this type is the `Terminate` action.
    pub fn is_terminate(&self) -> bool {
        self.category == Category::Action && self.type_name == "Terminate"
    }
}

/// Why a validated pipeline cannot be run.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PlanError {
    #[error(transparent)]
    Schedule(#[from] ScheduleError),
    #[error("'{0}' has no schedule, and the pipeline is not ondemand")]
    MissingSchedule(String),
    #[error("'{object}' field '{field}': {message}")]
    Field {
        object: String,
        field: String,
        message: String,
    },
}

/// A compiled pipeline.
#[derive(Clone)]
pub struct Plan {
    pub components: Vec<Component>,
    pub ondemand: bool,
    pipeline: ResolvedPipeline,
    catalog: Catalog,
    index: HashMap<String, ComponentIdx>,
}

impl std::fmt::Debug for Plan {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Plan")
            .field("components", &self.components)
            .field("ondemand", &self.ondemand)
            .finish_non_exhaustive()
    }
}

impl Plan {
    /// Compiles with the default [`PlanDefaults`].
    pub fn compile(pipeline: ResolvedPipeline, catalog: &Catalog) -> Result<Plan, PlanError> {
        Plan::compile_with(pipeline, catalog, &PlanDefaults::default())
    }

    pub fn compile_with(
        pipeline: ResolvedPipeline,
        catalog: &Catalog,
        defaults: &PlanDefaults,
    ) -> Result<Plan, PlanError> {
        let ondemand = pipeline.is_ondemand();
        let mut index = HashMap::new();
        let mut typed = Vec::new();
        for object in pipeline.typed() {
            let Some(kind) = object.kind(catalog) else {
                continue;
            };
            if index.contains_key(&object.id) {
                continue;
            }
            index.insert(object.id.clone(), typed.len());
            typed.push((object, kind.category()));
        }
        let reader = Reader {
            pipeline: &pipeline,
            catalog,
            index: &index,
        };
        let mut components = Vec::with_capacity(typed.len());
        for (object, category) in &typed {
            components.push(reader.component(object, *category, ondemand, defaults)?);
        }
        link(&mut components);
        for i in 0..components.len() {
            let refs = reader.task_refs(typed[i].0, i);
            let needs = components[i].fields.iter().any(|f| f.has_expr)
                || refs
                    .iter()
                    .any(|&r| components[r].fields.iter().any(|f| f.has_expr));
            components[i].task_refs = refs;
            components[i].needs_evaluation = needs;
        }
        Ok(Plan {
            components,
            ondemand,
            pipeline,
            catalog: catalog.clone(),
            index,
        })
    }

    /// The component with this id.
    pub fn get(&self, id: &str) -> Option<ComponentIdx> {
        self.index.get(id).copied()
    }

    pub fn component(&self, idx: ComponentIdx) -> &Component {
        &self.components[idx]
    }

    /// The id of the check `precondition` makes for the instance of `checked` that starts at
    /// `start`. A precondition several components use also names the checked component, so
    /// that two checks at the same time keep distinct ids.
    pub fn check_instance_id(
        &self,
        checked: ComponentIdx,
        precondition: ComponentIdx,
        start: NaiveDateTime,
    ) -> String {
        let precondition = &self.components[precondition];
        let owner = precondition
            .shared_precondition
            .then(|| self.components[checked].id.as_str());
        crate::ids::check_id(&precondition.id, owner, start)
    }

    /// The resolved definition the plan was compiled from.
    pub fn pipeline(&self) -> &ResolvedPipeline {
        &self.pipeline
    }

    pub fn catalog(&self) -> &Catalog {
        &self.catalog
    }
}

/// Fills in the reverse edges: producers of data nodes, resource consumers, shared
/// preconditions.
fn link(components: &mut [Component]) {
    let n = components.len();
    let mut produced_by: Vec<Vec<ComponentIdx>> = vec![Vec::new(); n];
    let mut served: Vec<Vec<ComponentIdx>> = vec![Vec::new(); n];
    let mut precondition_users: Vec<usize> = vec![0; n];
    for (i, c) in components.iter().enumerate() {
        if c.is_activity() {
            for &o in &c.outputs {
                if components[o].is_data_node() && !produced_by[o].contains(&i) {
                    produced_by[o].push(i);
                }
            }
        }
        if let Some(r) = c.runs_on {
            served[r].push(i);
        }
        for &p in &c.preconditions {
            precondition_users[p] += 1;
        }
    }
    for (i, c) in components.iter_mut().enumerate() {
        let mut producers = Vec::new();
        for &p in c
            .inputs
            .iter()
            .chain(&c.depends_on)
            .chain(&produced_by[i])
            .filter(|&&x| x != i)
        {
            if !producers.contains(&p) {
                producers.push(p);
            }
        }
        c.producers = producers;
        c.served = std::mem::take(&mut served[i]);
        c.shared_precondition = precondition_users[i] > 1;
    }
    // References to objects that never get instances, or preconditions that are not
    // preconditions, would otherwise wait forever.
    let scheduled: Vec<bool> = components.iter().map(Component::is_scheduled).collect();
    let precondition: Vec<bool> = components.iter().map(Component::is_precondition).collect();
    for c in components.iter_mut() {
        c.producers.retain(|&p| scheduled[p]);
        c.preconditions.retain(|&p| precondition[p]);
    }
}

struct Reader<'a> {
    pipeline: &'a ResolvedPipeline,
    catalog: &'a Catalog,
    index: &'a HashMap<String, ComponentIdx>,
}

impl Reader<'_> {
    fn component(
        &self,
        object: &ResolvedObject,
        category: Category,
        ondemand: bool,
        defaults: &PlanDefaults,
    ) -> Result<Component, PlanError> {
        let refs = |key: &str| -> Vec<ComponentIdx> {
            let mut out = Vec::new();
            for id in object.references(key) {
                if let Some(&i) = self.index.get(id)
                    && !out.contains(&i)
                {
                    out.push(i);
                }
            }
            out
        };
        let scheduled = category.is_scheduled();
        let schedule_type = if ondemand {
            ScheduleType::Ondemand
        } else {
            match self.text(object, "scheduleType")? {
                Some(text) => ScheduleType::parse(&text).ok_or_else(|| PlanError::Field {
                    object: object.id.clone(),
                    field: "scheduleType".into(),
                    message: format!("'{text}' is not cron, timeseries or ondemand"),
                })?,
                None => ScheduleType::default(),
            }
        };
        let (schedule_id, schedule) = if scheduled && !ondemand {
            let Some(id) = object.reference("schedule") else {
                return Err(PlanError::MissingSchedule(object.id.clone()));
            };
            let Some(target) = self.pipeline.get(id) else {
                return Err(PlanError::MissingSchedule(object.id.clone()));
            };
            (
                Some(id.to_owned()),
                Some(ScheduleSpec::from_object(&self.evaluated(target)?)?),
            )
        } else {
            (None, None)
        };
        let schedule_type = if schedule_type == ScheduleType::Ondemand && !ondemand {
            ScheduleType::default()
        } else {
            schedule_type
        };
        let runs_on = refs("runsOn").first().copied();
        let worker_group = self.text(object, "workerGroup")?;
        let maximum_retries = self.integer(object, "maximumRetries")?;
        let policy = Policy {
            maximum_retries: maximum_retries.unwrap_or(defaults.maximum_retries),
            retries_explicit: maximum_retries.is_some(),
            retry_delay: self
                .period(object, "retryDelay")?
                .unwrap_or(defaults.retry_delay),
            attempt_timeout: self.period(object, "attemptTimeout")?,
            report_progress_timeout: self.period(object, "reportProgressTimeout")?,
            late_after_timeout: self.period(object, "lateAfterTimeout")?,
            precondition_timeout: self.period(object, "preconditionTimeout")?,
        };
        let resource = if category == Category::Resource {
            self.resource_policy(object)?
        } else {
            ResourcePolicy::default()
        };
        let service_managed = category == Category::Precondition
            && object
                .kind(self.catalog)
                .is_some_and(|kind| kind.managed_by() == Some(ManagedBy::Service));
        let failure_mode = match self.text(object, "failureAndRerunMode")? {
            Some(text) if text.trim().eq_ignore_ascii_case("cascade") => FailureMode::Cascade,
            _ => FailureMode::None,
        };
        let max_active_instances = match self.integer(object, "maxActiveInstances")? {
            Some(n) => Some(n.max(1)),
            None if ondemand && scheduled => Some(defaults.ondemand_max_active_instances),
            None => None,
        };
        let fields = object
            .fields
            .iter()
            .filter(|f| f.key != "parent")
            .map(|f| PlannedField {
                key: f.key.clone(),
                value: f.value.clone(),
                has_expr: f.value.as_str().is_some_and(contains_expression),
            })
            .collect();
        Ok(Component {
            id: object.id.clone(),
            type_name: object.type_name.clone().unwrap_or_default(),
            category,
            schedule_id,
            schedule,
            schedule_type,
            inputs: refs("input"),
            outputs: refs("output"),
            depends_on: refs("dependsOn"),
            preconditions: refs("precondition"),
            runs_on,
            worker_group,
            service_managed,
            policy,
            resource,
            failure_mode,
            on_success: refs("onSuccess"),
            on_fail: refs("onFail"),
            on_late: refs("onLateAction"),
            max_active_instances,
            producers: Vec::new(),
            served: Vec::new(),
            shared_precondition: false,
            fields,
            task_refs: Vec::new(),
            needs_evaluation: false,
        })
    }

    fn resource_policy(&self, object: &ResolvedObject) -> Result<ResourcePolicy, PlanError> {
        let choice = |key: &str, text: Option<String>, allowed: &[&str]| match text {
            None => Ok(None),
            Some(text) => {
                let lower = text.trim().to_ascii_lowercase();
                if allowed.contains(&lower.as_str()) {
                    Ok(Some(lower))
                } else {
                    Err(PlanError::Field {
                        object: object.id.clone(),
                        field: key.to_owned(),
                        message: format!("'{text}' is not one of {}", allowed.join(", ")),
                    })
                }
            }
        };
        let on_resource_failure = match choice(
            "actionOnResourceFailure",
            self.text(object, "actionOnResourceFailure")?,
            &["retryall", "retrynone"],
        )?
        .as_deref()
        {
            Some("retrynone") => ResourceFailureAction::RetryNone,
            _ => ResourceFailureAction::RetryAll,
        };
        let on_task_failure = match choice(
            "actionOnTaskFailure",
            self.text(object, "actionOnTaskFailure")?,
            &["continue", "terminate"],
        )?
        .as_deref()
        {
            Some("terminate") => TaskFailureAction::Terminate,
            _ => TaskFailureAction::Continue,
        };
        Ok(ResourcePolicy {
            terminate_after: self.period(object, "terminateAfter")?,
            on_resource_failure,
            on_task_failure,
        })
    }

    /// The first string value of `key`, evaluated when it holds `#{...}`.
    fn text(&self, object: &ResolvedObject, key: &str) -> Result<Option<String>, PlanError> {
        let Some(raw) = object.string(key) else {
            return Ok(None);
        };
        if !contains_expression(raw) {
            return Ok(Some(raw.to_owned()));
        }
        let ctx = DefinitionContext::new(self.pipeline, self.catalog, object.id.as_str());
        evaluate_string(raw, &ctx)
            .map(Some)
            .map_err(|e| PlanError::Field {
                object: object.id.clone(),
                field: key.to_owned(),
                message: e.to_string(),
            })
    }

    /// `object` with every string field evaluated, for objects read as a whole, such as a
    /// Schedule whose `startDateTime` is a parameter.
    fn evaluated(&self, object: &ResolvedObject) -> Result<ResolvedObject, PlanError> {
        let mut out = object.clone();
        for field in &mut out.fields {
            if let FieldValue::String(raw) = &field.value
                && contains_expression(raw)
            {
                let ctx = DefinitionContext::new(self.pipeline, self.catalog, object.id.as_str());
                let value = evaluate_string(raw, &ctx).map_err(|e| PlanError::Field {
                    object: object.id.clone(),
                    field: field.key.clone(),
                    message: e.to_string(),
                })?;
                field.value = FieldValue::String(value);
            }
        }
        Ok(out)
    }

    fn integer(&self, object: &ResolvedObject, key: &str) -> Result<Option<u32>, PlanError> {
        let Some(text) = self.text(object, key)? else {
            return Ok(None);
        };
        text.trim()
            .parse::<u32>()
            .map(Some)
            .map_err(|_| PlanError::Field {
                object: object.id.clone(),
                field: key.to_owned(),
                message: format!("'{text}' is not a non-negative integer"),
            })
    }

    fn period(&self, object: &ResolvedObject, key: &str) -> Result<Option<Period>, PlanError> {
        let Some(text) = self.text(object, key)? else {
            return Ok(None);
        };
        text.parse::<Period>()
            .map(Some)
            .map_err(|e| PlanError::Field {
                object: object.id.clone(),
                field: key.to_owned(),
                message: e.to_string(),
            })
    }

    /// Breadth-first over reference fields, skipping the ones a task runner never follows.
    fn task_refs(&self, object: &ResolvedObject, own: ComponentIdx) -> Vec<ComponentIdx> {
        const SKIPPED: &[&str] = &["parent", "dependsOn", "onFail", "onSuccess", "onLateAction"];
        let mut seen: HashSet<ComponentIdx> = HashSet::from([own]);
        let mut out = Vec::new();
        let mut queue: VecDeque<&ResolvedObject> = VecDeque::from([object]);
        while let Some(current) = queue.pop_front() {
            for field in &current.fields {
                if SKIPPED.contains(&field.key.as_str()) {
                    continue;
                }
                let Some(target) = field.value.as_ref_id() else {
                    continue;
                };
                let Some(&idx) = self.index.get(target) else {
                    continue;
                };
                if seen.insert(idx) {
                    out.push(idx);
                    if let Some(next) = self.pipeline.get(target) {
                        queue.push_back(next);
                    }
                }
            }
        }
        out
    }
}
