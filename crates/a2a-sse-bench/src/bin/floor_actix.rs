//! Floor for actix-web: `GET /a2a/events` answers `200 text/event-stream`, writes one comment
//! so the head is flushed, then keeps the body pending forever — no queue, no subscription.
//! Its RSS per idle connection is what actix-web itself costs per open SSE response.

use std::convert::Infallible;

use a2a_sse_bench::servers::support::{ServerArgs, listener};
use actix_web::web::Bytes;
use actix_web::{App, HttpResponse, HttpServer, web};
use clap::Parser;
use futures_util::stream::{self, StreamExt};

async fn events() -> HttpResponse {
    let body = stream::once(async { Ok::<_, Infallible>(Bytes::from_static(b": floor\n\n")) })
        .chain(stream::pending());
    HttpResponse::Ok()
        .content_type("text/event-stream")
        .insert_header(("Cache-Control", "no-cache"))
        .streaming(body)
}

#[actix_web::main]
async fn main() -> std::io::Result<()> {
    let args = ServerArgs::parse();
    HttpServer::new(|| App::new().route("/a2a/events", web::get().to(events)))
        .backlog(4096)
        .tcp_nodelay(true)
        .listen(listener(args.addr)?)?
        .run()
        .await
}
