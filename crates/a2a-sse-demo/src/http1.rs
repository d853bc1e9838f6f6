//! [`serve_http1`]: an axum [`Router`] served over plain HTTP/1.1 connections, as the axum
//! demo (and the benchmark's axum floor) serve it.
//!
//! It is not part of the adapter: `axum::serve` works as well. What it shows, and
//! `docs/deployment.md` explains with figures, is what serving many open streams from
//! hyper costs and saves: HTTP/1.1 only, `TCP_NODELAY`, one flat write buffer, and a
//! graceful shutdown without a channel read on every poll.

use std::convert::Infallible;
use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::task::{Context, Poll};
use std::time::Duration;

use a2a_sse_core::{SocketOptions, SseConfig};
use axum::Router;
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use pin_project_lite::pin_project;
use slab::Slab;
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinSet;

/// How long accepting pauses after an error that is not about one connection (out of file
/// descriptors, say), so the loop does not spin while the condition lasts.
const ACCEPT_BACKOFF: Duration = Duration::from_millis(100);

/// Serves `router` on `listener`, one HTTP/1.1 connection per task, until `shutdown`
/// completes; then stops accepting, asks every open connection to finish its current
/// response, and returns once they all have.
///
/// `axum::serve` works with the adapter too. This is a leaner loop for many open
/// streams: it speaks HTTP/1.1 only (no HTTP/2 detection and no upgrades, so no prefix
/// buffer per connection), and it sets `TCP_NODELAY` on every accepted connection so that
/// small frames leave at once instead of waiting for the client's delayed ACK
/// (`docs/deployment.md` has the memory figures).
///
/// An event stream ends only when its subscription does, so a graceful shutdown needs the
/// queue closed: do it in `shutdown`, after the signal (see the example).
///
/// # Errors
///
/// None while serving: errors of single connections end those connections, and other
/// accept errors pause accepting for a moment. The `Result` leaves room for setup errors.
///
/// # Example
///
/// ```rust,no_run
/// use a2a_sse_axum::{A2aEventQueue, SseService, routes};
/// use a2a_sse_demo::serve_http1;
///
/// # async fn run() -> Result<(), Box<dyn std::error::Error>> {
/// let queue = A2aEventQueue::new();
/// let app = routes(SseService::builder(queue.clone()).build()?);
/// let listener = tokio::net::TcpListener::bind("127.0.0.1:3000").await?;
/// serve_http1(listener, app, async move {
///     let _ = tokio::signal::ctrl_c().await;
///     // Ends every open stream, so their connections can finish.
///     queue.close();
/// })
/// .await?;
/// # Ok(()) }
/// ```
pub async fn serve_http1<F>(listener: TcpListener, router: Router, shutdown: F) -> io::Result<()>
where
    F: Future<Output = ()> + Send,
{
    let limits = Http1Limits::from(&SseConfig::default());
    serve_http1_with(listener, router, &limits, shutdown).await
}

/// What [`serve_http1_with`] bounds on each connection, from the service's options.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Http1Limits {
    /// Longest wait for a whole request head; a connection that does not send one in
    /// time (a slowloris) is closed.
    pub header_read_timeout: Duration,
    /// Most headers in a request head (more: `431`).
    pub max_headers: usize,
    /// Largest request head hyper reads, in bytes (larger: `431`).
    pub max_head_bytes: usize,
    /// Options set on each accepted socket (write deadline, send buffer, `TCP_NODELAY`).
    pub socket: SocketOptions,
}

impl From<&SseConfig> for Http1Limits {
    fn from(config: &SseConfig) -> Self {
        Self {
            header_read_timeout: config.header_read_timeout,
            max_headers: config.max_headers,
            // The request line and the separators come on top of names and values;
            // hyper reads no less than 8 KiB anyway.
            max_head_bytes: (config.max_header_bytes + config.max_query_bytes + 4096).max(8192),
            socket: config.socket,
        }
    }
}

/// [`serve_http1`] with the head timeout, head size and socket options of `limits`.
///
/// # Errors
///
/// As [`serve_http1`].
pub async fn serve_http1_with<F>(
    listener: TcpListener,
    router: Router,
    limits: &Http1Limits,
    shutdown: F,
) -> io::Result<()>
where
    F: Future<Output = ()> + Send,
{
    let open = Arc::new(Mutex::new(Slab::new()));
    let stopping = Arc::new(AtomicBool::new(false));
    let mut tasks = JoinSet::new();
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        let accepted = tokio::select! {
            () = &mut shutdown => break,
            accepted = listener.accept() => accepted,
        };
        // Forget connections that are over (cheap: they are already done).
        while tasks.try_join_next().is_some() {}
        let socket = match accepted {
            Ok((socket, _)) => socket,
            Err(err) if is_connection_error(&err) => continue,
            Err(_) => {
                tokio::time::sleep(ACCEPT_BACKOFF).await;
                continue;
            }
        };
        // Best effort: without them the stream still works; a stalled client is then
        // noticed later, and small frames may wait for an acknowledgement.
        let _ = limits.socket.apply(&socket);
        let (stop, stopped) = oneshot::channel();
        let key = lock(&open).insert(stop);
        let service = TowerToHyperService::new(router.clone());
        // One flat write buffer: a frame and its chunk framing are copied together and
        // leave in one plain write, instead of a queue of three buffers that hyper walks
        // on every frame (about 6 % less CPU per delivery when each event is one write).
        let mut builder = http1::Builder::new();
        builder
            .writev(false)
            .timer(TokioTimer::new())
            .header_read_timeout(limits.header_read_timeout)
            .max_headers(limits.max_headers)
            .max_buf_size(limits.max_head_bytes);
        let connection = Graceful {
            connection: builder.serve_connection(TokioIo::new(socket), service),
            stopped: Some(stopped),
            registered: false,
            stopping: Arc::clone(&stopping),
        };
        let open = Arc::clone(&open);
        tasks.spawn(async move {
            // A connection error (reset, malformed request) concerns that client alone.
            let _ = connection.await;
            lock(&open).try_remove(key);
        });
    }
    drop(listener);
    // Dropping the senders wakes every connection, which then sees the flag and finishes.
    stopping.store(true, Ordering::Release);
    drop(std::mem::take(&mut *lock(&open)));
    while tasks.join_next().await.is_some() {}
    Ok(())
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    // The slab stays consistent whatever panicked while holding it.
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

pin_project! {
    /// A connection that finishes its current response and closes once `stopped` fires.
    ///
    /// The channel is polled once to register the task's waker (a spawned task keeps its
    /// waker), and after that only once the server's `stopping` flag is up: a flag that
    /// every connection reads and nobody writes until shutdown stays in every core's
    /// cache, where the channel (an allocation per connection) would cost a cache miss on
    /// each poll, and a channel shared by all connections (a `watch`) a lock.
    struct Graceful<C> {
        #[pin]
        connection: C,
        stopped: Option<oneshot::Receiver<Infallible>>,
        registered: bool,
        stopping: Arc<AtomicBool>,
    }
}

impl<I, S, B> Future for Graceful<http1::Connection<I, S>>
where
    S: hyper::service::HttpService<Incoming, ResBody = B>,
    S::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
    I: hyper::rt::Read + hyper::rt::Write + Unpin + 'static,
    B: hyper::body::Body + 'static,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    type Output = hyper::Result<()>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let mut this = self.project();
        let check = !*this.registered || this.stopping.load(Ordering::Acquire);
        if check && let Some(stopped) = this.stopped {
            *this.registered = true;
            // Only ever ends by its sender being dropped.
            if Pin::new(stopped).poll(cx).is_ready() {
                *this.stopped = None;
                this.connection.as_mut().graceful_shutdown();
            }
        }
        this.connection.poll(cx)
    }
}

/// Errors that end one pending connection, not the listener.
fn is_connection_error(err: &io::Error) -> bool {
    matches!(
        err.kind(),
        io::ErrorKind::ConnectionRefused
            | io::ErrorKind::ConnectionAborted
            | io::ErrorKind::ConnectionReset
    )
}
