//! The actix-web demo server: the page at `/`, the stream at `/a2a/events`, a publish
//! route and a plan simulator; the same routes and flags as the axum demo (`--redis
//! redis://HOST:PORT` to be one replica of several).
//!
//! ```text
//! cargo run -p a2a-sse-actix --example actix-demo -- --addr 127.0.0.1:3000 --keep-alive-ms 5000
//! ```

use std::sync::Arc;
use std::time::Duration;

use a2a_sse_actix::{EventBackend, SseService};
use a2a_sse_demo::{DemoArgs, INDEX_HTML, PUBLISH_ROUTE};
use actix_web::http::StatusCode;
use actix_web::{App, HttpResponse, HttpServer, web};

/// The demo's routes: the page, the publish endpoint and the stream, for a server built
/// with `h1_allow_half_closed(false)` (so a closed client ends its stream at once).
pub(crate) fn app_config(
    backend: Arc<dyn EventBackend>,
    service: SseService,
) -> impl Fn(&mut web::ServiceConfig) + Clone + Send + 'static {
    let events = a2a_sse_actix::routes(service);
    move |config| {
        let backend = Arc::clone(&backend);
        config.route("/", web::get().to(page)).route(
            PUBLISH_ROUTE,
            web::post().to(move |plan_id: web::Path<String>, body: web::Bytes| {
                let backend = Arc::clone(&backend);
                async move {
                    let outcome = a2a_sse_demo::publish(backend.as_ref(), &plan_id, &body).await;
                    let status = StatusCode::from_u16(outcome.status)
                        .unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
                    HttpResponse::build(status)
                        .content_type("application/json")
                        .body(outcome.body)
                }
            }),
        );
        events(config);
    }
}

async fn page() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/html; charset=utf-8")
        .body(INDEX_HTML)
}

#[actix_web::main]
async fn main() -> std::io::Result<()> {
    let args = DemoArgs::from_env();
    a2a_sse_demo::init_tracing();
    let backend = args.backend().await.map_err(std::io::Error::other)?;
    let service = args
        .service(Arc::clone(&backend))
        .build()
        .map_err(std::io::Error::other)?;
    if !args.no_simulate {
        let simulator = a2a_sse_demo::simulate(Arc::clone(&backend), Duration::from_millis(700));
        actix_web::rt::spawn(simulator);
    }

    let listener = a2a_sse_demo::listener(args.addr)?;
    let addr = listener.local_addr()?;
    let app = app_config(Arc::clone(&backend), service);
    let server = HttpServer::new(move || App::new().configure(app.clone()))
        // A client closing its socket ends its connection, and so its stream, at once.
        .h1_allow_half_closed(false)
        // Small frames go out at once instead of waiting, under Nagle's algorithm, for the
        // client's delayed ACK of the previous one (up to 40 ms on Linux).
        .tcp_nodelay(true)
        // Ctrl-C is ours: close the backend first so open streams end, then stop.
        .disable_signals()
        .listen(listener)?
        .run();
    a2a_sse_demo::print_banner("actix-web", addr);

    let handle = server.handle();
    actix_web::rt::spawn(async move {
        a2a_sse_demo::shutdown_signal().await;
        backend.close();
        handle.stop(true).await;
    });
    server.await
}
