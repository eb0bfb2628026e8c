//! What PutPipelineDefinition may change once a pipeline has been activated (Developer Guide
//! "Editing Your Pipeline"): existing objects may get new or changed string fields and new
//! objects may be added, but an edit must not
//! * remove an object,
//! * change the `period` of an existing schedule,
//! * add, remove or change a reference field of an existing object,
//! * reference an existing object from the `output` of a new object,
//! * change the start of an existing schedule (`startDateTime`, `startAt`); activation's
//!   `startTimestamp` is the way to move a running pipeline.
//!
//! Each violation is a validation error `INVALID_EDIT: …` on the object concerned, so the
//! definition is stored as errored like any other, and activation refuses it until corrected.
//! Comparisons are on the objects as written (own fields), since that is what an edit changes.

use std::collections::HashMap;

use sluice_model::{FieldValue, PipelineDefinition, PipelineObject};

/// The code of edit-restriction messages.
pub(crate) const INVALID_EDIT: &str = "INVALID_EDIT";

/// Violations of the edit rules by `new` against the active definition, as `(object id,
/// message)`.
pub(crate) fn restricted_edits(
    active: &PipelineDefinition,
    new: &PipelineDefinition,
) -> Vec<(String, String)> {
    let old: HashMap<&str, &PipelineObject> = active
        .pipeline_objects
        .iter()
        .map(|o| (o.id.as_str(), o))
        .collect();
    let new_ids: HashMap<&str, &PipelineObject> = new
        .pipeline_objects
        .iter()
        .map(|o| (o.id.as_str(), o))
        .collect();
    let mut out = Vec::new();
    let mut problem = |id: &str, text: String| {
        out.push((id.to_owned(), format!("{INVALID_EDIT}: {text}")));
    };
    for object in &active.pipeline_objects {
        if !new_ids.contains_key(object.id.as_str()) {
            problem(
                sluice_definition::PIPELINE_ID,
                format!(
                    "object '{}' cannot be removed from a pipeline that has been activated",
                    object.id
                ),
            );
        }
    }
    for object in &new.pipeline_objects {
        match old.get(object.id.as_str()) {
            Some(before) => {
                if references(before) != references(object) {
                    problem(
                        &object.id,
                        "reference fields of an object cannot be added, removed or changed \
                         after activation"
                            .into(),
                    );
                }
                if is_schedule(before) {
                    for key in ["period", "startDateTime", "startAt"] {
                        if strings(before, key) != strings(object, key) {
                            let what = if key == "period" {
                                "the period of a schedule cannot be changed after activation"
                                    .to_owned()
                            } else {
                                format!(
                                    "'{key}' of a schedule cannot be changed after activation; \
                                     activate with a startTimestamp instead"
                                )
                            };
                            problem(&object.id, what);
                        }
                    }
                }
            }
            None => {
                for target in object.values("output").filter_map(FieldValue::as_ref_id) {
                    if old.contains_key(target) {
                        problem(
                            &object.id,
                            format!(
                                "a new object cannot name the existing object '{target}' as \
                                 its output"
                            ),
                        );
                    }
                }
            }
        }
    }
    out
}

fn is_schedule(object: &PipelineObject) -> bool {
    object
        .object_type()
        .is_some_and(|t| t.eq_ignore_ascii_case("Schedule"))
}

/// The reference fields, in order (a changed order of repeated references is a change too).
fn references(object: &PipelineObject) -> Vec<(&str, &str)> {
    object
        .fields
        .iter()
        .filter_map(|f| f.value.as_ref_id().map(|r| (f.key.as_str(), r)))
        .collect()
}

fn strings<'a>(object: &'a PipelineObject, key: &str) -> Vec<&'a str> {
    object.values(key).filter_map(FieldValue::as_str).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use sluice_model::Field;

    fn object(id: &str, fields: Vec<Field>) -> PipelineObject {
        PipelineObject {
            id: id.into(),
            name: id.into(),
            fields,
        }
    }

    fn definition(objects: Vec<PipelineObject>) -> PipelineDefinition {
        PipelineDefinition {
            pipeline_objects: objects,
            ..PipelineDefinition::default()
        }
    }

    fn base() -> Vec<PipelineObject> {
        vec![
            object(
                "Sched",
                vec![
                    Field::string("type", "Schedule"),
                    Field::string("period", "1 day"),
                    Field::string("startDateTime", "2026-01-01T00:00:00"),
                ],
            ),
            object(
                "Run",
                vec![
                    Field::string("type", "ShellCommandActivity"),
                    Field::string("command", "true"),
                    Field::reference("schedule", "Sched"),
                ],
            ),
        ]
    }

    #[test]
    fn string_changes_and_new_objects_are_allowed() {
        let mut new = base();
        new[1].fields[1] = Field::string("command", "echo changed");
        new.push(object(
            "Other",
            vec![
                Field::string("type", "ShellCommandActivity"),
                Field::reference("schedule", "Sched"),
            ],
        ));
        assert!(restricted_edits(&definition(base()), &definition(new)).is_empty());
    }

    #[test]
    fn each_restriction_is_reported() {
        let mut new = base();
        new[0].fields[1] = Field::string("period", "2 days");
        new[0].fields[2] = Field::string("startDateTime", "2026-02-01T00:00:00");
        new[1].fields.push(Field::reference("dependsOn", "Sched"));
        new.push(object("Out", vec![Field::reference("output", "Run")]));
        let mut old = base();
        old.push(object("Gone", vec![]));
        let problems = restricted_edits(&definition(old), &definition(new));
        let ids: Vec<&str> = problems.iter().map(|(id, _)| id.as_str()).collect();
        assert_eq!(
            ids,
            ["PipelineDefinition", "Sched", "Sched", "Run", "Out"],
            "{problems:?}"
        );
        assert!(
            problems
                .iter()
                .all(|(_, m)| m.starts_with("INVALID_EDIT: "))
        );
    }
}
