//! The agent the A2A TCK (`a2aproject/a2a-tck`, branch `1.0-dev`) runs against: the
//! demo's server and flags (`--addr`, `--no-simulate`, `--keep-alive-ms`, `--redis`, the
//! publish route, `/metrics`), with an executor that follows the TCK's scenarios by
//! `messageId` prefix (`a2a_sse_demo::TckExecutor`). Its card names the JSON-RPC interface
//! at `/a2a/jsonrpc` and the HTTP+JSON one at `/a2a`.
//!
//! ```text
//! cargo run -p a2a-sse-axum --example tck-agent -- --addr 127.0.0.1:9999
//! python run_tck.py --sut-host http://127.0.0.1:9999
//! ```

use std::error::Error;

use a2a_sse_axum::a2a::{Agent, AgentCard};
use a2a_sse_demo::{DemoArgs, Http1Limits, TckExecutor};

a2a_sse_demo::global_allocator!();

#[tokio::main]
async fn main() -> Result<(), Box<dyn Error>> {
    let args = DemoArgs::from_env();
    a2a_sse_demo::init_tracing();
    a2a_sse_demo::install_metrics();
    if let Err(err) = a2a_sse_demo::raise_nofile_limit() {
        eprintln!("warning: open-files limit not raised: {err}");
    }
    let backend = args.backend().await?;
    let card = AgentCard::new(
        "a2a-sse TCK agent",
        "Follows the A2A TCK's scenarios by messageId prefix",
        env!("CARGO_PKG_VERSION"),
    );
    let agent = Agent::with_executor(args.a2a_config(card), TckExecutor::from_env());
    let service = args
        .service_with(std::sync::Arc::clone(&backend), agent)
        .build()?;
    let listener = tokio::net::TcpListener::from_std(a2a_sse_demo::listener(args.addr)?)?;
    let addr = listener.local_addr()?;
    println!("a2a-sse TCK agent listening on http://{addr}");
    let limits = Http1Limits::from(service.config());
    let app = a2a_sse_axum::routes(service);
    a2a_sse_demo::serve_http1_with(listener, app, &limits, async move {
        a2a_sse_demo::shutdown_signal().await;
        backend.close();
    })
    .await?;
    Ok(())
}
