//! Checks of each object as written: identity, type, and every own field (name, form,
//! references, value).

use sluice_catalog::{RefTarget, ValueType};
use sluice_model::FieldValue;

use super::{SpecOf, Validator};
use crate::expressions::{check_syntax, contains_expression, is_user_name};
use crate::params::is_secret;
use crate::report::{Code, PIPELINE_ID};
use crate::resolve::{DEFAULT_ID, ResolvedObject};
use crate::suggest::{close_names, did_you_mean};

/// How the fields of a key are checked on the object that wrote them.
enum Acceptance {
    /// Checked against these specs (one per distinct rule set).
    Specs(Vec<SpecOf>),
    /// Accepted without a spec (user fields, types accepting anything, unknown types): only the
    /// form of references is checked.
    Free,
    /// Rejected (already reported).
    Rejected,
}

impl Validator<'_> {
    pub(super) fn check_identity(&mut self, i: usize) {
        let object = &self.def.pipeline_objects[i];
        let id = object.id.as_str();
        if id.is_empty() {
            self.out.error(
                PIPELINE_ID,
                Code::MissingId,
                format!("object {} (name '{}') has an empty id", i + 1, object.name),
            );
        }
        if object.name.is_empty() {
            self.out
                .error(id, Code::MissingName, "the object has an empty name");
        }
        if self.pipeline.position(id) == Some(i) {
            let count = self.id_counts.get(id).copied().unwrap_or(1);
            if count > 1 {
                self.out.error(
                    id,
                    Code::DuplicateId,
                    format!("id '{id}' is used by {count} objects; ids must be unique"),
                );
            }
        }
        if !id.is_empty() && !sluice_model::api::is_model_id(id) {
            // Reported under the pipeline: an id no other operation accepts cannot name the
            // object in DescribeObjects or SetStatus either.
            self.out.error(
                PIPELINE_ID,
                Code::InvalidFieldValue,
                format!(
                    "object {} (name '{}') has an id of {} characters{}: an id has 1 to {} \
                     characters, none of them control characters other than tab, newline and \
                     carriage return",
                    i + 1,
                    abbreviated(&object.name.replace(char::is_control, "")),
                    id.chars().count(),
                    if id.chars().all(sluice_model::api::xml_safe) {
                        ""
                    } else {
                        " with a control character"
                    },
                    sluice_model::api::MAX_ID_CHARS,
                ),
            );
        }
        if id.len() > self.limits.max_name_bytes {
            self.limit(id, self.name_too_long("the id", id.len()));
        }
        let fields = object.fields.len();
        if fields > self.limits.max_fields_per_object {
            self.limit(
                id,
                format!(
                    "the object has {fields} fields; AWS allows at most {} fields per object and \
                     would reject it",
                    self.limits.max_fields_per_object
                ),
            );
        }
        let bytes = id.len()
            + object.name.len()
            + object
                .fields
                .iter()
                .map(|f| {
                    f.key.len()
                        + match &f.value {
                            FieldValue::String(s) | FieldValue::Ref(s) => s.len(),
                        }
                })
                .sum::<usize>();
        if bytes > self.limits.max_object_bytes {
            self.limit(
                id,
                format!(
                    "the object is {bytes} bytes; AWS allows at most {} bytes per object (names \
                     included) and would reject it",
                    self.limits.max_object_bytes
                ),
            );
        }
    }

    pub(super) fn check_type(&mut self, i: usize) {
        let object = &self.pipeline.objects[i];
        let id = object.id.as_str();
        let own: Vec<&FieldValue> = object.own.values("type").collect();
        if own.len() > 1 {
            self.out.error(
                id,
                Code::RepeatedField,
                format!("'type' takes a single value but has {}", own.len()),
            );
        }
        if let Some(target) = own.iter().find_map(|v| v.as_ref_id()) {
            self.out.error(
                id,
                Code::InvalidFieldValue,
                format!("'type' must be a type name, not a reference to '{target}'"),
            );
        }
        let Some(type_name) = &object.type_name else {
            if !own.is_empty() {
                return;
            }
            if id != DEFAULT_ID && !self.parents_used.contains(id) {
                self.out.warning(
                    id,
                    Code::MissingType,
                    "the object has no 'type' and no object inherits from it, so it has no effect",
                );
            }
            return;
        };
        // An inherited type is reported where it is written.
        let owner = object.owner_of("type").unwrap_or(id);
        match self.catalog.get(type_name) {
            None => {
                let names = self.catalog.type_names();
                let close = close_names(type_name, names.iter().copied(), 3);
                self.out.error(
                    owner,
                    Code::UnknownType,
                    format!(
                        "'type' value '{type_name}' is not a known object type{}",
                        did_you_mean(&close)
                    ),
                );
            }
            Some(kind) => {
                if let Some(reason) = kind.deprecated() {
                    let text = if reason.contains(type_name.as_str()) {
                        reason.to_owned()
                    } else {
                        format!("{type_name} is deprecated: {reason}")
                    };
                    self.out.warning(owner, Code::DeprecatedType, text);
                }
            }
        }
    }

    pub(super) fn check_own_fields(&mut self, i: usize) {
        let object = &self.pipeline.objects[i];
        let mut keys: Vec<&str> = Vec::new();
        for field in &object.own.fields {
            if !keys.contains(&field.key.as_str()) {
                keys.push(&field.key);
            }
        }
        for key in keys {
            let values: Vec<&FieldValue> = object.own.values(key).collect();
            self.check_key(i, object, key, &values);
        }
    }

    fn check_key(&mut self, i: usize, object: &ResolvedObject, key: &str, values: &[&FieldValue]) {
        let id = object.id.as_str();
        if key.is_empty() {
            self.out
                .error(id, Code::UnknownField, "a field has an empty name");
            return;
        }
        let service_written = self.kinds[i].is_some_and(|k| {
            object.type_name.is_some()
                && k.field(key).is_none()
                && k.runtime_fields().contains(&key)
        });
        if key.starts_with('@') || service_written {
            self.out.error(
                id,
                Code::ReadOnlyField,
                format!(
                    "'{key}' is a runtime field set by the service; a definition cannot set it"
                ),
            );
            return;
        }
        if key == "type" {
            return;
        }
        if key.len() > self.limits.max_name_bytes {
            self.limit(
                id,
                self.name_too_long(&format!("field name '{}'", abbreviated(key)), key.len()),
            );
        }
        if key == "parent" {
            if values.len() > 1 {
                self.out.error(
                    id,
                    Code::RepeatedField,
                    format!("'parent' takes a single value but has {}", values.len()),
                );
            }
            for value in values {
                self.check_value_form(id, key, value, &[]);
            }
            return;
        }
        let acceptance = self.acceptance(i, object, key);
        let specs = match acceptance {
            Acceptance::Rejected => return,
            Acceptance::Free => Vec::new(),
            Acceptance::Specs(specs) => specs,
        };
        if values.len() > 1 && specs.iter().any(|s| !s.spec.repeatable) {
            self.out.error(
                id,
                Code::RepeatedField,
                format!("'{key}' takes a single value but has {}", values.len()),
            );
        }
        for value in values {
            self.check_value_form(id, key, value, &specs);
        }
    }

    fn acceptance(&mut self, i: usize, object: &ResolvedObject, key: &str) -> Acceptance {
        let id = object.id.as_str();
        let user = is_user_name(key.as_bytes());
        if let Some(type_name) = &object.type_name {
            let Some(kind) = self.kinds[i] else {
                return Acceptance::Free;
            };
            if let Some(spec) = kind.field(key) {
                return Acceptance::Specs(vec![SpecOf {
                    type_name: kind.type_name(),
                    spec,
                }]);
            }
            if user || kind.accepts_any_field() {
                return Acceptance::Free;
            }
            let names: Vec<&str> = kind.fields().iter().map(|s| s.name).collect();
            let close = close_names(key, names.iter().copied(), 3);
            self.out.error(
                id,
                Code::UnknownField,
                format!(
                    "'{key}' is not a field of {type_name}{}",
                    did_you_mean(&close)
                ),
            );
            return Acceptance::Rejected;
        }
        // Untyped: judged by what the inheriting objects make of it.
        let mut specs = self
            .inherited_specs
            .get(&(id, key))
            .cloned()
            .unwrap_or_default();
        if id == DEFAULT_ID
            && let Some(kind) = self.kinds[i]
            && let Some(spec) = kind.field(key)
            && !specs.iter().any(|s| super::same_rules(s.spec, spec))
        {
            specs.push(SpecOf {
                type_name: kind.type_name(),
                spec,
            });
        }
        if !specs.is_empty() {
            return Acceptance::Specs(specs);
        }
        if user {
            return Acceptance::Free;
        }
        let mut named: Vec<SpecOf> = Vec::new();
        for (kind, spec) in self.catalog.fields_named(key) {
            if !named.iter().any(|s| super::same_rules(s.spec, spec)) {
                named.push(SpecOf {
                    type_name: kind.type_name(),
                    spec,
                });
            }
        }
        if named.is_empty() {
            let mut names: Vec<&str> = Vec::new();
            for kind in self.catalog.kinds() {
                for spec in kind.fields() {
                    if !names.contains(&spec.name) {
                        names.push(spec.name);
                    }
                }
            }
            let close = close_names(key, names.iter().copied(), 3);
            self.out.error(
                id,
                Code::UnknownField,
                format!(
                    "'{key}' is not a field of any object type{}",
                    did_you_mean(&close)
                ),
            );
            return Acceptance::Rejected;
        }
        // Default is where real definitions keep pipeline-wide settings (`role`,
        // `resourceRole`, `pipelineLogUri`) whether or not this pipeline has a type that uses
        // them; AWS accepts them silently, so only explicit templates get the warning.
        if id != DEFAULT_ID {
            self.out.warning(
                id,
                Code::IgnoredField,
                format!(
                    "'{key}' is not accepted by any object that inherits it, so it has no effect"
                ),
            );
        }
        // Still check the value when every type agrees on what it must be.
        if named.len() == 1 {
            Acceptance::Specs(named)
        } else {
            Acceptance::Free
        }
    }

    /// Checks one value: string versus reference, reference targets, and the value itself.
    /// `specs` empty means no spec (user fields and the like; `parent` is treated as a
    /// reference to anything).
    fn check_value_form(&mut self, id: &str, key: &str, value: &FieldValue, specs: &[SpecOf]) {
        let wants_ref = key == "parent"
            || specs
                .iter()
                .any(|s| matches!(s.spec.value_type, ValueType::Reference(_)));
        let wants_string = key != "parent"
            && specs
                .iter()
                .any(|s| !matches!(s.spec.value_type, ValueType::Reference(_)));
        match value {
            FieldValue::String(text) => {
                if text.len() > self.limits.max_value_bytes {
                    self.limit(
                        id,
                        format!(
                            "'{key}' value is {} bytes; AWS allows at most {} bytes per field \
                             value and would reject it",
                            text.len(),
                            self.limits.max_value_bytes
                        ),
                    );
                }
                if wants_ref && !wants_string {
                    let hint = if !is_secret(key) && self.pipeline.get(text).is_some() {
                        format!(" (write {{\"ref\": \"{text}\"}})")
                    } else {
                        String::new()
                    };
                    self.out.error(
                        id,
                        Code::InvalidReference,
                        format!("'{key}' must be a reference to an object, not a string{hint}"),
                    );
                    return;
                }
                if text.is_empty() {
                    self.out.error(
                        id,
                        Code::InvalidFieldValue,
                        format!("'{key}' value must not be empty"),
                    );
                    return;
                }
                if contains_expression(text) {
                    if let Err(why) = check_syntax(text) {
                        let detail = if is_secret(key) {
                            " (details hidden: the field is secret)".to_owned()
                        } else {
                            format!(": {why}")
                        };
                        self.out.error(
                            id,
                            Code::InvalidExpression,
                            format!("'{key}' value has an invalid expression{detail}"),
                        );
                    }
                    return;
                }
                for spec in specs {
                    self.check_scalar(id, key, text, spec);
                }
            }
            FieldValue::Ref(target) => {
                if target.is_empty() {
                    self.out.error(
                        id,
                        Code::InvalidReference,
                        format!("'{key}' has an empty reference"),
                    );
                    return;
                }
                if target.len() > self.limits.max_name_bytes {
                    self.limit(
                        id,
                        self.name_too_long(&format!("the reference in '{key}'"), target.len()),
                    );
                }
                if wants_string && !wants_ref {
                    self.out.error(
                        id,
                        Code::InvalidReference,
                        format!("'{key}' must be a string value, not a reference to '{target}'"),
                    );
                    return;
                }
                let Some(found) = self.pipeline.get(target) else {
                    let ids = self.pipeline.objects.iter().map(|o| o.id.as_str());
                    let close = close_names(target, ids, 3);
                    self.out.error(
                        id,
                        Code::InvalidReference,
                        format!(
                            "'{key}' refers to '{target}', which does not exist{}",
                            did_you_mean(&close)
                        ),
                    );
                    return;
                };
                for spec in specs {
                    if let ValueType::Reference(targets) = spec.spec.value_type {
                        self.check_target(id, key, found, spec.type_name, targets);
                    }
                }
            }
        }
    }

    fn check_target(
        &mut self,
        id: &str,
        key: &str,
        target: &ResolvedObject,
        referrer_type: &str,
        allowed: &[RefTarget],
    ) {
        if allowed.contains(&RefTarget::Any) {
            return;
        }
        let expected = describe_targets(allowed);
        let Some(type_name) = &target.type_name else {
            self.out.error(
                id,
                Code::InvalidReference,
                format!(
                    "'{key}' refers to '{}', which has no type, but {referrer_type} expects \
                     {expected} there",
                    target.id
                ),
            );
            return;
        };
        let Some(kind) = self.catalog.get(type_name) else {
            return;
        };
        let ok = allowed.iter().any(|t| match t {
            RefTarget::Any => true,
            RefTarget::Type(name) => *name == kind.type_name(),
            RefTarget::Category(category) => *category == kind.category(),
        });
        if !ok {
            self.out.error(
                id,
                Code::InvalidReference,
                format!(
                    "'{key}' refers to '{}' ({type_name}), but {referrer_type} expects {expected} \
                     there",
                    target.id
                ),
            );
        }
    }
}

/// `Ec2Resource or EmrCluster`, `any DataNode`.
fn describe_targets(targets: &[RefTarget]) -> String {
    let names: Vec<String> = targets
        .iter()
        .map(|t| match t {
            RefTarget::Any => "any object".to_owned(),
            RefTarget::Type(name) => (*name).to_owned(),
            RefTarget::Category(category) => format!("any {}", category.name()),
        })
        .collect();
    match names.as_slice() {
        [] => "nothing".to_owned(),
        [one] => one.clone(),
        [init @ .., last] => format!("{} or {last}", init.join(", ")),
    }
}

/// A long name cut for messages.
fn abbreviated(name: &str) -> String {
    match name.char_indices().nth(40) {
        Some((cut, _)) => format!("{}…", &name[..cut]),
        None => name.to_owned(),
    }
}
