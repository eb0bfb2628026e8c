//! Schedule rules: `scheduleType` consistency, `Schedule` objects, and the cascade + backfill
//! warning.
//!
//! Decisions:
//! * A pipeline is ondemand when `Default` says so. `ondemand` anywhere else, or another
//!   `scheduleType` beside it, is an error ("ondemand must be set on Default and be the only
//!   scheduleType").
//! * In an ondemand pipeline a `schedule` reference is an error where it is written, unless it
//!   points at the DG's on-demand Schedule variant (`period: ONDEMAND_PERIOD`); conversely that
//!   variant requires an ondemand pipeline.
//! * Schedule field pairs (`startDateTime`/`startAt`, `occurrences`/`endDateTime`) are checked
//!   here unless the catalog already declares them (an exclusive one-of group or a conflict set),
//!   so the message is not doubled.
//! * The backfill warning uses AWS's text, reported on the object holding
//!   `failureAndRerunMode` (usually `Default`, once), for each distinct past start time.

use sluice_catalog::ObjectKind;
use sluice_model::time::parse_datetime;

use super::Validator;
use super::values::ONDEMAND_PERIOD;
use crate::expressions::contains_expression;
use crate::report::Code;
use crate::resolve::{DEFAULT_ID, ResolvedObject};

const ONDEMAND_RULE: &str = "ondemand must be set on Default and be the only scheduleType";

impl Validator<'_> {
    pub(super) fn check_schedules(&mut self) {
        let objects = &self.pipeline.objects;
        for object in objects {
            for value in object.own.values("scheduleType").filter_map(|v| v.as_str()) {
                if contains_expression(value) {
                    continue;
                }
                let is_ondemand = value.eq_ignore_ascii_case("ondemand");
                if is_ondemand && object.id != DEFAULT_ID {
                    self.out.error(
                        &object.id,
                        Code::InvalidScheduleType,
                        format!("'scheduleType' is ondemand here, but {ONDEMAND_RULE}"),
                    );
                } else if self.ondemand && !is_ondemand {
                    self.out.error(
                        &object.id,
                        Code::InvalidScheduleType,
                        format!(
                            "'scheduleType' is '{value}', but the pipeline is ondemand and \
                             {ONDEMAND_RULE}"
                        ),
                    );
                }
            }
            if self.ondemand {
                for target in object.own.values("schedule").filter_map(|v| v.as_ref_id()) {
                    let Some(schedule) = self.pipeline.get(target) else {
                        continue;
                    };
                    if schedule.type_name.as_deref() == Some("Schedule")
                        && !is_ondemand_schedule(schedule)
                    {
                        self.out.error(
                            &object.id,
                            Code::InvalidScheduleType,
                            format!(
                                "'schedule' refers to Schedule '{target}', but an ondemand \
                                 pipeline runs once per activation and must not use a schedule"
                            ),
                        );
                    }
                }
            }
        }

        for (i, object) in objects.iter().enumerate() {
            if object.type_name.as_deref() != Some("Schedule") {
                continue;
            }
            if !self.ondemand && is_ondemand_schedule(object) {
                let owner = object.owner_of("period").unwrap_or(&object.id);
                self.out.error(
                    owner,
                    Code::InvalidScheduleType,
                    format!("'period' {ONDEMAND_PERIOD} requires scheduleType ondemand on Default"),
                );
            }
            if let Some(kind) = self.kinds[i] {
                self.check_schedule_object(object, kind);
            }
        }

        self.check_backfill();
    }

    fn check_schedule_object(&mut self, schedule: &ResolvedObject, kind: &dyn ObjectKind) {
        let id = schedule.id.as_str();
        let covered = |a: &str, b: &str| {
            let pair = |fields: &[&str]| fields.contains(&a) && fields.contains(&b);
            kind.one_of().iter().any(|g| g.exclusive && pair(g.fields))
                || kind.conflicts().iter().any(|c| pair(c))
        };
        let start = schedule.has("startDateTime");
        let start_at = schedule.has("startAt");
        if start && start_at && !covered("startDateTime", "startAt") {
            self.out.error(
                id,
                Code::ConflictingFields,
                "'startDateTime' and 'startAt' cannot both be set on Schedule",
            );
        }
        let in_group = kind
            .one_of()
            .iter()
            .any(|g| g.fields.contains(&"startDateTime"));
        if !start && !start_at && !in_group {
            self.out.error(
                id,
                Code::MissingRequiredField,
                "one of 'startDateTime', 'startAt' is required for Schedule",
            );
        }
        if schedule.has("occurrences")
            && schedule.has("endDateTime")
            && !covered("occurrences", "endDateTime")
        {
            self.out.error(
                id,
                Code::ConflictingFields,
                "'occurrences' and 'endDateTime' cannot both be set on Schedule",
            );
        }
        let begin = schedule
            .string("startDateTime")
            .and_then(|t| parse_datetime(t).ok());
        let end = schedule
            .string("endDateTime")
            .and_then(|t| parse_datetime(t).ok());
        if let (Some(begin), Some(end)) = (begin, end)
            && end <= begin
        {
            let (b, e) = (
                schedule.string("startDateTime"),
                schedule.string("endDateTime"),
            );
            self.out.error(
                id,
                Code::InvalidFieldValue,
                format!(
                    "'endDateTime' ({}) must be after 'startDateTime' ({})",
                    e.unwrap_or_default(),
                    b.unwrap_or_default()
                ),
            );
        }
    }

    fn check_backfill(&mut self) {
        if self.ondemand {
            return;
        }
        for object in self.pipeline.typed() {
            let Some(mode) = object.string("failureAndRerunMode") else {
                continue;
            };
            if !mode.eq_ignore_ascii_case("cascade") {
                continue;
            }
            let Some(owner) = object.owner_of("failureAndRerunMode") else {
                continue;
            };
            let Some(schedule) = object
                .reference("schedule")
                .and_then(|s| self.pipeline.get(s))
            else {
                continue;
            };
            if schedule.type_name.as_deref() != Some("Schedule") {
                continue;
            }
            let Some(text) = schedule.string("startDateTime") else {
                continue;
            };
            let Ok(start) = parse_datetime(text) else {
                continue;
            };
            if start < self.now {
                self.out.warning(
                    owner,
                    Code::CascadeBackfill,
                    format!(
                        "{owner} has 'failureAndRerunMode' field set to 'cascade' and you are \
                         about to create a backfill with scheduleStartTime {text}. This can \
                         result in rapid creation of pipeline objects in case of failures."
                    ),
                );
            }
        }
    }
}

/// The DG's on-demand Schedule variant.
fn is_ondemand_schedule(schedule: &ResolvedObject) -> bool {
    schedule
        .string("period")
        .is_some_and(|p| p.eq_ignore_ascii_case(ONDEMAND_PERIOD))
}
