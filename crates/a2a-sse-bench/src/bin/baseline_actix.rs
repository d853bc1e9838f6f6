//! Baseline: SSE fan-out in actix-web 4 written the way users write it today —
//! actix-web-lab's `sse` responder over a `tokio::sync::broadcast` receiver, a per-subscriber
//! plan filter, and `sse::Data::new_json(..).id(..).event(..)` serialising the event once per
//! subscriber. Same routes, POST body and wire frames as the demos.

use std::convert::Infallible;

use a2a_sse_bench::servers::support::{Broadcast, EventsQuery, PublishBody, ServerArgs, listener};
use actix_web::{App, HttpResponse, HttpServer, Responder, web};
use actix_web_lab::sse;
use clap::Parser;
use tokio_stream::StreamExt;
use tokio_stream::wrappers::BroadcastStream;

async fn events(state: web::Data<Broadcast>, query: web::Query<EventsQuery>) -> impl Responder {
    let plan_filter = query.into_inner().plan_id;
    let stream = BroadcastStream::new(state.subscribe()).filter_map(move |item| {
        // A lagged receiver just skips what it missed, as most hand-written code does.
        let event = item.ok()?;
        if !event.is_for(plan_filter.as_deref()) {
            return None;
        }
        let data = sse::Data::new_json(&*event)
            .ok()?
            .id(event.id.clone())
            .event(event.kind.clone());
        Some(Ok::<_, Infallible>(sse::Event::Data(data)))
    });
    sse::Sse::from_stream(stream).with_keep_alive(state.keep_alive)
}

async fn publish(
    state: web::Data<Broadcast>,
    plan_id: web::Path<String>,
    body: web::Json<PublishBody>,
) -> HttpResponse {
    let (mut answer, json) = match state.publish(plan_id.into_inner(), body.into_inner()) {
        Ok(json) => (HttpResponse::Accepted(), json),
        Err(json) => (HttpResponse::BadRequest(), json),
    };
    answer.content_type("application/json").body(json)
}

#[actix_web::main]
async fn main() -> std::io::Result<()> {
    let args = ServerArgs::parse();
    let state = web::Data::new(Broadcast::new(&args));
    HttpServer::new(move || {
        App::new()
            .app_data(state.clone())
            .route("/a2a/events", web::get().to(events))
            .route("/a2a/plans/{plan_id}/events", web::post().to(publish))
    })
    .backlog(4096)
    .tcp_nodelay(true)
    .listen(listener(args.addr)?)?
    .run()
    .await
}
