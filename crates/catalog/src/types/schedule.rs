//! `Schedule`: the timing of scheduled components (dp-object-schedule).
//!
//! AWS also shows an on-demand variant, `"period": "ONDEMAND_PERIOD", "startAt":
//! "ONDEMAND_ACTIVATION_TIME"`, while another page says on-demand pipelines must have no
//! Schedule at all. Sluice accepts it: `startAt` lists [`ONDEMAND_ACTIVATION_TIME`] among its
//! values, and validation special-cases a `period` equal to [`ONDEMAND_PERIOD`] (it is not a
//! Period) instead of this catalog widening `period` to a String.

use crate::common::{self, optional, required};
use crate::spec::{Category, FieldSpec, ObjectKind, OneOf, ValueType};

/// When scheduled components run: a period, a start, and optionally an end or a count.
pub struct Schedule;

/// The only documented `startAt` value: start when the pipeline is first activated.
pub const FIRST_ACTIVATION_DATE_TIME: &str = "FIRST_ACTIVATION_DATE_TIME";

/// `startAt` of the on-demand Schedule variant.
pub const ONDEMAND_ACTIVATION_TIME: &str = "ONDEMAND_ACTIVATION_TIME";

/// `period` of the on-demand Schedule variant; validation accepts it in place of a Period.
pub const ONDEMAND_PERIOD: &str = "ONDEMAND_PERIOD";

/// Values of `startAt`.
pub const START_AT_VALUES: &[&str] = &[FIRST_ACTIVATION_DATE_TIME, ONDEMAND_ACTIVATION_TIME];

static FIELDS: &[FieldSpec] = &[
    required(
        "period",
        ValueType::Period,
        "Interval length, e.g. \"15 minutes\"; minimum 15 minutes, maximum 3 years.",
    ),
    optional(
        "startDateTime",
        ValueType::DateTime,
        "Start of the first interval (UTC).",
    ),
    optional(
        "startAt",
        ValueType::Enumeration(START_AT_VALUES),
        "Start at the first activation (FIRST_ACTIVATION_DATE_TIME) instead of a fixed date.",
    ),
    optional(
        "endDateTime",
        ValueType::DateTime,
        "End of the last interval; by default runs continue until the pipeline is deactivated.",
    ),
    optional(
        "occurrences",
        ValueType::Integer,
        "Number of intervals to run after activation; not combinable with endDateTime.",
    ),
    optional(
        "maxActiveInstances",
        ValueType::Integer,
        "Not documented for Schedule; accepted because AWS's DynamoDB export template sets it here.",
    ),
];

static ONE_OF: &[OneOf] = &[OneOf {
    fields: &["startDateTime", "startAt"],
    exclusive: true,
}];

impl ObjectKind for Schedule {
    fn type_name(&self) -> &'static str {
        "Schedule"
    }

    fn category(&self) -> Category {
        Category::Schedule
    }

    fn doc(&self) -> &'static str {
        "When scheduled components run: a period, a start, and optionally an end or a count."
    }

    fn fields(&self) -> Vec<&'static FieldSpec> {
        common::with_common(common::PARENT_ONLY, FIELDS)
    }

    fn one_of(&self) -> &'static [OneOf] {
        ONE_OF
    }

    fn conflicts(&self) -> &'static [&'static [&'static str]] {
        &[&["endDateTime", "occurrences"]]
    }

    fn deprecated_fields(&self) -> &'static [(&'static str, &'static str)] {
        &[(
            "startAt",
            "FIRST_ACTIVATION_DATE_TIME is deprecated in favour of an on-demand pipeline",
        )]
    }
}
