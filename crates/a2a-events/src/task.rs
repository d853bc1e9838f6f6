//! [`Task`] and [`TaskSnapshot`]: a plan's current state, folded from its events as they
//! are published, for the A2A binding's `GetTask` and the first item of `SubscribeToTask`.
//!
//! The fold is kept up to date at publish time, never rebuilt from history, so it stays
//! right after the plan's early events have left the bounded history:
//!
//! - a status update replaces the status; the message of the status it replaces moves into
//!   the history (the newest [`TaskSnapshot::HISTORY_LIMIT`] messages are kept);
//! - an artifact update with `append: true` adds its parts to the artifact with the same id
//!   (and replaces its name, description and metadata when it carries them); any other
//!   artifact update replaces the artifact with its id, or adds it after the others;
//! - a `message` event (a message sent to the task, a user's) joins the history, after the
//!   current status's message, which it answers (the status keeps its state);
//! - an `error` event changes nothing but the point the snapshot is as of.
//!
//! Folded with [`TaskSnapshot::fold`] (from whole events), a status without a timestamp
//! gets its event's, so that every task has a status time to be listed by.

use serde::{Deserialize, Serialize};

use crate::event::{A2aEvent, EventPayload};
use crate::ids::{EventId, PlanId};
use crate::model::{Artifact, Message, Metadata, TaskArtifactUpdateEvent, TaskState, TaskStatus};

/// An A2A v1 `Task`: its id (the plan id), context, latest status, artifacts so far and
/// the messages of earlier statuses. Empty lists are left out of its JSON, as A2A's JSON
/// binding leaves out default values.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct Task {
    /// The task id: the plan id.
    pub id: String,
    /// The context of the latest status or artifact update.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub context_id: String,
    /// The latest status; `TASK_STATE_SUBMITTED` before the first status update.
    pub status: TaskStatus,
    /// The artifacts so far, chunks joined, in the order they first appeared.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub artifacts: Vec<Artifact>,
    /// Messages of earlier statuses, oldest first.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub history: Vec<Message>,
    /// Extra data (none is folded from events).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metadata: Option<Metadata>,
}

impl Task {
    /// A task with only an id and a status.
    #[must_use]
    pub fn new(id: impl Into<String>, status: TaskStatus) -> Self {
        Self {
            id: id.into(),
            context_id: String::new(),
            status,
            artifacts: Vec::new(),
            history: Vec::new(),
            metadata: None,
        }
    }

    /// The same task with at most the `length` newest history messages, as `GetTask`'s
    /// `historyLength` asks (`None`: all that are kept).
    #[must_use]
    pub fn with_history_length(mut self, length: Option<usize>) -> Self {
        if let Some(length) = length {
            let drop = self.history.len().saturating_sub(length);
            self.history.drain(..drop);
        }
        self
    }
}

/// A plan's [`Task`] as of one event: every event of the plan up to and including
/// [`as_of`](Self::as_of) is folded in, none after it.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct TaskSnapshot {
    /// The task.
    pub task: Task,
    /// The newest event folded in.
    pub as_of: EventId,
}

impl TaskSnapshot {
    /// Most history messages a snapshot keeps (the newest).
    pub const HISTORY_LIMIT: usize = 100;

    /// The snapshot of `plan` after its first event.
    #[must_use]
    pub fn new(plan: &PlanId, id: EventId, payload: &EventPayload) -> Self {
        let mut snapshot = Self {
            task: Task::new(plan.as_str(), TaskState::Submitted.into()),
            as_of: id,
        };
        snapshot.apply(id, payload);
        snapshot
    }

    /// Folds in the next event of the plan.
    pub fn apply(&mut self, id: EventId, payload: &EventPayload) {
        self.as_of = id;
        match payload {
            EventPayload::StatusUpdate(update) => {
                self.task.context_id.clone_from(&update.context_id);
                let previous = std::mem::replace(&mut self.task.status, update.status.clone());
                if let Some(message) = previous.message {
                    self.remember(message);
                }
            }
            EventPayload::ArtifactUpdate(update) => {
                self.task.context_id.clone_from(&update.context_id);
                fold_artifact(&mut self.task.artifacts, update);
            }
            EventPayload::Message(message) => {
                if self.task.context_id.is_empty()
                    && let Some(context) = &message.context_id
                {
                    self.task.context_id.clone_from(context);
                }
                // The agent's last word comes before the message that answers it.
                if let Some(said) = self.task.status.message.take() {
                    self.remember(said);
                }
                self.remember(message.clone());
            }
            // Errors, and kinds of later versions, change nothing else.
            _ => {}
        }
    }

    /// The snapshot of `event`'s plan after its first event, `event`.
    #[must_use]
    pub fn of(event: &A2aEvent) -> Self {
        let mut snapshot = Self {
            task: Task::new(event.plan_id.as_str(), TaskState::Submitted.into()),
            as_of: event.id,
        };
        snapshot.fold(event);
        snapshot
    }

    /// Folds in the next event of the plan; a status without a timestamp gets the event's.
    pub fn fold(&mut self, event: &A2aEvent) {
        self.apply(event.id, &event.payload);
        if matches!(event.payload, EventPayload::StatusUpdate(_))
            && self.task.status.timestamp.is_none()
        {
            self.task.status.timestamp = Some(event.timestamp.to_string());
        }
    }

    /// When the task's status last changed: its status's timestamp, if it has one that
    /// reads as a time.
    #[must_use]
    pub fn status_time(&self) -> Option<crate::event::Timestamp> {
        let text = self.task.status.timestamp.as_deref()?;
        crate::event::Timestamp::parse(text).ok()
    }

    /// Adds `message` to the history, keeping the newest [`Self::HISTORY_LIMIT`].
    fn remember(&mut self, message: Message) {
        let history = &mut self.task.history;
        if history.len() == Self::HISTORY_LIMIT {
            history.remove(0);
        }
        history.push(message);
    }
}

/// Applies one artifact chunk to a task's artifacts.
fn fold_artifact(artifacts: &mut Vec<Artifact>, update: &TaskArtifactUpdateEvent) {
    let chunk = &update.artifact;
    let Some(existing) = artifacts
        .iter_mut()
        .find(|a| a.artifact_id == chunk.artifact_id)
    else {
        artifacts.push(chunk.clone());
        return;
    };
    if update.append == Some(true) {
        existing.parts.extend(chunk.parts.iter().cloned());
        if chunk.name.is_some() {
            existing.name.clone_from(&chunk.name);
        }
        if chunk.description.is_some() {
            existing.description.clone_from(&chunk.description);
        }
        if chunk.metadata.is_some() {
            existing.metadata.clone_from(&chunk.metadata);
        }
    } else {
        *existing = chunk.clone();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{ErrorPayload, Part, Role, TaskStatusUpdateEvent};
    use serde_json::json;

    fn plan() -> PlanId {
        PlanId::new("t-1").unwrap()
    }

    fn status(state: TaskState, message: Option<&str>) -> EventPayload {
        EventPayload::StatusUpdate(TaskStatusUpdateEvent {
            task_id: "t-1".into(),
            context_id: "ctx".into(),
            status: TaskStatus {
                state,
                message: message.map(|text| Message {
                    message_id: text.into(),
                    context_id: None,
                    task_id: None,
                    role: Role::Agent,
                    parts: vec![Part::text(text)],
                    metadata: None,
                }),
                timestamp: None,
            },
            metadata: None,
        })
    }

    fn chunk(id: &str, text: &str, append: Option<bool>) -> EventPayload {
        EventPayload::ArtifactUpdate(TaskArtifactUpdateEvent {
            task_id: "t-1".into(),
            context_id: "ctx-2".into(),
            artifact: Artifact {
                artifact_id: id.into(),
                name: None,
                description: None,
                parts: vec![Part::text(text)],
                metadata: None,
            },
            append,
            last_chunk: None,
            metadata: None,
        })
    }

    #[test]
    fn a_task_before_any_status_is_submitted() {
        let snapshot = TaskSnapshot::new(&plan(), EventId::new(3), &chunk("a", "x", None));
        assert_eq!(snapshot.as_of, EventId::new(3));
        assert_eq!(
            serde_json::to_value(&snapshot.task).unwrap(),
            json!({
                "id": "t-1",
                "contextId": "ctx-2",
                "status": {"state": "TASK_STATE_SUBMITTED"},
                "artifacts": [{"artifactId": "a", "parts": [{"text": "x"}]}]
            })
        );
    }

    #[test]
    fn statuses_replace_each_other_and_their_messages_become_history() {
        let mut snapshot = TaskSnapshot::new(
            &plan(),
            EventId::new(1),
            &status(TaskState::Working, Some("m1")),
        );
        snapshot.apply(EventId::new(2), &status(TaskState::Working, None));
        snapshot.apply(
            EventId::new(3),
            &status(TaskState::InputRequired, Some("m3")),
        );
        snapshot.apply(
            EventId::new(4),
            &EventPayload::Error(ErrorPayload {
                code: 1,
                message: "m".into(),
                data: None,
            }),
        );
        assert_eq!(snapshot.as_of, EventId::new(4));
        assert_eq!(snapshot.task.status.state, TaskState::InputRequired);
        let history: Vec<_> = snapshot
            .task
            .history
            .iter()
            .map(|m| &m.message_id)
            .collect();
        assert_eq!(history, ["m1"]);
        let task = snapshot.task.clone();
        assert!(task.clone().with_history_length(Some(0)).history.is_empty());
        assert_eq!(task.clone().with_history_length(Some(5)).history.len(), 1);
        assert_eq!(task.with_history_length(None).history.len(), 1);
    }

    #[test]
    fn history_keeps_the_newest_messages() {
        let mut snapshot = TaskSnapshot::new(
            &plan(),
            EventId::new(1),
            &status(TaskState::Working, Some("0")),
        );
        for n in 1..=TaskSnapshot::HISTORY_LIMIT + 5 {
            let text = n.to_string();
            snapshot.apply(
                EventId::new(n as u64 + 1),
                &status(TaskState::Working, Some(&text)),
            );
        }
        let history = &snapshot.task.history;
        assert_eq!(history.len(), TaskSnapshot::HISTORY_LIMIT);
        assert_eq!(history[0].message_id, "5");
        let newest = TaskSnapshot::HISTORY_LIMIT + 4;
        assert_eq!(history.last().unwrap().message_id, newest.to_string());
    }

    #[test]
    fn chunks_join_as_append_says() {
        let mut snapshot = TaskSnapshot::new(&plan(), EventId::new(1), &chunk("a", "1", None));
        snapshot.apply(EventId::new(2), &chunk("b", "x", None));
        snapshot.apply(EventId::new(3), &chunk("a", "2", Some(true)));
        snapshot.apply(EventId::new(4), &chunk("b", "y", Some(false)));
        let EventPayload::ArtifactUpdate(mut named) = chunk("a", "3", Some(true)) else {
            unreachable!()
        };
        named.artifact.name = Some("report".into());
        named.artifact.description = Some("d".into());
        named.artifact.metadata = Some(Metadata::new());
        snapshot.apply(EventId::new(5), &EventPayload::ArtifactUpdate(named));
        let artifacts = &snapshot.task.artifacts;
        let texts = |i: usize| -> Vec<String> {
            artifacts[i]
                .parts
                .iter()
                .map(|p| {
                    serde_json::to_value(p).unwrap()["text"]
                        .as_str()
                        .unwrap()
                        .to_owned()
                })
                .collect()
        };
        assert_eq!(artifacts.len(), 2);
        assert_eq!(texts(0), ["1", "2", "3"]);
        assert_eq!(artifacts[0].name.as_deref(), Some("report"));
        assert_eq!(artifacts[0].description.as_deref(), Some("d"));
        assert!(artifacts[0].metadata.is_some());
        assert_eq!(
            texts(1),
            ["y"],
            "without append the chunk replaces the artifact"
        );
    }
}
