//! The binding's event-stream frames. Each event's `StreamResponse` JSON is built once and
//! cached in the event ([`Encoding::StreamResponse`]), and so is the whole HTTP+JSON frame
//! ([`Encoding::StreamResponseFrame`]); a JSON-RPC frame writes its request's envelope
//! around the shared JSON, without serializing the event again.

use a2a_events::{Encoding, EventKind, StoredEvent, TaskSnapshot};
use bytes::{BufMut, Bytes, BytesMut};
use serde::Deserialize;
use serde_json::value::RawValue;

use super::error::{A2aError, to_bytes};
use crate::frame::Frame;

/// How an A2A stream frames what it sends.
#[derive(Debug, Clone)]
pub(crate) enum Binding {
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

impl Binding {
    /// JSON-RPC answers to the request `id`.
    pub(crate) fn json_rpc(id: Box<RawValue>) -> Self {
        let envelope = super::jsonrpc::envelope(&id);
        Self::JsonRpc { id, envelope }
    }
}

/// The event's `StreamResponse` JSON (`{"statusUpdate": …}` or `{"artifactUpdate": …}`),
/// shared; `None` for an `error` event, which A2A has no stream item for.
pub(crate) fn stream_response(event: &StoredEvent) -> Option<&Bytes> {
    let member = match event.kind() {
        EventKind::StatusUpdate => "statusUpdate",
        EventKind::ArtifactUpdate => "artifactUpdate",
        _ => return None,
    };
    let json = event.encoded_ref(Encoding::StreamResponse, |event| {
        #[derive(Deserialize)]
        struct Envelope<'a> {
            #[serde(borrow)]
            data: &'a RawValue,
        }
        // The event's own JSON holds its A2A object as `data`: reuse those bytes.
        let data = serde_json::from_slice::<Envelope<'_>>(event.json())
            .map(|envelope| envelope.data.get().as_bytes().to_vec())
            .unwrap_or_default();
        let mut out = BytesMut::with_capacity(data.len() + member.len() + 5);
        out.put_u8(b'{');
        out.put_u8(b'"');
        out.put_slice(member.as_bytes());
        out.put_slice(b"\":");
        out.put_slice(&data);
        out.put_u8(b'}');
        out.freeze()
    });
    Some(json)
}

/// The frame of `event` for `binding`; `None` for an `error` event.
pub(crate) fn event_frame(event: &StoredEvent, binding: &Binding) -> Option<Bytes> {
    let json = stream_response(event)?;
    Some(match binding {
        Binding::Rest => event
            .encoded_ref(Encoding::StreamResponseFrame, |event| {
                data_frame(&event.id().to_string(), &[json])
            })
            .clone(),
        Binding::JsonRpc { envelope, .. } => {
            data_frame(&event.id().to_string(), &[envelope, json, b"}"])
        }
    })
}

/// The first frame of a subscription: `{"task": …}`, with the id of the newest event it
/// holds, so a client that resumes from it misses nothing.
pub(crate) fn snapshot_frame(snapshot: &TaskSnapshot, binding: &Binding) -> Bytes {
    let task = to_bytes(&snapshot.task);
    let id = snapshot.as_of.to_string();
    match binding {
        Binding::Rest => data_frame(&id, &[b"{\"task\":", &task, b"}"]),
        Binding::JsonRpc { envelope, .. } => {
            data_frame(&id, &[envelope, b"{\"task\":", &task, b"}}"])
        }
    }
}

/// An error in the middle of a stream: an `event: error` frame holding a JSON-RPC error
/// response or a `google.rpc.Status`, as A2A clients read them.
pub(crate) fn error_frame(err: &A2aError, binding: &Binding) -> Bytes {
    let data = match binding {
        Binding::Rest => err.status_body(),
        Binding::JsonRpc { id, .. } => err.jsonrpc_response(Some(id)),
    };
    let text = std::str::from_utf8(&data).unwrap_or_default();
    Frame::new()
        .event("error")
        .map(|frame| frame.data(text).build())
        .unwrap_or_default()
}

/// `id: <id>`, then one `data:` line of `parts` joined (JSON without raw line breaks).
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

#[cfg(test)]
mod tests {
    use super::*;
    use a2a_events::{A2aEvent, EventId, EventPayload, PlanId, TaskState, TaskStatusUpdateEvent};
    use a2a_sse_testkit::events;
    use serde_json::{Value, json};

    fn stored(payload: EventPayload) -> StoredEvent {
        let event = A2aEvent::new(
            EventId::new(7),
            PlanId::new("t-1").unwrap(),
            a2a_events::Timestamp::now(),
            payload,
        );
        StoredEvent::new(&event).unwrap()
    }

    fn working() -> StoredEvent {
        stored(EventPayload::StatusUpdate(TaskStatusUpdateEvent {
            task_id: "t-1".into(),
            context_id: "c".into(),
            status: TaskState::Working.into(),
            metadata: None,
        }))
    }

    fn data(frame: &[u8]) -> Value {
        let text = std::str::from_utf8(frame).unwrap();
        let line = text.lines().find_map(|l| l.strip_prefix("data: ")).unwrap();
        serde_json::from_str(line).unwrap()
    }

    #[test]
    fn the_stream_response_is_built_once_from_the_events_own_json() {
        let event = working();
        let first = stream_response(&event).unwrap().clone();
        assert_eq!(
            serde_json::from_slice::<Value>(&first).unwrap(),
            json!({"statusUpdate": {"taskId": "t-1", "contextId": "c", "status": {"state": "TASK_STATE_WORKING"}}})
        );
        assert_eq!(stream_response(&event).unwrap().as_ptr(), first.as_ptr());
        let rest = event_frame(&event, &Binding::Rest).unwrap();
        assert!(rest.starts_with(b"id: 7\ndata: {\"statusUpdate\":"));
        assert!(rest.ends_with(b"}\n\n"));
        let again = event_frame(&event, &Binding::Rest).unwrap();
        assert_eq!(
            rest.as_ptr(),
            again.as_ptr(),
            "the REST frame is shared too"
        );

        let id = RawValue::from_string("\"r\"".into()).unwrap();
        let rpc = event_frame(&event, &Binding::json_rpc(id)).unwrap();
        assert_eq!(
            data(&rpc),
            json!({"jsonrpc": "2.0", "id": "r", "result": {"statusUpdate": {"taskId": "t-1", "contextId": "c", "status": {"state": "TASK_STATE_WORKING"}}}})
        );
    }

    #[test]
    fn error_events_have_no_frame() {
        let event = stored(events::sized("t-1", 3).payload);
        assert!(event_frame(&event, &Binding::Rest).is_none());
    }

    #[test]
    fn snapshots_and_errors() {
        let payload = events::status("t-1", TaskState::Working).payload;
        let snapshot = TaskSnapshot::new(&PlanId::new("t-1").unwrap(), EventId::new(4), &payload);
        let rest = snapshot_frame(&snapshot, &Binding::Rest);
        assert!(rest.starts_with(b"id: 4\n"));
        assert_eq!(data(&rest)["task"]["status"]["state"], "TASK_STATE_WORKING");
        let id = RawValue::from_string("5".into()).unwrap();
        let binding = Binding::json_rpc(id);
        let rpc = snapshot_frame(&snapshot, &binding);
        assert_eq!(data(&rpc)["result"]["task"]["id"], "t-1");
        assert_eq!(data(&rpc)["id"], 5);

        let err = A2aError::Internal("lagged".into());
        let frame = error_frame(&err, &binding);
        assert!(frame.starts_with(b"event: error\ndata: "));
        assert_eq!(data(&frame)["error"]["code"], -32603);
        assert_eq!(data(&frame)["id"], 5);
        let frame = error_frame(&err, &Binding::Rest);
        assert_eq!(data(&frame)["error"]["status"], "INTERNAL");
    }
}
