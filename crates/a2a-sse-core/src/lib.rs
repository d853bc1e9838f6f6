//! Server-Sent Events for A2A plan-execution events, independent of any web framework.
//!
//! The core turns an [`a2a_events`] subscription into a `Stream<Item = Bytes>` of
//! event-stream frames, and holds every policy an HTTP endpoint needs, so adapters only
//! route and convert:
//!
//! - [`frame`]: the spec-exact encoder ([`Frame`]);
//! - [`SseStream`]: preamble, shared event frames, `reset`/`lagged` control frames,
//!   keep-alive comments, coalescing of ready frames, and the end of the stream;
//! - [`SseRequest`] and [`RequestError`]: `plan_id`, `Last-Event-ID` (header or
//!   `last_event_id` parameter, the header wins), status codes and JSON error bodies;
//! - [`SseService`]: method check, authorization hook, connection limit, subscription,
//!   `204` after a finished plan, the response headers ([`STREAM_HEADERS`]) and the
//!   connect/disconnect hooks ([`DisconnectInfo`]).
//!
//! # Serving a request
//!
//! ```
//! use a2a_events::A2aEventQueue;
//! use a2a_sse_core::{RequestHead, SseResponse, SseService};
//! use futures_util::StreamExt;
//!
//! struct Get(&'static str);
//! impl RequestHead for Get {
//!     fn method(&self) -> &str { "GET" }
//!     fn query(&self) -> Option<&str> { Some(self.0) }
//!     fn header(&self, _: &str) -> Option<&[u8]> { None }
//! }
//!
//! # #[tokio::main(flavor = "current_thread")] async fn main() {
//! let service = SseService::builder(A2aEventQueue::new()).build();
//! let SseResponse::Stream(body) = service.respond(&Get("plan_id=plan-7")).await else {
//!     panic!("expected a stream");
//! };
//! // The stream holds the keep-alive sleep, so it is `!Unpin`: pin it to poll it.
//! let mut body = std::pin::pin!(body);
//! let first = body.next().await.unwrap();
//! assert_eq!(&first[..], b"retry: 3000\n: a2a-sse stream open\n\n");
//!
//! let SseResponse::Error(err) = service.respond(&Get("plan_id=no%20spaces")).await else {
//!     panic!("expected an error");
//! };
//! assert_eq!(err.status(), 400);
//! # }
//! ```
//!
//! # Ending and closing
//!
//! A stream ends after its filtered plan's terminal event, after a `lagged` frame, or when
//! the queue closes; the transport then finishes the response. When the client goes away
//! the transport drops the stream, which drops the subscription (unsubscribing at once)
//! and fires the disconnect hook with [`DisconnectReason::ClientGone`]. The hook fires
//! exactly once per stream, whichever happens first.
//!
//! # Runtimes
//!
//! The keep-alive clock is a [`Timer`]; [`TokioTimer`] is behind the default `tokio`
//! feature. Without it, build the service with [`SseServiceBuilder::with_timer`].

pub mod frame;
mod hook;
mod request;
mod service;
mod stream;
#[cfg(test)]
mod test_support;
mod timer;

pub use frame::{Frame, FrameError};
pub use hook::{ConnectHook, ConnectInfo, DisconnectHook, DisconnectInfo, DisconnectReason};
pub use request::{
    LAST_EVENT_ID_HEADER, LAST_EVENT_ID_PARAM, PLAN_ID_PARAM, RETRY_AFTER_SECS, RequestError,
    SseRequest, error_body,
};
pub use service::{
    AuthError, AuthHook, AuthRequest, DEFAULT_KEEP_ALIVE, DEFAULT_PATH, DEFAULT_RETRY, RequestHead,
    STREAM_HEADERS, SseConfig, SseResponse, SseService, SseServiceBuilder,
};
pub use stream::{PING, SseStream, event_frame, lagged_frame, preamble, reset_frame};
pub use timer::Timer;
#[cfg(feature = "tokio")]
pub use timer::TokioTimer;
