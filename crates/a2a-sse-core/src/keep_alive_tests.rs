//! `SseStream` keep-alive, on tokio's paused clock: time only moves when every task waits,
//! so the tests are instant and exact.

use std::time::Duration;

use a2a_events::{A2aEventQueue, TaskState};
use tokio::time::Instant;

use super::{PING, preamble};
use crate::service::DEFAULT_RETRY;
use crate::test_support::{Disconnects, decode, open_all, plan, publish};

#[tokio::test(start_paused = true)]
async fn a_ping_after_each_idle_interval() {
    let queue = A2aEventQueue::new();
    let hook = Disconnects::new();
    let start = Instant::now();
    let mut tap = open_all(&queue, &hook);
    tap.next().await.unwrap();
    for n in 1..=3 {
        assert_eq!(tap.next().await.unwrap(), PING);
        assert_eq!(start.elapsed(), Duration::from_secs(15 * n));
    }
    drop(tap);
    let info = hook.only();
    assert_eq!((info.events, info.bytes), (0, tap_bytes_of(3)));
}

/// Preamble plus `pings` keep-alives.
fn tap_bytes_of(pings: u64) -> u64 {
    preamble(DEFAULT_RETRY).len() as u64 + pings * PING.len() as u64
}

#[tokio::test(start_paused = true)]
async fn the_keep_alive_timer_restarts_after_each_frame() {
    let queue = A2aEventQueue::new();
    let hook = Disconnects::new();
    let start = Instant::now();
    let mut tap = open_all(&queue, &hook);
    tap.next().await.unwrap();
    let publisher = queue.clone();
    tokio::spawn(async move {
        tokio::time::sleep(Duration::from_secs(10)).await;
        publish(&publisher, &plan("p"), TaskState::Working);
    });

    assert_eq!(decode(&tap.next().await.unwrap())[0].id, "1");
    assert_eq!(start.elapsed(), Duration::from_secs(10));
    assert_eq!(tap.next().await.unwrap(), PING);
    assert_eq!(start.elapsed(), Duration::from_secs(25), "no ping at 15 s");
}

#[tokio::test(start_paused = true)]
async fn no_ping_while_events_flow() {
    let queue = A2aEventQueue::new();
    let hook = Disconnects::new();
    let start = Instant::now();
    let mut tap = open_all(&queue, &hook);
    tap.next().await.unwrap();
    let publisher = queue.clone();
    tokio::spawn(async move {
        for _ in 0..12 {
            tokio::time::sleep(Duration::from_secs(5)).await;
            publish(&publisher, &plan("p"), TaskState::Working);
        }
    });

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
