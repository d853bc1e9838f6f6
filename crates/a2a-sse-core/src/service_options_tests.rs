//! `SseService` options, hooks and `Debug` output.

use a2a_events::{A2aEventQueue, TaskState};

use super::*;
use crate::config::{DEFAULT_KEEP_ALIVE, DEFAULT_PATH, DEFAULT_RETRY, SseConfig};
use crate::hook::DisconnectReason;
use crate::response::SseResponse;
use crate::stream::{PING, preamble};
use crate::test_support::{Connects, Disconnects, Head, decode, plan, publish, stream};
use crate::timer::TokioTimer;
use a2a_events::BufferLimits;

#[tokio::test]
async fn connect_and_disconnect_hooks_share_the_connection_number() {
    let queue = A2aEventQueue::new();
    let (connects, disconnects) = (Connects::new(), Disconnects::new());
    let service = SseService::builder(queue.clone())
        .on_connect(connects.hook())
        .on_disconnect(disconnects.hook())
        .build()
        .unwrap();
    publish(&queue, &plan("p"), TaskState::Working);
    let first = stream(
        service
            .respond(&Head::get("plan_id=p&last_event_id=1"))
            .await,
    );
    let second = stream(service.respond(&Head::get("")).await);
    let calls = connects.calls();
    assert_eq!(calls.len(), 2);
    assert_eq!(
        calls[0],
        ConnectInfo {
            connection: 1,
            plan: Some(plan("p")),
            last_event_id: Some(EventId::new(1)),
        }
    );
    assert_eq!(
        (calls[1].connection, &calls[1].plan, calls[1].last_event_id),
        (2, &None, None)
    );

    drop(second);
    drop(first);
    let ended: Vec<_> = disconnects
        .calls()
        .iter()
        .map(|i| (i.connection, i.plan.clone()))
        .collect();
    assert_eq!(ended, [(2, None), (1, Some(plan("p")))]);
}

#[tokio::test]
async fn retry_and_path_options() {
    let service = SseService::builder(A2aEventQueue::new())
        .path("/events")
        .retry(Duration::from_millis(1500))
        .build()
        .unwrap();
    assert_eq!(service.config().path, "/events");
    let mut tap = stream(service.respond(&Head::get("")).await);
    let first = tap.next().await.unwrap();
    assert_eq!(&first[..], b"retry: 1500\n: a2a-sse stream open\n\n");
    assert_eq!(first, preamble(Duration::from_millis(1500)));
}

#[tokio::test(start_paused = true)]
async fn the_keep_alive_option_sets_the_ping_interval() {
    let service = SseService::builder(A2aEventQueue::new())
        .keep_alive(Duration::from_secs(2))
        .build()
        .unwrap();
    let start = tokio::time::Instant::now();
    let mut tap = stream(service.respond(&Head::get("")).await);
    tap.next().await.unwrap();
    assert_eq!(tap.next().await.unwrap(), PING);
    assert_eq!(start.elapsed(), Duration::from_secs(2));
}

#[test]
fn options_are_checked_however_they_are_set() {
    // Set one by one or all at once, the same zero keep-alive is refused: a stream with it
    // would ping on every poll.
    let one_by_one = SseService::builder(A2aEventQueue::new())
        .keep_alive(Duration::ZERO)
        .build();
    let config = SseConfig {
        keep_alive: Duration::ZERO,
        ..SseConfig::default()
    };
    let at_once = SseService::builder(A2aEventQueue::new())
        .config(config)
        .build();
    let refused = crate::ConfigError::IntervalTooShort("keep_alive");
    assert_eq!(one_by_one.unwrap_err(), refused);
    assert_eq!(at_once.unwrap_err(), refused);

    let bad_path = SseService::builder(A2aEventQueue::new())
        .path("events")
        .build();
    assert!(matches!(
        bad_path,
        Err(crate::ConfigError::InvalidPath { .. })
    ));
    let probe = SseService::builder(A2aEventQueue::new())
        .liveness_probe(Duration::ZERO)
        .build();
    assert_eq!(
        probe.unwrap_err(),
        crate::ConfigError::IntervalTooShort("liveness_probe")
    );
}

#[tokio::test(start_paused = true)]
async fn the_liveness_probe_option_reaches_the_stream() {
    let service = SseService::builder(A2aEventQueue::new())
        .liveness_probe(Duration::from_millis(250))
        .max_body_bytes(100)
        .build()
        .unwrap();
    assert_eq!(service.config().max_body_bytes, 100);
    let start = tokio::time::Instant::now();
    let mut tap = stream(service.respond(&Head::get("")).await);
    tap.next().await.unwrap();
    assert_eq!(tap.next().await.unwrap(), crate::stream::PROBE);
    assert_eq!(start.elapsed(), Duration::from_millis(250));
}

#[tokio::test]
async fn the_buffer_option_reaches_the_subscription() {
    let queue = A2aEventQueue::new();
    let disconnects = Disconnects::new();
    let tiny = BufferLimits::new(1, 1 << 20);
    let service = SseService::builder(queue.clone())
        .buffer(tiny)
        .on_disconnect(disconnects.hook())
        .build()
        .unwrap();
    let mut tap = stream(service.respond(&Head::get("")).await);
    tap.next().await.unwrap();
    publish(&queue, &plan("p"), TaskState::Working);
    publish(&queue, &plan("p"), TaskState::Working);
    assert_eq!(decode(&tap.next().await.unwrap())[0].event, "lagged");
    assert_eq!(tap.next().await, None);
    let info = disconnects.only();
    assert_eq!(
        (info.reason, info.bytes),
        (DisconnectReason::Lagged, tap.bytes())
    );
}

#[test]
fn config_replaces_every_option_at_once() {
    let config = SseConfig {
        path: "/x".into(),
        keep_alive: Duration::from_secs(1),
        retry: Duration::from_secs(2),
        buffer: Some(BufferLimits::DEFAULT),
        max_connections: Some(3),
        liveness_probe: Some(Duration::from_millis(250)),
        max_body_bytes: 10,
        a2a: None,
        max_streams_per_plan: Some(2),
        require_plan: true,
        max_lifetime: Some(Duration::from_secs(60)),
        lifetime_jitter: Some(Duration::from_secs(6)),
        max_query_bytes: 100,
        max_header_bytes: 1000,
        max_headers: 10,
        header_read_timeout: Duration::from_secs(3),
        body_read_timeout: Duration::from_secs(4),
        socket: crate::SocketOptions::default(),
    };
    let service = SseService::builder(A2aEventQueue::new())
        .path("/ignored")
        .config(config.clone())
        .build()
        .unwrap();
    assert_eq!(service.config(), &config);
    assert_eq!(SseConfig::default().path, DEFAULT_PATH);
    assert_eq!(SseConfig::default().keep_alive, DEFAULT_KEEP_ALIVE);
    assert_eq!(SseConfig::default().retry, DEFAULT_RETRY);
}

#[tokio::test]
async fn debug_impls_and_statuses() {
    let queue = A2aEventQueue::new();
    let builder = SseService::builder(queue.clone()).path("/dbg");
    assert!(format!("{builder:?}").contains("\"/dbg\""));
    let service = builder.build().unwrap();
    let response = service.respond(&Head::get("")).await;
    assert_eq!(response.status(), 200);
    assert!(format!("{response:?}").starts_with("Stream(SseStream"));
    assert!(format!("{service:?}").contains("open_streams: 1"));
    drop(response);

    let err = service.respond(&Head::get("plan_id=%20")).await;
    assert_eq!(err.status(), 400);
    assert!(format!("{err:?}").starts_with("Error(InvalidPlanId"));
    assert_eq!(
        format!("{:?}", SseResponse::<TokioTimer>::NoContent),
        "NoContent"
    );
    assert_eq!(service.backend().subscriber_count(), 0);
}
