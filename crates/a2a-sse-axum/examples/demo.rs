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

use a2a_sse_axum::{EventBackend, RequestError, SseService, routes};
use a2a_sse_demo::{
    DemoArgs, Http1Limits, INDEX_HTML, METRICS_CONTENT_TYPE, METRICS_ROUTE, PUBLISH_ROUTE,
};
use axum::Router;
use axum::body::Body;
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};

/// The demo's routes over `backend`, streams served by `service`.
pub(crate) fn app_with(backend: &Arc<dyn EventBackend>, service: SseService) -> Router {
    Router::new()
        .route("/", get(|| async { Html(INDEX_HTML) }))
        .route(
            METRICS_ROUTE,
            get(|| async {
                let page = a2a_sse_demo::render_metrics();
                ([(header::CONTENT_TYPE, METRICS_CONTENT_TYPE)], page)
            }),
        )
        .route(PUBLISH_ROUTE, post(publish))
        .with_state((Arc::clone(backend), service.clone()))
        .merge(routes(service))
}

async fn publish(
    State((backend, service)): State<(Arc<dyn EventBackend>, SseService)>,
    plan_id: Result<Path<String>, PathRejection>,
    body: Body,
) -> Response {
    // A segment that is not UTF-8 once percent-decoded is not a plan id: hand the shared
    // validation a non-ASCII stand-in so it answers 400 in the JSON error shape.
    let plan_id = plan_id.map_or_else(|_| "\u{fffd}".to_owned(), |Path(id)| id);
    // The body is read as the service reads one: bounded in size and in time.
    let config = service.config();
    let limit = config.max_body_bytes;
    let read = tokio::time::timeout(config.body_read_timeout, axum::body::to_bytes(body, limit));
    let outcome = match read.await {
        Ok(Ok(body)) => a2a_sse_demo::publish(backend.as_ref(), &plan_id, &body).await,
        Ok(Err(_)) => a2a_sse_demo::unread_body(&RequestError::BodyTooLarge { limit }),
        Err(_) => a2a_sse_demo::unread_body(&RequestError::BodyTimeout),
    };
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
    a2a_sse_demo::start_allocator();
    a2a_sse_demo::install_metrics();
    if let Err(err) = a2a_sse_demo::raise_nofile_limit() {
        eprintln!("warning: open-files limit not raised: {err}");
    }
    let backend = args.backend().await?;
    let service = args.service(Arc::clone(&backend)).build()?;
    if !args.no_simulate {
        tokio::spawn(a2a_sse_demo::simulate(
            Arc::clone(&backend),
            Duration::from_millis(700),
        ));
    }
    let listener = tokio::net::TcpListener::from_std(a2a_sse_demo::listener(args.addr)?)?;
    let addr = listener.local_addr()?;
    a2a_sse_demo::print_banner("axum", addr);
    // HTTP/1.1 connections, lighter per open stream than `axum::serve`, with the service's
    // head timeout and size limits and its socket options (write deadline, TCP_NODELAY).
    let limits = Http1Limits::from(service.config());
    let app = app_with(&backend, service);
    a2a_sse_demo::serve_http1_with(listener, app, &limits, async move {
        a2a_sse_demo::shutdown_signal().await;
        // Ends every open stream, so the shutdown is not held open by them.
        backend.close();
    })
    .await?;
    Ok(())
}
