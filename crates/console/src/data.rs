//! What the pages read: the account check every pipeline page starts with, a pipeline's
//! snapshot (record, instance counts, health, latest instance of each component), the run
//! grid's window of instances and one instance with its attempts.
//!
//! Reads go through the pipeline's scheduler when this server has one (the engine's own copy,
//! statuses as displayed, PAUSED included) and to the store otherwise (a pipeline never
//! activated, or one another server of a shared deployment schedules). The run grid reads
//! only its window: a page of components × a span of scheduled starts, one indexed range of
//! the store per component ([`sluice_engine::Store::query_instances`]), so its cost does not
//! grow with the pipeline's history.

use std::collections::hash_map::DefaultHasher;
use std::collections::{BTreeSet, HashMap};
use std::hash::{Hash, Hasher};
use std::str::FromStr;
use std::sync::{Arc, Mutex};

use chrono::{Duration, NaiveDateTime, Utc};
use sluice_catalog::{Catalog, Category};
use sluice_engine::{AttemptRecord, InstanceQuery, InstanceRecord, PipelineRecord, id_hash};
use sluice_model::ops::ListPipelinesInput;
use sluice_model::{Period, PipelineDefinition, PipelineObject, Status};
use sluice_runtime::accounts::Principal;
use sluice_runtime::{ApiError, ApiResult, Health, Service, pipeline_health};

/// The pipeline's name when it is one of the caller's live pipelines; the API's
/// PipelineNotFound otherwise, also for another account's pipeline.
pub(crate) async fn owned(service: &Service, principal: &Principal, id: &str) -> ApiResult<String> {
    let mut marker = None;
    loop {
        let page = service
            .list_pipelines(principal, ListPipelinesInput { marker })
            .await?;
        if let Some(found) = page
            .pipeline_id_list
            .iter()
            .find(|p| p.id.as_deref() == Some(id))
        {
            return Ok(found.name.clone().unwrap_or_default());
        }
        match page.marker {
            Some(next) if page.has_more_results == Some(true) => marker = Some(next),
            _ => {
                return Err(ApiError::PipelineNotFound(format!(
                    "Pipeline {id} does not exist in your account"
                )));
            }
        }
    }
}

/// Every live pipeline of the caller's account, as (id, name).
pub(crate) async fn pipelines(
    service: &Service,
    principal: &Principal,
) -> ApiResult<Vec<(String, String)>> {
    let mut all = Vec::new();
    let mut marker = None;
    loop {
        let page = service
            .list_pipelines(principal, ListPipelinesInput { marker })
            .await?;
        all.extend(
            page.pipeline_id_list
                .into_iter()
                .filter_map(|p| Some((p.id?, p.name.unwrap_or_default()))),
        );
        match page.marker {
            Some(next) if page.has_more_results == Some(true) => marker = Some(next),
            _ => return Ok(all),
        }
    }
}

/// A pipeline as its pages show it.
pub(crate) struct Snapshot {
    pub(crate) record: PipelineRecord,
    /// Instance counts by displayed status, non-zero ones.
    pub(crate) counts: Vec<(&'static str, usize)>,
    pub(crate) health: Option<Health>,
    pub(crate) next_run: Option<NaiveDateTime>,
    /// The most recently completed instance: its status and end.
    pub(crate) last_run: Option<(Status, NaiveDateTime, String)>,
    /// Each component's instance of the latest scheduled start: (status, instance id).
    pub(crate) latest: HashMap<String, (Status, String)>,
    pub(crate) now: NaiveDateTime,
}

impl Snapshot {
    pub(crate) fn tags(&self) -> Vec<(String, String)> {
        tags_of(&self.record)
    }

    /// The definition whose objects the pipeline runs: the active one, else the latest.
    pub(crate) fn definition(&self) -> Option<&PipelineDefinition> {
        self.record
            .active_definition
            .as_ref()
            .or(self.record.definition.as_ref())
    }
}

/// The tags stored on a pipeline record.
pub(crate) fn tags_of(record: &PipelineRecord) -> Vec<(String, String)> {
    record
        .fields
        .get("@tags")
        .and_then(|t| serde_json::from_str::<Vec<serde_json::Value>>(t).ok())
        .unwrap_or_default()
        .iter()
        .filter_map(|t| {
            Some((
                t.get("key")?.as_str()?.to_owned(),
                t.get("value")?.as_str().unwrap_or_default().to_owned(),
            ))
        })
        .collect()
}

fn not_found(id: &str) -> ApiError {
    ApiError::PipelineNotFound(format!("Pipeline {id} does not exist"))
}

/// A store failure as the API words it.
fn store_error(error: impl std::fmt::Display) -> ApiError {
    ApiError::internal(format!("the state store failed: {error}"))
}

/// The pipeline's record alone (no instances read); call [`owned`] first.
pub(crate) async fn record(service: &Service, id: &str) -> ApiResult<PipelineRecord> {
    if let Some(scheduler) = service.scheduler(id) {
        return Ok(scheduler
            .inspect(|engine| engine.pipeline_record().clone())
            .await);
    }
    service
        .store()
        .pipeline(id)
        .await
        .map_err(store_error)?
        .ok_or_else(|| not_found(id))
}

/// A hash of what a pipeline's pages show (instance counts by status, attempts, state, the
/// record's version), cheap to compute: no instance is copied.
pub(crate) async fn fingerprint(service: &Service, id: &str) -> u64 {
    let mut hasher = DefaultHasher::new();
    match service.scheduler(id) {
        Some(scheduler) => {
            scheduler
                .inspect(|engine| {
                    for (status, count) in engine.summary().iter() {
                        (status, count).hash(&mut hasher);
                    }
                    engine.attempt_count().hash(&mut hasher);
                    engine.pipeline_state().as_str().hash(&mut hasher);
                    engine.pipeline_record().version.hash(&mut hasher);
                })
                .await;
        }
        None => {
            if let Ok(Some(record)) = service.store().pipeline(id).await {
                record.version.hash(&mut hasher);
            }
        }
    }
    hasher.finish()
}

/// Snapshots by pipeline, each kept while the pipeline's [`fingerprint`] is unchanged: a
/// snapshot reads every instance, and every open page of a pipeline reloads on each change,
/// so one read serves them all.
#[derive(Default)]
pub(crate) struct Snapshots {
    by_pipeline: Mutex<HashMap<String, (u64, Arc<Snapshot>)>>,
}

/// Snapshots kept at most; past it the cache starts again.
const MAX_SNAPSHOTS: usize = 1000;

impl Snapshots {
    /// The pipeline's snapshot and the [`fingerprint`] it is at (or later); call [`owned`]
    /// first.
    pub(crate) async fn get(&self, service: &Service, id: &str) -> ApiResult<(u64, Arc<Snapshot>)> {
        let now = fingerprint(service, id).await;
        if let Some((seen, snapshot)) = self.by_pipeline.lock().expect("snapshots lock").get(id)
            && *seen == now
        {
            return Ok((now, Arc::clone(snapshot)));
        }
        let snapshot = Arc::new(snapshot(service, id).await?);
        let mut cache = self.by_pipeline.lock().expect("snapshots lock");
        if cache.len() >= MAX_SNAPSHOTS {
            cache.clear();
        }
        cache.insert(id.to_owned(), (now, Arc::clone(&snapshot)));
        Ok((now, snapshot))
    }
}

/// The pipeline's snapshot, read now; call [`owned`] first.
async fn snapshot(service: &Service, id: &str) -> ApiResult<Snapshot> {
    if let Some(scheduler) = service.scheduler(id) {
        // The engine's records carry the displayed status (PAUSED included).
        let (record, instances, next, now) = scheduler
            .inspect(|engine| {
                (
                    engine.pipeline_record().clone(),
                    engine.instances(),
                    engine.next_run_times().into_values().min(),
                    engine.now(),
                )
            })
            .await;
        return Ok(summarise(record, &instances, next, now));
    }
    let store = service.store();
    let record = store
        .pipeline(id)
        .await
        .map_err(store_error)?
        .ok_or_else(|| not_found(id))?;
    let instances = store.instances(id).await.map_err(store_error)?;
    Ok(summarise(record, &instances, None, Utc::now().naive_utc()))
}

fn summarise(
    record: PipelineRecord,
    instances: &[InstanceRecord],
    next_run: Option<NaiveDateTime>,
    now: NaiveDateTime,
) -> Snapshot {
    let mut counts: HashMap<&'static str, usize> = HashMap::new();
    let mut latest: HashMap<String, (NaiveDateTime, Status, String)> = HashMap::new();
    let mut last_run: Option<(Status, NaiveDateTime, String)> = None;
    for instance in instances {
        let status = instance.status;
        *counts.entry(status.as_str()).or_default() += 1;
        let newer = latest
            .get(&instance.component_id)
            .is_none_or(|(start, _, _)| instance.scheduled_start >= *start);
        if newer {
            latest.insert(
                instance.component_id.clone(),
                (
                    instance.scheduled_start,
                    status,
                    instance.instance_id.clone(),
                ),
            );
        }
        if status.is_terminal()
            && status != Status::Skipped
            && let Some(end) = instance.actual_end
            && last_run.as_ref().is_none_or(|(_, at, _)| end >= *at)
        {
            last_run = Some((status, end, instance.instance_id.clone()));
        }
    }
    let mut counts: Vec<(&'static str, usize)> = counts.into_iter().collect();
    counts.sort();
    Snapshot {
        health: pipeline_health(instances),
        record,
        counts,
        next_run: next_run.map(|at| at.max(now)),
        last_run,
        latest: latest
            .into_iter()
            .map(|(c, (_, status, id))| (c, (status, id)))
            .collect(),
        now,
    }
}

/// The catalog category of an object, from its type (objects without one, like `Default`,
/// are `Default`).
pub(crate) fn category(catalog: &Catalog, object: &PipelineObject) -> Category {
    object
        .object_type()
        .and_then(|t| catalog.get(t))
        .map_or(Category::Default, |kind| kind.category())
}

/// Which objects have instances of their own: the rows of the run grid.
pub(crate) fn runs_instances(category: Category) -> bool {
    matches!(
        category,
        Category::Activity | Category::DataNode | Category::Resource
    )
}

/// The shortest schedule period of a definition: the grid's column width.
pub(crate) fn shortest_period(definition: &PipelineDefinition) -> Option<Duration> {
    definition
        .pipeline_objects
        .iter()
        .filter(|o| o.object_type() == Some("Schedule"))
        .filter_map(|o| Period::from_str(o.string("period")?).ok())
        .map(|p| Duration::seconds(i64::try_from(p.min_seconds()).unwrap_or(i64::MAX / 2)))
        .filter(|d| *d > Duration::zero())
        .min()
}

/// Scheduled starts the grid shows at once.
pub(crate) const GRID_COLUMNS: i32 = 24;
/// Components the grid shows at once (each one indexed range of the store).
pub(crate) const GRID_ROWS: usize = 25;

/// One window of the run grid.
pub(crate) struct GridWindow {
    /// Scheduled starts in `[from, to)`, oldest first.
    pub(crate) starts: Vec<NaiveDateTime>,
    /// The instance of each (component, scheduled start) found, with its displayed status.
    pub(crate) cells: HashMap<(String, NaiveDateTime), (InstanceRecord, Status)>,
    pub(crate) from: NaiveDateTime,
    pub(crate) to: NaiveDateTime,
}

/// The instances of `components` scheduled to start in `[from, to)`.
pub(crate) async fn grid_window(
    service: &Service,
    pipeline_id: &str,
    components: &[String],
    from: NaiveDateTime,
    to: NaiveDateTime,
) -> ApiResult<GridWindow> {
    let scheduler = service.scheduler(pipeline_id);
    if let Some(scheduler) = &scheduler {
        // What the engine showed is in the store before it is read.
        scheduler
            .sync()
            .await
            .map_err(|e| ApiError::internal(e.to_string()))?;
    }
    let mut found = Vec::new();
    if !components.is_empty() {
        let query = InstanceQuery {
            components: Some(components.to_vec()),
            start_from: Some(from),
            start_before: Some(to),
            limit: components.len() * 400,
            ..InstanceQuery::default()
        };
        found = service
            .store()
            .query_instances(pipeline_id, &query)
            .await
            .map_err(store_error)?;
    }
    let starts: BTreeSet<NaiveDateTime> = found.iter().map(|i| i.scheduled_start).collect();
    // The latest columns when the window holds more starts than fit.
    let keep = usize::try_from(GRID_COLUMNS * 2).unwrap_or(48);
    let starts: Vec<NaiveDateTime> = starts.into_iter().rev().take(keep).rev().collect();
    // The status as the engine shows it now: a commit may still be on its way to the store
    // (the page reloads because the engine changed, and must show that change).
    let statuses: Vec<Status> = match &scheduler {
        Some(scheduler) => {
            scheduler
                .inspect(|engine| {
                    found
                        .iter()
                        .map(|i| engine.instance_status(&i.instance_id).unwrap_or(i.status))
                        .collect()
                })
                .await
        }
        None => found.iter().map(|i| i.status).collect(),
    };
    let cells = found
        .into_iter()
        .zip(statuses)
        .map(|(i, status)| ((i.component_id.clone(), i.scheduled_start), (i, status)))
        .collect();
    Ok(GridWindow {
        starts,
        cells,
        from,
        to,
    })
}

/// One instance with its attempts, as the engine (or the store) holds them.
pub(crate) struct InstanceDetail {
    pub(crate) instance: InstanceRecord,
    pub(crate) status: Status,
    pub(crate) attempts: Vec<AttemptRecord>,
    pub(crate) retry_at: Option<NaiveDateTime>,
}

pub(crate) async fn instance(
    service: &Service,
    pipeline_id: &str,
    instance_id: &str,
) -> ApiResult<Option<InstanceDetail>> {
    if let Some(scheduler) = service.scheduler(pipeline_id) {
        return Ok(scheduler
            .inspect(|engine| {
                let instance = engine.instance(instance_id)?;
                Some(InstanceDetail {
                    status: engine
                        .instance_status(instance_id)
                        .unwrap_or(instance.status),
                    attempts: engine.attempts_of(instance_id),
                    retry_at: engine.retry_at(instance_id),
                    instance,
                })
            })
            .await);
    }
    let store = service.store();
    let Some(instance) = store
        .instances_with_id_hash(pipeline_id, id_hash(instance_id))
        .await
        .map_err(store_error)?
        .into_iter()
        .find(|i| i.instance_id == instance_id)
    else {
        return Ok(None);
    };
    let attempts = store
        .attempts(pipeline_id)
        .await
        .map_err(store_error)?
        .into_iter()
        .filter(|a| a.instance_id == instance_id)
        .collect();
    Ok(Some(InstanceDetail {
        status: instance.status,
        instance,
        attempts,
        retry_at: None,
    }))
}

/// Which of `ids` are instances of the pipeline, with their displayed status.
pub(crate) async fn existing_instances(
    service: &Service,
    pipeline_id: &str,
    ids: Vec<String>,
) -> Vec<(String, Status)> {
    match service.scheduler(pipeline_id) {
        Some(scheduler) => {
            scheduler
                .inspect(|engine| {
                    ids.into_iter()
                        .filter_map(|id| {
                            let status = engine.instance_status(&id)?;
                            Some((id, status))
                        })
                        .collect()
                })
                .await
        }
        None => Vec::new(),
    }
}
