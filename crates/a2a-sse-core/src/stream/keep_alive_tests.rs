//! `SseStream` keep-alive, on tokio's paused clock: time only moves when every task waits,
//! so the tests are instant and exact.

use std::time::Duration;

use a2a_events::{A2aEventQueue, TaskState};
use futures_core::Stream as _;
use tokio::time::Instant;

use a2a_events::SubscribeRequest;

use super::{PING, PROBE, StreamOptions, preamble};
use crate::config::DEFAULT_RETRY;
use crate::test_support::{Disconnects, Tap, decode, open_all, open_with, plan, publish};

#[tokio::test(start_paused = true)]
async fn a_ping_after_each_idle_interval() {
    let (_queue, hook, start, mut tap) = opened().await;
    for n in 1..=3 {
        assert_eq!(tap.next().await.unwrap(), PING);
        assert_eq!(start.elapsed(), Duration::from_secs(15 * n));
    }
    drop(tap);
    let info = hook.only();
    assert_eq!((info.events, info.bytes), (0, tap_bytes_of(3)));
}

/// An unfiltered stream whose preamble was read, its queue and hook, and when it opened.
async fn opened() -> (A2aEventQueue, Disconnects, Instant, Tap) {
    let queue = A2aEventQueue::new();
    let hook = Disconnects::new();
    let start = Instant::now();
    let mut tap = open_all(&queue, &hook);
    tap.next().await.unwrap();
    (queue, hook, start, tap)
}

/// Publishes one event to plan `p` at each of `seconds` after `start`, from another task.
fn publish_at(queue: &A2aEventQueue, start: Instant, seconds: impl IntoIterator<Item = u64>) {
    let publisher = queue.clone();
    let seconds: Vec<u64> = seconds.into_iter().collect();
    tokio::spawn(async move {
        for at in seconds {
            tokio::time::sleep_until(start + Duration::from_secs(at)).await;
            publish(&publisher, &plan("p"), TaskState::Working);
        }
    });
}

/// Preamble plus `pings` keep-alives.
fn tap_bytes_of(pings: u64) -> u64 {
    preamble(DEFAULT_RETRY).len() as u64 + pings * PING.len() as u64
}

#[tokio::test(start_paused = true)]
async fn the_keep_alive_timer_restarts_after_each_frame() {
    let (queue, _hook, start, mut tap) = opened().await;
    publish_at(&queue, start, [10]);

    assert_eq!(decode(&tap.next().await.unwrap())[0].id, "1");
    assert_eq!(start.elapsed(), Duration::from_secs(10));
    assert_eq!(tap.next().await.unwrap(), PING);
    assert_eq!(start.elapsed(), Duration::from_secs(25), "no ping at 15 s");
}

#[tokio::test(start_paused = true)]
async fn no_ping_while_events_flow() {
    let (queue, hook, start, mut tap) = opened().await;
    publish_at(&queue, start, (1..=12).map(|n| 5 * n));

    for n in 1..=12_u64 {
        let chunk = tap.next().await.unwrap();
        assert_ne!(
            chunk,
            PING,
            "ping while events flow, at {:?}",
            start.elapsed()
        );
        assert_eq!(decode(&chunk)[0].id, n.to_string());
        assert_eq!(start.elapsed(), Duration::from_secs(5 * n));
    }
    assert_eq!(tap.next().await.unwrap(), PING);
    assert_eq!(start.elapsed(), Duration::from_secs(75));
    drop(tap);
    assert_eq!(hook.only().events, 12);
}

#[tokio::test(start_paused = true)]
async fn a_stream_taken_over_by_another_task_still_pings_on_time() {
    let (_queue, _hook, start, mut tap) = opened().await;
    // Polled once here and found idle: the sleep now holds this task's waker.
    let idle = std::future::poll_fn(|cx| {
        std::task::Poll::Ready(tap.stream.as_mut().poll_next(cx).is_pending())
    })
    .await;
    assert!(idle);

    // Another task polls it from now on; only that task's waker can bring the ping.
    let other = tokio::spawn(async move {
        let ping = tap.next().await.unwrap();
        (ping, start.elapsed())
    });
    let (ping, at) = tokio::time::timeout(Duration::from_secs(60), other)
        .await
        .expect("a ping within a minute")
        .unwrap();
    assert_eq!(ping, PING);
    assert_eq!(at, Duration::from_secs(15));
}

#[tokio::test(start_paused = true)]
async fn a_sleep_that_ends_while_frames_are_sent_moves_to_the_last_one() {
    let (queue, _hook, start, mut tap) = opened().await;
    // Events at 14 s and 16 s: the sleep set for 15 s ends in between, and the next
    // ping is due 15 s after the last event, at 31 s.
    publish_at(&queue, start, [14, 16]);
    for id in ["1", "2"] {
        assert_eq!(decode(&tap.next().await.unwrap())[0].id, id);
    }
    assert_eq!(start.elapsed(), Duration::from_secs(16));
    assert_eq!(tap.next().await.unwrap(), PING);
    assert_eq!(start.elapsed(), Duration::from_secs(31));
}

/// An unfiltered stream with a liveness probe, its preamble read.
async fn probed(
    keep_alive: Duration,
    probe: Duration,
) -> (A2aEventQueue, Disconnects, Instant, Tap) {
    let queue = A2aEventQueue::new();
    let hook = Disconnects::new();
    let sub = queue.subscribe(SubscribeRequest::all()).unwrap();
    let options = StreamOptions {
        keep_alive,
        retry: DEFAULT_RETRY,
        probe: Some(probe),
        lifetime: None,
    };
    let start = Instant::now();
    let mut tap = open_with(sub, options, &hook);
    tap.next().await.unwrap();
    (queue, hook, start, tap)
}

#[tokio::test(start_paused = true)]
async fn a_probe_after_each_idle_interval_on_the_same_timer() {
    let probe = Duration::from_millis(250);
    let (queue, hook, start, mut tap) = probed(Duration::from_secs(60), probe).await;
    assert_eq!(tap.next().await.unwrap(), PROBE);
    assert_eq!(start.elapsed(), probe);
    // An event restarts the clock; the probe keeps the connection busy, so no ping.
    tokio::time::sleep(probe / 2).await;
    publish(&queue, &plan("p"), TaskState::Working);
    assert_eq!(decode(&tap.next().await.unwrap())[0].id, "1");
    let sent = Instant::now();
    for _ in 0..4 {
        assert_eq!(tap.next().await.unwrap(), PROBE);
    }
    assert_eq!(sent.elapsed(), probe * 4);
    let bytes = tap.bytes();
    drop(tap);
    assert_eq!(
        hook.only().bytes,
        bytes,
        "probes are counted like any byte sent"
    );
}

#[tokio::test(start_paused = true)]
async fn a_keep_alive_shorter_than_the_probe_leaves_nothing_to_probe() {
    let (_queue, _hook, start, mut tap) =
        probed(Duration::from_millis(100), Duration::from_millis(250)).await;
    for _ in 0..5 {
        assert_eq!(tap.next().await.unwrap(), PING);
    }
    assert_eq!(start.elapsed(), Duration::from_millis(500));
}
