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

use crate::a2a::encode::Binding;
use crate::a2a::{self, A2aConfig, A2aError, AGENT_CARD_PATH, jsonrpc, rest};
use crate::config::{ConfigError, SseConfig};
use crate::hook::{
    ConnectHook, ConnectInfo, ConnectionGuard, DisconnectHook, DisconnectInfo, Permit,
};
use crate::request::{LAST_EVENT_ID_HEADER, RequestError, RequestHead, SseRequest};
use crate::response::SseResponse;
use crate::stream::{Framing, SseStream, StreamOptions};
use crate::telemetry;
use crate::timer::Timer;
use serde_json::value::RawValue;

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
        let prepared = match route.endpoint {
            Endpoint::Events => Prepared::Events(self.admit(head)),
            Endpoint::A2aJsonRpc => Prepared::A2a(self.a2a_jsonrpc(head, &body)),
            Endpoint::A2aTask => Prepared::A2a(self.a2a_rest(head)),
            Endpoint::AgentCard => Prepared::Ready(Box::new(self.agent_card(head))),
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
        let admitted = self.admit(head);
        self.events(admitted)
    }

    async fn events(&self, admitted: Result<(SseRequest, Permit), RequestError>) -> SseResponse<T> {
        let (request, permit) = match admitted {
            Ok(admitted) => admitted,
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

    fn admit(&self, head: &dyn RequestHead) -> Result<(SseRequest, Permit), RequestError> {
        if head.method() != "GET" {
            return Err(RequestError::MethodNotAllowed);
        }
        let request = SseRequest::parse(head.query(), head.header(LAST_EVENT_ID_HEADER))?;
        self.authorize(head, &request)?;
        Ok((request, self.permit()?))
    }

    fn authorize(&self, head: &dyn RequestHead, request: &SseRequest) -> Result<(), RequestError> {
        let Some(authorize) = &self.inner.authorize else {
            return Ok(());
        };
        authorize(&AuthRequest { request, head }).map_err(|err| match err {
            AuthError::Unauthorized(m) => RequestError::Unauthorized(m),
            AuthError::Forbidden(m) => RequestError::Forbidden(m),
        })
    }

    fn permit(&self) -> Result<Permit, RequestError> {
        let inner = &*self.inner;
        Permit::acquire(&inner.active, inner.config.max_connections)
            .ok_or(RequestError::TooManyConnections)
    }

    /// Subscribes and wraps the subscription in a stream with its hooks.
    async fn open(
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
            last_event_id = info.last_event_id.map(EventId::get),
            "sse stream opened"
        );
        if let Some(hook) = &inner.on_connect {
            hook(&info);
        }
        let binding = match &framing {
            Framing::Native => "native",
            Framing::A2a(Binding::Rest) => "rest",
            Framing::A2a(Binding::JsonRpc { .. }) => "jsonrpc",
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
        };
        Ok(SseStream::new(
            subscription,
            inner.timer.clone(),
            options,
            framing,
            guard,
        ))
    }

    /// Reads a JSON-RPC request of the A2A binding.
    fn a2a_jsonrpc(&self, head: &dyn RequestHead, body: &[u8]) -> Result<A2aCall, Refused<T>> {
        if head.method() != "POST" {
            return Err(Box::new(
                refused(RequestError::MethodNotAllowed).allowing("POST"),
            ));
        }
        let reply = |id: Option<&RawValue>, err: A2aError| {
            tracing::debug!(code = err.code(), %err, "a2a json-rpc request refused");
            telemetry::refusal(200, err.reason());
            Box::new(SseResponse::Json {
                status: 200,
                body: err.jsonrpc_response(id),
            })
        };
        let call = jsonrpc::parse(body).map_err(|(id, err)| reply(id.as_deref(), err))?;
        a2a::negotiate(head).map_err(|err| reply(Some(&call.id), err))?;
        self.a2a_admit(head, call.method, Binding::json_rpc(call.id))
    }

    /// Reads a request of the A2A HTTP+JSON binding.
    fn a2a_rest(&self, head: &dyn RequestHead) -> Result<A2aCall, Refused<T>> {
        let method = rest::parse(head.method(), head.path(), head.query())
            .and_then(|method| a2a::negotiate(head).map(|()| method))
            .map_err(|err| Box::new(status_reply(&err)))?;
        self.a2a_admit(head, method, Binding::Rest)
    }

    /// Validates the task, asks the authorization hook and, for a stream, takes a place.
    fn a2a_admit(
        &self,
        head: &dyn RequestHead,
        method: jsonrpc::Method,
        binding: Binding,
    ) -> Result<A2aCall, Refused<T>> {
        let (task, subscribe, history_length) = match method {
            jsonrpc::Method::GetTask {
                task,
                history_length,
            } => (task, false, history_length),
            jsonrpc::Method::SubscribeToTask { task } => (task, true, None),
        };
        let fail = |err: A2aError| Err(Box::new(a2a_reply(&binding, &err)));
        // An id that cannot be a plan id names no task.
        let Ok(plan) = PlanId::new(&task) else {
            return fail(A2aError::TaskNotFound(task));
        };
        let last_event_id = match head.header(LAST_EVENT_ID_HEADER) {
            Some(header) if subscribe => {
                SseRequest::parse(None, Some(header)).map_err(|err| Box::new(refused(err)))?
            }
            _ => SseRequest::default(),
        }
        .last_event_id;
        let request = SseRequest {
            plan: Some(plan),
            last_event_id,
        };
        self.authorize(head, &request)
            .map_err(|err| Box::new(refused(err)))?;
        let kind = if subscribe {
            A2aKind::Subscribe(self.permit().map_err(|err| Box::new(refused(err)))?)
        } else {
            A2aKind::Get(history_length)
        };
        Ok(A2aCall {
            request,
            binding,
            kind,
        })
    }

    /// Runs an admitted A2A call.
    async fn a2a_call(&self, call: A2aCall) -> SseResponse<T> {
        let A2aCall {
            request,
            binding,
            kind,
        } = call;
        let Some(plan) = request.plan.clone() else {
            return refused(RequestError::ShuttingDown);
        };
        let not_found = || A2aError::TaskNotFound(plan.to_string());
        match kind {
            A2aKind::Get(history_length) => match self.inner.backend.task(&plan).await {
                Ok(Some(snapshot)) => {
                    let task = snapshot.task.clone().with_history_length(history_length);
                    let task = a2a_json(&task);
                    let body = match &binding {
                        Binding::Rest => task,
                        Binding::JsonRpc { id, .. } => jsonrpc::result(id, &task),
                    };
                    SseResponse::Json { status: 200, body }
                }
                Ok(None) => a2a_reply(&binding, &not_found()),
                Err(err) => refused(transport_error(err)),
            },
            A2aKind::Subscribe(permit) => {
                let mut subscribe = SubscribeRequest::plan(plan.clone()).with_snapshot();
                subscribe.after = request.last_event_id;
                let framing = Framing::A2a(binding.clone());
                match self.open(&request, permit, subscribe, framing).await {
                    Ok(stream) => SseResponse::Stream(stream),
                    Err(SubscribeError::UnknownPlan) => a2a_reply(&binding, &not_found()),
                    Err(SubscribeError::PlanFinished { terminal }) => {
                        let message =
                            format!("task {plan} is in a terminal state since event {terminal}");
                        a2a_reply(&binding, &A2aError::UnsupportedOperation(message))
                    }
                    Err(err) => refused(transport_error(err)),
                }
            }
        }
    }

    /// The agent card, for a `GET`.
    fn agent_card(&self, head: &dyn RequestHead) -> SseResponse<T> {
        if head.method() != "GET" {
            return refused(RequestError::MethodNotAllowed);
        }
        let Some((config, card)) = self
            .inner
            .config
            .a2a
            .as_ref()
            .and_then(|a2a| a2a.card.as_ref().map(|card| (a2a, card)))
        else {
            return refused(RequestError::ShuttingDown);
        };
        let host = head
            .header("host")
            .and_then(|host| std::str::from_utf8(host).ok());
        SseResponse::Json {
            status: 200,
            body: card.render(config, host),
        }
    }
}

/// An answer that refuses a request (never a stream), boxed to keep results small.
type Refused<T> = Box<SseResponse<T>>;

/// What [`SseService::handle`] read of a request before it awaits anything.
enum Prepared<T: Timer> {
    Events(Result<(SseRequest, Permit), RequestError>),
    A2a(Result<A2aCall, Refused<T>>),
    Ready(Refused<T>),
}

/// An admitted A2A request.
struct A2aCall {
    request: SseRequest,
    binding: Binding,
    kind: A2aKind,
}

enum A2aKind {
    /// `GetTask`, with its `historyLength`.
    Get(Option<usize>),
    /// `SubscribeToTask`, holding its place among the open streams.
    Subscribe(Permit),
}

fn refused<T: Timer>(err: RequestError) -> SseResponse<T> {
    tracing::debug!(code = err.code(), %err, "sse request refused");
    telemetry::refusal(err.status(), err.code());
    SseResponse::Error(err)
}

/// A protocol error in the binding's shape.
fn a2a_reply<T: Timer>(binding: &Binding, err: &A2aError) -> SseResponse<T> {
    match binding {
        Binding::Rest => status_reply(err),
        Binding::JsonRpc { id, .. } => {
            tracing::debug!(code = err.code(), %err, "a2a json-rpc request refused");
            telemetry::refusal(200, err.reason());
            SseResponse::Json {
                status: 200,
                body: err.jsonrpc_response(Some(id)),
            }
        }
    }
}

/// A protocol error of the HTTP+JSON binding: its status and `google.rpc.Status` body.
fn status_reply<T: Timer>(err: &A2aError) -> SseResponse<T> {
    tracing::debug!(status = err.http_status(), %err, "a2a http+json request refused");
    telemetry::refusal(err.http_status(), err.reason());
    let response = SseResponse::Json {
        status: err.http_status(),
        body: err.status_body(),
    };
    match err {
        A2aError::MethodNotAllowed(allow) => response.allowing(allow),
        _ => response,
    }
}

/// A backend's refusal that is not the request's fault.
fn transport_error(err: SubscribeError) -> RequestError {
    match err {
        SubscribeError::Closed => RequestError::ShuttingDown,
        SubscribeError::Backend(err) => RequestError::Backend(err),
        other => RequestError::Backend(a2a_events::BackendError::new(
            a2a_events::BackendErrorKind::Protocol,
            other,
        )),
    }
}

/// A task's JSON.
fn a2a_json(task: &a2a_events::Task) -> Bytes {
    Bytes::from(serde_json::to_vec(task).unwrap_or_default())
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

    /// Serves the A2A v1.0 binding too (`SubscribeToTask` and `GetTask` over JSON-RPC
    /// and HTTP+JSON, and the agent card when `config` has one): see [`crate::a2a`].
    pub fn a2a(mut self, config: A2aConfig) -> Self {
        self.config.a2a = Some(config);
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
