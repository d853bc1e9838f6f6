//! [`Deliverer`]: claims configs from the backend's push store and delivers each one's
//! events, in order, retrying, signing, guarding addresses, within the concurrency bounds.

use std::collections::HashMap;
use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use a2a_events::{
    Assignment, BackendError, EventBackend, EventStream, PlanId, PushStore, SharedEvent,
    SubscribeRequest, SubscriptionItem,
};
use bytes::Bytes;
use futures_util::StreamExt;
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::connect::dns::Name;
use hyper_util::rt::TokioExecutor;
use tokio::sync::{Notify, Semaphore};

use super::config::ConfigInput;
use super::guard::Allowed;
use super::{PushFailure, PushOptions};
use crate::framing::stream_response;

/// Counter: deliveries by `outcome` (`delivered`, `retried`, `given_up`).
pub const DELIVERIES: &str = "a2a_push_deliveries_total";
/// Histogram: seconds from an event's publish to its receiver's `2xx`.
pub const LATENCY: &str = "a2a_push_delivery_seconds";
/// Gauge: events a config still has to deliver, by `config` (`task/id`); 0 once it is done.
pub const BACKLOG: &str = "a2a_push_backlog";
/// Gauge: configs that gave up, since the process started.
pub const FAILING: &str = "a2a_push_failing_configs";

/// Events read from the store at a time.
const BATCH: usize = 32;
/// Longest wait for a config's next event without a doorbell.
const POLL: Duration = Duration::from_secs(1);
/// How long a config waits for a task that does not exist before it is done.
const MISSING_TASK: Duration = Duration::from_secs(60);

type Https = hyper_rustls::HttpsConnector<HttpConnector<Guarded>>;

/// Claims configs and delivers them; one per agent, started with the service.
pub(crate) struct Deliverer {
    backend: Arc<dyn EventBackend>,
    options: PushOptions,
    allowed: Arc<Allowed>,
    client: Client<Https, Full<Bytes>>,
    /// This process's name among the claimers.
    consumer: String,
    overall: Semaphore,
    hosts: Mutex<HashMap<String, Arc<Semaphore>>>,
    /// The configs this process delivers now, by task and id.
    active: Mutex<HashMap<(PlanId, String), Assignment>>,
    /// Wakes the claim loop (a config was stored here).
    wake: Notify,
    failing: std::sync::atomic::AtomicU64,
}

impl std::fmt::Debug for Deliverer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Deliverer").finish_non_exhaustive()
    }
}

impl Deliverer {
    /// A deliverer of `backend`'s configs with `options`.
    pub(crate) fn new(backend: Arc<dyn EventBackend>, options: PushOptions) -> Arc<Self> {
        let allowed = Arc::new(Allowed::new(&options.allow_hosts));
        let mut http = HttpConnector::new_with_resolver(Guarded {
            allowed: Arc::clone(&allowed),
        });
        http.enforce_http(false);
        http.set_nodelay(true);
        http.set_connect_timeout(Some(options.connect_timeout));
        let https = hyper_rustls::HttpsConnectorBuilder::new()
            .with_webpki_roots()
            .https_or_http()
            .enable_http1()
            .wrap_connector(http);
        let client = Client::builder(TokioExecutor::new())
            .pool_idle_timeout(Duration::from_secs(30))
            .build(https);
        let consumer = format!("{}-{}", std::process::id(), crate::new_id());
        Arc::new(Self {
            backend,
            overall: Semaphore::new(options.concurrency.max(1)),
            allowed,
            client,
            consumer,
            hosts: Mutex::new(HashMap::new()),
            active: Mutex::new(HashMap::new()),
            wake: Notify::new(),
            failing: std::sync::atomic::AtomicU64::new(0),
            options,
        })
    }

    /// Checks a new config's receiver: its host must not be, nor resolve to, a refused
    /// address (unless allowed). A name that cannot be resolved now is let through: it
    /// is checked again on every connection, on the addresses it then resolves to.
    pub(crate) async fn check(&self, config: &ConfigInput) -> Result<(), String> {
        let (host, port) = config
            .target()
            .ok_or_else(|| format!("{} has no host", config.url))?;
        if self.allowed.contains(&host) {
            return Ok(());
        }
        match super::guard::resolve(&host, port).await {
            Ok(addrs) => self.allowed.check(&host, &addrs),
            Err(reason) => {
                tracing::debug!(%reason, "a webhook host cannot be resolved now; it is checked when delivering");
                Ok(())
            }
        }
    }

    /// Claims what was stored without waiting for the next round.
    pub(crate) fn claim_now(&self) {
        self.wake.notify_one();
    }

    /// Claims configs and renews this process's claims, for as long as `alive` holds.
    pub(crate) async fn run(self: Arc<Self>, alive: std::sync::Weak<impl Send + Sync>) {
        let Some(store) = self.backend.push() else {
            return;
        };
        let round = (self.options.claim_idle / 3).max(Duration::from_millis(10));
        loop {
            if alive.strong_count() == 0 {
                return;
            }
            match store.claim(&self.consumer, self.options.claim_idle).await {
                Ok(claimed) => {
                    for assignment in claimed {
                        let key = (assignment.task.clone(), assignment.id.clone());
                        let fresh = {
                            let mut active = lock(&self.active);
                            let fresh = !active.contains_key(&key);
                            if fresh {
                                active.insert(key, assignment.clone());
                            }
                            fresh
                        };
                        if fresh {
                            let worker = Arc::clone(&self);
                            tokio::spawn(async move { worker.deliver(assignment).await });
                        } else if let Err(err) = store.finish(&assignment).await {
                            // A config stored again while delivered here: its worker goes
                            // on (from the new position), the second claim is given up.
                            tracing::debug!(%err, "a duplicate push claim could not be given up");
                        }
                    }
                }
                Err(err) => tracing::debug!(%err, "push configs could not be claimed"),
            }
            let held: Vec<Assignment> = lock(&self.active).values().cloned().collect();
            if let Err(err) = store.renew(&self.consumer, &held).await {
                tracing::debug!(%err, "push claims could not be renewed");
            }
            tokio::select! {
                () = tokio::time::sleep(round) => {}
                () = self.wake.notified() => {}
            }
        }
    }

    /// Delivers one config's events until its task ended (and all was delivered), it is
    /// deleted, or it gives up.
    async fn deliver(self: Arc<Self>, assignment: Assignment) {
        // Claims come from the store, so there is one.
        if let Some(store) = self.backend.push() {
            let label = format!("{}/{}", assignment.task, assignment.id);
            self.run_config(store, &assignment, &label).await;
            metrics::gauge!(BACKLOG, "config" => label).set(0.0);
            lock(&self.active).remove(&(assignment.task.clone(), assignment.id.clone()));
            if let Err(err) = store.finish(&assignment).await {
                tracing::debug!(%err, "a push config's claim could not be given up");
            }
        }
    }

    async fn run_config(&self, store: &dyn PushStore, assignment: &Assignment, label: &str) {
        let (task, id) = (&assignment.task, assignment.id.as_str());
        let mut doorbell = self.doorbell(task).await;
        // Set once the task was seen ended: the events are read once more (the end may
        // have been published after the last read), then the config is done.
        let mut ended = false;
        let mut missing_since = None;
        loop {
            let read = async {
                let pending = store.pending(task, id, BATCH).await?;
                Ok::<_, BackendError>((pending, stored_config(store, task, id).await?))
            };
            let (pending, config) = match read.await {
                Ok(read) => read,
                Err(err) => {
                    tracing::debug!(%err, task = %task, config = id, "a push config's events could not be read");
                    tokio::time::sleep(POLL).await;
                    continue;
                }
            };
            let (true, Some(config)) = (pending.exists, config) else {
                // Deleted.
                return;
            };
            if pending.lost > 0 {
                self.give_up(&config, None, 0, format!(
                    "{} event(s) were dropped before they could be delivered (the receiver was away longer than the backlog lasts)",
                    pending.lost
                ));
                return;
            }
            metrics::gauge!(BACKLOG, "config" => label.to_owned()).set(pending.behind as f64);
            if pending.events.is_empty() {
                if ended {
                    return;
                }
                match self.task_ended(task).await {
                    Some(true) => {
                        ended = true;
                        continue;
                    }
                    Some(false) => missing_since = None,
                    None => {
                        // A config given with the message that creates its task is stored
                        // just before the task: it waits a while for it, not forever.
                        let since = *missing_since.get_or_insert_with(Instant::now);
                        if since.elapsed() >= MISSING_TASK {
                            let reason =
                                format!("its task {task} did not appear within {MISSING_TASK:?}");
                            self.give_up(&config, None, 0, reason);
                            return;
                        }
                    }
                }
                tokio::select! {
                    () = ring(&mut doorbell) => {}
                    () = tokio::time::sleep(POLL) => {}
                }
                continue;
            }
            for (offset, event) in pending.events.iter().enumerate() {
                let position = pending.next + offset as u64 + 1;
                if let Some(body) = stream_response(event) {
                    match self.deliver_event(store, &config, event, body, label).await {
                        Sent::Delivered => {}
                        Sent::Gone => return,
                        Sent::GaveUp => return,
                    }
                }
                if let Err(err) = store.delivered(task, id, position).await {
                    tracing::debug!(%err, "a push config's position could not be saved");
                }
                if event.is_terminal() {
                    return;
                }
            }
        }
    }

    /// Whether `task` ended (nothing more will be published for it); `None` when there is
    /// no such task (not yet, or no longer).
    async fn task_ended(&self, task: &PlanId) -> Option<bool> {
        match self.backend.task_state(task).await {
            Ok(Some(state)) => Some(state.is_terminal()),
            Ok(None) => None,
            Err(_) => Some(false),
        }
    }

    /// A live subscription to the task, to learn of its next event at once.
    async fn doorbell(&self, task: &PlanId) -> Option<EventStream> {
        self.backend
            .subscribe(SubscribeRequest::plan(task.clone()))
            .await
            .ok()
    }

    /// Delivers `event` to `config` until it is taken, the config is deleted, or the retry
    /// policy gives up. Between attempts the config's backlog gauge (`label`) is read
    /// again, so that it counts the events published while this one waits.
    async fn deliver_event(
        &self,
        store: &dyn PushStore,
        config: &ConfigInput,
        event: &SharedEvent,
        body: Bytes,
        label: &str,
    ) -> Sent {
        let started = Instant::now();
        let mut failed = 0_u32;
        loop {
            match self.send(config, event, body.clone()).await {
                Ok(()) => {
                    metrics::counter!(DELIVERIES, "outcome" => "delivered").increment(1);
                    if let Some(waited) = since_published(event) {
                        metrics::histogram!(LATENCY).record(waited.as_secs_f64());
                    }
                    return Sent::Delivered;
                }
                Err(reason) => {
                    failed += 1;
                    let policy = &self.options.retry;
                    if failed >= policy.max_attempts || started.elapsed() >= policy.max_age {
                        self.give_up(config, Some(event), failed, reason);
                        return Sent::GaveUp;
                    }
                    metrics::counter!(DELIVERIES, "outcome" => "retried").increment(1);
                    let pause = jitter(policy.delay(failed));
                    tracing::debug!(
                        task = %config.task_id, config = %config.id, event = %event.id(),
                        attempt = failed, ?pause, %reason, "push delivery failed; retrying"
                    );
                    tokio::time::sleep(pause).await;
                    let task = event_task(event);
                    // A store that cannot answer now says nothing of a deletion.
                    if let Ok(None) = stored_config(store, &task, &config.id).await {
                        return Sent::Gone;
                    }
                    if let Ok(pending) = store.pending(&task, &config.id, 1).await {
                        metrics::gauge!(BACKLOG, "config" => label.to_owned())
                            .set(pending.behind as f64);
                    }
                }
            }
        }
    }

    /// One attempt: `Ok` when the receiver answered `2xx`.
    async fn send(
        &self,
        config: &ConfigInput,
        event: &SharedEvent,
        body: Bytes,
    ) -> Result<(), String> {
        let (host, _) = config.target().ok_or("the config has no host")?;
        // An address literal is not resolved, so the guard looks at it here.
        let literal = host.trim_start_matches('[').trim_end_matches(']');
        if let Ok(ip) = literal.parse::<std::net::IpAddr>() {
            self.allowed.check(&host, &[SocketAddr::new(ip, 0)])?;
        }
        let host_slots = {
            let mut hosts = lock(&self.hosts);
            Arc::clone(
                hosts
                    .entry(host.to_ascii_lowercase())
                    .or_insert_with(|| Arc::new(Semaphore::new(self.options.per_host.max(1)))),
            )
        };
        // The host's slot first: deliveries queued behind a slow host must not hold
        // slots every other host needs.
        let _host = host_slots.acquire().await.map_err(|e| e.to_string())?;
        let _overall = self.overall.acquire().await.map_err(|e| e.to_string())?;
        let event_id = event.id().to_string();
        let webhook_id = format!("msg_{}_{}", event_id.replace('-', "_"), config.id);
        let timestamp = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        let mut request = hyper::Request::post(config.url.as_str())
            .header("content-type", "application/a2a+json")
            .header("content-length", body.len())
            .header("user-agent", concat!("a2a-sse/", env!("CARGO_PKG_VERSION")))
            .header("a2a-event-id", event_id.as_str())
            .header("webhook-id", webhook_id.as_str())
            .header("webhook-timestamp", timestamp);
        if let Some(secret) = &self.options.secret {
            request = request.header(
                "webhook-signature",
                secret.sign(&webhook_id, timestamp, &body),
            );
        }
        if let Some(auth) = &config.authentication {
            let value = if auth.credentials.is_empty() {
                auth.scheme.clone()
            } else {
                format!("{} {}", auth.scheme, auth.credentials)
            };
            request = request.header("authorization", value);
        }
        if let Some(token) = &config.token {
            request = request.header("x-a2a-notification-token", token.as_str());
        }
        let request = request
            .body(Full::new(body))
            .map_err(|err| format!("the request could not be built: {err}"))?;
        let exchange = async {
            let response = self.client.request(request).await.map_err(|err| {
                // The whole chain: the guard's refusal is at its end.
                let mut text = err.to_string();
                let mut cause = std::error::Error::source(&err);
                while let Some(inner) = cause {
                    text.push_str(": ");
                    text.push_str(&inner.to_string());
                    cause = inner.source();
                }
                text
            })?;
            let status = response.status();
            // Read (and drop) the answer, so the connection can be reused.
            let _ = response.into_body().collect().await;
            if status.is_success() {
                Ok(())
            } else {
                Err(format!("the receiver answered {status}"))
            }
        };
        match tokio::time::timeout(self.options.response_timeout, exchange).await {
            Ok(result) => result,
            Err(_) => Err(format!(
                "no answer within {:?}",
                self.options.response_timeout
            )),
        }
    }

    /// Marks `config` failing: logged, counted, told to the hook.
    fn give_up(
        &self,
        config: &ConfigInput,
        event: Option<&SharedEvent>,
        attempts: u32,
        reason: String,
    ) {
        let failing = self
            .failing
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed)
            + 1;
        metrics::counter!(DELIVERIES, "outcome" => "given_up").increment(1);
        metrics::gauge!(FAILING).set(failing as f64);
        let failure = PushFailure {
            task: config.task_id.clone(),
            config: config.id.clone(),
            url: config.url.clone(),
            event: event.map(|event| event.id().to_string()),
            attempts,
            reason,
        };
        tracing::warn!(
            task = %failure.task, config = %failure.config, url = %failure.url,
            event = ?failure.event, attempts, reason = %failure.reason,
            "a push notification config gave up: it delivers nothing more"
        );
        if let Some(hook) = &self.options.on_failure {
            hook(&failure);
        }
    }
}

/// `task`'s config `id` as stored; `None` once it was deleted (or cannot be read); an
/// error when the store cannot answer now.
async fn stored_config(
    store: &dyn PushStore,
    task: &PlanId,
    id: &str,
) -> Result<Option<ConfigInput>, BackendError> {
    let json = store.get(task, id).await?;
    Ok(json.and_then(|json| serde_json::from_slice(&json).ok()))
}

/// How a delivery ended.
enum Sent {
    Delivered,
    /// The config was deleted meanwhile.
    Gone,
    GaveUp,
}

/// How long ago `event` was published (its JSON's `timestamp`).
fn since_published(event: &SharedEvent) -> Option<Duration> {
    #[derive(serde::Deserialize)]
    struct Stamp {
        timestamp: a2a_events::Timestamp,
    }
    let stamp: Stamp = serde_json::from_slice(event.json()).ok()?;
    let now = time::OffsetDateTime::now_utc();
    let waited = now - stamp.timestamp.as_datetime();
    Duration::try_from(waited).ok()
}

/// `pause`, moved by up to a quarter either way at random.
fn jitter(pause: Duration) -> Duration {
    let spread = rand::random::<f64>() * 0.5 + 0.75;
    pause.mul_f64(spread)
}

fn event_task(event: &SharedEvent) -> PlanId {
    event.plan_id().clone()
}

/// Waits for the doorbell's next item; forever once it ended (the poll takes over).
async fn ring(doorbell: &mut Option<EventStream>) {
    match doorbell {
        Some(stream) => match stream.next().await {
            Some(SubscriptionItem::End(_)) | None => *doorbell = None,
            Some(_) => {}
        },
        None => std::future::pending().await,
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Resolves names for the webhook client, letting through only what the guard allows.
#[derive(Clone)]
struct Guarded {
    allowed: Arc<Allowed>,
}

impl tower_service::Service<Name> for Guarded {
    type Response = std::vec::IntoIter<SocketAddr>;
    type Error = std::io::Error;
    type Future = Pin<Box<dyn Future<Output = Result<Self::Response, Self::Error>> + Send>>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, name: Name) -> Self::Future {
        let allowed = Arc::clone(&self.allowed);
        Box::pin(async move {
            let host = name.as_str().to_owned();
            let addrs: Vec<SocketAddr> =
                tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            allowed
                .check(&host, &addrs)
                .map_err(std::io::Error::other)?;
            Ok(addrs.into_iter())
        })
    }
}

#[cfg(test)]
mod tests {
    use a2a_events::{A2aEvent, A2aEventQueue, EventId, StoredEvent, TaskState, Timestamp};
    use a2a_sse_testkit::webhook::Receiver;

    use super::*;

    fn event() -> SharedEvent {
        let new = a2a_sse_testkit::events::status("guarded", TaskState::Working);
        let event = A2aEvent::new(EventId::new(1), new.plan_id, Timestamp::now(), new.payload);
        Arc::new(StoredEvent::new(&event).unwrap())
    }

    fn config(url: String) -> ConfigInput {
        ConfigInput::read(&serde_json::json!({ "url": url }), "guarded").unwrap()
    }

    /// Deliveries check the address they connect to, whatever was checked when the config
    /// was made: a literal refused address, and a name resolving to one, are never
    /// contacted.
    #[tokio::test]
    async fn a_delivery_to_a_refused_address_is_never_sent() {
        let deliverer = Deliverer::new(Arc::new(A2aEventQueue::new()), PushOptions::new());
        let receiver = Receiver::start("127.0.0.2").await;
        let port = receiver.addr().port();
        for url in [
            receiver.url("/"),
            format!("http://[::ffff:127.0.0.2]:{port}/"),
            format!("http://localhost:{port}/"),
        ] {
            let target = config(url.clone());
            let err = deliverer
                .send(&target, &event(), Bytes::from_static(b"{}"))
                .await
                .unwrap_err();
            assert!(err.contains("loopback"), "{url}: {err}");
        }
        assert_eq!(receiver.connections(), 0);
        // Allowed by name, the same receiver is reached.
        let allowed = Deliverer::new(
            Arc::new(A2aEventQueue::new()),
            PushOptions::new().allow_host("127.0.0.2"),
        );
        let target = config(receiver.url("/"));
        let sent = allowed
            .send(&target, &event(), Bytes::from_static(b"{}"))
            .await;
        assert_eq!(sent, Ok(()));
        assert_eq!(receiver.accepted().len(), 1);
    }

    #[tokio::test]
    async fn a_name_that_cannot_be_resolved_is_checked_when_delivering() {
        let deliverer = Deliverer::new(Arc::new(A2aEventQueue::new()), PushOptions::new());
        let unresolvable = config("http://no-such-host.invalid/hook".into());
        assert_eq!(deliverer.check(&unresolvable).await, Ok(()));
        let sent = deliverer.send(&unresolvable, &event(), Bytes::new()).await;
        assert!(sent.is_err());
        let refused = deliverer.check(&config("http://127.0.0.1:9/".into())).await;
        assert!(refused.unwrap_err().contains("loopback"));
    }
}
