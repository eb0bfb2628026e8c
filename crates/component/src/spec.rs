//! Field specifications: what a field of an object type holds and how it is checked.

/// The broad family of an object type. Families share their common fields (AWS documents
/// "common fields" per family) and are the usual targets of references.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Category {
    DataNode,
    Activity,
    Resource,
    Precondition,
    Action,
    Database,
    DataFormat,
    Schedule,
    /// The `Default` object and untyped abstract parents.
    Default,
    /// Helper objects referenced by others: EmrConfiguration, Property, HttpProxy,
    /// ShellScriptConfig.
    Configuration,
}

/// What a reference field may point at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RefTarget {
    /// Any object of this family.
    Category(Category),
    /// Exactly this type name.
    Type(&'static str),
    /// Any object (e.g. `parent`, user `my…` fields).
    Any,
}

/// The value type of a field (AWS "slot type").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ValueType {
    String,
    Integer,
    Double,
    /// `"true"` or `"false"`.
    Boolean,
    /// `YYYY-MM-DDTHH:MM:SS`.
    DateTime,
    /// `"N unit"`.
    Period,
    /// One of the listed values, compared case-insensitively.
    Enumeration(&'static [&'static str]),
    /// A reference to another object; the slice lists what it may target (any of them).
    Reference(&'static [RefTarget]),
}

/// One field of an object type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FieldSpec {
    /// The AWS field name, e.g. `maximumRetries` or `*password`.
    pub name: &'static str,
    pub value_type: ValueType,
    /// Required on every object of the type (after inheritance).
    pub required: bool,
    /// May hold several values (a list in the file form, repeated keys in the API form).
    pub repeatable: bool,
    /// One-line description from the AWS documentation.
    pub doc: &'static str,
}

impl FieldSpec {
    /// Whether the field is a secret (`*` prefix): never logged, masked in output.
    pub fn is_secret(&self) -> bool {
        self.name.starts_with('*')
    }
}

/// A "required group": at least one (or, with `exclusive`, exactly one) of `fields` must be set.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OneOf {
    pub fields: &'static [&'static str],
    /// When true, setting more than one is an error too.
    pub exclusive: bool,
}

/// An object type: its AWS name, family and fields.
pub trait ObjectKind: Sync {
    /// The AWS `type` value, e.g. `ShellCommandActivity`.
    fn type_name(&self) -> &'static str;

    fn category(&self) -> Category;

    /// One-line description.
    fn doc(&self) -> &'static str;

    /// Every field the type accepts: the family's common fields followed by its own.
    fn fields(&self) -> Vec<&'static FieldSpec>;

    /// Required groups.
    fn one_of(&self) -> &'static [OneOf] {
        &[]
    }

    /// Why the type is deprecated, if it is (validation warns).
    fn deprecated(&self) -> Option<&'static str> {
        None
    }

    /// Looks up one field spec by name.
    fn field(&self, name: &str) -> Option<&'static FieldSpec> {
        self.fields().into_iter().find(|f| f.name == name)
    }
}
