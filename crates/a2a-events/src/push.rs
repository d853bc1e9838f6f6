//! [`PushStore`]: where a backend keeps push notification configs and what they still
//! have to deliver, so that a delivering process can stop (or die) and another go on.
//!
//! A config belongs to a task. Its deliveries are the task's events from the one after it
//! was stored, in order; the store keeps, per config, the position of the next event to
//! deliver (advanced by [`delivered`](PushStore::delivered) once the receiver took an
//! event), and the events themselves as long as some config still needs them.
//!
//! # Who delivers
//!
//! A stored config is handed to one delivering process: the next [`claim`](PushStore::claim)
//! of any process takes it, and that process alone delivers it while it
//! [`renew`](PushStore::renew)s its claim. A claim not renewed for the `idle` time given to
//! `claim` (its process died) is taken over by the next process that claims; it goes on
//! from the config's position, so the event that was in flight is delivered again: at
//! least once, never skipped. [`finish`](PushStore::finish) gives a config up for good (its
//! task ended and everything was delivered, or it was deleted).
//!
//! The in-memory queue's store lives in its process: every config is its own process's, a
//! restart loses them all, and a config's events wait in memory, at most
//! [`QueueConfig::push_backlog`](crate::QueueConfig::push_backlog) per task (past that the
//! oldest are dropped, and [`Pending::lost`] says how many a config missed). The Redis
//! backend keeps configs, positions and claims in Redis (claims in a stream's consumer
//! group) and reads the events from the task's own list, so they survive its replicas.

use std::time::Duration;

use bytes::Bytes;

use crate::backend::BoxFuture;
use crate::error::BackendError;
use crate::event::SharedEvent;
use crate::ids::PlanId;

/// A config handed to a delivering process by [`PushStore::claim`].
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct Assignment {
    /// The config's task.
    pub task: PlanId,
    /// The config's id.
    pub id: String,
    /// The store's handle of the claim (a stream entry id on Redis).
    pub claim: String,
}

impl Assignment {
    /// The assignment of `task`'s config `id`, under the store's `claim`.
    #[must_use]
    pub const fn new(task: PlanId, id: String, claim: String) -> Self {
        Self { task, id, claim }
    }
}

/// What a config has to deliver next.
#[derive(Debug, Clone, Default)]
#[non_exhaustive]
pub struct Pending {
    /// Whether the config still exists (a deleted one delivers nothing more).
    pub exists: bool,
    /// The position of the first of [`events`](Self::events).
    pub next: u64,
    /// The events to deliver, in order, from `next` on.
    pub events: Vec<SharedEvent>,
    /// Events the config missed: dropped before it delivered them.
    pub lost: u64,
    /// How many events the config has yet to deliver, from `next` on (those in
    /// [`events`](Self::events) and any after them).
    pub behind: u64,
}

/// Push notification configs and their deliveries, kept by a backend: see the
/// [module docs](self).
pub trait PushStore: Send + Sync + 'static {
    /// Stores `config` (the config's JSON, as the caller keeps it) as `task`'s config
    /// `id`, replacing one of that id; its deliveries start with the task's next event. It
    /// is handed to the next process that claims.
    fn put(
        &self,
        task: &PlanId,
        id: &str,
        config: Bytes,
    ) -> BoxFuture<'_, Result<(), BackendError>>;

    /// `task`'s config `id`, if it has one.
    fn get(&self, task: &PlanId, id: &str) -> BoxFuture<'_, Result<Option<Bytes>, BackendError>>;

    /// Every config of `task`.
    fn list(&self, task: &PlanId) -> BoxFuture<'_, Result<Vec<Bytes>, BackendError>>;

    /// Deletes `task`'s config `id`; whether it existed.
    fn delete(&self, task: &PlanId, id: &str) -> BoxFuture<'_, Result<bool, BackendError>>;

    /// The configs `consumer` (this process) is to deliver from now on: the newly stored
    /// ones, and those whose claim was not renewed for `idle`.
    fn claim(
        &self,
        consumer: &str,
        idle: Duration,
    ) -> BoxFuture<'_, Result<Vec<Assignment>, BackendError>>;

    /// Says that `consumer` still delivers `assignments`.
    fn renew(
        &self,
        consumer: &str,
        assignments: &[Assignment],
    ) -> BoxFuture<'_, Result<(), BackendError>>;

    /// Gives `assignment` up for good.
    fn finish(&self, assignment: &Assignment) -> BoxFuture<'_, Result<(), BackendError>>;

    /// What `task`'s config `id` has to deliver next: at most `max` events.
    fn pending(
        &self,
        task: &PlanId,
        id: &str,
        max: usize,
    ) -> BoxFuture<'_, Result<Pending, BackendError>>;

    /// Records that `task`'s config `id` delivered everything before position `next`.
    fn delivered(
        &self,
        task: &PlanId,
        id: &str,
        next: u64,
    ) -> BoxFuture<'_, Result<(), BackendError>>;
}

/// The in-memory queue's push state: per task with configs, its events since the oldest
/// position a config still needs, and its configs.
#[derive(Debug, Default)]
pub(crate) struct MemoryPush {
    tasks: std::collections::HashMap<PlanId, TaskLog>,
    /// Configs stored since the last claim.
    unclaimed: Vec<Assignment>,
}

#[derive(Debug, Default)]
struct TaskLog {
    /// The position of `events[0]`.
    base: u64,
    events: std::collections::VecDeque<SharedEvent>,
    /// By id: the config's JSON and its next position.
    configs: std::collections::BTreeMap<String, (Bytes, u64)>,
}

impl TaskLog {
    fn end(&self) -> u64 {
        self.base + self.events.len() as u64
    }

    /// Drops the events no config needs any more.
    fn trim(&mut self) {
        let oldest = self
            .configs
            .values()
            .map(|(_, next)| *next)
            .min()
            .unwrap_or(self.end());
        while self.base < oldest && self.events.pop_front().is_some() {
            self.base += 1;
        }
    }
}

impl MemoryPush {
    /// Keeps `event` for the configs of its task, at most `backlog` events per task (past
    /// that the oldest go: a config that still needed them has lost them).
    pub(crate) fn record(&mut self, event: &SharedEvent, backlog: usize) {
        let Some(log) = self.tasks.get_mut(event.plan_id()) else {
            return;
        };
        log.events.push_back(std::sync::Arc::clone(event));
        while log.events.len() > backlog.max(1) {
            log.events.pop_front();
            log.base += 1;
        }
    }

    pub(crate) fn put(&mut self, task: &PlanId, id: &str, config: Bytes) {
        let log = self.tasks.entry(task.clone()).or_default();
        let next = log.end();
        log.configs.insert(id.to_owned(), (config, next));
        self.unclaimed
            .push(Assignment::new(task.clone(), id.to_owned(), String::new()));
    }

    pub(crate) fn get(&self, task: &PlanId, id: &str) -> Option<Bytes> {
        let log = self.tasks.get(task)?;
        log.configs.get(id).map(|(config, _)| config.clone())
    }

    pub(crate) fn list(&self, task: &PlanId) -> Vec<Bytes> {
        self.tasks.get(task).map_or_else(Vec::new, |log| {
            log.configs
                .values()
                .map(|(config, _)| config.clone())
                .collect()
        })
    }

    pub(crate) fn delete(&mut self, task: &PlanId, id: &str) -> bool {
        let Some(log) = self.tasks.get_mut(task) else {
            return false;
        };
        let existed = log.configs.remove(id).is_some();
        if log.configs.is_empty() {
            self.tasks.remove(task);
        } else {
            log.trim();
        }
        existed
    }

    pub(crate) fn claim(&mut self) -> Vec<Assignment> {
        std::mem::take(&mut self.unclaimed)
    }

    pub(crate) fn pending(&self, task: &PlanId, id: &str, max: usize) -> Pending {
        let Some((log, next)) = self
            .tasks
            .get(task)
            .and_then(|log| log.configs.get(id).map(|(_, next)| (log, *next)))
        else {
            return Pending::default();
        };
        let lost = log.base.saturating_sub(next);
        let from = next.max(log.base);
        let skip = usize::try_from(from - log.base).unwrap_or(usize::MAX);
        Pending {
            exists: true,
            next: from,
            events: log.events.iter().skip(skip).take(max).cloned().collect(),
            lost,
            behind: log.end().saturating_sub(from),
        }
    }

    pub(crate) fn delivered(&mut self, task: &PlanId, id: &str, next: u64) {
        if let Some(log) = self.tasks.get_mut(task)
            && let Some((_, position)) = log.configs.get_mut(id)
        {
            *position = (*position).max(next);
            log.trim();
        }
    }
}

impl PushStore for crate::queue::A2aEventQueue {
    fn put(
        &self,
        task: &PlanId,
        id: &str,
        config: Bytes,
    ) -> BoxFuture<'_, Result<(), BackendError>> {
        self.with_push(|push| push.put(task, id, config));
        Box::pin(std::future::ready(Ok(())))
    }

    fn get(&self, task: &PlanId, id: &str) -> BoxFuture<'_, Result<Option<Bytes>, BackendError>> {
        let config = self.with_push(|push| push.get(task, id));
        Box::pin(std::future::ready(Ok(config)))
    }

    fn list(&self, task: &PlanId) -> BoxFuture<'_, Result<Vec<Bytes>, BackendError>> {
        let configs = self.with_push(|push| push.list(task));
        Box::pin(std::future::ready(Ok(configs)))
    }

    fn delete(&self, task: &PlanId, id: &str) -> BoxFuture<'_, Result<bool, BackendError>> {
        let existed = self.with_push(|push| push.delete(task, id));
        Box::pin(std::future::ready(Ok(existed)))
    }

    /// Every config is this process's: a claim hands over the newly stored ones.
    fn claim(
        &self,
        _consumer: &str,
        _idle: Duration,
    ) -> BoxFuture<'_, Result<Vec<Assignment>, BackendError>> {
        let claimed = self.with_push(MemoryPush::claim);
        Box::pin(std::future::ready(Ok(claimed)))
    }

    fn renew(&self, _: &str, _: &[Assignment]) -> BoxFuture<'_, Result<(), BackendError>> {
        Box::pin(std::future::ready(Ok(())))
    }

    fn finish(&self, _: &Assignment) -> BoxFuture<'_, Result<(), BackendError>> {
        Box::pin(std::future::ready(Ok(())))
    }

    fn pending(
        &self,
        task: &PlanId,
        id: &str,
        max: usize,
    ) -> BoxFuture<'_, Result<Pending, BackendError>> {
        let pending = self.with_push(|push| push.pending(task, id, max));
        Box::pin(std::future::ready(Ok(pending)))
    }

    fn delivered(
        &self,
        task: &PlanId,
        id: &str,
        next: u64,
    ) -> BoxFuture<'_, Result<(), BackendError>> {
        self.with_push(|push| push.delivered(task, id, next));
        Box::pin(std::future::ready(Ok(())))
    }
}
