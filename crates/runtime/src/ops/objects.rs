//! DescribeObjects and QueryObjects.
//!
//! Design decisions:
//! * **Instance queries read pages from the store's indexes** when every selector is on an
//!   indexed column (`@status`, `@componentParent`, `@sphere`, `@scheduledStartTime`; see
//!   `objects::query::instance_query`): a page costs the same at a million instances as at
//!   ten, where building and filtering every object grew with the pipeline. Other queries,
//!   components and attempts take the in-memory path: a view of every object of the sphere,
//!   filtered.
//! * **Both paths give the same pages.** The store only proposes instances, in the same
//!   (scheduled start, id) order; each is then shown and judged as the in-memory path would:
//!   through the engine's copy when the pipeline has a scheduler (an instance the engine did
//!   not restore is left out, as there), else as stored, and in both cases only if its
//!   definition still has its component. Before reading, the scheduler commits what it has
//!   queued, so the store holds everything the engine showed at the time of the call.
//! * **Markers are the same.** A marker names the page's last instance by position and the
//!   hash of its id; the stores index that hash, so the next page starts right after that
//!   instance without counting the ones before it. The position then counts on from the
//!   marker's, which is where the instance stands unless objects were added before it
//!   meanwhile; only the in-memory path uses it. An instance that no longer matches (it left
//!   the status queried) still marks where its page ended, so the next page neither repeats
//!   nor skips anything, where the in-memory path would start at the old position of a list
//!   that has shrunk. A marker whose instance is gone, a scheduler that cannot commit or a
//!   store that fails sends the query down the in-memory path, which answers as before.
//! * **Attempts stay in memory.** Their selectors are on the attempt's own status and times and
//!   on its instance's scheduled times, which would need an index per attempt column and a
//!   join to instances; attempts are read in full for a restore anyway, and a pipeline's
//!   attempts are listed far less often than its runs.

use sluice_engine::{InstanceKey, InstanceQuery, InstanceRecord};
use sluice_model::ops::{
    DescribeObjectsInput, DescribeObjectsOutput, QueryObjectsInput, QueryObjectsOutput,
};

use crate::accounts::Principal;
use crate::error::{ApiError, ApiResult};
use crate::objects::Source;
use crate::objects::query::{Condition, conditions, instance_query, matches};
use crate::objects::view::{Found, PipelineView, StoredRuns};
use crate::paging::{self, page};
use crate::service::Service;

/// QueryObjects' default `limit`.
const DEFAULT_QUERY_LIMIT: usize = 100;

/// Most instances one read of an indexed query asks the store for.
const MAX_BATCH: usize = 10_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Sphere {
    Component,
    Instance,
    Attempt,
}

impl Sphere {
    /// The sphere names, case-insensitively; `LO` and `PO` are the 2012 API's names for
    /// components (logical objects) and instances (physical objects).
    fn parse(text: &str) -> ApiResult<Sphere> {
        match text.to_ascii_uppercase().as_str() {
            "COMPONENT" | "LO" => Ok(Sphere::Component),
            "INSTANCE" | "PO" => Ok(Sphere::Instance),
            "ATTEMPT" => Ok(Sphere::Attempt),
            _ => Err(ApiError::invalid(format!(
                "sphere must be COMPONENT, INSTANCE or ATTEMPT, not '{text}'"
            ))),
        }
    }
}

impl Service {
    /// DescribeObjects: the requested components, instances and attempts, in request order.
    /// Unknown ids are left out (a caller listing runs may hold ids of a rerun's replaced
    /// attempts); duplicates are returned once.
    pub async fn describe_objects(
        &self,
        principal: &Principal,
        input: DescribeObjectsInput,
    ) -> ApiResult<DescribeObjectsOutput> {
        self.meta(principal, &input.pipeline_id)?;
        let evaluate = input.evaluate_expressions.unwrap_or(false);
        let page_size = self.options.describe_page_size;
        let mut ids: Vec<&str> = Vec::with_capacity(input.object_ids.len());
        for id in &input.object_ids {
            if !ids.contains(&id.as_str()) {
                ids.push(id);
            }
        }
        let marker = input.marker.as_deref();
        self.with_view(&input.pipeline_id, |view| {
            let found: Vec<Found<'_>> = ids.iter().filter_map(|id| view.find(id)).collect();
            let keys: Vec<String> = found.iter().map(found_id).collect();
            let page = page(&keys, marker, page_size)?;
            let wanted = &found[page.range.clone()];
            let runtime = view.runtime_if(wanted.iter().any(|f| matches!(f, Found::Component(_))));
            let objects = wanted
                .iter()
                .map(|f| view.object(f, evaluate, &runtime))
                .collect();
            let has_more = page.has_more();
            Ok(DescribeObjectsOutput {
                pipeline_objects: objects,
                marker: page.marker,
                has_more_results: Some(has_more),
            })
        })
        .await?
    }

    /// QueryObjects: ids of the sphere's objects matching every selector, in a stable order
    /// (components in definition order, instances by scheduled start then id, attempts by
    /// instance then number).
    pub async fn query_objects(
        &self,
        principal: &Principal,
        input: QueryObjectsInput,
    ) -> ApiResult<QueryObjectsOutput> {
        self.meta(principal, &input.pipeline_id)?;
        let sphere = Sphere::parse(&input.sphere)?;
        let selectors = input
            .query
            .as_ref()
            .and_then(|q| q.selectors.as_deref())
            .unwrap_or_default();
        let conditions = conditions(selectors)?;
        let limit = match input.limit {
            None => DEFAULT_QUERY_LIMIT,
            Some(n) if n >= 1 => (n as usize).min(self.options.query_max_limit),
            Some(n) => {
                return Err(ApiError::invalid(format!(
                    "limit must be at least 1, not {n}"
                )));
            }
        };
        let marker = input.marker.as_deref();
        if sphere == Sphere::Instance
            && let Some(query) = instance_query(&conditions)
            && let Some(output) = self
                .query_indexed(&input.pipeline_id, query, &conditions, marker, limit)
                .await?
        {
            return Ok(output);
        }
        self.with_view(&input.pipeline_id, |view| {
            let keep = |found: Found<'_>| selected(view, &found, &conditions);
            let ids: Vec<String> = match sphere {
                Sphere::Component => view
                    .resolved
                    .objects
                    .iter()
                    .filter(|c| keep(Found::Component(c)))
                    .map(|c| c.id.clone())
                    .collect(),
                Sphere::Instance => view
                    .runs
                    .all_instances()
                    .into_iter()
                    .filter_map(|i| instance_selected(view, i, &conditions))
                    .collect(),
                Sphere::Attempt => {
                    let instances: std::collections::HashMap<String, _> = view
                        .runs
                        .all_instances()
                        .into_iter()
                        .map(|i| (i.instance_id.clone(), i))
                        .collect();
                    view.runs
                        .all_attempts()
                        .into_iter()
                        .filter_map(|a| {
                            let instance = instances.get(&a.instance_id)?.clone();
                            let component =
                                view.pipeline_for(&a.fields).get(&instance.component_id)?;
                            let id = a.attempt_id.clone();
                            keep(Found::Attempt(component, instance, a)).then_some(id)
                        })
                        .collect()
                }
            };
            let page = page(&ids, marker, limit)?;
            let has_more = page.has_more();
            Ok(QueryObjectsOutput {
                ids: Some(ids[page.range].to_vec()),
                marker: page.marker,
                has_more_results: Some(has_more),
            })
        })
        .await?
    }

    /// QueryObjects over instances from the store's indexes (see the module documentation);
    /// `None` when the in-memory path must answer instead.
    async fn query_indexed(
        &self,
        pipeline_id: &str,
        filter: InstanceQuery,
        conditions: &[Condition],
        marker: Option<&str>,
        limit: usize,
    ) -> ApiResult<Option<QueryObjectsOutput>> {
        let marker = paging::parse_marker(marker)?;
        let source = self.view_source(pipeline_id).await?;
        if let Source::Live(scheduler) = &source
            && scheduler.sync().await.is_err()
        {
            return Ok(None);
        }
        let (mut position, mut after) = (0, None);
        if let Some((previous, hash)) = marker {
            let Ok(found) = self.store.instances_with_id_hash(pipeline_id, hash).await else {
                return Ok(None);
            };
            // Two ids with one hash are as good as unheard of; the one the query selects is
            // the likelier.
            let Some(last) = found.iter().find(|i| filter.selects(i)).or(found.first()) else {
                return Ok(None);
            };
            position = previous + 1;
            after = Some(InstanceKey::of(last));
        }
        // One more than the page, to learn whether another page follows.
        let wanted = limit.saturating_add(1);
        let mut ids: Vec<String> = Vec::with_capacity(wanted.min(1024));
        let mut batch_size = 0;
        loop {
            // Instances the check leaves out (of components a new definition dropped) come in
            // runs; doubling the reads gets past a long one in few of them.
            batch_size = (wanted - ids.len()).max(batch_size * 2).min(MAX_BATCH);
            let query = InstanceQuery {
                after: after.clone(),
                limit: batch_size,
                ..filter.clone()
            };
            let Ok(batch) = self.store.query_instances(pipeline_id, &query).await else {
                return Ok(None);
            };
            let exhausted = batch.len() < query.limit;
            if let Some(last) = batch.last() {
                after = Some(InstanceKey::of(last));
            }
            let kept: Vec<String> = source
                .view(&self.catalog, &StoredRuns::default(), |view, live| {
                    batch
                        .into_iter()
                        .filter_map(|candidate| {
                            let instance = if live {
                                view.runs.instance(&candidate.instance_id)?
                            } else {
                                candidate
                            };
                            instance_selected(view, instance, conditions)
                        })
                        .collect()
                })
                .await;
            ids.extend(kept);
            if exhausted || ids.len() >= wanted {
                break;
            }
        }
        let more = ids.len() > limit;
        ids.truncate(limit);
        let marker = more.then(|| paging::marker(position + limit - 1, &ids[limit - 1]));
        Ok(Some(QueryObjectsOutput {
            ids: Some(ids),
            marker,
            has_more_results: Some(more),
        }))
    }
}

/// Whether the object passes every condition, as QueryObjects shows it (unevaluated).
fn selected(view: &PipelineView<'_>, found: &Found<'_>, conditions: &[Condition]) -> bool {
    conditions.is_empty() || matches(&view.object(found, false, &Default::default()), conditions)
}

/// The instance's id when QueryObjects lists it: its definition still has its component, and
/// it passes every condition.
fn instance_selected(
    view: &PipelineView<'_>,
    instance: InstanceRecord,
    conditions: &[Condition],
) -> Option<String> {
    let component = view
        .pipeline_for(&instance.fields)
        .get(&instance.component_id)?;
    let id = instance.instance_id.clone();
    selected(view, &Found::Instance(component, instance), conditions).then_some(id)
}

fn found_id(found: &Found<'_>) -> String {
    match found {
        Found::Component(c) => c.id.clone(),
        Found::Instance(_, i) => i.instance_id.clone(),
        Found::Attempt(_, _, a) => a.attempt_id.clone(),
    }
}
