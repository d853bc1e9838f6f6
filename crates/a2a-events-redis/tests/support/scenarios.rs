//! The feature suite's engine on Redis: one `redis-server` of the run's own, and for each
//! scenario a [`RedisBackend`] with a key prefix of its own, so that scenarios (which
//! cucumber runs concurrently) never see each other's events.

use std::io;
use std::sync::Arc;

use a2a_events::EventBackend;
use a2a_events_redis::{RedisBackend, Trim};
use a2a_sse_testkit::conformance::{Backend, BackendSettings, BoxFuture};

use crate::support::{RedisServer, config};

/// Each scenario's engine: a new prefix on the run's server.
#[derive(Debug)]
pub(crate) struct RedisScenarios {
    url: String,
}

impl RedisScenarios {
    pub(crate) fn new(server: &RedisServer) -> Self {
        Self { url: server.url() }
    }
}

impl Backend for RedisScenarios {
    fn start(&self, settings: BackendSettings) -> BoxFuture<io::Result<Arc<dyn EventBackend>>> {
        // `config` gives every backend a prefix and connection names of its own.
        let mut config = config(&self.url);
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

/// Runs the feature suite against `server` on Redis; skipped (success) when
/// `redis-server` is absent outside CI.
pub(crate) fn run(server: impl a2a_sse_testkit::conformance::Server) -> std::process::ExitCode {
    let Some(redis) = RedisServer::start(&[]) else {
        return std::process::ExitCode::SUCCESS;
    };
    let code = a2a_sse_testkit::conformance::run_with(server, RedisScenarios::new(&redis));
    drop(redis);
    code
}
