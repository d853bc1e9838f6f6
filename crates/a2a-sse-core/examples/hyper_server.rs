//! The core stream served by plain hyper 1.x, without a web framework: the same contract
//! as the adapters' `GET /a2a/events` (status codes, stream headers, `204`, JSON errors).
//!
//! ```text
//! cargo run -p a2a-sse-core --example hyper_server -- --addr 127.0.0.1:3001
//! curl -N localhost:3001/a2a/events
//! curl -N 'localhost:3001/a2a/events?plan_id=demo-2'
//! ```
//!
//! A background task publishes a status update every second: each demo plan goes
//! submitted, working (three times), completed, then the next plan starts.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::time::Duration;

use a2a_events::{A2aEventQueue, EventPayload, NewEvent, PlanId, TaskState, TaskStatusUpdateEvent};
use a2a_sse_core::{RequestHead, ResponseBody, SseService, SseStream};
use bytes::Bytes;
use futures_util::StreamExt;
use futures_util::stream::Map;
use http_body_util::{Either, Full, StreamBody};
use hyper::body::{Frame, Incoming};
use hyper::http::request::Parts;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;

const DEFAULT_ADDR: &str = "127.0.0.1:3001";

/// The SSE body: each chunk of the core stream becomes one DATA frame. When the client
/// goes away hyper drops the body, which drops the stream and unsubscribes it.
type EventBody = StreamBody<Map<SseStream, fn(Bytes) -> BodyFrame>>;
type BodyFrame = Result<Frame<Bytes>, Infallible>;
type Body = Either<EventBody, Full<Bytes>>;

/// `RequestHead` over hyper's request head (a local type, as the trait and `Parts` are both
/// foreign here).
struct Head(Parts);

impl RequestHead for Head {
    fn method(&self) -> &str {
        self.0.method.as_str()
    }

    fn path(&self) -> &str {
        self.0.uri.path()
    }

    fn query(&self) -> Option<&str> {
        self.0.uri.query()
    }

    fn header(&self, name: &str) -> Option<&[u8]> {
        self.0.headers.get(name).map(|value| value.as_bytes())
    }

    fn for_each_header(&self, each: &mut dyn FnMut(&str, &[u8])) {
        for (name, value) in &self.0.headers {
            each(name.as_str(), value.as_bytes());
        }
    }
}

fn data_frame(chunk: Bytes) -> BodyFrame {
    Ok(Frame::data(chunk))
}

async fn handle(service: &SseService, request: Request<Incoming>) -> Response<Body> {
    let (parts, body) = request.into_parts();
    // The only route is the native stream (the service reads a body only for a route
    // that needs one).
    let Some(route) = service
        .routes()
        .iter()
        .find(|route| route.path() == parts.uri.path())
    else {
        let body = a2a_sse_core::error_body("not_found", "no such route");
        let mut response = Response::new(Either::Right(Full::new(body)));
        *response.status_mut() = StatusCode::NOT_FOUND;
        return response;
    };
    let body = http_body_util::BodyDataStream::new(body);
    let response = service.handle(route, &Head(parts), body).await;
    let mut builder = Response::builder().status(
        StatusCode::from_u16(response.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
    );
    for (name, value) in response.headers() {
        builder = builder.header(name, value.as_ref());
    }
    let body = match response.into_body() {
        ResponseBody::Stream(stream) => Either::Left(StreamBody::new(
            stream.map(data_frame as fn(Bytes) -> BodyFrame),
        )),
        ResponseBody::Full(bytes) => Either::Right(Full::new(bytes)),
        _ => Either::Right(Full::default()),
    };
    builder.body(body).unwrap_or_else(|_| internal_error())
}

fn internal_error() -> Response<Body> {
    let mut response = Response::new(Either::Right(Full::default()));
    *response.status_mut() = StatusCode::INTERNAL_SERVER_ERROR;
    response
}

/// Publishes one status update a second, walking demo plans through their lifecycle.
async fn simulate(queue: A2aEventQueue) {
    const STEPS: [TaskState; 5] = [
        TaskState::Submitted,
        TaskState::Working,
        TaskState::Working,
        TaskState::Working,
        TaskState::Completed,
    ];
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    for step in 0_usize.. {
        tick.tick().await;
        let Ok(plan) = PlanId::new(format!("demo-{}", step / STEPS.len() + 1)) else {
            return;
        };
        let update = TaskStatusUpdateEvent {
            task_id: plan.to_string(),
            context_id: "ctx-demo".into(),
            status: STEPS[step % STEPS.len()].into(),
            metadata: None,
        };
        let event = NewEvent::new(plan, EventPayload::StatusUpdate(update));
        if let Err(err) = queue.publish(event) {
            tracing::warn!(%err, "demo publisher stopped");
            return;
        }
    }
}

/// `--addr HOST:PORT`, read by hand to keep the example's dependencies small.
fn parse_addr() -> Result<SocketAddr, String> {
    let mut addr = DEFAULT_ADDR.to_owned();
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--addr" => addr = args.next().ok_or("--addr needs HOST:PORT")?,
            "-h" | "--help" => {
                println!("usage: hyper_server [--addr HOST:PORT]   (default {DEFAULT_ADDR})");
                std::process::exit(0);
            }
            other => return Err(format!("unknown argument {other:?}; try --help")),
        }
    }
    addr.parse()
        .map_err(|err| format!("bad --addr {addr:?}: {err}"))
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .init();
    let addr = match parse_addr() {
        Ok(addr) => addr,
        Err(message) => {
            eprintln!("{message}");
            std::process::exit(2);
        }
    };

    let queue = A2aEventQueue::new();
    let service = SseService::builder(queue.clone()).build()?;
    tokio::spawn(simulate(queue));

    let listener = TcpListener::bind(addr).await?;
    tracing::info!(
        "listening on http://{}{}",
        listener.local_addr()?,
        service.config().path
    );
    loop {
        let (socket, peer) = listener.accept().await?;
        let service = service.clone();
        tokio::spawn(async move {
            let handler = service_fn(move |request| {
                let service = service.clone();
                async move { Ok::<_, Infallible>(handle(&service, request).await) }
            });
            let connection = http1::Builder::new().serve_connection(TokioIo::new(socket), handler);
            if let Err(err) = connection.await {
                tracing::debug!(%peer, %err, "connection ended with an error");
            }
        });
    }
}
