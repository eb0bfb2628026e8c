//! An in-memory [`Context`]: objects as maps of field name to values, plus globals
//! (parameters) visible from every object. It is a convenience for tests, fuzzing and
//! `sluice eval` without a definition; it knows nothing of inheritance — put inherited fields
//! on the object directly.

use std::collections::BTreeMap;

use crate::context::{Binding, Context, ScalarKind};
use crate::value::Value;

/// A [`Context`] over plain maps, built with chained calls:
///
/// ```
/// use sluice_expr::{MapContext, Value, evaluate_string};
///
/// let ctx = MapContext::new("CopyData")
///     .reference("CopyData", "input", "Input")
///     .text("Input", "directoryPath", "s3://bucket/#{@scheduledStartTime}")
///     .value("Input", "@scheduledStartTime", Value::parse_datetime("2012-12-12T00:00:00").unwrap());
/// assert_eq!(
///     evaluate_string("#{input.directoryPath}", &ctx).unwrap(),
///     "s3://bucket/2012-12-12T00:00:00"
/// );
/// ```
#[derive(Debug, Clone, Default)]
pub struct MapContext {
    current: String,
    objects: BTreeMap<String, BTreeMap<String, Vec<Binding>>>,
    globals: BTreeMap<String, Vec<Binding>>,
}

impl MapContext {
    /// An empty context evaluating for object `current`.
    pub fn new(current: impl Into<String>) -> Self {
        MapContext {
            current: current.into(),
            ..MapContext::default()
        }
    }

    /// Changes the object expressions are evaluated for.
    pub fn set_current(&mut self, current: impl Into<String>) {
        self.current = current.into();
    }

    /// Replaces every value of `field` on `object`.
    pub fn set(&mut self, object: &str, field: &str, bindings: Vec<Binding>) -> &mut Self {
        self.objects
            .entry(object.to_owned())
            .or_default()
            .insert(field.to_owned(), bindings);
        self
    }

    /// Adds one value to `field` on `object` (a field with several values is a list).
    pub fn push(&mut self, object: &str, field: &str, binding: Binding) -> &mut Self {
        let fields = self.objects.entry(object.to_owned()).or_default();
        fields.entry(field.to_owned()).or_default().push(binding);
        self
    }

    /// Adds a definition string to `object.field`, typed as a String.
    pub fn text(self, object: &str, field: &str, raw: &str) -> Self {
        self.typed_text(object, field, raw, ScalarKind::String)
    }

    /// Adds a definition string to `object.field`, typed as `kind` once evaluated.
    pub fn typed_text(mut self, object: &str, field: &str, raw: &str, kind: ScalarKind) -> Self {
        let binding = Binding::Text {
            raw: raw.to_owned(),
            owner: object.to_owned(),
            kind,
        };
        self.push(object, field, binding);
        self
    }

    /// Adds a computed value (a runtime field, say) to `object.field`.
    pub fn value(mut self, object: &str, field: &str, value: Value) -> Self {
        self.push(object, field, Binding::Value(value));
        self
    }

    /// Adds a reference to object `target` to `object.field`.
    pub fn reference(mut self, object: &str, field: &str, target: &str) -> Self {
        self.push(object, field, Binding::Object(target.to_owned()));
        self
    }

    /// Adds a value to parameter `name`, visible from every object unless an object has its
    /// own field of that name.
    pub fn parameter(mut self, name: &str, binding: Binding) -> Self {
        self.globals
            .entry(name.to_owned())
            .or_default()
            .push(binding);
        self
    }
}

impl Context for MapContext {
    fn current(&self) -> &str {
        &self.current
    }

    fn lookup(&self, object: &str, name: &str) -> Option<Vec<Binding>> {
        self.objects
            .get(object)
            .and_then(|fields| fields.get(name))
            .or_else(|| self.globals.get(name))
            .cloned()
    }
}
