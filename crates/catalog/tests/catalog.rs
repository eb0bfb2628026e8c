//! Checks the built-in registry against the AWS reference, transcribed in
//! `reference_types.txt` and `observed_fields.txt`, and checks the catalog's own consistency.

use std::collections::{BTreeMap, BTreeSet, HashSet};

use sluice_catalog::types::UNSUPPORTED;
use sluice_catalog::{Catalog, Category, RefTarget, ValueType};

/// One line of `reference_types.txt`.
struct Expected {
    category: String,
    required: BTreeSet<String>,
    /// (fields, exclusive)
    groups: BTreeSet<(BTreeSet<String>, bool)>,
}

fn data_lines(text: &str) -> impl Iterator<Item = (usize, &str)> {
    text.lines()
        .enumerate()
        .map(|(i, l)| (i + 1, l.trim()))
        .filter(|(_, l)| !l.is_empty() && !l.starts_with('#'))
}

fn split_list(s: &str, sep: char) -> impl Iterator<Item = &str> {
    s.split(sep).map(str::trim).filter(|x| !x.is_empty())
}

fn reference() -> BTreeMap<String, Expected> {
    let text = include_str!("reference_types.txt");
    let mut out = BTreeMap::new();
    for (n, line) in data_lines(text) {
        let cols: Vec<&str> = line.split('|').collect();
        assert_eq!(
            cols.len(),
            4,
            "reference_types.txt:{n}: expected 4 columns: {line}"
        );
        let groups = split_list(cols[3], ';')
            .map(|g| {
                let (g, exclusive) = match g.strip_suffix('!') {
                    Some(g) => (g, true),
                    None => (g, false),
                };
                (split_list(g, '/').map(String::from).collect(), exclusive)
            })
            .collect();
        let expected = Expected {
            category: cols[1].trim().to_string(),
            required: split_list(cols[2], ',').map(String::from).collect(),
            groups,
        };
        let name = cols[0].trim().to_string();
        assert!(
            out.insert(name.clone(), expected).is_none(),
            "reference_types.txt:{n}: {name} listed twice"
        );
    }
    out
}

fn builtin() -> Catalog {
    Catalog::builtin()
}

#[test]
fn every_reference_type_is_registered_or_explained() {
    let catalog = builtin();
    let unsupported: BTreeMap<_, _> = UNSUPPORTED.iter().copied().collect();
    for (name, reason) in &unsupported {
        assert!(
            !reason.trim().is_empty(),
            "UNSUPPORTED {name} needs a reason"
        );
        assert!(
            catalog.get(name).is_none(),
            "{name} is both registered and UNSUPPORTED"
        );
    }
    for name in reference().keys() {
        assert!(
            catalog.get(name).is_some() || unsupported.contains_key(name.as_str()),
            "{name} is in the reference but neither registered nor UNSUPPORTED"
        );
    }
}

#[test]
fn every_registered_type_is_in_the_reference() {
    let reference = reference();
    for name in builtin().type_names() {
        assert!(
            reference.contains_key(name),
            "{name} is registered but not in reference_types.txt"
        );
    }
}

#[test]
fn type_names_are_unique() {
    let mut seen = HashSet::new();
    for name in builtin().type_names() {
        assert!(seen.insert(name), "{name} registered twice");
    }
}

#[test]
fn categories_match_the_reference() {
    let reference = reference();
    for kind in builtin().kinds() {
        let expected = &reference[kind.type_name()];
        assert_eq!(
            kind.category().name(),
            expected.category,
            "category of {}",
            kind.type_name()
        );
    }
}

#[test]
fn required_fields_match_the_reference() {
    let reference = reference();
    for kind in builtin().kinds() {
        let required: BTreeSet<String> = kind
            .fields()
            .iter()
            .filter(|f| f.required)
            .map(|f| f.name.to_string())
            .collect();
        assert_eq!(
            required,
            reference[kind.type_name()].required,
            "required fields of {}",
            kind.type_name()
        );
    }
}

#[test]
fn required_groups_match_the_reference() {
    let reference = reference();
    for kind in builtin().kinds() {
        let groups: BTreeSet<(BTreeSet<String>, bool)> = kind
            .one_of()
            .iter()
            .map(|g| {
                (
                    g.fields.iter().map(|f| f.to_string()).collect(),
                    g.exclusive,
                )
            })
            .collect();
        assert_eq!(
            groups,
            reference[kind.type_name()].groups,
            "required groups of {}",
            kind.type_name()
        );
    }
}

#[test]
fn every_activity_runs_somewhere() {
    for kind in builtin()
        .kinds()
        .filter(|k| k.category() == Category::Activity)
    {
        assert!(
            kind.one_of()
                .iter()
                .any(|g| g.fields == ["runsOn", "workerGroup"] && !g.exclusive),
            "{} lacks the runsOn|workerGroup group",
            kind.type_name()
        );
    }
}

#[test]
fn field_names_are_unique_within_a_type() {
    for kind in builtin().kinds() {
        let mut seen = HashSet::new();
        for field in kind.fields() {
            assert!(
                seen.insert(field.name),
                "{}.{} listed twice",
                kind.type_name(),
                field.name
            );
        }
    }
}

#[test]
fn everything_is_documented() {
    for kind in builtin().kinds() {
        assert!(
            !kind.doc().trim().is_empty(),
            "{} has no doc",
            kind.type_name()
        );
        assert!(
            !kind.doc().contains('\n'),
            "{} doc is not one line",
            kind.type_name()
        );
        for field in kind.fields() {
            assert!(
                !field.doc.trim().is_empty(),
                "{}.{} has no doc",
                kind.type_name(),
                field.name
            );
            assert!(
                !field.doc.contains('\n'),
                "{}.{} doc is not one line",
                kind.type_name(),
                field.name
            );
        }
    }
}

#[test]
fn references_have_resolvable_targets() {
    let catalog = builtin();
    let populated: HashSet<Category> = catalog.kinds().map(|k| k.category()).collect();
    for kind in catalog.kinds() {
        for field in kind.fields() {
            let ValueType::Reference(targets) = field.value_type else {
                continue;
            };
            let at = format!("{}.{}", kind.type_name(), field.name);
            assert!(!targets.is_empty(), "{at} has no reference target");
            for target in targets {
                match target {
                    RefTarget::Type(t) => {
                        assert!(catalog.get(t).is_some(), "{at} targets unknown type {t}")
                    }
                    RefTarget::Category(c) => {
                        assert!(populated.contains(c), "{at} targets empty category {c}")
                    }
                    RefTarget::Any => {}
                }
            }
        }
    }
}

#[test]
fn enumerations_are_non_empty_and_distinct() {
    for kind in builtin().kinds() {
        for field in kind.fields() {
            let ValueType::Enumeration(values) = field.value_type else {
                continue;
            };
            let at = format!("{}.{}", kind.type_name(), field.name);
            assert!(!values.is_empty(), "{at} has no values");
            let distinct: HashSet<String> = values.iter().map(|v| v.to_ascii_lowercase()).collect();
            assert_eq!(
                distinct.len(),
                values.len(),
                "{at} repeats a value (case-insensitively)"
            );
        }
    }
}

#[test]
fn secret_fields_are_exactly_the_starred_ones() {
    for kind in builtin().kinds() {
        for field in kind.fields() {
            let at = format!("{}.{}", kind.type_name(), field.name);
            assert_eq!(field.is_secret(), field.name.starts_with('*'), "{at}");
            if field.name.to_ascii_lowercase().contains("password") {
                assert!(
                    field.is_secret(),
                    "{at} holds a password but is not a `*` field"
                );
            }
            let bare = field.name.trim_start_matches('*');
            assert!(
                !bare.is_empty() && !bare.starts_with('@') && !bare.contains('*'),
                "{at} is not a plain field name"
            );
        }
    }
}

#[test]
fn groups_conflicts_and_deprecations_name_real_fields() {
    for kind in builtin().kinds() {
        let names: HashSet<&str> = kind.fields().iter().map(|f| f.name).collect();
        let mentioned = kind
            .one_of()
            .iter()
            .flat_map(|g| g.fields.iter().copied())
            .chain(kind.conflicts().iter().flat_map(|c| c.iter().copied()))
            .chain(kind.deprecated_fields().iter().map(|(f, _)| *f));
        for name in mentioned {
            assert!(
                names.contains(name),
                "{} mentions unknown field {name}",
                kind.type_name()
            );
        }
        for group in kind.one_of() {
            assert!(
                group.fields.len() >= 2,
                "{}: a group needs two fields",
                kind.type_name()
            );
        }
    }
}

#[test]
fn family_fields_are_present() {
    for kind in builtin().kinds() {
        let name = kind.type_name();
        if kind.accepts_any_field() {
            assert_eq!(
                kind.category(),
                Category::Default,
                "{name} accepts any field"
            );
            continue;
        }
        assert!(kind.field("parent").is_some(), "{name} has no parent");
        let scheduled = kind.field("schedule").is_some() && kind.field("scheduleType").is_some();
        assert_eq!(
            scheduled,
            kind.category().is_scheduled(),
            "{name}: schedule fields vs category"
        );
        if let Some(schedule) = kind.field("schedule") {
            assert!(
                !schedule.required,
                "{name}: schedule must stay optional for ondemand pipelines"
            );
        }
    }
}

#[test]
fn runtime_fields_are_not_settable() {
    for kind in builtin().kinds() {
        for runtime in kind.runtime_fields() {
            assert!(
                kind.field(runtime).is_none(),
                "{}.{runtime} is both a runtime and a definition field",
                kind.type_name()
            );
        }
    }
}

#[test]
fn fields_aws_itself_uses_are_accepted() {
    let catalog = builtin();
    let mut missing = Vec::new();
    for (n, line) in data_lines(include_str!("observed_fields.txt")) {
        let (type_name, fields) = line
            .split_once(':')
            .unwrap_or_else(|| panic!("observed_fields.txt:{n}: no ':'"));
        let kind = catalog
            .get(type_name.trim())
            .unwrap_or_else(|| panic!("observed_fields.txt:{n}: unknown type {type_name}"));
        for field in split_list(fields, ',') {
            if kind.field(field).is_none() {
                missing.push(format!("{}.{field}", kind.type_name()));
            }
        }
    }
    assert!(
        missing.is_empty(),
        "fields AWS uses but the catalog rejects: {missing:?}"
    );
}

#[test]
fn default_accepts_whatever_some_type_accepts() {
    let catalog = builtin();
    let default = catalog.get("Default").expect("Default is registered");
    assert!(default.accepts_any_field());
    for name in [
        "scheduleType",
        "schedule",
        "role",
        "resourceRole",
        "workerGroup",
        "onFail",
    ] {
        assert!(
            catalog.fields_named(name).next().is_some(),
            "no type accepts {name}"
        );
    }
    assert!(catalog.fields_named("noSuchField").next().is_none());
}
