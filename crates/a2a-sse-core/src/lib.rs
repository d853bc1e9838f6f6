//! Server-Sent Events for A2A plan-execution events, independent of any web framework.
//!
//! The core turns an [`a2a_events`] subscription into a `Stream<Item = Bytes>` of
//! event-stream frames, and holds every policy an HTTP endpoint needs, so adapters only
//! route and convert:
//!
//! - [`frame`]: the spec-exact encoder ([`Frame`]);
//! - [`Framing`]: what a stream's bytes look like, one implementation per wire format
//!   ([`NativeFraming`] here; a protocol layer brings its own);
//! - [`SseStream`]: the pacing of a stream: preamble, coalescing of ready frames,
//!   keep-alive comments, liveness probe, lifetime, and its end;
//! - [`SseRequest`] and [`RequestError`]: `plan_id`, `Last-Event-ID` (header or
//!   `last_event_id` parameter, the header wins), status codes and JSON error bodies;
//! - [`SseConfig`]: every option, its default, and the one check of them all
//!   ([`SseConfig::validate`], run by [`SseServiceBuilder::build`]);
//! - [`SseService`]: the routes to mount ([`SseService::routes`]), the request body read
//!   within its limits, method check, authorization hook, connection limit,
//!   subscription, `204` after a finished plan, and the connect/disconnect hooks
//!   ([`DisconnectInfo`]);
//! - [`Protocol`]: the extension point through which a protocol layer (the A2A bindings
//!   of the `a2a-sse-agent` crate) serves its routes on the same service;
//! - [`SseResponse`]: the answer as status, headers (the stream's in [`STREAM_HEADERS`],
//!   where the "never compressed" rule lives) and body, which an adapter converts
//!   without looking inside;
//! - [`prelude`]: what every adapter re-exports, so its users need no other crate.
//!
//! # Writing an adapter
//!
//! Mount each of [`SseService::routes`] for every method (a [prefix](Route::is_prefix)
//! route with the framework's catch-all syntax, after the exact ones), with one handler
//! that implements [`RequestHead`] for the framework's request, calls
//! [`SseService::handle`] with the request's body stream unread, and writes the
//! [`SseResponse`]'s status, headers and body. Nothing else: body limits, defaults,
//! validation, headers, keep-alive, probes, resume and lag all live here.
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
//!     fn path(&self) -> &str { "/a2a/events" }
//!     fn query(&self) -> Option<&str> { Some(self.0) }
//!     fn header(&self, _: &str) -> Option<&[u8]> { None }
//!     fn for_each_header(&self, _: &mut dyn FnMut(&str, &[u8])) {}
//! }
//!
//! # #[tokio::main(flavor = "current_thread")] async fn main() {
//! let service = SseService::builder(A2aEventQueue::new()).build().unwrap();
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
//! Streams keep time on tokio's clock, which axum and actix-web both run on (tests pause
//! it).

mod auth;
mod body;
mod builder;
mod config;
pub mod frame;
mod framing;
mod hook;
mod limits;
pub mod prelude;
mod protocol;
mod request;
mod response;
mod service;
mod socket;
mod stream;
pub mod telemetry;
#[cfg(test)]
mod test_support;

pub use auth::{AuthError, AuthFuture, AuthRequest};
pub use builder::SseServiceBuilder;
pub use config::{
    ConfigError, DEFAULT_BODY_READ_TIMEOUT, DEFAULT_HEADER_READ_TIMEOUT, DEFAULT_KEEP_ALIVE,
    DEFAULT_MAX_BODY_BYTES, DEFAULT_MAX_HEADER_BYTES, DEFAULT_MAX_HEADERS, DEFAULT_MAX_QUERY_BYTES,
    DEFAULT_PATH, DEFAULT_RETRY, SseConfig, validate_path,
};
pub use frame::{Fixed, Frame, FrameError};
pub use framing::{Framing, NativeFraming, event_frame, lagged_frame, reset_frame};
pub use hook::{ConnectHook, ConnectInfo, DisconnectHook, DisconnectInfo, DisconnectReason};
pub use limits::Permit;
pub use protocol::{Call, Handling, Protocol};
pub use request::{
    LAST_EVENT_ID_HEADER, LAST_EVENT_ID_PARAM, OwnedHead, PLAN_ID_PARAM, RETRY_AFTER_SECS,
    RequestError, RequestHead, SseRequest, error_body,
};
pub use response::{Header, ResponseBody, STREAM_HEADERS, SseResponse};
pub use service::{Admission, Route, STREAM_OPERATION, SseService, refuse};
pub use socket::{DEFAULT_SEND_BUFFER, DEFAULT_WRITE_TIMEOUT, SocketOptions};
pub use stream::{PING, PROBE, SseStream, preamble};
