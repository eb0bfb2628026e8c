//! The service model's constraints on request members: lengths, list sizes, the character
//! pattern and required non-empty lists. A violation is an `InvalidRequestException` worded
//! as AWS words its validation errors ("1 validation error detected: Value at 'name' failed to
//! satisfy constraint: …"), without echoing the value (it may be large or secret).
//!
//! Deliberate exceptions:
//! * The contents of a pipeline definition (objects, fields, parameters) are not checked here:
//!   their sizes are service limits that [`sluice_definition::Limits`] governs (warnings unless
//!   strict), like everything else about a definition.
//! * `errorStackTrace` (SetTaskStatus) is not length-checked: the model gives it the generic
//!   1024-character `string`, but task runners send whole stack traces and losing a result over
//!   its diagnostics would be worse.

use sluice_model::Field;
use sluice_model::api::{MAX_ID_CHARS, xml_safe};
use sluice_model::ops::{
    ActivatePipelineInput, AddTagsInput, CreatePipelineInput, DeactivatePipelineInput,
    DeletePipelineInput, DescribeObjectsInput, DescribePipelinesInput, EvaluateExpressionInput,
    GetPipelineDefinitionInput, ListPipelinesInput, PollForTaskInput, PutPipelineDefinitionInput,
    QueryObjectsInput, RemoveTagsInput, ReportTaskProgressInput, ReportTaskRunnerHeartbeatInput,
    SetStatusInput, SetTaskStatusInput, Tag,
};

use sluice_runtime::{ApiError, ApiResult, MAX_TAGS};

/// Most ids DescribePipelines takes at once.
pub(crate) const MAX_DESCRIBE_PIPELINES_IDS: usize = 25;
/// Most ids DescribeObjects takes at once: the model documents 25, but `aws datapipeline
/// list-runs` sends 100 per call.
pub(crate) const MAX_DESCRIBE_OBJECTS_IDS: usize = 100;
/// Most selectors per QueryObjects query.
pub(crate) const MAX_SELECTORS: usize = 10;

const ID: (usize, usize) = (1, MAX_ID_CHARS);
const STRING: (usize, usize) = (0, 1024);
const TASK_ID: (usize, usize) = (1, 2048);
const FIELD_NAME: (usize, usize) = (1, 256);
const FIELD_VALUE: (usize, usize) = (0, 10240);
const LONG_STRING: (usize, usize) = (0, 20_971_520);
const TAG_KEY: (usize, usize) = (1, 128);
const TAG_VALUE: (usize, usize) = (0, 256);

/// Checks a request against the model's constraints.
pub(crate) trait Validate {
    fn check(&self, c: &mut Checker);

    fn validate(&self) -> ApiResult<()> {
        let mut checker = Checker::default();
        self.check(&mut checker);
        checker.finish()
    }
}

/// Collects constraint violations.
#[derive(Default)]
pub(crate) struct Checker {
    problems: Vec<String>,
}

impl Checker {
    fn fail(&mut self, member: &str, constraint: impl std::fmt::Display) {
        self.problems.push(format!(
            "Value at '{member}' failed to satisfy constraint: {constraint}"
        ));
    }

    /// Length bounds (in characters) and the model's XML-safe character pattern.
    fn text(&mut self, member: &str, value: &str, (min, max): (usize, usize), pattern: bool) {
        let len = value.chars().count();
        if len < min {
            self.fail(
                member,
                format!("Member must have length greater than or equal to {min}"),
            );
        } else if len > max {
            self.fail(
                member,
                format!("Member must have length less than or equal to {max}"),
            );
        }
        if pattern && !value.chars().all(xml_safe) {
            self.fail(
                member,
                "Member must satisfy regular expression pattern: \
                 [\\u0020-\\uD7FF\\uE000-\\uFFFD\\uD800\\uDC00-\\uDBFF\\uDFFF\\r\\n\\t]*",
            );
        }
    }

    fn opt_text(&mut self, member: &str, value: Option<&str>, bounds: (usize, usize)) {
        if let Some(value) = value {
            self.text(member, value, bounds, true);
        }
    }

    fn list_len(&mut self, member: &str, len: usize, min: usize, max: usize) {
        if len < min {
            self.fail(
                member,
                format!("Member must have length greater than or equal to {min}"),
            );
        } else if len > max {
            self.fail(
                member,
                format!("Member must have length less than or equal to {max}"),
            );
        }
    }

    fn ids(&mut self, member: &str, ids: &[String], max: usize) {
        self.list_len(member, ids.len(), 1, max);
        for (i, id) in ids.iter().enumerate() {
            self.text(&format!("{member}.{}", i + 1), id, ID, true);
        }
    }

    fn tags(&mut self, member: &str, tags: &[Tag]) {
        self.list_len(member, tags.len(), 0, MAX_TAGS);
        for (i, tag) in tags.iter().enumerate() {
            self.text(&format!("{member}.{}.key", i + 1), &tag.key, TAG_KEY, false);
            self.text(
                &format!("{member}.{}.value", i + 1),
                &tag.value,
                TAG_VALUE,
                false,
            );
        }
    }

    fn fields(&mut self, member: &str, fields: &[Field]) {
        for (i, field) in fields.iter().enumerate() {
            let at = format!("{member}.{}", i + 1);
            self.text(&format!("{at}.key"), &field.key, FIELD_NAME, true);
            match &field.value {
                sluice_model::FieldValue::String(s) => {
                    self.text(&format!("{at}.stringValue"), s, FIELD_VALUE, true)
                }
                sluice_model::FieldValue::Ref(r) => {
                    self.text(&format!("{at}.refValue"), r, FIELD_NAME, true)
                }
            }
        }
    }

    fn finish(self) -> ApiResult<()> {
        match self.problems.len() {
            0 => Ok(()),
            1 => Err(ApiError::invalid(format!(
                "1 validation error detected: {}",
                self.problems[0]
            ))),
            n => Err(ApiError::invalid(format!(
                "{n} validation errors detected: {}",
                self.problems.join("; ")
            ))),
        }
    }
}

/// The model's pattern: any character but the C0 controls other than tab, CR and LF, and the
/// non-characters U+FFFE and U+FFFF (a Rust `char` is never a lone surrogate).
impl Validate for CreatePipelineInput {
    fn check(&self, c: &mut Checker) {
        c.text("name", &self.name, ID, true);
        c.text("uniqueId", &self.unique_id, ID, true);
        c.opt_text("description", self.description.as_deref(), STRING);
        if let Some(tags) = &self.tags {
            c.tags("tags", tags);
        }
    }
}

impl Validate for DeletePipelineInput {
    fn check(&self, c: &mut Checker) {
        c.text("pipelineId", &self.pipeline_id, ID, true);
    }
}

impl Validate for DescribePipelinesInput {
    fn check(&self, c: &mut Checker) {
        c.ids(
            "pipelineIds",
            &self.pipeline_ids,
            MAX_DESCRIBE_PIPELINES_IDS,
        );
    }
}

impl Validate for ListPipelinesInput {
    fn check(&self, c: &mut Checker) {
        c.opt_text("marker", self.marker.as_deref(), STRING);
    }
}

impl Validate for AddTagsInput {
    fn check(&self, c: &mut Checker) {
        c.text("pipelineId", &self.pipeline_id, ID, true);
        c.tags("tags", &self.tags);
    }
}

impl Validate for RemoveTagsInput {
    fn check(&self, c: &mut Checker) {
        c.text("pipelineId", &self.pipeline_id, ID, true);
        for (i, key) in self.tag_keys.iter().enumerate() {
            c.text(&format!("tagKeys.{}", i + 1), key, STRING, true);
        }
    }
}

impl Validate for PutPipelineDefinitionInput {
    fn check(&self, c: &mut Checker) {
        c.text("pipelineId", &self.pipeline_id, ID, true);
    }
}

impl Validate for GetPipelineDefinitionInput {
    fn check(&self, c: &mut Checker) {
        c.text("pipelineId", &self.pipeline_id, ID, true);
        c.opt_text("version", self.version.as_deref(), STRING);
    }
}

impl Validate for ActivatePipelineInput {
    fn check(&self, c: &mut Checker) {
        c.text("pipelineId", &self.pipeline_id, ID, true);
    }
}

impl Validate for DeactivatePipelineInput {
    fn check(&self, c: &mut Checker) {
        c.text("pipelineId", &self.pipeline_id, ID, true);
    }
}

impl Validate for DescribeObjectsInput {
    fn check(&self, c: &mut Checker) {
        c.text("pipelineId", &self.pipeline_id, ID, true);
        c.ids("objectIds", &self.object_ids, MAX_DESCRIBE_OBJECTS_IDS);
        c.opt_text("marker", self.marker.as_deref(), STRING);
    }
}

impl Validate for QueryObjectsInput {
    fn check(&self, c: &mut Checker) {
        c.text("pipelineId", &self.pipeline_id, ID, true);
        c.text("sphere", &self.sphere, STRING, true);
        c.opt_text("marker", self.marker.as_deref(), STRING);
        let selectors = self
            .query
            .as_ref()
            .and_then(|q| q.selectors.as_deref())
            .unwrap_or_default();
        c.list_len("query.selectors", selectors.len(), 0, MAX_SELECTORS);
        for (i, selector) in selectors.iter().enumerate() {
            let at = format!("query.selectors.{}", i + 1);
            c.opt_text(
                &format!("{at}.fieldName"),
                selector.field_name.as_deref(),
                STRING,
            );
            let values = selector
                .operator
                .as_ref()
                .and_then(|o| o.values.as_deref())
                .unwrap_or_default();
            for (j, value) in values.iter().enumerate() {
                c.text(
                    &format!("{at}.operator.values.{}", j + 1),
                    value,
                    STRING,
                    true,
                );
            }
        }
    }
}

impl Validate for SetStatusInput {
    fn check(&self, c: &mut Checker) {
        c.text("pipelineId", &self.pipeline_id, ID, true);
        c.ids("objectIds", &self.object_ids, usize::MAX);
        c.text("status", &self.status, STRING, true);
    }
}

impl Validate for EvaluateExpressionInput {
    fn check(&self, c: &mut Checker) {
        c.text("pipelineId", &self.pipeline_id, ID, true);
        c.text("objectId", &self.object_id, ID, true);
        c.text("expression", &self.expression, LONG_STRING, true);
    }
}

impl Validate for PollForTaskInput {
    fn check(&self, c: &mut Checker) {
        c.text("workerGroup", &self.worker_group, STRING, true);
        c.opt_text("hostname", self.hostname.as_deref(), ID);
    }
}

impl Validate for ReportTaskProgressInput {
    fn check(&self, c: &mut Checker) {
        c.text("taskId", &self.task_id, TASK_ID, true);
        if let Some(fields) = &self.fields {
            c.fields("fields", fields);
        }
    }
}

impl Validate for ReportTaskRunnerHeartbeatInput {
    fn check(&self, c: &mut Checker) {
        c.text("taskrunnerId", &self.taskrunner_id, ID, true);
        c.opt_text("workerGroup", self.worker_group.as_deref(), STRING);
        c.opt_text("hostname", self.hostname.as_deref(), ID);
    }
}

impl Validate for SetTaskStatusInput {
    fn check(&self, c: &mut Checker) {
        c.text("taskId", &self.task_id, TASK_ID, true);
        c.opt_text("errorId", self.error_id.as_deref(), STRING);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn violations_are_reported_per_member() {
        let ok = CreatePipelineInput {
            name: "a".into(),
            unique_id: "t".into(),
            description: None,
            tags: None,
        };
        assert!(ok.validate().is_ok());
        let bad = CreatePipelineInput {
            name: String::new(),
            unique_id: "x".repeat(1025),
            description: Some("bell\u{7}".into()),
            tags: Some(vec![
                Tag {
                    key: "k".into(),
                    value: "v".into()
                };
                11
            ]),
        };
        let message = bad.validate().unwrap_err().message();
        assert!(
            message.starts_with("4 validation errors detected"),
            "{message}"
        );
        assert!(message.contains("'name'"), "{message}");
        assert!(message.contains("'uniqueId'"), "{message}");
        assert!(message.contains("'description'"), "{message}");
        assert!(message.contains("'tags'"), "{message}");
    }

    #[test]
    fn the_pattern_allows_text_but_not_controls() {
        assert!("tab\there, émoji 🎉, 中文".chars().all(xml_safe));
        assert!(!xml_safe('\u{0}'));
        assert!(!xml_safe('\u{FFFE}'));
    }
}
