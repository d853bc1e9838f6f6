//! `SseService` options, hooks and `Debug` output.

use a2a_events::{A2aEventQueue, EventId, TaskState};

use super::*;
use crate::config::{DEFAULT_KEEP_ALIVE, DEFAULT_PATH, DEFAULT_RETRY, SseConfig};
use crate::hook::DisconnectReason;
use crate::response::SseResponse;
use crate::stream::{PING, preamble};
use crate::test_support::{Connects, Disconnects, decode, get, plan, publish, stream};
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
    let first = stream(service.respond(&get("plan_id=p&last_event_id=1")).await);
    let second = stream(service.respond(&get("")).await);
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
    let mut tap = stream(service.respond(&get("")).await);
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
    let mut tap = stream(service.respond(&get("")).await);
    tap.next().await.unwrap();
    assert_eq!(tap.next().await.unwrap(), PING);
    assert_eq!(start.elapsed(), Duration::from_secs(2));
}

#[test]
fn options_are_checked_however_they_are_set() {
    // A zero keep-alive is refused: a stream with it would ping on every poll.
    let zero = SseService::builder(A2aEventQueue::new())
        .keep_alive(Duration::ZERO)
        .build();
    let refused = crate::ConfigError::IntervalTooShort("keep_alive");
    assert_eq!(zero.unwrap_err(), refused);

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
    let mut tap = stream(service.respond(&get("")).await);
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
    let mut tap = stream(service.respond(&get("")).await);
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
fn each_builder_method_sets_its_option() {
    let service = SseService::builder(A2aEventQueue::new())
        .path("/x")
        .keep_alive(Duration::from_secs(1))
        .retry(Duration::from_secs(2))
        .buffer(BufferLimits::DEFAULT)
        .max_connections(3)
        .liveness_probe(Duration::from_millis(250))
        .max_body_bytes(10)
        .max_streams_per_plan(2)
        .require_plan()
        .max_lifetime(Duration::from_secs(60), Duration::from_secs(6))
        .header_read_timeout(Duration::from_secs(3))
        .body_read_timeout(Duration::from_secs(4))
        .write_timeout(Duration::from_secs(5))
        .build()
        .unwrap();
    let config = service.config();
    assert_eq!(config.path, "/x");
    assert_eq!(config.keep_alive, Duration::from_secs(1));
    assert_eq!(config.retry, Duration::from_secs(2));
    assert_eq!(config.buffer, Some(BufferLimits::DEFAULT));
    assert_eq!(config.max_connections, Some(3));
    assert_eq!(config.liveness_probe, Some(Duration::from_millis(250)));
    assert_eq!(config.max_body_bytes, 10);
    assert_eq!(config.max_streams_per_plan, Some(2));
    assert!(config.require_plan);
    assert_eq!(config.max_lifetime, Some(Duration::from_secs(60)));
    assert_eq!(config.lifetime_jitter, Some(Duration::from_secs(6)));
    assert_eq!(config.header_read_timeout, Duration::from_secs(3));
    assert_eq!(config.body_read_timeout, Duration::from_secs(4));
    assert_eq!(config.socket.write_timeout, Some(Duration::from_secs(5)));
    assert_eq!(service.socket_options(), config.socket);
    assert_eq!(SseConfig::default().path, DEFAULT_PATH);
    assert_eq!(SseConfig::default().keep_alive, DEFAULT_KEEP_ALIVE);
    assert_eq!(SseConfig::default().retry, DEFAULT_RETRY);
}

#[tokio::test]
async fn statuses_of_each_answer() {
    let queue = A2aEventQueue::new();
    let service = SseService::builder(queue.clone()).build().unwrap();
    let response = service.respond(&get("")).await;
    assert_eq!(response.status(), 200);
    assert_eq!(service.open_streams(), 1);
    drop(response);
    assert_eq!(service.open_streams(), 0);
    let err = service.respond(&get("plan_id=%20")).await;
    assert_eq!(err.status(), 400);
    assert_eq!(SseResponse::NoContent.status(), 204);
    assert_eq!(service.backend().subscriber_count(), 0);
}
