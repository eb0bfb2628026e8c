//! A small catalog and definition builders for unit tests, independent of the built-in catalog
//! so that these tests pin this crate's behaviour rather than the type list.
//!
//! In [`obj`], a value written `->X` is a reference to `X`; anything else is a string.

use sluice_catalog::{Catalog, Category, FieldSpec, ObjectKind, OneOf, RefTarget, ValueType};
use sluice_model::{
    Field, ParameterAttribute, ParameterObject, ParameterValue, PipelineDefinition, PipelineObject,
};

pub(crate) struct Kind {
    name: &'static str,
    category: Category,
    fields: &'static [FieldSpec],
    one_of: &'static [OneOf],
    deprecated: Option<&'static str>,
    any: bool,
    conflicts: &'static [&'static [&'static str]],
    deprecated_fields: &'static [(&'static str, &'static str)],
}

impl ObjectKind for Kind {
    fn type_name(&self) -> &'static str {
        self.name
    }
    fn category(&self) -> Category {
        self.category
    }
    fn doc(&self) -> &'static str {
        "test kind"
    }
    fn fields(&self) -> Vec<&'static FieldSpec> {
        self.fields.iter().collect()
    }
    fn one_of(&self) -> &'static [OneOf] {
        self.one_of
    }
    fn deprecated(&self) -> Option<&'static str> {
        self.deprecated
    }
    fn accepts_any_field(&self) -> bool {
        self.any
    }
    fn conflicts(&self) -> &'static [&'static [&'static str]] {
        self.conflicts
    }
    fn deprecated_fields(&self) -> &'static [(&'static str, &'static str)] {
        self.deprecated_fields
    }
}

const fn f(name: &'static str, value_type: ValueType) -> FieldSpec {
    FieldSpec {
        name,
        value_type,
        required: false,
        repeatable: false,
        doc: "",
    }
}
const fn req(name: &'static str, value_type: ValueType) -> FieldSpec {
    FieldSpec {
        name,
        value_type,
        required: true,
        repeatable: false,
        doc: "",
    }
}
const fn rep(name: &'static str, value_type: ValueType) -> FieldSpec {
    FieldSpec {
        name,
        value_type,
        required: false,
        repeatable: true,
        doc: "",
    }
}

const S: ValueType = ValueType::String;
const SCHEDULE_REF: ValueType = ValueType::Reference(&[RefTarget::Type("Schedule")]);
const RUNS_ON: ValueType = ValueType::Reference(&[
    RefTarget::Type("Ec2Resource"),
    RefTarget::Type("EmrCluster"),
]);
const ACTIVITY_REF: ValueType = ValueType::Reference(&[RefTarget::Category(Category::Activity)]);
const NODE_REF: ValueType = ValueType::Reference(&[RefTarget::Category(Category::DataNode)]);
const PRECONDITION_REF: ValueType =
    ValueType::Reference(&[RefTarget::Category(Category::Precondition)]);
const ACTION_REF: ValueType = ValueType::Reference(&[RefTarget::Category(Category::Action)]);
const ANY_REF: ValueType = ValueType::Reference(&[RefTarget::Any]);
const SCHEDULE_TYPE: ValueType = ValueType::Enumeration(&["cron", "timeseries", "ondemand"]);
const RERUN_MODE: ValueType = ValueType::Enumeration(&["cascade", "none"]);

static SHELL_FIELDS: [FieldSpec; 23] = [
    f("schedule", SCHEDULE_REF),
    f("scheduleType", SCHEDULE_TYPE),
    f("runsOn", RUNS_ON),
    f("workerGroup", S),
    rep("dependsOn", ACTIVITY_REF),
    rep("input", NODE_REF),
    rep("output", NODE_REF),
    rep("precondition", PRECONDITION_REF),
    rep("onFail", ACTION_REF),
    rep("onSuccess", ACTION_REF),
    rep("onLateAction", ACTION_REF),
    f("maximumRetries", ValueType::Integer),
    f("retryDelay", ValueType::Period),
    f("lateAfterTimeout", ValueType::Period),
    f("failureAndRerunMode", RERUN_MODE),
    f("maxActiveInstances", ValueType::Integer),
    f("pipelineLogUri", S),
    f("parent", ANY_REF),
    f("command", S),
    f("scriptUri", S),
    rep("scriptArgument", S),
    f("stage", ValueType::Boolean),
    f("stdout", S),
];

static SHELL: Kind = Kind {
    name: "ShellCommandActivity",
    category: Category::Activity,
    fields: &SHELL_FIELDS,
    one_of: &[
        OneOf {
            fields: &["command", "scriptUri"],
            exclusive: true,
        },
        OneOf {
            fields: &["runsOn", "workerGroup"],
            exclusive: false,
        },
    ],
    deprecated: None,
    any: false,
    conflicts: &[],
    deprecated_fields: &[],
};

static S3_NODE: Kind = Kind {
    name: "S3DataNode",
    category: Category::DataNode,
    fields: &[
        f("schedule", SCHEDULE_REF),
        f("scheduleType", SCHEDULE_TYPE),
        f("failureAndRerunMode", RERUN_MODE),
        f("workerGroup", S),
        rep("precondition", PRECONDITION_REF),
        rep("onFail", ACTION_REF),
        f("parent", ANY_REF),
        f("filePath", S),
        f("directoryPath", S),
        f(
            "dataFormat",
            ValueType::Reference(&[RefTarget::Category(Category::DataFormat)]),
        ),
        f("compression", ValueType::Enumeration(&["none", "gzip"])),
        f("*myEncryptedNote", S),
    ],
    one_of: &[OneOf {
        fields: &["filePath", "directoryPath"],
        exclusive: true,
    }],
    deprecated: None,
    any: false,
    conflicts: &[],
    deprecated_fields: &[],
};

static SQL_NODE: Kind = Kind {
    name: "SqlDataNode",
    category: Category::DataNode,
    fields: &[
        f("schedule", SCHEDULE_REF),
        f("parent", ANY_REF),
        req("table", S),
        f(
            "database",
            ValueType::Reference(&[RefTarget::Category(Category::Database)]),
        ),
        f("selectQuery", S),
    ],
    one_of: &[],
    deprecated: None,
    any: false,
    conflicts: &[],
    deprecated_fields: &[],
};

static MYSQL_NODE: Kind = Kind {
    name: "MySqlDataNode",
    category: Category::DataNode,
    fields: &[
        f("schedule", SCHEDULE_REF),
        f("parent", ANY_REF),
        req("table", S),
    ],
    one_of: &[],
    deprecated: Some("MySqlDataNode is deprecated; use SqlDataNode"),
    any: false,
    conflicts: &[],
    deprecated_fields: &[],
};

static CSV: Kind = Kind {
    name: "CSV",
    category: Category::DataFormat,
    fields: &[f("parent", ANY_REF), rep("column", S), f("escapeChar", S)],
    one_of: &[],
    deprecated: None,
    any: false,
    conflicts: &[],
    deprecated_fields: &[],
};

static SCHEDULE: Kind = Kind {
    name: "Schedule",
    category: Category::Schedule,
    fields: &[
        f("parent", ANY_REF),
        req("period", ValueType::Period),
        f("startDateTime", ValueType::DateTime),
        f(
            "startAt",
            ValueType::Enumeration(&["FIRST_ACTIVATION_DATE_TIME"]),
        ),
        f("endDateTime", ValueType::DateTime),
        f("occurrences", ValueType::Integer),
    ],
    one_of: &[],
    deprecated: None,
    any: false,
    conflicts: &[],
    deprecated_fields: &[],
};

static EC2: Kind = Kind {
    name: "Ec2Resource",
    category: Category::Resource,
    fields: &[
        f("schedule", SCHEDULE_REF),
        f("parent", ANY_REF),
        req("role", S),
        req("resourceRole", S),
        f("instanceType", S),
        f("terminateAfter", ValueType::Period),
        f("maximumRetries", ValueType::Integer),
        f("failureAndRerunMode", RERUN_MODE),
        f(
            "actionOnTaskFailure",
            ValueType::Enumeration(&["continue", "terminate"]),
        ),
        f("instanceCount", ValueType::Integer),
        f("spotBidPrice", ValueType::Double),
        rep("securityGroups", S),
        rep("securityGroupIds", S),
    ],
    one_of: &[],
    deprecated: None,
    any: false,
    conflicts: &[&["securityGroups", "securityGroupIds"]],
    deprecated_fields: &[(
        "instanceCount",
        "an Ec2Resource launches exactly one instance",
    )],
};

static SNS: Kind = Kind {
    name: "SnsAlarm",
    category: Category::Action,
    fields: &[
        f("parent", ANY_REF),
        req("topicArn", S),
        req("message", S),
        req("subject", S),
        req("role", S),
    ],
    one_of: &[],
    deprecated: None,
    any: false,
    conflicts: &[],
    deprecated_fields: &[],
};

static TERMINATE: Kind = Kind {
    name: "Terminate",
    category: Category::Action,
    fields: &[f("parent", ANY_REF)],
    one_of: &[],
    deprecated: None,
    any: false,
    conflicts: &[],
    deprecated_fields: &[],
};

static S3_KEY_EXISTS: Kind = Kind {
    name: "S3KeyExists",
    category: Category::Precondition,
    fields: &[
        f("parent", ANY_REF),
        req("role", S),
        req("s3Key", S),
        f("preconditionTimeout", ValueType::Period),
        f("maximumRetries", ValueType::Integer),
    ],
    one_of: &[],
    deprecated: None,
    any: false,
    conflicts: &[],
    deprecated_fields: &[],
};

static RDS: Kind = Kind {
    name: "RdsDatabase",
    category: Category::Database,
    fields: &[
        f("parent", ANY_REF),
        req("*password", S),
        req("username", S),
        req("rdsInstanceId", S),
        f("databaseName", S),
    ],
    one_of: &[],
    deprecated: None,
    any: false,
    conflicts: &[],
    deprecated_fields: &[],
};

static DEFAULT: Kind = Kind {
    name: "Default",
    category: Category::Default,
    fields: &[
        f("scheduleType", SCHEDULE_TYPE),
        f("failureAndRerunMode", RERUN_MODE),
        f("schedule", SCHEDULE_REF),
        f("maxActiveInstances", ValueType::Integer),
    ],
    one_of: &[],
    deprecated: None,
    any: true,
    conflicts: &[],
    deprecated_fields: &[],
};

pub(crate) fn catalog() -> Catalog {
    Catalog::from_kinds(vec![
        &DEFAULT,
        &SCHEDULE,
        &SHELL,
        &S3_NODE,
        &SQL_NODE,
        &MYSQL_NODE,
        &CSV,
        &EC2,
        &SNS,
        &TERMINATE,
        &S3_KEY_EXISTS,
        &RDS,
    ])
}

/// An object; `->X` values are references.
pub(crate) fn obj(id: &str, fields: &[(&str, &str)]) -> PipelineObject {
    PipelineObject {
        id: id.to_owned(),
        name: id.to_owned(),
        fields: fields
            .iter()
            .map(|(k, v)| match v.strip_prefix("->") {
                Some(target) => Field::reference(*k, target),
                None => Field::string(*k, *v),
            })
            .collect(),
    }
}

pub(crate) fn def(objects: Vec<PipelineObject>) -> PipelineDefinition {
    PipelineDefinition {
        pipeline_objects: objects,
        ..PipelineDefinition::default()
    }
}

pub(crate) fn param(id: &str, attributes: &[(&str, &str)]) -> ParameterObject {
    ParameterObject {
        id: id.to_owned(),
        attributes: attributes
            .iter()
            .map(|(k, v)| ParameterAttribute {
                key: (*k).to_owned(),
                string_value: (*v).to_owned(),
            })
            .collect(),
    }
}

pub(crate) fn value(id: &str, v: &str) -> ParameterValue {
    ParameterValue {
        id: id.to_owned(),
        string_value: v.to_owned(),
    }
}

/// A valid scheduled pipeline: Default (cron, schedule, workerGroup), a daily Schedule and one
/// shell activity.
pub(crate) fn baseline() -> Vec<PipelineObject> {
    vec![
        obj(
            "Default",
            &[
                ("scheduleType", "cron"),
                ("schedule", "->Daily"),
                ("workerGroup", "wg"),
            ],
        ),
        obj(
            "Daily",
            &[
                ("type", "Schedule"),
                ("period", "1 day"),
                ("startDateTime", "2030-01-01T00:00:00"),
            ],
        ),
        obj(
            "Hello",
            &[("type", "ShellCommandActivity"), ("command", "echo hello")],
        ),
    ]
}
