//! Restarts of a real `redis-server`, and what resuming clients get across them: nothing
//! again and no `reset` when Redis lost nothing (its durability detected), a `reset` and
//! only what follows the client's id when it did.

mod support;

use std::time::Duration;

use a2a_events::{EventId, ResetNotice, SubscribeRequest, SubscriptionEnd, SubscriptionItem};
use a2a_events_redis::{Durability, RedisBackend, RedisConfig};
use futures_util::StreamExt;
use support::{PATIENCE, config, next, next_ids, stays_quiet, working};

/// Two replicas' configurations on `url`, sharing one prefix.
fn replicas(url: &str) -> (RedisConfig, RedisConfig) {
    let one = config(url);
    let mut two = config(url);
    two.prefix.clone_from(&one.prefix);
    (one, two)
}

/// Publishes `count` events, every `pace`, alternately through `a` and `b`; their ids.
/// Each carries an idempotency key of its own (`label` and its number).
async fn publish_alternately(
    (a, b): (&RedisBackend, &RedisBackend),
    label: &str,
    count: usize,
    pace: Duration,
) -> Vec<EventId> {
    let mut ids = Vec::with_capacity(count);
    for n in 0..count {
        let through = if n % 2 == 0 { a } else { b };
        let began = tokio::time::Instant::now();
        // Right after a restart Redis may still be loading: retried with the same key.
        let key = format!("{label}-{n}");
        let id = loop {
            match through.publish(working("p").idempotency_key(&key)).await {
                Ok(id) => break id,
                Err(_) if began.elapsed() < PATIENCE => {
                    tokio::time::sleep(Duration::from_millis(20)).await;
                }
                Err(error) => panic!("publish {n}: {error}"),
            }
        };
        ids.push(id);
        tokio::time::sleep(pace).await;
    }
    ids
}

/// What a client that had every event up to `after` gets when it resumes on `backend`:
/// it must be exactly `expected`, with no `reset` and nothing after it.
async fn resumes_exactly(backend: &RedisBackend, after: EventId, expected: &[EventId]) {
    let mut resumed = backend
        .subscribe(SubscribeRequest::all().after(after))
        .await
        .unwrap();
    let first = next(&mut resumed).await;
    assert!(
        matches!(&first, Some(SubscriptionItem::Event(e)) if e.id() == expected[0]),
        "resuming after {after}: expected {} first, got {first:?}",
        expected[0]
    );
    assert_eq!(
        next_ids(&mut resumed, expected.len() - 1).await,
        expected[1..]
    );
    assert!(stays_quiet(&mut resumed, Duration::from_millis(200)).await);
}

/// Redis with `appendonly yes` and `appendfsync always`, SIGKILLed and restarted on the
/// same port and directory: with the default configuration the backend finds out that
/// nothing acknowledged can be lost, keeps the epoch, and a client resuming with an id
/// Redis still holds gets exactly the events after it, on either replica.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restart_that_lost_nothing_keeps_the_epoch_and_resumes_without_reset() {
    let mut server = redis_server!("--appendonly", "yes", "--appendfsync", "always");
    let (one, two) = replicas(&server.url());
    assert_eq!(one.durability, Durability::Auto, "the default");
    let a = RedisBackend::connect(one).await.unwrap();
    let b = RedisBackend::connect(two).await.unwrap();
    assert!(a.restarts_keep_epoch() && b.restarts_keep_epoch());
    let mut open = b.subscribe(SubscribeRequest::all()).await.unwrap();
    let before = publish_alternately((&a, &b), "before", 60, Duration::from_millis(5)).await;
    let epoch = before[0].epoch();

    server.kill();
    tokio::time::sleep(Duration::from_millis(500)).await;
    server.restart();
    let after = publish_alternately((&a, &b), "after", 10, Duration::from_millis(5)).await;
    let all: Vec<EventId> = before.iter().chain(&after).copied().collect();
    let sequences: Vec<u64> = all.iter().map(|id| id.sequence()).collect();
    assert_eq!(sequences, (1..=70).collect::<Vec<_>>(), "{all:?}");
    assert!(
        all.iter().all(|id| id.epoch() == epoch),
        "one epoch: {all:?}"
    );

    // A stream open across the restart goes on: the reader saw no discontinuity.
    assert_eq!(next_ids(&mut open, 70).await, all);
    let requested = EventId::from_parts(epoch, 55);
    resumes_exactly(&a, requested, &all[55..]).await;
    resumes_exactly(&b, requested, &all[55..]).await;
}

/// A restart the backend is told may lose data ([`Durability::Lossy`]) starts a new
/// epoch, although the append-only file kept everything: the client's id is of the old
/// epoch, so it gets a `reset`, then the rest of its epoch and the new one: never an
/// event at or before the id it sent.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reset_after_a_new_epoch_replays_only_what_follows_the_requested_id() {
    let mut server = redis_server!("--appendonly", "yes", "--appendfsync", "always");
    let (mut one, mut two) = replicas(&server.url());
    one.durability = Durability::Lossy;
    two.durability = Durability::Lossy;
    let a = RedisBackend::connect(one).await.unwrap();
    let b = RedisBackend::connect(two).await.unwrap();
    assert!(!a.restarts_keep_epoch());
    let before = publish_alternately((&a, &b), "before", 60, Duration::ZERO).await;
    let old = before[0].epoch();
    server.kill();
    server.restart();
    let after = publish_alternately((&a, &b), "after", 5, Duration::ZERO).await;
    assert!(after[0].epoch() > old, "a new epoch: {after:?}");
    assert_eq!(after[0].sequence(), 1);

    let requested = EventId::from_parts(old, 55);
    let mut resumed = a
        .subscribe(SubscribeRequest::all().after(requested))
        .await
        .unwrap();
    let reset = ResetNotice::new(requested, Some(before[0]));
    assert!(
        matches!(next(&mut resumed).await, Some(SubscriptionItem::Reset(r)) if r == reset),
        "a reset naming the oldest retained id"
    );
    let rest: Vec<EventId> = before[55..].iter().chain(&after).copied().collect();
    assert_eq!(next_ids(&mut resumed, rest.len()).await, rest);
    assert!(stays_quiet(&mut resumed, Duration::from_millis(200)).await);
}

/// Redis that really lost its data (`FLUSHALL`) still gets its clients a `reset`, then
/// the events stored since, never one from before.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_real_loss_still_resets_and_replays_only_what_follows() {
    let server = redis_server!("--appendonly", "yes", "--appendfsync", "always");
    let (one, two) = replicas(&server.url());
    let a = RedisBackend::connect(one).await.unwrap();
    let b = RedisBackend::connect(two).await.unwrap();
    assert!(
        a.restarts_keep_epoch(),
        "durable: the loss is not a restart's"
    );
    let mut open = a.subscribe(SubscribeRequest::all()).await.unwrap();
    let before = publish_alternately((&a, &b), "before", 60, Duration::ZERO).await;
    assert_eq!(next_ids(&mut open, 60).await, before);
    let _: () = redis::cmd("FLUSHALL")
        .query(&mut server.connection())
        .unwrap();
    let after = publish_alternately((&a, &b), "after", 5, Duration::ZERO).await;
    assert!(after[0].epoch() > before[0].epoch(), "a new epoch");
    // The open stream saw the new epoch: it ends as lagged, naming what it delivered.
    let lagged = tokio::time::timeout(PATIENCE, open.next()).await.unwrap();
    assert!(
        matches!(
            &lagged,
            Some(SubscriptionItem::End(SubscriptionEnd::Lagged(n))) if n.last_delivered == Some(before[59])
        ),
        "{lagged:?}"
    );

    let requested = before[54];
    let mut resumed = b
        .subscribe(SubscribeRequest::all().after(requested))
        .await
        .unwrap();
    let reset = ResetNotice::new(requested, Some(after[0]));
    assert!(matches!(next(&mut resumed).await, Some(SubscriptionItem::Reset(r)) if r == reset));
    assert_eq!(next_ids(&mut resumed, 5).await, after);
    assert!(stays_quiet(&mut resumed, Duration::from_millis(200)).await);
}

/// Where `CONFIG` is not allowed (as on managed services), the backend cannot tell, and
/// takes the server as lossy.
#[tokio::test]
async fn durability_is_lossy_when_config_is_not_allowed() {
    let server = redis_server!("--appendonly", "yes", "--appendfsync", "always");
    let mut conn = server.connection();
    let _: () = redis::cmd("ACL")
        .arg("SETUSER")
        .arg("app")
        .arg("on")
        .arg(">secret")
        .arg("~*")
        .arg("&*")
        .arg("+@all")
        .arg("-config")
        .query(&mut conn)
        .unwrap();
    let url = format!("redis://app:secret@127.0.0.1:{}/", server.port());
    let redis = RedisBackend::connect(config(&url)).await.unwrap();
    assert!(!redis.restarts_keep_epoch());
    assert!(redis.publish(working("p")).await.is_ok());
    // The same server, CONFIG allowed: durable.
    let trusted = RedisBackend::connect(config(&server.url())).await.unwrap();
    assert!(trusted.restarts_keep_epoch());
    // A server without the append-only file is not.
    let plain = redis_server!();
    let lossy = RedisBackend::connect(config(&plain.url())).await.unwrap();
    assert!(!lossy.restarts_keep_epoch());
}
