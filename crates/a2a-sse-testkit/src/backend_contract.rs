//! The contract every [`EventBackend`] keeps, as one suite of cases that run against any
//! backend a [`Factory`] makes: publish order and the plan filter, replay then live with
//! nothing lost or repeated at the seam, `reset` when history no longer reaches back, the
//! lag notice, the end after a plan's terminal event and the refusal past it, task
//! snapshots and unknown plans, closing, and the count of live subscribers.
//!
//! A backend's crate runs all of them with [`backend_contract!`](crate::backend_contract!),
//! one test per case:
//!
//! ```ignore
//! a2a_sse_testkit::backend_contract!(a2a_sse_testkit::backend_contract::Memory);
//! ```
//!
//! The cases only use the [`EventBackend`] trait, and wait for what they expect (a
//! backend may deliver from another task), so they hold for the in-memory queue and for a
//! store shared by replicas alike. What only one backend has (Redis faults and epochs, the
//! queue's internals) stays in that backend's own tests.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use a2a_events::{
    A2aEventQueue, BufferLimits, EventBackend, EventId, EventStream, LagNotice, NewEvent,
    PublishError, QueueConfig, ResetNotice, SubscribeError, SubscribeRequest, SubscriptionEnd,
    SubscriptionItem, TaskState,
};
use futures_core::Stream;

use crate::events::{artifact, plan, status};

/// How long anything expected may take on a loaded machine.
pub const PATIENCE: Duration = Duration::from_secs(10);

/// How long a stream must stay quiet to count as having nothing more.
const QUIET: Duration = Duration::from_millis(150);

/// A boxed future, as [`Factory::backend`] returns.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// What a case asks of its backend; `None` keeps the backend's default.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Settings {
    /// Most events kept for resuming, counted exactly.
    pub history_events: Option<usize>,
}

impl Settings {
    /// A history of exactly `events` events.
    #[must_use]
    pub const fn history(events: usize) -> Self {
        Self {
            history_events: Some(events),
        }
    }
}

/// Makes the backends the cases run against: each call a new one, empty, that sees no
/// other backend's events.
pub trait Factory: Send + Sync {
    /// A new, empty backend configured by `settings`.
    fn backend(&self, settings: Settings) -> BoxFuture<'_, Arc<dyn EventBackend>>;
}

/// The in-memory [`A2aEventQueue`].
#[derive(Debug, Clone, Copy, Default)]
pub struct Memory;

impl Factory for Memory {
    fn backend(&self, settings: Settings) -> BoxFuture<'_, Arc<dyn EventBackend>> {
        let mut config = QueueConfig::default();
        if let Some(events) = settings.history_events {
            config.history_events = events;
        }
        let queue = A2aEventQueue::with_config(config).unwrap_or_else(|e| panic!("{e}"));
        Box::pin(std::future::ready(Arc::new(queue) as Arc<dyn EventBackend>))
    }
}

/// The Redis backend: one `redis-server` of the test's own, and a backend with a key
/// prefix of its own on it for each case, trimming history exactly as the cases count it.
#[cfg(feature = "redis")]
#[derive(Debug)]
pub struct Redis {
    server: crate::redis_server::RedisServer,
}

#[cfg(feature = "redis")]
impl Redis {
    /// Starts the server; `None` (the test is skipped) where `redis-server` is not
    /// installed, outside CI.
    #[must_use]
    pub fn start() -> Option<Self> {
        crate::redis_server::RedisServer::start(&[]).map(|server| Self { server })
    }
}

#[cfg(feature = "redis")]
impl Factory for Redis {
    fn backend(&self, settings: Settings) -> BoxFuture<'_, Arc<dyn EventBackend>> {
        let mut config = crate::redis_server::test_config(&self.server.url());
        config.trim = a2a_events_redis::Trim::Exact;
        if let Some(events) = settings.history_events {
            config.history_events = events;
        }
        Box::pin(async move {
            let backend = a2a_events_redis::RedisBackend::connect(config)
                .await
                .unwrap_or_else(|e| panic!("connect: {e}"));
            Arc::new(backend) as Arc<dyn EventBackend>
        })
    }
}

/// One `#[tokio::test]` per case of the contract, each on a backend of `$factory` (an
/// expression evaluated in each test; it may `return` to skip the test).
#[macro_export]
macro_rules! backend_contract {
    ($factory:expr) => {
        $crate::backend_contract!(@cases $factory;
            ids_follow_publish_order_and_a_plan_filter_keeps_its_plan,
            a_resume_replays_then_goes_live_with_nothing_lost_or_repeated,
            a_filtered_resume_replays_only_its_plan,
            a_resume_history_no_longer_covers_is_reset_and_replays_what_follows,
            a_slow_subscriber_lags_alone_and_resumes_without_loss,
            a_plan_filtered_stream_ends_after_its_terminal_event,
            a_finished_plan_whose_end_left_history_is_refused,
            a_subscription_can_start_with_the_task_as_it_is,
            the_task_is_the_plans_latest_state,
            the_task_state_is_the_tasks_own,
            tasks_are_listed_newest_status_first_filtered_and_paged,
            a_lease_that_runs_out_is_claimed_once,
            a_push_config_delivers_the_events_after_it_from_its_position,
            closing_ends_every_stream_and_refuses_more,
        );
    };
    (@cases $factory:expr; $($case:ident),* $(,)?) => {
        $(
            #[::tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $case() {
                let factory = $factory;
                $crate::backend_contract::$case(&factory).await;
            }
        )*
    };
}

fn working(plan_name: &str) -> NewEvent {
    status(plan_name, TaskState::Working)
}

async fn publish(backend: &dyn EventBackend, event: NewEvent) -> EventId {
    backend
        .publish(event)
        .await
        .unwrap_or_else(|e| panic!("publish: {e}"))
}

async fn publish_many(backend: &dyn EventBackend, plans: &[&str]) -> Vec<EventId> {
    let mut ids = Vec::with_capacity(plans.len());
    for name in plans {
        ids.push(publish(backend, working(name)).await);
    }
    ids
}

async fn subscribe(backend: &dyn EventBackend, request: SubscribeRequest) -> EventStream {
    backend
        .subscribe(request)
        .await
        .unwrap_or_else(|e| panic!("subscribe: {e}"))
}

/// The next item, within [`PATIENCE`].
///
/// # Panics
///
/// When none comes in time.
pub async fn next<S: Stream<Item = SubscriptionItem> + Unpin>(
    stream: &mut S,
) -> Option<SubscriptionItem> {
    let next = std::future::poll_fn(|cx| Pin::new(&mut *stream).poll_next(cx));
    tokio::time::timeout(PATIENCE, next)
        .await
        .unwrap_or_else(|_| panic!("no item within {PATIENCE:?}"))
}

/// The ids of the next `count` items, which must be events.
///
/// # Panics
///
/// When one is not an event, or does not come in time.
pub async fn next_ids<S: Stream<Item = SubscriptionItem> + Unpin>(
    stream: &mut S,
    count: usize,
) -> Vec<EventId> {
    let mut ids = Vec::with_capacity(count);
    for _ in 0..count {
        match next(stream).await {
            Some(SubscriptionItem::Event(event)) => ids.push(event.id()),
            other => panic!("expected an event after {ids:?}, got {other:?}"),
        }
    }
    ids
}

/// Whether nothing arrives on `stream` for a moment.
pub async fn stays_quiet<S: Stream<Item = SubscriptionItem> + Unpin>(stream: &mut S) -> bool {
    let next = std::future::poll_fn(|cx| Pin::new(&mut *stream).poll_next(cx));
    tokio::time::timeout(QUIET, next).await.is_err()
}

async fn expect_end<S: Stream<Item = SubscriptionItem> + Unpin>(
    stream: &mut S,
    expected: SubscriptionEnd,
) {
    match next(stream).await {
        Some(SubscriptionItem::End(end)) => assert_eq!(end, expected),
        other => panic!("expected the end {expected:?}, got {other:?}"),
    }
    assert!(next(stream).await.is_none(), "nothing after the end");
}

/// Ids strictly increase in publish order, every subscriber gets its events in that
/// order, a plan filter keeps its plan's events only, and the live subscribers are counted.
pub async fn ids_follow_publish_order_and_a_plan_filter_keeps_its_plan(factory: &impl Factory) {
    let backend = factory.backend(Settings::default()).await;
    let mut all = subscribe(&*backend, SubscribeRequest::all()).await;
    let mut a = subscribe(&*backend, SubscribeRequest::plan(plan("a"))).await;
    let mut also_a = subscribe(&*backend, SubscribeRequest::plan(plan("a"))).await;
    assert_eq!(backend.subscriber_count(), 3);
    let ids = publish_many(&*backend, &["a", "b", "a", "c", "a"]).await;
    assert!(ids.windows(2).all(|w| w[0] < w[1]), "{ids:?}");
    assert_eq!(next_ids(&mut all, 5).await, ids);
    let of_a = [ids[0], ids[2], ids[4]];
    assert_eq!(next_ids(&mut a, 3).await, of_a);
    assert_eq!(next_ids(&mut also_a, 3).await, of_a);
    assert!(
        stays_quiet(&mut a).await,
        "b's and c's events never reach a"
    );
    drop(also_a);
    assert_eq!(backend.subscriber_count(), 2);
    drop(a);
    drop(all);
    assert_eq!(backend.subscriber_count(), 0);
}

/// A resume replays what was missed, then goes live: events published while it opens
/// arrive once each; at the newest id it replays nothing; `0` replays all of history.
pub async fn a_resume_replays_then_goes_live_with_nothing_lost_or_repeated(factory: &impl Factory) {
    let backend = factory.backend(Settings::default()).await;
    let first = publish(&*backend, working("p")).await;
    let missed = publish_many(&*backend, &["p", "p", "p"]).await;
    let publisher = Arc::clone(&backend);
    let concurrent = tokio::spawn(async move {
        let mut ids = Vec::new();
        for _ in 0..30 {
            ids.push(publish(&*publisher, working("p")).await);
            tokio::task::yield_now().await;
        }
        ids
    });
    let mut resumed = subscribe(&*backend, SubscribeRequest::plan(plan("p")).after(first)).await;
    let later = concurrent.await.unwrap_or_else(|e| panic!("{e}"));
    let expected: Vec<_> = missed.iter().chain(&later).copied().collect();
    assert_eq!(next_ids(&mut resumed, expected.len()).await, expected);
    assert!(stays_quiet(&mut resumed).await, "nothing twice");
    let live = publish(&*backend, working("p")).await;
    assert_eq!(next_ids(&mut resumed, 1).await, [live]);

    let mut at_newest = subscribe(&*backend, SubscribeRequest::all().after(live)).await;
    assert!(stays_quiet(&mut at_newest).await);
    let mut from_start = subscribe(&*backend, SubscribeRequest::all().after(EventId::new(0))).await;
    let everything: Vec<_> = [first]
        .iter()
        .chain(&expected)
        .chain(&[live])
        .copied()
        .collect();
    assert_eq!(
        next_ids(&mut from_start, everything.len()).await,
        everything
    );
    let newer = publish(&*backend, working("q")).await;
    assert_eq!(next_ids(&mut at_newest, 1).await, [newer]);
    assert_eq!(next_ids(&mut from_start, 1).await, [newer]);
}

/// A filtered resume replays its plan's retained events only.
pub async fn a_filtered_resume_replays_only_its_plan(factory: &impl Factory) {
    let backend = factory.backend(Settings::default()).await;
    let ids = publish_many(&*backend, &["a", "b", "a", "b"]).await;
    let request = SubscribeRequest::plan(plan("b")).after(EventId::new(0));
    let mut b = subscribe(&*backend, request).await;
    assert_eq!(next_ids(&mut b, 2).await, [ids[1], ids[3]]);
    assert!(stays_quiet(&mut b).await);
}

/// A resume whose successors left history starts with `reset` (naming the requested and
/// the oldest retained id), then replays the retained events after it, never one at or
/// before it, then goes live; at the edge of history nothing was lost and there is no
/// `reset`; an id ahead of the history replays all of it.
pub async fn a_resume_history_no_longer_covers_is_reset_and_replays_what_follows(
    factory: &impl Factory,
) {
    let backend = factory.backend(Settings::history(3)).await;
    let ids = publish_many(&*backend, &["p"; 6]).await;
    let retained = &ids[3..];
    let reset_then_retained = async |after: EventId| {
        let mut stream = subscribe(&*backend, SubscribeRequest::plan(plan("p")).after(after)).await;
        match next(&mut stream).await {
            Some(SubscriptionItem::Reset(reset)) => {
                assert_eq!(reset, ResetNotice::new(after, Some(ids[3])));
            }
            other => panic!("expected a reset for {after}, got {other:?}"),
        }
        assert_eq!(next_ids(&mut stream, 3).await, retained, "after {after}");
        assert!(stays_quiet(&mut stream).await, "after {after}");
        stream
    };
    let mut trimmed = reset_then_retained(ids[0]).await;
    reset_then_retained(ids[1]).await;
    let newest = ids[5];
    let ahead = EventId::from_parts(newest.epoch(), newest.sequence() + 50);
    reset_then_retained(ahead).await;

    let mut edge = subscribe(&*backend, SubscribeRequest::all().after(ids[2])).await;
    assert_eq!(
        next_ids(&mut edge, 3).await,
        retained,
        "no reset at the edge"
    );
    let live = publish(&*backend, working("p")).await;
    assert_eq!(next_ids(&mut trimmed, 1).await, [live]);
    assert_eq!(next_ids(&mut edge, 1).await, [live]);
}

/// A subscriber that does not keep up ends alone, with a lag notice naming the last id it
/// delivered; the others go on, and resuming from that id loses nothing.
pub async fn a_slow_subscriber_lags_alone_and_resumes_without_loss(factory: &impl Factory) {
    let backend = factory.backend(Settings::default()).await;
    let first = publish(&*backend, working("p")).await;
    let tiny = BufferLimits::events(2);
    let mut slow = subscribe(&*backend, SubscribeRequest::all().after(first).buffer(tiny)).await;
    let mut fast = subscribe(&*backend, SubscribeRequest::all()).await;
    let ids = publish_many(&*backend, &["p"; 5]).await;
    assert_eq!(next_ids(&mut fast, 5).await, ids);
    assert_eq!(
        backend.subscriber_count(),
        1,
        "the lagged one is unregistered"
    );
    let lagged = SubscriptionEnd::Lagged(LagNotice::new(Some(first)));
    expect_end(&mut slow, lagged).await;
    let mut again = subscribe(&*backend, SubscribeRequest::all().after(first)).await;
    assert_eq!(next_ids(&mut again, 5).await, ids);

    // Having delivered some, it names the last of them.
    let mut partial = subscribe(&*backend, SubscribeRequest::all().buffer(tiny)).await;
    let more = publish_many(&*backend, &["p"]).await;
    assert_eq!(next_ids(&mut partial, 1).await, more);
    let flood = publish_many(&*backend, &["p"; 4]).await;
    assert_eq!(next_ids(&mut fast, 5).await[1..], flood);
    expect_end(
        &mut partial,
        SubscriptionEnd::Lagged(LagNotice::new(Some(more[0]))),
    )
    .await;
}

/// A plan-filtered stream ends right after its plan's terminal event; the plan takes no
/// more events; a subscription that could receive nothing more of it is refused (204),
/// one from before the end replays up to it and ends; an unfiltered stream goes on.
pub async fn a_plan_filtered_stream_ends_after_its_terminal_event(factory: &impl Factory) {
    let backend = factory.backend(Settings::default()).await;
    let mut watching = subscribe(&*backend, SubscribeRequest::plan(plan("p"))).await;
    let mut all = subscribe(&*backend, SubscribeRequest::all()).await;
    let working_id = publish(&*backend, working("p")).await;
    let chunk = publish(&*backend, artifact("p", "report", "x")).await;
    let terminal = publish(&*backend, status("p", TaskState::Completed)).await;
    assert_eq!(
        next_ids(&mut watching, 3).await,
        [working_id, chunk, terminal]
    );
    let finished = SubscriptionEnd::PlanFinished { terminal };
    expect_end(&mut watching, finished).await;
    assert_eq!(backend.subscriber_count(), 1, "only the unfiltered one");

    let late = backend.publish(working("p")).await;
    assert_eq!(
        late,
        Err(PublishError::PlanFinished {
            plan: plan("p"),
            terminal
        })
    );
    let ahead = EventId::from_parts(terminal.epoch(), terminal.sequence() + 7);
    for after in [None, Some(terminal), Some(ahead)] {
        let mut request = SubscribeRequest::plan(plan("p"));
        request.after = after;
        let refused = backend.subscribe(request).await.err();
        assert_eq!(
            refused,
            Some(SubscribeError::PlanFinished { terminal }),
            "after {after:?}"
        );
    }
    let before = SubscribeRequest::plan(plan("p")).after(working_id);
    let mut resumed = subscribe(&*backend, before).await;
    assert_eq!(backend.subscriber_count(), 1, "nothing live to wait for");
    assert_eq!(next_ids(&mut resumed, 2).await, [chunk, terminal]);
    expect_end(&mut resumed, finished).await;

    assert_eq!(next_ids(&mut all, 3).await, [working_id, chunk, terminal]);
    let other = publish(&*backend, working("q")).await;
    assert_eq!(next_ids(&mut all, 1).await, [other]);
}

/// Once a finished plan's terminal event left history, a resume of it is refused: a
/// `reset` without it would bring the client back with the same id for ever.
pub async fn a_finished_plan_whose_end_left_history_is_refused(factory: &impl Factory) {
    let backend = factory.backend(Settings::history(2)).await;
    let first = publish(&*backend, working("p")).await;
    let terminal = publish(&*backend, status("p", TaskState::Canceled)).await;
    publish_many(&*backend, &["other", "other"]).await;
    let refused = backend
        .subscribe(SubscribeRequest::plan(plan("p")).after(first))
        .await
        .err();
    assert_eq!(refused, Some(SubscribeError::PlanFinished { terminal }));
}

fn snapshot_as_of(item: Option<SubscriptionItem>) -> EventId {
    match item {
        Some(SubscriptionItem::Snapshot(snapshot)) => snapshot.as_of,
        other => panic!("expected the task first, got {other:?}"),
    }
}

/// A subscription that asks for it starts with the plan's task as it is, then live
/// events; a covered resume replays instead; a lost one gets a fresh task instead of a
/// `reset`; a plan without events is unknown.
pub async fn a_subscription_can_start_with_the_task_as_it_is(factory: &impl Factory) {
    let backend = factory.backend(Settings::history(2)).await;
    let unknown = SubscribeRequest::plan(plan("p")).with_snapshot();
    assert_eq!(
        backend.subscribe(unknown).await.err(),
        Some(SubscribeError::UnknownPlan)
    );
    let first = publish(&*backend, working("p")).await;
    let second = publish(&*backend, artifact("p", "report", "x")).await;
    publish(&*backend, working("other")).await;
    let ask = SubscribeRequest::plan(plan("p")).with_snapshot();
    let mut fresh = subscribe(&*backend, ask.clone()).await;
    assert_eq!(snapshot_as_of(next(&mut fresh).await), second);
    let live = publish(&*backend, working("p")).await;
    let newest = publish(&*backend, working("p")).await;
    assert_eq!(next_ids(&mut fresh, 2).await, [live, newest]);

    let mut covered = subscribe(&*backend, ask.clone().after(live)).await;
    assert_eq!(
        next_ids(&mut covered, 1).await,
        [newest],
        "a replay, no task"
    );
    let mut lost = subscribe(&*backend, ask.after(first)).await;
    assert_eq!(snapshot_as_of(next(&mut lost).await), newest);
    assert!(stays_quiet(&mut lost).await, "no reset, no replay");
    let after = publish(&*backend, working("p")).await;
    assert_eq!(next_ids(&mut lost, 1).await, [after]);
}

/// `task` answers a plan's task as of its latest event, and nothing for an unknown plan.
pub async fn the_task_is_the_plans_latest_state(factory: &impl Factory) {
    let backend = factory.backend(Settings::default()).await;
    assert!(backend.task(&plan("p")).await.ok().flatten().is_none());
    publish(&*backend, working("p")).await;
    let chunk = publish(&*backend, artifact("p", "report", "x")).await;
    publish(&*backend, working("q")).await;
    let task = backend.task(&plan("p")).await.ok().flatten();
    let task = task.unwrap_or_else(|| panic!("p has a task"));
    assert_eq!(task.as_of, chunk);
    assert_eq!(task.task.id, "p");
    assert_eq!(task.task.status.state, TaskState::Working);
    assert_eq!(task.task.artifacts.len(), 1);
}

/// `task_state` says what `task` says of the state, at every step of a task's life:
/// nothing before its first event, `SUBMITTED` before a status update, then its latest
/// status's state, terminal at the end.
pub async fn the_task_state_is_the_tasks_own(factory: &impl Factory) {
    let backend = factory.backend(Settings::default()).await;
    let p = plan("p");
    let both = |want: Option<TaskState>| {
        let backend = Arc::clone(&backend);
        let p = p.clone();
        async move {
            let state = backend.task_state(&p).await.ok().flatten();
            let folded = backend.task(&p).await.ok().flatten();
            assert_eq!(state, want, "task_state");
            assert_eq!(folded.map(|task| task.task.status.state), want, "task");
        }
    };
    both(None).await;
    publish(&*backend, artifact("p", "report", "x")).await;
    both(Some(TaskState::Submitted)).await;
    publish(&*backend, working("p")).await;
    publish(&*backend, artifact("p", "report", "y")).await;
    both(Some(TaskState::Working)).await;
    publish(&*backend, status("p", TaskState::InputRequired)).await;
    both(Some(TaskState::InputRequired)).await;
    publish(&*backend, status("p", TaskState::Canceled)).await;
    both(Some(TaskState::Canceled)).await;
    assert_eq!(backend.task_state(&plan("q")).await.ok().flatten(), None);
}

/// A status update at `at` (RFC 3339) of `plan_name`, in `context`.
fn status_at(plan_name: &str, context: &str, state: TaskState, at: &str) -> NewEvent {
    let update = a2a_events::TaskStatusUpdateEvent {
        task_id: plan_name.into(),
        context_id: context.into(),
        status: a2a_events::TaskStatus {
            state,
            message: None,
            timestamp: Some(at.into()),
        },
        metadata: None,
    };
    NewEvent::new(
        plan(plan_name),
        a2a_events::EventPayload::StatusUpdate(update),
    )
}

fn listed(page: &a2a_events::TaskPage) -> Vec<&str> {
    page.tasks
        .iter()
        .map(|task| task.task.id.as_str())
        .collect()
}

/// `list_tasks` orders by status time, newest first (ids descending between equal
/// times), filters by context, state and time before paging, counts every match, and
/// pages with cursors.
pub async fn tasks_are_listed_newest_status_first_filtered_and_paged(factory: &impl Factory) {
    use a2a_events::{TaskQuery, Timestamp};
    let backend = factory.backend(Settings::default()).await;
    for (name, context, state, at) in [
        ("a", "c1", TaskState::Working, "2026-01-01T00:00:01.000Z"),
        ("b", "c1", TaskState::Completed, "2026-01-01T00:00:03.000Z"),
        ("c", "c2", TaskState::Working, "2026-01-01T00:00:02.000Z"),
        ("d", "c1", TaskState::Working, "2026-01-01T00:00:03.000Z"),
    ] {
        publish(&*backend, status_at(name, context, state, at)).await;
    }
    let list = |query: TaskQuery| {
        let backend = Arc::clone(&backend);
        async move {
            backend
                .list_tasks(query)
                .await
                .unwrap_or_else(|e| panic!("list: {e}"))
        }
    };
    let mut query = TaskQuery::all(2);
    let first = list(query.clone()).await;
    assert_eq!((listed(&first), first.total), (vec!["d", "b"], 4));
    query.after = first.next.clone();
    let second = list(query).await;
    assert_eq!(listed(&second), ["c", "a"]);
    assert_eq!(second.next, None, "the last page");
    let mut query = TaskQuery::all(10);
    query.context_id = Some("c1".into());
    query.state = Some(TaskState::Working);
    let page = list(query).await;
    assert_eq!((listed(&page), page.total), (vec!["d", "a"], 2));
    let mut query = TaskQuery::all(10);
    query.status_after = Timestamp::parse("2026-01-01T00:00:02.000Z").ok();
    assert_eq!(listed(&list(query).await), ["d", "b", "c"]);
    // A task is listed from its first event, whatever its kind; a later status moves it.
    publish(&*backend, artifact("e", "report", "x")).await;
    let all = list(TaskQuery::all(10)).await;
    assert_eq!((listed(&all).last().copied(), all.total), (Some("e"), 5));
}

/// A lease runs out, is claimed by one caller only, and a released one is never claimed.
/// A backend of one process keeps no leases, and so has none to claim.
pub async fn a_lease_that_runs_out_is_claimed_once(factory: &impl Factory) {
    let backend = factory.backend(Settings::default()).await;
    let short = Duration::from_millis(50);
    let held = |name: &'static str| {
        let backend = Arc::clone(&backend);
        async move {
            backend
                .hold(&plan(name), short)
                .await
                .unwrap_or_else(|e| panic!("hold: {e}"));
        }
    };
    held("gone").await;
    held("released").await;
    backend
        .release(&plan("released"))
        .await
        .unwrap_or_else(|e| panic!("release: {e}"));
    tokio::time::sleep(short * 3).await;
    let claim = || async {
        backend
            .claim_expired()
            .await
            .unwrap_or_else(|e| panic!("claim: {e}"))
    };
    let first = claim().await;
    assert!(
        first.is_empty() || first == [plan("gone")],
        "only the lease that ran out: {first:?}"
    );
    assert!(claim().await.is_empty(), "claimed once");
}

/// A push config is stored, read, listed and deleted; it is claimed once; it has to
/// deliver the task's events published after it, in order, from its position, which
/// `delivered` moves on; a deleted one has nothing more.
pub async fn a_push_config_delivers_the_events_after_it_from_its_position(factory: &impl Factory) {
    use bytes::Bytes;
    let backend = factory.backend(Settings::default()).await;
    let Some(store) = backend.push() else {
        panic!("the backend keeps push configs");
    };
    let task = plan("p");
    publish(&*backend, working("p")).await;
    let config = Bytes::from_static(br#"{"id":"c1","url":"http://127.0.0.1:9/hook"}"#);
    store
        .put(&task, "c1", config.clone())
        .await
        .unwrap_or_else(|e| panic!("put: {e}"));
    store
        .put(&task, "c2", Bytes::from_static(b"{}"))
        .await
        .unwrap_or_else(|e| panic!("put: {e}"));
    assert_eq!(store.get(&task, "c1").await.ok().flatten(), Some(config));
    assert_eq!(store.get(&task, "nope").await.ok().flatten(), None);
    assert_eq!(store.list(&task).await.map(|all| all.len()).ok(), Some(2));
    let claimed = store
        .claim("one", Duration::from_secs(60))
        .await
        .unwrap_or_else(|e| panic!("claim: {e}"));
    let mut ids: Vec<&str> = claimed.iter().map(|a| a.id.as_str()).collect();
    ids.sort_unstable();
    assert_eq!(ids, ["c1", "c2"]);
    let again = store
        .claim("one", Duration::from_secs(60))
        .await
        .unwrap_or_default();
    assert!(again.is_empty(), "claimed once: {again:?}");
    // Nothing before the config; then what follows, in order.
    let none = store
        .pending(&task, "c1", 10)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(none.exists && none.events.is_empty() && none.lost == 0 && none.behind == 0);
    let second = publish(&*backend, artifact("p", "a", "x")).await;
    let third = publish(&*backend, working("p")).await;
    let pending = store
        .pending(&task, "c1", 10)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let got: Vec<EventId> = pending.events.iter().map(|e| e.id()).collect();
    assert_eq!(got, [second, third]);
    assert_eq!(pending.behind, 2);
    store
        .delivered(&task, "c1", pending.next + 1)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let rest = store
        .pending(&task, "c1", 10)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        rest.events.iter().map(|e| e.id()).collect::<Vec<_>>(),
        [third]
    );
    assert_eq!(rest.behind, 1);
    // c2 is at its own position.
    let other = store
        .pending(&task, "c2", 1)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        other.events.iter().map(|e| e.id()).collect::<Vec<_>>(),
        [second]
    );
    assert_eq!(store.delete(&task, "c1").await.ok(), Some(true));
    assert_eq!(
        store.delete(&task, "c1").await.ok(),
        Some(false),
        "idempotent"
    );
    let gone = store
        .pending(&task, "c1", 10)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(!gone.exists);
    for assignment in &claimed {
        store
            .finish(assignment)
            .await
            .unwrap_or_else(|e| panic!("{e}"));
    }
    store
        .renew("one", &claimed)
        .await
        .unwrap_or_else(|e| panic!("renew: {e}"));
}

/// Closing ends every stream at its next poll, a replaying one included, with `Closed`;
/// nothing is counted any more, and publishing and subscribing are refused.
pub async fn closing_ends_every_stream_and_refuses_more(factory: &impl Factory) {
    let backend = factory.backend(Settings::default()).await;
    let first = publish(&*backend, working("p")).await;
    let mut live = subscribe(&*backend, SubscribeRequest::plan(plan("p"))).await;
    let second = publish(&*backend, working("p")).await;
    let mut replaying = subscribe(&*backend, SubscribeRequest::all().after(EventId::new(0))).await;
    assert_eq!(next_ids(&mut live, 1).await, [second]);
    assert_eq!(next_ids(&mut replaying, 1).await, [first]);
    backend.close();
    for stream in [&mut live, &mut replaying] {
        expect_end(stream, SubscriptionEnd::Closed).await;
    }
    assert_eq!(backend.subscriber_count(), 0);
    assert_eq!(
        backend.publish(working("p")).await,
        Err(PublishError::Closed)
    );
    let refused = backend.subscribe(SubscribeRequest::all()).await.err();
    assert_eq!(refused, Some(SubscribeError::Closed));
    backend.close();
}
