//! What every demo server must do as a whole process, written once and run by each
//! adapter's tests against its own demo: exit promptly on a signal with many open streams,
//! close slow request heads, refuse oversized requests, and count a known sequence in its
//! metrics.

use std::time::{Duration, Instant};

use crate::demo_process::{DemoProcess, RawStream, raw_request};
use crate::eventually::eventually_with;
use crate::{Next, SseClient};

/// With `streams` open streams, the demo exits within `limit` of `SIGINT`.
///
/// # Panics
///
/// When it does not.
pub async fn exits_promptly_with_open_streams(
    path: &std::path::Path,
    streams: usize,
    limit: Duration,
) {
    let mut demo = DemoProcess::start(path, &["--no-simulate"]);
    let addr = demo.addr();
    let opening: Vec<_> = (0..streams)
        .map(|i| {
            tokio::spawn(async move {
                RawStream::open(addr, &format!("/a2a/events?plan_id=p{}", i % 7)).await
            })
        })
        .collect();
    let mut open = Vec::new();
    for stream in opening {
        open.push(stream.await.unwrap_or_else(|e| panic!("{e}")));
    }
    assert!(
        demo.descriptors() >= streams,
        "{} descriptors",
        demo.descriptors()
    );
    demo.interrupt();
    let took = demo.exited_within(limit);
    assert!(
        took.is_some(),
        "still running {limit:?} after SIGINT with {streams} open streams"
    );
    for stream in open.iter_mut().take(10) {
        assert!(
            stream.closed_within(Duration::from_secs(1)).await,
            "a stream outlived its server"
        );
    }
}

/// 200 connections that send half a request head and stop neither keep a new client from
/// being served at once nor stay open past the head timeout.
///
/// # Panics
///
/// When they do.
pub async fn slow_heads_are_closed_and_others_served(path: &std::path::Path) {
    const SLOW: usize = 200;
    let timeout = Duration::from_secs(1);
    let demo = DemoProcess::start(path, &["--no-simulate", "--header-timeout-ms", "1000"]);
    let addr = demo.addr();
    let mut slow = Vec::new();
    for _ in 0..SLOW {
        let mut socket = tokio::net::TcpStream::connect(addr)
            .await
            .unwrap_or_else(|e| panic!("connect: {e}"));
        tokio::io::AsyncWriteExt::write_all(
            &mut socket,
            b"GET /a2a/events HTTP/1.1\r\nhost: x\r\n",
        )
        .await
        .unwrap_or_else(|e| panic!("send: {e}"));
        slow.push(socket);
    }
    let start = Instant::now();
    let response = SseClient::new(addr).get("/", &[]).await;
    assert_eq!(response.status, 200);
    let served = start.elapsed();
    assert!(
        served < Duration::from_millis(500),
        "a new client waited {served:?}"
    );
    let mut stream = SseClient::new(addr)
        .get("/a2a/events", &[])
        .await
        .into_stream();
    assert!(matches!(
        stream.next_event(Duration::from_millis(100)).await,
        Next::Timeout
    ));

    // Past the head timeout (plus the framework's own tick), every slow one is closed.
    tokio::time::sleep(timeout * 3).await;
    let mut buf = [0u8; 256];
    for socket in &mut slow {
        let read = tokio::time::timeout(
            Duration::from_secs(5),
            tokio::io::AsyncReadExt::read(socket, &mut buf),
        )
        .await;
        let closed = matches!(read, Ok(Ok(_) | Err(_)));
        assert!(
            closed,
            "a half-sent head is still open {:?} after it",
            start.elapsed()
        );
    }
    drop(demo);
}

/// A huge query, a huge or too many headers, and a large publish body are refused with a
/// 4xx, and the server goes on serving.
///
/// # Panics
///
/// When one is not.
pub async fn oversized_requests_are_refused(path: &std::path::Path) {
    let demo = DemoProcess::start(path, &["--no-simulate"]);
    let addr = demo.addr();
    let query = format!(
        "GET /a2a/events?plan_id=p&pad={} HTTP/1.1\r\nhost: x\r\n\r\n",
        "q".repeat(10_000)
    );
    let (status, answer) = raw_request(addr, query.as_bytes()).await;
    assert_eq!(status, 414, "{answer}");
    assert!(answer.contains("query_too_long"), "{answer}");

    let big = format!(
        "GET /a2a/events HTTP/1.1\r\nhost: x\r\nx-big: {}\r\n\r\n",
        "v".repeat(100_000)
    );
    let (status, answer) = raw_request(addr, big.as_bytes()).await;
    assert_eq!(status, 431, "{}", &answer[..answer.len().min(300)]);

    let many: String = (0..100).map(|i| format!("x-h{i}: 1\r\n")).collect();
    let many = format!("GET /a2a/events HTTP/1.1\r\nhost: x\r\n{many}\r\n");
    let (status, answer) = raw_request(addr, many.as_bytes()).await;
    assert_eq!(status, 431, "{}", &answer[..answer.len().min(300)]);

    let body = "x".repeat(1 << 20);
    let publish = format!(
        "POST /a2a/plans/p/events HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n{body}",
        body.len()
    );
    let (status, answer) = raw_request(addr, publish.as_bytes()).await;
    assert_eq!(status, 413, "{}", &answer[..answer.len().min(300)]);
    assert!(
        answer.contains("body_too_large"),
        "{}",
        &answer[..answer.len().min(300)]
    );

    let page = SseClient::new(addr).get("/", &[]).await;
    assert_eq!(page.status, 200, "the server goes on serving");
    drop(demo);
}

/// After two streams, three events each and a refused request, the metrics page counts
/// exactly that.
///
/// # Panics
///
/// When it does not.
pub async fn metrics_count_a_known_sequence(path: &std::path::Path) {
    let demo = DemoProcess::start(path, &["--no-simulate"]);
    let client = SseClient::new(demo.addr());
    let mut one = client.get("/a2a/events?plan_id=p", &[]).await.into_stream();
    let mut all = client.get("/a2a/events", &[]).await.into_stream();
    let event = r#"{"kind":"status-update","data":{"taskId":"p","contextId":"c","status":{"state":"TASK_STATE_WORKING"}}}"#;
    for _ in 0..3 {
        let response = client.post_json("/a2a/plans/p/events", event).await;
        assert_eq!(response.status, 202);
    }
    assert_eq!(one.events(3, Duration::from_secs(10)).await.len(), 3);
    assert_eq!(all.events(3, Duration::from_secs(10)).await.len(), 3);
    let refused = client.get("/a2a/events?plan_id=%20", &[]).await;
    assert_eq!(refused.status, 400);
    drop(one);
    drop(all);

    let page = eventually_with(
        Duration::from_secs(10),
        || async move { Some(client.get("/metrics", &[]).await.text().await) },
        |page| page.contains("reason=\"client_gone\"} 2"),
    )
    .await
    .last
    .unwrap_or_default();
    for line in [
        "a2a_sse_open_streams 0",
        "a2a_sse_connects_total{binding=\"native\"} 2",
        "a2a_sse_disconnects_total{binding=\"native\",reason=\"client_gone\"} 2",
        "a2a_sse_events_delivered_total 6",
        "a2a_sse_refusals_total{status=\"400\",code=\"invalid_plan_id\"} 1",
    ] {
        assert!(
            page.lines().any(|l| l == line),
            "no line {line:?} in\n{page}"
        );
    }
    let bytes = page
        .lines()
        .find_map(|l| l.strip_prefix("a2a_sse_bytes_delivered_total "))
        .and_then(|n| n.parse::<u64>().ok())
        .unwrap_or(0);
    assert!(bytes > 6 * 100, "{bytes} bytes delivered");
    drop(demo);
}
