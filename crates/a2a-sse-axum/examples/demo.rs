//! The axum demo server: the live page at `/`, the stream at `/a2a/events`, the A2A
//! bindings, and `POST /a2a/plans/{plan_id}/events` to publish, with a built-in plan
//! simulator; with `--redis redis://HOST:PORT`, one replica of several that share their
//! events. Every route is the service's (`DemoArgs::service`), mounted by `routes`.
//!
//! ```text
//! cargo run -p a2a-sse-axum --example demo -- --help
//! ```

use std::error::Error;
use std::sync::Arc;

use a2a_sse_demo::{DemoArgs, Http1Limits};

a2a_sse_demo::global_allocator!();

#[tokio::main]
async fn main() -> Result<(), Box<dyn Error>> {
    let args = DemoArgs::from_env();
    a2a_sse_demo::init_tracing();
    a2a_sse_demo::start_allocator();
    a2a_sse_demo::install_metrics();
    if let Err(err) = a2a_sse_demo::raise_nofile_limit() {
        eprintln!("warning: open-files limit not raised: {err}");
    }
    let backend = args.backend().await?;
    let service = args.service(Arc::clone(&backend)).build()?;
    if !args.no_simulate {
        tokio::spawn(a2a_sse_demo::simulate(service.clone(), args.plan_step()));
    }
    let listener = tokio::net::TcpListener::from_std(a2a_sse_demo::listener(args.addr)?)?;
    let addr = listener.local_addr()?;
    a2a_sse_demo::print_banner("axum", addr);
    // HTTP/1.1 connections, lighter per open stream than `axum::serve`, with the service's
    // head timeout and size limits and its socket options (write deadline, TCP_NODELAY).
    let limits = Http1Limits::from(service.config());
    let app = a2a_sse_axum::routes(service);
    a2a_sse_demo::serve_http1_with(listener, app, &limits, async move {
        a2a_sse_demo::shutdown_signal().await;
        // Ends every open stream, so the shutdown is not held open by them.
        backend.close();
    })
    .await?;
    Ok(())
}
