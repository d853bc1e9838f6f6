//! Local delivery: each subscriber's bounded [`Inbox`], its [`Slot`], and the [`Registry`]
//! of slots by plan that a publish hands an event to. The in-memory queue and the
//! [`Fanout`](crate::Fanout) both deliver through it, so a subscriber lags and ends the
//! same way whichever fills its inbox.

use std::collections::{HashMap, VecDeque};
use std::sync::Arc;
use std::task::{Context, Poll, Waker};

use parking_lot::Mutex;
use slab::Slab;

use crate::event::SharedEvent;
use crate::ids::{EventId, PlanId};
use crate::queue::BufferLimits;

/// One subscriber's mailbox, shared between the queue or a [`Fanout`](crate::Fanout)
/// (which fills it) and the [`Subscription`](crate::Subscription) or
/// [`Receiver`](crate::Receiver) (which drains it).
///
/// The publisher's core writes it and the subscriber's core reads it, so every event
/// costs each of them a cache miss here; what both touch for one event (the lock, the
/// first waiting event, the waker, the counters) comes first and spans 49 bytes. It is
/// not aligned to a cache line: `Arc`'s allocation would then take 64-byte alignment,
/// which cost 0.2–0.35 KiB more per subscriber in the benchmark.
pub(crate) struct Slot {
    inbox: Mutex<Inbox>,
}

/// What waits for one subscriber.
///
/// The oldest waiting event sits inline, beside the waker and the counters: a subscriber
/// that keeps up has at most one event waiting, and then neither side reads the limits or
/// touches `rest` (whose buffer is a separate allocation: one more miss each).
#[repr(C)]
pub(crate) struct Inbox {
    /// The oldest waiting event; `None` exactly when nothing waits.
    first: Option<SharedEvent>,
    waker: Option<Waker>,
    /// How many events wait, `first` included, and their JSON bytes.
    waiting: usize,
    bytes: usize,
    end: Option<SlotEnd>,
    // Only read when an event arrives while another waits.
    limits: BufferLimits,
    /// The events after `first`, oldest first.
    rest: VecDeque<SharedEvent>,
}

impl Inbox {
    const fn new(limits: BufferLimits) -> Self {
        Self {
            first: None,
            waker: None,
            waiting: 0,
            bytes: 0,
            end: None,
            limits,
            rest: VecDeque::new(),
        }
    }

    /// Whether `len` more JSON bytes would overflow the limits. An empty inbox takes any
    /// one event.
    fn is_full_for(&self, len: usize) -> bool {
        self.waiting > 0
            && (self.waiting >= self.limits.events || self.bytes + len > self.limits.bytes)
    }

    fn push(&mut self, event: SharedEvent) {
        self.waiting += 1;
        self.bytes += event.json().len();
        if self.first.is_none() {
            self.first = Some(event);
        } else {
            self.rest.push_back(event);
        }
    }

    /// Takes the oldest waiting event.
    fn pop(&mut self) -> Option<SharedEvent> {
        let event = self.first.take()?;
        self.waiting -= 1;
        self.bytes -= event.json().len();
        if self.waiting > 0 {
            self.first = self.rest.pop_front();
        }
        Some(event)
    }

    /// Drops everything waiting (and the memory it took).
    fn clear(&mut self) {
        self.first = None;
        self.rest = VecDeque::new();
        self.waiting = 0;
        self.bytes = 0;
    }
}

/// Why the queue (or a fan-out) stopped filling a slot.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum SlotEnd {
    Lagged,
    Closed,
}

/// Where a slot is registered (its index in its plan's slab, or in the unfiltered one),
/// so that dropping its subscription removes exactly it.
pub(crate) type SlotKey = usize;

impl Slot {
    /// An empty slot whose inbox holds at most `limits`.
    pub(crate) fn new(limits: BufferLimits) -> Self {
        Self {
            inbox: Mutex::new(Inbox::new(limits)),
        }
    }

    /// The oldest waiting event, or why the slot ended once nothing waits; otherwise
    /// keeps `cx`'s waker (unless it would wake the same task already) and is pending.
    #[inline]
    pub(crate) fn poll(&self, cx: &mut Context<'_>) -> Poll<Result<SharedEvent, SlotEnd>> {
        let mut inbox = self.inbox.lock();
        if let Some(event) = inbox.pop() {
            return Poll::Ready(Ok(event));
        }
        if let Some(end) = inbox.end {
            return Poll::Ready(Err(end));
        }
        match &mut inbox.waker {
            Some(waker) if waker.will_wake(cx.waker()) => {}
            slot_waker => *slot_waker = Some(cx.waker().clone()),
        }
        Poll::Pending
    }

    /// Offers an event; `false` when the buffer overflowed and the slot is now lagged.
    fn offer(&self, event: &SharedEvent, wakers: &mut Vec<Waker>) -> bool {
        let mut inbox = self.inbox.lock();
        let full = inbox.is_full_for(event.json().len());
        if full {
            inbox.end = Some(SlotEnd::Lagged);
            inbox.clear();
        } else {
            inbox.push(Arc::clone(event));
        }
        wakers.extend(inbox.waker.take());
        !full
    }

    pub(crate) fn end(&self, why: SlotEnd) -> Option<Waker> {
        let mut inbox = self.inbox.lock();
        inbox.end = Some(why);
        inbox.clear();
        inbox.waker.take()
    }
}

/// The slots a publish hands an event to: the unfiltered ones, and those of each plan (so a
/// publish to one plan never touches the subscribers of the others).
#[derive(Default)]
pub(crate) struct Registry {
    unfiltered: Slab<Arc<Slot>>,
    by_plan: HashMap<PlanId, Slab<Arc<Slot>>>,
}

impl Registry {
    /// Registers `slot` for `plan` (every plan: `None`); the key removes it again.
    pub(crate) fn insert(&mut self, plan: Option<&PlanId>, slot: Arc<Slot>) -> SlotKey {
        match plan {
            None => self.unfiltered.insert(slot),
            Some(plan) => self.by_plan.entry(plan.clone()).or_default().insert(slot),
        }
    }

    /// Removes the slot registered at `key` for `plan`, unless it was removed already
    /// (lag, close) and its index reused; whether it was there.
    pub(crate) fn remove(&mut self, plan: Option<&PlanId>, key: SlotKey, slot: &Arc<Slot>) -> bool {
        let slab = match plan {
            None => Some(&mut self.unfiltered),
            Some(plan) => self.by_plan.get_mut(plan),
        };
        let Some(slab) = slab else {
            return false;
        };
        let removed = slab.get(key).is_some_and(|s| Arc::ptr_eq(s, slot));
        if removed {
            slab.remove(key);
        }
        if let Some(plan) = plan
            && self.by_plan.get(plan).is_some_and(Slab::is_empty)
        {
            self.by_plan.remove(plan);
        }
        removed
    }

    /// Hands `event` to every matching slot, collecting their wakers; returns how many
    /// slots lagged and were removed.
    pub(crate) fn fan_out(&mut self, event: &SharedEvent, wakers: &mut Vec<Waker>) -> usize {
        let mut dropped = offer_all(&mut self.unfiltered, event, wakers);
        if let Some(slab) = self.by_plan.get_mut(event.plan_id()) {
            dropped += offer_all(slab, event, wakers);
            if slab.is_empty() {
                self.by_plan.remove(event.plan_id());
            }
        }
        dropped
    }

    /// Ends and removes every slot, for `why`; returns the wakers to wake.
    pub(crate) fn end_all(&mut self, why: SlotEnd) -> Vec<Waker> {
        let unfiltered = std::mem::take(&mut self.unfiltered);
        let by_plan = std::mem::take(&mut self.by_plan);
        unfiltered
            .into_iter()
            .chain(by_plan.into_values().flatten())
            .filter_map(|(_, slot)| slot.end(why))
            .collect()
    }
}

/// Wakes every subscriber, starting at a different one for each event.
///
/// Woken tasks run in the order they were woken. Always starting with the same subscriber
/// would serve the newest subscribers last every time: they would see the highest latency,
/// and the first ones would be polled again sooner, for fewer frames per write. Starting
/// at a point that moves with the event id spreads the wait evenly.
pub(crate) fn wake_all(mut wakers: Vec<Waker>, id: EventId) {
    let start = wake_start(id, wakers.len());
    wakers.rotate_left(start);
    for waker in wakers {
        waker.wake();
    }
}

/// Where waking starts for event `id` among `n` subscribers: the id's sequence times
/// 2^64 / φ, which scatters consecutive ids over the whole list.
fn wake_start(id: EventId, n: usize) -> usize {
    match u64::try_from(n) {
        Ok(n) if n > 1 => (id.sequence().wrapping_mul(0x9E37_79B9_7F4A_7C15) % n) as usize,
        _ => 0,
    }
}

fn offer_all(slab: &mut Slab<Arc<Slot>>, event: &SharedEvent, wakers: &mut Vec<Waker>) -> usize {
    let before = slab.len();
    slab.retain(|_, slot| slot.offer(event, wakers));
    before - slab.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn what_one_event_touches_comes_first_in_the_slot() {
        use std::mem::{offset_of, size_of};
        // The mutex keeps its lock byte first and the inbox after it.
        let inbox_at = size_of::<Mutex<Inbox>>() - size_of::<Inbox>();
        let per_event_end = inbox_at + offset_of!(Inbox, end) + size_of::<Option<SlotEnd>>();
        assert!(per_event_end <= 64, "ends at {per_event_end}");
        assert!(offset_of!(Inbox, limits) > offset_of!(Inbox, end));
        assert!(offset_of!(Inbox, rest) > offset_of!(Inbox, end));
    }

    #[test]
    fn the_wake_start_stays_in_range_and_moves() {
        for n in [2_usize, 3, 4, 5, 10, 200, 10_000] {
            let starts: Vec<_> = (1..=8).map(|id| wake_start(EventId::new(id), n)).collect();
            assert!(starts.iter().all(|&s| s < n), "{n}: {starts:?}");
            assert!(starts.windows(2).any(|w| w[0] != w[1]), "{n}: {starts:?}");
        }
        assert_eq!(wake_start(EventId::new(7), 0), 0);
        assert_eq!(wake_start(EventId::new(7), 1), 0);
    }
}
