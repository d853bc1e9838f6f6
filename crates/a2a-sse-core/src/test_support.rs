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
use crate::hook::{ConnectInfo, ConnectionGuard, DisconnectInfo};
use crate::request::{RequestError, RequestHead};
use crate::response::SseResponse;
use crate::stream::{Framing, SseStream, StreamOptions};
use crate::timer::{Timer, TokioTimer};

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

/// A request as an adapter would see it.
#[derive(Debug, Clone)]
pub(crate) struct Head {
    pub(crate) method: &'static str,
    pub(crate) path: &'static str,
    pub(crate) query: Option<&'static str>,
    pub(crate) headers: Vec<(&'static str, &'static [u8])>,
}

impl Head {
    pub(crate) fn get(query: &'static str) -> Self {
        Self {
            method: "GET",
            path: crate::config::DEFAULT_PATH,
            query: Some(query).filter(|q| !q.is_empty()),
            headers: Vec::new(),
        }
    }

    /// A request with `method` to `path`, without query or headers.
    pub(crate) fn new(method: &'static str, path: &'static str) -> Self {
        Self {
            method,
            path,
            query: None,
            headers: Vec::new(),
        }
    }

    pub(crate) fn query(mut self, query: &'static str) -> Self {
        self.query = Some(query);
        self
    }

    pub(crate) fn header(mut self, name: &'static str, value: &'static str) -> Self {
        self.headers.push((name, value.as_bytes()));
        self
    }
}

impl RequestHead for Head {
    fn method(&self) -> &str {
        self.method
    }

    fn path(&self) -> &str {
        self.path
    }

    fn query(&self) -> Option<&str> {
        self.query
    }

    fn header(&self, name: &str) -> Option<&[u8]> {
        self.headers.iter().find(|h| h.0 == name).map(|h| h.1)
    }

    fn for_each_header(&self, each: &mut dyn FnMut(&str, &[u8])) {
        for (name, value) in &self.headers {
            each(name, value);
        }
    }
}

/// A stream plus every chunk it yielded, to compare byte counts with the hook's.
pub(crate) struct Tap<T: Timer> {
    pub(crate) stream: Pin<Box<SseStream<T>>>,
    pub(crate) chunks: Vec<Bytes>,
}

impl<T: Timer> Tap<T> {
    pub(crate) fn new(stream: SseStream<T>) -> Self {
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
pub(crate) fn stream<T: Timer>(response: SseResponse<T>) -> Tap<T> {
    match response {
        SseResponse::Stream(stream) => Tap::new(stream),
        other => panic!("expected a stream, got {other:?}"),
    }
}

#[track_caller]
pub(crate) fn error<T: Timer>(response: SseResponse<T>) -> RequestError {
    match response {
        SseResponse::Error(err) => err,
        other => panic!("expected an error, got {other:?}"),
    }
}

/// The ids of the events in the next chunk.
pub(crate) async fn next_ids<T: Timer>(tap: &mut Tap<T>) -> Vec<String> {
    let chunk = tap.next().await.unwrap();
    decode(&chunk).into_iter().map(|e| e.id).collect()
}

/// A stream over `sub`, reporting to `hook`, as the service would open it.
pub(crate) fn open(sub: Subscription, keep_alive: Duration, hook: &Disconnects) -> Tap<TokioTimer> {
    let options = StreamOptions {
        keep_alive,
        retry: DEFAULT_RETRY,
        probe: None,
        lifetime: None,
    };
    open_with(sub, options, hook)
}

/// [`open`] with every stream option.
pub(crate) fn open_with(
    sub: Subscription,
    options: StreamOptions,
    hook: &Disconnects,
) -> Tap<TokioTimer> {
    let guard = ConnectionGuard::new(1, sub.plan().cloned(), Some(Arc::new(hook.hook())), None);
    Tap::new(SseStream::new(
        EventStream::from(sub),
        TokioTimer,
        options,
        Framing::Native,
        guard,
    ))
}

pub(crate) fn open_all(queue: &A2aEventQueue, hook: &Disconnects) -> Tap<TokioTimer> {
    let sub = queue.subscribe(SubscribeRequest::all()).unwrap();
    open(sub, Duration::from_secs(15), hook)
}
