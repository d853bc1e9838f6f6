//! [`ConformanceWorld`]: one scenario's event engine, server, clients and what they
//! observed.
//!
//! The server and the backend under test are chosen before each scenario
//! ([`ConformanceWorld::use_setup`]); from then on nothing here or in the steps depends on
//! which they are.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use a2a_events::{BufferLimits, EventBackend};
use a2a_sse_agent::{A2aConfig, Agent};
use a2a_sse_core::{AuthError, DisconnectInfo, DisconnectReason, SseService};
use tokio::task::JoinHandle;
use tokio::time::Instant;

use super::a2a::A2aClient;
use super::agent::Conversation;
use super::backend::{Backend, BackendSettings};
use super::client::{Answer, Client};
use super::publish::Published;
use super::script::Script;
use super::server::{RunningServer, Server};
use crate::Recorder;

/// How long anything expected may take before a step fails: generous, for a loaded machine.
pub(crate) const PATIENCE: Duration = Duration::from_secs(10);

/// A scenario that takes longer is named on standard error.
const SLOW: Duration = Duration::from_secs(3);

/// History retained by every scenario's engine, in bytes: large enough that only the number
/// of events bounds it, so a scenario that sends big events still resumes without loss.
const HISTORY_BYTES: usize = 512 << 20;

/// How a scenario's server is configured; `None` keeps the library's default.
#[derive(Debug, Clone, Default)]
pub(crate) struct Settings {
    pub(crate) keep_alive: Option<Duration>,
    pub(crate) history_events: Option<usize>,
    pub(crate) buffer_events: Option<usize>,
    /// Admit only requests with `Authorization: Bearer <token>`: none is `401`, another
    /// token `403`.
    pub(crate) bearer_token: Option<String>,
    pub(crate) max_streams: Option<usize>,
}

/// The server and backend a run uses for every scenario.
#[derive(Debug, Clone)]
pub(crate) struct Setup {
    pub(crate) server: Arc<dyn Server>,
    pub(crate) backend: Arc<dyn Backend>,
}

/// What one scenario set up and observed.
#[derive(Debug, Default, cucumber::World)]
pub(crate) struct ConformanceWorld {
    setup: Option<Setup>,
    service: Option<SseService>,
    server: Option<RunningServer>,
    pub(crate) clients: BTreeMap<String, Client>,
    pub(crate) a2a_clients: BTreeMap<String, A2aClient>,
    /// The agent's executor, and what it reports of its executions.
    pub(crate) script: Script,
    /// The conversation of the scenario's client with the agent.
    pub(crate) agent: Conversation,
    pub(crate) published: Published,
    pub(crate) answer: Option<Answer>,
    disconnects: Recorder<DisconnectInfo>,
    stopping: Option<JoinHandle<Duration>>,
    began: Option<Instant>,
}

impl ConformanceWorld {
    /// Serves this scenario with `setup`.
    pub(crate) fn use_setup(&mut self, setup: Setup) {
        self.setup = Some(setup);
        self.began = Some(Instant::now());
    }

    /// Starts an engine and a server configured by `settings`.
    pub(crate) async fn start(&mut self, settings: Settings) {
        let Setup { server, backend } = self
            .setup
            .clone()
            .expect("a setup chosen before the scenario");
        let backend_settings = BackendSettings {
            history_events: settings.history_events,
            history_bytes: Some(HISTORY_BYTES),
        };
        let backend = backend
            .start(backend_settings)
            .await
            .unwrap_or_else(|e| panic!("{backend:?} did not start: {e}"));
        let mut builder = SseService::builder(Arc::clone(&backend))
            .protocol(Agent::with_executor(
                A2aConfig::default(),
                self.script.clone(),
            ))
            .on_disconnect(self.disconnects.hook());
        if let Some(every) = settings.keep_alive {
            builder = builder.keep_alive(every);
        }
        if let Some(events) = settings.buffer_events {
            builder = builder.buffer(BufferLimits::new(events, BufferLimits::DEFAULT.bytes));
        }
        if let Some(token) = settings.bearer_token {
            let expected = bearer(&token);
            builder = builder.authorize(move |request| match request.header("authorization") {
                None => Err(AuthError::Unauthorized("a bearer token is required".into())),
                Some(given) if given == expected.as_bytes() => Ok(()),
                Some(_) => Err(AuthError::Forbidden("this token may not watch".into())),
            });
        }
        if let Some(limit) = settings.max_streams {
            builder = builder.max_connections(limit);
        }
        let service = server
            .configure(builder)
            .build()
            .unwrap_or_else(|e| panic!("service options: {e}"));
        let running = server
            .start(service.clone())
            .await
            .unwrap_or_else(|e| panic!("{} server did not start: {e}", server.name()));
        self.published.attach(backend);
        self.service = Some(service);
        self.server = Some(running);
    }

    /// The scenario's service.
    fn service(&self) -> &SseService {
        self.service.as_ref().expect("a server was started")
    }

    /// The scenario's event engine.
    pub(crate) fn backend(&self) -> &Arc<dyn EventBackend> {
        self.service().backend()
    }

    /// Where the server listens.
    pub(crate) fn addr(&self) -> SocketAddr {
        self.server.as_ref().expect("a running server").addr()
    }

    /// The client called `name`.
    pub(crate) fn client(&mut self, name: &str) -> &mut Client {
        self.clients
            .get_mut(name)
            .unwrap_or_else(|| panic!("no client {name:?}"))
    }

    /// Streams open on the server and subscribers of the engine, once both equal `count`
    /// (or as they are after [`PATIENCE`]).
    pub(crate) async fn settle_streams(&self, count: usize) -> (usize, usize) {
        let service = self.service();
        let counts = || (service.open_streams(), service.backend().subscriber_count());
        eventually(|| counts() == (count, count)).await;
        counts()
    }

    /// The disconnect hook's reports, once there are at least `count` of them (or as they
    /// are after [`PATIENCE`]).
    pub(crate) async fn disconnects(&self, count: usize) -> Vec<DisconnectInfo> {
        eventually(|| self.disconnects.len() >= count).await;
        self.disconnects.calls()
    }

    /// Reasons of the reports, once there are at least `count` of them.
    pub(crate) async fn disconnect_reasons(&self, count: usize) -> Vec<DisconnectReason> {
        self.disconnects(count)
            .await
            .iter()
            .map(|info| info.reason)
            .collect()
    }

    /// Closes the engine, then stops the server gracefully in the background, timing it.
    pub(crate) fn shut_down(&mut self) {
        self.backend().close();
        let server = self.server.take().expect("a running server");
        let started = Instant::now();
        self.stopping = Some(tokio::spawn(async move {
            server.stop().await;
            started.elapsed()
        }));
    }

    /// How long the graceful stop begun by [`shut_down`](Self::shut_down) took, if it
    /// finished within `limit`.
    pub(crate) async fn stopped_within(&mut self, limit: Duration) -> Option<Duration> {
        let stopping = self.stopping.as_mut().expect("a shutdown in progress");
        tokio::time::timeout(limit, stopping)
            .await
            .ok()
            .map(|r| r.expect("stop task"))
    }

    /// Ends the scenario: closes every client and the engine, then stops the server. Names
    /// `scenario` on standard error when it was slow, to find what slows the run down.
    pub(crate) async fn tear_down(&mut self, scenario: &str) {
        self.clients.clear();
        self.a2a_clients.clear();
        self.end_conversation();
        self.published.stop().await;
        if let Some(service) = &self.service {
            service.backend().close();
        }
        let stopped = match self.server.take() {
            Some(server) => tokio::time::timeout(PATIENCE, server.stop()).await.is_ok(),
            None => true,
        };
        if !stopped {
            eprintln!("warning: the server did not stop within {PATIENCE:?}");
        }
        if let Some(stopping) = self.stopping.take() {
            stopping.abort();
        }
        let took = self.began.map(|began| began.elapsed()).unwrap_or_default();
        if took > SLOW {
            let server = self.setup.as_ref().map_or("?", |s| s.server.name());
            eprintln!("note: {scenario:?} took {took:.1?} against {server}");
        }
    }
}

/// Polls `condition` every 10 ms until it holds or [`PATIENCE`] runs out.
pub(crate) async fn eventually(condition: impl Fn() -> bool) -> bool {
    let deadline = Instant::now() + PATIENCE;
    loop {
        if condition() {
            return true;
        }
        if Instant::now() >= deadline {
            return false;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// How a reconnecting client names the last event it saw.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ResumeVia {
    /// The `Last-Event-ID` header, as a browser's `EventSource` sends it.
    Header,
    /// The `last_event_id` query parameter, for clients that cannot set headers.
    Query,
}

impl ConformanceWorld {
    /// Connects a client `name` watching `plan`, or every plan.
    pub(crate) async fn connect(&mut self, name: &str, plan: Option<&str>) {
        let client =
            Client::open(self.addr(), plan.map(str::to_owned), &plan_query(plan), &[]).await;
        self.clients.insert(name.to_owned(), client);
    }

    /// Connects a client `name` watching `plan`, sending `Authorization: Bearer <token>`.
    pub(crate) async fn connect_with_token(&mut self, name: &str, plan: &str, token: &str) {
        let authorization = bearer(token);
        let headers = [("authorization", authorization.as_str())];
        let query = plan_query(Some(plan));
        let client = Client::open(self.addr(), Some(plan.to_owned()), &query, &headers).await;
        self.clients.insert(name.to_owned(), client);
    }

    /// Connects a client `name` watching `plan`, resuming after event `after`.
    pub(crate) async fn connect_after(&mut self, name: &str, plan: &str, after: &str) {
        let headers = [("last-event-id", after)];
        let client = Client::open(
            self.addr(),
            Some(plan.to_owned()),
            &plan_query(Some(plan)),
            &headers,
        )
        .await;
        self.clients.insert(name.to_owned(), client);
    }

    /// Reconnects client `name`, resuming after event `after`.
    pub(crate) async fn reconnect(&mut self, name: &str, after: &str, via: ResumeVia) {
        let addr = self.addr();
        let client = self.client(name);
        let mut query = plan_query(client.plan.as_deref());
        let mut headers = Vec::new();
        match via {
            ResumeVia::Header => headers.push(("last-event-id", after)),
            ResumeVia::Query if query.is_empty() => query = format!("last_event_id={after}"),
            ResumeVia::Query => query = format!("{query}&last_event_id={after}"),
        }
        client.reopen(addr, &query, &headers).await;
        client.reads = true;
    }

    /// Sends a one-off request and keeps the answer.
    pub(crate) async fn ask(&mut self, method: &str, query: &str, headers: &[(&str, &str)]) {
        let (answer, _stream) = super::client::request(self.addr(), method, query, headers).await;
        self.answer = Some(answer);
    }
}

/// The `Authorization` value that carries `token`.
pub(crate) fn bearer(token: &str) -> String {
    format!("Bearer {token}")
}

fn plan_query(plan: Option<&str>) -> String {
    plan.map(|plan| format!("plan_id={plan}"))
        .unwrap_or_default()
}
