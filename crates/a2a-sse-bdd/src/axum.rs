//! [`Axum`]: the stream served by `a2a_sse_axum::router`, with `axum::serve` or with
//! `a2a_sse_axum::serve_http1`.

use std::io;
use std::net::Ipv4Addr;

use a2a_sse_core::{SseService, TokioTimer};
use tokio::net::TcpListener;
use tokio::sync::oneshot;

use crate::server::{BoxFuture, RunningServer, Server};

/// Serves with axum on the current tokio runtime.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Axum {
    http1: bool,
}

impl Axum {
    /// The router served by `axum::serve`.
    pub const SERVE: Self = Self { http1: false };
    /// The router served by `a2a_sse_axum::serve_http1`, as the axum demo does.
    pub const HTTP1: Self = Self { http1: true };
}

impl Server for Axum {
    fn name(&self) -> &'static str {
        if self.http1 {
            "axum (serve_http1)"
        } else {
            "axum"
        }
    }

    fn start(&self, service: SseService<TokioTimer>) -> BoxFuture<io::Result<RunningServer>> {
        let http1 = self.http1;
        Box::pin(async move {
            let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).await?;
            let addr = listener.local_addr()?;
            let app = a2a_sse_axum::router::<()>(service);
            let (stop, stopped) = oneshot::channel::<()>();
            // A dropped sender stops the server as well.
            let stopped = async {
                let _ = stopped.await;
            };
            let task = if http1 {
                tokio::spawn(a2a_sse_axum::serve_http1(listener, app, stopped))
            } else {
                let serve = axum::serve(listener, app).with_graceful_shutdown(stopped);
                tokio::spawn(async move { serve.await })
            };
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
