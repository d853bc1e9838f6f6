//! [`SseService`]: the whole `GET /a2a/events` behaviour, independent of any framework.
//!
//! An adapter implements [`RequestHead`] for its request type, calls
//! [`SseService::respond`], and turns the [`SseResponse`] into its framework's response.

use std::fmt;
use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::Duration;

use a2a_events::{BufferLimits, EventBackend, EventId, PlanId, SubscribeError, SubscribeRequest};

use crate::hook::{
    ConnectHook, ConnectInfo, ConnectionGuard, DisconnectHook, DisconnectInfo, Permit,
};
use crate::request::{LAST_EVENT_ID_HEADER, RequestError, SseRequest};
use crate::stream::SseStream;
use crate::timer::Timer;

/// Default route of the stream.
pub const DEFAULT_PATH: &str = "/a2a/events";
/// Default idle time before a keep-alive comment.
pub const DEFAULT_KEEP_ALIVE: Duration = Duration::from_secs(15);
/// Default reconnection delay sent in the `retry:` field.
pub const DEFAULT_RETRY: Duration = Duration::from_secs(3);

/// Headers of every stream response.
pub const STREAM_HEADERS: [(&str, &str); 3] = [
    ("content-type", "text/event-stream"),
    ("cache-control", "no-cache"),
    ("x-accel-buffering", "no"),
];

/// What an adapter exposes of a request. Plain `&str`/`&[u8]` keep `http` versions out of
/// the core (actix-web uses `http` 0.2, hyper and axum 1.x).
pub trait RequestHead {
    /// The method, such as `GET`.
    fn method(&self) -> &str;
    /// The query string, without `?`.
    fn query(&self) -> Option<&str>;
    /// The raw value of the header `name` (lower case), if present.
    fn header(&self, name: &str) -> Option<&[u8]>;
}

/// What the authorization hook sees.
pub struct AuthRequest<'a> {
    /// The validated stream request.
    pub request: &'a SseRequest,
    head: &'a dyn RequestHead,
}

impl AuthRequest<'_> {
    /// The raw value of a request header (lower-case `name`).
    #[must_use]
    pub fn header(&self, name: &str) -> Option<&[u8]> {
        self.head.header(name)
    }
}

/// The authorization hook's refusal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AuthError {
    /// No or unusable credentials: 401.
    Unauthorized(String),
    /// Credentials that may not read this stream: 403.
    Forbidden(String),
}

/// Decides whether a request may open a stream.
pub type AuthHook = Arc<dyn Fn(&AuthRequest<'_>) -> Result<(), AuthError> + Send + Sync>;

/// Options of an [`SseService`], with the library's defaults. Adapters forward them; they
/// define none of their own.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SseConfig {
    /// Route of the stream (default [`DEFAULT_PATH`]).
    pub path: String,
    /// Idle time before a keep-alive comment (default [`DEFAULT_KEEP_ALIVE`]).
    pub keep_alive: Duration,
    /// Reconnection delay sent to clients (default [`DEFAULT_RETRY`]).
    pub retry: Duration,
    /// Per-subscriber buffer; `None` uses the backend's default.
    pub buffer: Option<BufferLimits>,
    /// Most streams open at once; `None` for no limit. Past it, `503` with `Retry-After`.
    pub max_connections: Option<usize>,
}

impl Default for SseConfig {
    fn default() -> Self {
        Self {
            path: DEFAULT_PATH.to_owned(),
            keep_alive: DEFAULT_KEEP_ALIVE,
            retry: DEFAULT_RETRY,
            buffer: None,
            max_connections: None,
        }
    }
}

/// The answer to a request.
#[expect(
    clippy::large_enum_variant,
    reason = "made once per request and moved straight into the framework's body, which \
              boxes it; boxing here too would cost each stream a second allocation"
)]
pub enum SseResponse<T: Timer> {
    /// `200` with [`STREAM_HEADERS`] and this body.
    Stream(SseStream<T>),
    /// `204 No Content`: the filtered plan finished at or before the resume point; an
    /// `EventSource` stops reconnecting.
    NoContent,
    /// An error answer: [`RequestError::status`], `headers` and `body`.
    Error(RequestError),
}

impl<T: Timer> SseResponse<T> {
    /// The HTTP status code.
    #[must_use]
    pub fn status(&self) -> u16 {
        match self {
            Self::Stream(_) => 200,
            Self::NoContent => 204,
            Self::Error(err) => err.status(),
        }
    }
}

impl<T: Timer> fmt::Debug for SseResponse<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Stream(stream) => f.debug_tuple("Stream").field(stream).finish(),
            Self::NoContent => f.write_str("NoContent"),
            Self::Error(err) => f.debug_tuple("Error").field(err).finish(),
        }
    }
}

struct Inner<T> {
    backend: Arc<dyn EventBackend>,
    config: SseConfig,
    timer: T,
    authorize: Option<AuthHook>,
    on_connect: Option<ConnectHook>,
    on_disconnect: Option<DisconnectHook>,
    active: Arc<AtomicUsize>,
    next_connection: AtomicU64,
}

/// The SSE endpoint: validation, authorization, limits, subscription and the stream.
/// Cloning is cheap; clones share the configuration and connection count.
///
/// ```
/// use a2a_events::A2aEventQueue;
/// use a2a_sse_core::SseService;
/// use std::time::Duration;
///
/// let service = SseService::builder(A2aEventQueue::new())
///     .keep_alive(Duration::from_secs(10))
///     .on_disconnect(|info| println!("stream {} ended: {}", info.connection, info.reason))
///     .build();
/// assert_eq!(service.config().path, "/a2a/events");
/// ```
pub struct SseService<T: Timer> {
    inner: Arc<Inner<T>>,
}

impl<T: Timer> Clone for SseService<T> {
    fn clone(&self) -> Self {
        Self {
            inner: Arc::clone(&self.inner),
        }
    }
}

impl<T: Timer> fmt::Debug for SseService<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SseService")
            .field("config", &self.inner.config)
            .field("open_streams", &self.open_streams())
            .finish_non_exhaustive()
    }
}

#[cfg(feature = "tokio")]
impl SseService<crate::timer::TokioTimer> {
    /// A builder over `backend`, with the tokio timer.
    pub fn builder(backend: impl EventBackend) -> SseServiceBuilder<crate::timer::TokioTimer> {
        SseServiceBuilder::with_timer(backend, crate::timer::TokioTimer)
    }
}

impl<T: Timer> SseService<T> {
    /// The options in force.
    #[must_use]
    pub fn config(&self) -> &SseConfig {
        &self.inner.config
    }

    /// The event backend streams are served from.
    #[must_use]
    pub fn backend(&self) -> &Arc<dyn EventBackend> {
        &self.inner.backend
    }

    /// Streams currently open through this service.
    #[must_use]
    pub fn open_streams(&self) -> usize {
        self.inner.active.load(Ordering::Acquire)
    }

    /// Answers one request: a stream, a `204`, or a typed error. Never panics.
    ///
    /// Everything that reads `head` (method, parameters, authorization, connection limit)
    /// runs before this returns; the future only subscribes. It does not borrow `head`,
    /// so it is `Send` even when the framework's request type is not `Sync`, as a
    /// spawned connection task or an axum handler needs.
    pub fn respond<'a>(
        &'a self,
        head: &dyn RequestHead,
    ) -> impl Future<Output = SseResponse<T>> + Send + use<'a, T> {
        let admitted = self.admit(head);
        async move {
            let opened = match admitted {
                Ok((request, permit)) => self.open(request, permit).await,
                Err(err) => Err(err),
            };
            match opened {
                Ok(Some(stream)) => SseResponse::Stream(stream),
                Ok(None) => SseResponse::NoContent,
                Err(err) => {
                    tracing::debug!(code = err.code(), %err, "sse request refused");
                    SseResponse::Error(err)
                }
            }
        }
    }

    fn admit(&self, head: &dyn RequestHead) -> Result<(SseRequest, Permit), RequestError> {
        let inner = &*self.inner;
        if head.method() != "GET" {
            return Err(RequestError::MethodNotAllowed);
        }
        let request = SseRequest::parse(head.query(), head.header(LAST_EVENT_ID_HEADER))?;
        if let Some(authorize) = &inner.authorize {
            authorize(&AuthRequest {
                request: &request,
                head,
            })
            .map_err(|err| match err {
                AuthError::Unauthorized(m) => RequestError::Unauthorized(m),
                AuthError::Forbidden(m) => RequestError::Forbidden(m),
            })?;
        }
        let permit = Permit::acquire(&inner.active, inner.config.max_connections)
            .ok_or(RequestError::TooManyConnections)?;
        Ok((request, permit))
    }

    async fn open(
        &self,
        request: SseRequest,
        permit: Permit,
    ) -> Result<Option<SseStream<T>>, RequestError> {
        let inner = &*self.inner;
        let subscribe = SubscribeRequest {
            plan: request.plan.clone(),
            after: request.last_event_id,
            buffer: inner.config.buffer,
        };
        let subscription = match inner.backend.subscribe(subscribe).await {
            Ok(subscription) => subscription,
            Err(SubscribeError::PlanFinished { terminal }) => {
                tracing::debug!(plan = plan_str(request.plan.as_ref()), %terminal, "plan finished: 204");
                return Ok(None);
            }
            Err(SubscribeError::Closed) => return Err(RequestError::ShuttingDown),
            Err(SubscribeError::Backend(message)) => return Err(RequestError::Backend(message)),
        };
        let connection = inner.next_connection.fetch_add(1, Ordering::Relaxed);
        let info = ConnectInfo {
            connection,
            plan: request.plan.clone(),
            last_event_id: request.last_event_id,
        };
        tracing::info!(
            connection,
            plan = plan_str(info.plan.as_ref()),
            last_event_id = info.last_event_id.map(EventId::get),
            "sse stream opened"
        );
        if let Some(hook) = &inner.on_connect {
            hook(&info);
        }
        let guard = ConnectionGuard::new(
            connection,
            request.plan.clone(),
            inner.on_disconnect.clone(),
            Some(permit),
        );
        Ok(Some(SseStream::new(
            subscription,
            inner.timer.clone(),
            inner.config.keep_alive,
            inner.config.retry,
            request.plan.is_some(),
            guard,
        )))
    }
}

fn plan_str(plan: Option<&PlanId>) -> Option<&str> {
    plan.map(PlanId::as_str)
}

/// Builder of an [`SseService`]; every option has the library default until set.
#[must_use]
pub struct SseServiceBuilder<T: Timer> {
    backend: Arc<dyn EventBackend>,
    timer: T,
    config: SseConfig,
    authorize: Option<AuthHook>,
    on_connect: Option<ConnectHook>,
    on_disconnect: Option<DisconnectHook>,
}

impl<T: Timer> SseServiceBuilder<T> {
    /// A builder over `backend` with a timer of your runtime.
    pub fn with_timer(backend: impl EventBackend, timer: T) -> Self {
        Self {
            backend: Arc::new(backend),
            timer,
            config: SseConfig::default(),
            authorize: None,
            on_connect: None,
            on_disconnect: None,
        }
    }

    /// Replaces every option at once.
    pub fn config(mut self, config: SseConfig) -> Self {
        self.config = config;
        self
    }

    /// Route of the stream.
    pub fn path(mut self, path: impl Into<String>) -> Self {
        self.config.path = path.into();
        self
    }

    /// Idle time before a keep-alive comment; at least one millisecond is used.
    pub fn keep_alive(mut self, every: Duration) -> Self {
        self.config.keep_alive = every.max(Duration::from_millis(1));
        self
    }

    /// Reconnection delay sent to clients.
    pub fn retry(mut self, after: Duration) -> Self {
        self.config.retry = after;
        self
    }

    /// Per-subscriber buffer.
    pub fn buffer(mut self, limits: BufferLimits) -> Self {
        self.config.buffer = Some(limits);
        self
    }

    /// Most streams open at once.
    pub fn max_connections(mut self, limit: usize) -> Self {
        self.config.max_connections = Some(limit);
        self
    }

    /// Decides, before anything is subscribed, whether a request may open a stream.
    pub fn authorize(
        mut self,
        hook: impl Fn(&AuthRequest<'_>) -> Result<(), AuthError> + Send + Sync + 'static,
    ) -> Self {
        self.authorize = Some(Arc::new(hook));
        self
    }

    /// Runs when a stream starts.
    pub fn on_connect(mut self, hook: impl Fn(&ConnectInfo) + Send + Sync + 'static) -> Self {
        self.on_connect = Some(Arc::new(hook));
        self
    }

    /// Runs exactly once when a stream ends, with why and what it sent.
    pub fn on_disconnect(mut self, hook: impl Fn(&DisconnectInfo) + Send + Sync + 'static) -> Self {
        self.on_disconnect = Some(Arc::new(hook));
        self
    }

    /// The service.
    pub fn build(self) -> SseService<T> {
        SseService {
            inner: Arc::new(Inner {
                backend: self.backend,
                config: self.config,
                timer: self.timer,
                authorize: self.authorize,
                on_connect: self.on_connect,
                on_disconnect: self.on_disconnect,
                active: Arc::new(AtomicUsize::new(0)),
                next_connection: AtomicU64::new(1),
            }),
        }
    }
}

impl<T: Timer> fmt::Debug for SseServiceBuilder<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SseServiceBuilder")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
#[path = "service_tests.rs"]
mod tests;

#[cfg(test)]
#[path = "service_options_tests.rs"]
mod options_tests;
