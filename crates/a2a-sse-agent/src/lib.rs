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
mod framing;
mod jsonrpc;
mod method;
mod rest;
mod serve;
mod version;

use std::sync::Arc;

use a2a_sse_core::{Handling, Protocol, RequestError, RequestHead, Route, SseService, refuse};

pub use card::{AgentCard, AgentSkill};
pub use error::{A2aError, ERROR_DOMAIN};
pub use version::VERSION_HEADER;

/// The protocol version served.
pub const PROTOCOL_VERSION: &str = "1.0";
/// Where clients look for the agent card.
pub const AGENT_CARD_PATH: &str = "/.well-known/agent-card.json";

/// Where the bindings' routes are, and the agent card to serve.
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
}

impl Default for A2aConfig {
    fn default() -> Self {
        Self {
            jsonrpc_path: "/a2a/jsonrpc".to_owned(),
            rest_base: "/a2a".to_owned(),
            card: None,
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
}

/// What each route of [`Agent::routes`] is, by its index.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Endpoint {
    JsonRpc,
    Card,
    Rest,
}

impl Agent {
    /// The protocol with `config`'s routes and card.
    #[must_use]
    pub fn new(config: A2aConfig) -> Self {
        Self {
            inner: Arc::new(AgentInner { config }),
        }
    }

    /// The routes' options.
    #[must_use]
    pub fn config(&self) -> &A2aConfig {
        &self.inner.config
    }

    fn endpoints(&self) -> Vec<(Route, Endpoint)> {
        let config = &self.inner.config;
        let base = config.rest_base();
        let mut endpoints = vec![(Route::exact(&config.jsonrpc_path), Endpoint::JsonRpc)];
        // Below the base, the base's own route answers the trailing `/` form.
        if !config.jsonrpc_path.starts_with(&format!("{base}/")) {
            let slash = format!("{}/", config.jsonrpc_path.trim_end_matches('/'));
            endpoints.push((Route::exact(slash), Endpoint::JsonRpc));
        }
        if config.card.is_some() {
            endpoints.push((Route::exact(AGENT_CARD_PATH), Endpoint::Card));
        }
        endpoints.push((Route::prefix(base), Endpoint::Rest));
        endpoints
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
        let config = &self.inner.config;
        let endpoint = match self.endpoints().get(route).map(|(_, endpoint)| *endpoint) {
            Some(Endpoint::Rest) => {
                let below = head
                    .path()
                    .strip_prefix(config.rest_base())
                    .unwrap_or_default();
                let jsonrpc = config.jsonrpc_path.trim_end_matches('/');
                if head.path().trim_end_matches('/') == jsonrpc {
                    Endpoint::JsonRpc
                } else {
                    return serve::rest(&self.inner, service, head, below);
                }
            }
            Some(endpoint) => endpoint,
            None => return refuse(RequestError::NotFound).into(),
        };
        match endpoint {
            Endpoint::JsonRpc => serve::jsonrpc(&self.inner, service, head),
            Endpoint::Card => serve::card(&self.inner, head).into(),
            Endpoint::Rest => refuse(RequestError::NotFound).into(),
        }
    }
}
