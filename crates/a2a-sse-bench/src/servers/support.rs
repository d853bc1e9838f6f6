//! Pieces shared by the hand-written server binaries: flags, a listener with a large
//! backlog, the published event's wire shape, timestamps, and the broadcast channel the
//! two baselines publish through.

use std::io;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use clap::Parser;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use time::macros::format_description;
use tokio::sync::broadcast;

/// Listen backlog for every server (`TcpListener::bind` would use 128).
pub const BACKLOG: i32 = 4096;

/// Flags accepted by every server binary (the same as the demos').
#[derive(Debug, Clone, Parser)]
pub struct ServerArgs {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:3000")]
    pub addr: SocketAddr,
    /// Broadcast channel capacity (events a slow subscriber may fall behind).
    #[arg(long, default_value_t = 1024)]
    pub buffer: usize,
    /// Accepted for flag compatibility with the demos; baselines keep no history.
    #[arg(long, default_value_t = 1024)]
    pub history: usize,
    /// Idle time before a keep-alive comment, milliseconds.
    #[arg(long, default_value_t = 15_000)]
    pub keep_alive_ms: u64,
    /// Accepted for flag compatibility with the demos; baselines never simulate.
    #[arg(long)]
    pub no_simulate: bool,
}

/// Binds `addr` with `SO_REUSEADDR` and a listen backlog of [`BACKLOG`]; non-blocking, ready
/// for `tokio::net::TcpListener::from_std` or actix's `HttpServer::listen`.
pub fn listener(addr: SocketAddr) -> io::Result<std::net::TcpListener> {
    use socket2::{Domain, Protocol, Socket, Type};
    let socket = Socket::new(Domain::for_address(addr), Type::STREAM, Some(Protocol::TCP))?;
    socket.set_reuse_address(true)?;
    socket.set_nonblocking(true)?;
    socket.bind(&addr.into())?;
    socket.listen(BACKLOG)?;
    Ok(socket.into())
}

/// Raises the open-files soft limit to the hard limit (10,000 connections need > 1,024).
pub fn raise_nofile_limit() -> io::Result<u64> {
    let (_, hard) = rlimit::Resource::NOFILE.get()?;
    rlimit::increase_nofile_limit(hard)
}

/// The body of `POST /a2a/plans/{plan_id}/events`.
#[derive(Debug, Clone, Deserialize)]
pub struct PublishBody {
    /// `status-update`, `artifact-update` or `error`.
    pub kind: String,
    /// The A2A payload.
    pub data: serde_json::Value,
    /// Optional RFC 3339 timestamp; now when absent.
    pub timestamp: Option<String>,
}

/// A published event as it goes on the wire in `data:`.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct WireEvent {
    /// Decimal id, strictly increasing.
    pub id: String,
    /// The plan it belongs to.
    pub plan_id: String,
    /// The event kind (also the SSE `event:` name).
    pub kind: String,
    /// RFC 3339 UTC with milliseconds.
    pub timestamp: String,
    /// The A2A payload.
    pub data: serde_json::Value,
}

impl WireEvent {
    /// The event numbered `id` that `body` asks to publish to `plan_id`, stamped now unless
    /// the body gives a time; the JSON error body when its kind is not one the wire format
    /// knows.
    pub fn accept(id: u64, plan_id: String, body: PublishBody) -> Result<Self, String> {
        if !matches!(
            body.kind.as_str(),
            "status-update" | "artifact-update" | "error"
        ) {
            return Err(error_body("invalid_kind", "unknown event kind"));
        }
        Ok(Self {
            id: id.to_string(),
            plan_id,
            kind: body.kind,
            timestamp: body.timestamp.unwrap_or_else(now_timestamp),
            data: body.data,
        })
    }

    /// Whether a stream filtered to `plan` (or unfiltered) wants this event.
    pub fn is_for(&self, plan: Option<&str>) -> bool {
        plan.is_none_or(|plan| plan == self.plan_id)
    }
}

/// The query of `GET /a2a/events`.
#[derive(Debug, Clone, Deserialize)]
pub struct EventsQuery {
    /// The plan a stream is filtered to; every plan when absent.
    pub plan_id: Option<String>,
}

/// The baselines' state: one `tokio::sync::broadcast` channel of every event, as
/// hand-written fan-out code usually has it, and the ids given so far.
#[derive(Debug)]
pub struct Broadcast {
    tx: broadcast::Sender<Arc<WireEvent>>,
    /// The last id given; held while sending, so ids reach the channel in order.
    last_id: Mutex<u64>,
    /// Idle time before a keep-alive comment.
    pub keep_alive: Duration,
}

impl Broadcast {
    /// A channel of `args.buffer` events and the keep-alive `args` asks for.
    pub fn new(args: &ServerArgs) -> Self {
        Self {
            tx: broadcast::channel(args.buffer.max(1)).0,
            last_id: Mutex::new(0),
            keep_alive: Duration::from_millis(args.keep_alive_ms),
        }
    }

    /// A receiver of every event published from now on.
    pub fn subscribe(&self) -> broadcast::Receiver<Arc<WireEvent>> {
        self.tx.subscribe()
    }

    /// Numbers the event and sends it to every receiver: the `202` answer's JSON body, or
    /// the `400` answer's.
    pub fn publish(&self, plan_id: String, body: PublishBody) -> Result<String, String> {
        let mut last_id = self.last_id.lock().unwrap_or_else(|e| e.into_inner());
        let event = WireEvent::accept(*last_id + 1, plan_id, body)?;
        *last_id += 1;
        let answer = serde_json::json!({ "id": event.id }).to_string();
        // No subscribers is not an error.
        let _ = self.tx.send(Arc::new(event));
        Ok(answer)
    }
}

/// Now, as `2026-11-24T10:00:00.000Z`.
pub fn now_timestamp() -> String {
    let format =
        format_description!("[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3]Z");
    OffsetDateTime::now_utc()
        .format(&format)
        .unwrap_or_default()
}

/// The JSON error body `{"error":{"code":..,"message":..}}`.
pub fn error_body(code: &str, message: &str) -> String {
    serde_json::json!({ "error": { "code": code, "message": message } }).to_string()
}
