//! `serve_http1` over real HTTP on loopback: ordinary routes and streams on one app,
//! keep-alive connections, and a graceful shutdown that ends streams, closes idle
//! connections and stops accepting.

use std::time::Duration;

use a2a_sse_axum::{
    A2aEventQueue, DisconnectInfo, DisconnectReason, SseService, TaskState, routes,
};
use a2a_sse_demo::serve_http1;
use a2a_sse_testkit::events::{status, status_frame};
use a2a_sse_testkit::{Next, Recorder, SseClient};
use axum::Router;
use axum::routing::get;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// Long enough for a loaded machine; only reached when a test fails.
const WAIT: Duration = Duration::from_secs(10);
const HEALTH: &[u8] = b"GET /health HTTP/1.1\r\nHost: test\r\n\r\n";

/// Sends one `GET /health` on `socket` and reads its whole answer, leaving the connection
/// open (keep-alive).
async fn health(socket: &mut TcpStream) -> String {
    socket.write_all(HEALTH).await.unwrap();
    let mut answer = Vec::new();
    let mut buf = [0u8; 1024];
    while !answer.ends_with(b"\r\n\r\nok") {
        let n = tokio::time::timeout(WAIT, socket.read(&mut buf))
            .await
            .expect("answer in time")
            .unwrap();
        assert_ne!(n, 0, "closed before the answer: {answer:?}");
        answer.extend_from_slice(&buf[..n]);
    }
    String::from_utf8(answer).unwrap()
}

#[tokio::test]
async fn serves_routes_and_streams_then_shuts_down_gracefully() {
    let queue = A2aEventQueue::new();
    let ended = Recorder::<DisconnectInfo>::new();
    let service = SseService::builder(queue.clone())
        .on_disconnect(ended.hook())
        .build()
        .unwrap();
    let app = Router::new()
        .route("/health", get(|| async { "ok" }))
        .merge(routes(service));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let closing = queue.clone();
    let server = tokio::spawn(serve_http1(listener, app, async move {
        let _ = stopped.await;
        closing.close();
    }));

    // Two requests on one keep-alive connection, which then stays open and idle.
    let mut idle = TcpStream::connect(addr).await.unwrap();
    for _ in 0..2 {
        let answer = health(&mut idle).await;
        assert!(answer.starts_with("HTTP/1.1 200 OK\r\n"), "{answer}");
    }

    let client = SseClient::new(addr);
    let response = client.get("/a2a/events?plan_id=plan-a", &[]).await;
    assert_eq!(response.status, 200);
    let mut stream = response.into_stream();
    queue.publish(status("plan-a", TaskState::Working)).unwrap();
    let Next::Event(event) = stream.next_event(WAIT).await else {
        panic!("no event");
    };
    assert_eq!(event.id, "1");
    assert!(
        String::from_utf8_lossy(stream.raw()).ends_with(&status_frame(
            1,
            "plan-a",
            TaskState::Working
        ))
    );

    stop.send(()).unwrap();
    assert!(stream.wait_end(WAIT).await, "the stream ends");
    tokio::time::timeout(WAIT, server)
        .await
        .expect("the server returns once every connection finished")
        .unwrap()
        .unwrap();
    // The idle keep-alive connection was closed, not left hanging.
    let mut rest = Vec::new();
    let read = tokio::time::timeout(WAIT, idle.read_to_end(&mut rest)).await;
    assert!(matches!(read, Ok(Ok(0))), "{read:?} {rest:?}");
    // Nothing listens any more.
    assert!(TcpStream::connect(addr).await.is_err());
    let reasons: Vec<_> = ended.calls().iter().map(|i| i.reason).collect();
    assert_eq!(reasons, [DisconnectReason::Shutdown]);
}

#[tokio::test]
async fn a_connection_that_breaks_off_does_not_stop_the_server() {
    let queue = A2aEventQueue::new();
    let app = Router::new()
        .route("/health", get(|| async { "ok" }))
        .merge(routes(SseService::builder(queue.clone()).build().unwrap()));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let server = tokio::spawn(serve_http1(listener, app, std::future::pending()));

    // Garbage, then a connection dropped halfway through a request head.
    let mut bad = TcpStream::connect(addr).await.unwrap();
    bad.write_all(b"NOT HTTP AT ALL\r\n\r\n").await.unwrap();
    let mut answer = Vec::new();
    let _ = tokio::time::timeout(WAIT, bad.read_to_end(&mut answer)).await;
    assert!(
        answer.starts_with(b"HTTP/1.1 400"),
        "{}",
        String::from_utf8_lossy(&answer)
    );
    let mut half = TcpStream::connect(addr).await.unwrap();
    half.write_all(b"GET /hea").await.unwrap();
    drop(half);
    tokio::time::sleep(Duration::from_millis(50)).await;

    let mut good = TcpStream::connect(addr).await.unwrap();
    assert!(health(&mut good).await.starts_with("HTTP/1.1 200 OK\r\n"));
    assert!(!server.is_finished());
    server.abort();
}
