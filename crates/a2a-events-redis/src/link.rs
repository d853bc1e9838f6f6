//! [`Link`]: a named connection to Redis that is opened on first use and opened again
//! after a transport failure.
//!
//! The `redis` crate's `MultiplexedConnection` is one TCP connection for its whole life;
//! its `ConnectionManager` reconnects, but not after a response timeout (a server that
//! stopped answering keeps its connection), and by default retries six times inside
//! every command while the server is down. The backend wants neither: a failed or
//! timed-out connection is dropped at once, and the caller's own deadline decides how
//! long to keep trying.

use std::collections::HashMap;
use std::future::Future;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use redis::aio::MultiplexedConnection;
use redis::{AsyncConnectionConfig, Client, RedisResult};
use tokio::sync::Mutex;

use crate::error::{Failure, classify};

/// A lazily opened, self-replacing connection.
pub(crate) struct Link {
    client: Client,
    config: AsyncConnectionConfig,
    name: String,
    /// The open connection; `None` until first use and after a transport failure. Held
    /// across an attempt to open one, so that callers waiting for Redis to come back
    /// open one connection, not one each.
    conn: Mutex<Option<MultiplexedConnection>>,
    /// Whether every connection opened asks the server whether it is durable
    /// ([`Durability::Auto`](crate::Durability::Auto)).
    detect: bool,
    /// What the last connection opened found: whether the server keeps every
    /// acknowledged write across a restart.
    durable: AtomicBool,
}

impl Link {
    /// A link to `client`'s server, named `name` in `CLIENT LIST`, whose commands wait at
    /// most `response` for their answer (`None`: as long as it takes).
    pub(crate) fn new(
        client: Client,
        name: String,
        connect: Duration,
        response: Option<Duration>,
    ) -> Self {
        let config = AsyncConnectionConfig::new()
            .set_connection_timeout(Some(connect))
            .set_response_timeout(response);
        Self {
            client,
            config,
            name,
            conn: Mutex::new(None),
            detect: false,
            durable: AtomicBool::new(false),
        }
    }

    /// The same link, asking the server on every new connection whether it is durable.
    pub(crate) const fn detecting_durability(mut self) -> Self {
        self.detect = true;
        self
    }

    /// Whether the server, as the last connection opened found it, keeps every
    /// acknowledged write across a restart (always `false` unless detecting).
    pub(crate) fn is_durable(&self) -> bool {
        self.durable.load(Ordering::Acquire)
    }

    /// The open connection, or a new one (named, before anything else is sent on it).
    pub(crate) async fn get(&self) -> RedisResult<MultiplexedConnection> {
        let mut slot = self.conn.lock().await;
        if let Some(conn) = &*slot {
            return Ok(conn.clone());
        }
        let mut conn = self
            .client
            .get_multiplexed_async_connection_with_config(&self.config)
            .await?;
        redis::cmd("CLIENT")
            .arg("SETNAME")
            .arg(&self.name)
            .query_async::<()>(&mut conn)
            .await?;
        if self.detect {
            // Before the connection is used: a publish right after a restart needs it.
            let durable = detect_durability(&mut conn).await?;
            if self.durable.swap(durable, Ordering::AcqRel) != durable {
                tracing::info!(
                    durable,
                    "Redis durability detected: a server restart {} the epoch",
                    if durable { "keeps" } else { "starts a new" }
                );
            }
        }
        *slot = Some(conn.clone());
        Ok(conn)
    }

    /// Forgets the open connection: the next [`get`](Self::get) opens another.
    pub(crate) async fn drop_connection(&self) {
        *self.conn.lock().await = None;
    }

    /// Runs `request` on the connection, and drops the connection when the request
    /// failed in a way that may have left it unusable.
    pub(crate) async fn call<T, F, Fut>(&self, request: F) -> RedisResult<T>
    where
        F: FnOnce(MultiplexedConnection) -> Fut,
        Fut: Future<Output = RedisResult<T>>,
    {
        let result = match self.get().await {
            Ok(conn) => request(conn).await,
            Err(e) => Err(e),
        };
        if let Err(e) = &result
            && classify(e) != Failure::Final
        {
            self.drop_connection().await;
        }
        result
    }
}

/// Asks the server whether it keeps every acknowledged write across a restart: `CONFIG
/// GET appendonly appendfsync` and `INFO replication`. A server that refuses either
/// (a managed Redis renames or forbids `CONFIG`) is taken as lossy; a connection that
/// fails on the way is an error, as for any command.
async fn detect_durability(conn: &mut MultiplexedConnection) -> RedisResult<bool> {
    let settings = redis::cmd("CONFIG")
        .arg("GET")
        .arg("appendonly")
        .arg("appendfsync")
        .query_async::<HashMap<String, String>>(conn)
        .await;
    let replication = redis::cmd("INFO")
        .arg("replication")
        .query_async::<String>(conn)
        .await;
    match (settings, replication) {
        (Ok(settings), Ok(replication)) => Ok(is_durable(&settings, &replication)),
        (Err(error), _) | (_, Err(error)) if classify(&error) != Failure::Final => Err(error),
        (Err(error), _) | (_, Err(error)) => {
            tracing::info!(%error, "Redis durability cannot be read: taken as lossy (a restart starts a new epoch)");
            Ok(false)
        }
    }
}

/// Whether `settings` (`CONFIG GET appendonly appendfsync`) and `replication` (`INFO
/// replication`) describe a server whose acknowledged writes survive a restart and that
/// no lagging replica can replace: an append-only file synced on every write, on a
/// primary with no replica attached.
pub(crate) fn is_durable(settings: &HashMap<String, String>, replication: &str) -> bool {
    let set = |name: &str, value: &str| settings.get(name).is_some_and(|v| v == value);
    let field = |name: &str| {
        replication
            .lines()
            .find_map(|line| line.trim_end().strip_prefix(name)?.strip_prefix(':'))
    };
    set("appendonly", "yes")
        && set("appendfsync", "always")
        && field("role") == Some("master")
        && field("connected_slaves") == Some("0")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(appendonly: &str, appendfsync: &str) -> HashMap<String, String> {
        [("appendonly", appendonly), ("appendfsync", appendfsync)]
            .into_iter()
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
            .collect()
    }

    const PRIMARY: &str =
        "# Replication\r\nrole:master\r\nconnected_slaves:0\r\nmaster_repl_offset:0\r\n";

    #[test]
    fn only_an_fsynced_append_only_primary_without_replicas_is_durable() {
        assert!(is_durable(&settings("yes", "always"), PRIMARY));
        assert!(!is_durable(&settings("yes", "everysec"), PRIMARY));
        assert!(!is_durable(&settings("no", "always"), PRIMARY));
        assert!(!is_durable(&HashMap::new(), PRIMARY));
        let with_replica = PRIMARY.replace("connected_slaves:0", "connected_slaves:1");
        assert!(!is_durable(&settings("yes", "always"), &with_replica));
        let replica = "# Replication\r\nrole:slave\r\nconnected_slaves:0\r\n";
        assert!(!is_durable(&settings("yes", "always"), replica));
        assert!(!is_durable(&settings("yes", "always"), ""));
    }
}
