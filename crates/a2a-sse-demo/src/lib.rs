//! What the axum and actix-web demo servers share, so both serve the same routes and flags
//! (`docs/architecture.md`, "Demos") with framework code only in the examples themselves:
//! [`DemoArgs`] (the flags, and the service they describe, whose routes include the A2A
//! bindings and [`DemoRoutes`]: the page, the metrics and the publish route),
//! [`simulate`] (the built-in plan simulator), [`listener`] (a socket with a backlog large
//! enough for thousands of clients), [`serve_http1`], the axum demo's connection loop,
//! and [`global_allocator!`], with which a demo binary chooses its allocator.

mod executor;
mod http1;
mod metrics;
mod routes;
mod simulator;
mod tck;

use std::net::{SocketAddr, TcpListener};
use std::sync::Arc;
use std::time::Duration;

use a2a_events::{A2aEventQueue, EventBackend, NewEvent, PlanId, PublishError, QueueConfig};
use a2a_events_redis::{RedisBackend, RedisConfig};
use a2a_sse_agent::{A2aConfig, Agent, AgentCard};
use a2a_sse_core::{DEFAULT_KEEP_ALIVE, SseService, SseServiceBuilder, error_body};
use bytes::Bytes;
use clap::Parser;

pub use executor::DemoExecutor;
pub use http1::{Http1Limits, serve_http1, serve_http1_with};
pub use metrics::{METRICS_CONTENT_TYPE, METRICS_ROUTE, install_metrics, render_metrics};
pub use routes::{DemoRoutes, PLANS};
pub use simulator::simulate;
pub use tck::TckExecutor;

/// The page served at `/`: a live `EventSource` view with a plan filter, no external assets.
pub const INDEX_HTML: &str = include_str!("index.html");

/// Listen backlog of the demo servers (the OS default of 128 overflows when thousands of
/// clients connect at once).
pub const BACKLOG: i32 = 4096;

/// The demo servers' command line.
#[derive(Debug, Clone, Parser)]
#[command(about = "a2a-sse demo server: A2A plan events over Server-Sent Events")]
pub struct DemoArgs {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:3000")]
    pub addr: SocketAddr,
    /// Idle time before a keep-alive comment, in milliseconds.
    #[arg(long, default_value_t = default_keep_alive_ms())]
    pub keep_alive_ms: u64,
    /// Do not run the built-in plan simulator.
    #[arg(long)]
    pub no_simulate: bool,
    /// Time between two steps of a plan run, in milliseconds (the agent's scripts and the
    /// simulator's).
    #[arg(long, default_value_t = 700)]
    pub plan_step_ms: u64,
    /// How long a replica's lease on a running execution lasts, in milliseconds (default:
    /// the library's); a task of a replica that died fails within about 1.5 times this.
    #[arg(long)]
    pub lease_ms: Option<u64>,
    /// Events retained for resume (default: the library's).
    #[arg(long)]
    pub history: Option<usize>,
    /// Per-subscriber buffer, in events (default: the library's).
    #[arg(long)]
    pub buffer: Option<usize>,
    /// Share events with the other replicas through Redis (`redis://HOST:PORT`); without
    /// it, the in-memory queue of this process.
    #[arg(long, value_name = "URL")]
    pub redis: Option<String>,
    /// Longest wait for a request head, in milliseconds (default: the library's); a
    /// connection that does not send one in time is closed.
    #[arg(long)]
    pub header_timeout_ms: Option<u64>,
    /// Write deadline of each connection, in milliseconds (default: the library's): a
    /// client that stops reading is cut once written data waited this long.
    #[arg(long)]
    pub write_timeout_ms: Option<u64>,
}

fn default_keep_alive_ms() -> u64 {
    u64::try_from(DEFAULT_KEEP_ALIVE.as_millis()).unwrap_or(u64::MAX)
}

impl DemoArgs {
    /// Reads the process arguments (exits with usage on bad flags, as CLIs do).
    #[must_use]
    pub fn from_env() -> Self {
        Self::parse()
    }

    /// The pace of a plan run (`--plan-step-ms`).
    #[must_use]
    pub const fn plan_step(&self) -> Duration {
        Duration::from_millis(self.plan_step_ms)
    }

    /// The queue the flags describe.
    ///
    /// # Errors
    ///
    /// A message when `--buffer 0` is given.
    pub fn queue(&self) -> Result<A2aEventQueue, String> {
        let mut config = QueueConfig::default();
        if let Some(history) = self.history {
            config.history_events = history;
        }
        if let Some(events) = self.buffer {
            config.buffer.events = events;
        }
        A2aEventQueue::with_config(config).map_err(|e| e.to_string())
    }

    /// The event engine the flags describe: with `--redis`, a Redis backend shared with
    /// the other replicas; otherwise the in-memory [`queue`](Self::queue). `--history`
    /// and `--buffer` apply to either.
    ///
    /// # Errors
    ///
    /// A message when `--buffer 0` is given, or Redis cannot be reached.
    pub async fn backend(&self) -> Result<Arc<dyn EventBackend>, String> {
        let Some(url) = &self.redis else {
            return Ok(Arc::new(self.queue()?));
        };
        let mut config = RedisConfig::new(url.as_str());
        if let Some(history) = self.history {
            config.history_events = history;
        }
        if let Some(events) = self.buffer {
            config.buffer.events = events;
        }
        let backend = RedisBackend::connect(config).await;
        Ok(Arc::new(backend.map_err(|e| e.to_string())?))
    }

    /// The service builder the flags describe, over `backend`, with the A2A bindings (their
    /// default routes, and the demo's agent card) and the demo's own routes
    /// ([`DemoRoutes`]). The core logs connects and disconnects.
    pub fn service(&self, backend: Arc<dyn EventBackend>) -> SseServiceBuilder {
        let card = AgentCard::new(
            "a2a-sse demo",
            "Runs scripted plans (say report, review, deploy, slow or ping) and streams them",
            env!("CARGO_PKG_VERSION"),
        );
        let config = self.a2a_config(card);
        let agent = Agent::with_executor(config, DemoExecutor::new(self.plan_step()));
        self.service_with(backend, agent)
    }

    /// The A2A options the flags describe (the lease), serving `card`.
    #[must_use]
    pub fn a2a_config(&self, card: AgentCard) -> A2aConfig {
        let mut config = A2aConfig::with_card(card);
        if let Some(ms) = self.lease_ms {
            config.lease = Duration::from_millis(ms);
        }
        config
    }

    /// [`service`](Self::service) with another agent (the TCK agent's, say).
    pub fn service_with(&self, backend: Arc<dyn EventBackend>, agent: Agent) -> SseServiceBuilder {
        let mut builder = SseService::builder(Arc::clone(&backend))
            .keep_alive(Duration::from_millis(self.keep_alive_ms))
            .protocol(agent)
            .protocol(DemoRoutes::new(backend));
        if let Some(ms) = self.write_timeout_ms {
            builder = builder.write_timeout(Duration::from_millis(ms));
        }
        if let Some(ms) = self.header_timeout_ms {
            builder = builder.header_read_timeout(Duration::from_millis(ms));
        }
        builder
    }
}

/// The answer to a publish request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublishOutcome {
    /// HTTP status: 202, or 400, 409 or 503 with the JSON error body.
    pub status: u16,
    /// JSON body.
    pub body: Bytes,
}

/// Publishes the body of `POST /a2a/plans/{plan_id}/events` to `backend`.
///
/// `202 {"id": "..."}` on success; `400 invalid_plan_id` or `400 invalid_body` for bad
/// input; `409 plan_finished` when the plan already ended; `503 shutting_down` after
/// close; `503 backend_unavailable` when the backend refused (Redis unreachable or too
/// slow: the event was not accepted, or, after a timeout, may have been).
pub async fn publish(backend: &dyn EventBackend, plan_id: &str, body: &[u8]) -> PublishOutcome {
    let error = |status, code, message: &dyn std::fmt::Display| PublishOutcome {
        status,
        body: error_body(code, &message.to_string()),
    };
    let plan = match PlanId::new(plan_id) {
        Ok(plan) => plan,
        Err(e) => return error(400, "invalid_plan_id", &e),
    };
    let event = match NewEvent::from_publish_body(plan, body) {
        Ok(event) => event,
        Err(e) => return error(400, "invalid_body", &e),
    };
    match backend.publish(event).await {
        Ok(id) => PublishOutcome {
            status: 202,
            body: Bytes::from(serde_json::json!({ "id": id.to_string() }).to_string()),
        },
        Err(e @ PublishError::PlanFinished { .. }) => error(409, "plan_finished", &e),
        Err(e @ PublishError::Closed) => error(503, "shutting_down", &e),
        Err(e) => error(503, "backend_unavailable", &e),
    }
}

/// A listening socket on `addr` with [`BACKLOG`], non-blocking, ready for tokio or actix.
///
/// # Errors
///
/// The OS error when the address cannot be bound.
pub fn listener(addr: SocketAddr) -> std::io::Result<TcpListener> {
    let socket = socket2::Socket::new(
        socket2::Domain::for_address(addr),
        socket2::Type::STREAM,
        Some(socket2::Protocol::TCP),
    )?;
    socket.set_reuse_address(true)?;
    socket.set_nonblocking(true)?;
    socket.bind(&addr.into())?;
    socket.listen(BACKLOG)?;
    Ok(socket.into())
}

/// Raises the open-files soft limit to the hard one and returns the new limit: every
/// open stream holds a descriptor, and the usual soft limit of 1,024 would refuse
/// connections long before the server is busy (the hard limit is the machine's, often
/// 524,288; `ulimit -Hn` shows it).
///
/// # Errors
///
/// The OS error when the limit cannot be read or set.
pub fn raise_nofile_limit() -> std::io::Result<u64> {
    let (_, hard) = rlimit::Resource::NOFILE.get()?;
    rlimit::increase_nofile_limit(hard)
}

/// Sets the demo binary's global allocator: jemalloc when the demos are built with the
/// `jemalloc` feature, else the system's (the macro then expands to nothing). The library
/// crates never choose an allocator; a binary does, by calling this once at its root.
///
/// With jemalloc, a server whose number of connections swings gets the memory of a burst
/// back (glibc's allocator keeps the freed high-water mark of a burst in its arenas).
/// Built in this workspace, it runs without thread caches (`tcache:false`, set for the
/// jemalloc build in `.cargo/config.toml`; the `_RJEM_MALLOC_CONF` environment variable
/// overrides it): a thread's cache hands the freed memory of a burst's connections back
/// out to allocations that outlive the burst (the events the history keeps), which then
/// pin pages that would otherwise be returned.
#[cfg(feature = "jemalloc")]
#[macro_export]
macro_rules! global_allocator {
    () => {
        #[global_allocator]
        static ALLOCATOR: $crate::Jemalloc = $crate::Jemalloc;
    };
}

/// Sets the demo binary's global allocator (see the `jemalloc` build's documentation):
/// without the `jemalloc` feature, the system's, so this expands to nothing.
#[cfg(not(feature = "jemalloc"))]
#[macro_export]
macro_rules! global_allocator {
    () => {};
}

/// The allocator [`global_allocator!`] installs in the `jemalloc` build.
#[cfg(feature = "jemalloc")]
pub use tikv_jemallocator::Jemalloc;

/// Logs the allocator the demo runs on: jemalloc with the `jemalloc` feature, whose
/// background threads, started here, hand freed pages back to the system once jemalloc's
/// decay time has passed (10 s by default) without waiting for the next allocation; else
/// the system's. A failure to start the threads is logged as a warning and the demo goes
/// on (freed pages are then returned during later allocations).
pub fn start_allocator() {
    #[cfg(feature = "jemalloc")]
    match tikv_jemalloc_ctl::background_thread::write(true) {
        Ok(()) => tracing::info!(
            thread_caches = tikv_jemalloc_ctl::opt::tcache::read().unwrap_or(true),
            "allocator: jemalloc, background purging"
        ),
        Err(err) => tracing::warn!("allocator: jemalloc, background threads not started: {err}"),
    }
    #[cfg(not(feature = "jemalloc"))]
    tracing::info!("allocator: the system's");
}

/// Logs to stderr, `info` unless `RUST_LOG` says otherwise.
pub fn init_tracing() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .try_init();
}

/// Tells the user where to look.
pub fn print_banner(framework: &str, addr: SocketAddr) {
    println!("a2a-sse {framework} demo listening on http://{addr}");
    println!("  open      http://{addr}/ in a browser");
    println!("  stream    curl -N http://{addr}/a2a/events");
    println!(
        "  publish   curl -X POST http://{addr}/a2a/plans/plan-x/events -H 'content-type: application/json' \\\n            -d '{{\"kind\":\"status-update\",\"data\":{{\"taskId\":\"plan-x\",\"contextId\":\"ctx\",\"status\":{{\"state\":\"TASK_STATE_WORKING\"}}}}}}'"
    );
    println!("  A2A card  http://{addr}/.well-known/agent-card.json");
    println!(
        "  A2A       curl -N -X POST http://{addr}/a2a/tasks/plan-x:subscribe -H 'A2A-Version: 1.0'"
    );
}

/// Resolves on Ctrl-C (or at once if the signal cannot be watched).
pub async fn shutdown_signal() {
    let _ = tokio::signal::ctrl_c().await;
}
