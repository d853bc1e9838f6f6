//! [`A2aFraming`]: the bindings' event-stream frames, a [`Framing`] of the SSE core.
//!
//! Each event's `StreamResponse` JSON is built once and shared by every A2A subscriber,
//! and so is its whole HTTP+JSON frame; a JSON-RPC frame writes its request's envelope
//! around the shared JSON, without serializing the event again.

use a2a_events::{
    Encoded, EventEncoder, EventKind, LagNotice, ResetNotice, StoredEvent, TaskSnapshot, TaskState,
};
use a2a_sse_core::frame::{Fixed, Frame};
use a2a_sse_core::{DisconnectReason, Framing};
use std::sync::atomic::{AtomicBool, Ordering};

use bytes::{BufMut, Bytes, BytesMut};
use serde::Deserialize;
use serde_json::value::RawValue;

use crate::error::{A2aError, to_json};

/// How an A2A stream frames what it sends: the bare `StreamResponse` (HTTP+JSON), or the
/// `result` of a JSON-RPC answer; and whether its first event opens it as a task.
#[derive(Debug)]
pub(crate) struct A2aFraming {
    binding: Wire,
    /// The stream of a task created by this very request starts with the task's first
    /// event, which is sent as the `{"task": …}` it makes (its id, a resume point).
    opening: AtomicBool,
}

/// The two wire shapes.
#[derive(Debug, Clone)]
enum Wire {
    /// HTTP+JSON: the bare `StreamResponse`.
    Rest,
    /// JSON-RPC: the `StreamResponse` as the `result` of an answer to the request `id`;
    /// `envelope` is what comes before the result (`{"jsonrpc":"2.0","id":…,"result":`).
    JsonRpc {
        /// The request's id, as it came.
        id: Box<RawValue>,
        /// Written before each result.
        envelope: Bytes,
    },
}

/// The `StreamResponse` JSON of an event, shared.
static STREAM_RESPONSE: EventEncoder = EventEncoder::new(encode_stream_response);
/// The HTTP+JSON frame of an event, shared.
static REST_FRAME: EventEncoder = EventEncoder::new(encode_rest_frame);

const ERROR: Fixed = Fixed::new("error");

impl A2aFraming {
    /// HTTP+JSON: bare items.
    pub(crate) const fn rest() -> Self {
        Self {
            binding: Wire::Rest,
            opening: AtomicBool::new(false),
        }
    }

    /// JSON-RPC answers to the request `id`.
    pub(crate) fn json_rpc(id: Box<RawValue>) -> Self {
        let envelope = crate::jsonrpc::envelope(&id);
        Self {
            binding: Wire::JsonRpc { id, envelope },
            opening: AtomicBool::new(false),
        }
    }

    /// The same framing, sending the stream's first event as the task it creates.
    pub(crate) fn opening_with_task(self) -> Self {
        self.opening.store(true, Ordering::Relaxed);
        self
    }

    /// An error in the middle of a stream: an `event: error` frame holding a JSON-RPC
    /// error response or a `google.rpc.Status`, as A2A clients read them.
    pub(crate) fn error_frame(&self, err: &A2aError) -> Bytes {
        let data = match &self.binding {
            Wire::Rest => err.status_body(),
            Wire::JsonRpc { id, .. } => err.jsonrpc_response(Some(id)),
        };
        Frame::new().named(ERROR).data(data).build()
    }

    /// The `{"task": …}` frame of `task`, whose newest event is `id`.
    fn task_frame(&self, id: &str, task: &a2a_events::Task) -> Bytes {
        match to_json(task) {
            Ok(task) => self.frame(id, &[b"{\"task\":", &task, b"}"]),
            Err(err) => self.error_frame(&err),
        }
    }

    /// `id: <id>`, then one `data:` line of `parts` joined (JSON without raw line
    /// breaks), wrapped in the JSON-RPC envelope when there is one.
    fn frame(&self, id: &str, parts: &[&[u8]]) -> Bytes {
        match &self.binding {
            Wire::Rest => data_frame(id, parts),
            Wire::JsonRpc { envelope, .. } => {
                let mut all = Vec::with_capacity(parts.len() + 2);
                all.push(&envelope[..]);
                all.extend_from_slice(parts);
                all.push(b"}");
                data_frame(id, &all)
            }
        }
    }
}

impl Framing for A2aFraming {
    fn label(&self) -> &'static str {
        match self.binding {
            Wire::Rest => "rest",
            Wire::JsonRpc { .. } => "jsonrpc",
        }
    }

    fn event<'a>(&self, event: &'a StoredEvent) -> Option<Encoded<'a>> {
        if self.opening.swap(false, Ordering::Relaxed) {
            let id = event.id().to_string();
            return Some(Encoded::Owned(match event.to_event() {
                Ok(first) => self.task_frame(&id, &TaskSnapshot::of(&first).task),
                Err(err) => self.error_frame(&A2aError::Internal(format!(
                    "the task's first event could not be read: {err}"
                ))),
            }));
        }
        if !has_stream_item(event) {
            return None;
        }
        Some(match self.binding {
            Wire::Rest => REST_FRAME.encode(event),
            Wire::JsonRpc { .. } => {
                let json = STREAM_RESPONSE.encode(event);
                Encoded::Owned(self.frame(&event.id().to_string(), &[&json]))
            }
        })
    }

    /// A2A streams end when the task waits for its client, too.
    fn ends_after(&self, event: &StoredEvent) -> Option<DisconnectReason> {
        event
            .state()
            .is_some_and(TaskState::is_interrupted)
            .then_some(DisconnectReason::Interrupted)
    }

    /// `{"task": …}`, with the id of the newest event it holds, so a client that resumes
    /// from it misses nothing.
    fn snapshot(&self, snapshot: &TaskSnapshot) -> Option<Bytes> {
        Some(self.task_frame(&snapshot.as_of.to_string(), &snapshot.task))
    }

    /// An A2A stream that history does not cover starts with the task instead.
    fn reset(&self, _: &ResetNotice) -> Option<Bytes> {
        None
    }

    /// An internal error naming the last id received, so the client can resume.
    fn lagged(&self, notice: &LagNotice) -> Bytes {
        let resume = notice.last_delivered.map_or_else(
            || "from the start".to_owned(),
            |id| format!("after event {id}"),
        );
        self.error_frame(&A2aError::Internal(format!(
            "this subscriber fell behind its buffer; subscribe again with Last-Event-ID to resume {resume}"
        )))
    }
}

/// Whether the event has a `StreamResponse` item: status and artifact updates do; an
/// `error` event of the native stream has none.
fn has_stream_item(event: &StoredEvent) -> bool {
    matches!(
        event.kind(),
        EventKind::StatusUpdate | EventKind::ArtifactUpdate
    )
}

/// `{"statusUpdate": …}` or `{"artifactUpdate": …}`, from the event's own JSON, which
/// holds its A2A object as `data`.
fn encode_stream_response(event: &StoredEvent) -> Bytes {
    #[derive(Deserialize)]
    struct Envelope<'a> {
        #[serde(borrow)]
        data: &'a RawValue,
    }
    let member: &[u8] = match event.kind() {
        EventKind::ArtifactUpdate => b"artifactUpdate",
        _ => b"statusUpdate",
    };
    // Every stored event's JSON is an event envelope with `data`; an empty object stands
    // in should a backend hand over anything else.
    let data = serde_json::from_slice::<Envelope<'_>>(event.json())
        .map_or(&b"{}"[..], |envelope| envelope.data.get().as_bytes());
    let mut out = BytesMut::with_capacity(data.len() + member.len() + 5);
    out.put_slice(b"{\"");
    out.put_slice(member);
    out.put_slice(b"\":");
    out.put_slice(data);
    out.put_u8(b'}');
    out.freeze()
}

fn encode_rest_frame(event: &StoredEvent) -> Bytes {
    let json = STREAM_RESPONSE.encode(event);
    data_frame(&event.id().to_string(), &[&json])
}

/// `id: <id>`, then one `data:` line of `parts` joined.
fn data_frame(id: &str, parts: &[&[u8]]) -> Bytes {
    let len: usize = parts.iter().map(|p| p.len()).sum();
    let mut out = BytesMut::with_capacity(len + id.len() + 16);
    out.put_slice(b"id: ");
    out.put_slice(id.as_bytes());
    out.put_slice(b"\ndata: ");
    for part in parts {
        out.put_slice(part);
    }
    out.put_slice(b"\n\n");
    out.freeze()
}
