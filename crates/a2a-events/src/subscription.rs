//! The subscription stream every backend shares ([`Engine`]), and its in-memory form,
//! [`Subscription`]: one subscriber's view of the queue, as a [`Stream`].

use std::collections::VecDeque;
use std::fmt;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use futures_core::{FusedStream, Stream};

use crate::engine::{Replay, Then};
use crate::event::SharedEvent;
use crate::ids::{EventId, PlanId};
use crate::inbox::{Slot, SlotEnd, SlotKey};
use crate::queue::Shared;
use crate::task::TaskSnapshot;

/// The requested resume point is no longer covered by history: events may have been missed.
///
/// The replay that follows holds the retained events after the requested id (or every
/// retained event, when the id is ahead of the history: it names events this history
/// never held), never one the client already has.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct ResetNotice {
    /// The id the subscriber asked to resume after.
    pub requested: EventId,
    /// The oldest event still retained; `None` when history is empty.
    pub oldest_retained: Option<EventId>,
}

impl ResetNotice {
    /// A notice that `requested` is older than history, whose oldest event is
    /// `oldest_retained`.
    #[must_use]
    pub const fn new(requested: EventId, oldest_retained: Option<EventId>) -> Self {
        Self {
            requested,
            oldest_retained,
        }
    }
}

/// The subscriber fell behind its buffer and the subscription ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct LagNotice {
    /// The last event this subscription delivered (or the id it resumed after); resuming
    /// after it loses nothing while history still holds what follows.
    pub last_delivered: Option<EventId>,
}

impl LagNotice {
    /// A notice that the subscriber lagged after delivering `last_delivered`.
    #[must_use]
    pub const fn new(last_delivered: Option<EventId>) -> Self {
        Self { last_delivered }
    }
}

/// Why a subscription ended: its last item, [`SubscriptionItem::End`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum SubscriptionEnd {
    /// The filtered plan reached a terminal state; the item before was that event.
    PlanFinished {
        /// Id of the terminal event.
        terminal: EventId,
    },
    /// The subscriber fell behind its buffer; what was waiting for it was dropped.
    Lagged(LagNotice),
    /// The queue closed (the server is shutting down).
    Closed,
}

/// What a [`Subscription`] yields.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum SubscriptionItem {
    /// An event, shared with every other subscriber that receives it.
    Event(SharedEvent),
    /// History did not reach back to the resume point; comes first, before the replay.
    Reset(ResetNotice),
    /// The plan's task as of the event it names; comes first, on a subscription that
    /// asked for it ([`SubscribeRequest::with_snapshot`](crate::SubscribeRequest::with_snapshot)).
    Snapshot(Arc<TaskSnapshot>),
    /// Why the subscription ended; always the last item, and always there: a stream that
    /// ends (`None`) without it was dropped by its backend (a bug).
    End(SubscriptionEnd),
}

/// A live subscription to an [`A2aEventQueue`](crate::A2aEventQueue).
///
/// It yields the replay first, then live events, in publish order. Its last item is
/// [`SubscriptionItem::End`], saying why it ended, then it yields `None`. It ends when:
/// - its plan reached a terminal state (plan-filtered subscriptions only), right after
///   the terminal event: [`SubscriptionEnd::PlanFinished`];
/// - it lagged: [`SubscriptionEnd::Lagged`];
/// - the queue closed: [`SubscriptionEnd::Closed`].
///
/// Dropping it unsubscribes at once. The [`engine`](crate::engine) module describes the
/// rules in full.
pub struct Subscription(Engine<Arc<Shared>>);

impl Subscription {
    pub(crate) fn new(
        shared: Arc<Shared>,
        replay: Replay,
        live: impl FnOnce() -> (SlotKey, Arc<Slot>),
    ) -> Self {
        Self(Engine::new(shared, replay, live))
    }

    /// The plan this subscription is filtered to, if any.
    #[must_use]
    pub const fn plan(&self) -> Option<&PlanId> {
        self.0.plan.as_ref()
    }

    /// The id of the last event yielded (or the resume point, before any).
    #[must_use]
    pub const fn last_delivered(&self) -> Option<EventId> {
        self.0.last_delivered
    }
}

impl Stream for Subscription {
    type Item = SubscriptionItem;

    #[inline]
    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.get_mut().0.poll(cx)
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        self.0.size_hint()
    }
}

impl FusedStream for Subscription {
    fn is_terminated(&self) -> bool {
        self.0.is_terminated()
    }
}

impl fmt::Debug for Subscription {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.debug("Subscription", f)
    }
}

/// The owner of the live inboxes a subscription is registered with: the in-memory queue,
/// or a [`Fanout`](crate::Fanout).
pub(crate) trait Hub {
    /// Whether the owner closed: every subscription ends at its next poll.
    fn is_closed(&self) -> bool;

    /// Removes the inbox registered at `key` for `plan`, unless it is gone already.
    fn unregister(&self, plan: Option<&PlanId>, key: SlotKey, slot: &Arc<Slot>);

    /// Whether a live event was already covered by what the subscription read first (the
    /// seam). The queue reads and registers under one lock: nothing to drop.
    #[inline]
    fn covers(&self, _id: EventId) -> bool {
        false
    }

    /// Notes where a registered subscription's `replay` leaves off (its seam).
    fn start(&mut self, _replay: &Replay) {}
}

impl Hub for Arc<Shared> {
    #[inline]
    fn is_closed(&self) -> bool {
        Shared::is_closed(self)
    }

    fn unregister(&self, plan: Option<&PlanId>, key: SlotKey, slot: &Arc<Slot>) {
        Shared::unregister(self, plan, key, slot);
    }
}

/// Where a subscription is in its life.
enum State {
    /// Registered: the replay (if any), then live events from this inbox.
    Live(SlotKey, Arc<Slot>),
    /// Not registered: what is left of the replay (nothing, once a terminal event, a lag
    /// or the close ended it), then this end.
    Ending(Stop),
    /// The end was yielded.
    Done,
}

/// Why a subscription ends; the lag notice is made when it is yielded, from the last id
/// delivered by then.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stop {
    PlanFinished(EventId),
    Lagged,
    Closed,
}

/// The one subscription stream: a replay, then live events from an inbox registered with
/// `H`, then one end. See the [`engine`](crate::engine) module for the rules.
pub(crate) struct Engine<H: Hub> {
    hub: H,
    state: State,
    plan: Option<PlanId>,
    /// `None` when there is nothing (left) to replay, as for every subscription that does
    /// not resume: an empty queue costs no room in each of thousands of live ones.
    #[expect(
        clippy::box_collection,
        reason = "boxed to keep the 32-byte queue out of every live subscription"
    )]
    replay: Option<Box<VecDeque<SubscriptionItem>>>,
    last_delivered: Option<EventId>,
}

impl<H: Hub> Engine<H> {
    /// The stream of `replay`; when it goes live, its events come from the inbox `live`
    /// registers with `hub` (called only then).
    pub(crate) fn new(hub: H, replay: Replay, live: impl FnOnce() -> (SlotKey, Arc<Slot>)) -> Self {
        let then = replay.then();
        let (plan, after, items) = replay.into_parts();
        let state = match then {
            Then::Live => {
                let (key, slot) = live();
                State::Live(key, slot)
            }
            Then::Finished(terminal) => State::Ending(Stop::PlanFinished(terminal)),
            Then::Lagged => State::Ending(Stop::Lagged),
        };
        Self {
            hub,
            state,
            plan,
            replay: (!items.is_empty()).then(|| Box::new(items)),
            last_delivered: after,
        }
    }

    /// A subscription whose inbox was registered at `key` before anything was read; it
    /// yields live events only until [`start`](Self::start) hands it its replay.
    pub(crate) const fn registered(
        hub: H,
        plan: Option<PlanId>,
        key: SlotKey,
        slot: Arc<Slot>,
    ) -> Self {
        Self {
            hub,
            state: State::Live(key, slot),
            plan,
            replay: None,
            last_delivered: None,
        }
    }

    /// Hands a registered subscription its replay (decided for the same plan); the inbox
    /// is unregistered at once when nothing live follows the replay.
    pub(crate) fn start(&mut self, replay: Replay) {
        self.hub.start(&replay);
        let then = replay.then();
        let (_, after, items) = replay.into_parts();
        self.last_delivered = after;
        self.replay = (!items.is_empty()).then(|| Box::new(items));
        match then {
            Then::Live => {}
            Then::Finished(terminal) => {
                self.release();
                self.state = State::Ending(Stop::PlanFinished(terminal));
            }
            Then::Lagged => {
                self.release();
                self.state = State::Ending(Stop::Lagged);
            }
        }
    }

    /// Unregisters the live inbox, if registered.
    fn release(&mut self) {
        if let State::Live(key, slot) = std::mem::replace(&mut self.state, State::Done) {
            self.hub.unregister(self.plan.as_ref(), key, &slot);
        }
    }

    /// Unregisters, drops what is left of the replay, and yields `why` on the next poll.
    fn finish(&mut self, why: Stop) {
        self.release();
        self.replay = None;
        self.state = State::Ending(why);
    }

    /// Yields `why` now.
    fn end(&mut self, why: Stop) -> Poll<Option<SubscriptionItem>> {
        self.release();
        self.replay = None;
        self.state = State::Done;
        let end = match why {
            Stop::PlanFinished(terminal) => SubscriptionEnd::PlanFinished { terminal },
            Stop::Lagged => SubscriptionEnd::Lagged(LagNotice::new(self.last_delivered)),
            Stop::Closed => SubscriptionEnd::Closed,
        };
        Poll::Ready(Some(SubscriptionItem::End(end)))
    }

    #[inline]
    fn deliver(&mut self, item: SubscriptionItem) -> Poll<Option<SubscriptionItem>> {
        match &item {
            SubscriptionItem::Event(event) => {
                self.last_delivered = Some(event.id());
                // A filtered subscription only ever sees its own plan's events.
                if self.plan.is_some() && event.is_terminal() {
                    self.finish(Stop::PlanFinished(event.id()));
                }
            }
            SubscriptionItem::Snapshot(snapshot) => self.last_delivered = Some(snapshot.as_of),
            _ => {}
        }
        Poll::Ready(Some(item))
    }

    #[inline]
    pub(crate) fn poll(&mut self, cx: &mut Context<'_>) -> Poll<Option<SubscriptionItem>> {
        match self.state {
            State::Done => return Poll::Ready(None),
            State::Ending(why) if self.replay.is_none() => return self.end(why),
            _ => {}
        }
        if self.hub.is_closed() {
            return self.end(Stop::Closed);
        }
        if let Some(replay) = &mut self.replay {
            let item = replay.pop_front();
            if replay.is_empty() {
                self.replay = None;
            }
            if let Some(item) = item {
                return self.deliver(item);
            }
        }
        loop {
            let slot = match &self.state {
                State::Live(_, slot) => slot,
                &State::Ending(why) => return self.end(why),
                State::Done => return Poll::Ready(None),
            };
            return match slot.poll(cx) {
                Poll::Ready(Ok(event)) if self.hub.covers(event.id()) => continue,
                Poll::Ready(Ok(event)) => self.deliver(SubscriptionItem::Event(event)),
                Poll::Ready(Err(SlotEnd::Lagged)) => self.end(Stop::Lagged),
                Poll::Ready(Err(SlotEnd::Closed)) => self.end(Stop::Closed),
                Poll::Pending => Poll::Pending,
            };
        }
    }

    pub(crate) fn size_hint(&self) -> (usize, Option<usize>) {
        let replay = self.replay.as_ref().map_or(0, |replay| replay.len());
        match self.state {
            State::Done => (0, Some(0)),
            State::Ending(_) => (replay + 1, Some(replay + 1)),
            State::Live(..) => (replay, None),
        }
    }

    pub(crate) const fn last_delivered(&self) -> Option<EventId> {
        self.last_delivered
    }

    pub(crate) const fn is_terminated(&self) -> bool {
        matches!(self.state, State::Done)
    }

    pub(crate) fn debug(&self, name: &str, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let phase = match self.state {
            State::Live(..) => "live",
            State::Ending(_) => "ending",
            State::Done => "done",
        };
        f.debug_struct(name)
            .field("plan", &self.plan)
            .field("last_delivered", &self.last_delivered)
            .field(
                "replay_pending",
                &self.replay.as_ref().map_or(0, |replay| replay.len()),
            )
            .field("phase", &phase)
            .finish_non_exhaustive()
    }
}

impl<H: Hub> Drop for Engine<H> {
    fn drop(&mut self) {
        self.release();
    }
}
