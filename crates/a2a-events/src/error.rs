//! Error types, one per operation.
//!
//! Every fallible operation of this crate returns one of these types. They are small,
//! `Clone + PartialEq + Eq`, and their `Display` texts are short lower-case sentences that
//! can be shown to an HTTP client as they are.

use crate::ids::{EventId, PlanId};

/// Why a text is not a valid [`PlanId`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PlanIdError {
    /// The text is empty.
    #[error("plan id is empty")]
    Empty,
    /// The text is longer than [`PlanId::MAX_LEN`] bytes.
    #[error("plan id is {len} bytes long, more than the {max} allowed", max = PlanId::MAX_LEN)]
    TooLong {
        /// Length of the rejected text, in bytes.
        len: usize,
    },
    /// The text holds a byte that is not printable ASCII, or is white space.
    #[error("plan id has a character that is not printable ASCII at byte {index}")]
    InvalidChar {
        /// Byte offset of the first offending character.
        index: usize,
    },
}

/// Why a text is not a valid [`EventId`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum EventIdError {
    /// The text is empty.
    #[error("event id is empty")]
    Empty,
    /// The text is not `SEQUENCE` or `EPOCH-SEQUENCE` in decimal digits `0`–`9`.
    #[error("event id is not a decimal number (or EPOCH-SEQUENCE)")]
    NotDecimal,
    /// A number does not fit in 64 bits.
    #[error("event id is too large")]
    TooLarge,
}

/// Why an event could not be built from a `kind` and its `data`, or from JSON.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum EventDataError {
    /// The `kind` is not one of `status-update`, `artifact-update`, `error`.
    #[error("unknown event kind {0:?}")]
    UnknownKind(String),
    /// The JSON does not have the shape its kind requires.
    #[error("invalid {kind} data: {message}")]
    InvalidData {
        /// The kind whose payload was being read.
        kind: &'static str,
        /// What serde reported.
        message: String,
    },
    /// The text is not JSON of the expected shape.
    #[error("invalid event JSON: {0}")]
    InvalidJson(String),
}

/// Why [`A2aEventQueue::publish`](crate::A2aEventQueue::publish) refused an event.
///
/// A refused event is not stored and no subscriber sees it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PublishError {
    /// The queue was closed; it accepts nothing more.
    #[error("the event queue is closed")]
    Closed,
    /// The plan already reached a terminal state; its streams have ended.
    #[error("plan {plan} already finished with event {terminal}")]
    PlanFinished {
        /// The plan the event was meant for.
        plan: PlanId,
        /// Id of the event that finished the plan.
        terminal: EventId,
    },
    /// The event could not be serialized to JSON.
    #[error(transparent)]
    Encode(#[from] EncodeError),
    /// The backend failed (another engine than the in-memory queue, such as a network
    /// store). The event was not accepted, unless [`BackendError::is_indeterminate`] says
    /// the outcome is unknown: then publishing it again with the same
    /// idempotency key is safe.
    #[error("the event backend failed: {0}")]
    Backend(#[from] BackendError),
}

/// Why [`A2aEventQueue::subscribe`](crate::A2aEventQueue::subscribe) returned no subscription.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SubscribeError {
    /// The queue was closed (for example, the server is shutting down).
    #[error("the event queue is closed")]
    Closed,
    /// The filtered plan already finished at or before the requested resume point, so
    /// nothing more will ever be delivered on this subscription.
    #[error("the plan already finished with event {terminal}")]
    PlanFinished {
        /// Id of the event that finished the plan.
        terminal: EventId,
    },
    /// A snapshot was asked for a plan the backend knows nothing of (no event published,
    /// or forgotten since it finished).
    #[error("no such plan")]
    UnknownPlan,
    /// The backend failed (another engine than the in-memory queue, such as a network store).
    #[error("the event backend failed: {0}")]
    Backend(#[from] BackendError),
}

/// Why a [`QueueConfig`](crate::QueueConfig) was rejected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum QueueConfigError {
    /// A per-subscriber buffer must hold at least one event.
    #[error("the per-subscriber buffer must allow at least one event and one byte")]
    EmptyBuffer,
}

/// Why a text or a date-time is not a valid [`Timestamp`](crate::Timestamp).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TimestampError {
    /// The text is not RFC 3339.
    #[error("invalid RFC 3339 timestamp: {0}")]
    Syntax(#[source] time::error::Parse),
    /// In UTC the time falls outside the years 0000 to 9999, which RFC 3339 cannot write.
    #[error("the timestamp is outside the years 0000 to 9999 in UTC")]
    OutOfRange,
}

/// An event that could not be serialized to JSON.
///
/// The crate's own payload types always serialize; this is kept for the contract's sake
/// (serde reports failures as values, not panics).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the event could not be serialized: {message}")]
pub struct EncodeError {
    message: Box<str>,
}

impl EncodeError {
    pub(crate) fn new(err: &serde_json::Error) -> Self {
        Self {
            message: err.to_string().into(),
        }
    }
}

/// What kind of failure a [`BackendError`] is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum BackendErrorKind {
    /// The engine cannot be reached (connection refused or lost). Nothing was applied.
    Unavailable,
    /// No answer in time. The request may or may not have been applied.
    Timeout,
    /// The engine answered something this backend does not understand, or refused the
    /// request for a reason of its own.
    Protocol,
}

/// A failure of an event engine other than the in-memory queue (a network store).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct BackendError {
    kind: BackendErrorKind,
    message: Box<str>,
}

impl BackendError {
    /// A failure of `kind`, described by `message`.
    #[must_use]
    pub fn new(kind: BackendErrorKind, message: impl std::fmt::Display) -> Self {
        Self {
            kind,
            message: message.to_string().into(),
        }
    }

    /// What kind of failure it is.
    #[must_use]
    pub const fn kind(&self) -> BackendErrorKind {
        self.kind
    }

    /// Whether the request may have been applied although it failed (a timeout): a
    /// publish should then be retried with the same idempotency key, never without one.
    #[must_use]
    pub const fn is_indeterminate(&self) -> bool {
        matches!(self.kind, BackendErrorKind::Timeout)
    }

    /// The engine's own description.
    #[must_use]
    pub fn message(&self) -> &str {
        &self.message
    }
}
