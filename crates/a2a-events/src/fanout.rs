//! [`Fanout`]: the queue's local delivery on its own, for a backend whose events come from
//! elsewhere (a Redis stream read by one task per process) and already carry their ids.

use std::fmt;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::task::{Context, Poll};

use futures_core::{FusedStream, Stream};
use parking_lot::Mutex;

use crate::engine::Replay;
use crate::error::SubscribeError;
use crate::event::SharedEvent;
use crate::ids::{EventId, PlanId};
use crate::inbox::{Registry, Slot, SlotEnd, SlotKey, wake_all};
use crate::queue::BufferLimits;
use crate::subscription::{self, Engine, SubscriptionItem};

/// Hands shared events to bounded per-subscriber buffers, by plan, as
/// [`A2aEventQueue`](crate::A2aEventQueue) does after it gave an event its id: the same
/// inboxes, the same plan index, the same lag rule.
///
/// A backend that assigns ids elsewhere feeds it with [`send`](Self::send), in id order,
/// from one task; each local subscriber holds a [`Receiver`]. Sending never waits: a
/// receiver whose buffer ([`BufferLimits`]) would overflow is ended at once, its buffer
/// freed, and yields [`Received::Lagged`]; the others go on.
///
/// Cloning gives another handle to the same fan-out; [`close`](Self::close), or dropping
/// the last handle, ends every receiver with [`Received::Closed`].
///
/// ```
/// use a2a_events::*;
/// use futures_util::StreamExt;
///
/// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let fanout = Fanout::new();
/// let plan = PlanId::new("plan-7")?;
/// let mut receiver = fanout.subscribe(Some(plan.clone()), BufferLimits::DEFAULT)?;
///
/// // An event whose id was given elsewhere (here, by hand).
/// let error = EventPayload::Error(ErrorPayload { code: 1, message: "m".into(), data: None });
/// let event = A2aEvent::new(EventId::from_parts(7, 1), plan, Timestamp::now(), error);
/// fanout.send(&std::sync::Arc::new(StoredEvent::new(&event)?));
///
/// match receiver.next().await {
///     Some(Received::Event(event)) => assert_eq!(event.id().to_string(), "7-1"),
///     other => panic!("unexpected {other:?}"),
/// }
/// fanout.close();
/// assert!(matches!(receiver.next().await, Some(Received::Closed)));
/// assert!(receiver.next().await.is_none());
/// # Ok(()) }
/// ```
pub struct Fanout {
    shared: Arc<Shared>,
}

struct Shared {
    registry: Mutex<Registry>,
    receivers: AtomicUsize,
    handles: AtomicUsize,
    closed: AtomicBool,
}

impl Shared {
    /// Removes the inbox registered at `key` for `plan`, unless it is gone already.
    fn unregister(&self, plan: Option<&PlanId>, key: SlotKey, slot: &Arc<Slot>) {
        if self.registry.lock().remove(plan, key, slot) {
            self.receivers.fetch_sub(1, Ordering::Relaxed);
        }
    }

    /// Ends every receiver for `why`, and wakes them.
    fn end_all(&self, why: SlotEnd) {
        let wakers = {
            let mut registry = self.registry.lock();
            self.receivers.store(0, Ordering::Relaxed);
            registry.end_all(why)
        };
        for waker in wakers {
            waker.wake();
        }
    }
}

/// What a [`Receiver`] yields: events, then at most one of the two ends.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum Received {
    /// An event, shared with every other receiver that gets it.
    Event(SharedEvent),
    /// The buffer overflowed (or the fan-out's owner ended everyone as lagged:
    /// [`Fanout::lag_all`]); what waited was dropped. `None` follows.
    Lagged,
    /// The fan-out closed; what waited was dropped. `None` follows.
    Closed,
}

impl Fanout {
    /// A fan-out with no receiver.
    #[must_use]
    pub fn new() -> Self {
        Self {
            shared: Arc::new(Shared {
                registry: Mutex::new(Registry::default()),
                receivers: AtomicUsize::new(0),
                handles: AtomicUsize::new(1),
                closed: AtomicBool::new(false),
            }),
        }
    }

    /// Registers a receiver of `plan`'s events (every plan's: `None`), buffering at most
    /// `limits` (`events: 0` behaves as 1). It receives what is sent from now on.
    ///
    /// # Errors
    ///
    /// [`SubscribeError::Closed`] after [`close`](Self::close).
    pub fn subscribe(
        &self,
        plan: Option<PlanId>,
        limits: BufferLimits,
    ) -> Result<Receiver, SubscribeError> {
        let (key, slot) = self.insert(plan.as_ref(), limits)?;
        Ok(Receiver {
            shared: Arc::clone(&self.shared),
            plan,
            registration: Some((key, slot)),
        })
    }

    /// Registers a subscriber of `plan`'s events (every plan's: `None`) that will become a
    /// [`FanoutSubscription`] once its replay is read: the first step of a backend's
    /// subscribe, taken before it reads its history (see the [`engine`](crate::engine)
    /// module). What is sent from now on waits in its buffer (`limits`).
    ///
    /// # Errors
    ///
    /// [`SubscribeError::Closed`] after [`close`](Self::close).
    pub fn register(
        &self,
        plan: Option<PlanId>,
        limits: BufferLimits,
    ) -> Result<Registration, SubscribeError> {
        let (key, slot) = self.insert(plan.as_ref(), limits)?;
        let hub = Hub {
            shared: Arc::clone(&self.shared),
            seam: None,
        };
        Ok(Registration(Engine::registered(hub, plan, key, slot)))
    }

    fn insert(
        &self,
        plan: Option<&PlanId>,
        limits: BufferLimits,
    ) -> Result<(SlotKey, Arc<Slot>), SubscribeError> {
        let slot = Arc::new(Slot::new(limits));
        let mut registry = self.shared.registry.lock();
        // Checked under the lock that `close` takes, so no receiver registers after it.
        if self.is_closed() {
            return Err(SubscribeError::Closed);
        }
        let key = registry.insert(plan, Arc::clone(&slot));
        self.shared.receivers.fetch_add(1, Ordering::Relaxed);
        Ok((key, slot))
    }

    /// Hands `event` to every receiver of its plan and every unfiltered one. Never waits;
    /// receivers are woken after the lock is released. Events must be sent in id order:
    /// the fan-out does not check it.
    pub fn send(&self, event: &SharedEvent) {
        let mut wakers = Vec::new();
        {
            let mut registry = self.shared.registry.lock();
            wakers.reserve(self.shared.receivers.load(Ordering::Relaxed));
            let dropped = registry.fan_out(event, &mut wakers);
            self.shared.receivers.fetch_sub(dropped, Ordering::Relaxed);
        }
        wake_all(wakers, event.id());
    }

    /// Ends every receiver as if it had lagged: for a source that skipped events (its
    /// history was lost or trimmed while it was away), so that each subscriber resumes
    /// from the last event it delivered. New receivers may register afterwards.
    pub fn lag_all(&self) {
        self.shared.end_all(SlotEnd::Lagged);
    }

    /// Ends every receiver with [`Received::Closed`] and refuses new ones. Calling it
    /// again does nothing.
    pub fn close(&self) {
        {
            // Under the registry's lock, so that `subscribe` sees it or registers before.
            let _registry = self.shared.registry.lock();
            self.shared.closed.store(true, Ordering::Release);
        }
        self.shared.end_all(SlotEnd::Closed);
    }

    /// Whether [`close`](Self::close) was called.
    #[must_use]
    pub fn is_closed(&self) -> bool {
        self.shared.closed.load(Ordering::Acquire)
    }

    /// How many receivers currently get events: one stops counting when it is dropped,
    /// lags, or the fan-out closes.
    #[must_use]
    pub fn receiver_count(&self) -> usize {
        self.shared.receivers.load(Ordering::Relaxed)
    }
}

impl Default for Fanout {
    fn default() -> Self {
        Self::new()
    }
}

impl Clone for Fanout {
    fn clone(&self) -> Self {
        self.shared.handles.fetch_add(1, Ordering::Relaxed);
        Self {
            shared: Arc::clone(&self.shared),
        }
    }
}

impl Drop for Fanout {
    fn drop(&mut self) {
        if self.shared.handles.fetch_sub(1, Ordering::AcqRel) == 1 {
            self.close();
        }
    }
}

impl fmt::Debug for Fanout {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Fanout")
            .field("receivers", &self.receiver_count())
            .field("closed", &self.is_closed())
            .finish_non_exhaustive()
    }
}

/// One local subscriber of a [`Fanout`], as a [`Stream`] of [`Received`].
///
/// It yields events in the order they were sent, then [`Received::Lagged`] or
/// [`Received::Closed`] once, then `None`. Dropping it unregisters at once.
pub struct Receiver {
    shared: Arc<Shared>,
    plan: Option<PlanId>,
    /// `None` once it ended.
    registration: Option<(SlotKey, Arc<Slot>)>,
}

impl Receiver {
    /// The plan it receives, if it is filtered.
    #[must_use]
    pub const fn plan(&self) -> Option<&PlanId> {
        self.plan.as_ref()
    }

    fn unregister(&mut self) {
        if let Some((key, slot)) = self.registration.take() {
            self.shared.unregister(self.plan.as_ref(), key, &slot);
        }
    }
}

impl Stream for Receiver {
    type Item = Received;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Received>> {
        let this = self.get_mut();
        let Some((_, slot)) = &this.registration else {
            return Poll::Ready(None);
        };
        let end = match slot.poll(cx) {
            Poll::Ready(Ok(event)) => return Poll::Ready(Some(Received::Event(event))),
            Poll::Ready(Err(end)) => end,
            Poll::Pending => return Poll::Pending,
        };
        this.unregister();
        Poll::Ready(Some(match end {
            SlotEnd::Lagged => Received::Lagged,
            SlotEnd::Closed => Received::Closed,
        }))
    }
}

impl FusedStream for Receiver {
    fn is_terminated(&self) -> bool {
        self.registration.is_none()
    }
}

impl Drop for Receiver {
    fn drop(&mut self) {
        self.unregister();
    }
}

impl fmt::Debug for Receiver {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Receiver")
            .field("plan", &self.plan)
            .field("ended", &self.registration.is_none())
            .finish_non_exhaustive()
    }
}

/// A subscriber registered with a [`Fanout`] ([`Fanout::register`]) whose replay is being
/// read: what is sent meanwhile waits in its buffer, and a lag or a close is kept for it.
/// Dropping it unregisters at once.
pub struct Registration(Engine<Hub>);

impl Registration {
    /// The subscription: `replay` (decided by [`engine::decide`](crate::engine::decide)
    /// for the same plan, and read), then what was sent to this registration and is newer
    /// than everything the replay covered ([`Replay::seam`]), then one end.
    #[must_use]
    pub fn into_subscription(self, replay: Replay) -> FanoutSubscription {
        let mut engine = self.0;
        engine.start(replay);
        FanoutSubscription(engine)
    }
}

impl fmt::Debug for Registration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.debug("Registration", f)
    }
}

/// A subscription fed by a [`Fanout`], with the contract of the in-memory queue's
/// [`Subscription`](crate::Subscription): its replay, then live events (those the replay
/// covered dropped), then one [`SubscriptionItem::End`], then `None`. The
/// [`engine`](crate::engine) module has the rules. Dropping it unregisters at once.
pub struct FanoutSubscription(Engine<Hub>);

impl FanoutSubscription {
    /// The id of the last event yielded (or the resume point, before any).
    #[must_use]
    pub const fn last_delivered(&self) -> Option<EventId> {
        self.0.last_delivered()
    }
}

impl Stream for FanoutSubscription {
    type Item = SubscriptionItem;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<SubscriptionItem>> {
        self.get_mut().0.poll(cx)
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        self.0.size_hint()
    }
}

impl FusedStream for FanoutSubscription {
    fn is_terminated(&self) -> bool {
        self.0.is_terminated()
    }
}

impl fmt::Debug for FanoutSubscription {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.debug("FanoutSubscription", f)
    }
}

/// A fan-out subscription's side of the fan-out: its shared state, and the seam.
struct Hub {
    shared: Arc<Shared>,
    /// The newest id the subscription's start covered; live events up to it are dropped.
    seam: Option<EventId>,
}

impl subscription::Hub for Hub {
    fn is_closed(&self) -> bool {
        self.shared.closed.load(Ordering::Acquire)
    }

    fn unregister(&self, plan: Option<&PlanId>, key: SlotKey, slot: &Arc<Slot>) {
        self.shared.unregister(plan, key, slot);
    }

    fn covers(&self, id: EventId) -> bool {
        self.seam.is_some_and(|seam| id <= seam)
    }

    fn start(&mut self, replay: &Replay) {
        self.seam = replay.seam();
    }
}

#[cfg(test)]
mod tests {
    use futures_util::{FutureExt, StreamExt};

    use super::*;
    use crate::event::{A2aEvent, EventPayload, StoredEvent, Timestamp};
    use crate::ids::EventId;
    use crate::model::{ErrorPayload, TaskState, TaskStatusUpdateEvent};
    use crate::queue::SubscribeRequest;

    fn plan(name: &str) -> PlanId {
        PlanId::new(name).unwrap()
    }

    fn event(sequence: u64, plan_name: &str) -> SharedEvent {
        let payload = EventPayload::Error(ErrorPayload {
            code: 1,
            message: "m".into(),
            data: None,
        });
        let id = EventId::from_parts(3, sequence);
        let event = A2aEvent::new(id, plan(plan_name), Timestamp::now(), payload);
        Arc::new(StoredEvent::new(&event).unwrap())
    }

    fn next(receiver: &mut Receiver) -> Option<Option<Received>> {
        receiver.next().now_or_never()
    }

    fn sequence(item: Option<Option<Received>>) -> u64 {
        match item {
            Some(Some(Received::Event(event))) => event.id().sequence(),
            other => panic!("expected an event, got {other:?}"),
        }
    }

    #[test]
    fn events_reach_their_plan_and_the_unfiltered_in_order() {
        let fanout = Fanout::new();
        let mut a = fanout
            .subscribe(Some(plan("a")), BufferLimits::DEFAULT)
            .unwrap();
        let mut all = fanout.subscribe(None, BufferLimits::DEFAULT).unwrap();
        assert_eq!(a.plan(), Some(&plan("a")));
        assert_eq!(fanout.receiver_count(), 2);
        fanout.send(&event(1, "a"));
        fanout.send(&event(2, "b"));
        fanout.send(&event(3, "a"));
        assert_eq!(sequence(next(&mut a)), 1);
        assert_eq!(sequence(next(&mut a)), 3);
        assert!(next(&mut a).is_none(), "pending: b's event never reaches a");
        let got: Vec<_> = (0..3).map(|_| sequence(next(&mut all))).collect();
        assert_eq!(got, [1, 2, 3]);
        drop(a);
        assert_eq!(fanout.receiver_count(), 1);
        assert!(format!("{fanout:?}").contains("receivers: 1"));
        assert!(format!("{all:?}").contains("ended: false"));
    }

    #[test]
    fn an_overflowing_receiver_lags_alone() {
        let fanout = Fanout::default();
        let mut slow = fanout.subscribe(None, BufferLimits::events(2)).unwrap();
        let mut fast = fanout.subscribe(None, BufferLimits::events(2)).unwrap();
        for sequence in 1..=3 {
            fanout.send(&event(sequence, "a"));
            assert_eq!(next(&mut fast).map(|_| ()), Some(()));
        }
        assert!(matches!(next(&mut slow), Some(Some(Received::Lagged))));
        assert!(matches!(next(&mut slow), Some(None)));
        assert!(slow.is_terminated());
        assert_eq!(fanout.receiver_count(), 1);
        fanout.send(&event(4, "a"));
        assert_eq!(sequence(next(&mut fast)), 4);
    }

    #[test]
    fn lag_all_ends_everyone_and_lets_new_receivers_in() {
        let fanout = Fanout::new();
        let mut a = fanout
            .subscribe(Some(plan("a")), BufferLimits::DEFAULT)
            .unwrap();
        fanout.send(&event(1, "a"));
        fanout.lag_all();
        assert!(matches!(next(&mut a), Some(Some(Received::Lagged))));
        assert_eq!(fanout.receiver_count(), 0);
        let mut again = fanout
            .subscribe(Some(plan("a")), BufferLimits::DEFAULT)
            .unwrap();
        fanout.send(&event(2, "a"));
        assert_eq!(sequence(next(&mut again)), 2);
    }

    #[tokio::test]
    async fn closing_wakes_and_ends_receivers_and_refuses_new_ones() {
        let fanout = Fanout::new();
        let mut a = fanout
            .subscribe(Some(plan("a")), BufferLimits::DEFAULT)
            .unwrap();
        let waiting = tokio::spawn(async move { a.next().await });
        tokio::task::yield_now().await;
        let handle = fanout.clone();
        drop(fanout);
        assert!(!handle.is_closed(), "another handle keeps it open");
        drop(handle);
        assert!(matches!(waiting.await.unwrap(), Some(Received::Closed)));
        let fanout = Fanout::new();
        fanout.close();
        fanout.close();
        assert_eq!(
            fanout.subscribe(None, BufferLimits::DEFAULT).unwrap_err(),
            SubscribeError::Closed
        );
    }

    #[test]
    fn a_terminal_event_is_delivered_like_any_other() {
        // Ending a filtered subscription after its plan's terminal event is the
        // subscriber's business; the fan-out only delivers.
        let fanout = Fanout::new();
        let mut a = fanout
            .subscribe(Some(plan("a")), BufferLimits::DEFAULT)
            .unwrap();
        let done = EventPayload::StatusUpdate(TaskStatusUpdateEvent {
            task_id: "a".into(),
            context_id: "c".into(),
            status: TaskState::Completed.into(),
            metadata: None,
        });
        let id = EventId::from_parts(3, 1);
        let terminal = A2aEvent::new(id, plan("a"), Timestamp::now(), done);
        fanout.send(&Arc::new(StoredEvent::new(&terminal).unwrap()));
        fanout.send(&event(2, "a"));
        assert_eq!(sequence(next(&mut a)), 1);
        assert_eq!(sequence(next(&mut a)), 2);
    }

    fn terminal(sequence: u64) -> SharedEvent {
        let done = EventPayload::StatusUpdate(TaskStatusUpdateEvent {
            task_id: "a".into(),
            context_id: "c".into(),
            status: TaskState::Completed.into(),
            metadata: None,
        });
        let id = EventId::from_parts(3, sequence);
        let event = A2aEvent::new(id, plan("a"), Timestamp::now(), done);
        Arc::new(StoredEvent::new(&event).unwrap())
    }

    fn sequences(sub: &mut FanoutSubscription) -> (Vec<u64>, Option<SubscriptionItem>) {
        let mut events = Vec::new();
        while let Some(Some(item)) = sub.next().now_or_never() {
            match item {
                SubscriptionItem::Event(e) => events.push(e.id().sequence()),
                other => return (events, Some(other)),
            }
        }
        (events, None)
    }

    #[test]
    fn a_registration_keeps_what_is_sent_while_its_replay_is_read_and_drops_what_it_covers() {
        use crate::engine::{HistoryView, decide};
        use crate::subscription::SubscriptionEnd;
        let fanout = Fanout::new();
        let registration = fanout
            .register(Some(plan("a")), BufferLimits::DEFAULT)
            .unwrap();
        assert_eq!(fanout.receiver_count(), 1);
        // Sent while the backend reads: 2 and 3 are in the replay too, 4 is not.
        for sequence in 2..=4 {
            fanout.send(&event(sequence, "a"));
        }
        let request = SubscribeRequest::plan(plan("a")).after(EventId::from_parts(3, 1));
        let mut view = HistoryView::new(Some(EventId::from_parts(3, 3)), None);
        view.next_after = Some(EventId::from_parts(3, 2));
        let mut replay = decide(&request, view).unwrap();
        let read = [event(2, "a"), event(3, "a")];
        assert_eq!(replay.take_page(&read, false), None);
        let mut sub = registration.into_subscription(replay);
        assert_eq!(sub.size_hint(), (2, None));
        let (events, end) = sequences(&mut sub);
        assert_eq!(events, [2, 3, 4], "4 live, 2 and 3 once");
        assert!(end.is_none(), "{end:?}");
        assert_eq!(sub.last_delivered(), Some(EventId::from_parts(3, 4)));
        fanout.send(&terminal(5));
        let terminal = EventId::from_parts(3, 5);
        let (events, end) = sequences(&mut sub);
        assert_eq!(events, [5]);
        assert!(matches!(
            end,
            Some(SubscriptionItem::End(SubscriptionEnd::PlanFinished { terminal: t })) if t == terminal
        ));
        assert!(sub.is_terminated());
        assert_eq!(sub.size_hint(), (0, Some(0)));
        assert_eq!(fanout.receiver_count(), 0);
    }

    #[test]
    fn a_replay_cut_short_ends_as_lagged_after_what_it_read() {
        use crate::engine::{HistoryView, decide};
        use crate::subscription::{LagNotice, SubscriptionEnd};
        let fanout = Fanout::new();
        let registration = fanout.register(None, BufferLimits::DEFAULT).unwrap();
        let request = SubscribeRequest::all().after(EventId::from_parts(3, 0));
        let mut view = HistoryView::new(Some(EventId::from_parts(3, 9)), None);
        view.next_after = Some(EventId::from_parts(3, 1));
        let mut replay = decide(&request, view).unwrap();
        let first = [event(1, "a"), event(2, "a")];
        assert!(replay.take_page(&first, true).is_some());
        // The next page skips 3: trimmed while the replay was read.
        assert_eq!(replay.take_page(&[event(4, "a")], true), None);
        assert!(!replay.goes_live());
        let mut sub = registration.into_subscription(replay);
        assert_eq!(fanout.receiver_count(), 0, "nothing live follows");
        assert_eq!(sub.size_hint(), (3, Some(3)));
        let (events, end) = sequences(&mut sub);
        assert_eq!(events, [1, 2]);
        let notice = LagNotice::new(Some(EventId::from_parts(3, 2)));
        assert!(matches!(
            end,
            Some(SubscriptionItem::End(SubscriptionEnd::Lagged(n))) if n == notice
        ));
    }
}
