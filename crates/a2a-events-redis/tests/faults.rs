//! Faults, against a real `redis-server`: Redis unreachable, killed and restarted with
//! and without persistence, frozen, read-only or out of memory; a reader whose socket
//! stays open but delivers nothing.

mod support;

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use a2a_events::{
    BackendErrorKind, EventId, PublishError, SubscribeRequest, SubscriptionEnd, SubscriptionItem,
};
use a2a_events_redis::{Durability, RedisBackend, RedisSubscriptionStream};
use redis::Commands;
use support::proxy::Proxy;
use support::{PATIENCE, backend, config, eventually, next, next_id, plan, working};

/// The backend error of a refused publish.
fn refusal(result: Result<EventId, PublishError>) -> BackendErrorKind {
    match result {
        Err(PublishError::Backend(error)) => error.kind(),
        other => panic!("expected a backend error, got {other:?}"),
    }
}

/// Publishes until Redis takes it (it may be restarting), with the same key each time.
async fn publish_until_taken(redis: &RedisBackend, key: &str) -> EventId {
    let began = Instant::now();
    loop {
        match redis.publish(working("p").idempotency_key(key)).await {
            Ok(id) => return id,
            Err(PublishError::Backend(_)) if began.elapsed() < PATIENCE => {}
            Err(other) => panic!("publish {key}: {other}"),
        }
    }
}

/// Reads events until `stream` has delivered `count`, or ends; their ids.
async fn collect(stream: &mut RedisSubscriptionStream, count: usize) -> Vec<EventId> {
    let mut ids = Vec::new();
    while ids.len() < count {
        match next(stream).await {
            Some(SubscriptionItem::Event(event)) => ids.push(event.id()),
            other => panic!("after {} events: {other:?}", ids.len()),
        }
    }
    ids
}

#[tokio::test]
async fn publishing_while_redis_is_unreachable_is_refused_with_a_typed_error() {
    let mut server = redis_server!();
    let redis = backend(&server).await;
    redis.publish(working("p")).await.unwrap();
    server.kill();
    let began = Instant::now();
    let kind = refusal(redis.publish(working("p")).await);
    assert!(
        matches!(
            kind,
            BackendErrorKind::Unavailable | BackendErrorKind::Timeout
        ),
        "{kind:?}"
    );
    assert!(began.elapsed() < redis.config().publish_timeout + Duration::from_secs(1));
    // Refused at once: no attempt can have been applied.
    assert_eq!(
        refusal(redis.publish(working("p")).await),
        BackendErrorKind::Unavailable
    );
    assert!(
        redis
            .subscribe(SubscribeRequest::plan(plan("p")))
            .await
            .is_err()
    );
    assert!(redis.task(&plan("p")).await.is_err());
    assert!(redis.terminal_event(&plan("p")).await.is_err());
    assert!(eventually(|| !redis.reader_status().connected).await);
}

#[tokio::test]
async fn redis_killed_and_restarted_with_fsync_always_loses_nothing_and_repeats_nothing() {
    let mut server = redis_server!("--appendonly", "yes", "--appendfsync", "always");
    let settings = || {
        let mut settings = config(&server.url());
        settings.durability = Durability::FsyncAlways;
        settings
    };
    let mut one = settings();
    let two = {
        let mut two = settings();
        two.prefix.clone_from(&one.prefix);
        two
    };
    one.publish_timeout = Duration::from_millis(300);
    let a = RedisBackend::connect(one).await.unwrap();
    let b = RedisBackend::connect(two).await.unwrap();
    let mut streams = vec![
        a.subscribe(SubscribeRequest::all()).await.unwrap(),
        a.subscribe(SubscribeRequest::plan(plan("p")))
            .await
            .unwrap(),
        b.subscribe(SubscribeRequest::all()).await.unwrap(),
    ];
    let publisher = a.clone();
    let flow = tokio::spawn(async move {
        let mut outcomes = Vec::new();
        for n in 0..120 {
            let key = format!("event-{n}");
            let result = publisher.publish(working("p").idempotency_key(&key)).await;
            outcomes.push((key, result));
            tokio::time::sleep(Duration::from_millis(3)).await;
        }
        outcomes
    });
    tokio::time::sleep(Duration::from_millis(100)).await;
    server.kill();
    tokio::time::sleep(Duration::from_millis(400)).await;
    server.restart();
    let outcomes = flow.await.unwrap();
    let accepted: BTreeSet<EventId> = outcomes
        .iter()
        .filter_map(|(_, r)| r.clone().ok())
        .collect();
    let refused: Vec<&String> = outcomes
        .iter()
        .filter(|(_, r)| r.is_err())
        .map(|(key, _)| key)
        .collect();
    assert!(!refused.is_empty(), "the outage refused some publishes");
    for (_, result) in &outcomes {
        if let Err(error) = result {
            assert!(matches!(error, PublishError::Backend(_)), "{error}");
        }
    }
    // Each refused publish, retried with its key: stored once, whether or not the
    // refused attempt had been applied.
    let mut all = accepted.clone();
    for key in refused {
        assert!(
            all.insert(publish_until_taken(&a, key).await),
            "{key} twice"
        );
    }
    assert_eq!(all.len(), 120);
    let expected: Vec<EventId> = all.into_iter().collect();
    assert_eq!(expected[0].epoch(), expected[119].epoch(), "no new epoch");
    for stream in &mut streams {
        assert_eq!(collect(stream, 120).await, expected);
    }
}

#[tokio::test]
async fn redis_restarted_without_persistence_resets_its_clients_and_reuses_no_id() {
    let mut server = redis_server!();
    let redis = backend(&server).await;
    let mut live = redis
        .subscribe(SubscribeRequest::plan(plan("p")))
        .await
        .unwrap();
    let mut before = Vec::new();
    for n in 0..3 {
        before.push(publish_until_taken(&redis, &format!("before-{n}")).await);
    }
    assert_eq!(collect(&mut live, 3).await, before);
    server.kill();
    server.restart();
    let mut after = Vec::new();
    for n in 0..3 {
        after.push(publish_until_taken(&redis, &format!("after-{n}")).await);
    }
    // No silent gap: the live stream ends, naming what it delivered last.
    match next(&mut live).await {
        Some(SubscriptionItem::End(SubscriptionEnd::Lagged(notice))) => {
            assert_eq!(notice.last_delivered, Some(before[2]));
        }
        other => panic!("expected the stream to end as lagged, got {other:?}"),
    }
    // A new epoch above the old one: no id given twice.
    assert!(after[0].epoch() > before[2].epoch());
    assert!(after.iter().all(|id| !before.contains(id)));
    assert!(after[0] > before[2]);
    // The client resumes and is told that history was reset.
    let mut resumed = redis
        .subscribe(SubscribeRequest::plan(plan("p")).after(before[2]))
        .await
        .unwrap();
    match next(&mut resumed).await {
        Some(SubscriptionItem::Reset(reset)) => {
            assert_eq!(reset.requested, before[2]);
            assert_eq!(reset.oldest_retained, Some(after[0]));
        }
        other => panic!("expected a reset, got {other:?}"),
    }
    assert_eq!(collect(&mut resumed, 3).await, after);
}

#[tokio::test]
async fn a_lossy_backend_starts_a_new_epoch_after_any_restart() {
    let mut server = redis_server!("--appendonly", "yes", "--appendfsync", "always");
    // Told so explicitly: detected, this server would keep the epoch.
    let mut settings = config(&server.url());
    settings.durability = Durability::Lossy;
    let redis = RedisBackend::connect(settings).await.unwrap();
    let first = publish_until_taken(&redis, "first").await;
    server.kill();
    server.restart();
    let second = publish_until_taken(&redis, "second").await;
    assert!(second.epoch() > first.epoch(), "{first} then {second}");
    assert_eq!(second.sequence(), 1);
    // The retried first publish survived the restart, and keeps its id.
    assert_eq!(publish_until_taken(&redis, "first").await, first);
}

#[tokio::test]
async fn a_reader_that_receives_nothing_is_restarted_by_the_probe() {
    let server = redis_server!();
    let proxy = Proxy::start(server.port(), b"-reader").await;
    let mut settings = config(&proxy.url());
    // Long enough that only the probe, not the response timeout, can find it in time.
    settings.block = Duration::from_secs(20);
    let prefix = settings.prefix.clone();
    let watched = RedisBackend::connect(settings).await.unwrap();
    let mut direct = config(&server.url());
    direct.prefix = prefix;
    let publisher = RedisBackend::connect(direct).await.unwrap();
    let mut stream = watched.subscribe(SubscribeRequest::all()).await.unwrap();
    let first = publisher.publish(working("p")).await.unwrap();
    assert_eq!(next_id(&mut stream).await, first);
    assert_eq!(
        proxy.freeze_marked(),
        1,
        "the reader's connection, black-holed"
    );
    let began = Instant::now();
    let second = publisher.publish(working("p")).await.unwrap();
    assert_eq!(next_id(&mut stream).await, second);
    assert!(
        began.elapsed() < Duration::from_secs(5),
        "{:?}",
        began.elapsed()
    );
    assert_eq!(watched.reader_status().reconnects, 1);
}

#[tokio::test]
async fn a_publish_that_timed_out_on_a_frozen_server_is_stored_once_when_retried() {
    let server = redis_server!();
    let redis = backend(&server).await;
    let mut stream = redis.subscribe(SubscribeRequest::all()).await.unwrap();
    server.freeze(true);
    let timed_out = redis.publish(working("p").idempotency_key("k")).await;
    let kind = refusal(timed_out);
    assert_eq!(kind, BackendErrorKind::Timeout, "the outcome is unknown");
    server.freeze(false);
    let id = publish_until_taken(&redis, "k").await;
    assert_eq!(next_id(&mut stream).await, id);
    let mut conn = server.connection();
    let prefix = &redis.config().prefix;
    let stored: usize = conn.xlen(format!("{prefix}:log")).unwrap();
    assert_eq!(stored, 1, "applied once, however often it was sent");
}

#[tokio::test]
async fn a_read_only_or_full_redis_refuses_publishes() {
    let server = redis_server!();
    let redis = backend(&server).await;
    let mut conn = server.connection();
    // A replica of nobody: read-only. Retried until the deadline, then unavailable.
    let _: () = redis::cmd("REPLICAOF")
        .arg("127.0.0.1")
        .arg(1)
        .query(&mut conn)
        .unwrap();
    assert_eq!(
        refusal(redis.publish(working("p")).await),
        BackendErrorKind::Unavailable
    );
    let _: () = redis::cmd("REPLICAOF")
        .arg("NO")
        .arg("ONE")
        .query(&mut conn)
        .unwrap();
    // Over maxmemory with noeviction: refused at once, nothing written.
    let _: () = redis::cmd("CONFIG")
        .arg("SET")
        .arg("maxmemory")
        .arg(1)
        .query(&mut conn)
        .unwrap();
    let began = Instant::now();
    assert_eq!(
        refusal(redis.publish(working("p")).await),
        BackendErrorKind::Unavailable
    );
    assert!(began.elapsed() < Duration::from_millis(500));
    let _: () = redis::cmd("CONFIG")
        .arg("SET")
        .arg("maxmemory")
        .arg(0)
        .query(&mut conn)
        .unwrap();
    assert!(redis.publish(working("p")).await.is_ok());
}

#[tokio::test]
async fn fsync_always_is_trusted_when_config_get_is_not_allowed() {
    let server = redis_server!();
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
    let mut settings = config(&url);
    settings.durability = Durability::FsyncAlways;
    let redis = RedisBackend::connect(settings).await.unwrap();
    assert!(redis.publish(working("p")).await.is_ok());
}
