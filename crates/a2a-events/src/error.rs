//! Error types, one per operation.
//!
//! Every fallible operation of this crate returns one of these types. They are small,
//! `Clone + PartialEq + Eq`, and their `Display` texts are short lower-case sentences that
//! can be shown to an HTTP client as they are.

use crate::ids::{EventId, PlanId};

/// Why a text is not a valid [`PlanId`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
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
pub enum EventIdError {
    /// The text is empty.
    #[error("event id is empty")]
    Empty,
    /// The text holds something other than the decimal digits `0`–`9`.
    #[error("event id is not a decimal number")]
    NotDecimal,
    /// The number does not fit in 64 bits.
    #[error("event id is too large")]
    TooLarge,
}

/// Why an event could not be built from a `kind` and its `data`, or from JSON.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
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
    #[error("the event could not be serialized: {0}")]
    Serialize(String),
    /// The backend failed (another engine than the in-memory queue, such as a network store).
    #[error("the event backend failed: {0}")]
    Backend(String),
}

/// Why [`A2aEventQueue::subscribe`](crate::A2aEventQueue::subscribe) returned no subscription.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
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
    /// The backend failed (another engine than the in-memory queue, such as a network store).
    #[error("the event backend failed: {0}")]
    Backend(String),
}

/// Why a [`QueueConfig`](crate::QueueConfig) was rejected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    /// A per-subscriber buffer must hold at least one event.
    #[error("the per-subscriber buffer must allow at least one event and one byte")]
    EmptyBuffer,
}
