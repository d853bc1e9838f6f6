//! [`SseService`]: every endpoint's behaviour, independent of any framework.
//!
//! An adapter mounts each of [`SseService::routes`] with one handler that builds a
//! [`RequestHead`] for its request type, reads the body (up to
//! [`SseConfig::max_body_bytes`]), calls [`SseService::handle`], and turns the
//! [`SseResponse`] into its framework's response.

use std::fmt;
use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::Duration;

use a2a_events::{BufferLimits, EventBackend, EventId, PlanId, SubscribeError, SubscribeRequest};
use bytes::Bytes;

use crate::config::{ConfigError, SseConfig};
use crate::hook::{
    ConnectHook, ConnectInfo, ConnectionGuard, DisconnectHook, DisconnectInfo, Permit,
};
use crate::request::{LAST_EVENT_ID_HEADER, RequestError, RequestHead, SseRequest};
use crate::response::SseResponse;
use crate::stream::{SseStream, StreamOptions};
use crate::timer::Timer;

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
#[non_exhaustive]
pub enum AuthError {
    /// No or unusable credentials: 401.
    Unauthorized(String),
    /// Credentials that may not read this stream: 403.
    Forbidden(String),
}

/// Decides whether a request may open a stream.
pub type AuthHook = Arc<dyn Fn(&AuthRequest<'_>) -> Result<(), AuthError> + Send + Sync>;

/// One route an [`SseService`] answers, for an adapter to mount: its path, in the `{name}`
/// parameter syntax that axum 0.8 and actix-web 4 share, for every method (the service
/// answers a wrong method itself).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Route {
    path: String,
    endpoint: Endpoint,
}

/// What a route serves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Endpoint {
    /// The native event stream.
    Events,
}

impl Route {
    /// The path to mount.
    #[must_use]
    pub fn path(&self) -> &str {
        &self.path
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

with_default_timer! {
    /// The SSE endpoints: validation, authorization, limits, subscription and the stream.
    /// Cloning is cheap; clones share the configuration and connection count.
    ///
    /// The timer parameter is the runtime's clock; with the default `tokio` feature it
    /// defaults to [`TokioTimer`](crate::TokioTimer) and is never written.
    ///
    /// ```
    /// use a2a_events::A2aEventQueue;
    /// use a2a_sse_core::SseService;
    /// use std::time::Duration;
    ///
    /// let service: SseService = SseService::builder(A2aEventQueue::new())
    ///     .keep_alive(Duration::from_secs(10))
    ///     .on_disconnect(|info| println!("stream {} ended: {}", info.connection, info.reason))
    ///     .build()?;
    /// assert_eq!(service.config().path, "/a2a/events");
    /// # Ok::<(), a2a_sse_core::ConfigError>(())
    /// ```
    pub struct SseService<T: Timer> {
        inner: Arc<Inner<T>>,
    }
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

    /// The routes to mount, each answered by [`handle`](Self::handle).
    #[must_use]
    pub fn routes(&self) -> Vec<Route> {
        vec![Route {
            path: self.inner.config.path.clone(),
            endpoint: Endpoint::Events,
        }]
    }

    /// Answers one request to `route` (one of [`routes`](Self::routes)), whose body an
    /// adapter read already: never more than [`SseConfig::max_body_bytes`]; a larger one
    /// is answered with [`RequestError::BodyTooLarge`] instead. Never panics.
    ///
    /// Like [`respond`](Self::respond), the future does not borrow `head`.
    pub fn handle<'a>(
        &'a self,
        route: &Route,
        head: &dyn RequestHead,
        body: Bytes,
    ) -> impl Future<Output = SseResponse<T>> + Send + use<'a, T> {
        let _ = body;
        match route.endpoint {
            Endpoint::Events => self.respond(head),
        }
    }

    /// Answers a request for the native stream: a stream, a `204`, or a typed error.
    /// Never panics.
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
        let mut subscribe = request
            .plan
            .clone()
            .map_or_else(SubscribeRequest::all, SubscribeRequest::plan);
        subscribe.after = request.last_event_id;
        subscribe.buffer = inner.config.buffer;
        let subscription = match inner.backend.subscribe(subscribe).await {
            Ok(subscription) => subscription,
            Err(SubscribeError::PlanFinished { terminal }) => {
                tracing::debug!(plan = plan_str(request.plan.as_ref()), %terminal, "plan finished: 204");
                return Ok(None);
            }
            Err(SubscribeError::Closed) => return Err(RequestError::ShuttingDown),
            Err(SubscribeError::Backend(err)) => return Err(RequestError::Backend(err)),
            Err(other) => {
                let err =
                    a2a_events::BackendError::new(a2a_events::BackendErrorKind::Protocol, other);
                return Err(RequestError::Backend(err));
            }
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
        let options = StreamOptions {
            keep_alive: inner.config.keep_alive,
            retry: inner.config.retry,
            probe: inner.config.liveness_probe,
        };
        Ok(Some(SseStream::new(
            subscription,
            inner.timer.clone(),
            options,
            guard,
        )))
    }
}

fn plan_str(plan: Option<&PlanId>) -> Option<&str> {
    plan.map(PlanId::as_str)
}

with_default_timer! {
    /// Builder of an [`SseService`]; every option has the library default until set, and
    /// [`build`](Self::build) checks them all.
    #[must_use]
    pub struct SseServiceBuilder<T: Timer> {
        backend: Arc<dyn EventBackend>,
        timer: T,
        config: SseConfig,
        authorize: Option<AuthHook>,
        on_connect: Option<ConnectHook>,
        on_disconnect: Option<DisconnectHook>,
    }
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

    /// Replaces every option at once; [`build`](Self::build) checks them as it checks
    /// options set one by one.
    pub fn config(mut self, config: SseConfig) -> Self {
        self.config = config;
        self
    }

    /// Route of the stream.
    pub fn path(mut self, path: impl Into<String>) -> Self {
        self.config.path = path.into();
        self
    }

    /// Idle time before a keep-alive comment; at least one millisecond.
    pub fn keep_alive(mut self, every: Duration) -> Self {
        self.config.keep_alive = every;
        self
    }

    /// Sends an empty comment after `after` with nothing sent, so that a transport which
    /// notices a closed client only on a failed write notices it within about twice
    /// `after`. Off by default; see [`SseConfig::liveness_probe`].
    pub fn liveness_probe(mut self, after: Duration) -> Self {
        self.config.liveness_probe = Some(after);
        self
    }

    /// Largest request body read, in bytes.
    pub fn max_body_bytes(mut self, limit: usize) -> Self {
        self.config.max_body_bytes = limit;
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
    ///
    /// # Errors
    ///
    /// [`ConfigError`] when an option is out of range or the path cannot be mounted.
    pub fn build(self) -> Result<SseService<T>, ConfigError> {
        self.config.validate()?;
        Ok(SseService {
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
        })
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
