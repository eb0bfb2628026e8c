use sluice_model::Field;

use super::*;
use crate::testkit::{catalog, def, obj};

fn resolved(objects: Vec<PipelineObject>) -> ResolvedPipeline {
    resolve(&def(objects), &catalog())
}

fn keys(o: &ResolvedObject) -> Vec<(&str, &str)> {
    o.entries()
        .map(|(f, owner)| (f.key.as_str(), owner))
        .collect()
}

#[test]
fn own_fields_win_and_hide_every_parent_value() {
    let p = resolved(vec![
        obj(
            "T",
            &[
                ("scriptArgument", "a"),
                ("scriptArgument", "b"),
                ("stdout", "s3://t"),
            ],
        ),
        obj(
            "A",
            &[
                ("type", "ShellCommandActivity"),
                ("parent", "->T"),
                ("scriptArgument", "c"),
            ],
        ),
    ]);
    let a = p.get("A").unwrap();
    let args: Vec<_> = a
        .values("scriptArgument")
        .filter_map(|v| v.as_str())
        .collect();
    assert_eq!(args, ["c"]);
    assert_eq!(a.string("stdout"), Some("s3://t"));
    assert_eq!(a.owner_of("stdout"), Some("T"));
    assert_eq!(a.owner_of("scriptArgument"), Some("A"));
}

#[test]
fn parents_are_followed_recursively_nearest_first() {
    let p = resolved(vec![
        obj(
            "Q",
            &[("stdout", "q"), ("stage", "true"), ("command", "from q")],
        ),
        obj("P", &[("parent", "->Q"), ("stdout", "p")]),
        obj("C", &[("type", "ShellCommandActivity"), ("parent", "->P")]),
    ]);
    let c = p.get("C").unwrap();
    assert_eq!(
        keys(c),
        [
            ("type", "C"),
            ("parent", "C"),
            ("stdout", "P"),
            ("stage", "Q"),
            ("command", "Q")
        ]
    );
}

#[test]
fn default_is_the_implicit_parent_of_chain_roots_only() {
    let p = resolved(vec![
        obj("Default", &[("workerGroup", "wg"), ("stdout", "default")]),
        obj("P", &[("stdout", "p")]),
        obj("C", &[("type", "ShellCommandActivity"), ("parent", "->P")]),
        obj("D", &[("type", "ShellCommandActivity")]),
    ]);
    assert_eq!(
        keys(p.get("C").unwrap()),
        [
            ("type", "C"),
            ("parent", "C"),
            ("stdout", "P"),
            ("workerGroup", "Default")
        ]
    );
    assert_eq!(
        keys(p.get("D").unwrap()),
        [
            ("type", "D"),
            ("workerGroup", "Default"),
            ("stdout", "Default")
        ]
    );
    // Default does not inherit from itself.
    assert_eq!(
        keys(p.default_object().unwrap()),
        [("workerGroup", "Default"), ("stdout", "Default")]
    );
}

#[test]
fn inherited_fields_apply_only_to_types_that_accept_them() {
    let p = resolved(vec![
        obj(
            "Default",
            &[("schedule", "->S"), ("role", "r"), ("myNote", "n")],
        ),
        obj("T", &[("schedule", "->S"), ("escapeChar", "\\")]),
        obj("Fmt", &[("type", "CSV")]),
        obj("Child", &[("type", "CSV"), ("parent", "->T")]),
        obj("Act", &[("type", "ShellCommandActivity")]),
        obj("Box", &[("type", "Ec2Resource")]),
        obj("Odd", &[("type", "NotInCatalog")]),
    ]);
    // CSV takes neither schedule nor role; user fields always pass.
    assert_eq!(
        keys(p.get("Fmt").unwrap()),
        [("type", "Fmt"), ("myNote", "Default")]
    );
    // The same filter for explicit parents, and the abstract parent itself keeps everything.
    assert_eq!(
        keys(p.get("Child").unwrap()),
        [
            ("type", "Child"),
            ("parent", "Child"),
            ("escapeChar", "T"),
            ("myNote", "Default")
        ]
    );
    assert!(p.get("T").unwrap().has("role"));
    assert_eq!(
        keys(p.get("Act").unwrap()),
        [
            ("type", "Act"),
            ("schedule", "Default"),
            ("myNote", "Default")
        ]
    );
    assert_eq!(
        keys(p.get("Box").unwrap()),
        [
            ("type", "Box"),
            ("schedule", "Default"),
            ("role", "Default"),
            ("myNote", "Default")
        ]
    );
    // Unknown types keep everything (validation reports the type).
    assert_eq!(p.get("Odd").unwrap().fields.len(), 4);
}

#[test]
fn type_is_inherited_from_explicit_parents_but_not_from_default() {
    let p = resolved(vec![
        obj("Default", &[("type", "Schedule"), ("period", "1 day")]),
        obj(
            "Template",
            &[("type", "ShellCommandActivity"), ("command", "x")],
        ),
        obj("Derived", &[("parent", "->Template"), ("stdout", "y")]),
        obj("Plain", &[("myX", "1")]),
    ]);
    let derived = p.get("Derived").unwrap();
    assert_eq!(derived.type_name.as_deref(), Some("ShellCommandActivity"));
    assert_eq!(derived.owner_of("type"), Some("Template"));
    assert!(derived.string("command").is_some());
    let plain = p.get("Plain").unwrap();
    assert!(plain.is_abstract());
    assert!(
        plain.has("period"),
        "untyped objects keep everything but the type"
    );
    assert_eq!(
        p.typed().map(|o| o.id.as_str()).collect::<Vec<_>>(),
        ["Default", "Template", "Derived"]
    );
}

#[test]
fn parent_is_never_inherited() {
    let p = resolved(vec![
        obj("Q", &[("stdout", "q")]),
        obj("P", &[("parent", "->Q")]),
        obj("C", &[("type", "ShellCommandActivity"), ("parent", "->P")]),
        obj("D", &[("type", "ShellCommandActivity"), ("parent", "->P")]),
        obj("E", &[("type", "ShellCommandActivity"), ("parent", "->Q")]),
    ]);
    assert_eq!(
        p.get("C").unwrap().references("parent").collect::<Vec<_>>(),
        ["P"]
    );
    assert_eq!(p.get("D").unwrap().string("stdout"), Some("q"));
    assert_eq!(
        keys(p.get("P").unwrap()),
        [("parent", "P"), ("stdout", "Q")]
    );
}

#[test]
fn several_parents_earlier_first() {
    let p = resolved(vec![
        obj("P1", &[("stdout", "1")]),
        obj("P2", &[("stdout", "2"), ("stage", "true")]),
        obj(
            "C",
            &[
                ("type", "ShellCommandActivity"),
                ("parent", "->P1"),
                ("parent", "->P2"),
            ],
        ),
    ]);
    let c = p.get("C").unwrap();
    assert_eq!(c.string("stdout"), Some("1"));
    assert_eq!(c.string("stage"), Some("true"));
}

#[test]
fn dangling_parents_fall_back_to_default() {
    let p = resolved(vec![
        obj("Default", &[("workerGroup", "wg")]),
        obj(
            "C",
            &[("type", "ShellCommandActivity"), ("parent", "->Missing")],
        ),
    ]);
    assert_eq!(p.get("C").unwrap().string("workerGroup"), Some("wg"));
}

#[test]
fn cycles_terminate() {
    let p = resolved(vec![
        obj("Default", &[("parent", "->X"), ("workerGroup", "wg")]),
        obj("X", &[("stdout", "x")]),
        obj("A", &[("parent", "->B"), ("stage", "true")]),
        obj("B", &[("parent", "->A"), ("stdout", "b")]),
        obj("S", &[("type", "ShellCommandActivity"), ("parent", "->S")]),
    ]);
    assert!(p.get("A").unwrap().has("stdout"));
    // Default -> X -> (implicit) Default: entered at Default, the cycle is cut at X.
    assert!(p.get("Default").unwrap().has("stdout"));
    assert!(!p.get("X").unwrap().has("workerGroup"));
    // A parent closing a cycle counts as none, so the object still gets Default's fields.
    assert_eq!(p.get("S").unwrap().owner_of("workerGroup"), Some("Default"));
}

#[test]
fn lookup_order_duplicates_and_ondemand() {
    let mut objects = vec![
        obj("Default", &[("scheduleType", "ONDEMAND")]),
        obj("A", &[("type", "CSV"), ("column", "first")]),
        obj("A", &[("type", "CSV"), ("column", "second")]),
    ];
    objects[1].fields.push(Field::string("escapeChar", "\\"));
    let p = resolved(objects);
    assert_eq!(p.objects.len(), 3);
    assert_eq!(p.get("A").unwrap().string("column"), Some("first"));
    assert_eq!(p.position("A"), Some(1));
    assert!(p.is_ondemand());
    assert!(p.get("B").is_none());
    assert!(!resolved(vec![obj("Default", &[("scheduleType", "cron")])]).is_ondemand());
    assert!(!resolved(vec![]).is_ondemand());
}

#[test]
fn kinds_come_from_the_catalog() {
    let cat = catalog();
    let p = resolved(vec![
        obj("Default", &[]),
        obj("Fmt", &[("type", "CSV")]),
        obj("Tpl", &[]),
    ]);
    assert_eq!(
        p.get("Default").unwrap().kind(&cat).map(|k| k.type_name()),
        Some("Default")
    );
    assert_eq!(
        p.get("Fmt").unwrap().kind(&cat).map(|k| k.type_name()),
        Some("CSV")
    );
    assert!(p.get("Tpl").unwrap().kind(&cat).is_none());
}
