//! Reference bare tokio server: marks what the machine can do. `GET /a2a/events` gets a
//! hand-written HTTP/1.1 head (no chunking, the body runs until the connection closes) and
//! then pre-encoded frames — each event is encoded once, at publish time, and the same
//! `Bytes` is written straight to every matching socket (one channel per plan, so a
//! filtered stream only wakes for its own plan's events). `POST /a2a/plans/{id}/events` is
//! handled minimally (keep-alive, `Content-Length` bodies only).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use a2a_sse_bench::servers::support::{PublishBody, ServerArgs, WireEvent, error_body, listener};
use bytes::Bytes;
use clap::Parser;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::broadcast;

const STREAM_HEAD: &[u8] =
    b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nCache-Control: no-cache\r\n\
X-Accel-Buffering: no\r\nConnection: close\r\n\r\nretry: 3000\n: connected\n\n";
const MAX_HEAD: usize = 16 * 1024;
/// Frames written together at most when a subscriber has several waiting.
const MAX_BATCH: usize = 64;

/// An encoded frame and the plan it belongs to.
struct Frame {
    plan: String,
    bytes: Bytes,
}

/// Channels: one per plan (for plan-filtered streams) and one for unfiltered streams, so
/// a subscriber only wakes for frames it will write.
struct Channels {
    next_id: u64,
    all: broadcast::Sender<Arc<Frame>>,
    plans: HashMap<String, broadcast::Sender<Arc<Frame>>>,
}

struct Hub {
    /// Locked while publishing so ids reach every channel in order.
    channels: Mutex<Channels>,
    capacity: usize,
    keep_alive: Duration,
}

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let args = ServerArgs::parse();
    let capacity = args.buffer.max(1);
    let channels = Channels {
        next_id: 0,
        all: broadcast::channel(capacity).0,
        plans: HashMap::new(),
    };
    let hub = Arc::new(Hub {
        channels: Mutex::new(channels),
        capacity,
        keep_alive: Duration::from_millis(args.keep_alive_ms),
    });
    let listener = tokio::net::TcpListener::from_std(listener(args.addr)?)?;
    loop {
        let Ok((socket, _)) = listener.accept().await else {
            continue;
        };
        let hub = hub.clone();
        tokio::spawn(async move {
            let _ = serve(socket, hub).await;
        });
    }
}

/// Serves requests on one connection until it closes or turns into an event stream.
async fn serve(mut socket: TcpStream, hub: Arc<Hub>) -> std::io::Result<()> {
    socket.set_nodelay(true)?;
    let mut buf = Vec::with_capacity(1024);
    loop {
        let (method, path, content_length, head_len) = loop {
            if let Some(head) = parse_request(&buf)? {
                break head;
            }
            if buf.len() > MAX_HEAD || read_more(&mut socket, &mut buf).await? == 0 {
                return Ok(());
            }
        };
        buf.drain(..head_len);
        while buf.len() < content_length {
            if read_more(&mut socket, &mut buf).await? == 0 {
                return Ok(());
            }
        }
        let body: Vec<u8> = buf.drain(..content_length).collect();
        let (route, query) = path.split_once('?').unwrap_or((&path, ""));
        let segments: Vec<&str> = route.trim_matches('/').split('/').collect();
        match (method.as_str(), segments.as_slice()) {
            ("GET", ["a2a", "events"]) => {
                let plan = query
                    .split('&')
                    .find_map(|kv| kv.strip_prefix("plan_id="))
                    .map(str::to_owned);
                return stream(socket, &hub, plan).await;
            }
            ("POST", ["a2a", "plans", plan, "events"]) => {
                let (status, json) = publish(&hub, plan, &body);
                respond(&mut socket, status, &json).await?;
            }
            _ => {
                respond(
                    &mut socket,
                    "404 Not Found",
                    &error_body("not_found", "no such route"),
                )
                .await?
            }
        }
    }
}

/// `(method, path, content-length, head length)` once the head is complete.
fn parse_request(buf: &[u8]) -> std::io::Result<Option<(String, String, usize, usize)>> {
    let mut headers = [httparse::EMPTY_HEADER; 32];
    let mut request = httparse::Request::new(&mut headers);
    let status = request
        .parse(buf)
        .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidData, e))?;
    let httparse::Status::Complete(head_len) = status else {
        return Ok(None);
    };
    let content_length = request
        .headers
        .iter()
        .find(|h| h.name.eq_ignore_ascii_case("content-length"))
        .and_then(|h| std::str::from_utf8(h.value).ok()?.trim().parse().ok())
        .unwrap_or(0);
    let method = request.method.unwrap_or_default().to_owned();
    Ok(Some((
        method,
        request.path.unwrap_or_default().to_owned(),
        content_length,
        head_len,
    )))
}

async fn read_more(socket: &mut TcpStream, buf: &mut Vec<u8>) -> std::io::Result<usize> {
    let mut chunk = [0u8; 4096];
    let n = socket.read(&mut chunk).await?;
    buf.extend_from_slice(&chunk[..n]);
    Ok(n)
}

async fn respond(socket: &mut TcpStream, status: &str, json: &str) -> std::io::Result<()> {
    let response = format!(
        "HTTP/1.1 {status}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{json}",
        json.len()
    );
    socket.write_all(response.as_bytes()).await
}

/// Encodes the event once and broadcasts the frame; returns the HTTP status and JSON body.
fn publish(hub: &Hub, plan: &str, body: &[u8]) -> (&'static str, String) {
    let body: PublishBody = match serde_json::from_slice(body) {
        Ok(body) => body,
        Err(err) => {
            return (
                "400 Bad Request",
                error_body("invalid_body", &err.to_string()),
            );
        }
    };
    let mut guard = hub.channels.lock().unwrap_or_else(|e| e.into_inner());
    let event = match WireEvent::accept(guard.next_id + 1, plan.to_owned(), body) {
        Ok(event) => event,
        Err(error) => return ("400 Bad Request", error),
    };
    guard.next_id += 1;
    let id = event.id.clone();
    // Compact JSON never contains a raw line break, so one `data:` line is enough.
    let json = serde_json::to_string(&event).unwrap_or_default();
    let bytes = Bytes::from(format!("id: {id}\nevent: {}\ndata: {json}\n\n", event.kind));
    let frame = Arc::new(Frame {
        plan: event.plan_id,
        bytes,
    });
    if let Some(plan_channel) = guard.plans.get(&frame.plan) {
        let _ = plan_channel.send(frame.clone());
    }
    let _ = guard.all.send(frame);
    drop(guard);
    ("202 Accepted", serde_json::json!({ "id": id }).to_string())
}

/// Streams frames (filtered by plan) until the client goes away or falls behind.
async fn stream(mut socket: TcpStream, hub: &Hub, plan: Option<String>) -> std::io::Result<()> {
    let mut rx = {
        let mut channels = hub.channels.lock().unwrap_or_else(|e| e.into_inner());
        match &plan {
            // Reference server: plan channels are never removed.
            Some(plan) => channels
                .plans
                .entry(plan.clone())
                .or_insert_with(|| broadcast::channel(hub.capacity).0)
                .subscribe(),
            None => channels.all.subscribe(),
        }
    };
    socket.write_all(STREAM_HEAD).await?;
    loop {
        match tokio::time::timeout(hub.keep_alive, rx.recv()).await {
            Err(_) => socket.write_all(b": ping\n\n").await?,
            Ok(Ok(frame)) => {
                // Coalesce frames that are already waiting into one write, as a buffered
                // HTTP server would; the common single-frame case writes the shared bytes.
                let wanted = |f: &Frame| plan.as_ref().is_none_or(|p| *p == f.plan);
                let mut batch: Vec<Arc<Frame>> = Vec::new();
                if wanted(&frame) {
                    batch.push(frame);
                }
                while batch.len() < MAX_BATCH {
                    match rx.try_recv() {
                        Ok(next) if wanted(&next) => batch.push(next),
                        Ok(_) => {}
                        Err(broadcast::error::TryRecvError::Empty) => break,
                        Err(_) => return Ok(()),
                    }
                }
                match batch.as_slice() {
                    [] => {}
                    [one] => socket.write_all(&one.bytes).await?,
                    many => {
                        // Joined slice by slice: a byte-wise `flat_map` + `collect` showed in
                        // this server's profiles.
                        let mut joined =
                            Vec::with_capacity(many.iter().map(|f| f.bytes.len()).sum());
                        for f in many {
                            joined.extend_from_slice(&f.bytes);
                        }
                        socket.write_all(&joined).await?
                    }
                }
            }
            // Fell behind the channel, or the server is shutting down: close.
            Ok(Err(_)) => return Ok(()),
        }
    }
}
