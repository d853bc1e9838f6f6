//! The A2A v1.0 protocol on a2a-sse: `SubscribeToTask` and `GetTask` over JSON-RPC and
//! HTTP+JSON, and the agent card, served from the same backend as the native stream, so
//! an A2A client and a browser watch the same events. The plan id is the task id.
//!
//! [`Agent`] is a [`Protocol`] of the SSE core: add it to a service with
//! [`SseServiceBuilder::protocol`](a2a_sse_core::SseServiceBuilder::protocol), and the
//! service's [`routes`](a2a_sse_core::SseService::routes) include, with the default
//! [`A2aConfig`]:
//!
//! - `POST /a2a/jsonrpc` (and `/a2a/jsonrpc/`): JSON-RPC 2.0 requests;
//! - everything below `/a2a`: the HTTP+JSON binding, `GET /a2a/tasks/{id}` (`GetTask`)
//!   and `POST|GET /a2a/tasks/{id}:subscribe` (`SubscribeToTask`); any other path there
//!   is answered in the binding's error shape;
//! - with an [`AgentCard`], `GET` (and `HEAD`) `/.well-known/agent-card.json`, naming
//!   both interfaces.
//!
//! ```
//! use a2a_events::A2aEventQueue;
//! use a2a_sse_agent::{A2aConfig, Agent, AgentCard};
//! use a2a_sse_core::SseService;
//!
//! let card = AgentCard::new("planner", "Follows plan executions", "1.0.0");
//! let service = SseService::builder(A2aEventQueue::new())
//!     .protocol(Agent::new(A2aConfig::with_card(card)))
//!     .build()?;
//! assert!(service.routes().iter().any(|route| route.path() == "/a2a/jsonrpc"));
//! # Ok::<(), a2a_sse_core::ConfigError>(())
//! ```
//!
//! # Streams
//!
//! A subscription's first item is the task as it is (`{"task": …}`: id, context, latest
//! status, artifacts so far with chunks joined); then come `statusUpdate` and
//! `artifactUpdate` items in publish order. The stream closes after a terminal state, and
//! after an interrupted one (input or authentication required), as the specification's
//! streaming rules say. An `error` event of the native stream has no A2A item and is left
//! out. Over JSON-RPC each item is `{"jsonrpc":"2.0","id":<request id>,"result":…}`;
//! over HTTP+JSON it is the bare item.
//!
//! Beyond the specification, every frame has an SSE `id:`. Subscribing again with
//! `Last-Event-ID` replays exactly what was missed, then goes live; when history no longer
//! covers that id, the stream starts with a fresh task instead. Clients that ignore `id:`
//! are not affected.
//!
//! # Errors
//!
//! Protocol errors are [`A2aError`]s: over JSON-RPC an error response with HTTP 200 (an
//! A2A client reads any HTTP 4xx as a generic failure), over HTTP+JSON a
//! `google.rpc.Status` with its HTTP status. After a stream started, an error is an
//! `event: error` frame in the same shape, and the stream ends: a subscriber that fell
//! behind its buffer gets an internal error naming the last id it received, so it can
//! resume. Transport refusals are as on the native stream: `401`/`403` from the
//! authorization hook, `503` with `Retry-After` past the connection limit or while the
//! server shuts down, with the JSON error body.
//!
//! # Versions
//!
//! A request names its protocol version in the `A2A-Version` header (or an `A2A-Version`
//! query parameter). `1.0` is served, and any patch of it (`1.0.2`). The specification
//! reads a missing or empty version as `0.3`, which this binding does not speak: such a
//! request gets `VersionNotSupportedError` (JSON-RPC `-32009`; HTTP+JSON 400
//! `VERSION_NOT_SUPPORTED`). The agent card is served to any client.

mod card;
mod error;
mod executor;
mod framing;
mod handle;
mod jsonrpc;
mod method;
pub mod push;
mod rest;
mod runner;
mod serve;
mod version;

use std::sync::{Arc, Once, OnceLock};
use std::time::Duration;

use a2a_events::EventBackend;
use a2a_sse_core::{Handling, Protocol, RequestError, RequestHead, Route, SseService, refuse};

pub use card::{AgentCard, AgentSkill};
pub use error::{A2aError, ERROR_DOMAIN};
pub use executor::{AgentExecutor, ExecutionError, Outcome, RequestContext, TaskError, TaskHandle};
pub use version::VERSION_HEADER;

use crate::card::Capabilities;
use crate::executor::DynExecutor;
use crate::push::{Deliverer, PushOptions};
use crate::runner::Runner;

/// The protocol version served.
pub const PROTOCOL_VERSION: &str = "1.0";
/// Where clients look for the agent card.
pub const AGENT_CARD_PATH: &str = "/.well-known/agent-card.json";

/// Where the bindings' routes are, the agent card to serve, and how executions are kept.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct A2aConfig {
    /// The JSON-RPC route (default `/a2a/jsonrpc`); the same path with a trailing `/`
    /// is served too.
    pub jsonrpc_path: String,
    /// The HTTP+JSON base (default `/a2a`): every path below it belongs to the binding.
    /// It cannot be `/`.
    pub rest_base: String,
    /// The card served at [`AGENT_CARD_PATH`]; `None` serves none.
    pub card: Option<AgentCard>,
    /// How long clients may cache the card (default five minutes): its `Cache-Control`
    /// `max-age`.
    pub card_max_age: Duration,
    /// How long a replica's lease on a running execution lasts (default 20 s). It renews
    /// it every third of that while the execution runs; once a lease runs out (its replica
    /// died), another replica fails the task within a third more. With the default, a
    /// task of a dead replica fails within 30 s of its last renewal.
    pub lease: Duration,
    /// How long a canceled execution may take to return before it is dropped (default
    /// 10 s).
    pub cancel_grace: Duration,
    /// Push notifications: `None` (the default) turns them off, and the card says so;
    /// with options, the agent keeps configs and delivers to them (see [`push`]).
    pub push: Option<PushOptions>,
}

impl Default for A2aConfig {
    fn default() -> Self {
        Self {
            jsonrpc_path: "/a2a/jsonrpc".to_owned(),
            rest_base: "/a2a".to_owned(),
            card: None,
            card_max_age: Duration::from_secs(300),
            lease: Duration::from_secs(20),
            cancel_grace: Duration::from_secs(10),
            push: None,
        }
    }
}

impl A2aConfig {
    /// The default routes, serving `card`.
    #[must_use]
    pub fn with_card(card: AgentCard) -> Self {
        Self {
            card: Some(card),
            ..Self::default()
        }
    }

    fn rest_base(&self) -> &str {
        self.rest_base.trim_end_matches('/')
    }
}

/// The A2A protocol, served by an [`SseService`] beside its native stream (see the
/// [crate docs](crate)). Cloning is cheap.
#[derive(Debug, Clone)]
pub struct Agent {
    inner: Arc<AgentInner>,
}

#[derive(Debug)]
pub(crate) struct AgentInner {
    pub(crate) config: A2aConfig,
    /// Runs executions; `None` without an executor (the agent then takes no messages).
    pub(crate) runner: Option<Arc<Runner>>,
    /// When the agent was built, as an HTTP date: the card's `Last-Modified`.
    pub(crate) started: String,
    /// The background work (the lease sweeper, push deliveries) is started once, when
    /// the service is built or on the first request.
    background: Once,
    /// Delivers push notifications, when they are on.
    deliverer: OnceLock<Arc<Deliverer>>,
}

impl AgentInner {
    /// What the card says the agent can do.
    pub(crate) const fn capabilities(&self) -> Capabilities {
        Capabilities {
            streaming: true,
            push_notifications: self.config.push.is_some(),
            extended_agent_card: false,
        }
    }

    /// The deliverer of push notifications from `backend`, when they are on.
    pub(crate) fn deliverer(&self, backend: &Arc<dyn EventBackend>) -> Option<&Arc<Deliverer>> {
        let options = self.config.push.as_ref()?;
        Some(
            self.deliverer
                .get_or_init(|| Deliverer::new(Arc::clone(backend), options.clone())),
        )
    }
}

/// What each route of [`Agent::routes`] is, by its index.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Endpoint<'a> {
    JsonRpc,
    /// The agent card, which the config has.
    Card(&'a AgentCard),
    Rest,
}

impl Agent {
    /// The protocol with `config`'s routes and card, and no executor: it serves tasks
    /// others publish (`GetTask`, `ListTasks`, `CancelTask`, `SubscribeToTask`), and
    /// answers messages with `UnsupportedOperation`.
    #[must_use]
    pub fn new(config: A2aConfig) -> Self {
        Self::build(config, None)
    }

    /// The protocol with `config`'s routes and card, running `executor` on every
    /// message: a whole A2A agent.
    #[must_use]
    pub fn with_executor(config: A2aConfig, executor: impl AgentExecutor) -> Self {
        let executor: Arc<dyn DynExecutor> = Arc::new(executor);
        Self::build(config, Some(executor))
    }

    fn build(config: A2aConfig, executor: Option<Arc<dyn DynExecutor>>) -> Self {
        let runner = executor.map(|executor| {
            Arc::new(Runner {
                executor,
                lease: config.lease.max(Duration::from_millis(30)),
                cancel_grace: config.cancel_grace,
            })
        });
        Self {
            inner: Arc::new(AgentInner {
                config,
                runner,
                started: http_date(time::OffsetDateTime::now_utc()),
                background: Once::new(),
                deliverer: OnceLock::new(),
            }),
        }
    }

    /// The routes' options.
    #[must_use]
    pub fn config(&self) -> &A2aConfig {
        &self.inner.config
    }

    fn endpoints(&self) -> Vec<(Route, Endpoint<'_>)> {
        let config = &self.inner.config;
        let base = config.rest_base();
        let mut endpoints = vec![(Route::exact(&config.jsonrpc_path), Endpoint::JsonRpc)];
        // Below the base, the base's own route answers the trailing `/` form.
        if !config.jsonrpc_path.starts_with(&format!("{base}/")) {
            let slash = format!("{}/", config.jsonrpc_path.trim_end_matches('/'));
            endpoints.push((Route::exact(slash), Endpoint::JsonRpc));
        }
        if let Some(card) = &config.card {
            endpoints.push((Route::exact(AGENT_CARD_PATH), Endpoint::Card(card)));
        }
        endpoints.push((Route::prefix(base), Endpoint::Rest));
        endpoints
    }

    /// Starts the background work, once, on the current runtime: the sweeper of expired
    /// leases (with an executor) and the push deliveries (with push on). Both stop when
    /// the last clone of the agent is dropped.
    fn start_background(&self, service: &SseService) {
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            return;
        };
        self.inner.background.call_once(|| {
            let alive = Arc::downgrade(&self.inner);
            let backend = Arc::clone(service.backend());
            if self.inner.runner.is_some() {
                let lease = self.inner.config.lease;
                runtime.spawn(runner::sweep(alive.clone(), Arc::clone(&backend), lease));
            }
            if let Some(deliverer) = self.inner.deliverer(&backend) {
                runtime.spawn(Arc::clone(deliverer).run(alive));
            }
        });
    }
}

impl Protocol for Agent {
    fn routes(&self) -> Vec<Route> {
        self.endpoints()
            .into_iter()
            .map(|(route, _)| route)
            .collect()
    }

    fn prepare(&self, service: &SseService, route: usize, head: &dyn RequestHead) -> Handling {
        self.start_background(service);
        let config = &self.inner.config;
        match self.endpoints().get(route).map(|(_, endpoint)| *endpoint) {
            Some(Endpoint::JsonRpc) => serve::jsonrpc(&self.inner, service, head),
            Some(Endpoint::Card(card)) => serve::card(&self.inner, card, head).into(),
            Some(Endpoint::Rest) => {
                let jsonrpc = config.jsonrpc_path.trim_end_matches('/');
                if head.path().trim_end_matches('/') == jsonrpc {
                    serve::jsonrpc(&self.inner, service, head)
                } else {
                    let below = head
                        .path()
                        .strip_prefix(config.rest_base())
                        .unwrap_or_default();
                    serve::rest(&self.inner, service, head, below)
                }
            }
            None => refuse(RequestError::NotFound).into(),
        }
    }

    fn start(&self, service: &SseService) {
        self.start_background(service);
    }
}

/// A fresh id for a task, a context or a message: a random UUID.
pub(crate) fn new_id() -> String {
    uuid::Uuid::new_v4().to_string()
}

/// `at` as an HTTP date (`Mon, 07 Dec 2026 02:39:32 GMT`).
fn http_date(at: time::OffsetDateTime) -> String {
    let format = time::macros::format_description!(
        "[weekday repr:short], [day] [month repr:short] [year] [hour]:[minute]:[second] GMT"
    );
    at.format(format)
        .unwrap_or_else(|_| at.unix_timestamp().to_string())
}
