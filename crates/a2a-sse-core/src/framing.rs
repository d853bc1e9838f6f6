//! [`Framing`]: what a stream's bytes look like, one implementation per wire format.
//!
//! An [`SseStream`](crate::SseStream) paces itself (preamble, keep-alive, coalescing,
//! lifetime) and asks its framing what to send for each item its subscription yields: an
//! event, a task snapshot, a `reset` or a lag notice, and whether the stream ends after
//! an event. The stream knows nothing of any format; [`NativeFraming`] is the native
//! stream's, and a protocol layer brings its own (the A2A bindings do).
//!
//! A frame that every subscriber of a format shares is built once per event, through an
//! [`EventEncoder`], and handed out as [`Encoded::Shared`]: a stream that joins several
//! frames into one write copies them without touching their reference counts.

use a2a_events::{Encoded, EventEncoder, LagNotice, ResetNotice, StoredEvent, TaskSnapshot};
use bytes::Bytes;
use serde_json::json;

use crate::frame::{Fixed, Frame};
use crate::hook::DisconnectReason;

/// What a stream sends for each item of its subscription, in one wire format.
///
/// Every method is called on the stream's task, once per item, so it should be quick:
/// build what every subscriber shares through an [`EventEncoder`].
pub trait Framing: Send + Sync + 'static {
    /// The format's name, as the `binding` label of the stream metrics (`native`, …).
    fn label(&self) -> &'static str;

    /// The frame of `event`, or `None` to send nothing for it.
    fn event<'a>(&self, event: &'a StoredEvent) -> Option<Encoded<'a>>;

    /// Whether the stream ends right after `event`, and why. The end after a filtered
    /// plan's terminal event is the subscription's to signal, not this.
    fn ends_after(&self, event: &StoredEvent) -> Option<DisconnectReason> {
        let _ = event;
        None
    }

    /// The frame of a task snapshot (the first item of a subscription that asked for
    /// one); `None` to send nothing.
    fn snapshot(&self, snapshot: &TaskSnapshot) -> Option<Bytes> {
        let _ = snapshot;
        None
    }

    /// The frame telling the client that history no longer reaches its resume point;
    /// `None` to send nothing.
    fn reset(&self, notice: &ResetNotice) -> Option<Bytes>;

    /// The last frame of a stream that fell behind its buffer, telling the client where
    /// to resume.
    fn lagged(&self, notice: &LagNotice) -> Bytes;
}

/// The native stream's format: each event as `id`, `event` (its kind) and its JSON as
/// `data`; `reset` and `lagged` control frames; no snapshots.
#[derive(Debug, Clone, Copy, Default)]
pub struct NativeFraming;

/// The native frame, built once per event.
static NATIVE_FRAME: EventEncoder = EventEncoder::new(encode_event_frame);

const RESET: Fixed = Fixed::new("reset");
const LAGGED: Fixed = Fixed::new("lagged");

impl Framing for NativeFraming {
    fn label(&self) -> &'static str {
        "native"
    }

    fn event<'a>(&self, event: &'a StoredEvent) -> Option<Encoded<'a>> {
        Some(NATIVE_FRAME.encode(event))
    }

    fn reset(&self, notice: &ResetNotice) -> Option<Bytes> {
        Some(reset_frame(notice))
    }

    fn lagged(&self, notice: &LagNotice) -> Bytes {
        lagged_frame(notice)
    }
}

/// The native frame of a queue event: `id`, `event` (its kind) and its JSON as `data`.
///
/// Built once per event and shared by every subscriber.
#[must_use]
pub fn event_frame(event: &StoredEvent) -> Bytes {
    NATIVE_FRAME.encode(event).into_bytes()
}

fn encode_event_frame(event: &StoredEvent) -> Bytes {
    let json = event.json();
    Frame::with_capacity(json.len() + 48)
        .event_id(event.id())
        .event_kind(event.kind())
        .data(json)
        .build()
}

/// The `reset` control frame: history no longer reaches the requested id.
#[must_use]
pub fn reset_frame(notice: &ResetNotice) -> Bytes {
    let data = json!({
        "requestedId": notice.requested.to_string(),
        "oldestRetainedId": notice.oldest_retained.map(|id| id.to_string()),
    });
    Frame::new().named(RESET).data(data.to_string()).build()
}

/// The `lagged` control frame: the client fell behind and the server closes.
#[must_use]
pub fn lagged_frame(notice: &LagNotice) -> Bytes {
    let data = json!({ "lastEventId": notice.last_delivered.map(|id| id.to_string()) });
    Frame::new().named(LAGGED).data(data.to_string()).build()
}
