//! Carrying out the actions the engine fires (`onSuccess`, `onFail`, `onLateAction`).
//!
//! The engine decides when an action fires and commits that before the event leaves it;
//! delivering it is the driver's job: the server's ticker calls [`deliver`] for each event
//! (publishing in the background), `sluice run` calls [`deliver_pending`] (waiting for each
//! publish before it exits). An `SnsAlarm` has its fields evaluated with `node` bound to
//! the instance that fired it, so `#{node.@scheduledStartTime}`, `#{node.@status}` and
//! `#{node.errorMessage}` read that instance, and is then published. `Terminate` needs nothing
//! here: the engine cancels the late instance itself.
//!
//! A delivery that fails is logged with the pipeline, the action and the topic and the cause
//! (never credentials) and is not retried: alarms are best effort and never fail a pipeline.

use sluice_data::DataSettings;
use sluice_definition::DefinitionContext;
use sluice_engine::{ActionEvent, ActionTrigger, Engine, Scheduler};
use sluice_expr::{Value, evaluate_field};
use sluice_model::{Field, FieldValue, PipelineObject};

/// Delivers every action event the scheduler holds and waits until each is published (or has
/// failed), for a driver about to exit (`sluice run`).
///
/// The scheduler releases an event only once its step is committed, and a runner's step may
/// still be committing when a driver looks (a run that just settled). So this ticks first:
/// a tick returns only after everything queued before it is committed.
pub async fn deliver_pending(scheduler: &Scheduler, settings: &DataSettings) {
    if let Err(error) = scheduler.tick().await {
        tracing::warn!(%error, "cannot commit before delivering actions");
    }
    for event in scheduler.take_action_events().await {
        if let Some(alarm) = prepare(scheduler, &event).await {
            alarm.publish(settings).await;
        }
    }
}

/// Delivers one action event in the background, for a long-lived driver (the server's
/// ticker): the alarm is evaluated now, while the engine still describes the instance as it
/// was when the action fired, and published by a task of its own, so an unreachable SNS
/// endpoint (up to the client's timeouts) never holds up the ticker. Failures are logged.
pub async fn deliver(scheduler: &Scheduler, event: &ActionEvent, settings: &DataSettings) {
    if let Some(alarm) = prepare(scheduler, event).await {
        let settings = settings.clone();
        tokio::spawn(async move { alarm.publish(&settings).await });
    }
}

/// An SnsAlarm evaluated for the instance that fired it, with what its log lines name.
struct Prepared {
    pipeline_id: String,
    event: ActionEvent,
    alarm: PipelineObject,
}

/// Evaluates the event's action if it is an SnsAlarm; `None` (after logging why) otherwise.
async fn prepare(scheduler: &Scheduler, event: &ActionEvent) -> Option<Prepared> {
    if event.action_type != "SnsAlarm" {
        return None;
    }
    let (pipeline_id, alarm) = scheduler
        .inspect(|engine| {
            (
                engine.pipeline_id().to_owned(),
                evaluate_action(engine, event),
            )
        })
        .await;
    match alarm {
        Ok(alarm) => Some(Prepared {
            pipeline_id,
            event: event.clone(),
            alarm,
        }),
        Err(error) => {
            tracing::warn!(
                pipeline = %pipeline_id,
                action = %event.action_id,
                instance = %event.node_instance_id,
                trigger = trigger_name(event.event),
                %error,
                "SnsAlarm not published"
            );
            None
        }
    }
}

impl Prepared {
    async fn publish(self, settings: &DataSettings) {
        let Prepared {
            pipeline_id,
            event,
            alarm,
        } = self;
        let trigger = trigger_name(event.event);
        let topic = alarm.string("topicArn").unwrap_or("").to_owned();
        match sluice_executors::types::sns_alarm::publish(&alarm, settings).await {
            Ok(message_id) => tracing::info!(
                pipeline = %pipeline_id,
                action = %event.action_id,
                instance = %event.node_instance_id,
                trigger,
                topic = %topic,
                message_id = %message_id,
                "SnsAlarm published"
            ),
            Err(error) => tracing::warn!(
                pipeline = %pipeline_id,
                action = %event.action_id,
                instance = %event.node_instance_id,
                trigger,
                topic = %topic,
                %error,
                "SnsAlarm not published"
            ),
        }
    }
}

fn trigger_name(trigger: ActionTrigger) -> &'static str {
    match trigger {
        ActionTrigger::Success => "onSuccess",
        ActionTrigger::Fail => "onFail",
        ActionTrigger::Late => "onLateAction",
    }
}

/// The action object with its effective fields evaluated for the instance that fired it.
///
/// A field whose expression cannot be evaluated (say `#{node.errorMessage}` on an instance
/// that has none) keeps its raw text, so the alarm still goes out and shows what was asked.
pub fn evaluate_action(engine: &Engine, event: &ActionEvent) -> Result<PipelineObject, String> {
    let plan = engine.plan();
    let action_id = event.action_id.as_str();
    let action = plan
        .pipeline()
        .get(action_id)
        .ok_or_else(|| format!("action {action_id} is not in the pipeline"))?;
    let instance = engine.instance(&event.node_instance_id).ok_or_else(|| {
        format!(
            "instance {} that fired {action_id} is not known",
            event.node_instance_id
        )
    })?;
    let node = instance.component_id.as_str();
    let mut ctx = DefinitionContext::new(plan.pipeline(), plan.catalog(), action_id).with_global(
        "@pipelineId",
        Value::String(engine.pipeline_id().to_owned()),
    );
    ctx.set_runtime(action_id, "node", Value::Object(node.to_owned()));
    ctx.set_runtime(node, "@id", Value::String(instance.instance_id.clone()));
    ctx.set_runtime(
        node,
        "@scheduledStartTime",
        Value::utc(instance.scheduled_start),
    );
    ctx.set_runtime(
        node,
        "@scheduledEndTime",
        Value::utc(instance.scheduled_end),
    );
    ctx.set_runtime(
        node,
        "@status",
        Value::String(instance.status.as_str().to_owned()),
    );
    if let Some(at) = instance.actual_start {
        ctx.set_runtime(node, "@actualStartTime", Value::utc(at));
    }
    if let Some(at) = instance.actual_end {
        ctx.set_runtime(node, "@actualEndTime", Value::utc(at));
    }
    for (name, values) in &instance.fields {
        let value = match values.as_slice() {
            [one] => Value::String(one.clone()),
            many => Value::List(many.iter().cloned().map(Value::String).collect()),
        };
        ctx.set_runtime(node, name, value);
    }

    let mut fields = Vec::with_capacity(action.fields.len() + 2);
    for field in &action.fields {
        match &field.value {
            FieldValue::String(raw) if raw.contains("#{") => match evaluate_field(raw, &ctx) {
                Ok(values) => fields.extend(
                    values
                        .into_iter()
                        .map(|v| Field::string(field.key.clone(), v)),
                ),
                Err(error) => {
                    tracing::warn!(
                        action = %action_id,
                        field = %field.key,
                        %error,
                        "cannot evaluate the action's field; sending it as written"
                    );
                    fields.push(field.clone());
                }
            },
            _ => fields.push(field.clone()),
        }
    }
    fields.push(Field::reference("node", instance.instance_id.clone()));
    Ok(PipelineObject {
        id: action_id.to_owned(),
        name: action.name.clone(),
        fields,
    })
}
