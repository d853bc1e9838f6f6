//! [`SseStream`]: a subscription turned into event-stream bytes.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant};

use a2a_events::{
    Encoding, EventStream, LagNotice, ResetNotice, SharedEvent, StoredEvent, SubscriptionEnd,
    SubscriptionItem, TaskState,
};
use bytes::{Bytes, BytesMut};
use futures_core::{FusedStream, Stream};
use pin_project_lite::pin_project;
use serde_json::json;

use crate::a2a::A2aError;
use crate::a2a::encode::{self as a2a_encode, Binding};
use crate::frame::Frame;
use crate::hook::{ConnectionGuard, DisconnectReason};
use crate::telemetry;
use crate::timer::Timer;

/// Most frames coalesced into one chunk when several are ready at once.
const MAX_BATCH_FRAMES: usize = 64;
/// Most bytes coalesced into one chunk.
const MAX_BATCH_BYTES: usize = 64 * 1024;

/// The SSE frame of a queue event: `id`, `event` (its kind) and its JSON as `data`.
///
/// Computed once per event and cached in the event, so every subscriber shares it.
#[must_use]
pub fn event_frame(event: &StoredEvent) -> Bytes {
    event.encoded(Encoding::NativeFrame, encode_event_frame)
}

/// [`event_frame`], borrowed from the event's cache.
fn event_frame_ref(event: &StoredEvent) -> &Bytes {
    event.encoded_ref(Encoding::NativeFrame, encode_event_frame)
}

fn encode_event_frame(event: &StoredEvent) -> Bytes {
    let id = event.id().to_string();
    // The JSON comes from serde_json, so it is valid UTF-8 without raw line breaks; the id
    // is decimal and the kind a fixed name, so the fields are valid.
    let json = std::str::from_utf8(event.json()).unwrap_or_default();
    let frame = Frame::with_capacity(json.len() + id.len() + 40);
    match frame.id(&id).and_then(|f| f.event(event.kind().as_str())) {
        Ok(frame) => frame.data(json).build(),
        Err(_) => Bytes::new(),
    }
}

/// The `reset` control frame: history no longer reaches the requested id.
#[must_use]
pub fn reset_frame(notice: &ResetNotice) -> Bytes {
    let data = json!({
        "requestedId": notice.requested.to_string(),
        "oldestRetainedId": notice.oldest_retained.map(|id| id.to_string()),
    });
    control_frame("reset", &data)
}

/// The `lagged` control frame: the client fell behind and the server closes.
#[must_use]
pub fn lagged_frame(notice: &LagNotice) -> Bytes {
    let data = json!({ "lastEventId": notice.last_delivered.map(|id| id.to_string()) });
    control_frame("lagged", &data)
}

fn control_frame(name: &'static str, data: &serde_json::Value) -> Bytes {
    // A fixed event name without line breaks always encodes.
    Frame::new()
        .event(name)
        .map(|f| f.data(&data.to_string()).build())
        .unwrap_or_default()
}

/// What an A2A subscriber that fell behind its buffer is told before its stream ends.
fn lag_error(notice: &LagNotice) -> A2aError {
    let resume = notice.last_delivered.map_or_else(
        || "from the start".to_owned(),
        |id| format!("after event {id}"),
    );
    A2aError::Internal(format!(
        "this subscriber fell behind its buffer; subscribe again with Last-Event-ID to resume {resume}"
    ))
}

/// The first chunk of every stream: the reconnection delay and a comment, so the response
/// headers and the first body bytes reach the client at once.
#[must_use]
pub fn preamble(retry: Duration) -> Bytes {
    Frame::new()
        .retry(retry)
        .comment("a2a-sse stream open")
        .map(Frame::build)
        .unwrap_or_default()
}

/// The keep-alive chunk.
pub const PING: &[u8] = b": ping\n\n";

/// The liveness probe's chunk: an empty comment line, ignored by every client.
pub const PROBE: &[u8] = b":\n";

/// What a stream's frames look like.
#[derive(Debug, Clone)]
pub(crate) enum Framing {
    /// The native stream: [`event_frame`] per event, `reset` and `lagged` frames.
    Native,
    /// An A2A stream: the task first, `StreamResponse` items, and an end after a terminal
    /// or interrupted state.
    A2a(Binding),
}

/// How a stream paces itself when idle, and what it tells clients first.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct StreamOptions {
    pub(crate) keep_alive: Duration,
    pub(crate) retry: Duration,
    pub(crate) probe: Option<Duration>,
    /// How long the stream lives at most.
    pub(crate) lifetime: Option<Duration>,
}

pin_project! {
    /// A `Stream<Item = Bytes>` of SSE frames over one subscription.
    ///
    /// - It opens with [`preamble`].
    /// - Each queue event becomes its shared [`event_frame`]; when several are ready at
    ///   once they are coalesced into one chunk (whole frames only), so one write carries
    ///   them.
    /// - `reset` and `lagged` notices become control frames; after `lagged` it ends.
    /// - After `keep_alive` without sending anything, it sends [`PING`]. Sending only
    ///   notes the time (when the stream goes idle); the sleep is moved when it completes
    ///   early, and polled again only then or when the stream is polled by another task.
    /// - With a liveness probe shorter than the keep-alive, it sends [`PROBE`] instead,
    ///   after each probe interval without sending anything. Both run on the one sleep:
    ///   the probe keeps the connection busy, so no `ping` is needed beside it.
    /// - With a lifetime, it ends by itself once that long has passed, at its first idle
    ///   moment after (between frames); the lifetime's end shares the one sleep too.
    /// - It ends when the subscription ends, with the reason the subscription gives
    ///   (finished plan, lag, queue closed). The disconnect hook fires then, or when the
    ///   stream is dropped, whichever is first.
    #[must_use = "streams do nothing unless polled"]
    // `repr(C)` keeps the declared order: what every poll reads or writes comes first and
    // shares as few cache lines as it can (with 10,000 streams the state of the one being
    // polled is usually cold); the lifetime and the sleep come last. What only some
    // streams use (an A2A binding) is boxed, and what can be rebuilt (the preamble) is
    // not kept: every byte here is paid once per open stream.
    #[repr(C)]
    pub struct SseStream<T: Timer> {
        inner: EventStream,
        // What the sleep is set to; it may have completed already.
        deadline: Instant,
        // When something was last sent, as noted on going idle.
        last_sent: Instant,
        // Idle time before the idle chunk: the keep-alive, or the probe when shorter.
        idle: Duration,
        // The waker the sleep was last polled with.
        sleep_waker: Option<Waker>,
        // An A2A stream's binding; `None` for the native stream. Boxed: it is read per
        // event only as this pointer, and native streams pay 8 bytes for it, not 56.
        a2a: Option<Box<Binding>>,
        // The preamble went out.
        opened: bool,
        // Something was sent since the stream was last idle.
        sent: bool,
        done: bool,
        // The idle chunk is the probe's, not the keep-alive's (read only when idle).
        probing: bool,
        ending: Option<DisconnectReason>,
        // Its counters first: see `ConnectionGuard`.
        guard: ConnectionGuard,
        // When the stream ends by itself, if it has a lifetime (read when idle).
        end_at: Option<Instant>,
        // The `retry:` field's milliseconds: the preamble is built from it when sent.
        retry_ms: u32,
        #[pin]
        sleep: T::Sleep,
        timer: T,
    }
}

impl<T: Timer> SseStream<T> {
    pub(crate) fn new(
        inner: EventStream,
        timer: T,
        options: StreamOptions,
        framing: Framing,
        guard: ConnectionGuard,
    ) -> Self {
        let (idle, probing) = match options.probe {
            Some(probe) if probe < options.keep_alive => (probe, true),
            _ => (options.keep_alive, false),
        };
        let now = timer.now();
        let end_at = options.lifetime.map(|lifetime| now + lifetime);
        let deadline = end_at.map_or(now + idle, |end| end.min(now + idle));
        Self {
            inner,
            sleep: timer.sleep_until(deadline),
            timer,
            idle,
            probing,
            end_at,
            retry_ms: u32::try_from(options.retry.as_millis()).unwrap_or(u32::MAX),
            deadline,
            last_sent: now,
            opened: false,
            sent: false,
            sleep_waker: None,
            ending: None,
            done: false,
            a2a: match framing {
                Framing::Native => None,
                Framing::A2a(binding) => Some(Box::new(binding)),
            },
            guard,
        }
    }
}

/// The first frame of a batch: kept as the event itself until it is known whether the
/// chunk is that frame alone (then the shared encoding is handed out) or several frames
/// joined (then it is only copied, and the encoding's reference count is left alone).
enum First {
    Event(SharedEvent),
    Frame(Bytes),
}

impl First {
    fn as_bytes(&self) -> &[u8] {
        match self {
            Self::Event(event) => event_frame_ref(event),
            Self::Frame(frame) => frame,
        }
    }

    fn into_bytes(self) -> Bytes {
        match self {
            Self::Event(event) => event_frame(&event),
            Self::Frame(frame) => frame,
        }
    }
}

/// Frames gathered in one poll.
#[derive(Default)]
struct Batch {
    first: Option<First>,
    rest: Option<BytesMut>,
    frames: usize,
    bytes: usize,
}

impl Batch {
    fn push_event(&mut self, event: SharedEvent) {
        if self.first.is_none() {
            self.bytes += event_frame_ref(&event).len();
            self.frames += 1;
            self.first = Some(First::Event(event));
        } else {
            self.push_slice(event_frame_ref(&event));
        }
    }

    fn push_frame(&mut self, frame: Bytes) {
        if self.first.is_none() {
            self.bytes += frame.len();
            self.frames += 1;
            self.first = Some(First::Frame(frame));
        } else {
            self.push_slice(&frame);
        }
    }

    /// Appends a frame after the first one.
    fn push_slice(&mut self, frame: &[u8]) {
        self.frames += 1;
        self.bytes += frame.len();
        match (&self.first, &mut self.rest) {
            (Some(first), None) => {
                let first = first.as_bytes();
                // Room for a few more: a subscriber that is behind usually has several.
                let room = (first.len() + frame.len() * 4).min(MAX_BATCH_BYTES);
                let mut joined = BytesMut::with_capacity(room);
                joined.extend_from_slice(first);
                joined.extend_from_slice(frame);
                self.rest = Some(joined);
            }
            (_, Some(joined)) => joined.extend_from_slice(frame),
            (None, None) => unreachable!("push_slice only follows a first frame"),
        }
    }

    fn is_full(&self) -> bool {
        self.frames >= MAX_BATCH_FRAMES || self.bytes >= MAX_BATCH_BYTES
    }

    fn into_bytes(self) -> Option<Bytes> {
        match self.rest {
            Some(joined) => Some(joined.freeze()),
            None => self.first.map(First::into_bytes),
        }
    }
}

impl<T: Timer> Stream for SseStream<T> {
    type Item = Bytes;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Bytes>> {
        let mut this = self.project();
        if *this.done {
            return Poll::Ready(None);
        }
        if !*this.opened {
            *this.opened = true;
            let preamble = preamble(Duration::from_millis(u64::from(*this.retry_ms)));
            this.guard.sent(0, preamble.len());
            *this.sent = true;
            return Poll::Ready(Some(preamble));
        }
        let mut batch = Batch::default();
        let mut events = 0;
        while this.ending.is_none() && !batch.is_full() {
            match Pin::new(&mut *this.inner).poll_next(cx) {
                Poll::Ready(Some(SubscriptionItem::Event(event))) => {
                    let Some(binding) = this.a2a.as_deref() else {
                        events += 1;
                        batch.push_event(event);
                        continue;
                    };
                    if let Some(frame) = a2a_encode::event_frame(&event, binding) {
                        events += 1;
                        batch.push_frame(frame);
                    }
                    // A2A streams end when the task waits for its client, too.
                    if event.state().is_some_and(TaskState::is_interrupted) {
                        *this.ending = Some(DisconnectReason::Interrupted);
                    }
                }
                Poll::Ready(Some(SubscriptionItem::Snapshot(snapshot))) => {
                    if let Some(binding) = this.a2a.as_deref() {
                        batch.push_frame(a2a_encode::snapshot_frame(&snapshot, binding));
                    }
                }
                Poll::Ready(Some(SubscriptionItem::Reset(notice))) => {
                    // An A2A stream that history does not cover starts with the task instead.
                    if this.a2a.is_none() {
                        metrics::counter!(telemetry::RESETS).increment(1);
                        batch.push_frame(reset_frame(&notice));
                    }
                }
                Poll::Ready(Some(SubscriptionItem::End(end))) => {
                    *this.ending = Some(match end {
                        SubscriptionEnd::Lagged(notice) => {
                            metrics::counter!(telemetry::LAGGED).increment(1);
                            batch.push_frame(match this.a2a.as_deref() {
                                None => lagged_frame(&notice),
                                Some(binding) => {
                                    a2a_encode::error_frame(&lag_error(&notice), binding)
                                }
                            });
                            DisconnectReason::Lagged
                        }
                        SubscriptionEnd::PlanFinished { .. } => DisconnectReason::Finished,
                        _ => DisconnectReason::Shutdown,
                    });
                }
                // Items of later versions of the events crate that this one cannot show.
                Poll::Ready(Some(_)) => {}
                // A backend that ends without saying why: as if it closed.
                Poll::Ready(None) => *this.ending = Some(DisconnectReason::Shutdown),
                Poll::Pending => break,
            }
        }
        if let Some(chunk) = batch.into_bytes() {
            this.guard.sent(events, chunk.len());
            *this.sent = true;
            return Poll::Ready(Some(chunk));
        }
        if let Some(reason) = *this.ending {
            *this.done = true;
            this.guard.finish(reason);
            return Poll::Ready(None);
        }
        // Idle: only now does the keep-alive clock matter.
        let now = this.timer.now();
        if std::mem::take(this.sent) {
            *this.last_sent = now;
            this.guard.report_due(now);
        }
        if this.end_at.is_some_and(|end| now >= end) {
            // Between frames: the client resumes with the last id it got.
            *this.done = true;
            this.guard.finish(DisconnectReason::MaxLifetime);
            return Poll::Ready(None);
        }
        let mut poll_sleep = this
            .sleep_waker
            .as_ref()
            .is_none_or(|waker| !waker.will_wake(cx.waker()));
        if now >= *this.deadline {
            let due = *this.last_sent + *this.idle;
            if now >= due {
                let chunk = if *this.probing { PROBE } else { PING };
                this.guard.sent(0, chunk.len());
                *this.sent = true;
                return Poll::Ready(Some(Bytes::from_static(chunk)));
            }
            // Completed early: something was sent since it was set.
            let due = this.end_at.map_or(due, |end| end.min(due));
            *this.deadline = due;
            this.timer.reset(this.sleep.as_mut(), due);
            poll_sleep = true;
        }
        if poll_sleep {
            // Registers this task's waker. The deadline is ahead, so the sleep is pending,
            // unless it passed in the meantime: then poll again to handle it.
            *this.sleep_waker = Some(cx.waker().clone());
            if this.sleep.as_mut().poll(cx).is_ready() {
                cx.waker().wake_by_ref();
            }
        }
        Poll::Pending
    }
}

impl<T: Timer> FusedStream for SseStream<T> {
    fn is_terminated(&self) -> bool {
        self.done
    }
}

impl<T: Timer> fmt::Debug for SseStream<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SseStream")
            .field("idle", &self.idle)
            .field("done", &self.done)
            .field("guard", &self.guard)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
#[path = "stream_tests.rs"]
mod tests;

#[cfg(test)]
#[path = "keep_alive_tests.rs"]
mod keep_alive_tests;
