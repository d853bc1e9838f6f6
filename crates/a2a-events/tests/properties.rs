//! Property tests of `A2aEventQueue`: plan filtering, the replay/live seam under concurrent
//! publishing, resume against a model, slow-consumer isolation, shared serialization, and
//! the task snapshot's fold of artifact chunks.

use std::collections::{BTreeMap, VecDeque};
use std::sync::{Arc, Barrier, mpsc};
use std::thread;
use std::time::Duration;

use a2a_events::{
    A2aEventQueue, Artifact, BufferLimits, EventId, EventPayload, LagNotice, NewEvent, Part,
    PartContent, PlanId, QueueConfig, ResetNotice, SharedEvent, SubscribeRequest, Subscription,
    SubscriptionEnd, SubscriptionItem, Task, TaskArtifactUpdateEvent, TaskState,
    TaskStatusUpdateEvent,
};
use futures_util::{FutureExt, StreamExt};
use proptest::prelude::*;
use proptest::sample::Index;
use proptest::test_runner::TestCaseError;

const PLANS: [&str; 4] = ["plan-a", "plan-b", "plan-c", "plan-d"];

fn plan(index: usize) -> PlanId {
    PlanId::new(PLANS[index]).unwrap()
}

/// A non-terminal status update for plan `index`, so no plan ever finishes.
fn working(index: usize) -> NewEvent {
    NewEvent::new(
        plan(index),
        EventPayload::StatusUpdate(TaskStatusUpdateEvent {
            task_id: PLANS[index].into(),
            context_id: "ctx".into(),
            status: TaskState::Working.into(),
            metadata: None,
        }),
    )
}

fn request(filter: Option<usize>) -> SubscribeRequest {
    filter.map_or_else(SubscribeRequest::all, |p| SubscribeRequest::plan(plan(p)))
}

/// Everything the subscription has ready now, without a runtime and without waiting.
fn drain(sub: &mut Subscription) -> Vec<SubscriptionItem> {
    let mut out = Vec::new();
    while let Some(Some(item)) = sub.next().now_or_never() {
        out.push(item);
    }
    out
}

/// An item reduced to what the properties compare.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Seen {
    Event { id: u64, plan: String },
    Reset { requested: u64, oldest: Option<u64> },
    Lagged(Option<u64>),
    Other(String),
}

impl Seen {
    fn event(id: u64, plan_index: usize) -> Self {
        Self::Event {
            id,
            plan: PLANS[plan_index].to_owned(),
        }
    }
}

fn seen(item: &SubscriptionItem) -> Seen {
    match item {
        SubscriptionItem::Event(e) => Seen::Event {
            id: e.id().sequence(),
            plan: e.plan_id().as_str().to_owned(),
        },
        SubscriptionItem::Reset(ResetNotice {
            requested,
            oldest_retained,
            ..
        }) => Seen::Reset {
            requested: requested.sequence(),
            oldest: oldest_retained.map(EventId::sequence),
        },
        SubscriptionItem::End(SubscriptionEnd::Lagged(LagNotice { last_delivered, .. })) => {
            Seen::Lagged(last_delivered.map(EventId::sequence))
        }
        other => Seen::Other(format!("{other:?}")),
    }
}

/// The ids of `items`, failing on anything that is not an event.
fn event_ids(items: &[SubscriptionItem]) -> Result<Vec<u64>, TestCaseError> {
    items
        .iter()
        .map(|item| match item {
            SubscriptionItem::Event(e) => Ok(e.id().sequence()),
            other => Err(TestCaseError::fail(format!(
                "expected an event, got {other:?}"
            ))),
        })
        .collect()
}

fn last_id(queue: &A2aEventQueue) -> u64 {
    queue.last_event_id().map_or(0, EventId::sequence)
}

/// Runs `scenario` on its own thread and fails if it does not finish within a deadline, so
/// that a `publish` that blocks shows up as a failure rather than a hung test.
fn within_deadline<T: Send + 'static>(scenario: impl FnOnce() -> T + Send + 'static) -> T {
    const DEADLINE: Duration = Duration::from_secs(10);
    let (done, result) = mpsc::channel();
    let worker = thread::spawn(move || {
        let _ = done.send(scenario());
    });
    match result.recv_timeout(DEADLINE) {
        Ok(value) => {
            worker.join().unwrap();
            value
        }
        Err(mpsc::RecvTimeoutError::Timeout) => {
            panic!("the scenario did not finish within {DEADLINE:?}: something blocked")
        }
        Err(mpsc::RecvTimeoutError::Disconnected) => match worker.join() {
            Err(panic) => std::panic::resume_unwind(panic),
            Ok(()) => unreachable!("the worker sends its result before it ends"),
        },
    }
}

// ---------------------------------------------------------------------------------------
// 1. Plan filtering
// ---------------------------------------------------------------------------------------

#[derive(Debug, Clone)]
enum FilterOp {
    Publish(usize),
    /// Subscribe to a plan, resuming `back` events before the newest one, or live only.
    Subscribe {
        plan: usize,
        back: Option<u64>,
        slack: usize,
    },
    /// Drain one of the subscriptions opened so far.
    Drain(Index),
}

fn filter_op() -> impl Strategy<Value = FilterOp> {
    prop_oneof![
        5 => (0..PLANS.len()).prop_map(FilterOp::Publish),
        1 => (0..PLANS.len(), proptest::option::of(0u64..12), 0usize..8)
            .prop_map(|(plan, back, slack)| FilterOp::Subscribe { plan, back, slack }),
        1 => any::<Index>().prop_map(FilterOp::Drain),
    ]
}

struct Filtered {
    plan: usize,
    /// Ids at or below this were published before the subscription's start point.
    start: u64,
    sub: Subscription,
    received: Vec<u64>,
}

impl Filtered {
    fn take(&mut self) -> Result<(), TestCaseError> {
        for item in drain(&mut self.sub) {
            let SubscriptionItem::Event(event) = item else {
                return Err(TestCaseError::fail(format!(
                    "a subscriber that cannot lag got {item:?}"
                )));
            };
            prop_assert_eq!(
                event.plan_id(),
                &plan(self.plan),
                "event {} reached a subscriber of another plan",
                event.id()
            );
            self.received.push(event.id().sequence());
        }
        Ok(())
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn a_plan_filtered_subscriber_never_receives_another_plans_event(
        ops in proptest::collection::vec(filter_op(), 1..120),
    ) {
        let queue = A2aEventQueue::new();
        let mut published: Vec<(u64, usize)> = Vec::new();
        let mut subs: Vec<Filtered> = Vec::new();
        for op in &ops {
            match *op {
                FilterOp::Publish(p) => {
                    let id = queue.publish(working(p)).unwrap().sequence();
                    published.push((id, p));
                }
                FilterOp::Subscribe { plan: p, back, slack } => {
                    let last = last_id(&queue);
                    let after = back.map(|back| last.saturating_sub(back));
                    // More room than there are operations: this subscriber cannot lag.
                    let events = ops.len() + 1 + slack;
                    let limits = BufferLimits::new(events, events * 1024);
                    let mut req = request(Some(p)).buffer(limits);
                    req.after = after.map(EventId::new);
                    let sub = queue.subscribe(req).unwrap();
                    subs.push(Filtered { plan: p, start: after.unwrap_or(last), sub, received: Vec::new() });
                }
                FilterOp::Drain(index) => {
                    if !subs.is_empty() {
                        let at = index.index(subs.len());
                        subs[at].take()?;
                    }
                }
            }
        }
        for sub in &mut subs {
            sub.take()?;
            // Also complete: every event of its plan after its start, in order.
            let expected: Vec<u64> = published
                .iter()
                .filter(|&&(id, p)| p == sub.plan && id > sub.start)
                .map(|&(id, _)| id)
                .collect();
            prop_assert_eq!(&sub.received, &expected);
        }
    }
}

// ---------------------------------------------------------------------------------------
// 2. The replay/live seam under concurrent publishing
// ---------------------------------------------------------------------------------------

/// When and how the subscribing thread subscribes.
#[derive(Debug, Clone)]
struct SeamSubscribe {
    /// Wait until this share (per mille) of all events was published.
    permille: usize,
    /// Resume this many events before the newest one seen.
    back: u64,
    /// Only the events of this publisher thread's plan.
    filter: Option<Index>,
}

fn seam_subscribe() -> impl Strategy<Value = SeamSubscribe> {
    (0usize..=1000, 0u64..4, proptest::option::of(any::<Index>())).prop_map(
        |(permille, back, filter)| SeamSubscribe {
            permille,
            back,
            filter,
        },
    )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn concurrent_publishing_during_subscribe_neither_loses_nor_duplicates_at_the_seam(
        per_thread in proptest::collection::vec(20usize..200, 1..=3),
        plan_of in proptest::collection::vec(0..PLANS.len(), 3),
        subscribes in proptest::collection::vec(seam_subscribe(), 1..24),
    ) {
        let total: usize = per_thread.iter().sum();
        let room = total + 16;
        let mut config = QueueConfig::default();
        config.history_events = room;
        config.history_bytes = usize::MAX;
        config.buffer = BufferLimits::new(room, usize::MAX);
        let queue = A2aEventQueue::with_config(config).unwrap();
        let threads = per_thread.len();
        let start = Barrier::new(threads + 1);
        let (per_publisher, subscriptions) = thread::scope(|scope| {
            let publishers: Vec<_> = per_thread
                .iter()
                .enumerate()
                .map(|(t, &count)| {
                    let (queue, start, p) = (&queue, &start, plan_of[t]);
                    scope.spawn(move || {
                        start.wait();
                        (0..count)
                            .map(|_| queue.publish(working(p)).unwrap().sequence())
                            .collect::<Vec<u64>>()
                    })
                })
                .collect();
            let subscriber = scope.spawn(|| {
                start.wait();
                subscribes
                    .iter()
                    .map(|s| {
                        let threshold = (total * s.permille / 1000) as u64;
                        while last_id(&queue) < threshold {
                            thread::yield_now();
                        }
                        let after = last_id(&queue).saturating_sub(s.back);
                        let filter = s.filter.map(|i| i.index(threads));
                        let sub = queue
                            .subscribe(request(filter.map(|t| plan_of[t])).after(EventId::new(after)))
                            .unwrap();
                        (after, filter, sub)
                    })
                    .collect::<Vec<_>>()
            });
            let per_publisher: Vec<Vec<u64>> =
                publishers.into_iter().map(|h| h.join().unwrap()).collect();
            (per_publisher, subscriber.join().unwrap())
        });
        prop_assert_eq!(last_id(&queue), total as u64);
        for (after, filter, mut sub) in subscriptions {
            let got = event_ids(&drain(&mut sub))?;
            let expected: Vec<u64> = match filter {
                None => (after + 1..=total as u64).collect(),
                Some(t) => {
                    // Threads may share a plan; the subscriber gets all of that plan's events.
                    let mut ids: Vec<u64> = per_publisher
                        .iter()
                        .enumerate()
                        .filter(|&(u, _)| plan_of[u] == plan_of[t])
                        .flat_map(|(_, ids)| ids.iter().copied())
                        .filter(|&id| id > after)
                        .collect();
                    ids.sort_unstable();
                    ids
                }
            };
            prop_assert_eq!(got, expected, "resumed after {} with filter {:?}", after, filter);
        }
    }
}

// ---------------------------------------------------------------------------------------
// 3. Resume against a model
// ---------------------------------------------------------------------------------------

#[derive(Debug, Clone)]
enum ResumeOp {
    Publish(usize),
    /// Resume `back` events before the newest one; a negative `back` is ahead of the queue.
    Resume {
        back: i64,
        filter: Option<usize>,
    },
    /// Drain every open subscription.
    Drain,
}

fn resume_op() -> impl Strategy<Value = ResumeOp> {
    prop_oneof![
        4 => (0..3usize).prop_map(ResumeOp::Publish),
        2 => (-3i64..14, proptest::option::of(0..3usize))
            .prop_map(|(back, filter)| ResumeOp::Resume { back, filter }),
        1 => Just(ResumeOp::Drain),
    ]
}

struct Resumed {
    filter: Option<usize>,
    sub: Subscription,
    expected: Vec<Seen>,
    received: Vec<Seen>,
}

impl Resumed {
    fn take(&mut self) {
        self.received.extend(drain(&mut self.sub).iter().map(seen));
    }
}

/// What a subscription resuming after `after` must yield first, by the documented rules:
/// the retained events after `after`; when an event after `after` was evicted, a reset
/// naming the oldest retained event, then the retained events after `after`; when `after`
/// is ahead of the queue, the reset, then every retained event.
fn expected_replay(
    published: &[(u64, usize)],
    history: usize,
    after: u64,
    filter: Option<usize>,
) -> Vec<Seen> {
    let last = published.len() as u64;
    let retained = &published[published.len() - history.min(published.len())..];
    let oldest = retained.first().map(|&(id, _)| id);
    let ahead = after > last;
    let evicted = after < last && !retained.iter().any(|&(id, _)| id == after + 1);
    let mut items = Vec::new();
    if ahead || evicted {
        items.push(Seen::Reset {
            requested: after,
            oldest,
        });
    }
    let from = if ahead { 0 } else { after };
    items.extend(
        retained
            .iter()
            .filter(|&&(id, p)| id > from && filter.is_none_or(|f| f == p))
            .map(|&(id, p)| Seen::event(id, p)),
    );
    items
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn any_interleaving_of_publishes_and_resumes_yields_exactly_the_events_after_the_resume_point(
        history in 0usize..8,
        ops in proptest::collection::vec(resume_op(), 1..60),
    ) {
        let queue = A2aEventQueue::with_config({
            let mut config = QueueConfig::default();
            config.history_events = history;
            config
        })
        .unwrap();
        let mut published: Vec<(u64, usize)> = Vec::new();
        let mut subs: Vec<Resumed> = Vec::new();
        for op in ops {
            match op {
                ResumeOp::Publish(p) => {
                    let id = queue.publish(working(p)).unwrap().sequence();
                    prop_assert_eq!(id, published.len() as u64 + 1);
                    published.push((id, p));
                    for sub in &mut subs {
                        if sub.filter.is_none_or(|f| f == p) {
                            sub.expected.push(Seen::event(id, p));
                        }
                    }
                }
                ResumeOp::Resume { back, filter } => {
                    let last = published.len() as i64;
                    let after = u64::try_from((last - back).max(0)).unwrap();
                    let sub = queue
                        .subscribe(request(filter).after(EventId::new(after)))
                        .unwrap();
                    let expected = expected_replay(&published, history, after, filter);
                    subs.push(Resumed { filter, sub, expected, received: Vec::new() });
                }
                ResumeOp::Drain => subs.iter_mut().for_each(Resumed::take),
            }
        }
        for sub in &mut subs {
            sub.take();
            prop_assert_eq!(&sub.received, &sub.expected);
        }
    }
}

// ---------------------------------------------------------------------------------------
// 4. A stalled subscriber
// ---------------------------------------------------------------------------------------

#[derive(Debug, Clone)]
struct Stalled {
    limits: BufferLimits,
    /// How many events it consumes, one right after each publish, before it stalls.
    consumed: usize,
}

fn stalled() -> impl Strategy<Value = Stalled> {
    (1usize..16, 1usize..4000, 0usize..10).prop_map(|(events, bytes, consumed)| Stalled {
        limits: BufferLimits::new(events, bytes),
        consumed,
    })
}

/// The documented buffer rule: an event is refused when the buffer holds `events` already,
/// or when it would exceed `bytes` and the buffer is not empty; a refusal ends the
/// subscription.
#[derive(Debug, Default)]
struct BufferModel {
    waiting: VecDeque<(u64, usize)>,
    bytes: usize,
    lagged: bool,
    last_delivered: Option<u64>,
}

impl BufferModel {
    fn offer(&mut self, limits: BufferLimits, id: u64, len: usize) {
        if self.lagged {
            return;
        }
        let full = self.waiting.len() >= limits.events
            || (self.bytes + len > limits.bytes && !self.waiting.is_empty());
        if full {
            self.lagged = true;
            self.waiting.clear();
            self.bytes = 0;
        } else {
            self.waiting.push_back((id, len));
            self.bytes += len;
        }
    }
}

fn stalled_scenario(
    stalled: &[Stalled],
    active: BufferLimits,
    extra: usize,
) -> Result<(), TestCaseError> {
    let queue = A2aEventQueue::new();
    let mut drained = queue
        .subscribe(SubscribeRequest::all().buffer(active))
        .unwrap();
    let mut slow: Vec<(Subscription, BufferModel)> = stalled
        .iter()
        .map(|s| {
            let sub = queue
                .subscribe(SubscribeRequest::all().buffer(s.limits))
                .unwrap();
            (sub, BufferModel::default())
        })
        .collect();
    prop_assert_eq!(queue.subscriber_count(), 1 + stalled.len());
    // Enough to overflow every stalled buffer, and then some.
    let total = stalled
        .iter()
        .map(|s| s.consumed + s.limits.events)
        .max()
        .unwrap_or(0)
        + extra;
    for n in 1..=total as u64 {
        let id = queue.publish(working(0)).unwrap().sequence();
        prop_assert_eq!(id, n);
        // The drained subscriber has the event at once, whatever the stalled ones do.
        let items = drain(&mut drained);
        let [SubscriptionItem::Event(event)] = &items[..] else {
            return Err(TestCaseError::fail(format!(
                "the drained subscriber got {items:?} after event {id}"
            )));
        };
        prop_assert_eq!(event.id().sequence(), id);
        let len = event.json().len();
        for ((sub, model), s) in slow.iter_mut().zip(stalled) {
            model.offer(s.limits, id, len);
            if id <= s.consumed as u64 {
                let item = sub.next().now_or_never().flatten();
                let (expected, expected_len) = model.waiting.pop_front().unwrap();
                prop_assert!(
                    matches!(&item, Some(SubscriptionItem::Event(e)) if e.id().sequence() == expected),
                    "stalled subscriber consuming event {}: {:?}",
                    expected,
                    item
                );
                model.bytes -= expected_len;
                model.last_delivered = Some(expected);
            }
        }
        let live = slow.iter().filter(|(_, m)| !m.lagged).count();
        prop_assert_eq!(queue.subscriber_count(), 1 + live, "after event {}", id);
    }
    for ((mut sub, model), s) in slow.into_iter().zip(stalled) {
        prop_assert!(model.lagged, "{s:?} should have overflowed");
        let items: Vec<Seen> = drain(&mut sub).iter().map(seen).collect();
        prop_assert_eq!(items, vec![Seen::Lagged(model.last_delivered)], "{:?}", s);
        prop_assert!(sub.next().now_or_never().is_some_and(|item| item.is_none()));
    }
    prop_assert_eq!(queue.subscriber_count(), 1);
    prop_assert!(drain(&mut drained).is_empty());
    Ok(())
}

proptest! {
    // A blocked publish costs the deadline on every shrink step: keep shrinking short.
    #![proptest_config(ProptestConfig {
        cases: 128,
        max_shrink_time: 20_000,
        ..ProptestConfig::default()
    })]

    #[test]
    fn a_stalled_subscriber_blocks_neither_publish_nor_other_subscribers(
        stalled in proptest::collection::vec(stalled(), 1..=3),
        active_events in 1usize..4,
        active_bytes in 1usize..600,
        extra in 1usize..300,
    ) {
        let active = BufferLimits::new(active_events, active_bytes);
        within_deadline(move || stalled_scenario(&stalled, active, extra))?;
    }
}

// ---------------------------------------------------------------------------------------
// 5. One serialization per event
// ---------------------------------------------------------------------------------------

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    #[test]
    fn serialization_happens_once_per_event_whatever_the_number_of_subscribers(
        filters in proptest::collection::vec(proptest::option::of(0..3usize), 1..=24),
        events in proptest::collection::vec(0..3usize, 1..12),
    ) {
        let queue = A2aEventQueue::new();
        let mut subs: Vec<Subscription> = filters
            .iter()
            .map(|&f| queue.subscribe(request(f)).unwrap())
            .collect();
        for &p in &events {
            queue.publish(working(p)).unwrap();
        }
        // A late subscriber replays from history: that must be the same allocation too.
        let mut replayed = queue.subscribe(request(None).after(EventId::new(0))).unwrap();
        let mut deliveries: BTreeMap<u64, Vec<SharedEvent>> = BTreeMap::new();
        for sub in subs.iter_mut().chain([&mut replayed]) {
            for item in drain(sub) {
                let SubscriptionItem::Event(event) = item else {
                    return Err(TestCaseError::fail(format!("unexpected {item:?}")));
                };
                deliveries.entry(event.id().sequence()).or_default().push(event);
            }
        }
        prop_assert_eq!(deliveries.len(), events.len());
        for (id, copies) in &deliveries {
            let p = events[usize::try_from(*id).unwrap() - 1];
            let matching = filters.iter().filter(|f| f.is_none_or(|f| f == p)).count();
            prop_assert_eq!(copies.len(), matching + 1, "deliveries of event {}", id);
            let first = &copies[0];
            for copy in &copies[1..] {
                prop_assert!(Arc::ptr_eq(first, copy), "event {id} was stored twice");
                prop_assert_eq!(
                    first.json().as_ptr(),
                    copy.json().as_ptr(),
                    "event {} was serialized twice",
                    id
                );
            }
        }
    }
}

// ---------------------------------------------------------------------------------------
// 6. The task snapshot's fold of artifact chunks
// ---------------------------------------------------------------------------------------

/// One artifact chunk: which of three artifacts, whether it appends, and its text.
type Chunk = (usize, bool, String);

fn chunk_event(&(artifact, append, ref text): &Chunk) -> NewEvent {
    NewEvent::new(
        plan(0),
        EventPayload::ArtifactUpdate(TaskArtifactUpdateEvent {
            task_id: PLANS[0].into(),
            context_id: "ctx".into(),
            artifact: Artifact {
                artifact_id: format!("art-{artifact}"),
                name: None,
                description: None,
                parts: vec![Part::text(text.clone())],
                metadata: None,
            },
            append: Some(append),
            last_chunk: None,
            metadata: None,
        }),
    )
}

/// The artifacts as a list of (id, texts), applying each chunk by hand: an appending chunk
/// extends the artifact it names, any other chunk replaces it (or adds it at the end).
fn by_hand(chunks: &[Chunk]) -> Vec<(String, Vec<String>)> {
    let mut artifacts: Vec<(String, Vec<String>)> = Vec::new();
    for (artifact, append, text) in chunks {
        let id = format!("art-{artifact}");
        match artifacts.iter_mut().find(|(known, _)| *known == id) {
            Some((_, texts)) if *append => texts.push(text.clone()),
            Some((_, texts)) => *texts = vec![text.clone()],
            None => artifacts.push((id, vec![text.clone()])),
        }
    }
    artifacts
}

fn as_lists(task: &Task) -> Vec<(String, Vec<String>)> {
    task.artifacts
        .iter()
        .map(|a| {
            let texts = a
                .parts
                .iter()
                .map(|p| match &p.content {
                    PartContent::Text(text) => text.clone(),
                    other => format!("{other:?}"),
                })
                .collect();
            (a.artifact_id.clone(), texts)
        })
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn the_snapshot_joins_any_chunks_as_applying_them_one_by_one(
        chunks in proptest::collection::vec((0..3usize, any::<bool>(), "[a-z]{0,3}"), 1..40),
        history in 1..6usize,
        split in any::<Index>(),
    ) {
        // A short history: the snapshot must not depend on what history still holds.
        let queue = A2aEventQueue::with_config({
            let mut config = QueueConfig::default();
            config.history_events = history;
            config
        })
        .unwrap();
        let split = split.index(chunks.len());
        for chunk in &chunks[..split] {
            queue.publish(chunk_event(chunk)).unwrap();
        }
        // A subscriber that starts from the snapshot and folds the live events itself.
        let mut sub = queue
            .subscribe(SubscribeRequest::plan(plan(0)).with_snapshot())
            .ok();
        for chunk in &chunks[split..] {
            queue.publish(chunk_event(chunk)).unwrap();
        }
        let task = queue.task(&plan(0)).unwrap();
        prop_assert_eq!(as_lists(&task.task), by_hand(&chunks));
        prop_assert_eq!(task.as_of.sequence(), chunks.len() as u64);

        let Some(sub) = sub.as_mut() else {
            // Nothing was published before the split: no snapshot to start from.
            prop_assert_eq!(split, 0);
            return Ok(());
        };
        let mut items = drain(sub).into_iter();
        let Some(SubscriptionItem::Snapshot(first)) = items.next() else {
            return Err(TestCaseError::fail("no snapshot first"));
        };
        let mut folded = (*first).clone();
        for item in items {
            let SubscriptionItem::Event(event) = item else {
                return Err(TestCaseError::fail(format!("unexpected {item:?}")));
            };
            let event = event.to_event().unwrap();
            folded.apply(event.id, &event.payload);
        }
        prop_assert_eq!(&folded, &*task);
    }
}
