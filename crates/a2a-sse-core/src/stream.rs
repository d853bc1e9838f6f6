//! [`SseStream`]: a subscription turned into event-stream bytes, paced.
//!
//! The stream decides *when* to send: the preamble first, ready frames coalesced into one
//! chunk, a keep-alive comment when idle, the end. What the bytes of each item are is its
//! [`Framing`]'s business.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant};

use a2a_events::{Encoded, EventStream, SubscriptionEnd, SubscriptionItem};
use bytes::{Bytes, BytesMut};
use futures_core::{FusedStream, Stream};
use pin_project_lite::pin_project;
use tokio::time::Sleep;

use crate::frame::{Fixed, Frame};
use crate::framing::Framing;
use crate::hook::{ConnectionGuard, DisconnectReason};
use crate::telemetry;

/// Most frames coalesced into one chunk when several are ready at once.
const MAX_BATCH_FRAMES: usize = 64;
/// Most bytes coalesced into one chunk.
const MAX_BATCH_BYTES: usize = 64 * 1024;

const OPEN: Fixed = Fixed::new("a2a-sse stream open");

/// The first chunk of every stream: the reconnection delay and a comment, so the response
/// headers and the first body bytes reach the client at once.
#[must_use]
pub fn preamble(retry: Duration) -> Bytes {
    Frame::new().retry(retry).note(OPEN).build()
}

/// The keep-alive chunk.
pub const PING: &[u8] = b": ping\n\n";

/// The liveness probe's chunk: an empty comment line, ignored by every client.
pub const PROBE: &[u8] = b":\n";

/// Now, on tokio's clock (which tests can pause).
fn now() -> Instant {
    tokio::time::Instant::now().into_std()
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
    /// - Each item of the subscription becomes what its [`Framing`] makes of it (the
    ///   native stream: each event's shared frame, `reset` and `lagged` control frames);
    ///   when several are ready at once they are coalesced into one chunk (whole frames
    ///   only), so one write carries them.
    /// - After `keep_alive` without sending anything, it sends [`PING`]. Sending only
    ///   notes the time (when the stream goes idle); the sleep is moved when it completes
    ///   early, and polled again only then or when the stream is polled by another task.
    /// - With a liveness probe shorter than the keep-alive, it sends [`PROBE`] instead,
    ///   after each probe interval without sending anything. Both run on the one sleep:
    ///   the probe keeps the connection busy, so no `ping` is needed beside it.
    /// - With a lifetime, it ends by itself once that long has passed, at its first idle
    ///   moment after (between frames); the lifetime's end shares the one sleep too.
    /// - It ends when the subscription ends, with the reason the subscription gives
    ///   (finished plan, lag, queue closed), or after an event its framing ends on. The
    ///   disconnect hook fires then, or when the stream is dropped, whichever is first.
    ///
    /// It runs on tokio's clock, as axum and actix-web both do.
    #[must_use = "streams do nothing unless polled"]
    // `repr(C)` keeps the declared order: what every poll reads or writes comes first and
    // shares as few cache lines as it can (with 10,000 streams the state of the one being
    // polled is usually cold); the lifetime and the sleep come last. What can be rebuilt
    // (the preamble) is not kept: every byte here is paid once per open stream.
    #[repr(C)]
    pub struct SseStream {
        inner: EventStream,
        // What the sleep is set to; it may have completed already.
        deadline: Instant,
        // When something was last sent, as noted on going idle.
        last_sent: Instant,
        // Idle time before the idle chunk, in nanoseconds: the keep-alive, or the probe
        // when shorter. (Not a `Duration`: its 16 bytes would push the per-poll fields
        // past three cache lines.)
        idle_nanos: u64,
        // The waker the sleep was last polled with.
        sleep_waker: Option<Waker>,
        // What the bytes look like. The native framing is zero-sized: boxing it costs
        // no allocation.
        framing: Box<dyn Framing>,
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
        sleep: Sleep,
    }

    impl PinnedDrop for SseStream {
        fn drop(this: Pin<&mut Self>) {
            let this = this.project();
            // Dropped before it ended by itself: the client went away.
            this.guard.finish(DisconnectReason::ClientGone, this.framing.label());
        }
    }
}

impl SseStream {
    pub(crate) fn new(
        inner: EventStream,
        options: StreamOptions,
        framing: Box<dyn Framing>,
        guard: ConnectionGuard,
    ) -> Self {
        let (idle, probing) = match options.probe {
            Some(probe) if probe < options.keep_alive => (probe, true),
            _ => (options.keep_alive, false),
        };
        let now = now();
        let end_at = options.lifetime.map(|lifetime| now + lifetime);
        let deadline = end_at.map_or(now + idle, |end| end.min(now + idle));
        guard.opened(framing.label());
        Self {
            inner,
            sleep: tokio::time::sleep_until(deadline.into()),
            idle_nanos: u64::try_from(idle.as_nanos()).unwrap_or(u64::MAX),
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
            framing,
            guard,
        }
    }
}

/// Frames gathered in one poll: the first as it came (a shared frame stays shared when it
/// goes out alone), the others copied after it.
#[derive(Default)]
struct Batch {
    first: Option<Bytes>,
    rest: Option<BytesMut>,
    frames: usize,
    bytes: usize,
}

impl Batch {
    fn push(&mut self, frame: Encoded<'_>) {
        if self.first.is_none() {
            self.push_bytes(frame.into_bytes());
        } else {
            self.push_slice(&frame);
        }
    }

    fn push_bytes(&mut self, frame: Bytes) {
        if self.first.is_none() {
            self.bytes += frame.len();
            self.frames += 1;
            self.first = Some(frame);
        } else {
            self.push_slice(&frame);
        }
    }

    /// Appends a frame after the first one.
    fn push_slice(&mut self, frame: &[u8]) {
        self.frames += 1;
        self.bytes += frame.len();
        match (&mut self.rest, &self.first) {
            (Some(joined), _) => joined.extend_from_slice(frame),
            (None, Some(first)) => {
                // Room for a few more: a subscriber that is behind usually has several.
                let room = (first.len() + frame.len() * 4).min(MAX_BATCH_BYTES);
                let mut joined = BytesMut::with_capacity(room);
                joined.extend_from_slice(first);
                joined.extend_from_slice(frame);
                self.rest = Some(joined);
            }
            (None, None) => self.first = Some(Bytes::copy_from_slice(frame)),
        }
    }

    fn is_full(&self) -> bool {
        self.frames >= MAX_BATCH_FRAMES || self.bytes >= MAX_BATCH_BYTES
    }

    fn into_bytes(self) -> Option<Bytes> {
        match self.rest {
            Some(joined) => Some(joined.freeze()),
            None => self.first,
        }
    }
}

impl Stream for SseStream {
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
        let framing = &**this.framing;
        let mut batch = Batch::default();
        let mut events = 0;
        while this.ending.is_none() && !batch.is_full() {
            match Pin::new(&mut *this.inner).poll_next(cx) {
                Poll::Ready(Some(SubscriptionItem::Event(event))) => {
                    if let Some(frame) = framing.event(&event) {
                        events += 1;
                        batch.push(frame);
                    }
                    if let Some(reason) = framing.ends_after(&event) {
                        *this.ending = Some(reason);
                    }
                }
                Poll::Ready(Some(SubscriptionItem::Snapshot(snapshot))) => {
                    if let Some(frame) = framing.snapshot(&snapshot) {
                        batch.push_bytes(frame);
                    }
                }
                Poll::Ready(Some(SubscriptionItem::Reset(notice))) => {
                    if let Some(frame) = framing.reset(&notice) {
                        metrics::counter!(telemetry::RESETS).increment(1);
                        batch.push_bytes(frame);
                    }
                }
                Poll::Ready(Some(SubscriptionItem::End(end))) => {
                    *this.ending = Some(match end {
                        SubscriptionEnd::Lagged(notice) => {
                            metrics::counter!(telemetry::LAGGED).increment(1);
                            batch.push_bytes(framing.lagged(&notice));
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
            this.guard.finish(reason, framing.label());
            return Poll::Ready(None);
        }
        // Idle: only now does the keep-alive clock matter.
        let now = now();
        if std::mem::take(this.sent) {
            *this.last_sent = now;
            this.guard.report_due(now);
        }
        if this.end_at.is_some_and(|end| now >= end) {
            // Between frames: the client resumes with the last id it got.
            *this.done = true;
            this.guard
                .finish(DisconnectReason::MaxLifetime, framing.label());
            return Poll::Ready(None);
        }
        let mut poll_sleep = this
            .sleep_waker
            .as_ref()
            .is_none_or(|waker| !waker.will_wake(cx.waker()));
        if now >= *this.deadline {
            let due = *this.last_sent + Duration::from_nanos(*this.idle_nanos);
            if now >= due {
                let chunk = if *this.probing { PROBE } else { PING };
                this.guard.sent(0, chunk.len());
                *this.sent = true;
                return Poll::Ready(Some(Bytes::from_static(chunk)));
            }
            // Completed early: something was sent since it was set.
            let due = this.end_at.map_or(due, |end| end.min(due));
            *this.deadline = due;
            this.sleep.as_mut().reset(due.into());
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

impl FusedStream for SseStream {
    fn is_terminated(&self) -> bool {
        self.done
    }
}

impl fmt::Debug for SseStream {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SseStream")
            .field("binding", &self.framing.label())
            .field("idle", &Duration::from_nanos(self.idle_nanos))
            .field("done", &self.done)
            .field("guard", &self.guard)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests;

#[cfg(test)]
mod keep_alive_tests;
