//! [`Actix`]: the stream served by `a2a_sse_actix::configure` with `HttpServer`.
//!
//! actix-web's server future is `!Send` and wants its own `System`, so each server runs on
//! a thread of its own; the handle that stops it is `Send`.

use std::io;
use std::net::{Ipv4Addr, TcpListener};
use std::thread;

use a2a_sse_core::{SseService, TokioTimer};
use actix_web::{App, HttpServer};
use tokio::sync::oneshot;

use crate::server::{BoxFuture, RunningServer, Server};

/// Seconds a graceful stop waits for open connections before closing them. Longer than
/// any scenario allows, so a stream that does not end is seen as a server that does not
/// stop.
const SHUTDOWN_TIMEOUT_SECS: u64 = 30;

/// Serves with actix-web: one worker, no signal handling, on a dedicated thread.
///
/// The adapter notices closed clients in one of two ways, and both are worth running the
/// features against: with [`Actix::HALF_CLOSE_OFF`] the server refuses half-closed
/// connections (`h1_allow_half_closed(false)`, as the adapter's README recommends) and the
/// probe is off; with [`Actix::PLAIN`] the server keeps actix's default and the stream's
/// own probe comment finds closed clients.
#[derive(Debug, Clone, Copy)]
pub struct Actix {
    half_close_off: bool,
}

impl Actix {
    /// `App::new().configure(..)` and nothing else.
    pub const PLAIN: Self = Self {
        half_close_off: false,
    };

    /// `HttpServer::h1_allow_half_closed(false)` with `configure_with(.., Probe::Off)`.
    pub const HALF_CLOSE_OFF: Self = Self {
        half_close_off: true,
    };
}

impl Server for Actix {
    fn name(&self) -> &'static str {
        if self.half_close_off {
            "actix-web with h1_allow_half_closed(false)"
        } else {
            "actix-web"
        }
    }

    fn start(&self, service: SseService<TokioTimer>) -> BoxFuture<io::Result<RunningServer>> {
        let half_close_off = self.half_close_off;
        Box::pin(async move {
            let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))?;
            let addr = listener.local_addr()?;
            let probe = if half_close_off {
                a2a_sse_actix::Probe::Off
            } else {
                a2a_sse_actix::Probe::On
            };
            let configure = a2a_sse_actix::configure_with(service, probe);
            let (started, handle) = oneshot::channel();
            let thread = thread::Builder::new()
                .name(format!("actix-{addr}"))
                .spawn(move || {
                    actix_rt::System::new().block_on(async move {
                        let mut server =
                            HttpServer::new(move || App::new().configure(configure.clone()))
                                .workers(1)
                                .disable_signals()
                                .shutdown_timeout(SHUTDOWN_TIMEOUT_SECS);
                        if half_close_off {
                            server = server.h1_allow_half_closed(false);
                        }
                        let server = server.listen(listener).map(HttpServer::run);
                        match server {
                            Ok(server) => {
                                let _ = started.send(Ok(server.handle()));
                                server.await
                            }
                            Err(e) => {
                                let _ = started.send(Err(e));
                                Ok(())
                            }
                        }
                    })
                })?;
            let handle = handle
                .await
                .map_err(|_| io::Error::other("the actix server thread ended early"))??;
            let on_drop = handle.clone();
            Ok(RunningServer::new(
                addr,
                move || {
                    Box::pin(async move {
                        handle.stop(true).await;
                        let _ = tokio::task::spawn_blocking(move || thread.join()).await;
                    })
                },
                move || {
                    // The stop command is sent at once; its completion is not awaited.
                    drop(on_drop.stop(false));
                },
            ))
        })
    }
}
