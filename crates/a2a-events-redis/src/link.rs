//! [`Link`]: a named connection to Redis that is opened on first use and opened again
//! after a transport failure.
//!
//! The `redis` crate's `MultiplexedConnection` is one TCP connection for its whole life;
//! its `ConnectionManager` reconnects, but not after a response timeout (a server that
//! stopped answering keeps its connection), and by default retries six times inside
//! every command while the server is down. The backend wants neither: a failed or
//! timed-out connection is dropped at once, and the caller's own deadline decides how
//! long to keep trying.

use std::future::Future;
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
        }
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
