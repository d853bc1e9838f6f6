//! [`A2aEventQueue`]: the in-memory publish/subscribe queue.

use std::collections::{HashMap, VecDeque};
use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::task::Waker;
use std::time::{Duration, Instant};

use parking_lot::Mutex;

use crate::engine::{self, HistoryView, ReplayFrom};
use crate::error::{PublishError, QueueConfigError, SubscribeError};
use crate::event::{A2aEvent, NewEvent, SharedEvent, StoredEvent, Timestamp};
use crate::ids::{EventId, PlanId};
use crate::inbox::{Registry, Slot, SlotEnd, SlotKey, wake_all};
use crate::listing::{TaskPage, TaskQuery};
use crate::push::MemoryPush;
use crate::subscription::Subscription;
use crate::task::TaskSnapshot;

/// Bound on what one subscriber may have waiting, undelivered.
///
/// When a new event would exceed either bound, that subscription ends with a
/// [`lagged`](crate::SubscriptionEnd::Lagged) notice. An empty buffer takes any one event: one
/// larger than `bytes` is still accepted, so an oversized event cannot make a subscriber
/// lag forever, and `events: 0` behaves as 1.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct BufferLimits {
    /// Most events waiting.
    pub events: usize,
    /// Most JSON bytes waiting.
    pub bytes: usize,
}

impl BufferLimits {
    /// 256 events or 1 MiB, whichever is reached first.
    pub const DEFAULT: Self = Self::new(256, 1 << 20);

    /// At most `events` events and `bytes` JSON bytes waiting.
    #[must_use]
    pub const fn new(events: usize, bytes: usize) -> Self {
        Self { events, bytes }
    }

    /// At most `events` events waiting, and the default byte bound.
    #[must_use]
    pub const fn events(events: usize) -> Self {
        Self::new(events, Self::DEFAULT.bytes)
    }
}

impl Default for BufferLimits {
    fn default() -> Self {
        Self::DEFAULT
    }
}

/// Sizes of an [`A2aEventQueue`]. The defaults suit a single server with a few thousand
/// subscribers; every field can be changed before [`A2aEventQueue::with_config`], which
/// checks them.
///
/// ```
/// use a2a_events::{A2aEventQueue, QueueConfig};
///
/// let mut config = QueueConfig::default();
/// config.history_events = 10_000;
/// let queue = A2aEventQueue::with_config(config)?;
/// # Ok::<(), a2a_events::QueueConfigError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct QueueConfig {
    /// Most events kept for resume (default 1024). `0` keeps none.
    pub history_events: usize,
    /// Most JSON bytes kept for resume (default 8 MiB).
    pub history_bytes: usize,
    /// Per-subscriber buffer used when a subscription asks for none of its own.
    pub buffer: BufferLimits,
    /// How many finished plans the queue remembers, with their task snapshots, to refuse
    /// late publishes, answer resumes past their end and `GetTask` (default 10,000; the
    /// oldest is forgotten first).
    pub finished_plans: usize,
    /// How long a finished plan is remembered at most (default one hour). Once forgotten,
    /// its id is free again and its snapshot gone.
    pub finished_ttl: Duration,
    /// Keep each plan's [`TaskSnapshot`] up to date as its events are published (default
    /// on), for [`A2aEventQueue::task`] and [`SubscribeRequest::with_snapshot`]. A plan's
    /// snapshot lives while the plan runs, then as long as the plan is remembered.
    pub task_snapshots: bool,
    /// Most events kept per task for its push notification configs, waiting to be
    /// delivered (default 10,000): past it the oldest are dropped, and a config that still
    /// needed them reports them lost.
    pub push_backlog: usize,
}

impl Default for QueueConfig {
    fn default() -> Self {
        Self {
            history_events: 1024,
            history_bytes: 8 << 20,
            buffer: BufferLimits::DEFAULT,
            finished_plans: 10_000,
            finished_ttl: Duration::from_secs(60 * 60),
            task_snapshots: true,
            push_backlog: 10_000,
        }
    }
}

/// What to subscribe to: built with [`all`](Self::all) or [`plan`](Self::plan), then
/// [`after`](Self::after) and [`buffer`](Self::buffer).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct SubscribeRequest {
    /// Only this plan's events; `None` for every plan.
    pub plan: Option<PlanId>,
    /// Replay retained events after this id first (a client's `Last-Event-ID`); `None` to
    /// start with the next event published.
    pub after: Option<EventId>,
    /// This subscriber's buffer; `None` for the queue's default.
    pub buffer: Option<BufferLimits>,
    /// Start with the plan's [`TaskSnapshot`] (plan-filtered subscriptions only); see
    /// [`with_snapshot`](Self::with_snapshot).
    pub snapshot: bool,
}

impl SubscribeRequest {
    /// Every plan's events, from now on.
    #[must_use]
    pub fn all() -> Self {
        Self::default()
    }

    /// Only `plan`'s events, from now on.
    #[must_use]
    pub fn plan(plan: PlanId) -> Self {
        Self {
            plan: Some(plan),
            ..Self::default()
        }
    }

    /// Replays retained events after `id` before going live.
    #[must_use]
    pub const fn after(mut self, id: EventId) -> Self {
        self.after = Some(id);
        self
    }

    /// Starts with the plan's task as it is now, as A2A's `SubscribeToTask` does: the
    /// first item is a [`SubscriptionItem::Snapshot`](crate::SubscriptionItem::Snapshot) taken in the same step as the
    /// subscription, then live events follow with no gap and no duplicate.
    ///
    /// With [`after`](Self::after), a resume that history still covers replays as
    /// usual, without a snapshot; one that history no longer covers gets a fresh snapshot
    /// instead of a `reset`, and goes live from there. A plan with no event yet is
    /// [`SubscribeError::UnknownPlan`]. Ignored without a plan filter.
    #[must_use]
    pub const fn with_snapshot(mut self) -> Self {
        self.snapshot = true;
        self
    }

    /// Uses `limits` for this subscriber's buffer.
    #[must_use]
    pub const fn buffer(mut self, limits: BufferLimits) -> Self {
        self.buffer = Some(limits);
        self
    }
}

/// An in-memory, multi-producer, multi-consumer event queue with bounded history.
///
/// Cloning gives another handle to the same queue. When the last handle is dropped the
/// queue closes, as if [`close`](Self::close) had been called. See the [crate docs](crate)
/// for ordering, lag, reset and closing.
pub struct A2aEventQueue {
    shared: Arc<Shared>,
}

pub(crate) struct Shared {
    state: Mutex<State>,
    config: QueueConfig,
    subscribers: AtomicUsize,
    handles: AtomicUsize,
    closed: AtomicBool,
}

struct State {
    next_id: u64,
    history: VecDeque<SharedEvent>,
    history_bytes: usize,
    /// The live subscribers' slots, by plan.
    registry: Registry,
    finished: HashMap<PlanId, EventId>,
    /// Finished plans, oldest first, with when they finished.
    finished_order: VecDeque<(PlanId, Instant)>,
    tasks: HashMap<PlanId, Arc<TaskSnapshot>>,
    /// Push notification configs and the events they still need.
    push: MemoryPush,
}

impl Shared {
    pub(crate) fn is_closed(&self) -> bool {
        self.closed.load(Ordering::Acquire)
    }

    /// Removes the slot registered at `key` for `plan`, unless it was removed already (lag,
    /// close) and its index reused.
    pub(crate) fn unregister(&self, plan: Option<&PlanId>, key: SlotKey, slot: &Arc<Slot>) {
        if self.state.lock().registry.remove(plan, key, slot) {
            self.subscribers.fetch_sub(1, Ordering::Relaxed);
        }
    }
}

impl A2aEventQueue {
    /// A queue with the default [`QueueConfig`].
    #[must_use]
    pub fn new() -> Self {
        Self::build(QueueConfig::default())
    }

    /// A queue with `config`.
    ///
    /// # Errors
    ///
    /// [`QueueConfigError::EmptyBuffer`] when the default buffer allows no event or no byte.
    pub fn with_config(config: QueueConfig) -> Result<Self, QueueConfigError> {
        if config.buffer.events == 0 || config.buffer.bytes == 0 {
            return Err(QueueConfigError::EmptyBuffer);
        }
        Ok(Self::build(config))
    }

    fn build(config: QueueConfig) -> Self {
        let state = State {
            next_id: 1,
            history: VecDeque::new(),
            history_bytes: 0,
            registry: Registry::default(),
            finished: HashMap::new(),
            finished_order: VecDeque::new(),
            tasks: HashMap::new(),
            push: MemoryPush::default(),
        };
        Self {
            shared: Arc::new(Shared {
                state: Mutex::new(state),
                config,
                subscribers: AtomicUsize::new(0),
                handles: AtomicUsize::new(1),
                closed: AtomicBool::new(false),
            }),
        }
    }

    /// The queue's configuration.
    #[must_use]
    pub fn config(&self) -> &QueueConfig {
        &self.shared.config
    }

    /// Publishes `event` and returns the id it was given.
    ///
    /// The event is serialized once, stored in history, and handed to every matching
    /// subscriber as a shared reference. This never waits for a subscriber: one whose
    /// buffer is full is ended with a `lagged` notice instead. Subscribers are woken after
    /// the queue's lock is released.
    ///
    /// # Errors
    ///
    /// [`PublishError::Closed`] after [`close`](Self::close);
    /// [`PublishError::PlanFinished`] when the plan already reached a terminal state.
    pub fn publish(&self, event: NewEvent) -> Result<EventId, PublishError> {
        let mut wakers = Vec::new();
        let id = {
            let mut state = self.shared.state.lock();
            // At most one waker per live subscriber: one allocation instead of regrowing
            // the list while 10,000 subscribers are offered the event under the lock.
            wakers.reserve(self.shared.subscribers.load(Ordering::Relaxed));
            if self.shared.is_closed() {
                return Err(PublishError::Closed);
            }
            state.forget_expired(&self.shared.config);
            if let Some(&terminal) = state.finished.get(&event.plan_id) {
                return Err(PublishError::PlanFinished {
                    plan: event.plan_id,
                    terminal,
                });
            }
            let id = EventId::new(state.next_id);
            let timestamp = event.timestamp.unwrap_or_else(Timestamp::now);
            let event = A2aEvent::new(id, event.plan_id, timestamp, event.payload);
            let stored = Arc::new(StoredEvent::new(&event)?);
            state.next_id += 1;
            if self.shared.config.task_snapshots {
                state.fold(&event);
            }
            state.remember(&stored, &self.shared.config);
            state.push.record(&stored, self.shared.config.push_backlog);
            let dropped = state.registry.fan_out(&stored, &mut wakers);
            self.shared
                .subscribers
                .fetch_sub(dropped, Ordering::Relaxed);
            id
        };
        wake_all(wakers, id);
        Ok(id)
    }

    /// Subscribes to the queue.
    ///
    /// With `request.after`, retained events after that id are replayed first, then live
    /// events follow with no gap and no duplicate at the seam. When events after `after`
    /// are no longer retained, a [`reset`](crate::SubscriptionItem::Reset) notice comes
    /// first, then the retained events after `after`; when `after` is ahead of the queue
    /// (its history was lost in a restart, and its ids start again from 1), the notice
    /// is followed by every retained event. The [`engine`] module has the full rules.
    ///
    /// # Errors
    ///
    /// [`SubscribeError::Closed`] after [`close`](Self::close);
    /// [`SubscribeError::PlanFinished`] when `request.plan` already finished and `after`
    /// is absent, at or past its terminal event, or so old that the terminal event left
    /// history: such a subscription could never receive anything of the plan;
    /// [`SubscribeError::UnknownPlan`] when a snapshot is asked for a plan without one
    /// (after the finished-plan check: a finished plan is refused as finished).
    pub fn subscribe(&self, request: SubscribeRequest) -> Result<Subscription, SubscribeError> {
        let limits = request.buffer.unwrap_or(self.shared.config.buffer);
        let mut state = self.shared.state.lock();
        if self.shared.is_closed() {
            return Err(SubscribeError::Closed);
        }
        state.forget_expired(&self.shared.config);
        let mut replay = engine::decide(&request, state.view(&request))?;
        if let Some(from) = replay.from() {
            // History holds ids in order, so the start is found by binary search.
            let start = match from {
                ReplayFrom::After(after) => state.history.partition_point(|e| e.id() <= after),
                ReplayFrom::Oldest => 0,
            };
            replay.take_page(state.history.range(start..), false);
        }
        // Registered in the same critical section as the history was read: an event
        // published concurrently is either replayed or delivered live. A finished plan
        // gets its replay and nothing live: no inbox is registered.
        Ok(Subscription::new(Arc::clone(&self.shared), replay, || {
            let slot = Arc::new(Slot::new(limits));
            let key = state
                .registry
                .insert(request.plan.as_ref(), Arc::clone(&slot));
            self.shared.subscribers.fetch_add(1, Ordering::Relaxed);
            (key, slot)
        }))
    }

    /// How many subscriptions currently receive live events. A subscription stops counting
    /// as soon as it is dropped, lags, ends after its plan finished, or the queue closes.
    #[must_use]
    pub fn subscriber_count(&self) -> usize {
        self.shared.subscribers.load(Ordering::Relaxed)
    }

    /// The id of the event that finished `plan`, if it finished and is still remembered.
    #[must_use]
    pub fn terminal_event(&self, plan: &PlanId) -> Option<EventId> {
        let mut state = self.shared.state.lock();
        state.forget_expired(&self.shared.config);
        state.finished.get(plan).copied()
    }

    /// Runs `f` on the queue's push state, under its lock.
    pub(crate) fn with_push<R>(&self, f: impl FnOnce(&mut MemoryPush) -> R) -> R {
        f(&mut self.shared.state.lock().push)
    }

    /// One page of the tasks the queue remembers (A2A's `ListTasks`): running plans and
    /// remembered finished ones, as [`TaskPage::select`] orders and pages them.
    #[must_use]
    pub fn list_tasks(&self, query: &TaskQuery) -> TaskPage {
        let mut state = self.shared.state.lock();
        state.forget_expired(&self.shared.config);
        TaskPage::select(state.tasks.values(), query)
    }

    /// `plan`'s task as of its latest event (A2A's `GetTask`), if it has one: it has
    /// published something, is running or still remembered, and snapshots are on.
    #[must_use]
    pub fn task(&self, plan: &PlanId) -> Option<Arc<TaskSnapshot>> {
        let mut state = self.shared.state.lock();
        state.forget_expired(&self.shared.config);
        state.tasks.get(plan).cloned()
    }

    /// The id of the newest event, or `None` before the first publish.
    #[must_use]
    pub fn last_event_id(&self) -> Option<EventId> {
        let next = self.shared.state.lock().next_id;
        (next > 1).then(|| EventId::new(next - 1))
    }

    /// Closes the queue: publishing and subscribing fail from now on, and every
    /// subscription ends at its next poll (events still buffered for it are dropped, so a
    /// slow client cannot hold a shutdown open). Calling it again does nothing.
    pub fn close(&self) {
        let wakers: Vec<Waker> = {
            let mut state = self.shared.state.lock();
            self.shared.closed.store(true, Ordering::Release);
            let wakers = state.registry.end_all(SlotEnd::Closed);
            self.shared.subscribers.store(0, Ordering::Relaxed);
            wakers
        };
        for waker in wakers {
            waker.wake();
        }
    }

    /// Whether [`close`](Self::close) was called.
    #[must_use]
    pub fn is_closed(&self) -> bool {
        self.shared.is_closed()
    }
}

impl State {
    /// Adds an event to history (evicting the oldest beyond the bounds) and records the end
    /// of its plan when it is terminal.
    fn remember(&mut self, event: &SharedEvent, config: &QueueConfig) {
        if config.history_events > 0 {
            self.history.push_back(Arc::clone(event));
            self.history_bytes += event.json().len();
            while self.history.len() > config.history_events
                || (self.history_bytes > config.history_bytes && self.history.len() > 1)
            {
                if let Some(old) = self.history.pop_front() {
                    self.history_bytes -= old.json().len();
                }
            }
        }
        if event.is_terminal() {
            if config.finished_plans == 0 {
                self.tasks.remove(event.plan_id());
                return;
            }
            self.finished.insert(event.plan_id().clone(), event.id());
            self.finished_order
                .push_back((event.plan_id().clone(), Instant::now()));
            if self.finished_order.len() > config.finished_plans
                && let Some((old, _)) = self.finished_order.pop_front()
            {
                self.forget(&old);
            }
        }
    }

    /// Folds `event` into its plan's snapshot.
    fn fold(&mut self, event: &A2aEvent) {
        match self.tasks.get_mut(&event.plan_id) {
            Some(snapshot) => Arc::make_mut(snapshot).fold(event),
            None => {
                let snapshot = TaskSnapshot::of(event);
                self.tasks.insert(event.plan_id.clone(), Arc::new(snapshot));
            }
        }
    }

    /// Forgets finished plans older than the configured time to live.
    fn forget_expired(&mut self, config: &QueueConfig) {
        while let Some((plan, at)) = self.finished_order.front() {
            if at.elapsed() < config.finished_ttl {
                break;
            }
            let plan = plan.clone();
            self.finished_order.pop_front();
            self.forget(&plan);
        }
    }

    fn forget(&mut self, plan: &PlanId) {
        self.finished.remove(plan);
        self.tasks.remove(plan);
    }

    /// What [`engine::decide`] needs to know of this queue for `request`.
    fn view(&self, request: &SubscribeRequest) -> HistoryView {
        let newest = (self.next_id > 1).then(|| EventId::new(self.next_id - 1));
        let mut view = HistoryView::new(newest, self.history.front().map(|e| e.id()));
        if let Some(after) = request.after {
            let next = self.history.partition_point(|e| e.id() <= after);
            view.next_after = self.history.get(next).map(|e| e.id());
        }
        if let Some(plan) = &request.plan {
            view.terminal = self.finished.get(plan).copied();
            if request.snapshot {
                view.task = self.tasks.get(plan).cloned();
            }
        }
        view
    }
}

impl Default for A2aEventQueue {
    fn default() -> Self {
        Self::new()
    }
}

impl Clone for A2aEventQueue {
    fn clone(&self) -> Self {
        self.shared.handles.fetch_add(1, Ordering::Relaxed);
        Self {
            shared: Arc::clone(&self.shared),
        }
    }
}

impl Drop for A2aEventQueue {
    fn drop(&mut self) {
        if self.shared.handles.fetch_sub(1, Ordering::AcqRel) == 1 {
            self.close();
        }
    }
}

impl fmt::Debug for A2aEventQueue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("A2aEventQueue")
            .field("subscribers", &self.subscriber_count())
            .field("closed", &self.is_closed())
            .field("config", &self.shared.config)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests;
