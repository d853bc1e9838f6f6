//! The subscriber side: sockets from several loopback source addresses ([`Sources`]), one
//! hand-rolled HTTP/1.1 GET per connection, read incrementally through [`BodyDecoder`] and
//! [`SseDecoder`] into a [`ConnTracker`] (why not hyper's client: [`crate::http1`]).
//!
//! Per connection the load generator holds a socket, a 4 KiB read buffer, the decoder's
//! partial line and the tracker's bitset, so 10,000 streams fit in one small process.

use std::io;
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpSocket, TcpStream};
use tokio::sync::watch;

use crate::decoder::SseDecoder;
use crate::http1::{BodyDecoder, Framing, parse_head};
use crate::tracker::{ConnTracker, Received, plan_name};

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

/// The request path for a subscriber filtered to plan index `plan` (or unfiltered).
pub fn stream_path(plan: Option<u32>) -> String {
    match plan {
        Some(plan) => format!("/a2a/events?plan_id={}", plan_name(plan)),
        None => "/a2a/events".to_owned(),
    }
}

/// Sends the GET for `path` on a connected socket and reads the response head; fails
/// unless the answer is a `200` with `Content-Type: text/event-stream`.
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

/// Loopback source addresses the client sockets are bound to in turn (`127.0.0.2`,
/// `127.0.0.3`, …; all of `127.0.0.0/8` is loopback on Linux). Each offers its own
/// ephemeral ports toward the server, about 28,000 with the default port range.
#[derive(Debug)]
pub struct Sources {
    ips: Vec<Ipv4Addr>,
    next: AtomicUsize,
}

/// Attempts of one connect (or one stream opening) before it counts as failed.
const ATTEMPTS: u32 = 3;

/// How long one attempt may take.
const ATTEMPT_TIMEOUT: Duration = Duration::from_secs(10);

impl Sources {
    /// `count` source addresses from `127.0.0.2` on (at most 250); 0 leaves the choice to
    /// the kernel (`127.0.0.1`).
    pub fn new(count: usize) -> Self {
        let ips = (0..count.min(250))
            .map(|i| Ipv4Addr::new(127, 0, 0, 2 + i as u8))
            .collect();
        Self {
            ips,
            next: AtomicUsize::new(0),
        }
    }

    /// The addresses, for the report.
    pub fn describe(&self) -> String {
        match (self.ips.first(), self.ips.last()) {
            (Some(first), Some(last)) => format!("{} ({first}–{last})", self.ips.len()),
            _ => "1 (127.0.0.1)".to_owned(),
        }
    }

    /// One connection to `addr` from the next source address, without retrying (see
    /// [`Sources::connect`] for `reset_on_close`).
    async fn connect_once(&self, addr: SocketAddr, reset_on_close: bool) -> io::Result<TcpStream> {
        let socket = TcpSocket::new_v4()?;
        if reset_on_close {
            socket.set_zero_linger()?;
        }
        if !self.ips.is_empty() {
            let at = self.next.fetch_add(1, Ordering::Relaxed) % self.ips.len();
            socket.bind(SocketAddr::from((self.ips[at], 0)))?;
        }
        let stream = socket.connect(addr).await?;
        stream.set_nodelay(true)?;
        Ok(stream)
    }

    /// Runs `attempt` up to three times, ten seconds each, pausing 100 ms and then 200 ms
    /// between them (refused or reset connects, a server busy accepting).
    async fn retrying<T, F, Fut>(mut attempt: F) -> io::Result<T>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = io::Result<T>>,
    {
        let mut last = io::Error::other("no attempt made");
        for n in 0..ATTEMPTS {
            if n > 0 {
                tokio::time::sleep(Duration::from_millis(50 << n)).await;
            }
            match tokio::time::timeout(ATTEMPT_TIMEOUT, attempt()).await {
                Ok(Ok(value)) => return Ok(value),
                Ok(Err(err)) => last = err,
                Err(_) => last = io::Error::new(io::ErrorKind::TimedOut, "timed out"),
            }
        }
        Err(last)
    }

    /// A connection to `addr` from the next source address (three attempts). With
    /// `reset_on_close` its linger time is zero: closing it sends a `RST` instead of a
    /// `FIN`, as a client that crashes or loses its network does.
    pub async fn connect(&self, addr: SocketAddr, reset_on_close: bool) -> io::Result<TcpStream> {
        Self::retrying(|| self.connect_once(addr, reset_on_close)).await
    }

    /// An event stream of `plan` (or every plan) on `addr`, its head read (three attempts,
    /// each connecting afresh).
    pub async fn open_stream(
        &self,
        addr: SocketAddr,
        plan: Option<u32>,
        reset_on_close: bool,
    ) -> io::Result<OpenStream> {
        let path = stream_path(plan);
        Self::retrying(|| async {
            let socket = self.connect_once(addr, reset_on_close).await?;
            open_stream_on(socket, &path).await
        })
        .await
    }
}

/// Sends the stream request for `plan` on `socket` and nothing else (the client then never
/// reads, or drops the connection before the answer).
pub async fn send_request(socket: &mut TcpStream, plan: Option<u32>) -> io::Result<()> {
    let path = stream_path(plan);
    let request = format!("GET {path} HTTP/1.1\r\nHost: soak\r\nAccept: text/event-stream\r\n\r\n");
    socket.write_all(request.as_bytes()).await
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
        tracker.counts.ended_early = 1;
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
