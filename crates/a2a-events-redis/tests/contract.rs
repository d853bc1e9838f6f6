//! The backend contract (`a2a_sse_testkit::backend_contract`, the cases the in-memory
//! queue runs too), held by the Redis backend against a real `redis-server`; then what only
//! the Redis backend has: ids of other epochs, paged replays, task snapshots folded as the
//! queue folds them, idempotent retries, expiry and trimming, connection checks, foreign
//! entries, closing's Redis side.

mod support;

a2a_sse_testkit::backend_contract!(match a2a_sse_testkit::backend_contract::Redis::start() {
    Some(redis) => redis,
    None => return,
});

use std::time::Duration;

use a2a_events::{
    A2aEventQueue, EventBackend, EventId, ResetNotice, SubscribeError, SubscribeRequest,
    SubscriptionEnd, SubscriptionItem, TaskState,
};
use a2a_events_redis::{ConfigError, ConnectError, Durability, RedisBackend, RedisConfig, Trim};
use redis::Commands;
use support::{
    backend, chunk, config, done, event_of, next, next_id, next_ids, plan, status, stays_quiet,
    working,
};

/// An id of another epoch (an in-memory queue's, or one from before Redis lost its data)
/// is reset, and followed by the retained events after it: for an older epoch, all of the
/// newer one.
#[tokio::test]
async fn a_resume_of_another_epoch_is_reset() {
    let server = redis_server!();
    let mut settings = config(&server.url());
    settings.history_events = 3;
    settings.trim = Trim::Exact;
    let redis = RedisBackend::connect(settings).await.unwrap();
    let mut ids = Vec::new();
    for _ in 0..6 {
        ids.push(redis.publish(working("p")).await.unwrap());
    }
    let older = EventId::from_parts(ids[0].epoch() - 1, 99);
    for stranger in [EventId::new(4), older] {
        let mut sub = redis
            .subscribe(SubscribeRequest::all().after(stranger))
            .await
            .unwrap();
        let reset = ResetNotice::new(stranger, Some(ids[3]));
        assert!(matches!(next(&mut sub).await, Some(SubscriptionItem::Reset(r)) if r == reset));
        assert_eq!(next_ids(&mut sub, 3).await, ids[3..]);
        assert!(stays_quiet(&mut sub, Duration::from_millis(100)).await);
    }
}

#[tokio::test]
async fn a_long_replay_is_read_page_by_page() {
    let server = redis_server!();
    let mut settings = config(&server.url());
    settings.read_batch = 4;
    let redis = RedisBackend::connect(settings).await.unwrap();
    let mut ids = Vec::new();
    for n in 0..21 {
        let name = if n % 3 == 0 { "mine" } else { "other" };
        ids.push((redis.publish(working(name)).await.unwrap(), name));
    }
    let after = ids[0].0;
    let mut mine = redis
        .subscribe(SubscribeRequest::plan(plan("mine")).after(after))
        .await
        .unwrap();
    let expected: Vec<_> = ids[1..]
        .iter()
        .filter(|(_, name)| *name == "mine")
        .map(|(id, _)| *id)
        .collect();
    assert_eq!(next_ids(&mut mine, expected.len()).await, expected);
    let mut everything = redis
        .subscribe(SubscribeRequest::all().after(after))
        .await
        .unwrap();
    // Every page was read before the stream was handed out.
    assert_eq!(futures_util::Stream::size_hint(&everything), (20, None));
    assert_eq!(next_ids(&mut everything, 20).await.len(), 20);
    redis.close();
    assert!(matches!(
        next(&mut everything).await,
        Some(SubscriptionItem::End(SubscriptionEnd::Closed))
    ));
    assert!(futures_util::stream::FusedStream::is_terminated(
        &everything
    ));
    assert_eq!(futures_util::Stream::size_hint(&everything), (0, Some(0)));
}

#[tokio::test]
async fn tasks_are_folded_as_the_in_memory_queue_folds_them() {
    let server = redis_server!();
    let redis = backend(&server).await;
    let queue = A2aEventQueue::new();
    let events = [
        status("p", TaskState::Submitted),
        chunk("p", "one ", false),
        chunk("p", "two", true),
        working("p"),
        done("p"),
    ];
    for event in events {
        redis.publish(event.clone()).await.unwrap();
        queue.publish(event).unwrap();
    }
    let from_redis = redis.task(&plan("p")).await.unwrap().unwrap();
    let from_queue = queue.task(&plan("p")).unwrap();
    assert_eq!(from_redis.task, from_queue.task);
    assert_eq!(
        from_redis.as_of,
        redis.terminal_event(&plan("p")).await.unwrap().unwrap()
    );
    let shared: &dyn EventBackend = &redis;
    assert!(shared.task(&plan("nobody")).await.unwrap().is_none());
}

#[tokio::test]
async fn a_publish_retried_with_its_key_is_stored_once() {
    let server = redis_server!();
    let redis = backend(&server).await;
    let mut all = redis.subscribe(SubscribeRequest::all()).await.unwrap();
    let keyed = working("p").idempotency_key("retry-1");
    let id = redis.publish(keyed.clone()).await.unwrap();
    assert_eq!(
        redis.publish(keyed).await.unwrap(),
        id,
        "the first id, again"
    );
    // The key belongs to its plan only, and a retried terminal publish gets its id, not
    // a refusal.
    let other = redis
        .publish(working("q").idempotency_key("retry-1"))
        .await
        .unwrap();
    let end = done("p").idempotency_key("end");
    let terminal = redis.publish(end.clone()).await.unwrap();
    assert_eq!(redis.publish(end).await.unwrap(), terminal);
    assert_eq!(next_ids(&mut all, 3).await, [id, other, terminal]);
    assert!(stays_quiet(&mut all, Duration::from_millis(100)).await);
}

#[tokio::test]
async fn finished_plans_expire_and_history_stays_trimmed() {
    let server = redis_server!();
    let mut settings = config(&server.url());
    settings.history_events = 100;
    settings.finished_ttl = Duration::from_secs(30);
    settings.running_ttl = Some(Duration::from_secs(300));
    let prefix = settings.prefix.clone();
    let redis = RedisBackend::connect(settings).await.unwrap();
    for _ in 0..2_000 {
        redis.publish(working("running")).await.unwrap();
    }
    redis
        .publish(working("short").idempotency_key("k"))
        .await
        .unwrap();
    redis.publish(done("short")).await.unwrap();
    let mut conn = server.connection();
    let len: usize = conn.xlen(format!("{prefix}:log")).unwrap();
    assert!((100..=250).contains(&len), "about 100 kept, {len}");
    let ttl = |conn: &mut redis::Connection, key: String| -> i64 { conn.ttl(key).unwrap() };
    let finished = ttl(&mut conn, format!("{prefix}:plan:short"));
    assert!((1..=30).contains(&finished), "{finished}");
    let events = ttl(&mut conn, format!("{prefix}:plan:short:events"));
    assert!((1..=30).contains(&events), "{events}");
    let running = ttl(&mut conn, format!("{prefix}:plan:running:events"));
    assert!((31..=300).contains(&running), "{running}");
    let meta = ttl(&mut conn, format!("{prefix}:meta"));
    assert_eq!(meta, -1, "meta never expires");

    // Kept for good: no expiry on a finished plan, and a running TTL dropped.
    let mut forever = config(&server.url());
    forever.finished_ttl = Duration::ZERO;
    forever.running_ttl = None;
    let prefix = forever.prefix.clone();
    let redis = RedisBackend::connect(forever).await.unwrap();
    redis.publish(working("p")).await.unwrap();
    redis.publish(done("p")).await.unwrap();
    assert_eq!(ttl(&mut conn, format!("{prefix}:plan:p")), -1);
    assert_eq!(ttl(&mut conn, format!("{prefix}:plan:p:events")), -1);
}

/// A task whose keys expired is forgotten: `GetTask` and `ListTasks` no longer know it,
/// and the list takes it out of the task index on the way.
#[tokio::test]
async fn an_expired_task_leaves_the_list_and_the_index() {
    let server = redis_server!();
    let mut settings = config(&server.url());
    settings.finished_ttl = Duration::from_secs(1);
    let prefix = settings.prefix.clone();
    let redis = RedisBackend::connect(settings).await.unwrap();
    redis.publish(working("kept")).await.unwrap();
    redis.publish(working("gone")).await.unwrap();
    redis.publish(done("gone")).await.unwrap();
    let all = || a2a_events::TaskQuery::all(10);
    assert_eq!(redis.list_tasks(&all()).await.unwrap().total, 2);
    let mut conn = server.connection();
    let index = format!("{prefix}:tasks");
    let forgotten = a2a_sse_testkit::eventually_blocking(Duration::from_secs(5), || {
        conn.exists::<_, bool>(format!("{prefix}:plan:gone")) == Ok(false)
    });
    assert!(forgotten, "the finished plan's keys expired");
    assert_eq!(conn.zcard::<_, usize>(&index).unwrap(), 2, "still indexed");
    let page = redis.list_tasks(&all()).await.unwrap();
    let listed: Vec<&str> = page.tasks.iter().map(|t| t.task.id.as_str()).collect();
    assert_eq!((listed, page.total), (vec!["kept"], 1));
    assert_eq!(
        conn.zcard::<_, usize>(&index).unwrap(),
        1,
        "taken out of the index"
    );
    assert_eq!(redis.task(&plan("gone")).await.unwrap(), None);
    assert_eq!(redis.task_state(&plan("gone")).await.unwrap(), None);
}

/// Closing refuses `GetTask` too, and dropping the last handle closes the backend.
#[tokio::test]
async fn closing_refuses_tasks_and_dropping_the_last_handle_closes() {
    let server = redis_server!();
    let redis = backend(&server).await;
    redis.publish(working("p")).await.unwrap();
    let shared: &dyn EventBackend = &redis;
    shared.close();
    assert!(redis.is_closed());
    assert_eq!(
        redis.task(&plan("p")).await.unwrap_err(),
        SubscribeError::Closed
    );
    assert_eq!(
        shared.task_state(&plan("p")).await.unwrap_err(),
        SubscribeError::Closed
    );

    let other = backend(&server).await;
    let mut stream = other.subscribe(SubscribeRequest::all()).await.unwrap();
    drop(other);
    assert!(matches!(
        next(&mut stream).await,
        Some(SubscriptionItem::End(SubscriptionEnd::Closed))
    ));
}

#[tokio::test]
async fn connecting_checks_the_configuration_and_the_server() {
    let server = redis_server!();
    let mut bad = config(&server.url());
    bad.history_events = 0;
    assert_eq!(
        RedisBackend::connect(bad).await.err(),
        Some(ConnectError::Config(ConfigError::HistoryEvents))
    );
    let not_a_url = RedisConfig::new("http://example.invalid/");
    assert_eq!(
        RedisBackend::connect(not_a_url).await.err(),
        Some(ConnectError::Config(ConfigError::Url))
    );
    let nobody = config("redis://127.0.0.1:1/");
    assert!(matches!(
        RedisBackend::connect(nobody).await,
        Err(ConnectError::Backend(_))
    ));
    // This server does not fsync: FsyncAlways is refused.
    let mut durable = config(&server.url());
    durable.durability = Durability::FsyncAlways;
    assert_eq!(
        RedisBackend::connect(durable).await.err(),
        Some(ConnectError::Config(ConfigError::NotDurable))
    );
}

#[tokio::test]
async fn entries_that_are_no_events_are_skipped_and_a_bad_task_is_an_error() {
    let server = redis_server!();
    let settings = config(&server.url());
    let prefix = settings.prefix.clone();
    let redis = RedisBackend::connect(settings).await.unwrap();
    let mut all = redis.subscribe(SubscribeRequest::all()).await.unwrap();
    let first = redis.publish(working("p")).await.unwrap();
    // Something else writes the next entry of the stream, and garbage into a task.
    let mut conn = server.connection();
    let next_entry = format!("{}-{}", first.epoch(), first.sequence() + 1);
    let _: String = redis::cmd("XADD")
        .arg(format!("{prefix}:log"))
        .arg(&next_entry)
        .arg("p")
        .arg("p")
        .arg("j")
        .arg("{")
        .query(&mut conn)
        .unwrap();
    let _: () = redis::cmd("HSET")
        .arg(format!("{prefix}:meta"))
        .arg("seq")
        .arg(first.sequence() + 1)
        .query(&mut conn)
        .unwrap();
    let _: () = conn.rpush(format!("{prefix}:plan:p:events"), "{").unwrap();
    let third = redis.publish(working("p")).await.unwrap();
    assert_eq!(next_ids(&mut all, 2).await, [first, third]);
    let mut replay = redis
        .subscribe(SubscribeRequest::all().after(first))
        .await
        .unwrap();
    assert_eq!(next_id(&mut replay).await, third);
    assert!(matches!(
        redis.task(&plan("p")).await,
        Err(SubscribeError::Backend(_))
    ));
    let snapshot = SubscribeRequest::plan(plan("p")).with_snapshot();
    assert!(matches!(
        redis.subscribe(snapshot).await,
        Err(SubscribeError::Backend(_))
    ));
}

#[tokio::test]
async fn events_keep_their_plan_kind_and_payload() {
    let server = redis_server!();
    let redis = backend(&server).await;
    let mut all = redis.subscribe(SubscribeRequest::all()).await.unwrap();
    let at = a2a_events::Timestamp::parse("2026-02-03T04:05:06.789Z").unwrap();
    let id = redis
        .publish(chunk("p", "hello", true).at(at))
        .await
        .unwrap();
    let item = next(&mut all).await.unwrap();
    let event = event_of(&item);
    assert_eq!(
        (event.id, event.plan_id, event.timestamp),
        (id, plan("p"), at)
    );
    assert_eq!(event.payload, chunk("p", "hello", true).payload);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_reader_connection_serves_a_thousand_local_subscribers() {
    let server = redis_server!();
    let settings = config(&server.url());
    let name = format!("{}-", settings.client_name);
    let redis = RedisBackend::connect(settings).await.unwrap();
    let mut one = redis
        .subscribe(SubscribeRequest::plan(plan("p")))
        .await
        .unwrap();
    let first = redis.publish(working("p")).await.unwrap();
    assert_eq!(next_id(&mut one).await, first);
    let with_one = server.clients_named(&name);

    let mut streams = vec![one];
    for n in 1..1000 {
        let request = if n % 2 == 0 {
            SubscribeRequest::plan(plan("p"))
        } else {
            SubscribeRequest::all()
        };
        streams.push(redis.subscribe(request).await.unwrap());
    }
    assert_eq!(redis.subscriber_count(), 1000);
    let mut published = Vec::new();
    for _ in 0..3 {
        published.push(redis.publish(working("p")).await.unwrap());
    }
    // Every subscriber, of the plan or of all plans, gets each event once, in order.
    for (n, stream) in streams.iter_mut().enumerate() {
        assert_eq!(next_ids(stream, 3).await, published, "subscriber {n}");
    }
    assert!(stays_quiet(&mut streams[999], Duration::from_millis(100)).await);
    let with_thousand = server.clients_named(&name);
    // One command connection and one reader, however many subscribers.
    assert_eq!(with_thousand.len(), 2, "{with_thousand:#?}");
    assert_eq!(with_thousand.len(), with_one.len());
    assert_eq!(
        with_thousand
            .iter()
            .filter(|line| line.contains(&format!("name={name}")) && line.contains("-reader "))
            .count(),
        1
    );
}

/// Leases live in Redis, on its clock: one that runs out is claimed by exactly one of two
/// replicas, a renewed or released one never is.
#[tokio::test]
async fn a_lease_that_runs_out_is_claimed_by_one_replica() {
    let server = redis_server!();
    // Two replicas of one deployment: one configuration, so one prefix.
    let shared = config(&server.url());
    let one = RedisBackend::connect(shared.clone()).await.unwrap();
    let two = RedisBackend::connect(shared).await.unwrap();
    let short = Duration::from_millis(60);
    one.hold(&plan("dead"), short).await.unwrap();
    one.hold(&plan("renewed"), short).await.unwrap();
    one.hold(&plan("done"), short).await.unwrap();
    one.release(&plan("done")).await.unwrap();
    tokio::time::sleep(short / 2).await;
    one.hold(&plan("renewed"), Duration::from_secs(30))
        .await
        .unwrap();
    tokio::time::sleep(short * 2).await;
    let (first, second) = tokio::join!(one.claim_expired(), two.claim_expired());
    let mut claimed = [first.unwrap(), second.unwrap()].concat();
    claimed.sort();
    assert_eq!(claimed, [plan("dead")]);
    assert!(one.claim_expired().await.unwrap().is_empty());
}

/// A push config's claim stays with the replica that renews it, and passes to another
/// once it was not renewed for the idle time (its replica died): a consumer group's
/// pending entries, taken over with `XAUTOCLAIM`.
#[tokio::test]
async fn a_push_claim_not_renewed_is_taken_over_by_another_replica() {
    use a2a_events::PushStore;
    let server = redis_server!();
    let shared = config(&server.url());
    let one = RedisBackend::connect(shared.clone()).await.unwrap();
    let two = RedisBackend::connect(shared).await.unwrap();
    let idle = Duration::from_millis(300);
    one.put(&plan("p"), "c", bytes::Bytes::from_static(b"{}"))
        .await
        .unwrap();
    let mine = one.claim("one", idle).await.unwrap();
    assert_eq!(mine.len(), 1);
    assert!(
        two.claim("two", idle).await.unwrap().is_empty(),
        "one delivers it"
    );
    for _ in 0..3 {
        tokio::time::sleep(idle / 2).await;
        one.renew("one", &mine).await.unwrap();
        assert!(two.claim("two", idle).await.unwrap().is_empty(), "renewed");
    }
    tokio::time::sleep(idle * 2).await;
    let taken = two.claim("two", idle).await.unwrap();
    assert_eq!(taken, mine, "taken over once one stopped renewing");
    two.finish(&taken[0]).await.unwrap();
    tokio::time::sleep(idle * 2).await;
    assert!(
        one.claim("one", idle).await.unwrap().is_empty(),
        "finished for good"
    );
}
