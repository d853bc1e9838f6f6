//! The workspace's feature suite against the axum adapter, served by `axum::serve` as the
//! README recommends, on the in-memory queue and then on the Redis backend (with a
//! `redis-server` of its own): `cargo test -p a2a-sse-axum --test features`.

use std::io;
use std::net::Ipv4Addr;
use std::process::ExitCode;

use a2a_sse_axum::SseService;
use a2a_sse_testkit::conformance::{self, BoxFuture, RunningServer, Server};
use tokio::net::TcpListener;
use tokio::sync::oneshot;

/// `routes(service)` served by `axum::serve` on the suite's tokio runtime.
#[derive(Debug)]
struct AxumServe;

impl Server for AxumServe {
    fn name(&self) -> &'static str {
        "axum (axum::serve)"
    }

    fn start(&self, service: SseService) -> BoxFuture<io::Result<RunningServer>> {
        Box::pin(async move {
            let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).await?;
            let addr = listener.local_addr()?;
            let (stop, stopped) = oneshot::channel::<()>();
            // A dropped sender stops the server as well.
            let stopped = async {
                let _ = stopped.await;
            };
            let serve = axum::serve(listener, a2a_sse_axum::routes::<()>(service))
                .with_graceful_shutdown(stopped);
            let task = tokio::spawn(async move { serve.await });
            let abort = task.abort_handle();
            Ok(RunningServer::new(
                addr,
                move || {
                    Box::pin(async move {
                        let _ = stop.send(());
                        let _ = task.await;
                    })
                },
                move || abort.abort(),
            ))
        })
    }
}

fn main() -> ExitCode {
    let memory = conformance::run(AxumServe);
    let redis = conformance::run_on_redis(AxumServe);
    if memory == ExitCode::SUCCESS {
        redis
    } else {
        memory
    }
}
