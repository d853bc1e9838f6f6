//! [`Subscription`]: one subscriber's view of the queue, as a [`Stream`].

use std::collections::VecDeque;
use std::fmt;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use futures_core::{FusedStream, Stream};

use crate::event::SharedEvent;
use crate::ids::{EventId, PlanId};
use crate::inbox::{Slot, SlotEnd, SlotKey};
use crate::queue::Shared;
use crate::task::TaskSnapshot;

/// The requested resume point is no longer covered by history; replay continues from the
/// oldest retained event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct ResetNotice {
    /// The id the subscriber asked to resume after.
    pub requested: EventId,
    /// The oldest event still retained, where the replay starts; `None` when history is
    /// empty.
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
/// Dropping it unsubscribes at once.
pub struct Subscription {
    shared: Arc<Shared>,
    registration: Option<(SlotKey, Arc<Slot>)>,
    plan: Option<PlanId>,
    /// `None` when there is nothing (left) to replay, as for every subscription that does
    /// not resume: an empty queue costs no room in each of thousands of live ones.
    #[expect(
        clippy::box_collection,
        reason = "boxed to keep the 32-byte queue out of every live subscription"
    )]
    replay: Option<Box<VecDeque<SubscriptionItem>>>,
    last_delivered: Option<EventId>,
    phase: Phase,
}

/// Where a subscription is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    Live,
    /// Unregistered; the next item says why.
    Ending(SubscriptionEnd),
    /// The end was yielded.
    Done,
}

impl Subscription {
    pub(crate) fn new(
        shared: Arc<Shared>,
        registration: Option<(SlotKey, Arc<Slot>)>,
        plan: Option<PlanId>,
        after: Option<EventId>,
        replay: VecDeque<SubscriptionItem>,
    ) -> Self {
        Self {
            shared,
            registration,
            plan,
            replay: (!replay.is_empty()).then(|| Box::new(replay)),
            last_delivered: after,
            phase: Phase::Live,
        }
    }

    /// The plan this subscription is filtered to, if any.
    #[must_use]
    pub const fn plan(&self) -> Option<&PlanId> {
        self.plan.as_ref()
    }

    /// The id of the last event yielded (or the resume point, before any).
    #[must_use]
    pub const fn last_delivered(&self) -> Option<EventId> {
        self.last_delivered
    }

    /// Unregisters, and yields `why` on the next poll.
    fn finish(&mut self, why: SubscriptionEnd) {
        self.phase = Phase::Ending(why);
        self.replay = None;
        if let Some((key, slot)) = self.registration.take() {
            self.shared.unregister(self.plan.as_ref(), key, &slot);
        }
    }

    /// Yields `why` now.
    fn end(&mut self, why: SubscriptionEnd) -> Poll<Option<SubscriptionItem>> {
        self.finish(why);
        self.phase = Phase::Done;
        Poll::Ready(Some(SubscriptionItem::End(why)))
    }

    fn deliver(&mut self, item: SubscriptionItem) -> Poll<Option<SubscriptionItem>> {
        if let SubscriptionItem::Snapshot(snapshot) = &item {
            self.last_delivered = Some(snapshot.as_of);
        }
        if let SubscriptionItem::Event(event) = &item {
            self.last_delivered = Some(event.id());
            // A filtered subscription only ever sees its own plan's events.
            if self.plan.is_some() && event.is_terminal() {
                self.finish(SubscriptionEnd::PlanFinished {
                    terminal: event.id(),
                });
            }
        }
        Poll::Ready(Some(item))
    }
}

impl Stream for Subscription {
    type Item = SubscriptionItem;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.get_mut();
        match this.phase {
            Phase::Live => {}
            Phase::Ending(why) => return this.end(why),
            Phase::Done => return Poll::Ready(None),
        }
        if this.shared.is_closed() {
            return this.end(SubscriptionEnd::Closed);
        }
        if let Some(replay) = &mut this.replay {
            let item = replay.pop_front();
            if replay.is_empty() {
                this.replay = None;
            }
            if let Some(item) = item {
                return this.deliver(item);
            }
        }
        let Some((_, slot)) = &this.registration else {
            // A finished plan's replay is over (it ended with the terminal event, which
            // moved the phase on: this is only reached by a replay that did not have it).
            let terminal = this.last_delivered.unwrap_or_default();
            return this.end(SubscriptionEnd::PlanFinished { terminal });
        };
        match slot.poll(cx) {
            Poll::Ready(Ok(event)) => this.deliver(SubscriptionItem::Event(event)),
            Poll::Ready(Err(SlotEnd::Lagged)) => {
                let notice = LagNotice::new(this.last_delivered);
                this.end(SubscriptionEnd::Lagged(notice))
            }
            Poll::Ready(Err(SlotEnd::Closed)) => this.end(SubscriptionEnd::Closed),
            Poll::Pending => Poll::Pending,
        }
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        match self.phase {
            Phase::Done => (0, Some(0)),
            Phase::Ending(_) => (1, Some(1)),
            Phase::Live => (self.replay.as_ref().map_or(0, |replay| replay.len()), None),
        }
    }
}

impl FusedStream for Subscription {
    fn is_terminated(&self) -> bool {
        self.phase == Phase::Done
    }
}

impl Drop for Subscription {
    fn drop(&mut self) {
        if let Some((key, slot)) = self.registration.take() {
            self.shared.unregister(self.plan.as_ref(), key, &slot);
        }
    }
}

impl fmt::Debug for Subscription {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Subscription")
            .field("plan", &self.plan)
            .field("last_delivered", &self.last_delivered)
            .field(
                "replay_pending",
                &self.replay.as_ref().map_or(0, |replay| replay.len()),
            )
            .field("phase", &self.phase)
            .finish_non_exhaustive()
    }
}
