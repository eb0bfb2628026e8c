//! The executor registry against the catalog: every registered executor runs a catalog
//! activity or precondition, and every activity and precondition has an executor. (Service-managed preconditions such as S3KeyExists run on the
//! server's own runner, so they have executors too.)

use sluice_catalog::{Catalog, Category};
use sluice_executors::Executors;

#[test]
fn every_executor_runs_a_catalog_activity_or_precondition() {
    let catalog = Catalog::builtin();
    for name in Executors::builtin().type_names() {
        let kind = catalog
            .get(name)
            .unwrap_or_else(|| panic!("{name} is registered but not in the catalog"));
        assert!(
            matches!(kind.category(), Category::Activity | Category::Precondition),
            "{name}"
        );
    }
}

#[test]
fn every_activity_and_precondition_has_an_executor() {
    let catalog = Catalog::builtin();
    let executors = Executors::builtin();
    for kind in catalog.kinds() {
        let name = kind.type_name();
        let runner_work = matches!(kind.category(), Category::Activity | Category::Precondition);
        assert_eq!(executors.get(name).is_some(), runner_work, "{name}");
    }
}
