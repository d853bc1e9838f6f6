//! A2A plan-execution events and [`A2aEventQueue`], an in-memory publish/subscribe queue
//! with per-plan filtering, bounded history for gapless resume, and a slow-consumer policy
//! that never blocks anyone else.
//!
//! Publishers hand in a [`NewEvent`] (a plan id and an A2A v1 payload); the queue gives it
//! the next [`EventId`], serializes it to JSON **once**, keeps it in history and hands the
//! same shared [`StoredEvent`] to every matching [`Subscription`].
//!
//! ```
//! use a2a_events::*;
//! use futures_util::StreamExt;
//!
//! # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let queue = A2aEventQueue::new();
//! let plan = PlanId::new("plan-7")?;
//! let mut sub = queue.subscribe(SubscribeRequest::plan(plan.clone()))?;
//!
//! let working = TaskStatusUpdateEvent {
//!     task_id: "plan-7".into(),
//!     context_id: "ctx-1".into(),
//!     status: TaskState::Working.into(),
//!     metadata: None,
//! };
//! let id = queue.publish(NewEvent::new(plan, EventPayload::StatusUpdate(working)))?;
//!
//! match sub.next().await {
//!     Some(SubscriptionItem::Event(event)) => assert_eq!(event.id(), id),
//!     other => panic!("unexpected {other:?}"),
//! }
//! # Ok(()) }
//! ```
//!
//! # Ordering
//!
//! Ids are assigned under the queue's lock, so they strictly increase in publish order, and
//! every subscriber receives its events in that order. A subscription created with
//! [`SubscribeRequest::after`] first replays the retained events after that id, then goes
//! live; the replay is taken and the subscriber registered in one critical section, so an
//! event published concurrently is either in the replay or delivered live, never both and
//! never neither. Several subscribers of one plan each receive every event of it.
//!
//! # Lagging
//!
//! Publishing never waits. Each subscriber has a bounded buffer ([`BufferLimits`], events
//! and bytes). When a subscriber does not keep up and its buffer would overflow, that
//! subscription alone ends: its buffer is freed at once, it yields
//! [`SubscriptionEnd::Lagged`] carrying the last id it delivered, then `None`. The
//! publisher and the other subscribers are not affected. The client resumes after that id
//! and, while history still covers it, loses nothing.
//!
//! ```
//! # use a2a_events::*;
//! # use futures_util::StreamExt;
//! # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! # let plan = PlanId::new("p")?;
//! # let event = || NewEvent::new(plan.clone(), EventPayload::Error(ErrorPayload { code: 1, message: "m".into(), data: None }));
//! let queue = A2aEventQueue::new();
//! let tiny = BufferLimits::events(2);
//! let mut slow = queue.subscribe(SubscribeRequest::all().buffer(tiny))?;
//! for _ in 0..3 {
//!     queue.publish(event())?; // the third overflows `slow`
//! }
//! match slow.next().await {
//!     Some(SubscriptionItem::End(SubscriptionEnd::Lagged(notice))) => {
//!         assert_eq!(notice.last_delivered, None)
//!     }
//!     other => panic!("unexpected {other:?}"),
//! }
//! assert!(slow.next().await.is_none());
//!
//! // Resuming loses nothing: history still holds events 1 to 3.
//! let mut again = queue.subscribe(SubscribeRequest::all().after(EventId::new(0)))?;
//! for expected in 1..=3 {
//!     let Some(SubscriptionItem::Event(e)) = again.next().await else { panic!() };
//!     assert_eq!(e.id(), EventId::new(expected));
//! }
//! # Ok(()) }
//! ```
//!
//! # History and reset
//!
//! The queue retains the newest events, bounded by [`QueueConfig::history_events`] and
//! [`QueueConfig::history_bytes`]. When a subscriber resumes after an id whose successors
//! were already evicted, or an id the queue never reached (its history was lost in a
//! restart), it first yields a [`SubscriptionItem::Reset`] naming the requested id and the
//! oldest retained one, then replays the retained events after the requested id (all of
//! them for an id ahead of the queue). The subscriber knows it may have missed events and
//! can reload state another way; it never gets one it already had.
//!
//! # Plans that finish
//!
//! A status update to a terminal [`TaskState`] (completed, failed, canceled, rejected)
//! finishes its plan. A plan-filtered subscription ends right after yielding it, with
//! [`SubscriptionEnd::PlanFinished`]; the queue
//! remembers the id ([`A2aEventQueue::terminal_event`]), refuses later publishes to the plan
//! ([`PublishError::PlanFinished`]), and refuses a filtered subscription that could receive
//! nothing more of the plan ([`SubscribeError::PlanFinished`]: no resume point, one at or
//! past the terminal event, or one so old that the terminal event already left history),
//! which the SSE layer answers with `204 No Content`.
//!
//! # Closing
//!
//! [`A2aEventQueue::close`], or dropping the last queue handle, ends every subscription at
//! its next poll with [`SubscriptionEnd::Closed`] (subscribers are woken), so a server's
//! graceful shutdown is not held open by long-lived streams. Events still buffered for a subscriber are dropped; clients
//! resume with `Last-Event-ID` elsewhere. Publishing and subscribing then fail with
//! `Closed`.
//!
//! # Tasks
//!
//! The queue folds each plan's events into a [`TaskSnapshot`] as they are published (the
//! [`task`] module says how), for A2A's `GetTask` ([`A2aEventQueue::task`]) and
//! for subscriptions that start with the task as it is
//! ([`SubscribeRequest::with_snapshot`]). A running plan's snapshot lives until the plan
//! finishes; a finished plan's as long as the plan is remembered:
//! [`QueueConfig::finished_plans`] plans at most (10,000), for
//! [`QueueConfig::finished_ttl`] at most (one hour).
//!
//! # Ending
//!
//! Every subscription's last item is [`SubscriptionItem::End`], which says why it ended
//! ([`SubscriptionEnd`]); `None` follows. A consumer never has to work out the reason from
//! what it saw before.
//!
//! # Growing
//!
//! Configs, notices, errors and the item and end enums are `#[non_exhaustive]`: build
//! configs from `Default` and set fields, and match with a `_` arm. The A2A payload
//! types ([`TaskStatusUpdateEvent`], [`Artifact`], …) mirror the protocol's messages and
//! stay plain structs, so they can be written as literals.
//!
//! # Other engines
//!
//! [`EventBackend`] is what the SSE layer uses; [`A2aEventQueue`] implements it, and
//! another engine can too. Such an engine, which gives events their ids elsewhere (a
//! store shared by several server replicas), delivers them to the subscribers of its
//! process through a [`Fanout`]: the queue's own bounded per-subscriber buffers and plan
//! index, so lag and slow-consumer isolation behave exactly as they do here. The
//! [`engine`] module holds what every backend's subscriptions share: the decision between
//! replay, `reset`, snapshot and refusal, the paged replay, and the stream that goes from
//! replay to live with nothing lost or repeated at the seam.

mod backend;
pub mod engine;
pub mod error;
mod event;
mod fanout;
mod ids;
mod inbox;
mod listing;
mod model;
pub mod push;
mod queue;
mod subscription;
pub mod task;

pub use backend::{BoxFuture, EventBackend, EventStream};
pub use error::{
    BackendError, BackendErrorKind, EncodeError, EventDataError, EventIdError, PlanIdError,
    PublishError, QueueConfigError, SubscribeError, TimestampError,
};
pub use event::{
    A2aEvent, Encoded, EventEncoder, EventKind, EventPayload, NewEvent, SharedEvent, StoredEvent,
    Timestamp,
};
pub use fanout::{Fanout, FanoutSubscription, Received, Receiver, Registration};
pub use ids::{EventId, PlanId};
pub use listing::{TaskCursor, TaskPage, TaskQuery, paginate};
pub use model::{
    Artifact, ErrorPayload, Message, Metadata, Part, PartContent, Role, TaskArtifactUpdateEvent,
    TaskState, TaskStatus, TaskStatusUpdateEvent,
};
pub use push::{Assignment, Pending, PushStore};
pub use queue::{A2aEventQueue, BufferLimits, QueueConfig, SubscribeRequest};
pub use subscription::{LagNotice, ResetNotice, Subscription, SubscriptionEnd, SubscriptionItem};
pub use task::{Task, TaskSnapshot};
