//! What the evaluator may ask of the world. The evaluator itself is pure: the engine, the API
//! server and `sluice eval` each supply a [`Context`] that knows objects, inheritance,
//! parameters and runtime (`@`) fields.

pub use crate::value::Value;

/// How the text of a field should be typed once its own expressions are evaluated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScalarKind {
    String,
    Integer,
    Double,
    DateTime,
}

/// One value of a field as the context knows it.
#[derive(Debug, Clone, PartialEq)]
pub enum Binding {
    /// A field value from the definition. It may itself contain `#{...}` expressions, which are
    /// evaluated in the context of `owner` (the object the value belongs to, so `#{input.path}`
    /// where `path` is `s3://b/#{@scheduledStartTime}` sees the input node's runtime fields).
    Text {
        raw: String,
        owner: String,
        kind: ScalarKind,
    },
    /// An already computed value (runtime fields, declared parameters).
    Value(Value),
    /// A reference to another object, by id.
    Object(String),
}

/// Supplies fields to the evaluator. Object handles are object ids (component, instance or
/// attempt ids — whatever the implementation uses).
pub trait Context {
    /// The id of the object the expression is evaluated for.
    fn current(&self) -> &str;

    /// Every value of field `name` on `object`, after inheritance (`parent`, `Default`), or
    /// `None` when the object has no such field. Names include `@runtime` fields, `*secret`
    /// fields and parameter ids (`myParam`, `*myPassword`), which are visible from every object.
    fn lookup(&self, object: &str, name: &str) -> Option<Vec<Binding>>;
}

impl ScalarKind {
    /// The type name used in messages (`Integer`, `Double`, `DateTime`, `String`).
    pub fn name(self) -> &'static str {
        match self {
            ScalarKind::String => "String",
            ScalarKind::Integer => "Integer",
            ScalarKind::Double => "Double",
            ScalarKind::DateTime => "DateTime",
        }
    }
}
