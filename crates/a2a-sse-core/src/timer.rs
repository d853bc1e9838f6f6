//! The keep-alive clock, behind a small trait so the core runs on any runtime.

use std::future::Future;
use std::pin::Pin;
use std::time::{Duration, Instant};

/// A clock and a source of resettable sleeps.
///
/// [`SseStream`](crate::SseStream) creates one sleep per connection. It reads the clock when
/// it goes idle after sending, and moves the sleep only when the sleep completes early
/// (something was sent since it was set): a busy connection reads the clock once per
/// burst of frames and touches its timer about once per keep-alive interval.
pub trait Timer: Clone + Send + Sync + Unpin + 'static {
    /// The sleep future.
    type Sleep: Future<Output = ()> + Send;

    /// The current time on this timer's clock.
    fn now(&self) -> Instant;

    /// A sleep that completes at `deadline`.
    fn sleep_until(&self, deadline: Instant) -> Self::Sleep;

    /// Moves `sleep`'s deadline to `deadline`; it may have completed already.
    fn reset(&self, sleep: Pin<&mut Self::Sleep>, deadline: Instant);

    /// A sleep that completes `after` from now.
    fn sleep(&self, after: Duration) -> Self::Sleep {
        self.sleep_until(self.now() + after)
    }
}

/// [`Timer`] on tokio's clock (so tests can pause it). Needs a tokio runtime with time
/// enabled, as axum and actix-web both run on.
#[cfg(feature = "tokio")]
#[derive(Debug, Clone, Copy, Default)]
pub struct TokioTimer;

#[cfg(feature = "tokio")]
impl Timer for TokioTimer {
    type Sleep = tokio::time::Sleep;

    fn now(&self) -> Instant {
        tokio::time::Instant::now().into_std()
    }

    fn sleep_until(&self, deadline: Instant) -> Self::Sleep {
        tokio::time::sleep_until(deadline.into())
    }

    fn reset(&self, sleep: Pin<&mut Self::Sleep>, deadline: Instant) {
        sleep.reset(deadline.into());
    }
}
