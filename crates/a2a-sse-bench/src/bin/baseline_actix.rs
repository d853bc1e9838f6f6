//! Baseline: SSE fan-out in actix-web 4 written the way users write it today —
//! actix-web-lab's `sse` responder over a `tokio::sync::broadcast` receiver, a per-subscriber
//! plan filter, and `sse::Data::new_json(..).id(..).event(..)` serialising the event once per
//! subscriber. Same routes, POST body and wire frames as the demos.

use std::convert::Infallible;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use a2a_sse_bench::servers::support::{
    PublishBody, ServerArgs, WireEvent, error_body, is_known_kind, listener, now_timestamp,
};
use actix_web::{App, HttpResponse, HttpServer, Responder, web};
use actix_web_lab::sse;
use clap::Parser;
use serde::Deserialize;
use tokio::sync::broadcast;
use tokio_stream::StreamExt;
use tokio_stream::wrappers::BroadcastStream;

struct AppState {
    tx: broadcast::Sender<Arc<WireEvent>>,
    /// Next id; held while sending so ids reach the channel in order.
    next_id: Mutex<u64>,
    keep_alive: Duration,
}

#[derive(Deserialize)]
struct EventsQuery {
    plan_id: Option<String>,
}

async fn events(state: web::Data<AppState>, query: web::Query<EventsQuery>) -> impl Responder {
    let plan_filter = query.into_inner().plan_id;
    let stream = BroadcastStream::new(state.tx.subscribe()).filter_map(move |item| {
        // A lagged receiver just skips what it missed, as most hand-written code does.
        let event = item.ok()?;
        if plan_filter
            .as_ref()
            .is_some_and(|plan| *plan != event.plan_id)
        {
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
    state: web::Data<AppState>,
    plan_id: web::Path<String>,
    body: web::Json<PublishBody>,
) -> HttpResponse {
    let body = body.into_inner();
    if !is_known_kind(&body.kind) {
        return HttpResponse::BadRequest()
            .content_type("application/json")
            .body(error_body("invalid_kind", "unknown event kind"));
    }
    let mut next_id = state.next_id.lock().unwrap_or_else(|e| e.into_inner());
    *next_id += 1;
    let id = next_id.to_string();
    let event = WireEvent {
        id: id.clone(),
        plan_id: plan_id.into_inner(),
        kind: body.kind,
        timestamp: body.timestamp.unwrap_or_else(now_timestamp),
        data: body.data,
    };
    // No subscribers is not an error.
    let _ = state.tx.send(Arc::new(event));
    drop(next_id);
    HttpResponse::Accepted().json(serde_json::json!({ "id": id }))
}

#[actix_web::main]
async fn main() -> std::io::Result<()> {
    let args = ServerArgs::parse();
    let (tx, _) = broadcast::channel(args.buffer.max(1));
    let state = web::Data::new(AppState {
        tx,
        next_id: Mutex::new(0),
        keep_alive: Duration::from_millis(args.keep_alive_ms),
    });
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
