//! [`Redis`]: the feature suite's engine on the Redis backend, and [`run_on_redis`].

use std::io;
use std::process::ExitCode;
use std::sync::Arc;

use a2a_events::EventBackend;
use a2a_events_redis::{RedisBackend, Trim};

use super::backend::{Backend, BackendSettings};
use super::run::run_with;
use super::server::{BoxFuture, Server};
use crate::redis_server::{RedisServer, test_config};

/// Each scenario's engine: a [`RedisBackend`] with a key prefix of its own on one
/// `redis-server`, so that scenarios (which cucumber runs concurrently) never see each
/// other's events.
#[derive(Debug)]
pub struct Redis {
    url: String,
}

impl Redis {
    /// Engines on the server at `url`.
    #[must_use]
    pub fn new(url: impl Into<String>) -> Self {
        Self { url: url.into() }
    }
}

impl Backend for Redis {
    fn start(&self, settings: BackendSettings) -> BoxFuture<io::Result<Arc<dyn EventBackend>>> {
        let mut config = test_config(&self.url);
        if let Some(events) = settings.history_events {
            config.history_events = events;
        }
        // Scenarios about history's bound count events exactly, as the queue keeps them;
        // Redis has no byte bound, which the suite's large one does not need.
        config.trim = Trim::Exact;
        Box::pin(async move {
            let backend = RedisBackend::connect(config)
                .await
                .map_err(io::Error::other)?;
            Ok(Arc::new(backend) as Arc<dyn EventBackend>)
        })
    }
}

/// Runs every feature against `server` on the Redis backend, with a `redis-server` of the
/// run's own; skipped (success, with a loud message) when `redis-server` is not installed,
/// outside CI.
///
/// # Panics
///
/// When `redis-server` is missing in CI, or does not start.
#[must_use]
pub fn run_on_redis(server: impl Server) -> ExitCode {
    let Some(redis) = RedisServer::start(&[]) else {
        return ExitCode::SUCCESS;
    };
    let code = run_with(server, Redis::new(redis.url()));
    drop(redis);
    code
}
