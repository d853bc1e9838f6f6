//! Baseline: SSE fan-out in axum 0.8 written the way users write it today — a
//! `tokio::sync::broadcast` channel, `BroadcastStream`, a per-subscriber plan filter, and
//! `Event::default().id(..).event(..).json_data(..)` serialising the event once per
//! subscriber. Same routes, POST body and wire frames as the demos.

use std::convert::Infallible;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use a2a_sse_bench::servers::support::{
    PublishBody, ServerArgs, WireEvent, error_body, is_known_kind, listener, now_timestamp,
};
use axum::extract::{Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::serve::ListenerExt as _;
use axum::{Json, Router};
use clap::Parser;
use futures_util::Stream;
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

async fn events(
    State(state): State<Arc<AppState>>,
    Query(query): Query<EventsQuery>,
) -> Sse<impl Stream<Item = Result<Event, Infallible>>> {
    let rx = state.tx.subscribe();
    let stream = BroadcastStream::new(rx).filter_map(move |item| {
        // A lagged receiver just skips what it missed, as most hand-written code does.
        let event = item.ok()?;
        if query
            .plan_id
            .as_ref()
            .is_some_and(|plan| *plan != event.plan_id)
        {
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
    State(state): State<Arc<AppState>>,
    Path(plan_id): Path<String>,
    Json(body): Json<PublishBody>,
) -> Response {
    if !is_known_kind(&body.kind) {
        let error = error_body("invalid_kind", "unknown event kind");
        return (
            StatusCode::BAD_REQUEST,
            [(header::CONTENT_TYPE, "application/json")],
            error,
        )
            .into_response();
    }
    let mut next_id = state.next_id.lock().unwrap_or_else(|e| e.into_inner());
    *next_id += 1;
    let id = next_id.to_string();
    let event = WireEvent {
        id: id.clone(),
        plan_id,
        kind: body.kind,
        timestamp: body.timestamp.unwrap_or_else(now_timestamp),
        data: body.data,
    };
    // No subscribers is not an error.
    let _ = state.tx.send(Arc::new(event));
    drop(next_id);
    (StatusCode::ACCEPTED, Json(serde_json::json!({ "id": id }))).into_response()
}

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let args = ServerArgs::parse();
    let (tx, _) = broadcast::channel(args.buffer.max(1));
    let state = Arc::new(AppState {
        tx,
        next_id: Mutex::new(0),
        keep_alive: Duration::from_millis(args.keep_alive_ms),
    });
    let app = Router::new()
        .route("/a2a/events", get(events))
        .route("/a2a/plans/{plan_id}/events", post(publish))
        .with_state(state);
    // The same socket setting as the demos: no Nagle delay on small frames.
    let listener = tokio::net::TcpListener::from_std(listener(args.addr)?)?.tap_io(|tcp| {
        let _ = tcp.set_nodelay(true);
    });
    axum::serve(listener, app).await
}
