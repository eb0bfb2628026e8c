//! Field sets shared by every type of a family, and the small helpers the per-type files use.
//!
//! AWS documents "common fields" once per family with identical descriptions on every type page;
//! they live here so that each type file lists only what is its own. A type's
//! [`fields`](crate::ObjectKind::fields) is its family's set followed by its own, built with
//! [`with_common`].
//!
//! What is deliberately *not* listed as a field:
//! - `id`, `name` and `type`: object identity, handled by the definition parser, not field specs.
//! - `@`-prefixed runtime and system fields (`@status`, `@scheduledStartTime`, …): read-only, and
//!   validation rejects any user-set `@` field on its own.
//! - Non-`@` runtime fields the service writes on instances and attempts (`errorMessage`,
//!   `hostname`, `node`, …): a definition must not set them either, so they are exposed
//!   separately through [`runtime_fields`] / [`ObjectKind::runtime_fields`]. The one exception
//!   is `attemptStatus`, which AWS lists among the *optional* fields of every family that runs
//!   (activities, data nodes, resources, preconditions).
//! - `runsOn` / `workerGroup` on resources: AWS lists them there only to say "not allowed on this
//!   object", so leaving them out makes validation reject them as unknown.
//!
//! `schedule` is never `required` here even though AWS calls it required: an `ondemand` pipeline
//! must have no Schedule at all, so validation enforces "`schedule` present (usually inherited
//! from `Default`) unless `scheduleType` is `ondemand`" itself.
//!
//! [`ObjectKind::runtime_fields`]: crate::ObjectKind::runtime_fields

use crate::spec::{Category, FieldSpec, ManagedBy, OneOf, RefTarget, ValueType};

// ----- constructors ---------------------------------------------------------------------------

/// An optional single-valued field.
pub const fn optional(name: &'static str, value_type: ValueType, doc: &'static str) -> FieldSpec {
    FieldSpec {
        name,
        value_type,
        required: false,
        repeatable: false,
        doc,
    }
}

/// A required single-valued field.
pub const fn required(name: &'static str, value_type: ValueType, doc: &'static str) -> FieldSpec {
    FieldSpec {
        name,
        value_type,
        required: true,
        repeatable: false,
        doc,
    }
}

/// An optional field that may hold several values.
pub const fn repeated(name: &'static str, value_type: ValueType, doc: &'static str) -> FieldSpec {
    FieldSpec {
        name,
        value_type,
        required: false,
        repeatable: true,
        doc,
    }
}

/// `common` followed by `own`; an own field replaces the common field of the same name (e.g.
/// `Ec2Resource` makes the common `role` required, EMR activities narrow `runsOn` to
/// `EmrCluster`).
pub fn with_common(
    common: &'static [FieldSpec],
    own: &'static [FieldSpec],
) -> Vec<&'static FieldSpec> {
    common
        .iter()
        .filter(|c| !own.iter().any(|o| o.name == c.name))
        .chain(own.iter())
        .collect()
}

// ----- enumeration values (compared case-insensitively by validation) -------------------------

/// Values of `scheduleType`.
pub const SCHEDULE_TYPE_VALUES: &[&str] = &["cron", "timeseries", "ondemand"];
/// Values of `failureAndRerunMode`; `none` is the default.
pub const FAILURE_AND_RERUN_MODE_VALUES: &[&str] = &["cascade", "none"];
/// Values of a resource's `actionOnResourceFailure`.
pub const ACTION_ON_RESOURCE_FAILURE_VALUES: &[&str] = &["retryall", "retrynone"];
/// Values of a resource's `actionOnTaskFailure`.
pub const ACTION_ON_TASK_FAILURE_VALUES: &[&str] = &["continue", "terminate"];

// ----- reference targets ----------------------------------------------------------------------

pub const ANY: &[RefTarget] = &[RefTarget::Any];
pub const SCHEDULE_REF: &[RefTarget] = &[RefTarget::Type("Schedule")];
pub const RESOURCE_REF: &[RefTarget] = &[
    RefTarget::Type("Ec2Resource"),
    RefTarget::Type("EmrCluster"),
];
pub const EMR_CLUSTER_REF: &[RefTarget] = &[RefTarget::Type("EmrCluster")];
pub const DATA_NODE_REF: &[RefTarget] = &[RefTarget::Category(Category::DataNode)];
/// AWS says "another runnable object": activities and data nodes both have instances that
/// finish.
pub const RUNNABLE_REF: &[RefTarget] = &[
    RefTarget::Category(Category::Activity),
    RefTarget::Category(Category::DataNode),
];
pub const PRECONDITION_REF: &[RefTarget] = &[RefTarget::Category(Category::Precondition)];
pub const ACTION_REF: &[RefTarget] = &[RefTarget::Category(Category::Action)];
pub const DATABASE_REF: &[RefTarget] = &[RefTarget::Category(Category::Database)];
pub const DATA_FORMAT_REF: &[RefTarget] = &[RefTarget::Category(Category::DataFormat)];
pub const HTTP_PROXY_REF: &[RefTarget] = &[RefTarget::Type("HttpProxy")];
pub const EMR_CONFIGURATION_REF: &[RefTarget] = &[RefTarget::Type("EmrConfiguration")];
pub const SHELL_SCRIPT_CONFIG_REF: &[RefTarget] = &[RefTarget::Type("ShellScriptConfig")];

// ----- single fields shared across families ---------------------------------------------------

// Fields the EMR-hosted activities (EmrActivity, HadoopActivity, HiveActivity,
// HiveCopyActivity, PigActivity) share with the same meaning.
pub const EMR_RUNS_ON: FieldSpec = optional(
    "runsOn",
    ValueType::Reference(EMR_CLUSTER_REF),
    "EmrCluster on which the activity runs.",
);
pub const HADOOP_QUEUE: FieldSpec = optional(
    "hadoopQueue",
    ValueType::String,
    "Hadoop scheduler queue the job is submitted to.",
);
pub const POST_ACTIVITY_TASK_CONFIG: FieldSpec = optional(
    "postActivityTaskConfig",
    ValueType::Reference(SHELL_SCRIPT_CONFIG_REF),
    "Shell script (S3 URI plus arguments) run after the activity.",
);
pub const PRE_ACTIVITY_TASK_CONFIG: FieldSpec = optional(
    "preActivityTaskConfig",
    ValueType::Reference(SHELL_SCRIPT_CONFIG_REF),
    "Shell script (S3 URI plus arguments) run before the activity.",
);
pub const RESIZE_CLUSTER_BEFORE_RUNNING: FieldSpec = optional(
    "resizeClusterBeforeRunning",
    ValueType::Boolean,
    "Resize the cluster to suit DynamoDB input or output nodes before running (switches instance types to m3.xlarge).",
);
pub const RESIZE_CLUSTER_MAX_INSTANCES: FieldSpec = optional(
    "resizeClusterMaxInstances",
    ValueType::Integer,
    "Upper bound on the instances the resize algorithm may request.",
);

pub const PARENT: FieldSpec = optional(
    "parent",
    ValueType::Reference(ANY),
    "Parent object whose fields this object inherits; its own fields win.",
);
pub const SCHEDULE: FieldSpec = optional(
    "schedule",
    ValueType::Reference(SCHEDULE_REF),
    "Schedule whose intervals instantiate this object; usually inherited from Default.",
);
pub const SCHEDULE_TYPE: FieldSpec = optional(
    "scheduleType",
    ValueType::Enumeration(SCHEDULE_TYPE_VALUES),
    "Run at the start of each interval (cron), at its end (timeseries), or once per activation (ondemand).",
);
pub const WORKER_GROUP: FieldSpec = optional(
    "workerGroup",
    ValueType::String,
    "Worker group whose task runners take this work; ignored when runsOn is set.",
);
pub const ATTEMPT_STATUS: FieldSpec = optional(
    "attemptStatus",
    ValueType::String,
    "Most recently reported status from the remote activity.",
);
pub const ATTEMPT_TIMEOUT: FieldSpec = optional(
    "attemptTimeout",
    ValueType::Period,
    "Time allowed for remote work to complete; an attempt that overruns it may be retried.",
);
pub const DEPENDS_ON: FieldSpec = repeated(
    "dependsOn",
    ValueType::Reference(RUNNABLE_REF),
    "Runnable objects that must finish before this one runs.",
);
pub const FAILURE_AND_RERUN_MODE: FieldSpec = optional(
    "failureAndRerunMode",
    ValueType::Enumeration(FAILURE_AND_RERUN_MODE_VALUES),
    "How consumers behave when a dependency fails or is rerun (cascade or none).",
);
pub const LATE_AFTER_TIMEOUT: FieldSpec = optional(
    "lateAfterTimeout",
    ValueType::Period,
    "Time after the scheduled start within which the object must start, else onLateAction fires; not applied to ondemand.",
);
pub const MAX_ACTIVE_INSTANCES: FieldSpec = optional(
    "maxActiveInstances",
    ValueType::Integer,
    "Maximum number of concurrently active instances of this component; reruns do not count.",
);
pub const MAXIMUM_RETRIES: FieldSpec = optional(
    "maximumRetries",
    ValueType::Integer,
    "Maximum number of attempt retries on failure.",
);
pub const ON_FAIL: FieldSpec = repeated(
    "onFail",
    ValueType::Reference(ACTION_REF),
    "Actions to run when this object fails.",
);
pub const ON_LATE_ACTION: FieldSpec = repeated(
    "onLateAction",
    ValueType::Reference(ACTION_REF),
    "Actions to run when this object has not started or completed within lateAfterTimeout.",
);
pub const ON_SUCCESS: FieldSpec = repeated(
    "onSuccess",
    ValueType::Reference(ACTION_REF),
    "Actions to run when this object succeeds.",
);
pub const PIPELINE_LOG_URI: FieldSpec = optional(
    "pipelineLogUri",
    ValueType::String,
    "S3 URI (e.g. s3://BucketName/Key/) where the pipeline's logs are uploaded.",
);
pub const PRECONDITION: FieldSpec = repeated(
    "precondition",
    ValueType::Reference(PRECONDITION_REF),
    "Preconditions that must all be met before this object is ready.",
);
pub const REPORT_PROGRESS_TIMEOUT: FieldSpec = optional(
    "reportProgressTimeout",
    ValueType::Period,
    "Maximum gap between progress reports before the attempt is considered stalled and retried.",
);
pub const RETRY_DELAY: FieldSpec = optional(
    "retryDelay",
    ValueType::Period,
    "Delay between two retry attempts.",
);
pub const ROLE: FieldSpec = optional(
    "role",
    ValueType::String,
    "IAM role the service uses to act on the pipeline's behalf.",
);
pub const RESOURCE_ROLE: FieldSpec = optional(
    "resourceRole",
    ValueType::String,
    "IAM role (instance profile) that controls what the launched instances can access.",
);
pub const REGION: FieldSpec = optional(
    "region",
    ValueType::String,
    "AWS region code, e.g. us-east-1; defaults to the pipeline's region.",
);

// ----- family sets ----------------------------------------------------------------------------

/// Fields of every activity (AWS "Activities" common fields).
pub static ACTIVITY_FIELDS: &[FieldSpec] = &[
    SCHEDULE,
    SCHEDULE_TYPE,
    optional(
        "runsOn",
        ValueType::Reference(RESOURCE_REF),
        "Resource (Ec2Resource or EmrCluster) on which the activity runs.",
    ),
    WORKER_GROUP,
    ATTEMPT_STATUS,
    ATTEMPT_TIMEOUT,
    DEPENDS_ON,
    FAILURE_AND_RERUN_MODE,
    repeated(
        "input",
        ValueType::Reference(DATA_NODE_REF),
        "Input data nodes; each must be ready (preconditions met) before the activity runs.",
    ),
    repeated(
        "output",
        ValueType::Reference(DATA_NODE_REF),
        "Output data nodes.",
    ),
    LATE_AFTER_TIMEOUT,
    MAX_ACTIVE_INSTANCES,
    MAXIMUM_RETRIES,
    ON_FAIL,
    ON_LATE_ACTION,
    ON_SUCCESS,
    PARENT,
    PIPELINE_LOG_URI,
    PRECONDITION,
    REPORT_PROGRESS_TIMEOUT,
    RETRY_DELAY,
];

/// The required group of every activity: where it runs. With both set, `workerGroup` is
/// ignored, so setting both is allowed.
pub const RUNS_ON_OR_WORKER_GROUP: OneOf = OneOf {
    fields: &["runsOn", "workerGroup"],
    exclusive: false,
};

/// Fields of every data node: the activity set without `input`/`output`, and with
/// `runsOn`/`workerGroup` optional (they only say where the node's preconditions run).
pub static DATA_NODE_FIELDS: &[FieldSpec] = &[
    SCHEDULE,
    SCHEDULE_TYPE,
    optional(
        "runsOn",
        ValueType::Reference(RESOURCE_REF),
        "Resource on which the data node's precondition checks run.",
    ),
    WORKER_GROUP,
    ATTEMPT_STATUS,
    ATTEMPT_TIMEOUT,
    DEPENDS_ON,
    FAILURE_AND_RERUN_MODE,
    LATE_AFTER_TIMEOUT,
    MAX_ACTIVE_INSTANCES,
    MAXIMUM_RETRIES,
    ON_FAIL,
    ON_LATE_ACTION,
    ON_SUCCESS,
    PARENT,
    PIPELINE_LOG_URI,
    PRECONDITION,
    REPORT_PROGRESS_TIMEOUT,
    RETRY_DELAY,
];

/// Fields of every precondition. Preconditions have no `schedule`, `dependsOn` or `runsOn`:
/// they are evaluated for the object that references them.
pub static PRECONDITION_FIELDS: &[FieldSpec] = &[
    ATTEMPT_STATUS,
    ATTEMPT_TIMEOUT,
    FAILURE_AND_RERUN_MODE,
    LATE_AFTER_TIMEOUT,
    MAXIMUM_RETRIES,
    ON_FAIL,
    ON_LATE_ACTION,
    ON_SUCCESS,
    PARENT,
    optional(
        "preconditionTimeout",
        ValueType::Period,
        "Time from start after which a still-unsatisfied precondition is marked failed.",
    ),
    REPORT_PROGRESS_TIMEOUT,
    RETRY_DELAY,
];

/// Fields of every resource (Ec2Resource, EmrCluster).
pub static RESOURCE_FIELDS: &[FieldSpec] = &[
    SCHEDULE,
    SCHEDULE_TYPE,
    optional(
        "actionOnResourceFailure",
        ValueType::Enumeration(ACTION_ON_RESOURCE_FAILURE_VALUES),
        "After a resource failure, retry all its tasks (retryall) or none (retrynone).",
    ),
    optional(
        "actionOnTaskFailure",
        ValueType::Enumeration(ACTION_ON_TASK_FAILURE_VALUES),
        "After a task failure, keep the resource (continue) or terminate it (terminate).",
    ),
    ATTEMPT_STATUS,
    ATTEMPT_TIMEOUT,
    optional(
        "availabilityZone",
        ValueType::String,
        "Availability Zone in which to launch.",
    ),
    FAILURE_AND_RERUN_MODE,
    optional(
        "httpProxy",
        ValueType::Reference(HTTP_PROXY_REF),
        "Proxy host that clients on the resource use to reach AWS services.",
    ),
    optional(
        "initTimeout",
        ValueType::Period,
        "How long to wait for the resource to start.",
    ),
    optional(
        "keyPair",
        ValueType::String,
        "EC2 key pair name for logging on to the instances.",
    ),
    LATE_AFTER_TIMEOUT,
    MAX_ACTIVE_INSTANCES,
    MAXIMUM_RETRIES,
    ON_FAIL,
    ON_LATE_ACTION,
    ON_SUCCESS,
    PARENT,
    PIPELINE_LOG_URI,
    REGION,
    REPORT_PROGRESS_TIMEOUT,
    RESOURCE_ROLE,
    RETRY_DELAY,
    ROLE,
    optional(
        "subnetId",
        ValueType::String,
        "ID of the subnet in which to launch the resource.",
    ),
    // EmrCluster's page calls this "Integer" hours, but its examples and every other page use a
    // Period such as "2 Hours", which is what the scheduler needs anyway.
    optional(
        "terminateAfter",
        ValueType::Period,
        "Time after which the resource is terminated (status TIMEDOUT).",
    ),
    optional(
        "useOnDemandOnLastAttempt",
        ValueType::Boolean,
        "On the last attempt, request On-Demand instead of Spot instances.",
    ),
];

/// Fields of types whose family shares nothing but inheritance: actions, databases, data
/// formats, configuration objects and Schedule.
pub static PARENT_ONLY: &[FieldSpec] = &[PARENT];

// ----- runtime fields without the `@` prefix --------------------------------------------------

/// Written on instances and attempts of activities, data nodes and resources.
pub const RUNNABLE_RUNTIME_FIELDS: &[&str] = &[
    "cancellationReason",
    "emrStepLog",
    "errorId",
    "errorMessage",
    "errorStackTrace",
    "hadoopJobLog",
    "hostname",
    "reportProgressTime",
];

/// Written on precondition instances run by a task runner; `node` is the object the
/// precondition is being evaluated for.
pub const PRECONDITION_RUNTIME_FIELDS: &[&str] = &[
    "cancellationReason",
    "emrStepLog",
    "errorId",
    "errorMessage",
    "errorStackTrace",
    "hadoopJobLog",
    "hostname",
    "node",
    "reportProgressTime",
];

/// Written on precondition instances the service evaluates itself, which it polls and counts.
pub const SERVICE_PRECONDITION_RUNTIME_FIELDS: &[&str] = &[
    "cancellationReason",
    "currentRetryCount",
    "emrStepLog",
    "errorId",
    "errorMessage",
    "errorStackTrace",
    "hadoopJobLog",
    "hostname",
    "lastRetryTime",
    "node",
    "reportProgressTime",
];

/// `node` is the object whose event triggered the action (`#{node.@scheduledStartTime}`).
pub const ACTION_RUNTIME_FIELDS: &[&str] = &["node"];

/// The non-`@` runtime fields of a family; the default of
/// [`ObjectKind::runtime_fields`](crate::ObjectKind::runtime_fields).
pub fn runtime_fields(
    category: Category,
    managed_by: Option<ManagedBy>,
) -> &'static [&'static str] {
    match category {
        Category::Activity | Category::DataNode | Category::Resource => RUNNABLE_RUNTIME_FIELDS,
        Category::Precondition if managed_by == Some(ManagedBy::Service) => {
            SERVICE_PRECONDITION_RUNTIME_FIELDS
        }
        Category::Precondition => PRECONDITION_RUNTIME_FIELDS,
        Category::Action => ACTION_RUNTIME_FIELDS,
        _ => &[],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    static OWN: &[FieldSpec] = &[
        required("role", ValueType::String, "Made required."),
        optional("extra", ValueType::Integer, "Own field."),
    ];

    #[test]
    fn own_fields_override_common_ones_and_follow_them() {
        let fields = with_common(PARENT_ONLY, OWN);
        assert_eq!(
            fields.iter().map(|f| f.name).collect::<Vec<_>>(),
            ["parent", "role", "extra"]
        );
        let fields = with_common(RESOURCE_FIELDS, OWN);
        let roles: Vec<_> = fields.iter().filter(|f| f.name == "role").collect();
        assert_eq!(roles.len(), 1);
        assert!(roles[0].required);
        assert_eq!(fields.len(), RESOURCE_FIELDS.len() + 1);
        assert_eq!(fields.last().unwrap().name, "extra");
    }

    #[test]
    fn data_node_set_is_the_activity_set_without_input_and_output() {
        let activity: Vec<_> = ACTIVITY_FIELDS
            .iter()
            .map(|f| f.name)
            .filter(|n| *n != "input" && *n != "output")
            .collect();
        let data_node: Vec<_> = DATA_NODE_FIELDS.iter().map(|f| f.name).collect();
        assert_eq!(activity, data_node);
    }
}
