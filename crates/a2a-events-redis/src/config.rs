//! [`RedisConfig`]: where Redis is, how much it keeps, and the backend's timings.

use std::time::Duration;

use a2a_events::BufferLimits;

/// What Redis keeps of acknowledged writes across a restart or a failover, which decides
/// whether a new server process may go on with the old ids.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum Durability {
    /// Ask the server (the default): every time the command connection is opened (at
    /// connect, and again after any reconnect, as after a restart), the backend reads
    /// `CONFIG GET appendonly appendfsync` and `INFO replication`. The server counts as
    /// durable, as with [`FsyncAlways`](Self::FsyncAlways), when it writes an
    /// append-only file with `appendfsync always` and is a primary with no replica
    /// attached (a replica is asynchronous: promoted, it may lack the latest writes);
    /// otherwise, and whenever `CONFIG` is not allowed (managed services rename or forbid
    /// it), as [`Lossy`](Self::Lossy).
    #[default]
    Auto,
    /// Redis may lose acknowledged writes when it restarts or fails over (no persistence,
    /// RDB snapshots, `appendfsync everysec`, asynchronous replicas). Every new server
    /// process starts a new epoch, so no id is ever given twice; clients connected
    /// across a restart or failover get a `reset`, even when nothing was lost.
    Lossy,
    /// Every acknowledged write survives a restart (`appendonly yes` with
    /// `appendfsync always`), and no replica that may lag is ever promoted. A restart
    /// keeps the epoch, so clients resume across it with nothing lost and nothing twice;
    /// lost data (Redis empty, or behind what this process saw) still starts a new epoch.
    /// [`RedisBackend::connect`](crate::RedisBackend::connect) checks the server's
    /// settings when `CONFIG GET` is allowed, and trusts this setting when it is not.
    FsyncAlways,
}

/// Why a [`RedisConfig`] cannot work: one variant per problem, naming the field.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// [`RedisConfig::url`] is not a Redis URL.
    #[error("url is not a Redis URL")]
    Url,
    /// [`RedisConfig::publish_timeout`] is zero.
    #[error("publish_timeout must not be zero")]
    PublishTimeout,
    /// [`RedisConfig::command_timeout`] is zero.
    #[error("command_timeout must not be zero")]
    CommandTimeout,
    /// [`RedisConfig::connect_timeout`] is zero.
    #[error("connect_timeout must not be zero")]
    ConnectTimeout,
    /// [`RedisConfig::block`] is below a millisecond (`XREAD BLOCK` counts milliseconds,
    /// and 0 blocks for ever).
    #[error("block must be at least a millisecond")]
    Block,
    /// [`RedisConfig::probe_interval`] is zero.
    #[error("probe_interval must not be zero")]
    ProbeInterval,
    /// [`RedisConfig::reconnect_min`] is zero.
    #[error("reconnect_min must not be zero")]
    ReconnectMin,
    /// [`RedisConfig::reconnect_max`] is below [`RedisConfig::reconnect_min`].
    #[error("reconnect_max must not be below reconnect_min")]
    ReconnectMax,
    /// [`RedisConfig::prefix`] is empty.
    #[error("prefix must not be empty")]
    Prefix,
    /// [`RedisConfig::history_events`] is zero.
    #[error("history_events must be at least 1")]
    HistoryEvents,
    /// [`RedisConfig::read_batch`] is zero.
    #[error("read_batch must be at least 1")]
    ReadBatch,
    /// [`RedisConfig::buffer`] allows no event or no byte.
    #[error("the per-subscriber buffer must allow at least one event and one byte")]
    Buffer,
    /// [`RedisConfig::client_name`] is empty or holds white space.
    #[error("client_name must be non-empty, without white space")]
    ClientName,
    /// [`Durability::FsyncAlways`] on a server whose `CONFIG GET` shows that it does not
    /// fsync every write.
    #[error("durability FsyncAlways needs the server's appendonly yes and appendfsync always")]
    NotDurable,
}

/// How the stream of events is cut back to [`RedisConfig::history_events`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum Trim {
    /// `XADD … MAXLEN ~ N`: Redis drops whole nodes of the stream, so it keeps N entries
    /// or somewhat more (up to about a hundred more by default); the cheapest form.
    #[default]
    Approximate,
    /// `XADD … MAXLEN = N`: exactly the newest N entries are kept.
    Exact,
}

/// Where Redis is and how the backend uses it.
///
/// Build it with [`RedisConfig::new`] and set fields; [`RedisBackend::connect`] checks
/// it. The defaults suit a handful of replicas with a few thousand subscribers each.
///
/// ```
/// use std::time::Duration;
/// use a2a_events_redis::{Durability, RedisConfig};
///
/// let mut config = RedisConfig::new("redis://10.0.0.5:6379/");
/// config.history_events = 50_000;
/// config.durability = Durability::Lossy;
/// config.finished_ttl = Duration::from_secs(10 * 60);
/// ```
///
/// [`RedisBackend::connect`]: crate::RedisBackend::connect
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct RedisConfig {
    /// The server, as the `redis` crate reads it: `redis://[user:password@]host:port[/db]`.
    pub url: String,
    /// The start of every key the backend writes (default `{a2a}`). Replicas that share
    /// events share a prefix. Its braces are a hash tag: on a cluster every key is in one
    /// slot, as the single order of events needs.
    pub prefix: String,
    /// Most events the stream keeps for resuming (default 10,000; at least 1). A client
    /// resuming from further back gets a `reset`.
    pub history_events: usize,
    /// How the stream is trimmed (default [`Trim::Approximate`]).
    pub trim: Trim,
    /// Per-subscriber buffer used when a subscription asks for none of its own (the
    /// in-memory queue's default).
    pub buffer: BufferLimits,
    /// How long a finished plan's keys live (default one hour): its task, and the record
    /// that refuses later publishes to it and answers a resume past its end with 204.
    /// `Duration::ZERO` keeps them for good.
    pub finished_ttl: Duration,
    /// How long a plan that has not finished is kept after its latest event (default a
    /// day), so that an abandoned plan does not stay in Redis for ever. `None` keeps
    /// running plans for good.
    pub running_ttl: Option<Duration>,
    /// What Redis keeps across a restart (default [`Durability::Auto`]: asked of the
    /// server).
    pub durability: Durability,
    /// How long one publish may take, retries included (default 2 s). Past it, publish
    /// returns a `BackendError` (`Timeout` when an attempt may have been applied).
    pub publish_timeout: Duration,
    /// How long one command may wait for its answer (default 1 s).
    pub command_timeout: Duration,
    /// How long a connection may take to open (default 500 ms).
    pub connect_timeout: Duration,
    /// How long the reader's `XREAD` blocks before it asks again (default 5 s); its
    /// connection waits this long plus [`command_timeout`](Self::command_timeout) for an
    /// answer.
    pub block: Duration,
    /// How often the liveness probe compares Redis with the reader (default 1 s). A
    /// reader that stays behind Redis for two probes without reading anything is
    /// restarted.
    pub probe_interval: Duration,
    /// The reader's first wait before reconnecting (default 100 ms); each failure doubles
    /// it, up to [`reconnect_max`](Self::reconnect_max), and half of each wait is random.
    pub reconnect_min: Duration,
    /// The reader's longest wait before reconnecting (default 5 s).
    pub reconnect_max: Duration,
    /// Most entries one read asks for (default 512): the reader's `XREAD COUNT` and a
    /// replay's page.
    pub read_batch: usize,
    /// The start of the backend's connection names in `CLIENT LIST` (default `a2a`; no
    /// white space). [`RedisBackend::connect`](crate::RedisBackend::connect) makes them
    /// unique: `<name>-<pid>-<n>-reader` for the reader and `<name>-<pid>-<n>-cmd` for the
    /// command connection, `n` counting the backends this process connected.
    pub client_name: String,
}

impl RedisConfig {
    /// The defaults, for the server at `url`.
    #[must_use]
    pub fn new(url: impl Into<String>) -> Self {
        Self {
            url: url.into(),
            prefix: "{a2a}".into(),
            history_events: 10_000,
            trim: Trim::Approximate,
            buffer: BufferLimits::DEFAULT,
            finished_ttl: Duration::from_secs(60 * 60),
            running_ttl: Some(Duration::from_secs(24 * 60 * 60)),
            durability: Durability::Auto,
            publish_timeout: Duration::from_secs(2),
            command_timeout: Duration::from_secs(1),
            connect_timeout: Duration::from_millis(500),
            block: Duration::from_secs(5),
            probe_interval: Duration::from_secs(1),
            reconnect_min: Duration::from_millis(100),
            reconnect_max: Duration::from_secs(5),
            read_batch: 512,
            client_name: "a2a".into(),
        }
    }

    /// Why the configuration cannot work, if it cannot.
    pub(crate) fn check(&self) -> Result<(), ConfigError> {
        let nonzero = [
            (self.publish_timeout, ConfigError::PublishTimeout),
            (self.command_timeout, ConfigError::CommandTimeout),
            (self.connect_timeout, ConfigError::ConnectTimeout),
            (self.block, ConfigError::Block),
            (self.probe_interval, ConfigError::ProbeInterval),
            (self.reconnect_min, ConfigError::ReconnectMin),
        ];
        if let Some(&(_, why)) = nonzero.iter().find(|(d, _)| d.as_millis() == 0) {
            return Err(why);
        }
        let problems = [
            (self.prefix.is_empty(), ConfigError::Prefix),
            (self.history_events == 0, ConfigError::HistoryEvents),
            (self.read_batch == 0, ConfigError::ReadBatch),
            (
                self.buffer.events == 0 || self.buffer.bytes == 0,
                ConfigError::Buffer,
            ),
            (
                self.reconnect_max < self.reconnect_min,
                ConfigError::ReconnectMax,
            ),
            (
                self.client_name.is_empty() || self.client_name.contains(char::is_whitespace),
                ConfigError::ClientName,
            ),
        ];
        match problems.into_iter().find(|&(bad, _)| bad) {
            Some((_, why)) => Err(why),
            None => Ok(()),
        }
    }
}

/// `duration` in whole seconds for `EXPIRE`, rounded up (`0` stays `0`: no expiry).
pub(crate) fn ttl_seconds(duration: Duration) -> u64 {
    duration.as_secs() + u64::from(duration.subsec_nanos() > 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_defaults_pass_and_each_bad_field_is_named() {
        let ok = RedisConfig::new("redis://127.0.0.1:1/");
        assert_eq!(ok.check(), Ok(()));
        assert_eq!(ok, RedisConfig::new("redis://127.0.0.1:1/"), "equal inputs");
        assert_eq!(ok.durability, Durability::Auto);
        type Spoil = fn(&mut RedisConfig);
        let cases: [(Spoil, ConfigError); 12] = [
            (
                |c| c.publish_timeout = Duration::ZERO,
                ConfigError::PublishTimeout,
            ),
            (
                |c| c.command_timeout = Duration::ZERO,
                ConfigError::CommandTimeout,
            ),
            (
                |c| c.connect_timeout = Duration::ZERO,
                ConfigError::ConnectTimeout,
            ),
            (|c| c.block = Duration::from_micros(10), ConfigError::Block),
            (
                |c| c.probe_interval = Duration::ZERO,
                ConfigError::ProbeInterval,
            ),
            (
                |c| c.reconnect_min = Duration::ZERO,
                ConfigError::ReconnectMin,
            ),
            (|c| c.prefix.clear(), ConfigError::Prefix),
            (|c| c.history_events = 0, ConfigError::HistoryEvents),
            (|c| c.read_batch = 0, ConfigError::ReadBatch),
            (|c| c.buffer = BufferLimits::new(0, 1), ConfigError::Buffer),
            (
                |c| c.reconnect_max = Duration::from_millis(1),
                ConfigError::ReconnectMax,
            ),
            (|c| c.client_name = "a b".into(), ConfigError::ClientName),
        ];
        for (spoil, expected) in cases {
            let mut config = ok.clone();
            spoil(&mut config);
            assert_eq!(config.check(), Err(expected));
        }
        assert_eq!(
            ConfigError::Block.to_string(),
            "block must be at least a millisecond"
        );
    }

    #[test]
    fn ttls_round_up_to_seconds() {
        assert_eq!(ttl_seconds(Duration::ZERO), 0);
        assert_eq!(ttl_seconds(Duration::from_millis(1)), 1);
        assert_eq!(ttl_seconds(Duration::from_secs(60)), 60);
        assert_eq!(ttl_seconds(Duration::from_millis(60_500)), 61);
    }
}
