//! Fan-out load benchmark for the a2a-sse adapters.
//!
//! A load generator holds `N` concurrent SSE connections on loopback, publishes `M` events at
//! rate `R` over `P` plans through the demo's `POST /a2a/plans/{plan_id}/events` route, checks
//! every stream (missing, duplicated, out-of-order, misrouted events) and measures delivery
//! rate, publish→receive latency, server RSS per idle connection and server CPU per delivery.
//! It compares the library's axum and actix demos with hand-written baselines
//! (`baseline-axum`, `baseline-actix`), a bare tokio server (`bare`) and framework floors
//! (`floor-axum`, `floor-actix`), each run as its own release-built process.
//!
//! The modules are used by the `loadgen`, `soak`, `redis-publish` and `push-load` binaries
//! and by the smoke test; `docs/benchmarks.md` has the method and the latest figures.
//!
//! # What the demos must keep providing
//!
//! The load generator and the soak checks rely on this contract:
//!
//! - flags `--addr HOST:PORT`, `--no-simulate`, `--buffer N`, `--history N`,
//!   `--keep-alive-ms N`, `--write-timeout-ms N`, and for the Redis rows
//!   `--redis redis://HOST:PORT`; the process listens on `--addr` with a large backlog,
//!   answers `GET /.well-known/agent-card.json` with `200` once it serves (what the launcher
//!   waits for) and needs no terminal; it may log to stderr (the runner sets
//!   `RUST_LOG=warn`, override with `BENCH_SERVER_RUST_LOG`);
//! - `GET /a2a/events[?plan_id=…]` answers `200 text/event-stream` (chunked or not) and
//!   sends the head at once; frames carry `id:` (increasing: decimal, or `EPOCH-SEQUENCE`
//!   over Redis), `event: status-update` and one JSON `data:` with `id`, `planId`, `kind`,
//!   `timestamp`, `data` (the published payload, `metadata` included, unchanged);
//! - `POST /a2a/plans/{plan_id}/events` with `{"kind":"status-update","data":{…}}` answers
//!   `202` with a JSON body `{"id":"…"}` on a keep-alive connection;
//! - `GET /metrics` serves the Prometheus page with `a2a_sse_open_streams` and
//!   `a2a_sse_disconnects_total` (the soak checks), and with `--push` the push metrics
//!   `a2a_push_backlog{config="TASK/ID"}` and `a2a_push_deliveries_total{outcome}`;
//! - for `push-load`: `--push --push-allow-host IP` (repeatable) turns push on, a status
//!   update published for a new plan makes it a task, `POST /a2a/jsonrpc`
//!   `CreateTaskPushNotificationConfig {"taskId","id","url"}` adds a config, and each
//!   delivery's body is the event's `{"statusUpdate": …}` with its `metadata` unchanged;
//! - one file descriptor per connection (the limit is the machine's hard `RLIMIT_NOFILE`,
//!   inherited from the load generator, which raises its soft limit to the hard one).

pub mod client;
pub mod decoder;
pub mod http1;
pub mod metrics;
pub mod publisher;
pub mod push;
pub mod report;
pub mod run;
pub mod scenario;
pub mod servers;
pub mod session;
pub mod soak;
pub mod streams;
pub mod tracker;

use std::path::PathBuf;

/// The directory the server binaries are looked up in: `given`, else the directory of the
/// running binary (where cargo puts every binary of this crate).
///
/// # Errors
///
/// When neither is known.
pub fn bin_dir(given: Option<PathBuf>) -> Result<PathBuf, String> {
    match given {
        Some(dir) => Ok(dir),
        None => std::env::current_exe()
            .map_err(|e| e.to_string())?
            .parent()
            .map(PathBuf::from)
            .ok_or_else(|| "no binary directory".to_owned()),
    }
}

/// The runtime a binary drives everything on: current-thread for `threads <= 1` (leaving the
/// other cores to the server), else that many workers.
///
/// # Errors
///
/// When the runtime cannot be built.
pub fn runtime(threads: usize) -> std::io::Result<tokio::runtime::Runtime> {
    if threads <= 1 {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
    } else {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(threads)
            .enable_all()
            .build()
    }
}
