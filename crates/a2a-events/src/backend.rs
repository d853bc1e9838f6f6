//! [`EventBackend`]: what the SSE layer needs from an event engine.
//!
//! The adapters and the SSE core depend on this trait, not on [`A2aEventQueue`], so another
//! engine (a Redis Streams backend shared by several server replicas, say) plugs in without
//! changing them. An implementation must keep the queue's contract: ids ordered in publish
//! order, replay then live with no gap and no duplicate, a `Reset` item first when history
//! does not reach back, a `Lagged` item last on overflow, and a plan-filtered stream ending
//! after its plan's terminal event.

use std::future::Future;
use std::pin::Pin;

use futures_core::Stream;

use crate::error::{PublishError, SubscribeError};
use crate::event::NewEvent;
use crate::ids::EventId;
use crate::queue::{A2aEventQueue, SubscribeRequest};
use crate::subscription::SubscriptionItem;

/// A boxed, sendable future, as the trait's methods return.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// A boxed subscription stream, as [`EventBackend::subscribe`] returns.
pub type EventStream = Pin<Box<dyn Stream<Item = SubscriptionItem> + Send + 'static>>;

/// An event engine: publish, subscribe, count, close.
pub trait EventBackend: Send + Sync + 'static {
    /// Publishes an event and returns its id.
    fn publish(&self, event: NewEvent) -> BoxFuture<'_, Result<EventId, PublishError>>;

    /// Opens a subscription; see [`A2aEventQueue::subscribe`] for the contract.
    fn subscribe(
        &self,
        request: SubscribeRequest,
    ) -> BoxFuture<'_, Result<EventStream, SubscribeError>>;

    /// Subscriptions currently receiving live events from this process.
    fn subscriber_count(&self) -> usize;

    /// Ends every subscription and refuses further publishes and subscribes.
    fn close(&self);
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
        let result = Self::subscribe(self, request).map(|s| Box::pin(s) as EventStream);
        Box::pin(std::future::ready(result))
    }

    fn subscriber_count(&self) -> usize {
        Self::subscriber_count(self)
    }

    fn close(&self) {
        Self::close(self);
    }
}
