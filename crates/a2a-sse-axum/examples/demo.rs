//! The axum demo server: the live page at `/`, the stream at `/a2a/events`, and
//! `POST /a2a/plans/{plan_id}/events` to publish, with a built-in plan simulator; with
//! `--redis redis://HOST:PORT`, one replica of several that share their events.
//!
//! ```text
//! cargo run -p a2a-sse-axum --example demo -- --help
//! ```

use std::error::Error;
use std::sync::Arc;
use std::time::Duration;

use a2a_sse_axum::{EventBackend, routes};
use a2a_sse_demo::{DemoArgs, INDEX_HTML, PUBLISH_ROUTE};
use axum::Router;
use axum::body::Bytes;
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};

/// The demo's routes over `backend`, configured by `args`.
pub(crate) fn app(
    backend: &Arc<dyn EventBackend>,
    args: &DemoArgs,
) -> Result<Router, Box<dyn Error>> {
    Ok(Router::new()
        .route("/", get(|| async { Html(INDEX_HTML) }))
        .route(PUBLISH_ROUTE, post(publish))
        .with_state(Arc::clone(backend))
        .merge(routes(args.service(Arc::clone(backend)).build()?)))
}

async fn publish(
    State(backend): State<Arc<dyn EventBackend>>,
    plan_id: Result<Path<String>, PathRejection>,
    body: Bytes,
) -> Response {
    // A segment that is not UTF-8 once percent-decoded is not a plan id: hand the shared
    // validation a non-ASCII stand-in so it answers 400 in the JSON error shape.
    let plan_id = plan_id.map_or_else(|_| "\u{fffd}".to_owned(), |Path(id)| id);
    let outcome = a2a_sse_demo::publish(backend.as_ref(), &plan_id, &body).await;
    let status = StatusCode::from_u16(outcome.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    (
        status,
        [(header::CONTENT_TYPE, "application/json")],
        outcome.body,
    )
        .into_response()
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn Error>> {
    let args = DemoArgs::from_env();
    a2a_sse_demo::init_tracing();
    let backend = args.backend().await?;
    if !args.no_simulate {
        tokio::spawn(a2a_sse_demo::simulate(
            Arc::clone(&backend),
            Duration::from_millis(700),
        ));
    }
    let listener = tokio::net::TcpListener::from_std(a2a_sse_demo::listener(args.addr)?)?;
    let addr = listener.local_addr()?;
    a2a_sse_demo::print_banner("axum", addr);
    // HTTP/1.1 connections with TCP_NODELAY, lighter per open stream than `axum::serve`.
    a2a_sse_demo::serve_http1(listener, app(&backend, &args)?, async move {
        a2a_sse_demo::shutdown_signal().await;
        // Ends every open stream, so the shutdown is not held open by them.
        backend.close();
    })
    .await?;
    Ok(())
}
