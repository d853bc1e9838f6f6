//! Floor for axum: `GET /a2a/events` answers `200 text/event-stream`, writes one comment so
//! the head is flushed, then keeps the body pending forever — no queue, no subscription.
//! Its RSS per idle connection is what axum/hyper itself costs per open SSE response. It is
//! served like the axum demo, by `a2a_sse_demo::serve_http1`, so the difference between
//! the two is the SSE layer's own state.

use std::convert::Infallible;

use a2a_sse_bench::servers::support::{ServerArgs, listener};
use axum::Router;
use axum::body::{Body, Bytes};
use axum::http::header;
use axum::response::IntoResponse;
use axum::routing::get;
use clap::Parser;
use futures_util::stream::{self, StreamExt};

async fn events() -> impl IntoResponse {
    let body = stream::once(async { Ok::<_, Infallible>(Bytes::from_static(b": floor\n\n")) })
        .chain(stream::pending());
    (
        [
            (header::CONTENT_TYPE, "text/event-stream"),
            (header::CACHE_CONTROL, "no-cache"),
        ],
        Body::from_stream(body),
    )
}

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let args = ServerArgs::parse();
    let app = Router::new().route("/a2a/events", get(events));
    let listener = tokio::net::TcpListener::from_std(listener(args.addr)?)?;
    a2a_sse_demo::serve_http1(listener, app, std::future::pending()).await
}
