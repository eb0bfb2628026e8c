//! Inheritance: the effective fields of every object.
//!
//! Rules (AWS documents the first two; the rest are Sluice decisions, made so that a typical
//! `Default` holding `schedule`, `role`, `workerGroup`, … is harmless for every type):
//! * An object's own fields come first and always win: a key set on the object hides *every*
//!   value of that key from its parents (lists are not merged).
//! * `parent: {"ref": P}` adds P's effective fields (recursively). With several `parent` values
//!   they are consulted in order, an earlier parent hiding a later one's keys.
//! * The object with id `Default` is the implicit parent of every object that has no resolvable
//!   `parent` — which includes the root of every explicit chain — but never of itself. A dangling
//!   `parent`, or one that closes a cycle, counts as none for resolution (validation reports
//!   it), so a broken chain still gets `Default`'s fields and does not cause follow-on errors.
//! * `type` is inherited through explicit parents (a typed template can be specialised by
//!   children that only override fields) but never from `Default`: `Default` is not a template
//!   for one type but for all of them.
//! * `parent` itself is never inherited.
//! * An inherited field reaches an object only if the object's type accepts it (a field of the
//!   type, a `my…` user field, or any field for types such as `Default` that accept anything).
//!   The same filter applies to explicit parents and to `Default`, silently: a CSV data format
//!   whose chain holds `schedule` simply has no `schedule`. Objects without a type, or with a
//!   type the catalog does not know, keep everything they inherit.
//! * Cycles in `parent` are cut where they close (the cycle is reported by validation); the
//!   result is then deterministic but depends on where the cycle was entered.

use std::collections::{HashMap, HashSet};

use serde::Serialize;
use sluice_catalog::{Catalog, ObjectKind};
use sluice_model::{Field, FieldValue, PipelineDefinition, PipelineObject};

use crate::expressions::is_user_name;
use crate::params::{Parameters, resolve_parameters};

/// The id of the implicit parent of every object.
pub const DEFAULT_ID: &str = "Default";

/// One object with its effective fields.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ResolvedObject {
    pub id: String,
    pub name: String,
    /// The effective `type` (own, else inherited through explicit parents); `None` for abstract
    /// objects.
    pub type_name: Option<String>,
    /// Effective fields: own fields in order, then inherited ones, nearest parent first.
    pub fields: Vec<Field>,
    /// For each entry of `fields`, the id of the object that wrote it.
    pub owners: Vec<String>,
    /// The object exactly as defined.
    pub own: PipelineObject,
}

impl ResolvedObject {
    /// Every effective value of `key`, in order.
    pub fn values<'a>(&'a self, key: &str) -> impl Iterator<Item = &'a FieldValue> {
        self.fields
            .iter()
            .filter(move |f| f.key == key)
            .map(|f| &f.value)
    }

    /// Whether `key` has an effective value.
    pub fn has(&self, key: &str) -> bool {
        self.fields.iter().any(|f| f.key == key)
    }

    /// The first effective string value of `key`.
    pub fn string(&self, key: &str) -> Option<&str> {
        self.values(key).find_map(FieldValue::as_str)
    }

    /// The first effective reference of `key`.
    pub fn reference(&self, key: &str) -> Option<&str> {
        self.values(key).find_map(FieldValue::as_ref_id)
    }

    /// Every effective reference of `key`, in order.
    pub fn references<'a>(&'a self, key: &str) -> impl Iterator<Item = &'a str> {
        self.values(key).filter_map(FieldValue::as_ref_id)
    }

    /// The id of the object that wrote the effective value of `key`.
    pub fn owner_of(&self, key: &str) -> Option<&str> {
        self.entries()
            .find(|(f, _)| f.key == key)
            .map(|(_, owner)| owner)
    }

    /// Effective fields with the id of the object that wrote each.
    pub fn entries(&self) -> impl Iterator<Item = (&Field, &str)> {
        self.fields
            .iter()
            .zip(self.owners.iter().map(String::as_str))
    }

    /// Whether the object has no type (a template such as `Default`).
    pub fn is_abstract(&self) -> bool {
        self.type_name.is_none()
    }

    /// The catalog entry the object is checked against: its type, or the catalog's `Default`
    /// type for the untyped `Default` object.
    pub fn kind(&self, catalog: &Catalog) -> Option<&'static dyn ObjectKind> {
        match &self.type_name {
            Some(name) => catalog.get(name),
            None if self.id == DEFAULT_ID => catalog.get(DEFAULT_ID),
            None => None,
        }
    }
}

/// A definition with inheritance resolved and parameters applied.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ResolvedPipeline {
    /// Every object, in definition order (duplicated ids included; lookups find the first).
    pub objects: Vec<ResolvedObject>,
    pub parameters: Parameters,
    #[serde(skip)]
    index: HashMap<String, usize>,
}

impl ResolvedPipeline {
    /// The object with this id (the first, if the id is duplicated).
    pub fn get(&self, id: &str) -> Option<&ResolvedObject> {
        self.index.get(id).map(|&i| &self.objects[i])
    }

    /// The position of the object in definition order.
    pub fn position(&self, id: &str) -> Option<usize> {
        self.index.get(id).copied()
    }

    /// The `Default` object, if defined.
    pub fn default_object(&self) -> Option<&ResolvedObject> {
        self.get(DEFAULT_ID)
    }

    /// Whether the pipeline runs on demand (`scheduleType: ondemand` on `Default`).
    pub fn is_ondemand(&self) -> bool {
        self.default_object()
            .and_then(|d| d.string("scheduleType"))
            .is_some_and(|t| t.eq_ignore_ascii_case("ondemand"))
    }

    /// Typed objects (the ones that run, are read or are referenced), in definition order.
    pub fn typed(&self) -> impl Iterator<Item = &ResolvedObject> {
        self.objects.iter().filter(|o| !o.is_abstract())
    }
}

/// Resolves inheritance and parameters without validating. Problems are ignored: dangling
/// references are skipped, and parameters resolve as far as they can.
pub fn resolve(def: &PipelineDefinition, catalog: &Catalog) -> ResolvedPipeline {
    let (parameters, _) = resolve_parameters(def);
    resolve_with(def, catalog, parameters)
}

pub(crate) fn resolve_with(
    def: &PipelineDefinition,
    catalog: &Catalog,
    parameters: Parameters,
) -> ResolvedPipeline {
    let objects = &def.pipeline_objects;
    let mut index = HashMap::new();
    for (i, object) in objects.iter().enumerate() {
        index.entry(object.id.clone()).or_insert(i);
    }
    let mut resolver = Resolver {
        objects,
        index: &index,
        memo: vec![None; objects.len()],
    };
    let resolved = (0..objects.len())
        .map(|i| {
            let merged = resolver.merge(i, &mut Vec::new());
            finish(&objects[i], i, merged, objects, catalog)
        })
        .collect();
    ResolvedPipeline {
        objects: resolved,
        parameters,
        index,
    }
}

/// Whether an object of `kind` takes an inherited `key`.
pub(crate) fn accepts(kind: &dyn ObjectKind, key: &str) -> bool {
    key == "type"
        || kind.accepts_any_field()
        || is_user_name(key.as_bytes())
        || kind.field(key).is_some()
}

type Merged = Vec<(Field, usize)>;

struct Resolver<'a> {
    objects: &'a [PipelineObject],
    index: &'a HashMap<String, usize>,
    memo: Vec<Option<Merged>>,
}

impl Resolver<'_> {
    /// Own fields followed by everything inherited, unfiltered, each with its owner's position.
    fn merge(&mut self, i: usize, stack: &mut Vec<usize>) -> Merged {
        if let Some(done) = &self.memo[i] {
            return done.clone();
        }
        stack.push(i);
        let object = &self.objects[i];
        let mut out: Merged = object.fields.iter().map(|f| (f.clone(), i)).collect();
        let mut keys: HashSet<String> = object.fields.iter().map(|f| f.key.clone()).collect();
        // A parent that closes a cycle is as unresolvable as a missing one.
        let explicit: Vec<usize> = object
            .values("parent")
            .filter_map(FieldValue::as_ref_id)
            .filter_map(|id| self.index.get(id).copied())
            .filter(|p| !stack.contains(p))
            .collect();
        let sources: Vec<(usize, bool)> = if explicit.is_empty() {
            match self.index.get(DEFAULT_ID) {
                Some(&d) if object.id != DEFAULT_ID && !stack.contains(&d) => vec![(d, true)],
                _ => Vec::new(),
            }
        } else {
            explicit.into_iter().map(|p| (p, false)).collect()
        };
        for (parent, implicit) in sources {
            let inherited = self.merge(parent, stack);
            let mut added = HashSet::new();
            for (field, owner) in inherited {
                let skip = field.key == "parent"
                    || (implicit && field.key == "type")
                    || keys.contains(&field.key);
                if !skip {
                    added.insert(field.key.clone());
                    out.push((field, owner));
                }
            }
            keys.extend(added);
        }
        stack.pop();
        self.memo[i] = Some(out.clone());
        out
    }
}

fn finish(
    object: &PipelineObject,
    i: usize,
    merged: Merged,
    objects: &[PipelineObject],
    catalog: &Catalog,
) -> ResolvedObject {
    let type_name = merged
        .iter()
        .find(|(f, _)| f.key == "type")
        .and_then(|(f, _)| f.value.as_str())
        .map(str::to_owned);
    let kind = type_name.as_deref().and_then(|t| catalog.get(t));
    let mut fields = Vec::with_capacity(merged.len());
    let mut owners = Vec::with_capacity(merged.len());
    for (field, owner) in merged {
        let keep = owner == i || kind.is_none_or(|k| accepts(k, &field.key));
        if keep {
            fields.push(field);
            owners.push(objects[owner].id.clone());
        }
    }
    ResolvedObject {
        id: object.id.clone(),
        name: object.name.clone(),
        type_name,
        fields,
        owners,
        own: object.clone(),
    }
}

#[cfg(test)]
mod tests;
