//! Push notifications: a client registers a webhook for a task, and every event of the
//! task reaches it as an HTTP `POST`, at least once, in order, signed.
//!
//! - **Configs** (`CreateTaskPushNotificationConfig` and the three others, or inline in
//!   `SendMessage`'s configuration) are kept by the backend's
//!   [`PushStore`](a2a_events::PushStore): in memory, or in Redis where every replica
//!   sees them. A config delivers the task's events published after it was created, up to
//!   and including the task's end; it is readable until it is deleted or its task is
//!   forgotten.
//! - **Delivery**: one process delivers each config (its claim, a consumer group's
//!   pending entry on Redis, taken over by another replica when not renewed), one event at
//!   a time: event n+1 is not sent before event n got a `2xx`. A receiver that fails gets
//!   the same event again after a growing pause ([`RetryPolicy`]); one that keeps failing
//!   past the policy's attempts or age makes its config *failing*: it delivers nothing more,
//!   and the failure is logged, counted and handed to [`PushOptions::on_failure`].
//! - **Each delivery** is `POST {url}` with `Content-Type: application/a2a+json`, a
//!   `Content-Length`, the event's `StreamResponse` as the body (the same bytes the
//!   streams carry), the config's `authentication` as `Authorization: <scheme>
//!   <credentials>`, its `token` as `X-A2A-Notification-Token`, the event's id as
//!   `A2A-Event-Id`, and the Standard Webhooks headers `webhook-id` (the same on every
//!   retry), `webhook-timestamp` and, with a [`WebhookSecret`], `webhook-signature`.
//! - **Addresses** ([`guard`]): a webhook whose host is, or resolves to, a loopback,
//!   private, link-local (cloud metadata), multicast or otherwise reserved address is
//!   refused when the config is created and again at each delivery, unless its host is in
//!   [`PushOptions::allow_hosts`].

mod config;
mod deliver;
pub mod guard;
mod sign;

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

pub(crate) use config::{ConfigInput, PushCall};
pub(crate) use deliver::Deliverer;
pub use deliver::{BACKLOG, DELIVERIES, FAILING, LATENCY};
pub use sign::{SecretError, WebhookSecret};

/// What [`PushOptions::on_failure`] calls.
pub type FailureHook = Arc<dyn Fn(&PushFailure) + Send + Sync>;

/// How push notifications are delivered; push is on when the agent has one
/// ([`A2aConfig::push`](crate::A2aConfig::push)).
#[derive(Clone)]
#[non_exhaustive]
pub struct PushOptions {
    /// The Standard Webhooks signing secret; `None` sends no `webhook-signature`.
    pub secret: Option<WebhookSecret>,
    /// Hosts the address guard lets through whatever they resolve to (as written in the
    /// URL: `127.0.0.1`, `localhost`, `::1`): for tests and internal deployments.
    pub allow_hosts: Vec<String>,
    /// Longest wait for a connection to a receiver (default 10 s).
    pub connect_timeout: Duration,
    /// Longest wait for a receiver's answer, connection included (default 30 s, the most
    /// the specification recommends).
    pub response_timeout: Duration,
    /// Most deliveries in flight at once (default 64).
    pub concurrency: usize,
    /// Most deliveries in flight at once to one host (default 8).
    pub per_host: usize,
    /// When a failed delivery is tried again, and when it is given up.
    pub retry: RetryPolicy,
    /// How long a config's delivering process may go without renewing its claim before
    /// another process takes it over (default 30 s; Redis only).
    pub claim_idle: Duration,
    /// Called when a config gives up (it becomes failing): its receiver kept failing past
    /// the retry policy, or events it needed were lost.
    pub on_failure: Option<FailureHook>,
}

impl Default for PushOptions {
    fn default() -> Self {
        Self {
            secret: None,
            allow_hosts: Vec::new(),
            connect_timeout: Duration::from_secs(10),
            response_timeout: Duration::from_secs(30),
            concurrency: 64,
            per_host: 8,
            retry: RetryPolicy::default(),
            claim_idle: Duration::from_secs(30),
            on_failure: None,
        }
    }
}

impl PushOptions {
    /// Push on, with the default options.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// Signs every delivery with `secret`.
    #[must_use]
    pub fn secret(mut self, secret: WebhookSecret) -> Self {
        self.secret = Some(secret);
        self
    }

    /// Lets the address guard through for `host`.
    #[must_use]
    pub fn allow_host(mut self, host: impl Into<String>) -> Self {
        self.allow_hosts.push(host.into());
        self
    }

    /// Calls `hook` when a config gives up.
    #[must_use]
    pub fn on_failure(mut self, hook: impl Fn(&PushFailure) + Send + Sync + 'static) -> Self {
        self.on_failure = Some(Arc::new(hook));
        self
    }
}

/// Where deliveries may go; the rest is in the agent's config (the hook is a closure).
impl fmt::Debug for PushOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PushOptions")
            .field("allow_hosts", &self.allow_hosts)
            .finish_non_exhaustive()
    }
}

impl PartialEq for PushOptions {
    fn eq(&self, other: &Self) -> bool {
        self.secret == other.secret
            && self.allow_hosts == other.allow_hosts
            && self.connect_timeout == other.connect_timeout
            && self.response_timeout == other.response_timeout
            && self.concurrency == other.concurrency
            && self.per_host == other.per_host
            && self.retry == other.retry
            && self.claim_idle == other.claim_idle
    }
}

impl Eq for PushOptions {}

/// When a failed delivery is tried again: after `first`, then each pause `factor` times
/// the one before, at most `max_delay`, each moved by up to a quarter either way at
/// random (so receivers that failed together are not all retried together); given up
/// after `max_attempts` attempts, or once the first attempt is `max_age` old.
///
/// With the defaults (1 s, ×2, 5 min, 20 attempts, 24 h) the pauses are about 1, 2, 4, 8,
/// 16, 32 s…, so a receiver that failed three times gets its fourth attempt about 7 s
/// after the first (at most 8.75 s), and the twentieth about 1 h 26 min after it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct RetryPolicy {
    /// The first pause.
    pub first: Duration,
    /// How much each pause grows (at least 1).
    pub factor: u32,
    /// The longest pause.
    pub max_delay: Duration,
    /// Most attempts of one event.
    pub max_attempts: u32,
    /// Longest time from an event's first attempt to its last.
    pub max_age: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            first: Duration::from_secs(1),
            factor: 2,
            max_delay: Duration::from_secs(300),
            max_attempts: 20,
            max_age: Duration::from_secs(24 * 60 * 60),
        }
    }
}

impl RetryPolicy {
    /// The pause after the `failed`th failed attempt (1 for the first), before jitter.
    #[must_use]
    pub fn delay(&self, failed: u32) -> Duration {
        let growth = self.factor.max(1).saturating_pow(failed.saturating_sub(1));
        self.first.saturating_mul(growth).min(self.max_delay)
    }
}

/// A config that gave up, as [`PushOptions::on_failure`] sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct PushFailure {
    /// The config's task.
    pub task: String,
    /// The config's id.
    pub config: String,
    /// Where it delivered.
    pub url: String,
    /// The event it could not deliver, if one.
    pub event: Option<String>,
    /// How many attempts that event had.
    pub attempts: u32,
    /// Why it gave up.
    pub reason: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_schedule_retries_a_third_failure_within_seconds() {
        let retry = RetryPolicy::default();
        let pauses: Vec<u64> = (1..=6).map(|n| retry.delay(n).as_secs()).collect();
        assert_eq!(pauses, [1, 2, 4, 8, 16, 32]);
        // The fourth attempt waits the first three pauses, a quarter more at most.
        let worst = (retry.delay(1) + retry.delay(2) + retry.delay(3)).mul_f64(1.25);
        assert!(worst < Duration::from_secs(30), "{worst:?}");
        assert_eq!(retry.delay(40), retry.max_delay);
        let flat = RetryPolicy {
            factor: 0,
            ..RetryPolicy::default()
        };
        assert_eq!(flat.delay(5), flat.first);
    }

    #[test]
    fn options_build_and_compare() {
        let hook_calls = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let seen = Arc::clone(&hook_calls);
        let options = PushOptions::new()
            .allow_host("127.0.0.1")
            .on_failure(move |_| {
                seen.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            });
        assert_eq!(options.allow_hosts, ["127.0.0.1"]);
        assert_eq!(options, PushOptions::new().allow_host("127.0.0.1"));
        assert_ne!(options, PushOptions::new());
        let failure = PushFailure {
            task: "t".into(),
            config: "c".into(),
            url: "http://x".into(),
            event: None,
            attempts: 0,
            reason: "r".into(),
        };
        (options.on_failure.unwrap())(&failure);
        assert_eq!(hook_calls.load(std::sync::atomic::Ordering::Relaxed), 1);
    }
}
