//! The response body: the core's stream, ended as soon as the client is known to be gone.
//!
//! actix-web's HTTP/1 dispatcher allows half-closed connections, so when a client closes
//! its socket while the stream has nothing to send, actix notices nothing until a write
//! fails (the second write after the close). Without help an idle stream would hold its
//! subscription until two keep-alive comments later. [`LiveBody`] closes that gap in one
//! of two ways:
//!
//! - on a connection watched by [`watch_disconnects`](crate::watch_disconnects), it ends
//!   the body when the socket's read side closes: no bytes, no timer;
//! - elsewhere, it writes a [`PROBE`] comment after [`PROBE_INTERVAL`] of silence, so a
//!   closed connection fails a write within two intervals.

use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use a2a_sse_core::{SseStream, Timer, TokioTimer};
use bytes::Bytes;
use futures_core::Stream;
use pin_project_lite::pin_project;

use crate::watch::Closed;

/// Silence after which a stream on a connection without
/// [`watch_disconnects`](crate::watch_disconnects) writes a [`PROBE`]; a closed connection
/// is then dropped within about twice this time.
pub const PROBE_INTERVAL: Duration = Duration::from_millis(250);

/// The liveness probe: an empty SSE comment line, ignored by every client. It is only
/// written between whole frames.
pub const PROBE: &[u8] = b":\n";

pin_project! {
    /// An [`SseStream`] as an actix body stream.
    pub(crate) struct LiveBody {
        #[pin]
        inner: SseStream<TokioTimer>,
        closed: Option<Closed>,
        #[pin]
        probe: Option<tokio::time::Sleep>,
        rearm: bool,
        done: bool,
    }
}

impl LiveBody {
    /// Watches `closed` if given, probes otherwise.
    pub(crate) fn new(inner: SseStream<TokioTimer>, closed: Option<Closed>) -> Self {
        let probe = closed.is_none().then(|| TokioTimer.sleep(PROBE_INTERVAL));
        Self {
            inner,
            closed,
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
        if let Some(closed) = this.closed {
            if closed.as_mut().poll(cx).is_ready() {
                // Ending the body (rather than failing it) lets actix close the connection
                // without logging an error; the core stream is dropped with the body and
                // reports `ClientGone`.
                *this.done = true;
                return Poll::Ready(None);
            }
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
            TokioTimer.reset(probe.as_mut(), PROBE_INTERVAL);
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
    use futures_util::{FutureExt, StreamExt};

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

    async fn body(
        queue: &A2aEventQueue,
        keep_alive: Duration,
        closed: Option<Closed>,
    ) -> Pin<Box<LiveBody>> {
        let service = SseService::builder(queue.clone())
            .keep_alive(keep_alive)
            .build();
        let SseResponse::Stream(stream) = service.respond(&Get).await else {
            panic!("no stream");
        };
        let mut body = Box::pin(LiveBody::new(stream, closed));
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

    #[tokio::test(start_paused = true)]
    async fn probes_after_each_idle_interval() {
        let queue = A2aEventQueue::new();
        let mut body = body(&queue, Duration::from_secs(60), None).await;
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
        let mut body = body(&queue, Duration::from_millis(100), None).await;
        for _ in 0..10 {
            assert_eq!(&next(&mut body).await[..], a2a_sse_core::PING);
        }
    }

    #[tokio::test(start_paused = true)]
    async fn a_watched_stream_never_probes_and_ends_when_closed() {
        let queue = A2aEventQueue::new();
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let closed: Closed = Box::pin(rx.map(drop));
        let mut body = body(&queue, Duration::from_secs(60), Some(closed)).await;
        assert!(
            tokio::time::timeout(Duration::from_secs(30), body.next())
                .await
                .is_err()
        );
        assert_eq!(queue.subscriber_count(), 1);
        drop(tx);
        assert!(body.next().await.is_none());
        assert!(body.next().await.is_none());
        drop(body);
        assert_eq!(queue.subscriber_count(), 0);
    }
}
