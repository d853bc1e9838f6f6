//! What is actix-web's own, over real HTTP on loopback: half-closed sockets (the
//! recommended `h1_allow_half_closed(false)`, the liveness-probe fallback, and the gap they
//! close), the `Compress` middleware, a handler of one's own, the body limit, and the exact
//! headers and bytes of a stream. Everything else the adapter does is in the workspace's
//! features (`tests/features.rs`).

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use a2a_sse_actix::{
    A2aEventQueue, DisconnectInfo, DisconnectReason, Head, PlanId, Reply, SseService,
    SseServiceBuilder, TaskState, a2a,
};
use a2a_sse_core::{DEFAULT_RETRY, STREAM_HEADERS, preamble};
use a2a_sse_testkit::events::{status, status_frame};
use a2a_sse_testkit::{Next, Recorder, SseClient, StreamReader};
use actix_web::dev::ServerHandle;
use actix_web::{App, HttpRequest, HttpResponse, HttpServer, middleware, web};

/// Long enough for a loaded machine; the tests wait for conditions, never for time.
const WAIT: Duration = Duration::from_secs(5);

/// The fallback's probe, as the README gives it.
const PROBE: Duration = Duration::from_millis(250);

/// How the server notices closed clients.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Detect {
    /// The recommended setup: `HttpServer::h1_allow_half_closed(false)`, no probe; actix
    /// drops the stream itself.
    HalfCloseOff,
    /// The fallback: actix's default (half-closed connections allowed) and the core's
    /// liveness probe.
    Probe,
    /// Half-closed connections allowed and no probe: nothing looks (the control).
    Nothing,
}

struct Server {
    client: SseClient,
    queue: A2aEventQueue,
    service: SseService,
    ended: Recorder<DisconnectInfo>,
    handle: ServerHandle,
}

/// Serves `routes(service)` wrapped in `Compress`, beside a handler of one's own at
/// `/mine` and a compressible `/text`, with one worker.
async fn serve(detect: Detect, options: fn(SseServiceBuilder) -> SseServiceBuilder) -> Server {
    let queue = A2aEventQueue::new();
    let ended = Recorder::new();
    let mut builder = options(SseService::builder(queue.clone())).on_disconnect(ended.hook());
    if detect == Detect::Probe {
        builder = builder.liveness_probe(PROBE);
    }
    let service = builder.build().unwrap();
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr: SocketAddr = listener.local_addr().unwrap();
    let events = a2a_sse_actix::routes(service.clone());
    let mine = service.clone();
    let server = HttpServer::new(move || {
        let mine = mine.clone();
        App::new()
            .wrap(middleware::Compress::default())
            .configure(events.clone())
            .route(
                "/mine",
                web::get().to(move |request: HttpRequest| {
                    let mine = mine.clone();
                    async move { Reply::from(mine.respond(&Head::from(&request)).await) }
                }),
            )
            .route(
                "/text",
                web::get().to(|| async { HttpResponse::Ok().body("x".repeat(4096)) }),
            )
    })
    .workers(1)
    .disable_signals()
    .h1_allow_half_closed(detect != Detect::HalfCloseOff)
    .listen(listener)
    .unwrap()
    .run();
    let handle = server.handle();
    actix_web::rt::spawn(server);
    Server {
        client: SseClient::new(addr),
        queue,
        service,
        ended,
        handle,
    }
}

impl Server {
    async fn open(&self, path: &str, headers: &[(&str, &str)]) -> StreamReader {
        let response = self.client.get(path, headers).await;
        assert_eq!(response.status, 200, "{path}");
        response.into_stream()
    }

    fn publish(&self, plan: &str) -> u64 {
        self.queue
            .publish(status(plan, TaskState::Working))
            .unwrap()
            .sequence()
    }

    async fn stop(self) {
        self.handle.stop(false).await;
    }
}

/// Reads the next event and returns its id.
async fn next_id(stream: &mut StreamReader) -> String {
    match stream.next_event(WAIT).await {
        Next::Event(event) => event.id,
        other => panic!("expected an event, got {other:?}"),
    }
}

/// Polls `done` until it holds; returns how long that took, or `None` after `limit`.
async fn within(limit: Duration, mut done: impl FnMut() -> bool) -> Option<Duration> {
    let start = Instant::now();
    while start.elapsed() < limit {
        if done() {
            return Some(start.elapsed());
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    done().then(|| start.elapsed())
}

#[actix_web::test]
async fn the_stream_has_exactly_the_cores_headers_and_bytes() {
    let server = serve(Detect::HalfCloseOff, |b| b).await;
    let response = server.client.get("/a2a/events?plan_id=plan-7", &[]).await;
    assert_eq!(response.status, 200);
    let mut expected = STREAM_HEADERS.to_vec();
    expected.sort_unstable();
    assert_eq!(response.app_headers(), expected);
    let mut stream = response.into_stream();
    assert_eq!(server.publish("plan-7"), 1);
    assert_eq!(next_id(&mut stream).await, "1");
    let sent = [
        preamble(DEFAULT_RETRY).to_vec(),
        status_frame(1, "plan-7", TaskState::Working).into_bytes(),
    ];
    assert_eq!(stream.raw(), sent.concat());
    server.stop().await;
}

#[actix_web::test]
async fn compress_compresses_other_routes_and_leaves_the_stream_alone() {
    let server = serve(Detect::HalfCloseOff, |b| b).await;
    let gzip = [("accept-encoding", "gzip")];
    // The control: the middleware is really active.
    let text = server.client.get("/text", &gzip).await;
    assert_eq!(text.header("content-encoding"), Some("gzip"));

    let response = server.client.get("/a2a/events", &gzip).await;
    assert_eq!(response.header("content-encoding"), Some("identity"));
    let mut stream = response.into_stream();
    server.publish("plan-a");
    assert_eq!(next_id(&mut stream).await, "1");
    assert!(stream.raw().starts_with(&preamble(DEFAULT_RETRY)));
    server.stop().await;
}

#[actix_web::test]
async fn a_handler_of_ones_own_serves_the_same_answers() {
    let server = serve(Detect::HalfCloseOff, |b| b).await;
    let response = server.client.get("/mine?plan_id=plan-a", &[]).await;
    assert_eq!(response.status, 200);
    let mut expected = STREAM_HEADERS.to_vec();
    expected.sort_unstable();
    assert_eq!(response.app_headers(), expected);
    let mut stream = response.into_stream();
    server.publish("plan-a");
    assert_eq!(next_id(&mut stream).await, "1");

    let refused = server.client.get("/mine?plan_id=a%20b", &[]).await;
    assert_eq!(refused.status, 400);
    assert_eq!(refused.error_code().await, "invalid_plan_id");
    server.stop().await;
}

#[actix_web::test]
async fn bodies_are_read_by_the_service_within_its_limit() {
    let server = serve(Detect::HalfCloseOff, |b| {
        b.max_body_bytes(16)
            .protocol(a2a::Agent::new(a2a::A2aConfig::default()))
    })
    .await;
    let headers = [("content-type", "application/json")];
    let large = server
        .client
        .request("POST", "/a2a/jsonrpc", &headers, vec![b' '; 1024])
        .await;
    assert_eq!(large.status, 413);
    assert_eq!(large.error_code().await, "body_too_large");
    // Within the limit the body is read and answered: not JSON-RPC, an error with 200.
    let small = server
        .client
        .request("POST", "/a2a/jsonrpc", &headers, b"{}".to_vec())
        .await;
    assert_eq!(small.status, 200);
    // The native stream reads no body: the method is what is refused.
    let post = server
        .client
        .request("POST", "/a2a/events", &headers, vec![b' '; 1024])
        .await;
    assert_eq!(post.status, 405);
    assert_eq!(post.error_code().await, "method_not_allowed");
    server.stop().await;
}

/// Opens an idle stream (nothing published, a keep-alive far away) and closes the client.
async fn open_and_close(detect: Detect) -> Server {
    let server = serve(detect, |b| b.keep_alive(Duration::from_secs(60))).await;
    let mut stream = server.open("/a2a/events?plan_id=plan-a", &[]).await;
    stream.pump(Duration::from_millis(20)).await;
    assert!(stream.raw().starts_with(&preamble(DEFAULT_RETRY)));
    assert_eq!(server.queue.subscriber_count(), 1);
    assert_eq!(server.service.open_streams(), 1);
    stream.close();
    server
}

/// The stream is gone, reported once as `ClientGone`.
async fn assert_ended_once_as_client_gone(server: &Server) {
    within(WAIT, || !server.ended.is_empty()).await.unwrap();
    // Time for a second, wrong, report to show up.
    tokio::time::sleep(Duration::from_millis(100)).await;
    let ended = server.ended.only();
    assert_eq!(ended.reason, DisconnectReason::ClientGone);
    assert_eq!(ended.plan.as_ref().map(PlanId::as_str), Some("plan-a"));
    assert_eq!(server.service.open_streams(), 0);
}

/// Closes an idle client; the server drops its stream within a second, by itself.
async fn drops_the_stream_when_the_client_goes(detect: Detect) -> Duration {
    let server = open_and_close(detect).await;
    // Nothing is published: only the server can notice.
    let gone = within(WAIT, || server.queue.subscriber_count() == 0).await;
    let gone = gone.expect("the subscription outlived the client");
    assert!(gone < Duration::from_secs(1), "took {gone:?}");
    assert_ended_once_as_client_gone(&server).await;
    server.stop().await;
    gone
}

#[actix_web::test]
async fn half_close_off_drops_a_closed_clients_stream_at_once() {
    let took = drops_the_stream_when_the_client_goes(Detect::HalfCloseOff).await;
    eprintln!("h1_allow_half_closed(false): subscriber count 0 after {took:?}");
}

#[actix_web::test]
async fn the_probe_drops_a_closed_clients_stream_within_a_second() {
    let took = drops_the_stream_when_the_client_goes(Detect::Probe).await;
    eprintln!("liveness probe: subscriber count 0 after {took:?}");
}

#[actix_web::test]
async fn with_half_close_allowed_and_no_probe_only_writes_find_a_closed_client() {
    // The control for the two tests above: the gap they close is real.
    let server = open_and_close(Detect::Nothing).await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(server.queue.subscriber_count(), 1);
    assert!(server.ended.is_empty());
    // A write after the close draws a reset; a later one fails and drops the stream.
    let gone = within(WAIT, || {
        server.publish("plan-a");
        server.queue.subscriber_count() == 0
    })
    .await;
    gone.expect("writes never found the closed client");
    assert_ended_once_as_client_gone(&server).await;
    server.stop().await;
}
