//! [`Server`]: what the features need of an adapter — a way to serve an [`SseService`] on
//! a loopback port and to stop it again.

use std::fmt;
use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;

use a2a_sse_core::{SseService, SseServiceBuilder};

/// A boxed, sendable future.
pub type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send + 'static>>;

/// One web framework's way to serve an [`SseService`]: the only thing the suite knows of
/// an adapter. Each scenario starts a server of its own and stops it at its end.
pub trait Server: fmt::Debug + Send + Sync + 'static {
    /// The setup's name, as printed in the results.
    fn name(&self) -> &'static str;

    /// Serves every route of `service` on `127.0.0.1`, on a port the system picks.
    fn start(&self, service: SseService) -> BoxFuture<io::Result<RunningServer>>;

    /// Options this setup needs on the service, applied after the scenario's own: actix's
    /// fallback for servers that allow half-closed connections turns on the liveness
    /// probe here. None by default.
    fn configure(&self, builder: SseServiceBuilder) -> SseServiceBuilder {
        builder
    }
}

/// A server started by [`Server::start`]. Dropping it stops the server without waiting.
pub struct RunningServer {
    addr: SocketAddr,
    stop: Option<Stop>,
    abort: Option<Box<dyn FnOnce() + Send>>,
}

/// Asks the server to stop gracefully and resolves when it has stopped.
type Stop = Box<dyn FnOnce() -> BoxFuture<()> + Send>;

impl RunningServer {
    /// A running server at `addr`.
    ///
    /// - `stop` asks it to stop gracefully (no new connections, open responses may end)
    ///   and resolves once it has stopped;
    /// - `abort` stops it without waiting, when it is dropped unstopped.
    pub fn new(
        addr: SocketAddr,
        stop: impl FnOnce() -> BoxFuture<()> + Send + 'static,
        abort: impl FnOnce() + Send + 'static,
    ) -> Self {
        Self {
            addr,
            stop: Some(Box::new(stop)),
            abort: Some(Box::new(abort)),
        }
    }

    /// Where it listens.
    #[must_use]
    pub const fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Stops gracefully and waits until the server has stopped: open streams hold it until
    /// they end, which closing the event queue makes them do.
    pub async fn stop(mut self) {
        self.abort = None;
        if let Some(stop) = self.stop.take() {
            stop().await;
        }
    }
}

impl Drop for RunningServer {
    fn drop(&mut self) {
        if let Some(abort) = self.abort.take() {
            abort();
        }
    }
}

impl fmt::Debug for RunningServer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RunningServer")
            .field("addr", &self.addr)
            .finish_non_exhaustive()
    }
}
