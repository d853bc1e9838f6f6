//! Event-driven disconnect detection: a duplicate of each connection's socket, registered
//! with the runtime, whose read side closing ends the stream at once.

use std::any::Any;
use std::future::Future;
use std::io;
use std::pin::Pin;
use std::rc::Rc;

use actix_web::HttpRequest;
use actix_web::dev::Extensions;
use tokio::io::Interest;
use tokio::net::TcpStream;

/// Resolves when the client's side of the connection is closed.
pub(crate) type Closed = Pin<Box<dyn Future<Output = ()>>>;

/// Connection data stored by [`watch_disconnects`]: a duplicate of the socket.
struct ConnectionWatch(Rc<TcpStream>);

/// Watches each connection for the client closing it; pass it to
/// [`HttpServer::on_connect`](actix_web::HttpServer::on_connect).
///
/// Streams on a watched connection end as soon as the client closes its socket, with no
/// bytes written and no timer; streams on other connections (TLS, non-Unix platforms, or
/// this callback not installed) fall back to the [`PROBE`](crate::PROBE) comment.
///
/// Cost: one duplicated file descriptor and one extra runtime registration per
/// connection (count them when sizing `ulimit -n`). A client that half-closes its socket
/// after sending the request is treated as gone, as hyper does by default.
///
/// ```no_run
/// # use a2a_sse_actix::{A2aEventQueue, SseService};
/// # use actix_web::{App, HttpServer};
/// # async fn run(service: SseService<a2a_sse_actix::TokioTimer>) -> std::io::Result<()> {
/// HttpServer::new(move || App::new().configure(a2a_sse_actix::configure(service.clone())))
///     .on_connect(a2a_sse_actix::watch_disconnects)
///     .bind("127.0.0.1:3000")?
///     .run()
///     .await
/// # }
/// ```
pub fn watch_disconnects(connection: &dyn Any, data: &mut Extensions) {
    if let Some(watch) = duplicate(connection) {
        data.insert(ConnectionWatch(Rc::new(watch)));
    }
}

#[cfg(unix)]
fn duplicate(connection: &dyn Any) -> Option<TcpStream> {
    use std::os::fd::AsFd;

    let socket = connection.downcast_ref::<TcpStream>()?;
    // The duplicate shares the socket (and its non-blocking flag) and gets its own
    // readiness registration, so watching it never takes bytes from actix's reader.
    let fd = socket.as_fd().try_clone_to_owned().ok()?;
    TcpStream::from_std(std::net::TcpStream::from(fd)).ok()
}

#[cfg(not(unix))]
fn duplicate(_connection: &dyn Any) -> Option<TcpStream> {
    None
}

/// The watch of `request`'s connection, if [`watch_disconnects`] installed one.
pub(crate) fn closed(request: &HttpRequest) -> Option<Closed> {
    let socket = Rc::clone(&request.conn_data::<ConnectionWatch>()?.0);
    Some(Box::pin(async move {
        loop {
            match socket.ready(Interest::READABLE).await {
                Ok(ready) if !(ready.is_read_closed() || ready.is_error()) => {
                    // Data (a pipelined request) is actix's to read: forget this readiness
                    // and wait for the next change.
                    let _ = socket.try_io(Interest::READABLE, || {
                        Err::<(), _>(io::Error::from(io::ErrorKind::WouldBlock))
                    });
                }
                _ => return,
            }
        }
    }))
}
