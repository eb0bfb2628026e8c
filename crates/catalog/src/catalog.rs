//! Lookup of object types by name; [`Catalog::builtin`] serves [`types::ALL`], the one place
//! where built-in types are registered.
//!
//! To add a type: write `types/<snake_name>.rs` with a unit struct implementing
//! [`ObjectKind`], declare the module in `types/mod.rs`, add one line to
//! [`types::ALL`], and add its line to `tests/reference_types.txt`. The `catalog` tests check
//! names are unique and match the AWS reference (see `types/mod.rs` for the details).

use crate::spec::{FieldSpec, ObjectKind};
use crate::types;

/// A lookup table of object types by AWS `type` name.
#[derive(Clone)]
pub struct Catalog {
    kinds: Vec<&'static dyn ObjectKind>,
}

impl Catalog {
    /// Every built-in type.
    pub fn builtin() -> Self {
        Catalog {
            kinds: types::ALL.to_vec(),
        }
    }

    /// A catalog of exactly `kinds` (for tests and embedders).
    pub fn from_kinds(kinds: Vec<&'static dyn ObjectKind>) -> Self {
        Catalog { kinds }
    }

    /// Looks up a type by its exact AWS name (type names are case-sensitive).
    pub fn get(&self, type_name: &str) -> Option<&'static dyn ObjectKind> {
        self.kinds
            .iter()
            .copied()
            .find(|k| k.type_name() == type_name)
    }

    /// Every registered type, in registration order.
    pub fn kinds(&self) -> impl Iterator<Item = &'static dyn ObjectKind> + '_ {
        self.kinds.iter().copied()
    }

    /// Every registered type name, in registration order.
    pub fn type_names(&self) -> Vec<&'static str> {
        self.kinds.iter().map(|k| k.type_name()).collect()
    }

    /// Every type that accepts a field called `name`, with that type's spec for it. This is the
    /// union used to check fields on objects that
    /// [`accepts_any_field`](ObjectKind::accepts_any_field) (`Default`): a field is known when
    /// the iterator is non-empty. Specs can differ between types (`runsOn` of an EmrActivity
    /// only targets EmrCluster), so the inheriting object's own spec decides the value check.
    pub fn fields_named<'a>(
        &'a self,
        name: &'a str,
    ) -> impl Iterator<Item = (&'static dyn ObjectKind, &'static FieldSpec)> + 'a {
        self.kinds
            .iter()
            .copied()
            .filter_map(move |k| k.field(name).map(|f| (k, f)))
    }
}

impl Default for Catalog {
    fn default() -> Self {
        Catalog::builtin()
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use super::*;
    use crate::spec::{Category, ManagedBy, RefTarget, ValueType};

    #[test]
    fn looks_up_types_and_fields_by_exact_name() {
        let catalog = Catalog::builtin();
        let shell = catalog.get("ShellCommandActivity").expect("registered");
        assert_eq!(shell.category(), Category::Activity);
        let command = shell.field("command").expect("command");
        assert_eq!(command.value_type, ValueType::String);
        assert!(
            !command.required,
            "command is one of a required group, not required alone"
        );
        assert!(
            shell
                .field("scriptArgument")
                .expect("scriptArgument")
                .repeatable
        );
        // Common fields come with the family.
        assert!(shell.field("maximumRetries").is_some());
        assert!(shell.field("input").is_some());
        // Type and field names are case-sensitive.
        assert!(catalog.get("shellcommandactivity").is_none());
        assert!(shell.field("Command").is_none());
        assert!(shell.field("@status").is_none());
    }

    #[test]
    fn field_names_are_unique_within_each_type() {
        for kind in Catalog::builtin().kinds() {
            let mut seen = HashSet::new();
            for field in kind.fields() {
                assert!(
                    seen.insert(field.name),
                    "{}.{}",
                    kind.type_name(),
                    field.name
                );
            }
        }
    }

    #[test]
    fn family_sets_are_applied() {
        let catalog = Catalog::builtin();
        let s3 = catalog.get("S3DataNode").unwrap();
        assert!(s3.field("input").is_none(), "data nodes have no input");
        assert!(s3.field("runsOn").is_some_and(|f| !f.required));
        let exists = catalog.get("Exists").unwrap();
        assert!(exists.field("schedule").is_none() && exists.field("runsOn").is_none());
        assert!(exists.field("preconditionTimeout").is_some());
        let ec2 = catalog.get("Ec2Resource").unwrap();
        assert!(
            ec2.field("workerGroup").is_none(),
            "not allowed on resources"
        );
        assert!(
            ec2.field("role").unwrap().required,
            "own spec overrides the common one"
        );
        assert!(
            ec2.field("terminateAfter")
                .is_some_and(|f| f.value_type == ValueType::Period)
        );
        let alarm = catalog.get("SnsAlarm").unwrap();
        assert!(alarm.field("parent").is_some() && alarm.field("schedule").is_none());
    }

    #[test]
    fn references_carry_their_targets() {
        let catalog = Catalog::builtin();
        let target = |t: &str, f: &str| match catalog.get(t).unwrap().field(f).unwrap().value_type {
            ValueType::Reference(targets) => targets,
            other => panic!("{t}.{f} is {other:?}"),
        };
        assert_eq!(
            target("CopyActivity", "schedule"),
            [RefTarget::Type("Schedule")]
        );
        assert_eq!(
            target("CopyActivity", "runsOn"),
            [
                RefTarget::Type("Ec2Resource"),
                RefTarget::Type("EmrCluster")
            ]
        );
        assert_eq!(
            target("HiveActivity", "runsOn"),
            [RefTarget::Type("EmrCluster")]
        );
        assert_eq!(
            target("SqlDataNode", "database"),
            [RefTarget::Category(Category::Database)]
        );
        assert_eq!(
            target("RedshiftDataNode", "database"),
            [RefTarget::Type("RedshiftDatabase")]
        );
        assert_eq!(
            target("S3DataNode", "onFail"),
            [RefTarget::Category(Category::Action)]
        );
        assert_eq!(target("Property", "parent"), [RefTarget::Any]);
    }

    #[test]
    fn secrets_and_enumerations() {
        let catalog = Catalog::builtin();
        let redshift = catalog.get("RedshiftDatabase").unwrap();
        assert!(redshift.field("*password").unwrap().is_secret());
        assert!(redshift.field("password").is_none());
        match catalog
            .get("RedshiftCopyActivity")
            .unwrap()
            .field("insertMode")
            .unwrap()
            .value_type
        {
            ValueType::Enumeration(values) => assert!(values.contains(&"OVERWRITE_EXISTING")),
            other => panic!("insertMode is {other:?}"),
        }
        match catalog
            .get("Schedule")
            .unwrap()
            .field("startAt")
            .unwrap()
            .value_type
        {
            ValueType::Enumeration(values) => {
                assert_eq!(
                    values,
                    [
                        crate::types::schedule::FIRST_ACTIVATION_DATE_TIME,
                        "ONDEMAND_ACTIVATION_TIME"
                    ]
                )
            }
            other => panic!("startAt is {other:?}"),
        }
    }

    #[test]
    fn managed_by_and_runtime_fields() {
        let catalog = Catalog::builtin();
        let by = |t: &str| catalog.get(t).unwrap().managed_by();
        assert_eq!(by("S3KeyExists"), Some(ManagedBy::Service));
        assert_eq!(by("ShellCommandPrecondition"), Some(ManagedBy::TaskRunner));
        assert_eq!(by("ShellCommandActivity"), Some(ManagedBy::TaskRunner));
        assert_eq!(by("EmrCluster"), Some(ManagedBy::Service));
        assert_eq!(by("CSV"), None);
        let runtime = |t: &str| catalog.get(t).unwrap().runtime_fields();
        assert!(runtime("S3KeyExists").contains(&"currentRetryCount"));
        assert!(!runtime("Exists").contains(&"currentRetryCount"));
        assert!(runtime("Exists").contains(&"node"));
        assert_eq!(runtime("SnsAlarm"), ["node"]);
        assert!(runtime("CopyActivity").contains(&"errorMessage"));
        assert!(runtime("Schedule").is_empty());
    }

    #[test]
    fn deprecations() {
        let catalog = Catalog::builtin();
        assert!(catalog.get("MySqlDataNode").unwrap().deprecated().is_some());
        assert!(catalog.get("SqlDataNode").unwrap().deprecated().is_none());
        let ec2 = catalog.get("Ec2Resource").unwrap();
        assert!(
            ec2.deprecated_fields()
                .iter()
                .any(|(f, _)| *f == "instanceCount")
        );
    }

    #[test]
    fn default_and_union_lookup() {
        let catalog = Catalog::builtin();
        assert!(catalog.get("Default").unwrap().accepts_any_field());
        assert!(!catalog.get("CopyActivity").unwrap().accepts_any_field());
        let runs_on: Vec<_> = catalog
            .fields_named("runsOn")
            .map(|(k, _)| k.type_name())
            .collect();
        assert!(runs_on.contains(&"CopyActivity") && runs_on.contains(&"S3DataNode"));
        assert!(!runs_on.contains(&"Ec2Resource"));
    }

    #[test]
    fn from_kinds_serves_only_what_it_was_given() {
        let catalog = Catalog::from_kinds(vec![&crate::types::Terminate]);
        assert_eq!(catalog.type_names(), ["Terminate"]);
        assert!(catalog.get("SnsAlarm").is_none());
    }

    #[test]
    fn category_names() {
        for c in Category::ALL {
            assert_eq!(format!("{c}"), format!("{c:?}"));
        }
        assert!(Category::Resource.is_scheduled() && !Category::Precondition.is_scheduled());
    }
}
