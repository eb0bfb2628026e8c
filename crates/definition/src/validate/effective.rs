//! Checks of each typed object's effective fields: requirements, fields that have no effect in
//! combination, and parameters named in expressions.
//!
//! `schedule` is never judged by the catalog's `required` flag: whether it is needed depends on
//! the pipeline (not in ondemand pipelines), so [`Validator::check_effective`] decides it.

use sluice_model::FieldValue;

use super::{Validator, quoted_list};
use crate::expressions::user_names;
use crate::report::Code;

impl Validator<'_> {
    pub(super) fn check_effective(&mut self, i: usize) {
        let (Some(kind), object) = (self.kinds[i], &self.pipeline.objects[i]) else {
            return;
        };
        let Some(type_name) = object.type_name.as_deref() else {
            return;
        };
        let id = object.id.as_str();

        for spec in kind.fields() {
            if spec.required && spec.name != "schedule" && !object.has(spec.name) {
                self.out.error(
                    id,
                    Code::MissingRequiredField,
                    format!("'{}' is required for {type_name}", spec.name),
                );
            }
        }
        for group in kind.one_of() {
            let present: Vec<&str> = group
                .fields
                .iter()
                .copied()
                .filter(|f| object.has(f))
                .collect();
            if present.is_empty() {
                self.out.error(
                    id,
                    Code::MissingRequiredField,
                    format!(
                        "one of {} is required for {type_name}",
                        quoted_list(group.fields)
                    ),
                );
            } else if group.exclusive && present.len() > 1 {
                self.out.error(
                    id,
                    Code::ConflictingFields,
                    format!(
                        "only one of {} may be set on {type_name}, but {} are set",
                        quoted_list(group.fields),
                        quoted_list(&present)
                    ),
                );
            }
        }
        for group in kind.conflicts() {
            let present: Vec<&str> = group.iter().copied().filter(|f| object.has(f)).collect();
            if present.len() > 1 {
                self.out.error(
                    id,
                    Code::ConflictingFields,
                    format!(
                        "only one of {} may be set on {type_name}, but {} are set",
                        quoted_list(group),
                        quoted_list(&present)
                    ),
                );
            }
        }
        for (field, reason) in kind.deprecated_fields() {
            let Some(owner) = object.owner_of(field) else {
                continue;
            };
            // The on-demand Schedule variant uses `startAt` without the deprecated value.
            let ondemand_start = *field == "startAt"
                && object
                    .string("startAt")
                    .is_some_and(|v| v.eq_ignore_ascii_case("ONDEMAND_ACTIVATION_TIME"));
            if !ondemand_start {
                self.out.warning(
                    owner,
                    Code::DeprecatedField,
                    format!("'{field}' is deprecated on {type_name}: {reason}"),
                );
            }
        }
        if kind.category().is_scheduled()
            && kind.field("schedule").is_some()
            && !self.ondemand
            && !object.has("schedule")
        {
            self.out.error(
                id,
                Code::MissingRequiredField,
                format!(
                    "'schedule' is required for {type_name} (set it on the object or on Default) \
                     unless the pipeline is ondemand"
                ),
            );
        }

        if object.own.values("workerGroup").next().is_some()
            && object.has("runsOn")
            && kind.field("runsOn").is_some()
        {
            self.out.warning(
                id,
                Code::IgnoredField,
                "'workerGroup' is ignored when 'runsOn' is set",
            );
        }
        if self.ondemand
            && let Some(owner) = object.owner_of("lateAfterTimeout")
        {
            self.out.warning(
                owner,
                Code::IgnoredField,
                "'lateAfterTimeout' is ignored in ondemand pipelines",
            );
        }
        if !self.ondemand && object.has("onLateAction") && !object.has("lateAfterTimeout") {
            self.out.warning(
                id,
                Code::IgnoredField,
                "'onLateAction' has no effect without 'lateAfterTimeout'",
            );
        }

        for (field, owner) in object.entries() {
            let FieldValue::String(text) = &field.value else {
                continue;
            };
            for name in user_names(text) {
                if !self.pipeline.parameters.is_known(&name) && !object.has(&name) {
                    self.out.error(
                        owner,
                        Code::UndefinedParameter,
                        format!(
                            "'{}' uses '{name}', which is not a declared parameter, has no \
                             parameter value and is not a field of the object",
                            field.key
                        ),
                    );
                }
            }
        }
    }
}
