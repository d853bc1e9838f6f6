//! [`EventBackend`]: what the SSE layer needs from an event engine.
//!
//! The adapters and the SSE core depend on this trait, not on [`A2aEventQueue`], so another
//! engine (a Redis Streams backend shared by several server replicas, say) plugs in without
//! changing them. An implementation must keep the queue's contract: ids ordered in publish
//! order, replay then live with no gap and no duplicate, a `Reset` item first when history
//! does not reach back, a plan-filtered stream ending after its plan's terminal event, and
//! an [`End`](crate::SubscriptionItem::End) item last that says why the stream ended
//! (lagged on overflow, plan finished, closed).

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use futures_core::Stream;

use crate::error::{BackendError, BackendErrorKind, PublishError, SubscribeError};
use crate::event::NewEvent;
use crate::ids::{EventId, PlanId};
use crate::listing::{TaskPage, TaskQuery};
use crate::model::TaskState;
use crate::push::PushStore;
use crate::queue::{A2aEventQueue, SubscribeRequest};
use crate::subscription::{Subscription, SubscriptionItem};
use crate::task::TaskSnapshot;
use std::sync::Arc;

/// A boxed, sendable future, as the trait's methods return.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// A subscription stream, as [`EventBackend::subscribe`] returns.
///
/// The in-memory queue's [`Subscription`] is held as it is (`From<Subscription>`); any other
/// backend's stream is boxed by [`EventStream::new`]. Keeping the common case unboxed saves
/// each of thousands of live streams an allocation, and each poll a pointer to follow.
pub struct EventStream {
    inner: Inner,
}

enum Inner {
    Queue(Subscription),
    Boxed(Pin<Box<dyn Stream<Item = SubscriptionItem> + Send + 'static>>),
}

impl EventStream {
    /// Wraps another backend's stream, which must keep the contract of the trait's docs.
    pub fn new(stream: impl Stream<Item = SubscriptionItem> + Send + 'static) -> Self {
        Self {
            inner: Inner::Boxed(Box::pin(stream)),
        }
    }
}

impl From<Subscription> for EventStream {
    fn from(subscription: Subscription) -> Self {
        Self {
            inner: Inner::Queue(subscription),
        }
    }
}

impl Stream for EventStream {
    type Item = SubscriptionItem;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<SubscriptionItem>> {
        match &mut self.get_mut().inner {
            Inner::Queue(subscription) => Pin::new(subscription).poll_next(cx),
            Inner::Boxed(stream) => stream.as_mut().poll_next(cx),
        }
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        match &self.inner {
            Inner::Queue(subscription) => subscription.size_hint(),
            Inner::Boxed(stream) => stream.size_hint(),
        }
    }
}

impl fmt::Debug for EventStream {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.inner {
            Inner::Queue(subscription) => f.debug_tuple("EventStream").field(subscription).finish(),
            Inner::Boxed(_) => f.write_str("EventStream(<boxed>)"),
        }
    }
}

/// An event engine: publish, subscribe, count, close.
pub trait EventBackend: Send + Sync + 'static {
    /// Publishes an event and returns its id.
    fn publish(&self, event: NewEvent) -> BoxFuture<'_, Result<EventId, PublishError>>;

    /// Opens a subscription; see [`A2aEventQueue::subscribe`] for the contract.
    fn subscribe(
        &self,
        request: SubscribeRequest,
    ) -> BoxFuture<'_, Result<EventStream, SubscribeError>>;

    /// `plan`'s task as of its latest event (A2A's `GetTask`); `None` for a plan it knows
    /// nothing of. See [`A2aEventQueue::task`].
    fn task(
        &self,
        plan: &PlanId,
    ) -> BoxFuture<'_, Result<Option<Arc<TaskSnapshot>>, SubscribeError>>;

    /// The state of `plan`'s task, as [`task`](Self::task) would give it; `None` for a plan
    /// it knows nothing of. The default reads the whole task. A backend that builds a task
    /// by folding its history should answer from something cheaper: push delivery asks
    /// after every batch it delivered whether the task ended.
    fn task_state(
        &self,
        plan: &PlanId,
    ) -> BoxFuture<'_, Result<Option<TaskState>, SubscribeError>> {
        let task = self.task(plan);
        Box::pin(async move { Ok(task.await?.map(|snapshot| snapshot.task.status.state)) })
    }

    /// Subscriptions currently receiving live events from this process.
    fn subscriber_count(&self) -> usize;

    /// Ends every subscription and refuses further publishes and subscribes.
    fn close(&self);

    /// One page of the tasks the backend remembers (A2A's `ListTasks`): see
    /// [`TaskPage::select`] for the order and the paging. The default answers that the
    /// backend cannot list.
    fn list_tasks(&self, query: TaskQuery) -> BoxFuture<'_, Result<TaskPage, SubscribeError>> {
        let _ = query;
        Box::pin(std::future::ready(Err(SubscribeError::Backend(
            BackendError::new(BackendErrorKind::Protocol, "this backend cannot list tasks"),
        ))))
    }

    /// Says that this process runs `plan`'s execution, for `ttl` from now: called again
    /// before it runs out, while the execution runs. A backend shared by several
    /// processes keeps the lease where the others see it; when one runs out (the process
    /// died), [`claim_expired`](Self::claim_expired) hands the plan to one of them. The
    /// default, for a backend of one process, keeps nothing.
    fn hold(&self, plan: &PlanId, ttl: Duration) -> BoxFuture<'_, Result<(), BackendError>> {
        let _ = (plan, ttl);
        Box::pin(std::future::ready(Ok(())))
    }

    /// Gives `plan`'s lease up: its execution ended. The default keeps nothing.
    fn release(&self, plan: &PlanId) -> BoxFuture<'_, Result<(), BackendError>> {
        let _ = plan;
        Box::pin(std::future::ready(Ok(())))
    }

    /// The plans whose lease ran out, each handed to one caller only (among every process
    /// sharing the backend), which then ends them. The default has none.
    fn claim_expired(&self) -> BoxFuture<'_, Result<Vec<PlanId>, BackendError>> {
        Box::pin(std::future::ready(Ok(Vec::new())))
    }

    /// Where the backend keeps push notification configs and their deliveries; `None`
    /// (the default) when it keeps none.
    fn push(&self) -> Option<&dyn PushStore> {
        None
    }
}

/// A shared engine is an engine: `Arc<dyn EventBackend>` (or an `Arc` of any backend) can
/// be handed wherever one is expected, while its owner keeps publishing to it.
impl<B: EventBackend + ?Sized> EventBackend for Arc<B> {
    fn publish(&self, event: NewEvent) -> BoxFuture<'_, Result<EventId, PublishError>> {
        (**self).publish(event)
    }

    fn subscribe(
        &self,
        request: SubscribeRequest,
    ) -> BoxFuture<'_, Result<EventStream, SubscribeError>> {
        (**self).subscribe(request)
    }

    fn task(
        &self,
        plan: &PlanId,
    ) -> BoxFuture<'_, Result<Option<Arc<TaskSnapshot>>, SubscribeError>> {
        (**self).task(plan)
    }

    fn task_state(
        &self,
        plan: &PlanId,
    ) -> BoxFuture<'_, Result<Option<TaskState>, SubscribeError>> {
        (**self).task_state(plan)
    }

    fn subscriber_count(&self) -> usize {
        (**self).subscriber_count()
    }

    fn close(&self) {
        (**self).close();
    }

    fn list_tasks(&self, query: TaskQuery) -> BoxFuture<'_, Result<TaskPage, SubscribeError>> {
        (**self).list_tasks(query)
    }

    fn hold(&self, plan: &PlanId, ttl: Duration) -> BoxFuture<'_, Result<(), BackendError>> {
        (**self).hold(plan, ttl)
    }

    fn release(&self, plan: &PlanId) -> BoxFuture<'_, Result<(), BackendError>> {
        (**self).release(plan)
    }

    fn claim_expired(&self) -> BoxFuture<'_, Result<Vec<PlanId>, BackendError>> {
        (**self).claim_expired()
    }

    fn push(&self) -> Option<&dyn PushStore> {
        (**self).push()
    }
}

impl EventBackend for A2aEventQueue {
    fn publish(&self, event: NewEvent) -> BoxFuture<'_, Result<EventId, PublishError>> {
        let result = Self::publish(self, event);
        Box::pin(std::future::ready(result))
    }

    fn subscribe(
        &self,
        request: SubscribeRequest,
    ) -> BoxFuture<'_, Result<EventStream, SubscribeError>> {
        let result = Self::subscribe(self, request).map(EventStream::from);
        Box::pin(std::future::ready(result))
    }

    fn task(
        &self,
        plan: &PlanId,
    ) -> BoxFuture<'_, Result<Option<Arc<TaskSnapshot>>, SubscribeError>> {
        let task = Self::task(self, plan);
        Box::pin(std::future::ready(Ok(task)))
    }

    fn subscriber_count(&self) -> usize {
        Self::subscriber_count(self)
    }

    fn close(&self) {
        Self::close(self);
    }

    fn list_tasks(&self, query: TaskQuery) -> BoxFuture<'_, Result<TaskPage, SubscribeError>> {
        let page = Self::list_tasks(self, &query);
        Box::pin(std::future::ready(Ok(page)))
    }

    fn push(&self) -> Option<&dyn PushStore> {
        Some(self)
    }
}
