//! The event envelope: [`A2aEvent`], what a publisher hands in ([`NewEvent`]) and what the
//! queue hands out ([`StoredEvent`]).

use std::fmt;
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::{Arc, Mutex, OnceLock, PoisonError};

use bytes::Bytes;
use serde::ser::SerializeStruct;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use time::macros::format_description;

use crate::error::{EncodeError, EventDataError, TimestampError};
use crate::ids::{EventId, PlanId};
use crate::model::{
    ErrorPayload, Message, TaskArtifactUpdateEvent, TaskState, TaskStatusUpdateEvent,
};

/// A point in time, in UTC with millisecond precision, written as RFC 3339
/// (`2026-11-24T10:00:00.000Z`).
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp(OffsetDateTime);

impl Timestamp {
    /// The current time.
    #[must_use]
    pub fn now() -> Self {
        // Already UTC, and today is within the years RFC 3339 can write.
        Self(whole_milliseconds(OffsetDateTime::now_utc()))
    }

    /// Parses RFC 3339 text with any offset; the result is moved to UTC and truncated to
    /// milliseconds. A time that UTC puts outside the years 0000 to 9999 (which RFC 3339
    /// cannot write) is refused.
    ///
    /// # Errors
    ///
    /// [`TimestampError`] when the text is not RFC 3339.
    pub fn parse(text: &str) -> Result<Self, TimestampError> {
        let at = OffsetDateTime::parse(text, &Rfc3339).map_err(TimestampError::Syntax)?;
        Self::try_from(at)
    }

    /// The underlying date-time.
    #[must_use]
    pub const fn as_datetime(&self) -> OffsetDateTime {
        self.0
    }
}

impl TryFrom<OffsetDateTime> for Timestamp {
    type Error = TimestampError;

    /// Moves `at` to UTC and truncates it to milliseconds.
    ///
    /// # Errors
    ///
    /// [`TimestampError::OutOfRange`] when UTC puts it outside the years 0000 to 9999.
    fn try_from(at: OffsetDateTime) -> Result<Self, TimestampError> {
        let utc = at
            .checked_to_offset(time::UtcOffset::UTC)
            .filter(|utc| (0..=9999).contains(&utc.year()))
            .ok_or(TimestampError::OutOfRange)?;
        Ok(Self(whole_milliseconds(utc)))
    }
}

/// `at` without its sub-millisecond nanoseconds: never earlier than the start of its own
/// second, so it stays in range.
fn whole_milliseconds(at: OffsetDateTime) -> OffsetDateTime {
    at - time::Duration::nanoseconds(i64::from(at.nanosecond() % 1_000_000))
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let format = format_description!(
            "[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3]Z"
        );
        let text = self.0.format(format).map_err(|_| fmt::Error)?;
        f.write_str(&text)
    }
}

impl fmt::Debug for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Timestamp({self})")
    }
}

impl Serialize for Timestamp {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Timestamp {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
        Self::parse(&text).map_err(serde::de::Error::custom)
    }
}

/// What an event reports; its wire name is the SSE `event:` field.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
#[non_exhaustive]
pub enum EventKind {
    /// `status-update`: a [`TaskStatusUpdateEvent`].
    StatusUpdate,
    /// `artifact-update`: a [`TaskArtifactUpdateEvent`].
    ArtifactUpdate,
    /// `error`: an [`ErrorPayload`].
    Error,
    /// `message`: a [`Message`] sent to the task (a user's, which starts or continues it);
    /// it joins the task's history.
    Message,
}

impl EventKind {
    /// The wire name (`status-update`, `artifact-update`, `error`, `message`).
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::StatusUpdate => "status-update",
            Self::ArtifactUpdate => "artifact-update",
            Self::Error => "error",
            Self::Message => "message",
        }
    }

    /// Parses a wire name.
    ///
    /// # Errors
    ///
    /// [`EventDataError::UnknownKind`] for any other text.
    pub fn parse(text: &str) -> Result<Self, EventDataError> {
        match text {
            "status-update" => Ok(Self::StatusUpdate),
            "artifact-update" => Ok(Self::ArtifactUpdate),
            "error" => Ok(Self::Error),
            "message" => Ok(Self::Message),
            other => Err(EventDataError::UnknownKind(other.to_owned())),
        }
    }
}

impl fmt::Display for EventKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The typed content of an event, one variant per [`EventKind`].
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum EventPayload {
    /// A task changed status.
    StatusUpdate(TaskStatusUpdateEvent),
    /// A task produced (part of) an artifact.
    ArtifactUpdate(TaskArtifactUpdateEvent),
    /// Something failed.
    Error(ErrorPayload),
    /// A message was sent to the task.
    Message(Message),
}

impl EventPayload {
    /// The payload's kind.
    #[must_use]
    pub const fn kind(&self) -> EventKind {
        match self {
            Self::StatusUpdate(_) => EventKind::StatusUpdate,
            Self::ArtifactUpdate(_) => EventKind::ArtifactUpdate,
            Self::Error(_) => EventKind::Error,
            Self::Message(_) => EventKind::Message,
        }
    }

    /// The state a status update moves its task to; `None` for other kinds.
    #[must_use]
    pub const fn state(&self) -> Option<TaskState> {
        match self {
            Self::StatusUpdate(update) => Some(update.status.state),
            _ => None,
        }
    }

    /// The terminal state this payload puts its plan in, if it is a status update to one.
    #[must_use]
    pub fn terminal_state(&self) -> Option<TaskState> {
        match self {
            Self::StatusUpdate(update) if update.status.state.is_terminal() => {
                Some(update.status.state)
            }
            _ => None,
        }
    }

    /// Builds a payload from a kind name and its JSON `data`.
    ///
    /// # Errors
    ///
    /// [`EventDataError`] when the kind is unknown or `data` does not have its shape.
    pub fn from_parts(kind: EventKind, data: serde_json::Value) -> Result<Self, EventDataError> {
        fn read<T: serde::de::DeserializeOwned>(
            kind: EventKind,
            data: serde_json::Value,
        ) -> Result<T, EventDataError> {
            serde_json::from_value(data).map_err(|e| EventDataError::InvalidData {
                kind: kind.as_str(),
                message: e.to_string(),
            })
        }
        Ok(match kind {
            EventKind::StatusUpdate => Self::StatusUpdate(read(kind, data)?),
            EventKind::ArtifactUpdate => Self::ArtifactUpdate(read(kind, data)?),
            EventKind::Error => Self::Error(read(kind, data)?),
            EventKind::Message => Self::Message(read(kind, data)?),
        })
    }

    /// Serializes only the `data` member (the A2A object, without envelope).
    fn serialize_data<S: SerializeStruct>(&self, out: &mut S) -> Result<(), S::Error> {
        match self {
            Self::StatusUpdate(v) => out.serialize_field("data", v),
            Self::ArtifactUpdate(v) => out.serialize_field("data", v),
            Self::Error(v) => out.serialize_field("data", v),
            Self::Message(v) => out.serialize_field("data", v),
        }
    }
}

/// An event as delivered: the payload, the plan it belongs to, the id the queue gave it and
/// when it was published.
///
/// Its JSON is the `data:` line of an SSE frame:
///
/// ```
/// # use a2a_events::*;
/// let json = r#"{"id":"42","planId":"plan-7","kind":"status-update","timestamp":"2026-11-24T10:00:00.000Z","data":{"taskId":"plan-7","contextId":"ctx-1","status":{"state":"TASK_STATE_WORKING"}}}"#;
/// let event: A2aEvent = serde_json::from_str(json)?;
/// assert_eq!(event.payload.kind(), EventKind::StatusUpdate);
/// assert_eq!(serde_json::to_string(&event)?, json);
/// # Ok::<(), serde_json::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct A2aEvent {
    /// Position in the queue.
    pub id: EventId,
    /// The plan the event belongs to.
    pub plan_id: PlanId,
    /// When it was published (or the time its publisher gave).
    pub timestamp: Timestamp,
    /// What happened.
    pub payload: EventPayload,
}

impl A2aEvent {
    /// An event as a queue delivers it; a backend builds it once it gave the event its id.
    #[must_use]
    pub const fn new(
        id: EventId,
        plan_id: PlanId,
        timestamp: Timestamp,
        payload: EventPayload,
    ) -> Self {
        Self {
            id,
            plan_id,
            timestamp,
            payload,
        }
    }
}

impl Serialize for A2aEvent {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut out = serializer.serialize_struct("A2aEvent", 5)?;
        out.serialize_field("id", &self.id)?;
        out.serialize_field("planId", &self.plan_id)?;
        out.serialize_field("kind", &self.payload.kind())?;
        out.serialize_field("timestamp", &self.timestamp)?;
        self.payload.serialize_data(&mut out)?;
        out.end()
    }
}

impl<'de> Deserialize<'de> for A2aEvent {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(rename_all = "camelCase")]
        struct Wire {
            id: EventId,
            plan_id: PlanId,
            kind: EventKind,
            timestamp: Timestamp,
            data: serde_json::Value,
        }
        let wire = Wire::deserialize(deserializer)?;
        let payload =
            EventPayload::from_parts(wire.kind, wire.data).map_err(serde::de::Error::custom)?;
        Ok(Self {
            id: wire.id,
            plan_id: wire.plan_id,
            timestamp: wire.timestamp,
            payload,
        })
    }
}

/// An event handed to a queue for publishing; the queue assigns its id.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct NewEvent {
    /// The plan the event belongs to.
    pub plan_id: PlanId,
    /// What happened.
    pub payload: EventPayload,
    /// When it happened; `None` means "now, at publish time".
    pub timestamp: Option<Timestamp>,
    /// Names this publish so that retrying it cannot store it twice; see
    /// [`idempotency_key`](Self::idempotency_key).
    pub idempotency_key: Option<String>,
}

impl NewEvent {
    /// An event for `plan_id`, stamped at publish time.
    #[must_use]
    pub const fn new(plan_id: PlanId, payload: EventPayload) -> Self {
        Self {
            plan_id,
            payload,
            timestamp: None,
            idempotency_key: None,
        }
    }

    /// The same event, stamped with `at` instead of the publish time.
    #[must_use]
    pub const fn at(mut self, at: Timestamp) -> Self {
        self.timestamp = Some(at);
        self
    }

    /// The same event, named `key` for retries: a backend whose publish can fail with its
    /// outcome unknown ([`BackendError::is_indeterminate`](crate::BackendError::is_indeterminate),
    /// a timeout of a network store) remembers the key with the id it gave, and answers a
    /// publish of the same plan with the same key with that id instead of storing the
    /// event again. Give each event a key of its own (a UUID, say) and reuse it only to
    /// retry that event. The in-memory queue, whose publish is never indeterminate, keeps
    /// no keys and ignores it.
    #[must_use]
    pub fn idempotency_key(mut self, key: impl Into<String>) -> Self {
        self.idempotency_key = Some(key.into());
        self
    }

    /// Reads the body of a publish request, `{"kind": ..., "data": {...}, "timestamp"?: ...}`,
    /// for `plan_id`. Unknown top-level members are refused.
    ///
    /// ```
    /// # use a2a_events::*;
    /// let plan = PlanId::new("plan-1")?;
    /// let body = br#"{"kind":"error","data":{"code":1,"message":"boom"}}"#;
    /// let event = NewEvent::from_publish_body(plan, body)?;
    /// assert_eq!(event.payload.kind(), EventKind::Error);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// # Errors
    ///
    /// [`EventDataError`] naming what is wrong with the body.
    pub fn from_publish_body(plan_id: PlanId, body: &[u8]) -> Result<Self, EventDataError> {
        #[derive(Deserialize)]
        #[serde(deny_unknown_fields)]
        struct Body {
            kind: String,
            data: serde_json::Value,
            #[serde(default)]
            timestamp: Option<Timestamp>,
        }
        let body: Body =
            serde_json::from_slice(body).map_err(|e| EventDataError::InvalidJson(e.to_string()))?;
        let kind = EventKind::parse(&body.kind)?;
        Ok(Self {
            plan_id,
            payload: EventPayload::from_parts(kind, body.data)?,
            timestamp: body.timestamp,
            idempotency_key: None,
        })
    }
}

/// A wire form of stored events (an event-stream frame, say), built at most once per event
/// and shared by every subscriber that sends that form.
///
/// An encoder is meant to be a `static`: it pairs one cache slot of every [`StoredEvent`]
/// with the one function that fills it, so no other code can put other bytes in that slot
/// and have them reach another form's subscribers. Slots are handed out on first use; a
/// process has [`EventEncoder::CACHED`] of them, and an encoder that finds none left builds
/// its form on every use instead (correct, only slower).
///
/// ```
/// use a2a_events::{EventEncoder, StoredEvent};
/// use bytes::Bytes;
///
/// fn shout(event: &StoredEvent) -> Bytes {
///     Bytes::from(event.json().to_ascii_uppercase())
/// }
/// static SHOUTED: EventEncoder = EventEncoder::new(shout);
/// # fn show(event: &StoredEvent) -> Bytes {
/// SHOUTED.encode(event).into_bytes() // built once, then shared
/// # }
/// ```
#[derive(Debug)]
pub struct EventEncoder {
    encode: fn(&StoredEvent) -> Bytes,
    /// `0` before the first use, then the slot plus one, or [`UNCACHED`].
    slot: AtomicU8,
}

/// An encoder's slot once no slot was left for it.
const UNCACHED: u8 = u8::MAX;

/// How many slots were handed out (under the lock: a race must not waste one).
static SLOTS_GIVEN: Mutex<u8> = Mutex::new(0);

impl EventEncoder {
    /// How many encoders of a process have their forms cached: the native frame and the
    /// A2A binding's two shared forms.
    pub const CACHED: usize = 3;

    /// An encoder building its form with `encode`.
    #[must_use]
    pub const fn new(encode: fn(&StoredEvent) -> Bytes) -> Self {
        Self {
            encode,
            slot: AtomicU8::new(0),
        }
    }

    /// `event` in this form: from the event's cache, or built now.
    pub fn encode<'a>(&'static self, event: &'a StoredEvent) -> Encoded<'a> {
        match self.slot() {
            Some(slot) => {
                Encoded::Shared(event.encodings[slot].get_or_init(|| (self.encode)(event)))
            }
            None => Encoded::Owned((self.encode)(event)),
        }
    }

    /// This encoder's cache slot, handed out on first use.
    fn slot(&self) -> Option<usize> {
        let mut slot = self.slot.load(Ordering::Acquire);
        if slot == 0 {
            let mut given = SLOTS_GIVEN.lock().unwrap_or_else(PoisonError::into_inner);
            slot = self.slot.load(Ordering::Acquire);
            if slot == 0 {
                slot = if usize::from(*given) < Self::CACHED {
                    *given += 1;
                    *given
                } else {
                    UNCACHED
                };
                self.slot.store(slot, Ordering::Release);
            }
        }
        (slot != UNCACHED).then(|| usize::from(slot - 1))
    }
}

/// An event in one wire form ([`EventEncoder::encode`]): borrowed from the event's shared
/// cache, or built for this use.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Encoded<'a> {
    /// The shared bytes, as every subscriber of this form gets them.
    Shared(&'a Bytes),
    /// Bytes built for this use alone.
    Owned(Bytes),
}

impl Encoded<'_> {
    /// The bytes, shared when they are (a reference count, not a copy).
    #[must_use]
    pub fn into_bytes(self) -> Bytes {
        match self {
            Self::Shared(bytes) => bytes.clone(),
            Self::Owned(bytes) => bytes,
        }
    }
}

impl std::ops::Deref for Encoded<'_> {
    type Target = [u8];

    fn deref(&self) -> &[u8] {
        match self {
            Self::Shared(bytes) => bytes,
            Self::Owned(bytes) => bytes,
        }
    }
}

/// A published event as the queue keeps and shares it.
///
/// It was serialized to JSON once, at publish time; every subscriber receives the same
/// `Arc<StoredEvent>` and so the same JSON bytes. Each transport form of the event is
/// also built at most once, on first use, and shared: see [`EventEncoder`].
pub struct StoredEvent {
    id: EventId,
    plan_id: PlanId,
    kind: EventKind,
    state: Option<TaskState>,
    terminal: bool,
    json: Bytes,
    encodings: [OnceLock<Bytes>; EventEncoder::CACHED],
}

/// A stored event shared by every subscriber that receives it.
pub type SharedEvent = Arc<StoredEvent>;

impl StoredEvent {
    /// Serializes `event` into a shareable stored event.
    ///
    /// # Errors
    ///
    /// [`EncodeError`] when the payload cannot be serialized.
    pub fn new(event: &A2aEvent) -> Result<Self, EncodeError> {
        let json = serde_json::to_vec(event).map_err(|e| EncodeError::new(&e))?;
        Ok(Self {
            id: event.id,
            plan_id: event.plan_id.clone(),
            kind: event.payload.kind(),
            state: match &event.payload {
                EventPayload::StatusUpdate(update) => Some(update.status.state),
                _ => None,
            },
            terminal: event.payload.terminal_state().is_some(),
            json: Bytes::from(json),
            encodings: Default::default(),
        })
    }

    /// A stored event from its JSON (the [`A2aEvent`] form, as [`json`](Self::json) gives
    /// it), for a backend that keeps events as JSON: the JSON is kept as it is, and only
    /// the fields the queue needs are read from it (the payload is checked by its kind).
    ///
    /// # Errors
    ///
    /// [`EventDataError::InvalidJson`] when the text is not an event's JSON.
    pub fn from_json(json: Bytes) -> Result<Self, EventDataError> {
        let event: A2aEvent = serde_json::from_slice(&json)
            .map_err(|e| EventDataError::InvalidJson(e.to_string()))?;
        Ok(Self {
            id: event.id,
            plan_id: event.plan_id,
            kind: event.payload.kind(),
            state: match &event.payload {
                EventPayload::StatusUpdate(update) => Some(update.status.state),
                _ => None,
            },
            terminal: event.payload.terminal_state().is_some(),
            json,
            encodings: Default::default(),
        })
    }

    /// The event's id.
    #[must_use]
    pub const fn id(&self) -> EventId {
        self.id
    }

    /// The plan it belongs to.
    #[must_use]
    pub const fn plan_id(&self) -> &PlanId {
        &self.plan_id
    }

    /// Its kind.
    #[must_use]
    pub const fn kind(&self) -> EventKind {
        self.kind
    }

    /// The state a status update moves its plan to; `None` for other kinds.
    #[must_use]
    pub const fn state(&self) -> Option<TaskState> {
        self.state
    }

    /// Whether this event puts its plan in a terminal state.
    #[must_use]
    pub const fn is_terminal(&self) -> bool {
        self.terminal
    }

    /// The event's JSON (the [`A2aEvent`] form), shared, never copied.
    #[must_use]
    pub const fn json(&self) -> &Bytes {
        &self.json
    }

    /// Reads the JSON back into the typed form.
    ///
    /// # Errors
    ///
    /// [`EventDataError::InvalidJson`]; it does not happen for events this crate stored.
    pub fn to_event(&self) -> Result<A2aEvent, EventDataError> {
        serde_json::from_slice(&self.json).map_err(|e| EventDataError::InvalidJson(e.to_string()))
    }
}

impl fmt::Debug for StoredEvent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StoredEvent")
            .field("id", &self.id)
            .field("plan_id", &self.plan_id)
            .field("kind", &self.kind)
            .field("terminal", &self.terminal)
            .field("json_len", &self.json.len())
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{ErrorPayload, TaskStatus};
    use serde_json::json;

    const LITERAL: &str = r#"{"id":"42","planId":"plan-7","kind":"status-update","timestamp":"2026-11-24T10:00:00.000Z","data":{"taskId":"plan-7","contextId":"ctx-1","status":{"state":"TASK_STATE_WORKING"}}}"#;

    #[test]
    fn envelope_matches_design_literal_byte_for_byte() {
        let event: A2aEvent = serde_json::from_str(LITERAL).unwrap();
        assert_eq!(event.id, EventId::new(42));
        assert_eq!(event.plan_id.as_str(), "plan-7");
        assert_eq!(serde_json::to_string(&event).unwrap(), LITERAL);
    }

    #[test]
    fn envelope_rejects_unknown_kind_and_bad_data() {
        let unknown = LITERAL.replace("status-update", "progress");
        assert!(serde_json::from_str::<A2aEvent>(&unknown).is_err());
        let bad = LITERAL.replace("TASK_STATE_WORKING", "RUNNING");
        let err = serde_json::from_str::<A2aEvent>(&bad).unwrap_err();
        assert!(
            err.to_string().contains("invalid status-update data"),
            "{err}"
        );
    }

    #[test]
    fn timestamps_are_utc_milliseconds() {
        let ts = Timestamp::parse("2026-11-24T12:00:00.123456+02:00").unwrap();
        assert_eq!(ts.to_string(), "2026-11-24T10:00:00.123Z");
        assert_eq!(format!("{ts:?}"), "Timestamp(2026-11-24T10:00:00.123Z)");
        assert_eq!(ts.as_datetime().hour(), 10);
        assert!(Timestamp::parse("yesterday").is_err());
        let now = Timestamp::now().to_string();
        assert_eq!(now.len(), "2026-11-24T10:00:00.000Z".len(), "{now}");
        assert!(now.ends_with('Z'));
        assert!(serde_json::from_value::<Timestamp>(json!("nope")).is_err());
    }

    #[test]
    fn kinds_have_wire_names() {
        for kind in [
            EventKind::StatusUpdate,
            EventKind::ArtifactUpdate,
            EventKind::Error,
        ] {
            assert_eq!(EventKind::parse(kind.as_str()), Ok(kind));
            assert_eq!(kind.to_string(), kind.as_str());
            assert_eq!(serde_json::to_value(kind).unwrap(), json!(kind.as_str()));
        }
        assert_eq!(
            EventKind::parse("x"),
            Err(EventDataError::UnknownKind("x".into()))
        );
    }

    #[test]
    fn publish_body_is_validated() {
        let plan = PlanId::new("p").unwrap();
        let ok = br#"{"kind":"artifact-update","timestamp":"2026-01-01T00:00:00Z","data":{"taskId":"p","contextId":"c","artifact":{"artifactId":"a","parts":[{"text":"x"}]},"lastChunk":true}}"#;
        let event = NewEvent::from_publish_body(plan.clone(), ok).unwrap();
        assert_eq!(event.payload.kind(), EventKind::ArtifactUpdate);
        assert_eq!(
            event.timestamp.unwrap().to_string(),
            "2026-01-01T00:00:00.000Z"
        );
        let cases: [(&[u8], &str); 4] = [
            (b"not json", "invalid event JSON"),
            (br#"{"kind":"status-update"}"#, "invalid event JSON"),
            (br#"{"kind":"nope","data":{}}"#, "unknown event kind"),
            (
                br#"{"kind":"error","data":{"code":"x","message":"m"}}"#,
                "invalid error data",
            ),
        ];
        for (body, expected) in cases {
            let err = NewEvent::from_publish_body(plan.clone(), body).unwrap_err();
            assert!(err.to_string().contains(expected), "{err}");
        }
        let extra = br#"{"kind":"error","data":{"code":1,"message":"m"},"x":1}"#;
        assert!(NewEvent::from_publish_body(plan, extra).is_err());
    }

    #[test]
    fn stored_event_serializes_once_and_caches_each_encoding_once() {
        let payload = EventPayload::StatusUpdate(TaskStatusUpdateEvent {
            task_id: "t".into(),
            context_id: "c".into(),
            status: TaskStatus::from(TaskState::Failed),
            metadata: None,
        });
        assert_eq!(payload.terminal_state(), Some(TaskState::Failed));
        let event = A2aEvent {
            id: EventId::new(1),
            plan_id: PlanId::new("p").unwrap(),
            timestamp: Timestamp::now(),
            payload,
        };
        let stored = StoredEvent::new(&event).unwrap();
        assert!(stored.is_terminal());
        assert_eq!(stored.state(), Some(TaskState::Failed));
        assert_eq!(stored.kind(), EventKind::StatusUpdate);
        assert_eq!(stored.plan_id().as_str(), "p");
        assert_eq!(stored.id(), EventId::new(1));
        assert_eq!(stored.to_event().unwrap(), event);
        let again = StoredEvent::from_json(stored.json().clone()).unwrap();
        assert_eq!(
            (again.id(), again.state(), again.is_terminal(), again.json()),
            (stored.id(), stored.state(), true, stored.json())
        );
        assert!(StoredEvent::from_json(Bytes::from_static(b"{}")).is_err());
        let error = EventPayload::Error(ErrorPayload {
            code: 1,
            message: "m".into(),
            data: None,
        });
        assert_eq!(error.terminal_state(), None);
    }

    #[test]
    fn each_encoder_builds_its_form_once_in_its_own_slot_while_slots_last() {
        use std::sync::atomic::AtomicUsize;
        static CALLS: AtomicUsize = AtomicUsize::new(0);
        fn counted(event: &StoredEvent) -> Bytes {
            CALLS.fetch_add(1, Ordering::Relaxed);
            event.json().clone()
        }
        fn other(_: &StoredEvent) -> Bytes {
            Bytes::from_static(b"other")
        }
        static COUNTED: EventEncoder = EventEncoder::new(counted);
        static OTHER: EventEncoder = EventEncoder::new(other);
        let event = A2aEvent {
            id: EventId::new(3),
            plan_id: PlanId::new("p").unwrap(),
            timestamp: Timestamp::now(),
            payload: EventPayload::Error(ErrorPayload {
                code: 1,
                message: "m".into(),
                data: None,
            }),
        };
        let stored = StoredEvent::new(&event).unwrap();
        let first = COUNTED.encode(&stored).into_bytes();
        let second = COUNTED.encode(&stored);
        assert!(matches!(second, Encoded::Shared(_)));
        assert_eq!(first.as_ptr(), second.as_ptr(), "shared, not rebuilt");
        assert_eq!(CALLS.load(Ordering::Relaxed), 1);
        // Another encoder has a slot of its own and leaves the first form in place.
        assert_eq!(&*OTHER.encode(&stored), b"other");
        assert_eq!(COUNTED.encode(&stored).as_ptr(), first.as_ptr());
        assert_eq!(CALLS.load(Ordering::Relaxed), 1);

        // Slots are the process's: one test takes them all, in order.
        fn plain(event: &StoredEvent) -> Bytes {
            event.json().clone()
        }
        static MORE: [EventEncoder; EventEncoder::CACHED] = [
            EventEncoder::new(plain),
            EventEncoder::new(plain),
            EventEncoder::new(plain),
        ];
        let forms: Vec<_> = MORE.iter().map(|encoder| encoder.encode(&stored)).collect();
        assert!(forms.iter().all(|form| **form == stored.json()[..]));
        assert!(
            forms.iter().any(|form| matches!(form, Encoded::Owned(_))),
            "the process has more encoders than slots"
        );
    }
}
