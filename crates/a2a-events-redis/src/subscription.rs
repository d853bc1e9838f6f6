//! [`RedisSubscription`]: what was read from Redis first, then the reader's live events,
//! with the seam between them closed by id.

use std::collections::VecDeque;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll};

use a2a_events::{
    EventId, LagNotice, PlanId, Received, Receiver, SubscriptionEnd, SubscriptionItem,
};
use futures_core::{FusedStream, Stream};

/// One subscriber: its replay (or snapshot), then live events from the process's reader.
///
/// The live [`Receiver`] was registered before anything was read from Redis, so every
/// event stored after that read reaches it. Whatever reaches it that the read already
/// covered (an id at or below `seam`) is dropped: the seam has no gap and no duplicate.
pub(crate) struct RedisSubscription {
    replay: VecDeque<SubscriptionItem>,
    /// `None` for a finished plan's replay (nothing live can follow), and once ended.
    receiver: Option<Receiver>,
    plan: Option<PlanId>,
    /// The newest id the initial read covered; live events up to it are dropped.
    seam: Option<EventId>,
    last_delivered: Option<EventId>,
    /// How the subscription ends after its replay, when it has no receiver.
    after_replay: SubscriptionEnd,
    /// The end to yield next, once decided.
    ending: Option<SubscriptionEnd>,
    done: bool,
    closed: Arc<AtomicBool>,
}

impl RedisSubscription {
    /// A subscription that yields `replay`, then what `receiver` gets past `seam`. With no
    /// receiver it ends after the replay with `after_replay`. `closed` is the backend's.
    pub(crate) fn new(
        replay: VecDeque<SubscriptionItem>,
        receiver: Option<Receiver>,
        plan: Option<PlanId>,
        after: Option<EventId>,
        seam: Option<EventId>,
        after_replay: SubscriptionEnd,
        closed: Arc<AtomicBool>,
    ) -> Self {
        Self {
            replay,
            receiver,
            plan,
            seam,
            last_delivered: after,
            after_replay,
            ending: None,
            done: false,
            closed,
        }
    }

    /// Unregisters, and yields `why` next.
    fn finish(&mut self, why: SubscriptionEnd) {
        self.replay.clear();
        self.receiver = None;
        self.ending = Some(why);
    }

    fn deliver(&mut self, item: SubscriptionItem) -> Poll<Option<SubscriptionItem>> {
        match &item {
            SubscriptionItem::Snapshot(snapshot) => self.last_delivered = Some(snapshot.as_of),
            SubscriptionItem::Event(event) => {
                self.last_delivered = Some(event.id());
                // A filtered subscription only ever sees its own plan's events.
                if self.plan.is_some() && event.is_terminal() {
                    self.finish(SubscriptionEnd::PlanFinished {
                        terminal: event.id(),
                    });
                }
            }
            _ => {}
        }
        Poll::Ready(Some(item))
    }

    /// Whether a live event was already covered by the replay (or delivered).
    fn covered(&self, id: EventId) -> bool {
        self.seam.is_some_and(|seam| id <= seam) || self.last_delivered.is_some_and(|l| id <= l)
    }
}

impl Stream for RedisSubscription {
    type Item = SubscriptionItem;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<SubscriptionItem>> {
        let this = self.get_mut();
        if this.done {
            return Poll::Ready(None);
        }
        if this.ending.is_none() && this.closed.load(Ordering::Acquire) {
            this.finish(SubscriptionEnd::Closed);
        }
        if let Some(why) = this.ending.take() {
            this.done = true;
            return Poll::Ready(Some(SubscriptionItem::End(why)));
        }
        if let Some(item) = this.replay.pop_front() {
            return this.deliver(item);
        }
        loop {
            let Some(receiver) = &mut this.receiver else {
                let why = this.after_replay;
                this.done = true;
                return Poll::Ready(Some(SubscriptionItem::End(why)));
            };
            let received = match Pin::new(receiver).poll_next(cx) {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(received) => received,
            };
            let why = match received {
                Some(Received::Event(event)) if this.covered(event.id()) => continue,
                Some(Received::Event(event)) => {
                    return this.deliver(SubscriptionItem::Event(event));
                }
                Some(Received::Lagged) => {
                    SubscriptionEnd::Lagged(LagNotice::new(this.last_delivered))
                }
                _ => SubscriptionEnd::Closed,
            };
            this.receiver = None;
            this.done = true;
            return Poll::Ready(Some(SubscriptionItem::End(why)));
        }
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        if self.done {
            (0, Some(0))
        } else {
            (self.replay.len(), None)
        }
    }
}

impl FusedStream for RedisSubscription {
    fn is_terminated(&self) -> bool {
        self.done
    }
}

#[cfg(test)]
mod tests {
    use a2a_events::{
        A2aEvent, BufferLimits, ErrorPayload, EventPayload, Fanout, SharedEvent, StoredEvent,
        TaskState, TaskStatusUpdateEvent, Timestamp,
    };
    use futures_util::{FutureExt, StreamExt};

    use super::*;

    fn plan() -> PlanId {
        PlanId::new("p").unwrap()
    }

    fn event(sequence: u64, terminal: bool) -> SharedEvent {
        let payload = if terminal {
            EventPayload::StatusUpdate(TaskStatusUpdateEvent {
                task_id: "p".into(),
                context_id: "c".into(),
                status: TaskState::Completed.into(),
                metadata: None,
            })
        } else {
            EventPayload::Error(ErrorPayload {
                code: 1,
                message: "m".into(),
                data: None,
            })
        };
        let id = EventId::from_parts(4, sequence);
        let event = A2aEvent::new(id, plan(), Timestamp::now(), payload);
        Arc::new(StoredEvent::new(&event).unwrap())
    }

    fn replay(sequences: &[u64]) -> VecDeque<SubscriptionItem> {
        sequences
            .iter()
            .map(|&s| SubscriptionItem::Event(event(s, false)))
            .collect()
    }

    /// Every item ready now, as sequences of events and the end.
    fn drain(sub: &mut RedisSubscription) -> (Vec<u64>, Option<SubscriptionEnd>) {
        let mut events = Vec::new();
        while let Some(Some(item)) = sub.next().now_or_never() {
            match item {
                SubscriptionItem::Event(e) => events.push(e.id().sequence()),
                SubscriptionItem::End(why) => return (events, Some(why)),
                other => panic!("unexpected {other:?}"),
            }
        }
        (events, None)
    }

    fn live(
        fanout: &Fanout,
        replayed: &[u64],
        seam: u64,
        closed: &Arc<AtomicBool>,
    ) -> RedisSubscription {
        let receiver = fanout
            .subscribe(Some(plan()), BufferLimits::events(4))
            .unwrap();
        RedisSubscription::new(
            replay(replayed),
            Some(receiver),
            Some(plan()),
            None,
            Some(EventId::from_parts(4, seam)),
            SubscriptionEnd::Closed,
            Arc::clone(closed),
        )
    }

    #[test]
    fn the_seam_drops_what_the_replay_covered() {
        let fanout = Fanout::new();
        let closed = Arc::new(AtomicBool::new(false));
        let mut sub = live(&fanout, &[1, 2], 3, &closed);
        assert_eq!(sub.size_hint(), (2, None));
        for sequence in 2..=5 {
            fanout.send(&event(sequence, false));
        }
        assert_eq!(drain(&mut sub), (vec![1, 2, 4, 5], None));
        fanout.send(&event(6, true));
        let terminal = EventId::from_parts(4, 6);
        assert_eq!(
            drain(&mut sub),
            (vec![6], Some(SubscriptionEnd::PlanFinished { terminal }))
        );
        assert!(sub.next().now_or_never().unwrap().is_none());
        assert!(sub.is_terminated());
        assert_eq!(sub.size_hint(), (0, Some(0)));
    }

    #[test]
    fn a_lagging_receiver_names_the_last_event_delivered() {
        let fanout = Fanout::new();
        let closed = Arc::new(AtomicBool::new(false));
        let mut sub = live(&fanout, &[1], 1, &closed);
        for sequence in 2..=6 {
            fanout.send(&event(sequence, false));
        }
        let notice = LagNotice::new(Some(EventId::from_parts(4, 1)));
        assert_eq!(
            drain(&mut sub),
            (vec![1], Some(SubscriptionEnd::Lagged(notice)))
        );
    }

    #[test]
    fn closing_ends_at_the_next_poll() {
        let fanout = Fanout::new();
        let closed = Arc::new(AtomicBool::new(false));
        let mut sub = live(&fanout, &[1, 2], 2, &closed);
        assert_eq!(drain(&mut sub).0.len(), 2);
        fanout.close();
        assert_eq!(drain(&mut sub), (vec![], Some(SubscriptionEnd::Closed)));
        let mut other = live(&Fanout::new(), &[1, 2], 2, &closed);
        closed.store(true, Ordering::Release);
        assert_eq!(drain(&mut other), (vec![], Some(SubscriptionEnd::Closed)));
    }

    #[test]
    fn a_replay_alone_ends_as_it_was_told() {
        let closed = Arc::new(AtomicBool::new(false));
        let terminal = EventId::from_parts(4, 9);
        let why = SubscriptionEnd::PlanFinished { terminal };
        let mut sub = RedisSubscription::new(replay(&[7]), None, None, None, None, why, closed);
        assert_eq!(drain(&mut sub), (vec![7], Some(why)));
    }
}
