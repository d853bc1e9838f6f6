//! The keep-alive clock, behind a small trait so the core runs on any runtime.

use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

/// A source of resettable sleeps.
///
/// [`SseStream`](crate::SseStream) creates one sleep per connection and resets it when the
/// stream goes idle after sending something, so an idle connection costs one timer entry
/// and a busy one does not touch the timer for every frame.
pub trait Timer: Clone + Send + Sync + Unpin + 'static {
    /// The sleep future.
    type Sleep: Future<Output = ()> + Send;

    /// A sleep that completes `after` from now.
    fn sleep(&self, after: Duration) -> Self::Sleep;

    /// Moves `sleep`'s deadline to `after` from now; it may have completed already.
    fn reset(&self, sleep: Pin<&mut Self::Sleep>, after: Duration);
}

/// [`Timer`] on tokio's clock (so tests can pause it). Needs a tokio runtime with time
/// enabled, as axum and actix-web both run on.
#[cfg(feature = "tokio")]
#[derive(Debug, Clone, Copy, Default)]
pub struct TokioTimer;

#[cfg(feature = "tokio")]
impl Timer for TokioTimer {
    type Sleep = tokio::time::Sleep;

    fn sleep(&self, after: Duration) -> Self::Sleep {
        tokio::time::sleep(after)
    }

    fn reset(&self, sleep: Pin<&mut Self::Sleep>, after: Duration) {
        sleep.reset(tokio::time::Instant::now() + after);
    }
}
