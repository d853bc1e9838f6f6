//! The workspace's feature suite against the actix adapter, twice: in the recommended
//! setup (`h1_allow_half_closed(false)`, no probe), then in the fallback for servers that
//! allow half-closed connections (actix's default, with the core's liveness probe), on the
//! in-memory queue; then the recommended setup on the Redis backend (with a `redis-server`
//! of its own). `cargo test -p a2a-sse-actix --test features`.
//!
//! actix-web's server future is `!Send` and wants its own `System`, so each server runs on
//! a thread of its own; the handle that stops it is `Send`.

use std::io;
use std::net::{Ipv4Addr, TcpListener};
use std::process::ExitCode;
use std::thread;
use std::time::Duration;

use a2a_sse_actix::{SseService, SseServiceBuilder};
use a2a_sse_testkit::conformance::{self, BoxFuture, RunningServer, Server};
use actix_web::{App, HttpServer};
use tokio::sync::oneshot;

/// Seconds a graceful stop waits for open connections before closing them. Longer than
/// any scenario allows, so a stream that does not end is seen as a server that does not
/// stop.
const SHUTDOWN_TIMEOUT_SECS: u64 = 30;

/// The fallback's liveness probe, as the adapter's README gives it.
const PROBE: Duration = Duration::from_millis(250);

/// `App::new().configure(routes(service))` served by `HttpServer` with one worker and no
/// signal handling, on a dedicated thread.
#[derive(Debug, Clone, Copy)]
enum Actix {
    /// The recommended setup: `h1_allow_half_closed(false)` and no probe; actix drops the
    /// stream of a closed client itself.
    Recommended,
    /// The fallback for servers that allow half-closed connections (actix's default):
    /// the core's liveness probe finds closed clients.
    Fallback,
}

impl Server for Actix {
    fn name(&self) -> &'static str {
        match self {
            Self::Recommended => "actix-web with h1_allow_half_closed(false)",
            Self::Fallback => "actix-web allowing half-closed connections, with the liveness probe",
        }
    }

    fn configure(&self, builder: SseServiceBuilder) -> SseServiceBuilder {
        match self {
            Self::Recommended => builder,
            Self::Fallback => builder.liveness_probe(PROBE),
        }
    }

    fn start(&self, service: SseService) -> BoxFuture<io::Result<RunningServer>> {
        let half_closed = matches!(self, Self::Fallback);
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
                            .h1_allow_half_closed(half_closed)
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
                move || {
                    // The stop command is sent at once; its completion is not awaited.
                    drop(on_drop.stop(false));
                },
            ))
        })
    }
}

fn main() -> ExitCode {
    // Both setups on the in-memory queue; the recommended one on Redis too.
    [
        conformance::run(Actix::Recommended),
        conformance::run(Actix::Fallback),
        conformance::run_on_redis(Actix::Recommended),
    ]
    .into_iter()
    .find(|code| *code != ExitCode::SUCCESS)
    .unwrap_or(ExitCode::SUCCESS)
}
