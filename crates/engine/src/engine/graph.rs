//! A read-only view of the instances an engine has created and how they are linked, for
//! [`preview`](crate::preview), which shows a schedule without running it.

use chrono::NaiveDateTime;

use super::Engine;
use super::state::Slot;
use crate::plan::ComponentIdx;
use crate::schedule::Timeline;

/// One instance created for a schedule interval (or an ondemand run), with the instances it
/// is linked to. Precondition checks are not included: they are created only once the
/// instance they check is ready.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct LinkedInstance<'a> {
    pub(crate) id: &'a str,
    pub(crate) component: ComponentIdx,
    pub(crate) start: NaiveDateTime,
    pub(crate) end: NaiveDateTime,
    pub(crate) due: NaiveDateTime,
    /// The producer instances that must finish first, in the order they were linked.
    pub(crate) depends_on: Vec<&'a str>,
    /// The resource instance it runs on.
    pub(crate) runs_on: Option<&'a str>,
}

impl Engine {
    /// Every instance of a schedule interval or ondemand run created so far.
    pub(crate) fn linked_instances(&self) -> impl Iterator<Item = LinkedInstance<'_>> + '_ {
        self.insts
            .iter()
            .filter(|inst| matches!(inst.slot, Slot::Run(_)))
            .map(|inst| LinkedInstance {
                id: &inst.id,
                component: inst.comp,
                start: inst.start,
                end: inst.end,
                due: inst.due,
                depends_on: inst
                    .deps
                    .iter()
                    .map(|&d| self.insts[d].id.as_str())
                    .collect(),
                runs_on: inst.resource.map(|r| self.insts[r].id.as_str()),
            })
    }

    /// The intervals of a scheduled component, once the pipeline has been activated.
    pub(crate) fn timeline(&self, c: ComponentIdx) -> Option<Timeline> {
        self.comps[c].timeline
    }
}
