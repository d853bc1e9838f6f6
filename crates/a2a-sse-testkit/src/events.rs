//! Events with known content for tests, and the exact native frames they become.

use a2a_events::{
    Artifact, ErrorPayload, EventPayload, NewEvent, Part, PlanId, TaskArtifactUpdateEvent,
    TaskState, TaskStatusUpdateEvent, Timestamp,
};

/// The time every event of this module carries, so that frames are known in advance.
pub const TIMESTAMP: &str = "2026-11-24T10:00:00.000Z";

/// The context id of every event of this module.
pub const CONTEXT: &str = "ctx-1";

/// `name` as a plan id.
///
/// # Panics
///
/// When `name` is not a valid plan id (this is a test helper).
#[must_use]
pub fn plan(name: &str) -> PlanId {
    PlanId::new(name).unwrap_or_else(|e| panic!("plan id {name:?}: {e}"))
}

fn stamped(plan_name: &str, payload: EventPayload) -> NewEvent {
    let at = Timestamp::parse(TIMESTAMP).unwrap_or_else(|e| panic!("{e}"));
    NewEvent::new(plan(plan_name), payload).at(at)
}

/// A status update of `plan_name` (task id = plan id, context [`CONTEXT`]) to `state`,
/// stamped [`TIMESTAMP`].
#[must_use]
pub fn status(plan_name: &str, state: TaskState) -> NewEvent {
    stamped(
        plan_name,
        EventPayload::StatusUpdate(TaskStatusUpdateEvent {
            task_id: plan_name.to_owned(),
            context_id: CONTEXT.to_owned(),
            status: state.into(),
            metadata: None,
        }),
    )
}

/// An artifact update of `plan_name`: artifact `{name}-1` named `name`, one text part.
#[must_use]
pub fn artifact(plan_name: &str, name: &str, text: &str) -> NewEvent {
    stamped(
        plan_name,
        EventPayload::ArtifactUpdate(TaskArtifactUpdateEvent {
            task_id: plan_name.to_owned(),
            context_id: CONTEXT.to_owned(),
            artifact: Artifact {
                artifact_id: format!("{name}-1"),
                name: Some(name.to_owned()),
                description: None,
                parts: vec![Part::text(text)],
                metadata: None,
            },
            append: None,
            last_chunk: None,
            metadata: None,
        }),
    )
}

/// An `error` event of `plan_name` whose JSON is a little more than `size` bytes.
#[must_use]
pub fn sized(plan_name: &str, size: usize) -> NewEvent {
    stamped(
        plan_name,
        EventPayload::Error(ErrorPayload {
            code: 1,
            message: "x".repeat(size),
            data: None,
        }),
    )
}

/// The wire name of `state` (`TASK_STATE_WORKING`, …).
///
/// # Panics
///
/// Never for the crate's states.
#[must_use]
pub fn state_name(state: TaskState) -> String {
    match serde_json::to_value(state) {
        Ok(serde_json::Value::String(name)) => name,
        other => panic!("{state:?} is written as {other:?}, not as a name"),
    }
}

/// The exact native frame of event `id` made by [`status`].
#[must_use]
pub fn status_frame(id: u64, plan_name: &str, state: TaskState) -> String {
    let state = state_name(state);
    format!(
        "id: {id}\nevent: status-update\ndata: {{\"id\":\"{id}\",\"planId\":\"{plan_name}\",\"kind\":\"status-update\",\"timestamp\":\"{TIMESTAMP}\",\"data\":{{\"taskId\":\"{plan_name}\",\"contextId\":\"{CONTEXT}\",\"status\":{{\"state\":\"{state}\"}}}}}}\n\n"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_frame_is_the_events_json() {
        let event = status("p", TaskState::Working);
        assert_eq!(event.timestamp.unwrap().to_string(), TIMESTAMP);
        let frame = status_frame(3, "p", TaskState::Working);
        assert!(
            frame.contains("\"state\":\"TASK_STATE_WORKING\""),
            "{frame}"
        );
        assert!(frame.starts_with("id: 3\nevent: status-update\n"));
        assert_eq!(
            state_name(TaskState::InputRequired),
            "TASK_STATE_INPUT_REQUIRED"
        );
        assert!(matches!(
            artifact("p", "a", "t").payload,
            EventPayload::ArtifactUpdate(_)
        ));
        assert!(matches!(sized("p", 9).payload, EventPayload::Error(e) if e.message.len() == 9));
    }
}
