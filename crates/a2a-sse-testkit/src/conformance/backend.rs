//! [`Backend`]: how a scenario gets its event engine, so that another engine than the
//! in-memory queue ([`Memory`]) runs the same features.

use std::fmt;
use std::io;
use std::sync::Arc;

use a2a_events::{A2aEventQueue, EventBackend, QueueConfig};

use super::server::BoxFuture;

/// What a scenario asks of its event engine; `None` keeps the engine's default.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct BackendSettings {
    /// Most events kept for resuming.
    pub history_events: Option<usize>,
    /// Most bytes kept for resuming. The suite asks for far more than it publishes, so
    /// that only [`history_events`](Self::history_events) bounds history and a scenario
    /// with large events still resumes without loss; an engine without such a bound
    /// ignores it.
    pub history_bytes: Option<usize>,
}

/// One kind of event engine, as the features use it: started fresh for each scenario,
/// then published to, subscribed to (by the service) and closed only through
/// [`EventBackend`].
pub trait Backend: fmt::Debug + Send + Sync + 'static {
    /// A new, empty engine configured by `settings`.
    fn start(&self, settings: BackendSettings) -> BoxFuture<io::Result<Arc<dyn EventBackend>>>;
}

/// The in-memory [`A2aEventQueue`], the default backend of [`run`](super::run).
#[derive(Debug, Clone, Copy, Default)]
pub struct Memory;

impl Backend for Memory {
    fn start(&self, settings: BackendSettings) -> BoxFuture<io::Result<Arc<dyn EventBackend>>> {
        let mut config = QueueConfig::default();
        if let Some(events) = settings.history_events {
            config.history_events = events;
        }
        if let Some(bytes) = settings.history_bytes {
            config.history_bytes = bytes;
        }
        let queue = A2aEventQueue::with_config(config).map_err(io::Error::other);
        Box::pin(async move { Ok(Arc::new(queue?) as Arc<dyn EventBackend>) })
    }
}
