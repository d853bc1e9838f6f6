//! One measured run against one server: open `N` streams, read idle RSS, publish `M` events,
//! wait for delivery, check every stream, and summarise.

use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use hdrhistogram::Histogram;

use crate::client::Sources;
use crate::metrics;
use crate::publisher::{Pacing, PublishPlan, Publisher};
use crate::scenario::LoadConfig;
use crate::streams::TrackedStreams;
use crate::tracker::Counts;

/// Everything measured in one run.
#[derive(Debug, Clone, Default)]
pub struct RunResult {
    /// What the streams saw, summed over them.
    pub streams: Counts,
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
    /// Latency percentiles over all deliveries, microseconds, to
    /// [`LATENCY_DIGITS`](crate::streams::LATENCY_DIGITS) significant digits.
    pub latency_p50_us: u64,
    /// See `latency_p50_us`.
    pub latency_p99_us: u64,
    /// See `latency_p50_us`.
    pub latency_max_us: u64,
}

impl RunResult {
    /// Server RSS growth per connected stream, bytes.
    pub fn rss_per_conn_bytes(&self) -> f64 {
        if self.streams.connected == 0 {
            return f64::NAN;
        }
        (self.rss_after_kib as f64 - self.rss_before_kib as f64) * 1024.0
            / self.streams.connected as f64
    }

    /// Deliveries per second over the delivery window.
    pub fn deliveries_per_sec(&self) -> f64 {
        if self.delivery_secs <= 0.0 {
            f64::NAN
        } else {
            self.streams.delivered as f64 / self.delivery_secs
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
        if self.streams.delivered == 0 {
            f64::NAN
        } else {
            secs * 1e6 / self.streams.delivered as f64
        }
    }

    /// True when every stream opened and every expected event arrived exactly once, in
    /// order, on the right streams.
    pub fn is_clean(&self) -> bool {
        self.streams.is_correct()
    }
}

/// Runs `config` against the server at `addr`; `pid` (when known) is read for RSS and CPU,
/// `redis_pid` (the Redis rows' `redis-server`) for CPU.
pub async fn run_load(
    addr: SocketAddr,
    pid: Option<u32>,
    redis_pid: Option<u32>,
    config: &LoadConfig,
) -> io::Result<RunResult> {
    let mut result = RunResult::default();
    let sources = Arc::new(Sources::new(0));
    warm_up(addr, &sources, config.connections.min(WARM_UP_STREAMS)).await;
    let read_rss = |pid: Option<u32>| pid.map_or(Ok(0), metrics::rss_kib);
    let read_cpu = |pid: Option<u32>| pid.map_or(Ok(0), metrics::cpu_ticks);
    result.rss_before_kib = read_rss(pid)?;

    let plans = config.plans.max(1);
    let streams = TrackedStreams::open(
        addr,
        &sources,
        config.filters(),
        plans,
        config.events,
        config.connect_concurrency,
    );
    let connect_budget = Duration::from_secs(30 + config.connections as u64 / 100);
    let connect_timed_out = !streams.wait_settled(connect_budget).await;
    tokio::time::sleep(config.settle).await;
    result.rss_after_kib = read_rss(pid)?;

    if !config.publish {
        result.streams = streams.close(&[]).await?.counts;
        return Ok(result);
    }
    let cpu_before = [
        read_cpu(pid)?,
        read_cpu(redis_pid)?,
        read_cpu(Some(std::process::id()))?,
    ];
    let published = Publisher::start(PublishPlan {
        addr,
        events: config.events,
        rate: config.rate,
        plans,
        connections: config.publishers,
        pacing: Pacing::CatchUp,
    })?
    .finish()
    .await?;
    result.published = published.count();
    result.publish_errors = published.errors;
    result.first_publish_error = published.first_error;
    result.publish_secs = (published.finished - published.started).as_secs_f64();
    let expected = streams.expected(&published.accepted);
    streams
        .wait_delivered(expected, config.drain_idle, config.drain_max)
        .await;
    let cpu_after = [
        read_cpu(pid)?,
        read_cpu(redis_pid)?,
        read_cpu(Some(std::process::id()))?,
    ];
    let cpu = |i: usize| metrics::ticks_to_secs(cpu_before[i], cpu_after[i]);
    (
        result.server_cpu_secs,
        result.redis_cpu_secs,
        result.client_cpu_secs,
    ) = (cpu(0), cpu(1), cpu(2));
    let closed = streams.close(&published.accepted).await?;
    result.streams = closed.counts;
    if connect_timed_out {
        result
            .streams
            .first_connect_error
            .get_or_insert_with(|| "connect phase timed out".into());
    }
    result.delivery_secs = closed
        .last_receive
        .map_or(f64::NAN, |last| (last - published.started).as_secs_f64());
    [
        result.latency_p50_us,
        result.latency_p99_us,
        result.latency_max_us,
    ] = percentiles(&closed.latencies);
    Ok(result)
}

/// Streams opened and closed before the idle RSS baseline is read, so that per-thread
/// allocator arenas and lazily built router state do not count as per-connection cost.
const WARM_UP_STREAMS: usize = 64;

async fn warm_up(addr: SocketAddr, sources: &Sources, streams: usize) {
    let mut open = Vec::with_capacity(streams);
    for _ in 0..streams {
        if let Ok(stream) = sources.open_stream(addr, None, false).await {
            open.push(stream);
        }
    }
    drop(open);
    tokio::time::sleep(Duration::from_millis(200)).await;
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

    /// The samples in a histogram like the one a run's streams fill.
    fn histogram_of(samples: impl IntoIterator<Item = u32>) -> Histogram<u64> {
        let mut histogram = Histogram::new(crate::streams::LATENCY_DIGITS).unwrap();
        for us in samples {
            histogram.record(u64::from(us)).unwrap();
        }
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
