//! Helpers shared by the unit tests: events, a request head, a hook recorder, and a
//! stream tap that remembers what it yielded.

use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use a2a_events::{
    A2aEventQueue, EventId, EventStream, NewEvent, PlanId, SubscribeRequest, Subscription,
    TaskState,
};
use a2a_sse_testkit::{Decoder, Event, Recorder, events};
use bytes::Bytes;
use futures_util::StreamExt;

use crate::config::DEFAULT_RETRY;
use crate::framing::NativeFraming;
use crate::hook::{ConnectInfo, ConnectionGuard, DisconnectInfo};
use crate::request::{OwnedHead, RequestError};
use crate::response::SseResponse;
use crate::stream::{SseStream, StreamOptions};

pub(crate) fn plan(name: &str) -> PlanId {
    events::plan(name)
}

pub(crate) fn status(plan: &PlanId, state: TaskState) -> NewEvent {
    events::status(plan.as_str(), state)
}

/// An `error` event whose JSON is a little more than `size` bytes.
pub(crate) fn sized(plan: &PlanId, size: usize) -> NewEvent {
    events::sized(plan.as_str(), size)
}

pub(crate) fn publish(queue: &A2aEventQueue, plan: &PlanId, state: TaskState) -> EventId {
    queue.publish(status(plan, state)).unwrap()
}

/// Decodes whole frames with the reference decoder.
pub(crate) fn decode(bytes: &[u8]) -> Vec<Event> {
    Decoder::new().feed(bytes)
}

pub(crate) type Disconnects = Recorder<DisconnectInfo>;
pub(crate) type Connects = Recorder<ConnectInfo>;

/// The body of a request without one.
pub(crate) fn no_body() -> futures_util::stream::Empty<Result<Bytes, std::convert::Infallible>> {
    futures_util::stream::empty()
}

/// A `GET` of the native stream with `query` (none when empty).
pub(crate) fn get(query: &str) -> OwnedHead {
    let head = OwnedHead::new("GET", crate::config::DEFAULT_PATH);
    if query.is_empty() {
        head
    } else {
        head.query(query)
    }
}

/// A stream plus every chunk it yielded, to compare byte counts with the hook's.
pub(crate) struct Tap {
    pub(crate) stream: Pin<Box<SseStream>>,
    pub(crate) chunks: Vec<Bytes>,
}

impl Tap {
    pub(crate) fn new(stream: SseStream) -> Self {
        Self {
            stream: Box::pin(stream),
            chunks: Vec::new(),
        }
    }

    pub(crate) async fn next(&mut self) -> Option<Bytes> {
        let chunk = self.stream.next().await?;
        self.chunks.push(chunk.clone());
        Some(chunk)
    }

    pub(crate) fn bytes(&self) -> u64 {
        self.chunks.iter().map(|c| c.len() as u64).sum()
    }
}

#[track_caller]
pub(crate) fn stream(response: SseResponse) -> Tap {
    match response {
        SseResponse::Stream(stream) => Tap::new(stream),
        other => panic!("expected a stream, got {other:?}"),
    }
}

#[track_caller]
pub(crate) fn error(response: SseResponse) -> RequestError {
    match response {
        SseResponse::Error(err) => err,
        other => panic!("expected an error, got {other:?}"),
    }
}

/// The ids of the events in the next chunk.
pub(crate) async fn next_ids(tap: &mut Tap) -> Vec<String> {
    let chunk = tap.next().await.unwrap();
    decode(&chunk).into_iter().map(|e| e.id).collect()
}

/// A stream over `sub`, reporting to `hook`, as the service would open it.
pub(crate) fn open(sub: Subscription, keep_alive: Duration, hook: &Disconnects) -> Tap {
    let options = StreamOptions {
        keep_alive,
        retry: DEFAULT_RETRY,
        probe: None,
        lifetime: None,
    };
    open_with(sub, options, hook)
}

/// [`open`] with every stream option.
pub(crate) fn open_with(sub: Subscription, options: StreamOptions, hook: &Disconnects) -> Tap {
    let guard = ConnectionGuard::new(1, sub.plan().cloned(), Some(Arc::new(hook.hook())), None);
    Tap::new(SseStream::new(
        EventStream::from(sub),
        options,
        Box::new(NativeFraming),
        guard,
    ))
}

pub(crate) fn open_all(queue: &A2aEventQueue, hook: &Disconnects) -> Tap {
    let sub = queue.subscribe(SubscribeRequest::all()).unwrap();
    open(sub, Duration::from_secs(15), hook)
}
