//! Event streams opened together and read on tasks of their own ([`TrackedStreams`]), each
//! checked by a [`ConnTracker`] as its events arrive; what they saw is summed up in one
//! [`Counts`] and their latencies in one histogram when they are closed. The load
//! generator's runs and the soak checks both use them.

use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use hdrhistogram::Histogram;
use tokio::sync::{Notify, Semaphore, watch};
use tokio::task::JoinHandle;

use crate::client::{Sources, read_stream};
use crate::tracker::{ConnTracker, Counts};

/// Significant digits of the latency histogram: every figure is within 0.1 % of the
/// recorded value, and exact below 2,048 µs.
pub const LATENCY_DIGITS: u8 = 3;

/// What [`TrackedStreams::close`] found.
#[derive(Debug)]
pub struct Closed {
    /// The counts of every stream, summed.
    pub counts: Counts,
    /// Publish→receive latency of every first reception, microseconds.
    pub latencies: Histogram<u64>,
    /// When the last event arrived on any stream.
    pub last_receive: Option<Instant>,
}

type Task = JoinHandle<(ConnTracker, Result<(), String>)>;

/// Event streams read and checked as they arrive, one task each.
#[derive(Debug)]
pub struct TrackedStreams {
    tasks: Vec<Task>,
    filters: Vec<Option<u32>>,
    plans: u32,
    stop: watch::Sender<bool>,
    delivered: Arc<AtomicU64>,
    settled: Arc<AtomicUsize>,
    all_settled: Arc<Notify>,
}

impl TrackedStreams {
    /// Opens one stream per entry of `filters` (`Some(p)`: filtered to plan `p`), at most
    /// `concurrency` connects at once, each checked against sequence numbers `0..capacity`
    /// published over `plans` plans. Returns at once; see [`TrackedStreams::settled`].
    pub fn open(
        addr: SocketAddr,
        sources: &Arc<Sources>,
        filters: Vec<Option<u32>>,
        plans: u32,
        capacity: u64,
        concurrency: usize,
    ) -> Self {
        let delivered = Arc::new(AtomicU64::new(0));
        let settled = Arc::new(AtomicUsize::new(0));
        let all_settled = Arc::new(Notify::new());
        let total = filters.len();
        let permits = Arc::new(Semaphore::new(concurrency.max(1)));
        let (stop, stop_rx) = watch::channel(false);
        let tasks = filters
            .iter()
            .map(|&filter| {
                let mut tracker = ConnTracker::new(filter, plans, capacity, delivered.clone());
                let (sources, permits, settled, all_settled, stop) = (
                    sources.clone(),
                    permits.clone(),
                    settled.clone(),
                    all_settled.clone(),
                    stop_rx.clone(),
                );
                tokio::spawn(async move {
                    let opened = {
                        let _permit = permits.acquire().await;
                        sources.open_stream(addr, filter, false).await
                    };
                    if settled.fetch_add(1, Ordering::AcqRel) + 1 == total {
                        all_settled.notify_one();
                    }
                    match opened {
                        Ok(stream) => {
                            read_stream(stream, &mut tracker, stop).await;
                            (tracker, Ok(()))
                        }
                        Err(err) => (tracker, Err(err.to_string())),
                    }
                })
            })
            .collect();
        Self {
            tasks,
            filters,
            plans,
            stop,
            delivered,
            settled,
            all_settled,
        }
    }

    /// How many streams there are.
    pub fn len(&self) -> usize {
        self.tasks.len()
    }

    /// True when there are none.
    pub fn is_empty(&self) -> bool {
        self.tasks.is_empty()
    }

    /// Streams whose connect finished (opened or failed).
    pub fn settled(&self) -> usize {
        self.settled.load(Ordering::Acquire)
    }

    /// Waits until every connect finished, at most `budget`; true when they all did.
    pub async fn wait_settled(&self, budget: Duration) -> bool {
        self.is_empty()
            || tokio::time::timeout(budget, self.all_settled.notified())
                .await
                .is_ok()
    }

    /// First receptions so far, all streams together.
    pub fn delivered(&self) -> u64 {
        self.delivered.load(Ordering::Relaxed)
    }

    /// The deliveries `accepted` calls for, all streams together.
    pub fn expected(&self, accepted: &[bool]) -> u64 {
        let plans = u64::from(self.plans.max(1));
        let per_plan = |filter: Option<u32>| {
            accepted
                .iter()
                .enumerate()
                .filter(|&(seq, &ok)| {
                    ok && filter.is_none_or(|p| seq as u64 % plans == u64::from(p))
                })
                .count() as u64
        };
        self.filters.iter().map(|&f| per_plan(f)).sum()
    }

    /// Waits until `expected` deliveries arrived, none arrived for `idle`, or `max` has
    /// passed.
    pub async fn wait_delivered(&self, expected: u64, idle: Duration, max: Duration) {
        let start = Instant::now();
        let mut last = self.delivered();
        let mut progress = Instant::now();
        while last < expected && progress.elapsed() < idle && start.elapsed() < max {
            tokio::time::sleep(Duration::from_millis(10)).await;
            let now = self.delivered();
            if now != last {
                (last, progress) = (now, Instant::now());
            }
        }
    }

    /// Closes every stream (a normal close) and sums up what they saw of `accepted`.
    pub async fn close(self, accepted: &[bool]) -> io::Result<Closed> {
        let _ = self.stop.send(true);
        // The streams keep raw samples (a push per delivery) and are merged here, after the
        // measured phase: a histogram per stream would cost tens of KiB each, a shared one
        // a lock per delivery in the load generator, whose CPU is one of the reported
        // figures.
        let mut closed = Closed {
            counts: Counts::default(),
            latencies: Histogram::new(LATENCY_DIGITS).map_err(io::Error::other)?,
            last_receive: None,
        };
        for task in self.tasks {
            let counts = &mut closed.counts;
            let Ok((mut tracker, outcome)) = task.await else {
                counts.connect_errors += 1;
                continue;
            };
            if let Err(err) = outcome {
                counts.connect_errors += 1;
                counts.first_connect_error.get_or_insert(err);
                continue;
            }
            tracker.finish(accepted);
            counts.merge(&tracker.counts);
            counts.connected += 1;
            // The histogram grows to hold every sample (`saturating_record` would clamp
            // them to its current range instead).
            for &us in &tracker.latencies_us {
                closed
                    .latencies
                    .record(u64::from(us))
                    .map_err(io::Error::other)?;
            }
            closed.last_receive = closed.last_receive.max(tracker.last_receive);
        }
        Ok(closed)
    }
}
