//! [`SseServiceBuilder`]: every option of an [`SseService`], set one by one or all at once
//! ([`SseServiceBuilder::config`]), and checked once by [`SseServiceBuilder::build`].

use std::fmt;
use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::AtomicU64;
use std::time::Duration;

use a2a_events::{BufferLimits, EventBackend};

use crate::a2a::A2aConfig;
use crate::auth::{AuthError, AuthRequest, Authorizer};
use crate::config::{ConfigError, SseConfig};
use crate::hook::{ConnectHook, ConnectInfo, DisconnectHook, DisconnectInfo};
use crate::limits::Limits;
use crate::service::{Inner, SseService};
use crate::timer::Timer;

with_default_timer! {
    /// Builder of an [`SseService`]; every option has the library default until set, and
    /// [`build`](Self::build) checks them all.
    #[must_use]
    pub struct SseServiceBuilder<T: Timer> {
        backend: Arc<dyn EventBackend>,
        timer: T,
        config: SseConfig,
        authorize: Option<Authorizer>,
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
    /// [`ConfigError`] when an option is out of range or the path cannot be mounted.
    pub fn build(self) -> Result<SseService<T>, ConfigError> {
        self.config.validate()?;
        Ok(SseService {
            inner: Arc::new(Inner {
                backend: self.backend,
                timer: self.timer,
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
