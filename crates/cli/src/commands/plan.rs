//! `sluice plan`: the instances a definition would create, before anything runs.
//!
//! Design decisions:
//! * The listing comes from the scheduler itself (`sluice_engine::preview`), run in virtual
//!   time from the activation, so ids, times and dependencies are the ones a run creates.
//!   No data directory is opened: planning leaves no state behind.
//! * The default window starts at the first interval, as a first `sluice run` backfills from
//!   there, and ends one day after the activation (or after `--from` when that is later): a
//!   day shows every hourly or daily schedule at least once without flooding the terminal
//!   for short periods. `--to` or `--count` choose another end.
//! * The text output groups instances by scheduled start time, one line per instance; the
//!   JSON output carries the same facts with the window, for scripts.

use std::collections::BTreeSet;
use std::io::Write;
use std::process::ExitCode;

use anyhow::Result;
use chrono::{Duration, NaiveDateTime};
use serde::ser::{Serialize, SerializeMap, Serializer};
use serde_json::json;
use sluice_catalog::Catalog;
use sluice_definition::Limits;
use sluice_engine::{Clock, Plan, PlannedInstance, Preview, PreviewOptions, SystemClock, Until};
use sluice_model::time::format_datetime;

use crate::cli::{OutputFormat, PlanArgs};
use crate::commands::{EXIT_USAGE, plural};
use crate::definition_input::{load_runnable, read_definition};

/// How far past the activation the default window reaches.
const DEFAULT_HORIZON_HOURS: i64 = 24;

pub(crate) fn run(args: &PlanArgs) -> Result<ExitCode> {
    let file = &args.definition.file;
    let input = match read_definition(&args.definition) {
        Ok(input) => input,
        Err(error) => return usage_error(format_args!("{error:#}")),
    };
    let activation = args.activate_at.unwrap_or_else(|| SystemClock.now());
    let catalog = Catalog::builtin();
    let limits = Limits::default();
    let Some((pipeline, report)) =
        load_runnable(&input.definition, &catalog, &limits, file, activation)
    else {
        return Ok(ExitCode::from(EXIT_USAGE));
    };
    if args.output == OutputFormat::Text {
        for (id, message) in report.warning_messages() {
            eprintln!("warning: {id}: {message}");
        }
    }
    let plan = match Plan::compile(pipeline, &catalog) {
        Ok(plan) => plan,
        Err(error) => {
            return usage_error(format_args!("{} cannot be run: {error}", file.display()));
        }
    };
    if plan.ondemand && (args.from.is_some() || args.to.is_some() || args.count.is_some()) {
        return usage_error(format_args!(
            "{} is an ondemand pipeline: each activation is one run, so --from, --to and \
             --count do not apply",
            file.display()
        ));
    }
    if let (Some(from), Some(to)) = (args.from, args.to)
        && to <= from
    {
        return usage_error(format_args!(
            "--to {} is not later than --from {}",
            format_datetime(to),
            format_datetime(from)
        ));
    }
    let until = match (args.to, args.count) {
        (Some(to), _) => Until::Time(to),
        (None, Some(count)) => Until::Starts(count as usize),
        (None, None) => Until::Time(
            args.from.unwrap_or(activation).max(activation)
                + Duration::hours(DEFAULT_HORIZON_HOURS),
        ),
    };
    let options = PreviewOptions {
        activation,
        from: args.from,
        until,
    };
    let preview = sluice_engine::preview(plan, &options)?;
    // Written as they are formatted: a long backfill lists a million instances.
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    match args.output {
        OutputFormat::Json => {
            serde_json::to_writer_pretty(&mut out, &PreviewJson(&preview))?;
            writeln!(out)?;
        }
        OutputFormat::Text => write_text(&mut out, &preview)?,
    }
    out.flush()?;
    Ok(ExitCode::SUCCESS)
}

fn usage_error(message: std::fmt::Arguments<'_>) -> Result<ExitCode> {
    eprintln!("sluice: {message}");
    Ok(ExitCode::from(EXIT_USAGE))
}

/// The `--output json` document (documented in docs/plan.md).
struct PreviewJson<'a>(&'a Preview);

impl Serialize for PreviewJson<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let preview = self.0;
        let mut map = serializer.serialize_map(Some(5))?;
        map.serialize_entry("activationTime", &format_datetime(preview.activation))?;
        map.serialize_entry("ondemand", &preview.ondemand)?;
        map.serialize_entry("from", &preview.from.map(format_datetime))?;
        map.serialize_entry("to", &preview.to.map(format_datetime))?;
        map.serialize_entry("instances", &InstancesJson(&preview.instances))?;
        map.end()
    }
}

struct InstancesJson<'a>(&'a [PlannedInstance]);

impl Serialize for InstancesJson<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_seq(self.0.iter().map(|i| {
            json!({
                "id": i.id,
                "component": i.component_id,
                "type": i.type_name,
                "scheduledStartTime": format_datetime(i.scheduled_start),
                "scheduledEndTime": format_datetime(i.scheduled_end),
                "dueTime": format_datetime(i.due),
                "dependsOn": i.depends_on,
                "preconditions": i.preconditions,
                "runsOn": i.runs_on,
                "checks": i.checks,
            })
        }))
    }
}

/// What an instance waits for, in words: producers by id, then `check <id>` for each
/// precondition check and `on <id>` for its resource; a check says which instance it checks.
fn waits_for(instance: &PlannedInstance) -> String {
    if let Some(checked) = &instance.checks {
        return format!("checks {checked}");
    }
    let producers = instance.depends_on.iter().cloned();
    let checks = instance.preconditions.iter().map(|c| format!("check {c}"));
    let resource = instance.runs_on.iter().map(|r| format!("on {r}"));
    let all: Vec<String> = producers.chain(checks).chain(resource).collect();
    if all.is_empty() {
        "-".to_owned()
    } else {
        all.join(", ")
    }
}

const HEADER: [&str; 5] = ["INSTANCE", "TYPE", "SCHEDULED END", "DUE", "WAITS FOR"];
/// Every time is printed as `YYYY-MM-DDTHH:MM:SS`.
const TIME_WIDTH: usize = 19;

/// One table, a line per instance under a line naming its scheduled start, then a summary.
fn write_text(out: &mut impl Write, preview: &Preview) -> std::io::Result<()> {
    if preview.instances.is_empty() {
        return writeln!(out, "{}", summary(preview));
    }
    let widest = |cell: fn(&PlannedInstance) -> usize, header: &str| {
        preview
            .instances
            .iter()
            .map(cell)
            .chain([header.len()])
            .max()
            .unwrap_or_default()
    };
    let id_width = widest(|i| i.id.len(), HEADER[0]);
    let type_width = widest(|i| i.type_name.len(), HEADER[1]);
    let end_width = TIME_WIDTH.max(HEADER[2].len());
    let row = |out: &mut dyn Write, cells: [&str; 5]| {
        writeln!(
            out,
            "  {:<id_width$}  {:<type_width$}  {:<end_width$}  {:<TIME_WIDTH$}  {}",
            cells[0], cells[1], cells[2], cells[3], cells[4],
        )
    };
    row(out, HEADER)?;
    let mut current = None;
    for instance in &preview.instances {
        if current != Some(instance.scheduled_start) {
            current = Some(instance.scheduled_start);
            writeln!(out, "{}", format_datetime(instance.scheduled_start))?;
        }
        row(
            out,
            [
                &instance.id,
                &instance.type_name,
                &format_datetime(instance.scheduled_end),
                &format_datetime(instance.due),
                &waits_for(instance),
            ],
        )?;
    }
    writeln!(out, "\n{}", summary(preview))
}

fn summary(preview: &Preview) -> String {
    let count = preview.instances.len();
    let activation = format_datetime(preview.activation);
    let instances = plural(count, "instance");
    if preview.ondemand {
        return format!("one ondemand run at {activation}: {instances}");
    }
    let due = preview
        .instances
        .iter()
        .filter(|i| i.due <= preview.activation)
        .count();
    let starts: BTreeSet<NaiveDateTime> = preview
        .instances
        .iter()
        .map(|i| i.scheduled_start)
        .collect();
    let window = match (preview.from, preview.to) {
        (Some(from), Some(to)) => {
            format!("from {} to {}", format_datetime(from), format_datetime(to))
        }
        (Some(from), None) => format!("from {} to the schedules' end", format_datetime(from)),
        (None, _) => "in the schedules, which have no intervals".to_owned(),
    };
    format!(
        "{instances} in {} {window}; activated at {activation}, {due} due at once",
        plural(starts.len(), "interval"),
    )
}
