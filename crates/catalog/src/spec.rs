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
    /// ShellScriptConfig, and the EBS objects of an EmrCluster.
    Configuration,
}

impl Category {
    /// Every category, in declaration order.
    pub const ALL: &'static [Category] = &[
        Category::DataNode,
        Category::Activity,
        Category::Resource,
        Category::Precondition,
        Category::Action,
        Category::Database,
        Category::DataFormat,
        Category::Schedule,
        Category::Default,
        Category::Configuration,
    ];

    /// The category's name as written in messages and test fixtures, e.g. `DataNode`.
    pub fn name(self) -> &'static str {
        match self {
            Category::DataNode => "DataNode",
            Category::Activity => "Activity",
            Category::Resource => "Resource",
            Category::Precondition => "Precondition",
            Category::Action => "Action",
            Category::Database => "Database",
            Category::DataFormat => "DataFormat",
            Category::Schedule => "Schedule",
            Category::Default => "Default",
            Category::Configuration => "Configuration",
        }
    }

    /// Whether objects of this family are instantiated per schedule interval and therefore take
    /// `schedule` and `scheduleType` (activities, data nodes, resources).
    pub fn is_scheduled(self) -> bool {
        matches!(
            self,
            Category::DataNode | Category::Activity | Category::Resource
        )
    }
}

impl std::fmt::Display for Category {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// Who carries out the work of an object's instances.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ManagedBy {
    /// The service itself: system-managed preconditions, actions, launching resources.
    Service,
    /// A task runner polling the object's `workerGroup` or running on its `runsOn` resource.
    TaskRunner,
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

    /// Whether the type takes any field that some other type accepts, instead of a fixed list.
    ///
    /// Only `Default` does: it is the implicit parent of every object, so whatever it holds is
    /// inherited and checked on the objects that inherit it. Validation checks a field set on
    /// such an object against the union of all types' fields
    /// ([`Catalog::fields_named`](crate::Catalog::fields_named)).
    fn accepts_any_field(&self) -> bool {
        false
    }

    /// Fields without the `@` prefix that the service writes on instances and attempts at run
    /// time (`errorMessage`, `hostname`, `node`, …). They are not in [`fields`](Self::fields)
    /// because a definition must not set them, but expressions such as `#{node.errorMessage}`
    /// may read them.
    fn runtime_fields(&self) -> &'static [&'static str] {
        crate::common::runtime_fields(self.category(), self.managed_by())
    }

    /// Who performs the work of this type's instances; `None` for types that do no work of
    /// their own (data nodes, databases, data formats, schedules, configuration objects).
    fn managed_by(&self) -> Option<ManagedBy> {
        match self.category() {
            Category::Activity | Category::Precondition => Some(ManagedBy::TaskRunner),
            Category::Resource | Category::Action => Some(ManagedBy::Service),
            _ => None,
        }
    }

    /// Sets of fields of which at most one may be set, with no requirement that any is (e.g.
    /// Schedule's `endDateTime` and `occurrences`). Required groups are [`one_of`](Self::one_of).
    fn conflicts(&self) -> &'static [&'static [&'static str]] {
        &[]
    }

    /// Fields AWS acts on and Sluice accepts, stores and shows but never reads (an EC2
    /// instance type, a subnet, …): a value of one that cannot be evaluated for an attempt is
    /// passed on as written instead of failing the attempt.
    fn inert_fields(&self) -> &'static [&'static str] {
        &[]
    }

    /// Fields that AWS documents as deprecated, with the reason (validation may warn).
    fn deprecated_fields(&self) -> &'static [(&'static str, &'static str)] {
        &[]
    }
}
