//! The liveness probe: every [`RedisConfig::probe_interval`], it reads the last id Redis
//! gave (`HMGET <prefix>:meta epoch seq`, on the command connection) and compares it with
//! the reader's.
//!
//! - Redis ahead of a connected reader twice in a row, the reader still below what Redis
//!   had the first time and having read nothing since: the reader is stuck on a
//!   connection that answers nothing (a half-open socket, a black-holed route). It is
//!   restarted on a new connection, from its last id. A live reader gets an entry within
//!   milliseconds, so a publish racing the probe does not trigger it.
//! - Redis behind the reader (it lost its latest writes: a restart without them, a
//!   failover to a replica that lagged): every local subscription ends as lagged, and
//!   the reader moves to where Redis is.
//! - Redis empty while the reader has read something: its data is lost. The next publish
//!   starts a new epoch, which the reader sees as a discontinuity; this is logged once.
//! - Redis unreachable: nothing to compare; the reader's own timeouts find that. While
//!   the reader waits to reconnect, a probe that reached Redis cuts the wait short.

use std::sync::Arc;

use a2a_events::{EventId, Fanout};
use tokio::sync::watch;

use crate::config::RedisConfig;
use crate::keys::Keys;
use crate::link::Link;
use crate::reader::ReaderState;

/// The probe task's parts.
pub(crate) struct Probe {
    pub(crate) link: Arc<Link>,
    pub(crate) keys: Keys,
    pub(crate) config: Arc<RedisConfig>,
    pub(crate) state: Arc<ReaderState>,
    pub(crate) fanout: Fanout,
}

/// What a probe found, given what the previous one found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Verdict {
    /// Nothing to do.
    Fine,
    /// Redis is ahead: if the reader is still below this and has read nothing more by
    /// the next probe, it is stuck.
    Watch { target: EventId, reads: u64 },
    /// The reader is stuck: restart it.
    Stuck,
    /// Redis is behind the reader, at this id.
    Behind(EventId),
    /// Redis has no data.
    Empty,
}

/// Judges `redis` (the last id Redis gave) against the reader's `last` (read before
/// Redis was asked, so a read that races the probe can only make the reader look
/// behind, never ahead) and its `reads` so far.
pub(crate) fn judge(
    redis: Option<EventId>,
    last: Option<EventId>,
    reads: u64,
    watching: Option<(EventId, u64)>,
) -> Verdict {
    match (redis, last) {
        (None, Some(_)) => Verdict::Empty,
        (Some(redis), Some(last)) if redis < last => Verdict::Behind(redis),
        (Some(redis), last) if Some(redis) > last => match watching {
            Some((target, before)) if last < Some(target) && reads == before => Verdict::Stuck,
            _ => Verdict::Watch {
                target: redis,
                reads,
            },
        },
        _ => Verdict::Fine,
    }
}

impl Probe {
    /// Probes until `stop` says so.
    pub(crate) async fn run(self, mut stop: watch::Receiver<bool>) {
        let mut watching = None;
        let mut reported_empty = false;
        loop {
            tokio::select! {
                () = tokio::time::sleep(self.config.probe_interval) => {}
                _ = stop.changed() => return,
            }
            let last = self.state.last();
            let reads = self.state.reads();
            let Ok(redis) = self.redis_last().await else {
                watching = None;
                continue;
            };
            if !self.state.is_connected() {
                self.state.wake();
                watching = None;
                continue;
            }
            match judge(redis, last, reads, watching.take()) {
                Verdict::Fine => reported_empty = false,
                Verdict::Watch { target, reads } => watching = Some((target, reads)),
                Verdict::Stuck => {
                    tracing::warn!(reader = ?last, redis = ?redis, "the Redis event reader receives nothing although Redis has more: restarting it");
                    self.state.restart();
                }
                Verdict::Behind(at) => {
                    tracing::error!(reader = ?last, redis = %at, "Redis is behind what this process read (it lost its latest writes): every local subscription ends as lagged and resumes");
                    self.fanout.lag_all();
                    self.state.reposition(at);
                }
                Verdict::Empty if !reported_empty => {
                    reported_empty = true;
                    tracing::error!(reader = ?last, "Redis holds no events any more (lost its data); the next publish starts a new epoch");
                }
                Verdict::Empty => {}
            }
        }
    }

    /// The last id Redis gave, if it has one.
    async fn redis_last(&self) -> redis::RedisResult<Option<EventId>> {
        let meta = &self.keys.meta;
        let read = self.link.call(|mut conn| async move {
            redis::cmd("HMGET")
                .arg(meta)
                .arg("epoch")
                .arg("seq")
                .query_async::<(Option<u64>, Option<u64>)>(&mut conn)
                .await
        });
        let (epoch, seq) = read.await?;
        Ok(epoch.zip(seq).map(|(e, s)| EventId::from_parts(e, s)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(sequence: u64) -> EventId {
        EventId::from_parts(9, sequence)
    }

    #[test]
    fn a_reader_level_with_redis_is_fine() {
        assert_eq!(judge(Some(id(3)), Some(id(3)), 1, None), Verdict::Fine);
        assert_eq!(judge(None, None, 1, None), Verdict::Fine);
    }

    #[test]
    fn a_reader_behind_is_watched_then_restarted_unless_it_moved() {
        let first = judge(Some(id(5)), Some(id(3)), 7, None);
        assert_eq!(
            first,
            Verdict::Watch {
                target: id(5),
                reads: 7
            }
        );
        let watching = Some((id(5), 7));
        assert_eq!(judge(Some(id(6)), Some(id(3)), 7, watching), Verdict::Stuck);
        // It read something, or caught up with what Redis had: it lives.
        assert!(matches!(
            judge(Some(id(6)), Some(id(4)), 8, watching),
            Verdict::Watch { .. }
        ));
        assert!(matches!(
            judge(Some(id(6)), Some(id(5)), 7, watching),
            Verdict::Watch { .. }
        ));
        assert_eq!(
            judge(Some(id(1)), None, 0, Some((id(1), 0))),
            Verdict::Stuck
        );
    }

    #[test]
    fn redis_behind_or_empty_is_a_loss() {
        assert_eq!(
            judge(Some(id(2)), Some(id(4)), 1, None),
            Verdict::Behind(id(2))
        );
        let other_epoch = EventId::from_parts(8, 9);
        assert_eq!(
            judge(Some(other_epoch), Some(id(4)), 1, None),
            Verdict::Behind(other_epoch)
        );
        assert_eq!(judge(None, Some(id(4)), 1, None), Verdict::Empty);
    }
}
