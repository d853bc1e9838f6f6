//! The response body: the core's stream, plus the optional liveness probe.
//!
//! actix-web's HTTP/1 dispatcher allows half-closed connections by default, so when a
//! client closes its socket while the stream has nothing to send, actix notices nothing
//! until a write fails (the second write after the close). Without help an idle stream
//! would hold its subscription until two keep-alive comments later. Two fixes:
//!
//! - the server is built with `HttpServer::h1_allow_half_closed(false)`: actix then ends
//!   the connection, and drops this body, as soon as it reads EOF. No bytes, no timer:
//!   the body needs [`Probe::Off`] and nothing else;
//! - elsewhere, [`Probe::On`]: the body writes a [`PROBE`] comment after
//!   [`PROBE_INTERVAL`] of silence, so a closed connection fails a write within two
//!   intervals.

use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use a2a_sse_core::{SseStream, Timer, TokioTimer};
use bytes::Bytes;
use futures_core::Stream;
use pin_project_lite::pin_project;

/// Silence after which a stream with [`Probe::On`] writes a [`PROBE`]; a closed
/// connection is then dropped within about twice this time.
pub const PROBE_INTERVAL: Duration = Duration::from_millis(250);

/// The liveness probe: an empty SSE comment line, ignored by every client. It is only
/// written between whole frames.
pub const PROBE: &[u8] = b":\n";

/// Whether an idle stream writes [`PROBE`] comments to find out that its client is gone.
///
/// Pick [`Probe::Off`] exactly when the server is built with
/// `HttpServer::h1_allow_half_closed(false)`; see the crate's "Disconnects" section.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub enum Probe {
    /// After [`PROBE_INTERVAL`] with nothing sent, write [`PROBE`]; the clock restarts
    /// after every chunk. Needed while the server allows half-closed connections (actix's
    /// default): a closed client is then dropped within about 500 ms. Costs a 7-byte
    /// write and a timer wake-up four times a second per idle stream; a busy stream, or
    /// one whose keep-alive is shorter than the interval, never probes.
    #[default]
    On,
    /// Never probe. Right with `h1_allow_half_closed(false)`, where actix drops the stream
    /// as soon as the client closes. On a server that allows half-closed connections, a
    /// client that closes an idle stream holds its subscription (and its connection-limit
    /// place) until the second write after the close: up to two keep-alive intervals.
    Off,
}

pin_project! {
    /// An [`SseStream`] as an actix body stream.
    // `repr(C)`: the flags every poll reads sit next to the stream's own per-poll fields,
    // the probe's sleep after them.
    #[repr(C)]
    pub(crate) struct LiveBody {
        done: bool,
        rearm: bool,
        #[pin]
        inner: SseStream<TokioTimer>,
        #[pin]
        probe: Option<tokio::time::Sleep>,
    }
}

impl LiveBody {
    pub(crate) fn new(inner: SseStream<TokioTimer>, probe: Probe) -> Self {
        let probe = (probe == Probe::On).then(|| TokioTimer.sleep(PROBE_INTERVAL));
        Self {
            inner,
            probe,
            rearm: false,
            done: false,
        }
    }
}

impl Stream for LiveBody {
    type Item = Result<Bytes, Infallible>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.project();
        if *this.done {
            return Poll::Ready(None);
        }
        match this.inner.poll_next(cx) {
            Poll::Ready(Some(chunk)) => {
                *this.rearm = true;
                return Poll::Ready(Some(Ok(chunk)));
            }
            Poll::Ready(None) => {
                *this.done = true;
                return Poll::Ready(None);
            }
            Poll::Pending => {}
        }
        // Idle: only now does the probe clock matter (re-armed once per idle period).
        let Some(mut probe) = this.probe.as_pin_mut() else {
            return Poll::Pending;
        };
        if std::mem::take(this.rearm) {
            TokioTimer.reset(probe.as_mut(), TokioTimer.now() + PROBE_INTERVAL);
        }
        match probe.poll(cx) {
            Poll::Ready(()) => {
                *this.rearm = true;
                Poll::Ready(Some(Ok(Bytes::from_static(PROBE))))
            }
            Poll::Pending => Poll::Pending,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use a2a_events::{A2aEventQueue, ErrorPayload, EventPayload, NewEvent, PlanId};
    use a2a_sse_core::{RequestHead, SseResponse, SseService};
    use futures_util::StreamExt;

    struct Get;
    impl RequestHead for Get {
        fn method(&self) -> &str {
            "GET"
        }
        fn query(&self) -> Option<&str> {
            None
        }
        fn header(&self, _: &str) -> Option<&[u8]> {
            None
        }
    }

    async fn body(queue: &A2aEventQueue, keep_alive: Duration, probe: Probe) -> Pin<Box<LiveBody>> {
        let service = SseService::builder(queue.clone())
            .keep_alive(keep_alive)
            .build();
        let SseResponse::Stream(stream) = service.respond(&Get).await else {
            panic!("no stream");
        };
        let mut body = Box::pin(LiveBody::new(stream, probe));
        assert!(next(&mut body).await.starts_with(b"retry:"));
        body
    }

    async fn next(body: &mut Pin<Box<LiveBody>>) -> Bytes {
        let Some(Ok(chunk)) = body.next().await else {
            panic!("the body ended");
        };
        chunk
    }

    fn event(queue: &A2aEventQueue) {
        let payload = ErrorPayload {
            code: 1,
            message: "m".into(),
            data: None,
        };
        let plan = PlanId::new("p").unwrap();
        queue
            .publish(NewEvent::new(plan, EventPayload::Error(payload)))
            .unwrap();
    }

    #[test]
    fn the_flags_sit_just_before_the_stream() {
        // Read first on every poll: in the stream's first cache line, not after its sleep.
        assert_eq!(std::mem::offset_of!(LiveBody, done), 0);
        assert!(std::mem::offset_of!(LiveBody, inner) <= 8);
    }

    #[tokio::test(start_paused = true)]
    async fn probes_after_each_idle_interval() {
        let queue = A2aEventQueue::new();
        let mut body = body(&queue, Duration::from_secs(60), Probe::On).await;
        let start = tokio::time::Instant::now();
        assert_eq!(&next(&mut body).await[..], PROBE);
        assert_eq!(start.elapsed(), PROBE_INTERVAL);
        // An event restarts the probe clock.
        tokio::time::sleep(PROBE_INTERVAL / 2).await;
        event(&queue);
        assert!(next(&mut body).await.starts_with(b"id: 1\n"));
        let sent = tokio::time::Instant::now();
        assert_eq!(&next(&mut body).await[..], PROBE);
        assert_eq!(sent.elapsed(), PROBE_INTERVAL);
    }

    #[tokio::test(start_paused = true)]
    async fn a_shorter_keep_alive_leaves_nothing_to_probe() {
        let queue = A2aEventQueue::new();
        let mut body = body(&queue, Duration::from_millis(100), Probe::On).await;
        for _ in 0..10 {
            assert_eq!(&next(&mut body).await[..], a2a_sse_core::PING);
        }
    }

    #[tokio::test(start_paused = true)]
    async fn without_the_probe_an_idle_stream_writes_nothing_until_its_keep_alive() {
        let queue = A2aEventQueue::new();
        let mut body = body(&queue, Duration::from_secs(60), Probe::Off).await;
        let start = tokio::time::Instant::now();
        assert!(
            tokio::time::timeout(Duration::from_secs(30), body.next())
                .await
                .is_err()
        );
        event(&queue);
        assert!(next(&mut body).await.starts_with(b"id: 1\n"));
        assert_eq!(&next(&mut body).await[..], a2a_sse_core::PING);
        assert_eq!(start.elapsed(), Duration::from_secs(90));
        drop(body);
        assert_eq!(queue.subscriber_count(), 0);
    }
}
