//! DescribeObjects and QueryObjects.

use sluice_model::ops::{
    DescribeObjectsInput, DescribeObjectsOutput, QueryObjectsInput, QueryObjectsOutput,
};

use crate::accounts::Principal;
use crate::error::{ApiError, ApiResult};
use crate::objects::query::{conditions, matches};
use crate::objects::view::Found;
use crate::paging::page;
use crate::service::Service;

/// QueryObjects' default `limit`.
const DEFAULT_QUERY_LIMIT: usize = 100;

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
            let health = view.health_if(wanted.iter().any(|f| matches!(f, Found::Component(_))));
            let objects = wanted
                .iter()
                .map(|f| view.object(f, evaluate, &health))
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
        self.with_view(&input.pipeline_id, |view| {
            let no_health = Default::default();
            let keep = |found: &Found<'_>| {
                conditions.is_empty()
                    || matches(&view.object(found, false, &no_health), &conditions)
            };
            let ids: Vec<String> = match sphere {
                Sphere::Component => view
                    .resolved
                    .objects
                    .iter()
                    .filter(|c| keep(&Found::Component(c)))
                    .map(|c| c.id.clone())
                    .collect(),
                Sphere::Instance => view
                    .runs
                    .all_instances()
                    .into_iter()
                    .filter_map(|i| {
                        let component = view.pipeline_for(&i.fields).get(&i.component_id)?;
                        let id = i.instance_id.clone();
                        keep(&Found::Instance(component, i)).then_some(id)
                    })
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
                            keep(&Found::Attempt(component, instance, a)).then_some(id)
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
}

fn found_id(found: &Found<'_>) -> String {
    match found {
        Found::Component(c) => c.id.clone(),
        Found::Instance(_, i) => i.instance_id.clone(),
        Found::Attempt(_, _, a) => a.attempt_id.clone(),
    }
}
