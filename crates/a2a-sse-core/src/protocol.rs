//! [`Protocol`]: the extension point through which a protocol layer serves its routes beside
//! the native stream, on the same service (the A2A bindings are one).
//!
//! A protocol declares its [`Route`]s; the service mounts them with its own, checks each
//! request's head against its limits, and hands the protocol the request. The protocol
//! reads what it needs of the head at once ([`Protocol::prepare`]), and either answers or
//! asks for the body: the service then reads it, with its one size and time policy, and
//! runs the protocol's [`Call`]. For streams, the protocol uses the service's own building
//! blocks ([`SseService::admission`], [`SseService::admit`], [`SseService::permit`],
//! [`SseService::open`]) with a [`Framing`](crate::Framing) of its own, so limits,
//! authorization, hooks, keep-alive, resume and lag behave as on the native stream.

use std::future::Future;

use a2a_events::BoxFuture;
use bytes::Bytes;

use crate::request::RequestHead;
use crate::response::SseResponse;
use crate::service::{Route, SseService};

/// A protocol served by an [`SseService`], added with
/// [`SseServiceBuilder::protocol`](crate::SseServiceBuilder::protocol).
pub trait Protocol: Send + Sync + 'static {
    /// The routes it answers ([`Route::exact`], [`Route::prefix`]). The service checks
    /// them when it is built, like its own path.
    fn routes(&self) -> Vec<Route>;

    /// Reads a request to its route number `route` (an index into
    /// [`routes`](Self::routes)): everything it needs of `head` is read here, and the
    /// answer is either ready or a [`Call`] that gets the body. Never panics: a request it
    /// cannot serve is answered with an error.
    fn prepare(&self, service: &SseService, route: usize, head: &dyn RequestHead) -> Handling;

    /// Runs once the service is built, with it: where a protocol starts its background
    /// work (the A2A layer's push deliveries and lease sweeper). It is called from
    /// [`SseServiceBuilder::build`](crate::SseServiceBuilder::build), which may run
    /// outside any async runtime, so a protocol that needs one checks for it (and starts
    /// on its first request instead). The default does nothing.
    fn start(&self, service: &SseService) {
        let _ = service;
    }
}

/// The rest of a request's handling, once the body is read: it gets the service and the
/// body, and answers.
pub type Call = Box<dyn FnOnce(SseService, Bytes) -> BoxFuture<'static, SseResponse> + Send>;

/// What a [`Protocol`] made of a request's head.
#[must_use]
pub enum Handling {
    /// The answer, without reading the body (boxed: it is usually a refusal, and a
    /// stream would make every handling as large as one).
    Answer(Box<SseResponse>),
    /// Read the body, then answer with this.
    Read(Call),
}

impl Handling {
    /// Reads the body, then answers with `call`.
    pub fn read<F, Fut>(call: F) -> Self
    where
        F: FnOnce(SseService, Bytes) -> Fut + Send + 'static,
        Fut: Future<Output = SseResponse> + Send + 'static,
    {
        Self::Read(Box::new(move |service, body| Box::pin(call(service, body))))
    }
}

impl From<SseResponse> for Handling {
    fn from(response: SseResponse) -> Self {
        Self::Answer(Box::new(response))
    }
}

impl std::fmt::Debug for Handling {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Answer(response) => f.debug_tuple("Answer").field(response).finish(),
            Self::Read(_) => f.write_str("Read(..)"),
        }
    }
}
