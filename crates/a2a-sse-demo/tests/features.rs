//! The workspace's feature suite against the axum adapter served by [`serve_http1`], the
//! demo's connection loop: `cargo test -p a2a-sse-demo --test features`. The adapter's own
//! run (`axum::serve`) is in `a2a-sse-axum`.

use std::io;
use std::net::Ipv4Addr;
use std::process::ExitCode;

use a2a_sse_axum::SseService;
use a2a_sse_demo::serve_http1;
use a2a_sse_testkit::conformance::{self, BoxFuture, RunningServer, Server};
use tokio::net::TcpListener;
use tokio::sync::oneshot;

/// `routes(service)` served by [`serve_http1`] on the suite's tokio runtime.
#[derive(Debug)]
struct ServeHttp1;

impl Server for ServeHttp1 {
    fn name(&self) -> &'static str {
        "axum (a2a_sse_demo::serve_http1)"
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
            let app = a2a_sse_axum::routes::<()>(service);
            let task = tokio::spawn(serve_http1(listener, app, stopped));
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
    conformance::run(ServeHttp1)
}
