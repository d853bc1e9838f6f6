//! [`SseServiceBuilder`]: every option of an [`SseService`], set one by one, and checked
//! once by [`SseServiceBuilder::build`], with the routes of the protocols it serves.

use std::fmt;
use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::AtomicU64;
use std::time::Duration;

use a2a_events::{BufferLimits, EventBackend};

use crate::auth::{AuthError, AuthRequest, Authorizer};
use crate::config::{ConfigError, SseConfig, validate_path};
use crate::hook::{ConnectHook, ConnectInfo, DisconnectHook, DisconnectInfo};
use crate::limits::Limits;
use crate::protocol::Protocol;
use crate::service::{Inner, Route, RouteTarget, SseService};

/// Builder of an [`SseService`]; every option has the library default until set, and
/// [`build`](Self::build) checks them all.
#[must_use]
pub struct SseServiceBuilder {
    backend: Arc<dyn EventBackend>,
    config: SseConfig,
    authorize: Option<Authorizer>,
    on_connect: Option<ConnectHook>,
    on_disconnect: Option<DisconnectHook>,
    protocols: Vec<Arc<dyn Protocol>>,
}

impl SseServiceBuilder {
    /// A builder over `backend` (also [`SseService::builder`]).
    pub fn new(backend: impl EventBackend) -> Self {
        Self {
            backend: Arc::new(backend),
            config: SseConfig::default(),
            authorize: None,
            on_connect: None,
            on_disconnect: None,
            protocols: Vec::new(),
        }
    }

    /// Serves `protocol`'s routes too (the A2A bindings, say): see [`Protocol`]. Several
    /// protocols may be served; their routes must differ from each other and from the
    /// stream's.
    pub fn protocol(mut self, protocol: impl Protocol) -> Self {
        self.protocols.push(Arc::new(protocol));
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

    /// Decides, before anything is subscribed or a place is taken, whether a request may
    /// open a stream (or, on the A2A routes, read a task); replaces an async hook set
    /// before.
    pub fn authorize(
        mut self,
        hook: impl Fn(&AuthRequest) -> Result<(), AuthError> + Send + Sync + 'static,
    ) -> Self {
        self.authorize = Some(Authorizer::sync(hook));
        self
    }

    /// [`authorize`](Self::authorize) with an async hook, for a decision that waits (a
    /// token looked up in a store, say); replaces a hook set before.
    ///
    /// ```
    /// use a2a_events::A2aEventQueue;
    /// use a2a_sse_core::{AuthError, AuthRequest, SseService};
    ///
    /// async fn lookup(token: String) -> bool {
    ///     token == "s3cret" // a database or an identity provider here
    /// }
    ///
    /// let service: SseService = SseService::builder(A2aEventQueue::new())
    ///     .authorize_async(|request: AuthRequest| async move {
    ///         let Some(token) = request.bearer_token().map(str::to_owned) else {
    ///             return Err(AuthError::Unauthorized("a bearer token is required".into()));
    ///         };
    ///         if lookup(token).await {
    ///             Ok(())
    ///         } else {
    ///             Err(AuthError::Forbidden("this token may not watch".into()))
    ///         }
    ///     })
    ///     .build()?;
    /// # Ok::<(), a2a_sse_core::ConfigError>(())
    /// ```
    pub fn authorize_async<F>(
        mut self,
        hook: impl Fn(AuthRequest) -> F + Send + Sync + 'static,
    ) -> Self
    where
        F: Future<Output = Result<(), AuthError>> + Send + 'static,
    {
        self.authorize = Some(Authorizer::from_async(hook));
        self
    }

    /// Most streams open at once for one plan.
    pub fn max_streams_per_plan(mut self, limit: usize) -> Self {
        self.config.max_streams_per_plan = Some(limit);
        self
    }

    /// Refuses subscriptions to every plan at once (`400 plan_id_required`).
    pub fn require_plan(mut self) -> Self {
        self.config.require_plan = true;
        self
    }

    /// Ends each stream after `lifetime` plus up to `jitter` (spread over connections),
    /// between frames; clients resume with `Last-Event-ID`.
    pub fn max_lifetime(mut self, lifetime: Duration, jitter: Duration) -> Self {
        self.config.max_lifetime = Some(lifetime);
        self.config.lifetime_jitter = Some(jitter);
        self
    }

    /// Longest wait for a request head, for the serving setup to give its framework.
    pub fn header_read_timeout(mut self, timeout: Duration) -> Self {
        self.config.header_read_timeout = timeout;
        self
    }

    /// Longest wait for a request body (past it, `408`).
    pub fn body_read_timeout(mut self, timeout: Duration) -> Self {
        self.config.body_read_timeout = timeout;
        self
    }

    /// The write deadline of accepted connections (see [`SocketOptions`](crate::SocketOptions)).
    pub fn write_timeout(mut self, timeout: Duration) -> Self {
        self.config.socket.write_timeout = Some(timeout);
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
    /// [`ConfigError`] when an option is out of range, or a route cannot be mounted or is
    /// declared twice.
    pub fn build(self) -> Result<SseService, ConfigError> {
        self.config.validate()?;
        let routes = routes(&self.config.path, &self.protocols)?;
        let service = SseService {
            inner: Arc::new(Inner {
                backend: self.backend,
                routes,
                protocols: self.protocols,
                authorize: self.authorize,
                on_connect: self.on_connect,
                on_disconnect: self.on_disconnect,
                limits: Arc::new(Limits::new(
                    self.config.max_connections,
                    self.config.max_streams_per_plan,
                )),
                next_connection: AtomicU64::new(1),
                config: self.config,
            }),
        };
        for protocol in &service.inner.protocols {
            protocol.start(&service);
        }
        Ok(service)
    }
}

impl fmt::Debug for SseServiceBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SseServiceBuilder")
            .field("config", &self.config)
            .field("protocols", &self.protocols.len())
            .finish_non_exhaustive()
    }
}

/// Every route of a service: the stream's, then each protocol's, each checked, none
/// twice; exact routes first, then prefix routes, longest first, so that an adapter that
/// matches in order never lets a prefix shadow a route below it.
fn routes(path: &str, protocols: &[Arc<dyn Protocol>]) -> Result<Vec<Route>, ConfigError> {
    let mut routes = vec![Route::bound(Route::exact(path), RouteTarget::Events)];
    for (protocol, declared) in protocols.iter().enumerate() {
        for (route, declared) in declared.routes().into_iter().enumerate() {
            // `/` alone is refused as a stream path or prefix (it would shadow every other
            // route), but a page of its own is fine.
            if declared.is_prefix() || declared.path() != "/" {
                validate_path(declared.path())?;
            }
            let target = RouteTarget::Protocol { protocol, route };
            routes.push(Route::bound(declared, target));
        }
    }
    for (i, route) in routes.iter().enumerate() {
        let same =
            |other: &Route| other.path() == route.path() && other.is_prefix() == route.is_prefix();
        if routes[..i].iter().any(same) {
            return Err(ConfigError::InvalidPath {
                path: route.path().to_owned(),
                reason: "two routes of the service would be the same",
            });
        }
    }
    routes.sort_by_key(|route| {
        let longest_first = if route.is_prefix() {
            route.path().len()
        } else {
            0
        };
        (route.is_prefix(), std::cmp::Reverse(longest_first))
    });
    Ok(routes)
}
