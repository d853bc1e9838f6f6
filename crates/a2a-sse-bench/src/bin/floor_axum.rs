//! Floor for axum: `GET /a2a/events` answers `200 text/event-stream`, writes one comment so
//! the head is flushed, then keeps the body pending forever — no queue, no subscription.
//! Its RSS per idle connection is what axum/hyper itself costs per open SSE response.

use std::convert::Infallible;

use a2a_sse_bench::servers::support::{ServerArgs, listener};
use axum::Router;
use axum::body::{Body, Bytes};
use axum::http::header;
use axum::response::IntoResponse;
use axum::routing::get;
use axum::serve::ListenerExt as _;
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
    // The same socket setting as the demos: no Nagle delay on small frames.
    let listener = tokio::net::TcpListener::from_std(listener(args.addr)?)?.tap_io(|tcp| {
        let _ = tcp.set_nodelay(true);
    });
    axum::serve(listener, app).await
}
