//! One measured run against one server: open `N` streams, read idle RSS, publish `M` events,
//! wait for delivery, check every stream, and summarise.

use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use hdrhistogram::Histogram;
use tokio::sync::{Notify, Semaphore, watch};

use crate::client::{open_stream_retrying, read_stream, stream_path};
use crate::metrics;
use crate::publisher::{PublishOutcome, PublishPlan, publish_all};
use crate::scenario::LoadConfig;
use crate::tracker::{ConnTracker, plan_name};

/// Everything measured in one run.
#[derive(Debug, Clone, Default)]
pub struct RunResult {
    /// Streams that got a `200 text/event-stream` head.
    pub connected: usize,
    /// Streams that could not be opened; the first error is kept.
    pub connect_errors: usize,
    /// First connect error.
    pub first_connect_error: Option<String>,
    /// Server RSS before / after opening the streams, KiB.
    pub rss_before_kib: u64,
    /// See `rss_before_kib`.
    pub rss_after_kib: u64,
    /// Events accepted by the server (`202`).
    pub published: u64,
    /// POSTs that failed.
    pub publish_errors: u64,
    /// First publish error.
    pub first_publish_error: Option<String>,
    /// Sum over streams of the events each should have received.
    pub expected: u64,
    /// First receptions of expected events.
    pub delivered: u64,
    /// Expected events never received.
    pub missing: u64,
    /// Events received twice on one stream.
    pub duplicated: u64,
    /// Events whose id did not increase.
    pub out_of_order: u64,
    /// Events delivered to a stream filtered to another plan.
    pub misrouted: u64,
    /// Unparseable data events and other protocol faults.
    pub protocol_errors: u64,
    /// `lagged`/`reset`/other non-data events.
    pub control_events: u64,
    /// Streams the server ended before the run did.
    pub ended_early: u64,
    /// From the first POST to the last `202`, seconds.
    pub publish_secs: f64,
    /// From the first POST to the last reception, seconds.
    pub delivery_secs: f64,
    /// Server CPU time over the publish phase (first POST to end of draining), seconds.
    pub server_cpu_secs: f64,
    /// The Redis rows' `redis-server` CPU time over the same phase, seconds (0 for the
    /// other rows). Part of the serving cost: [`cpu_us_per_delivery`] counts it.
    ///
    /// [`cpu_us_per_delivery`]: Self::cpu_us_per_delivery
    pub redis_cpu_secs: f64,
    /// The load generator's own CPU time over the same phase (every thread: the stream
    /// readers and the publisher), seconds. On a machine where both share the cores, what
    /// the server takes the load generator cannot have.
    pub client_cpu_secs: f64,
    /// Latency percentiles over all deliveries, microseconds, to [`LATENCY_DIGITS`]
    /// significant digits.
    pub latency_p50_us: u64,
    /// See `latency_p50_us`.
    pub latency_p99_us: u64,
    /// See `latency_p50_us`.
    pub latency_max_us: u64,
}

impl RunResult {
    /// Server RSS growth per connected stream, bytes.
    pub fn rss_per_conn_bytes(&self) -> f64 {
        if self.connected == 0 {
            return f64::NAN;
        }
        (self.rss_after_kib as f64 - self.rss_before_kib as f64) * 1024.0 / self.connected as f64
    }

    /// Deliveries per second over the delivery window.
    pub fn deliveries_per_sec(&self) -> f64 {
        if self.delivery_secs <= 0.0 {
            f64::NAN
        } else {
            self.delivered as f64 / self.delivery_secs
        }
    }

    /// Server CPU microseconds per delivery, `redis-server`'s included (Redis rows).
    pub fn cpu_us_per_delivery(&self) -> f64 {
        self.us_per_delivery(self.server_cpu_secs + self.redis_cpu_secs)
    }

    /// `redis-server` CPU microseconds per delivery (Redis rows; 0 for the others).
    pub fn redis_cpu_us_per_delivery(&self) -> f64 {
        self.us_per_delivery(self.redis_cpu_secs)
    }

    /// Load generator CPU microseconds per delivery.
    pub fn client_cpu_us_per_delivery(&self) -> f64 {
        self.us_per_delivery(self.client_cpu_secs)
    }

    fn us_per_delivery(&self, secs: f64) -> f64 {
        if self.delivered == 0 {
            f64::NAN
        } else {
            secs * 1e6 / self.delivered as f64
        }
    }

    /// True when every expected event arrived exactly once, in order, on the right streams.
    pub fn is_clean(&self) -> bool {
        self.connect_errors == 0
            && self.delivered == self.expected
            && self.missing == 0
            && self.duplicated == 0
            && self.out_of_order == 0
            && self.misrouted == 0
            && self.protocol_errors == 0
    }
}

/// Significant digits of the latency percentiles: every figure is within 0.1 % of the
/// recorded value, and exact below 2,048 µs.
pub const LATENCY_DIGITS: u8 = 3;

/// Runs `config` against the server at `addr`; `pid` (when known) is read for RSS and CPU,
/// `redis_pid` (the Redis rows' `redis-server`) for CPU.
pub async fn run_load(
    addr: SocketAddr,
    pid: Option<u32>,
    redis_pid: Option<u32>,
    config: &LoadConfig,
) -> io::Result<RunResult> {
    let mut result = RunResult::default();
    warm_up(addr, config.connections.min(WARM_UP_STREAMS)).await;
    let read_rss = |pid: Option<u32>| pid.map_or(Ok(0), metrics::rss_kib);
    result.rss_before_kib = read_rss(pid)?;

    let delivered = Arc::new(AtomicU64::new(0));
    let opened = Arc::new(AtomicUsize::new(0));
    let all_opened = Arc::new(Notify::new());
    let permits = Arc::new(Semaphore::new(config.connect_concurrency.max(1)));
    let (stop_tx, stop_rx) = watch::channel(false);
    let mut tasks = Vec::with_capacity(config.connections);
    for filter in config.filters() {
        let tracker = ConnTracker::new(
            filter,
            config.plans.max(1),
            config.events,
            delivered.clone(),
        );
        let path = stream_path(filter.map(plan_name).as_deref());
        let (permits, opened, all_opened, stop, total) = (
            permits.clone(),
            opened.clone(),
            all_opened.clone(),
            stop_rx.clone(),
            config.connections,
        );
        tasks.push(tokio::spawn(async move {
            let mut tracker = tracker;
            let stream = {
                let _permit = permits.acquire().await;
                open_stream_retrying(addr, &path, 3).await
            };
            if opened.fetch_add(1, Ordering::AcqRel) + 1 == total {
                all_opened.notify_one();
            }
            let outcome = match stream {
                Ok(stream) => {
                    read_stream(stream, &mut tracker, stop).await;
                    Ok(())
                }
                Err(err) => Err(err.to_string()),
            };
            (tracker, outcome)
        }));
    }
    let connect_budget = Duration::from_secs(30 + config.connections as u64 / 100);
    if config.connections > 0
        && tokio::time::timeout(connect_budget, all_opened.notified())
            .await
            .is_err()
    {
        result.first_connect_error = Some("connect phase timed out".into());
    }
    tokio::time::sleep(config.settle).await;
    result.rss_after_kib = read_rss(pid)?;

    let mut accepted = vec![false; config.events as usize];
    if config.publish {
        let cpu_before = pid.map_or(Ok(0), metrics::cpu_ticks)?;
        let redis_cpu_before = redis_pid.map_or(Ok(0), metrics::cpu_ticks)?;
        let own_cpu_before = metrics::cpu_ticks(std::process::id())?;
        let plan = PublishPlan {
            addr,
            events: config.events,
            rate: config.rate,
            plans: config.plans.max(1),
            connections: config.publishers,
        };
        let outcome = publish_on_own_thread(plan).await?;
        accepted = outcome.accepted;
        result.published = accepted.iter().filter(|&&ok| ok).count() as u64;
        result.publish_errors = outcome.errors;
        result.first_publish_error = outcome.first_error;
        result.publish_secs = outcome
            .finished
            .duration_since(outcome.started)
            .as_secs_f64();
        let expected = expected_total(config, &accepted);
        wait_for_deliveries(&delivered, expected, config.drain_idle, config.drain_max).await;
        let cpu_after = pid.map_or(Ok(0), metrics::cpu_ticks)?;
        let redis_cpu_after = redis_pid.map_or(Ok(0), metrics::cpu_ticks)?;
        let own_cpu_after = metrics::cpu_ticks(std::process::id())?;
        result.server_cpu_secs = metrics::ticks_to_secs(cpu_before, cpu_after);
        result.redis_cpu_secs = metrics::ticks_to_secs(redis_cpu_before, redis_cpu_after);
        result.client_cpu_secs = metrics::ticks_to_secs(own_cpu_before, own_cpu_after);
        result.delivery_secs = f64::NAN;
        let stats = collect(tasks, stop_tx, &accepted, &mut result).await?;
        if let Some(last) = stats {
            result.delivery_secs = last.duration_since(outcome.started).as_secs_f64();
        }
    } else {
        collect(tasks, stop_tx, &accepted, &mut result).await?;
    }
    Ok(result)
}

/// Publishes from a dedicated thread with its own runtime, so that pacing and POST round
/// trips do not queue behind thousands of busy stream readers (a fast server would
/// otherwise slow its own publisher down).
async fn publish_on_own_thread(plan: PublishPlan) -> io::Result<PublishOutcome> {
    let (tx, rx) = tokio::sync::oneshot::channel();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    std::thread::Builder::new()
        .name("publisher".into())
        .spawn(move || {
            let _ = tx.send(runtime.block_on(publish_all(&plan)));
        })?;
    rx.await
        .map_err(|_| io::Error::other("publisher thread panicked"))
}

/// Streams opened and closed before the idle RSS baseline is read, so that per-thread
/// allocator arenas and lazily built router state do not count as per-connection cost.
const WARM_UP_STREAMS: usize = 64;

async fn warm_up(addr: SocketAddr, streams: usize) {
    let mut open = Vec::with_capacity(streams);
    for _ in 0..streams {
        if let Ok(stream) = open_stream_retrying(addr, &stream_path(None), 2).await {
            open.push(stream);
        }
    }
    drop(open);
    tokio::time::sleep(Duration::from_millis(200)).await;
}

fn expected_total(config: &LoadConfig, accepted: &[bool]) -> u64 {
    let per_plan = |plan: Option<u32>| {
        accepted
            .iter()
            .enumerate()
            .filter(|&(seq, &ok)| {
                ok && plan
                    .is_none_or(|p| seq as u64 % u64::from(config.plans.max(1)) == u64::from(p))
            })
            .count() as u64
    };
    config.filters().into_iter().map(per_plan).sum()
}

/// Waits until `expected` first receptions were counted, progress stalls for `idle`, or
/// `max` has passed.
async fn wait_for_deliveries(delivered: &AtomicU64, expected: u64, idle: Duration, max: Duration) {
    let deadline = Instant::now() + max;
    let mut last = delivered.load(Ordering::Relaxed);
    let mut last_progress = Instant::now();
    while last < expected && Instant::now() < deadline && last_progress.elapsed() < idle {
        tokio::time::sleep(Duration::from_millis(10)).await;
        let now = delivered.load(Ordering::Relaxed);
        if now != last {
            last = now;
            last_progress = Instant::now();
        }
    }
}

type Task = tokio::task::JoinHandle<(ConnTracker, Result<(), String>)>;

/// Stops every stream, merges their stats into `result`; returns the last reception time.
async fn collect(
    tasks: Vec<Task>,
    stop: watch::Sender<bool>,
    accepted: &[bool],
    result: &mut RunResult,
) -> io::Result<Option<Instant>> {
    let _ = stop.send(true);
    // The streams keep raw samples (a push per delivery) and are merged here, after the
    // measured phase: a histogram per stream would cost tens of KiB each, a shared one a
    // lock per delivery in the load generator, whose CPU is one of the reported figures.
    let mut latencies = Histogram::<u64>::new(LATENCY_DIGITS).map_err(io::Error::other)?;
    let mut last_receive: Option<Instant> = None;
    for task in tasks {
        let Ok((mut tracker, outcome)) = task.await else {
            result.connect_errors += 1;
            continue;
        };
        match outcome {
            Ok(()) => result.connected += 1,
            Err(err) => {
                result.connect_errors += 1;
                result.first_connect_error.get_or_insert(err);
            }
        }
        let (expected, missing) = tracker.finish(accepted);
        let s = tracker.stats;
        result.expected += expected;
        result.missing += missing;
        result.delivered += s.delivered;
        result.duplicated += s.duplicated;
        result.out_of_order += s.out_of_order;
        result.misrouted += s.misrouted;
        result.protocol_errors += s.protocol_errors;
        result.control_events += s.control_events;
        result.ended_early += u64::from(s.ended_early);
        record(&mut latencies, &s.latencies_us)?;
        last_receive = last_receive.max(s.last_receive);
    }
    [
        result.latency_p50_us,
        result.latency_p99_us,
        result.latency_max_us,
    ] = percentiles(&latencies);
    Ok(last_receive)
}

/// Adds one stream's latencies to the run's histogram, which grows to hold them
/// (`saturating_record` would clamp them to its current range instead).
fn record(histogram: &mut Histogram<u64>, latencies_us: &[u32]) -> io::Result<()> {
    for &us in latencies_us {
        histogram.record(u64::from(us)).map_err(io::Error::other)?;
    }
    Ok(())
}

/// p50, p99 and max of `histogram` (nearest rank: the smallest value with at least that
/// share of the samples at or below it); zeros when it is empty.
fn percentiles(histogram: &Histogram<u64>) -> [u64; 3] {
    if histogram.is_empty() {
        return [0; 3];
    }
    [
        histogram.value_at_quantile(0.50),
        histogram.value_at_quantile(0.99),
        histogram.max(),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The samples as two streams' worth, recorded as a run records them.
    fn histogram_of(samples: impl IntoIterator<Item = u32>) -> Histogram<u64> {
        let samples: Vec<u32> = samples.into_iter().collect();
        let (first, second) = samples.split_at(samples.len() / 2);
        let mut histogram = Histogram::new(LATENCY_DIGITS).unwrap();
        record(&mut histogram, first).unwrap();
        record(&mut histogram, second).unwrap();
        histogram
    }

    #[test]
    fn percentiles_are_nearest_rank_and_exact_for_short_latencies() {
        // 1..=1000 µs in a shuffled order: the 500th and the 990th smallest, the largest.
        let shuffled = (0..1000u32).map(|i| i * 7919 % 1000 + 1);
        assert_eq!(percentiles(&histogram_of(shuffled)), [500, 990, 1000]);
        // 98 short ones and two long: the 99th of 100 is a long one.
        let tail = std::iter::repeat_n(80, 98).chain([1_500, 1_900]);
        assert_eq!(percentiles(&histogram_of(tail)), [80, 1_500, 1_900]);
        assert_eq!(percentiles(&histogram_of([])), [0, 0, 0]);
    }

    #[test]
    fn long_latencies_keep_three_significant_digits() {
        let [p50, p99, max] = percentiles(&histogram_of([212_345, 348_210, 416_600]));
        for (got, recorded) in [(p50, 348_210), (p99, 416_600), (max, 416_600)] {
            let error = got.abs_diff(recorded) as f64 / recorded as f64;
            assert!(error <= 0.001, "{got} for {recorded}");
        }
    }
}
