use std::task::Poll;

use futures_core::{FusedStream, Stream};
use futures_util::{FutureExt, StreamExt, future::poll_fn};

use super::*;
use crate::backend::{EventBackend, EventStream};
use crate::event::{EventKind, EventPayload};
use crate::model::{ErrorPayload, TaskState, TaskStatusUpdateEvent};
use crate::subscription::{LagNotice, ResetNotice, SubscriptionEnd, SubscriptionItem};

fn plan(name: &str) -> PlanId {
    PlanId::new(name).unwrap()
}

fn status(p: &str, state: TaskState) -> NewEvent {
    NewEvent::new(
        plan(p),
        EventPayload::StatusUpdate(TaskStatusUpdateEvent {
            task_id: p.into(),
            context_id: "ctx".into(),
            status: state.into(),
            metadata: None,
        }),
    )
}

fn working(p: &str) -> NewEvent {
    status(p, TaskState::Working)
}

fn error_with(p: &str, message: &str) -> NewEvent {
    NewEvent::new(
        plan(p),
        EventPayload::Error(ErrorPayload {
            code: 1,
            message: message.into(),
            data: None,
        }),
    )
}

/// Everything the subscription has ready now, without waiting.
fn drain(sub: &mut Subscription) -> Vec<SubscriptionItem> {
    let mut out = Vec::new();
    while let Some(Some(item)) = sub.next().now_or_never() {
        out.push(item);
    }
    out
}

fn ids(items: &[SubscriptionItem]) -> Vec<u64> {
    items
        .iter()
        .filter_map(|i| match i {
            SubscriptionItem::Event(e) => Some(e.id().sequence()),
            _ => None,
        })
        .collect()
}

fn small(history: usize) -> A2aEventQueue {
    A2aEventQueue::with_config(QueueConfig {
        history_events: history,
        ..QueueConfig::default()
    })
    .unwrap()
}

#[test]
fn ids_increase_in_publish_order() {
    let queue = A2aEventQueue::new();
    assert_eq!(queue.last_event_id(), None);
    let a = queue.publish(working("a")).unwrap();
    let b = queue.publish(working("b")).unwrap();
    assert_eq!((a.sequence(), b.sequence()), (1, 2));
    assert_eq!(queue.last_event_id(), Some(b));
}

#[test]
fn every_subscriber_shares_one_serialization() {
    let queue = A2aEventQueue::new();
    let mut subs: Vec<_> = (0..5)
        .map(|_| queue.subscribe(SubscribeRequest::all()).unwrap())
        .collect();
    queue.publish(working("a")).unwrap();
    let events: Vec<_> = subs
        .iter_mut()
        .map(|s| match drain(s).pop() {
            Some(SubscriptionItem::Event(e)) => e,
            other => panic!("{other:?}"),
        })
        .collect();
    for e in &events[1..] {
        assert!(Arc::ptr_eq(e, &events[0]));
    }
}

#[test]
fn resume_replays_then_goes_live_without_gap_or_duplicate() {
    let queue = A2aEventQueue::new();
    for _ in 0..5 {
        queue.publish(working("a")).unwrap();
    }
    let mut sub = queue
        .subscribe(SubscribeRequest::all().after(EventId::new(2)))
        .unwrap();
    assert_eq!(sub.size_hint(), (3, None));
    queue.publish(working("a")).unwrap();
    assert_eq!(ids(&drain(&mut sub)), [3, 4, 5, 6]);
    let mut at_end = queue
        .subscribe(SubscribeRequest::all().after(EventId::new(6)))
        .unwrap();
    assert!(drain(&mut at_end).is_empty());
}

#[test]
fn reset_with_empty_history() {
    let queue = small(0);
    queue.publish(working("a")).unwrap();
    let mut lost = queue
        .subscribe(SubscribeRequest::all().after(EventId::new(0)))
        .unwrap();
    assert!(matches!(
        drain(&mut lost)[..],
        [SubscriptionItem::Reset(ResetNotice {
            oldest_retained: None,
            ..
        })]
    ));
    let mut current = queue
        .subscribe(SubscribeRequest::all().after(EventId::new(1)))
        .unwrap();
    assert!(drain(&mut current).is_empty());
}

#[test]
fn history_is_bounded_by_bytes_too() {
    let queue = A2aEventQueue::with_config(QueueConfig {
        history_bytes: 1,
        ..QueueConfig::default()
    })
    .unwrap();
    for _ in 0..3 {
        queue.publish(working("a")).unwrap();
    }
    // One event always stays, even above the byte bound.
    let mut sub = queue
        .subscribe(SubscribeRequest::all().after(EventId::new(2)))
        .unwrap();
    assert_eq!(ids(&drain(&mut sub)), [3]);
}

#[test]
fn a_slow_subscriber_lags_alone() {
    let queue = A2aEventQueue::new();
    let tiny = BufferLimits {
        events: 2,
        bytes: 1 << 20,
    };
    let mut slow = queue
        .subscribe(SubscribeRequest::all().buffer(tiny))
        .unwrap();
    let mut fast = queue.subscribe(SubscribeRequest::all()).unwrap();
    queue.publish(working("a")).unwrap();
    assert_eq!(ids(&drain(&mut slow)), [1]);
    for _ in 0..3 {
        queue.publish(working("a")).unwrap();
    }
    assert_eq!(
        queue.subscriber_count(),
        1,
        "the lagged one is unregistered"
    );
    let items = drain(&mut slow);
    assert!(matches!(
        items[..],
        [SubscriptionItem::End(SubscriptionEnd::Lagged(LagNotice {
            last_delivered: Some(id)
        }))] if id.sequence() == 1
    ));
    assert!(slow.is_terminated());
    assert_eq!(slow.size_hint(), (0, Some(0)));
    assert_eq!(ids(&drain(&mut fast)), [1, 2, 3, 4]);
}

/// A subscription to every plan with a buffer of its own: `events` events, `bytes` bytes.
fn buffered(queue: &A2aEventQueue, events: usize, bytes: usize) -> Subscription {
    let limits = BufferLimits { events, bytes };
    queue
        .subscribe(SubscribeRequest::all().buffer(limits))
        .unwrap()
}

/// Publishes `count` working events to plan `a`.
fn publish_working(queue: &A2aEventQueue, count: usize) {
    for _ in 0..count {
        queue.publish(working("a")).unwrap();
    }
}

/// The last delivered id a lone lag notice names; the buffer is dropped on lag, so
/// nothing comes before it.
fn lone_lag(items: &[SubscriptionItem]) -> Option<u64> {
    match items {
        [SubscriptionItem::End(SubscriptionEnd::Lagged(LagNotice { last_delivered }))] => {
            last_delivered.map(EventId::sequence)
        }
        _ => panic!("not a lone lag notice: {items:?}"),
    }
}

#[test]
fn byte_bound_lags_but_admits_one_oversized_event() {
    let queue = A2aEventQueue::new();
    let mut sub = buffered(&queue, 100, 10);
    publish_working(&queue, 1);
    assert_eq!(ids(&drain(&mut sub)), [1], "oversized but buffer was empty");
    publish_working(&queue, 2);
    assert_eq!(lone_lag(&drain(&mut sub)), Some(1));
}

#[test]
fn an_empty_buffer_takes_one_event_even_when_it_allows_none() {
    let queue = A2aEventQueue::new();
    let mut sub = buffered(&queue, 0, 1 << 20);
    publish_working(&queue, 1);
    assert_eq!(ids(&drain(&mut sub)), [1]);
    // The next one waits alone; the one after it would be a second.
    publish_working(&queue, 2);
    assert_eq!(lone_lag(&drain(&mut sub)), Some(1));
}

#[test]
fn events_waiting_behind_the_first_come_out_in_order_and_free_their_bytes() {
    let queue = A2aEventQueue::new();
    let one = StoredEvent::new(&A2aEvent {
        id: EventId::new(1),
        plan_id: plan("a"),
        timestamp: Timestamp::now(),
        payload: working("a").payload,
    })
    .unwrap()
    .json()
    .len();
    // Room for exactly three events of this size (ids 1 to 9 have one digit).
    let mut sub = buffered(&queue, 100, 3 * one);
    for round in 0..3 {
        publish_working(&queue, 3);
        let start = round * 3 + 1;
        assert_eq!(ids(&drain(&mut sub)), [start, start + 1, start + 2]);
    }
    // Each round filled the bytes exactly, so each drain freed them all. Four more do
    // not fit.
    publish_working(&queue, 4);
    assert_eq!(lone_lag(&drain(&mut sub)), Some(9));
}

#[test]
fn finished_plans_are_forgotten_oldest_first() {
    let queue = A2aEventQueue::with_config(QueueConfig {
        finished_plans: 1,
        ..QueueConfig::default()
    })
    .unwrap();
    queue.publish(status("a", TaskState::Rejected)).unwrap();
    queue.publish(status("b", TaskState::Completed)).unwrap();
    assert_eq!(queue.terminal_event(&plan("a")), None);
    assert_eq!(queue.terminal_event(&plan("b")), Some(EventId::new(2)));
    queue.publish(working("a")).unwrap();
}

#[test]
fn a_lagged_subscription_dropped_late_does_not_remove_its_successor() {
    let queue = A2aEventQueue::new();
    let one = BufferLimits {
        events: 1,
        bytes: 1 << 20,
    };
    let old = queue
        .subscribe(SubscribeRequest::plan(plan("a")).buffer(one))
        .unwrap();
    queue.publish(working("a")).unwrap();
    queue.publish(working("a")).unwrap(); // `old` lags and leaves the index
    let mut new = queue.subscribe(SubscribeRequest::plan(plan("a"))).unwrap();
    drop(old);
    assert_eq!(queue.subscriber_count(), 1);
    queue.publish(working("a")).unwrap();
    assert_eq!(ids(&drain(&mut new)), [3]);
}

#[tokio::test]
async fn a_waiting_subscriber_is_woken_by_publish() {
    let queue = A2aEventQueue::new();
    let mut sub = queue.subscribe(SubscribeRequest::all()).unwrap();
    let publisher = queue.clone();
    let task = tokio::spawn(async move { sub.next().await });
    tokio::task::yield_now().await;
    publisher.publish(working("a")).unwrap();
    let item = task.await.unwrap();
    assert!(matches!(item, Some(SubscriptionItem::Event(e)) if e.id().sequence() == 1));
}

#[test]
fn the_same_waker_is_not_cloned_twice() {
    let queue = A2aEventQueue::new();
    let mut sub = queue.subscribe(SubscribeRequest::all()).unwrap();
    let polls = poll_fn(|cx| {
        assert!(sub.poll_next_unpin(cx).is_pending());
        assert!(sub.poll_next_unpin(cx).is_pending());
        Poll::Ready(())
    });
    polls.now_or_never().unwrap();
}

#[tokio::test]
async fn close_ends_every_subscription_promptly() {
    let queue = A2aEventQueue::new();
    let mut waiting = queue.subscribe(SubscribeRequest::plan(plan("a"))).unwrap();
    let mut backlog = queue.subscribe(SubscribeRequest::all()).unwrap();
    queue.publish(working("b")).unwrap();
    let task = tokio::spawn(async move { waiting.next().await });
    tokio::task::yield_now().await;
    queue.close();
    queue.close();
    assert!(is_closed_end(task.await.unwrap()));
    assert!(
        is_closed_end(backlog.next().await),
        "buffered events are dropped"
    );
    assert!(backlog.next().await.is_none());
    assert_eq!(queue.subscriber_count(), 0);
    assert!(queue.is_closed());
    assert_eq!(queue.publish(working("a")), Err(PublishError::Closed));
    assert_eq!(
        queue.subscribe(SubscribeRequest::all()).unwrap_err(),
        SubscribeError::Closed
    );
}

fn is_closed_end(item: Option<SubscriptionItem>) -> bool {
    matches!(item, Some(SubscriptionItem::End(SubscriptionEnd::Closed)))
}

#[test]
fn dropping_the_last_handle_closes_the_queue() {
    let queue = A2aEventQueue::new();
    let mut sub = queue.subscribe(SubscribeRequest::all()).unwrap();
    let other = queue.clone();
    drop(queue);
    assert!(!other.is_closed());
    drop(other);
    assert!(is_closed_end(sub.next().now_or_never().unwrap()));
}

#[test]
fn config_is_validated_and_visible() {
    let empty = QueueConfig {
        buffer: BufferLimits {
            events: 0,
            bytes: 1,
        },
        ..QueueConfig::default()
    };
    assert_eq!(
        A2aEventQueue::with_config(empty).unwrap_err(),
        crate::QueueConfigError::EmptyBuffer
    );
    let queue = A2aEventQueue::default();
    assert_eq!(queue.config().buffer, BufferLimits::default());
    let text = format!("{queue:?}");
    assert!(text.contains("subscribers: 0"), "{text}");
    let sub = queue.subscribe(SubscribeRequest::all()).unwrap();
    assert!(format!("{sub:?}").contains("replay_pending"));
}

#[test]
fn error_payloads_are_not_terminal() {
    let queue = A2aEventQueue::new();
    let mut sub = queue.subscribe(SubscribeRequest::plan(plan("a"))).unwrap();
    queue.publish(error_with("a", "boom")).unwrap();
    queue.publish(working("a")).unwrap();
    assert_eq!(ids(&drain(&mut sub)), [1, 2]);
    assert!(!sub.is_terminated());
}

#[tokio::test]
async fn a_shared_backend_is_a_backend() {
    let queue = A2aEventQueue::new();
    let shared: Arc<dyn EventBackend> = Arc::new(queue.clone());
    let backend: &dyn EventBackend = &shared;
    let mut stream = backend.subscribe(SubscribeRequest::all()).await.unwrap();
    assert_eq!(backend.subscriber_count(), 1);
    // The key is for backends whose publish can be indeterminate; the queue ignores it.
    let keyed = working("a").idempotency_key("k-1");
    assert_eq!(keyed.idempotency_key.as_deref(), Some("k-1"));
    let id = backend.publish(keyed.clone()).await.unwrap();
    assert_eq!(backend.publish(keyed).await.unwrap(), EventId::new(2));
    assert!(matches!(stream.next().await, Some(SubscriptionItem::Event(e)) if e.id() == id));
    assert_eq!(
        backend.task(&plan("a")).await.unwrap().unwrap().as_of,
        EventId::new(2)
    );
    backend.close();
    assert!(queue.is_closed());
}

/// A waker that records, in a shared list, the order in which subscribers were woken.
struct Recorder {
    index: usize,
    order: Arc<std::sync::Mutex<Vec<usize>>>,
}

impl std::task::Wake for Recorder {
    fn wake(self: Arc<Self>) {
        self.order.lock().unwrap().push(self.index);
    }
}

#[test]
fn waking_starts_at_a_different_subscriber_for_each_event() {
    let queue = A2aEventQueue::new();
    let order = Arc::new(std::sync::Mutex::new(Vec::new()));
    let mut subs: Vec<_> = (0..5)
        .map(|_| queue.subscribe(SubscribeRequest::all()).unwrap())
        .collect();
    let wakers: Vec<Waker> = (0..subs.len())
        .map(|index| {
            Waker::from(Arc::new(Recorder {
                index,
                order: Arc::clone(&order),
            }))
        })
        .collect();
    let mut firsts = Vec::new();
    for _ in 0..4 {
        for (sub, waker) in subs.iter_mut().zip(&wakers) {
            let mut cx = std::task::Context::from_waker(waker);
            assert!(
                std::pin::Pin::new(&mut *sub)
                    .poll_next(&mut cx)
                    .is_pending()
            );
        }
        queue.publish(working("p")).unwrap();
        let woken = std::mem::take(&mut *order.lock().unwrap());
        // Everyone, once, in slab order from some starting point.
        assert_eq!(woken.len(), 5);
        for pair in woken.windows(2) {
            assert_eq!(pair[1], (pair[0] + 1) % 5, "{woken:?}");
        }
        firsts.push(woken[0]);
        for sub in &mut subs {
            assert!(sub.next().now_or_never().flatten().is_some());
        }
    }
    firsts.dedup();
    assert!(firsts.len() > 1, "always started at {firsts:?}");
}

fn poll_once(stream: &mut EventStream) -> Poll<Option<SubscriptionItem>> {
    let waker = std::task::Waker::noop();
    std::pin::Pin::new(stream).poll_next(&mut std::task::Context::from_waker(waker))
}

#[test]
fn the_queue_subscription_and_a_boxed_stream_read_alike() {
    let queue = A2aEventQueue::new();
    let mut inline = EventStream::from(queue.subscribe(SubscribeRequest::all()).unwrap());
    let mut boxed = EventStream::new(queue.subscribe(SubscribeRequest::all()).unwrap());
    assert!(format!("{inline:?}").starts_with("EventStream(Subscription"));
    assert_eq!(format!("{boxed:?}"), "EventStream(<boxed>)");
    assert!(poll_once(&mut inline).is_pending());
    assert!(poll_once(&mut boxed).is_pending());

    queue.publish(working("p")).unwrap();
    for stream in [&mut inline, &mut boxed] {
        assert_eq!(stream.size_hint(), (0, None));
        let Poll::Ready(Some(SubscriptionItem::Event(event))) = poll_once(stream) else {
            panic!("no event");
        };
        assert_eq!(event.id().sequence(), 1);
        assert_eq!(event.kind(), EventKind::StatusUpdate);
    }
    queue.close();
    for stream in [&mut inline, &mut boxed] {
        let Poll::Ready(end) = poll_once(stream) else {
            panic!("not ended");
        };
        assert!(is_closed_end(end));
        assert!(matches!(poll_once(stream), Poll::Ready(None)));
    }
}

fn artifact_chunk(p: &str, artifact: &str, text: &str, append: bool) -> NewEvent {
    use crate::model::{Artifact, Part, TaskArtifactUpdateEvent};
    NewEvent::new(
        plan(p),
        EventPayload::ArtifactUpdate(TaskArtifactUpdateEvent {
            task_id: p.into(),
            context_id: "ctx".into(),
            artifact: Artifact {
                artifact_id: artifact.into(),
                name: None,
                description: None,
                parts: vec![Part::text(text)],
                metadata: None,
            },
            append: Some(append),
            last_chunk: None,
            metadata: None,
        }),
    )
}

fn snapshot_of(item: &SubscriptionItem) -> &crate::task::TaskSnapshot {
    match item {
        SubscriptionItem::Snapshot(snapshot) => snapshot,
        other => panic!("expected a snapshot, got {other:?}"),
    }
}

#[test]
fn a_snapshot_subscription_starts_with_the_task_then_goes_live() {
    let queue = A2aEventQueue::new();
    queue.publish(working("a")).unwrap();
    queue.publish(artifact_chunk("a", "r", "1", false)).unwrap();
    queue.publish(working("b")).unwrap();
    let mut sub = queue
        .subscribe(SubscribeRequest::plan(plan("a")).with_snapshot())
        .unwrap();
    queue.publish(artifact_chunk("a", "r", "2", true)).unwrap();
    let items = drain(&mut sub);
    let snapshot = snapshot_of(&items[0]);
    assert_eq!(snapshot.as_of, EventId::new(2));
    assert_eq!(snapshot.task.id, "a");
    assert_eq!(snapshot.task.status.state, TaskState::Working);
    assert_eq!(snapshot.task.artifacts[0].parts.len(), 1);
    assert_eq!(ids(&items[1..]), [4]);
    assert_eq!(sub.last_delivered(), Some(EventId::new(4)));
    // The queue's own snapshot moved on; the one handed out did not.
    assert_eq!(
        queue.task(&plan("a")).unwrap().task.artifacts[0]
            .parts
            .len(),
        2
    );
    assert_eq!(snapshot.task.artifacts[0].parts.len(), 1);
}

#[test]
fn the_snapshot_outlives_the_history_of_its_early_events() {
    let queue = small(1);
    queue.publish(artifact_chunk("a", "r", "1", false)).unwrap();
    queue.publish(artifact_chunk("a", "r", "2", true)).unwrap();
    queue.publish(working("b")).unwrap();
    let task = queue.task(&plan("a")).unwrap();
    assert_eq!(task.task.artifacts[0].parts.len(), 2);
    assert_eq!(task.as_of, EventId::new(2));
}

#[test]
fn finished_tasks_are_kept_as_long_as_their_plans_are_remembered() {
    let queue = A2aEventQueue::with_config(QueueConfig {
        finished_plans: 1,
        ..QueueConfig::default()
    })
    .unwrap();
    queue.publish(status("a", TaskState::Completed)).unwrap();
    assert_eq!(
        queue.task(&plan("a")).unwrap().task.status.state,
        TaskState::Completed
    );
    let finished = SubscribeRequest::plan(plan("a")).with_snapshot();
    assert!(matches!(
        queue.subscribe(finished),
        Err(SubscribeError::PlanFinished { .. })
    ));
    queue.publish(status("b", TaskState::Failed)).unwrap();
    assert!(
        queue.task(&plan("a")).is_none(),
        "one finished plan is remembered"
    );
    assert!(queue.task(&plan("b")).is_some());

    let forgetful = A2aEventQueue::with_config(QueueConfig {
        finished_ttl: std::time::Duration::ZERO,
        ..QueueConfig::default()
    })
    .unwrap();
    forgetful
        .publish(status("a", TaskState::Completed))
        .unwrap();
    assert!(
        forgetful.task(&plan("a")).is_none(),
        "past its time to live"
    );
    assert_eq!(forgetful.terminal_event(&plan("a")), None);
    assert!(
        forgetful.publish(working("a")).is_ok(),
        "its id is free again"
    );

    let none = A2aEventQueue::with_config(QueueConfig {
        finished_plans: 0,
        ..QueueConfig::default()
    })
    .unwrap();
    none.publish(working("a")).unwrap();
    assert!(none.task(&plan("a")).is_some());
    none.publish(status("a", TaskState::Completed)).unwrap();
    assert!(none.task(&plan("a")).is_none());
}

#[test]
fn snapshots_can_be_turned_off() {
    let queue = A2aEventQueue::with_config(QueueConfig {
        task_snapshots: false,
        ..QueueConfig::default()
    })
    .unwrap();
    queue.publish(working("a")).unwrap();
    assert!(queue.task(&plan("a")).is_none());
}

#[test]
fn a_live_subscription_stays_small() {
    // Paid once per open stream, and held inline by `EventStream`: with 10,000 streams
    // each 8 bytes is 80 kB. This bound keeps new fields from creeping in unnoticed.
    assert!(std::mem::size_of::<Subscription>() <= 80);
    assert_eq!(
        std::mem::size_of::<EventStream>(),
        std::mem::size_of::<Subscription>()
    );
}
