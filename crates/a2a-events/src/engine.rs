//! The subscription engine every backend shares: how a subscription starts (replay, `reset`,
//! snapshot, or a refusal), and how its stream goes on (replay, then live, then one end).
//!
//! A backend only brings two things of its own: where retained events come from (its
//! history, read in pages, possibly over the network) and where live events come from (a
//! per-subscriber inbox the backend fills). The rules below are written once, here, and
//! both the in-memory [`A2aEventQueue`](crate::A2aEventQueue) and a store-backed engine
//! such as the Redis backend (through a [`Fanout`](crate::Fanout)) follow them:
//!
//! 1. The backend registers the subscriber's live inbox, then reads, in one atomic step, a
//!    [`HistoryView`]: the newest id given, the oldest retained, the first retained id
//!    after the resume point, the plan's terminal event and, when asked, the plan's task.
//! 2. [`decide`] turns the request and the view into a [`Replay`] (or a refusal).
//! 3. The backend reads the retained events [`Replay::from`] names, page by page, into
//!    [`Replay::take_page`].
//! 4. The replay becomes the subscription's stream ([`Registration::into_subscription`] for
//!    a fan-out, the queue's own [`Subscription`](crate::Subscription)).
//!
//! # Ordering
//!
//! A subscription yields, in this order: at most one opening item (a
//! [`Reset`](SubscriptionItem::Reset) or a [`Snapshot`](SubscriptionItem::Snapshot)), the
//! replayed events in id order, then live events in id order, then exactly one
//! [`End`](SubscriptionItem::End) item, then `None`.
//!
//! Live delivery is registered *before* the view is read, so every event stored after the
//! read reaches the inbox. Whatever reaches it that the read already covered (an id at or
//! below the newest id seen or replayed: the *seam*) is dropped, so at the seam nothing is
//! missed and nothing comes twice. The in-memory queue reads and registers under one lock
//! and has nothing to drop.
//!
//! # Resuming and `reset`
//!
//! A resume point (`Last-Event-ID`) is *covered* when the history still goes on right after
//! it: it is the newest id, or the first retained id after it is its direct successor
//! (`0` stands for "before the first event of the newest id's epoch"). A covered resume
//! replays the retained events after it, and no `reset` is sent.
//!
//! A resume point that is not covered — its successors were trimmed, it belongs to
//! another epoch (the store lost data and started numbering again), or it is ahead of the
//! newest id (a restarted in-memory queue) — starts with a [`ResetNotice`]. The replay
//! that follows never repeats what the client already has:
//!
//! - a point at or below the newest id replays the retained events *after* it (the rest
//!   of its epoch, then newer epochs);
//! - a point ahead of the newest id names events this history never held: every retained
//!   event is replayed.
//!
//! A plan-filtered request that asked for a snapshot
//! ([`SubscribeRequest::with_snapshot`]) gets the plan's task instead of a `reset` (and
//! instead of a replay when it has no resume point), then live events.
//!
//! # Plans that finish
//!
//! A plan-filtered subscription ends right after its plan's terminal event
//! ([`SubscriptionEnd::PlanFinished`]). A request for a plan that already finished is
//! refused with [`SubscribeError::PlanFinished`] when it could receive nothing (no resume
//! point, one at or past the terminal event, or the terminal event no longer retained);
//! otherwise it replays up to the terminal event and ends, with nothing live.
//!
//! # Lag
//!
//! A subscriber whose inbox overflows ends with [`SubscriptionEnd::Lagged`], whose notice
//! names the last id the subscription delivered (or the resume point, before any). A
//! replay read in pages that finds a page not following the one before (the store trimmed
//! history meanwhile) ends the same way after what it could read.
//!
//! # Closing
//!
//! When the backend closes, every subscription ends at its next poll with
//! [`SubscriptionEnd::Closed`], even in the middle of its replay; what was waiting is
//! dropped.

use std::collections::VecDeque;
use std::sync::Arc;

use crate::error::SubscribeError;
use crate::event::SharedEvent;
use crate::ids::{EventId, PlanId};
use crate::queue::SubscribeRequest;
use crate::subscription::{ResetNotice, SubscriptionItem};
use crate::task::TaskSnapshot;

#[cfg(doc)]
use crate::{Registration, SubscriptionEnd};

/// What a backend knows when a subscription starts, read in one atomic step after the
/// subscriber's live inbox was registered.
///
/// Built with [`new`](Self::new), then its other fields set as the request needs.
#[derive(Debug, Clone, Default, PartialEq)]
#[non_exhaustive]
pub struct HistoryView {
    /// The newest id the backend gave (retained or not); `None` before the first.
    pub newest: Option<EventId>,
    /// The oldest retained event; `None` when nothing is retained.
    pub oldest: Option<EventId>,
    /// The first retained event (of any plan) after the requested resume point; read only
    /// for a request with one.
    pub next_after: Option<EventId>,
    /// The terminal event of the requested plan, when it finished (plan-filtered requests
    /// only).
    pub terminal: Option<EventId>,
    /// The requested plan's task, when a snapshot was asked for; `None` for a plan the
    /// backend knows nothing of.
    pub task: Option<Arc<TaskSnapshot>>,
}

impl HistoryView {
    /// A view of a history whose newest id is `newest` and oldest retained `oldest`.
    #[must_use]
    pub fn new(newest: Option<EventId>, oldest: Option<EventId>) -> Self {
        Self {
            newest,
            oldest,
            ..Self::default()
        }
    }
}

/// Where a replay starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReplayFrom {
    /// With the first retained event after this id, which is always the requested resume
    /// point: a backend that read the first page after it atomically starts with that page.
    After(EventId),
    /// With the oldest retained event.
    Oldest,
}

/// One retained event as a backend's history holds it: enough to filter it by plan before
/// paying for the shared event.
pub trait Retained {
    /// Its id.
    fn id(&self) -> EventId;
    /// Whether it belongs to `plan`.
    fn is_of(&self, plan: &PlanId) -> bool;
    /// The shared event; `None` when the entry holds no readable event (the backend
    /// reports it), which the replay skips.
    fn into_event(self) -> Option<SharedEvent>;
}

impl Retained for &SharedEvent {
    fn id(&self) -> EventId {
        (**self).id()
    }

    fn is_of(&self, plan: &PlanId) -> bool {
        self.plan_id() == plan
    }

    fn into_event(self) -> Option<SharedEvent> {
        Some(Arc::clone(self))
    }
}

/// What follows a subscription's replay.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Then {
    /// Live events.
    Live,
    /// The end of its finished plan, at this terminal event: nothing live.
    Finished(EventId),
    /// A lag: the replay was cut short (a page did not follow the one before).
    Lagged,
}

/// How a subscription starts, as [`decide`] settled it, and its replay as the backend
/// reads it.
#[derive(Debug)]
pub struct Replay {
    plan: Option<PlanId>,
    after: Option<EventId>,
    from: Option<ReplayFrom>,
    newest: Option<EventId>,
    /// The finished plan's terminal event: nothing past it is read, nothing live follows.
    finished: Option<EventId>,
    items: VecDeque<SubscriptionItem>,
    last_read: Option<EventId>,
    interrupted: bool,
}

/// Decides how a subscription asked for by `request` starts, given what the backend read.
///
/// # Errors
///
/// [`SubscribeError::PlanFinished`] when the requested plan finished and the subscription
/// could receive nothing of it (no resume point, one at or past the terminal event, or the
/// terminal event no longer retained: a `reset` without it would bring the client back
/// with the same id for ever); [`SubscribeError::UnknownPlan`] when a snapshot was asked
/// for a plan without a task.
pub fn decide(request: &SubscribeRequest, view: HistoryView) -> Result<Replay, SubscribeError> {
    let HistoryView {
        newest,
        oldest,
        next_after,
        terminal,
        task,
    } = view;
    let after = request.after;
    let terminal = request.plan.as_ref().and(terminal);
    if let Some(terminal) = terminal {
        let trimmed = oldest.is_none_or(|oldest| terminal < oldest);
        if trimmed || after.is_none_or(|after| after >= terminal) {
            return Err(SubscribeError::PlanFinished { terminal });
        }
    }
    let snapshot = match (&request.plan, request.snapshot) {
        (Some(_), true) => Some(task.ok_or(SubscribeError::UnknownPlan)?),
        _ => None,
    };
    let mut replay = Replay {
        plan: request.plan.clone(),
        after,
        from: None,
        newest,
        finished: terminal,
        items: VecDeque::new(),
        last_read: None,
        interrupted: false,
    };
    let lost = after.filter(|&after| !is_covered(after, newest, next_after));
    match (snapshot, after, lost) {
        // No resume point, or one history no longer covers: the task as it is now.
        (Some(snapshot), None, _) | (Some(snapshot), _, Some(_)) => {
            replay.items.push_back(SubscriptionItem::Snapshot(snapshot));
        }
        (_, None, _) => {}
        (_, Some(after), None) => replay.from = Some(ReplayFrom::After(after)),
        (_, Some(after), Some(_)) => {
            let notice = ResetNotice::new(after, oldest);
            replay.items.push_back(SubscriptionItem::Reset(notice));
            // Never what the client already has, unless its id is one this history never
            // reached (ahead of it: a restarted queue numbers from 1 again).
            let ahead = newest.is_none_or(|newest| after > newest);
            replay.from = Some(if ahead {
                ReplayFrom::Oldest
            } else {
                ReplayFrom::After(after)
            });
        }
    }
    Ok(replay)
}

/// Whether the history still goes on right after `after`: it is the newest id, or the
/// first retained id after it is its successor. `0` means "before the first event of the
/// newest id's epoch".
fn is_covered(after: EventId, newest: Option<EventId>, next_after: Option<EventId>) -> bool {
    let Some(newest) = newest else {
        return after == EventId::default();
    };
    let position = if after == EventId::default() {
        EventId::from_parts(newest.epoch(), 0)
    } else {
        after
    };
    if position.epoch() != newest.epoch() || position > newest {
        return false;
    }
    position == newest || next_after.is_some_and(|next| is_successor(position, next))
}

/// Whether `next` is the event right after `last`: the next sequence of the same epoch.
fn is_successor(last: EventId, next: EventId) -> bool {
    next.epoch() == last.epoch() && Some(next.sequence()) == last.sequence().checked_add(1)
}

impl Replay {
    /// Where the backend reads the replay from; `None` when nothing is replayed (no resume
    /// point, or a snapshot instead).
    #[must_use]
    pub const fn from(&self) -> Option<ReplayFrom> {
        self.from
    }

    /// Takes one page of retained events, in id order, as read from where [`from`](Self::from)
    /// says or from where the previous call said. `full` tells whether the page was as long
    /// as the backend's page size, so that more may follow.
    ///
    /// Returns the id after which the next page starts, or `None` when the replay is
    /// complete: the page was not full, the finished plan's terminal event was read, or the
    /// page did not go on where the one before stopped (events were trimmed meanwhile: the
    /// subscription then ends as lagged after what it has).
    pub fn take_page<E: Retained>(
        &mut self,
        page: impl IntoIterator<Item = E>,
        full: bool,
    ) -> Option<EventId> {
        let mut page = page.into_iter().peekable();
        if let (Some(last), Some(first)) = (self.last_read, page.peek())
            && !is_successor(last, first.id())
            // A new epoch at a page's start is no gap of the one before.
            && !(first.id().epoch() > last.epoch() && first.id().sequence() == 1)
        {
            self.interrupted = true;
            return None;
        }
        for entry in page {
            let id = entry.id();
            if self.finished.is_some_and(|terminal| id > terminal) {
                return None;
            }
            self.last_read = Some(id);
            if self.plan.as_ref().is_none_or(|plan| entry.is_of(plan))
                && let Some(event) = entry.into_event()
            {
                self.items.push_back(SubscriptionItem::Event(event));
            }
        }
        let last = self.last_read?;
        (full && self.finished.is_none_or(|terminal| last < terminal)).then_some(last)
    }

    /// The newest id the subscription's start covered: the newest id of the view, or the
    /// newest entry the replay read, whichever is higher. Live events up to it are
    /// dropped.
    #[must_use]
    pub fn seam(&self) -> Option<EventId> {
        self.newest.max(self.last_read)
    }

    /// Whether live events follow the replay (the plan did not finish, the replay was
    /// not cut short).
    #[must_use]
    pub const fn goes_live(&self) -> bool {
        matches!(self.then(), Then::Live)
    }

    pub(crate) const fn then(&self) -> Then {
        match (self.interrupted, self.finished) {
            (true, _) => Then::Lagged,
            (false, Some(terminal)) => Then::Finished(terminal),
            (false, None) => Then::Live,
        }
    }

    pub(crate) fn into_parts(
        self,
    ) -> (Option<PlanId>, Option<EventId>, VecDeque<SubscriptionItem>) {
        (self.plan, self.after, self.items)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::{A2aEvent, EventPayload, StoredEvent, Timestamp};
    use crate::model::{ErrorPayload, TaskState, TaskStatusUpdateEvent};

    fn id(sequence: u64) -> EventId {
        EventId::from_parts(8, sequence)
    }

    fn plan(name: &str) -> PlanId {
        PlanId::new(name).unwrap()
    }

    fn event(sequence: u64, plan_name: &str) -> SharedEvent {
        let payload = EventPayload::Error(ErrorPayload {
            code: 1,
            message: "m".into(),
            data: None,
        });
        let event = A2aEvent::new(id(sequence), plan(plan_name), Timestamp::now(), payload);
        Arc::new(StoredEvent::new(&event).unwrap())
    }

    fn history(from: u64, to: u64) -> Vec<SharedEvent> {
        (from..=to)
            .map(|s| event(s, if s % 2 == 0 { "even" } else { "odd" }))
            .collect()
    }

    fn sequences(replay: &Replay) -> Vec<u64> {
        replay
            .items
            .iter()
            .filter_map(|item| match item {
                SubscriptionItem::Event(e) => Some(e.id().sequence()),
                _ => None,
            })
            .collect()
    }

    fn view(newest: u64, oldest: u64, next_after: Option<u64>) -> HistoryView {
        let mut view = HistoryView::new(Some(id(newest)), Some(id(oldest)));
        view.next_after = next_after.map(id);
        view
    }

    fn reset_of(replay: &Replay) -> Option<ResetNotice> {
        match replay.items.front() {
            Some(SubscriptionItem::Reset(notice)) => Some(*notice),
            _ => None,
        }
    }

    #[test]
    fn a_resume_point_is_covered_only_when_history_goes_on_right_after_it() {
        let newest = Some(id(9));
        assert!(is_covered(id(4), newest, Some(id(5))), "covered");
        assert!(is_covered(id(9), newest, None), "at the newest");
        assert!(!is_covered(id(4), newest, Some(id(6))), "trimmed");
        assert!(!is_covered(id(4), newest, None), "gone");
        assert!(!is_covered(id(10), newest, None), "ahead");
        let other_epoch = EventId::from_parts(7, 4);
        assert!(
            !is_covered(other_epoch, newest, Some(id(1))),
            "another epoch"
        );
        assert!(
            !is_covered(EventId::new(4), newest, None),
            "an in-memory id"
        );
        assert!(
            is_covered(EventId::default(), newest, Some(id(1))),
            "0: the start"
        );
        assert!(!is_covered(EventId::default(), newest, Some(id(2))));
        assert!(is_covered(EventId::default(), None, None), "empty");
        assert!(!is_covered(id(3), None, None));
        assert!(!is_successor(
            EventId::from_parts(1, u64::MAX),
            EventId::from_parts(2, 0)
        ));
    }

    #[test]
    fn a_covered_resume_replays_after_its_point_without_reset() {
        let request = SubscribeRequest::all().after(id(4));
        let replay = decide(&request, view(9, 1, Some(5))).unwrap();
        assert_eq!(replay.from(), Some(ReplayFrom::After(id(4))));
        assert_eq!(reset_of(&replay), None);
        assert!(replay.goes_live());
        let live = decide(&SubscribeRequest::all(), view(9, 1, None)).unwrap();
        assert_eq!((live.from(), live.items.len()), (None, 0));
        assert_eq!(live.seam(), Some(id(9)));
    }

    #[test]
    fn a_lost_resume_is_reset_and_replays_only_what_follows_it() {
        // Trimmed, or of an older epoch: the events after it, never before.
        for after in [id(2), EventId::from_parts(7, 55)] {
            let replay = decide(&SubscribeRequest::all().after(after), view(9, 5, Some(5)));
            let replay = replay.unwrap();
            assert_eq!(
                reset_of(&replay),
                Some(ResetNotice::new(after, Some(id(5))))
            );
            assert_eq!(replay.from(), Some(ReplayFrom::After(after)));
        }
        // Ahead of the history, or no history at all: every retained event.
        for newest in [Some(id(9)), None] {
            let mut view = view(9, 5, None);
            view.newest = newest;
            let replay = decide(&SubscribeRequest::all().after(id(12)), view).unwrap();
            assert!(reset_of(&replay).is_some());
            assert_eq!(replay.from(), Some(ReplayFrom::Oldest));
        }
    }

    #[test]
    fn a_finished_plan_is_refused_unless_something_of_it_is_left() {
        let request = |after: Option<u64>| {
            let mut request = SubscribeRequest::plan(plan("p"));
            request.after = after.map(id);
            request
        };
        let finished = |oldest: u64| {
            let mut view = view(9, oldest, Some(4));
            view.terminal = Some(id(5));
            view
        };
        let refused = SubscribeError::PlanFinished { terminal: id(5) };
        for after in [None, Some(5), Some(7)] {
            assert_eq!(decide(&request(after), finished(1)).unwrap_err(), refused);
        }
        assert_eq!(decide(&request(Some(2)), finished(6)).unwrap_err(), refused);
        let replay = decide(&request(Some(3)), finished(1)).unwrap();
        assert_eq!(replay.then(), Then::Finished(id(5)));
        assert!(!replay.goes_live());
        // An unfiltered request does not care about a plan's end.
        let all = decide(&SubscribeRequest::all(), finished(6)).unwrap();
        assert!(all.goes_live());
    }

    #[test]
    fn a_snapshot_comes_first_unless_the_resume_is_covered() {
        let task = Arc::new(TaskSnapshot::new(
            &plan("p"),
            id(9),
            &EventPayload::StatusUpdate(TaskStatusUpdateEvent {
                task_id: "p".into(),
                context_id: "c".into(),
                status: TaskState::Working.into(),
                metadata: None,
            }),
        ));
        let with_task = |next_after| {
            let mut view = view(9, 5, next_after);
            view.task = Some(Arc::clone(&task));
            view
        };
        let ask = SubscribeRequest::plan(plan("p")).with_snapshot();
        let is_snapshot = |replay: &Replay| {
            replay.from().is_none()
                && matches!(&replay.items.front(), Some(SubscriptionItem::Snapshot(s)) if s.as_of == id(9))
        };
        assert!(is_snapshot(&decide(&ask, with_task(None)).unwrap()));
        let lost = ask.clone().after(id(2));
        assert!(is_snapshot(&decide(&lost, with_task(Some(5))).unwrap()));
        let covered = decide(&ask.clone().after(id(6)), with_task(Some(7))).unwrap();
        assert_eq!(
            (covered.from(), covered.items.len()),
            (Some(ReplayFrom::After(id(6))), 0)
        );
        assert_eq!(
            decide(&ask, view(9, 5, None)).unwrap_err(),
            SubscribeError::UnknownPlan
        );
        // Without a plan filter the flag means nothing.
        let all = decide(&SubscribeRequest::all().with_snapshot(), view(9, 5, None)).unwrap();
        assert!(all.items.is_empty());
    }

    #[test]
    fn pages_are_filtered_read_until_short_and_stop_at_the_terminal_event() {
        let odd = SubscribeRequest::plan(plan("odd")).after(id(0));
        let mut replay = decide(&odd, view(9, 1, Some(1))).unwrap();
        let pages = history(1, 9);
        assert_eq!(replay.take_page(&pages[..4], true), Some(id(4)));
        assert_eq!(replay.take_page(&pages[4..8], true), Some(id(8)));
        assert_eq!(replay.take_page(&pages[8..], false), None);
        assert_eq!(sequences(&replay), [1, 3, 5, 7, 9]);
        assert_eq!(replay.seam(), Some(id(9)));

        let mut until = decide(&odd, view(9, 1, Some(1))).unwrap();
        until.finished = Some(id(3));
        assert_eq!(until.take_page(&pages[..2], true), Some(id(2)));
        assert_eq!(
            until.take_page(&pages[2..4], true),
            None,
            "the end was read"
        );
        assert_eq!(sequences(&until), [1, 3]);
        let mut empty = decide(&odd, view(9, 1, Some(1))).unwrap();
        assert_eq!(empty.take_page(Vec::<&SharedEvent>::new(), true), None);
    }

    #[test]
    fn a_page_that_skips_interrupts_the_replay_and_an_epoch_change_does_not() {
        let all = SubscribeRequest::all().after(id(0));
        let mut replay = decide(&all, view(9, 1, Some(1))).unwrap();
        let pages = history(1, 9);
        assert_eq!(replay.take_page(&pages[..2], true), Some(id(2)));
        assert_eq!(replay.take_page(&pages[3..], true), None);
        assert_eq!(replay.then(), Then::Lagged);
        assert_eq!(sequences(&replay), [1, 2]);

        let mut epochs = decide(&all, view(9, 1, Some(1))).unwrap();
        epochs.take_page(&pages[..2], true);
        let next_epoch = A2aEvent::new(
            EventId::from_parts(9, 1),
            plan("odd"),
            Timestamp::now(),
            EventPayload::Error(ErrorPayload {
                code: 1,
                message: "m".into(),
                data: None,
            }),
        );
        let next_epoch = Arc::new(StoredEvent::new(&next_epoch).unwrap());
        assert_eq!(epochs.take_page([&next_epoch], false), None);
        assert_eq!(epochs.then(), Then::Live);
        assert_eq!(epochs.items.len(), 3);
    }
}
