//! What will not run on Sluice as it did at the source, beyond what validation says: commands
//! that assume AWS's hosts, resources that become local processes, worker groups that need a
//! runner, and the pipeline's state at the source.
//!
//! Design decisions:
//! - Commands are matched against a short, documented list of patterns ([`HOST_PATTERNS`],
//!   docs/import.md), each with its advice. A finding names the object, the field and the
//!   pattern, never the command's text, which may hold a secret.
//! - Only an object's own fields are looked at, so a command inherited from a parent is
//!   reported once, on the parent.

use std::sync::LazyLock;

use regex::Regex;
use serde::Serialize;
use sluice_catalog::ObjectKind;
use sluice_catalog::types::{Ec2Resource, EmrCluster};
use sluice_definition::PIPELINE_ID;
use sluice_executors::exec::emr::cluster::is_aws_bootstrap_action;
use sluice_model::{PipelineDefinition, PipelineObject};

use crate::commands::LOCAL_WORKER_GROUP;

/// One thing that will not run as it did at the source.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub(super) struct Finding {
    /// The object it concerns, or `PipelineDefinition` for the whole pipeline.
    pub(super) id: String,
    pub(super) code: &'static str,
    pub(super) message: String,
}

impl Finding {
    fn new(id: &str, code: &'static str, message: String) -> Finding {
        Finding {
            id: id.to_owned(),
            code,
            message,
        }
    }
}

/// The fields that hold shell commands.
const COMMAND_FIELDS: &[&str] = &[
    "command",
    "scriptArgument",
    "preStepCommand",
    "postStepCommand",
];

/// A command pattern that assumes one of AWS's hosts, and what to do about it.
struct HostPattern {
    code: &'static str,
    /// What the command does, as the message says it.
    what: &'static str,
    regex: &'static str,
    advice: &'static str,
}

/// Where a command word may start: the start, a space, a shell separator or a path.
macro_rules! word {
    ($words:literal) => {
        concat!(r"(^|[\s;&|(`/])(", $words, r")(\s|$)")
    };
}

/// The patterns, in report order (docs/import.md lists the same).
const HOST_PATTERNS: &[HostPattern] = &[
    HostPattern {
        code: "HOST_SUDO",
        what: "runs sudo",
        regex: word!("sudo"),
        advice: "runners run commands as their own user with no terminal to type a password: \
                 install what the command needs on the runner hosts beforehand, or give that \
                 user a NOPASSWD sudoers rule",
    },
    HostPattern {
        code: "HOST_PACKAGE_INSTALL",
        what: "installs packages (yum, apt-get, dnf)",
        regex: word!("yum|apt-get|dnf"),
        advice: "on AWS each resource was a fresh instance; a runner host keeps what was \
                 installed: install the packages once on the runner hosts and drop the step",
    },
    HostPattern {
        code: "HOST_AWS_CLI",
        what: "calls the AWS CLI",
        regex: word!("aws"),
        advice: "the runner hosts need the AWS CLI and credentials of their own (on AWS the \
                 resource's role gave them); for an S3-compatible store set AWS_ENDPOINT_URL_S3 \
                 for the runner",
    },
    HostPattern {
        code: "HOST_EC2_USER_HOME",
        what: "uses /home/ec2-user",
        regex: r"/home/ec2-user|~ec2-user",
        advice: "that is the EC2 instance's default user; runners run commands in the attempt's \
                 directory as their own user: use ${INPUT1_STAGING_DIR} / \
                 ${OUTPUT1_STAGING_DIR} or a path that exists on the runner hosts",
    },
    HostPattern {
        code: "HOST_HADOOP_FS",
        what: "uses HDFS (hadoop fs, hdfs dfs)",
        regex: r"(^|[\s;&|(`/])(hadoop\s+fs|hdfs\s+dfs)(\s|$)",
        advice: "the runner host needs a Hadoop client and a file system to reach; EMR work runs \
                 on Spark (docs/emr.md): move data through s3:// paths or staging instead",
    },
    HostPattern {
        code: "HOST_INSTANCE_METADATA",
        what: "reads the EC2 instance metadata service (169.254.169.254)",
        regex: r"169\.254\.169\.254",
        advice: "runner hosts are not EC2 instances: pass what the command reads there \
                 (region, instance id, credentials) as parameters or in the runner's environment",
    },
];

static HOST_REGEXES: LazyLock<Vec<Regex>> = LazyLock::new(|| {
    HOST_PATTERNS
        .iter()
        .map(|p| Regex::new(p.regex).expect("the host patterns are valid regular expressions"))
        .collect()
});

/// Everything [`HOST_PATTERNS`], the resources and the worker groups say about a definition.
pub(super) fn of_definition(definition: &PipelineDefinition) -> Vec<Finding> {
    let mut findings = Vec::new();
    for object in &definition.pipeline_objects {
        host_assumptions(object, &mut findings);
        resource(object, &mut findings);
    }
    worker_groups(definition, &mut findings);
    findings
}

fn host_assumptions(object: &PipelineObject, findings: &mut Vec<Finding>) {
    for field in COMMAND_FIELDS {
        for command in object.values(field).filter_map(|v| v.as_str()) {
            for (pattern, regex) in HOST_PATTERNS.iter().zip(HOST_REGEXES.iter()) {
                if regex.is_match(command) {
                    let finding = Finding::new(
                        &object.id,
                        pattern.code,
                        format!("{field} {}: {}", pattern.what, pattern.advice),
                    );
                    if !findings.contains(&finding) {
                        findings.push(finding);
                    }
                }
            }
        }
    }
    if object.string("scriptUri").is_some() {
        findings.push(Finding::new(
            &object.id,
            "SCRIPT_NOT_CHECKED",
            "scriptUri is fetched when the activity runs and was not checked: look it over for \
             the host assumptions docs/import.md lists"
                .into(),
        ));
    }
}

fn resource(object: &PipelineObject, findings: &mut Vec<Finding>) {
    let (kind, inert, guide): (&str, &[&str], &str) = match object.object_type() {
        Some("Ec2Resource") => (
            "an EC2 instance",
            Ec2Resource.inert_fields(),
            "docs/resources.md",
        ),
        Some("EmrCluster") => (
            "an EMR cluster (its EMR work runs on Spark)",
            EmrCluster.inert_fields(),
            "docs/emr.md",
        ),
        _ => return,
    };
    let mut unused: Vec<&str> = inert
        .iter()
        .copied()
        .filter(|field| object.values(field).next().is_some())
        .collect();
    unused.sort_unstable();
    let mut message = format!(
        "runs as a `sluice taskrunner` process on the server's host instead of {kind}; its \
         commands reach AWS with that host's credentials, not resourceRole"
    );
    if !unused.is_empty() {
        message.push_str(&format!("; {} have no effect", unused.join(", ")));
    }
    message.push_str(&format!(" ({guide})"));
    findings.push(Finding::new(&object.id, "RESOURCE_RUNS_LOCALLY", message));
    for action in object.values("bootstrapAction").filter_map(|v| v.as_str()) {
        let script = action.split(',').next().unwrap_or_default();
        if is_aws_bootstrap_action(script) {
            findings.push(Finding::new(
                &object.id,
                "AWS_BOOTSTRAP_ACTION",
                format!(
                    "bootstrapAction {script} configures EMR itself and is skipped (docs/emr.md)"
                ),
            ));
        }
    }
}

/// One finding per worker group, on the first object naming it: on AWS a Task Runner the user
/// ran polled it; on Sluice something must poll it too. The group the server's own runner
/// takes by default needs nothing.
fn worker_groups(definition: &PipelineDefinition, findings: &mut Vec<Finding>) {
    let mut seen: Vec<&str> = vec![LOCAL_WORKER_GROUP];
    for object in &definition.pipeline_objects {
        for group in object.values("workerGroup").filter_map(|v| v.as_str()) {
            if seen.contains(&group) {
                continue;
            }
            seen.push(group);
            findings.push(Finding::new(
                &object.id,
                "WORKER_GROUP",
                format!(
                    "tasks of worker group '{group}' wait for a runner polling it: start \
                     `sluice taskrunner --worker-group {group}` where its commands can run, or \
                     the server with `--local-worker-group {group}`"
                ),
            ));
        }
    }
}

/// States in which the source is not running the pipeline (or never did).
const IDLE_STATES: &[&str] = &["PENDING", "INACTIVE", "FINISHED"];

/// What the pipeline's state and activated definition at the source mean for the import.
pub(super) fn of_source(
    state: Option<&str>,
    latest: &PipelineDefinition,
    active: Option<&PipelineDefinition>,
) -> Vec<Finding> {
    let mut findings = Vec::new();
    if let Some(state) = state
        && !IDLE_STATES.contains(&state)
    {
        findings.push(Finding::new(
            PIPELINE_ID,
            "ACTIVE_AT_SOURCE",
            format!(
                "the pipeline is {state} at the source: deactivate it there before activating \
                 it on Sluice, or both will run it"
            ),
        ));
    }
    if let Some(active) = active {
        let differences = differences(active, latest);
        if !differences.is_empty() {
            findings.push(Finding::new(
                PIPELINE_ID,
                "ACTIVE_DEFINITION_DIFFERS",
                format!(
                    "the definition activated at the source differs from its latest in {}; the \
                     latest was imported, and is what activating the pipeline on Sluice runs",
                    differences.join(", ")
                ),
            ));
        }
    }
    findings
}

/// Where two definitions differ: the ids of objects added, removed or changed (fields compared
/// as sets of key and value, as their order has no meaning but for repeated keys), then
/// `parameters` and `values`.
pub(super) fn differences(a: &PipelineDefinition, b: &PipelineDefinition) -> Vec<String> {
    let normal = |o: &PipelineObject| {
        let mut fields = o.fields.clone();
        // Stable: the values of a repeated key keep their order.
        fields.sort_by(|x, y| x.key.cmp(&y.key));
        (o.name.clone(), fields)
    };
    let mut ids: Vec<&str> = a
        .pipeline_objects
        .iter()
        .chain(&b.pipeline_objects)
        .map(|o| o.id.as_str())
        .collect();
    ids.sort_unstable();
    ids.dedup();
    let mut out: Vec<String> = ids
        .into_iter()
        .filter(|id| {
            let find = |d: &PipelineDefinition| {
                d.pipeline_objects.iter().find(|o| o.id == *id).map(normal)
            };
            find(a) != find(b)
        })
        .map(|id| format!("object {id}"))
        .collect();
    let sorted_parameters = |d: &PipelineDefinition| {
        let mut p = d.parameter_objects.clone();
        p.sort_by(|x, y| x.id.cmp(&y.id));
        p
    };
    if sorted_parameters(a) != sorted_parameters(b) {
        out.push("parameters".into());
    }
    let sorted_values = |d: &PipelineDefinition| {
        let mut v = d.parameter_values.clone();
        v.sort_by(|x, y| x.id.cmp(&y.id));
        v
    };
    if sorted_values(a) != sorted_values(b) {
        out.push("values".into());
    }
    out
}

#[cfg(test)]
mod tests {
    use sluice_model::{Field, ParameterValue};

    use super::*;

    fn object(id: &str, fields: &[(&str, &str)]) -> PipelineObject {
        PipelineObject {
            id: id.into(),
            name: id.into(),
            fields: fields.iter().map(|(k, v)| Field::string(*k, *v)).collect(),
        }
    }

    fn codes_for(command: &str) -> Vec<&'static str> {
        let definition = PipelineDefinition {
            pipeline_objects: vec![object(
                "Act",
                &[("type", "ShellCommandActivity"), ("command", command)],
            )],
            ..PipelineDefinition::default()
        };
        of_definition(&definition)
            .into_iter()
            .map(|f| f.code)
            .collect()
    }

    #[test]
    fn host_patterns_match_command_words_not_lookalikes() {
        assert_eq!(
            codes_for("sudo yum install -y jq"),
            ["HOST_SUDO", "HOST_PACKAGE_INSTALL"]
        );
        assert_eq!(codes_for("cd /tmp && /usr/bin/sudo -n true"), ["HOST_SUDO"]);
        assert_eq!(codes_for("x=$(aws s3 ls s3://b/)"), ["HOST_AWS_CLI"]);
        assert_eq!(
            codes_for("apt-get update;echo ok"),
            ["HOST_PACKAGE_INSTALL"]
        );
        assert_eq!(
            codes_for("cp /home/ec2-user/run.sh ."),
            ["HOST_EC2_USER_HOME"]
        );
        assert_eq!(codes_for("hadoop  fs -ls /"), ["HOST_HADOOP_FS"]);
        assert_eq!(
            codes_for("curl -s http://169.254.169.254/latest/meta-data/"),
            ["HOST_INSTANCE_METADATA"]
        );
        // Words that only contain a pattern.
        assert!(codes_for("pseudocode; echo aws-logs s3://aws-bucket/sudo.txt").is_empty());
        assert!(codes_for("echo awsome sudoku yummy").is_empty());
    }

    #[test]
    fn a_finding_names_object_and_field_but_never_the_command() {
        let definition = PipelineDefinition {
            pipeline_objects: vec![object(
                "Load",
                &[
                    ("type", "ShellCommandActivity"),
                    ("command", "sudo psql -c 'secret-token-123'"),
                    ("scriptArgument", "sudo"),
                ],
            )],
            ..PipelineDefinition::default()
        };
        let findings = of_definition(&definition);
        assert_eq!(findings.len(), 2, "{findings:?}");
        assert!(findings[0].message.starts_with("command runs sudo: "));
        assert!(
            findings[1]
                .message
                .starts_with("scriptArgument runs sudo: ")
        );
        assert!(findings.iter().all(|f| f.id == "Load"));
        assert!(!format!("{findings:?}").contains("secret-token-123"));
    }

    #[test]
    fn resources_and_worker_groups_are_reported_once() {
        let definition = PipelineDefinition {
            pipeline_objects: vec![
                object(
                    "Box",
                    &[
                        ("type", "Ec2Resource"),
                        ("instanceType", "m5.large"),
                        ("imageId", "ami-1"),
                        ("terminateAfter", "1 hour"),
                    ],
                ),
                object(
                    "Cluster",
                    &[
                        ("type", "EmrCluster"),
                        ("releaseLabel", "emr-6.10.0"),
                        (
                            "bootstrapAction",
                            "s3://elasticmapreduce/bootstrap-actions/configure-hadoop,-m,x",
                        ),
                    ],
                ),
                object("A", &[("workerGroup", "etl")]),
                object("B", &[("workerGroup", "etl")]),
                object("C", &[("workerGroup", "local")]),
            ],
            ..PipelineDefinition::default()
        };
        let findings = of_definition(&definition);
        let summary: Vec<(&str, &str)> = findings.iter().map(|f| (f.id.as_str(), f.code)).collect();
        assert_eq!(
            summary,
            [
                ("Box", "RESOURCE_RUNS_LOCALLY"),
                ("Cluster", "RESOURCE_RUNS_LOCALLY"),
                ("Cluster", "AWS_BOOTSTRAP_ACTION"),
                ("A", "WORKER_GROUP"),
            ]
        );
        assert!(
            findings[0]
                .message
                .contains("imageId, instanceType have no effect"),
            "{}",
            findings[0].message
        );
        assert!(!findings[0].message.contains("terminateAfter"));
        assert!(findings[1].message.contains("releaseLabel"));
    }

    #[test]
    fn the_source_state_and_a_differing_active_definition_are_reported() {
        let latest = PipelineDefinition {
            pipeline_objects: vec![
                object("A", &[("type", "ShellCommandActivity"), ("command", "v2")]),
                object("B", &[("type", "Schedule"), ("period", "1 day")]),
            ],
            parameter_values: vec![ParameterValue {
                id: "myX".into(),
                string_value: "1".into(),
            }],
            ..PipelineDefinition::default()
        };
        let mut active = latest.clone();
        active.pipeline_objects[0] =
            object("A", &[("type", "ShellCommandActivity"), ("command", "v1")]);
        active.parameter_values.clear();
        // Field order alone is no difference.
        active.pipeline_objects[1].fields.reverse();
        assert_eq!(differences(&active, &latest), ["object A", "values"]);
        assert!(differences(&latest, &latest).is_empty());

        let findings = of_source(Some("SCHEDULED"), &latest, Some(&active));
        let codes: Vec<&str> = findings.iter().map(|f| f.code).collect();
        assert_eq!(codes, ["ACTIVE_AT_SOURCE", "ACTIVE_DEFINITION_DIFFERS"]);
        assert!(findings[1].message.contains("object A, values"));
        assert!(of_source(Some("PENDING"), &latest, Some(&latest)).is_empty());
        assert!(of_source(None, &latest, None).is_empty());
    }
}
