//! The actix-web demo server: the page at `/`, the stream at `/a2a/events`, the A2A
//! bindings, a publish route and a plan simulator; the same routes and flags as the axum
//! demo (`--redis redis://HOST:PORT` to be one replica of several), all of them the
//! service's (`DemoArgs::service`), mounted by `routes`.
//!
//! ```text
//! cargo run -p a2a-sse-actix --example actix-demo -- --addr 127.0.0.1:3000 --keep-alive-ms 5000
//! ```

use std::sync::Arc;

use a2a_sse_demo::DemoArgs;
use actix_web::{App, HttpServer};

a2a_sse_demo::global_allocator!();

#[actix_web::main]
async fn main() -> std::io::Result<()> {
    let args = DemoArgs::from_env();
    a2a_sse_demo::init_tracing();
    a2a_sse_demo::start_allocator();
    a2a_sse_demo::install_metrics();
    if let Err(err) = a2a_sse_demo::raise_nofile_limit() {
        eprintln!("warning: open-files limit not raised: {err}");
    }
    let backend = args.backend().await.map_err(std::io::Error::other)?;
    let service = args
        .service(Arc::clone(&backend))
        .build()
        .map_err(std::io::Error::other)?;
    if !args.no_simulate {
        actix_web::rt::spawn(a2a_sse_demo::simulate(service.clone(), args.plan_step()));
    }

    let listener = a2a_sse_demo::listener(args.addr)?;
    let addr = listener.local_addr()?;
    // TCP_NODELAY (small frames go out at once instead of waiting for the client's delayed
    // ACK of the previous one), the write deadline (a client that stops reading is cut)
    // and the send buffer bound, on every accepted connection.
    let sockets = service.socket_options();
    let head_timeout = service.config().header_read_timeout;
    let app = a2a_sse_actix::routes(service);
    let server = HttpServer::new(move || App::new().configure(app.clone()))
        .on_connect(move |connection, _| {
            if let Some(tcp) = connection.downcast_ref::<actix_web::rt::net::TcpStream>() {
                let _ = sockets.apply(tcp);
            }
        })
        // A client closing its socket ends its connection, and so its stream, at once.
        .h1_allow_half_closed(false)
        // A request head that does not arrive in time (a slowloris) closes the connection.
        .client_request_timeout(head_timeout)
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
