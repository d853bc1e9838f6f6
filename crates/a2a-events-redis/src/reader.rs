//! The reader: one task per process that reads the event stream and hands each event to
//! the process's local subscribers ([`Fanout`]).
//!
//! It blocks in `XREAD … STREAMS <log> <last id>` on a connection of its own, whose
//! response timeout is the block time plus [`RedisConfig::command_timeout`] (the `redis`
//! crate's default of 500 ms would fail every idle `XREAD BLOCK`). It always reads after
//! the last id it saw, never after `$` (which would lose what arrives between two
//! reads), so a reconnect resumes exactly where it stopped. Each entry must follow the
//! one before it (the next sequence of the same epoch); when one does not (the stream was
//! trimmed past the reader while it was away, or a new epoch began after Redis lost
//! data), every local subscription ends as lagged, and each client resumes from its own
//! last id, getting the rest or a `reset`.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use a2a_events::{EventId, Fanout};
use parking_lot::Mutex;
use redis::RedisError;
use redis::streams::StreamReadReply;
use tokio::sync::{Notify, watch};

use crate::config::RedisConfig;
use crate::entry::Entry;
use crate::keys::{Keys, entry_id, follows};
use crate::link::Link;

/// What the reader, the liveness probe and the backend share.
#[derive(Debug, Default)]
pub(crate) struct ReaderState {
    /// The last entry read (`None` before the first, on an empty Redis).
    last: Mutex<Option<EventId>>,
    /// The highest id this process has seen, read or published: the publish script's
    /// floor, so that an epoch started after a loss is above everything given before.
    seen: Mutex<EventId>,
    connected: AtomicBool,
    /// Answers to `XREAD` (entries or none): progress, for the probe.
    reads: AtomicU64,
    /// Connections opened after the first.
    reconnects: AtomicU64,
    /// Drop the connection and read again on a new one (the probe found the reader stuck).
    restart: Notify,
    /// Stop waiting before reconnecting (the probe reached Redis).
    wake: Notify,
}

impl ReaderState {
    /// A reader that starts after `last`.
    pub(crate) fn new(last: Option<EventId>) -> Self {
        let state = Self::default();
        *state.last.lock() = last;
        state.raise(last.unwrap_or_default());
        state
    }

    pub(crate) fn last(&self) -> Option<EventId> {
        *self.last.lock()
    }

    pub(crate) fn seen(&self) -> EventId {
        *self.seen.lock()
    }

    /// Notes that this process saw `id`.
    pub(crate) fn raise(&self, id: EventId) {
        let mut seen = self.seen.lock();
        *seen = (*seen).max(id);
    }

    pub(crate) fn is_connected(&self) -> bool {
        self.connected.load(Ordering::Relaxed)
    }

    pub(crate) fn reads(&self) -> u64 {
        self.reads.load(Ordering::Relaxed)
    }

    pub(crate) fn reconnects(&self) -> u64 {
        self.reconnects.load(Ordering::Relaxed)
    }

    /// Has the reader drop its connection and read on a new one.
    pub(crate) fn restart(&self) {
        self.restart.notify_one();
    }

    /// Cuts the reader's wait before its next connection attempt short.
    pub(crate) fn wake(&self) {
        self.wake.notify_one();
    }

    /// Moves the reader to `position` (Redis went back behind it) and restarts it there.
    pub(crate) fn reposition(&self, position: EventId) {
        *self.last.lock() = Some(position);
        self.restart();
    }
}

/// The reader task's parts.
pub(crate) struct Reader {
    pub(crate) link: Link,
    pub(crate) keys: Keys,
    pub(crate) config: Arc<RedisConfig>,
    pub(crate) state: Arc<ReaderState>,
    pub(crate) fanout: Fanout,
}

/// Why one connection's read loop ended.
enum Stopped {
    Shutdown,
    Restart,
    Failed(RedisError),
}

impl Reader {
    /// Reads until `stop` says so, reconnecting with bounded, jittered backoff.
    pub(crate) async fn run(self, mut stop: watch::Receiver<bool>) {
        let mut backoff = Backoff::new(self.config.reconnect_min, self.config.reconnect_max);
        let mut first = true;
        loop {
            let why = match self.link.get().await {
                Ok(_) => {
                    backoff.reset();
                    if !std::mem::take(&mut first) {
                        self.state.reconnects.fetch_add(1, Ordering::Relaxed);
                    }
                    tracing::info!(after = ?self.state.last(), "Redis event reader connected");
                    self.state.connected.store(true, Ordering::Relaxed);
                    let why = self.read(&mut stop).await;
                    self.state.connected.store(false, Ordering::Relaxed);
                    self.link.drop_connection().await;
                    why
                }
                Err(e) => Stopped::Failed(e),
            };
            let wait = match why {
                Stopped::Shutdown => return,
                Stopped::Restart => {
                    tracing::warn!(after = ?self.state.last(), "Redis event reader restarted by the liveness probe");
                    Duration::ZERO
                }
                Stopped::Failed(e) => {
                    let wait = backoff.next();
                    tracing::warn!(error = %e, retry_in = ?wait, "Redis event reader disconnected");
                    wait
                }
            };
            tokio::select! {
                () = tokio::time::sleep(wait) => {}
                () = self.state.wake.notified() => {}
                _ = stop.changed() => return,
            }
        }
    }

    /// Reads on the open connection until it fails, the probe restarts it or the backend
    /// stops.
    async fn read(&self, stop: &mut watch::Receiver<bool>) -> Stopped {
        let block = u64::try_from(self.config.block.as_millis()).unwrap_or(u64::MAX);
        loop {
            let after = self.state.last().map_or_else(|| "0-0".to_owned(), entry_id);
            let mut xread = redis::cmd("XREAD");
            xread
                .arg("COUNT")
                .arg(self.config.read_batch)
                .arg("BLOCK")
                .arg(block)
                .arg("STREAMS")
                .arg(&self.keys.log)
                .arg(after);
            let reply = tokio::select! {
                reply = self.link.call(|mut conn| async move {
                    xread.query_async::<Option<StreamReadReply>>(&mut conn).await
                }) => reply,
                () = self.state.restart.notified() => return Stopped::Restart,
                _ = stop.changed() => return Stopped::Shutdown,
            };
            match reply {
                Ok(reply) => {
                    self.state.reads.fetch_add(1, Ordering::Relaxed);
                    let entries = reply.into_iter().flat_map(|r| r.keys).flat_map(|k| k.ids);
                    entries
                        .filter_map(Entry::new)
                        .for_each(|e| self.dispatch(e));
                }
                Err(e) => return Stopped::Failed(e),
            }
        }
    }

    /// Hands one entry to the local subscribers, after a discontinuity is dealt with.
    fn dispatch(&self, entry: Entry) {
        let last = self.state.last();
        if !follows(last, entry.id) {
            tracing::warn!(
                last = ?last,
                next = %entry.id,
                "the Redis event stream skipped (trimmed while the reader was away, or a new epoch after lost data): every local subscription ends as lagged and resumes"
            );
            self.fanout.lag_all();
        }
        *self.state.last.lock() = Some(entry.id);
        self.state.raise(entry.id);
        if let Some(event) = entry.into_event() {
            self.fanout.send(&event);
        }
    }
}

/// Waits between reconnection attempts: doubling from `min` up to `max`, and "equal
/// jitter" (half of each wait fixed, half random), so that the replicas of a service do
/// not all reconnect at the same instant, and no wait collapses to nothing.
#[derive(Debug)]
pub(crate) struct Backoff {
    min: Duration,
    max: Duration,
    failures: u32,
}

impl Backoff {
    pub(crate) const fn new(min: Duration, max: Duration) -> Self {
        Self {
            min,
            max,
            failures: 0,
        }
    }

    pub(crate) fn next(&mut self) -> Duration {
        let cap = self
            .min
            .saturating_mul(1 << self.failures.min(20))
            .min(self.max);
        self.failures = self.failures.saturating_add(1);
        let half = cap / 2;
        let micros = u64::try_from(half.as_micros()).unwrap_or(u64::MAX);
        half + Duration::from_micros(rand::random_range(0..=micros))
    }

    pub(crate) const fn reset(&mut self) {
        self.failures = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_up_to_its_bound_with_half_of_it_random() {
        let (min, max) = (Duration::from_millis(100), Duration::from_millis(700));
        let mut backoff = Backoff::new(min, max);
        for cap in [100, 200, 400, 700, 700, 700] {
            let wait = backoff.next();
            let cap = Duration::from_millis(cap);
            assert!(wait >= cap / 2 && wait <= cap, "{wait:?} for {cap:?}");
        }
        backoff.reset();
        assert!(backoff.next() <= min);
        let mut many = Backoff::new(min, max);
        for _ in 0..100 {
            assert!(many.next() <= max);
        }
    }

    #[test]
    fn the_state_keeps_the_highest_id_seen() {
        let state = ReaderState::new(Some(EventId::from_parts(5, 2)));
        assert_eq!(state.seen(), EventId::from_parts(5, 2));
        state.raise(EventId::from_parts(5, 1));
        assert_eq!(state.seen(), EventId::from_parts(5, 2));
        state.raise(EventId::from_parts(6, 1));
        assert_eq!(state.seen(), EventId::from_parts(6, 1));
        assert_eq!(ReaderState::new(None).last(), None);
        state.reposition(EventId::from_parts(5, 1));
        assert_eq!(state.last(), Some(EventId::from_parts(5, 1)));
    }
}
