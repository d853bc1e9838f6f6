//! A2A v1 payload types: task status and artifact updates, and the error payload.
//!
//! Field names are camelCase on the wire and optional fields are left out when empty, as in
//! the A2A v1 JSON binding. Reading also takes each field's proto snake_case name
//! (`message_id`), as the protobuf JSON mapping does. Unknown fields are ignored when
//! reading, so a newer peer's additions do not break an older reader.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Free-form JSON object attached to many A2A types.
pub type Metadata = serde_json::Map<String, serde_json::Value>;

/// Lifecycle state of an A2A task, with the v1 wire names (`TASK_STATE_WORKING`, …).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[non_exhaustive]
pub enum TaskState {
    /// Received, not yet started.
    #[serde(rename = "TASK_STATE_SUBMITTED")]
    Submitted,
    /// Being worked on.
    #[serde(rename = "TASK_STATE_WORKING")]
    Working,
    /// Paused until the client provides more input.
    #[serde(rename = "TASK_STATE_INPUT_REQUIRED")]
    InputRequired,
    /// Paused until the client authenticates.
    #[serde(rename = "TASK_STATE_AUTH_REQUIRED")]
    AuthRequired,
    /// Finished successfully.
    #[serde(rename = "TASK_STATE_COMPLETED")]
    Completed,
    /// Finished with an error.
    #[serde(rename = "TASK_STATE_FAILED")]
    Failed,
    /// Stopped on request.
    #[serde(rename = "TASK_STATE_CANCELED")]
    Canceled,
    /// Refused by the agent.
    #[serde(rename = "TASK_STATE_REJECTED")]
    Rejected,
}

impl TaskState {
    /// Whether no further update can follow (completed, failed, canceled or rejected).
    #[must_use]
    pub const fn is_terminal(self) -> bool {
        matches!(
            self,
            Self::Completed | Self::Failed | Self::Canceled | Self::Rejected
        )
    }

    /// Whether the task waits for the client (input or authentication required).
    #[must_use]
    pub const fn is_interrupted(self) -> bool {
        matches!(self, Self::InputRequired | Self::AuthRequired)
    }
}

/// Who sent a [`Message`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Role {
    /// The client.
    #[serde(rename = "ROLE_USER")]
    User,
    /// The agent.
    #[serde(rename = "ROLE_AGENT")]
    Agent,
}

/// One communication turn, as carried in a status update.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Message {
    /// Unique id of the message.
    #[serde(alias = "message_id")]
    pub message_id: String,
    /// Context the message belongs to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[serde(alias = "context_id")]
    pub context_id: Option<String>,
    /// Task the message belongs to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[serde(alias = "task_id")]
    pub task_id: Option<String>,
    /// Sender.
    pub role: Role,
    /// Content.
    #[serde(default)]
    pub parts: Vec<Part>,
    /// Extra data.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metadata: Option<Metadata>,
}

/// Content of a [`Part`]: exactly one of text, raw bytes, a URL or structured data.
#[derive(Debug, Clone, PartialEq)]
pub enum PartContent {
    /// Plain text (`"text"`).
    Text(String),
    /// Raw bytes, base64 on the wire (`"raw"`).
    Raw(Vec<u8>),
    /// A link to the content (`"url"`).
    Url(String),
    /// Structured JSON (`"data"`).
    Data(serde_json::Value),
}

/// A piece of content in a message or an artifact.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Part {
    /// The content itself.
    #[serde(flatten)]
    pub content: PartContent,
    /// MIME type of the content, such as `text/plain`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[serde(alias = "media_type")]
    pub media_type: Option<String>,
    /// File name, when the content is a file.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub filename: Option<String>,
    /// Extra data.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metadata: Option<Metadata>,
}

impl Message {
    /// The text of its first text part, `""` when it has none: what a simple agent reads.
    #[must_use]
    pub fn first_text(&self) -> &str {
        self.parts
            .iter()
            .find_map(Part::as_text)
            .unwrap_or_default()
    }
}

impl Part {
    /// The text of a text part; `None` for any other content.
    #[must_use]
    pub fn as_text(&self) -> Option<&str> {
        match &self.content {
            PartContent::Text(text) => Some(text),
            _ => None,
        }
    }

    /// A text part with no media type, file name or metadata.
    #[must_use]
    pub fn text(text: impl Into<String>) -> Self {
        Self::from(PartContent::Text(text.into()))
    }

    /// A structured-data part.
    #[must_use]
    pub fn data(value: serde_json::Value) -> Self {
        Self::from(PartContent::Data(value))
    }
}

impl From<PartContent> for Part {
    fn from(content: PartContent) -> Self {
        Self {
            content,
            media_type: None,
            filename: None,
            metadata: None,
        }
    }
}

/// Wire shape of [`PartContent`]: an object with exactly one of the four keys.
#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct PartContentWire {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    text: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    raw: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    url: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    data: Option<serde_json::Value>,
}

impl Serialize for PartContent {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut wire = PartContentWire {
            text: None,
            raw: None,
            url: None,
            data: None,
        };
        match self {
            Self::Text(text) => wire.text = Some(text.clone()),
            Self::Raw(bytes) => wire.raw = Some(BASE64.encode(bytes)),
            Self::Url(url) => wire.url = Some(url.clone()),
            Self::Data(value) => wire.data = Some(value.clone()),
        }
        wire.serialize(serializer)
    }
}

impl<'de> Deserialize<'de> for PartContent {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        use serde::de::Error;
        let wire = PartContentWire::deserialize(deserializer)?;
        match (wire.text, wire.raw, wire.url, wire.data) {
            (Some(text), None, None, None) => Ok(Self::Text(text)),
            (None, Some(raw), None, None) => BASE64
                .decode(raw)
                .map(Self::Raw)
                .map_err(|e| D::Error::custom(format!("part raw is not base64: {e}"))),
            (None, None, Some(url), None) => Ok(Self::Url(url)),
            (None, None, None, Some(data)) => Ok(Self::Data(data)),
            _ => Err(D::Error::custom(
                "a part needs exactly one of text, raw, url, data",
            )),
        }
    }
}

/// Status of a task at one moment.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TaskStatus {
    /// The lifecycle state.
    pub state: TaskState,
    /// A message that goes with the state (for example, a question for input-required).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<Message>,
    /// When the state was reached, as the agent reported it (RFC 3339).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timestamp: Option<String>,
}

impl From<TaskState> for TaskStatus {
    fn from(state: TaskState) -> Self {
        Self {
            state,
            message: None,
            timestamp: None,
        }
    }
}

/// A2A v1 `TaskStatusUpdateEvent`: the task moved to a new status.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TaskStatusUpdateEvent {
    /// The task.
    pub task_id: String,
    /// The task's context.
    pub context_id: String,
    /// The new status.
    pub status: TaskStatus,
    /// Extra data.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metadata: Option<Metadata>,
}

/// An output of a task, possibly streamed in chunks.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Artifact {
    /// Unique id of the artifact within its task.
    #[serde(alias = "artifact_id")]
    pub artifact_id: String,
    /// Human-readable name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Human-readable description.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Content.
    #[serde(default)]
    pub parts: Vec<Part>,
    /// Extra data.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metadata: Option<Metadata>,
}

/// A2A v1 `TaskArtifactUpdateEvent`: an artifact was produced or extended.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TaskArtifactUpdateEvent {
    /// The task.
    pub task_id: String,
    /// The task's context.
    pub context_id: String,
    /// The artifact, or the chunk of it carried by this event.
    pub artifact: Artifact,
    /// Whether these parts extend an artifact already sent with the same id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub append: Option<bool>,
    /// Whether this is the last chunk of the artifact.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[serde(alias = "last_chunk")]
    pub last_chunk: Option<bool>,
    /// Extra data.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metadata: Option<Metadata>,
}

/// Payload of an `error` event: something went wrong while executing a plan.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ErrorPayload {
    /// Numeric error code (JSON-RPC style, as A2A uses).
    pub code: i64,
    /// Short description.
    pub message: String,
    /// Extra detail.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data: Option<serde_json::Value>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn task_state_classes() {
        use TaskState::*;
        let terminal: Vec<_> = [
            Submitted,
            Working,
            InputRequired,
            AuthRequired,
            Completed,
            Failed,
            Canceled,
            Rejected,
        ]
        .into_iter()
        .filter(|s| s.is_terminal())
        .collect();
        assert_eq!(terminal, [Completed, Failed, Canceled, Rejected]);
        assert!(InputRequired.is_interrupted() && AuthRequired.is_interrupted());
        assert!(!Working.is_interrupted() && !Completed.is_interrupted());
    }

    #[test]
    fn task_state_uses_v1_names() {
        assert_eq!(
            serde_json::to_value(TaskState::InputRequired).unwrap(),
            json!("TASK_STATE_INPUT_REQUIRED")
        );
        assert!(serde_json::from_value::<TaskState>(json!("working")).is_err());
    }

    #[test]
    fn parts_round_trip_all_variants() {
        let literal = json!([
            {"text": "hello", "mediaType": "text/plain"},
            {"raw": "AAEC", "filename": "a.bin"},
            {"url": "https://example.com/x.png", "mediaType": "image/png"},
            {"data": {"k": [1, 2]}, "metadata": {"m": true}}
        ]);
        let parts: Vec<Part> = serde_json::from_value(literal.clone()).unwrap();
        assert_eq!(parts[0].content, PartContent::Text("hello".into()));
        assert_eq!(parts[1].content, PartContent::Raw(vec![0, 1, 2]));
        assert_eq!(parts[1].filename.as_deref(), Some("a.bin"));
        assert_eq!(
            parts[2].content,
            PartContent::Url("https://example.com/x.png".into())
        );
        assert_eq!(parts[3].content, PartContent::Data(json!({"k": [1, 2]})));
        assert_eq!(serde_json::to_value(&parts).unwrap(), literal);
        assert_eq!(Part::text("t"), Part::from(PartContent::Text("t".into())));
        assert_eq!(Part::data(json!(1)).content, PartContent::Data(json!(1)));
    }

    #[test]
    fn parts_reject_zero_or_several_contents_and_bad_base64() {
        for bad in [
            json!({}),
            json!({"text": "a", "url": "b"}),
            json!({"raw": "not base64!"}),
        ] {
            assert!(
                serde_json::from_value::<Part>(bad.clone()).is_err(),
                "{bad}"
            );
        }
    }

    #[test]
    fn status_update_round_trips_with_message() {
        let literal = json!({
            "taskId": "t1",
            "contextId": "c1",
            "status": {
                "state": "TASK_STATE_INPUT_REQUIRED",
                "message": {
                    "messageId": "m1",
                    "role": "ROLE_AGENT",
                    "parts": [{"text": "which file?"}]
                },
                "timestamp": "2026-11-24T10:00:00Z"
            },
            "metadata": {"step": 3}
        });
        let event: TaskStatusUpdateEvent = serde_json::from_value(literal.clone()).unwrap();
        assert_eq!(event.status.state, TaskState::InputRequired);
        assert_eq!(event.status.message.as_ref().unwrap().role, Role::Agent);
        assert_eq!(serde_json::to_value(&event).unwrap(), literal);
        assert_eq!(TaskStatus::from(TaskState::Working).message, None);
    }

    #[test]
    fn artifact_update_round_trips() {
        let literal = json!({
            "taskId": "t1",
            "contextId": "c1",
            "artifact": {
                "artifactId": "a1",
                "name": "report",
                "description": "the report",
                "parts": [{"text": "chunk"}],
                "metadata": {"x": 1}
            },
            "append": true,
            "lastChunk": false
        });
        let event: TaskArtifactUpdateEvent = serde_json::from_value(literal.clone()).unwrap();
        assert_eq!(event.append, Some(true));
        assert_eq!(serde_json::to_value(&event).unwrap(), literal);
    }

    #[test]
    fn error_payload_round_trips() {
        let literal = json!({"code": -32000, "message": "tool crashed", "data": {"tool": "x"}});
        let payload: ErrorPayload = serde_json::from_value(literal.clone()).unwrap();
        assert_eq!(payload.code, -32000);
        assert_eq!(serde_json::to_value(&payload).unwrap(), literal);
    }
}
