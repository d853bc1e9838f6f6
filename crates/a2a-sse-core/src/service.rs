//! [`SseService`]: every route's behaviour, independent of any framework.
//!
//! An adapter mounts each of [`SseService::routes`] with one handler that builds a
//! [`RequestHead`] for its request type, hands over the request body as a stream, calls
//! [`SseService::handle`], and turns the [`SseResponse`] into its framework's response.
//!
//! The service answers the native event stream itself, and routes every other request to
//! the [`Protocol`] that declared its route (the A2A bindings are one). A protocol builds
//! on the service's building blocks, so that what a stream is — its limits, its
//! authorization, its hooks, its pacing — is decided here once: [`admission`](SseService::admission)
//! and [`admit`](SseService::admit) run the authorization hook, [`permit`](SseService::permit)
//! takes a place among the open streams, and [`open`](SseService::open) subscribes and
//! wraps the subscription in an [`SseStream`] with the protocol's [`Framing`].

use std::fmt;
use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use a2a_events::{EventBackend, PlanId, SubscribeError, SubscribeRequest};
use bytes::Bytes;
use futures_core::Stream;

use crate::auth::{AuthRequest, Authorizer, Headers, copy_headers};
use crate::body;
use crate::config::SseConfig;
use crate::framing::{Framing, NativeFraming};
use crate::hook::{ConnectHook, ConnectInfo, ConnectionGuard, DisconnectHook};
use crate::limits::{Limits, Permit};
use crate::protocol::{Handling, Protocol};
use crate::request::{LAST_EVENT_ID_HEADER, RequestError, RequestHead, SseRequest, check_head};
use crate::response::SseResponse;
use crate::socket::SocketOptions;
use crate::stream::{SseStream, StreamOptions};
use crate::telemetry;

/// The operation the authorization hook sees for the native stream.
pub const STREAM_OPERATION: &str = "stream";

/// One route an [`SseService`] answers, for an adapter to mount: its path, in the `{name}`
/// parameter syntax that axum 0.8 and actix-web 4 share, for every method (the service
/// answers a wrong method itself).
///
/// A prefix route answers its path and every path below it (`/a2a` answers `/a2a/x/y`):
/// an adapter mounts it with its framework's catch-all syntax, after the exact routes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Route {
    path: String,
    prefix: bool,
    target: RouteTarget,
}

/// Who answers a route.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum RouteTarget {
    /// Declared by a protocol, not mounted through a service yet.
    Unbound,
    /// The native event stream.
    Events,
    /// The route `route` of the service's protocol `protocol`.
    Protocol { protocol: usize, route: usize },
}

impl Route {
    /// A route answering exactly `path`, for a [`Protocol`] to declare.
    #[must_use]
    pub fn exact(path: impl Into<String>) -> Self {
        Self {
            path: path.into(),
            prefix: false,
            target: RouteTarget::Unbound,
        }
    }

    /// A route answering `path` and every path below it, for a [`Protocol`] to declare.
    #[must_use]
    pub fn prefix(path: impl Into<String>) -> Self {
        Self {
            path: path.into(),
            prefix: true,
            target: RouteTarget::Unbound,
        }
    }

    /// `route`, answered by `target`.
    pub(crate) fn bound(route: Self, target: RouteTarget) -> Self {
        Self { target, ..route }
    }

    /// The path to mount.
    #[must_use]
    pub fn path(&self) -> &str {
        &self.path
    }

    /// Whether every path below [`path`](Self::path) belongs to the route too.
    #[must_use]
    pub const fn is_prefix(&self) -> bool {
        self.prefix
    }
}

pub(crate) struct Inner {
    pub(crate) backend: Arc<dyn EventBackend>,
    pub(crate) config: SseConfig,
    pub(crate) authorize: Option<Authorizer>,
    pub(crate) on_connect: Option<ConnectHook>,
    pub(crate) on_disconnect: Option<DisconnectHook>,
    pub(crate) limits: Arc<Limits>,
    pub(crate) next_connection: AtomicU64,
    pub(crate) protocols: Vec<Arc<dyn Protocol>>,
    /// Every route: the native stream's, each protocol's exact ones, then the prefixes,
    /// longest first (an adapter that matches in order must see them so).
    pub(crate) routes: Vec<Route>,
}

/// The event streams and the protocols served beside them: validation, authorization,
/// limits, subscription and the stream. Cloning is cheap; clones share the configuration
/// and the connection count.
///
/// ```
/// use a2a_events::A2aEventQueue;
/// use a2a_sse_core::SseService;
/// use std::time::Duration;
///
/// let service = SseService::builder(A2aEventQueue::new())
///     .keep_alive(Duration::from_secs(10))
///     .on_disconnect(|info| println!("stream {} ended: {}", info.connection, info.reason))
///     .build()?;
/// assert_eq!(service.config().path, "/a2a/events");
/// # Ok::<(), a2a_sse_core::ConfigError>(())
/// ```
#[derive(Clone)]
pub struct SseService {
    pub(crate) inner: Arc<Inner>,
}

impl fmt::Debug for SseService {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SseService")
            .field("config", &self.inner.config)
            .field("routes", &self.inner.routes)
            .field("open_streams", &self.open_streams())
            .finish_non_exhaustive()
    }
}

impl SseService {
    /// A builder over `backend`.
    pub fn builder(backend: impl EventBackend) -> crate::SseServiceBuilder {
        crate::SseServiceBuilder::new(backend)
    }

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
        self.inner.limits.active()
    }

    /// What the serving setup sets on each accepted connection (write deadline, send
    /// buffer, `TCP_NODELAY`): see [`SocketOptions`].
    #[must_use]
    pub fn socket_options(&self) -> SocketOptions {
        self.inner.config.socket
    }

    /// The routes to mount, each answered by [`handle`](Self::handle): the native stream,
    /// then each protocol's, exact routes before prefix routes (longest first).
    #[must_use]
    pub fn routes(&self) -> &[Route] {
        &self.inner.routes
    }

    /// Answers one request to `route` (one of [`routes`](Self::routes)). Never panics.
    ///
    /// Everything that reads `head` runs before this returns. The body is read by the
    /// service when the route needs it, within [`SseConfig::max_body_bytes`] and
    /// [`SseConfig::body_read_timeout`] (`413`, `408`; a body that fails to arrive, `400`):
    /// an adapter hands over its framework's body stream unread. The native stream never
    /// reads it. The future holds `body` and nothing of `head`, so it is `Send` whenever
    /// the body stream is.
    pub fn handle<'a, B, E>(
        &'a self,
        route: &Route,
        head: &dyn RequestHead,
        body: B,
    ) -> impl Future<Output = SseResponse> + use<'a, B, E>
    where
        B: Stream<Item = Result<Bytes, E>>,
    {
        let config = &self.inner.config;
        let checked = check_head(
            head,
            config.max_query_bytes,
            config.max_headers,
            config.max_header_bytes,
        );
        let prepared = match (checked, route.target) {
            (Err(err), _) => Prepared::Ready(Box::new(refuse(err))),
            (Ok(()), RouteTarget::Events) => Prepared::Events(self.admit_stream(head)),
            (Ok(()), RouteTarget::Protocol { protocol, route }) => {
                match self.inner.protocols.get(protocol) {
                    Some(protocol) => match protocol.prepare(self, route, head) {
                        Handling::Answer(response) => Prepared::Ready(response),
                        Handling::Read(call) => {
                            Prepared::Call(call, body::declared_length(head), body)
                        }
                    },
                    // A route of another service.
                    None => Prepared::Ready(Box::new(refuse(RequestError::NotFound))),
                }
            }
            (Ok(()), RouteTarget::Unbound) => {
                Prepared::Ready(Box::new(refuse(RequestError::NotFound)))
            }
        };
        async move {
            match prepared {
                Prepared::Events(admitted) => self.events(admitted).await,
                Prepared::Ready(response) => *response,
                Prepared::Call(call, declared, body) => {
                    match body::read(body, declared, config).await {
                        Ok(body) => call(self.clone(), body).await,
                        Err(err) => refuse(err),
                    }
                }
            }
        }
    }

    /// Answers a request for the native stream: a stream, a `204`, or a typed error, for a
    /// handler of your own. Never panics.
    ///
    /// Everything that reads `head` (method, parameters, authorization, connection limit)
    /// runs before this returns; the future only subscribes. It does not borrow `head`,
    /// so it is `Send` even when the framework's request type is not `Sync`.
    pub fn respond<'a>(
        &'a self,
        head: &dyn RequestHead,
    ) -> impl Future<Output = SseResponse> + Send + use<'a> {
        let config = &self.inner.config;
        let admitted = check_head(
            head,
            config.max_query_bytes,
            config.max_headers,
            config.max_header_bytes,
        )
        .and_then(|()| self.admit_stream(head));
        self.events(admitted)
    }

    /// Reads a request body as [`handle`](Self::handle) reads one, for a handler of your
    /// own: within the size and time limits, answering each failure with its status.
    ///
    /// # Errors
    ///
    /// [`RequestError::BodyTooLarge`], [`RequestError::BodyTimeout`] or
    /// [`RequestError::UnreadableBody`].
    pub async fn read_body<B, E>(
        &self,
        head: &dyn RequestHead,
        body: B,
    ) -> Result<Bytes, RequestError>
    where
        B: Stream<Item = Result<Bytes, E>>,
    {
        let declared = body::declared_length(head);
        body::read(body, declared, &self.inner.config).await
    }

    async fn events(&self, admitted: Result<(Admission, SseRequest), RequestError>) -> SseResponse {
        let admitted = match admitted {
            Ok((admission, request)) => self.admit(admission, STREAM_OPERATION, request).await,
            Err(err) => Err(err),
        };
        let request = match admitted {
            Ok(request) => request,
            Err(err) => return refuse(err),
        };
        let permit = match self.permit(request.plan.as_ref()) {
            Ok(permit) => permit,
            Err(err) => return refuse(err),
        };
        let mut subscribe = request
            .plan
            .clone()
            .map_or_else(SubscribeRequest::all, SubscribeRequest::plan);
        subscribe.after = request.last_event_id;
        match self
            .open(&request, permit, subscribe, Box::new(NativeFraming))
            .await
        {
            Ok(stream) => SseResponse::Stream(stream),
            Err(SubscribeError::PlanFinished { terminal }) => {
                tracing::debug!(plan = plan_str(request.plan.as_ref()), %terminal, "plan finished: 204");
                SseResponse::NoContent
            }
            Err(err) => refuse(RequestError::from_subscribe(err)),
        }
    }

    /// Reads the native stream's request.
    fn admit_stream(
        &self,
        head: &dyn RequestHead,
    ) -> Result<(Admission, SseRequest), RequestError> {
        if head.method() != "GET" {
            return Err(RequestError::MethodNotAllowed { allow: "GET" });
        }
        let request = SseRequest::parse(head.query(), head.header(LAST_EVENT_ID_HEADER))?;
        if self.inner.config.require_plan && request.plan.is_none() {
            return Err(RequestError::PlanRequired);
        }
        Ok((self.admission(head), request))
    }

    /// What the authorization hook will need of `head` (its headers), copied now, so that
    /// the decision can be awaited after `head` is gone. Nothing is copied when no hook is
    /// set.
    pub fn admission(&self, head: &dyn RequestHead) -> Admission {
        Admission {
            headers: self.inner.authorize.as_ref().map(|_| copy_headers(head)),
        }
    }

    /// Asks the authorization hook whether `request`, an `operation` (a protocol's method
    /// name, say), may go on, with the headers of its [`admission`](Self::admission); it
    /// is given back when it may.
    ///
    /// # Errors
    ///
    /// [`RequestError::Unauthorized`] or [`RequestError::Forbidden`], as the hook decided.
    pub async fn admit(
        &self,
        admission: Admission,
        operation: &'static str,
        request: SseRequest,
    ) -> Result<SseRequest, RequestError> {
        if let (Some(authorize), Some(headers)) = (&self.inner.authorize, admission.headers) {
            let auth = AuthRequest::new(operation, request.clone(), headers);
            authorize.check(auth).await?;
        }
        Ok(request)
    }

    /// Takes a place among the open streams for a stream of `plan` (or of every plan),
    /// within the connection limits; the stream holds it until it ends.
    ///
    /// # Errors
    ///
    /// [`RequestError::TooManyConnections`] or [`RequestError::TooManyPlanStreams`].
    pub fn permit(&self, plan: Option<&PlanId>) -> Result<Permit, RequestError> {
        self.inner.limits.acquire(plan)
    }

    /// Subscribes with `subscribe` (the service's buffer size applies) and wraps the
    /// subscription in a stream written by `framing`, paced by the service's options,
    /// with its connect and disconnect hooks, holding `permit` while it lives.
    ///
    /// # Errors
    ///
    /// The backend's [`SubscribeError`].
    pub async fn open(
        &self,
        request: &SseRequest,
        permit: Permit,
        mut subscribe: SubscribeRequest,
        framing: Box<dyn Framing>,
    ) -> Result<SseStream, SubscribeError> {
        let inner = &*self.inner;
        subscribe.buffer = inner.config.buffer;
        let subscription = inner.backend.subscribe(subscribe).await?;
        let connection = inner.next_connection.fetch_add(1, Ordering::Relaxed);
        let info = ConnectInfo {
            connection,
            plan: request.plan.clone(),
            last_event_id: request.last_event_id,
        };
        tracing::info!(
            connection,
            binding = framing.label(),
            plan = plan_str(info.plan.as_ref()),
            last_event_id = info.last_event_id.map(tracing::field::display),
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
            lifetime: inner.config.max_lifetime.map(|lifetime| {
                let jitter = inner.config.lifetime_jitter.unwrap_or(lifetime / 10);
                lifetime + spread(connection, jitter)
            }),
        };
        Ok(SseStream::new(subscription, options, framing, guard))
    }
}

/// What [`SseService::handle`] read of a request before it awaits anything.
enum Prepared<B> {
    Events(Result<(Admission, SseRequest), RequestError>),
    Ready(Box<SseResponse>),
    Call(crate::protocol::Call, Option<u64>, B),
}

/// What the authorization hook will need of a request's head: see
/// [`SseService::admission`].
#[derive(Debug)]
pub struct Admission {
    headers: Option<Headers>,
}

/// A point in `0..=jitter` that moves with the connection number, spreading the ends of
/// streams opened together (the number times 2^64 / φ scatters consecutive ones).
fn spread(connection: u64, jitter: Duration) -> Duration {
    let fraction = connection.wrapping_mul(0x9E37_79B9_7F4A_7C15) as f64 / u64::MAX as f64;
    jitter.mul_f64(fraction)
}

/// The answer refusing a request with `err`, logged and counted.
#[must_use]
pub fn refuse(err: RequestError) -> SseResponse {
    tracing::debug!(code = err.code(), %err, "sse request refused");
    telemetry::refusal(err.status(), err.code());
    SseResponse::Error(err)
}

fn plan_str(plan: Option<&PlanId>) -> Option<&str> {
    plan.map(PlanId::as_str)
}

#[cfg(test)]
mod tests;

#[cfg(test)]
mod options_tests;

#[cfg(test)]
mod limits_tests;

#[cfg(test)]
mod protocol_tests;
