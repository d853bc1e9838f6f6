//! [`Subscription`]: one subscriber's view of the queue, as a [`Stream`].

use std::collections::VecDeque;
use std::fmt;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use futures_core::{FusedStream, Stream};

use crate::event::SharedEvent;
use crate::ids::{EventId, PlanId};
use crate::queue::{Shared, Slot, SlotEnd, SlotKey};

/// The requested resume point is no longer covered by history; replay continues from the
/// oldest retained event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ResetNotice {
    /// The id the subscriber asked to resume after.
    pub requested: EventId,
    /// The oldest event still retained, where the replay starts; `None` when history is
    /// empty.
    pub oldest_retained: Option<EventId>,
}

/// The subscriber fell behind its buffer and the subscription ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LagNotice {
    /// The last event this subscription delivered (or the id it resumed after); resuming
    /// after it loses nothing while history still holds what follows.
    pub last_delivered: Option<EventId>,
}

/// What a [`Subscription`] yields.
#[derive(Debug, Clone)]
pub enum SubscriptionItem {
    /// An event, shared with every other subscriber that receives it.
    Event(SharedEvent),
    /// History did not reach back to the resume point; comes first, before the replay.
    Reset(ResetNotice),
    /// Buffer overflow; always the last item.
    Lagged(LagNotice),
}

/// A live subscription to an [`A2aEventQueue`](crate::A2aEventQueue).
///
/// It yields the replay first, then live events, in publish order, and ends (`None`) when:
/// - its plan reached a terminal state (plan-filtered subscriptions only), right after
///   the terminal event;
/// - it lagged, right after the [`Lagged`](SubscriptionItem::Lagged) item;
/// - the queue closed.
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
    done: bool,
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
            done: false,
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

    fn finish(&mut self) {
        self.done = true;
        self.replay = None;
        if let Some((key, slot)) = self.registration.take() {
            self.shared.unregister(self.plan.as_ref(), key, &slot);
        }
    }

    fn deliver(&mut self, item: SubscriptionItem) -> Poll<Option<SubscriptionItem>> {
        if let SubscriptionItem::Event(event) = &item {
            self.last_delivered = Some(event.id());
            // A filtered subscription only ever sees its own plan's events.
            if self.plan.is_some() && event.is_terminal() {
                self.finish();
            }
        }
        Poll::Ready(Some(item))
    }
}

impl Stream for Subscription {
    type Item = SubscriptionItem;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.get_mut();
        if this.done {
            return Poll::Ready(None);
        }
        if this.shared.is_closed() {
            this.finish();
            return Poll::Ready(None);
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
            // A finished plan's replay is over.
            this.finish();
            return Poll::Ready(None);
        };
        let mut inbox = slot.inbox.lock();
        if let Some(event) = inbox.pop() {
            drop(inbox);
            return this.deliver(SubscriptionItem::Event(event));
        }
        match inbox.end {
            Some(SlotEnd::Lagged) => {
                drop(inbox);
                let notice = LagNotice {
                    last_delivered: this.last_delivered,
                };
                this.finish();
                Poll::Ready(Some(SubscriptionItem::Lagged(notice)))
            }
            Some(SlotEnd::Closed) => {
                drop(inbox);
                this.finish();
                Poll::Ready(None)
            }
            None => {
                match &mut inbox.waker {
                    Some(waker) if waker.will_wake(cx.waker()) => {}
                    slot_waker => *slot_waker = Some(cx.waker().clone()),
                }
                Poll::Pending
            }
        }
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        if self.done {
            (0, Some(0))
        } else {
            (self.replay.as_ref().map_or(0, |replay| replay.len()), None)
        }
    }
}

impl FusedStream for Subscription {
    fn is_terminated(&self) -> bool {
        self.done
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
            .field("done", &self.done)
            .finish_non_exhaustive()
    }
}
