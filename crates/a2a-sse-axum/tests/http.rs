//! The axum adapter over real HTTP on loopback: frames and headers, plan filter,
//! keep-alive, resume, reset, lag, `204`, disconnect cleanup, errors, composition into
//! other apps, and graceful shutdown.
//!
//! Tests that must stop the server between two publishes run on a current-thread runtime,
//! where the server cannot run while the test does not await.

mod support;

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use a2a_events::{BufferLimits, PlanId, QueueConfig};
use a2a_sse_axum::{
    A2aEventQueue, AuthError, DisconnectReason, HttpHead, SseService, TokioTimer, into_response,
    router,
};
use a2a_sse_testkit::{Next, SseClient};
use axum::Router;
use axum::extract::{Request, State};
use axum::routing::get;
use serde_json::Value;
use support::{
    PREAMBLE, WAIT, assert_error, frame, ids, open, publish, recording, serve, serve_service,
    wait_until,
};

#[tokio::test]
async fn streams_published_events_as_exact_frames() {
    let queue = A2aEventQueue::new();
    let client = serve_service(SseService::builder(queue.clone())).await;

    let response = client.get("/a2a/events", &[]).await;
    assert_eq!(response.status, 200);
    assert_eq!(response.header("content-type"), Some("text/event-stream"));
    assert_eq!(response.header("cache-control"), Some("no-cache"));
    assert_eq!(response.header("x-accel-buffering"), Some("no"));
    assert_eq!(response.header("content-encoding"), None);
    let mut stream = response.into_stream();

    assert_eq!(publish(&queue, "plan-7", "WORKING"), 1);
    let Next::Event(event) = stream.next_event(WAIT).await else {
        panic!("no event");
    };
    assert_eq!(
        (event.id.as_str(), event.event.as_str()),
        ("1", "status-update")
    );
    let expected = format!("{PREAMBLE}{}", frame(1, "plan-7", "WORKING"));
    assert_eq!(String::from_utf8_lossy(stream.raw()), expected);
    assert_eq!(stream.retry(), Some(3000));
}

#[tokio::test]
async fn a_plan_filter_sees_only_its_plan_and_ends_after_its_terminal_event() {
    let queue = A2aEventQueue::new();
    let client = serve_service(SseService::builder(queue.clone())).await;
    let mut stream = open(&client, "/a2a/events?plan_id=plan-a", &[]).await;

    publish(&queue, "plan-b", "WORKING");
    publish(&queue, "plan-a", "WORKING");
    publish(&queue, "plan-b", "COMPLETED");
    publish(&queue, "plan-a", "COMPLETED");
    assert_eq!(ids(&mut stream, 2).await, [2, 4]);
    assert_eq!(stream.next_event(WAIT).await, Next::End);
}

#[tokio::test]
async fn an_idle_stream_gets_keep_alive_comments() {
    let queue = A2aEventQueue::new();
    let builder = SseService::builder(queue).keep_alive(Duration::from_millis(100));
    let client = serve_service(builder).await;
    let mut stream = open(&client, "/a2a/events", &[]).await;

    let deadline = Instant::now() + WAIT;
    while stream.comments().len() < 3 && Instant::now() < deadline {
        stream.pump(Duration::from_millis(50)).await;
    }
    assert_eq!(stream.comments()[1..3], [" ping", " ping"]);
    assert!(String::from_utf8_lossy(stream.raw()).starts_with(&format!("{PREAMBLE}: ping\n\n")));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn resume_replays_then_goes_live_without_gap_or_duplicate() {
    let queue = A2aEventQueue::new();
    let client = serve_service(SseService::builder(queue.clone())).await;
    for _ in 0..5 {
        publish(&queue, "plan-a", "WORKING");
    }
    // Publishes race with the subscription: each lands in the replay or live, once.
    let publisher = tokio::spawn({
        let queue = queue.clone();
        async move {
            for _ in 6..=200 {
                publish(&queue, "plan-a", "WORKING");
                tokio::task::yield_now().await;
            }
        }
    });
    let mut stream = open(&client, "/a2a/events", &[("last-event-id", "3")]).await;
    assert_eq!(ids(&mut stream, 197).await, (4..=200).collect::<Vec<_>>());
    publisher.await.unwrap();
}

#[tokio::test]
async fn resume_point_from_the_query_and_the_header_wins() {
    let queue = A2aEventQueue::new();
    let client = serve_service(SseService::builder(queue.clone())).await;
    for _ in 0..4 {
        publish(&queue, "plan-a", "WORKING");
    }

    let mut by_query = open(&client, "/a2a/events?last_event_id=2", &[]).await;
    assert_eq!(ids(&mut by_query, 2).await, [3, 4]);
    let mut both = open(
        &client,
        "/a2a/events?last_event_id=1",
        &[("last-event-id", "3")],
    )
    .await;
    assert_eq!(ids(&mut both, 1).await, [4]);

    publish(&queue, "plan-a", "WORKING");
    assert_eq!(ids(&mut by_query, 1).await, [5]);
    assert_eq!(ids(&mut both, 1).await, [5]);
}

#[tokio::test]
async fn resuming_before_the_history_sends_a_reset_first() {
    let config = QueueConfig {
        history_events: 2,
        ..QueueConfig::default()
    };
    let queue = A2aEventQueue::with_config(config).unwrap();
    let client = serve_service(SseService::builder(queue.clone())).await;
    for _ in 0..5 {
        publish(&queue, "plan-a", "WORKING");
    }

    let mut stream = open(&client, "/a2a/events", &[("last-event-id", "1")]).await;
    let events = stream.events(3, WAIT).await;
    assert_eq!(events.len(), 3, "{events:?}");
    assert_eq!(events[0].event, "reset");
    let data: Value = serde_json::from_str(&events[0].data).unwrap();
    assert_eq!(
        data,
        serde_json::json!({"requestedId": "1", "oldestRetainedId": "4"})
    );
    let replayed: Vec<_> = events[1..].iter().map(|e| e.id.as_str()).collect();
    assert_eq!(replayed, ["4", "5"]);
}

#[tokio::test(flavor = "current_thread")]
async fn a_client_that_falls_behind_gets_lagged_and_the_stream_ends() {
    let queue = A2aEventQueue::new();
    let tiny = BufferLimits {
        events: 1,
        bytes: 1 << 20,
    };
    let (builder, ended) = recording(SseService::builder(queue.clone()).buffer(tiny));
    let client = serve_service(builder).await;
    let mut stream = open(&client, "/a2a/events", &[]).await;
    publish(&queue, "plan-a", "WORKING");
    assert_eq!(ids(&mut stream, 1).await, [1]);

    // No await: the server cannot drain the one-event buffer between these publishes.
    for _ in 0..10 {
        publish(&queue, "plan-a", "WORKING");
    }
    let Next::Event(lagged) = stream.next_event(WAIT).await else {
        panic!("no lagged event");
    };
    assert_eq!(lagged.event, "lagged");
    let data: Value = serde_json::from_str(&lagged.data).unwrap();
    assert_eq!(data, serde_json::json!({"lastEventId": "1"}));
    assert_eq!(stream.next_event(WAIT).await, Next::End);
    wait_until("disconnect hook", WAIT, || {
        !ended.lock().unwrap().is_empty()
    })
    .await;
    assert_eq!(ended.lock().unwrap()[0].reason, DisconnectReason::Lagged);
}

#[tokio::test]
async fn resuming_at_or_after_a_terminal_event_is_204() {
    let queue = A2aEventQueue::new();
    let client = serve_service(SseService::builder(queue.clone())).await;
    publish(&queue, "plan-a", "WORKING");
    publish(&queue, "plan-a", "COMPLETED");
    publish(&queue, "plan-b", "WORKING");

    for resume in ["2", "3"] {
        let response = client
            .get("/a2a/events?plan_id=plan-a", &[("last-event-id", resume)])
            .await;
        assert_eq!(response.status, 204, "resume after {resume}");
        assert_eq!(response.text().await, "");
    }
    let mut before = open(
        &client,
        "/a2a/events?plan_id=plan-a",
        &[("last-event-id", "1")],
    )
    .await;
    assert_eq!(ids(&mut before, 1).await, [2]);
    assert_eq!(before.next_event(WAIT).await, Next::End);
}

#[tokio::test(flavor = "current_thread")]
async fn closing_the_socket_unsubscribes_at_once_and_fires_the_hook_once() {
    let queue = A2aEventQueue::new();
    // No keep-alive write will reveal the closed socket: the server must notice the EOF.
    let builder = SseService::builder(queue.clone()).keep_alive(Duration::from_secs(600));
    let (builder, ended) = recording(builder);
    let client = serve_service(builder).await;

    let stream = open(&client, "/a2a/events?plan_id=plan-a", &[]).await;
    assert_eq!(queue.subscriber_count(), 1);
    stream.close();
    let took = wait_until("unsubscribe", Duration::from_secs(1), || {
        queue.subscriber_count() == 0
    })
    .await;
    wait_until("disconnect hook", Duration::from_secs(1), || {
        !ended.lock().unwrap().is_empty()
    })
    .await;
    // Time for a second, wrong, call to show up.
    tokio::time::sleep(Duration::from_millis(200)).await;
    let ended = ended.lock().unwrap();
    assert_eq!(ended.len(), 1, "{ended:?} (unsubscribed after {took:?})");
    assert_eq!(ended[0].reason, DisconnectReason::ClientGone);
    assert_eq!(ended[0].plan.as_ref().map(PlanId::as_str), Some("plan-a"));
    assert_eq!(ended[0].events, 0);
    assert_eq!(ended[0].bytes, PREAMBLE.len() as u64);
}

#[tokio::test]
async fn bad_requests_get_json_errors_and_the_server_keeps_serving() {
    let queue = A2aEventQueue::new();
    let client = serve_service(SseService::builder(queue.clone())).await;

    let bad_plan = client.get("/a2a/events?plan_id=a%20b", &[]).await;
    assert_error(bad_plan, 400, "invalid_plan_id").await;
    let bad_resume = client.get("/a2a/events", &[("last-event-id", "x")]).await;
    assert_error(bad_resume, 400, "invalid_last_event_id").await;
    let post = client.post_json("/a2a/events", "{}").await;
    assert_eq!(post.header("allow"), Some("GET"));
    assert_error(post, 405, "method_not_allowed").await;
    assert_eq!(queue.subscriber_count(), 0);

    let mut stream = open(&client, "/a2a/events", &[]).await;
    publish(&queue, "plan-a", "WORKING");
    assert_eq!(ids(&mut stream, 1).await, [1]);
}

#[tokio::test]
async fn refusals_from_the_authorization_hook_and_the_connection_limit() {
    let queue = A2aEventQueue::new();
    let builder = SseService::builder(queue)
        .max_connections(1)
        .authorize(|request| match request.header("authorization") {
            Some(b"Bearer good") => Ok(()),
            Some(_) => Err(AuthError::Forbidden("not yours".into())),
            None => Err(AuthError::Unauthorized("token required".into())),
        });
    let client = serve_service(builder).await;
    let good = [("authorization", "Bearer good")];

    assert_error(client.get("/a2a/events", &[]).await, 401, "unauthorized").await;
    let bad = [("authorization", "Bearer bad")];
    assert_error(client.get("/a2a/events", &bad).await, 403, "forbidden").await;
    let _first = open(&client, "/a2a/events", &good).await;
    let second = client.get("/a2a/events", &good).await;
    assert_eq!(second.header("retry-after"), Some("1"));
    assert_error(second, 503, "too_many_connections").await;
}

#[derive(Clone)]
struct AppState {
    greeting: &'static str,
    events: SseService<TokioTimer>,
}

async fn own_handler(State(state): State<AppState>, request: Request) -> axum::response::Response {
    into_response(state.events.respond(&HttpHead::from(&request)).await)
}

#[tokio::test]
async fn the_router_merges_and_nests_into_an_app_with_its_own_state() {
    let queue = A2aEventQueue::new();
    let events = SseService::builder(queue.clone()).build();
    let custom = SseService::builder(queue.clone())
        .path("/custom/stream")
        .build();
    let app = Router::new()
        .route(
            "/hello",
            get(|State(s): State<AppState>| async move { s.greeting }),
        )
        .route("/mine", get(own_handler))
        .merge(router(events.clone()))
        .merge(router(custom))
        .nest("/api", router(events.clone()))
        .with_state(AppState {
            greeting: "hi",
            events,
        });
    let client = serve(app).await;

    assert_eq!(client.get("/hello", &[]).await.text().await, "hi");
    let mut streams = Vec::new();
    for path in ["/a2a/events", "/custom/stream", "/api/a2a/events", "/mine"] {
        streams.push(open(&client, &format!("{path}?plan_id=plan-a"), &[]).await);
    }
    assert_eq!(client.get("/other", &[]).await.status, 404);
    let mine = client.get("/mine", &[("last-event-id", "x")]).await;
    assert_error(mine, 400, "invalid_last_event_id").await;

    publish(&queue, "plan-a", "WORKING");
    for stream in &mut streams {
        assert_eq!(ids(stream, 1).await, [1]);
    }
}

#[tokio::test]
async fn closing_the_queue_ends_open_streams_for_a_graceful_shutdown() {
    let queue = A2aEventQueue::new();
    let (builder, ended) = recording(SseService::builder(queue.clone()));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr: SocketAddr = listener.local_addr().unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let app = router(builder.build());
    let closing = queue.clone();
    let server = tokio::spawn(async move {
        axum::serve(listener, app)
            .with_graceful_shutdown(async move {
                let _ = stopped.await;
                closing.close();
            })
            .await
    });
    let client = SseClient::new(addr);
    let mut streams = vec![
        open(&client, "/a2a/events", &[]).await,
        open(&client, "/a2a/events?plan_id=plan-a", &[]).await,
    ];

    stop.send(()).unwrap();
    for stream in &mut streams {
        assert!(stream.wait_end(WAIT).await, "stream ended");
    }
    tokio::time::timeout(WAIT, server)
        .await
        .expect("server stopped")
        .unwrap()
        .unwrap();
    let reasons: Vec<_> = ended.lock().unwrap().iter().map(|i| i.reason).collect();
    assert_eq!(reasons, [DisconnectReason::Shutdown; 2]);
}
