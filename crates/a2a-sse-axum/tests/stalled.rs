//! A client that stops reading, served by `axum::serve` with the service's socket options
//! applied (the adapter's documented setup): its subscription lags and is cut, and the
//! write deadline closes its connection, while a client that reads gets every event.

use std::io::Write;
use std::time::{Duration, Instant};

use a2a_sse_axum::{A2aEventQueue, BufferLimits, DisconnectInfo, SseService, routes};
use a2a_sse_testkit::events::sized;
use a2a_sse_testkit::{Recorder, SseClient};
use axum::serve::ListenerExt as _;

const DEADLINE: Duration = Duration::from_secs(2);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_that_never_reads_is_cut_within_the_write_deadline() {
    let queue = A2aEventQueue::new();
    let ended = Recorder::<DisconnectInfo>::new();
    let service = SseService::builder(queue.clone())
        .write_timeout(DEADLINE)
        .buffer(BufferLimits::new(1024, 4 << 20))
        .on_disconnect(ended.hook())
        .build()
        .unwrap();
    let options = service.socket_options();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let listener = listener.tap_io(move |tcp| {
        options.apply(tcp).unwrap();
    });
    let counts = service.clone();
    tokio::spawn(async move { axum::serve(listener, routes(service)).await.unwrap() });

    // The stalled client: a small receive window, a request, then never a read.
    let stalled = socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None).unwrap();
    stalled.set_recv_buffer_size(4096).unwrap();
    stalled.connect(&addr.into()).unwrap();
    let mut stalled = std::net::TcpStream::from(stalled);
    stalled
        .write_all(b"GET /a2a/events?plan_id=p HTTP/1.1\r\nhost: test\r\n\r\n")
        .unwrap();
    let reader = SseClient::new(addr).get("/a2a/events?plan_id=p", &[]).await;
    let mut reader = reader.into_stream();
    assert!(reader.events(0, Duration::ZERO).await.is_empty());
    wait_for(|| counts.open_streams() == 2, Duration::from_secs(10)).await;

    // Far more than the kernel's buffers and the subscriber's buffer hold.
    const EVENTS: usize = 200;
    let reading = tokio::spawn(async move {
        let got = reader.events(EVENTS, Duration::from_secs(20)).await;
        (got, reader)
    });
    for _ in 0..EVENTS {
        queue.publish(sized("p", 32 * 1024)).unwrap();
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    let (got, _reader) = reading.await.unwrap();
    assert_eq!(got.len(), EVENTS, "the reading client got every event");
    let last_publish = Instant::now();
    assert_eq!(
        queue.subscriber_count(),
        1,
        "the stalled subscription lagged and was cut"
    );

    let cut = wait_for(|| counts.open_streams() == 1, DEADLINE * 6).await;
    assert!(cut.is_some(), "the stalled stream is still open");
    assert_eq!(ended.len(), 1);

    // The connection itself: past the deadline the server's kernel aborted it, so the
    // client finds a reset behind what it had received, not the rest of the stream.
    tokio::time::sleep(DEADLINE * 2).await;
    let closed = tokio::task::spawn_blocking(move || drained_to_reset(&mut stalled))
        .await
        .unwrap();
    let after = last_publish.elapsed();
    assert!(
        closed,
        "the stalled connection was still open {after:?} after the last event"
    );
}

/// Reads what is waiting on `socket` without blocking; `true` when the connection turns
/// out reset or closed, `false` when it is still open with nothing more to read.
fn drained_to_reset(socket: &mut std::net::TcpStream) -> bool {
    use std::io::Read;
    socket.set_nonblocking(true).unwrap();
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        match socket.read(&mut buf) {
            Ok(0) => return true,
            Ok(_) => {}
            Err(err) if err.kind() == std::io::ErrorKind::WouldBlock => return false,
            Err(_) => return true,
        }
    }
}

async fn wait_for(mut done: impl FnMut() -> bool, limit: Duration) -> Option<Duration> {
    let start = Instant::now();
    while !done() {
        if start.elapsed() > limit {
            return None;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    Some(start.elapsed())
}
