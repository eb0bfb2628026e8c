//! The pipeline page: its definition as a graph, drawn on the server as SVG.
//!
//! Layout is layered: each object sits one column right of the furthest object it depends on
//! (longest path from the sources: schedules, resources, the first data nodes), and objects in
//! a column are ordered by the mean row of what feeds them, which keeps most edges short. That
//! is linear in the objects and references, so a thousand-object pipeline lays out in
//! milliseconds; there is no crossing minimisation beyond that one pass.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::sync::Arc;

use axum::extract::{Path, State};
use axum::response::Response;
use sluice_catalog::{Catalog, Category};
use sluice_model::{PipelineDefinition, Status};

use crate::Console;
use crate::auth::Signed;
use crate::data::{self, Snapshot, category};
use crate::html::{document, esc, object_url, pipeline_url, status_icon};
use crate::pages::{Tab, api_error, header};

/// The references drawn, and whether the edge runs from the referenced object to the
/// referencing one (what it needs) or the other way (what it produces or triggers).
const EDGES: [(&str, bool); 9] = [
    ("input", true),
    ("dependsOn", true),
    ("precondition", true),
    ("runsOn", true),
    ("schedule", true),
    ("output", false),
    ("onFail", false),
    ("onSuccess", false),
    ("onLateAction", false),
];

const NODE_W: i64 = 200;
const NODE_H: i64 = 44;
const COL_W: i64 = 260;
const ROW_H: i64 = 58;
const MARGIN: i64 = 16;

/// A drawn reference.
struct Edge {
    from: usize,
    to: usize,
    kind: &'static str,
}

pub(crate) struct Layout {
    /// (column, row) of each object.
    pub(crate) at: Vec<(i64, i64)>,
    columns: i64,
    rows: i64,
    edges: Vec<Edge>,
}

/// Places the objects of `definition` in layers; `Default` is left out (index `None`).
pub(crate) fn layout(definition: &PipelineDefinition) -> (Vec<usize>, Layout) {
    let objects = &definition.pipeline_objects;
    let shown: Vec<usize> = (0..objects.len())
        .filter(|&i| objects[i].id != "Default")
        .collect();
    let index: HashMap<&str, usize> = shown
        .iter()
        .enumerate()
        .map(|(n, &i)| (objects[i].id.as_str(), n))
        .collect();
    let mut edges = Vec::new();
    for (n, &i) in shown.iter().enumerate() {
        for field in &objects[i].fields {
            let Some(&(kind, needs)) = EDGES.iter().find(|(k, _)| *k == field.key) else {
                continue;
            };
            let Some(&other) = field.value.as_ref_id().and_then(|r| index.get(r)) else {
                continue;
            };
            let (from, to) = if needs { (other, n) } else { (n, other) };
            if from != to {
                edges.push(Edge { from, to, kind });
            }
        }
    }
    // Longest path, with a bound on rounds so that a cycle (which validation reports) cannot
    // keep it going.
    let count = shown.len();
    let mut layer = vec![0i64; count];
    let rounds = count.min(256);
    for _ in 0..rounds {
        let mut changed = false;
        for edge in &edges {
            if layer[edge.to] < layer[edge.from] + 1 {
                layer[edge.to] = layer[edge.from] + 1;
                changed = true;
            }
        }
        if !changed {
            break;
        }
    }
    let columns = layer.iter().copied().max().map_or(0, |m| m + 1);
    let mut by_layer: Vec<Vec<usize>> = vec![Vec::new(); usize::try_from(columns).unwrap_or(0)];
    for (n, &l) in layer.iter().enumerate() {
        by_layer[usize::try_from(l).unwrap_or(0)].push(n);
    }
    let mut preds: Vec<Vec<usize>> = vec![Vec::new(); count];
    for edge in &edges {
        preds[edge.to].push(edge.from);
    }
    let mut row = vec![0i64; count];
    for members in &mut by_layer {
        let key = |n: &usize| -> (i64, usize) {
            let p = &preds[*n];
            if p.is_empty() {
                (i64::MAX / 4, *n)
            } else {
                let sum: i64 = p.iter().map(|&q| row[q]).sum();
                (sum * 1000 / i64::try_from(p.len()).unwrap_or(1), *n)
            }
        };
        members.sort_by_key(key);
        for (r, &n) in members.iter().enumerate() {
            row[n] = i64::try_from(r).unwrap_or(0);
        }
    }
    let rows = by_layer.iter().map(Vec::len).max().unwrap_or(0);
    let at = (0..count).map(|n| (layer[n], row[n])).collect();
    (
        shown,
        Layout {
            at,
            columns,
            rows: i64::try_from(rows).unwrap_or(0),
            edges,
        },
    )
}

fn kind_class(category: Category) -> &'static str {
    match category {
        Category::Activity => "activity",
        Category::DataNode => "datanode",
        Category::Precondition => "precondition",
        Category::Schedule => "schedule",
        Category::Resource => "resource",
        Category::Action => "action",
        _ => "other",
    }
}

fn shorten(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        text.to_owned()
    } else {
        let mut s: String = text.chars().take(max - 1).collect();
        s.push('\u{2026}');
        s
    }
}

/// The graph of `definition` as SVG, with each activity and data node showing the status of
/// its latest instance.
pub(crate) fn svg(
    pipeline_id: &str,
    definition: &PipelineDefinition,
    catalog: &Catalog,
    latest: &HashMap<String, (Status, String)>,
) -> String {
    let (shown, layout) = layout(definition);
    let objects = &definition.pipeline_objects;
    let width = layout.columns.max(1) * COL_W + MARGIN * 2;
    let height = layout.rows.max(1) * ROW_H + MARGIN * 2;
    let mut svg = String::with_capacity(shown.len() * 600 + layout.edges.len() * 200);
    let _ = write!(
        svg,
        "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"graph\" id=\"graph\" width=\"{width}\" height=\"{height}\" \
         viewBox=\"0 0 {width} {height}\" role=\"img\" aria-label=\"pipeline graph of {} objects\">\
         <defs><marker id=\"arrow\" viewBox=\"0 0 10 10\" refX=\"10\" refY=\"5\" markerWidth=\"7\" markerHeight=\"7\" orient=\"auto-start-reverse\">\
         <path d=\"M 0 0 L 10 5 L 0 10 z\" class=\"arrowhead\"/></marker></defs>",
        shown.len()
    );
    let pos = |n: usize| {
        let (c, r) = layout.at[n];
        (MARGIN + c * COL_W, MARGIN + r * ROW_H)
    };
    for edge in &layout.edges {
        let (x1, y1) = pos(edge.from);
        let (x2, y2) = pos(edge.to);
        let (x1, y1) = (x1 + NODE_W, y1 + NODE_H / 2);
        let y2 = y2 + NODE_H / 2;
        let bend = (x2 - x1).abs() / 2 + 20;
        let _ = write!(
            svg,
            "<path class=\"edge e-{kind}\" d=\"M {x1} {y1} C {c1} {y1}, {c2} {y2}, {x2} {y2}\" marker-end=\"url(#arrow)\">\
             <title>{from} \u{2192} {to} ({kind})</title></path>",
            kind = edge.kind,
            c1 = x1 + bend,
            c2 = x2 - bend,
            from = esc(&objects[shown[edge.from]].id),
            to = esc(&objects[shown[edge.to]].id),
        );
    }
    for (n, &i) in shown.iter().enumerate() {
        let object = &objects[i];
        let (x, y) = pos(n);
        let category = category(catalog, object);
        let type_name = object.object_type().unwrap_or("(no type)");
        let status = latest
            .get(&object.id)
            .filter(|_| matches!(category, Category::Activity | Category::DataNode))
            .map(|(s, _)| s.as_str());
        let (icon, state_class) = status.map_or(("", "none"), status_icon);
        let second = match status {
            Some(status) => format!("{icon} {status}"),
            None => shorten(type_name, 30),
        };
        let _ = write!(
            svg,
            "<a href=\"{url}\" class=\"node k-{kind}\" data-object=\"{id}\" data-status=\"{st}\">\
             <title>{id} ({type_name}){status_title}</title>\
             <rect x=\"{x}\" y=\"{y}\" width=\"{NODE_W}\" height=\"{NODE_H}\" rx=\"6\" class=\"s-{state_class}\"/>\
             <text x=\"{tx}\" y=\"{ty1}\" class=\"name\">{short}</text>\
             <text x=\"{tx}\" y=\"{ty2}\" class=\"sub\">{second}</text></a>",
            url = esc(&object_url(pipeline_id, &object.id)),
            kind = kind_class(category),
            id = esc(&object.id),
            st = status.unwrap_or(""),
            type_name = esc(type_name),
            status_title = status.map_or(String::new(), |s| format!(": latest instance {s}")),
            tx = x + 10,
            ty1 = y + 18,
            ty2 = y + 35,
            short = esc(&shorten(&object.id, 26)),
            second = esc(&second),
        );
    }
    svg.push_str("</svg>");
    svg
}

const LEGEND: &str = "<ul class=\"legend\" aria-label=\"legend\">\
    <li><span class=\"key k-activity\"></span>activity</li><li><span class=\"key k-datanode\"></span>data node</li>\
    <li><span class=\"key k-precondition\"></span>precondition</li><li><span class=\"key k-schedule\"></span>schedule</li>\
    <li><span class=\"key k-resource\"></span>resource</li><li><span class=\"key k-action\"></span>action</li>\
    <li><span class=\"key k-other\"></span>other</li>\
    <li>edges: solid input/output, dashed dependsOn, dotted precondition, thin schedule and runsOn, red onFail/onLateAction, green onSuccess</li></ul>";

pub(crate) async fn page(
    State(state): State<Console>,
    signed: Signed,
    Path(id): Path<String>,
) -> Response {
    let (seen, snapshot) = match load(&state, &signed, &id).await {
        Ok(loaded) => loaded,
        Err(response) => return response,
    };
    let live = match snapshot.definition() {
        Some(definition) => format!(
            "<div class=\"scroll\">{}</div>",
            svg(&id, definition, state.service.catalog(), &snapshot.latest)
        ),
        None => format!(
            "<p>This pipeline has no definition yet: <a href=\"{}\">upload one</a>.</p>",
            esc(&pipeline_url(&id, "/definition"))
        ),
    };
    let body = format!(
        "{}<h2 class=\"sr\">Graph</h2>{LEGEND}<div id=\"live\" data-live-part>{live}</div>",
        header(&id, &snapshot, Tab::Graph)
    );
    document(
        &snapshot.record.name,
        Some(&signed.viewer()),
        Some((&pipeline_url(&id, "/events"), seen)),
        &body,
    )
}

/// The account check and snapshot every pipeline page starts with, and the fingerprint the
/// snapshot is at (for live pages).
pub(crate) async fn load(
    state: &Console,
    signed: &Signed,
    id: &str,
) -> Result<(u64, Arc<Snapshot>), Response> {
    data::owned(&state.service, signed.principal(), id)
        .await
        .map_err(|e| api_error(signed, &e))?;
    state
        .snapshots
        .get(&state.service, id)
        .await
        .map_err(|e| api_error(signed, &e))
}

#[cfg(test)]
mod tests {
    use super::*;
    use sluice_model::file::parse_definition_file;

    #[test]
    fn objects_sit_right_of_what_they_need() {
        let definition = parse_definition_file(
            r#"{"objects": [
                {"id": "Default", "name": "Default", "scheduleType": "ondemand"},
                {"id": "In", "type": "S3DataNode", "directoryPath": "s3://b/in"},
                {"id": "Out", "type": "S3DataNode", "directoryPath": "s3://b/out"},
                {"id": "Copy", "type": "CopyActivity", "input": {"ref": "In"}, "output": {"ref": "Out"}},
                {"id": "After", "type": "ShellCommandActivity", "command": "true", "dependsOn": {"ref": "Copy"}}
            ]}"#,
        )
        .unwrap()
        .definition;
        let (shown, layout) = layout(&definition);
        let column = |id: &str| {
            let n = shown
                .iter()
                .position(|&i| definition.pipeline_objects[i].id == id)
                .unwrap();
            layout.at[n].0
        };
        assert_eq!(shown.len(), 4, "Default is not drawn");
        assert!(column("In") < column("Copy"));
        assert!(column("Copy") < column("Out"));
        assert!(column("Copy") < column("After"));
        let svg = svg("df-1", &definition, &Catalog::builtin(), &HashMap::new());
        assert_eq!(svg.matches("class=\"edge ").count(), 3, "{svg}");
        assert!(svg.contains("k-activity") && svg.contains("k-datanode"));
    }
}
