//! What the Redis tests share: a `redis-server` of their own on a free loopback port, in a
//! temporary directory, stopped (by its own pid) when dropped; a backend configuration
//! with short timings; and small event and stream helpers.
//!
//! Without `redis-server` a test is skipped, loudly, unless `CI=true`: there it fails.

#![allow(dead_code, unreachable_pub)] // each test file uses its own part of it

pub mod agent;
pub mod proxy;

use std::time::{Duration, Instant};

use a2a_events::{
    A2aEvent, EventId, EventPayload, NewEvent, SubscriptionItem, TaskArtifactUpdateEvent, TaskState,
};
use a2a_events_redis::{RedisBackend, RedisConfig};
use futures_util::StreamExt;

/// How long anything expected may take on a loaded machine.
pub const PATIENCE: Duration = Duration::from_secs(10);

/// Starts a `redis-server` for this test, or skips the test (`return`s from it) when none
/// is installed outside CI.
#[macro_export]
macro_rules! redis_server {
    ($($arg:expr),* $(,)?) => {
        match $crate::support::RedisServer::start(&[$($arg),*]) {
            Some(server) => server,
            None => return,
        }
    };
}

pub use a2a_sse_testkit::redis_server::RedisServer;

/// A configuration for `url` with timings short enough for tests, a prefix and
/// connection names of its own.
pub fn config(url: &str) -> RedisConfig {
    a2a_sse_testkit::redis_server::test_config(url)
}

/// A backend on `server` with the test configuration.
pub async fn backend(server: &RedisServer) -> RedisBackend {
    RedisBackend::connect(config(&server.url()))
        .await
        .expect("connect")
}

// The test kit's event builders: a status update stamped with a fixed time, a plan id.
pub use a2a_sse_testkit::events::{plan, status};

pub fn working(plan_name: &str) -> NewEvent {
    status(plan_name, TaskState::Working)
}

pub fn done(plan_name: &str) -> NewEvent {
    status(plan_name, TaskState::Completed)
}

pub fn chunk(plan_name: &str, text: &str, append: bool) -> NewEvent {
    NewEvent::new(
        plan(plan_name),
        EventPayload::ArtifactUpdate(TaskArtifactUpdateEvent {
            task_id: plan_name.into(),
            context_id: "ctx".into(),
            artifact: a2a_events::Artifact {
                artifact_id: "a".into(),
                name: None,
                description: None,
                parts: vec![a2a_events::Part::text(text)],
                metadata: None,
            },
            append: Some(append),
            last_chunk: None,
            metadata: None,
        }),
    )
}

/// The next item, within [`PATIENCE`].
pub async fn next<S>(stream: &mut S) -> Option<SubscriptionItem>
where
    S: futures_util::Stream<Item = SubscriptionItem> + Unpin,
{
    tokio::time::timeout(PATIENCE, stream.next())
        .await
        .expect("an item in time")
}

/// The id of the next item, which must be an event.
pub async fn next_id<S>(stream: &mut S) -> EventId
where
    S: futures_util::Stream<Item = SubscriptionItem> + Unpin,
{
    match next(stream).await {
        Some(SubscriptionItem::Event(event)) => event.id(),
        other => panic!("expected an event, got {other:?}"),
    }
}

/// The ids of the next `count` items, which must be events.
pub async fn next_ids<S>(stream: &mut S, count: usize) -> Vec<EventId>
where
    S: futures_util::Stream<Item = SubscriptionItem> + Unpin,
{
    let mut ids = Vec::with_capacity(count);
    for _ in 0..count {
        ids.push(next_id(stream).await);
    }
    ids
}

/// Whether nothing arrives on `stream` for `quiet`.
pub async fn stays_quiet<S>(stream: &mut S, quiet: Duration) -> bool
where
    S: futures_util::Stream<Item = SubscriptionItem> + Unpin,
{
    tokio::time::timeout(quiet, stream.next()).await.is_err()
}

/// The event's JSON, read back.
pub fn event_of(item: &SubscriptionItem) -> A2aEvent {
    match item {
        SubscriptionItem::Event(event) => event.to_event().unwrap(),
        other => panic!("expected an event, got {other:?}"),
    }
}

/// Waits until `done` holds, for at most [`PATIENCE`].
pub async fn eventually(mut done: impl FnMut() -> bool) -> bool {
    let began = Instant::now();
    while began.elapsed() < PATIENCE {
        if done() {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    done()
}
