//! The workspace's feature suite with the Redis backend behind the actix adapter, in its
//! recommended setup (`h1_allow_half_closed(false)`):
//! `cargo test -p a2a-events-redis --test features_actix`.
//!
//! actix-web's server future is `!Send` and wants its own `System`, so each server runs on
//! a thread of its own; the handle that stops it is `Send`.

#[path = "support/scenarios.rs"]
mod scenarios;
mod support;

use std::io;
use std::net::{Ipv4Addr, TcpListener};
use std::process::ExitCode;
use std::thread;

use a2a_sse_actix::SseService;
use a2a_sse_testkit::conformance::{BoxFuture, RunningServer, Server};
use actix_web::{App, HttpServer};
use tokio::sync::oneshot;

/// Seconds a graceful stop waits for open connections: longer than any scenario allows.
const SHUTDOWN_TIMEOUT_SECS: u64 = 30;

/// `App::new().configure(routes(service))` served by `HttpServer` with one worker, no
/// signal handling and half-closed connections off, on a thread of its own.
#[derive(Debug)]
struct Actix;

impl Server for Actix {
    fn name(&self) -> &'static str {
        "actix-web with h1_allow_half_closed(false) on Redis"
    }

    fn start(&self, service: SseService) -> BoxFuture<io::Result<RunningServer>> {
        Box::pin(async move {
            let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))?;
            let addr = listener.local_addr()?;
            let routes = a2a_sse_actix::routes(service);
            let (started, handle) = oneshot::channel();
            let thread = thread::Builder::new()
                .name(format!("actix-{addr}"))
                .spawn(move || {
                    actix_web::rt::System::new().block_on(async move {
                        let server = HttpServer::new(move || App::new().configure(routes.clone()))
                            .workers(1)
                            .disable_signals()
                            .shutdown_timeout(SHUTDOWN_TIMEOUT_SECS)
                            .h1_allow_half_closed(false)
                            .listen(listener)
                            .map(HttpServer::run);
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
                move || drop(on_drop.stop(false)),
            ))
        })
    }
}

fn main() -> ExitCode {
    scenarios::run(Actix)
}
