//! Waiting for a condition that becomes true on its own: [`eventually`] for a check that
//! costs nothing, [`eventually_with`] for a reading that takes I/O (a metrics page, a
//! `/proc` file) and whose last value the caller wants to report, and
//! [`eventually_blocking`] for code that runs without an async runtime.
//!
//! All three poll with the same rhythm ([`pause`]): the first check at once, then after
//! 5 ms, doubling up to 50 ms between checks, so that a quick condition is seen quickly
//! and a slow one is not polled hundreds of times a second. Each checks once more when the
//! time is up, so a condition that came true during the last pause still counts.

use std::future::Future;
use std::time::{Duration, Instant};

/// The pause after the `n`-th check (counting from 0): 5 ms, 10 ms, 20 ms, 40 ms, then
/// 50 ms.
#[must_use]
pub fn pause(n: u32) -> Duration {
    Duration::from_millis((5u64 << n.min(4)).min(50))
}

/// Polls `condition` until it holds (`true`) or `timeout` has passed (`false`).
///
/// ```
/// # async fn demo() {
/// use std::time::Duration;
/// let ready = std::sync::atomic::AtomicBool::new(true);
/// let held = a2a_sse_testkit::eventually(Duration::from_secs(5), || {
///     ready.load(std::sync::atomic::Ordering::Relaxed)
/// })
/// .await;
/// assert!(held);
/// # }
/// ```
pub async fn eventually(timeout: Duration, mut condition: impl FnMut() -> bool) -> bool {
    eventually_with(
        timeout,
        || std::future::ready(Some(condition())),
        |&held| held,
    )
    .await
    .after
    .is_some()
}

/// What [`eventually_with`] saw.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Waited<T> {
    /// The last value read (`None` when no reading succeeded).
    pub last: Option<T>,
    /// How long it took until a value was accepted; `None` when none was in time.
    pub after: Option<Duration>,
}

impl<T> Waited<T> {
    /// True when a value was accepted in time.
    #[must_use]
    pub const fn held(&self) -> bool {
        self.after.is_some()
    }
}

/// Reads `probe` until it gives a value that `done` accepts, or `timeout` has passed. A
/// probe that answers `None` (a reading that failed this time) is read again later.
pub async fn eventually_with<T, F, Fut>(
    timeout: Duration,
    mut probe: F,
    done: impl Fn(&T) -> bool,
) -> Waited<T>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    let start = Instant::now();
    let mut last = None;
    for n in 0.. {
        let out_of_time = start.elapsed() >= timeout;
        if let Some(value) = probe().await {
            if done(&value) {
                return Waited {
                    last: Some(value),
                    after: Some(start.elapsed()),
                };
            }
            last = Some(value);
        }
        if out_of_time {
            break;
        }
        let left = timeout.saturating_sub(start.elapsed());
        tokio::time::sleep(pause(n).min(left)).await;
    }
    Waited { last, after: None }
}

/// [`eventually`] for a thread without an async runtime: sleeps the thread between checks.
pub fn eventually_blocking(timeout: Duration, mut condition: impl FnMut() -> bool) -> bool {
    let start = Instant::now();
    for n in 0.. {
        let out_of_time = start.elapsed() >= timeout;
        if condition() {
            return true;
        }
        if out_of_time {
            break;
        }
        std::thread::sleep(pause(n).min(timeout.saturating_sub(start.elapsed())));
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pauses_double_up_to_fifty_milliseconds() {
        let pauses: Vec<u64> = (0..7).map(|n| pause(n).as_millis() as u64).collect();
        assert_eq!(pauses, [5, 10, 20, 40, 50, 50, 50]);
    }

    #[tokio::test]
    async fn a_condition_that_comes_true_is_seen() {
        let mut checks = 0;
        let held = eventually(Duration::from_secs(5), || {
            checks += 1;
            checks == 3
        })
        .await;
        assert!(held);
        assert_eq!(checks, 3);
    }

    #[tokio::test]
    async fn a_condition_that_never_holds_times_out_after_a_last_check() {
        let start = Instant::now();
        let mut checks = 0;
        let held = eventually(Duration::from_millis(60), || {
            checks += 1;
            false
        })
        .await;
        assert!(!held);
        assert!(start.elapsed() >= Duration::from_millis(60));
        // 0, 5, 15, 35 and 60 ms (the last one at the deadline); fewer when a loaded
        // machine oversleeps, never more.
        assert!((2..=5).contains(&checks), "{checks} checks");
    }

    #[tokio::test]
    async fn the_last_reading_is_kept_and_failed_readings_skipped() {
        let mut n = 0;
        let waited = eventually_with(
            Duration::from_millis(40),
            || {
                n += 1;
                std::future::ready((n % 2 == 0).then_some(n))
            },
            |&v| v > 1_000,
        )
        .await;
        assert!(!waited.held());
        assert!(waited.last.is_some_and(|v| v % 2 == 0));

        let waited = eventually_with(
            Duration::from_secs(5),
            || std::future::ready(Some(7)),
            |&v| v == 7,
        )
        .await;
        assert_eq!(waited.last, Some(7));
        assert!(waited.after.is_some_and(|d| d < Duration::from_secs(1)));
    }

    #[test]
    fn the_blocking_form_waits_as_the_async_one_does() {
        let start = Instant::now();
        assert!(eventually_blocking(Duration::from_secs(5), || start
            .elapsed()
            >= Duration::from_millis(20)));
        assert!(!eventually_blocking(Duration::from_millis(20), || false));
        assert!(start.elapsed() >= Duration::from_millis(40));
    }
}
