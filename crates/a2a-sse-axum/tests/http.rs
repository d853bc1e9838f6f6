//! What is axum's own, over real HTTP on loopback: the router merged and nested into an app
//! with its own state, a handler of one's own, a compression layer around it, the body
//! limit, and the exact headers and bytes of a stream. Everything else the adapter does is
//! in the workspace's features (`tests/features.rs`).

use std::time::Duration;

use a2a_sse_axum::{A2aEventQueue, Head, Reply, SseService, TaskState, a2a, routes};
use a2a_sse_core::{DEFAULT_RETRY, STREAM_HEADERS, preamble};
use a2a_sse_testkit::events::{status, status_frame};
use a2a_sse_testkit::{Next, SseClient, StreamReader};
use axum::Router;
use axum::extract::{Request, State};
use axum::http::{Extensions, HeaderMap, StatusCode, Version};
use axum::routing::get;
use tower_http::compression::CompressionLayer;

/// Long enough for a loaded machine; only reached when a test fails.
const WAIT: Duration = Duration::from_secs(10);

async fn serve(app: Router) -> SseClient {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    SseClient::new(addr)
}

fn service(queue: &A2aEventQueue) -> SseService {
    SseService::builder(queue.clone()).build().unwrap()
}

/// Reads the next event and returns its id.
async fn next_id(stream: &mut StreamReader) -> String {
    match stream.next_event(WAIT).await {
        Next::Event(event) => event.id,
        other => panic!("expected an event, got {other:?}"),
    }
}

#[tokio::test]
async fn the_stream_has_exactly_the_cores_headers_and_bytes() {
    let queue = A2aEventQueue::new();
    let client = serve(routes(service(&queue))).await;

    let response = client.get("/a2a/events?plan_id=plan-7", &[]).await;
    assert_eq!(response.status, 200);
    let mut expected = STREAM_HEADERS.to_vec();
    expected.sort_unstable();
    assert_eq!(response.app_headers(), expected);
    let mut stream = response.into_stream();
    queue.publish(status("plan-7", TaskState::Working)).unwrap();
    assert_eq!(next_id(&mut stream).await, "1");
    let sent = [
        preamble(DEFAULT_RETRY).to_vec(),
        status_frame(1, "plan-7", TaskState::Working).into_bytes(),
    ];
    assert_eq!(stream.raw(), sent.concat());
}

#[derive(Clone)]
struct AppState {
    greeting: &'static str,
    events: SseService,
}

/// A handler of one's own: the state's service answers through `Head` and `Reply`.
async fn own_handler(State(state): State<AppState>, request: Request) -> Reply {
    Reply::from(state.events.respond(&Head::from(&request)).await)
}

#[tokio::test]
async fn the_routes_merge_and_nest_into_an_app_with_its_own_state() {
    let queue = A2aEventQueue::new();
    let events = service(&queue);
    let custom = SseService::builder(queue.clone())
        .path("/custom/stream")
        .build()
        .unwrap();
    let app = Router::new()
        .route(
            "/hello",
            get(|State(s): State<AppState>| async move { s.greeting }),
        )
        .route("/mine", get(own_handler))
        .merge(routes(events.clone()))
        .merge(routes(custom))
        .nest("/api", routes(events.clone()))
        .with_state(AppState {
            greeting: "hi",
            events,
        });
    let client = serve(app).await;

    assert_eq!(client.get("/hello", &[]).await.text().await, "hi");
    let mut streams = Vec::new();
    for path in ["/a2a/events", "/custom/stream", "/api/a2a/events", "/mine"] {
        let response = client.get(&format!("{path}?plan_id=plan-a"), &[]).await;
        assert_eq!(response.status, 200, "{path}");
        streams.push(response.into_stream());
    }
    assert_eq!(client.get("/other", &[]).await.status, 404);
    let mine = client.get("/mine", &[("last-event-id", "x")]).await;
    assert_eq!(mine.status, 400);
    assert_eq!(mine.error_code().await, "invalid_last_event_id");

    queue.publish(status("plan-a", TaskState::Working)).unwrap();
    for stream in &mut streams {
        assert_eq!(next_id(stream).await, "1");
    }
}

#[tokio::test]
async fn a_compression_layer_compresses_other_routes_and_leaves_the_stream_alone() {
    let queue = A2aEventQueue::new();
    // Would compress anything, event streams included, but for the stream's own header.
    let everything = |_: StatusCode, _: Version, _: &HeaderMap, _: &Extensions| true;
    let app = Router::new()
        .route("/text", get(|| async { "x".repeat(4096) }))
        .merge(routes(service(&queue)))
        .layer(CompressionLayer::new().compress_when(everything));
    let client = serve(app).await;
    let gzip = [("accept-encoding", "gzip")];

    let text = client.get("/text", &gzip).await;
    assert_eq!(text.header("content-encoding"), Some("gzip"));
    let response = client.get("/a2a/events", &gzip).await;
    assert_eq!(response.header("content-encoding"), Some("identity"));
    let mut stream = response.into_stream();
    queue.publish(status("plan-a", TaskState::Working)).unwrap();
    assert_eq!(next_id(&mut stream).await, "1");
    assert!(stream.raw().starts_with(&preamble(DEFAULT_RETRY)));
}

#[tokio::test]
async fn bodies_are_read_by_the_service_within_its_limit() {
    let queue = A2aEventQueue::new();
    let limited = SseService::builder(queue.clone())
        .max_body_bytes(16)
        .protocol(a2a::Agent::new(a2a::A2aConfig::default()))
        .build()
        .unwrap();
    let client = serve(routes(limited)).await;
    let headers = [("content-type", "application/json")];

    let large = client
        .request("POST", "/a2a/jsonrpc", &headers, vec![b' '; 1024])
        .await;
    assert_eq!(large.status, 413);
    assert_eq!(large.error_code().await, "body_too_large");
    // Within the limit the body is read and answered: not JSON-RPC, an error with 200.
    let small = client
        .request("POST", "/a2a/jsonrpc", &headers, b"{}".to_vec())
        .await;
    assert_eq!(small.status, 200);
    // The native stream reads no body: the method is what is refused.
    let post = client
        .request("POST", "/a2a/events", &headers, vec![b' '; 1024])
        .await;
    assert_eq!(post.status, 405);
    assert_eq!(post.error_code().await, "method_not_allowed");
}
