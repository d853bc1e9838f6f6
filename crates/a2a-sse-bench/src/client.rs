//! The subscriber side: one hand-rolled HTTP/1.1 GET per connection, read incrementally
//! through [`BodyDecoder`] and [`SseDecoder`] into a [`ConnTracker`] (why not hyper's
//! client: [`crate::http1`]).
//!
//! Per connection the load generator holds a socket, a 4 KiB read buffer, the decoder's
//! partial line and the tracker's bitset, so 10,000 streams fit in one small process.

use std::io;
use std::net::SocketAddr;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::watch;

use crate::decoder::SseDecoder;
use crate::http1::{BodyDecoder, Framing, parse_head};
use crate::tracker::{ConnTracker, Received};

const READ_BUF: usize = 4096;
const MAX_HEAD: usize = 16 * 1024;

/// An open event stream whose response head has been read.
#[derive(Debug)]
pub struct OpenStream {
    socket: TcpStream,
    body: BodyDecoder,
    /// Body bytes that arrived together with the head.
    leftover: Vec<u8>,
}

/// The request path for a subscriber filtered to `plan` (or unfiltered).
pub fn stream_path(plan: Option<&str>) -> String {
    match plan {
        Some(plan) => format!("/a2a/events?plan_id={plan}"),
        None => "/a2a/events".to_owned(),
    }
}

/// Connects, sends the GET and reads the response head; fails unless the answer is a
/// `200` with `Content-Type: text/event-stream`.
pub async fn open_stream(addr: SocketAddr, path: &str) -> io::Result<OpenStream> {
    let socket = TcpStream::connect(addr).await?;
    socket.set_nodelay(true)?;
    open_stream_on(socket, path).await
}

/// [`open_stream`] on a socket connected already (bound to a source address of the
/// caller's choice, say, or with options of its own).
pub async fn open_stream_on(mut socket: TcpStream, path: &str) -> io::Result<OpenStream> {
    let addr = socket.peer_addr()?;
    let request = format!(
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\nAccept: text/event-stream\r\nCache-Control: no-cache\r\n\r\n"
    );
    socket.write_all(request.as_bytes()).await?;
    let mut buf = Vec::with_capacity(1024);
    loop {
        let mut chunk = [0u8; 1024];
        let n = socket.read(&mut chunk).await?;
        if n == 0 {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "closed before response head",
            ));
        }
        buf.extend_from_slice(&chunk[..n]);
        if let Some(head) = parse_head(&buf)? {
            let is_sse = head
                .content_type
                .as_deref()
                .is_some_and(|t| t.starts_with("text/event-stream"));
            if head.status != 200 || !is_sse {
                let msg = format!(
                    "unexpected response: {} {:?}",
                    head.status, head.content_type
                );
                return Err(io::Error::other(msg));
            }
            if let Framing::Length(_) = head.framing {
                return Err(io::Error::other("event stream with Content-Length"));
            }
            let leftover = buf.split_off(head.head_len);
            return Ok(OpenStream {
                socket,
                body: BodyDecoder::new(head.framing),
                leftover,
            });
        }
        if buf.len() > MAX_HEAD {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                "response head too large",
            ));
        }
    }
}

/// [`open_stream`] with a timeout and a few retries for refused or reset connects.
pub async fn open_stream_retrying(
    addr: SocketAddr,
    path: &str,
    attempts: u32,
) -> io::Result<OpenStream> {
    let mut last_err = io::Error::other("no attempt made");
    for attempt in 0..attempts.max(1) {
        if attempt > 0 {
            tokio::time::sleep(Duration::from_millis(50 << attempt.min(5))).await;
        }
        match tokio::time::timeout(Duration::from_secs(10), open_stream(addr, path)).await {
            Ok(Ok(stream)) => return Ok(stream),
            Ok(Err(err)) => last_err = err,
            Err(_) => last_err = io::Error::new(io::ErrorKind::TimedOut, "connect/head timed out"),
        }
    }
    Err(last_err)
}

/// Reads the stream until `stop` turns true (or the server ends it), feeding the tracker.
pub async fn read_stream(
    stream: OpenStream,
    tracker: &mut ConnTracker,
    mut stop: watch::Receiver<bool>,
) {
    let OpenStream {
        mut socket,
        mut body,
        leftover,
    } = stream;
    let mut decoder = SseDecoder::new();
    let mut failed = feed(&mut body, &mut decoder, tracker, &leftover).is_err();
    let mut buf = vec![0u8; READ_BUF];
    // Created once: a `changed()` future made afresh for every read would register with
    // (and leave) the channel's waiter list, under its lock, thousands of times a second.
    let mut stopped = std::pin::pin!(stop.wait_for(|stop| *stop));
    while !failed {
        tokio::select! {
            biased;
            _ = &mut stopped => break,
            read = socket.read(&mut buf) => match read {
                Ok(0) | Err(_) => failed = true,
                Ok(n) => failed = feed(&mut body, &mut decoder, tracker, &buf[..n]).is_err() || body.is_done(),
            },
        }
    }
    if failed {
        tracker.stats.ended_early = true;
    }
}

fn feed(
    body: &mut BodyDecoder,
    decoder: &mut SseDecoder,
    tracker: &mut ConnTracker,
    bytes: &[u8],
) -> io::Result<()> {
    // One clock reading per read: every event in it arrived at that moment.
    let received = Received::now();
    body.decode(bytes, &mut |piece| {
        decoder.feed(piece, &mut |event| tracker.on_event(event, received));
    })?;
    Ok(())
}
