//! [`Axum`]: the stream served by `a2a_sse_axum::router` with `axum::serve`.

use std::io;
use std::net::Ipv4Addr;

use a2a_sse_core::{SseService, TokioTimer};
use tokio::net::TcpListener;
use tokio::sync::oneshot;

use crate::server::{BoxFuture, RunningServer, Server};

/// Serves with axum on the current tokio runtime.
#[derive(Debug, Clone, Copy, Default)]
pub struct Axum;

impl Server for Axum {
    fn name(&self) -> &'static str {
        "axum"
    }

    fn start(&self, service: SseService<TokioTimer>) -> BoxFuture<io::Result<RunningServer>> {
        Box::pin(async move {
            let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).await?;
            let addr = listener.local_addr()?;
            let app = a2a_sse_axum::router::<()>(service);
            let (stop, stopped) = oneshot::channel::<()>();
            let serve = axum::serve(listener, app).with_graceful_shutdown(async {
                // A dropped sender stops the server as well.
                let _ = stopped.await;
            });
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
