//! [`SseService`]: every endpoint's behaviour, independent of any framework.
//!
//! An adapter mounts each of [`SseService::routes`] with one handler that builds a
//! [`RequestHead`] for its request type, reads the body (up to
//! [`SseConfig::max_body_bytes`]), calls [`SseService::handle`], and turns the
//! [`SseResponse`] into its framework's response.

use std::fmt;
use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use a2a_events::{EventBackend, EventId, PlanId, SubscribeError, SubscribeRequest};
use bytes::Bytes;

use crate::a2a::encode::Binding;
use crate::a2a::{A2aCall, AGENT_CARD_PATH};
use crate::auth::{AuthRequest, Authorizer};
use crate::config::SseConfig;
use crate::hook::{ConnectHook, ConnectInfo, ConnectionGuard, DisconnectHook, StreamBinding};
use crate::limits::{Limits, Permit};
use crate::request::{LAST_EVENT_ID_HEADER, RequestError, RequestHead, SseRequest, check_head};
use crate::response::SseResponse;
use crate::socket::SocketOptions;
use crate::stream::{Framing, SseStream, StreamOptions};
use crate::telemetry;
use crate::timer::Timer;

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
    /// The A2A JSON-RPC binding.
    A2aJsonRpc,
    /// The A2A HTTP+JSON task routes.
    A2aTask,
    /// The A2A agent card.
    AgentCard,
}

impl Route {
    /// The path to mount.
    #[must_use]
    pub fn path(&self) -> &str {
        &self.path
    }
}

pub(crate) struct Inner<T> {
    pub(crate) backend: Arc<dyn EventBackend>,
    pub(crate) config: SseConfig,
    pub(crate) timer: T,
    pub(crate) authorize: Option<Authorizer>,
    pub(crate) on_connect: Option<ConnectHook>,
    pub(crate) on_disconnect: Option<DisconnectHook>,
    pub(crate) limits: Arc<Limits>,
    pub(crate) next_connection: AtomicU64,
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
        pub(crate) inner: Arc<Inner<T>>,
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
    pub fn builder(
        backend: impl EventBackend,
    ) -> crate::SseServiceBuilder<crate::timer::TokioTimer> {
        crate::SseServiceBuilder::with_timer(backend, crate::timer::TokioTimer)
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
        self.inner.limits.active()
    }

    /// What the serving setup sets on each accepted connection (write deadline, send
    /// buffer, `TCP_NODELAY`): see [`SocketOptions`].
    #[must_use]
    pub fn socket_options(&self) -> SocketOptions {
        self.inner.config.socket
    }

    /// The routes to mount, each answered by [`handle`](Self::handle): the native stream,
    /// and the A2A binding's when it is on.
    #[must_use]
    pub fn routes(&self) -> Vec<Route> {
        let route = |path: &str, endpoint| Route {
            path: path.to_owned(),
            endpoint,
        };
        let mut routes = vec![route(&self.inner.config.path, Endpoint::Events)];
        if let Some(a2a) = &self.inner.config.a2a {
            routes.push(route(&a2a.jsonrpc_path, Endpoint::A2aJsonRpc));
            routes.push(route(&a2a.task_route(), Endpoint::A2aTask));
            if a2a.card.is_some() {
                routes.push(route(AGENT_CARD_PATH, Endpoint::AgentCard));
            }
        }
        routes
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
        // Everything that reads `head` happens here, before the future.
        let config = &self.inner.config;
        let checked = check_head(
            head,
            config.max_query_bytes,
            config.max_headers,
            config.max_header_bytes,
        );
        let prepared = match (checked, route.endpoint) {
            (Err(err), _) => Prepared::Ready(Box::new(refused(err))),
            (Ok(()), Endpoint::Events) => Prepared::Events(self.admit(head)),
            (Ok(()), Endpoint::A2aJsonRpc) => Prepared::A2a(self.a2a_jsonrpc(head, &body)),
            (Ok(()), Endpoint::A2aTask) => Prepared::A2a(self.a2a_rest(head)),
            (Ok(()), Endpoint::AgentCard) => Prepared::Ready(Box::new(self.agent_card(head))),
        };
        async move {
            match prepared {
                Prepared::Events(admitted) => self.events(admitted).await,
                Prepared::A2a(Ok(call)) => self.a2a_call(call).await,
                Prepared::A2a(Err(response)) => *response,
                Prepared::Ready(response) => *response,
            }
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
        let config = &self.inner.config;
        let admitted = check_head(
            head,
            config.max_query_bytes,
            config.max_headers,
            config.max_header_bytes,
        )
        .and_then(|()| self.admit(head));
        self.events(admitted)
    }

    async fn events(&self, admitted: Result<Admission, RequestError>) -> SseResponse<T> {
        let (request, permit) = match self.pass(admitted).await {
            Ok(request) => match self.inner.limits.acquire(request.plan.as_ref()) {
                Ok(permit) => (request, permit),
                Err(err) => return refused(err),
            },
            Err(err) => return refused(err),
        };
        let mut subscribe = request
            .plan
            .clone()
            .map_or_else(SubscribeRequest::all, SubscribeRequest::plan);
        subscribe.after = request.last_event_id;
        match self
            .open(&request, permit, subscribe, Framing::Native)
            .await
        {
            Ok(stream) => SseResponse::Stream(stream),
            Err(SubscribeError::PlanFinished { terminal }) => {
                tracing::debug!(plan = plan_str(request.plan.as_ref()), %terminal, "plan finished: 204");
                SseResponse::NoContent
            }
            Err(err) => refused(transport_error(err)),
        }
    }

    /// Reads the native stream's request.
    fn admit(&self, head: &dyn RequestHead) -> Result<Admission, RequestError> {
        if head.method() != "GET" {
            return Err(RequestError::MethodNotAllowed);
        }
        let request = SseRequest::parse(head.query(), head.header(LAST_EVENT_ID_HEADER))?;
        if self.inner.config.require_plan && request.plan.is_none() {
            return Err(RequestError::PlanRequired);
        }
        Ok(self.admission(head, request))
    }

    /// What the authorization hook will need of `head`, copied now.
    pub(crate) fn admission(&self, head: &dyn RequestHead, request: SseRequest) -> Admission {
        let auth = self
            .inner
            .authorize
            .as_ref()
            .map(|_| AuthRequest::new(request.clone(), head));
        Admission { request, auth }
    }

    /// Asks the authorization hook. A stream then takes its place among the open ones
    /// (never before: a refused request holds no place).
    pub(crate) async fn pass(
        &self,
        admitted: Result<Admission, RequestError>,
    ) -> Result<SseRequest, RequestError> {
        let Admission { request, auth } = admitted?;
        if let (Some(authorize), Some(auth)) = (&self.inner.authorize, auth) {
            authorize.check(auth).await?;
        }
        Ok(request)
    }

    /// Subscribes and wraps the subscription in a stream with its hooks.
    pub(crate) async fn open(
        &self,
        request: &SseRequest,
        permit: Permit,
        mut subscribe: SubscribeRequest,
        framing: Framing,
    ) -> Result<SseStream<T>, SubscribeError> {
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
            plan = plan_str(info.plan.as_ref()),
            last_event_id = info.last_event_id.map(tracing::field::display::<EventId>),
            "sse stream opened"
        );
        if let Some(hook) = &inner.on_connect {
            hook(&info);
        }
        let binding = match &framing {
            Framing::Native => StreamBinding::Native,
            Framing::A2a(Binding::Rest) => StreamBinding::Rest,
            Framing::A2a(Binding::JsonRpc { .. }) => StreamBinding::JsonRpc,
        };
        let guard = ConnectionGuard::for_binding(
            connection,
            request.plan.clone(),
            inner.on_disconnect.clone(),
            Some(permit),
            binding,
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
        Ok(SseStream::new(
            subscription,
            inner.timer.clone(),
            options,
            framing,
            guard,
        ))
    }
}

/// An answer that refuses a request (never a stream), boxed to keep results small.
pub(crate) type Refused<T> = Box<SseResponse<T>>;

/// What [`SseService::handle`] read of a request before it awaits anything.
enum Prepared<T: Timer> {
    Events(Result<Admission, RequestError>),
    A2a(Result<A2aCall, Refused<T>>),
    Ready(Refused<T>),
}

/// A request read and validated, with what its authorization needs.
pub(crate) struct Admission {
    pub(crate) request: SseRequest,
    auth: Option<AuthRequest>,
}

/// A point in `0..=jitter` that moves with the connection number, spreading the ends of
/// streams opened together (the number times 2^64 / φ scatters consecutive ones).
fn spread(connection: u64, jitter: Duration) -> Duration {
    let fraction = connection.wrapping_mul(0x9E37_79B9_7F4A_7C15) as f64 / u64::MAX as f64;
    jitter.mul_f64(fraction)
}

pub(crate) fn refused<T: Timer>(err: RequestError) -> SseResponse<T> {
    tracing::debug!(code = err.code(), %err, "sse request refused");
    telemetry::refusal(err.status(), err.code());
    SseResponse::Error(err)
}

/// A backend's refusal that is not the request's fault.
pub(crate) fn transport_error(err: SubscribeError) -> RequestError {
    match err {
        SubscribeError::Closed => RequestError::ShuttingDown,
        SubscribeError::Backend(err) => RequestError::Backend(err),
        other => RequestError::Backend(a2a_events::BackendError::new(
            a2a_events::BackendErrorKind::Protocol,
            other,
        )),
    }
}

fn plan_str(plan: Option<&PlanId>) -> Option<&str> {
    plan.map(PlanId::as_str)
}

#[cfg(test)]
#[path = "service_tests.rs"]
mod tests;

#[cfg(test)]
#[path = "service_options_tests.rs"]
mod options_tests;

#[cfg(test)]
#[path = "service_limits_tests.rs"]
mod limits_tests;
