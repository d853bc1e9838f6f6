//! [`RedisBackend`]: publish through the script, subscribe through the process's reader.

use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use a2a_events::engine::{self, HistoryView, ReplayFrom};
use a2a_events::{
    BackendError, BackendErrorKind, BoxFuture, EventBackend, EventId, EventStream, Fanout,
    FanoutSubscription, NewEvent, PlanId, PublishError, SubscribeError, SubscribeRequest,
    SubscriptionItem, TaskCursor, TaskPage, TaskQuery, TaskSnapshot, TaskState, paginate,
};
use redis::{Client, Value};
use tokio::sync::watch;
use tokio::time::Instant;

use crate::config::{ConfigError, Durability, RedisConfig};
use crate::error::{ConnectError, Failure, backend_error, classify};
use crate::keys::{Keys, entry_id, parse_entry_id};
use crate::link::Link;
use crate::probe::Probe;
use crate::reader::{Reader, ReaderState};
use crate::resume::{self, Ask};
use crate::script::{Outcome, Publish, parse_reply};

/// Pause between two attempts of one publish.
const RETRY_PAUSE: Duration = Duration::from_millis(50);

/// Counts the backends this process connected, for unique connection names.
static INSTANCES: AtomicU64 = AtomicU64::new(0);

/// An [`EventBackend`] on Redis Streams, shared by every replica that uses the same Redis
/// and prefix. See the [crate docs](crate) for the design.
///
/// Cloning gives another handle to the same backend (one reader, one command connection).
/// When the last handle is dropped the backend closes, as if [`close`](Self::close) had
/// been called.
#[derive(Clone)]
pub struct RedisBackend {
    inner: Arc<Inner>,
}

struct Inner {
    config: Arc<RedisConfig>,
    keys: Keys,
    link: Arc<Link>,
    fanout: Fanout,
    reader: Arc<ReaderState>,
    closed: Arc<AtomicBool>,
    stop: watch::Sender<bool>,
    /// The push claims' consumer group was made.
    push_group: AtomicBool,
}

/// How the process's reader is doing, for health checks and tests.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct ReaderStatus {
    /// Whether it holds a connection now.
    pub connected: bool,
    /// The last entry it read (`None` before the first, on an empty Redis).
    pub last_read: Option<EventId>,
    /// Connections it opened after its first (reconnects and probe restarts).
    pub reconnects: u64,
}

impl RedisBackend {
    /// Checks `config`, connects, reads where the stream is now, and starts the process's
    /// reader and its liveness probe on the current tokio runtime (so it must be called
    /// from one).
    ///
    /// # Errors
    ///
    /// [`ConnectError::Config`] for a configuration that cannot work (a URL that is not a
    /// Redis URL; [`Durability::FsyncAlways`] on a server whose `CONFIG GET` shows
    /// otherwise); [`ConnectError::Backend`] when Redis cannot be reached in time.
    pub async fn connect(config: RedisConfig) -> Result<Self, ConnectError> {
        config.check()?;
        let client = Client::open(config.url.as_str()).map_err(|_| ConfigError::Url)?;
        let config = Arc::new(config);
        let keys = Keys::new(&config.prefix);
        // Unique in this process, and across processes by the pid.
        let instance = INSTANCES.fetch_add(1, Ordering::Relaxed);
        let name = format!("{}-{}-{instance}", config.client_name, std::process::id());
        let link = Link::new(
            client.clone(),
            format!("{name}-cmd"),
            config.connect_timeout,
            Some(config.command_timeout),
        );
        let link = Arc::new(match config.durability {
            Durability::Auto => link.detecting_durability(),
            _ => link,
        });
        let start = start_position(&link, &keys).await?;
        if config.durability == Durability::FsyncAlways {
            check_fsync(&link).await?;
        }
        let reader = Arc::new(ReaderState::new(start));
        let fanout = Fanout::new();
        let (stop, stopped) = watch::channel(false);
        let read = Reader {
            link: Link::new(
                client,
                format!("{name}-reader"),
                config.connect_timeout,
                Some(config.block + config.command_timeout),
            ),
            keys: keys.clone(),
            config: Arc::clone(&config),
            state: Arc::clone(&reader),
            fanout: fanout.clone(),
        };
        tokio::spawn(read.run(stopped.clone()));
        let probe = Probe {
            link: Arc::clone(&link),
            keys: keys.clone(),
            config: Arc::clone(&config),
            state: Arc::clone(&reader),
            fanout: fanout.clone(),
        };
        tokio::spawn(probe.run(stopped));
        Ok(Self {
            inner: Arc::new(Inner {
                config,
                keys,
                link,
                fanout,
                reader,
                closed: Arc::new(AtomicBool::new(false)),
                stop,
                push_group: AtomicBool::new(false),
            }),
        })
    }

    /// The backend's configuration.
    #[must_use]
    pub fn config(&self) -> &RedisConfig {
        &self.inner.config
    }

    pub(crate) fn keys(&self) -> &Keys {
        &self.inner.keys
    }

    pub(crate) fn link(&self) -> &Link {
        &self.inner.link
    }

    pub(crate) fn push_group_made(&self) -> &AtomicBool {
        &self.inner.push_group
    }

    /// Publishes `event` and returns the id Redis gave it, the same on every replica.
    ///
    /// One script call assigns the id, appends the event to the stream (trimming it),
    /// records the plan's end when the event is terminal, and remembers the event's
    /// idempotency key ([`NewEvent::idempotency_key`], or a fresh one for this call). A
    /// call that fails on the way (connection lost, no answer, Redis loading or failing
    /// over) is retried with the same key until [`RedisConfig::publish_timeout`], so it
    /// is stored at most once.
    ///
    /// # Errors
    ///
    /// [`PublishError::Closed`] after [`close`](Self::close);
    /// [`PublishError::PlanFinished`] when the plan already finished;
    /// [`PublishError::Backend`] when Redis could not take it in time: `Unavailable` when
    /// no attempt was applied, `Timeout` ([`BackendError::is_indeterminate`]) when one may
    /// have been, so that publishing it again with the same idempotency key is safe.
    pub async fn publish(&self, event: NewEvent) -> Result<EventId, PublishError> {
        if self.is_closed() {
            return Err(PublishError::Closed);
        }
        let key = event
            .idempotency_key
            .clone()
            .unwrap_or_else(|| format!("{:032x}", rand::random::<u128>()));
        let publish = Publish::new(event, key)?;
        let inner = &*self.inner;
        let deadline = Instant::now() + inner.config.publish_timeout;
        let mut maybe_applied = false;
        let mut attempts = 0_u32;
        let last = loop {
            attempts += 1;
            // Whether this attempt's script call left for Redis: until it has, a cut
            // attempt (waiting for the connection, or opening one) was not applied.
            let mut sent = false;
            let attempt = async {
                let mut conn = inner.link.get().await?;
                // Read after the connection is open: a new one asked the server again.
                let durable = self.restarts_keep_epoch();
                let call =
                    publish.invocation(&inner.keys, &inner.config, inner.reader.seen(), durable);
                sent = true;
                call.invoke_async::<Value>(&mut conn).await
            };
            let error = match tokio::time::timeout_at(deadline, attempt).await {
                Ok(Ok(reply)) => return self.outcome(publish.plan, parse_reply(reply)?),
                Ok(Err(error)) => error,
                Err(_) => {
                    maybe_applied |= sent;
                    if sent {
                        // The connection may be hung: the next publish opens another.
                        inner.link.drop_connection().await;
                    }
                    break BackendError::new(BackendErrorKind::Timeout, "redis: no answer");
                }
            };
            match classify(&error) {
                Failure::Transport { maybe_applied: m } => maybe_applied |= m && sent,
                Failure::Busy => {}
                Failure::Final => return Err(backend_error(&error).into()),
            }
            inner.link.drop_connection().await;
            tracing::debug!(%error, attempts, "publish to Redis failed; retrying");
            // Another attempt only when it has time for its answer: one cut by the
            // deadline after it was sent is indeterminate.
            if Instant::now() + 2 * RETRY_PAUSE >= deadline {
                break backend_error(&error);
            }
            tokio::time::sleep(RETRY_PAUSE).await;
        };
        let kind = if maybe_applied {
            BackendErrorKind::Timeout
        } else {
            BackendErrorKind::Unavailable
        };
        let message = format_args!(
            "{} (publish gave up after {attempts} attempts in {:?})",
            last.message(),
            inner.config.publish_timeout
        );
        Err(BackendError::new(kind, message).into())
    }

    fn outcome(&self, plan: PlanId, outcome: Outcome) -> Result<EventId, PublishError> {
        match outcome {
            Outcome::Stored(id) | Outcome::Duplicate(id) => {
                self.inner.reader.raise(id);
                Ok(id)
            }
            Outcome::Finished(terminal) => Err(PublishError::PlanFinished { plan, terminal }),
        }
    }

    /// Subscribes, with the in-memory queue's contract
    /// ([`A2aEventQueue::subscribe`](a2a_events::A2aEventQueue::subscribe)), through the
    /// subscription engine both share ([`a2a_events::engine`]).
    ///
    /// The subscription registers with the process's reader first, then reads what it
    /// needs from Redis in one atomic step (and the rest of a long replay page by page);
    /// whatever the reader hands it that this read covered is dropped by id, so a
    /// subscription without a resume point starts with the first event stored after it.
    ///
    /// # Errors
    ///
    /// [`SubscribeError::Closed`] after [`close`](Self::close);
    /// [`SubscribeError::PlanFinished`] and [`SubscribeError::UnknownPlan`] as the
    /// queue's; [`SubscribeError::Backend`] when Redis cannot be read.
    pub async fn subscribe(
        &self,
        request: SubscribeRequest,
    ) -> Result<RedisSubscriptionStream, SubscribeError> {
        let inner = &*self.inner;
        let limits = request.buffer.unwrap_or(inner.config.buffer);
        let registration = inner.fanout.register(request.plan.clone(), limits)?;
        let ask = Ask {
            plan: request.plan.as_ref(),
            after: request.after,
            task: request.snapshot,
            batch: inner.config.read_batch,
        };
        let found = self.read(ask).await?;
        let mut view = HistoryView::new(found.tail, found.oldest);
        view.next_after = found.page.first().map(|entry| entry.id);
        view.terminal = found.terminal;
        if let (Some(plan), true) = (&request.plan, request.snapshot) {
            view.task = resume::fold(plan, &found.events)?;
        }
        let mut replay = engine::decide(&request, view)?;
        if let Some(from) = replay.from() {
            let first = match from {
                // Always after the requested id: the atomic read already holds that page.
                ReplayFrom::After(_) => Ok(found.page),
                ReplayFrom::Oldest => self.page("-").await,
            };
            let mut page = Some(first);
            while let Some(entries) = page.take() {
                let entries = entries.map_err(|e| backend_error(&e))?;
                let full = entries.len() >= inner.config.read_batch;
                if let Some(last) = replay.take_page(entries, full) {
                    page = Some(self.page(format!("({}", entry_id(last))).await);
                }
            }
        }
        Ok(RedisSubscriptionStream(
            registration.into_subscription(replay),
        ))
    }

    /// The atomic read `ask` needs.
    async fn read(&self, ask: Ask<'_>) -> Result<resume::Found, BackendError> {
        let pipe = resume::pipeline(&self.inner.keys, ask);
        let read = self.inner.link.call(|mut conn| async move {
            let values: Vec<Value> = pipe.query_async(&mut conn).await?;
            resume::parse(values, ask)
        });
        read.await.map_err(|e| backend_error(&e))
    }

    /// One page of the stream, from `start` (an `XRANGE` bound).
    async fn page(
        &self,
        start: impl redis::ToRedisArgs + Send + Sync,
    ) -> redis::RedisResult<Vec<crate::entry::Entry>> {
        let log = &self.inner.keys.log;
        let batch = self.inner.config.read_batch;
        self.inner
            .link
            .call(|mut conn| async move {
                redis::cmd("XRANGE")
                    .arg(log)
                    .arg(start)
                    .arg("+")
                    .arg("COUNT")
                    .arg(batch)
                    .query_async(&mut conn)
                    .await
                    .map(resume::entries)
            })
            .await
    }

    /// `plan`'s task as of its latest event (A2A's `GetTask`), the same on every replica:
    /// folded from the plan's events, which Redis keeps as long as the plan's keys live.
    ///
    /// # Errors
    ///
    /// [`SubscribeError::Closed`] after [`close`](Self::close);
    /// [`SubscribeError::Backend`] when Redis cannot be read.
    pub async fn task(&self, plan: &PlanId) -> Result<Option<Arc<TaskSnapshot>>, SubscribeError> {
        if self.is_closed() {
            return Err(SubscribeError::Closed);
        }
        let key = self.inner.keys.events(plan);
        let events: Vec<Vec<u8>> = self
            .inner
            .link
            .call(|mut conn| async move {
                redis::cmd("LRANGE")
                    .arg(key)
                    .arg(0)
                    .arg(-1)
                    .query_async(&mut conn)
                    .await
            })
            .await
            .map_err(|e| backend_error(&e))?;
        Ok(resume::fold(plan, &events)?)
    }

    /// The state of `plan`'s task, from the fields the publish script keeps beside it (its
    /// latest status's state, and a status time on every task): one small read, however
    /// long the task's history. `None` for a plan Redis holds nothing of.
    ///
    /// # Errors
    ///
    /// [`SubscribeError::Closed`] after [`close`](Self::close);
    /// [`SubscribeError::Backend`] when Redis cannot be read.
    pub async fn task_state(&self, plan: &PlanId) -> Result<Option<TaskState>, SubscribeError> {
        if self.is_closed() {
            return Err(SubscribeError::Closed);
        }
        let key = self.inner.keys.plan(plan);
        let (state, time): (Option<String>, Option<String>) = self
            .inner
            .link
            .call(|mut conn| async move {
                redis::cmd("HMGET")
                    .arg(key)
                    .arg("st")
                    .arg("ts")
                    .query_async(&mut conn)
                    .await
            })
            .await
            .map_err(|e| backend_error(&e))?;
        Ok(time.map(|_| state_named(state)))
    }

    /// One page of the tasks Redis remembers (A2A's `ListTasks`), the same on every
    /// replica, in the order [`TaskPage::select`] gives.
    ///
    /// The publish script keeps an index of every task, scored by its status time, and
    /// each task's context and state beside its terminal id; a list reads the index (from
    /// `query.status_after` on), the contexts and states of the tasks it names (dropping
    /// those whose keys expired), filters and pages them, then folds the page's tasks.
    ///
    /// # Errors
    ///
    /// [`SubscribeError::Closed`] after [`close`](Self::close);
    /// [`SubscribeError::Backend`] when Redis cannot be read.
    pub async fn list_tasks(&self, query: &TaskQuery) -> Result<TaskPage, SubscribeError> {
        if self.is_closed() {
            return Err(SubscribeError::Closed);
        }
        let keys = &self.inner.keys;
        let min = query.status_after.map_or_else(
            || "-inf".to_owned(),
            |after| (after.as_datetime().unix_timestamp_nanos() / 1_000_000).to_string(),
        );
        let index = keys.tasks.clone();
        let scored: Vec<(String, f64)> = self
            .inner
            .link
            .call(|mut conn| {
                let index = index.clone();
                let min = min.clone();
                async move {
                    redis::cmd("ZREVRANGEBYSCORE")
                        .arg(index)
                        .arg("+inf")
                        .arg(min)
                        .arg("WITHSCORES")
                        .query_async(&mut conn)
                        .await
                }
            })
            .await
            .map_err(|e| backend_error(&e))?;
        let plans: Vec<PlanId> = scored
            .iter()
            .filter_map(|(id, _)| PlanId::new(id).ok())
            .collect();
        let mut pipe = redis::pipe();
        for plan in &plans {
            pipe.cmd("HMGET")
                .arg(keys.plan(plan))
                .arg("ctx")
                .arg("st")
                .arg("ts");
        }
        let fields: Vec<(Option<String>, Option<String>, Option<String>)> = if plans.is_empty() {
            Vec::new()
        } else {
            self.inner
                .link
                .call(|mut conn| {
                    let pipe = pipe.clone();
                    async move { pipe.query_async(&mut conn).await }
                })
                .await
                .map_err(|e| backend_error(&e))?
        };
        let mut gone = Vec::new();
        let mut matching = Vec::new();
        for ((plan, (_, score)), (context, state, time)) in plans.iter().zip(&scored).zip(fields) {
            let Some(_) = time else {
                // Its keys expired: the task is forgotten.
                gone.push(plan.clone());
                continue;
            };
            let state = state_named(state);
            let context = context.unwrap_or_default();
            let fits = query
                .context_id
                .as_ref()
                .is_none_or(|want| *want == context)
                && query.state.is_none_or(|want| want == state)
                && (query.status_after.is_none() || *score > 0.0);
            if fits {
                let cursor = TaskCursor::new(time_of(*score), plan.to_string());
                matching.push((cursor, plan.clone()));
            }
        }
        if !gone.is_empty() {
            let index = keys.tasks.clone();
            let forget = self.inner.link.call(|mut conn| {
                let index = index.clone();
                let gone = gone.iter().map(PlanId::to_string).collect::<Vec<_>>();
                async move {
                    redis::cmd("ZREM")
                        .arg(index)
                        .arg(gone)
                        .query_async::<i64>(&mut conn)
                        .await
                }
            });
            if let Err(err) = forget.await {
                tracing::debug!(%err, "forgotten tasks stay in the index until the next list");
            }
        }
        let (page, total, next) = paginate(matching, query);
        let mut tasks = Vec::with_capacity(page.len());
        for plan in page {
            // A task that expired between the two reads is left out of this page.
            if let Some(snapshot) = self.task(&plan).await? {
                tasks.push(snapshot);
            }
        }
        Ok(TaskPage::new(tasks, total, next))
    }

    /// Holds `plan`'s lease until `ttl` from now, on Redis's clock.
    ///
    /// # Errors
    ///
    /// A [`BackendError`] when Redis cannot be reached.
    pub async fn hold(&self, plan: &PlanId, ttl: Duration) -> Result<(), BackendError> {
        let ttl_ms = u64::try_from(ttl.as_millis()).unwrap_or(u64::MAX);
        let leases = self.inner.keys.leases.clone();
        let plan = plan.to_string();
        self.inner
            .link
            .call(|mut conn| {
                let mut call = HOLD.prepare_invoke();
                call.key(&leases).arg(&plan).arg(ttl_ms);
                async move { call.invoke_async::<i64>(&mut conn).await }
            })
            .await
            .map(drop)
            .map_err(|e| backend_error(&e))
    }

    /// Gives `plan`'s lease up.
    ///
    /// # Errors
    ///
    /// A [`BackendError`] when Redis cannot be reached.
    pub async fn release(&self, plan: &PlanId) -> Result<(), BackendError> {
        let leases = self.inner.keys.leases.clone();
        let plan = plan.to_string();
        self.inner
            .link
            .call(|mut conn| {
                let leases = leases.clone();
                let plan = plan.clone();
                async move {
                    redis::cmd("ZREM")
                        .arg(leases)
                        .arg(plan)
                        .query_async::<i64>(&mut conn)
                        .await
                }
            })
            .await
            .map(drop)
            .map_err(|e| backend_error(&e))
    }

    /// The plans whose lease ran out (on Redis's clock), each taken out of the leases in
    /// the same step, so one caller gets it: at most 100 per call.
    ///
    /// # Errors
    ///
    /// A [`BackendError`] when Redis cannot be reached.
    pub async fn claim_expired(&self) -> Result<Vec<PlanId>, BackendError> {
        let leases = self.inner.keys.leases.clone();
        let due: Vec<String> = self
            .inner
            .link
            .call(|mut conn| {
                let mut call = CLAIM.prepare_invoke();
                call.key(&leases).arg(100);
                async move { call.invoke_async(&mut conn).await }
            })
            .await
            .map_err(|e| backend_error(&e))?;
        Ok(due
            .iter()
            .filter_map(|plan| PlanId::new(plan).ok())
            .collect())
    }

    /// The id of the event that finished `plan`, while Redis remembers it.
    ///
    /// # Errors
    ///
    /// A [`BackendError`] when Redis cannot be read.
    pub async fn terminal_event(&self, plan: &PlanId) -> Result<Option<EventId>, BackendError> {
        let key = self.inner.keys.plan(plan);
        let term: Option<String> = self
            .inner
            .link
            .call(|mut conn| async move {
                redis::cmd("HGET")
                    .arg(key)
                    .arg("term")
                    .query_async(&mut conn)
                    .await
            })
            .await
            .map_err(|e| backend_error(&e))?;
        Ok(term.as_deref().and_then(parse_entry_id))
    }

    /// Whether a restart of the Redis server keeps the epoch, so that clients resume
    /// across it without a `reset`: [`Durability::FsyncAlways`], or with
    /// [`Durability::Auto`] what the command connection found when it was last opened.
    #[must_use]
    pub fn restarts_keep_epoch(&self) -> bool {
        match self.inner.config.durability {
            Durability::FsyncAlways => true,
            Durability::Lossy => false,
            Durability::Auto => self.inner.link.is_durable(),
        }
    }

    /// How many subscriptions of this process currently receive live events.
    #[must_use]
    pub fn subscriber_count(&self) -> usize {
        self.inner.fanout.receiver_count()
    }

    /// How the process's reader is doing.
    #[must_use]
    pub fn reader_status(&self) -> ReaderStatus {
        let state = &self.inner.reader;
        ReaderStatus {
            connected: state.is_connected(),
            last_read: state.last(),
            reconnects: state.reconnects(),
        }
    }

    /// Closes this process's side: every subscription ends at its next poll, the reader
    /// and the probe stop, and publishing and subscribing fail with `Closed`. What is in
    /// Redis stays, for the other replicas. Calling it again does nothing.
    pub fn close(&self) {
        self.inner.close();
    }

    /// Whether [`close`](Self::close) was called.
    #[must_use]
    pub fn is_closed(&self) -> bool {
        self.inner.closed.load(Ordering::Acquire)
    }
}

impl Inner {
    fn close(&self) {
        self.closed.store(true, Ordering::Release);
        self.stop.send_replace(true);
        self.fanout.close();
    }
}

impl Drop for Inner {
    fn drop(&mut self) {
        self.close();
    }
}

/// Where the reader starts: the last id given, or the newest entry when `meta` is gone.
async fn start_position(link: &Link, keys: &Keys) -> Result<Option<EventId>, ConnectError> {
    let ask = Ask {
        plan: None,
        after: None,
        task: false,
        batch: 1,
    };
    let pipe = resume::pipeline(keys, ask);
    let found = link
        .call(|mut conn| async move {
            let values: Vec<Value> = pipe.query_async(&mut conn).await?;
            resume::parse(values, ask)
        })
        .await
        .map_err(|e| backend_error(&e))?;
    Ok(found.tail)
}

/// Refuses [`Durability::FsyncAlways`] on a server that does not fsync every write; a
/// server that refuses `CONFIG GET` is trusted, with a warning.
async fn check_fsync(link: &Link) -> Result<(), ConnectError> {
    let settings = link
        .call(|mut conn| async move {
            redis::cmd("CONFIG")
                .arg("GET")
                .arg("appendonly")
                .arg("appendfsync")
                .query_async::<HashMap<String, String>>(&mut conn)
                .await
        })
        .await;
    match settings {
        Ok(settings) => {
            let on = |name: &str, value: &str| settings.get(name).is_some_and(|v| v == value);
            if on("appendonly", "yes") && on("appendfsync", "always") {
                Ok(())
            } else {
                Err(ConfigError::NotDurable.into())
            }
        }
        Err(error) => {
            tracing::warn!(%error, "CONFIG GET refused: trusting that Redis fsyncs every write, as durability FsyncAlways says");
            Ok(())
        }
    }
}

impl fmt::Debug for RedisBackend {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RedisBackend")
            .field("prefix", &self.inner.config.prefix)
            .field("subscribers", &self.subscriber_count())
            .field("reader", &self.reader_status())
            .field("restarts_keep_epoch", &self.restarts_keep_epoch())
            .field("closed", &self.is_closed())
            .finish_non_exhaustive()
    }
}

/// A subscription of a [`RedisBackend`], as a stream of
/// [`SubscriptionItem`]s with the queue's contract; [`EventStream::new`] boxes it for
/// the SSE layer.
pub struct RedisSubscriptionStream(FanoutSubscription);

impl futures_core::Stream for RedisSubscriptionStream {
    type Item = SubscriptionItem;

    fn poll_next(
        self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<SubscriptionItem>> {
        std::pin::Pin::new(&mut self.get_mut().0).poll_next(cx)
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        self.0.size_hint()
    }
}

impl futures_core::FusedStream for RedisSubscriptionStream {
    fn is_terminated(&self) -> bool {
        self.0.is_terminated()
    }
}

impl fmt::Debug for RedisSubscriptionStream {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("RedisSubscriptionStream")
    }
}

impl EventBackend for RedisBackend {
    fn publish(&self, event: NewEvent) -> BoxFuture<'_, Result<EventId, PublishError>> {
        Box::pin(Self::publish(self, event))
    }

    fn subscribe(
        &self,
        request: SubscribeRequest,
    ) -> BoxFuture<'_, Result<EventStream, SubscribeError>> {
        Box::pin(async move { Self::subscribe(self, request).await.map(EventStream::new) })
    }

    fn task(
        &self,
        plan: &PlanId,
    ) -> BoxFuture<'_, Result<Option<Arc<TaskSnapshot>>, SubscribeError>> {
        let plan = plan.clone();
        Box::pin(async move { Self::task(self, &plan).await })
    }

    fn task_state(
        &self,
        plan: &PlanId,
    ) -> BoxFuture<'_, Result<Option<TaskState>, SubscribeError>> {
        let plan = plan.clone();
        Box::pin(async move { Self::task_state(self, &plan).await })
    }

    fn subscriber_count(&self) -> usize {
        Self::subscriber_count(self)
    }

    fn close(&self) {
        Self::close(self);
    }

    fn list_tasks(&self, query: TaskQuery) -> BoxFuture<'_, Result<TaskPage, SubscribeError>> {
        Box::pin(async move { Self::list_tasks(self, &query).await })
    }

    fn hold(&self, plan: &PlanId, ttl: Duration) -> BoxFuture<'_, Result<(), BackendError>> {
        let plan = plan.clone();
        Box::pin(async move { Self::hold(self, &plan, ttl).await })
    }

    fn release(&self, plan: &PlanId) -> BoxFuture<'_, Result<(), BackendError>> {
        let plan = plan.clone();
        Box::pin(async move { Self::release(self, &plan).await })
    }

    fn claim_expired(&self) -> BoxFuture<'_, Result<Vec<PlanId>, BackendError>> {
        Box::pin(Self::claim_expired(self))
    }

    fn push(&self) -> Option<&dyn a2a_events::PushStore> {
        Some(self)
    }
}

/// Holds a lease: `ZADD leases <now + ttl> plan`, on Redis's clock.
static HOLD: std::sync::LazyLock<redis::Script> = std::sync::LazyLock::new(|| {
    redis::Script::new(
        "local t = redis.call('TIME') \
         local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000) \
         return redis.call('ZADD', KEYS[1], now + tonumber(ARGV[2]), ARGV[1])",
    )
});

/// Takes the leases that ran out (at most `ARGV[1]`) out of the set, and answers them.
static CLAIM: std::sync::LazyLock<redis::Script> = std::sync::LazyLock::new(|| {
    redis::Script::new(
        "local t = redis.call('TIME') \
         local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000) \
         local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', now, 'LIMIT', 0, tonumber(ARGV[1])) \
         for _, plan in ipairs(due) do redis.call('ZREM', KEYS[1], plan) end \
         return due",
    )
});

/// A status time from the task index's score (`0`: none).
fn time_of(score: f64) -> Option<a2a_events::Timestamp> {
    if score <= 0.0 || !score.is_finite() {
        return None;
    }
    // Whole milliseconds since 1970, well within f64's exact integers.
    let nanos = (score as i128) * 1_000_000;
    let at = time::OffsetDateTime::from_unix_timestamp_nanos(nanos).ok()?;
    a2a_events::Timestamp::try_from(at).ok()
}

/// A task's state from the name the publish script keeps (`st`, the proto name of its
/// latest status); a task without a status update yet is `SUBMITTED`, as its fold says.
fn state_named(name: Option<String>) -> TaskState {
    name.and_then(|name| serde_json::from_value(serde_json::Value::String(name)).ok())
        .unwrap_or(TaskState::Submitted)
}
