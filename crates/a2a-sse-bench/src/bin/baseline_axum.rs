//! Baseline: SSE fan-out in axum 0.8 written the way users write it today — a
//! `tokio::sync::broadcast` channel, `BroadcastStream`, a per-subscriber plan filter, and
//! `Event::default().id(..).event(..).json_data(..)` serialising the event once per
//! subscriber. Same routes, POST body and wire frames as the demos.

use std::convert::Infallible;
use std::sync::Arc;

use a2a_sse_bench::servers::support::{Broadcast, EventsQuery, PublishBody, ServerArgs, listener};
use axum::extract::{Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::serve::ListenerExt as _;
use axum::{Json, Router};
use clap::Parser;
use futures_util::Stream;
use tokio_stream::StreamExt;
use tokio_stream::wrappers::BroadcastStream;

async fn events(
    State(state): State<Arc<Broadcast>>,
    Query(query): Query<EventsQuery>,
) -> Sse<impl Stream<Item = Result<Event, Infallible>>> {
    let stream = BroadcastStream::new(state.subscribe()).filter_map(move |item| {
        // A lagged receiver just skips what it missed, as most hand-written code does.
        let event = item.ok()?;
        if !event.is_for(query.plan_id.as_deref()) {
            return None;
        }
        let sse = Event::default()
            .id(event.id.clone())
            .event(event.kind.clone())
            .json_data(&*event)
            .ok()?;
        Some(Ok(sse))
    });
    Sse::new(stream).keep_alive(KeepAlive::new().interval(state.keep_alive).text("ping"))
}

async fn publish(
    State(state): State<Arc<Broadcast>>,
    Path(plan_id): Path<String>,
    Json(body): Json<PublishBody>,
) -> Response {
    let (status, json) = match state.publish(plan_id, body) {
        Ok(json) => (StatusCode::ACCEPTED, json),
        Err(json) => (StatusCode::BAD_REQUEST, json),
    };
    (status, [(header::CONTENT_TYPE, "application/json")], json).into_response()
}

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let args = ServerArgs::parse();
    let app = Router::new()
        .route("/a2a/events", get(events))
        .route("/a2a/plans/{plan_id}/events", post(publish))
        .with_state(Arc::new(Broadcast::new(&args)));
    // The same socket setting as the demos: no Nagle delay on small frames.
    let listener = tokio::net::TcpListener::from_std(listener(args.addr)?)?.tap_io(|tcp| {
        let _ = tcp.set_nodelay(true);
    });
    axum::serve(listener, app).await
}
